#include "alerting.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "metrics.h"
#include "notifier.h"
#include "rules.h"
#include "schedule.h"
#include "store.h"
#include "strmap.h"
#include "windows.h"

#define WINDOW_POINT_EVERY_S 60

struct window_memo {
    bool known, open;
    int presence;
    double waiting, longest_wait_s;
    double since, last_point;
};

struct alerting {
    const struct config *cfg;
    struct hallmodel *hm;
    struct alerting_io io;
    struct strmap *alerts;     /* "<hall>/<alert id>" -> struct alert * */
    struct strmap *subjects;   /* "<hall>/<subject>" -> size_t * (its alerts in `alerts`) */
    struct strmap *baselines;  /* "<device>/<metric>" -> char * (approved value) */
    struct strmap *windows;    /* "<hall>/<window>" -> struct window_memo * */
    struct strmap *holds;      /* "<hall>/<alert id>" -> double * (wall: held until) */
    struct windows_index *wix; /* of cfg; NULL: windows_state scans */
    mono_ms started;
    struct log_ratelimit rl_store;
};

/* "<a>/<b>" or, with c, "<a>/<b>:<c>" into buf (cut to fit: ids are
 * bounded well below the key buffers). No printf: this runs per reading and
 * rule. */
static void key3(char *buf, size_t size, const char *a, const char *b, const char *c)
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

static void key_of(char *buf, size_t size, const char *hall, const char *id)
{
    key3(buf, size, hall, id, NULL);
}

/* ---- announcing transitions ------------------------------------------ */

static void publish_alert(struct alerting *al, const struct alert *a, enum alert_transition t)
{
    char json[ALERT_JSON_MAX], topic[512];
    int n = alert_to_json(a, al->cfg->gateway.id, json, sizeof(json));
    if (n < 0)
        return;
    const char *prefix = al->cfg->mqtt.prefix;
    snprintf(topic, sizeof(topic), "%s/%s/alerts", prefix, a->hall);
    al->io.publish(al->io.ctx, topic, json, (size_t)n, false);
    snprintf(topic, sizeof(topic), "%s/%s/alerts/%s", prefix, a->hall, a->id);
    if (t == AT_RESOLVED)
        al->io.publish(al->io.ctx, topic, "", 0, true); /* clears the retained state */
    else
        al->io.publish(al->io.ctx, topic, json, (size_t)n, true);
}

/* Records transition t of a: queued for the store writer when there is one,
 * else written at once. */
static void record(struct alerting *al, const struct alert *a, enum alert_transition t)
{
    int r = 0;
    if (al->io.writer)
        r = store_writer_record(al->io.writer, a, t);
    else if (al->io.store)
        r = store_record(al->io.store, a, t);
    if (r < 0) {
        metrics_inc(MET_STORE_ERRORS);
        if (log_ratelimit_ok(&al->rl_store, "alerting: store errors"))
            log_err("alerting: cannot store the transition of %s", a->id);
    }
}

static void announce(struct alerting *al, struct alert *a, enum alert_transition t, double wall)
{
    switch (t) {
    case AT_FIRING:
        metrics_inc(MET_ALERTS_FIRED);
        break;
    case AT_ACKNOWLEDGED:
        metrics_inc(MET_ALERTS_ACKNOWLEDGED);
        break;
    case AT_RESOLVED:
        metrics_inc(MET_ALERTS_RESOLVED);
        break;
    case AT_NONE:
    case AT_PENDING:
    case AT_CANCELLED:
        return; /* pending alerts are not announced */
    }
    /* Published first: the log line and the store writer's sync to disk
     * come after. */
    publish_alert(al, a, t);
    log_notice("alert %s %s: %s", a->id, alert_transition_name(t), a->summary);
    record(al, a, t);
    if (al->io.alert_point)
        /* Sub-second: two transitions in one second must stay two points. */
        al->io.alert_point(al->io.ctx, a, t, (double)clock_wall_ns() / 1e9);
    if (al->io.notifier) {
        notifier_send(al->io.notifier, a, t, al->cfg->gateway.id, NULL);
        a->last_notified = wall;
    }
    metrics_set(MET_G_ALERTS_ACTIVE, alerting_active_count(al));
}

/* ---- the alert map ------------------------------------------------------- */

