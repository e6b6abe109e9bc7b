/* hallgw report: the command line of the daily inspection record. */
#include "report.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "duration.h"
#include "httpclient.h"
#include "report_period.h"

static void usage(FILE *f)
{
    fputs("NAME\n"
          "    hallgw report - the daily inspection record (巡查记录) of a service hall\n"
          "\n"
          "SYNOPSIS\n"
          "    hallgw report [--date YYYY-MM-DD] [--hall H] [--format md|html|csv]\n"
          "                  [-c FILE] [-o FILE]\n"
          "    hallgw report --period week|month [--date D] [--hall H] [--format F]\n"
          "\n"
          "DESCRIPTION\n"
          "    Writes the inspection record of one day, in the gateway's time zone\n"
          "    (gateway.timezone; the day is [00:00, 24:00) local time), from the\n"
          "    gateway's alert history (<state_dir>/hallgw.db) and from InfluxDB:\n"
          "\n"
          "    1 基本信息     header: hall names, date, opening hours, gateway, time\n"
          "    2 窗口在岗情况 per window: minutes expected staffed by the schedule,\n"
          "                   minutes open with a known seat state, minutes staffed,\n"
          "                   the staffed ratio (staffed / open), and each unstaffed\n"
          "                   alert with its start, end, duration and handling\n"
          "    3 环境状况     per environment sensor and metric with a threshold rule:\n"
          "                   minutes out of range during opening hours, max and min\n"
          "    4 设施设备     periods in which an equipment's status was not \"ok\",\n"
          "                   and the equipment's alerts\n"
          "    5 下班断电     the power-off record of each PC and plug (measurement\n"
          "                   \"poweroff\"), or \"no power-off records for this day\"\n"
          "    6 病毒防范     per PC: last scan and signature update and their age at\n"
          "                   the end of the day, threats, USB storage insertions\n"
          "    7 巡查告警记录 every alert transition of the day: time, place, the\n"
          "                   problem, who acknowledged or resolved it and the note\n"
          "\n"
          "    A reading holds until the next one, within the day. For today the\n"
          "    record runs up to now. When InfluxDB can not be read, sections 1, 7\n"
          "    and the alert parts of 2 and 4 are still written, and every InfluxDB\n"
          "    section says that its data could not be read.\n"
          "\n"
          "OPTIONS\n"
          "    -c, --config FILE  the gateway's configuration (default\n"
          "                       /etc/hallgw/hallgw.conf): halls, windows, devices,\n"
          "                       rules, schedule, state_dir and the influx block\n"
          "    -d, --date D       YYYY-MM-DD, \"today\" (the default) or \"yesterday\";\n"
          "                       with --period, a day of the period (default: the\n"
          "                       last complete week or month)\n"
          "    -p, --period P     week (Monday to Sunday) or month: the assessment\n"
          "                       (考核) of the period instead of one day's record:\n"
          "                       staffed share, unstaffed time, waiting time,\n"
          "                       environment compliance, PC compliance, nightly\n"
          "                       power-off, alerts by severity; html has charts\n"
          "    -H, --hall H       only hall H (default: every hall of the config)\n"
          "    -f, --format F     md (Markdown, the default), html (one self-contained\n"
          "                       page that prints on A4) or csv (RFC 4180: one block\n"
          "                       per section, each starting with its header row, a\n"
          "                       blank line between blocks)\n"
          "    -o, --output FILE  write to FILE (replaced whole, only once written)\n"
          "                       instead of standard output\n"
          "    --deliveries       instead of a record, list how the daily record was\n"
          "                       sent by itself (reports.daily): per day (--date, or\n"
          "                       the last 7 days), halls and route, its state (sent,\n"
          "                       failed, sending), attempts, when it was sent and the\n"
          "                       last error\n"
          "    -h, --help         this help\n"
          "\n"
          "EXIT STATUS\n"
          "    0  the record was written (a source that could not be read is warned\n"
          "       about on standard error and noted in the record)\n"
          "    1  nothing at all could be read (neither the alert history nor\n"
          "       InfluxDB), or the output could not be written\n"
          "    2  usage error, invalid configuration, unknown hall, bad or future date\n"
          "\n"
          "EXAMPLES\n"
          "    hallgw report --date yesterday --format html -o /srv/reports/today.html\n"
          "    hallgw report --date 2026-10-09 --hall h1 --format csv > h1.csv\n"
          "\n"
          "SEE ALSO\n"
          "    hallgw alerts --help, docs/report.md\n",
          f);
}

