/* The hall schedule: working days, hours, breaks, holidays, make-up working
 * days (调休), transitions and power-off times, in zones with and without DST.
 *
 * Instants are built with mktime() under the test's TZ (tm_isdst picks the
 * pass of a repeated hour) and checked against known constants once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include <cmocka.h>

#include "schedule.h"

#define H(h, m) ((int32_t)((h)*3600 + (m)*60))
#define MON_FRI 0x3e /* bits 1..5 */
#define EVERY_DAY 0x7f

/* A local date and time; isdst -1 unless the time is in a repeated hour. */
struct when {
    int y, mo, d, h, mi, s;
    int isdst;
};

#define W(y, mo, d, h, mi, s) ((struct when){(y), (mo), (d), (h), (mi), (s), -1})
#define W_DST(y, mo, d, h, mi, s, dst) ((struct when){(y), (mo), (d), (h), (mi), (s), (dst)})

static void use_tz(const char *tz)
{
    if (setenv("TZ", tz, 1) != 0)
        fail_msg("setenv TZ=%s", tz);
    tzset();
}

static wall_s ts(struct when w)
{
    struct tm tm = {
        .tm_year = w.y - 1900,
        .tm_mon = w.mo - 1,
        .tm_mday = w.d,
        .tm_hour = w.h,
        .tm_min = w.mi,
        .tm_sec = w.s,
        .tm_isdst = w.isdst,
    };
    time_t t = mktime(&tm);

    if (t == (time_t)-1)
        fail_msg("mktime %04d-%02d-%02d %02d:%02d:%02d", w.y, w.mo, w.d, w.h, w.mi, w.s);
    return t;
}

/* Days since 1970-01-01 of a date, through timegm (not the module's code). */
static int32_t day_of(int y, int mo, int d)
{
    struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d};

    return (int32_t)(timegm(&tm) / 86400);
}

static const char *state_name(enum schedule_state st)
{
    switch (st) {
    case SCHED_CLOSED:
        return "closed";
    case SCHED_OPEN:
        return "open";
    case SCHED_BREAK:
        return "break";
    }
    return "?";
}

/* ---- schedules ---------------------------------------------------------- */

static struct config_break lunch[] = {{H(12, 0), H(13, 0)}};
static int32_t national_day[7]; /* 2026-10-01 .. 2026-10-07, Thu .. Wed */
static int32_t make_up_days[2]; /* 2026-09-27 (Sun), 2026-10-10 (Sat) */

/* Mon-Fri 09:00-17:00, lunch 12:00-13:00, the National Day week off with two
 * make-up working days, power-off at 17:30. */
static struct config_schedule standard(void)
{
    for (int i = 0; i < 7; i++)
        national_day[i] = day_of(2026, 10, 1 + i);
    make_up_days[0] = day_of(2026, 9, 27);
    make_up_days[1] = day_of(2026, 10, 10);
    return (struct config_schedule){
        .weekdays = MON_FRI,
        .open_s = H(9, 0),
        .close_s = H(17, 0),
        .breaks = lunch,
        .n_breaks = 1,
        .holidays = national_day,
        .n_holidays = 7,
        .workdays = make_up_days,
        .n_workdays = 2,
        .poweroff_s = H(17, 30),
        .poweron_s = -1,
    };
}

static struct config_schedule hours(uint8_t weekdays, int32_t open_s, int32_t close_s)
{
    return (struct config_schedule){
        .weekdays = weekdays,
        .open_s = open_s,
        .close_s = close_s,
        .poweroff_s = -1,
        .poweron_s = -1,
    };
}

/* ---- shared checks ------------------------------------------------------ */

struct state_case {
    struct when at;
    enum schedule_state want;
};

static void check_states(const struct config_schedule *s, const struct state_case *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        wall_s t = ts(c[i].at);
        enum schedule_state got = schedule_state(s, t);

        if (got != c[i].want)
            fail_msg("%04d-%02d-%02d %02d:%02d:%02d (dst %d): %s, want %s", c[i].at.y, c[i].at.mo,
                     c[i].at.d, c[i].at.h, c[i].at.mi, c[i].at.s, c[i].at.isdst, state_name(got),
                     state_name(c[i].want));
        assert_int_equal(schedule_is_open(s, t), c[i].want == SCHED_OPEN);
    }
}

/* Follows next_transition from `from` to `until` and checks, by sampling
 * schedule_state every `step_s` seconds and at each side of each returned
 * instant, that the state is constant in between and changes exactly there.
 * Returns how many transitions it saw. */
