/* The MQTT topic filters a config needs: every hall or only the owned ones,
 * plain or as shared subscriptions. */
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
#include "subscriptions.h"
#include "testconf.h"

/* subs must be exactly want (NULL-terminated), in order. */
static void expect_subs(const char *text, const char *const *want)
{
    struct config *c = testconf_load(text);
    char **subs;
    size_t n, nw = 0;

    assert_int_equal(subscriptions_build(c, &subs, &n), 0);
    while (want[nw])
        nw++;
    for (size_t i = 0; i < n || i < nw; i++)
        if (i >= n || i >= nw || strcmp(subs[i], want[i]) != 0)
            fail_msg("filter %zu: got %s, want %s", i, i < n ? subs[i] : "(none)",
                     i < nw ? want[i] : "(none)");
    subscriptions_free(subs, n);
    config_free(c);
}

/* Discovery (its own tests below) is off: these are the devices' filters. */
#define HALLS                                                                                      \
    "discovery = { enabled = false; };\n"                                                          \
    "halls = ( { id = \"h1\"; }, { id = \"h2\"; } );\n"                                            \
    "devices = ( { id = \"s1\"; hall = \"h1\"; kind = \"seat\"; source = \"zigbee2mqtt:s1\"; },\n" \
    "            { id = \"p2\"; hall = \"h2\"; kind = \"plug\"; source = \"tasmota:p2\"; } );\n"

static void test_every_hall_by_default(void **state)
{
    static const char *const want[] = {
        "hall/+/+/telemetry",
        "hall/+/+/status",
        "hall/+/+/event",
        "hall/+/+/cmd/reply",
        "hall/+/alerts/+/ack",
        "hall/+/alerts/+/ack/+",
        "zigbee2mqtt/bridge/state",
        "zigbee2mqtt/s1",
        "zigbee2mqtt/s1/+",
        "tele/p2/+",
        "stat/p2/+",
        NULL,
    };
    (void)state;

    expect_subs("mqtt = { uri = \"tcp://h:1\"; };\n" HALLS, want);
}

static void test_owned_halls_only(void **state)
{
    static const char *const want[] = {
        "site/h2/+/telemetry",
        "site/h2/+/status",
        "site/h2/+/event",
        "site/h2/+/cmd/reply",
        "site/h2/alerts/+/ack",
        "site/h2/alerts/+/ack/+",
        "tele/p2/+",
        "stat/p2/+",
        NULL,
    };
    (void)state;

    expect_subs("gateway = { halls = \"h2\"; };\n"
                "mqtt = { uri = \"tcp://h:1\"; prefix = \"site\"; };\n" HALLS,
                want);
}

static void test_shared_group_shares_all_but_acks(void **state)
{
    static const char *const want[] = {
        "$share/g1/hall/h1/+/telemetry",
        "$share/g1/hall/h1/+/status",
        "$share/g1/hall/h1/+/event",
        "$share/g1/hall/h1/+/cmd/reply",
        "hall/h1/alerts/+/ack",
        "hall/h1/alerts/+/ack/+",
        "$share/g1/hall/h2/+/telemetry",
        "$share/g1/hall/h2/+/status",
        "$share/g1/hall/h2/+/event",
        "$share/g1/hall/h2/+/cmd/reply",
        "hall/h2/alerts/+/ack",
        "hall/h2/alerts/+/ack/+",
        "zigbee2mqtt/bridge/state", /* unshared: every member needs it */
        "$share/g1/zigbee2mqtt/s1",
        "$share/g1/zigbee2mqtt/s1/+",
        "$share/g1/tele/p2/+",
        "$share/g1/stat/p2/+",
        NULL,
    };
    (void)state;

    expect_subs("gateway = { halls = [\"h1\", \"h2\"]; };\n"
                "mqtt = { uri = \"tcp://h:1\"; shared_group = \"g1\"; };\n" HALLS,
                want);
}

/* A Shelly of either generation: its Gen2 topics, shellies/<id>/# for Gen1,
 * and the global shellies/announce once. A device bound by channels
 * ("<id>#<n>") is subscribed once, under its id alone. */
