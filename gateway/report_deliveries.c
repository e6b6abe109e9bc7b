/* hallgw report --deliveries: how the daily record was sent by itself. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "report.h"
#include "store.h"

static void day_string(int32_t day, char *out, size_t size)
{
    time_t t = (time_t)day * 86400;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, size, "%Y-%m-%d", &tm);
}

static void local_time(wall_s t, char *out, size_t size)
{
    time_t s = (time_t)wall_whole(t);
    struct tm tm;
    if (t <= 0 || !localtime_r(&s, &tm)) {
        snprintf(out, size, "-");
        return;
    }
    strftime(out, size, "%Y-%m-%dT%H:%M:%S", &tm);
}

int report_deliveries_print(const struct config *cfg, int32_t day, wall_s now, FILE *out)
{
    char from[16], to[16], db[1024];
    int32_t last = day ? day : report_local_day(now);
    day_string(day ? day : last - 6, from, sizeof(from));
    day_string(last, to, sizeof(to));
    snprintf(db, sizeof(db), "%s/hallgw.db", cfg->gateway.state_dir);

    struct store *st = NULL;
    const char *why = NULL;
    if (store_open(db, true, &st, &why) < 0) {
        fprintf(stderr, "hallgw report: cannot open %s: %s\n", db, why ? why : "unknown error");
        return 1;
    }
    struct record_delivery *v = NULL;
    size_t n = 0;
    int rc = store_deliveries(st, from, to, &v, &n);
    if (rc < 0) {
        fprintf(stderr, "hallgw report: cannot read the deliveries: %s\n", store_last_error(st));
        store_close(st);
        return 1;
    }
    fprintf(out, "%-10s  %-16s  %-16s  %-7s  %8s  %-19s  %s\n", "DAY", "HALLS", "ROUTE", "STATE",
            "ATTEMPTS", "SENT", "LAST ERROR");
    for (size_t i = 0; i < n; i++) {
        char sent[32];
        local_time(v[i].sent_at, sent, sizeof(sent));
        fprintf(out, "%-10s  %-16s  %-16s  %-7s  %8d  %-19s  %s\n", v[i].day, v[i].halls,
                v[i].route, v[i].state, v[i].attempts, sent,
                v[i].last_error[0] ? v[i].last_error : "-");
    }
    if (n == 0)
        fprintf(out, "(no deliveries from %s to %s)\n", from, to);
    free(v);
    store_close(st);
    return 0;
}