int report_parse_day(const char *s, wall_s now, int32_t *day)
{
    if (strcmp(s, "today") == 0) {
        *day = report_local_day(now);
        return 0;
    }
    if (strcmp(s, "yesterday") == 0) {
        *day = report_local_day(now) - 1;
        return 0;
    }
    return date_parse(s, day);
}

static void print_halls(const struct config *cfg, FILE *f)
{
    for (size_t i = 0; i < cfg->n_halls; i++)
        fprintf(f, "%s%s", i ? ", " : "", cfg->halls[i].id);
    if (cfg->n_halls == 0)
        fputs("(none)", f);
}

static void warn_sources(const struct report *r)
{
    if (r->store.src != REPORT_SRC_OK)
        fprintf(stderr, "hallgw report: warning: the alert history could not be read: %s\n",
                r->store.why);
    const struct report_status *st[] = {&r->staffing, &r->environment, &r->equipment, &r->poweroff,
                                        &r->av};
    const char *said = NULL;
    for (size_t i = 0; i < sizeof(st) / sizeof(st[0]); i++) {
        if (st[i]->src == REPORT_SRC_OK || (said && strcmp(said, st[i]->why) == 0))
            continue;
        fprintf(
            stderr, "hallgw report: warning: %s%s\n",
            st[i]->src == REPORT_SRC_DISABLED ? "" : "InfluxDB could not be read: ", st[i]->why);
        said = st[i]->why;
    }
}

/* Writes the record to path through a temporary file in the same directory,
 * renamed over path once whole. */
typedef int (*render_fn)(void *what, enum report_format f, FILE *out);

static int render_day(void *what, enum report_format f, FILE *out)
{
    return report_render(what, f, out);
}

static int render_period(void *what, enum report_format f, FILE *out)
{
    return report_period_render(what, f, out);
}

static int write_file(render_fn fn, void *what, enum report_format f, const char *path)
{
    size_t n = strlen(path) + 16;
    char *tmp = malloc(n);
    if (!tmp)
        return -ENOMEM;
    snprintf(tmp, n, "%s.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        int e = errno;
        fprintf(stderr, "hallgw report: cannot create %s: %s\n", tmp, strerror(e));
        free(tmp);
        return -e;
    }
    FILE *out = fdopen(fd, "w");
    int rc = -EIO;
    if (!out) {
        close(fd);
        goto out_unlink;
    }
    rc = fn(what, f, out);
    if (fclose(out) != 0 && rc == 0)
        rc = -EIO;
    if (rc == 0 && rename(tmp, path) < 0)
        rc = -errno;
    if (rc < 0)
        fprintf(stderr, "hallgw report: cannot write %s: %s\n", path, strerror(-rc));
out_unlink:
    if (rc < 0)
        unlink(tmp);
    free(tmp);
    return rc;
}

/* hallgw report --period: the assessment of the week or month containing
 * *day, or (day NULL) of the last complete one. */
static int report_period_cli(const struct config *cfg, const char *hall, enum period_kind kind,
                             const int32_t *day, enum report_format format, const char *output,
                             wall_s now)
{
    int32_t d, first, n;
    if (day) {
        d = *day;
    } else {
        report_period_bounds(kind, report_local_day(now), &first, &n);
        d = first - 1;
    }
    if (http_global_init() < 0) {
        fputs("hallgw report: cannot initialise the HTTP client\n", stderr);
        return 1;
    }
    int rc = 1;
    struct period p;
    int g = report_period_gather(cfg, hall, kind, d, now, &p);
    if (g == -ENOMEM) {
        fputs("hallgw report: out of memory\n", stderr);
        goto out_free;
    }
    const struct report_status *st[] = {&p.store,    &p.staffing, &p.environment,
                                        &p.poweroff, &p.av,       &p.waiting};
    const char *said = NULL; /* InfluxDB's one failure is said once */
    for (size_t i = 0; i < sizeof(st) / sizeof(st[0]); i++) {
        if (st[i]->src == REPORT_SRC_OK || (said && strcmp(said, st[i]->why) == 0))
            continue;
        fprintf(stderr, "hallgw report: warning: %s\n", st[i]->why);
        said = st[i]->why;
    }
    int w = output ? write_file(render_period, &p, format, output)
                   : report_period_render(&p, format, stdout);
    if (w < 0 && !output)
        fprintf(stderr, "hallgw report: cannot write the assessment: %s\n", strerror(-w));
    if (g == -EIO)
        fputs("hallgw report: nothing could be read: neither the alert history nor InfluxDB\n",
              stderr);
    rc = w < 0 || g < 0 ? 1 : 0;
out_free:
    report_period_free(&p);
    http_global_cleanup();
    return rc;
}

