/* The hall's opening schedule (pure): see schedule.h for the contract.
 *
 * Everything is worked out on "wall seconds": the local date as days since
 * 1970-01-01 times 86400 plus the local time of day. For one instant it comes
 * from localtime_r(); the instant(s) of a given wall time are found by trying
 * the UTC offsets in force a day either side (wall = t + offset), which is
 * exact as long as a zone changes its offset at most once in any 48 hours, as
 * every zone in tzdata does. mktime() is never used: its handling of gaps and
 * repeated hours (tm_isdst = -1) is unspecified. */
#include "schedule.h"

#include <assert.h>
#include <stdint.h>

#define DAY_S INT64_C(86400)
#define HORIZON_S (400 * DAY_S)
/* Instants further than this (about 35 million years) from 1970 are refused,
 * which keeps all the arithmetic here far from overflow. */
#define T_LIMIT (INT64_C(1) << 50)

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;

    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (month 1..12, day
 * 1..31); Howard Hinnant's days_from_civil. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    int64_t era;
    int64_t yoe, doy, doe;

    y -= m <= 2;
    era = floor_div(y, 400);
    yoe = y - era * 400;                                   /* [0, 399] */
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* [0, 365] */
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           /* [0, 146096] */
    return era * 146097 + doe - 719468;
}

/* 0 = Sunday, as tm_wday; 1970-01-01 was a Thursday. */
static int weekday_of_day(int64_t day)
{
    return (int)(((day + 4) % 7 + 7) % 7);
}

/* The wall seconds of t in the local zone; false when t is out of range. */
static bool local_wall(int64_t t, int64_t *wall)
{
    struct tm tm;
    time_t tt;

    if (t < -T_LIMIT || t > T_LIMIT)
        return false;
    tt = (time_t)t;
    if ((int64_t)tt != t || !localtime_r(&tt, &tm))
        return false;
    *wall = days_from_civil((int64_t)tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday) * DAY_S +
            (int64_t)tm.tm_hour * 3600 + (int64_t)tm.tm_min * 60 + tm.tm_sec;
    return true;
}

/* The UTC offset (wall minus t) in force at t. */
static bool local_offset(int64_t t, int64_t *off)
{
    int64_t wall;

    if (!local_wall(t, &wall))
        return false;
    *off = wall - t;
    return true;
}

/* The first instant in (lo, hi] whose offset differs from lo's, given that
 * hi's does and that the offset changes once in between. */
static bool first_offset_change(int64_t lo, int64_t hi, int64_t *out)
{
    int64_t o, m;

    if (!local_offset(lo, &o))
        return false;
    while (hi - lo > 1) {
        int64_t mid = lo + (hi - lo) / 2;

        if (!local_offset(mid, &m))
            return false;
        if (m == o)
            lo = mid;
        else
            hi = mid;
    }
    *out = hi;
    return true;
}

/* The instants whose wall seconds are w: returns how many (0, 1 or 2, in
 * increasing order in at[]), or -1 on failure. 0 means w falls in a gap and
 * at[0] is then the first instant after the gap. */
static int wall_instants(int64_t w, int64_t at[2])
{
    int64_t p, q, got;
    int64_t cand[2];
    int n = 0;

    if (w < -T_LIMIT || w > T_LIMIT)
        return -1;
    if (!local_offset(w - DAY_S, &p) || !local_offset(w + DAY_S, &q))
        return -1;
    /* p is in force before any change, q after; a solution is w minus the
     * offset in force at it, so the larger offset gives the earlier one. */
    cand[0] = w - (p > q ? p : q);
    cand[1] = w - (p > q ? q : p);
    for (int i = 0; i < (p == q ? 1 : 2); i++) {
        if (!local_wall(cand[i], &got))
            return -1;
        if (got == w)
            at[n++] = cand[i];
    }
    if (n > 0)
        return n;
    if (p >= q) /* cannot happen with one change in 48 hours */
        return -1;
    /* Spring forward: w - q < transition <= w - p. */
    if (!first_offset_change(w - q, w - p, &at[0]))
        return -1;
    return 0;
}

/* The first instant of wall w (or the first after the gap it falls in). */
static bool wall_first_instant(int64_t w, int64_t *out)
{
    int64_t at[2];

    if (wall_instants(w, at) < 0)
        return false;
    *out = at[0];
    return true;
}