static struct alert *find_alert(struct alerting *al, const char *hall, const char *id)
{
    char key[256];
    key_of(key, sizeof(key), hall, id);
    return strmap_get(al->alerts, key);
}

/* The alert "<rule>:<subject>" of hall, without formatting its id. */
static struct alert *find_rule_alert(struct alerting *al, const char *hall, const char *rule,
                                     const char *subject)
{
    char key[256];
    key3(key, sizeof(key), hall, rule, subject);
    return strmap_get(al->alerts, key);
}

/* True when subject (a device or window) of hall has any alert in the map:
 * most readings concern subjects without any, and need no look-up per rule. */
static bool subject_has_alerts(struct alerting *al, const char *hall, const char *subject)
{
    char key[256];
    key_of(key, sizeof(key), hall, subject);
    return strmap_get(al->subjects, key) != NULL;
}

/* Adds a to the map (and its subject's count). Returns 0 or -ENOMEM. */
static int put_alert(struct alerting *al, struct alert *a)
{
    char key[256], skey[256];
    key_of(key, sizeof(key), a->hall, a->id);
    key_of(skey, sizeof(skey), a->hall, a->subject);
    size_t *count = strmap_get(al->subjects, skey);
    if (!count) {
        if (!(count = calloc(1, sizeof(*count))))
            return -ENOMEM;
        if (strmap_put(al->subjects, skey, count) < 0) {
            free(count);
            return -ENOMEM;
        }
    }
    if (strmap_put(al->alerts, key, a) < 0) {
        if (*count == 0)
            free(strmap_remove(al->subjects, skey));
        return -ENOMEM;
    }
    (*count)++;
    return 0;
}

static void drop_alert(struct alerting *al, struct alert *a)
{
    char key[256];
    key_of(key, sizeof(key), a->hall, a->id);
    if (strmap_remove(al->alerts, key)) {
        key_of(key, sizeof(key), a->hall, a->subject);
        size_t *count = strmap_get(al->subjects, key);
        if (count && --*count == 0)
            free(strmap_remove(al->subjects, key));
    }
    free(a);
}

/* The wall time until which alert id of hall is held pending, or 0. A hold
 * that has run out is forgotten. */
static double held_until(struct alerting *al, const char *hall, const char *id, double wall)
{
    char key[256];
    key_of(key, sizeof(key), hall, id);
    double *until = strmap_get(al->holds, key);
    if (!until)
        return 0;
    if (wall < *until)
        return *until;
    free(strmap_remove(al->holds, key));
    return 0;
}

/* Feeds a verdict for (rule, subject) into its alert a (NULL: none yet),
 * creating the alert only when the condition is true. An unknown verdict
 * changes nothing: a restored or pending alert waits for data. */
static void apply_to(struct alerting *al, struct alert *a, const struct config_rule *r,
                     const char *subject, const struct hm_device *d, const char *hall,
                     const char *window, const struct rule_verdict *v, mono_ms now, double wall)
{
    if (v->unknown)
        return;
    if (!a) {
        if (!v->condition)
            return;
        a = malloc(sizeof(*a));
        if (!a)
            return;
        alert_init(a, r, subject, hall, d ? d->id : "", window ? window : "",
                   d ? d->kind : KIND_SEAT);
        if (put_alert(al, a) < 0) {
            free(a);
            return;
        }
    }
    if (v->condition) {
        size_t n = strnlen(v->summary, sizeof(a->summary) - 1);
        memcpy(a->summary, v->summary, n);
        a->summary[n] = '\0';
        a->has_value = v->has_value;
        a->value = v->value;
    }
    int64_t for_ms = v->for_ms;
    /* A held alert may become pending, not fire (alerting_hold). */
    if (v->condition && a->state != ALERT_FIRING && a->state != ALERT_ACKNOWLEDGED &&
        held_until(al, hall, a->id, wall) > 0)
        for_ms = INT64_MAX;
    enum alert_transition t = alert_update(a, v->condition, for_ms, now, wall);
    announce(al, a, t, wall);
    if (a->state == ALERT_INACTIVE || a->state == ALERT_RESOLVED)
        drop_alert(al, a);
}

static void apply(struct alerting *al, const struct config_rule *r, const char *subject,
                  const struct hm_device *d, const char *hall, const char *window,
                  const struct rule_verdict *v, mono_ms now, double wall)
{
    apply_to(al, find_rule_alert(al, hall, r->name, subject), r, subject, d, hall, window, v, now,
             wall);
}