int report_cli(int argc, char **argv, const char *default_config)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"date", required_argument, NULL, 'd'},
        {"hall", required_argument, NULL, 'H'},
        {"format", required_argument, NULL, 'f'},
        {"output", required_argument, NULL, 'o'},
        {"period", required_argument, NULL, 'p'},
        {"deliveries", no_argument, NULL, 'D'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *path = default_config, *date = NULL, *hall = NULL, *output = NULL;
    enum report_format format = REPORT_MD;
    bool deliveries = false, date_given = false;
    int c, period = -1;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:d:H:f:o:p:h", opts, NULL)) != -1) {
        switch (c) {
        case 'D':
            deliveries = true;
            break;
        case 'c':
            path = optarg;
            break;
        case 'd':
            date = optarg;
            date_given = true;
            break;
        case 'H':
            hall = optarg;
            break;
        case 'f': {
            int f = report_format_parse(optarg);
            if (f < 0) {
                fprintf(stderr, "hallgw report: --format: expected md, html or csv, got '%s'\n",
                        optarg);
                return 2;
            }
            format = (enum report_format)f;
            break;
        }
        case 'o':
            output = optarg;
            break;
        case 'p':
            period = report_period_kind_parse(optarg);
            if (period < 0) {
                fprintf(stderr, "hallgw report: --period: expected week or month, got '%s'\n",
                        optarg);
                return 2;
            }
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            fputs("Try 'hallgw report --help'.\n", stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "hallgw report: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (deliveries && period >= 0) {
        fputs("hallgw report: --deliveries and --period can not be used together\n", stderr);
        return 2;
    }

    struct config *cfg = NULL;
    struct conf_errors errs = {0};
    if (config_load(path, &cfg, &errs) < 0) {
        conf_errors_print(&errs, stderr);
        conf_errors_free(&errs);
        return 2;
    }
    setenv("TZ", cfg->gateway.timezone, 1);
    tzset();

    int rc = 2;
    if (hall && !config_find_hall(cfg, hall)) {
        fprintf(stderr, "hallgw report: unknown hall '%s' (halls in %s: ", hall, path);
        print_halls(cfg, stderr);
        fputs(")\n", stderr);
        goto out_free_config;
    }
    wall_s now = clock_wall();
    int32_t day;
    if (!date && period >= 0) {
        rc = report_period_cli(cfg, hall, (enum period_kind)period, NULL, format, output, now);
        goto out_free_config;
    }
    if (!date)
        date = "today";
    if (report_parse_day(date, now, &day) < 0) {
        fprintf(stderr,
                "hallgw report: --date: expected YYYY-MM-DD, today or yesterday, got '%s'\n", date);
        goto out_free_config;
    }
    if (day > report_local_day(now)) {
        fprintf(stderr, "hallgw report: --date %s is in the future (time zone %s)\n", date,
                cfg->gateway.timezone);
        goto out_free_config;
    }
    if (period >= 0) {
        rc = report_period_cli(cfg, hall, (enum period_kind)period, &day, format, output, now);
        goto out_free_config;
    }

    if (deliveries) {
        rc = report_deliveries_print(cfg, date_given ? day : 0, now, stdout);
        goto out_free_config;
    }
    rc = 1;
    if (http_global_init() < 0) {
        fputs("hallgw report: cannot initialise the HTTP client\n", stderr);
        goto out_free_config;
    }
    struct report r;
    int g = report_gather(cfg, hall, day, now, &r);
    if (g == -ENOMEM) {
        fputs("hallgw report: out of memory\n", stderr);
        goto out_free_report;
    }
    warn_sources(&r);
    int w = output ? write_file(render_day, &r, format, output) : report_render(&r, format, stdout);
    if (w < 0 && !output)
        fprintf(stderr, "hallgw report: cannot write the record: %s\n", strerror(-w));
    if (g == -EIO)
        fputs("hallgw report: nothing could be read: neither the alert history nor InfluxDB\n",
              stderr);
    rc = w < 0 || g < 0 ? 1 : 0;

out_free_report:
    report_free(&r);
    http_global_cleanup();
out_free_config:
    config_free(cfg);
    return rc;
}
