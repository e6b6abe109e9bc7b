/* Alerting (alerting.h): the alerts of the hall, kept in a map by
 * "<hall>/<alert id>", and the announcement of every transition; also
 * acknowledgements, the engine's life across reloads and restarts, and the
 * alerts raised outside the rule engine. The rules are judged in
 * alerting_eval.c. */
#include "alerting.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerting_internal.h"
#include "metrics.h"
#include "notifier.h"
#include "store.h"

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

void alerting_announce(struct alerting *al, struct alert *a, enum alert_transition t, wall_s wall)
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
    /* A silenced alert is published, stored and written like any other;
     * only its notifications are held back. */
    bool silenced = alerting_silenced(al, a, wall);
    /* Published first: the log line and the store writer's sync to disk
     * come after. */
    publish_alert(al, a, t);
    log_notice("alert %s %s%s: %s", a->id, alert_transition_name(t), silenced ? " (silenced)" : "",
               a->summary);
    record(al, a, t);
    if (al->io.alert_point) {
        /* The clock at the transition, and never a timestamp twice: two
         * transitions of one rule in a turn must stay two points. */
        al->io.alert_point(al->io.ctx, a, t, wall_after(clock_wall(), &al->last_alert_point));
    }
    if (al->io.notifier && !silenced) {
        notifier_send(al->io.notifier, a, t, al->cfg->gateway.id, NULL);
        a->last_notified = wall;
    }
    metrics_set(MET_G_ALERTS_ACTIVE, alerting_active_count(al));
}

/* ---- the alert map ------------------------------------------------------- */

struct alert *alerting_find_alert(struct alerting *al, const char *hall, const char *id)
{
    char key[256];
    key_of(key, sizeof(key), hall, id);
    return strmap_get(al->alerts, key);
}

struct alert *alerting_find_rule_alert(struct alerting *al, const char *hall, const char *rule,
                                       const char *subject)
{
    char key[256];
    key3(key, sizeof(key), hall, rule, subject);
    return strmap_get(al->alerts, key);
}

bool alerting_subject_has_alerts(struct alerting *al, const char *hall, const char *subject)
{
    char key[256];
    key_of(key, sizeof(key), hall, subject);
    return strmap_get(al->subjects, key) != NULL;
}

int alerting_put_alert(struct alerting *al, struct alert *a)
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

void alerting_drop_alert(struct alerting *al, struct alert *a)
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

wall_s alerting_held_until(struct alerting *al, const char *hall, const char *id, wall_s wall)
{
    char key[256];
    key_of(key, sizeof(key), hall, id);
    wall_s *until = strmap_get(al->holds, key);
    if (!until)
        return 0;
    if (wall < *until)
        return *until;
    free(strmap_remove(al->holds, key));
    return 0;
}

void alerting_free_value(const char *key, void *value, void *arg)
{
    (void)key;
    (void)arg;
    free(value);
}

/* ---- acknowledgements ------------------------------------------------------- */

int alerting_ack(struct alerting *al, const char *hall, const char *alert_id, const char *by,
                 const char *note, bool resolve, wall_s wall)
{
    struct alert *a = alerting_find_alert(al, hall, alert_id);
    if (!a || !alert_is_active(a) || a->state == ALERT_PENDING)
        return -ENOENT;
    if (!resolve) {
        enum alert_transition t = alert_ack(a, by, note, wall);
        if (t == AT_NONE) /* a second ack updates the note */
            record(al, a, AT_ACKNOWLEDGED);
        alerting_announce(al, a, t, wall);
        return 0;
    }
    if (!a->manual_resolve)
        return -EINVAL; /* it resolves by itself when its condition clears (a
                         * baseline: or when the new value is approved) */
    enum alert_transition t = alert_resolve(a, by, note, wall);
    alerting_announce(al, a, t, wall);
    if (a->state == ALERT_RESOLVED)
        alerting_drop_alert(al, a);
    return 0;
}

int alerting_approve(struct alerting *al, const char *hall, const char *alert_id, const char *by,
                     const char *note, wall_s wall)
{
    struct alert *a = alerting_find_alert(al, hall, alert_id);
    if (!a || !alert_is_active(a) || a->state == ALERT_PENDING)
        return -ENOENT;
    if (a->type != RULE_BASELINE)
        return -EINVAL; /* nothing to approve */
    int r = alerting_approve_baseline(al, a, by, wall);
    if (r < 0)
        return r;
    enum alert_transition t = alert_resolve(a, by, note, wall);
    alerting_announce(al, a, t, wall);
    if (a->state == ALERT_RESOLVED)
        alerting_drop_alert(al, a);
    return 0;
}

