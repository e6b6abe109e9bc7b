#include "hallstate.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "enforce_time.h"
#include "jsonw.h"
#include "rules.h"
#include "schedule.h"

static const char *const sched_names[] = {"closed", "open", "break"};

static void add_problem(struct hallstate_pc *out, const char *what)
{
    if (out->n_problems < HALLSTATE_PROBLEMS_MAX)
        out->problems[out->n_problems++] = what;
}

/* A USB storage device is present: true, a number above 0, or a text other
 * than an empty or negative one (the page's reading of usb_storage). */
static bool usb_present(const struct hm_value *v)
{
    static const char *const none[] = {"0", "false", "none", "no", "off", NULL};
    if (v->type == METRIC_BOOL)
        return v->b;
    if (v->type == METRIC_NUMBER)
        return v->num > 0;
    if (!v->str || !v->str[0])
        return false;
    for (size_t i = 0; none[i]; i++)
        if (strcasecmp(v->str, none[i]) == 0)
            return false;
    return true;
}

void hallstate_pc_compliance(const struct config *cfg, const struct hm_device *d, wall_s wall,
                             struct hallstate_pc *out)
{
    memset(out, 0, sizeof(*out));
    bool known = false;
    for (size_t i = 0; i < cfg->n_rules; i++) {
        const struct config_rule *r = &cfg->rules[i];
        if (!r->enabled || r->type != RULE_MAX_AGE || !r->metric || !rules_scope_matches(r, d))
            continue;
        const struct hm_value *v = hallmodel_value(d, r->metric);
        if (!v || v->type != METRIC_NUMBER)
            continue;
        known = true;
        if (enforce_scan_overdue(r, v->num, wall))
            add_problem(out, r->name);
    }
    const struct hm_value *v = hallmodel_value(d, "av_realtime");
    if (v && v->type == METRIC_BOOL) {
        known = true;
        if (!v->b)
            add_problem(out, "realtime_off");
    }
    v = hallmodel_value(d, "av_threats");
    if (v && v->type == METRIC_NUMBER) {
        known = true;
        if (v->num > 0)
            add_problem(out, "threats");
    }
    v = hallmodel_value(d, "usb_storage");
    if (v) {
        known = true;
        if (usb_present(v))
            add_problem(out, "usb_storage");
    }
    out->compliant = !known ? -1 : out->n_problems == 0;
}

int hallstate_topic(const struct config *cfg, const char *hall, char *buf, size_t size)
{
    int n = snprintf(buf, size, "%s/%s/state", cfg->mqtt.prefix, hall);
    return n < 0 || (size_t)n >= size ? -ENOSPC : n;
}

static struct hm_device *find(struct hallmodel *hm, const char *hall, const char *id)
{
    struct route r = {.format = FORMAT_NATIVE};
    snprintf(r.hall, sizeof(r.hall), "%s", hall);
    snprintf(r.device, sizeof(r.device), "%s", id);
    return hallmodel_lookup(hm, &r);
}

/* "key": the device's last value of key, null when it has none. */
static int member_value(struct buf *b, const struct hm_device *d, const char *key)
{
    const struct hm_value *v = d ? hallmodel_value(d, key) : NULL;
    int r = jsonw_key(b, key);
    if (!v)
        return r | jsonw_null(b);
    switch (v->type) {
    case METRIC_NUMBER:
        return r | jsonw_number(b, v->num);
    case METRIC_BOOL:
        return r | jsonw_bool(b, v->b);
    case METRIC_STRING:
        break;
    }
    return r | jsonw_str(b, v->str);
}

static int pc_json(const struct config *cfg, const struct config_device *cd,
                   const struct hm_device *d, wall_s wall, struct buf *b)
{
    static const char *const metrics[] = {"av_realtime", "av_sig_updated", "av_last_scan",
                                          "av_threats",  "usb_storage",    NULL};
    struct hallstate_pc pc = {.compliant = -1};
    if (d)
        hallstate_pc_compliance(cfg, d, wall, &pc);
    int r = jsonw_key(b, cd->id);
    r |= buf_putc(b, '{');
    r |= jsonw_key(b, "window");
    r |= cd->window ? jsonw_str(b, cd->window) : jsonw_null(b);
    r |= jsonw_key(b, "compliant");
    r |= pc.compliant < 0 ? jsonw_null(b) : jsonw_bool(b, pc.compliant);
    r |= jsonw_key(b, "problems");
    r |= buf_putc(b, '[');
    for (size_t i = 0; i < pc.n_problems; i++)
        r |= jsonw_next(b) | jsonw_str(b, pc.problems[i]);
    r |= buf_putc(b, ']');
    for (size_t i = 0; metrics[i]; i++)
        r |= member_value(b, d, metrics[i]);
    return r | buf_putc(b, '}');
}

int hallstate_json(const struct config *cfg, const struct windows_index *ix, struct hallmodel *hm,
                   const struct config_hall *h, size_t active_alerts, wall_s wall, struct buf *out)
{
    enum schedule_state s = schedule_state(&cfg->schedule, wall);
    long long staffed = 0;
    for (size_t i = 0; i < h->n_windows; i++) {
        struct window_state st;
        windows_state(cfg, ix, hm, h, &h->windows[i], wall, &st);
        staffed += st.presence == 1;
    }
    int r = buf_putc(out, '{');
    r |= jsonw_member_str(out, "hall", h->id);
    r |= jsonw_member_str(out, "name", h->name ? h->name : h->id);
    r |= jsonw_member_bool(out, "open", s == SCHED_OPEN);
    r |= jsonw_member_str(out, "schedule", sched_names[s]);
    r |= jsonw_member_int(out, "windows", (long long)h->n_windows);
    r |= jsonw_member_int(out, "staffed", staffed);
    r |= jsonw_member_int(out, "active_alerts", (long long)active_alerts);
    r |= jsonw_key(out, "pcs");
    r |= buf_putc(out, '{');
    for (size_t i = 0; i < cfg->n_devices; i++) {
        const struct config_device *cd = &cfg->devices[i];
        if (cd->kind == KIND_PC && strcmp(cd->hall, h->id) == 0)
            r |= pc_json(cfg, cd, find(hm, cd->hall, cd->id), wall, out);
    }
    r |= buf_putc(out, '}');
    return r | buf_putc(out, '}');
}
