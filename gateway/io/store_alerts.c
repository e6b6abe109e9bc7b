/* The state store: alert transitions, active alerts, their history and the
 * approved baselines. */
#include "store.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

/* ---- Alerts ---------------------------------------------------------------- */

static const char *name_or(const char *name, const char *fallback)
{
    return name ? name : fallback;
}

static int put_alert(struct store *st, const struct alert *a)
{
    int err = 0;
    sqlite3_stmt *s = store_stmt_get(st, STMT_ALERT_PUT, &err);
    struct store_binder b = {s, 0, SQLITE_OK};

    if (!s)
        return err;
    BIND_FIELD(&b, a->id);
    BIND_FIELD(&b, a->rule);
    BIND_FIELD(&b, a->subject);
    BIND_FIELD(&b, a->hall);
    BIND_FIELD(&b, a->device);
    BIND_FIELD(&b, a->window);
    store_bind_str(&b, name_or(config_kind_name(a->kind), "unknown"), SIZE_MAX);
    store_bind_str(&b, name_or(config_severity_name(a->severity), "unknown"), SIZE_MAX);
    store_bind_str(&b, name_or(config_rule_type_name(a->type), "unknown"), SIZE_MAX);
    store_bind_str(&b, alert_state_name(a->state), SIZE_MAX);
    store_bind_int(&b, a->manual_resolve);
    store_bind_double(&b, a->pending_since);
    store_bind_double(&b, a->firing_since);
    store_bind_double(&b, a->acked_at);
    BIND_FIELD(&b, a->acked_by);
    store_bind_double(&b, a->changed_at);
    BIND_FIELD(&b, a->note);
    BIND_FIELD(&b, a->summary);
    store_bind_value(&b, a->has_value, a->value);
    store_bind_double(&b, a->last_notified);
    store_bind_int(&b, a->escalated);
    if (b.rc != SQLITE_OK) {
        err = store_fail(st, b.rc, "bind alert %s", a->id);
        store_stmt_done(s);
        return err;
    }
    return store_stmt_run(st, s, "write alert");
}

static int delete_alert(struct store *st, const struct alert *a)
{
    int err = 0;
    sqlite3_stmt *s = store_stmt_get(st, STMT_ALERT_DELETE, &err);
    struct store_binder b = {s, 0, SQLITE_OK};

    if (!s)
        return err;
    BIND_FIELD(&b, a->id);
    if (b.rc != SQLITE_OK) {
        err = store_fail(st, b.rc, "bind alert %s", a->id);
        store_stmt_done(s);
        return err;
    }
    return store_stmt_run(st, s, "delete alert");
}

static int add_history(struct store *st, const struct alert *a, enum alert_transition t)
{
    int err = 0;
    sqlite3_stmt *s = store_stmt_get(st, STMT_HISTORY_ADD, &err);
    struct store_binder b = {s, 0, SQLITE_OK};
    const char *by = t == AT_ACKNOWLEDGED ? a->acked_by : t == AT_RESOLVED ? a->resolved_by : "";
    size_t by_max = sizeof(a->acked_by);

    if (!s)
        return err;
    BIND_FIELD(&b, a->id);
    BIND_FIELD(&b, a->rule);
    BIND_FIELD(&b, a->subject);
    BIND_FIELD(&b, a->hall);
    BIND_FIELD(&b, a->device);
    BIND_FIELD(&b, a->window);
    store_bind_str(&b, name_or(config_severity_name(a->severity), "unknown"), SIZE_MAX);
    store_bind_str(&b, alert_transition_name(t), SIZE_MAX);
    store_bind_double(&b, a->changed_at);
    store_bind_str(&b, by, by_max);
    store_bind_str(&b, t == AT_FIRING ? "" : a->note, sizeof(a->note));
    BIND_FIELD(&b, a->summary);
    store_bind_value(&b, a->has_value, a->value);
    if (b.rc != SQLITE_OK) {
        err = store_fail(st, b.rc, "bind history of %s", a->id);
        store_stmt_done(s);
        return err;
    }
    return store_stmt_run(st, s, "append history");
}

/* True when transition t of a writes anything. */
static bool recorded(const struct alert *a, enum alert_transition t)
{
    bool keep = a->state == ALERT_FIRING || a->state == ALERT_ACKNOWLEDGED;

    return !(t == AT_PENDING || t == AT_CANCELLED || (t == AT_NONE && !keep));
}

/* The writes of one transition, inside the caller's transaction. */
static int record_one(struct store *st, const struct alert *a, enum alert_transition t)
{
    bool keep = a->state == ALERT_FIRING || a->state == ALERT_ACKNOWLEDGED;
    bool history = t == AT_FIRING || t == AT_ACKNOWLEDGED || t == AT_RESOLVED;
    int err = keep ? put_alert(st, a) : delete_alert(st, a);

    if (err == 0 && history)
        err = add_history(st, a, t);
    return err;
}

