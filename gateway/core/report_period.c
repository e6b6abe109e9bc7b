/* The periodic assessment (考核): the daily records of a week or a month
 * added up. Pure: see report_period.h. */
#include "report_period.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "utf8.h"

static void *grow(void *arr_p, size_t *n, size_t *cap, size_t size)
{
    void **arr = arr_p;
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 16;
        void *v = realloc(*arr, c * size);
        if (!v)
            return NULL;
        *arr = v;
        *cap = c;
    }
    void *slot = (char *)*arr + *n * size;
    memset(slot, 0, size);
    (*n)++;
    return slot;
}

/* ---- waiting time --------------------------------------------------------------------- */

static int run_add(struct period_wait *w, double value, double s)
{
    if (s <= 0)
        return 0;
    w->covered_s += s;
    w->sum += value * s;
    if (w->covered_s == s || value > w->max)
        w->max = value;
    if (w->n > 0 && w->runs[w->n - 1].value == value) {
        w->runs[w->n - 1].s += s;
        return 0;
    }
    if (w->n >= PERIOD_WAIT_MAX) {
        w->dropped++;
        return 0;
    }
    struct period_wait_run *r = grow(&w->runs, &w->n, &w->cap, sizeof(*w->runs));
    if (!r)
        return -ENOMEM;
    r->value = value;
    r->s = s;
    return 0;
}

int period_wait_add(struct period_wait *w, wall_s from, wall_s to, bool has_before, double before,
                    const struct period_reading *readings, size_t n)
{
    wall_s first = n ? readings[0].at : to;
    int rc = 0;
    if (has_before && first > from)
        rc = run_add(w, before, first - from);
    for (size_t i = 0; i < n && rc == 0; i++) {
        wall_s end = i + 1 < n ? readings[i + 1].at : to;
        rc = run_add(w, readings[i].value, end - readings[i].at);
    }
    return rc;
}

static int run_cmp(const void *a, const void *b)
{
    double x = ((const struct period_wait_run *)a)->value;
    double y = ((const struct period_wait_run *)b)->value;
    return (x > y) - (x < y);
}

bool period_wait_quantile(struct period_wait *w, double q, double *out)
{
    double total = 0;
    for (size_t i = 0; i < w->n; i++)
        total += w->runs[i].s;
    if (total <= 0)
        return false;
    qsort(w->runs, w->n, sizeof(*w->runs), run_cmp);
    double need = q * total, acc = 0;
    for (size_t i = 0; i < w->n; i++) {
        acc += w->runs[i].s;
        if (acc >= need - 1e-9) {
            *out = w->runs[i].value;
            return true;
        }
    }
    *out = w->runs[w->n - 1].value;
    return true;
}

void period_wait_free(struct period_wait *w)
{
    free(w->runs);
    memset(w, 0, sizeof(*w));
}

/* ---- the period ----------------------------------------------------------------------- */

int report_period_kind_parse(const char *s)
{
    if (s && strcmp(s, "week") == 0)
        return PERIOD_WEEK;
    if (s && strcmp(s, "month") == 0)
        return PERIOD_MONTH;
    return -1;
}

void report_period_bounds(enum period_kind kind, int32_t day, int32_t *first, int32_t *n_days)
{
    if (kind == PERIOD_WEEK) {
        int32_t wd = ((day % 7) + 7 + 3) % 7; /* 1970-01-01 was a Thursday: Monday is 0 */
        *first = day - wd;
        *n_days = 7;
        return;
    }
    time_t t = (time_t)day * 86400;
    struct tm tm;
    gmtime_r(&t, &tm);
    tm.tm_mday = 1;
    tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
    *first = (int32_t)(timegm(&tm) / 86400);
    tm.tm_mon++;
    *n_days = (int32_t)(timegm(&tm) / 86400) - *first;
}

static void period_label(struct period *p)
{
    time_t t = (time_t)p->first_day * 86400;
    struct tm tm;
    gmtime_r(&t, &tm);
    if (p->kind == PERIOD_MONTH) {
        strftime(p->label, sizeof(p->label), "%Y-%m", &tm);
        return;
    }
    /* ISO week of the Monday: the week's Thursday's year */
    time_t th = t + 3 * 86400;
    struct tm tt;
    gmtime_r(&th, &tt);
    snprintf(p->label, sizeof(p->label), "%04d-W%02d", tt.tm_year + 1900, tt.tm_yday / 7 + 1);
}