/* ---- baselines ------------------------------------------------------------- */

static void free_value(const char *key, void *value, void *arg)
{
    (void)key;
    (void)arg;
    free(value);
}

/* The approved value of d's metric; the first value seen is approved as the
 * baseline (by "auto") when none is stored. NULL while nothing is known. */
static const char *baseline_of(struct alerting *al, const struct hm_device *d, const char *metric)
{
    char key[256];
    key_of(key, sizeof(key), d->id, metric);
    const char *b = strmap_get(al->baselines, key);
    if (b)
        return b;
    /* Nothing to compare before the device reports the metric live: no
     * look-up, and nothing learnt from a retained copy. */
    const struct hm_value *v = hallmodel_value(d, metric);
    if (!v || v->type != METRIC_STRING || v->retained)
        return NULL;
    char value[READING_STRING_MAX + 1];
    if (!al->io.store ||
        store_baseline_get(al->io.store, d->id, metric, value, sizeof(value)) != 0) {
        snprintf(value, sizeof(value), "%s", v->str);
        if (al->io.store)
            store_baseline_set(al->io.store, d->id, metric, value, "auto",
                               (double)clock_wall_ns() / 1e9);
        log_info("baseline %s of %s learnt: %s", metric, d->id, value);
    }
    char *copy = strdup(value);
    if (copy && strmap_put(al->baselines, key, copy) < 0) {
        free(copy);
        return NULL;
    }
    return copy;
}

static int approve_baseline(struct alerting *al, const struct alert *a, const char *by, double wall)
{
    const struct config_rule *r = NULL;
    for (size_t i = 0; i < al->cfg->n_rules; i++) {
        if (strcmp(al->cfg->rules[i].name, a->rule) == 0)
            r = &al->cfg->rules[i];
    }
    struct route rt = {.format = FORMAT_NATIVE};
    snprintf(rt.hall, sizeof(rt.hall), "%s", a->hall);
    snprintf(rt.device, sizeof(rt.device), "%s", a->device);
    struct hm_device *d = hallmodel_lookup(al->hm, &rt);
    const struct hm_value *v = r && d ? hallmodel_value(d, r->metric) : NULL;
    if (!v || v->type != METRIC_STRING)
        return -ENOENT;
    char key[256];
    key_of(key, sizeof(key), d->id, r->metric);
    char *copy = strdup(v->str);
    if (!copy)
        return -ENOMEM;
    free(strmap_remove(al->baselines, key));
    if (strmap_put(al->baselines, key, copy) < 0) {
        free(copy);
        return -ENOMEM;
    }
    if (al->io.store)
        store_baseline_set(al->io.store, d->id, r->metric, copy, by, wall);
    log_notice("baseline %s of %s approved by %s: %s", r->metric, d->id, by, copy);
    return 0;
}

/* ---- evaluation ------------------------------------------------------------ */

static void eval_device(struct alerting *al, struct hm_device *d, time_t wall, mono_ms now)
{
    const struct config *cfg = al->cfg;
    const struct config_device *cd = NULL;
    bool cd_looked_up = false;
    bool any = subject_has_alerts(al, d->hall, d->id);
    for (size_t i = 0; i < cfg->n_rules; i++) {
        const struct config_rule *r = &cfg->rules[i];
        if (!r->enabled || !rules_is_device_rule(r->type) || !rules_scope_matches(r, d))
            continue;
        if (!cd_looked_up && d->registered) {
            cd = config_find_device(cfg, d->id);
            cd_looked_up = true;
        }
        struct alert *a = any ? find_rule_alert(al, d->hall, r->name, d->id) : NULL;
        struct rules_device_input in = {
            .cd = cd,
            .was_active = a && alert_is_active(a),
            .baseline = r->type == RULE_BASELINE ? baseline_of(al, d, r->metric) : NULL,
            .wall = wall,
            .now = now,
            .started = al->started,
        };
        struct rule_verdict v;
        rules_eval_device(r, &cfg->schedule, d, &in, &v);
        apply_to(al, a, r, d->id, d, d->hall, d->window[0] ? d->window : NULL, &v, now,
                 (double)wall);
    }
}

