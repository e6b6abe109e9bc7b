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

/* The hall queues (queue devices of a hall in no window) of every hall of a
 * config, found once: a window without a queue of its own counts the people
 * waiting at them, and scanning every device for them on each evaluation
 * costs too much in a large config. Lives as long as the config. */
struct windows_index;

/* NULL when out of memory (windows_state then scans). */
struct windows_index *windows_index_new(const struct config *cfg);
void windows_index_free(struct windows_index *ix); /* NULL does nothing */

/* The state of window w of hall h (one of cfg's) at t. ix: built from cfg, or
 * NULL to scan the devices. */
void windows_state(const struct config *cfg, const struct windows_index *ix, struct hallmodel *hm,
                   const struct config_hall *h, const struct config_window *w, wall_s t,
                   struct window_state *out);

/* The window state as JSON into buf; returns the length or -ENOSPC. */
int windows_to_json(const struct config_hall *h, const struct config_window *w,
                    const struct window_state *st, wall_s since, char *buf, size_t size);

#endif
