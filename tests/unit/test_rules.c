/* Rule evaluation (rules.c) of threshold rules with `is`: the condition
 * holds while the metric equals the value, clears when it does not, and is
 * unknown while the value was never received live. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "rules.h"

/* A device with one value of key. */
struct dev {
    struct hm_device d;
    struct hm_value v;
};

static void dev_init(struct dev *x, const char *key)
{
    memset(x, 0, sizeof(*x));
    strcpy(x->d.id, "printer-1");
    strcpy(x->d.hall, "h1");
    x->v.key = key;
    x->d.values = &x->v;
    x->d.cap_values = 1;
}

static void set_bool(struct dev *x, bool b)
{
    x->d.n_values = 1;
    x->v.type = METRIC_BOOL;
    x->v.b = b;
    x->v.str = NULL;
}

static void set_str(struct dev *x, char *s)
{
    x->d.n_values = 1;
    x->v.type = METRIC_STRING;
    x->v.str = s;
}

static void set_num(struct dev *x, double v)
{
    x->d.n_values = 1;
    x->v.type = METRIC_NUMBER;
    x->v.num = v;
    x->v.str = NULL;
}

static struct rule_verdict eval(const struct config_rule *r, const struct dev *x)
{
    struct config_schedule s;
    memset(&s, 0, sizeof(s));
    struct rules_device_input in = {.wall = 1764150000, .now = 100000, .started = 1000};
    struct rule_verdict v;
    rules_eval_device(r, &s, &x->d, &in, &v);
    return v;
}

static void test_is_false_fires_while_false_and_clears_when_true(void **state)
{
    (void)state;
    struct config_rule r = {.name = "av-down",
                            .type = RULE_THRESHOLD,
                            .metric = "av_realtime",
                            .is_type = CONFIG_IS_BOOL,
                            .is_b = false,
                            .for_ms = 60000};
    struct dev x;
    dev_init(&x, "av_realtime");

    struct rule_verdict v = eval(&r, &x);
    assert_true(v.unknown); /* never seen */
    assert_false(v.condition);

    set_bool(&x, false);
    v = eval(&r, &x);
    assert_false(v.unknown);
    assert_true(v.condition);
    assert_int_equal(v.for_ms, 60000);
    assert_string_equal(v.summary, "av_realtime is false");

    set_bool(&x, true);
    v = eval(&r, &x);
    assert_false(v.unknown);
    assert_false(v.condition);
}

static void test_is_true_door_left_open(void **state)
{
    (void)state;
    struct config_rule r = {.name = "door-open",
                            .type = RULE_THRESHOLD,
                            .metric = "door_open",
                            .is_type = CONFIG_IS_BOOL,
                            .is_b = true};
    struct dev x;
    dev_init(&x, "door_open");
    set_bool(&x, true);
    struct rule_verdict v = eval(&r, &x);
    assert_true(v.condition);
    assert_string_equal(v.summary, "door_open is true");
    set_bool(&x, false);
    assert_false(eval(&r, &x).condition);
}

static void test_is_string_fires_while_the_status_says_it(void **state)
{
    (void)state;
    struct config_rule r = {.name = "paper",
                            .type = RULE_THRESHOLD,
                            .metric = "status",
                            .is_type = CONFIG_IS_STRING,
                            .is_str = "paper_out"};
    struct dev x;
    dev_init(&x, "status");
    char paper[] = "paper_out", ok[] = "ok", prefix[] = "paper_out_soon";
    set_str(&x, paper);
    struct rule_verdict v = eval(&r, &x);
    assert_true(v.condition);
    assert_false(v.has_value);
    assert_string_equal(v.summary, "status is paper_out");
    set_str(&x, ok);
    assert_false(eval(&r, &x).condition);
    set_str(&x, prefix);
    assert_false(eval(&r, &x).condition);
}

static void test_is_compares_types_too(void **state)
{
    (void)state;
    struct config_rule r = {.name = "mode",
                            .type = RULE_THRESHOLD,
                            .metric = "mode",
                            .is_type = CONFIG_IS_NUMBER,
                            .is_num = 3};
    struct dev x;
    dev_init(&x, "mode");
    set_num(&x, 3);
    struct rule_verdict v = eval(&r, &x);
    assert_true(v.condition);
    assert_true(v.has_value && v.value == 3);
    assert_string_equal(v.summary, "mode is 3");
    set_num(&x, 3.5);
    assert_false(eval(&r, &x).condition);
    /* A boolean true is not the number 1, nor the string "true" true. */
    r.is_type = CONFIG_IS_NUMBER;
    r.is_num = 1;
    set_bool(&x, true);
    assert_false(eval(&r, &x).condition);
    r.is_type = CONFIG_IS_BOOL;
    r.is_b = true;
    char t[] = "true";
    set_str(&x, t);
    v = eval(&r, &x);
    assert_false(v.unknown);
    assert_false(v.condition);
}

static void test_is_on_a_retained_value_is_unknown(void **state)
{
    (void)state;
    struct config_rule r = {.name = "av-down",
                            .type = RULE_THRESHOLD,
                            .metric = "av_realtime",
                            .is_type = CONFIG_IS_BOOL,
                            .is_b = false};
    struct dev x;
    dev_init(&x, "av_realtime");
    set_bool(&x, false);
    x.v.retained = true;
    struct rule_verdict v = eval(&r, &x);
    assert_true(v.unknown);
    assert_false(v.condition);
}

static void test_threshold_on_a_boolean_is_still_unknown(void **state)
{
    (void)state;
    /* above/below judge numbers only: a boolean gives no verdict. */
    struct config_rule r = {.name = "x",
                            .type = RULE_THRESHOLD,
                            .metric = "door_open",
                            .has_above = true,
                            .above = 0.5,
                            .clear_at = 0.5};
    struct dev x;
    dev_init(&x, "door_open");
    set_bool(&x, true);
    assert_true(eval(&r, &x).unknown);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_is_false_fires_while_false_and_clears_when_true),
        cmocka_unit_test(test_is_true_door_left_open),
        cmocka_unit_test(test_is_string_fires_while_the_status_says_it),
        cmocka_unit_test(test_is_compares_types_too),
        cmocka_unit_test(test_is_on_a_retained_value_is_unknown),
        cmocka_unit_test(test_threshold_on_a_boolean_is_still_unknown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
