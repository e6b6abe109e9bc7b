/* The daily inspection record's data: the alert history from the state store
 * and the day's readings from InfluxDB, asked through the client of
 * report_query.c.
 *
 * InfluxDB does the arithmetic, and every question is one whose answer is a
 * few numbers: a reading "holds until the next one" is
 * last(x) GROUP BY time(1s) fill(previous) in a subquery, and the outer
 * count()/sum() of it are seconds. Lists (equipment status by minute,
 * power-off records, PC events) are read in pages. */
#include "report.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json.h"
#include "report_gather.h"
#include "report_query.h"
#include "schedule.h"
#include "store.h"
#include "utf8.h"

#define PERIODS_MAX 48
#define ENV_LOOKBACK_S 900.0         /* a reading this old at opening is still in effect */
#define STATUS_LOOKBACK_S 86400.0    /* the equipment status carried over from yesterday */
#define AV_LOOKBACK_S (30 * 86400.0) /* how far back the last AV values are looked for */

struct period {
    double from, to;
};

/* ---- small helpers ----------------------------------------------------------- */

/* arr (of *cap elements of size) reallocated twice as large; NULL (arr
 * unchanged) when memory runs out. */
static void *grow_array(void *arr, size_t *cap, size_t size)
{
    size_t nc = *cap ? *cap * 2 : 8;
    void *p = realloc(arr, nc * size);
    if (p)
        *cap = nc;
    return p;
}

/* A new zeroed element at the end of g->r->arr, or NULL when out of memory. */
#define PUSH(g, arr, n, cap)                                                                       \
    ((g)->r->n < (g)->cap ||                                                                       \
             (((g)->grown = grow_array((g)->r->arr, &(g)->cap, sizeof(*(g)->r->arr))) != NULL &&   \
              ((g)->r->arr = (g)->grown) != NULL)                                                  \
         ? memset(&(g)->r->arr[(g)->r->n++], 0, sizeof(*(g)->r->arr))                              \
         : NULL)

static void set_status(struct report_status *st, enum report_source src, const char *why)
{
    st->src = src;
    utf8_copy(st->why, sizeof(st->why), why ? why : "");
}

void report_day_bounds(int32_t day, double *start, double *end)
{
    time_t d = (time_t)day * 86400;
    struct tm tm;
    gmtime_r(&d, &tm);
    tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
    tm.tm_isdst = -1;
    *start = (double)mktime(&tm);
    tm.tm_mday++;
    tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
    tm.tm_isdst = -1;
    *end = (double)mktime(&tm);
}

/* The stretches of [from, to) in which the hall is open (window: false) or
 * window-expected with lunch_duty (window: true), adjacent ones merged. */
static size_t day_periods(const struct config_schedule *s, double from, double to, bool window,
                          bool lunch_duty, struct period *out, size_t max)
{
    size_t n = 0;
    time_t t = (time_t)from;
    while ((double)t < to && n < max) {
        bool on = window ? schedule_window_expected(s, t, lunch_duty) : schedule_is_open(s, t);
        time_t next = schedule_next_transition(s, t, lunch_duty);
        double end = next == 0 || (double)next > to ? to : (double)next;
        if (on && end > (double)t) {
            if (n > 0 && out[n - 1].to >= (double)t)
                out[n - 1].to = end;
            else
                out[n++] = (struct period){(double)t, end};
        }
        if (next == 0 || (double)next >= to || next <= t)
            break;
        t = next;
    }
    return n;
}

static void fmt_hhmm(double t, double day_end, char *buf, size_t size)
{
    if (t >= day_end) {
        snprintf(buf, size, "24:00");
        return;
    }
    time_t tt = (time_t)t;
    struct tm tm;
    localtime_r(&tt, &tm);
    if (tm.tm_sec)
        snprintf(buf, size, "%02d:%02d:%02d", tm.tm_hour, tm.tm_min, tm.tm_sec);
    else
        snprintf(buf, size, "%02d:%02d", tm.tm_hour, tm.tm_min);
}

