/* Topic layouts as sites configure them: Zigbee2MQTT on several base topics
 * (friendly names with spaces and '/', attribute outputs, bridge/state),
 * Tasmota FullTopic patterns and prefixes. Routing, decoding, the config's
 * checks, and the nightly plug commands on each device's own layout. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "decode.h"
#include "bridges.h"
#include "enforce_plan.h"
#include "rules.h"
#include "testconf.h"
#include "topic.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const char *const site_text =
    "mqtt = { uri = \"tcp://127.0.0.1:1883\"; command_key_file = "
    "\"%s/config/secrets/command.key\"; "
    "};\n"
    "schedule = { poweroff_at = \"17:30\"; };\n"
    "sources = {\n"
    "  zigbee2mqtt = { base_topics = [\"zigbee2mqtt\", \"zigbee\"]; };\n"
    "  tasmota = { full_topics = [\"tasmota/%%topic%%/%%prefix%%\", \"%%prefix%%/%%topic%%/\"];\n"
    "              prefixes = { cmnd = \"cmnd\"; stat = \"stat\"; tele = \"tele\"; }; };\n"
    "};\n"
    "halls = ( { id = \"h1\"; windows = ( { id = \"w1\"; plug = \"plug-z\"; },\n"
    "                                    { id = \"w2\"; plug = \"plug-t\"; } ); } );\n"
    "devices = (\n"
    "  { id = \"seat-1\"; hall = \"h1\"; kind = \"seat\"; source = "
    "\"zigbee2mqtt:zigbee2mqtt/1F/seat "
    "1\"; },\n"
    "  { id = \"garden\"; hall = \"h1\"; kind = \"env\"; source = \"zigbee2mqtt:zigbee/ garden "
    "light\"; },\n"
    "  { id = \"floor\"; hall = \"h1\"; kind = \"env\"; source = \"zigbee2mqtt:zigbee/2F\"; },\n"
    "  { id = \"air-2f\"; hall = \"h1\"; kind = \"env\"; source = \"zigbee2mqtt:zigbee/2F/air\"; "
    "},\n"
    "  { id = \"plug-z\"; hall = \"h1\"; kind = \"plug\"; source = \"zigbee2mqtt:zigbee/plug 1\"; "
    "},\n"
    "  { id = \"plug-t\"; hall = \"h1\"; kind = \"plug\"; source = \"tasmota:plug.lobby\"; } );\n"
    "poweroff = { plug_delay = \"0s\"; };\n";

static struct config *load_site(void)
{
    char text[8192];
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    (void)snprintf(text, sizeof(text), site_text, HALLGW_TEST_DATA_DIR);
#pragma GCC diagnostic pop
    return testconf_load(text);
}

/* The errors of loading text (which must fail), one per line as
 * "LINE: key: message". */
static void load_errors(const char *text, char *out, size_t size)
{
    struct config *c = NULL;
    struct conf_errors e;
    assert_int_not_equal(testconf_load_text(text, &c, &e), 0);
    out[0] = '\0';
    for (size_t i = 0; i < e.n; i++)
        (void)snprintf(out + strlen(out), size - strlen(out), "%d: %s: %s\n", e.v[i].line,
                       e.v[i].key, e.v[i].msg);
    conf_errors_free(&e);
}

/* ---- routing ---- */

struct layout_case {
    const char *topic;
    enum route_result result;
    enum source_format format;
    enum msg_class cls;
    const char *name, *sub;
};

