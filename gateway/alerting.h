/* Alerting: the rules applied to the hall model, the alerts they raise, and
 * every transition announced — stored in SQLite, published on MQTT
 * (hall/<hall>/alerts, and retained on hall/<hall>/alerts/<id>), written to
 * InfluxDB (measurement "alert") and sent to the matching notification
 * routes. Also acknowledgements and manual resolves, re-notification and
 * escalation, and the derived window state.
 *
 * A transition is published first and stored after: with a store writer
 * (alerting_io.writer) the core never waits for the disk.
 *
 * Owned by the core thread. Side effects go through struct alerting_io, so
 * the logic runs in tests without a broker. */
#ifndef HALLGW_ALERTING_H
#define HALLGW_ALERTING_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "alert.h"
#include "clock.h"
#include "config.h"
#include "hallmodel.h"
#include "reading.h"
#include "record.h"

struct store;
struct store_writer;
struct notifier;

struct alerting_io {
    void *ctx;
    /* Publishes an MQTT message (QoS 1). */
    void (*publish)(void *ctx, const char *topic, const char *payload, size_t len, bool retained);
    /* Writes an alert transition to InfluxDB. */
    void (*alert_point)(void *ctx, const struct alert *a, enum alert_transition t, wall_s wall);
    /* Writes a window state to InfluxDB. */
    void (*window_point)(void *ctx, const struct config_hall *h, const struct config_window *w,
                         bool open, int presence, double waiting, wall_s wall);
    struct store *store; /* may be NULL (no persistence) */
    /* When not NULL, transitions are recorded through it (queued, written by
     * its thread after they are published) instead of store_record() on
     * store; store still serves the reads and the baselines. */
    struct store_writer *writer;
    struct notifier *notifier; /* may be NULL (no routes) */
};

struct alerting;

/* Loads the active alerts from io->store: they come back active, and are not
 * announced again. */
int alerting_new(const struct config *cfg, struct hallmodel *hm, const struct alerting_io *io,
                 wall_s wall, mono_ms now, struct alerting **out);
void alerting_free(struct alerting *al);

/* A new config (reload); alerts of rules that no longer exist are resolved. */
void alerting_set_config(struct alerting *al, const struct config *cfg, struct notifier *nt,
                         wall_s wall);

/* Evaluates what a fresh reading of d may change: its device rules, its event
 * rules, and its window's state. Retained messages must not be passed here:
 * they never trigger anything by themselves. */
void alerting_on_reading(struct alerting *al, struct hm_device *d, const struct reading *rd,
                         wall_s wall, mono_ms now);

/* Evaluates every rule on every device and window (time passing: `for`,
 * silence, ages, the schedule), publishes window state changes, re-notifies
 * and escalates. Call about once a second. */
void alerting_tick(struct alerting *al, wall_s wall, mono_ms now);

/* An acknowledgement (or, with resolve, a manual resolve of an event
 * alert). Returns 0, -ENOENT (no such active alert) or -EINVAL (resolve of an
 * alert that clears by itself; a baseline alert clears when its value comes
 * back or is approved). */
int alerting_ack(struct alerting *al, const char *hall, const char *alert_id, const char *by,
                 const char *note, bool resolve, wall_s wall);

/* Approves the current value of a baseline alert's metric, by whom (stored
 * with the baseline), and resolves the alert. Returns 0, -ENOENT (no such
 * active alert) or -EINVAL (not a baseline alert). The caller checks that
 * by may approve (role it). */
int alerting_approve(struct alerting *al, const char *hall, const char *alert_id, const char *by,
                     const char *note, wall_s wall);

/* Parses <prefix>/<hall>/alerts/<id>/ack[/<account>]. Returns true and
 * fills hall, id and account ("" for the form without one). The account
 * level is the broker user that published it: the broker's ACL lets a user
 * write only under its own name (pattern .../ack/%u). */
bool alerting_parse_ack_topic(const char *prefix, const char *topic, size_t len, char *hall,
                              size_t hall_size, char *id, size_t id_size, char *account,
                              size_t account_size);

