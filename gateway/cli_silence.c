#include "cli_silence.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "crypto.h"
#include "duration.h"
#include "enforce_time.h"
#include "id.h"
#include "silence.h"
#include "store.h"
#include "utf8.h"

static void usage(FILE *f)
{
    fputs("Usage: hallgw silence add [--hall H] [--window W] [--device D] [--rule R]\n"
          "                          [--severity S] (--for DURATION | --until TIME)\n"
          "                          --comment TEXT [--maintenance] [-c FILE]\n"
          "       hallgw silence list [--all] [-c FILE]\n"
          "       hallgw silence expire ID [-c FILE]\n"
          "\n"
          "A silence holds back the notifications and escalation of the alerts it\n"
          "matches while it lasts: \"the printer of window 3 is being repaired until\n"
          "15:00, stop paging IT\". The alerts still fire, are published, stored and\n"
          "shown as silenced, and the daily record lists the silence. Each matcher is\n"
          "an exact id; give at least one. A maintenance silence says the device is\n"
          "being repaired, and the live page shows its comment on the window's card.\n"
          "The running gateway takes a change within 10 seconds. Recorded with the\n"
          "Unix user, as unix:<user>, in the audit log.\n"
          "\n"
          "  -c, --config FILE     the gateway's configuration (default\n"
          "                        /etc/hallgw/hallgw.conf)\n"
          "      --hall, --window, --device, --rule ID\n"
          "                        match alerts of this hall, window, device or rule\n"
          "      --severity S      info, warning, major or critical\n"
          "      --for DURATION    from now: 90m, 2h, 1d; at most alerts.silence_max\n"
          "      --until TIME      HH:MM (the next one), YYYY-MM-DDTHH:MM or unix seconds\n"
          "      --comment TEXT    why, and who to call: required\n"
          "      --maintenance     the device is being repaired\n"
          "      --all             list: also the silences that ended in the last 7 days\n"
          "  -h, --help            this help\n"
          "\n"
          "Example: hallgw silence add --device printer-w03 --until 15:00 \\\n"
          "             --comment '打印机维修中，联系王工' --maintenance\n"
          "\n"
          "Exit status: 0 done, 1 the store cannot be written or read, 2 usage error,\n"
          "unknown silence or bad time.\n",
          f);
}

static int list(struct store *st, bool all)
{
    wall_s now = clock_wall();
    struct record_silence *v = NULL;
    size_t n = 0;
    if (store_silences(st, all ? now - 7 * 86400.0 : now, 0, &v, &n) < 0) {
        fprintf(stderr, "hallgw silence: cannot read the silences: %s\n", store_last_error(st));
        return 1;
    }
    printf("%-16s %-19s %-19s %-40s %-16s %s\n", "ID", "STARTS", "ENDS", "MATCHES", "BY",
           "COMMENT");
    for (size_t i = 0; i < n; i++) {
        char t1[32], t2[32], m[400];
        const struct record_silence *s = &v[i];
        cli_fmt_time(s->starts, t1, sizeof(t1));
        cli_fmt_time(s->ends, t2, sizeof(t2));
        silence_describe(s, m, sizeof(m));
        printf("%-16s %-19s %-19s %-40s %-16s %s%s%s\n", s->id, t1, t2, m, s->created_by,
               s->maintenance ? "[maintenance] " : "", s->comment,
               s->ended_by[0] ? " (expired early)" : "");
    }
    free(v);
    return 0;
}

static void audit(struct store *st, const char *action, const struct record_silence *s)
{
    char detail[ALERT_TEXT_MAX + 32];
    snprintf(detail, sizeof(detail), "until %.0f: %s", s->ends, s->comment);
    cli_audit_record(st, action, s->id, detail);
}

struct silence_args {
    const char *hall, *window, *device, *rule, *severity, *for_, *until, *comment;
    bool maintenance, all;
};

