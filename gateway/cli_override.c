/* hallgw override add|list|remove: power-off overrides in the state store. */
#include "cli_override.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "config.h"
#include "enforce_time.h"
#include "store.h"
#include "utf8.h"

static void usage(FILE *f)
{
    fputs("Usage: hallgw override add DEVICE --until TIME --reason TEXT --by NAME [-c FILE]\n"
          "       hallgw override list [--log] [-c FILE]\n"
          "       hallgw override remove DEVICE --by NAME [-c FILE]\n"
          "\n"
          "Keeps a PC (or a plug) on past the nightly power-off: the gateway skips it,\n"
          "and the plug of its window, until the override ends. Overrides end by\n"
          "themselves; every add, removal and expiry is logged with who and why.\n"
          "One override per device: adding again replaces it.\n"
          "\n"
          "  -c, --config FILE  the gateway's configuration (default /etc/hallgw/hallgw.conf)\n"
          "      --until TIME   HH:MM (the next such time: today, or tomorrow if past),\n"
          "                     YYYY-MM-DDTHH:MM, or unix seconds; local time of\n"
          "                     gateway.timezone; at most 31 days ahead\n"
          "      --reason TEXT  why (overtime, maintenance, ...): required\n"
          "      --by NAME      who asks: required\n"
          "      --log          list: also the log of adds, removals and expiries\n"
          "  -h, --help         this help\n"
          "\n"
          "Example: hallgw override add pc-w03 --until 21:00 --reason 加班 --by 王工\n"
          "\n"
          "Exit status: 0 done, 1 the store cannot be written or read, 2 usage error,\n"
          "unknown device or bad time.\n",
          f);
}

static void fmt_time(wall_s t, char *buf, size_t size)
{
    time_t tt = (time_t)wall_whole(t);
    struct tm tm;
    if (!localtime_r(&tt, &tm) || strftime(buf, size, "%Y-%m-%d %H:%M", &tm) == 0)
        snprintf(buf, size, "%.0f", t);
}

static int list(struct store *st, bool with_log)
{
    struct record_override *v = NULL;
    wall_s now = clock_wall();
    size_t n = 0;
    char t1[32], t2[32], c1[256], c2[256];
    if (store_overrides(st, now, &v, &n) < 0) {
        fprintf(stderr, "hallgw override: cannot read the overrides: %s\n", store_last_error(st));
        return 1;
    }
    printf("%-24s %-16s %-16s %-12s %s\n", "DEVICE", "UNTIL", "SINCE", "BY", "REASON");
    for (size_t i = 0; i < n; i++) {
        fmt_time(v[i].until, t1, sizeof(t1));
        fmt_time(v[i].created, t2, sizeof(t2));
        printf("%s %-16s %-16s %s %s\n", cli_pad(c1, sizeof(c1), v[i].device, 24), t1, t2,
               cli_pad(c2, sizeof(c2), v[i].by, 12), v[i].reason);
    }
    free(v);
    if (!with_log)
        return 0;
    struct record_override_event *e = NULL;
    if (store_override_log(st, 0, 0, &e, &n) < 0) {
        fprintf(stderr, "hallgw override: cannot read the log: %s\n", store_last_error(st));
        return 1;
    }
    printf("\n%-16s %-7s %-24s %-16s %-12s %s\n", "AT", "ACTION", "DEVICE", "UNTIL", "BY",
           "REASON");
    for (size_t i = 0; i < n; i++) {
        fmt_time(e[i].at, t1, sizeof(t1));
        fmt_time(e[i].until, t2, sizeof(t2));
        printf("%-16s %-7s %s %-16s %s %s\n", t1, e[i].action,
               cli_pad(c1, sizeof(c1), e[i].device, 24), t2, cli_pad(c2, sizeof(c2), e[i].by, 12),
               e[i].reason);
    }
    free(e);
    return 0;
}