static void window_point(struct alerting *al, const struct config_hall *h,
                         const struct config_window *w, const struct window_state *st,
                         struct window_memo *m, double wall)
{
    /* "since" is when the window entered its state (open, staffed); the
     * queue count is republished with it but does not move it. */
    bool state_changed = !m->known || m->open != st->open || m->presence != st->presence;
    bool changed = state_changed || m->waiting != st->waiting;
    if (state_changed)
        m->since = wall;
    if (changed) {
        char json[1024], topic[512];
        int n = windows_to_json(h, w, st, m->since, json, sizeof(json));
        if (n > 0) {
            snprintf(topic, sizeof(topic), "%s/%s/windows/%s", al->cfg->mqtt.prefix, h->id, w->id);
            al->io.publish(al->io.ctx, topic, json, (size_t)n, true);
        }
    }
    if ((changed || wall - m->last_point >= WINDOW_POINT_EVERY_S) && al->io.window_point) {
        al->io.window_point(al->io.ctx, h, w, st->open, st->presence, st->waiting, wall);
        m->last_point = wall;
    }
    m->known = true;
    m->open = st->open;
    m->presence = st->presence;
    m->waiting = st->waiting;
    m->longest_wait_s = st->longest_wait_s;
}

static void eval_window(struct alerting *al, const struct config_hall *h,
                        const struct config_window *w, time_t wall, mono_ms now)
{
    const struct config *cfg = al->cfg;
    struct window_state st;
    windows_state(cfg, al->wix, al->hm, h, w, wall, &st);

    char key[256];
    key_of(key, sizeof(key), h->id, w->id);
    struct window_memo *m = strmap_get(al->windows, key);
    if (!m) {
        m = calloc(1, sizeof(*m));
        if (!m || strmap_put(al->windows, key, m) < 0) {
            free(m);
            return;
        }
    }
    window_point(al, h, w, &st, m, (double)wall);

    struct route rt = {.format = FORMAT_NATIVE};
    snprintf(rt.hall, sizeof(rt.hall), "%s", h->id);
    snprintf(rt.device, sizeof(rt.device), "%s", w->seat ? w->seat : "");
    struct hm_device *seat = w->seat ? hallmodel_lookup(al->hm, &rt) : NULL;
    /* The state shows a retained presence; the rules do not judge it. */
    const struct hm_value *pv = seat ? hallmodel_value(seat, "presence") : NULL;
    int presence = pv && pv->retained ? -1 : st.presence;
    for (size_t i = 0; i < cfg->n_rules; i++) {
        const struct config_rule *r = &cfg->rules[i];
        if (!r->enabled || r->type != RULE_UNSTAFFED || !w->seat)
            continue;
        if (r->hall && fnmatch(r->hall, h->id, 0) != 0)
            continue;
        struct rule_verdict v;
        rules_eval_unstaffed(r, st.open, presence, st.waiting, w->name ? w->name : w->id, &v);
        apply(al, r, w->id, seat, h->id, w->id, &v, now, (double)wall);
    }
}

static void eval_windows_of(struct alerting *al, const struct hm_device *d, time_t wall,
                            mono_ms now)
{
    const struct config_hall *h = config_find_hall(al->cfg, d->hall);
    if (!h)
        return;
    for (size_t i = 0; i < h->n_windows; i++) {
        const struct config_window *w = &h->windows[i];
        /* A seat concerns its window; a hall queue concerns all of them. */
        if (d->kind == KIND_QUEUE ? (!d->window[0] || strcmp(d->window, w->id) == 0)
                                  : strcmp(d->window, w->id) == 0)
            eval_window(al, h, w, wall, now);
    }
}

void alerting_on_reading(struct alerting *al, struct hm_device *d, const struct reading *rd,
                         time_t wall, mono_ms now)
{
    if (rd->cls == MSG_EVENT) {
        for (size_t i = 0; i < al->cfg->n_rules; i++) {
            const struct config_rule *r = &al->cfg->rules[i];
            struct rule_verdict v;
            if (!r->enabled || r->type != RULE_EVENT || !rules_scope_matches(r, d) ||
                !rules_when_matches(r, &al->cfg->schedule, wall) || !rules_event_matches(r, rd, &v))
                continue;
            v.for_ms = 0;
            apply(al, r, d->id, d, d->hall, d->window[0] ? d->window : NULL, &v, now, (double)wall);
        }
        return;
    }
    eval_device(al, d, wall, now);
    if (d->kind == KIND_SEAT || d->kind == KIND_PEOPLE || d->kind == KIND_QUEUE)
        eval_windows_of(al, d, wall, now);
}

