#include "windows.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "schedule.h"

static struct hm_device *find(struct hallmodel *hm, const char *hall, const char *id)
{
    struct route r = {.format = FORMAT_NATIVE};
    snprintf(r.hall, sizeof(r.hall), "%s", hall);
    snprintf(r.device, sizeof(r.device), "%s", id);
    return hallmodel_lookup(hm, &r);
}

static double queue_number(struct hallmodel *hm, const char *hall, const char *id,
                           const char *metric)
{
    struct hm_device *d = find(hm, hall, id);
    const struct hm_value *v = d ? hallmodel_value(d, metric) : NULL;
    return v && v->type == METRIC_NUMBER ? v->num : -1;
}

void windows_state(const struct config *cfg, struct hallmodel *hm, const struct config_hall *h,
                   const struct config_window *w, time_t t, struct window_state *out)
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
    for (size_t i = 0; i < cfg->n_devices; i++) {
        const struct config_device *d = &cfg->devices[i];
        if (d->kind != KIND_QUEUE || d->window || strcmp(d->hall, h->id) != 0)
            continue;
        double n = queue_number(hm, h->id, d->id, "waiting");
        double l = queue_number(hm, h->id, d->id, "longest_wait_s");
        if (n > out->waiting)
            out->waiting = n;
        if (l > out->longest_wait_s)
            out->longest_wait_s = l;
    }
}

int windows_to_json(const struct config_hall *h, const struct config_window *w,
                    const struct window_state *st, double since, char *buf, size_t size)
{
    char waiting[32] = "null", longest[32] = "null";
    if (st->waiting >= 0)
        snprintf(waiting, sizeof(waiting), "%.0f", st->waiting);
    if (st->longest_wait_s >= 0)
        snprintf(longest, sizeof(longest), "%.0f", st->longest_wait_s);
    /* Ids are [A-Za-z0-9_.-]; the name is UTF-8 from the config, escaped. */
    char name[256];
    size_t o = 0;
    for (const char *p = w->name ? w->name : w->id; *p && o + 7 < sizeof(name); p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"' || c == '\\') {
            name[o++] = '\\';
            name[o++] = (char)c;
        } else if (c < 0x20) {
            o += (size_t)snprintf(name + o, sizeof(name) - o, "\\u%04x", c);
        } else {
            name[o++] = (char)c;
        }
    }
    name[o] = '\0';
    int n = snprintf(buf, size,
                     "{\"hall\":\"%s\",\"window\":\"%s\",\"name\":\"%s\",\"open\":%s,"
                     "\"staffed\":%s,\"waiting\":%s,\"longest_wait_s\":%s,\"since\":%.3f}",
                     h->id, w->id, name, st->open ? "true" : "false",
                     st->presence < 0 ? "null"
                     : st->presence   ? "true"
                                      : "false",
                     waiting, longest, since);
    return n < 0 || (size_t)n >= size ? -ENOSPC : n;
}
