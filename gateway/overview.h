/* The overview of every hall of the gateway at a glance (GET
 * /api/v1/overview): per hall whether it is open, how many open windows are
 * staffed, how many people wait, the active alerts by severity and the
 * state of the last power-off run. Built on the core thread from the same
 * state as the snapshots; the result is a malloc'd JSON string handed to
 * api.c.
 *
 *   {"gateway","time","timezone","mqtt_connected",
 *    "schedule":{"state":"open"|"break"|"closed","next_transition"},
 *    "halls":[{"id","name","state","windows","open","staffed","unstaffed",
 *              "unknown","waiting" (null: no queue reading),
 *              "alerts":{"total","unacknowledged","critical","major",
 *                        "warning","info"},
 *              "poweroff": null (no run yet) | {"date","running",
 *                        "status":"running"|"all_off"|"not_all_off",
 *                        "done","failed","pending"}}]} */
#ifndef HALLGW_OVERVIEW_H
#define HALLGW_OVERVIEW_H

#include <stdbool.h>

#include "alerting.h"
#include "buf.h"
#include "clock.h"
#include "config.h"
#include "hallmodel.h"

struct enforce;

/* ef may be NULL (no power-off), al too (no alerts counted). NULL when out
 * of memory. */
char *overview_json(const struct config *cfg, struct hallmodel *hm, const struct enforce *ef,
                    struct alerting *al, wall_s wall, bool mqtt_connected);

/* The same as InfluxDB points (measurement "overview", one per hall, tags
 * "gateway" and "hall"; fields "open" (bool: the schedule), "windows",
 * "windows_open", "staffed", "unstaffed", "waiting" (when known), "alerts",
 * "alerts_unacknowledged", "alerts_critical" ... "alerts_info", and
 * "poweroff_done", "poweroff_failed", "poweroff_pending" once a power-off
 * run has touched the hall), appended to b; counted(ctx, r) is called with
 * lineproto_append()'s result for each. Written with the gateway's own
 * counters, every gateway.stats_interval: the central store's view of every
 * hall of every gateway. */
void overview_points(struct buf *b, const struct config *cfg, struct hallmodel *hm,
                     const struct enforce *ef, struct alerting *al, wall_s wall,
                     void (*counted)(void *ctx, int r), void *ctx);

#endif
