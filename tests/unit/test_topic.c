/* topic: routing every input topic shape of the four formats, and refusing
 * the rest before any payload is read. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "topic.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct route_case {
    const char *name;
    const char *topic;
    size_t len; /* 0: strlen(topic) */
    const char *prefix;
    enum route_result result;
    enum source_format format;
    enum msg_class cls;
    const char *hall, *device, *fname, *sub;
};

#define OK_NATIVE(n, t, c, h, d)                                                                   \
    {                                                                                              \
        .name = n, .topic = t, .result = ROUTE_OK, .format = FORMAT_NATIVE, .cls = c, .hall = h,   \
        .device = d                                                                                \
    }
#define OK_FOREIGN(n, t, f, c, nm, s)                                                              \
    {                                                                                              \
        .name = n, .topic = t, .result = ROUTE_OK, .format = f, .cls = c, .fname = nm, .sub = s    \
    }
#define REFUSE(n, t, r)                                                                            \
    {                                                                                              \
        .name = n, .topic = t, .result = r                                                         \
    }

static const struct route_case cases[] = {
    /* native */
    OK_NATIVE("native_telemetry_names_hall_and_device", "hall/h1/env-1/telemetry", MSG_TELEMETRY,
              "h1", "env-1"),
    OK_NATIVE("native_status_is_a_status_message", "hall/h1/pc-w01/status", MSG_STATUS, "h1",
              "pc-w01"),
    OK_NATIVE("native_event_is_an_event_message", "hall/h1/pc-w01/event", MSG_EVENT, "h1",
              "pc-w01"),
    OK_NATIVE("native_cmd_reply_is_a_reply", "hall/h1/pc-w01/cmd/reply", MSG_REPLY, "h1", "pc-w01"),
    OK_NATIVE("native_ids_may_use_dot_dash_underscore", "hall/Hall_2.b/seat-w_01.x/telemetry",
              MSG_TELEMETRY, "Hall_2.b", "seat-w_01.x"),
    {.name = "native_multi_level_prefix",
     .topic = "site1/hall/h1/env-1/telemetry",
     .prefix = "site1/hall",
     .result = ROUTE_OK,
     .format = FORMAT_NATIVE,
     .cls = MSG_TELEMETRY,
     .hall = "h1",
     .device = "env-1"},
    REFUSE("native_cmd_is_our_output_not_an_input", "hall/h1/pc-w01/cmd", ROUTE_BAD_TOPIC),
    REFUSE("native_cmd_other_than_reply_is_bad_topic", "hall/h1/pc-w01/cmd/x", ROUTE_BAD_TOPIC),
    REFUSE("native_unknown_kind_is_bad_topic", "hall/h1/env-1/telemetryx", ROUTE_BAD_TOPIC),
    REFUSE("native_too_few_levels_is_bad_topic", "hall/h1/telemetry", ROUTE_BAD_TOPIC),
    REFUSE("native_too_many_levels_is_bad_topic", "hall/h1/env-1/telemetry/x", ROUTE_BAD_TOPIC),
    REFUSE("native_prefix_alone_is_bad_topic", "hall/", ROUTE_BAD_TOPIC),
    REFUSE("native_alerts_device_is_reserved", "hall/h1/alerts/telemetry", ROUTE_BAD_ID),
    REFUSE("native_windows_device_is_reserved", "hall/h1/windows/status", ROUTE_BAD_ID),
    REFUSE("native_state_device_is_reserved", "hall/h1/state/telemetry", ROUTE_BAD_ID),
    REFUSE("gateway_status_is_ignored_not_refused", "hall/_gateway/gw1/status", ROUTE_IGNORE),
    REFUSE("native_gateway_hall_is_reserved", "hall/_gateway/gw1/telemetry", ROUTE_BAD_ID),
    REFUSE("native_empty_hall_is_bad_id", "hall//env-1/telemetry", ROUTE_BAD_ID),
    REFUSE("native_empty_device_is_bad_id", "hall/h1//telemetry", ROUTE_BAD_ID),
    REFUSE("native_device_with_space_and_comma_is_bad_id", "hall/h1/env 1,hall=x/telemetry",
           ROUTE_BAD_ID),
    REFUSE("native_device_with_equals_is_bad_id", "hall/h1/env=1/telemetry", ROUTE_BAD_ID),
    REFUSE("native_device_with_colon_is_bad_id", "hall/h1/env:1/telemetry", ROUTE_BAD_ID),
    REFUSE("native_non_ascii_device_is_bad_id", "hall/h1/\xe7\xaa\x97\xe5\x8f\xa3-3/telemetry",
           ROUTE_BAD_ID),
    REFUSE("native_newline_in_topic_is_bad_topic", "hall/h1\nenv,x=1 temperature=99/telemetry",
           ROUTE_BAD_TOPIC),
    REFUSE("native_carriage_return_is_bad_topic", "hall/h1/env-1\r/telemetry", ROUTE_BAD_TOPIC),
    REFUSE("native_delete_byte_is_bad_topic", "hall/h1/env\x7f/telemetry", ROUTE_BAD_TOPIC),
    {.name = "native_nul_inside_the_topic_is_bad_topic",
     .topic = "hall/h1/env-1\0/telemetry",
     .len = 24,
     .result = ROUTE_BAD_TOPIC},
    REFUSE("wildcard_plus_is_bad_topic", "hall/+/env-1/telemetry", ROUTE_BAD_TOPIC),
    REFUSE("wildcard_hash_is_bad_topic", "hall/h1/#", ROUTE_BAD_TOPIC),
    REFUSE("invalid_utf8_topic_is_bad_topic", "zigbee2mqtt/seat\xff", ROUTE_BAD_TOPIC),
    REFUSE("empty_topic_is_bad_topic", "", ROUTE_BAD_TOPIC),
    REFUSE("other_prefix_is_not_native", "hallx/h1/env-1/telemetry", ROUTE_BAD_TOPIC),

    /* Zigbee2MQTT */
    OK_FOREIGN("z2m_state_topic_names_the_device", "zigbee2mqtt/seat_w01", FORMAT_ZIGBEE2MQTT,
               MSG_TELEMETRY, "seat_w01", ""),
    OK_FOREIGN("z2m_friendly_name_may_contain_slashes", "zigbee2mqtt/1F/hall/air_1",
               FORMAT_ZIGBEE2MQTT, MSG_TELEMETRY, "1F/hall/air_1", ""),
    OK_FOREIGN("z2m_friendly_name_may_be_utf8", "zigbee2mqtt/\xe7\xaa\x97\xe5\x8f\xa3 3",
               FORMAT_ZIGBEE2MQTT, MSG_TELEMETRY, "\xe7\xaa\x97\xe5\x8f\xa3 3", ""),
    OK_FOREIGN("z2m_availability_is_a_status", "zigbee2mqtt/seat_w01/availability",
               FORMAT_ZIGBEE2MQTT, MSG_STATUS, "seat_w01", "availability"),
    OK_FOREIGN("z2m_availability_of_a_name_with_slashes", "zigbee2mqtt/1F/hall/air_1/availability",
               FORMAT_ZIGBEE2MQTT, MSG_STATUS, "1F/hall/air_1", "availability"),
    REFUSE("z2m_bridge_is_ignored", "zigbee2mqtt/bridge", ROUTE_IGNORE),
    /* Home Assistant discovery, as Zigbee2MQTT writes it, and HA's status. */
    REFUSE("home_assistant_discovery_is_ignored",
           "homeassistant/sensor/0x00158d0001a2b3c4/temperature/config", ROUTE_IGNORE),
    REFUSE("home_assistant_status_is_ignored", "homeassistant/status", ROUTE_IGNORE),
    REFUSE("z2m_bridge_subtopics_are_ignored", "zigbee2mqtt/bridge/state", ROUTE_IGNORE),
    REFUSE("z2m_set_is_ignored", "zigbee2mqtt/plug_printer/set", ROUTE_IGNORE),
    REFUSE("z2m_set_attribute_is_ignored", "zigbee2mqtt/plug_printer/set/state", ROUTE_IGNORE),
    REFUSE("z2m_get_is_ignored", "zigbee2mqtt/1F/plug/get", ROUTE_IGNORE),
    REFUSE("z2m_empty_name_is_bad_topic", "zigbee2mqtt/", ROUTE_BAD_TOPIC),
    REFUSE("z2m_empty_level_in_name_is_bad_id", "zigbee2mqtt/1F//air_1", ROUTE_BAD_ID),
    REFUSE("z2m_trailing_slash_is_bad_id", "zigbee2mqtt/air_1/", ROUTE_BAD_ID),
    REFUSE("z2m_availability_without_name_is_bad_id", "zigbee2mqtt//availability", ROUTE_BAD_ID),

    /* Tasmota */
    OK_FOREIGN("tasmota_sensor_is_telemetry", "tele/air_1/SENSOR", FORMAT_TASMOTA, MSG_TELEMETRY,
               "air_1", "SENSOR"),
    OK_FOREIGN("tasmota_state_is_telemetry", "tele/plug_w01/STATE", FORMAT_TASMOTA, MSG_TELEMETRY,
               "plug_w01", "STATE"),
    OK_FOREIGN("tasmota_lwt_is_a_status", "tele/plug_w01/LWT", FORMAT_TASMOTA, MSG_STATUS,
               "plug_w01", "LWT"),
    OK_FOREIGN("tasmota_stat_power_is_telemetry", "stat/plug_w01/POWER", FORMAT_TASMOTA,
               MSG_TELEMETRY, "plug_w01", "POWER"),
    OK_FOREIGN("tasmota_stat_power2_is_telemetry", "stat/strip/POWER2", FORMAT_TASMOTA,
               MSG_TELEMETRY, "strip", "POWER2"),
    OK_FOREIGN("tasmota_stat_power16_is_telemetry", "stat/strip/POWER16", FORMAT_TASMOTA,
               MSG_TELEMETRY, "strip", "POWER16"),
    OK_FOREIGN("tasmota_stat_result_is_telemetry", "stat/plug_w01/RESULT", FORMAT_TASMOTA,
               MSG_TELEMETRY, "plug_w01", "RESULT"),
    REFUSE("tasmota_cmnd_is_our_own_command_and_ignored", "cmnd/plug_w01/POWER", ROUTE_IGNORE),
    REFUSE("tasmota_info_is_ignored", "tele/plug_w01/INFO1", ROUTE_IGNORE),
    REFUSE("tasmota_stat_status_is_ignored", "stat/plug_w01/STATUS8", ROUTE_IGNORE),
    REFUSE("tasmota_power0_is_ignored", "stat/plug_w01/POWER0", ROUTE_IGNORE),
    REFUSE("tasmota_power_with_leading_zero_is_ignored", "stat/plug_w01/POWER01", ROUTE_IGNORE),
    REFUSE("tasmota_lowercase_sensor_is_ignored", "tele/air_1/sensor", ROUTE_IGNORE),
    REFUSE("tasmota_bad_topic_name_is_bad_id", "tele/air 1/SENSOR", ROUTE_BAD_ID),
    REFUSE("tasmota_missing_subtopic_is_bad_topic", "tele/air_1", ROUTE_BAD_TOPIC),
    REFUSE("tasmota_extra_level_is_bad_topic", "tele/1F/air_1/SENSOR", ROUTE_BAD_TOPIC),

    /* Shelly Gen2 */
    OK_FOREIGN("shelly_events_rpc_is_telemetry", "shellyplusplugs-a8032ab1/events/rpc",
               FORMAT_SHELLY, MSG_TELEMETRY, "shellyplusplugs-a8032ab1", "events/rpc"),
    OK_FOREIGN("shelly_online_is_a_status", "shellyplusplugs-a8032ab1/online", FORMAT_SHELLY,
               MSG_STATUS, "shellyplusplugs-a8032ab1", "online"),
    OK_FOREIGN("shelly_status_switch_is_telemetry", "shellyplusplugs-a8032ab1/status/switch:0",
               FORMAT_SHELLY, MSG_TELEMETRY, "shellyplusplugs-a8032ab1", "status/switch:0"),
    OK_FOREIGN("shelly_status_switch_12_is_telemetry", "shellypro4pm-1/status/switch:12",
               FORMAT_SHELLY, MSG_TELEMETRY, "shellypro4pm-1", "status/switch:12"),
    REFUSE("shelly_other_status_components_are_ignored", "shellyplusplugs-a8032ab1/status/sys",
           ROUTE_IGNORE),
    REFUSE("shelly_switch_with_leading_zero_is_ignored", "shellyplus-1/status/switch:01",
           ROUTE_IGNORE),
    REFUSE("shelly_bad_id_is_bad_id", "shelly plug/online", ROUTE_BAD_ID),
    REFUSE("shelly_rpc_command_topic_is_not_an_input", "shellyplusplugs-a8032ab1/rpc",
           ROUTE_BAD_TOPIC),
    REFUSE("shelly_events_other_than_rpc_is_bad_topic", "shellyplusplugs-a8032ab1/events/x",
           ROUTE_BAD_TOPIC),
    REFUSE("shelly_empty_status_component_is_bad_topic", "shellyplus-1/status/", ROUTE_BAD_TOPIC),

/* Shelly Gen1: shellies/<id>/<path>, sub "gen1/<path>" */
#define GEN1(n, path, c)                                                                           \
    OK_FOREIGN(n, "shellies/shellyplug-s-7C87CE/" path, FORMAT_SHELLY, c, "shellyplug-s-7C87CE",   \
               "gen1/" path)
    GEN1("gen1_relay_state_is_telemetry", "relay/0", MSG_TELEMETRY),
    GEN1("gen1_relay_power_is_telemetry", "relay/0/power", MSG_TELEMETRY),
    GEN1("gen1_relay_energy_is_telemetry", "relay/0/energy", MSG_TELEMETRY),
    GEN1("gen1_second_relay_is_telemetry", "relay/1", MSG_TELEMETRY),
    GEN1("gen1_emeter_power_is_telemetry", "emeter/0/power", MSG_TELEMETRY),
    GEN1("gen1_emeter_energy_is_telemetry", "emeter/1/energy", MSG_TELEMETRY),
    GEN1("gen1_emeter_returned_energy_is_telemetry", "emeter/0/returned_energy", MSG_TELEMETRY),
    GEN1("gen1_emeter_total_is_telemetry", "emeter/2/total", MSG_TELEMETRY),
    GEN1("gen1_emeter_total_returned_is_telemetry", "emeter/2/total_returned", MSG_TELEMETRY),
    GEN1("gen1_emeter_voltage_is_telemetry", "emeter/0/voltage", MSG_TELEMETRY),
    GEN1("gen1_emeter_reactive_power_is_telemetry", "emeter/0/reactive_power", MSG_TELEMETRY),
    GEN1("gen1_emeter_pf_is_telemetry", "emeter/0/pf", MSG_TELEMETRY),
    GEN1("gen1_emeter_current_is_telemetry", "emeter/0/current", MSG_TELEMETRY),
    GEN1("gen1_sensor_temperature_is_telemetry", "sensor/temperature", MSG_TELEMETRY),
    GEN1("gen1_sensor_humidity_is_telemetry", "sensor/humidity", MSG_TELEMETRY),
    GEN1("gen1_sensor_battery_is_telemetry", "sensor/battery", MSG_TELEMETRY),
    GEN1("gen1_sensor_state_is_telemetry", "sensor/state", MSG_TELEMETRY),
    GEN1("gen1_sensor_flood_is_telemetry", "sensor/flood", MSG_TELEMETRY),
    GEN1("gen1_sensor_lux_is_telemetry", "sensor/lux", MSG_TELEMETRY),
    GEN1("gen1_device_temperature_is_telemetry", "temperature", MSG_TELEMETRY),
    GEN1("gen1_ext_temperature_is_telemetry", "ext_temperature/2", MSG_TELEMETRY),
    GEN1("gen1_ext_temperatures_is_telemetry", "ext_temperatures", MSG_TELEMETRY),
    GEN1("gen1_online_is_a_status", "online", MSG_STATUS),
    GEN1("gen1_announce_is_a_status", "announce", MSG_STATUS),
#undef GEN1
    OK_FOREIGN("gen1_global_announce_names_no_device", "shellies/announce", FORMAT_SHELLY,
               MSG_STATUS, "", "gen1/announce"),
    REFUSE("gen1_relay_command_is_ignored", "shellies/shellyplug-s-7C87CE/relay/0/command",
           ROUTE_IGNORE),
    REFUSE("gen1_global_command_is_ignored", "shellies/command", ROUTE_IGNORE),
    REFUSE("gen1_input_is_ignored", "shellies/shelly1-1/input/0", ROUTE_IGNORE),
    REFUSE("gen1_unknown_sensor_is_ignored", "shellies/shellyht-1/sensor/act_reasons",
           ROUTE_IGNORE),
    REFUSE("gen1_unknown_emeter_leaf_is_ignored", "shellies/shellyem-1/emeter/0/x", ROUTE_IGNORE),
    REFUSE("gen1_relay_index_with_leading_zero_is_ignored", "shellies/shelly1-1/relay/01",
           ROUTE_IGNORE),
    REFUSE("gen1_relay_index_over_999_is_ignored", "shellies/shelly1-1/relay/1000", ROUTE_IGNORE),
    REFUSE("gen1_too_deep_is_ignored", "shellies/shelly1-1/relay/0/power/x", ROUTE_IGNORE),
    REFUSE("gen1_bad_id_is_bad_id", "shellies/shelly 1/relay/0", ROUTE_BAD_ID),
    REFUSE("gen1_empty_id_is_bad_id", "shellies//relay/0", ROUTE_BAD_ID),
    REFUSE("gen1_nothing_after_shellies_is_bad_topic", "shellies/", ROUTE_BAD_TOPIC),

    REFUSE("unknown_topic_is_bad_topic", "random/topic", ROUTE_BAD_TOPIC),
    REFUSE("single_level_topic_is_bad_topic", "online", ROUTE_BAD_TOPIC),
    REFUSE("broker_sys_topic_is_bad_topic", "$SYS/broker/uptime", ROUTE_BAD_TOPIC),
};

