/* The alert lifecycle (pure): no I/O, no clock, no logging. */
#include "alert.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "jsonw.h"
#include "utf8.h"

#define COPY(dst, src) utf8_copy((dst), sizeof(dst), (src))

/* ---- The state machine ----------------------------------------------------- */

void alert_init(struct alert *a, const struct config_rule *rule, const char *subject,
                const char *hall, const char *device, const char *window, enum device_kind kind)
{
    memset(a, 0, sizeof(*a));
    COPY(a->rule, rule->name);
    COPY(a->subject, subject);
    COPY(a->hall, hall);
    COPY(a->device, device);
    COPY(a->window, window);
    /* rule and subject are at most 64 bytes each: the id always fits. */
    snprintf(a->id, sizeof(a->id), "%s:%s", a->rule, a->subject);
    a->kind = kind;
    a->severity = rule->severity;
    a->type = rule->type;
    a->state = ALERT_INACTIVE;
    a->manual_resolve = rule->type == RULE_EVENT;
}

/* A new occurrence starts clean: nothing of the last one's handling is kept. */
static void start_occurrence(struct alert *a, mono_ms now, wall_s wall)
{
    a->pending_since_mono = now;
    a->pending_since = wall;
    a->firing_since = 0;
    a->acked_at = 0;
    a->resolved_at = 0;
    a->acked_by[0] = '\0';
    a->resolved_by[0] = '\0';
    a->note[0] = '\0';
    a->last_notified = 0;
    a->escalated = false;
    a->changed_at = wall;
}

static enum alert_transition fire(struct alert *a, wall_s wall)
{
    a->state = ALERT_FIRING;
    a->firing_since = wall;
    a->changed_at = wall;
    return AT_FIRING;
}

enum alert_transition alert_update(struct alert *a, bool condition, int64_t for_ms, mono_ms now,
                                   wall_s wall)
{
    switch (a->state) {
    case ALERT_INACTIVE:
    case ALERT_RESOLVED:
        if (!condition)
            return AT_NONE;
        start_occurrence(a, now, wall);
        if (for_ms <= 0)
            return fire(a, wall);
        a->state = ALERT_PENDING;
        return AT_PENDING;
    case ALERT_PENDING:
        if (!condition) {
            a->state = ALERT_INACTIVE;
            a->pending_since_mono = 0;
            a->pending_since = 0;
            a->changed_at = wall;
            return AT_CANCELLED;
        }
        if (now - a->pending_since_mono >= for_ms)
            return fire(a, wall);
        return AT_NONE;
    case ALERT_FIRING:
    case ALERT_ACKNOWLEDGED:
        if (condition || a->manual_resolve)
            return AT_NONE;
        a->state = ALERT_RESOLVED;
        a->resolved_at = wall;
        a->changed_at = wall;
        return AT_RESOLVED;
    }
    return AT_NONE;
}

enum alert_transition alert_ack(struct alert *a, const char *by, const char *note, wall_s wall)
{
    if (a->state == ALERT_ACKNOWLEDGED) {
        if (by)
            COPY(a->acked_by, by);
        if (note)
            COPY(a->note, note);
        a->changed_at = wall;
        return AT_NONE;
    }
    if (a->state != ALERT_FIRING)
        return AT_NONE;
    COPY(a->acked_by, by);
    COPY(a->note, note);
    a->acked_at = wall;
    a->changed_at = wall;
    a->state = ALERT_ACKNOWLEDGED;
    return AT_ACKNOWLEDGED;
}

enum alert_transition alert_resolve(struct alert *a, const char *by, const char *note, wall_s wall)
{
    if (a->state != ALERT_FIRING && a->state != ALERT_ACKNOWLEDGED)
        return AT_NONE;
    COPY(a->resolved_by, by);
    if (note)
        COPY(a->note, note);
    a->resolved_at = wall;
    a->changed_at = wall;
    a->state = ALERT_RESOLVED;
    return AT_RESOLVED;
}

bool alert_is_active(const struct alert *a)
{
    return a->state == ALERT_PENDING || a->state == ALERT_FIRING || a->state == ALERT_ACKNOWLEDGED;
}

