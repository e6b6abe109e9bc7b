#include "rules.h"

#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

#include "schedule.h"

bool rules_scope_matches(const struct config_rule *r, const struct hm_device *d)
{
    if (r->kinds && !(r->kinds & (1u << d->kind)))
        return false;
    if (r->hall && fnmatch(r->hall, d->hall, 0) != 0)
        return false;
    if (r->devices && fnmatch(r->devices, d->id, 0) != 0)
        return false;
    return true;
}

bool rules_when_matches(const struct config_rule *r, const struct config_schedule *s, wall_s t)
{
    switch (r->when) {
    case WHEN_OPEN:
        return schedule_is_open(s, t);
    case WHEN_CLOSED:
        return !schedule_is_open(s, t);
    case WHEN_ALWAYS:
        break;
    }
    return true;
}

bool rules_is_device_rule(enum rule_type t)
{
    switch (t) {
    case RULE_THRESHOLD:
    case RULE_STALE:
    case RULE_WAIT_TIME:
    case RULE_MAX_AGE:
    case RULE_BASELINE:
    case RULE_MAINTENANCE:
    case RULE_EQUIPMENT_STATUS:
        return true;
    case RULE_UNSTAFFED:
    case RULE_EVENT:
        break;
    }
    return false;
}

/* The value of key in d when a rule may judge it: received live (not only
 * retained). NULL otherwise, with out->unknown set. */
static const struct hm_value *judged(const struct hm_device *d, const char *key,
                                     struct rule_verdict *out)
{
    const struct hm_value *v = hallmodel_value(d, key);
    if (v && !v->retained)
        return v;
    out->unknown = true;
    return NULL;
}

static const struct hm_value *number(const struct hm_device *d, const char *metric,
                                     struct rule_verdict *out)
{
    const struct hm_value *v = judged(d, metric, out);
    if (v && v->type == METRIC_NUMBER)
        return v;
    out->unknown = true;
    return NULL;
}

/* The value as a person reads it: 21.5, true, paper_out. */
static const char *value_text(const struct hm_value *v, char *buf, size_t cap)
{
    if (v->type == METRIC_STRING)
        return v->str;
    if (v->type == METRIC_BOOL)
        return v->b ? "true" : "false";
    snprintf(buf, cap, "%g", v->num);
    return buf;
}

/* `is`: the condition holds while the metric equals the value, of the same
 * type (a string "true" is not true). */
static void eval_is(const struct config_rule *r, const struct hm_device *d,
                    struct rule_verdict *out)
{
    const struct hm_value *v = judged(d, r->metric, out);
    if (!v)
        return;
    switch (r->is_type) {
    case CONFIG_IS_BOOL:
        out->condition = v->type == METRIC_BOOL && v->b == r->is_b;
        break;
    case CONFIG_IS_NUMBER:
        out->condition = v->type == METRIC_NUMBER && v->num == r->is_num;
        break;
    case CONFIG_IS_STRING:
        out->condition = v->type == METRIC_STRING && strcmp(v->str, r->is_str) == 0;
        break;
    case CONFIG_IS_NONE:
        break;
    }
    if (v->type == METRIC_NUMBER) {
        out->has_value = true;
        out->value = v->num;
    }
    char buf[32];
    if (out->condition)
        snprintf(out->summary, sizeof(out->summary), "%s is %.200s", r->metric,
                 value_text(v, buf, sizeof(buf)));
}

static void eval_threshold(const struct config_rule *r, const struct hm_device *d, bool was_active,
                           struct rule_verdict *out)
{
    if (r->is_type != CONFIG_IS_NONE) {
        eval_is(r, d, out);
        return;
    }
    const struct hm_value *v = number(d, r->metric, out);
    if (!v)
        return;
    double x = v->num;
    out->has_value = true;
    out->value = x;
    /* Fires above `above`; once active, stays until it drops below clear_at. */
    if (r->has_above)
        out->condition = was_active ? x > r->clear_at : x > r->above;
    else
        out->condition = was_active ? x < r->clear_at : x < r->below;
    if (out->condition)
        snprintf(out->summary, sizeof(out->summary), "%s %g %c %g", r->metric, x,
                 r->has_above ? '>' : '<', r->has_above ? r->above : r->below);
}

