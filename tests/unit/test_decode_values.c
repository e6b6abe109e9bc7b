/* Values as devices send them: numbers written as strings, nulls, arrays of
 * readings, units, and the messages whose topics are routed by hand here
 * (the replies to Tasmota's Status 8, 10 and 11, Shelly's status/<component>
 * topics). Payloads follow each project's documentation of the message:
 * Tasmota "JSON Status Responses", Shelly Gen2 "EM1", "EM", "Temperature",
 * "Humidity", "DevicePower" and "Switch" component pages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "decode.h"

static struct route route(enum source_format format, enum msg_class cls, const char *name,
                          const char *sub)
{
    struct route r;
    memset(&r, 0, sizeof(r));
    r.format = format;
    r.cls = cls;
    snprintf(r.name, sizeof(r.name), "%s", name);
    snprintf(r.sub, sizeof(r.sub), "%s", sub);
    return r;
}

static struct reading rd;

static enum decode_result decode(enum source_format format, const char *sub, const char *payload)
{
    struct route r = route(format, MSG_TELEMETRY, "dev1", sub);
    enum json_reject why;
    return decode_message(&r, payload, strlen(payload), NULL, &rd, &why);
}

static double num(const char *key)
{
    const struct metric *m = reading_find(&rd, key);
    if (!m)
        fail_msg("metric %s missing", key);
    if (m->type != METRIC_NUMBER)
        fail_msg("metric %s is not a number", key);
    return m->v.num;
}

static bool boolean(const char *key)
{
    const struct metric *m = reading_find(&rd, key);
    if (!m)
        fail_msg("metric %s missing", key);
    if (m->type != METRIC_BOOL)
        fail_msg("metric %s is not a boolean", key);
    return m->v.b;
}

/* ---- numbers written as strings --------------------------------------- */

static void test_string_numbers_of_named_keys_are_numbers_and_only_strict_ones(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        bool taken;
        double v;
    } cases[] = {
        {"100.00", true, 100},  {"-3.5", true, -3.5}, {"0", true, 0},    {"1e3", true, 1000},
        {"2.5E-1", true, 0.25}, {" 7", false, 0},     {"7 ", false, 0},  {"7W", false, 0},
        {"", false, 0},         {"0x10", false, 0},   {"+1", false, 0},  {"01", false, 0},
        {"1.", false, 0},       {".5", false, 0},     {"1e", false, 0},  {"1e999", false, 0},
        {"NaN", false, 0},      {"-", false, 0},      {"1,5", false, 0}, {"--1", false, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char payload[128];
        snprintf(payload, sizeof(payload), "{\"power\":\"%s\"}", cases[i].text);
        enum decode_result dr = decode(FORMAT_ZIGBEE2MQTT, "", payload);
        if (cases[i].taken) {
            assert_int_equal(dr, DECODE_OK);
            assert_true(num("power_w") == cases[i].v);
            assert_int_equal(rd.dropped_keys, 0);
        } else {
            if (dr != DECODE_EMPTY || rd.dropped_keys != 1)
                fail_msg("\"%s\" must be refused and counted", cases[i].text);
        }
    }
}

static void test_string_of_a_key_not_named_stays_out(void **state)
{
    (void)state;
    /* Only keys the decoder maps to a numeric metric read strings. */
    assert_int_equal(
        decode(FORMAT_ZIGBEE2MQTT, "", "{\"firmware\":\"1.2\",\"temperature\":\"21.5\"}"),
        DECODE_OK);
    assert_true(num("temperature") == 21.5);
    assert_null(reading_find(&rd, "firmware"));
    assert_int_equal(rd.n_metrics, 1);
}

static void test_null_is_no_reading_and_zero_is_one(void **state)
{
    (void)state;
    assert_int_equal(decode(FORMAT_ZIGBEE2MQTT, "",
                            "{\"occupancy\":null,\"power\":null,\"state\":null,\"temperature\":0}"),
                     DECODE_OK);
    assert_int_equal(rd.n_metrics, 1);
    assert_true(num("temperature") == 0);
    assert_null(reading_find(&rd, "presence"));
    assert_null(reading_find(&rd, "power_w"));
    assert_null(reading_find(&rd, "on"));
    assert_int_equal(rd.dropped_keys, 0);
    assert_int_equal(decode(FORMAT_ZIGBEE2MQTT, "", "{\"power\":null}"), DECODE_EMPTY);
}

