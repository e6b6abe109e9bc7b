/* The state store: the deliveries of the daily record. */
#include "store.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "store_int.h"

static void bind_key(struct store_binder *b, const struct record_delivery *d)
{
    BIND_FIELD(b, d->day);
    BIND_FIELD(b, d->halls);
    BIND_FIELD(b, d->route);
    BIND_FIELD(b, d->owner);
}

static void bind_claim(struct store_binder *b, const void *arg)
{
    const struct record_delivery *d = arg;
    bind_key(b, d);
    store_bind_double(b, d->lease_until);
    store_bind_double(b, d->changed);
}

static void bind_update(struct store_binder *b, const void *arg)
{
    const struct record_delivery *d = arg;
    bind_key(b, d);
    BIND_FIELD(b, d->state);
    store_bind_double(b, d->lease_until);
    store_bind_int(b, d->attempts);
    store_bind_double(b, d->sent_at);
    BIND_FIELD(b, d->last_error);
    store_bind_double(b, d->changed);
}

static int read_delivery(struct store *st, sqlite3_stmt *stmt, void *row)
{
    (void)st;
    struct record_delivery *d = row;
    struct store_reader r = {stmt, 0};
    memset(d, 0, sizeof(*d));
    COL_FIELD(&r, d->day);
    COL_FIELD(&r, d->halls);
    COL_FIELD(&r, d->route);
    COL_FIELD(&r, d->state);
    COL_FIELD(&r, d->owner);
    d->lease_until = store_col_double(&r);
    d->attempts = store_col_int(&r);
    d->sent_at = store_col_double(&r);
    COL_FIELD(&r, d->last_error);
    d->changed = store_col_double(&r);
    return 0;
}

int store_delivery_claim(struct store *st, const struct record_delivery *d)
{
    int changes = 0;
    int rc = store_run(st, STMT_DELIVERY_CLAIM, bind_claim, d, "claim delivery", &changes);
    if (rc < 0)
        return rc;
    return changes == 1 ? 0 : -EALREADY;
}

int store_delivery_update(struct store *st, const struct record_delivery *d)
{
    int changes = 0;
    int rc = store_run(st, STMT_DELIVERY_UPDATE, bind_update, d, "record delivery", &changes);
    if (rc < 0)
        return rc;
    return changes == 1 ? 0 : store_fail_with(st, -ESTALE, "record delivery: no longer ours");
}

struct day_range {
    const char *from, *to;
};

static void bind_days(struct store_binder *b, const void *arg)
{
    const struct day_range *r = arg;
    store_bind_str(b, r->from, SIZE_MAX);
    store_bind_str(b, r->to, SIZE_MAX);
}

int store_deliveries(struct store *st, const char *from, const char *to,
                     struct record_delivery **out, size_t *n)
{
    struct day_range r = {from, to};
    return store_query(st, STMT_DELIVERIES, bind_days, &r, sizeof(**out), read_delivery,
                       "read deliveries", (void **)out, n);
}