static void eval_one_device(struct hm_device *d, void *arg)
{
    struct alerting *al = ((void **)arg)[0];
    const time_t *wall = ((void **)arg)[1];
    const mono_ms *now = ((void **)arg)[2];
    eval_device(al, d, *wall, *now);
}

struct renotify_ctx {
    struct alerting *al;
    double wall;
};

static void renotify_one(const char *key, void *value, void *arg)
{
    (void)key;
    struct renotify_ctx *c = arg;
    struct alerting *al = c->al;
    struct alert *a = value;
    const struct config_alert_policy *p = &al->cfg->alerts;
    if (a->state != ALERT_FIRING || !al->io.notifier)
        return;
    if (p->renotify_ms > 0 && c->wall - a->last_notified >= (double)p->renotify_ms / 1000.0) {
        notifier_send(al->io.notifier, a, AT_FIRING, al->cfg->gateway.id, NULL);
        a->last_notified = c->wall;
    }
    if (!a->escalated && p->escalate_after_ms > 0 && p->escalate_to &&
        c->wall - a->firing_since >= (double)p->escalate_after_ms / 1000.0) {
        notifier_send(al->io.notifier, a, AT_FIRING, al->cfg->gateway.id, p->escalate_to);
        a->escalated = true;
        log_notice("alert %s escalated to %s", a->id, p->escalate_to);
    }
}

void alerting_tick(struct alerting *al, time_t wall, mono_ms now)
{
    void *args[3] = {al, &wall, &now};
    hallmodel_foreach(al->hm, eval_one_device, args);
    for (size_t i = 0; i < al->cfg->n_halls; i++) {
        const struct config_hall *h = &al->cfg->halls[i];
        for (size_t j = 0; j < h->n_windows; j++)
            eval_window(al, h, &h->windows[j], wall, now);
    }
    struct renotify_ctx c = {al, (double)wall};
    strmap_foreach(al->alerts, renotify_one, &c);
}

/* ---- acknowledgements ------------------------------------------------------- */

int alerting_ack(struct alerting *al, const char *hall, const char *alert_id, const char *by,
                 const char *note, bool resolve, time_t wall)
{
    struct alert *a = find_alert(al, hall, alert_id);
    if (!a || !alert_is_active(a) || a->state == ALERT_PENDING)
        return -ENOENT;
    if (!resolve) {
        enum alert_transition t = alert_ack(a, by, note, (double)wall);
        if (t == AT_NONE) /* a second ack updates the note */
            record(al, a, AT_ACKNOWLEDGED);
        announce(al, a, t, (double)wall);
        return 0;
    }
    if (a->type == RULE_BASELINE) {
        int r = approve_baseline(al, a, by, (double)wall);
        if (r < 0)
            return r;
    } else if (!a->manual_resolve) {
        return -EINVAL; /* it resolves by itself when its condition clears */
    }
    enum alert_transition t = alert_resolve(a, by, note, (double)wall);
    announce(al, a, t, (double)wall);
    if (a->state == ALERT_RESOLVED)
        drop_alert(al, a);
    return 0;
}

bool alerting_parse_ack_topic(const char *prefix, const char *topic, size_t len, char *hall,
                              size_t hall_size, char *id, size_t id_size)
{
    size_t pl = strlen(prefix);
    if (len <= pl + 1 || memcmp(topic, prefix, pl) != 0 || topic[pl] != '/')
        return false;
    const char *p = topic + pl + 1, *end = topic + len;
    const char *slash = memchr(p, '/', (size_t)(end - p));
    if (!slash || (size_t)(slash - p) >= hall_size || !id_valid(p, (size_t)(slash - p)))
        return false;
    memcpy(hall, p, (size_t)(slash - p));
    hall[slash - p] = '\0';
    p = slash + 1;
    if ((size_t)(end - p) < 8 || memcmp(p, "alerts/", 7) != 0)
        return false;
    p += 7;
    if ((size_t)(end - p) < 5 || memcmp(end - 4, "/ack", 4) != 0)
        return false;
    size_t idl = (size_t)(end - 4 - p);
    if (idl == 0 || idl >= id_size || memchr(p, '/', idl) || memchr(p, '\0', idl))
        return false;
    memcpy(id, p, idl);
    id[idl] = '\0';
    return true;
}

