/* The alert lifecycle: pending, firing after `for`, cancel, resolve, ack,
 * manual resolve of events, a new occurrence, and the JSON a user sees; and
 * what the rules make of data that is missing or only retained. */
#include "alert.h"

#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "alerting.h"
#include "config.h"
#include "hallmodel.h"
#include "reading.h"
#include "rules.h"
#include "store.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))
#define SEC INT64_C(1000)
#define MIN (60 * SEC)
#define T0_WALL 1732600000.0 /* 2024-11-26T05:46:40Z */
#define T0_MONO INT64_C(5000000)

/* The wall time at a monotonic time, both advancing together. */
static wall_s wall_at(mono_ms now)
{
    return T0_WALL + (double)(now - T0_MONO) / 1000.0;
}

static const struct config_rule co2_rule = {
    .name = "co2_high",
    .type = RULE_THRESHOLD,
    .severity = SEV_MAJOR,
    .metric = "co2",
    .has_above = true,
    .above = 1000,
    .for_ms = 5 * MIN,
};

static const struct config_rule usb_rule = {
    .name = "usb_storage",
    .type = RULE_EVENT,
    .severity = SEV_CRITICAL,
    .event = "usb_storage",
};

static void init_co2(struct alert *a)
{
    alert_init(a, &co2_rule, "env-1", "hall-a", "env-1", "", KIND_ENV);
}

static void init_usb(struct alert *a)
{
    alert_init(a, &usb_rule, "pc-3", "hall-a", "pc-3", "w3", KIND_PC);
}

/* ---- A table of steps, run against one alert ------------------------------- */

enum op { UPDATE, ACK, RESOLVE };

struct step {
    enum op op;
    bool cond;      /* UPDATE */
    int64_t for_ms; /* UPDATE */
    int64_t at_ms;  /* since T0_MONO */
    enum alert_transition want;
    enum alert_state state;
};

static void run_steps(struct alert *a, const struct step *steps, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct step *s = &steps[i];
        mono_ms now = T0_MONO + s->at_ms;
        enum alert_transition got = AT_NONE;

        switch (s->op) {
        case UPDATE:
            got = alert_update(a, s->cond, s->for_ms, now, wall_at(now));
            break;
        case ACK:
            got = alert_ack(a, "li.wei", "on it", wall_at(now));
            break;
        case RESOLVE:
            got = alert_resolve(a, "li.wei", "handled", wall_at(now));
            break;
        }
        if (got != s->want || a->state != s->state)
            fail_msg("step %zu: got %s in %s, want %s in %s", i, alert_transition_name(got),
                     alert_state_name(a->state), alert_transition_name(s->want),
                     alert_state_name(s->state));
    }
}

#define RUN(a, steps) run_steps((a), (steps), N_ELEMS(steps))

/* ---- Lifecycle ------------------------------------------------------------- */

static void test_alert_init_names_it_rule_colon_subject(void **state)
{
    struct alert a, e;

    (void)state;
    init_co2(&a);
    assert_string_equal(a.id, "co2_high:env-1");
    assert_string_equal(a.rule, "co2_high");
    assert_string_equal(a.hall, "hall-a");
    assert_string_equal(a.device, "env-1");
    assert_string_equal(a.window, "");
    assert_int_equal(a.kind, KIND_ENV);
    assert_int_equal(a.severity, SEV_MAJOR);
    assert_int_equal(a.type, RULE_THRESHOLD);
    assert_int_equal(a.state, ALERT_INACTIVE);
    assert_false(a.manual_resolve);
    assert_false(alert_is_active(&a));

    init_usb(&e);
    assert_string_equal(e.id, "usb_storage:pc-3");
    assert_string_equal(e.window, "w3");
    assert_true(e.manual_resolve);
}

static void test_alert_init_cuts_long_names_between_characters(void **state)
{
    /* 30 three-byte characters: 90 bytes, more than the 64 a subject holds. */
    char subject[128] = "";
    struct alert a;

    (void)state;
    for (int i = 0; i < 30; i++)
        strcat(subject, "窗");
    alert_init(&a, &co2_rule, subject, "hall-a", NULL, NULL, KIND_SEAT);
    assert_int_equal(strlen(a.subject), 63); /* 21 whole characters */
    assert_memory_equal(a.subject, subject, 63);
    assert_string_equal(a.device, "");
    assert_string_equal(a.window, "");
    assert_true(strlen(a.id) <= ALERT_ID_MAX);
}

static void test_alert_fires_after_for_not_before(void **state)
{
    static const struct step steps[] = {
        {UPDATE, false, 5 * MIN, 0, AT_NONE, ALERT_INACTIVE},
        {UPDATE, true, 5 * MIN, 1 * SEC, AT_PENDING, ALERT_PENDING},
        {UPDATE, true, 5 * MIN, 1 * MIN, AT_NONE, ALERT_PENDING},
        {UPDATE, true, 5 * MIN, 5 * MIN + 999, AT_NONE, ALERT_PENDING},
        {UPDATE, true, 5 * MIN, 5 * MIN + 1 * SEC, AT_FIRING, ALERT_FIRING},
        {UPDATE, true, 5 * MIN, 6 * MIN, AT_NONE, ALERT_FIRING},
    };
    struct alert a;

    (void)state;
    init_co2(&a);
    RUN(&a, steps);
    assert_true(alert_is_active(&a));
    assert_true(a.pending_since == wall_at(T0_MONO + 1 * SEC));
    assert_true(a.firing_since == wall_at(T0_MONO + 5 * MIN + 1 * SEC));
    assert_true(a.pending_since_mono == T0_MONO + 1 * SEC);
}

