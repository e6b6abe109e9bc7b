/* Decimal numbers: number_format() writes what %.15g..%.17g would, the
 * shortest that reads back, with or without printf; number_parse() reads
 * JSON numbers to the double strtod gives, on its fast path and off it. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "number.h"

/* The reference: the shortest of %.15g, %.16g, %.17g that reads back. */
static void reference(double d, char *out, size_t size)
{
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(out, size, "%.*g", prec, d);
        if (strtod(out, NULL) == d)
            return;
    }
}

static uint64_t rng = 88172645463325252ull;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static double random_double(void)
{
    uint64_t bits = next();
    double x;
    memcpy(&x, &bits, sizeof(x));
    return x;
}

static void test_format_matches_printf_for_many_numbers(void **state)
{
    (void)state;
    static const double fixed[] = {0.5,
                                   21.0,
                                   21.5,
                                   -3.25,
                                   0.1,
                                   0.3,
                                   1e-4,
                                   9.99e-5,
                                   123456789.125,
                                   1e15,
                                   1e16,
                                   2.5e-308,
                                   1.7976931348623157e308,
                                   4e-320,
                                   22.1,
                                   99.99};
    char got[NUMBER_TEXT_MAX], want[64];
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
        assert_true(number_format(fixed[i], got) > 0);
        reference(fixed[i], want, sizeof(want));
        assert_string_equal(got, want);
    }
    /* Readings as devices send them (few decimals), and random doubles. */
    for (int i = 0; i < 200000; i++) {
        double d = i % 2 ? (double)(int64_t)(next() % 2000000) / 100.0 - 10000 : random_double();
        if (!isfinite(d))
            continue;
        int n = number_format(d, got);
        assert_int_equal(n, (int)strlen(got));
        reference(d, want, sizeof(want));
        if (strcmp(got, want) != 0)
            fail_msg("%.17g: got %s, want %s", d, got, want);
        assert_true(strtod(got, NULL) == d);
    }
    assert_int_equal(number_format(NAN, got), -EINVAL);
    assert_int_equal(number_format(-INFINITY, got), -EINVAL);
    assert_int_equal(number_format(-0.0, got), 2);
    assert_string_equal(got, "-0");
}

static void test_parse_reads_what_strtod_reads(void **state)
{
    (void)state;
    static const char *const texts[] = {"0",
                                        "-0",
                                        "21",
                                        "21.5",
                                        "0.1",
                                        "1e3",
                                        "1E-3",
                                        "-2.5e+2",
                                        "1700000000.123456",
                                        "12345678901234567890",
                                        "1e400",
                                        "4e-320",
                                        "0.000001",
                                        "99.99",
                                        "123456789012345.6"};
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        double want = strtod(texts[i], NULL), got = number_parse(texts[i], strlen(texts[i]));
        if (!(got == want && signbit(got) == signbit(want)) && !(isinf(got) && isinf(want)))
            fail_msg("%s: got %.17g, want %.17g", texts[i], got, want);
    }
    /* Round trip through the writer. */
    for (int i = 0; i < 100000; i++) {
        double d = random_double();
        if (!isfinite(d))
            continue;
        char text[NUMBER_TEXT_MAX];
        int n = number_format(d, text);
        assert_true(number_parse(text, (size_t)n) == d);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_matches_printf_for_many_numbers),
        cmocka_unit_test(test_parse_reads_what_strtod_reads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