static void test_routes_follow_the_configured_layouts(void **state)
{
    (void)state;
    static const struct layout_case cases[] = {
        /* two bases: route.name carries the base */
        {"zigbee2mqtt/1F/seat 1", ROUTE_OK, FORMAT_ZIGBEE2MQTT, MSG_TELEMETRY,
         "zigbee2mqtt/1F/seat 1", ""},
        {"zigbee/ garden light", ROUTE_OK, FORMAT_ZIGBEE2MQTT, MSG_TELEMETRY,
         "zigbee/ garden light", ""},
        {"zigbee/ garden light/availability", ROUTE_OK, FORMAT_ZIGBEE2MQTT, MSG_STATUS,
         "zigbee/ garden light", "availability"},
        /* attribute output of a bound name */
        {"zigbee2mqtt/1F/seat 1/occupancy", ROUTE_OK, FORMAT_ZIGBEE2MQTT, MSG_TELEMETRY,
         "zigbee2mqtt/1F/seat 1", "attr/occupancy"},
        {"zigbee/ garden light/temperature", ROUTE_OK, FORMAT_ZIGBEE2MQTT, MSG_TELEMETRY,
         "zigbee/ garden light", "attr/temperature"},
        /* a bound name wins over the attribute of its parent */
        {"zigbee/2F/air", ROUTE_OK, FORMAT_ZIGBEE2MQTT, MSG_TELEMETRY, "zigbee/2F/air", ""},
        {"zigbee/2F/humidity", ROUTE_OK, FORMAT_ZIGBEE2MQTT, MSG_TELEMETRY, "zigbee/2F",
         "attr/humidity"},
        {"zigbee/2F/air/co2", ROUTE_OK, FORMAT_ZIGBEE2MQTT, MSG_TELEMETRY, "zigbee/2F/air",
         "attr/co2"},
        /* nothing bound: the whole rest is a friendly name */
        {"zigbee/3F/x", ROUTE_OK, FORMAT_ZIGBEE2MQTT, MSG_TELEMETRY, "zigbee/3F/x", ""},
        /* the coordinators */
        {"zigbee/bridge/state", ROUTE_OK, FORMAT_ZIGBEE2MQTT, MSG_STATUS, "zigbee", "bridge/state"},
        {"zigbee2mqtt/bridge/state", ROUTE_OK, FORMAT_ZIGBEE2MQTT, MSG_STATUS, "zigbee2mqtt",
         "bridge/state"},
        {"zigbee/bridge/info", ROUTE_IGNORE, 0, 0, NULL, NULL},
        {"zigbee/plug 1/set", ROUTE_IGNORE, 0, 0, NULL, NULL},
        /* Tasmota: both FullTopics, names with dots */
        {"tasmota/plug.lobby/tele/SENSOR", ROUTE_OK, FORMAT_TASMOTA, MSG_TELEMETRY, "plug.lobby",
         "SENSOR"},
        {"tasmota/plug.lobby/tele/LWT", ROUTE_OK, FORMAT_TASMOTA, MSG_STATUS, "plug.lobby", "LWT"},
        {"tasmota/plug.lobby/stat/POWER", ROUTE_OK, FORMAT_TASMOTA, MSG_TELEMETRY, "plug.lobby",
         "POWER"},
        {"tasmota/plug.lobby/stat/STATUS8", ROUTE_OK, FORMAT_TASMOTA, MSG_TELEMETRY, "plug.lobby",
         "STATUS8"},
        {"tasmota/plug.lobby/stat/STATUS11", ROUTE_OK, FORMAT_TASMOTA, MSG_TELEMETRY, "plug.lobby",
         "STATUS11"},
        {"tele/air.2/SENSOR", ROUTE_OK, FORMAT_TASMOTA, MSG_TELEMETRY, "air.2", "SENSOR"},
        {"tasmota/plug.lobby/cmnd/POWER", ROUTE_IGNORE, 0, 0, NULL, NULL},
        {"tasmota/plug.lobby/stat/STATUS5", ROUTE_IGNORE, 0, 0, NULL, NULL},
        {"tasmota/plug lobby/tele/SENSOR", ROUTE_BAD_ID, 0, 0, NULL, NULL},
        {"tasmota/plug.lobby/tele", ROUTE_BAD_TOPIC, 0, 0, NULL, NULL},
        /* Shelly still has the rest */
        {"tasmota/online", ROUTE_OK, FORMAT_SHELLY, MSG_STATUS, "tasmota", "online"},
    };
    struct config *c = load_site();
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        const struct layout_case *k = &cases[i];
        struct route r;
        memset(&r, 0xa5, sizeof(r));
        enum route_result got = topic_route_config(c, k->topic, strlen(k->topic), &r);
        if (got != k->result)
            fail_msg("%s: result %d, want %d", k->topic, got, k->result);
        if (got != ROUTE_OK)
            continue;
        if (r.format != k->format || r.cls != k->cls || strcmp(r.name, k->name) != 0 ||
            strcmp(r.sub, k->sub) != 0)
            fail_msg("%s: %d %d \"%s\" \"%s\", want %d %d \"%s\" \"%s\"", k->topic, r.format, r.cls,
                     r.name, r.sub, k->format, k->cls, k->name, k->sub);
    }
    /* The route names are what the bindings are found by. */
    struct route r;
    const char *t = "zigbee/ garden light/occupancy";
    assert_int_equal(topic_route_config(c, t, strlen(t), &r), ROUTE_OK);
    assert_string_equal(config_find_source(c, r.format, r.name)->id, "garden");
    t = "tasmota/plug.lobby/stat/RESULT";
    assert_int_equal(topic_route_config(c, t, strlen(t), &r), ROUTE_OK);
    assert_string_equal(config_find_source(c, r.format, r.name)->id, "plug-t");
    config_free(c);
}

