/* The configuration's schedule, rules, notification routes and alert policy:
 * the shipped default rules load with every parameter, user rules replace
 * default ones by name, and every broken value is reported as
 * FILE:LINE: key: message. Data: tests/unit/data/config. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "testconf.h"

#define DATA HALLGW_TEST_DATA_DIR "/config/"
#define MIN_MS (60 * 1000LL)
#define DAY_MS (1440 * MIN_MS)
#define HM(h, m) ((h)*3600 + (m)*60)
#define KB(k) (1u << KIND_##k)

struct want {
    int line;
    const char *key;
    const char *msg; /* a part of the message */
};

#define W(line, key, msg)                                                                          \
    {                                                                                              \
        line, key, msg                                                                             \
    }

/* Loads path, which must fail with exactly the errors in w, in order. */
static void expect_errors_at(const char *path, const struct want *w, size_t n)
{
    struct config *c = (struct config *)1;
    struct conf_errors e;
    int rc = config_load(path, &c, &e);

    if (rc != -EINVAL || c != NULL || e.n != n) {
        conf_errors_print(&e, stderr);
        fail_msg("%s: rc %d, %zu errors, want -EINVAL and %zu", path, rc, e.n, n);
    }
    for (size_t i = 0; i < n; i++) {
        const struct conf_error *g = &e.v[i];

        if (g->line != w[i].line || strcmp(g->key, w[i].key) != 0 || !strstr(g->msg, w[i].msg)) {
            conf_errors_print(&e, stderr);
            fail_msg("%s error %zu: got %d: %s: %s, want %d: %s: ...%s...", path, i, g->line,
                     g->key, g->msg, w[i].line, w[i].key, w[i].msg);
        }
    }
    conf_errors_free(&e);
}

#define EXPECT(name, ...)                                                                          \
    do {                                                                                           \
        static const struct want w_[] = {__VA_ARGS__};                                             \
        expect_errors_at(DATA name, w_, sizeof(w_) / sizeof(w_[0]));                               \
    } while (0)

static struct config *load_ok(const char *name)
{
    char path[1024];
    struct config *c = NULL;
    struct conf_errors e;
    int rc;

    (void)snprintf(path, sizeof(path), "%s%s", DATA, name);
    rc = config_load(path, &c, &e);
    if (rc != 0 || !c || e.n != 0) {
        conf_errors_print(&e, stderr);
        fail_msg("%s: rc %d, want 0", name, rc);
    }
    conf_errors_free(&e);
    return c;
}

/* Loads text from a temporary file; must fail with exactly one error, on key,
 * containing msg (or load when key is NULL). */
static void expect_text(const char *text, const char *key, const char *msg)
{
    char path[1024];
    struct config *c;
    struct conf_errors e;
    int rc;

    testconf_write(path, sizeof(path), text, strlen(text));
    rc = config_load(path, &c, &e);
    unlink(path);
    if (!key) {
        if (rc != 0) {
            conf_errors_print(&e, stderr);
            fail_msg("refused: %s", text);
        }
        config_free(c);
        return;
    }
    if (rc != -EINVAL || e.n != 1 || strcmp(e.v[0].key, key) != 0 || !strstr(e.v[0].msg, msg)) {
        conf_errors_print(&e, stderr);
        fail_msg("want one error %s: ...%s... for: %s", key, msg, text);
    }
    conf_errors_free(&e);
}

#define MQTT "mqtt = { uri = \"tcp://127.0.0.1:1883\"; };\n"

/* ---- the shipped default rules ---- */

