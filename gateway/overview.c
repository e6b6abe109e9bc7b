#include "overview.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "alert.h"
#include "enforce.h"
#include "lineproto.h"
#include "schedule.h"
#include "snapshot.h"
#include "windows.h"

static const char *const state_names[] = {"closed", "open", "break"};

/* What one hall adds up to. */
struct hall_sum {
    const char *hall;
    unsigned open, staffed, unstaffed, unknown;
    unsigned alerts[SEV_COUNT], total, unacked;
    double waiting_hall, waiting_any; /* queues in no window; every queue */
    bool has_hall, has_any;
    unsigned po_done, po_failed, po_pending;
    bool po_any;
};

static void count_alert(const struct alert *a, void *arg)
{
    struct hall_sum *s = arg;
    if (a->state != ALERT_FIRING && a->state != ALERT_ACKNOWLEDGED)
        return;
    if (strcmp(a->hall, s->hall) != 0 || (unsigned)a->severity >= SEV_COUNT)
        return;
    s->alerts[a->severity]++;
    s->total++;
    if (a->state == ALERT_FIRING)
        s->unacked++;
}

/* The people waiting in the hall, as the page counts them: its queues in no
 * window, else all of its queues. */
static void count_queue(struct hm_device *d, void *arg)
{
    struct hall_sum *s = arg;
    if (d->kind != KIND_QUEUE || strcmp(d->hall, s->hall) != 0)
        return;
    const struct hm_value *v = hallmodel_value(d, "waiting");
    if (!v || v->type != METRIC_NUMBER)
        return;
    s->waiting_any += v->num;
    s->has_any = true;
    if (!d->window[0]) {
        s->waiting_hall += v->num;
        s->has_hall = true;
    }
}

static void count_step(struct hall_sum *s, const char *hall, int ok)
{
    if (strcmp(hall, s->hall) != 0)
        return;
    s->po_any = true;
    if (ok > 0)
        s->po_done++;
    else if (ok == 0)
        s->po_failed++;
    else
        s->po_pending++;
}

/* Everything the overview says of hall h. */
static void sum_hall(const struct config *cfg, const struct windows_index *ix, struct hallmodel *hm,
                     const struct enforce *ef, struct alerting *al, const struct config_hall *h,
                     wall_s wall, struct hall_sum *s)
{
    memset(s, 0, sizeof(*s));
    s->hall = h->id;
    for (size_t j = 0; j < h->n_windows; j++) {
        struct window_state st;
        windows_state(cfg, ix, hm, h, &h->windows[j], wall, &st);
        if (!st.open)
            continue;
        s->open++;
        s->staffed += st.presence == 1;
        s->unstaffed += st.presence == 0;
        s->unknown += st.presence < 0;
    }
    if (al)
        alerting_foreach(al, count_alert, s);
    hallmodel_foreach(hm, count_queue, s);
    const struct enforce_run *r = ef ? enforce_last_run(ef) : NULL;
    for (size_t i = 0; r && i < r->n_pcs; i++)
        count_step(s, r->pcs[i].hall, enforce_pc_ok(&r->pcs[i]));
    for (size_t i = 0; r && i < r->n_plugs; i++)
        count_step(s, r->plugs[i].hall, enforce_plug_ok(&r->plugs[i]));
}

static json_t *poweroff_json(const struct enforce *ef, const struct hall_sum *s)
{
    const struct enforce_run *r = ef ? enforce_last_run(ef) : NULL;
    if (!r || !s->po_any)
        return json_null();
    bool running = enforce_running(ef) && s->po_pending > 0;
    const char *status = running || s->po_pending ? "running"
                         : s->po_failed           ? "not_all_off"
                                                  : "all_off";
    json_t *o = json_object();
    json_object_set_new(o, "date", json_string(r->date));
    json_object_set_new(o, "running", json_boolean(running));
    json_object_set_new(o, "status", json_string(status));
    json_object_set_new(o, "done", json_integer(s->po_done));
    json_object_set_new(o, "failed", json_integer(s->po_failed));
    json_object_set_new(o, "pending", json_integer(s->po_pending));
    return o;
}

