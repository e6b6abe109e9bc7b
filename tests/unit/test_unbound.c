/* The unbound devices' list: bounded, updated in place, evicting the entry
 * seen longest ago, refusing names no source could hold, and dropping the
 * devices a config binds. */
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
#include "unbound.h"
#include "utf8.h"

static enum unbound_result note(struct unbound *u, enum source_format f, const char *name,
                                wall_s now)
{
    struct unbound_seen s = {.format = f, .name = name, .via = "traffic"};
    return unbound_note(u, &s, now);
}

static const struct unbound_device *find(const struct unbound *u, const char *name)
{
    for (size_t i = 0; i < unbound_count(u); i++)
        if (strcmp(unbound_get(u, i)->name, name) == 0)
            return unbound_get(u, i);
    return NULL;
}

static void test_a_new_device_is_listed_with_what_discovery_said(void **state)
{
    (void)state;
    struct unbound *u = unbound_new(4);
    struct unbound_seen s = {.format = FORMAT_ZIGBEE2MQTT,
                             .name = "seat w13",
                             .mac = "0x00158d0008a1c3d4",
                             .model = "RTCGQ11LM",
                             .description = "Aqara Motion sensor",
                             .via = "zigbee2mqtt/bridge/devices"};
    assert_int_equal(unbound_note(u, &s, 1000.0), UNBOUND_ADDED);
    const struct unbound_device *d = find(u, "seat w13");
    assert_non_null(d);
    assert_int_equal(d->format, FORMAT_ZIGBEE2MQTT);
    assert_string_equal(d->model, "RTCGQ11LM");
    assert_string_equal(d->description, "Aqara Motion sensor");
    assert_string_equal(d->mac, "0x00158d0008a1c3d4");
    assert_true(d->first_seen == 1000.0 && d->last_seen == 1000.0);
    unbound_free(u);
}

static void test_a_reading_updates_in_place_and_keeps_the_model(void **state)
{
    (void)state;
    struct unbound *u = unbound_new(4);
    struct unbound_seen s = {.format = FORMAT_TASMOTA, .name = "plug_w07", .model = "Sonoff S26"};
    unbound_note(u, &s, 1000.0);
    uint64_t v = unbound_version(u), members = unbound_members_version(u);
    struct unbound_seen r = {.format = FORMAT_TASMOTA,
                             .name = "plug_w07",
                             .via = "SENSOR",
                             .sample = "{\"ENERGY\":{\"Power\":36}}",
                             .sample_len = 23};
    assert_int_equal(unbound_note(u, &r, 1060.0), UNBOUND_UPDATED);
    assert_int_equal(unbound_count(u), 1);
    assert_true(unbound_version(u) > v);
    assert_true(unbound_members_version(u) == members); /* seen again: no one came or went */
    const struct unbound_device *d = find(u, "plug_w07");
    assert_string_equal(d->model, "Sonoff S26");
    assert_string_equal(d->sample, "{\"ENERGY\":{\"Power\":36}}");
    assert_string_equal(d->via, "SENSOR");
    assert_true(d->first_seen == 1000.0 && d->last_seen == 1060.0);
    unbound_free(u);
}

static void test_a_full_list_evicts_the_device_seen_longest_ago(void **state)
{
    (void)state;
    struct unbound *u = unbound_new(3);
    assert_int_equal(note(u, FORMAT_SHELLY, "a", 10), UNBOUND_ADDED);
    assert_int_equal(note(u, FORMAT_SHELLY, "b", 20), UNBOUND_ADDED);
    assert_int_equal(note(u, FORMAT_SHELLY, "c", 30), UNBOUND_ADDED);
    assert_int_equal(note(u, FORMAT_SHELLY, "a", 40), UNBOUND_UPDATED); /* b is now oldest */
    assert_int_equal(note(u, FORMAT_SHELLY, "d", 50), UNBOUND_EVICTED);
    assert_int_equal(unbound_count(u), 3);
    assert_null(find(u, "b"));
    assert_non_null(find(u, "a"));
    assert_non_null(find(u, "c"));
    assert_non_null(find(u, "d"));
    unbound_free(u);
}