static const struct default_rule {
    const char *name;
    enum rule_type type;
    enum severity severity;
    enum rule_when when;
    unsigned kinds;
    const char *metric;
    char dir; /* 'a' above, 'b' below, 0 none */
    double limit, clear_at;
    int64_t for_ms, for_when_waiting_ms, max_ms, max_age_ms;
    const char *action, *event;
} default_rules[] = {
    {"co2-high", RULE_THRESHOLD, SEV_WARNING, WHEN_OPEN, KB(ENV), "co2", 'a', 1000, 900,
     10 * MIN_MS, -1, 0, 0, NULL, NULL},
    {"temperature-high", RULE_THRESHOLD, SEV_WARNING, WHEN_OPEN, KB(ENV), "temperature", 'a', 28,
     27, 15 * MIN_MS, -1, 0, 0, NULL, NULL},
    {"temperature-low", RULE_THRESHOLD, SEV_WARNING, WHEN_OPEN, KB(ENV), "temperature", 'b', 18, 19,
     15 * MIN_MS, -1, 0, 0, NULL, NULL},
    {"humidity-high", RULE_THRESHOLD, SEV_INFO, WHEN_OPEN, KB(ENV), "humidity", 'a', 70, 65,
     30 * MIN_MS, -1, 0, 0, NULL, NULL},
    {"pm25-high", RULE_THRESHOLD, SEV_WARNING, WHEN_OPEN, KB(ENV), "pm25", 'a', 75, 50, 15 * MIN_MS,
     -1, 0, 0, NULL, NULL},
    {"noise-high", RULE_THRESHOLD, SEV_INFO, WHEN_OPEN, KB(ENV), "noise_db", 'a', 70, 65,
     10 * MIN_MS, -1, 0, 0, NULL, NULL},
    {"illuminance-low", RULE_THRESHOLD, SEV_INFO, WHEN_OPEN, KB(ENV), "illuminance", 'b', 300, 320,
     30 * MIN_MS, -1, 0, 0, NULL, NULL},
    {"unstaffed", RULE_UNSTAFFED, SEV_WARNING, WHEN_OPEN, 0, NULL, 0, 0, 0, 10 * MIN_MS, 3 * MIN_MS,
     0, 0, NULL, NULL},
    {"wait-time", RULE_WAIT_TIME, SEV_WARNING, WHEN_OPEN, 0, NULL, 0, 0, 0, 0, -1, 30 * MIN_MS, 0,
     NULL, NULL},
    {"sensor-stale", RULE_STALE, SEV_WARNING, WHEN_ALWAYS,
     KB(SEAT) | KB(PEOPLE) | KB(QUEUE) | KB(ENV) | KB(EQUIPMENT) | KB(PLUG), NULL, 0, 0, 0,
     10 * MIN_MS, -1, 0, 0, NULL, NULL},
    {"pc-stale", RULE_STALE, SEV_WARNING, WHEN_OPEN, KB(PC), NULL, 0, 0, 0, 10 * MIN_MS, -1, 0, 0,
     NULL, NULL},
    {"equipment-fault", RULE_EQUIPMENT_STATUS, SEV_MAJOR, WHEN_ALWAYS, KB(EQUIPMENT), NULL, 0, 0, 0,
     5 * MIN_MS, -1, 0, 0, NULL, NULL},
    {"maintenance-due", RULE_MAINTENANCE, SEV_INFO, WHEN_ALWAYS, KB(EQUIPMENT), NULL, 0, 0, 0, 0,
     -1, 0, 0, NULL, NULL},
    {"av-scan-overdue", RULE_MAX_AGE, SEV_MAJOR, WHEN_ALWAYS, KB(PC), "av_last_scan", 0, 0, 0, 0,
     -1, 0, 7 * DAY_MS, "scan", NULL},
    {"av-signatures-old", RULE_MAX_AGE, SEV_MAJOR, WHEN_ALWAYS, KB(PC), "av_sig_updated", 0, 0, 0,
     0, -1, 0, 3 * DAY_MS, NULL, NULL},
    {"threat-detected", RULE_EVENT, SEV_CRITICAL, WHEN_ALWAYS, KB(PC), NULL, 0, 0, 0, 0, -1, 0, 0,
     NULL, "threat_detected"},
    {"usb-storage", RULE_EVENT, SEV_MAJOR, WHEN_ALWAYS, KB(PC), NULL, 0, 0, 0, 0, -1, 0, 0, NULL,
     "usb_storage_inserted"},
    {"netcfg-changed", RULE_BASELINE, SEV_MAJOR, WHEN_ALWAYS, KB(PC), "net_fp", 0, 0, 0, 0, -1, 0,
     0, NULL, NULL},
};

static void assert_str_or_null(const char *got, const char *want)
{
    if (want)
        assert_string_equal(got, want);
    else
        assert_null(got);
}

static void test_default_rules_encode_every_regulation_row(void **state)
{
    struct config *c = load_ok("default_rules.conf");
    size_t n = sizeof(default_rules) / sizeof(default_rules[0]);
    (void)state;

    assert_int_equal(c->n_rules, n);
    for (size_t i = 0; i < n; i++) {
        const struct default_rule *w = &default_rules[i];
        const struct config_rule *r = &c->rules[i];

        assert_string_equal(r->name, w->name);
        assert_int_equal(r->type, w->type);
        assert_int_equal(r->severity, w->severity);
        assert_int_equal(r->when, w->when);
        assert_int_equal(r->kinds, w->kinds);
        assert_null(r->hall);
        assert_null(r->devices);
        assert_str_or_null(r->metric, w->metric);
        assert_int_equal(r->has_above, w->dir == 'a');
        assert_int_equal(r->has_below, w->dir == 'b');
        if (w->dir) {
            assert_true(r->has_clear_at);
            assert_true((w->dir == 'a' ? r->above : r->below) == w->limit);
            assert_true(r->clear_at == w->clear_at);
        }
        assert_int_equal(r->for_ms, w->for_ms);
        assert_int_equal(r->for_when_waiting_ms, w->for_when_waiting_ms);
        assert_int_equal(r->max_ms, w->max_ms);
        assert_int_equal(r->max_age_ms, w->max_age_ms);
        assert_str_or_null(r->action, w->action);
        assert_str_or_null(r->event, w->event);
        assert_true(r->enabled);
        assert_true(r->from_defaults);
        assert_true(r->line > 0);
    }
    config_free(c);
}

/* ---- defaults ---- */

