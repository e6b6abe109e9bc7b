/* Home Assistant discovery: the retained config payloads (homeassistant.h),
 * the hall state they read (hallstate.h) and the config keys. */
#include <errno.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "buf.h"
#include "config.h"
#include "hallmodel.h"
#include "hallstate.h"
#include "homeassistant.h"
#include "ingest.h"
#include "testconf.h"

/* Loads text; NULL when refused, with the first error's message in why. */
static struct config *try_load(const char *text, char *why, size_t why_size)
{
    struct config *c = NULL;
    struct conf_errors e = {0};
    int rc = testconf_load_text(text, &c, &e);
    if (why_size)
        (void)snprintf(why, why_size, "%s: %s", e.n ? e.v[0].key : "",
                       e.n ? e.v[0].msg : "(no error)");
    conf_errors_free(&e);
    return rc == 0 ? c : NULL;
}

#define BASE                                                                                       \
    "gateway = { id = \"gw-1\"; };\n"                                                              \
    "mqtt = { uri = \"tcp://127.0.0.1:1883\"; };\n"                                                \
    "halls = ( { id = \"h1\"; name = \"大厅 一\"; windows = (\n"                                \
    "    { id = \"w01\"; name = \"综合受理 1\"; seat = \"seat-1\"; pc = \"pc-01\"; },\n"       \
    "    { id = \"w.2\"; } ) },\n"                                                                 \
    "  { id = \"h_2\"; } );\n"                                                                     \
    "devices = ( { id = \"seat-1\"; hall = \"h1\"; kind = \"seat\"; },\n"                          \
    "  { id = \"pc-01\"; hall = \"h1\"; kind = \"pc\"; },\n"                                       \
    "  { id = \"pc_01\"; hall = \"h1\"; kind = \"pc\"; } );\n"                                     \
    "rules = ( { name = \"av-scan-overdue\"; type = \"max_age\"; kind = \"pc\";\n"                 \
    "    metric = \"av_last_scan\"; max_age = \"7d\"; severity = \"major\"; },\n"                  \
    "  { name = \"av-signatures-old\"; type = \"max_age\"; kind = \"pc\";\n"                       \
    "    metric = \"av_sig_updated\"; max_age = \"3d\"; severity = \"major\"; } );\n"

#define ENABLED BASE "homeassistant = { enabled = true; };\n"

static const struct homeassistant_config *find(const struct homeassistant_configs *c,
                                               const char *topic)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->v[i].topic, topic) == 0)
            return &c->v[i];
    fail_msg("no config on %s", topic);
    return NULL;
}

static json_t *parse(const struct homeassistant_config *hc)
{
    json_error_t err;
    json_t *j = json_loadb(hc->payload, hc->payload_len, JSON_REJECT_DUPLICATES, &err);
    if (!j)
        fail_msg("%s: not JSON: %s", hc->topic, err.text);
    assert_true(json_is_object(j));
    return j;
}

static const char *str(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    if (!s)
        fail_msg("no string \"%s\"", key);
    return s;
}

static void test_off_by_default_and_when_disabled_nothing_is_published(void **state)
{
    (void)state;
    const char *texts[] = {BASE, BASE "homeassistant = { enabled = false; };\n"};
    for (size_t i = 0; i < 2; i++) {
        struct config *c = testconf_load(texts[i]);
        struct homeassistant_configs hc;
        assert_false(c->homeassistant.enabled);
        assert_string_equal(c->homeassistant.discovery_prefix, "homeassistant");
        assert_int_equal(homeassistant_configs(c, &hc), 0);
        assert_int_equal(hc.n, 0);
        homeassistant_configs_free(&hc);
        config_free(c);
    }
}