int report_period_begin(struct period *p, const struct config *cfg, const char *hall_id,
                        enum period_kind kind, int32_t day, wall_s now)
{
    memset(p, 0, sizeof(*p));
    p->kind = kind;
    report_period_bounds(kind, day, &p->first_day, &p->n_days);
    period_label(p);
    wall_s dummy;
    report_day_bounds(p->first_day, &p->start, &dummy);
    report_day_bounds(p->first_day + p->n_days - 1, &dummy, &p->end);
    p->until = now < p->end ? now : p->end;
    p->current = now < p->end;
    int rc = report_begin(&p->head, cfg, hall_id, p->first_day, now);
    if (rc < 0)
        return rc;
    p->head.until = p->until;
    p->n_windows = p->head.n_windows;
    p->windows = calloc(p->n_windows ? p->n_windows : 1, sizeof(*p->windows));
    p->halls = calloc(p->head.n_halls ? p->head.n_halls : 1, sizeof(*p->halls));
    if (!p->windows || !p->halls)
        return -ENOMEM;
    p->n_halls = p->head.n_halls;
    for (size_t i = 0; i < p->n_halls; i++)
        utf8_copy(p->halls[i].id, sizeof(p->halls[i].id), p->head.halls[i].id);
    for (size_t i = 0; i < p->n_windows; i++) {
        const struct report_window *rw = &p->head.windows[i];
        struct period_window *w = &p->windows[i];
        utf8_copy(w->hall, sizeof(w->hall), rw->hall);
        utf8_copy(w->id, sizeof(w->id), rw->id);
        utf8_copy(w->name, sizeof(w->name), rw->name);
        w->has_seat = rw->has_seat;
        const struct config_hall *h = config_find_hall(cfg, rw->hall);
        for (size_t k = 0; h && k < h->n_windows; k++) {
            const struct config_window *cw = &h->windows[k];
            if (strcmp(cw->id, rw->id) != 0)
                continue;
            if (cw->queue)
                utf8_copy(w->queue, sizeof(w->queue), cw->queue);
            if (cw->pc)
                utf8_copy(w->pc, sizeof(w->pc), cw->pc);
        }
    }
    const struct report_status ok = {REPORT_SRC_OK, ""};
    p->store = p->staffing = p->environment = p->poweroff = p->av = p->waiting = ok;
    return 0;
}

void report_period_free(struct period *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n_windows; i++)
        period_wait_free(&p->windows[i].wait);
    for (size_t i = 0; i < p->n_halls; i++)
        period_wait_free(&p->halls[i].wait);
    free(p->windows);
    free(p->halls);
    free(p->env);
    free(p->alerts);
    free(p->trans);
    report_free(&p->head);
    memset(p, 0, sizeof(*p));
}

static struct period_window *find_window(struct period *p, const char *hall, const char *id)
{
    for (size_t i = 0; i < p->n_windows; i++) {
        if (strcmp(p->windows[i].hall, hall) == 0 && strcmp(p->windows[i].id, id) == 0)
            return &p->windows[i];
    }
    return NULL;
}

struct period_wait *report_period_wait_of(struct period *p, const struct config_device *d)
{
    for (size_t i = 0; i < p->n_windows; i++) {
        if (strcmp(p->windows[i].hall, d->hall) == 0 && strcmp(p->windows[i].queue, d->id) == 0)
            return &p->windows[i].wait;
    }
    if (d->window)
        return NULL; /* a window's queue of a window not reported */
    for (size_t i = 0; i < p->n_halls; i++) {
        if (strcmp(p->halls[i].id, d->hall) == 0) {
            p->halls[i].has_queue = true;
            return &p->halls[i].wait;
        }
    }
    return NULL;
}

/* The first failure of a source is kept. */
static bool note_status(struct report_status *acc, const struct report_status *day)
{
    if (day->src == REPORT_SRC_OK)
        return false;
    if (acc->src == REPORT_SRC_OK)
        *acc = *day;
    return true;
}