static void test_alert_fires_sooner_when_for_shrinks(void **state)
{
    /* unstaffed: 10 min, but 2 min once people wait. */
    static const struct step steps[] = {
        {UPDATE, true, 10 * MIN, 0, AT_PENDING, ALERT_PENDING},
        {UPDATE, true, 10 * MIN, 1 * MIN, AT_NONE, ALERT_PENDING},
        {UPDATE, true, 2 * MIN, 2 * MIN, AT_FIRING, ALERT_FIRING},
    };
    struct alert a;

    (void)state;
    init_co2(&a);
    RUN(&a, steps);
}

static void test_alert_cancelled_if_cleared_while_pending(void **state)
{
    static const struct step steps[] = {
        {UPDATE, true, 5 * MIN, 0, AT_PENDING, ALERT_PENDING},
        {UPDATE, false, 5 * MIN, 4 * MIN, AT_CANCELLED, ALERT_INACTIVE},
        {UPDATE, false, 5 * MIN, 6 * MIN, AT_NONE, ALERT_INACTIVE},
        /* The timer starts again: no firing 5 min after the first start. */
        {UPDATE, true, 5 * MIN, 7 * MIN, AT_PENDING, ALERT_PENDING},
        {UPDATE, true, 5 * MIN, 11 * MIN, AT_NONE, ALERT_PENDING},
        {UPDATE, true, 5 * MIN, 12 * MIN, AT_FIRING, ALERT_FIRING},
    };
    struct alert a;

    (void)state;
    init_co2(&a);
    RUN(&a, steps);
}

static void test_alert_resolves_when_cleared(void **state)
{
    static const struct step steps[] = {
        {UPDATE, true, 0, 0, AT_FIRING, ALERT_FIRING},
        {UPDATE, false, 0, 1 * MIN, AT_RESOLVED, ALERT_RESOLVED},
        {UPDATE, false, 0, 2 * MIN, AT_NONE, ALERT_RESOLVED},
    };
    struct alert a;

    (void)state;
    init_co2(&a);
    RUN(&a, steps);
    assert_false(alert_is_active(&a));
    assert_true(a.resolved_at == wall_at(T0_MONO + 1 * MIN));
    assert_string_equal(a.resolved_by, "");
}

static void test_alert_acknowledged_resolves_when_cleared(void **state)
{
    static const struct step steps[] = {
        {UPDATE, true, 0, 0, AT_FIRING, ALERT_FIRING},
        {ACK, false, 0, 1 * MIN, AT_ACKNOWLEDGED, ALERT_ACKNOWLEDGED},
        {UPDATE, true, 0, 2 * MIN, AT_NONE, ALERT_ACKNOWLEDGED},
        {UPDATE, false, 0, 3 * MIN, AT_RESOLVED, ALERT_RESOLVED},
    };
    struct alert a;

    (void)state;
    init_co2(&a);
    RUN(&a, steps);
    /* Who acknowledged it stays on the resolved record. */
    assert_string_equal(a.acked_by, "li.wei");
    assert_string_equal(a.note, "on it");
}

static void test_alert_for_zero_fires_at_once(void **state)
{
    static const struct step steps[] = {
        {UPDATE, true, 0, 0, AT_FIRING, ALERT_FIRING},
    };
    struct alert a;

    (void)state;
    init_co2(&a);
    RUN(&a, steps);
    assert_true(a.pending_since == T0_WALL);
    assert_true(a.firing_since == T0_WALL);
}

static void test_alert_repeat_while_firing_changes_nothing(void **state)
{
    struct alert a, before;

    (void)state;
    init_co2(&a);
    assert_int_equal(alert_update(&a, true, 0, T0_MONO, T0_WALL), AT_FIRING);
    before = a;
    assert_int_equal(alert_update(&a, true, 0, T0_MONO + MIN, T0_WALL + 60), AT_NONE);
    assert_memory_equal(&a, &before, sizeof(a));
}