static void test_no_blocks_give_the_default_schedule_and_policy(void **state)
{
    struct config *c = load_ok("minimal.conf");
    (void)state;

    assert_int_equal(c->schedule.weekdays, 0x3e); /* mon-fri */
    assert_int_equal(c->schedule.open_s, HM(9, 0));
    assert_int_equal(c->schedule.close_s, HM(17, 0));
    assert_null(c->schedule.breaks);
    assert_int_equal(c->schedule.n_breaks, 0);
    assert_int_equal(c->schedule.n_holidays, 0);
    assert_int_equal(c->schedule.n_workdays, 0);
    assert_int_equal(c->schedule.poweroff_s, -1);
    assert_int_equal(c->schedule.poweron_s, -1);
    assert_null(c->rules);
    assert_int_equal(c->n_rules, 0);
    assert_null(c->notify);
    assert_int_equal(c->n_notify, 0);
    assert_int_equal(c->alerts.renotify_ms, 3600 * 1000);
    assert_int_equal(c->alerts.escalate_after_ms, 0);
    assert_null(c->alerts.escalate_to);
    assert_null(config_find_notify(c, "it"));
    config_free(c);
}

/* ---- schedule ---- */

static void test_schedule_loads_sorted(void **state)
{
    struct config *c = load_ok("schedule.conf");
    const struct config_schedule *s = &c->schedule;
    (void)state;

    assert_int_equal(s->weekdays, 0x7e); /* "monday" (a full name) to "sat" */
    assert_int_equal(s->open_s, HM(8, 30));
    assert_int_equal(s->close_s, HM(17, 30) + 30);
    assert_int_equal(s->n_breaks, 2);
    assert_int_equal(s->breaks[0].from_s, HM(12, 0)); /* sorted */
    assert_int_equal(s->breaks[0].to_s, HM(13, 30));
    assert_int_equal(s->breaks[1].from_s, HM(15, 0));
    assert_int_equal(s->breaks[1].to_s, HM(15, 15));
    assert_int_equal(s->n_holidays, 3);
    assert_int_equal(s->holidays[0], 20727); /* 2026-10-01 */
    assert_int_equal(s->holidays[1], 20728);
    assert_int_equal(s->holidays[2], 20819); /* 2027-01-01 */
    assert_int_equal(s->n_workdays, 1);      /* a single string is a list of one */
    assert_int_equal(s->workdays[0], 20737); /* 2026-10-11 */
    assert_int_equal(s->poweroff_s, HM(18, 0));
    assert_int_equal(s->poweron_s, HM(8, 0));
    config_free(c);
}

static void test_bad_schedule_reports_every_problem(void **state)
{
    (void)state;
    EXPECT("bad_schedule.conf", W(3, "schedule.weekdays[4]", "expected a string"),
           W(3, "schedule.weekdays[2]", "\"mon\" is already in the list"),
           W(3, "schedule.weekdays[3]",
             "\"mo\" is not one of \"sun\", \"mon\", \"tue\", \"wed\", \"thu\", \"fri\", \"sat\""),
           W(4, "schedule.open", "\"9:00\" is not a time of day (HH:MM or HH:MM:SS"),
           W(6, "schedule.breaks[1]", "12:30-13:30 overlaps the break 12:00-13:00 (line 5)"),
           W(7, "schedule.breaks[2]", "16:30-17:30 is not within the opening hours 09:00-17:00"),
           W(8, "schedule.breaks[3].to", "must be after from (14:00)"),
           W(9, "schedule.breaks[4].to", "missing required key"),
           W(10, "schedule.holidays[1]", "\"2026-10-32\" is not a date"),
           W(10, "schedule.holidays[2]", "\"2026-10-01\" is already in the list (line 10)"),
           W(11, "schedule.workdays[0]", "\"2026-10-01\" is also in holidays"),
           W(12, "schedule.poweron_at", "expected a time of day string \"HH:MM\""),
           W(12, "schedule.poweroff_at", "16:00 is within the opening hours 09:00-17:00"),
           W(13, "schedule.timezone", "unknown key"));
}

static void test_schedule_hours_and_lists(void **state)
{
    (void)state;
    expect_text(MQTT "schedule = { open = \"18:00\"; };\n", "schedule.open",
                "close (17:00) must be after open (18:00)");
    expect_text(MQTT "schedule = { open = \"10:00\"; close = \"10:00\"; };\n", "schedule.close",
                "close (10:00) must be after open (10:00)");
    expect_text(MQTT "schedule = { weekdays = []; };\n", "schedule.weekdays",
                "must not be an empty list");
    expect_text(MQTT "schedule = { weekdays = [\"mon\", \"monday\"]; };\n", "schedule.weekdays[1]",
                "\"monday\" is already in the list");
    expect_text(MQTT "schedule = { weekdays = \"Mon\"; };\n", "schedule.weekdays",
                "\"Mon\" is not one of");
    expect_text(MQTT "schedule = { close = \"25:00\"; };\n", "schedule.close",
                "\"25:00\" is not a time of day");
    expect_text(MQTT "schedule = { breaks = ( { from = \"08:00\"; to = \"09:30\"; } ); };\n",
                "schedule.breaks[0]", "08:00-09:30 is not within the opening hours 09:00-17:00");
    expect_text(MQTT "schedule = { breaks = { from = \"12:00\"; }; };\n", "schedule.breaks",
                "expected a list");
    expect_text(MQTT "schedule = ( );\n", "schedule", "expected a group");
    /* Touching breaks, a break up to close, poweroff at close and at 24:00. */
    expect_text(MQTT "schedule = { close = \"24:00\"; poweroff_at = \"24:00\";\n"
                     "  breaks = ( { from = \"12:00\"; to = \"13:00\"; },\n"
                     "             { from = \"13:00\"; to = \"24:00\"; } ); };\n",
                NULL, NULL);
    expect_text(MQTT "schedule = { poweroff_at = \"17:00\"; poweron_at = \"09:00\"; };\n", NULL,
                NULL);
}