static void test_shelly_both_generations_once_per_device(void **state)
{
    static const char *const want[] = {
        "hall/+/+/telemetry",
        "hall/+/+/status",
        "hall/+/+/event",
        "hall/+/+/cmd/reply",
        "hall/+/alerts/+/ack",
        "hall/+/alerts/+/ack/+",
        "shellyplug-s-7C87CE/events/rpc",
        "shellyplug-s-7C87CE/online",
        "shellyplug-s-7C87CE/status/+",
        "shellies/shellyplug-s-7C87CE/#",
        "shellies/announce",
        "shellypro4pm-1/events/rpc",
        "shellypro4pm-1/online",
        "shellypro4pm-1/status/+",
        "shellies/shellypro4pm-1/#",
        NULL,
    };
    (void)state;

    expect_subs("mqtt = { uri = \"tcp://h:1\"; };\n"
                "discovery = { enabled = false; };\n"
                "halls = ( { id = \"h1\"; } );\n"
                "devices = ( { id = \"p1\"; hall = \"h1\"; kind = \"plug\";\n"
                "              source = \"shelly:shellyplug-s-7C87CE\"; },\n"
                "            { id = \"p2\"; hall = \"h1\"; kind = \"plug\";\n"
                "              source = \"shelly:shellypro4pm-1#2\"; },\n"
                "            { id = \"p3\"; hall = \"h1\"; kind = \"plug\";\n"
                "              source = \"shelly:shellypro4pm-1#1\"; },\n"
                "            { id = \"p4\"; hall = \"h1\"; kind = \"plug\";\n"
                "              source = \"shelly:shellypro4pm-1#3\"; } );\n",
                want);
}

#define SHELLY_HALL                                                                                \
    "halls = ( { id = \"h1\"; } );\n"                                                              \
    "devices = ( { id = \"p1\"; hall = \"h1\"; kind = \"plug\"; source = \"shelly:sp-1\"; } );\n"

static void test_discovery_reads_the_families_discovery_topics(void **state)
{
    static const char *const want[] = {
        "hall/+/+/telemetry",
        "hall/+/+/status",
        "hall/+/+/event",
        "hall/+/+/cmd/reply",
        "hall/+/alerts/+/ack",
        "hall/+/alerts/+/ack/+",
        "sp-1/status/+",
        "shellies/sp-1/#",
        "shellies/announce",
        "zigbee2mqtt/bridge/devices",
        "tasmota/discovery/+/config",
        "tasmota/discovery/+/sensors",
        "+/online",
        "+/events/rpc",
        NULL,
    };
    (void)state;

    /* The wildcards take the bound Shelly's own online and events/rpc, and
     * shellies/announce is there once: no message arrives twice. */
    expect_subs("mqtt = { uri = \"tcp://h:1\"; };\n" SHELLY_HALL, want);
}

static void test_discovery_with_shared_group_keeps_shelly_filters(void **state)
{
    static const char *const want[] = {
        "$share/g1/hall/+/+/telemetry", "$share/g1/hall/+/+/status",   "$share/g1/hall/+/+/event",
        "$share/g1/hall/+/+/cmd/reply", "hall/+/alerts/+/ack",         "hall/+/alerts/+/ack/+",
        "$share/g1/sp-1/events/rpc",    "$share/g1/sp-1/online",       "$share/g1/sp-1/status/+",
        "$share/g1/shellies/sp-1/#",    "$share/g1/shellies/announce", "zigbee2mqtt/bridge/devices",
        "tasmota/discovery/+/config",   "tasmota/discovery/+/sensors", NULL,
    };
    (void)state;

    expect_subs("mqtt = { uri = \"tcp://h:1\"; shared_group = \"g1\"; };\n" SHELLY_HALL, want);
}

static void test_discovery_without_a_bound_shelly_reads_the_announce(void **state)
{
    static const char *const want[] = {
        "hall/+/+/telemetry",
        "hall/+/+/status",
        "hall/+/+/event",
        "hall/+/+/cmd/reply",
        "hall/+/alerts/+/ack",
        "hall/+/alerts/+/ack/+",
        "zigbee2mqtt/bridge/devices",
        "tasmota/discovery/+/config",
        "tasmota/discovery/+/sensors",
        "shellies/announce",
        "+/online",
        "+/events/rpc",
        NULL,
    };
    (void)state;

    expect_subs("mqtt = { uri = \"tcp://h:1\"; };\nhalls = ( { id = \"h1\"; } );\n", want);
}