static void test_alert_ack_records_who_and_note(void **state)
{
    struct alert a;

    (void)state;
    init_co2(&a);
    alert_update(&a, true, 0, T0_MONO, T0_WALL);
    assert_int_equal(alert_ack(&a, "wang.fang", "opened the windows, 通风", T0_WALL + 30),
                     AT_ACKNOWLEDGED);
    assert_int_equal(a.state, ALERT_ACKNOWLEDGED);
    assert_string_equal(a.acked_by, "wang.fang");
    assert_string_equal(a.note, "opened the windows, 通风");
    assert_true(a.acked_at == T0_WALL + 30);
    assert_true(alert_is_active(&a));

    /* A second ack updates who and the note, keeps the first time. */
    assert_int_equal(alert_ack(&a, "li.wei", "fan repaired", T0_WALL + 90), AT_NONE);
    assert_int_equal(a.state, ALERT_ACKNOWLEDGED);
    assert_string_equal(a.acked_by, "li.wei");
    assert_string_equal(a.note, "fan repaired");
    assert_true(a.acked_at == T0_WALL + 30);
    assert_true(a.changed_at == T0_WALL + 90);

    /* NULL leaves a field as it was. */
    assert_int_equal(alert_ack(&a, NULL, "still open", T0_WALL + 95), AT_NONE);
    assert_string_equal(a.acked_by, "li.wei");
    assert_string_equal(a.note, "still open");
}

static void test_alert_ack_and_resolve_refused_unless_active(void **state)
{
    /* The conditions fed before the ack, and the state they leave. */
    static const struct {
        const char *what;
        int64_t for_ms;
        size_t n;
        bool conds[2];
        enum alert_state s;
    } cases[] = {
        {"inactive", 0, 0, {false, false}, ALERT_INACTIVE},
        {"pending", 5 * MIN, 1, {true, false}, ALERT_PENDING},
        {"cancelled", 5 * MIN, 2, {true, false}, ALERT_INACTIVE},
        {"resolved", 0, 2, {true, false}, ALERT_RESOLVED},
    };
    (void)state;
    for (size_t i = 0; i < N_ELEMS(cases); i++) {
        struct alert a, before;

        init_co2(&a);
        for (size_t k = 0; k < cases[i].n; k++)
            alert_update(&a, cases[i].conds[k], cases[i].for_ms, T0_MONO + (int64_t)k * SEC,
                         T0_WALL + (double)k);
        assert_int_equal(a.state, cases[i].s);
        before = a;
        if (alert_ack(&a, "li.wei", "x", T0_WALL + 120) != AT_NONE)
            fail_msg("%s: ack accepted", cases[i].what);
        assert_memory_equal(&a, &before, sizeof(a));
        if (alert_resolve(&a, "li.wei", "x", T0_WALL + 120) != AT_NONE)
            fail_msg("%s: resolve accepted", cases[i].what);
        assert_memory_equal(&a, &before, sizeof(a));
    }
}

static void test_alert_event_stays_firing_until_resolved_by_hand(void **state)
{
    static const struct step steps[] = {
        {UPDATE, true, 0, 0, AT_FIRING, ALERT_FIRING},
        {UPDATE, false, 0, 1 * MIN, AT_NONE, ALERT_FIRING},
        {ACK, false, 0, 2 * MIN, AT_ACKNOWLEDGED, ALERT_ACKNOWLEDGED},
        {UPDATE, false, 0, 3 * MIN, AT_NONE, ALERT_ACKNOWLEDGED},
        {UPDATE, true, 0, 4 * MIN, AT_NONE, ALERT_ACKNOWLEDGED},
        {RESOLVE, false, 0, 5 * MIN, AT_RESOLVED, ALERT_RESOLVED},
        {UPDATE, false, 0, 6 * MIN, AT_NONE, ALERT_RESOLVED},
    };
    struct alert a;

    (void)state;
    init_usb(&a);
    RUN(&a, steps);
    assert_string_equal(a.resolved_by, "li.wei");
    assert_string_equal(a.note, "handled");
    assert_string_equal(a.acked_by, "li.wei");
    assert_true(a.resolved_at == wall_at(T0_MONO + 5 * MIN));
}

static void test_alert_event_resolves_from_firing_with_note(void **state)
{
    struct alert a;

    (void)state;
    init_usb(&a);
    alert_update(&a, true, 0, T0_MONO, T0_WALL);
    assert_int_equal(alert_resolve(&a, "zhao.min", "U盘已收回, 已登记", T0_WALL + 600),
                     AT_RESOLVED);
    assert_string_equal(a.resolved_by, "zhao.min");
    assert_string_equal(a.note, "U盘已收回, 已登记");
    assert_string_equal(a.acked_by, "");
    assert_true(a.acked_at == 0);
}

static void test_alert_reoccurs_after_resolve_as_a_new_occurrence(void **state)
{
    static const struct step steps[] = {
        {UPDATE, true, 5 * MIN, 0, AT_PENDING, ALERT_PENDING},
        {UPDATE, true, 5 * MIN, 5 * MIN, AT_FIRING, ALERT_FIRING},
        {ACK, false, 0, 6 * MIN, AT_ACKNOWLEDGED, ALERT_ACKNOWLEDGED},
        {UPDATE, false, 5 * MIN, 7 * MIN, AT_RESOLVED, ALERT_RESOLVED},
        {UPDATE, true, 5 * MIN, 60 * MIN, AT_PENDING, ALERT_PENDING},
        {UPDATE, true, 5 * MIN, 64 * MIN, AT_NONE, ALERT_PENDING},
        {UPDATE, true, 5 * MIN, 65 * MIN, AT_FIRING, ALERT_FIRING},
    };
    struct alert a;

    (void)state;
    init_co2(&a);
    a.escalated = true;
    a.last_notified = T0_WALL;
    RUN(&a, steps);
    assert_string_equal(a.id, "co2_high:env-1");
    assert_string_equal(a.acked_by, "");
    assert_string_equal(a.note, "");
    assert_true(a.acked_at == 0);
    assert_true(a.resolved_at == 0);
    assert_false(a.escalated);
    assert_true(a.last_notified == 0);
    assert_true(a.pending_since == wall_at(T0_MONO + 60 * MIN));
    assert_true(a.firing_since == wall_at(T0_MONO + 65 * MIN));
}

