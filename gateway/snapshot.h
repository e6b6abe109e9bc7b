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

struct enforce;

/* The state: gateway, schedule, halls (windows, devices), thresholds,
 * max_ages, "poweroff" (the last power-off run, null when none:
 * {"date","trigger","started","running","dry_run","pcs":[{"device","hall",
 * "window","state","ok","detail"}],"plugs":[...]}) and "overrides" (those in
 * force: [{"device","until","reason","by","created"}]) and "bridges" (each
 * Zigbee2MQTT base: [{"base","state":"online"|"offline"|"unknown","since"}]).
 * ef may be NULL. */
char *snapshot_state(const struct config *cfg, struct hallmodel *hm, const struct enforce *ef,
                     wall_s wall, mono_ms now, bool mqtt_connected);
char *snapshot_alerts(const struct config *cfg, struct alerting *al);

struct json_t;

/* What the state and the overview (overview.h) start with, as a new jansson
 * object (json_t) the caller adds to and frees: "gateway", "time",
 * "timezone", "mqtt_connected" and "schedule":{"state","next_transition"}. */
struct json_t *snapshot_head(const struct config *cfg, wall_s wall, bool mqtt_connected);

struct record_alert;

/* {"history":[...]} of n history rows. */
char *snapshot_history(const struct record_alert *h, size_t n);

struct record_override;
struct record_override_event;

/* {"overrides":[{"device","until","reason","by","created"}]}, with
 * "log":[{"device","action","until","reason","by","at"}] when log is not
 * NULL. */
char *snapshot_overrides(const struct record_override *v, size_t n,
                         const struct record_override_event *log, size_t n_log);

#endif