/* ---- the halls ------------------------------------------------------------------ */

static bool hall_reported(const struct report *r, const char *hall)
{
    for (size_t i = 0; i < r->n_halls; i++) {
        if (strcmp(r->halls[i].id, hall) == 0)
            return true;
    }
    return false;
}

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

/* ---- the alert history (SQLite) -------------------------------------------------- */

static int read_history(struct gather *g, const char *hall_id)
{
    struct report *r = g->r;
    char db[1024];
    const char *why = NULL;
    struct store *st = NULL;
    snprintf(db, sizeof(db), "%s/hallgw.db", g->cfg->gateway.state_dir);
    if (store_open(db, true, &st, &why) < 0) {
        char msg[REPORT_TEXT_MAX];
        snprintf(msg, sizeof(msg), "cannot open %.120s: %.100s", db, why ? why : "unknown error");
        set_status(&r->store, REPORT_SRC_UNREADABLE, msg);
        return 0;
    }
    int rc = store_history(st, r->day_start, r->day_end, hall_id, 0, &r->alerts, &r->n_alerts);
    if (rc < 0) {
        char msg[REPORT_TEXT_MAX];
        snprintf(msg, sizeof(msg), "cannot read the alert history in %.100s: %.120s", db,
                 store_last_error(st));
        set_status(&r->store, REPORT_SRC_UNREADABLE, msg);
        r->alerts = NULL;
        r->n_alerts = 0;
    } else {
        set_status(&r->store, REPORT_SRC_OK, NULL);
    }
    store_close(st);
    return rc == -ENOMEM ? rc : 0;
}

