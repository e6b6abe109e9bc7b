/* Decoders: every line of tests/fixtures/ (every .jsonl file) decoded as its "expect"
 * says (read generically, so a new fixture line is tested without touching
 * this file), then targeted cases for the edges of each format. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "fixtures.h"

#define PREFIX "hall"
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- the fixture files ------------------------------------------------- */

static int report(const struct fixture *fx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int report(const struct fixture *fx, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    print_error("%s:%d: %s\n", fx->file, fx->line, msg);
    return 1;
}

/* What every decoded reading must hold, whatever the fixture says. */
static int check_invariants(const struct fixture *fx, const struct reading *r)
{
    int bad = 0;
    for (unsigned i = 0; i < r->n_metrics; i++) {
        const struct metric *m = &r->metrics[i];
        if (!reading_key_valid(m->key, strlen(m->key)))
            bad += report(fx, "metric key \"%s\" is not a valid key", m->key);
        if (reading_find(r, m->key) != m)
            bad += report(fx, "metric key \"%s\" appears twice", m->key);
        if (m->type == METRIC_NUMBER && !isfinite(m->v.num))
            bad += report(fx, "metric %s is not finite", m->key);
        if (m->type == METRIC_STRING && !reading_string_valid(m->v.str, strlen(m->v.str)))
            bad += report(fx, "metric %s is not a writable string", m->key);
    }
    return bad;
}

static int check_metric(const struct fixture *fx, const struct reading *r, const char *key,
                        json_t *want)
{
    const struct metric *m = reading_find(r, key);
    if (!m)
        return report(fx, "metric %s missing", key);
    if (json_is_number(want)) {
        if (m->type != METRIC_NUMBER)
            return report(fx, "metric %s is not a number", key);
        if (m->v.num != json_number_value(want))
            return report(fx, "metric %s = %.17g, want %.17g", key, m->v.num,
                          json_number_value(want));
    } else if (json_is_boolean(want)) {
        if (m->type != METRIC_BOOL)
            return report(fx, "metric %s is not a boolean", key);
        if (m->v.b != json_is_true(want))
            return report(fx, "metric %s = %d, want %d", key, m->v.b, json_is_true(want));
    } else if (json_is_string(want)) {
        if (m->type != METRIC_STRING)
            return report(fx, "metric %s is not a string", key);
        if (strcmp(m->v.str, json_string_value(want)) != 0)
            return report(fx, "metric %s = \"%s\", want \"%s\"", key, m->v.str,
                          json_string_value(want));
    } else {
        return report(fx, "fixture metric %s has a value of no metric type", key);
    }
    return 0;
}

static enum availability parse_status(const char *s)
{
    if (!s)
        return AVAIL_UNKNOWN;
    if (strcmp(s, "online") == 0)
        return AVAIL_ONLINE;
    if (strcmp(s, "offline") == 0)
        return AVAIL_OFFLINE;
    return AVAIL_UNKNOWN;
}

static int check_reject(const struct fixture *fx)
{
    struct route rt;
    enum route_result rr = topic_route(PREFIX, fx->topic, fx->topic_len, &rt);
    if (rr == ROUTE_BAD_ID || rr == ROUTE_BAD_TOPIC)
        return 0;
    if (rr != ROUTE_OK)
        return report(fx, "reject expected; topic was routed as %d (ignored is not refused)", rr);
    static struct reading r;
    enum json_reject why;
    enum decode_result dr = decode_message(&rt, fx->payload, fx->payload_len, NULL, &r, &why);
    if (dr == DECODE_OK || dr == DECODE_EMPTY)
        return report(fx, "reject expected; decoded as %s", decode_result_name(dr));
    return 0;
}

static int check_fixture(const struct fixture *fx)
{
    static const char *const known[] = {"metrics", "status",       "event",
                                        "reject",  "dropped_keys", "absent"};
    int bad = 0;
    for (void *it = json_object_iter(fx->expect); it; it = json_object_iter_next(fx->expect, it)) {
        const char *k = json_object_iter_key(it);
        size_t i = 0;
        while (i < ARRAY_SIZE(known) && strcmp(known[i], k) != 0)
            i++;
        if (i == ARRAY_SIZE(known))
            bad += report(fx, "unknown expectation \"%s\": teach test_decode.c", k);
    }
    if (config_format_parse(fx->format, strlen(fx->format)) < 0)
        bad += report(fx, "unknown format \"%s\"", fx->format);
    if (json_is_true(json_object_get(fx->expect, "reject")))
        return bad + check_reject(fx);

    struct route rt;
    enum route_result rr = topic_route(PREFIX, fx->topic, fx->topic_len, &rt);
    if (rr != ROUTE_OK)
        return bad + report(fx, "topic not routed (%d)", rr);
    if ((int)rt.format != config_format_parse(fx->format, strlen(fx->format)))
        bad += report(fx, "routed as %s", config_format_name(rt.format));
    static struct reading r;
    enum json_reject why;
    enum decode_result dr = decode_message(&rt, fx->payload, fx->payload_len, NULL, &r, &why);
    if (dr != DECODE_OK)
        return bad +
               report(fx, "decode: %s (json: %s)", decode_result_name(dr), json_reject_name(why));
    bad += check_invariants(fx, &r);

    json_t *status = json_object_get(fx->expect, "status");
    if (status && parse_status(json_string_value(status)) == AVAIL_UNKNOWN) {
        bad += report(fx, "expected status is neither online nor offline");
    } else if (status) {
        if (r.cls != MSG_STATUS || r.status != parse_status(json_string_value(status)))
            bad += report(fx, "status: class %d availability %d", r.cls, r.status);
    } else if (r.cls == MSG_STATUS) {
        bad += report(fx, "decoded as a status message but no status is expected");
    }
    json_t *event = json_object_get(fx->expect, "event");
    if (event && !json_is_string(event))
        bad += report(fx, "expected event is not a string");
    else if (event && (r.cls != MSG_EVENT || strcmp(r.event, json_string_value(event)) != 0))
        bad += report(fx, "event: class %d type \"%s\"", r.cls, r.event);

    json_t *metrics = json_object_get(fx->expect, "metrics");
    for (void *it = json_object_iter(metrics); it; it = json_object_iter_next(metrics, it))
        bad += check_metric(fx, &r, json_object_iter_key(it), json_object_iter_value(it));

    json_t *dropped = json_object_get(fx->expect, "dropped_keys");
    if (dropped && !json_is_integer(dropped))
        bad += report(fx, "expected dropped_keys is not an integer");
    else if (dropped && r.dropped_keys != (unsigned)json_integer_value(dropped))
        bad += report(fx, "dropped_keys %u, want %lld", r.dropped_keys,
                      (long long)json_integer_value(dropped));
    json_t *absent = json_object_get(fx->expect, "absent");
    for (size_t i = 0; i < json_array_size(absent); i++) {
        const char *name = json_string_value(json_array_get(absent, i));
        if (!name)
            bad += report(fx, "absent[%zu] is not a string", i);
        else if (reading_find(&r, name))
            bad += report(fx, "metric %s must be absent", name);
    }
    return bad;
}

static void test_every_fixture_line_decodes_as_its_expectation_says(void **state)
{
    (void)state;
    struct fixture_set set;
    fixtures_load(NULL, &set);
    assert_true(set.n >= 40); /* the fixture files were found and read */
    int bad = 0;
    for (size_t i = 0; i < set.n; i++)
        bad += check_fixture(&set.v[i]);
    fixtures_free(&set);
    assert_int_equal(bad, 0);
}

static void test_every_fixture_format_is_covered(void **state)
{
    (void)state;
    struct fixture_set set;
    fixtures_load(NULL, &set);
    bool seen[FORMAT_COUNT] = {false};
    for (size_t i = 0; i < set.n; i++) {
        int f = config_format_parse(set.v[i].format, strlen(set.v[i].format));
        assert_true(f >= 0);
        seen[f] = true;
    }
    fixtures_free(&set);
    for (int f = 0; f < FORMAT_COUNT; f++)
        assert_true(seen[f]);
}

/* A Tasmota plug's ENERGY.Voltage and ENERGY.Current, as the fixture
 * payloads carry them, land as voltage and current with the same values. */
static void test_tasmota_fixture_energy_voltage_and_current_land_under_standard_names(void **state)
{
    (void)state;
    struct fixture_set set;
    fixtures_load("tasmota.jsonl", &set);
    int seen = 0;
    for (size_t i = 0; i < set.n; i++) {
        const struct fixture *fx = &set.v[i];
        json_t *doc = json_loadb(fx->payload, fx->payload_len, 0, NULL);
        json_t *energy = json_object_get(doc, "ENERGY");
        json_t *volts = json_object_get(energy, "Voltage");
        json_t *amps = json_object_get(energy, "Current");
        if (!json_is_number(volts) || !json_is_number(amps)) {
            json_decref(doc);
            continue;
        }
        struct route rt;
        static struct reading r;
        enum json_reject why;
        assert_int_equal(topic_route(PREFIX, fx->topic, fx->topic_len, &rt), ROUTE_OK);
        assert_int_equal(decode_message(&rt, fx->payload, fx->payload_len, NULL, &r, &why),
                         DECODE_OK);
        const struct metric *v = reading_find(&r, "voltage");
        const struct metric *a = reading_find(&r, "current");
        assert_non_null(v);
        assert_non_null(a);
        assert_true(v->type == METRIC_NUMBER && v->v.num == json_number_value(volts));
        assert_true(a->type == METRIC_NUMBER && a->v.num == json_number_value(amps));
        assert_null(reading_find(&r, "ENERGY_Voltage"));
        assert_null(reading_find(&r, "ENERGY_Current"));
        json_decref(doc);
        seen++;
    }
    fixtures_free(&set);
    assert_true(seen > 0); /* the fixture has a plug reporting both */
}

/* ---- targeted cases ---------------------------------------------------- */

struct want {
    const char *key;
    enum metric_type type;
    double num;
    bool b;
    const char *str;
};

#define NUM(k, v)                                                                                  \
    {                                                                                              \
        k, METRIC_NUMBER, v, false, NULL                                                           \
    }
#define BOOL(k, v)                                                                                 \
    {                                                                                              \
        k, METRIC_BOOL, 0, v, NULL                                                                 \
    }
#define STR(k, v)                                                                                  \
    {                                                                                              \
        k, METRIC_STRING, 0, false, v                                                              \
    }

struct decode_case {
    const char *name;
    const char *topic;
    const char *payload;
    enum decode_result result;
    enum json_reject why;
    unsigned dropped;
    double ts;
    enum availability status;
    const char *event;
    struct want metrics[6];
    const char *absent[4];
    int n_metrics; /* -1: unchecked */
};

static const struct decode_case cases[] = {
    /* native telemetry */
    {.name = "native_ts_is_the_reading_time_not_a_metric",
     .topic = "hall/h1/env-1/telemetry",
     .payload = "{\"ts\":1764150000.25,\"temperature\":21}",
     .ts = 1764150000.25,
     .metrics = {NUM("temperature", 21)},
     .absent = {"ts"},
     .n_metrics = 1},
    {.name = "native_ts_in_milliseconds_is_dropped_and_counted",
     .topic = "hall/h1/env-1/telemetry",
     .payload = "{\"ts\":1764150000250,\"temperature\":21}",
     .dropped = 1,
     .metrics = {NUM("temperature", 21)},
     .absent = {"ts"},
     .n_metrics = 1},
    {.name = "native_ts_as_text_is_dropped_and_counted",
     .topic = "hall/h1/env-1/telemetry",
     .payload = "{\"ts\":\"2026-11-26T10:00:00Z\",\"temperature\":21}",
     .dropped = 1,
     .absent = {"ts"},
     .n_metrics = 1},
    {.name = "native_nested_object_is_flattened_with_underscore",
     .topic = "hall/h1/printer-1/telemetry",
     .payload = "{\"tray\":{\"paper\":{\"a4\":120}},\"door\":{\"open\":true}}",
     .metrics = {NUM("tray_paper_a4", 120), BOOL("door_open", true)},
     .n_metrics = 2},
    {.name = "native_null_value_is_dropped_and_counted",
     .topic = "hall/h1/env-1/telemetry",
     .payload = "{\"co2\":null,\"temperature\":21}",
     .dropped = 1,
     .metrics = {NUM("temperature", 21)},
     .absent = {"co2"},
     .n_metrics = 1},
    {.name = "native_array_is_dropped_and_counted",
     .topic = "hall/h1/env-1/telemetry",
     .payload = "{\"samples\":[1,2,3],\"temperature\":21}",
     .dropped = 1,
     .absent = {"samples"},
     .n_metrics = 1},
    {.name = "native_string_with_newline_is_dropped_and_counted",
     .topic = "hall/h1/printer-1/telemetry",
     .payload = "{\"fault\":\"jam\\ntray 2\",\"status\":\"jam\"}",
     .dropped = 1,
     .metrics = {STR("status", "jam")},
     .absent = {"fault"},
     .n_metrics = 1},
    {.name = "native_string_with_tab_is_dropped_and_counted",
     .topic = "hall/h1/printer-1/telemetry",
     .payload = "{\"fault\":\"jam\\ttray\",\"pages\":3}",
     .dropped = 1,
     .n_metrics = 1},
    {.name = "native_key_with_space_is_dropped_and_others_kept",
     .topic = "hall/h1/env-1/telemetry",
     .payload = "{\"air temp\":20,\"temperature\":21,\"co2\":700}",
     .dropped = 1,
     .metrics = {NUM("temperature", 21), NUM("co2", 700)},
     .n_metrics = 2},
    {.name = "native_utf8_string_value_is_kept",
     .topic = "hall/h1/printer-1/telemetry",
     .payload = "{\"fault\":\"\\u5361\\u7eb8 \xe5\x8d\xa1\"}",
     .metrics = {STR("fault", "\xe5\x8d\xa1\xe7\xba\xb8 \xe5\x8d\xa1")},
     .n_metrics = 1},
    {.name = "native_flattened_key_colliding_with_a_plain_key_is_dropped_not_merged",
     .topic = "hall/h1/env-1/telemetry",
     .payload = "{\"a_b\":1,\"a\":{\"b\":2}}",
     .dropped = 1,
     .metrics = {NUM("a_b", 1)},
     .n_metrics = 1},
    {.name = "native_integer_beyond_int64_is_a_number",
     .topic = "hall/h1/queue/telemetry",
     .payload = "{\"served_total\":123456789012345678901234567890}",
     .metrics = {NUM("served_total", 123456789012345678901234567890.0)},
     .n_metrics = 1},
    {.name = "native_empty_object_is_empty",
     .topic = "hall/h1/env-1/telemetry",
     .payload = "{}",
     .result = DECODE_EMPTY,
     .n_metrics = 0},
    {.name = "native_only_refused_keys_is_empty_with_the_drops_counted",
     .topic = "hall/h1/env-1/telemetry",
     .payload = "{\"a\":null,\"b c\":1}",
     .result = DECODE_EMPTY,
     .dropped = 2,
     .n_metrics = 0},
    /* native JSON refusals */
    {.name = "native_nan_is_a_syntax_error",
     .topic = "hall/h1/env-1/telemetry",
     .payload = "{\"temperature\":NaN}",
     .result = DECODE_BAD_JSON,
     .why = JSON_SYNTAX,
     .n_metrics = -1},
    {.name = "native_overflowing_number_is_non_finite",
     .topic = "hall/h1/env-1/telemetry",
     .payload = "{\"temperature\":-1e999}",
     .result = DECODE_BAD_JSON,
     .why = JSON_NON_FINITE,
     .n_metrics = -1},
    {.name = "native_escaped_nul_in_a_value_is_refused",
     .topic = "hall/h1/env-1/telemetry",
     .payload = "{\"status\":\"ok\\u0000evil\"}",
     .result = DECODE_BAD_JSON,
     .why = JSON_NUL,
     .n_metrics = -1},
    {.name = "native_escaped_nul_in_a_key_is_refused",
     .topic = "hall/h1/env-1/telemetry",
     .payload = "{\"temp\\u0000erature\":21}",
     .result = DECODE_BAD_JSON,
     .why = JSON_NUL,
     .n_metrics = -1},
    {.name = "native_duplicate_keys_are_a_syntax_error",
     .topic = "hall/h1/env-1/telemetry",
     .payload = "{\"temperature\":21,\"temperature\":99}",
     .result = DECODE_BAD_JSON,
     .why = JSON_SYNTAX,
     .n_metrics = -1},
    {.name = "native_top_level_array_is_not_an_object",
     .topic = "hall/h1/env-1/telemetry",
     .payload = "[{\"temperature\":21}]",
     .result = DECODE_BAD_JSON,
     .why = JSON_NOT_OBJECT,
     .n_metrics = -1},
    {.name = "native_nesting_past_the_depth_cap_is_too_deep",
     .topic = "hall/h1/env-1/telemetry",
     .payload = "{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":1}}}}}}}}}",
     .result = DECODE_BAD_JSON,
     .why = JSON_TOO_DEEP,
     .n_metrics = -1},
    {.name = "native_nesting_at_the_depth_cap_is_flattened",
     .topic = "hall/h1/env-1/telemetry",
     .payload = "{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":1}}}}}}}}",
     .metrics = {NUM("a_a_a_a_a_a_a_a", 1)},
     .n_metrics = 1},
    {.name = "native_overlong_utf8_is_refused",
     .topic = "hall/h1/env-1/telemetry",
     .payload = "{\"note\":\"\xc0\xaf\"}",
     .result = DECODE_BAD_JSON,
     .why = JSON_BAD_UTF8,
     .n_metrics = -1},
    /* native status, events, replies */
    {.name = "native_status_online",
     .topic = "hall/h1/pc-w01/status",
     .payload = "online",
     .status = AVAIL_ONLINE,
     .n_metrics = 0},
    {.name = "native_status_with_a_trailing_newline_is_bad_status",
     .topic = "hall/h1/pc-w01/status",
     .payload = "online\n",
     .result = DECODE_BAD_STATUS,
     .n_metrics = -1},
    {.name = "native_status_as_json_string_is_bad_status",
     .topic = "hall/h1/pc-w01/status",
     .payload = "\"offline\"",
     .result = DECODE_BAD_STATUS,
     .n_metrics = -1},
    {.name = "native_status_in_capitals_is_bad_status",
     .topic = "hall/h1/pc-w01/status",
     .payload = "ONLINE",
     .result = DECODE_BAD_STATUS,
     .n_metrics = -1},
    {.name = "native_event_fields_become_metrics_and_type_does_not",
     .topic = "hall/h1/pc-w01/event",
     .payload = "{\"type\":\"scan_finished\",\"ts\":1764150000,\"threats\":2,\"kind\":\"full\"}",
     .event = "scan_finished",
     .ts = 1764150000,
     .metrics = {NUM("threats", 2), STR("kind", "full")},
     .absent = {"type", "ts"},
     .n_metrics = 2},
    {.name = "native_event_nested_fields_are_flattened",
     .topic = "hall/h1/pc-w01/event",
     .payload =
         "{\"type\":\"netcfg_changed\",\"old\":{\"fp\":\"3f1c9a\"},\"new\":{\"fp\":\"77aa01\"}}",
     .event = "netcfg_changed",
     .metrics = {STR("old_fp", "3f1c9a"), STR("new_fp", "77aa01")},
     .n_metrics = 2},
    {.name = "native_event_without_type_is_bad_event",
     .topic = "hall/h1/pc-w01/event",
     .payload = "{\"signature\":\"Eicar\"}",
     .result = DECODE_BAD_EVENT,
     .n_metrics = -1},
    {.name = "native_event_type_with_a_space_is_bad_event",
     .topic = "hall/h1/pc-w01/event",
     .payload = "{\"type\":\"threat detected\"}",
     .result = DECODE_BAD_EVENT,
     .n_metrics = -1},
    {.name = "native_event_type_that_is_a_number_is_bad_event",
     .topic = "hall/h1/pc-w01/event",
     .payload = "{\"type\":7}",
     .result = DECODE_BAD_EVENT,
     .n_metrics = -1},
    {.name = "native_reply_id_result_and_detail_are_metrics",
     .topic = "hall/h1/pc-w01/cmd/reply",
     .payload = "{\"id\":\"c-17\",\"result\":\"done\",\"detail\":\"powered off in 12 s\"}",
     .metrics = {STR("id", "c-17"), STR("result", "done"), STR("detail", "powered off in 12 s")},
     .n_metrics = 3},
    {.name = "native_reply_with_numeric_id_is_accepted",
     .topic = "hall/h1/pc-w01/cmd/reply",
     .payload = "{\"id\":17,\"result\":\"refused\"}",
     .metrics = {NUM("id", 17), STR("result", "refused")},
     .n_metrics = 2},
    {.name = "native_reply_with_unknown_result_is_bad_value",
     .topic = "hall/h1/pc-w01/cmd/reply",
     .payload = "{\"id\":\"c-17\",\"result\":\"maybe\"}",
     .result = DECODE_BAD_VALUE,
     .n_metrics = -1},
    {.name = "native_reply_without_id_is_bad_value",
     .topic = "hall/h1/pc-w01/cmd/reply",
     .payload = "{\"result\":\"done\"}",
     .result = DECODE_BAD_VALUE,
     .n_metrics = -1},

    /* Zigbee2MQTT */
    {.name = "z2m_state_other_than_on_off_is_dropped_and_counted",
     .topic = "zigbee2mqtt/plug_printer",
     .payload = "{\"state\":\"TOGGLE\",\"linkquality\":10}",
     .dropped = 1,
     .metrics = {NUM("linkquality", 10)},
     .absent = {"on", "state"},
     .n_metrics = 1},
    {.name = "z2m_illuminance_lux_wins_and_raw_illuminance_is_kept_as_illuminance_raw",
     .topic = "zigbee2mqtt/seat_w01",
     .payload = "{\"illuminance\":21000,\"illuminance_lux\":126}",
     .metrics = {NUM("illuminance", 126), NUM("illuminance_raw", 21000)},
     .absent = {"illuminance_lux"},
     .n_metrics = 2},
    {.name = "z2m_string_keys_are_ignored_and_not_counted",
     .topic = "zigbee2mqtt/fp1_w02",
     .payload = "{\"presence\":true,\"presence_event\":\"enter\",\"update\":{\"state\":\"idle\"}}",
     .metrics = {BOOL("presence", true)},
     .absent = {"presence_event", "update_state"},
     .n_metrics = 1},
    {.name = "z2m_null_named_value_is_ignored_and_not_counted",
     .topic = "zigbee2mqtt/air_1",
     .payload = "{\"temperature\":null,\"humidity\":40}",
     .metrics = {NUM("humidity", 40)},
     .absent = {"temperature"},
     .n_metrics = 1},
    {.name = "z2m_occupancy_of_the_wrong_type_is_counted",
     .topic = "zigbee2mqtt/seat_w01",
     .payload = "{\"occupancy\":\"yes\"}",
     .result = DECODE_EMPTY,
     .dropped = 1,
     .absent = {"presence", "occupancy"},
     .n_metrics = 0},
    {.name = "z2m_unnamed_numbers_and_booleans_pass_through_flattened",
     .topic = "zigbee2mqtt/leak_1",
     .payload = "{\"voc\":120,\"water_leak\":false,\"color\":{\"x\":0.25}}",
     .metrics = {NUM("voc", 120), BOOL("water_leak", false), NUM("color_x", 0.25)},
     .n_metrics = 3},
    {.name = "z2m_multi_gang_states_map_to_suffixed_on",
     .topic = "zigbee2mqtt/switch_2gang",
     .payload = "{\"state_l1\":\"ON\",\"state_l2\":\"OFF\"}",
     .metrics = {BOOL("on_l1", true), BOOL("on_l2", false)},
     .n_metrics = 2},
    {.name = "z2m_occupancy_and_presence_give_one_presence_the_first",
     .topic = "zigbee2mqtt/seat_w01",
     .payload = "{\"occupancy\":true,\"presence\":false}",
     .metrics = {BOOL("presence", true)},
     .n_metrics = 1},
    {.name = "z2m_availability_json_offline",
     .topic = "zigbee2mqtt/1F/hall/air_1/availability",
     .payload = "{\"state\":\"offline\"}",
     .status = AVAIL_OFFLINE,
     .n_metrics = 0},
    {.name = "z2m_availability_other_word_is_bad_status",
     .topic = "zigbee2mqtt/seat_w01/availability",
     .payload = "maybe",
     .result = DECODE_BAD_STATUS,
     .n_metrics = -1},
    {.name = "z2m_availability_json_without_state_is_bad_status",
     .topic = "zigbee2mqtt/seat_w01/availability",
     .payload = "{\"status\":\"online\"}",
     .result = DECODE_BAD_STATUS,
     .n_metrics = -1},
    {.name = "z2m_non_json_state_is_bad_json",
     .topic = "zigbee2mqtt/seat_w01",
     .payload = "ON",
     .result = DECODE_BAD_JSON,
     .why = JSON_SYNTAX,
     .n_metrics = -1},

    /* Tasmota */
    {.name = "tasmota_scd40_maps_carbon_dioxide_to_co2_not_eco2",
     .topic = "tele/air_1/SENSOR",
     .payload = "{\"SCD40\":{\"eCO2\":623,\"CarbonDioxide\":618}}",
     .metrics = {NUM("co2", 618), NUM("SCD40_eCO2", 623)},
     .absent = {"SCD40_CarbonDioxide"},
     .n_metrics = 2},
    {.name = "tasmota_esp32_chip_temperature_is_not_the_room_temperature",
     .topic = "tele/air_1/SENSOR",
     .payload = "{\"ESP32\":{\"Temperature\":45.1},\"BME280\":{\"Temperature\":22.5,"
                "\"Pressure\":1003.2}}",
     .metrics = {NUM("temperature", 22.5), NUM("ESP32_Temperature", 45.1), NUM("pressure", 1003.2)},
     .n_metrics = 3},
    {.name = "tasmota_second_thermometer_keeps_its_own_name",
     .topic = "tele/air_1/SENSOR",
     .payload = "{\"SCD40\":{\"Temperature\":23.8},\"DS18B20\":{\"Temperature\":22.5}}",
     .metrics = {NUM("temperature", 23.8), NUM("DS18B20_Temperature", 22.5)},
     .n_metrics = 2},
    {.name = "tasmota_fahrenheit_temperature_is_converted_to_celsius",
     .topic = "tele/air_1/SENSOR",
     .payload = "{\"AM2301\":{\"Temperature\":77.0,\"Humidity\":40},\"TempUnit\":\"F\"}",
     .metrics = {NUM("temperature", 25.0), NUM("humidity", 40)},
     .n_metrics = 2},
    {.name = "tasmota_pm2_5_maps_to_pm25_and_pm10_passes_through",
     .topic = "tele/pm_1/SENSOR",
     .payload = "{\"PMS5003\":{\"PM1\":5,\"PM2.5\":12,\"PM10\":15}}",
     .metrics = {NUM("pm25", 12), NUM("PMS5003_PM10", 15), NUM("PMS5003_PM1", 5)},
     .n_metrics = 3},
    {.name = "tasmota_bh1750_illuminance_maps_to_illuminance",
     .topic = "tele/lux_1/SENSOR",
     .payload = "{\"BH1750\":{\"Illuminance\":412}}",
     .metrics = {NUM("illuminance", 412)},
     .n_metrics = 1},
    {.name = "tasmota_energy_other_fields_pass_through_flattened",
     .topic = "tele/plug_w01/SENSOR",
     .payload = "{\"ENERGY\":{\"Power\":41,\"Factor\":0.71,\"TotalStartTime\":\"2026-01-01\"}}",
     .metrics = {NUM("power_w", 41), NUM("ENERGY_Factor", 0.71)},
     .absent = {"ENERGY_TotalStartTime", "ENERGY_Power"},
     .n_metrics = 2},
    {.name = "tasmota_energy_voltage_and_current_map_to_voltage_and_current",
     .topic = "tele/plug_w01/SENSOR",
     .payload = "{\"ENERGY\":{\"Voltage\":229,\"Current\":0.252}}",
     .metrics = {NUM("voltage", 229), NUM("current", 0.252)},
     .absent = {"ENERGY_Voltage", "ENERGY_Current"},
     .n_metrics = 2},
    {.name = "tasmota_sensor_with_only_text_is_empty",
     .topic = "tele/air_1/SENSOR",
     .payload = "{\"Time\":\"2026-11-26T10:04:27\",\"TempUnit\":\"C\"}",
     .result = DECODE_EMPTY,
     .n_metrics = 0},
    {.name = "tasmota_state_without_power_gives_its_health_numbers",
     .topic = "tele/plug_w01/STATE",
     .payload = "{\"Time\":\"2026-11-26T17:45:00\",\"UptimeSec\":266,\"Wifi\":{\"RSSI\":62}}",
     .metrics = {NUM("uptime_s", 266), NUM("wifi_rssi", 62)},
     .n_metrics = 2},
    {.name = "tasmota_state_with_only_housekeeping_is_empty",
     .topic = "tele/plug_w01/STATE",
     .payload = "{\"Time\":\"2026-11-26T17:45:00\",\"Heap\":24,\"Wifi\":{\"Channel\":3}}",
     .result = DECODE_EMPTY,
     .n_metrics = 0},
    {.name = "tasmota_power1_maps_to_on",
     .topic = "stat/plug_w01/POWER1",
     .payload = "ON",
     .metrics = {BOOL("on", true)},
     .n_metrics = 1},
    {.name = "tasmota_power2_maps_to_on_2",
     .topic = "stat/strip_1/POWER2",
     .payload = "OFF",
     .metrics = {BOOL("on_2", false)},
     .n_metrics = 1},
    {.name = "tasmota_result_with_two_relays_maps_both",
     .topic = "stat/strip_1/RESULT",
     .payload = "{\"POWER1\":\"ON\",\"POWER2\":\"OFF\"}",
     .metrics = {BOOL("on", true), BOOL("on_2", false)},
     .n_metrics = 2},
    {.name = "tasmota_result_without_power_is_empty",
     .topic = "stat/plug_w01/RESULT",
     .payload = "{\"Dimmer\":50}",
     .result = DECODE_EMPTY,
     .n_metrics = 0},
    {.name = "tasmota_power_other_than_on_off_is_bad_value",
     .topic = "stat/plug_w01/POWER",
     .payload = "1",
     .result = DECODE_BAD_VALUE,
     .n_metrics = -1},
    {.name = "tasmota_lwt_in_lower_case_is_bad_status",
     .topic = "tele/plug_w01/LWT",
     .payload = "online",
     .result = DECODE_BAD_STATUS,
     .n_metrics = -1},

    /* Shelly Gen2 */
    {.name = "shelly_aenergy_total_in_wh_becomes_energy_kwh",
     .topic = "shellyplusplugs-a8032ab1/events/rpc",
     .payload = "{\"method\":\"NotifyStatus\",\"params\":{\"ts\":1764150100.01,"
                "\"switch:0\":{\"aenergy\":{\"total\":1520.4}}}}",
     .ts = 1764150100.01,
     .metrics = {NUM("energy_kwh", 1520.4 / 1000.0)},
     .absent = {"switch:0_aenergy_total"},
     .n_metrics = 1},
    {.name = "shelly_switch_voltage_passes_through_under_its_component",
     .topic = "shellyplusplugs-a8032ab1/events/rpc",
     .payload = "{\"method\":\"NotifyStatus\",\"params\":{\"switch:0\":{\"id\":0,"
                "\"voltage\":229.1,\"temperature\":{\"tC\":41.5}}}}",
     .metrics = {NUM("switch:0_voltage", 229.1), NUM("switch:0_temperature_tC", 41.5)},
     .absent = {"temperature", "switch:0_id", "voltage"},
     .n_metrics = 2},
    {.name = "shelly_second_switch_maps_to_suffixed_names",
     .topic = "shellypro2-c8f09e8a/events/rpc",
     .payload = "{\"method\":\"NotifyStatus\",\"params\":{\"switch:1\":{\"output\":true,"
                "\"apower\":5.5}}}",
     .metrics = {BOOL("on_1", true), NUM("power_w_1", 5.5)},
     .absent = {"on", "power_w"},
     .n_metrics = 2},
    {.name = "shelly_full_status_ignores_other_components",
     .topic = "shellyplusplugs-a8032ab1/events/rpc",
     .payload = "{\"method\":\"NotifyFullStatus\",\"params\":{\"sys\":{\"uptime\":99},"
                "\"wifi\":{\"rssi\":-60},\"switch:0\":{\"output\":true}}}",
     .metrics = {BOOL("on", true)},
     .absent = {"sys_uptime", "params_sys_uptime", "wifi_rssi"},
     .n_metrics = 1},
    {.name = "shelly_output_of_the_wrong_type_is_counted",
     .topic = "shellyplusplugs-a8032ab1/events/rpc",
     .payload = "{\"method\":\"NotifyStatus\",\"params\":{\"switch:0\":{\"output\":\"on\","
                "\"apower\":3}}}",
     .dropped = 1,
     .metrics = {NUM("power_w", 3)},
     .absent = {"on"},
     .n_metrics = 1},
    {.name = "shelly_notify_event_is_empty",
     .topic = "shellyplusplugs-a8032ab1/events/rpc",
     .payload = "{\"method\":\"NotifyEvent\",\"params\":{\"ts\":1764150000,\"events\":"
                "[{\"component\":\"input:0\",\"event\":\"single_push\"}]}}",
     .result = DECODE_EMPTY,
     .n_metrics = 0},
    {.name = "shelly_rpc_without_method_is_bad_value",
     .topic = "shellyplusplugs-a8032ab1/events/rpc",
     .payload = "{\"params\":{\"switch:0\":{\"output\":true}}}",
     .result = DECODE_BAD_VALUE,
     .n_metrics = -1},
    {.name = "shelly_status_topic_of_a_second_switch_maps_like_rpc",
     .topic = "shellypro2-c8f09e8a/status/switch:1",
     .payload = "{\"id\":1,\"output\":false,\"apower\":0,\"aenergy\":{\"total\":2000}}",
     .metrics = {BOOL("on_1", false), NUM("power_w_1", 0), NUM("energy_kwh_1", 2)},
     .absent = {"switch:1_id"},
     .n_metrics = 3},
    {.name = "shelly_online_other_word_is_bad_status",
     .topic = "shellyplusplugs-a8032ab1/online",
     .payload = "1",
     .result = DECODE_BAD_STATUS,
     .n_metrics = -1},

    /* Shelly Gen1: one plain value per topic */
    {.name = "gen1_relay_energy_in_watt_minutes_becomes_kwh",
     .topic = "shellies/shellyplug-s-7C87CE/relay/0/energy",
     .payload = "6000",
     .metrics = {NUM("energy_kwh", 0.1)},
     .n_metrics = 1},
    {.name = "gen1_emeter_total_in_wh_becomes_kwh",
     .topic = "shellies/shellyem-B9F1A3/emeter/1/total",
     .payload = "1500",
     .metrics = {NUM("total_kwh_1", 1.5)},
     .n_metrics = 1},
    {.name = "gen1_overpower_is_off_and_overpower_on_the_second_relay",
     .topic = "shellies/shellyswitch25-C45BBE6B2E/relay/1",
     .payload = "overpower",
     .metrics = {BOOL("on_1", false), BOOL("overpower_1", true)},
     .n_metrics = 2},
    {.name = "gen1_relay_off_is_not_overpower",
     .topic = "shellies/shellyplug-s-7C87CE/relay/0",
     .payload = "off",
     .metrics = {BOOL("on", false)},
     .absent = {"overpower"},
     .n_metrics = 1},
    {.name = "gen1_number_with_space_is_bad_value",
     .topic = "shellies/shellyplug-s-7C87CE/relay/0/power",
     .payload = "12.5 ",
     .result = DECODE_BAD_VALUE,
     .n_metrics = -1},
    {.name = "gen1_number_in_json_syntax_only",
     .topic = "shellies/shellyplug-s-7C87CE/relay/0/power",
     .payload = "0x10",
     .result = DECODE_BAD_VALUE,
     .n_metrics = -1},
    {.name = "gen1_relay_state_in_upper_case_is_bad_value",
     .topic = "shellies/shellyplug-s-7C87CE/relay/0",
     .payload = "ON",
     .result = DECODE_BAD_VALUE,
     .n_metrics = -1},
    {.name = "gen1_flood_other_word_is_bad_value",
     .topic = "shellies/shellyflood-3C6105/sensor/flood",
     .payload = "1",
     .result = DECODE_BAD_VALUE,
     .n_metrics = -1},
    {.name = "gen1_ext_temperatures_string_tc_is_counted",
     .topic = "shellies/shelly1-98CDAC1F03/ext_temperatures",
     .payload = "{\"0\":{\"tC\":\"19.5\"},\"1\":{\"tC\":20.5}}",
     .dropped = 1,
     .metrics = {NUM("ext_temperature_1", 20.5)},
     .absent = {"ext_temperature_0"},
     .n_metrics = 1},
    {.name = "gen1_ext_temperatures_not_json_is_bad_json",
     .topic = "shellies/shelly1-98CDAC1F03/ext_temperatures",
     .payload = "19.5",
     .result = DECODE_BAD_JSON,
     .why = JSON_NOT_OBJECT,
     .n_metrics = -1},
    {.name = "gen1_online_other_word_is_bad_status",
     .topic = "shellies/shellyplug-s-7C87CE/online",
     .payload = "1",
     .result = DECODE_BAD_STATUS,
     .n_metrics = -1},
};