static int check_transition_chain(const struct config_schedule *s, wall_s from, wall_s until,
                                  wall_s step_s)
{
    int n = 0;
    wall_s t = from;

    while (t < until) {
        enum schedule_state st = schedule_state(s, t);
        wall_s next = schedule_next_transition(s, t, false);

        assert_true(next > t);
        assert_int_equal(schedule_next_transition(s, t, true), next);
        for (wall_s u = t; u < next && u < until; u += step_s)
            if (schedule_state(s, u) != st)
                fail_msg("state changes at or before %lld, but next transition from %lld "
                         "is %lld",
                         (long long)u, (long long)t, (long long)next);
        if (next < until) {
            assert_int_equal(schedule_state(s, next - 1), st);
            assert_int_not_equal(schedule_state(s, next), st);
            n++;
        }
        t = next;
    }
    return n;
}

/* ---- tests -------------------------------------------------------------- */

static void test_timestamp_helper_matches_known_instants(void **state)
{
    (void)state;
    use_tz("Asia/Shanghai");
    assert_int_equal(ts(W(2026, 11, 26, 9, 0, 0)), 1795654800);
    use_tz("Europe/Berlin");
    assert_int_equal(ts(W(2026, 3, 29, 3, 0, 0)), 1774746000);          /* 01:00 UTC */
    assert_int_equal(ts(W_DST(2026, 10, 25, 2, 30, 0, 1)), 1792888200); /* 00:30 UTC */
    assert_int_equal(ts(W_DST(2026, 10, 25, 2, 30, 0, 0)), 1792891800); /* 01:30 UTC */
    use_tz("America/New_York");
    assert_int_equal(ts(W(2026, 3, 9, 9, 0, 0)), 1773061200);  /* 13:00 UTC, EDT */
    assert_int_equal(ts(W(2026, 11, 2, 9, 0, 0)), 1793628000); /* 14:00 UTC, EST */
    assert_int_equal(day_of(2026, 10, 1), 20727);
    assert_int_equal(day_of(1970, 1, 1), 0);
}

static void test_weekday_hours_open_at_open_and_closed_at_close(void **state)
{
    static const struct state_case cases[] = {
        {W(2026, 11, 26, 0, 0, 0), SCHED_CLOSED},   /* Thu */
        {W(2026, 11, 26, 8, 59, 59), SCHED_CLOSED}, /* before open */
        {W(2026, 11, 26, 9, 0, 0), SCHED_OPEN},     /* exactly open */
        {W(2026, 11, 26, 11, 59, 59), SCHED_OPEN},
        {W(2026, 11, 26, 12, 0, 0), SCHED_BREAK},
        {W(2026, 11, 26, 12, 59, 59), SCHED_BREAK},
        {W(2026, 11, 26, 13, 0, 0), SCHED_OPEN},
        {W(2026, 11, 26, 16, 59, 59), SCHED_OPEN},
        {W(2026, 11, 26, 17, 0, 0), SCHED_CLOSED}, /* exactly close */
        {W(2026, 11, 26, 23, 59, 59), SCHED_CLOSED},
        {W(2026, 11, 27, 10, 0, 0), SCHED_OPEN},   /* Fri */
        {W(2026, 11, 28, 10, 0, 0), SCHED_CLOSED}, /* Sat */
        {W(2026, 11, 29, 10, 0, 0), SCHED_CLOSED}, /* Sun */
        {W(2026, 11, 30, 10, 0, 0), SCHED_OPEN},   /* Mon */
    };
    struct config_schedule s = standard();

    (void)state;
    use_tz("Asia/Shanghai");
    check_states(&s, cases, sizeof(cases) / sizeof(cases[0]));
    assert_true(schedule_is_workday(&s, ts(W(2026, 11, 26, 0, 0, 0))));
    assert_false(schedule_is_workday(&s, ts(W(2026, 11, 29, 10, 0, 0))));
}

static void test_lunch_break_closes_the_hall_but_not_a_lunch_duty_window(void **state)
{
    static const struct {
        struct when at;
        bool open, window, duty_window;
    } cases[] = {
        {W(2026, 11, 26, 10, 0, 0), true, true, true},
        {W(2026, 11, 26, 12, 0, 0), false, false, true},
        {W(2026, 11, 26, 12, 30, 0), false, false, true},
        {W(2026, 11, 26, 13, 0, 0), true, true, true},
        {W(2026, 11, 26, 8, 0, 0), false, false, false},
        {W(2026, 11, 26, 18, 0, 0), false, false, false},
        {W(2026, 10, 1, 12, 30, 0), false, false, false},  /* holiday: no duty either */
        {W(2026, 11, 28, 12, 30, 0), false, false, false}, /* Saturday */
        {W(2026, 10, 10, 12, 30, 0), false, false, true},  /* 调休 Saturday has lunch too */
    };
    struct config_schedule s = standard();

    (void)state;
    use_tz("Asia/Shanghai");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        wall_s t = ts(cases[i].at);

        if (schedule_is_open(&s, t) != cases[i].open ||
            schedule_window_expected(&s, t, false) != cases[i].window ||
            schedule_window_expected(&s, t, true) != cases[i].duty_window)
            fail_msg("case %zu (%02d-%02d %02d:%02d): open %d window %d duty %d", i, cases[i].at.mo,
                     cases[i].at.d, cases[i].at.h, cases[i].at.mi, schedule_is_open(&s, t),
                     schedule_window_expected(&s, t, false), schedule_window_expected(&s, t, true));
    }
}

