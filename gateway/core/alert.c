/* The alert lifecycle (pure): no I/O, no clock, no logging. */
#include "alert.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Strings --------------------------------------------------------------- */

/* The length of the valid UTF-8 sequence at s (at most n bytes), or 0 when
 * the bytes there are not one (overlong, surrogate, beyond U+10FFFF, cut
 * short). *cp gets the code point. */
static size_t utf8_seq(const unsigned char *s, size_t n, uint32_t *cp)
{
    uint32_t c;
    size_t len;

    if (n == 0)
        return 0;
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    if (s[0] >= 0xc2 && s[0] <= 0xdf) {
        len = 2;
        c = s[0] & 0x1fu;
    } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
        len = 3;
        c = s[0] & 0x0fu;
    } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        len = 4;
        c = s[0] & 0x07u;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3fu);
    }
    if ((len == 3 && c < 0x800) || (len == 4 && (c < 0x10000 || c > 0x10ffff)) ||
        (c >= 0xd800 && c <= 0xdfff))
        return 0;
    *cp = c;
    return len;
}

/* Copies src into dst (size bytes), always NUL-terminated. When src does not
 * fit, it is cut at a UTF-8 character boundary, so a cut never leaves half a
 * character behind. NULL copies as "". */
static void copy_text(char *dst, size_t size, const char *src)
{
    size_t n;

    if (size == 0)
        return;
    n = src ? strlen(src) : 0;
    if (n >= size) {
        /* src[n] is the first byte left out: while it continues a character,
         * that character would be cut, so leave out its start too. */
        n = size - 1;
        while (n > 0 && ((unsigned char)src[n] & 0xc0) == 0x80)
            n--;
    }
    if (n > 0)
        memcpy(dst, src, n);
    dst[n] = '\0';
}

#define COPY(dst, src) copy_text((dst), sizeof(dst), (src))

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
static void start_occurrence(struct alert *a, mono_ms now, double wall)
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

static enum alert_transition fire(struct alert *a, double wall)
{
    a->state = ALERT_FIRING;
    a->firing_since = wall;
    a->changed_at = wall;
    return AT_FIRING;
}

enum alert_transition alert_update(struct alert *a, bool condition, int64_t for_ms, mono_ms now,
                                   double wall)
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

enum alert_transition alert_ack(struct alert *a, const char *by, const char *note, double wall)
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

enum alert_transition alert_resolve(struct alert *a, const char *by, const char *note, double wall)
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

struct jbuf {
    char *buf;
    size_t size; /* > 0 */
    size_t len;  /* excluding the NUL */
    bool over;
};

static void put_bytes(struct jbuf *b, const char *s, size_t n)
{
    if (b->over)
        return;
    if (n >= b->size - b->len) { /* room for the NUL too */
        b->over = true;
        return;
    }
    memcpy(b->buf + b->len, s, n);
    b->len += n;
    b->buf[b->len] = '\0';
}

static void put(struct jbuf *b, const char *s)
{
    put_bytes(b, s, strlen(s));
}

/* s (at most max bytes) as a JSON string: quotes and backslashes escaped,
 * control characters (and DEL, U+2028, U+2029, which break JavaScript
 * embedding) as \u00XX, valid UTF-8 passed through, each invalid byte
 * replaced by U+FFFD. */
static void put_string(struct jbuf *b, const char *s, size_t max)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    size_t n = strnlen((const char *)p, s ? max : 1);
    size_t i = 0;
    char esc[8];

    put_bytes(b, "\"", 1);
    while (i < n && !b->over) {
        uint32_t cp;
        size_t run = i;

        /* Copy the longest run that needs no escaping in one go. */
        while (run < n && p[run] >= 0x20 && p[run] < 0x7f && p[run] != '"' && p[run] != '\\')
            run++;
        if (run > i) {
            put_bytes(b, (const char *)p + i, run - i);
            i = run;
            continue;
        }
        if (p[i] == '"' || p[i] == '\\') {
            esc[0] = '\\';
            esc[1] = (char)p[i];
            put_bytes(b, esc, 2);
            i++;
        } else if (p[i] < 0x20 || p[i] == 0x7f) {
            snprintf(esc, sizeof(esc), "\\u%04x", (unsigned)p[i]);
            put_bytes(b, esc, 6);
            i++;
        } else {
            size_t len = utf8_seq(p + i, n - i, &cp);

            if (len == 0) {
                put(b, "\\ufffd");
                i++;
            } else if (cp == 0x2028 || cp == 0x2029) {
                snprintf(esc, sizeof(esc), "\\u%04x", (unsigned)cp);
                put_bytes(b, esc, 6);
                i += len;
            } else {
                put_bytes(b, (const char *)p + i, len);
                i += len;
            }
        }
    }
    put_bytes(b, "\"", 1);
}