static void run_case(void **state)
{
    const struct decode_case *c = *state;
    struct route rt;
    static struct reading r;
    assert_int_equal(topic_route(PREFIX, c->topic, strlen(c->topic), &rt), ROUTE_OK);
    enum json_reject why = JSON_REJECT_COUNT;
    enum decode_result dr = decode_message(&rt, c->payload, strlen(c->payload), NULL, &r, &why);
    assert_string_equal(decode_result_name(dr), decode_result_name(c->result));
    assert_string_equal(json_reject_name(why), json_reject_name(c->why));
    if (c->result != DECODE_OK && c->result != DECODE_EMPTY)
        return;
    assert_int_equal(r.cls, rt.cls);
    assert_int_equal(r.dropped_keys, c->dropped);
    assert_true(r.ts == c->ts);
    assert_int_equal(r.status, c->status);
    assert_string_equal(r.event, c->event ? c->event : "");
    if (c->n_metrics >= 0)
        assert_int_equal(r.n_metrics, c->n_metrics);
    for (size_t i = 0; i < ARRAY_SIZE(c->metrics) && c->metrics[i].key; i++) {
        const struct want *w = &c->metrics[i];
        const struct metric *m = reading_find(&r, w->key);
        if (!m)
            fail_msg("metric %s missing", w->key);
        assert_int_equal(m->type, w->type);
        if (w->type == METRIC_NUMBER && m->v.num != w->num)
            fail_msg("metric %s = %.17g, want %.17g", w->key, m->v.num, w->num);
        if (w->type == METRIC_BOOL)
            assert_int_equal(m->v.b, w->b);
        if (w->type == METRIC_STRING)
            assert_string_equal(m->v.str, w->str);
    }
    for (size_t i = 0; i < ARRAY_SIZE(c->absent) && c->absent[i]; i++) {
        if (reading_find(&r, c->absent[i]))
            fail_msg("metric %s must be absent", c->absent[i]);
    }
}

