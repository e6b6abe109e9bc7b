#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alert.h"
#include "buf.h"
#include "clock.h"
#include "config.h"
#include "duration.h"
#include "id.h"
#include "jsonw.h"
#include "mqtt.h"
#include "report.h"
#include "store.h"
#include "utf8.h"

/* East Asian Wide and Fullwidth (Unicode UAX #11), the ranges a hall's
 * names and notes use. */
static bool wide(uint32_t c)
{
    static const uint32_t ranges[][2] = {
        {0x1100, 0x115F},   /* Hangul Jamo */
        {0x2E80, 0xA4CF},   /* CJK radicals .. Yi, with kana and CJK ideographs */
        {0xAC00, 0xD7A3},   /* Hangul syllables */
        {0xF900, 0xFAFF},   /* CJK compatibility ideographs */
        {0xFE30, 0xFE4F},   /* CJK compatibility forms */
        {0xFF00, 0xFF60},   /* fullwidth forms */
        {0xFFE0, 0xFFE6},   /* fullwidth signs */
        {0x1F300, 0x1F64F}, /* pictographs, emoticons */
        {0x1F900, 0x1F9FF}, /* supplemental pictographs */
        {0x20000, 0x3FFFD}, /* CJK extensions B.. */
    };
    for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++)
        if (c >= ranges[i][0] && c <= ranges[i][1])
            return true;
    return false;
}

size_t cli_text_width(const char *s)
{
    size_t cols = 0, n = strlen(s);
    while (n) {
        uint32_t c;
        size_t len = utf8_decode(s, n, &c);
        cols += len && wide(c) ? 2 : 1;
        s += len ? len : 1;
        n -= len ? len : 1;
    }
    return cols;
}

const char *cli_pad(char *buf, size_t size, const char *s, size_t cols)
{
    size_t used = 0, width = 0, n = strlen(s);
    while (n) {
        uint32_t c;
        size_t len = utf8_decode(s, n, &c);
        size_t step = len ? len : 1;
        if (used + step >= size)
            break;
        memcpy(buf + used, s, step);
        used += step;
        width += len && wide(c) ? 2 : 1;
        s += step;
        n -= step;
    }
    for (; width < cols && used + 1 < size; width++)
        buf[used++] = ' ';
    buf[used] = '\0';
    return buf;
}

struct config *cli_load_config(const char *path)
{
    struct config *cfg = NULL;
    struct conf_errors errs = {0};
    if (config_load(path, &cfg, &errs) < 0) {
        conf_errors_print(&errs, stderr);
        conf_errors_free(&errs);
        return NULL;
    }
    return cfg;
}

struct store *cli_open_store(const struct config *cfg, bool readonly)
{
    char db[1024];
    const char *why = NULL;
    struct store *st = NULL;
    snprintf(db, sizeof(db), "%s/hallgw.db", cfg->gateway.state_dir);
    if (store_open(db, readonly, &st, &why) < 0) {
        fprintf(stderr, "hallgw: cannot open %s: %s\n", db, why ? why : "unknown error");
        return NULL;
    }
    return st;
}

/* The person at the keyboard, as the audit log names them: "unix:<user>". */
void cli_unix_name(char *out, size_t size)
{
    const struct passwd *pw = getpwuid(getuid());
    snprintf(out, size, "unix:%s", pw && pw->pw_name ? pw->pw_name : "?");
}

void cli_audit_record(struct store *st, const char *action, const char *target, const char *detail)
{
    char who[80];
    cli_unix_name(who, sizeof(who));
    if (store_audit_note(st, who, "cli", action, target, detail, true, clock_wall()) < 0)
        fprintf(stderr, "hallgw: warning: not recorded in the audit log: %s\n",
                store_last_error(st));
}

