/* The state store: power-off overrides with their log, and the power-off log. */
#include "store.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

/* ---- Overrides ------------------------------------------------------------- */

static void read_override(sqlite3_stmt *s, struct record_override *o)
{
    struct store_reader r = {s, 0};

    memset(o, 0, sizeof(*o));
    COL_FIELD(&r, o->device);
    o->until = store_col_double(&r);
    COL_FIELD(&r, o->reason);
    COL_FIELD(&r, o->by);
    o->created = store_col_double(&r);
}

static int log_override(struct store *st, const struct record_override *o, const char *action,
                        const char *by, double at)
{
    int err = 0;
    sqlite3_stmt *s = store_stmt_get(st, STMT_OVERRIDE_LOG_ADD, &err);
    struct store_binder b = {s, 0, SQLITE_OK};

    if (!s)
        return err;
    BIND_FIELD(&b, o->device);
    store_bind_str(&b, action, SIZE_MAX);
    store_bind_double(&b, o->until);
    BIND_FIELD(&b, o->reason);
    store_bind_str(&b, by, 64);
    store_bind_double(&b, at);
    if (b.rc != SQLITE_OK) {
        err = store_fail(st, b.rc, "bind override log of %s", o->device);
        store_stmt_done(s);
        return err;
    }
    return store_stmt_run(st, s, "append override log");
}

int store_override_set(struct store *st, const struct record_override *o)
{
    int err = 0;
    sqlite3_stmt *s;
    struct store_binder b = {NULL, 0, SQLITE_OK};

    st->err[0] = '\0';
    if (st->readonly)
        return store_fail_with(st, -EROFS, "override of %s: the store is open read-only",
                               o->device);
    if ((err = store_exec(st, STMT_BEGIN, "begin")) < 0)
        return err;
    if (!(s = store_stmt_get(st, STMT_OVERRIDE_PUT, &err)))
        goto out_rollback;
    b.stmt = s;
    BIND_FIELD(&b, o->device);
    store_bind_double(&b, o->until);
    BIND_FIELD(&b, o->reason);
    BIND_FIELD(&b, o->by);
    store_bind_double(&b, o->created);
    if (b.rc != SQLITE_OK) {
        err = store_fail(st, b.rc, "bind override of %s", o->device);
        store_stmt_done(s);
        goto out_rollback;
    }
    if ((err = store_stmt_run(st, s, "write override")) < 0)
        goto out_rollback;
    if ((err = log_override(st, o, "add", o->by, o->created)) < 0)
        goto out_rollback;
    if ((err = store_exec(st, STMT_COMMIT, "commit")) < 0)
        goto out_rollback;
    return 0;

out_rollback:
    store_rollback(st);
    return err;
}

/* The override of device into *o: 0 or -ENOENT (or an error). */
static int get_override(struct store *st, const char *device, struct record_override *o)
{
    int err = 0, rc;
    sqlite3_stmt *s = store_stmt_get(st, STMT_OVERRIDE_GET, &err);
    struct store_binder b = {s, 0, SQLITE_OK};

    if (!s)
        return err;
    store_bind_str(&b, device, SIZE_MAX);
    if (b.rc != SQLITE_OK) {
        err = store_fail(st, b.rc, "bind override query");
        store_stmt_done(s);
        return err;
    }
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        read_override(s, o);
    else if (rc == SQLITE_DONE)
        err = -ENOENT;
    else
        err = store_fail(st, rc, "read override of %s", device);
    store_stmt_done(s);
    return err;
}

static int delete_override(struct store *st, const char *device)
{
    int err = 0;
    sqlite3_stmt *s = store_stmt_get(st, STMT_OVERRIDE_DELETE, &err);
    struct store_binder b = {s, 0, SQLITE_OK};

    if (!s)
        return err;
    store_bind_str(&b, device, SIZE_MAX);
    if (b.rc != SQLITE_OK) {
        err = store_fail(st, b.rc, "bind override delete");
        store_stmt_done(s);
        return err;
    }
    return store_stmt_run(st, s, "delete override");
}

