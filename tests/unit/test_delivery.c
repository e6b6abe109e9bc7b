/* The daily record sent by itself: when it is due (reports.daily.at), its
 * configuration and what is refused, the texts (subject, summary, link),
 * WeCom's token bookkeeping and message body, and the store's claims. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "delivery.h"
#include "duration.h"
#include "notify_message.h"
#include "report.h"
#include "report_delivery.h"
#include "store.h"
#include "utf8.h"
#include "wecom.h"

#define MQTT "mqtt = { uri = \"tcp://127.0.0.1:1883\"; };\n"
#define HALLS "halls = ( { id = \"h1\"; name = \"一楼大厅\"; } );\n"
#define ROUTES                                                                                     \
    "notify = ( { name = \"manager-mail\"; type = \"email\"; smtp_url = \"smtp://127.0.0.1:25\";"  \
    " from = \"hallgw@example.org\"; to = [\"boss@example.org\"]; starttls = false; },\n"          \
    "  { name = \"robot\"; type = \"webhook\"; url = \"http://127.0.0.1:9/hook\"; } );\n"

static char tmpdir[256];

static int setup(void **state)
{
    (void)state;
    const char *t = getenv("TMPDIR");
    snprintf(tmpdir, sizeof(tmpdir), "%s/hallgw-delivery-XXXXXX", t && *t ? t : "/tmp");
    assert_non_null(mkdtemp(tmpdir));
    setenv("TZ", "Asia/Shanghai", 1);
    tzset();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    assert_int_equal(system(cmd), 0);
    return 0;
}

static int load_text(const char *text, struct config **c, struct conf_errors *e)
{
    char path[400];
    snprintf(path, sizeof(path), "%s/hallgw.conf", tmpdir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    *c = NULL;
    memset(e, 0, sizeof(*e));
    return config_load(path, c, e);
}

/* True when one error has this key and a message containing msg (and, when
 * line > 0, this line). */
static bool has_error(const struct conf_errors *e, const char *key, int line, const char *msg)
{
    for (size_t i = 0; i < e->n; i++)
        if (strcmp(e->v[i].key, key) == 0 && (line <= 0 || e->v[i].line == line) &&
            strstr(e->v[i].msg, msg))
            return true;
    conf_errors_print(e, stderr);
    return false;
}

static int32_t day_of(const char *date)
{
    int32_t d;
    assert_int_equal(date_parse(date, &d), 0);
    return d;
}