struct find_ctx {
    const char *id;
    const struct alert *found;
};

static void find_any_hall(const char *key, void *value, void *arg)
{
    (void)key;
    struct find_ctx *f = arg;
    if (!f->found && strcmp(((struct alert *)value)->id, f->id) == 0)
        f->found = value;
}

const struct alert *alerting_find(struct alerting *al, const char *hall, const char *alert_id)
{
    if (hall)
        return find_alert(al, hall, alert_id);
    struct find_ctx f = {alert_id, NULL};
    strmap_foreach(al->alerts, find_any_hall, &f);
    return f.found;
}

/* ---- life ------------------------------------------------------------------- */

static void count_active(const char *key, void *value, void *arg)
{
    (void)key;
    if (alert_is_active(value) && ((struct alert *)value)->state != ALERT_PENDING)
        (*(size_t *)arg)++;
}

size_t alerting_active_count(const struct alerting *al)
{
    size_t n = 0;
    strmap_foreach(al->alerts, count_active, &n);
    return n;
}

struct foreach_ctx {
    void (*fn)(const struct alert *a, void *arg);
    void *arg;
};

static void foreach_one(const char *key, void *value, void *arg)
{
    (void)key;
    struct foreach_ctx *c = arg;
    c->fn(value, c->arg);
}

void alerting_foreach(struct alerting *al, void (*fn)(const struct alert *a, void *arg), void *arg)
{
    struct foreach_ctx c = {fn, arg};
    strmap_foreach(al->alerts, foreach_one, &c);
}

static void resolve_orphans(struct alerting *al, double wall);

int alerting_new(const struct config *cfg, struct hallmodel *hm, const struct alerting_io *io,
                 mono_ms now, struct alerting **out)
{
    struct alerting *al = calloc(1, sizeof(*al));
    if (!al)
        return -ENOMEM;
    al->cfg = cfg;
    al->hm = hm;
    al->io = *io;
    al->started = now;
    al->rl_store = (struct log_ratelimit)LOG_RATELIMIT_INIT(60000, 3);
    al->alerts = strmap_new();
    al->subjects = strmap_new();
    al->baselines = strmap_new();
    al->windows = strmap_new();
    al->holds = strmap_new();
    al->wix = windows_index_new(cfg);
    if (!al->alerts || !al->subjects || !al->baselines || !al->windows || !al->holds) {
        alerting_free(al);
        return -ENOMEM;
    }
    if (io->writer)
        store_writer_flush(io->writer); /* nothing of an earlier life unwritten */
    if (io->store) {
        struct alert *v = NULL;
        size_t n = 0;
        if (store_load_active(io->store, &v, &n) == 0) {
            for (size_t i = 0; i < n; i++) {
                struct alert *a = malloc(sizeof(*a));
                if (!a)
                    break;
                *a = v[i];
                /* A restored alert's `for` has long elapsed. */
                a->pending_since_mono = now;
                if (put_alert(al, a) < 0)
                    free(a);
            }
            if (n)
                log_notice("alerting: %zu active alerts restored", n);
        }
        free(v);
        resolve_orphans(al, (double)clock_wall_ns() / 1e9);
    }
    metrics_set(MET_G_ALERTS_ACTIVE, alerting_active_count(al));
    *out = al;
    return 0;
}

struct orphans {
    struct alerting *al;
    struct alert **v;
    size_t n, cap;
};

static void collect_orphan(const char *key, void *value, void *arg)
{
    (void)key;
    struct orphans *o = arg;
    struct alert *a = value;
    if (alerting_external_rule(a->rule))
        return; /* not from a rule of the config */
    for (size_t i = 0; i < o->al->cfg->n_rules; i++) {
        const struct config_rule *r = &o->al->cfg->rules[i];
        if (r->enabled && strcmp(r->name, a->rule) == 0)
            return;
    }
    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 16;
        struct alert **nv = realloc(o->v, cap * sizeof(*nv));
        if (!nv)
            return;
        o->v = nv;
        o->cap = cap;
    }
    o->v[o->n++] = a;
}