/* ---- rules ---- */

static void test_user_rules_replace_default_rules_by_name(void **state)
{
    struct config *c = load_ok("rules.conf");
    const struct config_rule *r;
    (void)state;

    assert_int_equal(c->n_rules, 6);
    /* Replaced: the user's rule as a whole, nothing kept from the default. */
    r = &c->rules[0];
    assert_string_equal(r->name, "co2-high");
    assert_false(r->from_defaults);
    assert_int_equal(r->line, 10);
    assert_true(r->has_above);
    assert_true(r->above == 1200); /* an integer is a number too */
    assert_false(r->has_clear_at);
    assert_true(r->clear_at == 1200); /* defaults to above */
    assert_int_equal(r->severity, SEV_MAJOR);
    assert_int_equal(r->when, WHEN_ALWAYS); /* not the default rule's "open" */
    assert_int_equal(r->for_ms, 0);
    /* Default rules left alone, with their own defaults. */
    r = &c->rules[1];
    assert_string_equal(r->name, "noise-high");
    assert_true(r->from_defaults);
    assert_int_equal(r->line, 4);
    assert_true(r->clear_at == 70);
    assert_int_equal(r->severity, SEV_INFO);
    r = &c->rules[2];
    assert_string_equal(r->name, "unstaffed");
    assert_true(r->from_defaults);
    assert_int_equal(r->for_ms, 10 * MIN_MS); /* unstaffed: 10m when absent */
    assert_int_equal(r->for_when_waiting_ms, 3 * MIN_MS);
    assert_int_equal(r->when, WHEN_OPEN); /* unstaffed: open when absent */
    assert_int_equal(r->severity, SEV_WARNING);
    assert_int_equal(r->kinds, 0);
    /* Turned off by { name; enabled = false; }: the default's definition. */
    r = &c->rules[3];
    assert_string_equal(r->name, "pc-stale");
    assert_false(r->enabled);
    assert_false(r->from_defaults);
    assert_int_equal(r->line, 11);
    assert_int_equal(r->type, RULE_STALE);
    assert_int_equal(r->kinds, KB(PC));
    assert_int_equal(r->for_ms, 10 * MIN_MS);
    assert_int_equal(r->when, WHEN_OPEN);
    /* Then the user's own rules, in their order. */
    r = &c->rules[4];
    assert_string_equal(r->name, "door-open");
    assert_true(r->enabled);
    assert_false(r->from_defaults);
    assert_int_equal(r->type, RULE_EVENT);
    assert_int_equal(r->kinds, KB(EQUIPMENT) | KB(UNKNOWN));
    assert_string_equal(r->hall, "h*");
    assert_string_equal(r->devices, "door-[0-9]*");
    assert_string_equal(r->event, "door_open");
    assert_int_equal(r->severity, SEV_CRITICAL);
    assert_int_equal(r->when, WHEN_ALWAYS);
    assert_int_equal(r->for_when_waiting_ms, -1);
    r = &c->rules[5];
    assert_string_equal(r->name, "temp-low");
    assert_true(r->has_below);
    assert_false(r->has_above);
    assert_true(r->below == 16.5);
    assert_true(r->clear_at == 18);
    assert_int_equal(r->for_ms, 20 * MIN_MS);
    assert_int_equal(r->when, WHEN_CLOSED);
    assert_int_equal(r->kinds, 0);
    config_free(c);
}

static void test_bad_rules_report_every_problem(void **state)
{
    (void)state;
    EXPECT(
        "bad_rules.conf",
        W(3, "default_rules[0].above", "required by type \"threshold\" (or below, or is)"),
        W(4, "default_rules[1].below", "a threshold rule has above or below, not both"),
        W(5, "default_rules[2].clear_at", "must be at most above (10) for the alert to clear"),
        W(6, "default_rules[3].clear_at", "must be at least below (18) for the alert to clear"),
        W(7, "default_rules[4].above", "not used by type \"stale\""),
        W(7, "default_rules[4].for", "required by type \"stale\""),
        W(8, "default_rules[5].for", "must be more than 0s for type \"stale\""),
        W(9, "default_rules[6].for_when_waiting", "must not be longer than for (10m, the default)"),
        W(10, "default_rules[7].max", "required by type \"wait_time\""),
        W(11, "default_rules[8].action", "\"reboot\" is not one of \"scan\""),
        W(11, "default_rules[8].metric", "required by type \"max_age\""),
        W(11, "default_rules[8].max_age", "required by type \"max_age\""),
        W(12, "default_rules[9].metric", "not used by type \"event\""),
        W(12, "default_rules[9].event", "required by type \"event\""),
        W(13, "default_rules[10].metric", "required by type \"baseline\""),
        W(14, "default_rules[11].for", "not used by type \"maintenance\""),
        W(15, "default_rules[12].type", "\"lamp\" is not one of \"threshold\", \"stale\""),
        W(15, "default_rules[12].name", "duplicate rule name \"a\" (first at line 3)"),
        W(16, "default_rules[13].severity",
          "\"fatal\" is not one of \"info\", \"warning\", \"major\", \"critical\""),
        W(16, "default_rules[13].when",
          "\"weekends\" is not one of \"always\", \"open\", \"closed\""),
        W(16, "default_rules[13].kind[1]", "\"printer\" is not one of \"seat\", \"people\""),
        W(16, "default_rules[13].kind[2]", "\"pc\" is already in the list"),
        W(16, "default_rules[13].hall", "\"h 1\" is not a pattern of ids"),
        W(17, "default_rules[14].above", "expected a number"),
        W(18, "default_rules[15].event", "\"x y\" is not a valid id"),
        W(18, "default_rules[15].name", "missing required key"),
        W(19, "default_rules[16].type", "missing required key"),
        W(22, "rules[0].type", "missing required key (no default rule \"p\" to turn off)"),
        W(23, "rules[1].colour", "unknown key"),
        W(23, "rules[1].for_when_waiting", "must not be longer than for (5m)"),
        W(24, "rules[2].name", "duplicate rule name \"p\" (first at line 22)"));
}