static void run_case(void **state)
{
    const struct route_case *c = *state;
    size_t len = c->len ? c->len : strlen(c->topic);
    struct route r;
    memset(&r, 0xa5, sizeof(r)); /* the router must not leave anything stale */
    enum route_result got = topic_route(c->prefix ? c->prefix : "hall", c->topic, len, &r);
    assert_int_equal(got, c->result);
    if (got != ROUTE_OK)
        return;
    assert_int_equal(r.format, c->format);
    assert_int_equal(r.cls, c->cls);
    assert_string_equal(r.hall, c->hall ? c->hall : "");
    assert_string_equal(r.device, c->device ? c->device : "");
    assert_string_equal(r.name, c->fname ? c->fname : "");
    assert_string_equal(r.sub, c->sub ? c->sub : "");
}

static void test_ids_of_64_bytes_route_and_65_are_bad_id(void **state)
{
    (void)state;
    char id[ID_MAX + 2], topic[256];
    struct route r;
    memset(id, 'a', ID_MAX);
    id[ID_MAX] = '\0';
    snprintf(topic, sizeof(topic), "hall/%s/%s/telemetry", id, id);
    assert_int_equal(topic_route("hall", topic, strlen(topic), &r), ROUTE_OK);
    assert_string_equal(r.hall, id);
    assert_string_equal(r.device, id);
    snprintf(topic, sizeof(topic), "tele/%s/SENSOR", id);
    assert_int_equal(topic_route("hall", topic, strlen(topic), &r), ROUTE_OK);
    snprintf(topic, sizeof(topic), "%s/online", id);
    assert_int_equal(topic_route("hall", topic, strlen(topic), &r), ROUTE_OK);

    memset(id, 'a', ID_MAX + 1);
    id[ID_MAX + 1] = '\0';
    snprintf(topic, sizeof(topic), "hall/h1/%s/telemetry", id);
    assert_int_equal(topic_route("hall", topic, strlen(topic), &r), ROUTE_BAD_ID);
    snprintf(topic, sizeof(topic), "hall/%s/d/telemetry", id);
    assert_int_equal(topic_route("hall", topic, strlen(topic), &r), ROUTE_BAD_ID);
    snprintf(topic, sizeof(topic), "tele/%s/SENSOR", id);
    assert_int_equal(topic_route("hall", topic, strlen(topic), &r), ROUTE_BAD_ID);
    snprintf(topic, sizeof(topic), "%s/online", id);
    assert_int_equal(topic_route("hall", topic, strlen(topic), &r), ROUTE_BAD_ID);
}