/* The shortest of %.15g, %.16g, %.17g that reads back as v; null when v is
 * not finite (JSON has no NaN or infinity). */
static void put_number(struct jbuf *b, double v)
{
    char tmp[40];

    if (!isfinite(v)) {
        put(b, "null");
        return;
    }
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof(tmp), "%.*g", prec, v);
        if (strtod(tmp, NULL) == v)
            break;
    }
    /* A locale with a decimal comma must not leak into JSON. */
    for (char *c = tmp; *c; c++)
        if (*c == ',')
            *c = '.';
    put(b, tmp);
}

/* A wall time in unix seconds, or null when unset (0). */
static void put_time(struct jbuf *b, double t)
{
    if (t == 0)
        put(b, "null");
    else
        put_number(b, t);
}

static void put_key(struct jbuf *b, const char *key, bool first)
{
    if (!first)
        put_bytes(b, ",", 1);
    put_bytes(b, "\"", 1);
    put(b, key);
    put_bytes(b, "\":", 2);
}

#define PUT_FIELD(b, key, arr)                                                                     \
    do {                                                                                           \
        put_key((b), (key), false);                                                                \
        put_string((b), (arr), sizeof(arr));                                                       \
    } while (0)

static void put_name(struct jbuf *b, const char *key, const char *name)
{
    put_key(b, key, false);
    put_string(b, name ? name : "unknown", SIZE_MAX);
}

int alert_to_json(const struct alert *a, const char *gateway_id, char *buf, size_t size)
{
    struct jbuf b = {.buf = buf, .size = size};

    if (size == 0)
        return -ENOSPC;
    buf[0] = '\0';
    put_bytes(&b, "{", 1);
    put_key(&b, "id", true);
    put_string(&b, a->id, sizeof(a->id));
    PUT_FIELD(&b, "rule", a->rule);
    PUT_FIELD(&b, "subject", a->subject);
    PUT_FIELD(&b, "hall", a->hall);
    PUT_FIELD(&b, "device", a->device);
    PUT_FIELD(&b, "window", a->window);
    put_name(&b, "kind", config_kind_name(a->kind));
    put_name(&b, "severity", config_severity_name(a->severity));
    put_name(&b, "type", config_rule_type_name(a->type));
    put_name(&b, "state", alert_state_name(a->state));
    put_key(&b, "manual_resolve", false);
    put(&b, a->manual_resolve ? "true" : "false");
    PUT_FIELD(&b, "summary", a->summary);
    if (a->has_value) {
        put_key(&b, "value", false);
        put_number(&b, a->value);
    }
    put_key(&b, "pending_since", false);
    put_time(&b, a->pending_since);
    put_key(&b, "firing_since", false);
    put_time(&b, a->firing_since);
    put_key(&b, "acked_at", false);
    put_time(&b, a->acked_at);
    PUT_FIELD(&b, "acked_by", a->acked_by);
    put_key(&b, "resolved_at", false);
    put_time(&b, a->resolved_at);
    PUT_FIELD(&b, "resolved_by", a->resolved_by);
    PUT_FIELD(&b, "note", a->note);
    put_key(&b, "gateway", false);
    put_string(&b, gateway_id, SIZE_MAX);
    put_bytes(&b, "}", 1);
    if (b.over || b.len > INT_MAX) {
        buf[0] = '\0';
        return -ENOSPC;
    }
    return (int)b.len;
}