static int add_env(struct period *p, const struct report_env *e)
{
    struct period_env *pe = NULL;
    for (size_t i = 0; i < p->n_env && !pe; i++) {
        if (strcmp(p->env[i].hall, e->hall) == 0 && strcmp(p->env[i].metric, e->metric) == 0)
            pe = &p->env[i];
    }
    if (!pe) {
        pe = grow(&p->env, &p->n_env, &p->cap_env, sizeof(*p->env));
        if (!pe)
            return -ENOMEM;
        utf8_copy(pe->hall, sizeof(pe->hall), e->hall);
        utf8_copy(pe->metric, sizeof(pe->metric), e->metric);
    }
    if (e->has_above && (!pe->has_above || e->above < pe->above))
        pe->above = e->above;
    pe->has_above = pe->has_above || e->has_above;
    if (e->has_below && (!pe->has_below || e->below > pe->below))
        pe->below = e->below;
    pe->has_below = pe->has_below || e->has_below;
    pe->covered_s += e->covered_s;
    pe->out_s += e->out_s;
    if (e->has_range) {
        if (!pe->has_range || e->max > pe->max)
            pe->max = e->max;
        if (!pe->has_range || e->min < pe->min)
            pe->min = e->min;
        pe->has_range = true;
    }
    return 0;
}

static void add_pc(struct period *p, const struct report *r, const struct report_pc *pc)
{
    struct period_window *w = find_window(p, pc->hall, pc->window);
    if (!w)
        return;
    bool scan_old = pc->scan_max_age_s > 0 &&
                    (pc->last_scan <= 0 || r->until - pc->last_scan > pc->scan_max_age_s);
    bool sig_old = pc->sig_max_age_s > 0 &&
                   (pc->sig_updated <= 0 || r->until - pc->sig_updated > pc->sig_max_age_s);
    w->pc_days++;
    w->scan_overdue_days += scan_old;
    w->sig_old_days += sig_old;
    w->threat_events += pc->threat_events;
    w->usb_events += pc->usb_events;
    w->pc_days_ok += !scan_old && !sig_old && pc->threat_events == 0;
}

static void add_poweroffs(struct period *p, const struct report *r)
{
    for (size_t i = 0; i < p->n_windows; i++) {
        struct period_window *w = &p->windows[i];
        bool any = false, failed = false;
        for (size_t k = 0; k < r->n_poweroffs; k++) {
            const struct report_poweroff *po = &r->poweroffs[k];
            if (po->records == 0 || strcmp(po->hall, w->hall) != 0 ||
                strcmp(po->window, w->id) != 0)
                continue;
            any = true;
            failed = failed || po->failures > 0;
        }
        w->nights += any;
        w->nights_ok += any && !failed;
    }
}

int report_period_add_day(struct period *p, const struct config *cfg, const struct report *r)
{
    (void)cfg;
    int32_t i = report_local_day(r->day_start) - p->first_day;
    if (i < 0 || i >= p->n_days || i >= PERIOD_DAYS_MAX)
        return 0;
    p->days_done++;
    p->day_open[i] = r->opening_hours[0] != '\0';
    p->open_days += p->day_open[i];
    utf8_copy(p->day_hours[i], sizeof(p->day_hours[i]), r->opening_hours);
    bool bad = note_status(&p->store, &r->store);
    bad = note_status(&p->staffing, &r->staffing) || bad;
    bad = note_status(&p->environment, &r->environment) || bad;
    bad = note_status(&p->poweroff, &r->poweroff) || bad;
    bad = note_status(&p->av, &r->av) || bad;
    p->days_unread += bad;

    for (size_t k = 0; k < r->n_windows; k++) {
        const struct report_window *rw = &r->windows[k];
        struct period_window *w = find_window(p, rw->hall, rw->id);
        if (!w)
            continue;
        w->scheduled_s += rw->scheduled_s;
        if (r->store.src == REPORT_SRC_OK)
            w->incidents += rw->incidents;
        if (r->staffing.src == REPORT_SRC_OK && rw->has_seat) {
            w->open_s += rw->open_s;
            w->staffed_s += rw->staffed_s;
            w->day_open_s[i] = rw->open_s;
            w->day_staffed_s[i] = rw->staffed_s;
            w->day_known[i] = true;
        }
    }
    for (size_t k = 0; k < r->n_env; k++) {
        int rc = add_env(p, &r->env[k]);
        if (rc < 0)
            return rc;
    }
    if (r->av.src == REPORT_SRC_OK && p->day_open[i]) {
        for (size_t k = 0; k < r->n_pcs; k++)
            add_pc(p, r, &r->pcs[k]);
    }
    if (r->poweroff.src == REPORT_SRC_OK)
        add_poweroffs(p, r);
    for (size_t k = 0; k < r->n_alerts; k++) {
        const struct record_alert *a = &r->alerts[k];
        if (strcmp(a->transition, "firing") != 0 && strcmp(a->transition, "acknowledged") != 0 &&
            strcmp(a->transition, "resolved") != 0)
            continue;
        struct record_alert *t = grow(&p->trans, &p->n_trans, &p->cap_trans, sizeof(*p->trans));
        if (!t)
            return -ENOMEM;
        *t = *a;
    }
    return 0;
}