static void test_holiday_closes_a_weekday_and_a_make_up_day_opens_a_weekend(void **state)
{
    static const struct {
        struct when at;
        bool workday;
        enum schedule_state want;
    } cases[] = {
        {W(2026, 9, 26, 10, 0, 0), false, SCHED_CLOSED},  /* Sat */
        {W(2026, 9, 27, 10, 0, 0), true, SCHED_OPEN},     /* Sun, 调休 */
        {W(2026, 9, 30, 10, 0, 0), true, SCHED_OPEN},     /* Wed */
        {W(2026, 10, 1, 10, 0, 0), false, SCHED_CLOSED},  /* Thu, holiday */
        {W(2026, 10, 2, 10, 0, 0), false, SCHED_CLOSED},  /* Fri, holiday */
        {W(2026, 10, 3, 10, 0, 0), false, SCHED_CLOSED},  /* Sat, holiday */
        {W(2026, 10, 7, 16, 0, 0), false, SCHED_CLOSED},  /* Wed, holiday */
        {W(2026, 10, 8, 10, 0, 0), true, SCHED_OPEN},     /* Thu */
        {W(2026, 10, 10, 8, 59, 59), true, SCHED_CLOSED}, /* Sat, 调休: same hours */
        {W(2026, 10, 10, 9, 0, 0), true, SCHED_OPEN},
        {W(2026, 10, 10, 12, 30, 0), true, SCHED_BREAK},
        {W(2026, 10, 10, 17, 0, 0), true, SCHED_CLOSED},
        {W(2026, 10, 11, 10, 0, 0), false, SCHED_CLOSED}, /* Sun */
    };
    struct config_schedule s = standard();

    (void)state;
    use_tz("Asia/Shanghai");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        wall_s t = ts(cases[i].at);

        if (schedule_is_workday(&s, t) != cases[i].workday ||
            schedule_state(&s, t) != cases[i].want)
            fail_msg("case %zu (%02d-%02d %02d:%02d): workday %d state %s", i, cases[i].at.mo,
                     cases[i].at.d, cases[i].at.h, cases[i].at.mi, schedule_is_workday(&s, t),
                     state_name(schedule_state(&s, t)));
    }
}

static void test_a_day_open_until_midnight_closes_when_the_date_changes(void **state)
{
    static const struct state_case cases[] = {
        {W(2026, 11, 27, 0, 0, 0), SCHED_OPEN}, /* Fri */
        {W(2026, 11, 27, 23, 59, 59), SCHED_OPEN},
        {W(2026, 11, 28, 0, 0, 0), SCHED_CLOSED},    /* Sat */
        {W(2026, 11, 29, 23, 59, 59), SCHED_CLOSED}, /* Sun */
        {W(2026, 11, 30, 0, 0, 0), SCHED_OPEN},      /* Mon */
    };
    struct config_schedule all_day = hours(MON_FRI, 0, H(24, 0));
    struct config_schedule s = standard();

    (void)state;
    use_tz("Asia/Shanghai");
    check_states(&all_day, cases, sizeof(cases) / sizeof(cases[0]));
    /* No transition at the midnights between working days. */
    assert_int_equal(schedule_next_transition(&all_day, ts(W(2026, 11, 23, 10, 0, 0)), false),
                     ts(W(2026, 11, 28, 0, 0, 0)));
    assert_int_equal(schedule_next_transition(&all_day, ts(W(2026, 11, 27, 23, 0, 0)), false),
                     ts(W(2026, 11, 28, 0, 0, 0)));
    assert_int_equal(schedule_next_transition(&all_day, ts(W(2026, 11, 28, 0, 0, 0)), false),
                     ts(W(2026, 11, 30, 0, 0, 0)));
    assert_int_equal(schedule_close_today(&all_day, ts(W(2026, 11, 27, 10, 0, 0))),
                     ts(W(2026, 11, 28, 0, 0, 0)));
    /* The working-day decision follows the local date across midnight. */
    assert_true(schedule_is_workday(&s, ts(W(2026, 11, 27, 23, 59, 59))));
    assert_false(schedule_is_workday(&s, ts(W(2026, 11, 28, 0, 0, 0))));
    assert_int_equal(schedule_next_transition(&s, ts(W(2026, 11, 26, 23, 59, 59)), false),
                     ts(W(2026, 11, 27, 9, 0, 0)));
}