static json_t *hall_json(const struct config *cfg, const struct windows_index *ix,
                         struct hallmodel *hm, const struct enforce *ef, struct alerting *al,
                         const struct config_hall *h, const char *state, wall_s wall)
{
    struct hall_sum s;
    sum_hall(cfg, ix, hm, ef, al, h, wall, &s);

    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(h->id));
    json_object_set_new(o, "name", json_string(h->name ? h->name : h->id));
    json_object_set_new(o, "state", json_string(state));
    json_object_set_new(o, "windows", json_integer((json_int_t)h->n_windows));
    json_object_set_new(o, "open", json_integer(s.open));
    json_object_set_new(o, "staffed", json_integer(s.staffed));
    json_object_set_new(o, "unstaffed", json_integer(s.unstaffed));
    json_object_set_new(o, "unknown", json_integer(s.unknown));
    json_object_set_new(o, "waiting",
                        s.has_hall  ? json_real(s.waiting_hall)
                        : s.has_any ? json_real(s.waiting_any)
                                    : json_null());
    json_t *a = json_object();
    json_object_set_new(a, "total", json_integer(s.total));
    json_object_set_new(a, "unacknowledged", json_integer(s.unacked));
    for (int sev = SEV_CRITICAL; sev >= SEV_INFO; sev--)
        json_object_set_new(a, config_severity_name((enum severity)sev),
                            json_integer(s.alerts[sev]));
    json_object_set_new(o, "alerts", a);
    json_object_set_new(o, "poweroff", poweroff_json(ef, &s));
    return o;
}

char *overview_json(const struct config *cfg, struct hallmodel *hm, const struct enforce *ef,
                    struct alerting *al, wall_s wall, bool mqtt_connected)
{
    const char *state = state_names[schedule_state(&cfg->schedule, wall)];
    json_t *root = snapshot_head(cfg, wall, mqtt_connected);
    json_t *halls = json_array();
    struct windows_index *ix = windows_index_new(cfg); /* NULL: windows_state scans */
    for (size_t i = 0; i < cfg->n_halls; i++)
        json_array_append_new(halls, hall_json(cfg, ix, hm, ef, al, &cfg->halls[i], state, wall));
    windows_index_free(ix);
    json_object_set_new(root, "halls", halls);
    char *out = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    return out;
}

void overview_points(struct buf *b, const struct config *cfg, struct hallmodel *hm,
                     const struct enforce *ef, struct alerting *al, wall_s wall,
                     void (*counted)(void *ctx, int r), void *ctx)
{
    bool open = schedule_state(&cfg->schedule, wall) == SCHED_OPEN;
    struct windows_index *ix = windows_index_new(cfg); /* NULL: windows_state scans */
    for (size_t i = 0; i < cfg->n_halls; i++) {
        const struct config_hall *h = &cfg->halls[i];
        struct hall_sum s;
        sum_hall(cfg, ix, hm, ef, al, h, wall, &s);
        struct lp_tag tags[] = {{"gateway", cfg->gateway.id}, {"hall", h->id}};
        struct lp_field f[16];
        size_t n = 0;
#define NUM(k, v) (f[n++] = (struct lp_field){.key = (k), .type = LP_FLOAT, .f = (double)(v)})
        f[n++] = (struct lp_field){.key = "open", .type = LP_BOOL, .b = open};
        NUM("windows", h->n_windows);
        NUM("windows_open", s.open);
        NUM("staffed", s.staffed);
        NUM("unstaffed", s.unstaffed);
        if (s.has_hall || s.has_any)
            NUM("waiting", s.has_hall ? s.waiting_hall : s.waiting_any);
        NUM("alerts", s.total);
        NUM("alerts_unacknowledged", s.unacked);
        NUM("alerts_critical", s.alerts[SEV_CRITICAL]);
        NUM("alerts_major", s.alerts[SEV_MAJOR]);
        NUM("alerts_warning", s.alerts[SEV_WARNING]);
        NUM("alerts_info", s.alerts[SEV_INFO]);
        if (s.po_any) {
            NUM("poweroff_done", s.po_done);
            NUM("poweroff_failed", s.po_failed);
            NUM("poweroff_pending", s.po_pending);
        }
#undef NUM
        counted(ctx, lineproto_append(b, "overview", tags, 2, f, n, wall_ns(wall)));
    }
    windows_index_free(ix);
}
