/* Enforcement (docs/enforcement.md): the nightly power-off run, the
 * closed-hall rule, the morning power-on of the plugs, virus scans ordered
 * when they are overdue, and the overrides that keep a device on.
 *
 * The nightly run, at schedule.poweroff_at on a working day: every
 * configured PC that is not exempt (poweroff.exempt), not under an override
 * and not already offline gets a signed "poweroff" command (args grace_s) on
 * <prefix>/<hall>/<pc>/cmd; its replies on .../cmd/reply are tracked by
 * command id; it is off when it goes offline (status / LWT) or stays silent
 * for 2 minutes after "done". Then its window's plug (with plugs_after_pcs)
 * is switched off after plug_delay, in the plug's own format, and verified
 * by the plug's report. A plug whose PC did not go off is never cut. A PC or
 * plug still on after verify_within (or a PC that refused or never
 * answered) raises the alert "poweroff-failed:<device>" for IT, which
 * resolves itself when the device is later seen off. A PC seen on while the
 * hall is closed (after poweroff_at, before the next wake-up) for
 * closed_grace gets the same treatment. In a dry run every decision is
 * recorded and nothing is sent.
 *
 * Every step is recorded in the store's power-off log and written to
 * InfluxDB (measurement "poweroff"). Owned by the core thread; side effects
 * go through struct enforce_io, the decisions are enforce_plan.c's. */
#ifndef HALLGW_ENFORCE_H
#define HALLGW_ENFORCE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "clock.h"
#include "config.h"
#include "enforce_plan.h"
#include "hallmodel.h"
#include "reading.h"
#include "store.h"

struct alerting;

struct enforce_io {
    void *ctx;
    /* Publishes an MQTT message with QoS 1. Returns 0 or a negative errno
     * (-ENOTCONN while the broker is away). */
    int (*publish)(void *ctx, const char *topic, const char *payload, size_t len, bool retained);
    /* Writes one recorded step to InfluxDB (measurement "poweroff"). */
    void (*step_point)(void *ctx, const struct record_poweroff_step *s, int64_t ts_ns);
    struct store *store;       /* power-off log and overrides; may be NULL */
    struct alerting *alerting; /* poweroff-failed alerts and scan holds; may be NULL */
};

struct enforce;

/* Reads the command key (mqtt.command_key_file) when enforcement needs it;
 * a key that cannot be read is logged, and every command then fails (and is
 * recorded as failed). wall: now, nothing before it is caught up. */
int enforce_new(const struct config *cfg, struct hallmodel *hm, const struct enforce_io *io,
                wall_s wall, struct enforce **out);
void enforce_free(struct enforce *ef); /* NULL does nothing */

/* A new config (reload): the key is read again; a run in progress goes on. */
void enforce_set_config(struct enforce *ef, const struct config *cfg);

/* A reading of d, already applied to the hall model: replies to commands,
 * PCs seen on while the hall is closed, plugs reporting, overdue scans. Call
 * it before alerting_on_reading() (a scan ordered holds the scan alert).
 * Retained messages are passed too (retained = true): they update state,
 * never start anything. */
void enforce_on_reading(struct enforce *ef, struct hm_device *d, const struct reading *rd,
                        bool retained, wall_s wall, mono_ms now);

/* Time passing: the nightly run and the power-on at their times, the
 * closed-hall rule, the deadlines, plug commands, scans, override expiry.
 * Call about once a second, before alerting_tick(). */
void enforce_tick(struct enforce *ef, wall_s wall, mono_ms now);

/* The last power-off run (nightly or closed-hall), or NULL when there was
 * none since the start; and whether it is still in progress. */
const struct enforce_run *enforce_last_run(const struct enforce *ef);
bool enforce_running(const struct enforce *ef);

/* The overrides in force (as last read from the store, at most 5 s ago). */
void enforce_overrides(const struct enforce *ef, const struct record_override **v, size_t *n);

/* Adds (or replaces) the override of device until `until` (unix s): the
 * checks of enforce_override_check(), then the store. Returns 0, its errors
 * with *why set, or -EIO (store) with *why set. */
int enforce_override_add(struct enforce *ef, const char *device, double until, const char *reason,
                         const char *by, double wall, const char **why);

/* Removes device's override (logged with by). Returns 0, -ENOENT or -EIO. */
int enforce_override_remove(struct enforce *ef, const char *device, const char *by, double wall);

#endif