static void test_next_transition_from_each_state(void **state)
{
    static const struct {
        struct when from;
        bool lunch_duty;
        struct when want;
        enum schedule_state then;
    } cases[] = {
        {W(2026, 11, 26, 8, 0, 0), false, W(2026, 11, 26, 9, 0, 0), SCHED_OPEN},
        {W(2026, 11, 26, 9, 0, 0), false, W(2026, 11, 26, 12, 0, 0), SCHED_BREAK},
        {W(2026, 11, 26, 10, 0, 0), true, W(2026, 11, 26, 12, 0, 0), SCHED_BREAK},
        {W(2026, 11, 26, 12, 0, 0), false, W(2026, 11, 26, 13, 0, 0), SCHED_OPEN},
        {W(2026, 11, 26, 12, 30, 0), true, W(2026, 11, 26, 13, 0, 0), SCHED_OPEN},
        {W(2026, 11, 26, 13, 0, 0), false, W(2026, 11, 26, 17, 0, 0), SCHED_CLOSED},
        {W(2026, 11, 26, 16, 59, 59), false, W(2026, 11, 26, 17, 0, 0), SCHED_CLOSED},
        {W(2026, 11, 26, 17, 0, 0), false, W(2026, 11, 27, 9, 0, 0), SCHED_OPEN},
        /* over a weekend */
        {W(2026, 11, 27, 17, 0, 0), false, W(2026, 11, 30, 9, 0, 0), SCHED_OPEN},
        {W(2026, 11, 28, 10, 0, 0), false, W(2026, 11, 30, 9, 0, 0), SCHED_OPEN},
        /* over the National Day week to the next working day */
        {W(2026, 9, 30, 17, 30, 0), false, W(2026, 10, 8, 9, 0, 0), SCHED_OPEN},
        {W(2026, 10, 3, 10, 0, 0), false, W(2026, 10, 8, 9, 0, 0), SCHED_OPEN},
        /* to a make-up Saturday and a make-up Sunday */
        {W(2026, 10, 9, 18, 0, 0), false, W(2026, 10, 10, 9, 0, 0), SCHED_OPEN},
        {W(2026, 9, 26, 10, 0, 0), false, W(2026, 9, 27, 9, 0, 0), SCHED_OPEN},
    };
    struct config_schedule s = standard();

    (void)state;
    use_tz("Asia/Shanghai");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        wall_s from = ts(cases[i].from), want = ts(cases[i].want);
        wall_s got = schedule_next_transition(&s, from, cases[i].lunch_duty);

        if (got != want)
            fail_msg("case %zu: from %02d-%02d %02d:%02d got %lld, want %lld", i, cases[i].from.mo,
                     cases[i].from.d, cases[i].from.h, cases[i].from.mi, (long long)got,
                     (long long)want);
        assert_int_equal(schedule_state(&s, want), cases[i].then);
        assert_int_equal(schedule_state(&s, want - 1), schedule_state(&s, from));
    }
}

static void test_next_transitions_over_weeks_match_the_state_minute_by_minute(void **state)
{
    struct config_schedule s = standard();

    (void)state;
    use_tz("Asia/Shanghai");
    /* Mon Sep 21 to Mon Oct 19 has 17 working days (Sep 21-25, Sun 27 调休,
     * Sep 28-30, Oct 8-9, Sat 10 调休, Oct 12-16) of 4 transitions each. */
    assert_int_equal(
        check_transition_chain(&s, ts(W(2026, 9, 21, 0, 0, 0)), ts(W(2026, 10, 19, 0, 0, 0)), 60),
        4 * 17);
}

static void test_adjacent_breaks_make_one_transition(void **state)
{
    static struct config_break two[] = {{H(12, 0), H(12, 30)}, {H(12, 30), H(13, 0)}};
    struct config_schedule s = hours(MON_FRI, H(9, 0), H(17, 0));

    (void)state;
    s.breaks = two;
    s.n_breaks = 2;
    use_tz("Asia/Shanghai");
    assert_int_equal(schedule_next_transition(&s, ts(W(2026, 11, 26, 12, 10, 0)), false),
                     ts(W(2026, 11, 26, 13, 0, 0)));
}

