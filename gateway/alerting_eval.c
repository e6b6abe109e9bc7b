/* Alerting's rule engine (alerting.h): every rule judged against the hall
 * model (rules.h) on each reading and each tick, the verdicts fed into the
 * alerts of alerting.c; the approved baselines; the derived window state;
 * re-notification and escalation. */
#include "alerting.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerting_internal.h"
#include "notifier.h"
#include "rules.h"
#include "schedule.h"
#include "store.h"

/* Feeds a verdict for (rule, subject) into its alert a (NULL: none yet),
 * creating the alert only when the condition is true. An unknown verdict
 * changes nothing: a restored or pending alert waits for data. */
static void apply_to(struct alerting *al, struct alert *a, const struct config_rule *r,
                     const char *subject, const struct hm_device *d, const char *hall,
                     const char *window, const struct rule_verdict *v, mono_ms now, wall_s wall)
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
        if (alerting_put_alert(al, a) < 0) {
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
        alerting_held_until(al, hall, a->id, wall) > 0)
        for_ms = INT64_MAX;
    enum alert_transition t = alert_update(a, v->condition, for_ms, now, wall);
    alerting_announce(al, a, t, wall);
    if (a->state == ALERT_INACTIVE || a->state == ALERT_RESOLVED)
        alerting_drop_alert(al, a);
}

static void apply(struct alerting *al, const struct config_rule *r, const char *subject,
                  const struct hm_device *d, const char *hall, const char *window,
                  const struct rule_verdict *v, mono_ms now, wall_s wall)
{
    apply_to(al, alerting_find_rule_alert(al, hall, r->name, subject), r, subject, d, hall, window,
             v, now, wall);
}

/* ---- baselines ------------------------------------------------------------- */

/* The approved value of d's metric; the first value seen is approved as the
 * baseline (by "auto") when none is stored. NULL while nothing is known. */
static const char *baseline_of(struct alerting *al, const struct hm_device *d, const char *metric,
                               wall_s wall)
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
            store_baseline_set(al->io.store, d->id, metric, value, "auto", wall);
        log_info("baseline %s of %s learnt: %s", metric, d->id, value);
    }
    char *copy = strdup(value);
    if (copy && strmap_put(al->baselines, key, copy) < 0) {
        free(copy);
        return NULL;
    }
    return copy;
}

int alerting_approve_baseline(struct alerting *al, const struct alert *a, const char *by,
                              wall_s wall)
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

/* A Zigbee2MQTT device behind an offline bridge is silent because of it:
 * the bridge-offline alert says so. Once the bridge is back, its devices'
 * silence counts from then. */
static void bridge_input(struct alerting *al, const struct config_device *cd,
                         struct rules_device_input *in)
{
    const struct bridge *b = bridges_find(hallmodel_bridges(al->hm), cd->source_base);
    if (!b)
        return;
    in->bridge_offline = b->avail == AVAIL_OFFLINE;
    if (b->avail == AVAIL_ONLINE && b->since > in->started)
        in->started = b->since;
}

static void eval_device(struct alerting *al, struct hm_device *d, wall_s wall, mono_ms now)
{
    const struct config *cfg = al->cfg;
    const struct config_device *cd = NULL;
    bool cd_looked_up = false;
    bool any = alerting_subject_has_alerts(al, d->hall, d->id);
    for (size_t i = 0; i < cfg->n_rules; i++) {
        const struct config_rule *r = &cfg->rules[i];
        if (!r->enabled || !rules_is_device_rule(r->type) || !rules_scope_matches(r, d))
            continue;
        if (!cd_looked_up && d->registered) {
            cd = config_find_device(cfg, d->id);
            cd_looked_up = true;
        }
        struct alert *a = any ? alerting_find_rule_alert(al, d->hall, r->name, d->id) : NULL;
        struct rules_device_input in = {
            .cd = cd,
            .was_active = a && alert_is_active(a),
            .baseline = r->type == RULE_BASELINE ? baseline_of(al, d, r->metric, wall) : NULL,
            .wall = wall,
            .now = now,
            .started = al->started,
        };
        if (r->type == RULE_STALE && d->format == FORMAT_ZIGBEE2MQTT && cd)
            bridge_input(al, cd, &in);
        struct rule_verdict v;
        rules_eval_device(r, &cfg->schedule, d, &in, &v);
        apply_to(al, a, r, d->id, d, d->hall, d->window[0] ? d->window : NULL, &v, now, wall);
    }
}

static void window_point(struct alerting *al, const struct config_hall *h,
                         const struct config_window *w, const struct window_state *st,
                         struct window_memo *m, wall_s wall)
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
                        const struct config_window *w, wall_s wall, mono_ms now)
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
    window_point(al, h, w, &st, m, wall);

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
        apply(al, r, w->id, seat, h->id, w->id, &v, now, wall);
    }
}

static void eval_windows_of(struct alerting *al, const struct hm_device *d, wall_s wall,
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
                         wall_s wall, mono_ms now)
{
    if (rd->cls == MSG_EVENT) {
        for (size_t i = 0; i < al->cfg->n_rules; i++) {
            const struct config_rule *r = &al->cfg->rules[i];
            struct rule_verdict v;
            if (!r->enabled || r->type != RULE_EVENT || !rules_scope_matches(r, d) ||
                !rules_when_matches(r, &al->cfg->schedule, wall) || !rules_event_matches(r, rd, &v))
                continue;
            v.for_ms = 0;
            apply(al, r, d->id, d, d->hall, d->window[0] ? d->window : NULL, &v, now, wall);
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
    const wall_s *wall = ((void **)arg)[1];
    const mono_ms *now = ((void **)arg)[2];
    eval_device(al, d, *wall, *now);
}

struct renotify_ctx {
    struct alerting *al;
    wall_s wall;
};

static void renotify_one(const char *key, void *value, void *arg)
{
    (void)key;
    struct renotify_ctx *c = arg;
    struct alerting *al = c->al;
    struct alert *a = value;
    const struct config_alert_policy *p = &al->cfg->alerts;
    bool was_silenced = a->silenced_by[0] != '\0';
    if (alerting_silenced(al, a, c->wall) || a->state != ALERT_FIRING || !al->io.notifier)
        return;
    /* A silence that ended over an alert nobody was told of: tell now. */
    if (was_silenced && a->last_notified == 0) {
        notifier_send(al->io.notifier, a, AT_FIRING, al->cfg->gateway.id, NULL);
        a->last_notified = c->wall;
    }
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

void alerting_tick(struct alerting *al, wall_s wall, mono_ms now)
{
    void *args[3] = {al, &wall, &now};
    hallmodel_foreach(al->hm, eval_one_device, args);
    for (size_t i = 0; i < al->cfg->n_halls; i++) {
        const struct config_hall *h = &al->cfg->halls[i];
        for (size_t j = 0; j < h->n_windows; j++)
            eval_window(al, h, &h->windows[j], wall, now);
    }
    alerting_bridges_tick(al, wall, now);
    alerting_silences_tick(al, wall);
    struct renotify_ctx c = {al, wall};
    strmap_foreach(al->alerts, renotify_one, &c);
}
