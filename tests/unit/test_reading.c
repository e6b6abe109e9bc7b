/* reading: the fixed-size decoded message, its limits and its drop counting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "reading.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static struct reading r; /* large; not on the stack */

static int setup(void **state)
{
    (void)state;
    memset(&r, 0x5a, sizeof(r)); /* reset must not rely on a zeroed struct */
    reading_reset(&r, MSG_TELEMETRY);
    return 0;
}

struct key_case {
    const char *key;
    bool valid;
};

static const struct key_case key_cases[] = {
    {"temperature", true},
    {"co2", true},
    {"av_last_scan", true},
    {"switch:0_voltage", true},
    {"PM2.5", true},
    {"a-b", true},
    {"_", true},
    {"", false},
    {"a b", false},
    {"a,b", false},
    {"a=b", false},
    {"a\"b", false},
    {"a\nb", false},
    {"a/b", false},
    {"\xc3\xa9t\xc3\xa9", false},
    {"a\\b", false},
    {"a+b", false},
    {"x\ny=1 z", false},
};

static void test_key_charset_and_length(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(key_cases); i++) {
        if (reading_key_valid(key_cases[i].key, strlen(key_cases[i].key)) != key_cases[i].valid)
            fail_msg("key \"%s\": want %d", key_cases[i].key, key_cases[i].valid);
    }
    char k[READING_KEY_MAX + 2];
    memset(k, 'k', sizeof(k));
    assert_true(reading_key_valid(k, READING_KEY_MAX));
    assert_false(reading_key_valid(k, READING_KEY_MAX + 1));
    assert_false(reading_key_valid("a\0b", 3));
    assert_false(reading_key_valid(NULL, 0));
}

static void test_reset_empties_everything_and_sets_the_class(void **state)
{
    (void)state;
    assert_int_equal(reading_add_number(&r, "a", 1), 0);
    assert_int_equal(reading_add_number(&r, "bad key", 1), -EINVAL);
    r.status = AVAIL_ONLINE;
    r.ts = 1764150000;
    strcpy(r.event, "shutdown");
    reading_reset(&r, MSG_EVENT);
    assert_int_equal(r.cls, MSG_EVENT);
    assert_int_equal(r.status, AVAIL_UNKNOWN);
    assert_true(r.ts == 0);
    assert_string_equal(r.event, "");
    assert_int_equal(r.n_metrics, 0);
    assert_int_equal(r.dropped_keys, 0);
    assert_null(reading_find(&r, "a"));
}

static void test_values_of_each_type_are_stored_and_found(void **state)
{
    (void)state;
    assert_int_equal(reading_add_number(&r, "temperature", 21.5), 0);
    assert_int_equal(reading_add_bool(&r, "presence", true), 0);
    assert_int_equal(reading_add_string(&r, "status", "paper_out!", 9), 0); /* len, not NUL */
    assert_int_equal(reading_add_string(&r, "fault", "", 0), 0);
    assert_int_equal(r.n_metrics, 4);
    const struct metric *m = reading_find(&r, "temperature");
    assert_int_equal(m->type, METRIC_NUMBER);
    assert_true(m->v.num == 21.5);
    assert_true(reading_find(&r, "presence")->v.b);
    assert_string_equal(reading_find(&r, "status")->v.str, "paper_out");
    assert_string_equal(reading_find(&r, "fault")->v.str, "");
    assert_null(reading_find(&r, "humidity"));
    assert_int_equal(r.dropped_keys, 0);
}

static void test_a_key_already_present_is_replaced_not_repeated(void **state)
{
    (void)state;
    assert_int_equal(reading_add_string(&r, "status", "paper_out", 9), 0);
    assert_int_equal(reading_add_string(&r, "status", "ok", 2), 0);
    assert_int_equal(r.n_metrics, 1);
    assert_string_equal(reading_find(&r, "status")->v.str, "ok");
    assert_int_equal(reading_add_string(&r, "status", "toner_low", 9), 0);
    assert_string_equal(reading_find(&r, "status")->v.str, "toner_low");
    assert_int_equal(reading_add_number(&r, "status", 3), 0);
    assert_int_equal(reading_find(&r, "status")->type, METRIC_NUMBER);
    assert_int_equal(reading_add_bool(&r, "status", false), 0);
    assert_int_equal(reading_find(&r, "status")->type, METRIC_BOOL);
    assert_int_equal(r.n_metrics, 1);
    assert_int_equal(r.dropped_keys, 0);
}

