/* The daily inspection record's figures (report.h), made from the day's
 * data that gateway/report_gather.c reads: pure functions of the config,
 * the schedule and what they are given. */
#include "report.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "schedule.h"
#include "utf8.h"

/* ---- arrays ------------------------------------------------------------------ */

/* A new zeroed element at the end of *arr (*n of them, room for *cap), or
 * NULL when memory runs out (nothing changed). */
static void *push(void *arr_p, size_t *n, size_t *cap, size_t size)
{
    char *arr;
    memcpy(&arr, arr_p, sizeof(arr)); /* the array pointer, whatever its type */
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 8;
        char *p = realloc(arr, nc * size);
        if (!p)
            return NULL;
        arr = p;
        memcpy(arr_p, &arr, sizeof(arr));
        *cap = nc;
    }
    void *e = arr + (*n)++ * size;
    memset(e, 0, size);
    return e;
}

#define PUSH(r, arr, n) push(&(r)->arr, &(r)->n, &(r)->caps.arr, sizeof(*(r)->arr))

/* ---- the day ------------------------------------------------------------------ */

void report_set_status(struct report_status *st, enum report_source src, const char *why)
{
    st->src = src;
    utf8_copy(st->why, sizeof(st->why), why ? why : "");
}

int32_t report_local_day(wall_s t)
{
    time_t tt = (time_t)wall_whole(t);
    struct tm tm;
    localtime_r(&tt, &tm);
    tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
    return (int32_t)(timegm(&tm) / 86400);
}

void report_day_bounds(int32_t day, wall_s *start, wall_s *end)
{
    time_t d = (time_t)day * 86400;
    struct tm tm;
    gmtime_r(&d, &tm);
    tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
    tm.tm_isdst = -1;
    *start = (wall_s)mktime(&tm);
    tm.tm_mday++;
    tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
    tm.tm_isdst = -1;
    *end = (wall_s)mktime(&tm);
}

size_t report_periods(const struct config_schedule *s, wall_s from, wall_s to, bool window,
                      bool lunch_duty, struct report_period *out, size_t max)
{
    size_t n = 0;
    wall_s t = from;
    while (t < to && n < max) {
        bool on = window ? schedule_window_expected(s, t, lunch_duty) : schedule_is_open(s, t);
        wall_s next = schedule_next_transition(s, t, lunch_duty);
        wall_s end = next == 0 || next > to ? to : next;
        if (on && end > t) {
            if (n > 0 && out[n - 1].to >= t)
                out[n - 1].to = end;
            else
                out[n++] = (struct report_period){t, end};
        }
        if (next == 0 || next >= to || next <= t)
            break;
        t = next;
    }
    return n;
}

static void fmt_hhmm(wall_s t, wall_s day_end, char *buf, size_t size)
{
    if (t >= day_end) {
        snprintf(buf, size, "24:00");
        return;
    }
    time_t tt = (time_t)wall_whole(t);
    struct tm tm;
    localtime_r(&tt, &tm);
    if (tm.tm_sec)
        snprintf(buf, size, "%02d:%02d:%02d", tm.tm_hour, tm.tm_min, tm.tm_sec);
    else
        snprintf(buf, size, "%02d:%02d", tm.tm_hour, tm.tm_min);
}

static void opening_hours(struct report *r, const struct config *cfg)
{
    struct report_period p[REPORT_PERIODS_MAX];
    size_t np = report_periods(&cfg->schedule, r->day_start, r->day_end, false, false, p,
                               REPORT_PERIODS_MAX);
    size_t l = 0;
    r->opening_hours[0] = '\0';
    for (size_t i = 0; i < np && l < sizeof(r->opening_hours); i++) {
        char a[16], b[16];
        fmt_hhmm(p[i].from, r->day_end, a, sizeof(a));
        fmt_hhmm(p[i].to, r->day_end, b, sizeof(b));
        l += (size_t)snprintf(r->opening_hours + l, sizeof(r->opening_hours) - l, "%s%s-%s",
                              i ? ", " : "", a, b);
    }
}

bool report_hall_reported(const struct report *r, const char *hall)
{
    for (size_t i = 0; i < r->n_halls; i++) {
        if (strcmp(r->halls[i].id, hall) == 0)
            return true;
    }
    return false;
}