static void test_a_flood_of_made_up_names_never_grows_the_list(void **state)
{
    (void)state;
    struct unbound *u = unbound_new(8);
    size_t evicted = 0;
    for (int i = 0; i < 20000; i++) {
        char name[32];
        snprintf(name, sizeof(name), "fake-%d", i);
        evicted += note(u, FORMAT_TASMOTA, name, i) == UNBOUND_EVICTED;
    }
    assert_int_equal(unbound_count(u), 8);
    assert_int_equal(evicted, 20000 - 8);
    assert_non_null(find(u, "fake-19999"));
    unbound_free(u);
}

static void test_names_no_source_could_hold_are_refused(void **state)
{
    (void)state;
    struct unbound *u = unbound_new(8);
    char longname[CONFIG_SOURCE_NAME_MAX + 2];
    memset(longname, 'x', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    assert_int_equal(note(u, FORMAT_ZIGBEE2MQTT, "", 1), UNBOUND_REFUSED);
    assert_int_equal(note(u, FORMAT_ZIGBEE2MQTT, "bridge", 1), UNBOUND_REFUSED);
    assert_int_equal(note(u, FORMAT_ZIGBEE2MQTT, "lamp/set", 1), UNBOUND_REFUSED);
    assert_int_equal(note(u, FORMAT_ZIGBEE2MQTT, "a//b", 1), UNBOUND_REFUSED);
    assert_int_equal(note(u, FORMAT_ZIGBEE2MQTT, "evil\xe2\x80\xaemoc", 1), UNBOUND_REFUSED);
    assert_int_equal(note(u, FORMAT_ZIGBEE2MQTT, "bad\xff", 1), UNBOUND_REFUSED);
    assert_int_equal(note(u, FORMAT_ZIGBEE2MQTT, longname, 1), UNBOUND_REFUSED);
    assert_int_equal(note(u, FORMAT_TASMOTA, "two words", 1), UNBOUND_REFUSED);
    assert_int_equal(note(u, FORMAT_SHELLY, "a/b", 1), UNBOUND_REFUSED);
    assert_int_equal(note(u, FORMAT_NATIVE, "pc-1", 1), UNBOUND_REFUSED);
    assert_int_equal(unbound_count(u), 0);
    assert_int_equal(note(u, FORMAT_ZIGBEE2MQTT, "座位 w13/\"north\"", 1), UNBOUND_ADDED);
    unbound_free(u);
}

static void test_the_sample_is_short_plain_text(void **state)
{
    (void)state;
    struct unbound *u = unbound_new(2);
    char big[4096];
    memset(big, 'a', sizeof(big));
    memcpy(big, "x\x01y\xff\xe2\x80\xae", 7);
    /* a three-byte character across the cut */
    memcpy(big + UNBOUND_SAMPLE_MAX - 1, "\xe6\xb8\xa9", 3);
    struct unbound_seen s = {
        .format = FORMAT_SHELLY, .name = "sp-1", .sample = big, .sample_len = sizeof(big)};
    unbound_note(u, &s, 1);
    const struct unbound_device *d = find(u, "sp-1");
    size_t n = strlen(d->sample);
    assert_true(n <= UNBOUND_SAMPLE_MAX);
    assert_true(utf8_plain_text(d->sample, n));
    assert_memory_equal(d->sample, "x?y??", 5);
    unbound_free(u);
}

static void test_model_text_that_is_not_plain_is_left_out(void **state)
{
    (void)state;
    struct unbound *u = unbound_new(2);
    struct unbound_seen s = {
        .format = FORMAT_SHELLY, .name = "sp-1", .model = "M\nX", .description = "ok"};
    unbound_note(u, &s, 1);
    assert_string_equal(find(u, "sp-1")->model, "");
    assert_string_equal(find(u, "sp-1")->description, "ok");
    unbound_free(u);
}

static void test_devices_the_config_binds_leave_the_list(void **state)
{
    (void)state;
    struct unbound *u = unbound_new(8);
    note(u, FORMAT_ZIGBEE2MQTT, "seat w13", 1);
    note(u, FORMAT_ZIGBEE2MQTT, "hall1/env \"north\"", 1);
    note(u, FORMAT_SHELLY, "seat-w13", 1); /* not bound: stays */
    note(u, FORMAT_SHELLY, "sp-1", 1);
    struct config *c = testconf_load(
        "mqtt = { uri = \"tcp://h:1\"; };\n"
        "halls = ( { id = \"h1\"; windows = ( { id = \"w13\"; } ); } );\n"
        "devices = (\n"
        "  { id = \"seat-w13\"; hall = \"h1\"; kind = \"seat\"; window = \"w13\";"
        " source = \"zigbee2mqtt:seat w13\"; },\n"
        "  { id = \"env-n\"; hall = \"h1\"; kind = \"env\";"
        " source = \"zigbee2mqtt:hall1/env \\\"north\\\"\"; },\n"
        "  { id = \"plug-1\"; hall = \"h1\"; kind = \"plug\"; source = \"shelly:sp-1\"; }\n"
        ");\n");
    assert_int_equal(unbound_forget_bound(u, c), 3);
    assert_int_equal(unbound_count(u), 1);
    assert_string_equal(unbound_get(u, 0)->name, "seat-w13");
    config_free(c);
    unbound_free(u);
}

static void test_a_smaller_bound_evicts_the_oldest(void **state)
{
    (void)state;
    struct unbound *u = unbound_new(4);
    note(u, FORMAT_SHELLY, "a", 40);
    note(u, FORMAT_SHELLY, "b", 10);
    note(u, FORMAT_SHELLY, "c", 30);
    note(u, FORMAT_SHELLY, "d", 20);
    assert_int_equal(unbound_set_max(u, 2), 2);
    assert_non_null(find(u, "a"));
    assert_non_null(find(u, "c"));
    assert_int_equal(unbound_set_max(u, 0), 2);
    assert_int_equal(note(u, FORMAT_SHELLY, "e", 50), UNBOUND_REFUSED);
    assert_int_equal(unbound_count(u), 0);
    unbound_free(u);
}

static void test_the_source_literal_pastes_into_the_config(void **state)
{
    (void)state;
    struct unbound *u = unbound_new(2);
    note(u, FORMAT_ZIGBEE2MQTT, "hall1/env \"north\" \\ 1", 1);
    char lit[512];
    assert_true(unbound_source_literal(unbound_get(u, 0), lit, sizeof(lit)) > 0);
    assert_string_equal(lit, "\"zigbee2mqtt:hall1/env \\\"north\\\" \\\\ 1\"");
    assert_int_equal(unbound_source_literal(unbound_get(u, 0), lit, 10), -1);

    /* The line the page builds from it is a config the gateway loads. */
    char text[1024];
    snprintf(text, sizeof(text),
             "mqtt = { uri = \"tcp://h:1\"; };\nhalls = ( { id = \"h1\"; } );\n"
             "devices = ( { id = \"env-n\"; hall = \"h1\"; kind = \"env\"; source = %s; } );\n",
             lit);
    struct config *c = testconf_load(text);
    assert_non_null(config_find_source(c, FORMAT_ZIGBEE2MQTT, "hall1/env \"north\" \\ 1"));
    config_free(c);
    unbound_free(u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_new_device_is_listed_with_what_discovery_said),
        cmocka_unit_test(test_a_reading_updates_in_place_and_keeps_the_model),
        cmocka_unit_test(test_a_full_list_evicts_the_device_seen_longest_ago),
        cmocka_unit_test(test_a_flood_of_made_up_names_never_grows_the_list),
        cmocka_unit_test(test_names_no_source_could_hold_are_refused),
        cmocka_unit_test(test_the_sample_is_short_plain_text),
        cmocka_unit_test(test_model_text_that_is_not_plain_is_left_out),
        cmocka_unit_test(test_devices_the_config_binds_leave_the_list),
        cmocka_unit_test(test_a_smaller_bound_evicts_the_oldest),
        cmocka_unit_test(test_the_source_literal_pastes_into_the_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