static void test_invalid_key_is_refused_and_counted(void **state)
{
    (void)state;
    assert_int_equal(reading_add_number(&r, "x\ny=1 z", 5), -EINVAL);
    assert_int_equal(reading_add_bool(&r, "", true), -EINVAL);
    assert_int_equal(reading_add_string(&r, "a b", "x", 1), -EINVAL);
    char k[READING_KEY_MAX + 2];
    memset(k, 'k', READING_KEY_MAX + 1);
    k[READING_KEY_MAX + 1] = '\0';
    assert_int_equal(reading_add_number(&r, k, 1), -EINVAL);
    k[READING_KEY_MAX] = '\0';
    assert_int_equal(reading_add_number(&r, k, 1), 0);
    assert_int_equal(r.n_metrics, 1);
    assert_int_equal(r.dropped_keys, 4);
}

static void test_non_finite_numbers_are_refused_and_counted(void **state)
{
    (void)state;
    assert_int_equal(reading_add_number(&r, "a", NAN), -EINVAL);
    assert_int_equal(reading_add_number(&r, "a", INFINITY), -EINVAL);
    assert_int_equal(reading_add_number(&r, "a", -INFINITY), -EINVAL);
    assert_int_equal(reading_add_number(&r, "a", -0.0), 0);
    assert_int_equal(reading_add_number(&r, "b", 1.7976931348623157e308), 0);
    assert_int_equal(r.n_metrics, 2);
    assert_int_equal(r.dropped_keys, 3);
}

struct string_case {
    const char *s;
    size_t len;
    bool valid;
};

static const struct string_case string_cases[] = {
    {"ok", 2, true},
    {"a \"quoted\" \\ value, with=comma and space", 40, true},
    {"\xe5\x8d\xa1\xe7\xba\xb8", 6, true},
    {"", 0, true},
    {"a\nb", 3, false},
    {"a\rb", 3, false},
    {"a\tb", 3, false},
    {"a\x7f", 2, false},
    {"a\0b", 3, false},
    {"\x1b[31m", 5, false},
    {"\xc3\x28", 2, false},
    {"\xed\xa0\x80", 3, false},
};

static void test_strings_must_be_short_utf8_without_control_characters(void **state)
{
    (void)state;
    unsigned refused = 0;
    for (size_t i = 0; i < ARRAY_SIZE(string_cases); i++) {
        const struct string_case *c = &string_cases[i];
        if (reading_string_valid(c->s, c->len) != c->valid)
            fail_msg("string case %zu: want %d", i, c->valid);
        int rc = reading_add_string(&r, "s", c->s, c->len);
        assert_int_equal(rc, c->valid ? 0 : -EINVAL);
        refused += !c->valid;
    }
    assert_int_equal(r.dropped_keys, refused);

    char s[READING_STRING_MAX + 1];
    memset(s, 'x', sizeof(s));
    assert_int_equal(reading_add_string(&r, "max", s, READING_STRING_MAX), 0);
    assert_int_equal(strlen(reading_find(&r, "max")->v.str), READING_STRING_MAX);
    assert_int_equal(reading_add_string(&r, "over", s, READING_STRING_MAX + 1), -EINVAL);
    assert_null(reading_find(&r, "over"));
}