/* The silence the options describe into *s, or 2 (printed). */
static int build(const struct silence_args *o, const struct config *cfg, struct record_silence *s)
{
    const char *ids[] = {o->hall, o->window, o->device, o->rule};
    char *dst[] = {s->hall, s->window, s->device, s->rule};
    static const char *const names[] = {"--hall", "--window", "--device", "--rule"};
    for (int i = 0; i < 4; i++) {
        if (!ids[i])
            continue;
        if (!id_valid(ids[i], strlen(ids[i]))) {
            fprintf(stderr, "hallgw silence add: %s '%s' is not an id\n", names[i], ids[i]);
            return 2;
        }
        snprintf(dst[i], 65, "%s", ids[i]);
    }
    if (o->severity)
        snprintf(s->severity, sizeof(s->severity), "%s", o->severity);
    if (!o->comment || strlen(o->comment) >= sizeof(s->comment) ||
        !utf8_plain_text(o->comment, strlen(o->comment))) {
        fprintf(stderr, "hallgw silence add: --comment TEXT is required: plain text of 1 to 255 "
                        "bytes\n");
        return 2;
    }
    snprintf(s->comment, sizeof(s->comment), "%s", o->comment);
    s->maintenance = o->maintenance;
    wall_s now = clock_wall();
    s->starts = now;
    if (!o->for_ == !o->until) {
        fprintf(stderr, "hallgw silence add: give --for DURATION or --until TIME\n");
        return 2;
    }
    int64_t ms;
    if (o->for_ && (duration_parse_ms(o->for_, &ms) < 0 || ms <= 0)) {
        fprintf(stderr, "hallgw silence add: --for %s: expected a duration such as 90m or 2h\n",
                o->for_);
        return 2;
    }
    if (o->for_)
        s->ends = now + (double)ms / 1000.0;
    else if (enforce_parse_until(o->until, now, &s->ends) < 0) {
        fprintf(stderr,
                "hallgw silence add: --until %s: expected a future HH:MM, "
                "YYYY-MM-DDTHH:MM or unix seconds\n",
                o->until);
        return 2;
    }
    const char *why = silence_check(s, now, (double)cfg->alerts.silence_max_ms / 1000.0);
    if (why) {
        fprintf(stderr, "hallgw silence add: %s\n", why);
        return 2;
    }
    cli_unix_name(s->created_by, sizeof(s->created_by));
    s->created = now;
    return crypto_random_hex(8, s->id) < 0 ? 1 : 0;
}

int cli_silence(int argc, char **argv, const char *default_config)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"hall", required_argument, NULL, 'H'},
        {"window", required_argument, NULL, 'w'},
        {"device", required_argument, NULL, 'd'},
        {"rule", required_argument, NULL, 'r'},
        {"severity", required_argument, NULL, 's'},
        {"for", required_argument, NULL, 'f'},
        {"until", required_argument, NULL, 'u'},
        {"comment", required_argument, NULL, 'm'},
        {"maintenance", no_argument, NULL, 'M'},
        {"all", no_argument, NULL, 'a'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *path = default_config;
    struct silence_args o = {0};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            path = optarg;
            break;
        case 'H':
            o.hall = optarg;
            break;
        case 'w':
            o.window = optarg;
            break;
        case 'd':
            o.device = optarg;
            break;
        case 'r':
            o.rule = optarg;
            break;
        case 's':
            o.severity = optarg;
            break;
        case 'f':
            o.for_ = optarg;
            break;
        case 'u':
            o.until = optarg;
            break;
        case 'm':
            o.comment = optarg;
            break;
        case 'M':
            o.maintenance = true;
            break;
        case 'a':
            o.all = true;
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
    static const char *const verbs[] = {"add", "list", "expire", NULL};
    int v = cli_verb("silence", verb, verbs);
    if (v < 0)
        return 2;
    bool add = v == 0, is_list = v == 1, expire = v == 2;
    if (argc - optind != (expire ? 2 : 1)) {
        fprintf(stderr, "hallgw silence %s: wrong arguments (hallgw silence --help)\n", verb);
        return 2;
    }
    struct config *cfg = cli_load_config(path);
    if (!cfg)
        return 2;
    setenv("TZ", cfg->gateway.timezone, 1);
    tzset();
    struct record_silence s = {0};
    int rc = add ? build(&o, cfg, &s) : 0;
    struct store *st = rc == 0 ? cli_open_store(cfg, is_list) : NULL;
    if (rc == 0 && !st)
        rc = 1;
    if (st && is_list) {
        rc = list(st, o.all);
    } else if (st && add) {
        rc = 1;
        if (store_silence_put(st, &s) < 0) {
            fprintf(stderr, "hallgw silence add: %s\n", store_last_error(st));
        } else {
            char t[32];
            cli_fmt_time(s.ends, t, sizeof(t));
            audit(st, "silence-add", &s);
            printf("silence %s until %s\n", s.id, t);
            rc = 0;
        }
    } else if (st) {
        wall_s now = clock_wall();
        int r = store_silence_get(st, argv[optind + 1], &s);
        if (r == -ENOENT || (r == 0 && s.ends <= now)) {
            fprintf(stderr, "hallgw silence expire: no such silence in force (hallgw silence "
                            "list)\n");
            rc = 2;
        } else if (r < 0) {
            fprintf(stderr, "hallgw silence expire: %s\n", store_last_error(st));
            rc = 1;
        } else {
            s.ends = now;
            cli_unix_name(s.ended_by, sizeof(s.ended_by));
            rc = store_silence_put(st, &s) < 0 ? 1 : 0;
            if (rc)
                fprintf(stderr, "hallgw silence expire: %s\n", store_last_error(st));
            else {
                audit(st, "silence-expire", &s);
                printf("silence %s expired\n", s.id);
            }
        }
    }
    store_close(st);
    config_free(cfg);
    return rc;
}