static void test_alert_event_reoccurs_after_manual_resolve(void **state)
{
    static const struct step steps[] = {
        {UPDATE, true, 0, 0, AT_FIRING, ALERT_FIRING},
        {RESOLVE, false, 0, 1 * MIN, AT_RESOLVED, ALERT_RESOLVED},
        {UPDATE, true, 0, 2 * MIN, AT_FIRING, ALERT_FIRING},
    };
    struct alert a;

    (void)state;
    init_usb(&a);
    RUN(&a, steps);
    assert_string_equal(a.resolved_by, "");
    assert_string_equal(a.note, "");
}

static void test_alert_names_round_trip(void **state)
{
    (void)state;
    for (int s = ALERT_INACTIVE; s <= ALERT_RESOLVED; s++)
        assert_int_equal(alert_state_parse(alert_state_name((enum alert_state)s)), s);
    assert_string_equal(alert_state_name(ALERT_ACKNOWLEDGED), "acknowledged");
    assert_int_equal(alert_state_parse("bogus"), -1);
    assert_int_equal(alert_state_parse(NULL), -1);
    assert_string_equal(alert_transition_name(AT_CANCELLED), "cancelled");
    assert_string_equal(alert_transition_name(AT_RESOLVED), "resolved");
    assert_string_equal(alert_transition_name(AT_NONE), "none");
}

/* ---- JSON ------------------------------------------------------------------ */

static json_t *parse_json(const char *text)
{
    json_error_t jerr;
    json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);

    if (!j)
        fail_msg("not JSON (%s at %d): %s", jerr.text, jerr.position, text);
    return j;
}

static void assert_json_string(json_t *j, const char *key, const char *want)
{
    json_t *v = json_object_get(j, key);

    if (!json_is_string(v))
        fail_msg("%s: not a string", key);
    assert_string_equal(json_string_value(v), want);
}

static void assert_json_number(json_t *j, const char *key, double want)
{
    json_t *v = json_object_get(j, key);

    if (!json_is_number(v))
        fail_msg("%s: not a number", key);
    if (json_number_value(v) != want)
        fail_msg("%s: %.17g, want %.17g", key, json_number_value(v), want);
}

static void assert_json_null(json_t *j, const char *key)
{
    if (!json_is_null(json_object_get(j, key)))
        fail_msg("%s: not null", key);
}

static void test_alert_json_parses_back_with_every_field(void **state)
{
    static const char summary[] = "co2 \"1350\" > 1000 ppm\n二氧化碳超标 \\ back\tslash";
    struct alert a;
    char buf[2048];
    json_t *j;
    int len;

    (void)state;
    init_co2(&a);
    alert_update(&a, true, 0, T0_MONO, T0_WALL + 0.25);
    snprintf(a.summary, sizeof(a.summary), "%s", summary);
    a.value = 1350.1;
    a.has_value = true;
    alert_ack(&a, "王芳", "开窗通风", T0_WALL + 60);

    len = alert_to_json(&a, "gw-1", buf, sizeof(buf));
    assert_true(len > 0);
    assert_int_equal((size_t)len, strlen(buf));
    assert_null(strchr(buf, '\n'));               /* one line */
    assert_non_null(strstr(buf, "\\n"));          /* the newline escaped */
    assert_non_null(strstr(buf, "二氧化碳超标")); /* UTF-8 passed through, not escaped */

    j = parse_json(buf);
    assert_int_equal(json_object_size(j), 21);
    assert_json_string(j, "id", "co2_high:env-1");
    assert_json_string(j, "rule", "co2_high");
    assert_json_string(j, "subject", "env-1");
    assert_json_string(j, "hall", "hall-a");
    assert_json_string(j, "device", "env-1");
    assert_json_string(j, "window", "");
    assert_json_string(j, "kind", "env");
    assert_json_string(j, "severity", "major");
    assert_json_string(j, "type", "threshold");
    assert_json_string(j, "state", "acknowledged");
    assert_true(json_is_false(json_object_get(j, "manual_resolve")));
    assert_json_string(j, "summary", summary);
    assert_json_number(j, "value", 1350.1);
    assert_json_number(j, "pending_since", T0_WALL + 0.25);
    assert_json_number(j, "firing_since", T0_WALL + 0.25);
    assert_json_number(j, "acked_at", T0_WALL + 60);
    assert_json_string(j, "acked_by", "王芳");
    assert_json_null(j, "resolved_at");
    assert_json_string(j, "resolved_by", "");
    assert_json_string(j, "note", "开窗通风");
    assert_json_string(j, "gateway", "gw-1");
    json_decref(j);
}