static void test_a_full_reading_refuses_new_keys_but_replaces_old_ones(void **state)
{
    (void)state;
    char key[16];
    for (int i = 0; i < READING_MAX_METRICS; i++) {
        snprintf(key, sizeof(key), "m%d", i);
        assert_int_equal(reading_add_number(&r, key, i), 0);
    }
    assert_int_equal(reading_add_number(&r, "one_more", 1), -ENOSPC);
    assert_int_equal(reading_add_string(&r, "one_more", "x", 1), -ENOSPC);
    assert_int_equal(reading_add_bool(&r, "one_more", true), -ENOSPC);
    assert_int_equal(r.dropped_keys, 3);
    assert_int_equal(reading_add_number(&r, "m7", 70), 0);
    assert_true(reading_find(&r, "m7")->v.num == 70);
    assert_int_equal(r.n_metrics, READING_MAX_METRICS);
}

static void test_the_largest_possible_metrics_all_fit(void **state)
{
    (void)state;
    char key[READING_KEY_MAX + 1], s[READING_STRING_MAX];
    memset(s, 's', sizeof(s));
    memset(key, 'k', READING_KEY_MAX);
    key[READING_KEY_MAX] = '\0';
    for (int i = 0; i < READING_MAX_METRICS; i++) {
        snprintf(key, sizeof(key), "%02d", i);
        key[2] = 'k'; /* keep the full length, unique prefix */
        assert_int_equal(reading_add_string(&r, key, s, sizeof(s)), 0);
    }
    assert_int_equal(r.n_metrics, READING_MAX_METRICS);
    assert_int_equal(r.dropped_keys, 0);
    /* Every byte is used; a string that no longer fits in place is refused and
     * the metric keeps what it had. */
    assert_int_equal(reading_add_number(&r, key, 1), 0);
    assert_int_equal(reading_add_string(&r, key, "x", 1), -ENOSPC);
    assert_int_equal(reading_find(&r, key)->type, METRIC_NUMBER);
    assert_int_equal(r.dropped_keys, 1);
    /* Same or shorter strings still replace in place. */
    snprintf(key, sizeof(key), "%02d", 0);
    key[2] = 'k';
    assert_int_equal(reading_add_string(&r, key, "short", 5), 0);
    assert_string_equal(reading_find(&r, key)->v.str, "short");
}

struct ts_case {
    double ts;
    bool ok;
};

static void test_timestamps_must_be_plausible_unix_seconds(void **state)
{
    (void)state;
    const struct ts_case cases[] = {
        {1764150000, true},
        {1764150000.25, true},
        {READING_TS_MIN, true},
        {READING_TS_MIN - 1, false},
        {READING_TS_MAX - 1, true},
        {READING_TS_MAX, false},
        {0, false},
        {-1, false},
        {3600, false},            /* an uptime */
        {1764150000250.0, false}, /* milliseconds */
        {NAN, false},
        {INFINITY, false},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        reading_reset(&r, MSG_TELEMETRY);
        int rc = reading_set_ts(&r, cases[i].ts);
        if ((rc == 0) != cases[i].ok)
            fail_msg("ts %.17g: rc %d", cases[i].ts, rc);
        assert_true(cases[i].ok ? r.ts == cases[i].ts : r.ts == 0);
        assert_int_equal(r.dropped_keys, cases[i].ok ? 0 : 1);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_key_charset_and_length, setup),
        cmocka_unit_test_setup(test_reset_empties_everything_and_sets_the_class, setup),
        cmocka_unit_test_setup(test_values_of_each_type_are_stored_and_found, setup),
        cmocka_unit_test_setup(test_a_key_already_present_is_replaced_not_repeated, setup),
        cmocka_unit_test_setup(test_invalid_key_is_refused_and_counted, setup),
        cmocka_unit_test_setup(test_non_finite_numbers_are_refused_and_counted, setup),
        cmocka_unit_test_setup(test_strings_must_be_short_utf8_without_control_characters, setup),
        cmocka_unit_test_setup(test_a_full_reading_refuses_new_keys_but_replaces_old_ones, setup),
        cmocka_unit_test_setup(test_the_largest_possible_metrics_all_fit, setup),
        cmocka_unit_test_setup(test_timestamps_must_be_plausible_unix_seconds, setup),
    };
    return cmocka_run_group_tests_name("reading", tests, NULL, NULL);
}