static void test_next_transition_gives_up_after_400_days(void **state)
{
    int32_t one_day[1];
    struct config_schedule never = hours(0, H(9, 0), H(17, 0));
    struct config_schedule once = hours(0, H(9, 0), H(17, 0));
    wall_s from;

    (void)state;
    use_tz("Asia/Shanghai");
    from = ts(W(2026, 1, 1, 0, 0, 0));
    assert_int_equal(schedule_next_transition(&never, from, false), 0);
    assert_int_equal(schedule_next_on_workday(&never, from, H(17, 30)), 0);

    /* 400 days after 2026-01-01 12:00 is 2027-02-05 12:00: that day's 09:00 is
     * inside the horizon, its 17:30 outside. */
    from = ts(W(2026, 1, 1, 12, 0, 0));
    once.workdays = one_day;
    once.n_workdays = 1;
    one_day[0] = day_of(2026, 1, 1) + 400;
    assert_int_equal(schedule_next_transition(&once, from, false), ts(W(2027, 2, 5, 9, 0, 0)));
    assert_int_equal(schedule_next_on_workday(&once, from, H(17, 30)), 0);
    one_day[0] = day_of(2026, 1, 1) + 399;
    assert_int_equal(schedule_next_on_workday(&once, from, H(17, 30)),
                     ts(W(2027, 2, 4, 17, 30, 0)));
    one_day[0] = day_of(2026, 1, 1) + 401;
    assert_int_equal(schedule_next_transition(&once, from, false), 0);
}

static void test_close_today_only_on_a_working_day_before_close(void **state)
{
    static const struct {
        struct when at;
        bool some;
        struct when want;
    } cases[] = {
        {W(2026, 11, 26, 8, 0, 0), true, W(2026, 11, 26, 17, 0, 0)}, /* before open */
        {W(2026, 11, 26, 12, 30, 0), true, W(2026, 11, 26, 17, 0, 0)},
        {W(2026, 11, 26, 16, 59, 59), true, W(2026, 11, 26, 17, 0, 0)},
        {W(2026, 11, 26, 17, 0, 0), false, W(0, 0, 0, 0, 0, 0)},
        {W(2026, 11, 26, 20, 0, 0), false, W(0, 0, 0, 0, 0, 0)},
        {W(2026, 11, 28, 10, 0, 0), false, W(0, 0, 0, 0, 0, 0)},      /* Sat */
        {W(2026, 10, 1, 10, 0, 0), false, W(0, 0, 0, 0, 0, 0)},       /* holiday */
        {W(2026, 10, 10, 10, 0, 0), true, W(2026, 10, 10, 17, 0, 0)}, /* 调休 */
    };
    struct config_schedule s = standard();

    (void)state;
    use_tz("Asia/Shanghai");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        wall_s got = schedule_close_today(&s, ts(cases[i].at));
        wall_s want = cases[i].some ? ts(cases[i].want) : 0;

        if (got != want)
            fail_msg("case %zu: got %lld, want %lld", i, (long long)got, (long long)want);
    }
}

static void test_poweroff_is_today_before_1730_else_the_next_working_day(void **state)
{
    static const struct {
        struct when from;
        struct when want;
    } cases[] = {
        {W(2026, 11, 26, 10, 0, 0), W(2026, 11, 26, 17, 30, 0)},
        {W(2026, 11, 26, 17, 29, 59), W(2026, 11, 26, 17, 30, 0)},
        {W(2026, 11, 26, 17, 30, 0), W(2026, 11, 27, 17, 30, 0)}, /* exclusive */
        {W(2026, 11, 26, 18, 0, 0), W(2026, 11, 27, 17, 30, 0)},
        {W(2026, 11, 27, 18, 0, 0), W(2026, 11, 30, 17, 30, 0)}, /* Fri -> Mon */
        {W(2026, 11, 28, 10, 0, 0), W(2026, 11, 30, 17, 30, 0)}, /* Sat -> Mon */
        {W(2026, 9, 30, 18, 0, 0), W(2026, 10, 8, 17, 30, 0)},   /* over holidays */
        {W(2026, 10, 9, 18, 0, 0), W(2026, 10, 10, 17, 30, 0)},  /* to a 调休 Sat */
        {W(2026, 10, 10, 8, 0, 0), W(2026, 10, 10, 17, 30, 0)},  /* on a 调休 Sat */
        {W(2026, 10, 10, 18, 0, 0), W(2026, 10, 12, 17, 30, 0)}, /* 调休 Sat -> Mon */
    };
    struct config_schedule s = standard();

    (void)state;
    use_tz("Asia/Shanghai");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        wall_s got = schedule_next_on_workday(&s, ts(cases[i].from), s.poweroff_s);
        wall_s want = ts(cases[i].want);

        if (got != want)
            fail_msg("case %zu: got %lld, want %lld", i, (long long)got, (long long)want);
    }
    /* poweron_at before opening */
    assert_int_equal(schedule_next_on_workday(&s, ts(W(2026, 11, 27, 18, 0, 0)), H(8, 0)),
                     ts(W(2026, 11, 30, 8, 0, 0)));
}