/* The pending, firing or acknowledged alert id of hall, or NULL. With hall
 * NULL, the first such alert of any hall. */
const struct alert *alerting_find(struct alerting *al, const char *hall, const char *alert_id);

size_t alerting_active_count(const struct alerting *al);

/* Calls fn for every pending, firing or acknowledged alert. */
void alerting_foreach(struct alerting *al, void (*fn)(const struct alert *a, void *arg), void *arg);

/* ---- alerts raised outside the rule engine ------------------------------ */

/* Power-off enforcement: a PC that refused, never answered or is still on
 * after verify_within, or a plug still on (enforce.h). Subject: the device. */
#define ALERTING_RULE_POWEROFF_FAILED "poweroff-failed"

/* A Zigbee2MQTT bridge said offline on <base>/bridge/state (alerting_bridges.c):
 * one alert per base, in the hall of the base's first device, subject the
 * base topic ('/' and other characters outside ids as '_'); resolved when it
 * is online again. Its devices raise no stale alert meanwhile. */
#define ALERTING_RULE_BRIDGE_OFFLINE "bridge-offline"

/* True for the rule names of alerts raised by alerting_raise_external():
 * config refuses rules of these names, and their alerts are kept across
 * restarts and reloads although no configured rule has the name. */
bool alerting_external_rule(const char *rule);

struct alerting_external {
    const char *rule;    /* an alerting_external_rule() name */
    const char *subject; /* the alert id is "<rule>:<subject>" */
    const char *hall;
    const char *device, *window; /* NULL for none */
    enum device_kind kind;
    enum severity severity;
    const char *summary;
};

/* Raises (fires at once) the alert "<rule>:<subject>" of hall; a repeat while
 * it is active updates its summary, never duplicates it. Such an alert has
 * type "event": a person resolves it with a handling note (alerting_ack with
 * resolve), or alerting_resolve_external() does when the cause is gone.
 * Returns 0, -EINVAL (not an external rule) or -ENOMEM. */
int alerting_raise_external(struct alerting *al, const struct alerting_external *x, wall_s wall,
                            mono_ms now);

/* Resolves an active external alert by itself (resolved_by ""), with note
 * as the record of why. Returns 0, or -ENOENT when it is not active. */
int alerting_resolve_external(struct alerting *al, const char *hall, const char *alert_id,
                              const char *note, wall_s wall);

/* Holds the alert alert_id of hall (a rule's "<rule>:<device>") until the
 * wall time until: while held, a true condition keeps it pending (quiet)
 * instead of firing; after, it fires as the rule says if the condition is
 * still true. An alert already firing is not affected. until <= 0 removes
 * the hold. For enforcement: a scan was ordered, give it time. Returns 0 or
 * -ENOMEM. */
int alerting_hold(struct alerting *al, const char *hall, const char *alert_id, wall_s until);

/* ---- silences (alerting_silence.c) ---- */

/* Reads the silences in force now or later from the store. 0, -ENOTSUP
 * without a store, or the store's error (the known ones stay). */
int alerting_silences_reload(struct alerting *al, wall_s wall);

/* Stores silence s (an id is made when s->id is empty; starts in the past
 * become wall; s->created_by is the caller's to set) after
 * silence_check() against alerts.silence_max, and takes it into force.
 * Returns 0, -EINVAL with *why, -ENOTSUP without a store, -EIO. */
int alerting_silence_put(struct alerting *al, struct record_silence *s, wall_s wall,
                         const char **why);

/* Ends silence id at ends (expires it now, by by, when ends <= wall) or
 * extends it (ends later; checked against alerts.silence_max). The silence
 * as stored into *out when not NULL. Returns 0, -ENOENT (no such silence in
 * force), -EINVAL with *why, -ENOTSUP, -EIO. */
int alerting_silence_end(struct alerting *al, const char *id, wall_s ends, const char *by,
                         wall_s wall, struct record_silence *out, const char **why);

#endif
