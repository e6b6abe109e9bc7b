/* From messages to the unbound list and out as JSON: discovery messages and
 * unbound traffic are listed, bound devices are not, and what is refused,
 * evicted or too large is counted in the metrics. */
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
#include "metrics.h"
#include "reading.h"
#include "testconf.h"
#include "topic.h"
#include "unbound.h"
#include "unbound_feed.h"

#define CONF                                                                                       \
    "mqtt = { uri = \"tcp://h:1\"; };\n"                                                           \
    "discovery = { unbound_max = 2; };\n"                                                          \
    "halls = ( { id = \"h1\"; } );\n"                                                              \
    "devices = ( { id = \"seat-1\"; hall = \"h1\"; kind = \"seat\";"                               \
    " source = \"zigbee2mqtt:bound seat\"; } );\n"

static bool feed(struct unbound *u, const struct config *c, const char *topic, const char *payload)
{
    return unbound_feed_discovery(u, c, topic, strlen(topic), payload, strlen(payload), false,
                                  1764843302.0);
}

static void test_a_device_list_is_listed_but_the_bound_device(void **state)
{
    (void)state;
    metrics_reset();
    struct config *c = testconf_load(CONF);
    struct unbound *u = unbound_new(c->discovery.unbound_max);
    assert_true(feed(u, c, "zigbee2mqtt/bridge/devices",
                     "[{\"friendly_name\":\"bound seat\"},{\"friendly_name\":\"new \\\"seat\\\"\","
                     "\"definition\":{\"model\":\"M1\",\"vendor\":\"V\",\"description\":\"D\"}}]"));
    assert_false(feed(u, c, "zigbee2mqtt/new seat", "{}"));
    assert_int_equal(unbound_count(u), 1);
    char *json = unbound_feed_json(u, c);
    assert_non_null(json);
    assert_non_null(strstr(json, "\"source\":\"zigbee2mqtt:new \\\"seat\\\"\""));
    assert_non_null(
        strstr(json, "\"source_literal\":\"\\\"zigbee2mqtt:new \\\\\\\"seat\\\\\\\"\\\"\""));
    assert_non_null(strstr(json, "\"model\":\"M1\",\"description\":\"V D\""));
    assert_non_null(strstr(json, "\"enabled\":true,\"max\":2,\"count\":1"));
    assert_null(strstr(json, "bound seat"));
    free(json);
    assert_int_equal(metrics_get(MET_DISCOVERY_READ), 1);
    assert_int_equal(metrics_get(MET_UNBOUND_ADDED), 1);
    assert_int_equal(metrics_get(MET_G_UNBOUND), 1);
    unbound_free(u);
    config_free(c);
}

static void test_refusals_evictions_and_bad_payloads_are_counted(void **state)
{
    (void)state;
    metrics_reset();
    struct config *c = testconf_load(CONF);
    struct unbound *u = unbound_new(c->discovery.unbound_max);
    /* Read, but left for the routing too (Shelly Gen1's announce). */
    assert_false(feed(u, c, "shellies/announce", "{\"id\":\"a\"}"));
    feed(u, c, "shellies/announce", "{\"id\":\"b\"}");
    feed(u, c, "shellies/announce", "{\"id\":\"c\"}");
    feed(u, c, "shellies/announce", "{\"id\":\"not one/level\"}");
    feed(u, c, "shellies/announce", "not json");
    feed(u, c, "zigbee2mqtt/bridge/devices", "[1,{\"friendly_name\":\"bridge\"}]");
    assert_true(unbound_feed_discovery(u, c, "tasmota/discovery/AB/config", 27, "{}", 2, true, 1));
    assert_int_equal(unbound_count(u), 2);
    assert_int_equal(metrics_get(MET_UNBOUND_EVICTED), 1);
    /* "not one/level", then the list's 1 and "bridge" */
    assert_int_equal(metrics_get(MET_UNBOUND_REFUSED), 3);
    assert_int_equal(metrics_get(MET_DISCOVERY_REJECTED), 2); /* not json, oversize */
    unbound_free(u);
    config_free(c);
}

static void test_unbound_traffic_shows_what_the_decoder_reads(void **state)
{
    (void)state;
    metrics_reset();
    struct config *c = testconf_load(CONF);
    struct unbound *u = unbound_new(4);
    static struct reading rd;
    struct json_limits lim = {.max_bytes = 65536, .max_depth = 8, .max_fields = 256};
    struct route r;
    const char *topic = "shellyplus1pm-a1/events/rpc";
    const char *payload = "{\"src\":\"shellyplus1pm-a1\",\"method\":\"NotifyStatus\",\"params\":"
                          "{\"switch:0\":{\"id\":0,\"output\":true,\"apower\":12.5}}}";
    assert_int_equal(topic_route("hall", topic, strlen(topic), &r), ROUTE_OK);
    unbound_feed_traffic(u, &r, payload, strlen(payload), &lim, &rd, 5.0);
    const struct unbound_device *d = unbound_get(u, 0);
    assert_string_equal(d->name, "shellyplus1pm-a1");
    assert_string_equal(d->model, "shellyplus1pm");
    assert_string_equal(d->via, "events/rpc");
    assert_non_null(strstr(d->sample, "power_w=12.5"));
    assert_non_null(strstr(d->sample, "on=true"));

    /* What no decoder reads is shown as it came. */
    topic = "tele/plug_9/SENSOR";
    assert_int_equal(topic_route("hall", topic, strlen(topic), &r), ROUTE_OK);
    unbound_feed_traffic(u, &r, "garbage\x01", 8, &lim, &rd, 6.0);
    assert_string_equal(unbound_get(u, 1)->sample, "garbage?");
    unbound_free(u);
    config_free(c);
}