int cli_verb(const char *cmd, const char *verb, const char *const *verbs)
{
    for (int i = 0; verb && verbs[i]; i++)
        if (strcmp(verb, verbs[i]) == 0)
            return i;
    if (verb)
        fprintf(stderr, "hallgw %s: unknown command '%s'; expected", cmd, verb);
    else
        fprintf(stderr, "hallgw %s: no command; expected", cmd);
    for (int i = 0; verbs[i]; i++)
        fprintf(stderr, "%s %s", i == 0 ? "" : verbs[i + 1] ? "," : " or", verbs[i]);
    fprintf(stderr, " (hallgw %s --help)\n", cmd);
    return -1;
}

void cli_fmt_time(wall_s t, char *buf, size_t size)
{
    if (t <= 0) {
        snprintf(buf, size, "-");
        return;
    }
    time_t tt = (time_t)wall_whole(t);
    struct tm tm;
    localtime_r(&tt, &tm);
    strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm);
}

static void alerts_usage(FILE *f)
{
    fputs("Usage: hallgw alerts [-c FILE] [--active] [--hall H] [--date YYYY-MM-DD]\n"
          "\n"
          "Lists alerts from the gateway's state directory. With --active, the alerts\n"
          "firing or acknowledged now; otherwise the history of transitions (who\n"
          "acknowledged or resolved, when, and the handling note), newest last,\n"
          "for one day with --date (default: today).\n"
          "\n"
          "  -c, --config FILE  the gateway's configuration (default /etc/hallgw/hallgw.conf)\n"
          "      --active       only alerts active now\n"
          "      --hall H       only hall H\n"
          "      --date D       the day to list (local time of gateway.timezone)\n"
          "  -h, --help         this help\n",
          f);
}

int cli_alerts(int argc, char **argv, const char *default_config)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'}, {"active", no_argument, NULL, 'a'},
        {"hall", required_argument, NULL, 'H'},   {"date", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    const char *path = default_config, *hall = NULL, *date = NULL;
    bool active = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            path = optarg;
            break;
        case 'a':
            active = true;
            break;
        case 'H':
            hall = optarg;
            break;
        case 'd':
            date = optarg;
            break;
        case 'h':
            alerts_usage(stdout);
            return 0;
        default:
            alerts_usage(stderr);
            return 2;
        }
    }
    struct config *cfg = cli_load_config(path);
    if (!cfg)
        return 2;
    setenv("TZ", cfg->gateway.timezone, 1);
    tzset();
    struct store *st = cli_open_store(cfg, true);
    int rc = 1;
    if (!st)
        goto out_free_config;

    char t1[32], t2[32], c1[256], c2[256];
    if (active) {
        struct alert *v = NULL;
        size_t n = 0;
        if (store_load_active(st, &v, &n) < 0) {
            fprintf(stderr, "hallgw: cannot read the active alerts\n");
            goto out_close;
        }
        printf("%-40s %-12s %-8s %-19s %-12s %s\n", "ALERT", "STATE", "SEVERITY", "SINCE", "BY",
               "SUMMARY / NOTE");
        for (size_t i = 0; i < n; i++) {
            const struct alert *a = &v[i];
            if (hall && strcmp(hall, a->hall) != 0)
                continue;
            cli_fmt_time(a->firing_since, t1, sizeof(t1));
            printf("%s %-12s %-8s %-19s %s %s%s%s\n", cli_pad(c1, sizeof(c1), a->id, 40),
                   alert_state_name(a->state), config_severity_name(a->severity), t1,
                   cli_pad(c2, sizeof(c2), a->acked_by[0] ? a->acked_by : "-", 12), a->summary,
                   a->note[0] ? " / " : "", a->note);
        }
        free(v);
        rc = 0;
        goto out_close;
    }

    int32_t day = report_local_day(clock_wall());
    if (date && date_parse(date, &day) < 0) {
        fprintf(stderr, "hallgw: --date: expected YYYY-MM-DD, got '%s'\n", date);
        rc = 2;
        goto out_close;
    }
    wall_s from, to;
    report_day_bounds(day, &from, &to);

    struct record_alert *h = NULL;
    size_t n = 0;
    if (store_history(st, from, to, hall, 0, &h, &n) < 0) {
        fprintf(stderr, "hallgw: cannot read the alert history\n");
        goto out_close;
    }
    printf("%-19s %-40s %-12s %-8s %-12s %s\n", "TIME", "ALERT", "TRANSITION", "SEVERITY", "BY",
           "SUMMARY / NOTE");
    for (size_t i = 0; i < n; i++) {
        cli_fmt_time(h[i].at, t2, sizeof(t2));
        printf("%-19s %s %-12s %-8s %s %s%s%s\n", t2, cli_pad(c1, sizeof(c1), h[i].alert_id, 40),
               h[i].transition, h[i].severity,
               cli_pad(c2, sizeof(c2), h[i].by[0] ? h[i].by : "-", 12), h[i].summary,
               h[i].note[0] ? " / " : "", h[i].note);
    }
    free(h);
    rc = 0;