/* ---- decoding ---- */

static void decode_one(const struct config *c, const char *topic, const char *payload,
                       enum decode_result want, struct reading *rd)
{
    struct route r;
    assert_int_equal(topic_route_config(c, topic, strlen(topic), &r), ROUTE_OK);
    enum decode_result got = decode_message(&r, payload, strlen(payload), NULL, rd, NULL);
    if (got != want)
        fail_msg("%s %s: %s, want %s", topic, payload, decode_result_name(got),
                 decode_result_name(want));
}

static void test_attribute_outputs_decode_like_the_state_json(void **state)
{
    (void)state;
    struct config *c = load_site();
    struct reading *rd = calloc(1, sizeof(*rd));
    const struct metric *m;
    assert_non_null(rd);

    decode_one(c, "zigbee2mqtt/1F/seat 1/occupancy", "true", DECODE_OK, rd);
    assert_non_null(m = reading_find(rd, "presence"));
    assert_int_equal(m->type, METRIC_BOOL);
    assert_true(m->v.b);
    decode_one(c, "zigbee/plug 1/state", "OFF", DECODE_OK, rd);
    assert_non_null(m = reading_find(rd, "on"));
    assert_false(m->v.b);
    decode_one(c, "zigbee/ garden light/temperature", "21.5", DECODE_OK, rd);
    assert_non_null(m = reading_find(rd, "temperature"));
    assert_int_equal(m->type, METRIC_NUMBER);
    assert_true(m->v.num == 21.5);
    decode_one(c, "zigbee/plug 1/power", "41", DECODE_OK, rd);
    assert_non_null(m = reading_find(rd, "power_w"));
    assert_true(m->v.num == 41);
    decode_one(c, "zigbee/2F/air/voc_index", "120", DECODE_OK, rd);
    assert_non_null(reading_find(rd, "voc_index"));
    /* A string Zigbee2MQTT keeps for itself carries nothing. */
    decode_one(c, "zigbee/ garden light/update_state", "idle", DECODE_EMPTY, rd);
    decode_one(c, "zigbee/plug 1/state", "TOGGLE", DECODE_EMPTY, rd);
    assert_int_equal(rd->dropped_keys, 1);
    /* The one attribute only: a payload that smuggles a second key in adds
     * nothing but the attribute, and the other key is counted. */
    decode_one(c, "zigbee/plug 1/power", "41,\"temperature\":99", DECODE_OK, rd);
    assert_non_null(reading_find(rd, "power_w"));
    assert_null(reading_find(rd, "temperature"));
    assert_int_equal(rd->dropped_keys, 1);

    /* bridge/state: plain (1.x) and JSON (2.x) */
    decode_one(c, "zigbee/bridge/state", "offline", DECODE_OK, rd);
    assert_int_equal(rd->status, AVAIL_OFFLINE);
    decode_one(c, "zigbee/bridge/state", "{\"state\":\"online\"}", DECODE_OK, rd);
    assert_int_equal(rd->status, AVAIL_ONLINE);
    decode_one(c, "zigbee/bridge/state", "maybe", DECODE_BAD_STATUS, rd);
    free(rd);
    config_free(c);
}

/* ---- config ---- */

#define MQTT "mqtt = { uri = \"tcp://h:1\"; };\n"
#define HALL "halls = ( { id = \"h1\"; } );\n"

static void expect_error(const char *text, const char *want)
{
    char errs[4096];
    load_errors(text, errs, sizeof(errs));
    if (!strstr(errs, want))
        fail_msg("want \"%s\" in:\n%s", want, errs);
}