static void test_z2m_last_seen_is_time_not_a_metric(void **state)
{
    (void)state;
    assert_int_equal(
        decode(FORMAT_ZIGBEE2MQTT, "", "{\"occupancy\":true,\"last_seen\":1764150000123}"),
        DECODE_OK);
    assert_null(reading_find(&rd, "last_seen"));
    assert_int_equal(rd.n_metrics, 1);
    assert_int_equal(decode(FORMAT_ZIGBEE2MQTT, "", "{\"last_seen\":\"2026-11-26T10:04:27.000Z\"}"),
                     DECODE_EMPTY);
}

/* ---- arrays of readings ------------------------------------------------ */

static void test_tasmota_arrays_map_to_numbered_fields(void **state)
{
    (void)state;
    assert_int_equal(decode(FORMAT_TASMOTA, "SENSOR",
                            "{\"Time\":\"2026-11-26T17:40:00\",\"ENERGY\":{\"Total\":[1.2,3.4],"
                            "\"Power\":[\"12\",null,34],\"Voltage\":230}}"),
                     DECODE_OK);
    assert_true(num("energy_kwh_0") == 1.2);
    assert_true(num("energy_kwh_1") == 3.4);
    assert_true(num("power_w_0") == 12);
    assert_null(reading_find(&rd, "power_w_1")); /* null: no reading */
    assert_true(num("power_w_2") == 34);
    assert_true(num("voltage") == 230);
    assert_null(reading_find(&rd, "energy_kwh"));
    assert_int_equal(rd.dropped_keys, 0);
}

static void test_array_items_past_the_bound_are_dropped_and_counted(void **state)
{
    (void)state;
    char payload[512];
    size_t n = (size_t)snprintf(payload, sizeof(payload), "{\"LD2410\":{\"Distance\":[");
    for (int i = 0; i < 20; i++)
        n += (size_t)snprintf(payload + n, sizeof(payload) - n, "%s%d", i ? "," : "", i);
    snprintf(payload + n, sizeof(payload) - n, "],\"Energy\":[[1],{\"a\":2},3]}}");
    assert_int_equal(decode(FORMAT_TASMOTA, "SENSOR", payload), DECODE_OK);
    assert_true(num("LD2410_Distance_0") == 0);
    assert_true(num("LD2410_Distance_15") == 15);
    assert_null(reading_find(&rd, "LD2410_Distance_16"));
    assert_true(num("LD2410_Energy_2") == 3); /* the place of an item counts */
    assert_int_equal(rd.n_metrics, 17);
    /* 4 items past 16, and an array and an object where readings go. */
    assert_int_equal(rd.dropped_keys, 6);
}

static void test_array_items_keep_the_bound_on_metrics(void **state)
{
    (void)state;
    /* 8 arrays of 16 readings: 128 items for 64 places. */
    char payload[4096];
    size_t n = (size_t)snprintf(payload, sizeof(payload), "{\"S\":{");
    for (int a = 0; a < 8; a++) {
        n += (size_t)snprintf(payload + n, sizeof(payload) - n, "%s\"v%d\":[", a ? "," : "", a);
        for (int i = 0; i < 16; i++)
            n += (size_t)snprintf(payload + n, sizeof(payload) - n, "%s%d", i ? "," : "", i);
        n += (size_t)snprintf(payload + n, sizeof(payload) - n, "]");
    }
    snprintf(payload + n, sizeof(payload) - n, "}}");
    assert_int_equal(decode(FORMAT_TASMOTA, "SENSOR", payload), DECODE_OK);
    assert_int_equal(rd.n_metrics, READING_MAX_METRICS);
    assert_int_equal(rd.dropped_keys, 128 - READING_MAX_METRICS);
}

static void test_native_arrays_are_still_dropped_and_counted(void **state)
{
    (void)state;
    struct route r = route(FORMAT_NATIVE, MSG_TELEMETRY, "", "");
    snprintf(r.hall, sizeof(r.hall), "h1");
    snprintf(r.device, sizeof(r.device), "env-1");
    const char *p = "{\"co2\":[1,2],\"temperature\":21}";
    assert_int_equal(decode_message(&r, p, strlen(p), NULL, &rd, NULL), DECODE_OK);
    assert_int_equal(rd.n_metrics, 1);
    assert_int_equal(rd.dropped_keys, 1);
    assert_null(reading_find(&rd, "co2_0"));
}

/* ---- Tasmota ----------------------------------------------------------- */

static void test_tasmota_fahrenheit_is_converted_from_a_string_too(void **state)
{
    (void)state;
    assert_int_equal(decode(FORMAT_TASMOTA, "SENSOR",
                            "{\"DS18B20\":{\"Temperature\":\"77.0\"},\"TempUnit\":\"F\"}"),
                     DECODE_OK);
    assert_true(num("temperature") == 25);
}

