/* channels: a multi-channel Shelly bound channel by channel
 * ("shelly:<id>#<n>"). The config refuses a bad "#n"; each channel's device
 * gets its channel's metrics under the plain names (on, power_w,
 * energy_kwh), the device itself (channel 0) keeps the rest; availability
 * reaches them all; the generation heard is recorded per device. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "channels.h"
#include "config.h"
#include "hallmodel.h"
#include "ingest.h"
#include "lineproto_parse.h"
#include "metrics.h"
#include "testconf.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define HEAD                                                                                       \
    "gateway = { id = \"gw\"; timezone = \"UTC\"; state_dir = \"/tmp\"; };\n"                      \
    "mqtt = { uri = \"tcp://127.0.0.1:1883\"; };\n"                                                \
    "halls = ( { id = \"h1\"; } );\n"

static void test_channel_of_each_key(void **state)
{
    (void)state;
    static const struct {
        const char *key;
        int ch;
        const char *plain;
    } cases[] = {
        {"on", 0, "on"},
        {"power_w", 0, "power_w"},
        {"on_1", 1, "on"},
        {"power_w_3", 3, "power_w"},
        {"energy_kwh_12", 12, "energy_kwh"},
        {"overpower_1", 1, "overpower"},
        {"total_returned_kwh_2", 2, "total_returned_kwh"},
        {"switch:0_voltage", 0, "switch:0_voltage"},
        {"switch:2_voltage", 2, "switch:2_voltage"},
        {"temperature", -1, "temperature"},
        {"ext_temperature_1", -1, "ext_temperature_1"},
        {"on_01", -1, "on_01"},
        {"on_1000", -1, "on_1000"},
        {"on_", -1, "on_"},
        {"humidity_1", -1, "humidity_1"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        char plain[READING_KEY_MAX + 1];
        int ch = channels_of_key(cases[i].key, plain, sizeof(plain));
        if (ch != cases[i].ch || strcmp(plain, cases[i].plain) != 0)
            fail_msg("%s: channel %d \"%s\", want %d \"%s\"", cases[i].key, ch, plain, cases[i].ch,
                     cases[i].plain);
    }
}

static void test_bad_channel_numbers_are_config_errors(void **state)
{
    (void)state;
    static const struct {
        const char *source, *msg;
    } cases[] = {
        {"shelly:shellypro4pm-1#", "expected a channel number 0..999 after '#'"},
        {"shelly:shellypro4pm-1#x", "expected a channel number 0..999 after '#'"},
        {"shelly:shellypro4pm-1#01", "expected a channel number 0..999 after '#'"},
        {"shelly:shellypro4pm-1#1000", "expected a channel number 0..999 after '#'"},
        {"shelly:shellypro4pm-1#1#2", "expected a channel number 0..999 after '#'"},
        {"shelly:#1", "has an empty name after the format"},
        {"shelly:a b#1", "is not one topic level"},
        {"tasmota:plug#1", "is not one topic level"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        char text[1024];
        struct config *c = NULL;
        struct conf_errors e;
        (void)snprintf(text, sizeof(text),
                       HEAD "devices = ( { id = \"p1\"; hall = \"h1\"; kind = \"plug\";\n"
                            "  source = \"%s\"; } );\n",
                       cases[i].source);
        int rc = testconf_load_text(text, &c, &e);
        if (rc == 0 || e.n != 1 || e.v[0].line != 5 || strcmp(e.v[0].key, "devices[0].source") ||
            !strstr(e.v[0].msg, cases[i].msg)) {
            conf_errors_print(&e, stderr);
            fail_msg("%s: want one error at line 5, devices[0].source: ...%s...", cases[i].source,
                     cases[i].msg);
        }
        conf_errors_free(&e);
    }
}

static void test_channel_0_is_the_device_itself(void **state)
{
    (void)state;
    struct config *c = NULL;
    struct conf_errors e;
    int rc = testconf_load_text(HEAD "devices = (\n"
                                     "  { id = \"p0\"; hall = \"h1\"; kind = \"plug\"; source = "
                                     "\"shelly:shellypro4pm-1\"; },\n"
                                     "  { id = \"p0b\"; hall = \"h1\"; kind = \"plug\"; source = "
                                     "\"shelly:shellypro4pm-1#0\"; } );\n",
                                &c, &e);
    assert_int_not_equal(rc, 0);
    assert_int_equal(e.n, 1);
    assert_int_equal(e.v[0].line, 6);
    assert_non_null(strstr(e.v[0].msg, "is already the source of device \"p0\""));
    conf_errors_free(&e);

    rc = testconf_load_text(HEAD
                            "devices = ( { id = \"p0\"; hall = \"h1\"; kind = \"plug\"; source = "
                            "\"shelly:shellypro4pm-1#0\"; } );\n",
                            &c, &e);
    assert_int_equal(rc, 0);
    assert_string_equal(c->devices[0].source_name, "shellypro4pm-1");
    assert_ptr_equal(config_find_source(c, FORMAT_SHELLY, "shellypro4pm-1"), &c->devices[0]);
    config_free(c);
}

static void test_find_channels_lists_only_that_devices_channels(void **state)
{
    (void)state;
    struct config *c = NULL;
    struct conf_errors e;
    int rc = testconf_load_text(
        HEAD "devices = (\n"
             "  { id = \"a\"; hall = \"h1\"; kind = \"plug\"; source = \"shelly:sw\"; },\n"
             "  { id = \"b\"; hall = \"h1\"; kind = \"plug\"; source = \"shelly:sw#12\"; },\n"
             "  { id = \"c\"; hall = \"h1\"; kind = \"plug\"; source = \"shelly:sw#2\"; },\n"
             "  { id = \"d\"; hall = \"h1\"; kind = \"plug\"; source = \"shelly:sw-2#1\"; },\n"
             "  { id = \"e\"; hall = \"h1\"; kind = \"plug\"; source = \"shelly:s#1\"; },\n"
             "  { id = \"f\"; hall = \"h1\"; kind = \"plug\"; source = \"tasmota:sw\"; } );\n",
        &c, &e);
    if (rc != 0)
        conf_errors_print(&e, stderr);
    assert_int_equal(rc, 0);
    const struct config_device *out[4];
    size_t n = config_find_channels(c, "sw", out, 4);
    assert_int_equal(n, 2);
    bool b = false, cc = false;
    for (size_t i = 0; i < n; i++) {
        b |= out[i] == &c->devices[1];
        cc |= out[i] == &c->devices[2];
    }
    assert_true(b && cc);
    assert_int_equal(config_find_channels(c, "sw-2", out, 4), 1);
    assert_ptr_equal(out[0], &c->devices[3]);
    assert_int_equal(config_find_channels(c, "none", out, 4), 0);
    size_t id_len;
    assert_int_equal(config_source_channel("sw#12", &id_len), 12);
    assert_int_equal(id_len, 2);
    assert_int_equal(config_source_channel("sw", &id_len), 0);
    assert_int_equal(id_len, 2);
    config_free(c);
}

/* ---- ingest ------------------------------------------------------------ */

