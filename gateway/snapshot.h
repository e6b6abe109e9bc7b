/* JSON snapshots of the core's state for the HTTP API: the halls, windows
 * and devices (/api/v1/state) and the active alerts (/api/v1/alerts). Built
 * on the core thread; the result is a malloc'd string handed to api.c. */
#ifndef HALLGW_SNAPSHOT_H
#define HALLGW_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "alerting.h"
#include "clock.h"
#include "config.h"
#include "hallmodel.h"

char *snapshot_state(const struct config *cfg, struct hallmodel *hm, time_t wall, mono_ms now,
                     bool mqtt_connected);
char *snapshot_alerts(const struct config *cfg, struct alerting *al);

struct store_history;

/* {"history":[...]} of n history rows. */
char *snapshot_history(const struct store_history *h, size_t n);

#endif