/* Unstaffed incidents and equipment alerts, from the history. */
static int sort_history(struct gather *g)
{
    struct report *r = g->r;
    for (size_t i = 0; i < r->n_alerts; i++) {
        const struct record_alert *h = &r->alerts[i];
        if (is_unstaffed_rule(g->cfg, h->rule)) {
            if (strcmp(h->transition, "firing") == 0) {
                struct report_incident *in = PUSH(g, incidents, n_incidents, cap_incidents);
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
        const struct config_device *d = h->device[0] ? config_find_device(g->cfg, h->device) : NULL;
        const struct config_rule *rule = find_rule(g->cfg, h->rule);
        if ((d && d->kind == KIND_EQUIPMENT) ||
            (rule && (rule->type == RULE_EQUIPMENT_STATUS || rule->type == RULE_MAINTENANCE))) {
            struct record_alert *e = PUSH(g, equipment_alerts, n_equipment_alerts, cap_eq_alerts);
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

/* ---- section 2: staffing --------------------------------------------------------- */

static int staffing_of(struct gather *g, struct report_window *w, const struct period *p, size_t np)
{
    char hall[160], win[160], stmt[REPORT_STMT_MAX];
    report_ql_quote(hall, sizeof(hall), w->hall, '\'');
    report_ql_quote(win, sizeof(win), w->id, '\'');
    for (size_t i = 0; i < np; i++) {
        snprintf(stmt, sizeof(stmt),
                 "SELECT count(m) AS open, sum(m) AS staffed FROM (SELECT last(\"staffed_open\") "
                 "AS m FROM \"window\" WHERE \"hall\" = %s AND \"window\" = %s AND time >= %lldms "
                 "AND time < %lldms GROUP BY time(1s) fill(previous))",
                 hall, win, report_ql_ms(p[i].from), report_ql_ms(p[i].to));
        struct json_table t;
        int rc = report_iq(g, stmt, &t);
        if (rc < 0)
            return rc;
        double v;
        if (report_num_of(&t, 0, "open", &v))
            w->open_s += v;
        if (report_num_of(&t, 0, "staffed", &v))
            w->staffed_s += v;
        json_table_free(&t);
    }
    return 0;
}

/* The windows from the config and their scheduled time, whatever InfluxDB
 * says. */
static int list_windows(struct gather *g)
{
    struct report *r = g->r;
    struct period p[PERIODS_MAX];
    for (size_t i = 0; i < g->cfg->n_halls; i++) {
        const struct config_hall *h = &g->cfg->halls[i];
        if (!hall_reported(r, h->id))
            continue;
        for (size_t k = 0; k < h->n_windows; k++) {
            const struct config_window *cw = &h->windows[k];
            struct report_window *w = PUSH(g, windows, n_windows, cap_windows);
            if (!w)
                return -ENOMEM;
            utf8_copy(w->hall, sizeof(w->hall), h->id);
            utf8_copy(w->id, sizeof(w->id), cw->id);
            utf8_copy(w->name, sizeof(w->name), cw->name ? cw->name : cw->id);
            w->has_seat = cw->seat != NULL;
            w->lunch_duty = cw->lunch_duty;
            size_t np = day_periods(&g->cfg->schedule, g->d0, g->until, true, w->lunch_duty, p,
                                    PERIODS_MAX);
            for (size_t j = 0; j < np; j++)
                w->scheduled_s += p[j].to - p[j].from;
        }
    }
    return 0;
}

static int gather_staffing(struct gather *g)
{
    struct report *r = g->r;
    struct period p[PERIODS_MAX];
    for (size_t i = 0; i < r->n_windows; i++) {
        struct report_window *w = &r->windows[i];
        if (!w->has_seat)
            continue;
        size_t np =
            day_periods(&g->cfg->schedule, g->d0, g->until, true, w->lunch_duty, p, PERIODS_MAX);
        int rc = staffing_of(g, w, p, np);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* ---- section 3: environment ------------------------------------------------------ */

static bool rule_covers(const struct config_rule *rule, const struct config_device *d)
{
    if (!rule->enabled || rule->type != RULE_THRESHOLD || !rule->metric)
        return false;
    if (rule->kinds && !(rule->kinds & (1u << KIND_ENV)))
        return false;
    if (rule->hall && fnmatch(rule->hall, d->hall, 0) != 0)
        return false;
    return !rule->devices || fnmatch(rule->devices, d->id, 0) == 0;
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

static int env_period(struct gather *g, struct report_env *e, const struct period *p)
{
    char dev[160], field[160], cond[128] = "", stmt[REPORT_STMT_MAX];
    report_ql_quote(dev, sizeof(dev), e->device, '\'');
    report_ql_quote(field, sizeof(field), e->metric, '"');
    if (e->has_above && e->has_below)
        snprintf(cond, sizeof(cond), "m > %.17g OR m < %.17g", e->above, e->below);
    else if (e->has_above)
        snprintf(cond, sizeof(cond), "m > %.17g", e->above);
    else
        snprintf(cond, sizeof(cond), "m < %.17g", e->below);
    long long a = report_ql_ms(p->from), b = report_ql_ms(p->to);
    char sub[1024];
    snprintf(sub, sizeof(sub),
             "SELECT last(%s) AS m FROM \"env\" WHERE \"device\" = %s AND time >= %lldms AND "
             "time < %lldms GROUP BY time(1s) fill(previous)",
             field, dev, a, b);
    snprintf(stmt, sizeof(stmt),
             "SELECT count(m) AS n FROM (%s) WHERE %s; SELECT count(m) AS n FROM (%s); "
             "SELECT max(%s) AS hi, min(%s) AS lo FROM \"env\" WHERE \"device\" = %s AND "
             "time >= %lldms AND time < %lldms; "
             "SELECT first(%s) AS v FROM \"env\" WHERE \"device\" = %s AND time >= %lldms AND "
             "time < %lldms; "
             "SELECT last(%s) AS v FROM \"env\" WHERE \"device\" = %s AND time >= %lldms AND "
             "time < %lldms",
             sub, cond, sub, field, field, dev, a, b, field, dev, a, b, field, dev,
             report_ql_ms(p->from - ENV_LOOKBACK_S), a);
    struct json_table t;
    int rc = report_iq(g, stmt, &t);
    if (rc < 0)
        return rc;
    double v, hi, lo, first_at = p->to, before;
    if (report_num_of(&t, 0, "n", &v))
        e->out_s += v;
    if (report_num_of(&t, 1, "n", &v))
        e->covered_s += v;
    if (report_num_of(&t, 2, "hi", &hi) && report_num_of(&t, 2, "lo", &lo)) {
        range_add(e, hi);
        range_add(e, lo);
    }
    if (report_num_of(&t, 3, "time", &v))
        first_at = v / 1000.0;
    /* The reading in effect at opening holds until the first one after it. */
    if (report_num_of(&t, 4, "v", &before) && first_at > p->from) {
        e->covered_s += first_at - p->from;
        if (out_of_range(e, before))
            e->out_s += first_at - p->from;
        range_add(e, before);
    }
    json_table_free(&t);
    return 0;
}

static int env_row(struct gather *g, const struct config_device *d, const char *metric,
                   const struct period *p, size_t np)
{
    struct report_env e = {0};
    utf8_copy(e.hall, sizeof(e.hall), d->hall);
    utf8_copy(e.device, sizeof(e.device), d->id);
    utf8_copy(e.metric, sizeof(e.metric), metric);
    for (size_t i = 0; i < g->cfg->n_rules; i++) {
        const struct config_rule *rule = &g->cfg->rules[i];
        if (!rule_covers(rule, d) || strcmp(rule->metric, metric) != 0)
            continue;
        if (rule->has_above && (!e.has_above || rule->above < e.above))
            e.above = rule->above, e.has_above = true;
        if (rule->has_below && (!e.has_below || rule->below > e.below))
            e.below = rule->below, e.has_below = true;
        size_t l = strlen(e.rules);
        snprintf(e.rules + l, sizeof(e.rules) - l, "%s%s", l ? ", " : "", rule->name);
    }
    if (!e.has_above && !e.has_below)
        return 0;
    for (size_t i = 0; i < np; i++) {
        int rc = env_period(g, &e, &p[i]);
        if (rc < 0)
            return rc;
    }
    if (e.covered_s <= 0 && !e.has_range)
        return 0; /* this device does not measure this metric */
    struct report_env *slot = PUSH(g, env, n_env, cap_env);
    if (!slot)
        return -ENOMEM;
    *slot = e;
    return 0;
}

static int gather_environment(struct gather *g)
{
    const struct config *cfg = g->cfg;
    struct period p[PERIODS_MAX];
    size_t np = day_periods(&cfg->schedule, g->d0, g->until, false, false, p, PERIODS_MAX);
    for (size_t i = 0; i < cfg->n_devices; i++) {
        const struct config_device *d = &cfg->devices[i];
        if (d->kind != KIND_ENV || !hall_reported(g->r, d->hall))
            continue;
        /* Each metric once, in the order of the rules. */
        for (size_t k = 0; k < cfg->n_rules; k++) {
            const struct config_rule *rule = &cfg->rules[k];
            if (!rule_covers(rule, d))
                continue;
            bool seen = false;
            for (size_t j = 0; j < k && !seen; j++)
                seen = rule_covers(&cfg->rules[j], d) &&
                       strcmp(cfg->rules[j].metric, rule->metric) == 0;
            if (seen)
                continue;
            int rc = env_row(g, d, rule->metric, p, np);
            if (rc < 0)
                return rc;
        }
    }
    return 0;
}

/* ---- section 4: equipment -------------------------------------------------------- */

struct fault_scan {
    const struct config_device *d;
    char status[REPORT_TEXT_MAX]; /* the status in effect; "" unknown */
    double since;
};

static bool status_ok(const char *s)
{
    return !s[0] || strcmp(s, "ok") == 0;
}

static int fault_step(struct gather *g, struct fault_scan *fs, const char *status, double at)
{
    if (strcmp(status, fs->status) == 0)
        return 0;
    if (!status_ok(fs->status)) {
        struct report_fault *f = PUSH(g, faults, n_faults, cap_faults);
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

static int fault_row(struct gather *g, const struct json_series *s, size_t row, void *arg)
{
    struct fault_scan *fs = arg;
    if (!s)
        return 0;
    const struct json_cell *t = json_series_cell(s, row, "time");
    const struct json_cell *v = json_series_cell(s, row, "s");
    if (!t || t->type != JSON_T_NUMBER || !v || v->type != JSON_T_STRING)
        return 0;
    return fault_step(g, fs, v->str, t->num / 1000.0);
}

static int equipment_of(struct gather *g, const struct config_device *d)
{
    char dev[160], stmt[REPORT_STMT_MAX];
    report_ql_quote(dev, sizeof(dev), d->id, '\'');
    long long d0 = report_ql_ms(g->d0), u = report_ql_ms(g->until);
    snprintf(stmt, sizeof(stmt),
             "SELECT last(\"status\") AS s FROM \"equipment\" WHERE \"device\" = %s AND "
             "time >= %lldms AND time < %lldms; SELECT count(\"status\") AS n FROM \"equipment\" "
             "WHERE \"device\" = %s AND \"status\" != 'ok' AND time >= %lldms AND time < %lldms",
             dev, report_ql_ms(g->d0 - STATUS_LOOKBACK_S), d0, dev, d0, u);
    struct json_table t;
    int rc = report_iq(g, stmt, &t);
    if (rc < 0)
        return rc;
    struct fault_scan fs = {.d = d, .since = g->d0};
    const struct json_series *s0 = json_table_find(&t, 0);
    const struct json_cell *c = s0 ? json_series_cell(s0, 0, "s") : NULL;
    if (c && c->type == JSON_T_STRING)
        utf8_copy(fs.status, sizeof(fs.status), c->str);
    double bad = 0;
    report_num_of(&t, 1, "n", &bad);
    json_table_free(&t);
    if (bad <= 0 && status_ok(fs.status))
        return 0;
    /* Minute by minute: the last status of each minute holds until the next. */
    snprintf(stmt, sizeof(stmt),
             "SELECT last(\"status\") AS s FROM \"equipment\" WHERE \"device\" = %s AND "
             "time >= %lldms AND time < %lldms GROUP BY time(1m) fill(none)",
             dev, d0, u);
    rc = report_paged(g, stmt, 24, fault_row, &fs);
    if (rc < 0)
        return rc;
    if (!status_ok(fs.status)) {
        rc = fault_step(g, &fs, "ok", g->until);
        if (rc == 0)
            g->r->faults[g->r->n_faults - 1].ongoing = true;
    }
    return rc;
}

static int gather_equipment(struct gather *g)
{
    for (size_t i = 0; i < g->cfg->n_devices; i++) {
        const struct config_device *d = &g->cfg->devices[i];
        if (d->kind != KIND_EQUIPMENT || !hall_reported(g->r, d->hall))
            continue;
        int rc = equipment_of(g, d);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* ---- section 5: power-off -------------------------------------------------------- */

static int poweroff_row(struct gather *g, const struct json_series *s, size_t row, void *arg)
{
    (void)g;
    struct report_poweroff *p = arg;
    p->records++;
    if (!s)
        return 0;
    const struct json_cell *t = json_series_cell(s, row, "time");
    const struct json_cell *step = json_series_cell(s, row, "step");
    const struct json_cell *ok = json_series_cell(s, row, "ok");
    int okv = -1;
    if (ok && ok->type == JSON_T_BOOL)
        okv = ok->b;
    else if (ok && ok->type == JSON_T_NUMBER)
        okv = ok->num != 0;
    if (okv == 0)
        p->failures++;
    p->last_ok = okv;
    if (t && t->type == JSON_T_NUMBER)
        p->last_at = t->num / 1000.0;
    if (step && step->type == JSON_T_STRING)
        utf8_copy(p->last_step, sizeof(p->last_step), step->str);
    else if (step && step->type == JSON_T_NUMBER)
        snprintf(p->last_step, sizeof(p->last_step), "%g", step->num);
    else
        p->last_step[0] = '\0';
    return 0;
}

static int gather_poweroff(struct gather *g)
{
    char stmt[REPORT_STMT_MAX];
    long long d0 = report_ql_ms(g->d0), u = report_ql_ms(g->until);
    snprintf(stmt, sizeof(stmt),
             "SELECT count(\"ok\") AS n FROM \"poweroff\" WHERE time >= %lldms AND time < %lldms",
             d0, u);
    struct json_table t;
    int rc = report_iq(g, stmt, &t);
    if (rc < 0)
        return rc;
    double n = 0;
    report_num_of(&t, 0, "n", &n);
    json_table_free(&t);
    if (n <= 0)
        return 0; /* no records that day: the report says so */
    for (size_t i = 0; i < g->cfg->n_devices; i++) {
        const struct config_device *d = &g->cfg->devices[i];
        if ((d->kind != KIND_PC && d->kind != KIND_PLUG) || !hall_reported(g->r, d->hall))
            continue;
        struct report_poweroff *p = PUSH(g, poweroffs, n_poweroffs, cap_poweroffs);
        if (!p)
            return -ENOMEM;
        utf8_copy(p->hall, sizeof(p->hall), d->hall);
        utf8_copy(p->device, sizeof(p->device), d->id);
        utf8_copy(p->window, sizeof(p->window), d->window ? d->window : "");
        utf8_copy(p->kind, sizeof(p->kind), config_kind_name(d->kind));
        p->last_ok = -1;
        char dev[160];
        report_ql_quote(dev, sizeof(dev), d->id, '\'');
        snprintf(stmt, sizeof(stmt),
                 "SELECT \"step\", \"ok\" FROM \"poweroff\" WHERE \"device\" = %s AND "
                 "time >= %lldms AND time < %lldms",
                 dev, d0, u);
        rc = report_paged(g, stmt, 16, poweroff_row, p);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* ---- section 6: antivirus and USB storage ---------------------------------------- */

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

struct event_scan {
    const struct config_device *d;
};

static void append_detail(char *buf, size_t size, const struct json_series *s, size_t row,
                          const char *col, const char *label)
{
    const struct json_cell *c = json_series_cell(s, row, col);
    if (!c || c->type == JSON_T_NULL)
        return;
    size_t l = strlen(buf);
    if (c->type == JSON_T_STRING)
        snprintf(buf + l, size - l, "%s%s%s", l ? ", " : "", label, c->str);
    else if (c->type == JSON_T_NUMBER)
        snprintf(buf + l, size - l, "%s%s%g", l ? ", " : "", label, c->num);
}

static int event_row(struct gather *g, const struct json_series *s, size_t row, void *arg)
{
    struct event_scan *es = arg;
    struct report_event *e = PUSH(g, events, n_events, cap_events);
    if (!e)
        return -ENOMEM;
    utf8_copy(e->hall, sizeof(e->hall), es->d->hall);
    utf8_copy(e->device, sizeof(e->device), es->d->id);
    if (!s) {
        utf8_copy(e->detail, sizeof(e->detail), "(too long to read)");
        return 0;
    }
    const struct json_cell *t = json_series_cell(s, row, "time");
    const struct json_cell *type = json_series_cell(s, row, "type");
    if (t && t->type == JSON_T_NUMBER)
        e->at = t->num / 1000.0;
    if (type && type->type == JSON_T_STRING)
        utf8_copy(e->type, sizeof(e->type), type->str);
    append_detail(e->detail, sizeof(e->detail), s, row, "vendor", "");
    append_detail(e->detail, sizeof(e->detail), s, row, "model", "");
    append_detail(e->detail, sizeof(e->detail), s, row, "serial", "serial ");
    append_detail(e->detail, sizeof(e->detail), s, row, "signature", "");
    append_detail(e->detail, sizeof(e->detail), s, row, "path", "");
    return 0;
}

static int pc_of(struct gather *g, const struct config_device *d)
{
    struct report_pc *pc = PUSH(g, pcs, n_pcs, cap_pcs);
    if (!pc)
        return -ENOMEM;
    utf8_copy(pc->hall, sizeof(pc->hall), d->hall);
    utf8_copy(pc->device, sizeof(pc->device), d->id);
    utf8_copy(pc->window, sizeof(pc->window), d->window ? d->window : "");
    pc->scan_max_age_s = rule_max_age_s(g->cfg, "av_last_scan");
    pc->sig_max_age_s = rule_max_age_s(g->cfg, "av_sig_updated");
    pc->av_threats = -1;

    char dev[160], stmt[REPORT_STMT_MAX];
    report_ql_quote(dev, sizeof(dev), d->id, '\'');
    long long d0 = report_ql_ms(g->d0), u = report_ql_ms(g->until),
              back = report_ql_ms(g->until - AV_LOOKBACK_S);
    snprintf(stmt, sizeof(stmt),
             "SELECT last(\"av_last_scan\") AS v FROM \"pc\" WHERE \"device\" = %s AND "
             "time >= %lldms AND time < %lldms; "
             "SELECT last(\"av_sig_updated\") AS v FROM \"pc\" WHERE \"device\" = %s AND "
             "time >= %lldms AND time < %lldms; "
             "SELECT last(\"av_threats\") AS v FROM \"pc\" WHERE \"device\" = %s AND "
             "time >= %lldms AND time < %lldms; "
             "SELECT count(\"type\") AS n FROM \"event\" WHERE \"device\" = %s AND "
             "\"type\" = 'threat_detected' AND time >= %lldms AND time < %lldms; "
             "SELECT count(\"type\") AS n FROM \"event\" WHERE \"device\" = %s AND "
             "\"type\" = 'usb_storage_inserted' AND time >= %lldms AND time < %lldms",
             dev, back, u, dev, back, u, dev, back, u, dev, d0, u, dev, d0, u);
    struct json_table t;
    int rc = report_iq(g, stmt, &t);
    if (rc < 0)
        return rc;
    double v;
    if (report_num_of(&t, 0, "v", &v))
        pc->last_scan = v;
    if (report_num_of(&t, 1, "v", &v))
        pc->sig_updated = v;
    if (report_num_of(&t, 2, "v", &v))
        pc->av_threats = v;
    if (report_num_of(&t, 3, "n", &v))
        pc->threat_events = (size_t)v;
    if (report_num_of(&t, 4, "n", &v))
        pc->usb_events = (size_t)v;
    json_table_free(&t);
    if (pc->threat_events + pc->usb_events == 0)
        return 0;
    snprintf(stmt, sizeof(stmt),
             "SELECT \"type\", \"vendor\", \"model\", \"serial\", \"signature\", \"path\" FROM "
             "\"event\" WHERE \"device\" = %s AND (\"type\" = 'threat_detected' OR \"type\" = "
             "'usb_storage_inserted') AND time >= %lldms AND time < %lldms",
             dev, d0, u);
    struct event_scan es = {d};
    return report_paged(g, stmt, 4, event_row, &es);
}

static int gather_av(struct gather *g)
{
    for (size_t i = 0; i < g->cfg->n_devices; i++) {
        const struct config_device *d = &g->cfg->devices[i];
        if (d->kind != KIND_PC || !hall_reported(g->r, d->hall))
            continue;
        int rc = pc_of(g, d);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* ---- the whole ------------------------------------------------------------------- */

/* One question first, so that every section knows whether InfluxDB can be
 * read at all, even those with nothing to ask (a missing database too). */
static int influx_probe(struct gather *g)
{
    struct json_table t;
    int rc = report_iq(g, "SHOW MEASUREMENTS LIMIT 1", &t);
    if (rc == -ENOMEM)
        return rc;
    if (rc < 0 && !g->influx_down) {
        g->influx_down = true;
        utf8_copy(g->influx_why, sizeof(g->influx_why), g->qerr);
    }
    if (rc == 0)
        json_table_free(&t);
    return 0;
}

/* Runs one InfluxDB-backed section and notes how it went. -ENOMEM is
 * returned; any other failure is the section's. */
static int influx_section(struct gather *g, struct report_status *st, int (*fn)(struct gather *))
{
    if (!g->cfg->influx.enabled) {
        set_status(st, REPORT_SRC_DISABLED, "InfluxDB is not configured (no influx block)");
        return 0;
    }
    if (g->influx_down) {
        set_status(st, REPORT_SRC_UNREADABLE, g->influx_why);
        return 0;
    }
    g->qerr[0] = '\0';
    int rc = fn(g);
    if (rc == -ENOMEM)
        return rc;
    if (rc < 0)
        set_status(st, REPORT_SRC_UNREADABLE, g->qerr[0] ? g->qerr : strerror(-rc));
    else
        set_status(st, REPORT_SRC_OK, NULL);
    return 0;
}

static int opening_hours(struct gather *g)
{
    struct report *r = g->r;
    struct period p[PERIODS_MAX];
    size_t np =
        day_periods(&g->cfg->schedule, r->day_start, r->day_end, false, false, p, PERIODS_MAX);
    size_t l = 0;
    r->opening_hours[0] = '\0';
    for (size_t i = 0; i < np && l < sizeof(r->opening_hours); i++) {
        char a[16], b[16];
        fmt_hhmm(p[i].from, r->day_end, a, sizeof(a));
        fmt_hhmm(p[i].to, r->day_end, b, sizeof(b));
        l += (size_t)snprintf(r->opening_hours + l, sizeof(r->opening_hours) - l, "%s%s-%s",
                              i ? ", " : "", a, b);
    }
    return 0;
}

int report_gather(const struct config *cfg, const char *hall_id, int32_t day, double now,
                  struct report *out)
{
    memset(out, 0, sizeof(*out));
    struct gather g = {.cfg = cfg, .r = out};
    struct report *r = out;
    int rc = -ENOMEM;

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
    g.d0 = r->day_start;
    g.until = r->until;
    opening_hours(&g);

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

    if ((rc = read_history(&g, hall_id)) < 0 || (rc = list_windows(&g)) < 0)
        return rc;
    if (cfg->influx.enabled && ((rc = report_influx_open(&g)) < 0 || (rc = influx_probe(&g)) < 0))
        goto out_close;
    if ((rc = influx_section(&g, &r->staffing, gather_staffing)) < 0 ||
        (rc = sort_history(&g)) < 0 ||
        (rc = influx_section(&g, &r->environment, gather_environment)) < 0 ||
        (rc = influx_section(&g, &r->equipment, gather_equipment)) < 0 ||
        (rc = influx_section(&g, &r->poweroff, gather_poweroff)) < 0 ||
        (rc = influx_section(&g, &r->av, gather_av)) < 0)
        goto out_close;

    bool any = r->store.src == REPORT_SRC_OK;
    const struct report_status *st[] = {&r->staffing, &r->environment, &r->equipment, &r->poweroff,
                                        &r->av};
    for (size_t i = 0; i < sizeof(st) / sizeof(st[0]); i++)
        any = any || st[i]->src == REPORT_SRC_OK;
    rc = any ? 0 : -EIO;

out_close:
    report_influx_close(&g);
    return rc;
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
    memset(r, 0, sizeof(*r));
}
