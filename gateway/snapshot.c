#include "snapshot.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "alert.h"
#include "buf.h"
#include "enforce.h"
#include "schedule.h"
#include "store.h"
#include "windows.h"

static const char *const avail_names[] = {"unknown", "online", "offline"};
static const char *const state_names[] = {"closed", "open", "break"};

static json_t *str_or_null(const char *s)
{
    return s && *s ? json_string(s) : json_null();
}

static json_t *device_json(const struct hm_device *d, mono_ms now)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(d->id));
    json_object_set_new(o, "kind", json_string(config_kind_name(d->kind)));
    json_object_set_new(o, "window", str_or_null(d->window));
    json_object_set_new(o, "registered", json_boolean(d->registered));
    json_object_set_new(o, "format", json_string(config_format_name(d->format)));
    json_object_set_new(o, "availability", json_string(avail_names[d->avail]));
    json_object_set_new(o, "last_seen_age_s",
                        d->last_seen ? json_real((double)(now - d->last_seen) / 1000.0)
                                     : json_null());
    json_t *values = json_object();
    for (unsigned i = 0; i < d->n_values; i++) {
        const struct hm_value *v = &d->values[i];
        json_t *j = v->type == METRIC_NUMBER ? json_real(v->num)
                    : v->type == METRIC_BOOL ? json_boolean(v->b)
                                             : json_string(v->str);
        json_object_set_new(values, v->key, j ? j : json_null());
    }
    json_object_set_new(o, "values", values);
    return o;
}

struct hall_devices {
    const char *hall;
    json_t *arr;
    mono_ms now;
};

static void add_device(struct hm_device *d, void *arg)
{
    struct hall_devices *hd = arg;
    if (strcmp(d->hall, hd->hall) == 0)
        json_array_append_new(hd->arr, device_json(d, hd->now));
}

static json_t *num_or_null(double v)
{
    return v >= 0 ? json_real(v) : json_null();
}

static json_t *window_json(const struct config *cfg, const struct windows_index *ix,
                           struct hallmodel *hm, const struct config_hall *h,
                           const struct config_window *w, wall_s wall)
{
    struct window_state st;
    windows_state(cfg, ix, hm, h, w, wall, &st);
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(w->id));
    json_object_set_new(o, "name", json_string(w->name ? w->name : w->id));
    json_object_set_new(o, "open", json_boolean(st.open));
    json_object_set_new(o, "staffed", st.presence < 0 ? json_null() : json_boolean(st.presence));
    json_object_set_new(o, "waiting", num_or_null(st.waiting));
    json_object_set_new(o, "longest_wait_s", num_or_null(st.longest_wait_s));
    json_object_set_new(o, "lunch_duty", json_boolean(w->lunch_duty));
    json_object_set_new(o, "seat", str_or_null(w->seat));
    json_object_set_new(o, "pc", str_or_null(w->pc));
    json_object_set_new(o, "plug", str_or_null(w->plug));
    json_object_set_new(o, "queue", str_or_null(w->queue));
    return o;
}

static json_t *thresholds_json(const struct config *cfg, json_t **max_ages)
{
    json_t *arr = json_array();
    *max_ages = json_array();
    for (size_t i = 0; i < cfg->n_rules; i++) {
        const struct config_rule *r = &cfg->rules[i];
        if (!r->enabled)
            continue;
        json_t *o = json_object();
        json_object_set_new(o, "rule", json_string(r->name));
        json_object_set_new(o, "metric", str_or_null(r->metric));
        json_object_set_new(o, "severity", json_string(config_severity_name(r->severity)));
        json_t *kinds = json_array();
        for (int k = 0; k < KIND_COUNT; k++) {
            if (!r->kinds || (r->kinds & (1u << k)))
                json_array_append_new(kinds, json_string(config_kind_name(k)));
        }
        json_object_set_new(o, "kinds", kinds);
        if (r->type == RULE_THRESHOLD && r->is_type != CONFIG_IS_NONE) {
            json_object_set_new(o, "is",
                                r->is_type == CONFIG_IS_BOOL     ? json_boolean(r->is_b)
                                : r->is_type == CONFIG_IS_NUMBER ? json_real(r->is_num)
                                                                 : json_string(r->is_str));
            json_array_append_new(arr, o);
        } else if (r->type == RULE_THRESHOLD) {
            json_object_set_new(o, r->has_above ? "above" : "below",
                                json_real(r->has_above ? r->above : r->below));
            json_object_set_new(o, "clear_at", json_real(r->clear_at));
            json_array_append_new(arr, o);
        } else if (r->type == RULE_MAX_AGE) {
            json_object_set_new(o, "max_age_s", json_real((double)r->max_age_ms / 1000.0));
            json_array_append_new(*max_ages, o);
        } else {
            json_decref(o);
        }
    }
    return arr;
}