static void test_z2m_names_up_to_the_cap_route_and_longer_are_bad_id(void **state)
{
    (void)state;
    char topic[TOPIC_NAME_MAX + 64];
    struct route r;
    int n = snprintf(topic, sizeof(topic), "zigbee2mqtt/");
    memset(topic + n, 'n', TOPIC_NAME_MAX);
    topic[n + TOPIC_NAME_MAX] = '\0';
    assert_int_equal(topic_route("hall", topic, strlen(topic), &r), ROUTE_OK);
    assert_int_equal(strlen(r.name), TOPIC_NAME_MAX);
    strcat(topic, "/availability");
    assert_int_equal(topic_route("hall", topic, strlen(topic), &r), ROUTE_OK);
    assert_int_equal(r.cls, MSG_STATUS);
    topic[n + TOPIC_NAME_MAX] = 'n';
    topic[n + TOPIC_NAME_MAX + 1] = '\0';
    assert_int_equal(topic_route("hall", topic, strlen(topic), &r), ROUTE_BAD_ID);
}

static void test_topic_is_read_only_up_to_len(void **state)
{
    (void)state;
    struct route r;
    const char *t = "hall/h1/env-1/telemetryGARBAGE";
    assert_int_equal(topic_route("hall", t, strlen("hall/h1/env-1/telemetry"), &r), ROUTE_OK);
    assert_string_equal(r.device, "env-1");
}