static void test_rule_values(void **state)
{
    (void)state;
    /* A rule turned off by name needs nothing but the name... */
    expect_text(MQTT "default_rules = ( { name = \"x\"; type = \"stale\"; for = \"1m\"; } );\n"
                     "rules = ( { name = \"x\"; enabled = false; } );\n",
                NULL, NULL);
    /* ...but anything more makes it a rule of its own, which needs a type. */
    expect_text(MQTT "default_rules = ( { name = \"x\"; type = \"stale\"; for = \"1m\"; } );\n"
                     "rules = ( { name = \"x\"; enabled = false; severity = \"info\"; } );\n",
                "rules[0].type", "missing required key");
    expect_text(MQTT "rules = ( { name = \"x\"; type = \"stale\"; for = \"1m\"; when = \"open\"; "
                     "kind = []; } );\n",
                "rules[0].kind", "must not be an empty list");
    expect_text(MQTT "rules = ( { name = \"x y\"; type = \"maintenance\"; } );\n", "rules[0].name",
                "\"x y\" is not a valid id");
    expect_text(MQTT "rules = ( { name = \"x\"; type = \"wait_time\"; max = \"0s\"; } );\n",
                "rules[0].max", "must be between 1s and 1d");
    expect_text(MQTT "rules = ( { name = \"x\"; type = \"max_age\"; metric = \"m\"; "
                     "max_age = \"30s\"; } );\n",
                "rules[0].max_age", "must be between 1m and 365d");
    expect_text(MQTT "rules = ( { name = \"x\"; type = \"stale\"; for = \"31d\"; } );\n",
                "rules[0].for", "must be between 0s and 30d");
    expect_text(MQTT "rules = { name = \"x\"; };\n", "rules", "expected a list");
    expect_text(MQTT "rules = ( { name = \"x\"; type = \"threshold\"; metric = \"co2\"; "
                     "above = 1e3; clear_at = 1000; for = \"1m\"; } );\n",
                NULL, NULL);
    expect_text(MQTT "rules = ( { name = \"x\"; type = \"unstaffed\"; for = \"0s\"; } );\n", NULL,
                NULL);
    /* One error per mistake: a bad `for` is not also compared with for_when_waiting. */
    expect_text(MQTT "rules = ( { name = \"x\"; type = \"unstaffed\"; for = \"31d\"; "
                     "for_when_waiting = \"3m\"; } );\n",
                "rules[0].for", "must be between 0s and 30d");
    expect_text(MQTT "rules = ( { name = \"x\"; type = \"stale\"; for = 5; } );\n", "rules[0].for",
                "expected a duration string");
    expect_text(MQTT "rules = ( { name = \"x\"; type = \"threshold\"; metric = \"co2\"; "
                     "above = \"1000\"; clear_at = 2000; } );\n",
                "rules[0].above", "expected a number");
}

/* Loads text; must fail with exactly one error at line, on key, containing msg. */
static void expect_text_at(const char *text, int line, const char *key, const char *msg)
{
    char path[1024];
    struct config *c;
    struct conf_errors e;
    int rc;

    testconf_write(path, sizeof(path), text, strlen(text));
    rc = config_load(path, &c, &e);
    unlink(path);
    if (rc != -EINVAL || e.n != 1 || e.v[0].line != line || strcmp(e.v[0].key, key) != 0 ||
        !strstr(e.v[0].msg, msg)) {
        conf_errors_print(&e, stderr);
        fail_msg("want one error at line %d %s: ...%s... for: %s", line, key, msg, text);
    }
    conf_errors_free(&e);
}

