#include "number.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- writing ---------------------------------------------------------------- */

#define FIXED_DECIMALS 8
#define FIXED_MAX 1e15 /* below it %.15g and %.16g write every digit, no exponent */
#define FIXED_DIGITS_MAX 9007199254740992.0 /* 2^53: every integer below is a double */

/* Writes the decimal digits of m (< 2^53) with a point before the last
 * decimals ones; returns the length. */
static int put_fixed(char *out, bool neg, uint64_t m, int decimals)
{
    char digits[24];
    int n = 0, len = 0;

    do {
        digits[n++] = (char)('0' + m % 10);
        m /= 10;
    } while (m || n <= decimals);
    if (neg)
        out[len++] = '-';
    while (n > 0) {
        if (n == decimals)
            out[len++] = '.';
        out[len++] = digits[--n];
    }
    out[len] = '\0';
    return len;
}

/* a * p10 rounded to the nearest integer, ties to even, as printf rounds:
 * the product is rounded once to a double first, so the exact remainder
 * (fma) corrects the double rounding. Needs a * p10 < 2^53 - 2. */
static double scaled_digits(double a, double p10)
{
    double m = nearbyint(a * p10);
    double r = fma(a, p10, -m); /* exact for products of 16 digits */
    bool odd = ((uint64_t)m & 1) != 0;

    if (r > 0.5 || (r == 0.5 && odd))
        m += 1;
    else if (r < -0.5 || (r == -0.5 && odd))
        m -= 1;
    return m;
}

/* The common case without printf: d with at most FIXED_DECIMALS decimals
 * and 16 significant digits (below 2^53), in [1e-4, 1e15) (where %.15g and
 * %.16g use no exponent). m / 10^k == d holds exactly in doubles only when
 * m/10^k is a decimal that reads back as d (IEEE division is correctly
 * rounded and 10^k is exact); with m correctly rounded, the smallest such k
 * gives what %.15g, else %.16g writes (a decimal of 15 digits or fewer that
 * reads back is the only one, so %.15g finds it too). Returns the length, or
 * 0 when d is not such a number. */
static int format_fixed(double d, char out[NUMBER_TEXT_MAX])
{
    static const double pow10[FIXED_DECIMALS + 1] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8};
    double a = fabs(d);

    if (d == 0)
        return put_fixed(out, signbit(d), 0, 0);
    if (!(a < FIXED_MAX) || a < 1e-4)
        return 0;
    for (int k = 0; k <= FIXED_DECIMALS; k++) {
        if (a * pow10[k] >= FIXED_DIGITS_MAX - 2)
            return 0;
        double m = scaled_digits(a, pow10[k]);

        if (m / pow10[k] == a)
            return put_fixed(out, d < 0, (uint64_t)m, k);
    }
    return 0;
}

int number_format(double d, char out[NUMBER_TEXT_MAX])
{
    static const int precisions[] = {15, 16, 17};
    int n = 0;

    if (!isfinite(d))
        return -EINVAL;
    n = format_fixed(d, out);
    if (n > 0)
        return n;
    for (size_t i = 0; i < sizeof(precisions) / sizeof(precisions[0]); i++) {
        n = snprintf(out, NUMBER_TEXT_MAX, "%.*g", precisions[i], d);
        if (n <= 0 || n >= NUMBER_TEXT_MAX)
            return -EINVAL;
        double back = strtod(out, NULL);

        if (back == d && signbit(back) == signbit(d))
            break;
    }
    /* A locale with a decimal comma would have written one. */
    for (int i = 0; i < n; i++)
        if (out[i] == ',')
            out[i] = '.';
    return n;
}

/* ---- reading ---------------------------------------------------------------- */

static double slow_number(const char *s, size_t len)
{
    char small[64];
    char *buf = len < sizeof(small) ? small : malloc(len + 1);
    if (!buf)
        return NAN;
    memcpy(buf, s, len);
    buf[len] = '\0';
    double v = strtod(buf, NULL);
    if (buf != small)
        free(buf);
    return v;
}

/* Significant digits up to 2^53 (16 digits: a device's ts in microseconds)
 * and a power of ten up to 22 are exact doubles, so one multiplication or
 * division gives the correctly rounded value (Clinger's fast path); anything
 * else goes through strtod(). */
double number_parse(const char *s, size_t len)
{
    static const double pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                   1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                   1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    size_t i = 0;
    bool neg = len > 0 && s[0] == '-';
    uint64_t m = 0;
    int sig = 0, exp10 = 0;
    bool frac = false;
    for (i = neg; i < len; i++) {
        char c = s[i];
        if (c == '.' && !frac) {
            frac = true;
            continue;
        }
        if (c < '0' || c > '9')
            break;
        if ((m || c != '0') && ++sig > 16)
            return slow_number(s, len);
        m = m * 10 + (uint64_t)(c - '0');
        exp10 -= frac;
    }
    if (i < len) {
        i++; /* 'e' or 'E' */
        bool eneg = i < len && s[i] == '-';
        i += i < len && (s[i] == '-' || s[i] == '+');
        int e = 0;
        for (; i < len && e < 1000; i++)
            e = e * 10 + (s[i] - '0');
        if (i < len)
            return slow_number(s, len);
        exp10 += eneg ? -e : e;
    }
    if (m == 0)
        return neg ? -0.0 : 0.0;
    if (m > (UINT64_C(1) << 53) || exp10 < -22 || exp10 > 22)
        return slow_number(s, len);
    double v = exp10 < 0 ? (double)m / pow10[-exp10] : (double)m * pow10[exp10];
    return neg ? -v : v;
}