static void test_every_hall_window_and_pc_has_a_valid_config(void **state)
{
    (void)state;
    struct config *c = testconf_load(ENABLED);
    struct homeassistant_configs hc;
    assert_int_equal(homeassistant_configs(c, &hc), 0);
    /* h1: open, alerts, 2 windows, 2 PCs; h_2: open, alerts. */
    assert_int_equal(hc.n, 8);
    for (size_t i = 0; i < hc.n; i++) {
        json_t *j = parse(&hc.v[i]);
        /* Every entity: named, unique, on a state topic, available with
         * the gateway's LWT, in a hall's device. */
        str(j, "name");
        str(j, "unique_id");
        str(j, "value_template");
        assert_int_equal(strncmp(str(j, "state_topic"), "hall/", 5), 0);
        assert_string_equal(str(j, "availability_topic"), "hall/_gateway/gw-1/status");
        assert_string_equal(str(j, "payload_available"), "online");
        assert_string_equal(str(j, "payload_not_available"), "offline");
        json_t *dev = json_object_get(j, "device");
        assert_true(json_is_object(dev));
        assert_int_equal(json_array_size(json_object_get(dev, "identifiers")), 1);
        assert_string_equal(str(dev, "manufacturer"), "hallgw");
        assert_string_equal(str(json_object_get(j, "origin"), "name"), "hallgw");
        /* The topic: <prefix>/<component>/<node>/<object>/config, levels
         * of A-Z a-z 0-9 _ - only. */
        const char *t = hc.v[i].topic;
        assert_int_equal(strncmp(t, "homeassistant/", 14), 0);
        size_t len = strlen(t);
        assert_string_equal(t + len - 7, "/config");
        for (const char *p = t + 14; p < t + len - 7; p++)
            assert_true(strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-/",
                               *p) != NULL);
        json_decref(j);
    }

    json_t *j = parse(find(&hc, "homeassistant/binary_sensor/hallgw-gw_h1/h1-window-w01/config"));
    assert_string_equal(str(j, "unique_id"), "hallgw-gw_h1-h1-window-w01");
    assert_string_equal(str(j, "name"), "综合受理 1 staffed");
    assert_string_equal(str(j, "state_topic"), "hall/h1/windows/w01");
    assert_string_equal(str(j, "device_class"), "occupancy");
    assert_non_null(strstr(str(j, "value_template"), "value_json.staffed"));
    json_t *dev = json_object_get(j, "device");
    assert_string_equal(json_string_value(json_array_get(json_object_get(dev, "identifiers"), 0)),
                        "hallgw-gw_h1-h1");
    assert_string_equal(str(dev, "name"), "大厅 一");
    json_decref(j);

    j = parse(find(&hc, "homeassistant/binary_sensor/hallgw-gw_h1/h1-window-w_d2/config"));
    assert_string_equal(str(j, "name"), "w.2 staffed");
    assert_string_equal(str(j, "state_topic"), "hall/h1/windows/w.2");
    json_decref(j);

    j = parse(find(&hc, "homeassistant/binary_sensor/hallgw-gw_h1/h1-open/config"));
    assert_string_equal(str(j, "state_topic"), "hall/h1/state");
    assert_non_null(strstr(str(j, "value_template"), "value_json.open"));
    json_decref(j);

    j = parse(find(&hc, "homeassistant/sensor/hallgw-gw_h1/h__2-alerts/config"));
    assert_string_equal(str(j, "state_topic"), "hall/h_2/state");
    assert_string_equal(str(j, "value_template"), "{{ value_json.active_alerts }}");
    assert_string_equal(json_string_value(json_array_get(
                            json_object_get(json_object_get(j, "device"), "identifiers"), 0)),
                        "hallgw-gw_h1-h__2");
    json_decref(j);

    /* A PC: a problem sensor with its entry of the hall state as attributes. */
    j = parse(find(&hc, "homeassistant/binary_sensor/hallgw-gw_h1/h1-pc-pc_h01/config"));
    assert_string_equal(str(j, "device_class"), "problem");
    assert_string_equal(str(j, "state_topic"), "hall/h1/state");
    assert_string_equal(str(j, "json_attributes_topic"), "hall/h1/state");
    assert_non_null(strstr(str(j, "value_template"), "value_json.pcs.get('pc-01')"));
    assert_non_null(strstr(str(j, "json_attributes_template"), "value_json.pcs.get('pc-01'"));
    json_decref(j);
    j = parse(find(&hc, "homeassistant/binary_sensor/hallgw-gw_h1/h1-pc-pc__01/config"));
    assert_non_null(strstr(str(j, "value_template"), "'pc_01'"));
    json_decref(j);

    homeassistant_configs_free(&hc);
    assert_int_equal(hc.n, 0);
    config_free(c);
}

