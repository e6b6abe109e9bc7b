/* Home Assistant discovery at run time (ha_publish.h): what is published at
 * a connect, at a reload and when the broker can not take it. */
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
#include "ha_publish.h"
#include "hallmodel.h"
#include "testconf.h"

#define MAX_SENT 256

/* The broker as the publisher sees it: what was published, in order, and
 * how many more publishes it takes before refusing (-1: all). */
struct broker {
    char *topic[MAX_SENT];
    char *payload[MAX_SENT];
    size_t n;
    int room;
};

static int fake_publish(void *ctx, const char *topic, const char *payload, size_t len,
                        bool retained)
{
    struct broker *b = ctx;
    assert_true(retained);
    if (b->room == 0)
        return -ENOTCONN;
    if (b->room > 0)
        b->room--;
    assert_true(b->n < MAX_SENT);
    b->topic[b->n] = strdup(topic);
    b->payload[b->n] = strndup(payload, len);
    b->n++;
    return 0;
}

static void broker_reset(struct broker *b)
{
    for (size_t i = 0; i < b->n; i++) {
        free(b->topic[i]);
        free(b->payload[i]);
    }
    b->n = 0;
    b->room = -1;
}

/* How many times topic was published with a payload ("" : empty) or at all (NULL). */
static size_t sent(const struct broker *b, const char *topic, const char *payload)
{
    size_t n = 0;
    for (size_t i = 0; i < b->n; i++)
        if (strcmp(b->topic[i], topic) == 0 && (!payload || strcmp(b->payload[i], payload) == 0))
            n++;
    return n;
}

static size_t sent_empty(const struct broker *b, const char *topic)
{
    return sent(b, topic, "");
}

static size_t sent_full(const struct broker *b, const char *topic)
{
    return sent(b, topic, NULL) - sent_empty(b, topic);
}

#define MQTT "mqtt = { uri = \"tcp://127.0.0.1:1883\"; };\n"
#define ON "homeassistant = { enabled = true; };\n"
#define TWO_HALLS                                                                                  \
    "halls = ( { id = \"h1\"; windows = ( { id = \"w1\"; }, { id = \"w2\"; } ) },\n"               \
    "  { id = \"h2\"; } );\n"
#define ONE_HALL "halls = ( { id = \"h1\"; windows = ( { id = \"w1\"; } ) } );\n"

static const char *const W1 = "homeassistant/binary_sensor/hallgw-gw_h1/h1-window-w1/config";
static const char *const W2 = "homeassistant/binary_sensor/hallgw-gw_h1/h1-window-w2/config";
static const char *const H2_OPEN = "homeassistant/binary_sensor/hallgw-gw_h1/h2-open/config";
static const char *const H2_STATE = "hall/h2/state";

struct fixture {
    struct config *cfg;
    struct hallmodel *hm;
    struct ha_publish *d;
    struct broker b;
};

static void open_with(struct fixture *f, const char *text)
{
    memset(f, 0, sizeof(*f));
    f->b.room = -1;
    f->cfg = testconf_load(text);
    assert_int_equal(hallmodel_new(f->cfg, &f->hm), 0);
    struct ha_publish_io io = {.ctx = &f->b, .publish = fake_publish};
    assert_int_equal(ha_publish_new(f->cfg, f->hm, NULL, &io, &f->d), 0);
}

static void reload(struct fixture *f, const char *text)
{
    struct config *nc = testconf_load(text);
    assert_int_equal(hallmodel_apply_config(f->hm, nc), 0);
    assert_int_equal(ha_publish_set_config(f->d, nc), 0);
    config_free(f->cfg);
    f->cfg = nc;
}

static void close_fixture(struct fixture *f)
{
    ha_publish_free(f->d);
    hallmodel_free(f->hm);
    config_free(f->cfg);
    broker_reset(&f->b);
}

static void test_nothing_is_published_while_disabled(void **state)
{
    (void)state;
    struct fixture f;
    open_with(&f, MQTT TWO_HALLS);
    ha_publish_tick(f.d, true, 1795746224.0, 1000);
    ha_publish_tick(f.d, true, 1795746226.0, 3000);
    assert_int_equal(f.b.n, 0);
    close_fixture(&f);
}