static void test_tasmota_switch_inputs_are_booleans(void **state)
{
    (void)state;
    assert_int_equal(decode(FORMAT_TASMOTA, "SENSOR",
                            "{\"Time\":\"2024-02-24T22:20:38\",\"Switch1\":\"ON\",\"Switch2\":"
                            "\"OFF\",\"Switch3\":\"TOGGLE\"}"),
                     DECODE_OK);
    assert_true(boolean("switch_1"));
    assert_false(boolean("switch_2"));
    assert_null(reading_find(&rd, "switch_3"));
    assert_int_equal(rd.dropped_keys, 1);
}

static void test_tasmota_status10_reply_reads_like_sensor(void **state)
{
    (void)state;
    assert_int_equal(decode(FORMAT_TASMOTA, "STATUS10",
                            "{\"StatusSNS\":{\"Time\":\"2018.02.15 01:00:50\",\"Switch1\":\"OFF\","
                            "\"SCD40\":{\"CarbonDioxide\":618,\"Temperature\":77},"
                            "\"ENERGY\":{\"Total\":31.204,\"Power\":41},\"TempUnit\":\"F\"}}"),
                     DECODE_OK);
    assert_false(boolean("switch_1"));
    assert_true(num("co2") == 618);
    assert_true(num("temperature") == 25);
    assert_true(num("energy_kwh") == 31.204);
    assert_true(num("power_w") == 41);
    assert_null(reading_find(&rd, "StatusSNS_SCD40_Temperature"));
}

static void test_tasmota_status8_reply_reads_like_sensor(void **state)
{
    (void)state;
    assert_int_equal(decode(FORMAT_TASMOTA, "STATUS8",
                            "{\"StatusSNS\":{\"Time\":\"2026-11-26T17:40:00\",\"ENERGY\":{"
                            "\"TotalStartTime\":\"2026-01-01T00:00:00\",\"Total\":[0.5,0.25],"
                            "\"Power\":[10,0]}}}"),
                     DECODE_OK);
    assert_true(num("energy_kwh_0") == 0.5);
    assert_true(num("energy_kwh_1") == 0.25);
    assert_true(num("power_w_1") == 0);
}

static void test_tasmota_status11_reply_reads_like_state(void **state)
{
    (void)state;
    assert_int_equal(decode(FORMAT_TASMOTA, "STATUS11",
                            "{\"StatusSTS\":{\"Time\":\"2024-02-24T22:20:38\",\"Uptime\":"
                            "\"0T00:10:11\",\"UptimeSec\":611,\"Heap\":24,\"LoadAvg\":19,"
                            "\"POWER1\":\"ON\",\"POWER2\":\"OFF\",\"Wifi\":{\"AP\":1,\"RSSI\":44,"
                            "\"Signal\":-78}}}"),
                     DECODE_OK);
    assert_true(boolean("on"));
    assert_false(boolean("on_2"));
    assert_true(num("uptime_s") == 611);
    assert_true(num("load_avg") == 19);
    assert_true(num("wifi_rssi") == 44);
    assert_true(num("wifi_signal_dbm") == -78);
    assert_int_equal(rd.n_metrics, 6);
    assert_int_equal(decode(FORMAT_TASMOTA, "STATUS11", "{\"StatusSTS\":{\"Heap\":24}}"),
                     DECODE_EMPTY);
}

static void test_tasmota_result_keeps_only_relays(void **state)
{
    (void)state;
    assert_int_equal(decode(FORMAT_TASMOTA, "RESULT", "{\"UptimeSec\":5,\"POWER\":\"ON\"}"),
                     DECODE_OK);
    assert_int_equal(rd.n_metrics, 1);
    assert_true(boolean("on"));
}

/* ---- Shelly Gen2 status/<component> ------------------------------------ */

static void test_shelly_em1_status_gives_power(void **state)
{
    (void)state;
    assert_int_equal(decode(FORMAT_SHELLY, "status/em1:1",
                            "{\"id\":1,\"current\":2.598,\"voltage\":234.9,\"act_power\":501.8,"
                            "\"aprt_power\":612.4,\"pf\":0.84,\"freq\":50,\"calibration\":"
                            "\"factory\"}"),
                     DECODE_OK);
    assert_true(num("power_w_1") == 501.8);
    assert_true(num("voltage_1") == 234.9);
    assert_true(num("current_1") == 2.598);
    assert_true(num("em1:1_pf") == 0.84);
    assert_null(reading_find(&rd, "em1:1_id"));
}