static void test_unique_ids_are_unique_and_stable_across_loads(void **state)
{
    (void)state;
    struct config *a = testconf_load(ENABLED), *b = testconf_load(ENABLED);
    struct homeassistant_configs ha, hb;
    assert_int_equal(homeassistant_configs(a, &ha), 0);
    assert_int_equal(homeassistant_configs(b, &hb), 0);
    assert_int_equal(ha.n, hb.n);
    for (size_t i = 0; i < ha.n; i++) {
        assert_string_equal(ha.v[i].topic, hb.v[i].topic);
        assert_string_equal(ha.v[i].payload, hb.v[i].payload);
        json_t *ji = parse(&ha.v[i]);
        for (size_t k = i + 1; k < ha.n; k++) {
            json_t *jk = parse(&ha.v[k]);
            assert_string_not_equal(ha.v[i].topic, ha.v[k].topic);
            assert_string_not_equal(str(ji, "unique_id"), str(jk, "unique_id"));
            json_decref(jk);
        }
        json_decref(ji);
    }
    homeassistant_configs_free(&ha);
    homeassistant_configs_free(&hb);
    config_free(a);
    config_free(b);
}

static void test_ids_that_differ_only_in_punctuation_get_different_entities(void **state)
{
    (void)state;
    struct config *c =
        testconf_load("mqtt = { uri = \"tcp://127.0.0.1:1883\"; };\n"
                      "halls = ( { id = \"a.b\"; }, { id = \"a_b\"; }, { id = \"a-b\"; },\n"
                      "  { id = \"a_db\"; }, { id = \"a_hb\"; } );\n"
                      "homeassistant = { enabled = true; discovery_prefix = \"ha/test\"; };\n");
    struct homeassistant_configs hc;
    assert_int_equal(homeassistant_configs(c, &hc), 0);
    assert_int_equal(hc.n, 10);
    for (size_t i = 0; i < hc.n; i++) {
        assert_int_equal(strncmp(hc.v[i].topic, "ha/test/", 8), 0);
        for (size_t k = i + 1; k < hc.n; k++)
            assert_string_not_equal(hc.v[i].topic, hc.v[k].topic);
    }
    homeassistant_configs_free(&hc);
    config_free(c);
}