out_close:
    store_close(st);
out_free_config:
    config_free(cfg);
    return rc;
}

static void ack_usage(FILE *f)
{
    fputs("Usage: hallgw ack ALERT_ID --by ACCOUNT [--note TEXT] [--resolve] [--hall H] [-c FILE]\n"
          "\n"
          "Acknowledges an active alert as ACCOUNT, one of the gateway's accounts (hallgw\n"
          "user list) whose role may handle it: the running gateway records the account\n"
          "and the note (the patrol record and the audit log) and announces the\n"
          "acknowledgement. With --resolve, closes an alert that does not clear by\n"
          "itself (events such as threat_detected), with the note as the handling\n"
          "record; a changed network baseline is approved on the live page or through\n"
          "the API, by the role it. The request goes to the gateway over MQTT with the\n"
          "gateway's own broker account, on hall/<hall>/alerts/<id>/ack/<ACCOUNT>; the\n"
          "command waits up to 10 s to see it recorded.\n"
          "\n"
          "  -c, --config FILE  the gateway's configuration (default /etc/hallgw/hallgw.conf)\n"
          "      --by ACCOUNT   the account that acknowledges (required)\n"
          "      --note TEXT    what was done\n"
          "      --resolve      resolve the alert (events)\n"
          "      --hall H       the alert's hall (default: looked up among active alerts)\n"
          "  -h, --help         this help\n"
          "\n"
          "Exit status: 0 when recorded, 1 when the gateway did not record it in time,\n"
          "2 on a usage error, an unknown alert or an unknown or disabled account.\n",
          f);
}

static bool recorded(struct store *st, const char *id, const char *by, bool resolve, wall_s since)
{
    struct record_alert *h = NULL;
    size_t n = 0;
    bool found = false;
    if (store_history(st, since - 1, 0, NULL, 0, &h, &n) < 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(h[i].alert_id, id) == 0 && strcmp(h[i].by, by) == 0 &&
            strcmp(h[i].transition, resolve ? "resolved" : "acknowledged") == 0)
            found = true;
    }
    free(h);
    return found;
}