int store_override_remove(struct store *st, const char *device, const char *by, double at,
                          struct record_override *removed)
{
    struct record_override o = {0};
    int err;

    st->err[0] = '\0';
    if (st->readonly)
        return store_fail_with(st, -EROFS, "override of %s: the store is open read-only", device);
    if ((err = store_exec(st, STMT_BEGIN, "begin")) < 0)
        return err;
    if ((err = get_override(st, device, &o)) < 0)
        goto out_rollback;
    if ((err = delete_override(st, device)) < 0 ||
        (err = log_override(st, &o, "remove", by ? by : "", at)) < 0)
        goto out_rollback;
    if ((err = store_exec(st, STMT_COMMIT, "commit")) < 0)
        goto out_rollback;
    if (removed)
        *removed = o;
    return 0;

out_rollback:
    store_rollback(st);
    return err;
}

static int override_row(struct store *st, sqlite3_stmt *s, void *row)
{
    (void)st;
    read_override(s, row);
    return 0;
}

/* Runs the override query id with ?1 = now into a malloc'd array. */
static int query_overrides(struct store *st, enum stmt_id id, double now,
                           struct record_override **out, size_t *n)
{
    int err = 0;
    sqlite3_stmt *s = store_stmt_get(st, id, &err);
    struct store_binder b = {s, 0, SQLITE_OK};

    *out = NULL;
    *n = 0;
    if (!s)
        return err;
    store_bind_double(&b, now);
    if (b.rc != SQLITE_OK) {
        err = store_fail(st, b.rc, "bind overrides query");
        goto out_unbind;
    }
    return store_read_rows(st, s, sizeof(**out), override_row, "read overrides", (void **)out, n);

out_unbind:
    store_stmt_done(s);
    return err;
}

int store_overrides(struct store *st, double now, struct record_override **out, size_t *n)
{
    st->err[0] = '\0';
    return query_overrides(st, STMT_OVERRIDES, now, out, n);
}

int store_overrides_expire(struct store *st, double now, struct record_override **expired,
                           size_t *n)
{
    struct record_override *v = NULL;
    size_t count = 0;
    int err;

    *expired = NULL;
    *n = 0;
    st->err[0] = '\0';
    if (st->readonly)
        return store_fail_with(st, -EROFS, "expire overrides: the store is open read-only");
    /* A read first: most calls find nothing and write nothing. */
    if ((err = query_overrides(st, STMT_OVERRIDES_EXPIRED, now, &v, &count)) < 0 || count == 0)
        return err;
    free(v);
    if ((err = store_exec(st, STMT_BEGIN, "begin")) < 0)
        return err;
    if ((err = query_overrides(st, STMT_OVERRIDES_EXPIRED, now, &v, &count)) < 0)
        goto out_rollback;
    for (size_t i = 0; i < count; i++) {
        /* Logged as of the moment it ran out, whoever notices. */
        if ((err = delete_override(st, v[i].device)) < 0 ||
            (err = log_override(st, &v[i], "expire", v[i].by, v[i].until)) < 0)
            goto out_rollback;
    }
    if ((err = store_exec(st, STMT_COMMIT, "commit")) < 0)
        goto out_rollback;
    *expired = v;
    *n = count;
    return 0;

out_rollback:
    store_rollback(st);
    free(v);
    return err;
}

static int override_event_row(struct store *st, sqlite3_stmt *s, void *row)
{
    struct store_reader r = {s, 0};
    struct record_override_event *e = row;

    (void)st;
    COL_FIELD(&r, e->device);
    COL_FIELD(&r, e->action);
    e->until = store_col_double(&r);
    COL_FIELD(&r, e->reason);
    COL_FIELD(&r, e->by);
    e->at = store_col_double(&r);
    return 0;
}