int store_record_batch(struct store *st, const struct store_transition *v, size_t n)
{
    size_t todo = 0;
    int err;

    st->err[0] = '\0';
    for (size_t i = 0; i < n; i++)
        todo += recorded(&v[i].alert, v[i].t);
    if (todo == 0)
        return 0;
    if (st->readonly)
        return store_fail_with(st, -EROFS, "record %s of %s: the store is open read-only",
                               alert_transition_name(v[0].t), v[0].alert.id);
    if ((err = store_exec(st, STMT_BEGIN, "begin")) < 0)
        return err;
    for (size_t i = 0; i < n; i++) {
        if (recorded(&v[i].alert, v[i].t) && (err = record_one(st, &v[i].alert, v[i].t)) < 0)
            goto out_rollback;
    }
    if ((err = store_exec(st, STMT_COMMIT, "commit")) < 0)
        goto out_rollback;
    return 0;

out_rollback:
    store_rollback(st);
    return err;
}

int store_record(struct store *st, const struct alert *a, enum alert_transition t)
{
    int err;

    st->err[0] = '\0';
    if (!recorded(a, t))
        return 0;
    if (st->readonly)
        return store_fail_with(st, -EROFS, "record %s of %s: the store is open read-only",
                               alert_transition_name(t), a->id);
    if ((err = store_exec(st, STMT_BEGIN, "begin")) < 0)
        return err;
    if ((err = record_one(st, a, t)) < 0 || (err = store_exec(st, STMT_COMMIT, "commit")) < 0) {
        store_rollback(st);
        return err;
    }
    return 0;
}

static int rule_type_parse(const char *s)
{
    for (int i = 0; i < RULE_TYPE_COUNT; i++) {
        const char *name = config_rule_type_name((enum rule_type)i);
        if (name && strcmp(name, s) == 0)
            return i;
    }
    return -1;
}

/* One row of STMT_ACTIVE into a. */
static int read_alert(struct store *st, sqlite3_stmt *s, struct alert *a)
{
    struct store_reader r = {s, 0};
    char kind[32], severity[32], type[32], state[32];
    int k, sev, ty, sta;

    memset(a, 0, sizeof(*a));
    COL_FIELD(&r, a->id);
    COL_FIELD(&r, a->rule);
    COL_FIELD(&r, a->subject);
    COL_FIELD(&r, a->hall);
    COL_FIELD(&r, a->device);
    COL_FIELD(&r, a->window);
    COL_FIELD(&r, kind);
    COL_FIELD(&r, severity);
    COL_FIELD(&r, type);
    COL_FIELD(&r, state);
    a->manual_resolve = store_col_int(&r) != 0;
    a->pending_since = store_col_double(&r);
    a->firing_since = store_col_double(&r);
    a->acked_at = store_col_double(&r);
    COL_FIELD(&r, a->acked_by);
    a->changed_at = store_col_double(&r);
    COL_FIELD(&r, a->note);
    COL_FIELD(&r, a->summary);
    a->has_value = store_col_value(&r, &a->value);
    a->last_notified = store_col_double(&r);
    a->escalated = store_col_int(&r) != 0;
    a->pending_since_mono = 0;

    /* A kind this build does not know (a downgrade) still comes back. */
    k = config_kind_parse(kind);
    a->kind = k < 0 ? KIND_UNKNOWN : (enum device_kind)k;
    sev = config_severity_parse(severity);
    ty = rule_type_parse(type);
    sta = alert_state_parse(state);
    if (sev < 0 || ty < 0 || (sta != ALERT_FIRING && sta != ALERT_ACKNOWLEDGED))
        return store_fail_with(st, -EPROTO,
                               "alert %s: unknown severity '%s', type '%s' or state '%s'", a->id,
                               severity, type, state);
    a->severity = (enum severity)sev;
    a->type = (enum rule_type)ty;
    a->state = (enum alert_state)sta;
    return 0;
}

static int alert_row(struct store *st, sqlite3_stmt *s, void *row)
{
    return read_alert(st, s, row);
}

int store_load_active(struct store *st, struct alert **out, size_t *n)
{
    int err = 0;
    sqlite3_stmt *s = store_stmt_get(st, STMT_ACTIVE, &err);

    *out = NULL;
    *n = 0;
    st->err[0] = '\0';
    if (!s)
        return err;
    return store_read_rows(st, s, sizeof(**out), alert_row, "load active alerts", (void **)out, n);
}

/* ---- History --------------------------------------------------------------- */