static void test_is_rules_take_a_boolean_number_or_string(void **state)
{
    (void)state;
    char path[1024];
    struct config *c;
    struct conf_errors e;
    const char *text = MQTT
        "rules = (\n"
        "  { name = \"av\"; type = \"threshold\"; metric = \"av_realtime\"; is = false; },\n"
        "  { name = \"door\"; type = \"threshold\"; metric = \"door_open\"; is = true;\n"
        "    for = \"10m\"; severity = \"major\"; when = \"open\"; },\n"
        "  { name = \"paper\"; type = \"threshold\"; metric = \"status\"; is = \"paper_out\"; },\n"
        "  { name = \"mode\"; type = \"threshold\"; metric = \"mode\"; is = 3; },\n"
        "  { name = \"co2\"; type = \"threshold\"; metric = \"co2\"; above = 1000.0; }\n"
        ");\n";

    testconf_write(path, sizeof(path), text, strlen(text));
    assert_int_equal(config_load(path, &c, &e), 0);
    unlink(path);
    assert_int_equal(c->n_rules, 5);
    assert_int_equal(c->rules[0].is_type, CONFIG_IS_BOOL);
    assert_false(c->rules[0].is_b);
    assert_int_equal(c->rules[1].is_type, CONFIG_IS_BOOL);
    assert_true(c->rules[1].is_b);
    assert_int_equal(c->rules[1].for_ms, 10 * MIN_MS);
    assert_int_equal(c->rules[1].severity, SEV_MAJOR);
    assert_int_equal(c->rules[1].when, WHEN_OPEN);
    assert_int_equal(c->rules[2].is_type, CONFIG_IS_STRING);
    assert_string_equal(c->rules[2].is_str, "paper_out");
    assert_int_equal(c->rules[3].is_type, CONFIG_IS_NUMBER);
    assert_true(c->rules[3].is_num == 3);
    assert_int_equal(c->rules[4].is_type, CONFIG_IS_NONE);
    assert_true(c->rules[4].has_above);
    config_free(c);
}

static void test_is_excludes_above_below_and_clear_at(void **state)
{
    (void)state;
    expect_text_at(MQTT "rules = (\n"
                        "  { name = \"x\"; type = \"threshold\"; metric = \"door_open\";\n"
                        "    is = true;\n"
                        "    above = 1.0; }\n"
                        ");\n",
                   5, "rules[0].above", "a threshold rule has is or above/below, not both");
    expect_text_at(MQTT "rules = (\n"
                        "  { name = \"x\"; type = \"threshold\"; metric = \"m\"; is = 1;\n"
                        "    clear_at = 0.5; }\n"
                        ");\n",
                   4, "rules[0].clear_at", "a threshold rule has is or above/below, not both");
    expect_text(MQTT "rules = ( { name = \"x\"; type = \"threshold\"; metric = \"m\"; "
                     "is = true; below = 2.0; } );\n",
                "rules[0].below", "not both");
    expect_text(MQTT "rules = ( { name = \"x\"; type = \"stale\"; for = \"1m\"; is = true; } );\n",
                "rules[0].is", "not used by type \"stale\"");
    expect_text(MQTT "rules = ( { name = \"x\"; type = \"threshold\"; metric = \"m\"; "
                     "is = \"\"; } );\n",
                "rules[0].is", "1 to 256 bytes");
    expect_text(MQTT "rules = ( { name = \"x\"; type = \"threshold\"; metric = \"m\"; "
                     "is = [1, 2]; } );\n",
                "rules[0].is", "expected true, false, a number or a string");
    expect_text(MQTT "rules = ( { name = \"x\"; type = \"threshold\"; is = true; } );\n",
                "rules[0].metric", "required by type \"threshold\"");
}

/* ---- notification routes and alert policy ---- */

static void test_notify_routes_and_policy_load(void **state)
{
    struct config *c = load_ok("notify.conf");
    const struct config_notify *r;
    (void)state;

    assert_int_equal(c->n_notify, 3);
    r = config_find_notify(c, "it");
    assert_ptr_equal(r, &c->notify[0]);
    assert_int_equal(r->type, NOTIFY_WEBHOOK);
    assert_string_equal(r->url, "https://robot.example/hook?key=abc");
    assert_int_equal(r->severities, 1u << SEV_MAJOR | 1u << SEV_CRITICAL);
    assert_int_equal(r->kinds, KB(PC) | KB(EQUIPMENT));
    assert_int_equal(r->n_halls, 1);
    assert_string_equal(r->halls[0], "h1");
    assert_non_null(strstr(r->template_text, "{{summary}}"));
    assert_non_null(strstr(r->template_text, "告警"));
    assert_string_equal(r->content_type, "application/json; charset=utf-8");
    assert_int_equal(r->timeout_ms, 5000);
    assert_int_equal(r->retries, 2);
    assert_int_equal(r->line, 4);
    r = config_find_notify(c, "duty");
    assert_ptr_equal(r, &c->notify[1]);
    assert_int_equal(r->type, NOTIFY_EMAIL);
    assert_string_equal(r->smtp_url, "smtps://mail.example:465");
    assert_string_equal(r->from, "hallgw@example.org");
    assert_int_equal(r->n_to, 2);
    assert_string_equal(r->to[0], "duty@example.org");
    assert_string_equal(r->to[1], "it@example.org");
    assert_string_equal(r->username, "hallgw");
    assert_string_equal(r->password, "smtp-pass");
    assert_false(r->starttls);
    assert_int_equal(r->severities, 1u << SEV_CRITICAL); /* one name, not a list */
    assert_int_equal(r->n_halls, 1);
    assert_string_equal(r->halls[0], "h2");
    assert_null(r->url);
    assert_null(r->content_type);
    r = config_find_notify(c, "all");
    assert_int_equal(r->severities, (1u << SEV_COUNT) - 1); /* everything by default */
    assert_int_equal(r->kinds, (1u << KIND_COUNT) - 1);
    assert_null(r->halls);
    assert_null(r->template_text);
    assert_string_equal(r->content_type, "application/json");
    assert_int_equal(r->timeout_ms, 10000);
    assert_int_equal(r->retries, 5);
    assert_true(r->starttls);
    assert_null(config_find_notify(c, "nobody"));
    assert_null(config_find_notify(c, NULL));
    assert_null(config_find_notify(NULL, "it"));
    assert_int_equal(c->alerts.renotify_ms, 30 * MIN_MS);
    assert_int_equal(c->alerts.escalate_after_ms, 15 * MIN_MS);
    assert_string_equal(c->alerts.escalate_to, "duty");
    config_free(c);
}

