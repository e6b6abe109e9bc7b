/* Time sources. mono_ms is used only for relative timings (durations,
 * timeouts, deadlines); wall time only for timestamps written out and for
 * the hall schedule. */
#ifndef HALLGW_CLOCK_H
#define HALLGW_CLOCK_H

#include <stdint.h>

typedef int64_t mono_ms; /* CLOCK_MONOTONIC, milliseconds; never compare with wall time */

mono_ms clock_mono_ms(void);

/* CLOCK_REALTIME in nanoseconds since the Unix epoch. */
int64_t clock_wall_ns(void);

/* A struct timespec for pthread_cond_timedwait on a CLOCK_MONOTONIC condvar,
 * timeout_ms from now. */
struct timespec clock_mono_deadline(int64_t timeout_ms);

#endif
