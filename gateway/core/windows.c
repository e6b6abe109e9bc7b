#include "windows.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "jsonw.h"
#include "schedule.h"

struct hall_queues {
    const struct config_device **v;
    size_t n;
};

struct windows_index {
    const struct config *cfg;
    struct hall_queues *halls; /* parallel to cfg->halls */
};

static bool is_hall_queue(const struct config_device *d, const char *hall)
{
    return d->kind == KIND_QUEUE && !d->window && strcmp(d->hall, hall) == 0;
}

static int index_hall(const struct config *cfg, const struct config_hall *h, struct hall_queues *q)
{
    for (size_t i = 0; i < cfg->n_devices; i++) {
        const struct config_device *d = &cfg->devices[i];
        if (!is_hall_queue(d, h->id))
            continue;
        const struct config_device **nv = realloc(q->v, (q->n + 1) * sizeof(*nv));
        if (!nv)
            return -ENOMEM;
        q->v = nv;
        q->v[q->n++] = d;
    }
    return 0;
}

struct windows_index *windows_index_new(const struct config *cfg)
{
    struct windows_index *ix = calloc(1, sizeof(*ix));
    if (!ix)
        return NULL;
    ix->cfg = cfg;
    ix->halls = calloc(cfg->n_halls ? cfg->n_halls : 1, sizeof(*ix->halls));
    if (!ix->halls) {
        free(ix);
        return NULL;
    }
    for (size_t i = 0; i < cfg->n_halls; i++) {
        if (index_hall(cfg, &cfg->halls[i], &ix->halls[i]) < 0) {
            windows_index_free(ix);
            return NULL;
        }
    }
    return ix;
}

void windows_index_free(struct windows_index *ix)
{
    if (!ix)
        return;
    for (size_t i = 0; i < ix->cfg->n_halls; i++)
        free(ix->halls[i].v);
    free(ix->halls);
    free(ix);
}

static void copy_id(char *dst, size_t size, const char *src)
{
    size_t n = strnlen(src, size - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static struct hm_device *find(struct hallmodel *hm, const char *hall, const char *id)
{
    struct route r = {.format = FORMAT_NATIVE};
    copy_id(r.hall, sizeof(r.hall), hall);
    copy_id(r.device, sizeof(r.device), id);
    return hallmodel_lookup(hm, &r);
}

static double queue_number(struct hallmodel *hm, const char *hall, const char *id,
                           const char *metric)
{
    struct hm_device *d = find(hm, hall, id);
    const struct hm_value *v = d ? hallmodel_value(d, metric) : NULL;
    return v && v->type == METRIC_NUMBER ? v->num : -1;
}

static void add_hall_queue(struct hallmodel *hm, const char *hall, const char *id,
                           struct window_state *out)
{
    struct hm_device *d = find(hm, hall, id);
    const struct hm_value *n = d ? hallmodel_value(d, "waiting") : NULL;
    const struct hm_value *l = d ? hallmodel_value(d, "longest_wait_s") : NULL;
    if (n && n->type == METRIC_NUMBER && n->num > out->waiting)
        out->waiting = n->num;
    if (l && l->type == METRIC_NUMBER && l->num > out->longest_wait_s)
        out->longest_wait_s = l->num;
}

void windows_state(const struct config *cfg, const struct windows_index *ix, struct hallmodel *hm,
                   const struct config_hall *h, const struct config_window *w, wall_s t,
                   struct window_state *out)
{
    out->open = schedule_window_expected(&cfg->schedule, t, w->lunch_duty);
    out->presence = -1;
    out->waiting = -1;
    out->longest_wait_s = -1;
    if (w->seat) {
        struct hm_device *seat = find(hm, h->id, w->seat);
        const struct hm_value *v = seat ? hallmodel_value(seat, "presence") : NULL;
        if (v && v->type == METRIC_BOOL)
            out->presence = v->b ? 1 : 0;
    }
    if (w->queue) {
        out->waiting = queue_number(hm, h->id, w->queue, "waiting");
        out->longest_wait_s = queue_number(hm, h->id, w->queue, "longest_wait_s");
        return;
    }
    /* No queue of its own: the hall's queue systems (those in no window). */
    if (ix && ix->cfg == cfg && h >= cfg->halls && h < cfg->halls + cfg->n_halls) {
        const struct hall_queues *q = &ix->halls[h - cfg->halls];
        for (size_t i = 0; i < q->n; i++)
            add_hall_queue(hm, h->id, q->v[i]->id, out);
        return;
    }
    for (size_t i = 0; i < cfg->n_devices; i++) {
        if (is_hall_queue(&cfg->devices[i], h->id))
            add_hall_queue(hm, h->id, cfg->devices[i].id, out);
    }
}

int windows_to_json(const struct config_hall *h, const struct config_window *w,
                    const struct window_state *st, wall_s since, char *buf, size_t size)
{
    struct buf b;
    if (size == 0)
        return -ENOSPC;
    buf_init_fixed(&b, buf, size);
    buf_putc(&b, '{');
    jsonw_member_str(&b, "hall", h->id);
    jsonw_member_str(&b, "window", w->id);
    jsonw_member_str(&b, "name", w->name ? w->name : w->id);
    jsonw_member_bool(&b, "open", st->open);
    jsonw_key(&b, "staffed");
    if (st->presence < 0)
        jsonw_null(&b);
    else
        jsonw_bool(&b, st->presence != 0);
    jsonw_key(&b, "waiting");
    if (st->waiting >= 0)
        jsonw_number(&b, round(st->waiting));
    else
        jsonw_null(&b);
    jsonw_key(&b, "longest_wait_s");
    if (st->longest_wait_s >= 0)
        jsonw_number(&b, round(st->longest_wait_s));
    else
        jsonw_null(&b);
    jsonw_member_number(&b, "since", round(since * 1000) / 1000);
    buf_putc(&b, '}');
    if (b.err) {
        buf[0] = '\0';
        return -ENOSPC;
    }
    return (int)b.len;
}
