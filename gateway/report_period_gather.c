/* The periodic assessment's data: the daily record's gathering
 * (report_gather.c) for each day of the period up to now, added up by
 * core/report_period.c, and the waiting time of the queue systems read from
 * InfluxDB stretch by stretch of opening hours. */
#include "report_period.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "report_gather.h"
#include "report_query.h"
#include "utf8.h"

#define WAIT_PAGE 32  /* readings per question: ~25 bytes each in the answer */
#define DAY_WORKERS 3 /* days gathered at once: InfluxDB's per-second subqueries dominate */

struct wait_scan {
    struct period_reading *v;
    size_t n, cap;
};

static int wait_row(struct gather *g, const struct json_series *s, size_t row, void *arg)
{
    (void)g;
    struct wait_scan *ws = arg;
    if (!s)
        return 0;
    const struct json_cell *t = json_series_cell(s, row, "time");
    const struct json_cell *v = json_series_cell(s, row, "v");
    if (!t || t->type != JSON_T_NUMBER || !v || v->type != JSON_T_NUMBER)
        return 0;
    if (ws->n == ws->cap) {
        size_t c = ws->cap ? ws->cap * 2 : 64;
        struct period_reading *nv = realloc(ws->v, c * sizeof(*nv));
        if (!nv)
            return -ENOMEM;
        ws->v = nv;
        ws->cap = c;
    }
    ws->v[ws->n++] = (struct period_reading){.at = t->num / 1000.0, .value = v->num};
    return 0;
}

/* One queue device over one stretch of opening hours. */
static int wait_stretch(struct gather *g, struct period_wait *w, const char *dev,
                        const struct report_period *p, struct wait_scan *ws)
{
    char stmt[REPORT_STMT_MAX];
    long long a = report_ql_ms(p->from), b = report_ql_ms(p->to);
    snprintf(stmt, sizeof(stmt),
             "SELECT last(\"longest_wait_s\") AS v FROM \"queue\" WHERE \"device\" = %s AND "
             "time >= %lldms AND time < %lldms",
             dev, report_ql_ms(p->from - PERIOD_LOOKBACK_S), a);
    struct json_table t;
    int rc = report_iq(g, stmt, &t);
    if (rc < 0)
        return rc;
    double before = 0;
    bool has_before = report_num_of(&t, 0, "v", &before);
    json_table_free(&t);
    snprintf(stmt, sizeof(stmt),
             "SELECT \"longest_wait_s\" AS v FROM \"queue\" WHERE \"device\" = %s AND "
             "time >= %lldms AND time < %lldms",
             dev, a, b);
    ws->n = 0;
    rc = report_paged(g, stmt, WAIT_PAGE, wait_row, ws);
    if (rc < 0)
        return rc;
    return period_wait_add(w, p->from, p->to, has_before, before, ws->v, ws->n);
}

static int gather_waiting(struct gather *g, struct period *p)
{
    const struct config *cfg = g->cfg;
    struct wait_scan ws = {0};
    int rc = 0;
    for (size_t i = 0; i < cfg->n_devices && rc == 0; i++) {
        const struct config_device *d = &cfg->devices[i];
        if (d->kind != KIND_QUEUE)
            continue;
        struct period_wait *w = report_period_wait_of(p, d);
        if (!w)
            continue;
        char dev[160];
        report_ql_quote(dev, sizeof(dev), d->id, '\'');
        for (int32_t k = 0; k < p->n_days && rc == 0; k++) {
            wall_s from, to;
            report_day_bounds(p->first_day + k, &from, &to);
            if (from >= p->until)
                break;
            if (to > p->until)
                to = p->until;
            struct report_period st[REPORT_PERIODS_MAX];
            size_t n =
                report_periods(&cfg->schedule, from, to, false, false, st, REPORT_PERIODS_MAX);
            for (size_t j = 0; j < n && rc == 0; j++)
                rc = wait_stretch(g, w, dev, &st[j], &ws);
        }
    }
    free(ws.v);
    return rc;
}

static int read_waiting(const struct config *cfg, struct period *p)
{
    if (!cfg->influx.enabled) {
        report_set_status(&p->waiting, REPORT_SRC_DISABLED,
                          "InfluxDB is not configured (no influx block)");
        return 0;
    }
    struct gather g = {.cfg = cfg, .r = &p->head};
    int rc = report_influx_open(&g);
    if (rc == 0)
        rc = gather_waiting(&g, p);
    if (rc < 0 && rc != -ENOMEM)
        report_set_status(&p->waiting, REPORT_SRC_UNREADABLE, g.qerr[0] ? g.qerr : strerror(-rc));
    report_influx_close(&g);
    return rc == -ENOMEM ? rc : 0;
}

/* The days of the period, gathered by DAY_WORKERS threads, each day by one
 * (report_gather() keeps all its state in its own struct gather). */
struct days {
    const struct config *cfg;
    const char *hall_id;
    int32_t first_day;
    size_t n;
    wall_s now;
    struct report reports[PERIOD_DAYS_MAX];
    int rcs[PERIOD_DAYS_MAX];
    atomic_size_t next;
};

static void *day_worker(void *arg)
{
    struct days *d = arg;
    for (;;) {
        size_t i = atomic_fetch_add(&d->next, 1);
        if (i >= d->n)
            return NULL;
        d->rcs[i] =
            report_gather(d->cfg, d->hall_id, d->first_day + (int32_t)i, d->now, &d->reports[i]);
    }
}

int report_period_gather(const struct config *cfg, const char *hall_id, enum period_kind kind,
                         int32_t day, wall_s now, struct period *p)
{
    int rc = report_period_begin(p, cfg, hall_id, kind, day, now);
    if (rc < 0)
        return rc;
    struct days *d = calloc(1, sizeof(*d));
    if (!d)
        return -ENOMEM;
    *d = (struct days){.cfg = cfg, .hall_id = hall_id, .first_day = p->first_day, .now = now};
    while (d->n < (size_t)p->n_days && d->n < PERIOD_DAYS_MAX) {
        wall_s from, to;
        report_day_bounds(p->first_day + (int32_t)d->n, &from, &to);
        if (from > now)
            break;
        d->n++;
    }
    atomic_init(&d->next, 0);
    pthread_t th[DAY_WORKERS];
    size_t started = 0;
    for (; started < DAY_WORKERS && started < d->n; started++) {
        if (pthread_create(&th[started], NULL, day_worker, d) != 0)
            break;
    }
    if (started == 0)
        day_worker(d); /* no thread: this one does it all */
    for (size_t i = 0; i < started; i++)
        pthread_join(th[i], NULL);

    bool any = false;
    for (size_t i = 0; i < d->n; i++) {
        if (rc == 0 && d->rcs[i] == -ENOMEM)
            rc = -ENOMEM;
        any = any || d->rcs[i] == 0;
        if (rc == 0)
            rc = report_period_add_day(p, cfg, &d->reports[i]);
        report_free(&d->reports[i]);
    }
    free(d);
    if (rc < 0 || (rc = report_period_finish(p, cfg)) < 0 || (rc = read_waiting(cfg, p)) < 0)
        return rc;
    return any ? 0 : -EIO;
}
