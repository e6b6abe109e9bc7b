/* The discovery payloads of Zigbee2MQTT, Tasmota and Shelly: real ones from
 * tests/fixtures/discovery/, and hostile ones. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "discovery.h"
#include "fixtures.h"

#define MAX_BYTES 65536

struct seen {
    size_t n;
    struct discovery_device d[8];
};

static void collect(const struct discovery_device *d, void *arg)
{
    struct seen *s = arg;
    if (s->n < 8)
        s->d[s->n] = *d;
    s->n++;
}

static char *fixture(const char *name, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/discovery/%s", HALLGW_FIXTURES_DIR, name);
    return fixtures_read_file(path, len);
}

static int parse(enum discovery_kind k, const char *mac, const char *p, size_t len, struct seen *s,
                 size_t *skipped)
{
    memset(s, 0, sizeof(*s));
    *skipped = 0;
    return discovery_parse(k, mac, p, len, MAX_BYTES, collect, s, skipped);
}

static void test_discovery_topics_are_known_by_their_shape(void **state)
{
    (void)state;
    char mac[32];
#define T(s) s, strlen(s), mac, sizeof(mac)
    assert_int_equal(discovery_topic(T("zigbee2mqtt/bridge/devices")), DISCOVERY_Z2M_DEVICES);
    assert_int_equal(discovery_topic(T("shellies/announce")), DISCOVERY_SHELLY_ANNOUNCE);
    assert_int_equal(discovery_topic(T("tasmota/discovery/A4CF12D32745/config")),
                     DISCOVERY_TASMOTA_CONFIG);
    assert_string_equal(mac, "A4CF12D32745");
    assert_int_equal(discovery_topic(T("tasmota/discovery/A4CF12D32745/sensors")),
                     DISCOVERY_TASMOTA_SENSORS);
    assert_int_equal(discovery_topic(T("tasmota/discovery/A4CF12D32745/other")), DISCOVERY_NONE);
    assert_int_equal(discovery_topic(T("tasmota/discovery//config")), DISCOVERY_NONE);
    assert_int_equal(discovery_topic(T("tasmota/discovery/a b/config")), DISCOVERY_NONE);
    assert_int_equal(discovery_topic(T("zigbee2mqtt/bridge/devices/x")), DISCOVERY_NONE);
    assert_int_equal(discovery_topic(T("zigbee2mqtt/bridge/state")), DISCOVERY_NONE);
    assert_int_equal(discovery_topic(T("tele/plug_w07/SENSOR")), DISCOVERY_NONE);
#undef T
}

static void test_zigbee2mqtt_devices_skip_the_coordinator(void **state)
{
    (void)state;
    size_t len, skipped;
    struct seen s;
    char *p = fixture("zigbee2mqtt_bridge_devices.json", &len);
    assert_int_equal(parse(DISCOVERY_Z2M_DEVICES, NULL, p, len, &s, &skipped), 3);
    assert_int_equal(skipped, 0); /* the Coordinator is skipped, not refused */
    assert_int_equal(s.d[0].format, FORMAT_ZIGBEE2MQTT);
    assert_string_equal(s.d[0].name, "seat w13");
    assert_string_equal(s.d[0].model, "RTCGQ11LM");
    assert_string_equal(s.d[0].description, "Aqara Motion sensor");
    assert_string_equal(s.d[0].mac, "0x00158d0008a1c3d4");
    assert_string_equal(s.d[1].name, "hall1/env \"north\"");
    /* No definition (unsupported): the model id the device reports. */
    assert_string_equal(s.d[2].model, "TS011F");
    assert_string_equal(s.d[2].description, "");
    free(p);
}

static void test_zigbee2mqtt_hostile_lists(void **state)
{
    (void)state;
    size_t skipped;
    struct seen s;
    /* Not an array, not JSON, not UTF-8, too large. */
    assert_int_equal(parse(DISCOVERY_Z2M_DEVICES, NULL, "{\"a\":1}", 7, &s, &skipped), -EPROTO);
    assert_int_equal(parse(DISCOVERY_Z2M_DEVICES, NULL, "[{\"a\":", 6, &s, &skipped), -EBADMSG);
    assert_int_equal(
        parse(DISCOVERY_Z2M_DEVICES, NULL, "[{\"friendly_name\":\"\xff\"}]", 24, &s, &skipped),
        -EBADMSG);
    assert_int_equal(discovery_parse(DISCOVERY_Z2M_DEVICES, NULL, "[]", 2, 1, collect, &s, NULL),
                     -EMSGSIZE);
    /* Entries without a usable name: skipped, the others read. */
    static const char mixed[] =
        "[1,null,\"x\",[],{},{\"friendly_name\":5},{\"friendly_name\":\"\"},"
        "{\"friendly_name\":\"bi\\u202edi\"},{\"friendly_name\":\"ok\",\"definition\":"
        "{\"model\":[1],\"vendor\":\"V\"}}]";
    assert_int_equal(parse(DISCOVERY_Z2M_DEVICES, NULL, mixed, sizeof(mixed) - 1, &s, &skipped), 1);
    assert_int_equal(skipped, 8);
    assert_string_equal(s.d[0].name, "ok");
    assert_string_equal(s.d[0].model, "");
    assert_string_equal(s.d[0].description, "V");
    /* A huge array: at most DISCOVERY_ITEMS_MAX read, the rest counted. */
    size_t n = DISCOVERY_ITEMS_MAX + 500, cap = n * 40 + 2, o = 0;
    char *big = malloc(cap);
    big[o++] = '[';
    for (size_t i = 0; i < n; i++)
        o += (size_t)snprintf(big + o, cap - o, "%s{\"friendly_name\":\"d%zu\"}", i ? "," : "", i);
    big[o++] = ']';
    assert_int_equal(discovery_parse(DISCOVERY_Z2M_DEVICES, NULL, big, o, o, collect, &s, &skipped),
                     DISCOVERY_ITEMS_MAX);
    free(big);
}

