/* Durations, times of day and dates as written in the config. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "duration.h"

#define SEC INT64_C(1000)
#define MIN (60 * SEC)
#define HOUR (60 * MIN)
#define DAY (24 * HOUR)

static void test_duration_accepts_every_unit_in_order(void **state)
{
    static const struct {
        const char *s;
        int64_t ms;
    } good[] = {
        {"30s", 30 * SEC},
        {"5m", 5 * MIN},
        {"1h30m", HOUR + 30 * MIN},
        {"7d", 7 * DAY},
        {"250ms", 250},
        {"1w", 7 * DAY},
        {"0s", 0},
        {"0ms", 0},
        {"1d12h", DAY + 12 * HOUR},
        {"1w2d3h4m5s6ms", 9 * DAY + 3 * HOUR + 4 * MIN + 5 * SEC + 6},
        {"1m500ms", MIN + 500},
        {"05m", 5 * MIN},
        {"90d", 90 * DAY},
        {"3652d", 3652 * DAY},
        {"86400s", DAY},
    };
    (void)state;

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        int64_t ms = -1;

        if (duration_parse_ms(good[i].s, &ms) != 0 || ms != good[i].ms)
            fail_msg("\"%s\": got %lld, want %lld", good[i].s, (long long)ms,
                     (long long)good[i].ms);
    }
}

static void test_duration_rejects_malformed_text(void **state)
{
    static const char *const bad[] = {
        "",      "5",    "m5",   "1h1h",   "-1s", "1m1h",  " 5s",  "5s ",  "5 s",
        "+5s",   "1.5h", "5sec", "5M",     "5S",  "h",     "ms",   "1s1m", "5mss",
        "1ms1s", "1y",   "5s5",  "1h 30m", "1hm", "0x10s", "1d1w", "s5",   "1msm",
    };
    (void)state;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int64_t ms = 12345;
        int rc = duration_parse_ms(bad[i], &ms);

        if (rc != -EINVAL || ms != 12345)
            fail_msg("\"%s\": got rc %d ms %lld, want -EINVAL and no output", bad[i], rc,
                     (long long)ms);
    }
    assert_int_equal(duration_parse_ms(NULL, &(int64_t){0}), -EINVAL);
}

static void test_duration_over_ten_years_is_out_of_range(void **state)
{
    static const char *const big[] = {
        "99999999999d", "3653d", "522w", "99999999999999999999999999s", "87672h1s",
    };
    (void)state;

    for (size_t i = 0; i < sizeof(big) / sizeof(big[0]); i++) {
        int64_t ms = 7;
        int rc = duration_parse_ms(big[i], &ms);

        if (rc != -ERANGE || ms != 7)
            fail_msg("\"%s\": got rc %d, want -ERANGE", big[i], rc);
    }
    /* Syntax is checked before range. */
    assert_int_equal(duration_parse_ms("99999999999d1x", &(int64_t){0}), -EINVAL);
}

static void test_timeofday_parses_hh_mm_and_hh_mm_ss(void **state)
{
    static const struct {
        const char *s;
        int32_t sec;
    } good[] = {
        {"00:00", 0},     {"09:00", 9 * 3600}, {"12:30", 12 * 3600 + 1800},
        {"23:59", 86340}, {"23:59:59", 86399}, {"17:30:15", 17 * 3600 + 1815},
        {"24:00", 86400}, {"24:00:00", 86400},
    };
    static const char *const bad[] = {"",         "9:00",   "24:01", "25:00",       "12:60",
                                      "12:00:60", "12:00:", "1200",  "12-00",       "12:0",
                                      " 12:00",   "12:00 ", "ab:cd", "12:00:00:00", "-1:00"};
    (void)state;

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        int32_t s = -1;

        if (timeofday_parse(good[i].s, &s) != 0 || s != good[i].sec)
            fail_msg("\"%s\": got %d, want %d", good[i].s, s, good[i].sec);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int32_t s = -1;

        if (timeofday_parse(bad[i], &s) != -EINVAL || s != -1)
            fail_msg("\"%s\" accepted", bad[i]);
    }
}

static void test_date_counts_days_since_epoch(void **state)
{
    static const struct {
        const char *s;
        int32_t days;
    } good[] = {
        {"1970-01-01", 0},       {"1970-01-02", 1},     {"2000-03-01", 11017},
        {"2024-02-29", 19782},   {"2026-09-01", 20697}, {"2026-10-01", 20727},
        {"9999-12-31", 2932896},
    };
    static const char *const bad[] = {"",           "2026-02-29",  "2100-02-29", "2026-13-01",
                                      "2026-00-10", "2026-04-31",  "2026-4-1",   "26-04-01",
                                      "2026/04/01", "2026-04-01x", "1969-12-31", "2026-04-00",
                                      "2026-04",    "20260401"};
    (void)state;

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        int32_t d = -1;

        if (date_parse(good[i].s, &d) != 0 || d != good[i].days)
            fail_msg("\"%s\": got %d, want %d", good[i].s, d, good[i].days);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int32_t d = -1;

        if (date_parse(bad[i], &d) != -EINVAL || d != -1)
            fail_msg("\"%s\" accepted", bad[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_duration_accepts_every_unit_in_order),
        cmocka_unit_test(test_duration_rejects_malformed_text),
        cmocka_unit_test(test_duration_over_ten_years_is_out_of_range),
        cmocka_unit_test(test_timeofday_parses_hh_mm_and_hh_mm_ss),
        cmocka_unit_test(test_date_counts_days_since_epoch),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
