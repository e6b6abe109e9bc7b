/* The hall's opening schedule (pure): weekdays, open/close, breaks, holidays,
 * make-up working days (调休) and per-window lunch duty.
 *
 * Instants are wall_s (lib/clock.h); the schedule changes only on whole
 * seconds, and an instant returned is a whole second (0 when there is none).
 * Times of day are wall-clock times in the process's local time zone, which
 * the gateway sets from gateway.timezone (setenv("TZ") and tzset() once,
 * before any schedule call). `now` is always a parameter: no clock reads, no
 * I/O, no state kept between calls, so a wall-clock jump (NTP step, manual
 * set) just gives the answer for the new time.
 *
 * The schedule is expected as config validates it: 0 <= open_s < close_s <=
 * 86400 (close "24:00" is midnight at the end of the date), breaks sorted,
 * not overlapping and inside open..close; holidays and workdays sorted local
 * dates as days since 1970-01-01. A workday wins over a holiday (config
 * rejects a date in both) and a holiday wins over the weekdays.
 *
 * Daylight saving time (and any other change of UTC offset):
 * - The state at an instant is decided by the local date and time of day the
 *   wall clock shows at that instant. So during a repeated hour (fall back)
 *   the second pass has the same states as the first: with close at 02:30 on
 *   a day whose 03:00 goes back to 02:00, the hall is open 02:00-02:30 on
 *   both passes and closed 02:30-03:00 on both. A time of day skipped by a
 *   gap (spring forward) is never shown, so a boundary inside the gap takes
 *   effect at the first instant after the gap, and a break wholly inside the
 *   gap does not happen that day.
 * - Where a function returns the instant of a time of day: a time that does
 *   not exist on the date (in a gap) means the first instant after the gap
 *   (02:30 on a 02:00->03:00 day is the instant of 03:00); one that occurs
 *   twice means its first occurrence (except schedule_close_today(), below).
 * - Assumes a zone changes its offset at most once in any 48 hours (true of
 *   every zone in tzdata). */
#ifndef HALLGW_SCHEDULE_H
#define HALLGW_SCHEDULE_H

#include <stdbool.h>
#include <time.h>

#include "clock.h"

#include "config.h"

enum schedule_state {
    SCHED_CLOSED, /* not a working day, or before open / after close */
    SCHED_OPEN,
    SCHED_BREAK, /* a break (lunch) on a working day, inside opening hours */
};

/* True when the local date of t is a working day: a make-up working day, or
 * one of the weekdays and not a holiday. */
bool schedule_is_workday(const struct config_schedule *s, wall_s t);

/* The hall's state at t. */
enum schedule_state schedule_state(const struct config_schedule *s, wall_s t);

/* True while the hall is open (breaks excluded). */
bool schedule_is_open(const struct config_schedule *s, wall_s t);

/* True while a window is expected staffed: the hall is open, or it is a break
 * and the window has lunch duty. */
bool schedule_window_expected(const struct config_schedule *s, wall_s t, bool lunch_duty);

/* The next instant after t at which schedule_window_expected() (with this
 * lunch_duty) or schedule_state() changes: the smallest u > t with
 * schedule_state(u) != schedule_state(t), at most 400 days ahead, else 0.
 * Since the expectation follows from the state, this is the next change of
 * state whatever lunch_duty is (a break start is returned even for a window
 * with lunch duty). Only real changes are returned: nothing at midnight
 * between two days open 00:00-24:00, nothing between adjacent breaks, nothing
 * for a break skipped by a DST gap; the end of a repeated hour is returned
 * when the wall clock going back changes the state. */
wall_s schedule_next_transition(const struct config_schedule *s, wall_s t, bool lunch_duty);

/* The instant of today's close when t is on a working day before close (by
 * the wall clock, so also in the second pass of a repeated hour before
 * close), else 0. The first occurrence of the close after t: the second one
 * when t is in the second pass of a repeated hour. */
wall_s schedule_close_today(const struct config_schedule *s, wall_s t);

/* The first instant after t (exclusive) of the time of day tod_s (0..86400)
 * on a working day, at most 400 days ahead; 0 when none. For poweroff_at and
 * poweron_at: at exactly tod_s it is the next working day's. Once a day: a
 * repeated tod_s counts only its first occurrence, so once that has passed
 * (t in the second pass included) it is the next working day's. */
wall_s schedule_next_on_workday(const struct config_schedule *s, wall_s t, int32_t tod_s);

/* The instant of the time of day tod_s (0..86400) on the local date of t
 * (first occurrence; first instant after a gap); may be before t. 0 when t is
 * out of localtime_r's range. */
wall_s schedule_at(wall_s t, int32_t tod_s);

#endif