/* ---- limits, generated payloads --------------------------------------- */

static enum decode_result decode_native_text(const char *topic, const char *payload,
                                             const struct json_limits *lim, struct reading *r,
                                             enum json_reject *why)
{
    struct route rt;
    assert_int_equal(topic_route(PREFIX, topic, strlen(topic), &rt), ROUTE_OK);
    return decode_message(&rt, payload, strlen(payload), lim, r, why);
}

static void test_native_string_of_256_bytes_is_kept_and_257_is_dropped(void **state)
{
    (void)state;
    static struct reading r;
    char payload[600];
    char value[READING_STRING_MAX + 2];
    memset(value, 'x', sizeof(value) - 1);
    value[READING_STRING_MAX + 1] = '\0';
    snprintf(payload, sizeof(payload), "{\"long\":\"%s\",\"ok\":\"%.*s\"}", value,
             READING_STRING_MAX, value);
    assert_int_equal(decode_native_text("hall/h1/printer-1/telemetry", payload, NULL, &r, NULL),
                     DECODE_OK);
    assert_int_equal(r.dropped_keys, 1);
    assert_null(reading_find(&r, "long"));
    assert_int_equal(strlen(reading_find(&r, "ok")->v.str), READING_STRING_MAX);
}

static void test_native_key_of_64_bytes_is_kept_and_65_is_dropped(void **state)
{
    (void)state;
    static struct reading r;
    char k64[READING_KEY_MAX + 1], k65[READING_KEY_MAX + 2], payload[300];
    memset(k64, 'k', READING_KEY_MAX);
    k64[READING_KEY_MAX] = '\0';
    memset(k65, 'k', READING_KEY_MAX + 1);
    k65[READING_KEY_MAX + 1] = '\0';
    snprintf(payload, sizeof(payload), "{\"%s\":1,\"%s\":2}", k64, k65);
    assert_int_equal(decode_native_text("hall/h1/env-1/telemetry", payload, NULL, &r, NULL),
                     DECODE_OK);
    assert_int_equal(r.dropped_keys, 1);
    assert_int_equal(r.n_metrics, 1);
    assert_true(reading_find(&r, k64)->v.num == 1);
}