int store_override_log(struct store *st, double from, double to, struct record_override_event **out,
                       size_t *n)
{
    int err = 0;
    sqlite3_stmt *s = store_stmt_get(st, STMT_OVERRIDE_LOG, &err);
    struct store_binder b = {s, 0, SQLITE_OK};

    *out = NULL;
    *n = 0;
    st->err[0] = '\0';
    if (!s)
        return err;
    store_bind_double(&b, from != 0 ? from : -INFINITY);
    store_bind_double(&b, to != 0 ? to : INFINITY);
    if (b.rc != SQLITE_OK) {
        err = store_fail(st, b.rc, "bind override log query");
        goto out_unbind;
    }
    return store_read_rows(st, s, sizeof(**out), override_event_row, "read override log",
                           (void **)out, n);

out_unbind:
    store_stmt_done(s);
    return err;
}

/* ---- The power-off log ----------------------------------------------------- */

int store_poweroff_add(struct store *st, const struct record_poweroff_step *p)
{
    int err = 0;
    sqlite3_stmt *s;
    struct store_binder b = {NULL, 0, SQLITE_OK};

    st->err[0] = '\0';
    if (st->readonly)
        return store_fail_with(st, -EROFS, "power-off log: the store is open read-only");
    if (!(s = store_stmt_get(st, STMT_POWEROFF_ADD, &err)))
        return err;
    b.stmt = s;
    BIND_FIELD(&b, p->date);
    store_bind_double(&b, p->at);
    BIND_FIELD(&b, p->hall);
    BIND_FIELD(&b, p->window);
    BIND_FIELD(&b, p->device);
    BIND_FIELD(&b, p->kind);
    BIND_FIELD(&b, p->step);
    store_bind_int(&b, p->ok);
    BIND_FIELD(&b, p->detail);
    if (b.rc != SQLITE_OK) {
        err = store_fail(st, b.rc, "bind power-off step of %s", p->device);
        store_stmt_done(s);
        return err;
    }
    return store_stmt_run(st, s, "append power-off step");
}

static int poweroff_step_row(struct store *st, sqlite3_stmt *s, void *row)
{
    struct store_reader r = {s, 0};
    struct record_poweroff_step *p = row;

    (void)st;
    COL_FIELD(&r, p->date);
    p->at = store_col_double(&r);
    COL_FIELD(&r, p->hall);
    COL_FIELD(&r, p->window);
    COL_FIELD(&r, p->device);
    COL_FIELD(&r, p->kind);
    COL_FIELD(&r, p->step);
    p->ok = store_col_int(&r) != 0;
    COL_FIELD(&r, p->detail);
    return 0;
}

int store_poweroff_log(struct store *st, const char *date, const char *hall, double from, double to,
                       struct record_poweroff_step **out, size_t *n)
{
    int err = 0;
    sqlite3_stmt *s = store_stmt_get(st, STMT_POWEROFF_LOG, &err);
    struct store_binder b = {s, 0, SQLITE_OK};

    *out = NULL;
    *n = 0;
    st->err[0] = '\0';
    if (!s)
        return err;
    if (date)
        store_bind_str(&b, date, SIZE_MAX);
    else if (b.rc == SQLITE_OK)
        b.rc = sqlite3_bind_null(s, ++b.idx);
    if (hall)
        store_bind_str(&b, hall, SIZE_MAX);
    else if (b.rc == SQLITE_OK)
        b.rc = sqlite3_bind_null(s, ++b.idx);
    store_bind_double(&b, from != 0 ? from : -INFINITY);
    store_bind_double(&b, to != 0 ? to : INFINITY);
    if (b.rc != SQLITE_OK) {
        err = store_fail(st, b.rc, "bind power-off log query");
        goto out_unbind;
    }
    return store_read_rows(st, s, sizeof(**out), poweroff_step_row, "read power-off log",
                           (void **)out, n);

out_unbind:
    store_stmt_done(s);
    return err;
}