static void test_config_refuses_bad_layouts_where_they_are_written(void **state)
{
    (void)state;
    /* several bases: a source names its base */
    expect_error(MQTT HALL "sources = { zigbee2mqtt = { base_topics = [\"zigbee2mqtt\", "
                           "\"zigbee\"]; }; };\n"
                           "devices = (\n"
                           "  { id = \"s1\"; hall = \"h1\"; kind = \"seat\";\n"
                           "    source = \"zigbee2mqtt:garden light\"; } );\n",
                 "6: devices[0].source: \"zigbee2mqtt:garden light\" does not name its base "
                 "topic");
    expect_error(MQTT HALL "sources = { zigbee2mqtt = { base_topics = [\"a\", \"b\"]; }; };\n"
                           "devices = ( { id = \"s1\"; hall = \"h1\"; kind = \"seat\"; "
                           "source = \"zigbee2mqtt:b/bridge\"; } );\n",
                 "names Zigbee2MQTT's own bridge topics");
    expect_error(MQTT "sources = { zigbee2mqtt = { base_topics = [\"zigbee/+\"]; }; };\n",
                 "2: sources.zigbee2mqtt.base_topics[0]: base topic \"zigbee/+\" has '+'");
    expect_error(MQTT "sources = { zigbee2mqtt = { base_topics = [\"a//b\"]; }; };\n",
                 "has an empty topic level");
    expect_error(MQTT "sources = { zigbee2mqtt = { base_topics = [\"z\", \"z/1\"]; }; };\n",
                 "base topic \"z/1\" overlaps \"z\"");
    /* Two bases the one alert id would name: bridge-offline:zigbee_a. */
    expect_error(MQTT "sources = { zigbee2mqtt = { base_topics = [\"zigbee/a\", \"zigbee_a\"]; "
                      "}; };\n",
                 "would name the same bridge-offline alert");
    expect_error(MQTT "sources = { zigbee2mqtt = { base_topics = [\"hall\"]; }; };\n",
                 "overlaps the native prefix \"hall\"");
    expect_error(MQTT "sources = { tasmota = { full_topics = [\"hall/%topic%/%prefix%/\"]; }; };\n",
                 "starts with the native prefix \"hall\"");
    expect_error(MQTT "sources = { tasmota = { prefixes = { tele = \"hall\"; }; }; };\n",
                 "FullTopic \"%prefix%/%topic%/\" with prefix \"hall\" starts with the native");
    expect_error(MQTT "sources = { tasmota = { full_topics = [\"%hostname%/%prefix%/\"]; }; };\n",
                 "sources.tasmota.full_topics[0]: FullTopic \"%hostname%/%prefix%/\": unknown "
                 "token %hostname% (only %prefix% and %topic%)");
    expect_error(MQTT "sources = { tasmota = { full_topics = [\"%topic%/%topic%/%prefix%\"]; }; "
                      "};\n",
                 "needs %prefix% and %topic%, each once");
    expect_error(MQTT "sources = { tasmota = { full_topics = [\"tasmota/%topic%/\"]; }; };\n",
                 "needs %prefix% and %topic%, each once");
    expect_error(MQTT "sources = { tasmota = { full_topics = [\"x_%topic%/%prefix%\"]; }; };\n",
                 "%topic% must be a whole topic level");
    expect_error(MQTT "sources = { tasmota = { full_topics = [\"a//%topic%/%prefix%\"]; }; };\n",
                 "has an empty topic level");
    expect_error(MQTT "sources = { tasmota = { prefixes = { tele = \"a/b\"; }; }; };\n",
                 "sources.tasmota.prefixes.tele: prefix \"a/b\" is more than one topic level");
    expect_error(MQTT "sources = { tasmota = { prefixes = { stat = \"#\"; }; }; };\n",
                 "prefix \"#\" has '+', '#'");
    expect_error(MQTT "sources = { tasmota = { prefixes = { stat = \"tele\"; }; }; };\n",
                 "stat and tele are both \"tele\"");
    expect_error(MQTT "sources = { shelly = { }; };\n", "sources.shelly");
}