static void test_native_more_than_64_metrics_keeps_64_and_counts_the_rest(void **state)
{
    (void)state;
    static struct reading r;
    char payload[4096];
    size_t n = 0;
    payload[n++] = '{';
    for (int i = 0; i < READING_MAX_METRICS + 6; i++)
        n += (size_t)snprintf(payload + n, sizeof(payload) - n, "%s\"m%d\":%d", i ? "," : "", i, i);
    snprintf(payload + n, sizeof(payload) - n, "}");
    assert_int_equal(decode_native_text("hall/h1/env-1/telemetry", payload, NULL, &r, NULL),
                     DECODE_OK);
    assert_int_equal(r.n_metrics, READING_MAX_METRICS);
    assert_int_equal(r.dropped_keys, 6);
    assert_non_null(reading_find(&r, "m0"));
    assert_null(reading_find(&r, "m64"));
}

static void test_payload_over_the_size_cap_is_too_large(void **state)
{
    (void)state;
    static struct reading r;
    struct json_limits lim = {.max_bytes = 20, .max_depth = 8, .max_fields = 256};
    enum json_reject why;
    assert_int_equal(
        decode_native_text("hall/h1/env-1/telemetry", "{\"temperature\":21.25}", &lim, &r, &why),
        DECODE_BAD_JSON);
    assert_int_equal(why, JSON_TOO_LARGE);
    assert_int_equal(
        decode_native_text("hall/h1/env-1/telemetry", "{\"temperature\":21.2}", &lim, &r, &why),
        DECODE_OK);
    assert_int_equal(why, JSON_OK);
}

