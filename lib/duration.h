/* Durations and times of day as written in the config (pure). */
#ifndef HALLGW_DURATION_H
#define HALLGW_DURATION_H

#include <stdint.h>

/* Parses "250ms", "30s", "5m", "1h30m", "7d", "1d12h" into milliseconds.
 * Units: ms, s, m, h, d, w; at least one number+unit, no spaces, no sign,
 * each unit at most once and in decreasing order. "0s" is 0.
 * Returns 0, or -EINVAL (not a duration) or -ERANGE (over 10 years). */
int duration_parse_ms(const char *s, int64_t *out_ms);

/* Parses "HH:MM" or "HH:MM:SS" (00:00:00 to 23:59:59; "24:00" is accepted as
 * the end of the day, 86400) into seconds since midnight. Returns 0 or -EINVAL. */
int timeofday_parse(const char *s, int32_t *out_s);

/* Parses "YYYY-MM-DD" (a real calendar date, 1970-01-01 to 9999-12-31, so
 * never negative) into days since 1970-01-01. Returns 0 or -EINVAL. */
int date_parse(const char *s, int32_t *out_days);

#endif