static void test_a_connect_publishes_configs_then_states_and_a_reconnect_all_again(void **state)
{
    (void)state;
    struct fixture f;
    open_with(&f, MQTT TWO_HALLS ON);
    ha_publish_tick(f.d, false, 1795746224.0, 1000);
    assert_int_equal(f.b.n, 0);
    ha_publish_tick(f.d, true, 1795746224.0, 1000);
    /* h1: open, alerts, w1, w2; h2: open, alerts; and both hall states. */
    assert_int_equal(f.b.n, 8);
    assert_int_equal(sent_full(&f.b, W1), 1);
    assert_int_equal(sent_full(&f.b, "hall/h1/state"), 1);
    assert_int_equal(sent_full(&f.b, H2_STATE), 1);
    /* Unchanged: nothing more, also after a second. */
    ha_publish_tick(f.d, true, 1795746225.0, 1500);
    ha_publish_tick(f.d, true, 1795746226.0, 2100);
    assert_int_equal(f.b.n, 8);
    /* The connection drops and comes back: everything again. */
    ha_publish_tick(f.d, false, 1795746227.0, 3000);
    ha_publish_tick(f.d, true, 1795746228.0, 4000);
    assert_int_equal(f.b.n, 16);
    assert_int_equal(sent_full(&f.b, W1), 2);
    assert_int_equal(sent_full(&f.b, H2_STATE), 2);
    close_fixture(&f);
}

static void test_configs_the_broker_refused_go_out_at_the_next_turn_without_repeats(void **state)
{
    (void)state;
    struct fixture f;
    open_with(&f, MQTT TWO_HALLS ON);
    f.b.room = 3;
    ha_publish_tick(f.d, true, 1795746224.0, 1000);
    assert_int_equal(f.b.n, 3);
    f.b.room = -1;
    ha_publish_tick(f.d, true, 1795746224.0, 1010);
    assert_int_equal(f.b.n, 6); /* the configs; the states at their next second */
    ha_publish_tick(f.d, true, 1795746225.0, 2000);
    /* Each config once, then the states. */
    assert_int_equal(f.b.n, 8);
    assert_int_equal(sent_full(&f.b, W1), 1);
    assert_int_equal(sent_full(&f.b, W2), 1);
    assert_int_equal(sent_full(&f.b, H2_OPEN), 1);
    close_fixture(&f);
}

static void test_a_reload_removes_what_it_took_away(void **state)
{
    (void)state;
    struct fixture f;
    open_with(&f, MQTT TWO_HALLS ON);
    ha_publish_tick(f.d, true, 1795746224.0, 1000);
    broker_reset(&f.b);
    reload(&f, MQTT ONE_HALL ON);
    /* w2, h2's open and alerts and h2's state are emptied; h1's configs
     * are published again. */
    assert_int_equal(sent_empty(&f.b, W2), 1);
    assert_int_equal(sent_empty(&f.b, H2_OPEN), 1);
    assert_int_equal(sent_empty(&f.b, "homeassistant/sensor/hallgw-gw_h1/h2-alerts/config"), 1);
    assert_int_equal(sent_empty(&f.b, H2_STATE), 1);
    assert_int_equal(sent_empty(&f.b, W1), 0);
    assert_int_equal(sent_full(&f.b, W1), 1);

    /* Turned off: everything it published is removed. */
    broker_reset(&f.b);
    reload(&f, MQTT ONE_HALL);
    ha_publish_tick(f.d, true, 1795746225.0, 2000);
    assert_int_equal(sent_empty(&f.b, W1), 1);
    assert_int_equal(sent_empty(&f.b, "hall/h1/state"), 1);
    assert_int_equal(f.b.n, 4); /* open, alerts, w1, the state */
    close_fixture(&f);
}

static void test_a_removal_made_while_disconnected_is_sent_at_the_connect_once(void **state)
{
    (void)state;
    struct fixture f;
    open_with(&f, MQTT TWO_HALLS ON);
    ha_publish_tick(f.d, true, 1795746224.0, 1000);
    ha_publish_tick(f.d, false, 1795746224.0, 1100);
    broker_reset(&f.b);
    f.b.room = 0;
    reload(&f, MQTT ONE_HALL ON);
    reload(&f, MQTT TWO_HALLS ON); /* back: nothing to remove */
    reload(&f, MQTT ONE_HALL ON);
    reload(&f, MQTT ONE_HALL ON);
    assert_int_equal(f.b.n, 0);
    f.b.room = -1;
    ha_publish_tick(f.d, true, 1795746225.0, 2000);
    /* The removals, once each, before the configs. */
    assert_int_equal(sent_empty(&f.b, W2), 1);
    assert_int_equal(sent_empty(&f.b, H2_OPEN), 1);
    assert_string_equal(f.b.payload[0], "");
    assert_int_equal(sent_full(&f.b, W1), 1);
    close_fixture(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nothing_is_published_while_disabled),
        cmocka_unit_test(test_a_connect_publishes_configs_then_states_and_a_reconnect_all_again),
        cmocka_unit_test(test_configs_the_broker_refused_go_out_at_the_next_turn_without_repeats),
        cmocka_unit_test(test_a_reload_removes_what_it_took_away),
        cmocka_unit_test(test_a_removal_made_while_disconnected_is_sent_at_the_connect_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