static void test_payload_with_too_many_fields_is_refused(void **state)
{
    (void)state;
    static struct reading r;
    struct json_limits lim = {.max_bytes = 1024, .max_depth = 8, .max_fields = 2};
    enum json_reject why;
    assert_int_equal(
        decode_native_text("hall/h1/env-1/telemetry", "{\"a\":1,\"b\":2,\"c\":3}", &lim, &r, &why),
        DECODE_BAD_JSON);
    assert_int_equal(why, JSON_TOO_MANY);
}

static void test_reading_is_reset_between_messages(void **state)
{
    (void)state;
    static struct reading r;
    assert_int_equal(decode_native_text("hall/h1/pc-w01/event",
                                        "{\"type\":\"shutdown\",\"ts\":1764150000,\"x\":null}",
                                        NULL, &r, NULL),
                     DECODE_OK);
    assert_int_equal(r.dropped_keys, 1);
    assert_int_equal(decode_native_text("hall/h1/pc-w01/status", "offline", NULL, &r, NULL),
                     DECODE_OK);
    assert_int_equal(r.cls, MSG_STATUS);
    assert_int_equal(r.status, AVAIL_OFFLINE);
    assert_int_equal(r.dropped_keys, 0);
    assert_int_equal(r.n_metrics, 0);
    assert_true(r.ts == 0);
    assert_string_equal(r.event, "");
}