static void eval_stale(const struct config_rule *r, const struct hm_device *d,
                       const struct rules_device_input *in, struct rule_verdict *out)
{
    /* Absence of data is the condition itself: never unknown. */
    mono_ms last = d->last_seen > in->started ? d->last_seen : in->started;
    int64_t silent_ms = in->now - last;
    /* The silence itself is the delay, and an offline status or last will
     * says it at once: either way no further `for`. */
    out->for_ms = 0;
    if (d->avail == AVAIL_OFFLINE) {
        out->condition = true;
        snprintf(out->summary, sizeof(out->summary), "%s reports offline", d->id);
        return;
    }
    out->condition = silent_ms >= r->for_ms;
    out->has_value = true;
    out->value = (double)silent_ms / 1000.0;
    if (out->condition)
        snprintf(out->summary, sizeof(out->summary), "%s silent for %llds", d->id,
                 (long long)(silent_ms / 1000));
}

static void eval_wait_time(const struct config_rule *r, const struct hm_device *d,
                           struct rule_verdict *out)
{
    const struct hm_value *v = number(d, "longest_wait_s", out);
    if (!v)
        return;
    out->has_value = true;
    out->value = v->num;
    out->condition = v->num * 1000.0 > (double)r->max_ms;
    if (out->condition)
        snprintf(out->summary, sizeof(out->summary), "longest wait %.0f min over %lld min",
                 v->num / 60.0, (long long)(r->max_ms / 60000));
}

static void eval_max_age(const struct config_rule *r, const struct hm_device *d,
                         const struct rules_device_input *in, struct rule_verdict *out)
{
    const struct hm_value *v = number(d, r->metric, out);
    if (!v)
        return;
    double age_s = (double)in->wall - v->num;
    out->has_value = true;
    out->value = v->num;
    out->condition = age_s * 1000.0 > (double)r->max_age_ms;
    if (out->condition)
        snprintf(out->summary, sizeof(out->summary), "%s is %.1f days old (max %.1f)", r->metric,
                 age_s / 86400.0, (double)r->max_age_ms / 86400000.0);
}

static void eval_baseline(const struct config_rule *r, const struct hm_device *d,
                          const struct rules_device_input *in, struct rule_verdict *out)
{
    const struct hm_value *v = judged(d, r->metric, out);
    if (!v)
        return;
    if (!in->baseline) {
        out->unknown = true;
        return;
    }
    char buf[32];
    const char *now_val = buf;
    if (v->type == METRIC_STRING)
        now_val = v->str;
    else if (v->type == METRIC_NUMBER)
        snprintf(buf, sizeof(buf), "%.17g", v->num);
    else
        now_val = v->b ? "true" : "false";
    out->condition = strcmp(now_val, in->baseline) != 0;
    if (out->condition)
        snprintf(out->summary, sizeof(out->summary),
                 "%s changed from the approved %.100s to %.100s", r->metric, in->baseline, now_val);
}

/* Judged on the config and the date alone: never unknown. */
static void eval_maintenance(const struct hm_device *d, const struct rules_device_input *in,
                             struct rule_verdict *out)
{
    const struct config_device *cd = in->cd;
    if (!cd || cd->last_service_days < 0 || cd->service_interval_ms <= 0)
        return;
    double due = (double)cd->last_service_days * 86400.0 + (double)cd->service_interval_ms / 1000.0;
    out->has_value = true;
    out->value = due;
    out->condition = (double)in->wall >= due;
    if (!out->condition)
        return;
    time_t due_t = (time_t)due;
    struct tm tm;
    char date[16] = "?";
    if (gmtime_r(&due_t, &tm))
        strftime(date, sizeof(date), "%Y-%m-%d", &tm);
    snprintf(out->summary, sizeof(out->summary), "%s maintenance was due on %s", d->id, date);
}