static void test_bad_discovery_prefixes_and_the_reserved_state_device_are_refused(void **state)
{
    (void)state;
    static const struct {
        const char *text, *why;
    } bad[] = {
        {BASE "homeassistant = { enabled = true; discovery_prefix = \"ha/#\"; };\n",
         "not a valid discovery prefix"},
        {BASE "homeassistant = { enabled = true; discovery_prefix = \"ha//x\"; };\n",
         "not a valid discovery prefix"},
        {BASE "homeassistant = { enabled = true; discovery_prefix = \"hall/ha\"; };\n",
         "must not be under mqtt.prefix"},
        {BASE "homeassistant = { enabled = true; discovery_prefix = \"hall\"; };\n",
         "must not be under mqtt.prefix"},
        {"mqtt = { uri = \"tcp://127.0.0.1:1883\"; prefix = \"homeassistant\"; };\n"
         "homeassistant = { enabled = true; };\n",
         "must not be under mqtt.prefix"},
        {BASE "homeassistant = { enabled = 1; };\n", ""},
        {BASE "homeassistant = { enable = true; };\n", ""},
        {"mqtt = { uri = \"tcp://127.0.0.1:1883\"; };\nhalls = ( { id = \"h1\"; } );\n"
         "devices = ( { id = \"state\"; hall = \"h1\"; kind = \"env\"; } );\n",
         "reserved"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char why[512];
        struct config *c = try_load(bad[i].text, why, sizeof(why));
        if (c)
            fail_msg("case %zu accepted", i);
        if (!strstr(why, bad[i].why))
            fail_msg("case %zu: %s", i, why);
    }
    struct config *c = testconf_load(
        BASE "homeassistant = { enabled = true; discovery_prefix = \"halls/ha\"; };\n");
    assert_string_equal(c->homeassistant.discovery_prefix, "halls/ha");
    config_free(c);
}

/* ---- the hall state ---- */

struct hall_fixture {
    struct config *cfg;
    struct hallmodel *hm;
    struct ingest in;
    struct buf out;
};

static void hf_open(struct hall_fixture *f)
{
    f->cfg = testconf_load(ENABLED);
    assert_int_equal(hallmodel_new(f->cfg, &f->hm), 0);
    ingest_init(&f->in, f->cfg, f->hm);
    buf_init(&f->out, 1 << 20);
}

static void hf_close(struct hall_fixture *f)
{
    buf_free(&f->out);
    hallmodel_free(f->hm);
    config_free(f->cfg);
}

static void telemetry(struct hall_fixture *f, const char *device, const char *payload, wall_s t)
{
    char topic[128];
    snprintf(topic, sizeof(topic), "hall/h1/%s/telemetry", device);
    assert_int_equal(ingest_message(&f->in, topic, strlen(topic), payload, strlen(payload), false,
                                    1000, t, &f->out, NULL),
                     INGEST_WRITTEN);
}

static json_t *hall_state(struct hall_fixture *f, size_t alerts, wall_s t)
{
    struct buf b;
    json_error_t err;
    buf_init(&b, 0);
    assert_int_equal(hallstate_json(f->cfg, NULL, f->hm, &f->cfg->halls[0], alerts, t, &b), 0);
    json_t *j = json_loadb(b.data, b.len, JSON_REJECT_DUPLICATES, &err);
    if (!j)
        fail_msg("not JSON: %s: %.*s", err.text, (int)b.len, b.data);
    buf_free(&b);
    return j;
}

static void test_hall_state_counts_staffed_windows_and_alerts(void **state)
{
    (void)state;
    struct hall_fixture f;
    hf_open(&f);
    wall_s t = 1795746224.0;
    json_t *j = hall_state(&f, 3, t);
    assert_string_equal(str(j, "hall"), "h1");
    assert_int_equal(json_integer_value(json_object_get(j, "windows")), 2);
    assert_int_equal(json_integer_value(json_object_get(j, "staffed")), 0);
    assert_int_equal(json_integer_value(json_object_get(j, "active_alerts")), 3);
    assert_true(json_is_boolean(json_object_get(j, "open")));
    /* Not heard from yet: compliance unknown. */
    json_t *pc = json_object_get(json_object_get(j, "pcs"), "pc-01");
    assert_true(json_is_null(json_object_get(pc, "compliant")));
    assert_string_equal(str(pc, "window"), "w01");
    json_decref(j);

    telemetry(&f, "seat-1", "{\"presence\":true}", t);
    j = hall_state(&f, 0, t);
    assert_int_equal(json_integer_value(json_object_get(j, "staffed")), 1);
    json_decref(j);
    hf_close(&f);
}

static void test_pc_compliance_follows_the_rules_and_antivirus_state(void **state)
{
    (void)state;
    struct hall_fixture f;
    hf_open(&f);
    wall_s t = 1795746224.0;
    char payload[256];
    snprintf(payload, sizeof(payload),
             "{\"av_realtime\":true,\"av_sig_updated\":%.0f,\"av_last_scan\":%.0f,"
             "\"av_threats\":0}",
             t - 86400, t - 2 * 86400);
    telemetry(&f, "pc-01", payload, t);
    json_t *j = hall_state(&f, 0, t);
    json_t *pc = json_object_get(json_object_get(j, "pcs"), "pc-01");
    assert_true(json_is_true(json_object_get(pc, "compliant")));
    assert_int_equal(json_array_size(json_object_get(pc, "problems")), 0);
    assert_true(json_is_true(json_object_get(pc, "av_realtime")));
    json_decref(j);

    /* Four days later the signatures are past av-signatures-old's 3 days. */
    j = hall_state(&f, 0, t + 4 * 86400);
    pc = json_object_get(json_object_get(j, "pcs"), "pc-01");
    assert_true(json_is_false(json_object_get(pc, "compliant")));
    assert_int_equal(json_array_size(json_object_get(pc, "problems")), 1);
    assert_string_equal(json_string_value(json_array_get(json_object_get(pc, "problems"), 0)),
                        "av-signatures-old");
    json_decref(j);

    static const struct {
        const char *payload, *problem;
    } bad[] = {
        {"{\"av_realtime\":false}", "realtime_off"},
        {"{\"av_threats\":2}", "threats"},
        {"{\"usb_storage\":\"Kingston DataTraveler\"}", "usb_storage"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct hall_fixture g;
        hf_open(&g);
        telemetry(&g, "pc_01", bad[i].payload, t);
        const struct hm_device *d = NULL;
        struct route r = {.format = FORMAT_NATIVE, .hall = "h1", .device = "pc_01"};
        d = hallmodel_lookup(g.hm, &r);
        assert_non_null(d);
        struct hallstate_pc st;
        hallstate_pc_compliance(g.cfg, d, t, &st);
        assert_int_equal(st.compliant, 0);
        assert_int_equal(st.n_problems, 1);
        assert_string_equal(st.problems[0], bad[i].problem);
        hf_close(&g);
    }
    struct route r = {.format = FORMAT_NATIVE, .hall = "h1", .device = "pc-01"};
    struct hallstate_pc st;
    telemetry(&f, "pc-01", "{\"usb_storage\":\"none\"}", t);
    hallstate_pc_compliance(f.cfg, hallmodel_lookup(f.hm, &r), t, &st);
    assert_int_equal(st.compliant, 1);
    hf_close(&f);
}

static void test_the_same_state_gives_the_same_payload(void **state)
{
    (void)state;
    struct hall_fixture f;
    hf_open(&f);
    struct buf a, b;
    buf_init(&a, 0);
    buf_init(&b, 0);
    /* Ten seconds apart, nothing reported: nothing to publish again. */
    assert_int_equal(hallstate_json(f.cfg, NULL, f.hm, &f.cfg->halls[0], 1, 1795746224.0, &a), 0);
    assert_int_equal(hallstate_json(f.cfg, NULL, f.hm, &f.cfg->halls[0], 1, 1795746234.0, &b), 0);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.data, b.data, a.len);
    char topic[64];
    assert_int_equal(hallstate_topic(f.cfg, "h1", topic, sizeof(topic)), 13);
    assert_string_equal(topic, "hall/h1/state");
    assert_int_equal(hallstate_topic(f.cfg, "h1", topic, 8), -ENOSPC);
    buf_free(&a);
    buf_free(&b);
    hf_close(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_off_by_default_and_when_disabled_nothing_is_published),
        cmocka_unit_test(test_every_hall_window_and_pc_has_a_valid_config),
        cmocka_unit_test(test_unique_ids_are_unique_and_stable_across_loads),
        cmocka_unit_test(test_ids_that_differ_only_in_punctuation_get_different_entities),
        cmocka_unit_test(test_bad_discovery_prefixes_and_the_reserved_state_device_are_refused),
        cmocka_unit_test(test_hall_state_counts_staffed_windows_and_alerts),
        cmocka_unit_test(test_pc_compliance_follows_the_rules_and_antivirus_state),
        cmocka_unit_test(test_the_same_state_gives_the_same_payload),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