static void test_one_base_keeps_the_plain_form_and_the_defaults(void **state)
{
    (void)state;
    struct config *c;
    struct conf_errors e;
    assert_int_equal(
        testconf_load_text(MQTT HALL "devices = ( { id = \"s1\"; hall = \"h1\"; kind = \"seat\"; "
                                     "source = \"zigbee2mqtt:zigbee/garden light\"; } );\n",
                           &c, &e),
        0);
    assert_int_equal(c->sources.n_z2m_bases, 1);
    assert_string_equal(c->sources.z2m_bases[0], "zigbee2mqtt");
    assert_string_equal(c->sources.tasmota_full_topics[0], "%prefix%/%topic%/");
    assert_string_equal(c->sources.tasmota_prefixes[TASMOTA_TELE], "tele");
    assert_string_equal(c->devices[0].source_base, "zigbee2mqtt");
    assert_string_equal(c->devices[0].source_friendly, "zigbee/garden light");
    struct route r;
    const char *t = "zigbee2mqtt/zigbee/garden light";
    assert_int_equal(topic_route_config(c, t, strlen(t), &r), ROUTE_OK);
    assert_string_equal(r.name, "zigbee/garden light");
    assert_non_null(config_find_source(c, r.format, r.name));
    config_free(c);
}

/* ---- commands ---- */

static void test_plug_commands_use_the_plugs_own_layout(void **state)
{
    (void)state;
    struct config *c = load_site();
    struct enforce_run r = {0};
    assert_int_equal(enforce_plan_run(c, ENFORCE_NIGHTLY, NULL, 0, NULL, 1795746224.0, 1000, &r),
                     0);
    assert_int_equal(r.n_plugs, 2);
    for (size_t i = 0; i < r.n_plugs; i++) {
        struct enforce_plug_cmd cmd;
        assert_int_equal(enforce_plug_command("hall", &r.plugs[i], false, &cmd), 0);
        if (strcmp(r.plugs[i].id, "plug-z") == 0) {
            assert_string_equal(cmd.topic, "zigbee/plug 1/set");
            assert_string_equal(cmd.payload, "{\"state\":\"OFF\"}");
        } else {
            /* the first FullTopic, with the cmnd prefix */
            assert_string_equal(cmd.topic, "tasmota/plug.lobby/cmnd/POWER");
            assert_string_equal(cmd.payload, "OFF");
        }
    }
    enforce_run_free(&r);
    config_free(c);
}

/* ---- a bridge offline ---- */

static void test_stale_is_unknown_behind_an_offline_bridge(void **state)
{
    (void)state;
    struct config_rule r = {.name = "stale", .type = RULE_STALE, .for_ms = 60000, .enabled = true};
    struct config_schedule s = {.weekdays = 0x7f, .open_s = 0, .close_s = 86400};
    struct hm_device d = {.id = "garden", .hall = "h1", .avail = AVAIL_UNKNOWN, .last_seen = 1000};
    struct rules_device_input in = {.wall = 1795746224.0, .now = 1000 + 600000, .started = 0};
    struct rule_verdict v;

    rules_eval_device(&r, &s, &d, &in, &v);
    assert_true(v.condition); /* silent for 10 min */
    in.bridge_offline = true;
    rules_eval_device(&r, &s, &d, &in, &v);
    assert_false(v.condition);
    assert_true(v.unknown);

    struct bridges b = {0};
    assert_false(bridges_offline(&b, "zigbee"));
    assert_int_equal(bridges_set(&b, "zigbee", AVAIL_OFFLINE, 5, 1.0), 0);
    assert_true(bridges_offline(&b, "zigbee"));
    assert_false(bridges_offline(&b, "zigbee2mqtt"));
    b.v[0].alerted = true;
    assert_int_equal(bridges_set(&b, "zigbee", AVAIL_OFFLINE, 9, 2.0), 0);
    assert_int_equal(bridges_find(&b, "zigbee")->since, 5); /* the same outage */
    assert_true(bridges_find(&b, "zigbee")->alerted);
    assert_int_equal(bridges_set(&b, "zigbee", AVAIL_ONLINE, 12, 3.0), 0);
    assert_int_equal(bridges_find(&b, "zigbee")->since, 12);
    assert_false(bridges_find(&b, "zigbee")->alerted);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_routes_follow_the_configured_layouts),
        cmocka_unit_test(test_attribute_outputs_decode_like_the_state_json),
        cmocka_unit_test(test_config_refuses_bad_layouts_where_they_are_written),
        cmocka_unit_test(test_one_base_keeps_the_plain_form_and_the_defaults),
        cmocka_unit_test(test_plug_commands_use_the_plugs_own_layout),
        cmocka_unit_test(test_stale_is_unknown_behind_an_offline_bridge),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