static void test_schedule_at_is_the_time_of_day_on_the_same_date(void **state)
{
    wall_s t;

    (void)state;
    use_tz("Asia/Shanghai");
    t = ts(W(2026, 11, 26, 15, 0, 0));
    assert_int_equal(schedule_at(t, H(9, 0)), 1795654800); /* before t */
    assert_int_equal(schedule_at(t, H(17, 30)), ts(W(2026, 11, 26, 17, 30, 0)));
    assert_int_equal(schedule_at(t, 0), ts(W(2026, 11, 26, 0, 0, 0)));
    assert_int_equal(schedule_at(t, H(24, 0)), ts(W(2026, 11, 27, 0, 0, 0)));
}

static void test_shanghai_days_are_all_86400_s(void **state)
{
    struct config_schedule s = standard();
    wall_s noon, open0;

    (void)state;
    use_tz("Asia/Shanghai");
    noon = ts(W(2026, 1, 1, 12, 0, 0));
    open0 = ts(W(2026, 1, 1, 9, 0, 0));
    for (int k = 0; k < 366; k++)
        assert_int_equal(schedule_at(noon + (wall_s)k * 86400, H(9, 0)), open0 + (wall_s)k * 86400);
    assert_int_equal(schedule_next_transition(&s, ts(W(2026, 11, 27, 17, 0, 0)), false) -
                         ts(W(2026, 11, 27, 17, 0, 0)),
                     64 * 3600);
}

/* Berlin, Sunday 2026-03-29: 02:00 CET becomes 03:00 CEST. */
static void test_berlin_spring_forward_opens_at_the_end_of_the_gap(void **state)
{
    static const struct state_case cases[] = {
        {W(2026, 3, 28, 2, 29, 59), SCHED_CLOSED}, /* the day before, normal */
        {W(2026, 3, 28, 2, 30, 0), SCHED_OPEN},
        {W(2026, 3, 29, 1, 59, 59), SCHED_CLOSED}, /* CET, last second before the gap */
        {W(2026, 3, 29, 3, 0, 0), SCHED_OPEN},     /* CEST, first after the gap */
        {W(2026, 3, 29, 16, 59, 59), SCHED_OPEN},
        {W(2026, 3, 29, 17, 0, 0), SCHED_CLOSED},
    };
    struct config_schedule s = hours(EVERY_DAY, H(2, 30), H(17, 0));
    static struct config_break in_gap[] = {{H(2, 0), H(3, 0)}};
    struct config_schedule b = hours(EVERY_DAY, H(1, 0), H(17, 0));
    const wall_s gap_end = 1774746000; /* 2026-03-29 03:00 CEST */

    (void)state;
    use_tz("Europe/Berlin");
    check_states(&s, cases, sizeof(cases) / sizeof(cases[0]));
    assert_int_equal(ts(W(2026, 3, 29, 1, 59, 59)), gap_end - 1);
    assert_int_equal(schedule_at(ts(W(2026, 3, 29, 12, 0, 0)), H(2, 30)), gap_end);
    assert_int_equal(schedule_at(ts(W(2026, 3, 29, 12, 0, 0)), H(2, 0)), gap_end);
    assert_int_equal(schedule_next_transition(&s, ts(W(2026, 3, 29, 1, 0, 0)), false), gap_end);
    assert_int_equal(schedule_next_on_workday(&s, ts(W(2026, 3, 28, 18, 0, 0)), H(2, 30)), gap_end);
    assert_int_equal(schedule_next_on_workday(&s, gap_end, H(2, 30)), ts(W(2026, 3, 30, 2, 30, 0)));
    assert_int_equal(schedule_close_today(&s, ts(W(2026, 3, 29, 1, 0, 0))),
                     ts(W(2026, 3, 29, 17, 0, 0)));
    assert_int_equal(schedule_close_today(&s, ts(W(2026, 3, 29, 17, 0, 0))), 0);
    /* A break wholly inside the gap does not happen that day. */
    b.breaks = in_gap;
    b.n_breaks = 1;
    assert_int_equal(schedule_next_transition(&b, ts(W(2026, 3, 28, 1, 30, 0)), false),
                     ts(W(2026, 3, 28, 2, 0, 0)));
    assert_int_equal(schedule_state(&b, ts(W(2026, 3, 28, 2, 30, 0))), SCHED_BREAK);
    assert_int_equal(schedule_next_transition(&b, ts(W(2026, 3, 29, 1, 30, 0)), false),
                     ts(W(2026, 3, 29, 17, 0, 0)));
    assert_int_equal(schedule_state(&b, gap_end), SCHED_OPEN);
    check_transition_chain(&s, ts(W(2026, 3, 27, 0, 0, 0)), ts(W(2026, 3, 31, 0, 0, 0)), 1);
    check_transition_chain(&b, ts(W(2026, 3, 27, 0, 0, 0)), ts(W(2026, 3, 31, 0, 0, 0)), 1);
}