/* Each base with a device gets its bridge/state; each device its own base;
 * Tasmota devices are subscribed under every FullTopic with the configured
 * tele and stat prefixes. */
static void test_layouts_follow_the_sources_block(void **state)
{
    static const char *const want[] = {
        "hall/+/+/telemetry",
        "hall/+/+/status",
        "hall/+/+/event",
        "hall/+/+/cmd/reply",
        "hall/+/alerts/+/ack",
        "hall/+/alerts/+/ack/+",
        "zigbee2mqtt/bridge/state",
        "zigbee2mqtt/1F/seat 1",
        "zigbee2mqtt/1F/seat 1/+",
        "zigbee/bridge/state",
        "zigbee/ garden light",
        "zigbee/ garden light/+",
        "tl/p2.lobby/+",
        "st/p2.lobby/+",
        "tasmota/p2.lobby/tl/+",
        "tasmota/p2.lobby/st/+",
        NULL,
    };
    (void)state;

    expect_subs(
        "mqtt = { uri = \"tcp://h:1\"; };\ndiscovery = { enabled = false; };\n"
        "sources = { zigbee2mqtt = { base_topics = [\"zigbee2mqtt\", \"zigbee\", "
        "\"z3\"]; };\n"
        "  tasmota = { full_topics = [\"%prefix%/%topic%\", \"tasmota/%topic%/%prefix%/\"];\n"
        "    prefixes = { tele = \"tl\"; stat = \"st\"; }; }; };\n"
        "halls = ( { id = \"h1\"; } );\n"
        "devices = ( { id = \"s1\"; hall = \"h1\"; kind = \"seat\";\n"
        "              source = \"zigbee2mqtt:zigbee2mqtt/1F/seat 1\"; },\n"
        "  { id = \"s2\"; hall = \"h1\"; kind = \"seat\"; source = \"zigbee2mqtt:zigbee/ garden "
        "light\"; },\n"
        "  { id = \"p2\"; hall = \"h1\"; kind = \"plug\"; source = \"tasmota:p2.lobby\"; } );\n",
        want);
}

/* "a/b" bound beside "a": zigbee2mqtt/a/+ delivers a/b's state already, so
 * zigbee2mqtt/a/b is not subscribed too (the broker would deliver it twice
 * through two matching filters). */
static void test_a_name_under_a_bound_name_is_not_subscribed_twice(void **state)
{
    static const char *const want[] = {
        "hall/+/+/telemetry",
        "hall/+/+/status",
        "hall/+/+/event",
        "hall/+/+/cmd/reply",
        "hall/+/alerts/+/ack",
        "hall/+/alerts/+/ack/+",
        "zigbee2mqtt/bridge/state",
        "zigbee2mqtt/a",
        "zigbee2mqtt/a/+",
        "zigbee2mqtt/a/b/+",
        NULL,
    };
    (void)state;

    expect_subs(
        "mqtt = { uri = \"tcp://h:1\"; };\ndiscovery = { enabled = false; };\n"
        "halls = ( { id = \"h1\"; } );\n"
        "devices = ( { id = \"s1\"; hall = \"h1\"; kind = \"seat\"; source = \"zigbee2mqtt:a\"; "
        "},\n"
        "  { id = \"s2\"; hall = \"h1\"; kind = \"seat\"; source = \"zigbee2mqtt:a/b\"; } );\n",
        want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_hall_by_default),
        cmocka_unit_test(test_owned_halls_only),
        cmocka_unit_test(test_shared_group_shares_all_but_acks),
        cmocka_unit_test(test_shelly_both_generations_once_per_device),
        cmocka_unit_test(test_layouts_follow_the_sources_block),
        cmocka_unit_test(test_a_name_under_a_bound_name_is_not_subscribed_twice),
        cmocka_unit_test(test_discovery_reads_the_families_discovery_topics),
        cmocka_unit_test(test_discovery_with_shared_group_keeps_shelly_filters),
        cmocka_unit_test(test_discovery_without_a_bound_shelly_reads_the_announce),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