/* Resolves the alerts whose rule is gone or disabled. */
static void resolve_orphans(struct alerting *al, double wall)
{
    struct orphans o = {.al = al};
    strmap_foreach(al->alerts, collect_orphan, &o);
    for (size_t i = 0; i < o.n; i++) {
        struct alert *a = o.v[i];
        enum alert_transition t = AT_CANCELLED;
        if (a->state == ALERT_FIRING || a->state == ALERT_ACKNOWLEDGED)
            t = alert_resolve(a, "hallgw", "rule removed or disabled", wall);
        announce(al, a, t, wall);
        drop_alert(al, a);
    }
    free(o.v);
}

void alerting_set_config(struct alerting *al, const struct config *cfg, struct notifier *nt,
                         double wall)
{
    al->cfg = cfg;
    al->io.notifier = nt;
    windows_index_free(al->wix);
    al->wix = windows_index_new(cfg);
    resolve_orphans(al, wall);
}

void alerting_free(struct alerting *al)
{
    if (!al)
        return;
    if (al->alerts) {
        strmap_foreach(al->alerts, free_value, NULL);
        strmap_free(al->alerts);
    }
    if (al->subjects) {
        strmap_foreach(al->subjects, free_value, NULL);
        strmap_free(al->subjects);
    }
    if (al->baselines) {
        strmap_foreach(al->baselines, free_value, NULL);
        strmap_free(al->baselines);
    }
    if (al->windows) {
        strmap_foreach(al->windows, free_value, NULL);
        strmap_free(al->windows);
    }
    if (al->holds) {
        strmap_foreach(al->holds, free_value, NULL);
        strmap_free(al->holds);
    }
    windows_index_free(al->wix);
    free(al);
}

/* ---- alerts from outside the rule engine ------------------------------------ */

static const char *const external_rules[] = {ALERTING_RULE_POWEROFF_FAILED, NULL};

bool alerting_external_rule(const char *rule)
{
    for (size_t i = 0; rule && external_rules[i]; i++) {
        if (strcmp(rule, external_rules[i]) == 0)
            return true;
    }
    return false;
}

int alerting_raise_external(struct alerting *al, const struct alerting_external *x, time_t wall,
                            mono_ms now)
{
    if (!alerting_external_rule(x->rule) || !x->subject || !x->hall)
        return -EINVAL;
    char id[ALERT_ID_MAX + 1];
    snprintf(id, sizeof(id), "%s:%s", x->rule, x->subject);
    struct alert *a = find_alert(al, x->hall, id);
    if (!a) {
        /* Manual resolve: it needs a person, or the gateway seeing it right. */
        struct config_rule r = {
            .name = (char *)x->rule, .type = RULE_EVENT, .severity = x->severity};
        a = malloc(sizeof(*a));
        if (!a)
            return -ENOMEM;
        alert_init(a, &r, x->subject, x->hall, x->device ? x->device : "",
                   x->window ? x->window : "", x->kind);
        if (put_alert(al, a) < 0) {
            free(a);
            return -ENOMEM;
        }
    }
    snprintf(a->summary, sizeof(a->summary), "%s", x->summary ? x->summary : "");
    a->has_value = false;
    enum alert_transition t = alert_update(a, true, 0, now, (double)wall);
    if (t == AT_NONE) /* a repeat updates the summary */
        record(al, a, AT_NONE);
    announce(al, a, t, (double)wall);
    return 0;
}

int alerting_resolve_external(struct alerting *al, const char *hall, const char *alert_id,
                              const char *note, time_t wall)
{
    struct alert *a = find_alert(al, hall, alert_id);
    if (!a || !alerting_external_rule(a->rule))
        return -ENOENT;
    enum alert_transition t = alert_resolve(a, "", note, (double)wall);
    if (t == AT_NONE)
        return -ENOENT;
    announce(al, a, t, (double)wall);
    drop_alert(al, a);
    return 0;
}

int alerting_hold(struct alerting *al, const char *hall, const char *alert_id, double until)
{
    char key[256];
    key_of(key, sizeof(key), hall, alert_id);
    double *v = strmap_get(al->holds, key);
    if (until <= 0) {
        free(strmap_remove(al->holds, key));
        return 0;
    }
    if (!v) {
        if (!(v = malloc(sizeof(*v))))
            return -ENOMEM;
        if (strmap_put(al->holds, key, v) < 0) {
            free(v);
            return -ENOMEM;
        }
    }
    *v = until;
    return 0;
}