/* The windows from the config and their scheduled time, whatever InfluxDB
 * says. */
static int list_windows(struct report *r, const struct config *cfg)
{
    struct report_period p[REPORT_PERIODS_MAX];
    for (size_t i = 0; i < cfg->n_halls; i++) {
        const struct config_hall *h = &cfg->halls[i];
        if (!report_hall_reported(r, h->id))
            continue;
        for (size_t k = 0; k < h->n_windows; k++) {
            const struct config_window *cw = &h->windows[k];
            struct report_window *w = PUSH(r, windows, n_windows);
            if (!w)
                return -ENOMEM;
            utf8_copy(w->hall, sizeof(w->hall), h->id);
            utf8_copy(w->id, sizeof(w->id), cw->id);
            utf8_copy(w->name, sizeof(w->name), cw->name ? cw->name : cw->id);
            w->has_seat = cw->seat != NULL;
            w->lunch_duty = cw->lunch_duty;
            size_t np = report_periods(&cfg->schedule, r->day_start, r->until, true, w->lunch_duty,
                                       p, REPORT_PERIODS_MAX);
            for (size_t j = 0; j < np; j++)
                w->scheduled_s += p[j].to - p[j].from;
        }
    }
    return 0;
}

int report_begin(struct report *r, const struct config *cfg, const char *hall_id, int32_t day,
                 wall_s now)
{
    memset(r, 0, sizeof(*r));
    utf8_copy(r->gateway_id, sizeof(r->gateway_id), cfg->gateway.id);
    utf8_copy(r->timezone, sizeof(r->timezone), cfg->gateway.timezone);
    time_t dt = (time_t)day * 86400;
    struct tm tm;
    gmtime_r(&dt, &tm);
    strftime(r->date, sizeof(r->date), "%Y-%m-%d", &tm);
    report_day_bounds(day, &r->day_start, &r->day_end);
    r->generated_at = now;
    r->until = now < r->day_end ? now : r->day_end;
    if (r->until < r->day_start)
        r->until = r->day_start;
    opening_hours(r, cfg);

    r->halls = calloc(cfg->n_halls ? cfg->n_halls : 1, sizeof(*r->halls));
    if (!r->halls)
        return -ENOMEM;
    for (size_t i = 0; i < cfg->n_halls; i++) {
        const struct config_hall *h = &cfg->halls[i];
        if (hall_id && strcmp(hall_id, h->id) != 0)
            continue;
        struct report_hall *rh = &r->halls[r->n_halls++];
        utf8_copy(rh->id, sizeof(rh->id), h->id);
        utf8_copy(rh->name, sizeof(rh->name), h->name ? h->name : h->id);
    }
    return list_windows(r, cfg);
}

/* ---- the alert history ------------------------------------------------------------ */

static const struct config_rule *find_rule(const struct config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->n_rules; i++) {
        if (strcmp(cfg->rules[i].name, name) == 0)
            return &cfg->rules[i];
    }
    return NULL;
}

static bool is_unstaffed_rule(const struct config *cfg, const char *name)
{
    const struct config_rule *r = find_rule(cfg, name);
    return r ? r->type == RULE_UNSTAFFED : strncmp(name, "unstaffed", 9) == 0;
}