struct fixture {
    struct config *cfg;
    struct hallmodel *hm;
    struct ingest in;
    struct buf out;
};

static struct fixture *fixture_new(const char *devices)
{
    char text[2048];
    struct conf_errors e;
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    (void)snprintf(text, sizeof(text), HEAD "devices = (\n%s);\n", devices);
    if (testconf_load_text(text, &f->cfg, &e) != 0) {
        conf_errors_print(&e, stderr);
        fail_msg("the test config does not load");
    }
    assert_int_equal(hallmodel_new(f->cfg, &f->hm), 0);
    ingest_init(&f->in, f->cfg, f->hm);
    buf_init(&f->out, 1 << 20);
    return f;
}

static void fixture_free(struct fixture *f)
{
    buf_free(&f->out);
    hallmodel_free(f->hm);
    config_free(f->cfg);
    free(f);
}

/* What one point says: its device tag and its fields as "k=v" text. */
struct seen {
    char device[64];
    char fields[512];
};

/* Ingests topic/payload and every device it is about; returns how many
 * points were written, each described in seen[]. */
static size_t ingest_all(struct fixture *f, const char *topic, const char *payload,
                         struct seen *seen, size_t max)
{
    size_t n = 0, before = f->out.len;
    struct hm_device *dev = NULL;
    enum ingest_outcome o = ingest_message(&f->in, topic, strlen(topic), payload, strlen(payload),
                                           false, 1000, 1764150000.25, &f->out, &dev);
    for (; o == INGEST_WRITTEN; o = ingest_next(&f->in, &f->out, &dev)) {
        assert_non_null(dev);
        n++;
    }
    /* Parse back the lines written. */
    size_t got = 0;
    const char *p = f->out.data + before, *end = f->out.data + f->out.len;
    while (p < end && got < max) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        assert_non_null(nl);
        struct lp_point pt;
        assert_int_equal(lineproto_parse(p, (size_t)(nl - p), &pt), 0);
        struct seen *s = &seen[got++];
        memset(s, 0, sizeof(*s));
        for (size_t i = 0; i < pt.n_tags; i++) {
            if (strcmp(pt.tags[i].key, "device") == 0)
                (void)snprintf(s->device, sizeof(s->device), "%s", pt.tags[i].value);
        }
        size_t used = 0;
        for (size_t i = 0; i < pt.n_fields; i++) {
            const struct lp_field *fl = &pt.fields[i];
            int w = fl->type == LP_BOOL
                        ? snprintf(s->fields + used, sizeof(s->fields) - used, "%s%s=%s",
                                   used ? " " : "", fl->key, fl->b ? "true" : "false")
                        : snprintf(s->fields + used, sizeof(s->fields) - used, "%s%s=%g",
                                   used ? " " : "", fl->key, fl->f);
            assert_true(w > 0 && (size_t)w < sizeof(s->fields) - used);
            used += (size_t)w;
        }
        lineproto_point_free(&pt);
        p = nl + 1;
    }
    assert_int_equal(got, n);
    return n;
}

