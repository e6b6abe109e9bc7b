/* ingest: the timestamp of each point. A device's own sane time is used as
 * it is; readings stamped on arrival never share an instant within their
 * series, not in a burst and not across the gateways of a shared group. */
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
#include "hallmodel.h"
#include "ingest.h"
#include "lineproto_parse.h"
#include "testconf.h"

static const char config_format[] =
    "gateway = { id = \"%s\"; timezone = \"UTC\"; state_dir = \"/tmp\"; };\n"
    "mqtt = { uri = \"tcp://127.0.0.1:1883\"; prefix = \"hall\"; };\n"
    "halls = ( { id = \"h1\"; } );\n"
    "devices = ( { id = \"env-1\"; hall = \"h1\"; kind = \"env\"; } );\n";

static const wall_s arrival = 1764150000.25; /* 2025-11-26 */

struct fixture {
    struct config *cfg;
    struct hallmodel *hm;
    struct ingest in;
    struct buf out;
};

static struct fixture *fixture_new(const char *gateway_id)
{
    char text[1024];
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    (void)snprintf(text, sizeof(text), config_format, gateway_id);
#pragma GCC diagnostic pop
    f->cfg = testconf_load(text);
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

/* Ingests one env-1 telemetry payload arriving at t; returns its point's
 * timestamp. */
static int64_t ingest_at(struct fixture *f, const char *payload, wall_s t)
{
    static const char topic[] = "hall/h1/env-1/telemetry";
    size_t before = f->out.len;
    enum ingest_outcome o = ingest_message(&f->in, topic, strlen(topic), payload, strlen(payload),
                                           false, 1000, t, &f->out, NULL);
    assert_int_equal(o, INGEST_WRITTEN);
    struct lp_point p;
    assert_int_equal(lineproto_parse(f->out.data + before, f->out.len - before - 1, &p), 0);
    assert_true(p.has_ts);
    int64_t ts = p.ts_ns;
    lineproto_point_free(&p);
    return ts;
}

static void test_a_burst_arriving_at_one_instant_keeps_every_reading(void **state)
{
    (void)state;
    struct fixture *f = fixture_new("gw-1");
    int64_t last = 0;
    for (int i = 0; i < 5; i++) {
        int64_t ts = ingest_at(f, "{\"temperature\": 21.5}", arrival);
        /* Each a microsecond after the one before, the first at the
         * arrival itself. */
        if (i == 0)
            assert_true(ts >= wall_ns(arrival) && ts < wall_ns(arrival) + 1000);
        else
            assert_int_equal(ts - last, 1000);
        last = ts;
    }
    /* A later arrival is used as it is. */
    int64_t later = ingest_at(f, "{\"temperature\": 21.5}", arrival + 1);
    assert_int_equal(later / 1000, wall_ns(arrival + 1) / 1000);
    fixture_free(f);
}

static void test_a_device_time_is_used_as_sent(void **state)
{
    (void)state;
    struct fixture *f = fixture_new("gw-1");
    /* The same reading sent twice is one point: the same instant. */
    int64_t a = ingest_at(f, "{\"temperature\": 21.5, \"ts\": 1764149990.5}", arrival);
    int64_t b = ingest_at(f, "{\"temperature\": 21.5, \"ts\": 1764149990.5}", arrival);
    assert_int_equal(a, INT64_C(1764149990500000000));
    assert_int_equal(b, a);
    /* A clock never set (1970) is not believed: the arrival is. */
    int64_t c = ingest_at(f, "{\"temperature\": 21.5, \"ts\": 12}", arrival + 2);
    assert_int_equal(c / 1000, wall_ns(arrival + 2) / 1000);
    fixture_free(f);
}

static void test_gateways_sharing_a_device_stamp_different_instants(void **state)
{
    (void)state;
    struct fixture *one = fixture_new("gw-1");
    struct fixture *two = fixture_new("gw-2");
    int64_t a = ingest_at(one, "{\"temperature\": 21.5}", arrival);
    int64_t b = ingest_at(two, "{\"temperature\": 21.5}", arrival);
    /* The same microsecond, told apart below it by the gateway's id. */
    assert_int_equal(a / 1000, b / 1000);
    assert_int_not_equal(a, b);
    /* The same gateway always stamps the same way. */
    struct fixture *again = fixture_new("gw-1");
    assert_int_equal(ingest_at(again, "{\"temperature\": 21.5}", arrival), a);
    fixture_free(one);
    fixture_free(two);
    fixture_free(again);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_burst_arriving_at_one_instant_keeps_every_reading),
        cmocka_unit_test(test_a_device_time_is_used_as_sent),
        cmocka_unit_test(test_gateways_sharing_a_device_stamp_different_instants),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