static void test_alert_json_numbers_are_shortest_exact(void **state)
{
    static const struct {
        double v;
        const char *text;
    } cases[] = {
        {1350, "\"value\":1350,"},
        {0.1, "\"value\":0.1,"},
        {-3.5, "\"value\":-3.5,"},
        {1e-7, "\"value\":1e-07,"},
        {21.7, "\"value\":21.7,"},
        {1.0 / 3, "\"value\":0.3333333333333333,"},
        {0.1 + 0.2, "\"value\":0.30000000000000004,"},
        {NAN, "\"value\":null,"},
        {INFINITY, "\"value\":null,"},
    };
    (void)state;
    for (size_t i = 0; i < N_ELEMS(cases); i++) {
        struct alert a;
        char buf[1024];
        json_t *j;

        init_co2(&a);
        a.value = cases[i].v;
        a.has_value = true;
        assert_true(alert_to_json(&a, "gw-1", buf, sizeof(buf)) > 0);
        if (!strstr(buf, cases[i].text))
            fail_msg("case %zu: no %s in %s", i, cases[i].text, buf);
        j = parse_json(buf);
        if (isfinite(cases[i].v))
            assert_json_number(j, "value", cases[i].v);
        json_decref(j);
    }
}

static void test_alert_json_leaves_out_a_missing_value(void **state)
{
    struct alert a;
    char buf[1024];
    json_t *j;

    (void)state;
    init_usb(&a);
    alert_update(&a, true, 0, T0_MONO, T0_WALL);
    assert_true(alert_to_json(&a, NULL, buf, sizeof(buf)) > 0);
    j = parse_json(buf);
    assert_null(json_object_get(j, "value"));
    assert_true(json_is_true(json_object_get(j, "manual_resolve")));
    assert_json_string(j, "state", "firing");
    assert_json_string(j, "type", "event");
    assert_json_string(j, "severity", "critical");
    assert_json_string(j, "kind", "pc");
    assert_json_null(j, "acked_at");
    assert_json_string(j, "gateway", "");
    json_decref(j);
}

static void test_alert_json_escapes_control_and_bad_bytes(void **state)
{
    struct alert a;
    char buf[1024];
    json_t *j;

    (void)state;
    init_co2(&a);
    /* \x01 and DEL, a lone continuation byte, a 3-byte character cut short
     * at the end. */
    snprintf(a.summary, sizeof(a.summary),
             "a\x01"
             "b\x7f"
             "c\x80"
             "d\xe4\xba");
    assert_true(alert_to_json(&a, "gw\"1", buf, sizeof(buf)) > 0);
    assert_non_null(strstr(buf, "a\\u0001b\\u007fc\\ufffdd\\ufffd\\ufffd\""));
    j = parse_json(buf);
    assert_json_string(j, "summary",
                       "a\x01"
                       "b\x7f"
                       "c\xef\xbf\xbd"
                       "d\xef\xbf\xbd\xef\xbf\xbd");
    assert_json_string(j, "gateway", "gw\"1");
    json_decref(j);
}

static void test_alert_json_reports_a_short_buffer(void **state)
{
    struct alert a;
    char buf[1024], small[1024];
    int len;

    (void)state;
    init_co2(&a);
    alert_update(&a, true, 0, T0_MONO, T0_WALL);
    len = alert_to_json(&a, "gw-1", buf, sizeof(buf));
    assert_true(len > 0);
    /* Exactly enough (with the NUL) works; one byte less does not. */
    assert_int_equal(alert_to_json(&a, "gw-1", small, (size_t)len + 1), len);
    assert_string_equal(small, buf);
    assert_int_equal(alert_to_json(&a, "gw-1", small, (size_t)len), -ENOSPC);
    assert_string_equal(small, "");
    assert_int_equal(alert_to_json(&a, "gw-1", small, 0), -ENOSPC);
}

static void test_alert_json_of_the_worst_alert_fits_alert_json_max(void **state)
{
    static char buf[ALERT_JSON_MAX];
    char gw[65];
    struct alert a;
    json_t *j;

    (void)state;
    /* Every text field full of bytes that each escape to six. */
    memset(&a, 0, sizeof(a));
#define FILL(arr) (memset((arr), 0x01, sizeof(arr) - 1), (arr)[sizeof(arr) - 1] = '\0')
    FILL(a.id);
    FILL(a.rule);
    FILL(a.subject);
    FILL(a.hall);
    FILL(a.device);
    FILL(a.window);
    FILL(a.acked_by);
    FILL(a.resolved_by);
    FILL(a.note);
    FILL(a.summary);
    FILL(gw);
#undef FILL
    a.state = ALERT_ACKNOWLEDGED;
    a.has_value = true;
    a.value = -1.2345678901234567e-300;
    a.pending_since = a.firing_since = a.acked_at = a.resolved_at = -1.2345678901234567e300;
    assert_true(alert_to_json(&a, gw, buf, sizeof(buf)) > 0);
    j = parse_json(buf);
    json_decref(j);
}

/* ---- Unknown and retained data ---------------------------------------------- */