static const struct seen *point_of(const struct seen *s, size_t n, const char *device)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(s[i].device, device) == 0)
            return &s[i];
    }
    fail_msg("no point for %s", device);
    return NULL;
}

#define PRO2                                                                                       \
    "  { id = \"desk-a\"; hall = \"h1\"; kind = \"plug\"; source = \"shelly:shellyplus2pm-1\"; "   \
    "},\n"                                                                                         \
    "  { id = \"desk-b\"; hall = \"h1\"; kind = \"plug\"; source = \"shelly:shellyplus2pm-1#1\"; " \
    "}\n"

static void test_each_channel_device_gets_its_metrics_under_plain_names(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(PRO2);
    struct seen s[4];
    size_t n = ingest_all(f, "shellyplus2pm-1/events/rpc",
                          "{\"method\":\"NotifyStatus\",\"params\":{"
                          "\"switch:0\":{\"output\":true,\"apower\":12.5,\"aenergy\":{\"total\":"
                          "2000}},\"switch:1\":{\"output\":false,\"apower\":3,\"aenergy\":{"
                          "\"total\":500}}}}",
                          s, 4);
    assert_int_equal(n, 2);
    assert_string_equal(point_of(s, n, "desk-a")->fields, "on=true power_w=12.5 energy_kwh=2");
    assert_string_equal(point_of(s, n, "desk-b")->fields, "on=false power_w=3 energy_kwh=0.5");

    /* The hall model: desk-b's relay is "on" (what enforcement reads). */
    struct route r = {.format = FORMAT_SHELLY};
    strcpy(r.name, "shellyplus2pm-1#1");
    struct hm_device *b = hallmodel_lookup(f->hm, &r);
    assert_non_null(b);
    const struct hm_value *v = hallmodel_value(b, "on");
    assert_non_null(v);
    assert_false(v->b);
    assert_null(hallmodel_value(b, "on_1"));
    assert_int_equal(b->shelly_gen, 2);

    /* Only channel 1 in the message: desk-b alone. */
    n = ingest_all(f, "shellyplus2pm-1/status/switch:1", "{\"id\":1,\"output\":true}", s, 4);
    assert_int_equal(n, 1);
    assert_string_equal(s[0].device, "desk-b");
    assert_string_equal(s[0].fields, "on=true");
    fixture_free(f);
}

static void test_availability_reaches_every_channel(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(PRO2);
    struct seen s[4];
    size_t n = ingest_all(f, "shellyplus2pm-1/online", "false", s, 4);
    assert_int_equal(n, 2);
    assert_string_equal(point_of(s, n, "desk-a")->fields, "online=false");
    assert_string_equal(point_of(s, n, "desk-b")->fields, "online=false");
    fixture_free(f);
}

static void test_gen1_relay_of_a_channel_device(void **state)
{
    (void)state;
    struct fixture *f = fixture_new("  { id = \"lamp-b\"; hall = \"h1\"; kind = \"plug\"; source = "
                                    "\"shelly:shellyswitch25-C45BBE6B2E#1\"; }\n");
    struct seen s[4];
    /* Channel 0 has no device: nothing is written for it. */
    assert_int_equal(ingest_all(f, "shellies/shellyswitch25-C45BBE6B2E/relay/0", "on", s, 4), 0);
    size_t n = ingest_all(f, "shellies/shellyswitch25-C45BBE6B2E/relay/1", "off", s, 4);
    assert_int_equal(n, 1);
    assert_string_equal(s[0].device, "lamp-b");
    assert_string_equal(s[0].fields, "on=false");
    n = ingest_all(f, "shellies/shellyswitch25-C45BBE6B2E/relay/1/energy", "1800", s, 4);
    assert_int_equal(n, 1);
    assert_string_equal(s[0].fields, "energy_kwh=0.03");
    struct route r = {.format = FORMAT_SHELLY};
    strcpy(r.name, "shellyswitch25-C45BBE6B2E#1");
    assert_int_equal(hallmodel_lookup(f->hm, &r)->shelly_gen, 1);
    fixture_free(f);
}