static void test_shelly_em_status_gives_total_and_phases(void **state)
{
    (void)state;
    assert_int_equal(decode(FORMAT_SHELLY, "status/em:0",
                            "{\"id\":0,\"a_current\":4.029,\"a_voltage\":236.1,\"a_act_power\":"
                            "951.2,\"b_act_power\":-951.1,\"c_act_power\":715.4,\"n_current\":null,"
                            "\"total_current\":11.086,\"total_act_power\":715.533}"),
                     DECODE_OK);
    assert_true(num("power_w") == 715.533);
    assert_true(num("power_w_a") == 951.2);
    assert_true(num("power_w_b") == -951.1);
    assert_true(num("power_w_c") == 715.4);
    assert_null(reading_find(&rd, "em:0_n_current"));
    assert_int_equal(rd.dropped_keys, 0);
}

static void test_shelly_temperature_humidity_and_battery_status(void **state)
{
    (void)state;
    assert_int_equal(
        decode(FORMAT_SHELLY, "status/temperature:0", "{\"id\":0,\"tC\":21.6,\"tF\":70.9}"),
        DECODE_OK);
    assert_true(num("temperature") == 21.6);
    assert_int_equal(rd.n_metrics, 1);
    assert_int_equal(decode(FORMAT_SHELLY, "status/humidity:0", "{\"id\":0,\"rh\":56.3}"),
                     DECODE_OK);
    assert_true(num("humidity") == 56.3);
    assert_int_equal(decode(FORMAT_SHELLY, "status/devicepower:0",
                            "{\"id\":0,\"battery\":{\"V\":5.9,\"percent\":45},\"external\":{"
                            "\"present\":false}}"),
                     DECODE_OK);
    assert_true(num("battery") == 45);
    /* A sensor not measured yet reports null: nothing, not 0. */
    assert_int_equal(
        decode(FORMAT_SHELLY, "status/temperature:0", "{\"id\":0,\"tC\":null,\"tF\":null}"),
        DECODE_EMPTY);
}

static void test_shelly_relay_without_metering_gives_only_on(void **state)
{
    (void)state;
    assert_int_equal(decode(FORMAT_SHELLY, "status/switch:0",
                            "{\"id\":0,\"source\":\"button\",\"output\":true,\"temperature\":{"
                            "\"tC\":41.2,\"tF\":106.2}}"),
                     DECODE_OK);
    assert_true(boolean("on"));
    assert_null(reading_find(&rd, "power_w"));
    assert_null(reading_find(&rd, "energy_kwh"));
}

static void test_shelly_status_of_other_components_is_refused(void **state)
{
    (void)state;
    assert_int_equal(decode(FORMAT_SHELLY, "status/sys", "{\"uptime\":3}"), DECODE_BAD_VALUE);
    assert_int_equal(decode(FORMAT_SHELLY, "status/em1", "{\"act_power\":3}"), DECODE_BAD_VALUE);
    assert_int_equal(decode(FORMAT_SHELLY, "status/", "{}"), DECODE_BAD_VALUE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_string_numbers_of_named_keys_are_numbers_and_only_strict_ones),
        cmocka_unit_test(test_string_of_a_key_not_named_stays_out),
        cmocka_unit_test(test_null_is_no_reading_and_zero_is_one),
        cmocka_unit_test(test_z2m_last_seen_is_time_not_a_metric),
        cmocka_unit_test(test_tasmota_arrays_map_to_numbered_fields),
        cmocka_unit_test(test_array_items_past_the_bound_are_dropped_and_counted),
        cmocka_unit_test(test_array_items_keep_the_bound_on_metrics),
        cmocka_unit_test(test_native_arrays_are_still_dropped_and_counted),
        cmocka_unit_test(test_tasmota_fahrenheit_is_converted_from_a_string_too),
        cmocka_unit_test(test_tasmota_switch_inputs_are_booleans),
        cmocka_unit_test(test_tasmota_status10_reply_reads_like_sensor),
        cmocka_unit_test(test_tasmota_status8_reply_reads_like_sensor),
        cmocka_unit_test(test_tasmota_status11_reply_reads_like_state),
        cmocka_unit_test(test_tasmota_result_keeps_only_relays),
        cmocka_unit_test(test_shelly_em1_status_gives_power),
        cmocka_unit_test(test_shelly_em_status_gives_total_and_phases),
        cmocka_unit_test(test_shelly_temperature_humidity_and_battery_status),
        cmocka_unit_test(test_shelly_relay_without_metering_gives_only_on),
        cmocka_unit_test(test_shelly_status_of_other_components_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