static const char *const rules_conf =
    "gateway = { timezone = \"UTC\"; };\n"
    "mqtt = { uri = \"tcp://127.0.0.1:1883\"; };\n"
    "schedule = { weekdays = [\"mon\",\"tue\",\"wed\",\"thu\",\"fri\",\"sat\",\"sun\"];\n"
    "  open = \"00:00\"; close = \"23:59\"; };\n"
    "halls = ( { id = \"h1\"; windows = ( { id = \"w01\"; seat = \"seat-1\"; } ); } );\n"
    "devices = ( { id = \"env-1\"; hall = \"h1\"; kind = \"env\"; },\n"
    "  { id = \"seat-1\"; hall = \"h1\"; kind = \"seat\"; window = \"w01\"; } );\n"
    "rules = ( { name = \"co2-high\"; type = \"threshold\"; kind = \"env\"; metric = \"co2\";\n"
    "  above = 1000.0; clear_at = 900.0; when = \"always\"; },\n"
    "  { name = \"sensor-stale\"; type = \"stale\"; kind = \"env\"; for = \"10m\"; },\n"
    "  { name = \"unstaffed\"; type = \"unstaffed\"; for = \"0s\"; when = \"always\"; } );\n";

struct gw {
    char dir[64], conf[96], db[96];
    struct config *cfg;
    struct hallmodel *hm;
    struct store *st;
    struct alerting *al;
    int transitions; /* messages on hall/<hall>/alerts */
    char last[ALERT_JSON_MAX];
};

static void count_alert(void *ctx, const char *topic, const char *payload, size_t len,
                        bool retained)
{
    struct gw *g = ctx;
    size_t tl = strlen(topic);
    if (retained || tl < 7 || strcmp(topic + tl - 7, "/alerts") != 0)
        return;
    g->transitions++;
    snprintf(g->last, sizeof(g->last), "%.*s", (int)len, payload);
}

/* Starts the alerting of a gateway (again, on the same store: a restart). */
static void gw_start(struct gw *g)
{
    struct alerting_io io = {.ctx = g, .publish = count_alert};
    const char *why = NULL;
    assert_int_equal(hallmodel_new(g->cfg, &g->hm), 0);
    assert_int_equal(store_open(g->db, false, &g->st, &why), 0);
    io.store = g->st;
    assert_int_equal(alerting_new(g->cfg, g->hm, &io, T0_WALL, T0_MONO, &g->al), 0);
}

static void gw_stop(struct gw *g)
{
    alerting_free(g->al);
    store_close(g->st);
    hallmodel_free(g->hm);
    g->al = NULL;
    g->st = NULL;
    g->hm = NULL;
}

static void gw_up(struct gw *g)
{
    struct conf_errors e;
    memset(g, 0, sizeof(*g));
    snprintf(g->dir, sizeof(g->dir), "/tmp/test_alert.XXXXXX");
    assert_non_null(mkdtemp(g->dir));
    snprintf(g->conf, sizeof(g->conf), "%s/hallgw.conf", g->dir);
    snprintf(g->db, sizeof(g->db), "%s/state.db", g->dir);
    FILE *f = fopen(g->conf, "w");
    assert_non_null(f);
    fputs(rules_conf, f);
    fclose(f);
    if (config_load(g->conf, &g->cfg, &e) < 0) {
        conf_errors_print(&e, stderr);
        fail_msg("the test config does not load");
    }
    gw_start(g);
}

static void gw_down(struct gw *g)
{
    char path[128];
    gw_stop(g);
    config_free(g->cfg);
    static const char *const files[] = {"hallgw.conf", "state.db", "state.db-wal", "state.db-shm"};
    for (size_t i = 0; i < N_ELEMS(files); i++) {
        snprintf(path, sizeof(path), "%s/%s", g->dir, files[i]);
        remove(path);
    }
    rmdir(g->dir);
}

/* A reading of one number from hall h1's device id, live or retained, as
 * ingest records it; a live one is evaluated at once, as the gateway does. */
static void send(struct gw *g, const char *id, const char *key, double v, bool retained,
                 mono_ms now)
{
    static struct reading rd;
    struct route rt = {.format = FORMAT_NATIVE, .hall = "h1"};
    enum hm_resolve why;
    snprintf(rt.device, sizeof(rt.device), "%s", id);
    struct hm_device *d = hallmodel_resolve(g->hm, &rt, &why);
    assert_non_null(d);
    reading_reset(&rd, MSG_TELEMETRY);
    rd.retained = retained;
    if (strcmp(key, "presence") == 0)
        assert_int_equal(reading_add_bool(&rd, key, v != 0), 0);
    else
        assert_int_equal(reading_add_number(&rd, key, v), 0);
    hallmodel_update(g->hm, d, &rd, now, wall_at(now));
    if (!retained)
        alerting_on_reading(g->al, d, &rd, wall_at(now), now);
}

static void tick(struct gw *g, mono_ms now)
{
    alerting_tick(g->al, wall_at(now), now);
}

static enum alert_state state_of(struct gw *g, const char *id)
{
    const struct alert *a = alerting_find(g->al, "h1", id);
    return a ? a->state : ALERT_INACTIVE;
}