int cli_override(int argc, char **argv, const char *default_config)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"until", required_argument, NULL, 'u'},
        {"reason", required_argument, NULL, 'r'},
        {"by", required_argument, NULL, 'b'},
        {"log", no_argument, NULL, 'l'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *path = default_config, *until = NULL, *reason = NULL, *by = NULL;
    bool with_log = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            path = optarg;
            break;
        case 'u':
            until = optarg;
            break;
        case 'r':
            reason = optarg;
            break;
        case 'b':
            by = optarg;
            break;
        case 'l':
            with_log = true;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    const char *verb = optind < argc ? argv[optind] : NULL;
    const char *device = optind + 1 < argc ? argv[optind + 1] : NULL;
    int want = verb && strcmp(verb, "list") == 0 ? 1 : 2;
    if (!verb || (strcmp(verb, "add") && strcmp(verb, "list") && strcmp(verb, "remove")) ||
        argc - optind != want) {
        fprintf(stderr, "hallgw override: expected add DEVICE, list or remove DEVICE\n");
        usage(stderr);
        return 2;
    }
    bool add = strcmp(verb, "add") == 0, remove = strcmp(verb, "remove") == 0;
    if ((add || remove) && (!by || !*by || strlen(by) > 64)) {
        fprintf(stderr, "hallgw override %s: --by NAME (1 to 64 bytes) is required\n", verb);
        return 2;
    }
    if (add && (!until || !reason || !*reason || strlen(reason) >= ALERT_TEXT_MAX)) {
        fprintf(stderr, "hallgw override add: --until TIME and --reason TEXT (1 to 255 bytes) "
                        "are required\n");
        return 2;
    }
    if ((add || remove) &&
        (!utf8_plain_text(by, strlen(by)) || (add && !utf8_plain_text(reason, strlen(reason))))) {
        fprintf(stderr,
                "hallgw override %s: --by and --reason must be plain text: no control "
                "characters (line breaks, tabs), no bidirectional controls, valid UTF-8\n",
                verb);
        return 2;
    }

    struct config *cfg = cli_load_config(path);
    if (!cfg)
        return 2;
    setenv("TZ", cfg->gateway.timezone, 1);
    tzset();
    int rc = 2;
    wall_s now = clock_wall(), t = 0;
    const char *why = "";
    if (add) {
        int r = enforce_parse_until(until, now, &t);
        if (r < 0) {
            fprintf(stderr, "hallgw override add: --until %s: %s\n", until,
                    r == -ERANGE ? "must be in the future, at most 31 days ahead"
                                 : "expected HH:MM, YYYY-MM-DDTHH:MM or unix seconds");
            goto out_free_config;
        }
        if (enforce_override_check(cfg, device, t, now, &why) < 0) {
            fprintf(stderr, "hallgw override add: %s: %s\n", device, why);
            goto out_free_config;
        }
    }

    struct store *st = cli_open_store(cfg, !add && !remove);
    if (!st) {
        rc = 1;
        goto out_free_config;
    }
    rc = 1;
    if (add) {
        struct record_override o = {.until = t, .created = now};
        char when[32];
        snprintf(o.device, sizeof(o.device), "%s", device);
        snprintf(o.reason, sizeof(o.reason), "%s", reason);
        snprintf(o.by, sizeof(o.by), "%s", by);
        if (store_override_set(st, &o) < 0) {
            fprintf(stderr, "hallgw override add: %s\n", store_last_error(st));
            goto out_close;
        }
        fmt_time(o.until, when, sizeof(when));
        printf("%s kept on until %s (%s, by %s)\n", device, when, reason, by);
        rc = 0;
    } else if (remove) {
        int r = store_override_remove(st, device, by, now, NULL);
        if (r == -ENOENT) {
            fprintf(stderr, "hallgw override remove: no override for %s\n", device);
            rc = 2;
            goto out_close;
        }
        if (r < 0) {
            fprintf(stderr, "hallgw override remove: %s\n", store_last_error(st));
            goto out_close;
        }
        printf("override of %s removed by %s\n", device, by);
        rc = 0;
    } else {
        rc = list(st, with_log);
    }

out_close:
    store_close(st);
out_free_config:
    config_free(cfg);
    return rc;
}