static void test_a_reload_applies_the_bound_and_drops_what_it_binds(void **state)
{
    (void)state;
    metrics_reset();
    struct config *c = testconf_load(CONF);
    struct unbound *u = unbound_new(UNBOUND_MAX_LIMIT);
    unbound_feed_config(u, c);
    assert_int_equal(unbound_max(u), 2);
    feed(u, c, "shellies/announce", "{\"id\":\"plug-x\"}");
    struct config *c2 = testconf_load("mqtt = { uri = \"tcp://h:1\"; };\n"
                                      "halls = ( { id = \"h1\"; } );\n"
                                      "devices = ( { id = \"p\"; hall = \"h1\"; kind = \"plug\";"
                                      " source = \"shelly:plug-x\"; } );\n");
    unbound_feed_config(u, c2);
    assert_int_equal(unbound_count(u), 0);
    assert_int_equal(unbound_max(u), 256);
    struct config *off = testconf_load("mqtt = { uri = \"tcp://h:1\"; };\n"
                                       "discovery = { enabled = false; };\n");
    feed(u, c2, "shellies/announce", "{\"id\":\"plug-y\"}");
    unbound_feed_config(u, off);
    assert_int_equal(unbound_count(u), 0);
    assert_int_equal(unbound_max(u), 0);
    config_free(off);
    config_free(c2);
    config_free(c);
    unbound_free(u);
}

/* Each Zigbee2MQTT base's device list is read; with several bases the
 * source to paste names the base, and a device bound under its base is not
 * listed. A list under a topic that is no base is not read. */
static void test_each_base_device_list_gives_sources_with_their_base(void **state)
{
    (void)state;
    metrics_reset();
    struct config *c = testconf_load(
        "mqtt = { uri = \"tcp://h:1\"; };\n"
        "sources = { zigbee2mqtt = { base_topics = [\"zigbee2mqtt\", \"zigbee\"]; }; };\n"
        "halls = ( { id = \"h1\"; } );\n"
        "devices = ( { id = \"seat-1\"; hall = \"h1\"; kind = \"seat\";"
        " source = \"zigbee2mqtt:zigbee/bound seat\"; } );\n");
    struct unbound *u = unbound_new(c->discovery.unbound_max);
    assert_true(feed(u, c, "zigbee/bridge/devices",
                     "[{\"friendly_name\":\"bound seat\"},{\"friendly_name\":\"desk plug\"}]"));
    assert_true(feed(u, c, "zigbee2mqtt/bridge/devices", "[{\"friendly_name\":\"air 1\"}]"));
    assert_false(feed(u, c, "zb/bridge/devices", "[{\"friendly_name\":\"elsewhere\"}]"));
    assert_int_equal(unbound_count(u), 2);
    char *json = unbound_feed_json(u, c);
    assert_non_null(json);
    assert_non_null(strstr(json, "\"source\":\"zigbee2mqtt:zigbee/desk plug\""));
    assert_non_null(strstr(json, "\"source\":\"zigbee2mqtt:zigbee2mqtt/air 1\""));
    assert_non_null(strstr(json, "\"via\":\"zigbee/bridge/devices\""));
    assert_null(strstr(json, "bound seat"));
    assert_null(strstr(json, "elsewhere"));
    free(json);
    unbound_free(u);
    config_free(c);
}

/* A Shelly bound only by its channels ("<id>#1") is bound: its announce
 * does not list it. */
static void test_a_shelly_bound_by_its_channels_is_not_unbound(void **state)
{
    (void)state;
    metrics_reset();
    struct config *c =
        testconf_load("mqtt = { uri = \"tcp://h:1\"; };\n"
                      "halls = ( { id = \"h1\"; } );\n"
                      "devices = ( { id = \"plug-1\"; hall = \"h1\"; kind = \"plug\";"
                      " source = \"shelly:sp-2#1\"; } );\n");
    struct unbound *u = unbound_new(c->discovery.unbound_max);
    feed(u, c, "shellies/announce", "{\"id\":\"sp-2\",\"model\":\"SHSW-25\"}");
    feed(u, c, "shellies/announce", "{\"id\":\"sp-3\"}");
    assert_int_equal(unbound_count(u), 1);
    char *json = unbound_feed_json(u, c);
    assert_non_null(json);
    assert_null(strstr(json, "shelly:sp-2\""));
    assert_non_null(strstr(json, "shelly:sp-3\""));
    free(json);
    unbound_free(u);
    config_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_device_list_is_listed_but_the_bound_device),
        cmocka_unit_test(test_refusals_evictions_and_bad_payloads_are_counted),
        cmocka_unit_test(test_unbound_traffic_shows_what_the_decoder_reads),
        cmocka_unit_test(test_a_reload_applies_the_bound_and_drops_what_it_binds),
        cmocka_unit_test(test_each_base_device_list_gives_sources_with_their_base),
        cmocka_unit_test(test_a_shelly_bound_by_its_channels_is_not_unbound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