static void count_one(const struct alert *a, void *arg)
{
    (void)a;
    (*(int *)arg)++;
}

/* Alerts in any active state, pending ones included. */
static int count_all(struct gw *g)
{
    int n = 0;
    alerting_foreach(g->al, count_one, &n);
    return n;
}

static void test_restored_alert_stays_firing_until_data_says_otherwise(void **state)
{
    struct gw g;

    (void)state;
    gw_up(&g);
    send(&g, "env-1", "co2", 1500, false, T0_MONO);
    assert_int_equal(state_of(&g, "co2-high:env-1"), ALERT_FIRING);
    assert_int_equal(g.transitions, 1);

    /* A restart: the alert comes back from the store, the hall model empty. */
    gw_stop(&g);
    gw_start(&g);
    assert_int_equal(alerting_active_count(g.al), 1);
    for (int i = 1; i <= 5; i++)
        tick(&g, T0_MONO + i * SEC);
    assert_int_equal(state_of(&g, "co2-high:env-1"), ALERT_FIRING);
    assert_int_equal(g.transitions, 1); /* not resolved, not raised again */

    /* A retained copy of the reading does not decide either. */
    send(&g, "env-1", "co2", 800, true, T0_MONO + 6 * SEC);
    tick(&g, T0_MONO + 7 * SEC);
    assert_int_equal(state_of(&g, "co2-high:env-1"), ALERT_FIRING);
    assert_int_equal(g.transitions, 1);

    /* Still high, live: the same alert goes on. */
    send(&g, "env-1", "co2", 1600, false, T0_MONO + 8 * SEC);
    assert_int_equal(state_of(&g, "co2-high:env-1"), ALERT_FIRING);
    assert_int_equal(g.transitions, 1);

    /* Low, live: it resolves. */
    send(&g, "env-1", "co2", 800, false, T0_MONO + 9 * SEC);
    assert_int_equal(state_of(&g, "co2-high:env-1"), ALERT_INACTIVE);
    assert_int_equal(g.transitions, 2);
    assert_non_null(strstr(g.last, "\"resolved\""));
    gw_down(&g);
}

static void test_retained_values_raise_nothing_live_ones_do(void **state)
{
    struct gw g;

    (void)state;
    gw_up(&g);
    send(&g, "env-1", "co2", 5000, true, T0_MONO);
    send(&g, "seat-1", "presence", 0, true, T0_MONO);
    for (int i = 1; i <= 3; i++)
        tick(&g, T0_MONO + i * SEC);
    assert_int_equal(count_all(&g), 0);
    assert_int_equal(g.transitions, 0);

    /* The same values live do raise their alerts. */
    send(&g, "env-1", "co2", 5000, false, T0_MONO + 4 * SEC);
    assert_int_equal(state_of(&g, "co2-high:env-1"), ALERT_FIRING);
    send(&g, "seat-1", "presence", 0, false, T0_MONO + 5 * SEC);
    assert_int_equal(state_of(&g, "unstaffed:w01"), ALERT_FIRING);
    assert_int_equal(g.transitions, 2);

    /* A retained copy later keeps them as they are. */
    send(&g, "env-1", "co2", 400, true, T0_MONO + 6 * SEC);
    send(&g, "seat-1", "presence", 1, true, T0_MONO + 6 * SEC);
    tick(&g, T0_MONO + 7 * SEC);
    assert_int_equal(state_of(&g, "co2-high:env-1"), ALERT_FIRING);
    assert_int_equal(state_of(&g, "unstaffed:w01"), ALERT_FIRING);
    assert_int_equal(g.transitions, 2);
    gw_down(&g);
}

static void test_rules_missing_or_retained_value_is_unknown_silence_is_not(void **state)
{
    struct gw g;
    struct rule_verdict v;

    (void)state;
    gw_up(&g);
    const struct config_rule *co2 = &g.cfg->rules[0], *stale = &g.cfg->rules[1];
    struct route rt = {.format = FORMAT_NATIVE, .hall = "h1", .device = "env-1"};
    struct hm_device *d = hallmodel_lookup(g.hm, &rt);
    assert_non_null(d);
    struct rules_device_input in = {.wall = T0_WALL, .now = T0_MONO, .started = T0_MONO};

    rules_eval_device(co2, &g.cfg->schedule, d, &in, &v);
    assert_true(v.unknown); /* never reported */
    assert_false(v.condition);
    send(&g, "env-1", "co2", 1500, true, T0_MONO);
    rules_eval_device(co2, &g.cfg->schedule, d, &in, &v);
    assert_true(v.unknown); /* retained only */
    send(&g, "env-1", "co2", 1500, false, T0_MONO);
    rules_eval_device(co2, &g.cfg->schedule, d, &in, &v);
    assert_false(v.unknown);
    assert_true(v.condition);

    /* Silence is what a stale rule judges: a device unheard for long goes
     * stale, with no value to judge. */
    in.now = T0_MONO + 11 * MIN;
    rules_eval_device(stale, &g.cfg->schedule, d, &in, &v);
    assert_false(v.unknown);
    assert_true(v.condition);
    assert_int_equal(v.for_ms, 0); /* the silence was the wait */

    /* An offline status (or last will) says it at once: stale now, and
     * without waiting out the rule's `for` once more. */
    in.now = T0_MONO + 1000;
    rules_eval_device(stale, &g.cfg->schedule, d, &in, &v);
    assert_false(v.condition);
    d->avail = AVAIL_OFFLINE;
    rules_eval_device(stale, &g.cfg->schedule, d, &in, &v);
    assert_true(v.condition);
    assert_int_equal(v.for_ms, 0);
    assert_string_equal(v.summary, "env-1 reports offline");

    /* A seat never heard from: unknown, not empty; outside hours: false. */
    rules_eval_unstaffed(&g.cfg->rules[2], true, -1, -1, "w01", &v);
    assert_true(v.unknown);
    rules_eval_unstaffed(&g.cfg->rules[2], false, -1, -1, "w01", &v);
    assert_false(v.unknown);
    assert_false(v.condition);
    gw_down(&g);
}

