/* Durations, times of day and dates as written in the config (pure). */
#include "duration.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

/* 10 years of 365.25 days. */
#define DURATION_MAX_MS (INT64_C(3652) * 86400000 + INT64_C(43200000))

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Milliseconds per unit, in the only order a duration may use them:
 * w, d, h, m, s, ms. */
static const int64_t unit_ms[] = {INT64_C(604800000), INT64_C(86400000), INT64_C(3600000),
                                  INT64_C(60000),     INT64_C(1000),     INT64_C(1)};

/* The index in unit_ms of the unit at *p (longest match), or -1. Advances *p
 * past it. */
static int unit_at(const char **p)
{
    static const char letters[] = "wdhms";
    const char *s = *p;
    const char *l;

    if (s[0] == 'm' && s[1] == 's') {
        *p += 2;
        return 5;
    }
    if (s[0] == '\0' || !(l = strchr(letters, s[0])))
        return -1;
    *p += 1;
    return (int)(l - letters);
}

int duration_parse_ms(const char *s, int64_t *out_ms)
{
    const char *p = s;
    int64_t total = 0;
    int last_unit = -1;
    bool over = false;

    if (!s || !*s)
        return -EINVAL;
    while (*p) {
        int64_t n = 0;
        int u;

        if (!is_digit(*p))
            return -EINVAL;
        while (is_digit(*p)) {
            if (n <= DURATION_MAX_MS)
                n = n * 10 + (*p - '0');
            p++;
        }
        u = unit_at(&p);
        if (u < 0 || u <= last_unit)
            return -EINVAL; /* no unit, or a unit repeated or out of order */
        last_unit = u;
        /* n is at most ~10 * DURATION_MAX_MS, so compare before multiplying. */
        if (n > DURATION_MAX_MS / unit_ms[u] || total + n * unit_ms[u] > DURATION_MAX_MS)
            over = true;
        else
            total += n * unit_ms[u];
    }
    if (over)
        return -ERANGE;
    *out_ms = total;
    return 0;
}

/* Exactly n digits at s (stops at the first non-digit, so never reads past
 * the NUL); their value or -1. */
static int digits(const char *s, int n)
{
    int v = 0;

    for (int i = 0; i < n; i++) {
        if (!is_digit(s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

static int two_digits(const char *s)
{
    return digits(s, 2);
}

int timeofday_parse(const char *s, int32_t *out_s)
{
    int h, m, sec = 0;

    if (!s)
        return -EINVAL;
    h = two_digits(s);
    if (h < 0 || s[2] != ':')
        return -EINVAL;
    m = two_digits(s + 3);
    if (m < 0)
        return -EINVAL;
    if (s[5] == ':') {
        sec = two_digits(s + 6);
        if (sec < 0 || s[8] != '\0')
            return -EINVAL;
    } else if (s[5] != '\0') {
        return -EINVAL;
    }
    if (h == 24 && m == 0 && sec == 0) {
        *out_s = 86400;
        return 0;
    }
    if (h > 23 || m > 59 || sec > 59)
        return -EINVAL;
    *out_s = h * 3600 + m * 60 + sec;
    return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil). */
static int32_t days_from_civil(int y, int m, int d)
{
    int era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (int32_t)(era * 146097 + doe - 719468);
}

static bool is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int date_parse(const char *s, int32_t *out_days)
{
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, m = -1, d = -1;

    if (!s)
        return -EINVAL;
    y = digits(s, 4);
    if (y >= 0 && s[4] == '-')
        m = two_digits(s + 5);
    if (m >= 0 && s[7] == '-')
        d = two_digits(s + 8);
    if (d < 0 || s[10] != '\0')
        return -EINVAL;
    if (y < 1970 || m < 1 || m > 12 || d < 1)
        return -EINVAL;
    if (d > mdays[m - 1] + (m == 2 && is_leap(y)))
        return -EINVAL;
    *out_days = days_from_civil(y, m, d);
    return 0;
}