static wall_s local(const char *date, int h, int m)
{
    struct tm tm = {0};
    assert_int_equal(sscanf(date, "%d-%d-%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday), 3);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    tm.tm_hour = h;
    tm.tm_min = m;
    tm.tm_isdst = -1;
    return (wall_s)mktime(&tm);
}

/* ---- when ----------------------------------------------------------------- */

static void test_a_fixed_time_is_due_every_day_even_when_closed(void **state)
{
    (void)state;
    struct config_schedule s = {.weekdays = 0x3e, .open_s = 9 * 3600, .close_s = 17 * 3600};
    struct config_report_daily d = {.enabled = true, .at_s = 18 * 3600};
    /* 2026-12-04 is a Friday, 2026-12-05 a Saturday. */
    assert_true(report_delivery_at(&d, &s, day_of("2026-12-04")) == local("2026-12-04", 18, 0));
    assert_true(report_delivery_at(&d, &s, day_of("2026-12-05")) == local("2026-12-05", 18, 0));
}

static void test_after_close_follows_the_schedule_and_skips_closed_days(void **state)
{
    (void)state;
    int32_t holidays[] = {day_of("2026-12-03")};
    int32_t workdays[] = {day_of("2026-12-06")}; /* a make-up Sunday */
    struct config_schedule s = {.weekdays = 0x3e,
                                .open_s = 9 * 3600,
                                .close_s = 17 * 3600 + 30 * 60,
                                .holidays = holidays,
                                .n_holidays = 1,
                                .workdays = workdays,
                                .n_workdays = 1};
    struct config_report_daily d = {.enabled = true, .after_close = true, .after_ms = 30 * 60000};
    assert_true(report_delivery_at(&d, &s, day_of("2026-12-04")) == local("2026-12-04", 18, 0));
    assert_true(report_delivery_at(&d, &s, day_of("2026-12-03")) == 0); /* holiday */
    assert_true(report_delivery_at(&d, &s, day_of("2026-12-05")) == 0); /* Saturday */
    assert_true(report_delivery_at(&d, &s, day_of("2026-12-06")) == local("2026-12-06", 18, 0));
    /* Past midnight it is still the day's: its last second. */
    d.after_ms = 8 * 3600000;
    assert_true(report_delivery_at(&d, &s, day_of("2026-12-04")) == local("2026-12-05", 0, 0) - 1);
}

/* ---- config --------------------------------------------------------------- */

static void test_reports_daily_loads_at_routes_and_formats(void **state)
{
    (void)state;
    struct config *c;
    struct conf_errors e;
    assert_int_equal(load_text(MQTT HALLS ROUTES
                               "reports = { daily = { at = \"18:00\"; routes = [\"manager-mail\", "
                               "\"robot\"]; formats = [\"html\", \"csv\"]; }; };\n"
                               "http = { public_url = \"https://hall.example.org/\"; };\n",
                               &c, &e),
                     0);
    assert_true(c->report_daily.enabled);
    assert_false(c->report_daily.after_close);
    assert_int_equal(c->report_daily.at_s, 18 * 3600);
    assert_int_equal(c->report_daily.n_routes, 2);
    assert_string_equal(c->report_daily.routes[1], "robot");
    assert_int_equal(c->report_daily.formats, REPORT_FMT_HTML | REPORT_FMT_CSV);
    assert_string_equal(c->http.public_url, "https://hall.example.org/");
    config_free(c);

    assert_int_equal(load_text(MQTT HALLS ROUTES
                               "reports = { daily = { at = \"after close + 30m\"; routes = "
                               "\"robot\"; formats = \"md\"; }; };\n",
                               &c, &e),
                     0);
    assert_true(c->report_daily.after_close);
    assert_int_equal(c->report_daily.after_ms, 30 * 60000);
    assert_int_equal(c->report_daily.formats, REPORT_FMT_MD);
    config_free(c);
}

static void test_reports_daily_errors_name_the_line_and_key(void **state)
{
    (void)state;
    struct config *c;
    struct conf_errors e;
    assert_int_not_equal(load_text(MQTT HALLS ROUTES "reports = {\n daily = {\n"
                                                     "  at = \"after lunch\";\n"
                                                     "  routes = [\"manager-mail\", \"boss\"];\n"
                                                     "  formats = [\"pdf\"];\n"
                                                     " };\n};\n",
                                   &c, &e),
                         0);
    assert_null(c);
    int base = 5; /* the line of "reports = {" */
    assert_true(has_error(&e, "reports.daily.at", base + 2, "after close + 30m"));
    assert_true(has_error(&e, "reports.daily.routes[1]", base + 3, "no notify route \"boss\""));
    assert_true(has_error(&e, "reports.daily.formats[0]", base + 4, "pdf"));
    conf_errors_free(&e);

    assert_int_not_equal(
        load_text(MQTT HALLS ROUTES "reports = { daily = { formats = \"csv\"; }; };\n", &c, &e), 0);
    assert_true(has_error(&e, "reports.daily.at", 0, "required"));
    assert_true(has_error(&e, "reports.daily.routes", 0, "required"));
    conf_errors_free(&e);

    assert_int_not_equal(
        load_text(MQTT HALLS ROUTES
                  "reports = { daily = { at = \"after close + 13h\"; routes = \"robot\"; }; };\n",
                  &c, &e),
        0);
    assert_true(has_error(&e, "reports.daily.at", 0, "0s to 12h"));
    conf_errors_free(&e);
}

static void write_secret(const char *name, const char *text, mode_t mode, char *path, size_t size)
{
    snprintf(path, size, "%s/%s", tmpdir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    assert_int_equal(chmod(path, mode), 0);
}

static void test_a_wecom_route_needs_its_keys_and_a_private_secret(void **state)
{
    (void)state;
    char secret[400], text[2048];
    struct config *c;
    struct conf_errors e;
    write_secret("wecom.secret", "s3cret\n", 0600, secret, sizeof(secret));
    snprintf(text, sizeof(text),
             MQTT HALLS "notify = ( { name = \"wx\"; type = \"wecom\"; corp_id = \"ww12ab\";"
                        " agent_id = 1000002; secret_file = \"%s\"; to_users = [\"zhang.san\","
                        " \"li-si\"]; msgtype = \"text\"; } );\n",
             secret);
    assert_int_equal(load_text(text, &c, &e), 0);
    assert_int_equal(c->notify[0].type, NOTIFY_WECOM);
    assert_string_equal(c->notify[0].to_users, "zhang.san|li-si");
    assert_string_equal(c->notify[0].secret, "s3cret");
    assert_string_equal(c->notify[0].api_url, "https://qyapi.weixin.qq.com");
    assert_int_equal(c->notify[0].agent_id, 1000002);
    assert_int_equal(c->notify[0].msgtype, MSGTYPE_TEXT);
    config_free(c);

    write_secret("open.secret", "s3cret\n", 0644, secret, sizeof(secret));
    snprintf(text, sizeof(text),
             MQTT HALLS "notify = ( { name = \"wx\"; type = \"wecom\"; corp_id = \"ww12ab\";"
                        " agent_id = 1; secret_file = \"%s\"; to_users = \"a b\";"
                        " url = \"http://x/\"; } );\n",
             secret);
    assert_int_not_equal(load_text(text, &c, &e), 0);
    assert_true(has_error(&e, "notify[0].secret_file", 0, "chmod"));
    assert_true(has_error(&e, "notify[0].to_users", 0, "not a WeCom user id"));
    assert_true(has_error(&e, "notify[0].url", 0, "only for type = \"webhook\""));
    conf_errors_free(&e);

    assert_int_not_equal(
        load_text(MQTT HALLS "notify = ( { name = \"wx\"; type = \"wecom\"; } );\n", &c, &e), 0);
    assert_true(has_error(&e, "notify[0].corp_id", 0, "required with type = \"wecom\""));
    assert_true(has_error(&e, "notify[0].secret_file", 0, "required"));
    assert_true(has_error(&e, "notify[0].to_users", 0, "required"));
    conf_errors_free(&e);
}

/* ---- texts ---------------------------------------------------------------- */

static struct report_hall halls[] = {{"h1", "一楼大厅"}};
static struct report_window windows[] = {
    {.hall = "h1",
     .id = "w01",
     .name = "1号窗口",
     .has_seat = true,
     .open_s = 1000,
     .staffed_s = 900,
     .incidents = 2},
    {.hall = "h1",
     .id = "w02",
     .name = "2号窗口",
     .has_seat = true,
     .open_s = 1000,
     .staffed_s = 1000},
};
static struct report_poweroff poweroffs[] = {
    {.hall = "h1", .device = "pc-w01", .kind = "pc", .records = 3, .last_ok = 1},
    {.hall = "h1", .device = "pc-w02", .kind = "pc", .records = 2, .failures = 1, .last_ok = 0},
    {.hall = "h1", .device = "plug-w03", .kind = "plug", .records = 0, .last_ok = -1},
};
static struct record_alert alerts[] = {
    {.alert_id = "a1", .transition = "firing"},
    {.alert_id = "a2", .transition = "firing"},
    {.alert_id = "a1", .transition = "acknowledged"},
    {.alert_id = "a1", .transition = "resolved"},
};

static struct report sample(void)
{
    struct report r = {0};
    snprintf(r.date, sizeof(r.date), "2026-12-04");
    snprintf(r.opening_hours, sizeof(r.opening_hours), "09:00-17:00");
    r.halls = halls;
    r.n_halls = 1;
    r.windows = windows;
    r.n_windows = 2;
    r.poweroffs = poweroffs;
    r.n_poweroffs = 3;
    r.alerts = alerts;
    r.n_alerts = 4;
    return r;
}

static void test_the_robot_summary_tells_unstaffed_alerts_and_poweroff(void **state)
{
    (void)state;
    struct report r = sample();
    char link[512];
    struct buf b;
    report_delivery_link("https://hall.example.org/", r.date, link, sizeof(link));
    assert_string_equal(
        link, "https://hall.example.org/api/v1/reports/daily?date=2026-12-04&format=html");
    buf_init(&b, 0);
    report_delivery_summary(&r, link, &b);
    assert_non_null(strstr(b.data, "一楼大厅 2026-12-04"));
    assert_non_null(strstr(b.data, "unstaffed 2 times at 1 windows: 1号窗口 (2)"));
    assert_non_null(strstr(b.data, "staffed 95.0%"));
    assert_non_null(strstr(b.data, "2 条 fired, 1 条未恢复 still open"));
    assert_non_null(strstr(b.data, "1 of 2 devices failed: pc-w02"));
    assert_non_null(strstr(b.data, "[查看巡查记录 Open the record](https://hall.example.org/api/"));
    buf_free(&b);

    /* No power-off records, an unreadable alert history, no link. */
    r.n_poweroffs = 0;
    r.store.src = REPORT_SRC_UNREADABLE;
    buf_init(&b, 0);
    report_delivery_summary(&r, "", &b);
    assert_non_null(strstr(b.data, "no power-off records for this day"));
    assert_non_null(strstr(b.data, "the alert history could not be read"));
    assert_null(strstr(b.data, "Open the record"));
    buf_free(&b);
    report_delivery_link(NULL, r.date, link, sizeof(link));
    assert_string_equal(link, "");
}

static void test_a_summary_cut_to_fit_keeps_its_link(void **state)
{
    (void)state;
    struct report r = sample();
    const char *link = "https://hall.example.org/api/v1/reports/daily?date=2026-12-04&format=html";
    const char *tail = "\n[查看巡查记录 Open the record](https://hall.example.org/api/v1/reports/"
                       "daily?date=2026-12-04&format=html)\n";
    struct buf whole, b;
    buf_init(&whole, 0);
    buf_init(&b, 0);
    report_delivery_summary(&r, link, &whole);
    report_delivery_summary_fit(&r, link, whole.len, &b);
    assert_string_equal(b.data, whole.data); /* fits: the same */
    buf_free(&b);

    buf_init(&b, 0);
    report_delivery_summary_fit(&r, link, 250, &b);
    assert_true(b.len <= 250 && b.len > strlen(tail));
    assert_string_equal(b.data + b.len - strlen(tail), tail);
    assert_non_null(strstr(b.data, "\n……\n"));
    assert_true(strncmp(b.data, whole.data, 20) == 0);
    assert_true(utf8_valid(b.data, b.len));
    buf_free(&b);
    buf_free(&whole);
}

static void test_the_subject_is_chinese_and_english_encoded_for_mail(void **state)
{
    (void)state;
    struct report r = sample();
    struct buf s, h;
    buf_init(&s, 0);
    buf_init(&h, 0);
    report_delivery_subject(&r, &s);
    assert_string_equal(s.data, "巡查记录 Daily inspection record: 一楼大厅 2026-12-04");
    notify_message_header_text(&h, s.data);
    assert_true(strncmp(h.data, "=?UTF-8?B?", 10) == 0);
    assert_null(strchr(h.data, '\n') ? strstr(h.data, "\n=") : NULL); /* folded with a space */
    for (const unsigned char *p = (const unsigned char *)h.data; *p; p++)
        assert_true(*p < 0x80);
    buf_free(&s);
    buf_free(&h);
}

/* ---- WeCom ---------------------------------------------------------------- */

static void test_a_wecom_token_is_kept_until_shortly_before_it_expires(void **state)
{
    (void)state;
    struct wecom_token t = {0};
    assert_false(wecom_token_usable(&t, 0));
    assert_true(wecom_token_set(&t, "tok-1", 5, 7200, 1000));
    assert_true(wecom_token_usable(&t, 1000));
    /* Renewed 300 s early: usable until 6900 s after it came. */
    assert_true(wecom_token_usable(&t, 1000 + 6899 * 1000));
    assert_false(wecom_token_usable(&t, 1000 + 6900 * 1000));
    /* A short life is renewed a tenth early. */
    assert_true(wecom_token_set(&t, "tok-2", 5, 100, 0));
    assert_true(wecom_token_usable(&t, 89 * 1000));
    assert_false(wecom_token_usable(&t, 90 * 1000));
    /* A life beyond a day, however large, is taken as a day. */
    assert_true(wecom_token_set(&t, "tok-3", 5, INT64_MAX, 0));
    assert_true(wecom_token_usable(&t, (86400 - 300) * 1000 - 1));
    assert_false(wecom_token_usable(&t, (86400 - 300) * 1000));
    wecom_token_forget(&t);
    assert_false(wecom_token_usable(&t, 0));
    assert_string_equal(t.value, "");
    /* Empty or too long: not kept. */
    char big[WECOM_TOKEN_MAX + 1];
    memset(big, 'x', sizeof(big));
    assert_false(wecom_token_set(&t, big, sizeof(big), 7200, 0));
    assert_false(wecom_token_set(&t, "", 0, 7200, 0));
    assert_true(wecom_token_rejected(40014));
    assert_true(wecom_token_rejected(42001));
    assert_false(wecom_token_rejected(81013));
    assert_false(wecom_token_rejected(0));
}

static void test_a_wecom_message_body_is_cut_at_a_character(void **state)
{
    (void)state;
    struct config_notify r = {.to_users = "a|b", .agent_id = 1000002};
    size_t len;
    char *body = wecom_message_body(&r, "**巡查** \"ok\"", &len);
    assert_string_equal(body, "{\"touser\":\"a|b\",\"msgtype\":\"markdown\",\"agentid\":1000002,"
                              "\"markdown\":{\"content\":\"**巡查** \\\"ok\\\"\"}}");
    assert_int_equal(len, strlen(body));
    free(body);

    /* 700 three-byte characters: 2100 bytes, cut to 682 whole ones. */
    char text[2200] = "";
    for (int i = 0; i < 700; i++)
        strcat(text, "巡");
    r.msgtype = MSGTYPE_TEXT;
    body = wecom_message_body(&r, text, &len);
    assert_non_null(strstr(body, "\"msgtype\":\"text\""));
    const char *c = strstr(body, "\"content\":\"") + 11;
    assert_int_equal(strlen(c) - 3, 682 * 3); /* before "}} */
    free(body);

    /* The most users the configuration allows (1000 of 64 bytes) and the
     * longest content: a body all the same. */
    static char users[1000 * 65];
    for (int i = 0; i < 1000; i++) {
        memset(users + i * 65, 'u', 64);
        users[i * 65 + 64] = i < 999 ? '|' : '\0';
    }
    r.to_users = users;
    body = wecom_message_body(&r, text, &len);
    assert_non_null(body);
    assert_non_null(strstr(body, users));
    free(body);
}

/* ---- the store ------------------------------------------------------------ */

static struct record_delivery delivery(const char *owner, wall_s now)
{
    struct record_delivery d = {0};
    snprintf(d.day, sizeof(d.day), "2026-12-04");
    snprintf(d.halls, sizeof(d.halls), "h1,h2");
    snprintf(d.route, sizeof(d.route), "manager-mail");
    snprintf(d.owner, sizeof(d.owner), "%s", owner);
    snprintf(d.state, sizeof(d.state), "sending");
    d.lease_until = now + 900;
    d.changed = now;
    return d;
}

static void test_a_day_is_claimed_once_and_taken_over_only_when_left(void **state)
{
    (void)state;
    char path[400];
    struct store *st;
    snprintf(path, sizeof(path), "%s/claims.db", tmpdir);
    assert_int_equal(store_open(path, false, &st, NULL), 0);
    struct record_delivery a = delivery("gw-1/1/1", 1000), b = delivery("gw-2/2/2", 1001);
    assert_int_equal(store_delivery_claim(st, &a), 0);
    assert_int_equal(store_delivery_claim(st, &b), -EALREADY); /* a holds it */
    /* Another route or another hall set is another delivery. */
    struct record_delivery other = b;
    snprintf(other.route, sizeof(other.route), "robot");
    assert_int_equal(store_delivery_claim(st, &other), 0);

    /* a went away: after its lease, b takes over; a can no longer record. */
    b.changed = 1000 + 901;
    assert_int_equal(store_delivery_claim(st, &b), 0);
    a.attempts = 1;
    assert_int_equal(store_delivery_update(st, &a), -ESTALE);
    snprintf(b.state, sizeof(b.state), "sent");
    b.attempts = 2;
    b.sent_at = 1902;
    assert_int_equal(store_delivery_update(st, &b), 0);
    /* Sent: never claimed again, however late. */
    a.changed = 1e9;
    assert_int_equal(store_delivery_claim(st, &a), -EALREADY);

    struct record_delivery *v;
    size_t n;
    assert_int_equal(store_deliveries(st, "2026-12-01", "2026-12-04", &v, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(v[0].route, "manager-mail");
    assert_string_equal(v[0].state, "sent");
    assert_int_equal(v[0].attempts, 2);
    assert_string_equal(v[0].owner, "gw-2/2/2");
    assert_string_equal(v[1].route, "robot");
    free(v);
    assert_int_equal(store_deliveries(st, "2026-12-05", "2026-12-31", &v, &n), 0);
    assert_int_equal(n, 0);
    store_close(st);
}

static void test_a_claim_held_elsewhere_is_asked_for_again_after_its_lease(void **state)
{
    (void)state;
    int32_t today = day_of("2026-12-04");
    wall_s at = local("2026-12-04", 18, 0);
    assert_true(delivery_ask_again(today - 1, 0, today, at));     /* not asked yet today */
    assert_false(delivery_ask_again(today, 0, today, at + 3600)); /* asked, no claim elsewhere */
    /* Another sender held a route until at + 900: asked again after it. */
    assert_false(delivery_ask_again(today, at + 901, today, at + 900));
    assert_true(delivery_ask_again(today, at + 901, today, at + 901));
}

static void test_a_version_4_store_is_migrated_and_keeps_its_data(void **state)
{
    (void)state;
    char path[400];
    struct store *st;
    sqlite3 *db;
    snprintf(path, sizeof(path), "%s/v4.db", tmpdir);
    assert_int_equal(store_open(path, false, &st, NULL), 0);
    assert_int_equal(store_baseline_set(st, "pc-1", "net_fp", "abc", "it", 1), 0);
    store_close(st);
    /* Back to the schema of version 4, as a store of the last release. */
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(db, "DROP TABLE report_deliveries; PRAGMA user_version = 4", NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
    /* Read-only: refused until migrated. */
    assert_int_equal(store_open(path, true, &st, NULL), -EPROTO);
    assert_int_equal(store_open(path, false, &st, NULL), 0);
    char v[16];
    assert_int_equal(store_baseline_get(st, "pc-1", "net_fp", v, sizeof(v)), 0);
    assert_string_equal(v, "abc");
    struct record_delivery d = delivery("gw-1/1/1", 1000);
    assert_int_equal(store_delivery_claim(st, &d), 0);
    store_close(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_fixed_time_is_due_every_day_even_when_closed),
        cmocka_unit_test(test_after_close_follows_the_schedule_and_skips_closed_days),
        cmocka_unit_test(test_reports_daily_loads_at_routes_and_formats),
        cmocka_unit_test(test_reports_daily_errors_name_the_line_and_key),
        cmocka_unit_test(test_a_wecom_route_needs_its_keys_and_a_private_secret),
        cmocka_unit_test(test_the_robot_summary_tells_unstaffed_alerts_and_poweroff),
        cmocka_unit_test(test_a_summary_cut_to_fit_keeps_its_link),
        cmocka_unit_test(test_the_subject_is_chinese_and_english_encoded_for_mail),
        cmocka_unit_test(test_a_wecom_token_is_kept_until_shortly_before_it_expires),
        cmocka_unit_test(test_a_wecom_message_body_is_cut_at_a_character),
        cmocka_unit_test(test_a_day_is_claimed_once_and_taken_over_only_when_left),
        cmocka_unit_test(test_a_claim_held_elsewhere_is_asked_for_again_after_its_lease),
        cmocka_unit_test(test_a_version_4_store_is_migrated_and_keeps_its_data),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