/* hall/<hall>/alerts/<id>/ack[/<account>]: the account is the topic's last
 * level, an id; anything else is not an ack topic. */
static void test_ack_topics_name_their_account(void **state)
{
    (void)state;
    static const struct {
        const char *topic;
        bool ok;
        const char *hall, *id, *account;
    } cases[] = {
        {"hall/h1/alerts/co2-high:env-1/ack/wang", true, "h1", "co2-high:env-1", "wang"},
        {"hall/h1/alerts/co2-high:env-1/ack", true, "h1", "co2-high:env-1", ""},
        {"hall/h1/alerts/co2-high:env-1/ack/", false, NULL, NULL, NULL},
        {"hall/h1/alerts/co2-high:env-1/ack/wang/x", false, NULL, NULL, NULL},
        {"hall/h1/alerts/co2-high:env-1/ack/王工", false, NULL, NULL, NULL},
        {"hall/h1/alerts/co2-high:env-1/acks", false, NULL, NULL, NULL},
        {"hall/h1/alerts/co2-high:env-1/ackwang", false, NULL, NULL, NULL},
        {"hall/h1/alerts//ack/wang", false, NULL, NULL, NULL},
        {"hall/h1/alerts/ack", false, NULL, NULL, NULL},
        {"hall/h1/alerts/a/b/ack", false, NULL, NULL, NULL},
        {"site/h1/alerts/a/ack/wang", false, NULL, NULL, NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char hall[65], id[ALERT_ID_MAX + 1], account[65];
        bool ok = alerting_parse_ack_topic("hall", cases[i].topic, strlen(cases[i].topic), hall,
                                           sizeof(hall), id, sizeof(id), account, sizeof(account));
        if (ok != cases[i].ok)
            fail_msg("%s: %d", cases[i].topic, ok);
        if (ok) {
            assert_string_equal(hall, cases[i].hall);
            assert_string_equal(id, cases[i].id);
            assert_string_equal(account, cases[i].account);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ack_topics_name_their_account),
        cmocka_unit_test(test_alert_init_names_it_rule_colon_subject),
        cmocka_unit_test(test_alert_init_cuts_long_names_between_characters),
        cmocka_unit_test(test_alert_fires_after_for_not_before),
        cmocka_unit_test(test_alert_fires_sooner_when_for_shrinks),
        cmocka_unit_test(test_alert_cancelled_if_cleared_while_pending),
        cmocka_unit_test(test_alert_resolves_when_cleared),
        cmocka_unit_test(test_alert_acknowledged_resolves_when_cleared),
        cmocka_unit_test(test_alert_for_zero_fires_at_once),
        cmocka_unit_test(test_alert_repeat_while_firing_changes_nothing),
        cmocka_unit_test(test_alert_ack_records_who_and_note),
        cmocka_unit_test(test_alert_ack_and_resolve_refused_unless_active),
        cmocka_unit_test(test_alert_event_stays_firing_until_resolved_by_hand),
        cmocka_unit_test(test_alert_event_resolves_from_firing_with_note),
        cmocka_unit_test(test_alert_reoccurs_after_resolve_as_a_new_occurrence),
        cmocka_unit_test(test_alert_event_reoccurs_after_manual_resolve),
        cmocka_unit_test(test_alert_names_round_trip),
        cmocka_unit_test(test_alert_json_parses_back_with_every_field),
        cmocka_unit_test(test_alert_json_numbers_are_shortest_exact),
        cmocka_unit_test(test_alert_json_leaves_out_a_missing_value),
        cmocka_unit_test(test_alert_json_escapes_control_and_bad_bytes),
        cmocka_unit_test(test_alert_json_reports_a_short_buffer),
        cmocka_unit_test(test_alert_json_of_the_worst_alert_fits_alert_json_max),
        cmocka_unit_test(test_restored_alert_stays_firing_until_data_says_otherwise),
        cmocka_unit_test(test_retained_values_raise_nothing_live_ones_do),
        cmocka_unit_test(test_rules_missing_or_retained_value_is_unknown_silence_is_not),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