static void test_bad_notify_reports_every_problem(void **state)
{
    (void)state;
    EXPECT("bad_notify.conf", W(4, "notify[0].url", "must start with http:// or https://"),
           W(4, "notify[0].smtp_url", "only for type = \"email\""),
           W(5, "notify[1].url", "must not hold a user name or password"),
           W(5, "notify[1].severity[1]", "\"fatal\" is not one of \"info\""),
           W(5, "notify[1].kinds", "must not be an empty list"),
           W(5, "notify[1].halls[1]", "no hall \"h9\" in halls"),
           W(6, "notify[2].smtp_url", "has a bad port"),
           W(6, "notify[2].to[0]", "\"duty\" is not an e-mail address"),
           W(6, "notify[2].template_file", "only for type = \"webhook\""),
           W(6, "notify[2].from", "required with type = \"email\""),
           W(6, "notify[2].password_file", "needs username"),
           W(7, "notify[3].to", "must not be an empty list"),
           W(8, "notify[4].type", "\"pager\" is not one of \"webhook\", \"email\""),
           W(8, "notify[4].name", "duplicate notify route name \"a\" (first at line 4)"),
           W(9, "notify[5].url", "contains white space or a control character"),
           W(9, "notify[5].template_file", "secrets/empty.secret is empty"),
           W(9, "notify[5].content_type", "is not a media type"),
           W(9, "notify[5].retries", "must be between 0 and 100, not 101"),
           W(9, "notify[5].timeout", "must be between 1s and 5m, not \"10m\""),
           W(10, "notify[6].sign", "needs secret_file (the robot's signing secret)"),
           W(11, "notify[7].secret_file", "needs sign = \"dingtalk\" or \"feishu\""),
           W(12, "notify[8].sign", "only for type = \"webhook\""),
           W(12, "notify[8].sign", "needs secret_file (the robot's signing secret)"),
           W(14, "alerts.renotify", "must be 0s (never) or at least 1m"),
           W(14, "alerts.escalate_to", "needs alerts.escalate_after"),
           W(14, "alerts.escalate_to", "no notify route \"nobody\""));
}

static void test_urls_never_appear_in_errors(void **state)
{
    struct config *c;
    struct conf_errors e;
    char path[1024];
    static const char text[] =
        MQTT "notify = ( { name = \"a\"; type = \"webhook\"; url = \"https://robot.example/"
             "send?key=SECRET-KEY 1\"; } );\n";
    (void)state;

    testconf_write(path, sizeof(path), text, strlen(text));
    assert_int_equal(config_load(path, &c, &e), -EINVAL);
    unlink(path);
    assert_int_equal(e.n, 1);
    assert_null(strstr(e.v[0].msg, "SECRET-KEY"));
    conf_errors_free(&e);
}

static void test_route_values(void **state)
{
    static const char *const addresses[] = {"@example.org", "duty@", "a@b@c", "Duty <d@example>",
                                            "d@example.org\r\nBcc: x@y"};
    static const struct {
        const char *url;
        const char *msg; /* NULL: accepted */
    } urls[] = {
        {"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc", NULL},
        {"http://127.0.0.1:8080", NULL},
        {"http://[::1]/x", NULL},
        {"https://", "has no host"},
        {"https://:443/x", "has no host"},
        {"https://h:0/x", "has a bad port"},
        {"https://h:65536", "has a bad port"},
        {"https://h:8a/x", "has a bad port"},
        {"https://[::1/x", "has no host"},
        {"HTTPS://h/x", "must start with"},
    };
    char text[512];
    (void)state;

    for (size_t i = 0; i < sizeof(addresses) / sizeof(addresses[0]); i++) {
        (void)snprintf(text, sizeof(text),
                       MQTT "notify = ( { name = \"d\"; type = \"email\"; smtp_url = "
                            "\"smtp://m:587\"; from = \"%s\"; to = \"d@example.org\"; } );\n",
                       addresses[i]);
        expect_text(text, "notify[0].from", strchr(addresses[i], '\r') ? "a line break" : "not");
    }
    for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
        (void)snprintf(text, sizeof(text),
                       MQTT "notify = ( { name = \"w\"; type = \"webhook\"; url = \"%s\"; } );\n",
                       urls[i].url);
        expect_text(text, urls[i].msg ? "notify[0].url" : NULL, urls[i].msg);
    }
    expect_text(MQTT "notify = ( { name = \"w\"; type = \"webhook\"; url = \"http://h/\"; "
                     "halls = [\"h1\"]; } );\n",
                "notify[0].halls[0]", "no hall \"h1\" in halls");
    expect_text(MQTT "notify = ( { name = \"m\"; type = \"email\"; smtp_url = \"http://m:25\"; "
                     "from = \"a@b\"; to = \"c@d\"; } );\n",
                "notify[0].smtp_url", "must start with smtp:// or smtps://");
    expect_text(MQTT "notify = ( { name = \"m\"; type = \"email\"; smtp_url = \"smtp://m:25\"; "
                     "from = \"a@b\"; to = [\"c@d\", \"c@d\"]; } );\n",
                "notify[0].to[1]", "\"c@d\" is already in the list");
    expect_text(MQTT "notify = ( { name = \"w\"; url = \"http://h/\"; } );\n", "notify[0].type",
                "missing required key");
}