/* Without channel bindings the device gets every channel, as before. */
static void test_a_device_bound_whole_keeps_every_channel(void **state)
{
    (void)state;
    struct fixture *f = fixture_new("  { id = \"strip\"; hall = \"h1\"; kind = \"plug\"; source = "
                                    "\"shelly:shellyswitch25-1\"; }\n");
    struct seen s[2];
    size_t n = ingest_all(f, "shellies/shellyswitch25-1/relay/1", "overpower", s, 2);
    assert_int_equal(n, 1);
    assert_string_equal(s[0].fields, "on_1=false overpower_1=true");
    struct route r = {.format = FORMAT_SHELLY};
    strcpy(r.name, "shellyswitch25-1");
    struct hm_device *d = hallmodel_lookup(f->hm, &r);
    assert_int_equal(d->shelly_gen, 1);
    n = ingest_all(f, "shellyswitch25-1/online", "true", s, 2);
    assert_int_equal(d->shelly_gen, 2);
    fixture_free(f);
}

/* The global shellies/announce names its device in the payload. */
static void test_global_announce_marks_its_device_online(void **state)
{
    (void)state;
    struct fixture *f = fixture_new("  { id = \"plug\"; hall = \"h1\"; kind = \"plug\"; source = "
                                    "\"shelly:shellyplug-s-7C87CE\"; }\n");
    struct seen s[2];
    size_t n = ingest_all(f, "shellies/announce",
                          "{\"id\":\"shellyplug-s-7C87CE\",\"model\":\"SHPLG-S\"}", s, 2);
    assert_int_equal(n, 1);
    assert_string_equal(s[0].device, "plug");
    assert_string_equal(s[0].fields, "online=true");
    uint64_t bad = metrics_get(MET_REJECT_BAD_VALUE);
    assert_int_equal(ingest_all(f, "shellies/announce", "{\"model\":\"SHPLG-S\"}", s, 2), 0);
    assert_int_equal(metrics_get(MET_REJECT_BAD_VALUE), bad + 1);
    fixture_free(f);
}

/* A Gen1 value that is not what its topic carries: nothing written, counted. */
static void test_gen1_bad_values_are_counted(void **state)
{
    (void)state;
    struct fixture *f = fixture_new("  { id = \"plug\"; hall = \"h1\"; kind = \"plug\"; source = "
                                    "\"shelly:shellyplug-s-7C87CE\"; }\n");
    struct seen s[2];
    static const char *const bad[][2] = {
        {"relay/0", "ON"},          {"relay/0", ""},
        {"relay/0/power", "12 W"},  {"relay/0/energy", "-"},
        {"relay/0/power", "1e999"}, {"online", "yes"},
    };
    uint64_t before = metrics_get(MET_REJECT_BAD_VALUE) + metrics_get(MET_REJECT_BAD_STATUS);
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        char topic[128];
        (void)snprintf(topic, sizeof(topic), "shellies/shellyplug-s-7C87CE/%s", bad[i][0]);
        assert_int_equal(ingest_all(f, topic, bad[i][1], s, 2), 0);
    }
    assert_int_equal(metrics_get(MET_REJECT_BAD_VALUE) + metrics_get(MET_REJECT_BAD_STATUS),
                     before + ARRAY_SIZE(bad));
    fixture_free(f);
}

int main(void)
{
    static const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_channel_of_each_key),
        cmocka_unit_test(test_bad_channel_numbers_are_config_errors),
        cmocka_unit_test(test_channel_0_is_the_device_itself),
        cmocka_unit_test(test_find_channels_lists_only_that_devices_channels),
        cmocka_unit_test(test_each_channel_device_gets_its_metrics_under_plain_names),
        cmocka_unit_test(test_availability_reaches_every_channel),
        cmocka_unit_test(test_gen1_relay_of_a_channel_device),
        cmocka_unit_test(test_a_device_bound_whole_keeps_every_channel),
        cmocka_unit_test(test_global_announce_marks_its_device_online),
        cmocka_unit_test(test_gen1_bad_values_are_counted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
