/* Silences (core/silence.c): which alerts a silence covers, and when; what
 * makes one acceptable. */
#include "silence.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#define T0 1764800000.0

static struct alert alert_of(const char *hall, const char *window, const char *device,
                             const char *rule, enum severity sev)
{
    struct alert a;
    memset(&a, 0, sizeof(a));
    snprintf(a.hall, sizeof(a.hall), "%s", hall);
    snprintf(a.window, sizeof(a.window), "%s", window);
    snprintf(a.device, sizeof(a.device), "%s", device);
    snprintf(a.rule, sizeof(a.rule), "%s", rule);
    a.severity = sev;
    return a;
}

static struct record_silence silence_of(const char *hall, const char *window, const char *device,
                                        const char *rule, const char *severity)
{
    struct record_silence s;
    memset(&s, 0, sizeof(s));
    snprintf(s.id, sizeof(s.id), "00000000000000a1");
    snprintf(s.hall, sizeof(s.hall), "%s", hall);
    snprintf(s.window, sizeof(s.window), "%s", window);
    snprintf(s.device, sizeof(s.device), "%s", device);
    snprintf(s.rule, sizeof(s.rule), "%s", rule);
    snprintf(s.severity, sizeof(s.severity), "%s", severity);
    snprintf(s.comment, sizeof(s.comment), "printer under repair");
    s.starts = T0;
    s.ends = T0 + 3600;
    return s;
}

static void test_every_matcher_must_hold_and_empty_ones_match_anything(void **state)
{
    (void)state;
    struct alert a = alert_of("h1", "w03", "printer-w03", "equipment-fault", SEV_MAJOR);
    struct record_silence s = silence_of("", "", "printer-w03", "", "");
    assert_true(silence_matches(&s, &a, T0 + 1));
    s = silence_of("h1", "w03", "printer-w03", "equipment-fault", "major");
    assert_true(silence_matches(&s, &a, T0 + 1));
    /* Each matcher on its own excludes. */
    static const char *const wrong[][5] = {
        {"h2", "", "", "", ""},          {"", "w04", "", "", ""},
        {"", "", "printer-w04", "", ""}, {"", "", "", "unstaffed", ""},
        {"", "", "", "", "critical"},    {"h1", "w03", "printer-w03", "equipment-fault", "info"},
    };
    for (size_t i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
        s = silence_of(wrong[i][0], wrong[i][1], wrong[i][2], wrong[i][3], wrong[i][4]);
        if (silence_matches(&s, &a, T0 + 1))
            fail_msg("case %zu matched", i);
    }
    /* A prefix is not a match. */
    s = silence_of("", "", "printer", "", "");
    assert_false(silence_matches(&s, &a, T0 + 1));
}

static void test_a_silence_holds_from_its_start_until_its_end(void **state)
{
    (void)state;
    struct alert a = alert_of("h1", "w03", "printer-w03", "equipment-fault", SEV_MAJOR);
    struct record_silence s = silence_of("h1", "", "", "", "");
    assert_false(silence_matches(&s, &a, T0 - 0.001));
    assert_true(silence_matches(&s, &a, T0));
    assert_true(silence_matches(&s, &a, T0 + 3599.999));
    assert_false(silence_matches(&s, &a, T0 + 3600));

    struct record_silence v[2] = {silence_of("h2", "", "", "", ""),
                                  silence_of("", "w03", "", "", "")};
    snprintf(v[1].id, sizeof(v[1].id), "00000000000000b2");
    const struct record_silence *found = silence_find(v, 2, &a, T0 + 5);
    assert_non_null(found);
    assert_string_equal(found->id, "00000000000000b2");
    assert_null(silence_find(v, 2, &a, T0 + 3600));
    assert_null(silence_find(NULL, 0, &a, T0));
}

static void test_only_reasoned_bounded_silences_are_accepted(void **state)
{
    (void)state;
    const double week = 7 * 86400.0;
    struct record_silence s = silence_of("", "", "printer-w03", "", "");
    assert_null(silence_check(&s, T0, week));
    s = silence_of("", "", "", "", "");
    assert_non_null(silence_check(&s, T0, week)); /* no matcher: everything */
    s = silence_of("", "", "", "", "urgent");
    assert_non_null(silence_check(&s, T0, week));
    s = silence_of("", "", "", "", "critical");
    assert_null(silence_check(&s, T0, week));
    s = silence_of("h1", "", "", "", "");
    s.comment[0] = '\0';
    assert_non_null(silence_check(&s, T0, week));
    s = silence_of("h1", "", "", "", "");
    s.ends = s.starts;
    assert_non_null(silence_check(&s, T0, week));
    s = silence_of("h1", "", "", "", "");
    assert_non_null(silence_check(&s, T0 + 3600, week)); /* already over */
    s.ends = T0 + week + 1;
    assert_non_null(silence_check(&s, T0, week));
    s.ends = T0 + week;
    assert_null(silence_check(&s, T0, week));
    /* Measured from its start when that is later than now. */
    s.starts = T0 + 3600;
    s.ends = T0 + 3600 + week;
    assert_null(silence_check(&s, T0, week));
}

static void test_a_silence_says_what_it_matches(void **state)
{
    (void)state;
    char buf[256];
    struct record_silence s = silence_of("h1", "", "printer-w03", "", "major");
    assert_string_equal(silence_describe(&s, buf, sizeof(buf)),
                        "hall=h1 device=printer-w03 severity=major");
    s = silence_of("", "", "", "co2-high", "");
    assert_string_equal(silence_describe(&s, buf, sizeof(buf)), "rule=co2-high");
    s = silence_of("h1", "w03", "printer-w03", "equipment-fault", "major");
    assert_string_equal(silence_describe(&s, buf, 12), "hall=h1 win"); /* cut to fit */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_matcher_must_hold_and_empty_ones_match_anything),
        cmocka_unit_test(test_a_silence_holds_from_its_start_until_its_end),
        cmocka_unit_test(test_only_reasoned_bounded_silences_are_accepted),
        cmocka_unit_test(test_a_silence_says_what_it_matches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
