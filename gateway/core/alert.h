/* The alert lifecycle (pure): pending -> firing -> acknowledged -> resolved.
 *
 * An alert is keyed "<rule>:<subject>" (subject: a device id, or a window id
 * for window rules). A condition that becomes true makes it pending; when it
 * has stayed true for the rule's `for`, it fires (at once when `for` is 0). A
 * condition that clears while pending cancels it silently; while firing or
 * acknowledged, it resolves. Event alerts never clear by themselves: they are
 * resolved by hand, with a handling note. Acknowledging records who and the
 * note. Times: mono_ms for `for` timing, wall seconds for the record. */
#ifndef HALLGW_ALERT_H
#define HALLGW_ALERT_H

#include <stdbool.h>
#include <stdint.h>

#include "clock.h"
#include "config.h"

#define ALERT_ID_MAX 130 /* rule (64) + ':' + subject (64) + NUL */
#define ALERT_TEXT_MAX 256
/* A buffer this large always holds alert_to_json() of any alert (every byte
 * escaped to \ufffd or \u00XX) with a gateway id of up to 64 bytes. */
#define ALERT_JSON_MAX 8192

enum alert_state {
    ALERT_INACTIVE,
    ALERT_PENDING,
    ALERT_FIRING,
    ALERT_ACKNOWLEDGED,
    ALERT_RESOLVED
};

struct alert {
    char id[ALERT_ID_MAX + 1];
    char rule[65];
    char subject[65]; /* device or window id */
    char hall[65];
    char device[65]; /* the device the condition was seen on ("" for none) */
    char window[65]; /* "" when none */
    enum device_kind kind;
    enum severity severity;
    enum rule_type type;
    enum alert_state state;
    bool manual_resolve; /* event alerts */
    mono_ms pending_since_mono;
    wall_s pending_since;
    wall_s firing_since;
    wall_s acked_at, resolved_at, changed_at;
    char acked_by[65];
    char resolved_by[65];         /* "" when it resolved by itself */
    char note[ALERT_TEXT_MAX];    /* ack or handling note */
    char summary[ALERT_TEXT_MAX]; /* human text: "co2 1350 > 1000 ppm" */
    double value;                 /* the value that triggered or last updated it */
    bool has_value;
    /* notification bookkeeping */
    wall_s last_notified;
    bool escalated;
    char silenced_by[17]; /* the silence holding its notifications back; "" for none */
};

enum alert_transition {
    AT_NONE,
    AT_PENDING,   /* inactive -> pending (not announced) */
    AT_CANCELLED, /* pending -> inactive: the condition cleared before `for` */
    AT_FIRING,
    AT_ACKNOWLEDGED,
    AT_RESOLVED,
};

/* Starts a from a rule and a subject; state ALERT_INACTIVE. */
void alert_init(struct alert *a, const struct config_rule *rule, const char *subject,
                const char *hall, const char *device, const char *window, enum device_kind kind);

/* Feeds the current condition. for_ms is the delay this time (unstaffed uses
 * a shorter one when people wait). Returns the transition it made:
 * - inactive or resolved, condition true: a new occurrence (acked_by,
 *   resolved_by, note, acked_at, resolved_at, last_notified and escalated are
 *   cleared; pending_since and pending_since_mono set): AT_PENDING, or
 *   AT_FIRING at once when for_ms <= 0;
 * - pending, condition true and now - pending_since_mono >= for_ms: AT_FIRING;
 * - pending, condition false: back to inactive, AT_CANCELLED;
 * - firing or acknowledged, condition false: AT_RESOLVED, except for
 *   manual_resolve alerts, which ignore it;
 * - anything else (a repeat while firing, say): AT_NONE, nothing changed.
 * summary, value and has_value are the caller's to set. */
enum alert_transition alert_update(struct alert *a, bool condition, int64_t for_ms, mono_ms now,
                                   wall_s wall);

/* Acknowledges a firing alert: records by, note (NULL: "") and acked_at.
 * Returns AT_ACKNOWLEDGED, or AT_NONE when the alert is not firing. An ack of
 * an acknowledged alert updates by and note (those not NULL) and changed_at,
 * keeps acked_at (the first ack), and returns AT_NONE. */
enum alert_transition alert_ack(struct alert *a, const char *by, const char *note, wall_s wall);

/* Resolves a firing or acknowledged alert by hand (events), with a handling
 * note: resolved_by = by (NULL: ""), note = note (NULL keeps the ack note),
 * resolved_at = wall. Any type of alert can be resolved this way; refusing it
 * for alerts that clear by themselves is the caller's policy. A condition
 * still true makes a new occurrence on the next alert_update. Returns
 * AT_RESOLVED, or AT_NONE (nothing changed) in any other state. */
enum alert_transition alert_resolve(struct alert *a, const char *by, const char *note, wall_s wall);

/* True for pending, firing and acknowledged. */
bool alert_is_active(const struct alert *a);

const char *alert_state_name(enum alert_state s);           /* "inactive", "pending", ... */
int alert_state_parse(const char *s);                       /* -1 when unknown */
const char *alert_transition_name(enum alert_transition t); /* "none", "cancelled", ... */

/* The alert as JSON (one line, UTF-8, NUL-terminated) into buf:
 *   {"id","rule","subject","hall","device","window","kind","severity","type",
 *    "state","manual_resolve","summary","value","pending_since","firing_since",
 *    "acked_at","acked_by","resolved_at","resolved_by","note","silenced_by",
 *    "gateway"}
 * Strings are always present ("" when empty), but silenced_by only while a
 * silence holds the alert's notifications back; value only when has_value (null
 * when not finite); times are unix seconds, null when unset (0). Strings and
 * numbers are written by lib/jsonw.h (invalid UTF-8 bytes become U+FFFD,
 * control characters are escaped). Returns the length without the NUL, or
 * -ENOSPC (buf then holds ""). */
int alert_to_json(const struct alert *a, const char *gateway_id, char *buf, size_t size);

#endif
