/* The state store: silences. */
#include "store.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "store_int.h"

static void bind_silence(struct store_binder *b, const void *arg)
{
    const struct record_silence *s = arg;
    BIND_FIELD(b, s->id);
    BIND_FIELD(b, s->hall);
    BIND_FIELD(b, s->window);
    BIND_FIELD(b, s->device);
    BIND_FIELD(b, s->rule);
    BIND_FIELD(b, s->severity);
    store_bind_double(b, s->starts);
    store_bind_double(b, s->ends);
    BIND_FIELD(b, s->comment);
    store_bind_int(b, s->maintenance);
    BIND_FIELD(b, s->created_by);
    store_bind_double(b, s->created);
    BIND_FIELD(b, s->ended_by);
}

static int read_silence(struct store *st, sqlite3_stmt *stmt, void *row)
{
    (void)st;
    struct record_silence *s = row;
    struct store_reader r = {stmt, 0};
    memset(s, 0, sizeof(*s));
    COL_FIELD(&r, s->id);
    COL_FIELD(&r, s->hall);
    COL_FIELD(&r, s->window);
    COL_FIELD(&r, s->device);
    COL_FIELD(&r, s->rule);
    COL_FIELD(&r, s->severity);
    s->starts = store_col_double(&r);
    s->ends = store_col_double(&r);
    COL_FIELD(&r, s->comment);
    s->maintenance = store_col_int(&r) != 0;
    COL_FIELD(&r, s->created_by);
    s->created = store_col_double(&r);
    COL_FIELD(&r, s->ended_by);
    return 0;
}

static void bind_id(struct store_binder *b, const void *arg)
{
    store_bind_str(b, arg, SIZE_MAX);
}

int store_silence_put(struct store *st, const struct record_silence *s)
{
    return store_run(st, STMT_SILENCE_PUT, bind_silence, s, "write silence", NULL);
}

int store_silence_get(struct store *st, const char *id, struct record_silence *s)
{
    return store_query_one(st, STMT_SILENCE_GET, bind_id, id, read_silence, "read silence", s);
}

struct range {
    wall_s from, to;
};

static void bind_range(struct store_binder *b, const void *arg)
{
    const struct range *r = arg;
    store_bind_double(b, r->from);
    store_bind_double(b, r->to != 0 ? r->to : INFINITY);
}

int store_silences(struct store *st, wall_s from, wall_s to, struct record_silence **out, size_t *n)
{
    struct range r = {from, to};
    return store_query(st, STMT_SILENCES, bind_range, &r, sizeof(**out), read_silence,
                       "read silences", (void **)out, n);
}
