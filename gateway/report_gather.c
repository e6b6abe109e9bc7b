/* The daily inspection record's data read from its sources: the alert
 * history from the state store and the day's readings from InfluxDB, asked
 * through the client of report_query.c. The figures are made by the pure
 * functions of core/report_data.c.
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

#define ENV_LOOKBACK_S 900.0         /* a reading this old at opening is still in effect */
#define STATUS_LOOKBACK_S 86400.0    /* the equipment status carried over from yesterday */
#define AV_LOOKBACK_S (30 * 86400.0) /* how far back the last AV values are looked for */

/* ---- the alert history (SQLite) -------------------------------------------------- */

/* Section 8: the day's audit log (sign-ins only counted) and silences. */
static int read_people(struct report *r, struct store *st)
{
    struct record_audit *v = NULL;
    size_t n = 0, kept = 0;
    int rc = store_audit(st, r->day_start, r->day_end, 0, &v, &n);
    if (rc == 0)
        rc = store_silences(st, r->day_start, r->day_end, &r->silences, &r->n_silences);
    if (rc < 0) {
        free(v);
        report_set_status(&r->store, REPORT_SRC_UNREADABLE, store_last_error(st));
        return rc;
    }
    for (size_t i = 0; i < n; i++) {
        if (strcmp(v[i].action, "sign-in") == 0) {
            r->sign_ins++;
            r->sign_ins_failed += !v[i].ok;
        } else if (strcmp(v[i].action, "sign-out") != 0) {
            v[kept++] = v[i];
        }
    }
    r->actions = v;
    r->n_actions = kept;
    return 0;
}

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
        report_set_status(&r->store, REPORT_SRC_UNREADABLE, msg);
        return 0;
    }
    int rc = store_history(st, r->day_start, r->day_end, hall_id, 0, &r->alerts, &r->n_alerts);
    if (rc < 0) {
        char msg[REPORT_TEXT_MAX];
        snprintf(msg, sizeof(msg), "cannot read the alert history in %.100s: %.120s", db,
                 store_last_error(st));
        report_set_status(&r->store, REPORT_SRC_UNREADABLE, msg);
        r->alerts = NULL;
        r->n_alerts = 0;
    } else {
        report_set_status(&r->store, REPORT_SRC_OK, NULL);
        rc = read_people(r, st);
    }
    store_close(st);
    return rc == -ENOMEM ? rc : 0;
}

/* ---- section 2: staffing --------------------------------------------------------- */

static int staffing_of(struct gather *g, struct report_window *w, const struct report_period *p,
                       size_t np)
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