static json_t *ok_json(int ok)
{
    return ok < 0 ? json_null() : json_boolean(ok);
}

static json_t *item_json(const char *device, const char *hall, const char *window,
                         const char *state, int ok, const char *detail)
{
    json_t *o = json_object();
    json_object_set_new(o, "device", json_string(device));
    json_object_set_new(o, "hall", json_string(hall));
    json_object_set_new(o, "window", str_or_null(window));
    json_object_set_new(o, "state", json_string(state));
    json_object_set_new(o, "ok", ok_json(ok));
    json_object_set_new(o, "detail", json_string(detail));
    return o;
}

static json_t *poweroff_json(const struct config *cfg, const struct enforce *ef)
{
    static const char *const triggers[] = {"nightly", "closed", "poweron"};
    const struct enforce_run *r = ef ? enforce_last_run(ef) : NULL;
    if (!r)
        return json_null();
    json_t *o = json_object();
    json_object_set_new(o, "date", json_string(r->date));
    json_object_set_new(o, "trigger", json_string(triggers[r->trigger]));
    json_object_set_new(o, "started", json_real(r->started));
    json_object_set_new(o, "running", json_boolean(enforce_running(ef)));
    json_object_set_new(o, "dry_run", json_boolean(cfg->poweroff.dry_run));
    json_t *pcs = json_array(), *plugs = json_array();
    for (size_t i = 0; i < r->n_pcs; i++) {
        const struct enforce_pc *pc = &r->pcs[i];
        json_array_append_new(pcs, item_json(pc->id, pc->hall, pc->window,
                                             enforce_pc_state_name(pc->state), enforce_pc_ok(pc),
                                             pc->detail));
    }
    for (size_t i = 0; i < r->n_plugs; i++) {
        const struct enforce_plug *pl = &r->plugs[i];
        json_array_append_new(plugs,
                              item_json(pl->id, pl->hall, pl->window, enforce_plug_state_name(pl),
                                        enforce_plug_ok(pl), pl->detail));
    }
    json_object_set_new(o, "pcs", pcs);
    json_object_set_new(o, "plugs", plugs);
    return o;
}

/* The overrides of v still in force at wall (all of them when wall is 0). */
static json_t *override_list(const struct record_override *v, size_t n, wall_s wall)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        if (wall > 0 && v[i].until <= wall)
            continue;
        json_t *o = json_object();
        json_object_set_new(o, "device", json_string(v[i].device));
        json_object_set_new(o, "until", json_real(v[i].until));
        json_object_set_new(o, "reason", json_string(v[i].reason));
        json_object_set_new(o, "by", json_string(v[i].by));
        json_object_set_new(o, "created", json_real(v[i].created));
        json_array_append_new(arr, o);
    }
    return arr;
}

char *snapshot_overrides(const struct record_override *v, size_t n,
                         const struct record_override_event *log, size_t n_log)
{
    json_t *root = json_object();
    json_object_set_new(root, "overrides", override_list(v, n, 0));
    if (log) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n_log; i++) {
            json_t *o = json_object();
            json_object_set_new(o, "device", json_string(log[i].device));
            json_object_set_new(o, "action", json_string(log[i].action));
            json_object_set_new(o, "until", json_real(log[i].until));
            json_object_set_new(o, "reason", json_string(log[i].reason));
            json_object_set_new(o, "by", json_string(log[i].by));
            json_object_set_new(o, "at", json_real(log[i].at));
            json_array_append_new(arr, o);
        }
        json_object_set_new(root, "log", arr);
    }
    char *out = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    return out;
}

/* [{"base","state","since"}] of each Zigbee2MQTT base: "online",
 * "offline" or "unknown" (no bridge/state yet; since null). */
static json_t *bridges_json(const struct config *cfg, struct hallmodel *hm)
{
    static const char *const names[] = {"unknown", "online", "offline"};
    json_t *arr = json_array();
    for (size_t i = 0; i < cfg->sources.n_z2m_bases; i++) {
        const char *base = cfg->sources.z2m_bases[i];
        const struct bridge *b = bridges_find(hallmodel_bridges(hm), base);
        json_t *o = json_object();
        json_object_set_new(o, "base", json_string(base));
        json_object_set_new(o, "state", json_string(names[b ? b->avail : AVAIL_UNKNOWN]));
        json_object_set_new(o, "since", b && b->avail ? json_real(b->since_wall) : json_null());
        json_array_append_new(arr, o);
    }
    return arr;
}