static void test_template_file_must_be_small_utf8(void **state)
{
    static const char bad_utf8[] = "{\"text\": \"\xe5\x91\x8a\xe8\xad\"}";
    char tmpl[1024], text[2048];
    char *big = malloc(65537);
    (void)state;

    assert_non_null(big);
    memset(big, 'x', 65537);
    testconf_write(tmpl, sizeof(tmpl), big, 65537);
    (void)snprintf(text, sizeof(text),
                   MQTT "notify = ( { name = \"w\"; type = \"webhook\"; url = \"http://h/\"; "
                        "template_file = \"%s\"; } );\n",
                   tmpl);
    expect_text(text, "notify[0].template_file", "is larger than 65536 bytes");
    unlink(tmpl);
    testconf_write(tmpl, sizeof(tmpl), big, 65536); /* exactly 64 KiB: fine */
    (void)snprintf(text, sizeof(text),
                   MQTT "notify = ( { name = \"w\"; type = \"webhook\"; url = \"http://h/\"; "
                        "template_file = \"%s\"; } );\n",
                   tmpl);
    expect_text(text, NULL, NULL);
    unlink(tmpl);
    free(big);
    testconf_write(tmpl, sizeof(tmpl), bad_utf8, sizeof(bad_utf8) - 1);
    (void)snprintf(text, sizeof(text),
                   MQTT "notify = ( { name = \"w\"; type = \"webhook\"; url = \"http://h/\"; "
                        "template_file = \"%s\"; } );\n",
                   tmpl);
    expect_text(text, "notify[0].template_file", "is not valid UTF-8");
    unlink(tmpl);
}

static void test_alert_policy_values(void **state)
{
    (void)state;
    expect_text(MQTT "alerts = { escalate_after = \"30m\"; };\n", "alerts.escalate_after",
                "needs alerts.escalate_to");
    expect_text(MQTT "notify = ( { name = \"it\"; type = \"webhook\"; url = \"http://h/\"; } );\n"
                     "alerts = { escalate_to = \"it\"; };\n",
                "alerts.escalate_to", "needs alerts.escalate_after");
    expect_text(MQTT "alerts = { renotify = \"8d\"; };\n", "alerts.renotify",
                "must be between 0s and 7d");
    expect_text(MQTT "alerts = { renotify = \"0s\"; };\n", NULL, NULL);
    expect_text(MQTT "alerts = { repeat = \"1h\"; };\n", "alerts.repeat", "unknown key");
    expect_text(MQTT "alerts = \"1h\";\n", "alerts", "expected a group");
}

static void test_severity_and_rule_type_names(void **state)
{
    static const char *const sev[SEV_COUNT] = {"info", "warning", "major", "critical"};
    static const char *const types[RULE_TYPE_COUNT] = {
        "threshold", "stale",    "unstaffed",   "wait_time",       "max_age",
        "event",     "baseline", "maintenance", "equipment_status"};
    (void)state;

    for (int i = 0; i < SEV_COUNT; i++) {
        assert_string_equal(config_severity_name((enum severity)i), sev[i]);
        assert_int_equal(config_severity_parse(sev[i]), i);
    }
    assert_int_equal(config_severity_parse("fatal"), -1);
    assert_int_equal(config_severity_parse("Info"), -1);
    assert_int_equal(config_severity_parse(NULL), -1);
    for (int i = 0; i < RULE_TYPE_COUNT; i++)
        assert_string_equal(config_rule_type_name((enum rule_type)i), types[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_rules_encode_every_regulation_row),
        cmocka_unit_test(test_no_blocks_give_the_default_schedule_and_policy),
        cmocka_unit_test(test_schedule_loads_sorted),
        cmocka_unit_test(test_bad_schedule_reports_every_problem),
        cmocka_unit_test(test_schedule_hours_and_lists),
        cmocka_unit_test(test_user_rules_replace_default_rules_by_name),
        cmocka_unit_test(test_bad_rules_report_every_problem),
        cmocka_unit_test(test_rule_values),
        cmocka_unit_test(test_is_rules_take_a_boolean_number_or_string),
        cmocka_unit_test(test_is_excludes_above_below_and_clear_at),
        cmocka_unit_test(test_notify_routes_and_policy_load),
        cmocka_unit_test(test_bad_notify_reports_every_problem),
        cmocka_unit_test(test_urls_never_appear_in_errors),
        cmocka_unit_test(test_route_values),
        cmocka_unit_test(test_template_file_must_be_small_utf8),
        cmocka_unit_test(test_alert_policy_values),
        cmocka_unit_test(test_severity_and_rule_type_names),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
