/* The clocks and wall_s's conversions at the edges: whole seconds for
 * localtime_r() and signed commands, nanoseconds for line protocol. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "clock.h"

static void test_wall_whole_rounds_down(void **state)
{
    (void)state;
    assert_int_equal(wall_whole(1764150000.0), 1764150000);
    assert_int_equal(wall_whole(1764150000.999999), 1764150000);
    assert_int_equal(wall_whole(0.5), 0);
    /* Before 1970: down, not towards zero. */
    assert_int_equal(wall_whole(-0.5), -1);
    assert_int_equal(wall_whole(-2.0), -2);
}

static void test_wall_ns_is_to_the_microsecond(void **state)
{
    (void)state;
    assert_int_equal(wall_ns(1764150000.0), INT64_C(1764150000000000000));
    assert_int_equal(wall_ns(1764150000.25), INT64_C(1764150000250000000));
    /* A double holds today's time to about 0.24 us: the nanoseconds are
     * rounded to the microsecond, so what was written reads back. */
    assert_int_equal(wall_ns(1764150000.123456), INT64_C(1764150000123456000));
    /* Instants a microsecond apart stay apart. */
    assert_true(wall_ns(1764150000.000001) > wall_ns(1764150000.0));
    assert_int_equal(wall_ns(0), 0);
}

static void test_wall_ns_saturates(void **state)
{
    (void)state;
    assert_int_equal(wall_ns(1e18), INT64_MAX);
    assert_int_equal(wall_ns(-1e18), INT64_MIN);
    assert_int_equal(wall_ns(INFINITY), INT64_MAX);
    assert_int_equal(wall_ns(NAN), 0);
    /* 2262 is the last year int64 nanoseconds hold; 2200 is fine. */
    assert_true(wall_ns(7258118400.0) > 0);
}

static void test_wall_after_never_repeats_an_instant(void **state)
{
    (void)state;
    wall_s last = 0;
    assert_true(wall_after(1764150000.5, &last) == 1764150000.5);
    /* The same instant, and an earlier one: a microsecond later each time,
     * and still apart once written as line protocol nanoseconds. */
    wall_s a = wall_after(1764150000.5, &last), b = wall_after(1764150000.0, &last);
    assert_true(a > 1764150000.5 && b > a);
    assert_true(wall_ns(a) > wall_ns(1764150000.5) && wall_ns(b) > wall_ns(a));
    assert_true(last == b);
    /* A later instant is itself. */
    assert_true(wall_after(1764150001.0, &last) == 1764150001.0);
}

static void test_clocks_read_the_system(void **state)
{
    (void)state;
    time_t before = time(NULL);
    wall_s w = clock_wall();
    time_t after = time(NULL);
    assert_true(w >= (double)before && w < (double)after + 1);

    mono_ms a = clock_mono_ms(), b = clock_mono_ms();
    assert_true(a > 0 && b >= a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wall_whole_rounds_down),
        cmocka_unit_test(test_wall_ns_is_to_the_microsecond),
        cmocka_unit_test(test_wall_ns_saturates),
        cmocka_unit_test(test_wall_after_never_repeats_an_instant),
        cmocka_unit_test(test_clocks_read_the_system),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
