/* The points hallgw derives itself, beside the devices' readings: alert
 * transitions (measurement "alert"), window state ("window") and power-off
 * enforcement steps ("poweroff"); the gateway's own counters ("gateway") are
 * metrics_points() of io/metrics.h. Each appends one line to a batch and
 * returns lineproto_append()'s result. */
#ifndef HALLGW_POINTS_H
#define HALLGW_POINTS_H

#include <stdbool.h>
#include <stdint.h>

#include "alert.h"
#include "config.h"
#include "lineproto.h"

int points_alert(struct buf *b, const struct alert *a, enum alert_transition t, wall_s wall);
int points_window(struct buf *b, const struct config_hall *h, const struct config_window *w,
                  bool open, int presence, double waiting, wall_s wall);

/* One step of power-off enforcement: tags hall, window, device, kind; fields
 * step (string), ok (bool), detail (string). window may be "" (no tag). */
int points_poweroff(struct buf *b, const char *hall, const char *window, const char *device,
                    const char *kind, const char *step, bool ok, const char *detail, int64_t ts_ns);

#endif
