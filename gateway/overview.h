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
#include "clock.h"
#include "config.h"
#include "hallmodel.h"

struct enforce;

/* ef may be NULL (no power-off), al too (no alerts counted). NULL when out
 * of memory. */
char *overview_json(const struct config *cfg, struct hallmodel *hm, const struct enforce *ef,
                    struct alerting *al, wall_s wall, bool mqtt_connected);

#endif
