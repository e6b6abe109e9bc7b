/* A decoded device message in native terms: what every decoder produces and
 * what the hall model and the line-protocol encoder consume.
 *
 * A reading owns all of its text in its own fixed buffer, so it can be reused
 * message after message without allocating. Limits are fixed here; a decoder
 * drops (and counts in dropped_keys) what does not fit. */
#ifndef HALLGW_READING_H
#define HALLGW_READING_H

#include <stdbool.h>
#include <stddef.h>

#define READING_MAX_METRICS 64
#define READING_KEY_MAX 64     /* bytes, without the NUL */
#define READING_STRING_MAX 256 /* a "short string" value, without the NUL */
#define READING_TEXT_BYTES (READING_MAX_METRICS * (READING_KEY_MAX + 1 + READING_STRING_MAX + 1))

enum msg_class {
    MSG_TELEMETRY, /* metrics */
    MSG_STATUS,    /* availability only (LWT) */
    MSG_EVENT,     /* a typed event; its fields are metrics */
    MSG_REPLY,     /* a command reply; id/result/detail are metrics */
};

enum availability { AVAIL_UNKNOWN, AVAIL_ONLINE, AVAIL_OFFLINE };

enum metric_type { METRIC_NUMBER, METRIC_BOOL, METRIC_STRING };

struct metric {
    const char *key; /* points into reading.text; valid metric key */
    enum metric_type type;
    union {
        double num; /* always finite */
        bool b;
        const char *str; /* points into reading.text; valid UTF-8, no NUL */
    } v;
};

struct reading {
    enum msg_class cls;
    bool retained; /* delivered retained by the broker: set by ingest, not by reading_reset */
    enum availability status;        /* MSG_STATUS; for other classes AVAIL_UNKNOWN */
    double ts;                       /* device timestamp, unix seconds; 0 when absent */
    char event[READING_KEY_MAX + 1]; /* MSG_EVENT: the event type */
    unsigned n_metrics;
    unsigned dropped_keys; /* keys refused inside an otherwise good message */
    struct metric metrics[READING_MAX_METRICS];
    size_t text_used;
    char text[READING_TEXT_BYTES];
};

/* Empties r for reuse (O(1)). */
void reading_reset(struct reading *r, enum msg_class cls);

/* Appends a metric, copying key (and s for strings) into r->text. A key that
 * is not a valid metric key, a string that is not reading_string_valid()
 * (over READING_STRING_MAX, bad UTF-8, control characters), a non-finite
 * number or a full reading counts one dropped key and returns -EINVAL or
 * -ENOSPC. A key already present is replaced (if the replacement can not be
 * stored, the old value stays and one dropped key is counted). Returns 0 on
 * success. */
int reading_add_number(struct reading *r, const char *key, double v);
int reading_add_bool(struct reading *r, const char *key, bool v);
int reading_add_string(struct reading *r, const char *key, const char *s, size_t len);

/* Sets r->ts from a device timestamp. Accepted: finite and within
 * [READING_TS_MIN, READING_TS_MAX) (2000-01-01 .. 2100-01-01 UTC), which
 * refuses uptime counters of devices without a clock and millisecond stamps.
 * Anything else counts one dropped key, leaves ts at 0 ("use the receive
 * time") and returns -EINVAL. Returns 0 on success. */
#define READING_TS_MIN 946684800.0
#define READING_TS_MAX 4102444800.0
int reading_set_ts(struct reading *r, double ts);

/* True when s (len bytes) may be a string metric: valid UTF-8, at most
 * READING_STRING_MAX bytes, no control characters (U+0000..U+001F, U+007F),
 * which line protocol can not carry. */
bool reading_string_valid(const char *s, size_t len);

/* The metric named key, or NULL. */
const struct metric *reading_find(const struct reading *r, const char *key);

/* True when key is a valid metric key: [A-Za-z0-9_.:-]{1,READING_KEY_MAX}. */
bool reading_key_valid(const char *key, size_t len);

#endif