/* ---- Names ----------------------------------------------------------------- */

static const char *const state_names[] = {
    [ALERT_INACTIVE] = "inactive",         [ALERT_PENDING] = "pending",   [ALERT_FIRING] = "firing",
    [ALERT_ACKNOWLEDGED] = "acknowledged", [ALERT_RESOLVED] = "resolved",
};
#define N_STATES (sizeof(state_names) / sizeof(state_names[0]))

static const char *const transition_names[] = {
    [AT_NONE] = "none",     [AT_PENDING] = "pending",           [AT_CANCELLED] = "cancelled",
    [AT_FIRING] = "firing", [AT_ACKNOWLEDGED] = "acknowledged", [AT_RESOLVED] = "resolved",
};
#define N_TRANSITIONS (sizeof(transition_names) / sizeof(transition_names[0]))

const char *alert_state_name(enum alert_state s)
{
    return (unsigned)s < N_STATES ? state_names[s] : "unknown";
}

int alert_state_parse(const char *s)
{
    for (size_t i = 0; s && i < N_STATES; i++)
        if (strcmp(state_names[i], s) == 0)
            return (int)i;
    return -1;
}

const char *alert_transition_name(enum alert_transition t)
{
    return (unsigned)t < N_TRANSITIONS ? transition_names[t] : "unknown";
}

/* ---- JSON ------------------------------------------------------------------ */

/* A wall time in unix seconds, or null when unset (0). */
static void put_time(struct buf *b, const char *key, double t)
{
    jsonw_key(b, key);
    if (t == 0)
        jsonw_null(b);
    else
        jsonw_number(b, t);
}

/* A fixed-size text field of the alert (NUL-terminated within its array). */
#define PUT_FIELD(b, key, arr)                                                                     \
    do {                                                                                           \
        jsonw_key((b), (key));                                                                     \
        jsonw_string((b), (arr), strnlen((arr), sizeof(arr)));                                     \
    } while (0)

static void put_name(struct buf *b, const char *key, const char *name)
{
    jsonw_key(b, key);
    jsonw_str(b, name ? name : "unknown");
}

int alert_to_json(const struct alert *a, const char *gateway_id, char *buf, size_t size)
{
    struct buf b;

    if (size == 0)
        return -ENOSPC;
    buf_init_fixed(&b, buf, size);
    buf_putc(&b, '{');
    PUT_FIELD(&b, "id", a->id);
    PUT_FIELD(&b, "rule", a->rule);
    PUT_FIELD(&b, "subject", a->subject);
    PUT_FIELD(&b, "hall", a->hall);
    PUT_FIELD(&b, "device", a->device);
    PUT_FIELD(&b, "window", a->window);
    put_name(&b, "kind", config_kind_name(a->kind));
    put_name(&b, "severity", config_severity_name(a->severity));
    put_name(&b, "type", config_rule_type_name(a->type));
    put_name(&b, "state", alert_state_name(a->state));
    jsonw_key(&b, "manual_resolve");
    jsonw_bool(&b, a->manual_resolve);
    PUT_FIELD(&b, "summary", a->summary);
    if (a->has_value) {
        jsonw_key(&b, "value");
        jsonw_number(&b, a->value);
    }
    put_time(&b, "pending_since", a->pending_since);
    put_time(&b, "firing_since", a->firing_since);
    put_time(&b, "acked_at", a->acked_at);
    PUT_FIELD(&b, "acked_by", a->acked_by);
    put_time(&b, "resolved_at", a->resolved_at);
    PUT_FIELD(&b, "resolved_by", a->resolved_by);
    PUT_FIELD(&b, "note", a->note);
    if (a->silenced_by[0])
        PUT_FIELD(&b, "silenced_by", a->silenced_by);
    jsonw_key(&b, "gateway");
    jsonw_str(&b, gateway_id);
    buf_putc(&b, '}');
    if (b.err || b.len > INT_MAX) {
        buf[0] = '\0';
        return -ENOSPC;
    }
    return (int)b.len;
}