static void test_tasmota_config_names_its_topic(void **state)
{
    (void)state;
    size_t len, skipped;
    struct seen s;
    char *p = fixture("tasmota_config.json", &len);
    /* The topic's MAC, which its sensors message is named by, wins. */
    assert_int_equal(parse(DISCOVERY_TASMOTA_CONFIG, "A4CF12D30000", p, len, &s, &skipped), 1);
    assert_int_equal(s.d[0].format, FORMAT_TASMOTA);
    assert_string_equal(s.d[0].name, "plug_w07");
    assert_string_equal(s.d[0].model, "Sonoff S26");
    assert_string_equal(s.d[0].mac, "A4CF12D30000");
    assert_string_equal(s.d[0].description, "Plug W07 plug-w07-2745");
    assert_int_equal(parse(DISCOVERY_TASMOTA_CONFIG, "", p, len, &s, &skipped), 1);
    assert_string_equal(s.d[0].mac, "A4CF12D32745");
    free(p);

    static const char other_ft[] = "{\"t\":\"env_1\",\"ft\":\"%topic%/%prefix%/\"}";
    assert_int_equal(
        parse(DISCOVERY_TASMOTA_CONFIG, "AB", other_ft, sizeof(other_ft) - 1, &s, &skipped), 1);
    assert_string_equal(s.d[0].mac, "AB"); /* from the topic */
    assert_string_equal(s.d[0].description, "(FullTopic %topic%/%prefix%/)");
}

static void test_tasmota_config_without_a_topic_is_refused(void **state)
{
    (void)state;
    size_t skipped;
    struct seen s;
    assert_int_equal(parse(DISCOVERY_TASMOTA_CONFIG, "AB", "{\"dn\":\"x\"}", 10, &s, &skipped),
                     -EPROTO);
    assert_int_equal(parse(DISCOVERY_TASMOTA_CONFIG, "AB", "{\"t\":7}", 7, &s, &skipped), -EPROTO);
    assert_int_equal(parse(DISCOVERY_TASMOTA_CONFIG, "AB", "[1]", 3, &s, &skipped), -EPROTO);
    assert_int_equal(
        parse(DISCOVERY_TASMOTA_CONFIG, "AB", "{\"t\":\"a\",\"t\":\"b\"}", 17, &s, &skipped),
        -EBADMSG);
    assert_int_equal(s.n, 0);
}

static void test_tasmota_sensors_are_named_by_mac(void **state)
{
    (void)state;
    size_t len, skipped;
    struct seen s;
    char *p = fixture("tasmota_sensors.json", &len);
    assert_int_equal(parse(DISCOVERY_TASMOTA_SENSORS, "A4CF12D32745", p, len, &s, &skipped), 1);
    assert_string_equal(s.d[0].mac, "A4CF12D32745");
    assert_string_equal(s.d[0].name, "");
    free(p);
}

static void test_shelly_announce(void **state)
{
    (void)state;
    size_t len, skipped;
    struct seen s;
    char *p = fixture("shelly_announce.json", &len);
    assert_int_equal(parse(DISCOVERY_SHELLY_ANNOUNCE, NULL, p, len, &s, &skipped), 1);
    assert_int_equal(s.d[0].format, FORMAT_SHELLY);
    assert_string_equal(s.d[0].name, "shellyplug-s-7AFC3D");
    assert_string_equal(s.d[0].model, "SHPLG-S");
    assert_string_equal(s.d[0].mac, "C45BBE7AFC3D");
    assert_string_equal(s.d[0].description,
                        "ip 192.168.10.44, fw 20230913-114008/v1.14.0-gcb84623");
    free(p);
    assert_int_equal(parse(DISCOVERY_SHELLY_ANNOUNCE, NULL, "{\"model\":\"x\"}", 13, &s, &skipped),
                     -EPROTO);
    assert_int_equal(parse(DISCOVERY_SHELLY_ANNOUNCE, NULL, "announce", 8, &s, &skipped), -EBADMSG);
}

static void test_shelly_gen2_model_comes_from_src(void **state)
{
    (void)state;
    size_t len;
    char model[64];
    char *p = fixture("shelly_gen2_full_status.json", &len);
    discovery_shelly_model(p, len, MAX_BYTES, model, sizeof(model));
    assert_string_equal(model, "shellyplus1pm");
    free(p);
    discovery_shelly_model("true", 4, MAX_BYTES, model, sizeof(model));
    assert_string_equal(model, "");
    discovery_shelly_model("{\"src\":\"nodash\"}", 16, MAX_BYTES, model, sizeof(model));
    assert_string_equal(model, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_discovery_topics_are_known_by_their_shape),
        cmocka_unit_test(test_zigbee2mqtt_devices_skip_the_coordinator),
        cmocka_unit_test(test_zigbee2mqtt_hostile_lists),
        cmocka_unit_test(test_tasmota_config_names_its_topic),
        cmocka_unit_test(test_tasmota_config_without_a_topic_is_refused),
        cmocka_unit_test(test_tasmota_sensors_are_named_by_mac),
        cmocka_unit_test(test_shelly_announce),
        cmocka_unit_test(test_shelly_gen2_model_comes_from_src),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