static bool sorted_contains(const int32_t *v, size_t n, int64_t x)
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (v[mid] == x)
            return true;
        if (v[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

static bool day_is_workday(const struct config_schedule *s, int64_t day)
{
    if (sorted_contains(s->workdays, s->n_workdays, day))
        return true;
    if (sorted_contains(s->holidays, s->n_holidays, day))
        return false;
    return (s->weekdays >> weekday_of_day(day)) & 1u;
}

static enum schedule_state state_at_wall(const struct config_schedule *s, int64_t wall)
{
    int64_t day = floor_div(wall, DAY_S);
    int64_t tod = wall - day * DAY_S;

    if (!day_is_workday(s, day) || tod < s->open_s || tod >= s->close_s)
        return SCHED_CLOSED;
    for (size_t i = 0; i < s->n_breaks; i++)
        if (tod >= s->breaks[i].from_s && tod < s->breaks[i].to_s)
            return SCHED_BREAK;
    return SCHED_OPEN;
}

/* The i-th time of day at which the state may change on a day, in order:
 * midnight (the date changes), open, each break's start and end, close. */
static int64_t boundary_tod(const struct config_schedule *s, size_t i)
{
    if (i == 0)
        return 0;
    if (i == 1)
        return s->open_s;
    if (i == 2 * s->n_breaks + 2)
        return s->close_s;
    return i % 2 == 0 ? s->breaks[(i - 2) / 2].from_s : s->breaks[(i - 3) / 2].to_s;
}

/* The first wall second in (lo, hi] at which the state differs from `from`. */
static bool first_wall_change(const struct config_schedule *s, enum schedule_state from, int64_t lo,
                              int64_t hi, int64_t *out)
{
    for (int64_t day = floor_div(lo, DAY_S); day <= floor_div(hi, DAY_S); day++) {
        for (size_t i = 0; i < 2 * s->n_breaks + 3; i++) {
            int64_t w = day * DAY_S + boundary_tod(s, i);

            if (w > lo && w <= hi && state_at_wall(s, w) != from) {
                *out = w;
                return true;
            }
        }
    }
    return false;
}

bool schedule_is_workday(const struct config_schedule *s, wall_s t)
{
    int64_t wall;

    return local_wall(wall_whole(t), &wall) && day_is_workday(s, floor_div(wall, DAY_S));
}

enum schedule_state schedule_state(const struct config_schedule *s, wall_s t)
{
    int64_t wall;

    if (!local_wall(wall_whole(t), &wall))
        return SCHED_CLOSED;
    return state_at_wall(s, wall);
}

bool schedule_is_open(const struct config_schedule *s, wall_s t)
{
    return schedule_state(s, t) == SCHED_OPEN;
}

bool schedule_window_expected(const struct config_schedule *s, wall_s t, bool lunch_duty)
{
    enum schedule_state st = schedule_state(s, t);

    return st == SCHED_OPEN || (st == SCHED_BREAK && lunch_duty);
}

wall_s schedule_next_transition(const struct config_schedule *s, wall_s t, bool lunch_duty)
{
    int64_t u = wall_whole(t), limit, wall_u, found;
    enum schedule_state from;

    /* schedule_window_expected() is a function of the state, so its changes
     * are among the state's. */
    (void)lunch_duty;
    if (!local_wall(u, &wall_u))
        return 0;
    limit = u + HORIZON_S;
    from = state_at_wall(s, wall_u);
    /* Walk forward a day at a time. Within a stretch of one UTC offset the
     * wall advances with t, so the state can only change at a boundary time
     * of day; at an offset change the wall jumps and the state may change at
     * that instant whatever the wall jumped over. */
    while (u < limit) {
        int64_t off = wall_u - u, end = u + DAY_S, off_end;

        if (!local_offset(end, &off_end))
            return 0;
        if (off_end != off && !first_offset_change(u, end, &end))
            return 0;
        /* [u, end) has offset off; end is an offset change or the day's end. */
        if (first_wall_change(s, from, wall_u, end - 1 + off, &found)) {
            found -= off;
            return found <= limit ? (wall_s)found : 0;
        }
        u = end;
        if (!local_wall(u, &wall_u))
            return 0;
        if (state_at_wall(s, wall_u) != from)
            return u <= limit ? (wall_s)u : 0;
    }
    return 0;
}

wall_s schedule_close_today(const struct config_schedule *s, wall_s t_wall)
{
    int64_t t = wall_whole(t_wall), wall, day, at[2];
    int n;

    if (!local_wall(t, &wall))
        return 0;
    day = floor_div(wall, DAY_S);
    if (!day_is_workday(s, day) || wall - day * DAY_S >= s->close_s)
        return 0;
    /* In the second pass of a repeated hour that is before close, the close
     * still ahead is the second occurrence. */
    n = wall_instants(day * DAY_S + s->close_s, at);
    if (n < 0)
        return 0;
    if (at[0] > t)
        return (wall_s)at[0];
    if (n == 2 && at[1] > t)
        return (wall_s)at[1];
    return 0;
}

wall_s schedule_next_on_workday(const struct config_schedule *s, wall_s t_wall, int32_t tod_s)
{
    int64_t t = wall_whole(t_wall), wall, day, at;

    assert(tod_s >= 0 && tod_s <= DAY_S);
    if (!local_wall(t, &wall))
        return 0;
    for (day = floor_div(wall, DAY_S); day <= floor_div(wall, DAY_S) + 401; day++) {
        if (!day_is_workday(s, day))
            continue;
        if (!wall_first_instant(day * DAY_S + tod_s, &at))
            return 0;
        if (at > t)
            return at - t <= HORIZON_S ? (wall_s)at : 0;
    }
    return 0;
}

wall_s schedule_at(wall_s t, int32_t tod_s)
{
    int64_t wall, at;

    assert(tod_s >= 0 && tod_s <= DAY_S);
    if (!local_wall(wall_whole(t), &wall) ||
        !wall_first_instant(floor_div(wall, DAY_S) * DAY_S + tod_s, &at))
        return 0;
    return (wall_s)at;
}
