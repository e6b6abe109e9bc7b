/* The hall's opening schedule (pure): weekdays, open/close, breaks, holidays,
 * make-up working days (调休) and per-window lunch duty.
 *
 * Times of day are wall-clock times in the process's local time zone, which
 * the gateway sets from gateway.timezone (setenv("TZ") and tzset() once,
 * before any schedule call). A time of day that does not exist on a day (a
 * DST gap) means the first instant after the gap; one that occurs twice (the
 * repeated hour) means its first occurrence. `now` is always a parameter. */
#ifndef HALLGW_SCHEDULE_H
#define HALLGW_SCHEDULE_H

#include <stdbool.h>
#include <time.h>

#include "config.h"

enum schedule_state {
    SCHED_CLOSED, /* not a working day, or before open / after close */
    SCHED_OPEN,
    SCHED_BREAK,  /* a break (lunch) on a working day, inside opening hours */
};

/* True when the local date of t is a working day: a make-up working day, or
 * one of the weekdays and not a holiday. */
bool schedule_is_workday(const struct config_schedule *s, time_t t);

/* The hall's state at t. */
enum schedule_state schedule_state(const struct config_schedule *s, time_t t);

/* True while the hall is open (breaks excluded). */
bool schedule_is_open(const struct config_schedule *s, time_t t);

/* True while a window is expected staffed: the hall is open, or it is a break
 * and the window has lunch duty. */
bool schedule_window_expected(const struct config_schedule *s, time_t t, bool lunch_duty);

/* The next instant after t at which schedule_window_expected() (with this
 * lunch_duty) or schedule_state() changes; at most 400 days ahead, else 0. */
time_t schedule_next_transition(const struct config_schedule *s, time_t t, bool lunch_duty);

/* The instant of today's close when t is on a working day before close, else
 * 0. */
time_t schedule_close_today(const struct config_schedule *s, time_t t);

/* The first instant after t (exclusive) of the time of day tod_s on a
 * working day, at most 400 days ahead; 0 when none. For poweroff_at and
 * poweron_at. */
time_t schedule_next_on_workday(const struct config_schedule *s, time_t t, int32_t tod_s);

/* The instant of the time of day tod_s on the local date of t. */
time_t schedule_at(time_t t, int32_t tod_s);

#endif