/* Berlin, Sunday 2026-10-25: 03:00 CEST goes back to 02:00 CET. */
static void test_berlin_fall_back_repeats_the_states_of_the_repeated_hour(void **state)
{
    static const struct state_case cases[] = {
        {W_DST(2026, 10, 25, 0, 59, 59, 1), SCHED_CLOSED},
        {W_DST(2026, 10, 25, 1, 0, 0, 1), SCHED_OPEN},
        {W_DST(2026, 10, 25, 2, 15, 0, 1), SCHED_OPEN}, /* first pass */
        {W_DST(2026, 10, 25, 2, 29, 59, 1), SCHED_OPEN},
        {W_DST(2026, 10, 25, 2, 30, 0, 1), SCHED_CLOSED},
        {W_DST(2026, 10, 25, 2, 59, 59, 1), SCHED_CLOSED},
        {W_DST(2026, 10, 25, 2, 0, 0, 0), SCHED_OPEN}, /* second pass */
        {W_DST(2026, 10, 25, 2, 15, 0, 0), SCHED_OPEN},
        {W_DST(2026, 10, 25, 2, 30, 0, 0), SCHED_CLOSED},
        {W_DST(2026, 10, 25, 2, 45, 0, 0), SCHED_CLOSED},
        {W_DST(2026, 10, 25, 3, 0, 0, 0), SCHED_CLOSED},
    };
    struct config_schedule s = hours(EVERY_DAY, H(1, 0), H(2, 30));
    const wall_s close1 = 1792888200; /* 02:30 CEST, 00:30 UTC */
    const wall_s close2 = 1792891800; /* 02:30 CET, 01:30 UTC */
    const wall_s back = 1792890000;   /* 03:00 CEST = 02:00 CET, 01:00 UTC */
    wall_s expect_chain[5], t;

    (void)state;
    use_tz("Europe/Berlin");
    expect_chain[0] = ts(W(2026, 10, 25, 1, 0, 0)); /* CEST */
    expect_chain[1] = close1;
    expect_chain[2] = back; /* the wall clock goes back before close */
    expect_chain[3] = close2;
    expect_chain[4] = ts(W(2026, 10, 26, 1, 0, 0));
    t = ts(W(2026, 10, 25, 0, 30, 0));
    check_states(&s, cases, sizeof(cases) / sizeof(cases[0]));
    assert_int_equal(ts(W_DST(2026, 10, 25, 2, 0, 0, 0)), back);
    for (size_t i = 0; i < sizeof(expect_chain) / sizeof(expect_chain[0]); i++) {
        t = schedule_next_transition(&s, t, false);
        if (t != expect_chain[i])
            fail_msg("transition %zu: got %lld, want %lld", i, (long long)t,
                     (long long)expect_chain[i]);
    }
    /* Close today: the next one by the wall clock. */
    assert_int_equal(schedule_close_today(&s, ts(W_DST(2026, 10, 25, 1, 30, 0, 1))), close1);
    assert_int_equal(schedule_close_today(&s, ts(W_DST(2026, 10, 25, 2, 45, 0, 1))), 0);
    assert_int_equal(schedule_close_today(&s, ts(W_DST(2026, 10, 25, 2, 15, 0, 0))), close2);
    assert_int_equal(schedule_close_today(&s, ts(W_DST(2026, 10, 25, 2, 45, 0, 0))), 0);
    /* A time of day is its first occurrence; once a day for power-off. */
    assert_int_equal(schedule_at(ts(W(2026, 10, 25, 12, 0, 0)), H(2, 30)), close1);
    assert_int_equal(schedule_next_on_workday(&s, ts(W(2026, 10, 24, 12, 0, 0)), H(2, 30)), close1);
    assert_int_equal(schedule_next_on_workday(&s, ts(W_DST(2026, 10, 25, 2, 40, 0, 1)), H(2, 30)),
                     ts(W(2026, 10, 26, 2, 30, 0)));
    assert_int_equal(schedule_next_on_workday(&s, ts(W_DST(2026, 10, 25, 2, 15, 0, 0)), H(2, 30)),
                     ts(W(2026, 10, 26, 2, 30, 0)));
    check_transition_chain(&s, ts(W(2026, 10, 23, 0, 0, 0)), ts(W(2026, 10, 28, 0, 0, 0)), 1);
    /* An ordinary schedule is unaffected apart from the hour in UTC. */
    s = standard();
    assert_int_equal(schedule_next_transition(&s, ts(W(2026, 10, 23, 17, 0, 0)), false),
                     ts(W(2026, 10, 26, 9, 0, 0)));
}