int report_sort_history(struct report *r, const struct config *cfg)
{
    for (size_t i = 0; i < r->n_alerts; i++) {
        const struct record_alert *h = &r->alerts[i];
        if (is_unstaffed_rule(cfg, h->rule)) {
            if (strcmp(h->transition, "firing") == 0) {
                struct report_incident *in = PUSH(r, incidents, n_incidents);
                if (!in)
                    return -ENOMEM;
                utf8_copy(in->hall, sizeof(in->hall), h->hall);
                utf8_copy(in->window, sizeof(in->window), h->window[0] ? h->window : h->subject);
                utf8_copy(in->alert_id, sizeof(in->alert_id), h->alert_id);
                in->start = h->at;
                continue;
            }
            /* The latest open occurrence of this alert. */
            for (size_t k = r->n_incidents; k-- > 0;) {
                struct report_incident *in = &r->incidents[k];
                if (strcmp(in->alert_id, h->alert_id) != 0 || strcmp(in->hall, h->hall) != 0)
                    continue;
                if (in->end == 0) {
                    if (h->by[0])
                        utf8_copy(in->by, sizeof(in->by), h->by);
                    if (h->note[0])
                        utf8_copy(in->note, sizeof(in->note), h->note);
                    if (strcmp(h->transition, "resolved") == 0)
                        in->end = h->at;
                }
                break;
            }
            continue;
        }
        const struct config_device *d = h->device[0] ? config_find_device(cfg, h->device) : NULL;
        const struct config_rule *rule = find_rule(cfg, h->rule);
        if ((d && d->kind == KIND_EQUIPMENT) ||
            (rule && (rule->type == RULE_EQUIPMENT_STATUS || rule->type == RULE_MAINTENANCE))) {
            struct record_alert *e = PUSH(r, equipment_alerts, n_equipment_alerts);
            if (!e)
                return -ENOMEM;
            *e = *h;
        }
    }
    for (size_t i = 0; i < r->n_windows; i++) {
        struct report_window *w = &r->windows[i];
        for (size_t k = 0; k < r->n_incidents; k++) {
            if (strcmp(r->incidents[k].hall, w->hall) == 0 &&
                strcmp(r->incidents[k].window, w->id) == 0)
                w->incidents++;
        }
    }
    return 0;
}

/* ---- the environment ---------------------------------------------------------------- */

bool report_env_rule_covers(const struct config_rule *rule, const struct config_device *d)
{
    if (!rule->enabled || rule->type != RULE_THRESHOLD || !rule->metric)
        return false;
    if (rule->is_type != CONFIG_IS_NONE)
        return false; /* a state, not a range of readings */
    if (rule->kinds && !(rule->kinds & (1u << KIND_ENV)))
        return false;
    if (rule->hall && fnmatch(rule->hall, d->hall, 0) != 0)
        return false;
    return !rule->devices || fnmatch(rule->devices, d->id, 0) == 0;
}

bool report_env_begin(struct report_env *e, const struct config *cfg, const struct config_device *d,
                      const char *metric)
{
    memset(e, 0, sizeof(*e));
    utf8_copy(e->hall, sizeof(e->hall), d->hall);
    utf8_copy(e->device, sizeof(e->device), d->id);
    utf8_copy(e->metric, sizeof(e->metric), metric);
    for (size_t i = 0; i < cfg->n_rules; i++) {
        const struct config_rule *rule = &cfg->rules[i];
        if (!report_env_rule_covers(rule, d) || strcmp(rule->metric, metric) != 0)
            continue;
        if (rule->has_above && (!e->has_above || rule->above < e->above))
            e->above = rule->above, e->has_above = true;
        if (rule->has_below && (!e->has_below || rule->below > e->below))
            e->below = rule->below, e->has_below = true;
        size_t l = strlen(e->rules);
        snprintf(e->rules + l, sizeof(e->rules) - l, "%s%s", l ? ", " : "", rule->name);
    }
    return e->has_above || e->has_below;
}

static bool out_of_range(const struct report_env *e, double v)
{
    return (e->has_above && v > e->above) || (e->has_below && v < e->below);
}

static void range_add(struct report_env *e, double v)
{
    if (!e->has_range || v > e->max)
        e->max = v;
    if (!e->has_range || v < e->min)
        e->min = v;
    e->has_range = true;
}

void report_env_add(struct report_env *e, const struct report_env_period *p)
{
    e->out_s += p->out_s;
    e->covered_s += p->covered_s;
    if (p->has_hi_lo) {
        range_add(e, p->hi);
        range_add(e, p->lo);
    }
    /* The reading in effect at opening holds until the first one after it. */
    if (p->has_before && p->first_at > p->from) {
        e->covered_s += p->first_at - p->from;
        if (out_of_range(e, p->before))
            e->out_s += p->first_at - p->from;
        range_add(e, p->before);
    }
}

int report_env_push(struct report *r, const struct report_env *e)
{
    if (e->covered_s <= 0 && !e->has_range)
        return 0; /* this device does not measure this metric */
    struct report_env *slot = PUSH(r, env, n_env);
    if (!slot)
        return -ENOMEM;
    *slot = *e;
    return 0;
}

/* ---- equipment ------------------------------------------------------------------------ */

bool report_status_ok(const char *s)
{
    return !s[0] || strcmp(s, "ok") == 0;
}