static void read_history(sqlite3_stmt *s, struct record_alert *h)
{
    struct store_reader r = {s, 0};

    memset(h, 0, sizeof(*h));
    COL_FIELD(&r, h->alert_id);
    COL_FIELD(&r, h->rule);
    COL_FIELD(&r, h->subject);
    COL_FIELD(&r, h->hall);
    COL_FIELD(&r, h->device);
    COL_FIELD(&r, h->window);
    COL_FIELD(&r, h->severity);
    COL_FIELD(&r, h->transition);
    h->at = store_col_double(&r);
    COL_FIELD(&r, h->by);
    COL_FIELD(&r, h->note);
    COL_FIELD(&r, h->summary);
    h->has_value = store_col_value(&r, &h->value);
}

static int history_row(struct store *st, sqlite3_stmt *s, void *row)
{
    (void)st;
    read_history(s, row);
    return 0;
}

int store_history(struct store *st, double from, double to, const char *hall, size_t limit,
                  struct record_alert **out, size_t *n)
{
    return store_history_page(st, from, to, hall, 0, limit, out, n);
}

int store_history_page(struct store *st, double from, double to, const char *hall, size_t offset,
                       size_t limit, struct record_alert **out, size_t *n)
{
    int err = 0;
    sqlite3_stmt *s = store_stmt_get(st, hall ? STMT_HISTORY_HALL : STMT_HISTORY, &err);
    struct store_binder b = {s, 0, SQLITE_OK};

    *out = NULL;
    *n = 0;
    st->err[0] = '\0';
    if (!s)
        return err;
    store_bind_double(&b, from != 0 ? from : -INFINITY);
    store_bind_double(&b, to != 0 ? to : INFINITY);
    if (b.rc == SQLITE_OK)
        b.rc = sqlite3_bind_int64(s, 3, limit == 0 || limit > INT64_MAX ? -1 : (int64_t)limit);
    if (hall && b.rc == SQLITE_OK)
        b.rc = sqlite3_bind_text(s, 4, hall, -1, SQLITE_STATIC);
    if (b.rc == SQLITE_OK)
        b.rc = sqlite3_bind_int64(s, 5, offset > INT64_MAX ? INT64_MAX : (int64_t)offset);
    if (b.rc != SQLITE_OK) {
        err = store_fail(st, b.rc, "bind history query");
        goto out_unbind;
    }
    return store_read_rows(st, s, sizeof(**out), history_row, "read history", (void **)out, n);

out_unbind:
    store_stmt_done(s);
    return err;
}

/* ---- Baselines ------------------------------------------------------------- */

int store_baseline_get(struct store *st, const char *device, const char *metric, char *value,
                       size_t size)
{
    int err = 0, rc;
    sqlite3_stmt *s = store_stmt_get(st, STMT_BASELINE_GET, &err);
    struct store_binder b = {s, 0, SQLITE_OK};

    st->err[0] = '\0';
    if (size > 0)
        value[0] = '\0';
    if (!s)
        return err;
    store_bind_str(&b, device, SIZE_MAX);
    store_bind_str(&b, metric, SIZE_MAX);
    if (b.rc != SQLITE_OK) {
        err = store_fail(st, b.rc, "bind baseline query");
        goto out_reset;
    }
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        const char *text = (const char *)sqlite3_column_text(s, 0);
        size_t len = text ? (size_t)sqlite3_column_bytes(s, 0) : 0;

        if (len >= size) {
            err = store_fail_with(st, -ENOSPC, "baseline %s/%s: %zu bytes do not fit in %zu",
                                  device, metric, len, size);
            goto out_reset;
        }
        memcpy(value, text ? text : "", len);
        value[len] = '\0';
    } else if (rc == SQLITE_DONE) {
        err = -ENOENT;
    } else {
        err = store_fail(st, rc, "read baseline %s/%s", device, metric);
    }
out_reset:
    store_stmt_done(s);
    return err;
}

int store_baseline_set(struct store *st, const char *device, const char *metric, const char *value,
                       const char *by, double at)
{
    int err = 0;
    sqlite3_stmt *s;
    struct store_binder b = {NULL, 0, SQLITE_OK};

    st->err[0] = '\0';
    if (!device || !metric || !value)
        return store_fail_with(st, -EINVAL, "baseline: device, metric and value are required");
    if (st->readonly)
        return store_fail_with(st, -EROFS, "baseline %s/%s: the store is open read-only", device,
                               metric);
    if (!(s = store_stmt_get(st, STMT_BASELINE_SET, &err)))
        return err;
    b.stmt = s;
    store_bind_str(&b, device, SIZE_MAX);
    store_bind_str(&b, metric, SIZE_MAX);
    store_bind_str(&b, value, SIZE_MAX);
    store_bind_str(&b, by, SIZE_MAX);
    store_bind_double(&b, at);
    if (b.rc != SQLITE_OK) {
        err = store_fail(st, b.rc, "bind baseline %s/%s", device, metric);
        store_stmt_done(s);
        return err;
    }
    return store_stmt_run(st, s, "write baseline");
}