static void test_id_validator_accepts_only_the_id_charset(void **state)
{
    (void)state;
    const char *good[] = {"a", "A-z_0.9", "h1", "_x", "..", "-"};
    const char *bad[] = {"", "a b", "a/b", "a,b", "a=b", "a:b", "a\"b", "\xc3\xa9", "a+b"};
    for (size_t i = 0; i < ARRAY_SIZE(good); i++)
        assert_true(id_valid(good[i], strlen(good[i])));
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
        assert_false(id_valid(bad[i], strlen(bad[i])));
    assert_false(id_valid("a\0b", 3));
}

/* route.sub is 32 bytes: a Gen1 topic whose "gen1/<path>" would not fit is
 * refused, never cut. The longest path routed fits. */
static void test_gen1_longest_path_fits_in_sub(void **state)
{
    (void)state;
    struct route r;
    const char *longest = "shellies/shellyem3-1/emeter/999/total_returned";
    assert_int_equal(topic_route("hall", longest, strlen(longest), &r), ROUTE_OK);
    assert_string_equal(r.sub, "gen1/emeter/999/total_returned");
    assert_true(strlen(r.sub) < sizeof(r.sub));
}

static void test_format_names_round_trip(void **state)
{
    (void)state;
    for (int f = 0; f < FORMAT_COUNT; f++) {
        const char *name = config_format_name((enum source_format)f);
        assert_int_equal(config_format_parse(name, strlen(name)), f);
    }
    assert_string_equal(config_format_name(FORMAT_ZIGBEE2MQTT), "zigbee2mqtt");
    assert_int_equal(config_format_parse("tasmota", 7), FORMAT_TASMOTA);
    assert_int_equal(config_format_parse("tasmot", 6), -1);
    assert_int_equal(config_format_parse("shellyx", 7), -1);
    assert_int_equal(config_format_parse("", 0), -1);
}

int main(void)
{
    static const struct CMUnitTest fixed[] = {
        cmocka_unit_test(test_ids_of_64_bytes_route_and_65_are_bad_id),
        cmocka_unit_test(test_z2m_names_up_to_the_cap_route_and_longer_are_bad_id),
        cmocka_unit_test(test_topic_is_read_only_up_to_len),
        cmocka_unit_test(test_id_validator_accepts_only_the_id_charset),
        cmocka_unit_test(test_format_names_round_trip),
        cmocka_unit_test(test_gen1_longest_path_fits_in_sub),
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
    return _cmocka_run_group_tests("topic", tests, n, NULL, NULL);
}
