/* Private to alerting (alerting.c, alerting_eval.c, alerting_silence.c): the
 * engine's state. alerting.c keeps the alerts and announces their
 * transitions; alerting_eval.c judges the rules against the hall model and
 * feeds the verdicts in; alerting_silence.c keeps the silences. Nothing else
 * may include this header. */
#ifndef HALLGW_ALERTING_INTERNAL_H
#define HALLGW_ALERTING_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "alerting.h"
#include "record.h"
#include "log.h"
#include "strmap.h"
#include "windows.h"

#define WINDOW_POINT_EVERY_S 60

struct window_memo {
    bool known, open;
    int presence;
    double waiting, longest_wait_s;
    wall_s since, last_point;
};

struct alerting {
    const struct config *cfg;
    struct hallmodel *hm;
    struct alerting_io io;
    struct strmap *alerts;     /* "<hall>/<alert id>" -> struct alert * */
    struct strmap *subjects;   /* "<hall>/<subject>" -> size_t * (its alerts in `alerts`) */
    struct strmap *baselines;  /* "<device>/<metric>" -> char * (approved value) */
    struct strmap *windows;    /* "<hall>/<window>" -> struct window_memo * */
    struct strmap *holds;      /* "<hall>/<alert id>" -> wall_s * (held until) */
    struct windows_index *wix; /* of cfg; NULL: windows_state scans */
    mono_ms started;
    wall_s last_alert_point; /* alert points never share a timestamp */
    struct log_ratelimit rl_store;
    struct record_silence *silences; /* in force now or later, from the store */
    size_t n_silences;
    wall_s silences_read; /* when they were last read (0: never) */
};

/* "<a>/<b>" or, with c, "<a>/<b>:<c>" into buf (cut to fit: ids are
 * bounded well below the key buffers). No printf: this runs per reading and
 * rule. */
static inline void key3(char *buf, size_t size, const char *a, const char *b, const char *c)
{
    const char *parts[3] = {a, b, c};
    const char seps[3] = {'/', ':', '\0'};
    size_t n = 0;

    for (int i = 0; i < 3 && parts[i]; i++) {
        if (i > 0 && n + 1 < size)
            buf[n++] = seps[i - 1];
        size_t l = strlen(parts[i]);
        if (l > size - 1 - n)
            l = size - 1 - n;
        memcpy(buf + n, parts[i], l);
        n += l;
    }
    buf[n] = '\0';
}

static inline void key_of(char *buf, size_t size, const char *hall, const char *id)
{
    key3(buf, size, hall, id, NULL);
}

/* alerting_silence.c: true when a silence holds a's notifications back at
 * wall (a->silenced_by is set to it, or cleared). */
bool alerting_silenced(struct alerting *al, struct alert *a, wall_s wall);
/* Reads the silences from the store again when it is time (every 10 s). */
void alerting_silences_tick(struct alerting *al, wall_s wall);

/* alerting.c: the alert map and the announcements. */
struct alert *alerting_find_alert(struct alerting *al, const char *hall, const char *id);
/* The alert "<rule>:<subject>" of hall, without formatting its id. */
struct alert *alerting_find_rule_alert(struct alerting *al, const char *hall, const char *rule,
                                       const char *subject);
/* True when subject (a device or window) of hall has any alert in the map:
 * most readings concern subjects without any, and need no look-up per rule. */
bool alerting_subject_has_alerts(struct alerting *al, const char *hall, const char *subject);
/* Adds a to the map (and its subject's count). Returns 0 or -ENOMEM. */
int alerting_put_alert(struct alerting *al, struct alert *a);
/* Removes a from the map and frees it. */
void alerting_drop_alert(struct alerting *al, struct alert *a);
/* The wall time until which alert id of hall is held pending, or 0. A hold
 * that has run out is forgotten. */
wall_s alerting_held_until(struct alerting *al, const char *hall, const char *id, wall_s wall);
/* Publishes, logs, stores, writes and notifies transition t of a. */
void alerting_announce(struct alerting *al, struct alert *a, enum alert_transition t, wall_s wall);
/* A strmap_foreach() callback that frees the value. */
void alerting_free_value(const char *key, void *value, void *arg);

/* alerting_eval.c: approves the current value of a baseline alert's metric. */
/* Raises and resolves the bridge-offline alerts (alerting_bridges.c). */
void alerting_bridges_tick(struct alerting *al, wall_s wall, mono_ms now);

int alerting_approve_baseline(struct alerting *al, const struct alert *a, const char *by,
                              wall_s wall);

#endif