json_t *snapshot_head(const struct config *cfg, wall_s wall, bool mqtt_connected)
{
    json_t *root = json_object();
    json_object_set_new(root, "gateway", json_string(cfg->gateway.id));
    json_object_set_new(root, "time", json_real(wall));
    json_object_set_new(root, "timezone", json_string(cfg->gateway.timezone));
    json_object_set_new(root, "mqtt_connected", json_boolean(mqtt_connected));
    json_t *sched = json_object();
    json_object_set_new(sched, "state",
                        json_string(state_names[schedule_state(&cfg->schedule, wall)]));
    wall_s next = schedule_next_transition(&cfg->schedule, wall, false);
    json_object_set_new(sched, "next_transition",
                        next ? json_integer(wall_whole(next)) : json_null());
    json_object_set_new(root, "schedule", sched);
    return root;
}

char *snapshot_state(const struct config *cfg, struct hallmodel *hm, const struct enforce *ef,
                     wall_s wall, mono_ms now, bool mqtt_connected)
{
    json_t *root = snapshot_head(cfg, wall, mqtt_connected);

    json_t *halls = json_array();
    struct windows_index *ix = windows_index_new(cfg); /* NULL: windows_state scans */
    for (size_t i = 0; i < cfg->n_halls; i++) {
        const struct config_hall *h = &cfg->halls[i];
        json_t *ho = json_object();
        json_object_set_new(ho, "id", json_string(h->id));
        json_object_set_new(ho, "name", json_string(h->name ? h->name : h->id));
        json_t *windows = json_array();
        for (size_t j = 0; j < h->n_windows; j++)
            json_array_append_new(windows, window_json(cfg, ix, hm, h, &h->windows[j], wall));
        json_object_set_new(ho, "windows", windows);
        struct hall_devices hd = {h->id, json_array(), now};
        hallmodel_foreach(hm, add_device, &hd);
        json_object_set_new(ho, "devices", hd.arr);
        json_array_append_new(halls, ho);
    }
    windows_index_free(ix);
    json_object_set_new(root, "halls", halls);
    json_t *max_ages;
    json_object_set_new(root, "thresholds", thresholds_json(cfg, &max_ages));
    json_object_set_new(root, "max_ages", max_ages);
    json_object_set_new(root, "poweroff", poweroff_json(cfg, ef));
    json_object_set_new(root, "bridges", bridges_json(cfg, hm));
    const struct record_override *ov = NULL;
    size_t n_ov = 0;
    if (ef)
        enforce_overrides(ef, &ov, &n_ov);
    json_object_set_new(root, "overrides", override_list(ov, n_ov, wall));
    char *out = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    return out;
}

struct alerts_acc {
    struct buf b;
    const char *gateway_id;
};

static void append_alert(const struct alert *a, void *arg)
{
    struct alerts_acc *acc = arg;
    if (acc->b.err || a->state == ALERT_PENDING)
        return;
    char *at = buf_alloc(&acc->b, ALERT_JSON_MAX + 1);
    if (!at)
        return;
    size_t mark = (size_t)(at - acc->b.data);
    if (mark > 0 && acc->b.data[mark - 1] != '[')
        *at++ = ',';
    int n = alert_to_json(a, acc->gateway_id, at, ALERT_JSON_MAX);
    buf_truncate(&acc->b, n > 0 ? (size_t)(at - acc->b.data) + (size_t)n : mark);
}

char *snapshot_alerts(const struct config *cfg, struct alerting *al)
{
    struct alerts_acc acc = {.gateway_id = cfg->gateway.id};
    buf_init(&acc.b, 0);
    buf_puts(&acc.b, "{\"active\":[");
    alerting_foreach(al, append_alert, &acc);
    buf_puts(&acc.b, "]}");
    return buf_steal(&acc.b, NULL);
}

char *snapshot_history(const struct record_alert *h, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_object();
        json_object_set_new(o, "alert_id", json_string(h[i].alert_id));
        json_object_set_new(o, "rule", json_string(h[i].rule));
        json_object_set_new(o, "subject", json_string(h[i].subject));
        json_object_set_new(o, "hall", json_string(h[i].hall));
        json_object_set_new(o, "device", json_string(h[i].device));
        json_object_set_new(o, "window", json_string(h[i].window));
        json_object_set_new(o, "severity", json_string(h[i].severity));
        json_object_set_new(o, "transition", json_string(h[i].transition));
        json_object_set_new(o, "at", json_real(h[i].at));
        json_object_set_new(o, "by", json_string(h[i].by));
        json_object_set_new(o, "note", json_string(h[i].note));
        json_object_set_new(o, "summary", json_string(h[i].summary));
        if (h[i].has_value)
            json_object_set_new(o, "value", json_real(h[i].value));
        json_array_append_new(arr, o);
    }
    json_t *root = json_object();
    json_object_set_new(root, "history", arr);
    char *out = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    return out;
}