bool alerting_parse_ack_topic(const char *prefix, const char *topic, size_t len, char *hall,
                              size_t hall_size, char *id, size_t id_size, char *account,
                              size_t account_size)
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
    /* <id>/ack or <id>/ack/<account>: an alert id holds no '/'. */
    slash = memchr(p, '/', (size_t)(end - p));
    size_t idl = slash ? (size_t)(slash - p) : 0;
    if (!slash || idl == 0 || idl >= id_size || memchr(p, '\0', idl) || (size_t)(end - slash) < 4 ||
        memcmp(slash, "/ack", 4) != 0)
        return false;
    const char *rest = slash + 4;
    size_t al = 0;
    if (rest < end) {
        al = (size_t)(end - rest - 1);
        if (*rest != '/' || al == 0 || al >= account_size || !id_valid(rest + 1, al))
            return false;
        memcpy(account, rest + 1, al);
    }
    account[al] = '\0';
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
        return alerting_find_alert(al, hall, alert_id);
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

static void resolve_orphans(struct alerting *al, wall_s wall);

int alerting_new(const struct config *cfg, struct hallmodel *hm, const struct alerting_io *io,
                 wall_s wall, mono_ms now, struct alerting **out)
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
                if (alerting_put_alert(al, a) < 0)
                    free(a);
            }
            if (n)
                log_notice("alerting: %zu active alerts restored", n);
        }
        free(v);
        resolve_orphans(al, wall);
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
static void resolve_orphans(struct alerting *al, wall_s wall)
{
    struct orphans o = {.al = al};
    strmap_foreach(al->alerts, collect_orphan, &o);
    for (size_t i = 0; i < o.n; i++) {
        struct alert *a = o.v[i];
        enum alert_transition t = AT_CANCELLED;
        if (a->state == ALERT_FIRING || a->state == ALERT_ACKNOWLEDGED)
            t = alert_resolve(a, "hallgw", "rule removed or disabled", wall);
        alerting_announce(al, a, t, wall);
        alerting_drop_alert(al, a);
    }
    free(o.v);
}

void alerting_set_config(struct alerting *al, const struct config *cfg, struct notifier *nt,
                         wall_s wall)
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
        strmap_foreach(al->alerts, alerting_free_value, NULL);
        strmap_free(al->alerts);
    }
    if (al->subjects) {
        strmap_foreach(al->subjects, alerting_free_value, NULL);
        strmap_free(al->subjects);
    }
    free(al->silences);
    if (al->baselines) {
        strmap_foreach(al->baselines, alerting_free_value, NULL);
        strmap_free(al->baselines);
    }
    if (al->windows) {
        strmap_foreach(al->windows, alerting_free_value, NULL);
        strmap_free(al->windows);
    }
    if (al->holds) {
        strmap_foreach(al->holds, alerting_free_value, NULL);
        strmap_free(al->holds);
    }
    windows_index_free(al->wix);
    free(al);
}

/* ---- alerts from outside the rule engine ------------------------------------ */

static const char *const external_rules[] = {ALERTING_RULE_POWEROFF_FAILED,
                                             ALERTING_RULE_BRIDGE_OFFLINE, NULL};

bool alerting_external_rule(const char *rule)
{
    for (size_t i = 0; rule && external_rules[i]; i++) {
        if (strcmp(rule, external_rules[i]) == 0)
            return true;
    }
    return false;
}

int alerting_raise_external(struct alerting *al, const struct alerting_external *x, wall_s wall,
                            mono_ms now)
{
    if (!alerting_external_rule(x->rule) || !x->subject || !x->hall)
        return -EINVAL;
    char id[ALERT_ID_MAX + 1];
    snprintf(id, sizeof(id), "%s:%s", x->rule, x->subject);
    struct alert *a = alerting_find_alert(al, x->hall, id);
    if (!a) {
        /* Manual resolve: it needs a person, or the gateway seeing it right. */
        struct config_rule r = {
            .name = (char *)x->rule, .type = RULE_EVENT, .severity = x->severity};
        a = malloc(sizeof(*a));
        if (!a)
            return -ENOMEM;
        alert_init(a, &r, x->subject, x->hall, x->device ? x->device : "",
                   x->window ? x->window : "", x->kind);
        if (alerting_put_alert(al, a) < 0) {
            free(a);
            return -ENOMEM;
        }
    }
    snprintf(a->summary, sizeof(a->summary), "%s", x->summary ? x->summary : "");
    a->has_value = false;
    enum alert_transition t = alert_update(a, true, 0, now, wall);
    if (t == AT_NONE) /* a repeat updates the summary */
        record(al, a, AT_NONE);
    alerting_announce(al, a, t, wall);
    return 0;
}

int alerting_resolve_external(struct alerting *al, const char *hall, const char *alert_id,
                              const char *note, wall_s wall)
{
    struct alert *a = alerting_find_alert(al, hall, alert_id);
    if (!a || !alerting_external_rule(a->rule))
        return -ENOENT;
    enum alert_transition t = alert_resolve(a, "", note, wall);
    if (t == AT_NONE)
        return -ENOENT;
    alerting_announce(al, a, t, wall);
    alerting_drop_alert(al, a);
    return 0;
}

int alerting_hold(struct alerting *al, const char *hall, const char *alert_id, wall_s until)
{
    char key[256];
    key_of(key, sizeof(key), hall, alert_id);
    wall_s *v = strmap_get(al->holds, key);
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