/* ---- alerts --------------------------------------------------------------------------- */

static int trans_cmp(const void *a, const void *b)
{
    const struct record_alert *x = a, *y = b;
    int c = strcmp(x->hall, y->hall);
    if (c == 0)
        c = strcmp(x->alert_id, y->alert_id);
    return c ? c : (x->at > y->at) - (x->at < y->at);
}

static struct period_alerts *alerts_of(struct period *p, const char *hall, const char *severity)
{
    for (size_t i = 0; i < p->n_alerts; i++) {
        if (strcmp(p->alerts[i].hall, hall) == 0 && strcmp(p->alerts[i].severity, severity) == 0)
            return &p->alerts[i];
    }
    struct period_alerts *a = grow(&p->alerts, &p->n_alerts, &p->cap_alerts, sizeof(*p->alerts));
    if (a) {
        utf8_copy(a->hall, sizeof(a->hall), hall);
        utf8_copy(a->severity, sizeof(a->severity), severity);
    }
    return a;
}

static int severity_rank(const char *s)
{
    static const char *const order[] = {"critical", "major", "warning", "info"};
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        if (strcmp(s, order[i]) == 0)
            return (int)i;
    }
    return 99;
}

static int alerts_cmp(const void *a, const void *b)
{
    const struct period_alerts *x = a, *y = b;
    int c = strcmp(x->hall, y->hall);
    if (c == 0)
        c = severity_rank(x->severity) - severity_rank(y->severity);
    return c ? c : strcmp(x->severity, y->severity);
}

int report_period_finish(struct period *p, const struct config *cfg)
{
    if (p->n_trans)
        qsort(p->trans, p->n_trans, sizeof(*p->trans), trans_cmp);
    for (size_t i = 0; i < p->n_trans; i++) {
        const struct record_alert *f = &p->trans[i];
        if (strcmp(f->transition, "firing") != 0)
            continue;
        struct period_alerts *pa = alerts_of(p, f->hall, f->severity);
        if (!pa)
            return -ENOMEM;
        pa->fired++;
        bool acked = false, resolved = false, by_person = false;
        for (size_t k = i + 1; k < p->n_trans && strcmp(p->trans[k].hall, f->hall) == 0 &&
                               strcmp(p->trans[k].alert_id, f->alert_id) == 0;
             k++) {
            const struct record_alert *t = &p->trans[k];
            if (strcmp(t->transition, "firing") == 0)
                break; /* a new occurrence under the same id */
            if (!acked && strcmp(t->transition, "acknowledged") == 0) {
                acked = true;
                pa->acked++;
                pa->ack_sum_s += t->at - f->at;
            } else if (!resolved && strcmp(t->transition, "resolved") == 0) {
                resolved = true;
                by_person = t->by[0] != '\0';
                pa->resolved++;
                pa->resolve_sum_s += t->at - f->at;
            }
        }
        /* a PC's network change: a baseline alert of its PC */
        const struct config_rule *rule = NULL;
        for (size_t k = 0; k < cfg->n_rules && !rule; k++) {
            if (strcmp(cfg->rules[k].name, f->rule) == 0)
                rule = &cfg->rules[k];
        }
        if (!rule || rule->type != RULE_BASELINE || !f->device[0])
            continue;
        for (size_t k = 0; k < p->n_windows; k++) {
            struct period_window *w = &p->windows[k];
            if (strcmp(w->hall, f->hall) == 0 && strcmp(w->pc, f->device) == 0) {
                w->net_changes++;
                w->net_approved += resolved && by_person;
            }
        }
    }
    if (p->n_alerts)
        qsort(p->alerts, p->n_alerts, sizeof(*p->alerts), alerts_cmp);
    return 0;
}