static int gather_staffing(struct gather *g)
{
    struct report *r = g->r;
    struct report_period p[REPORT_PERIODS_MAX];
    for (size_t i = 0; i < r->n_windows; i++) {
        struct report_window *w = &r->windows[i];
        if (!w->has_seat)
            continue;
        size_t np = report_periods(&g->cfg->schedule, g->r->day_start, g->r->until, true,
                                   w->lunch_duty, p, REPORT_PERIODS_MAX);
        int rc = staffing_of(g, w, p, np);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* ---- section 3: environment ------------------------------------------------------ */

static int env_period(struct gather *g, struct report_env *e, const struct report_period *p)
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
    struct report_env_period ep = {.from = p->from, .first_at = p->to};
    double v;
    report_num_of(&t, 0, "n", &ep.out_s);
    report_num_of(&t, 1, "n", &ep.covered_s);
    ep.has_hi_lo = report_num_of(&t, 2, "hi", &ep.hi) && report_num_of(&t, 2, "lo", &ep.lo);
    if (report_num_of(&t, 3, "time", &v))
        ep.first_at = v / 1000.0;
    ep.has_before = report_num_of(&t, 4, "v", &ep.before);
    json_table_free(&t);
    report_env_add(e, &ep);
    return 0;
}

static int env_row(struct gather *g, const struct config_device *d, const char *metric,
                   const struct report_period *p, size_t np)
{
    struct report_env e;
    if (!report_env_begin(&e, g->cfg, d, metric))
        return 0;
    for (size_t i = 0; i < np; i++) {
        int rc = env_period(g, &e, &p[i]);
        if (rc < 0)
            return rc;
    }
    return report_env_push(g->r, &e);
}

static int gather_environment(struct gather *g)
{
    const struct config *cfg = g->cfg;
    struct report_period p[REPORT_PERIODS_MAX];
    size_t np = report_periods(&cfg->schedule, g->r->day_start, g->r->until, false, false, p,
                               REPORT_PERIODS_MAX);
    for (size_t i = 0; i < cfg->n_devices; i++) {
        const struct config_device *d = &cfg->devices[i];
        if (d->kind != KIND_ENV || !report_hall_reported(g->r, d->hall))
            continue;
        /* Each metric once, in the order of the rules. */
        for (size_t k = 0; k < cfg->n_rules; k++) {
            const struct config_rule *rule = &cfg->rules[k];
            if (!report_env_rule_covers(rule, d))
                continue;
            bool seen = false;
            for (size_t j = 0; j < k && !seen; j++)
                seen = report_env_rule_covers(&cfg->rules[j], d) &&
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

static int fault_row(struct gather *g, const struct json_series *s, size_t row, void *arg)
{
    struct report_fault_scan *fs = arg;
    if (!s)
        return 0;
    const struct json_cell *t = json_series_cell(s, row, "time");
    const struct json_cell *v = json_series_cell(s, row, "s");
    if (!t || t->type != JSON_T_NUMBER || !v || v->type != JSON_T_STRING)
        return 0;
    return report_fault_step(g->r, fs, v->str, t->num / 1000.0);
}

static int equipment_of(struct gather *g, const struct config_device *d)
{
    char dev[160], stmt[REPORT_STMT_MAX];
    report_ql_quote(dev, sizeof(dev), d->id, '\'');
    long long d0 = report_ql_ms(g->r->day_start), u = report_ql_ms(g->r->until);
    snprintf(stmt, sizeof(stmt),
             "SELECT last(\"status\") AS s FROM \"equipment\" WHERE \"device\" = %s AND "
             "time >= %lldms AND time < %lldms; SELECT count(\"status\") AS n FROM \"equipment\" "
             "WHERE \"device\" = %s AND \"status\" != 'ok' AND time >= %lldms AND time < %lldms",
             dev, report_ql_ms(g->r->day_start - STATUS_LOOKBACK_S), d0, dev, d0, u);
    struct json_table t;
    int rc = report_iq(g, stmt, &t);
    if (rc < 0)
        return rc;
    struct report_fault_scan fs;
    const struct json_series *s0 = json_table_find(&t, 0);
    const struct json_cell *c = s0 ? json_series_cell(s0, 0, "s") : NULL;
    report_fault_scan_begin(&fs, d, c && c->type == JSON_T_STRING ? c->str : "", g->r->day_start);
    double bad = 0;
    report_num_of(&t, 1, "n", &bad);
    json_table_free(&t);
    if (bad <= 0 && report_status_ok(fs.status))
        return 0;
    /* Minute by minute: the last status of each minute holds until the next. */
    snprintf(stmt, sizeof(stmt),
             "SELECT last(\"status\") AS s FROM \"equipment\" WHERE \"device\" = %s AND "
             "time >= %lldms AND time < %lldms GROUP BY time(1m) fill(none)",
             dev, d0, u);
    rc = report_paged(g, stmt, 24, fault_row, &fs);
    return rc < 0 ? rc : report_fault_end(g->r, &fs, g->r->until);
}

static int gather_equipment(struct gather *g)
{
    for (size_t i = 0; i < g->cfg->n_devices; i++) {
        const struct config_device *d = &g->cfg->devices[i];
        if (d->kind != KIND_EQUIPMENT || !report_hall_reported(g->r, d->hall))
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
    if (!s) {
        p->records++; /* a row too long to read still counts */
        return 0;
    }
    const struct json_cell *t = json_series_cell(s, row, "time");
    const struct json_cell *step = json_series_cell(s, row, "step");
    const struct json_cell *ok = json_series_cell(s, row, "ok");
    int okv = -1;
    if (ok && ok->type == JSON_T_BOOL)
        okv = ok->b;
    else if (ok && ok->type == JSON_T_NUMBER)
        okv = ok->num != 0;
    char text[REPORT_TEXT_MAX] = "";
    if (step && step->type == JSON_T_STRING)
        utf8_copy(text, sizeof(text), step->str);
    else if (step && step->type == JSON_T_NUMBER)
        snprintf(text, sizeof(text), "%g", step->num);
    report_poweroff_step(p, text, okv, t && t->type == JSON_T_NUMBER ? t->num / 1000.0 : 0);
    return 0;
}

static int gather_poweroff(struct gather *g)
{
    char stmt[REPORT_STMT_MAX];
    long long d0 = report_ql_ms(g->r->day_start), u = report_ql_ms(g->r->until);
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
        if ((d->kind != KIND_PC && d->kind != KIND_PLUG) || !report_hall_reported(g->r, d->hall))
            continue;
        struct report_poweroff *p = report_poweroff_add(g->r, d);
        if (!p)
            return -ENOMEM;
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
    struct report_event *e = report_event_add(g->r, es->d);
    if (!e)
        return -ENOMEM;
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
    struct report_pc *pc = report_pc_add(g->r, g->cfg, d);
    if (!pc)
        return -ENOMEM;

    char dev[160], stmt[REPORT_STMT_MAX];
    report_ql_quote(dev, sizeof(dev), d->id, '\'');
    long long d0 = report_ql_ms(g->r->day_start), u = report_ql_ms(g->r->until),
              back = report_ql_ms(g->r->until - AV_LOOKBACK_S);
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
        if (d->kind != KIND_PC || !report_hall_reported(g->r, d->hall))
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
        report_set_status(st, REPORT_SRC_DISABLED, "InfluxDB is not configured (no influx block)");
        return 0;
    }
    if (g->influx_down) {
        report_set_status(st, REPORT_SRC_UNREADABLE, g->influx_why);
        return 0;
    }
    g->qerr[0] = '\0';
    int rc = fn(g);
    if (rc == -ENOMEM)
        return rc;
    if (rc < 0)
        report_set_status(st, REPORT_SRC_UNREADABLE, g->qerr[0] ? g->qerr : strerror(-rc));
    else
        report_set_status(st, REPORT_SRC_OK, NULL);
    return 0;
}

int report_gather(const struct config *cfg, const char *hall_id, int32_t day, double now,
                  struct report *out)
{
    struct gather g = {.cfg = cfg, .r = out};
    struct report *r = out;
    int rc;

    if ((rc = report_begin(r, cfg, hall_id, day, now)) < 0 || (rc = read_history(&g, hall_id)) < 0)
        return rc;
    if (cfg->influx.enabled && ((rc = report_influx_open(&g)) < 0 || (rc = influx_probe(&g)) < 0))
        goto out_close;
    if ((rc = influx_section(&g, &r->staffing, gather_staffing)) < 0 ||
        (rc = report_sort_history(r, cfg)) < 0 ||
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
