/* Derived window state: is a service window open (expected staffed), is it
 * staffed, how many people wait for it. Computed from the schedule, the
 * window's seat sensor and the queue system; published retained on
 * hall/<hall>/windows/<window> when it changes and written to the InfluxDB
 * measurement "window" on change and every minute (for staffed-ratio charts). */
#ifndef HALLGW_WINDOWS_H
#define HALLGW_WINDOWS_H

#include <stdbool.h>
#include <time.h>

#include "config.h"
#include "hallmodel.h"

struct window_state {
    bool open;             /* expected staffed now (schedule, breaks, lunch duty) */
    int presence;          /* -1 unknown, 0 empty, 1 staffed */
    double waiting;        /* people waiting for it (its queue, else the hall's); -1 unknown */
    double longest_wait_s; /* -1 unknown */
};

/* The state of window w of hall h at t. */
void windows_state(const struct config *cfg, struct hallmodel *hm, const struct config_hall *h,
                   const struct config_window *w, time_t t, struct window_state *out);

/* The window state as JSON into buf; returns the length or -ENOSPC. */
int windows_to_json(const struct config_hall *h, const struct config_window *w,
                    const struct window_state *st, double since, char *buf, size_t size);

#endif