static void test_new_york_keeps_local_hours_across_both_changes(void **state)
{
    struct config_schedule s = standard();

    (void)state;
    use_tz("America/New_York");
    /* 2026-03-08 02:00 EST -> 03:00 EDT; 2026-11-01 02:00 EDT -> 01:00 EST. */
    assert_int_equal(schedule_next_transition(&s, ts(W(2026, 3, 6, 17, 0, 0)), false),
                     1773061200); /* Mon 09:00 EDT */
    assert_int_equal(schedule_at(ts(W(2026, 3, 6, 12, 0, 0)), H(9, 0)), 1772805600); /* EST */
    assert_int_equal(schedule_next_transition(&s, ts(W(2026, 10, 30, 17, 0, 0)), false),
                     1793628000); /* Mon 09:00 EST */
    assert_int_equal(schedule_next_on_workday(&s, ts(W(2026, 10, 30, 18, 0, 0)), s.poweroff_s),
                     ts(W(2026, 11, 2, 17, 30, 0)));
    assert_int_equal(
        check_transition_chain(&s, ts(W(2026, 3, 2, 0, 0, 0)), ts(W(2026, 3, 16, 0, 0, 0)), 60),
        4 * 10);
    assert_int_equal(
        check_transition_chain(&s, ts(W(2026, 10, 26, 0, 0, 0)), ts(W(2026, 11, 9, 0, 0, 0)), 60),
        4 * 10);
}

static void test_wall_clock_jumps_give_answers_for_the_new_time(void **state)
{
    struct config_schedule s = standard();
    wall_s t, first_next;

    (void)state;
    use_tz("Asia/Shanghai");
    t = ts(W(2026, 11, 26, 9, 30, 0)); /* Thu */
    assert_int_equal(schedule_state(&s, t), SCHED_OPEN);
    first_next = schedule_next_transition(&s, t, false);
    assert_int_equal(first_next, ts(W(2026, 11, 26, 12, 0, 0)));
    /* Stepped back an hour: before open again. */
    assert_int_equal(schedule_state(&s, t - 3600), SCHED_CLOSED);
    assert_int_equal(schedule_next_transition(&s, t - 3600, false), ts(W(2026, 11, 26, 9, 0, 0)));
    assert_int_equal(schedule_close_today(&s, t - 3600), ts(W(2026, 11, 26, 17, 0, 0)));
    /* Stepped forward a day: Friday. */
    assert_int_equal(schedule_state(&s, t + 86400), SCHED_OPEN);
    assert_int_equal(schedule_next_transition(&s, t + 86400, false), ts(W(2026, 11, 27, 12, 0, 0)));
    assert_int_equal(schedule_close_today(&s, t + 86400), ts(W(2026, 11, 27, 17, 0, 0)));
    /* And another: Saturday. */
    assert_int_equal(schedule_state(&s, t + (wall_s)2 * 86400), SCHED_CLOSED);
    assert_int_equal(schedule_close_today(&s, t + (wall_s)2 * 86400), 0);
    /* Back to t: the same answers as the first time. */
    assert_int_equal(schedule_state(&s, t), SCHED_OPEN);
    assert_int_equal(schedule_next_transition(&s, t, false), first_next);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_timestamp_helper_matches_known_instants),
        cmocka_unit_test(test_weekday_hours_open_at_open_and_closed_at_close),
        cmocka_unit_test(test_lunch_break_closes_the_hall_but_not_a_lunch_duty_window),
        cmocka_unit_test(test_holiday_closes_a_weekday_and_a_make_up_day_opens_a_weekend),
        cmocka_unit_test(test_a_day_open_until_midnight_closes_when_the_date_changes),
        cmocka_unit_test(test_next_transition_from_each_state),
        cmocka_unit_test(test_next_transitions_over_weeks_match_the_state_minute_by_minute),
        cmocka_unit_test(test_adjacent_breaks_make_one_transition),
        cmocka_unit_test(test_next_transition_gives_up_after_400_days),
        cmocka_unit_test(test_close_today_only_on_a_working_day_before_close),
        cmocka_unit_test(test_poweroff_is_today_before_1730_else_the_next_working_day),
        cmocka_unit_test(test_schedule_at_is_the_time_of_day_on_the_same_date),
        cmocka_unit_test(test_shanghai_days_are_all_86400_s),
        cmocka_unit_test(test_berlin_spring_forward_opens_at_the_end_of_the_gap),
        cmocka_unit_test(test_berlin_fall_back_repeats_the_states_of_the_repeated_hour),
        cmocka_unit_test(test_new_york_keeps_local_hours_across_both_changes),
        cmocka_unit_test(test_wall_clock_jumps_give_answers_for_the_new_time),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