int cli_ack(int argc, char **argv, const char *default_config)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"by", required_argument, NULL, 'b'},
        {"note", required_argument, NULL, 'n'},
        {"resolve", no_argument, NULL, 'r'},
        {"hall", required_argument, NULL, 'H'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *path = default_config, *by = NULL, *note = "", *hall = NULL;
    bool resolve = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            path = optarg;
            break;
        case 'b':
            by = optarg;
            break;
        case 'n':
            note = optarg;
            break;
        case 'r':
            resolve = true;
            break;
        case 'H':
            hall = optarg;
            break;
        case 'h':
            ack_usage(stdout);
            return 0;
        default:
            ack_usage(stderr);
            return 2;
        }
    }
    if (optind + 1 != argc || !by || !*by) {
        fprintf(stderr, "hallgw ack: need exactly one ALERT_ID and --by NAME\n");
        ack_usage(stderr);
        return 2;
    }
    if (!id_valid(by, strlen(by))) {
        fprintf(stderr, "hallgw ack: --by names an account (1 to 64 of A-Z a-z 0-9 _ . -)\n");
        return 2;
    }
    if (!utf8_plain_text(note, strlen(note))) {
        fprintf(stderr, "hallgw ack: --note must be plain text: no control characters (line "
                        "breaks, tabs), no bidirectional controls, valid UTF-8\n");
        return 2;
    }
    const char *id = argv[optind];
    struct config *cfg = cli_load_config(path);
    if (!cfg)
        return 2;
    int rc = 2;
    struct store *st = cli_open_store(cfg, true);
    char hall_buf[ID_MAX + 1] = "";
    struct record_account acc;
    int ar = st ? store_account_get(st, by, &acc) : -EIO;
    if (ar == -ENOENT || (ar == 0 && acc.disabled)) {
        fprintf(stderr, "hallgw ack: %s is not an account that may act (hallgw user list)\n", by);
        goto out_close;
    }
    if (!hall && st) {
        struct alert *v = NULL;
        size_t n = 0;
        if (store_load_active(st, &v, &n) == 0) {
            for (size_t i = 0; i < n; i++) {
                if (strcmp(v[i].id, id) == 0)
                    snprintf(hall_buf, sizeof(hall_buf), "%s", v[i].hall);
            }
        }
        free(v);
        if (!hall_buf[0]) {
            fprintf(stderr, "hallgw ack: no active alert %s (see hallgw alerts --active)\n", id);
            goto out_close;
        }
        hall = hall_buf;
    }
    if (!hall) {
        fprintf(stderr, "hallgw ack: give --hall: the state directory cannot be read\n");
        goto out_close;
    }

    char topic[512], payload[2048];
    struct buf pb;
    buf_init_fixed(&pb, payload, sizeof(payload));
    buf_putc(&pb, '{');
    jsonw_member_str(&pb, "note", note ? note : "");
    if (resolve)
        jsonw_member_bool(&pb, "resolve", true);
    if (buf_putc(&pb, '}') < 0) {
        fprintf(stderr, "hallgw ack: --note is too long\n");
        goto out_close;
    }
    snprintf(topic, sizeof(topic), "%s/%s/alerts/%s/ack/%s", cfg->mqtt.prefix, hall, id, by);

    char client_id[96];
    snprintf(client_id, sizeof(client_id), "hallgw-cli-%d", (int)getpid());
    struct mqtt_options mo = {.uri = cfg->mqtt.uri,
                              .client_id = client_id,
                              .username = cfg->mqtt.username,
                              .password = cfg->mqtt.password,
                              .keepalive_s = 30,
                              .clean_session = true,
                              .ca_file = cfg->mqtt.tls.ca_file,
                              .cert_file = cfg->mqtt.tls.cert_file,
                              .key_file = cfg->mqtt.tls.key_file,
                              .verify = cfg->mqtt.tls.verify};
    struct mqtt *m = NULL;
    rc = 1;
    if (mqtt_new(&mo, &m) < 0 || mqtt_start(m) < 0)
        goto out_close;
    mono_ms deadline = clock_mono_ms() + 10000;
    while (!mqtt_is_connected(m) && clock_mono_ms() < deadline) {
        mqtt_tick(m, clock_mono_ms());
        usleep(20000);
    }
    wall_s sent_at = clock_wall();
    if (!mqtt_is_connected(m) || mqtt_publish(m, topic, payload, strlen(payload), 1, false) < 0) {
        fprintf(stderr, "hallgw ack: cannot reach the broker at %s\n", cfg->mqtt.uri);
        goto out_free_mqtt;
    }
    while (clock_mono_ms() < deadline) {
        if (st && recorded(st, id, by, resolve, sent_at)) {
            printf("%s %s by %s\n", id, resolve ? "resolved" : "acknowledged", by);
            rc = 0;
            goto out_free_mqtt;
        }
        usleep(100000);
    }
    fprintf(stderr, "hallgw ack: sent, but the gateway has not recorded it within 10 s (is it "
                    "running? see its log)\n");

out_free_mqtt:
    mqtt_stop(m, 2000);
    mqtt_free(m);
out_close:
    store_close(st);
    config_free(cfg);
    return rc;
}
