/* Time sources and the two representations of time.
 *
 * mono_ms is used only for relative timings (durations, timeouts,
 * deadlines). wall_s is the one representation of a wall-clock instant
 * across the modules: readings, alerts, records, the schedule, commands,
 * reports. Times leave the program in other forms only at the edges:
 * nanoseconds in line protocol, whole seconds for localtime_r() and in
 * signed commands, seconds in JSON and SQLite.
 *
 * The clock is read by the programs' loops and handed to what they call;
 * the pure modules (gateway/core, the schedule) take it as a parameter and
 * never read it. */
#ifndef HALLGW_CLOCK_H
#define HALLGW_CLOCK_H

#include <math.h>
#include <stdint.h>

typedef int64_t mono_ms; /* CLOCK_MONOTONIC, milliseconds; never compare with wall time */

/* Unix seconds (CLOCK_REALTIME) with their fraction; a double holds them to
 * the microsecond for centuries. 0 means "unset" where a field can be. */
typedef double wall_s;

mono_ms clock_mono_ms(void);

/* The wall clock now. */
wall_s clock_wall(void);

/* The whole second of t (rounded down), for localtime_r() and the like. */
static inline int64_t wall_whole(wall_s t)
{
    int64_t i = (int64_t)t;
    return (double)i > t ? i - 1 : i;
}

/* t in nanoseconds since the epoch, for line protocol: to the microsecond,
 * what a double holds exactly. Saturates past the years 1677 and 2262,
 * which int64 nanoseconds cannot hold (NaN gives 0). */
static inline int64_t wall_ns(wall_s t)
{
    if (!(t > -9.2e9 && t < 9.2e9))
        return t > 0 ? INT64_MAX : t < 0 ? INT64_MIN : 0;
    return (int64_t)llround(t * 1e6) * 1000;
}

/* t, or a microsecond after *last when t is not later than that; *last
 * becomes the result. For instants that must never repeat, such as the
 * timestamps of points of one series (InfluxDB would overwrite). */
static inline wall_s wall_after(wall_s t, wall_s *last)
{
    if (t < *last + 1e-6)
        t = *last + 1e-6;
    *last = t;
    return t;
}

/* A struct timespec for pthread_cond_timedwait on a CLOCK_MONOTONIC condvar,
 * timeout_ms from now. */
struct timespec clock_mono_deadline(int64_t timeout_ms);

#endif