static void eval_equipment_status(const struct hm_device *d, struct rule_verdict *out)
{
    const struct hm_value *v = judged(d, "status", out);
    if (!v || v->type != METRIC_STRING) {
        out->unknown = true;
        return;
    }
    out->condition = strcmp(v->str, "ok") != 0;
    if (!out->condition)
        return;
    const struct hm_value *fault = hallmodel_value(d, "fault");
    snprintf(out->summary, sizeof(out->summary), "%s status %.60s%s%.100s", d->id, v->str,
             fault && fault->type == METRIC_STRING ? ": " : "",
             fault && fault->type == METRIC_STRING ? fault->str : "");
}

void rules_eval_device(const struct config_rule *r, const struct config_schedule *s,
                       const struct hm_device *d, const struct rules_device_input *in,
                       struct rule_verdict *out)
{
    out->unknown = false;
    out->condition = false;
    out->has_value = false;
    out->value = 0;
    out->summary[0] = '\0';
    out->for_ms = r->for_ms;
    if (!rules_when_matches(r, s, in->wall))
        return;
    switch (r->type) {
    case RULE_THRESHOLD:
        eval_threshold(r, d, in->was_active, out);
        break;
    case RULE_STALE:
        eval_stale(r, d, in, out);
        break;
    case RULE_WAIT_TIME:
        eval_wait_time(r, d, out);
        break;
    case RULE_MAX_AGE:
        eval_max_age(r, d, in, out);
        break;
    case RULE_BASELINE:
        eval_baseline(r, d, in, out);
        break;
    case RULE_MAINTENANCE:
        eval_maintenance(d, in, out);
        break;
    case RULE_EQUIPMENT_STATUS:
        eval_equipment_status(d, out);
        break;
    case RULE_UNSTAFFED:
    case RULE_EVENT:
        break;
    }
}

void rules_eval_unstaffed(const struct config_rule *r, bool expected_staffed, int presence,
                          double waiting, const char *window_name, struct rule_verdict *out)
{
    memset(out, 0, sizeof(*out));
    out->for_ms = r->for_ms;
    if (!expected_staffed || presence > 0)
        return;
    if (presence < 0) {
        out->unknown = true; /* the seat has not reported live */
        return;
    }
    out->condition = true;
    if (waiting > 0) {
        if (r->for_when_waiting_ms >= 0)
            out->for_ms = r->for_when_waiting_ms;
        out->has_value = true;
        out->value = waiting;
        snprintf(out->summary, sizeof(out->summary), "window %s unstaffed, %.0f waiting",
                 window_name, waiting);
    } else {
        snprintf(out->summary, sizeof(out->summary), "window %s unstaffed", window_name);
    }
}

bool rules_event_matches(const struct config_rule *r, const struct reading *rd,
                         struct rule_verdict *out)
{
    memset(out, 0, sizeof(*out));
    if (r->type != RULE_EVENT || rd->cls != MSG_EVENT || strcmp(r->event, rd->event) != 0)
        return false;
    out->condition = true;
    size_t n = (size_t)snprintf(out->summary, sizeof(out->summary), "%s", rd->event);
    for (unsigned i = 0; i < rd->n_metrics && n < sizeof(out->summary); i++) {
        const struct metric *m = &rd->metrics[i];
        if (strcmp(m->key, "type") == 0)
            continue;
        if (m->type == METRIC_STRING)
            n += (size_t)snprintf(out->summary + n, sizeof(out->summary) - n, " %s=%s", m->key,
                                  m->v.str);
        else if (m->type == METRIC_NUMBER)
            n += (size_t)snprintf(out->summary + n, sizeof(out->summary) - n, " %s=%g", m->key,
                                  m->v.num);
    }
    return true;
}