static void test_decode_result_names_are_distinct(void **state)
{
    (void)state;
    const enum decode_result all[] = {DECODE_OK,         DECODE_EMPTY,     DECODE_BAD_JSON,
                                      DECODE_BAD_STATUS, DECODE_BAD_EVENT, DECODE_BAD_VALUE};
    for (size_t i = 0; i < ARRAY_SIZE(all); i++) {
        assert_string_not_equal(decode_result_name(all[i]), "unknown");
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(decode_result_name(all[i]), decode_result_name(all[j]));
    }
    assert_string_equal(decode_result_name(DECODE_BAD_JSON), "bad_json");
}

int main(void)
{
    static const struct CMUnitTest fixed[] = {
        cmocka_unit_test(test_every_fixture_line_decodes_as_its_expectation_says),
        cmocka_unit_test(test_every_fixture_format_is_covered),
        cmocka_unit_test(test_tasmota_fixture_energy_voltage_and_current_land_under_standard_names),
        cmocka_unit_test(test_native_string_of_256_bytes_is_kept_and_257_is_dropped),
        cmocka_unit_test(test_native_key_of_64_bytes_is_kept_and_65_is_dropped),
        cmocka_unit_test(test_native_more_than_64_metrics_keeps_64_and_counts_the_rest),
        cmocka_unit_test(test_payload_over_the_size_cap_is_too_large),
        cmocka_unit_test(test_payload_with_too_many_fields_is_refused),
        cmocka_unit_test(test_reading_is_reset_between_messages),
        cmocka_unit_test(test_decode_result_names_are_distinct),
    };
    static struct CMUnitTest tests[ARRAY_SIZE(fixed) + ARRAY_SIZE(cases)];
    size_t n = 0;
    for (size_t i = 0; i < ARRAY_SIZE(fixed); i++)
        tests[n++] = fixed[i];
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        tests[n].name = cases[i].name;
        tests[n].test_func = run_case;
        tests[n].initial_state = (void *)&cases[i];
        n++;
    }
    return _cmocka_run_group_tests("decode", tests, n, NULL, NULL);
}