void report_fault_scan_begin(struct report_fault_scan *fs, const struct config_device *d,
                             const char *status, wall_s since)
{
    fs->d = d;
    utf8_copy(fs->status, sizeof(fs->status), status ? status : "");
    fs->since = since;
}

int report_fault_step(struct report *r, struct report_fault_scan *fs, const char *status, wall_s at)
{
    if (strcmp(status, fs->status) == 0)
        return 0;
    if (!report_status_ok(fs->status)) {
        struct report_fault *f = PUSH(r, faults, n_faults);
        if (!f)
            return -ENOMEM;
        utf8_copy(f->hall, sizeof(f->hall), fs->d->hall);
        utf8_copy(f->device, sizeof(f->device), fs->d->id);
        utf8_copy(f->type, sizeof(f->type), fs->d->type ? fs->d->type : "");
        utf8_copy(f->status, sizeof(f->status), fs->status);
        f->start = fs->since;
        f->end = at;
    }
    utf8_copy(fs->status, sizeof(fs->status), status);
    fs->since = at;
    return 0;
}

int report_fault_end(struct report *r, struct report_fault_scan *fs, wall_s until)
{
    if (report_status_ok(fs->status))
        return 0;
    int rc = report_fault_step(r, fs, "ok", until);
    if (rc == 0)
        r->faults[r->n_faults - 1].ongoing = true;
    return rc;
}

/* ---- power-off ------------------------------------------------------------------------ */

struct report_poweroff *report_poweroff_add(struct report *r, const struct config_device *d)
{
    struct report_poweroff *p = PUSH(r, poweroffs, n_poweroffs);
    if (!p)
        return NULL;
    utf8_copy(p->hall, sizeof(p->hall), d->hall);
    utf8_copy(p->device, sizeof(p->device), d->id);
    utf8_copy(p->window, sizeof(p->window), d->window ? d->window : "");
    utf8_copy(p->kind, sizeof(p->kind), config_kind_name(d->kind));
    p->last_ok = -1;
    return p;
}

void report_poweroff_step(struct report_poweroff *p, const char *step, int ok, wall_s at)
{
    p->records++;
    if (ok == 0)
        p->failures++;
    p->last_ok = ok;
    if (at > 0)
        p->last_at = at;
    utf8_copy(p->last_step, sizeof(p->last_step), step ? step : "");
}

/* ---- PCs ---------------------------------------------------------------------------- */

static double rule_max_age_s(const struct config *cfg, const char *metric)
{
    for (size_t i = 0; i < cfg->n_rules; i++) {
        const struct config_rule *r = &cfg->rules[i];
        if (r->enabled && r->type == RULE_MAX_AGE && r->metric && strcmp(r->metric, metric) == 0 &&
            (!r->kinds || (r->kinds & (1u << KIND_PC))))
            return (double)r->max_age_ms / 1000.0;
    }
    return 0;
}

struct report_pc *report_pc_add(struct report *r, const struct config *cfg,
                                const struct config_device *d)
{
    struct report_pc *pc = PUSH(r, pcs, n_pcs);
    if (!pc)
        return NULL;
    utf8_copy(pc->hall, sizeof(pc->hall), d->hall);
    utf8_copy(pc->device, sizeof(pc->device), d->id);
    utf8_copy(pc->window, sizeof(pc->window), d->window ? d->window : "");
    pc->scan_max_age_s = rule_max_age_s(cfg, "av_last_scan");
    pc->sig_max_age_s = rule_max_age_s(cfg, "av_sig_updated");
    pc->av_threats = -1;
    return pc;
}

struct report_event *report_event_add(struct report *r, const struct config_device *d)
{
    struct report_event *e = PUSH(r, events, n_events);
    if (!e)
        return NULL;
    utf8_copy(e->hall, sizeof(e->hall), d->hall);
    utf8_copy(e->device, sizeof(e->device), d->id);
    return e;
}

void report_free(struct report *r)
{
    if (!r)
        return;
    free(r->halls);
    free(r->windows);
    free(r->incidents);
    free(r->env);
    free(r->faults);
    free(r->equipment_alerts);
    free(r->poweroffs);
    free(r->pcs);
    free(r->events);
    free(r->alerts);
    free(r->actions);
    free(r->silences);
    memset(r, 0, sizeof(*r));
}
