/* InfluxDB /query answers (JSON) read into tables: the other half of the
 * JSON module (json.h), kept apart from the device payload parser. */
#include "json.h"
#include "utf8.h"

#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- InfluxDB /query answers ---------------------------------------------- */

/* Every allocation of a json_table, freed together. */
struct table_arena {
    void **v;
    size_t n, cap;
};

static void *arena_alloc(struct table_arena *a, size_t size)
{
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 16;
        void **v = realloc(a->v, cap * sizeof(*v));
        if (!v)
            return NULL;
        a->v = v;
        a->cap = cap;
    }
    void *p = calloc(1, size ? size : 1);
    if (p)
        a->v[a->n++] = p;
    return p;
}

static const char *arena_str(struct table_arena *a, const char *s, size_t len)
{
    char *p = arena_alloc(a, len + 1);
    if (p && len)
        memcpy(p, s, len);
    return p;
}

static void arena_free(struct table_arena *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->n; i++)
        free(a->v[i]);
    free(a->v);
    free(a);
}

static int fill_cell(struct table_arena *a, json_t *v, struct json_cell *c)
{
    if (json_is_number(v)) {
        c->type = JSON_T_NUMBER;
        c->num = json_number_value(v);
    } else if (json_is_boolean(v)) {
        c->type = JSON_T_BOOL;
        c->b = json_is_true(v);
    } else if (json_is_string(v)) {
        c->type = JSON_T_STRING;
        c->str = arena_str(a, json_string_value(v), json_string_length(v));
        if (!c->str)
            return -ENOMEM;
    } else if (json_is_null(v)) {
        c->type = JSON_T_NULL;
    } else {
        return -EPROTO; /* an array or object where a value belongs */
    }
    return 0;
}

static int fill_series(struct table_arena *a, json_t *js, size_t statement_id,
                       struct json_series *s)
{
    if (!json_is_object(js))
        return -EPROTO;
    s->statement_id = statement_id;
    json_t *name = json_object_get(js, "name");
    if (name && !json_is_string(name))
        return -EPROTO;
    s->name = name ? arena_str(a, json_string_value(name), json_string_length(name))
                   : arena_str(a, "", 0);
    if (!s->name)
        return -ENOMEM;

    json_t *tags = json_object_get(js, "tags");
    if (tags && !json_is_object(tags))
        return -EPROTO;
    size_t nt = tags ? json_object_size(tags) : 0;
    s->tag_keys = arena_alloc(a, nt * sizeof(char *));
    s->tag_values = arena_alloc(a, nt * sizeof(char *));
    if (!s->tag_keys || !s->tag_values)
        return -ENOMEM;
    for (void *it = tags ? json_object_iter(tags) : NULL; it;
         it = json_object_iter_next(tags, it)) {
        json_t *v = json_object_iter_value(it);
        if (!json_is_string(v))
            return -EPROTO;
        const char *k = arena_str(a, json_object_iter_key(it), json_object_iter_key_len(it));
        const char *val = arena_str(a, json_string_value(v), json_string_length(v));
        if (!k || !val)
            return -ENOMEM;
        s->tag_keys[s->n_tags] = k;
        s->tag_values[s->n_tags++] = val;
    }

    json_t *cols = json_object_get(js, "columns");
    json_t *vals = json_object_get(js, "values");
    if ((cols && !json_is_array(cols)) || (vals && !json_is_array(vals)) || (vals && !cols))
        return -EPROTO;
    size_t nc = cols ? json_array_size(cols) : 0;
    size_t nr = vals ? json_array_size(vals) : 0;
    s->columns = arena_alloc(a, nc * sizeof(char *));
    if (!s->columns)
        return -ENOMEM;
    for (size_t i = 0; i < nc; i++) {
        json_t *c = json_array_get(cols, i);
        if (!json_is_string(c))
            return -EPROTO;
        if (!(s->columns[i] = arena_str(a, json_string_value(c), json_string_length(c))))
            return -ENOMEM;
    }
    s->n_columns = nc;
    if (nc && nr > SIZE_MAX / sizeof(struct json_cell) / nc)
        return -ENOMEM;
    struct json_cell *cells = arena_alloc(a, nr * nc * sizeof(struct json_cell));
    if (!cells)
        return -ENOMEM;
    for (size_t r = 0; r < nr; r++) {
        json_t *row = json_array_get(vals, r);
        if (!json_is_array(row) || json_array_size(row) != nc)
            return -EPROTO;
        for (size_t c = 0; c < nc; c++) {
            int rc = fill_cell(a, json_array_get(row, c), &cells[r * nc + c]);
            if (rc < 0)
                return rc;
        }
    }
    s->n_rows = nr;
    s->cells = cells;
    return 0;
}

static int fill_table(struct table_arena *a, json_t *root, struct json_table *t)
{
    if (!json_is_object(root))
        return -EPROTO;
    json_t *err = json_object_get(root, "error");
    json_t *results = json_object_get(root, "results");
    if ((!err && !results) || (err && !json_is_string(err)) || (results && !json_is_array(results)))
        return -EPROTO;
    if (err) {
        if (!(t->error = arena_str(a, json_string_value(err), json_string_length(err))))
            return -ENOMEM;
        t->error_statement = -1;
    }
    size_t nres = results ? json_array_size(results) : 0;
    size_t total = 0;
    for (size_t i = 0; i < nres; i++) {
        json_t *res = json_array_get(results, i);
        if (!json_is_object(res))
            return -EPROTO;
        json_t *series = json_object_get(res, "series");
        if (series && !json_is_array(series))
            return -EPROTO;
        total += series ? json_array_size(series) : 0;
    }
    t->series = arena_alloc(a, total * sizeof(struct json_series));
    if (!t->series)
        return -ENOMEM;
    for (size_t i = 0; i < nres; i++) {
        json_t *res = json_array_get(results, i);
        json_t *sid = json_object_get(res, "statement_id");
        double sv = sid && json_is_number(sid) ? json_number_value(sid) : 0;
        /* InfluxDB numbers its statements 0, 1, ...: anything else (a
         * fraction, or more than a size_t holds) is not its answer. */
        if (sid && (!json_is_number(sid) || !(sv >= 0 && sv <= 1e6) || sv != (double)(long)sv))
            return -EPROTO;
        size_t id = sid ? (size_t)sv : i;
        json_t *e = json_object_get(res, "error");
        if (e && !json_is_string(e))
            return -EPROTO;
        if (e && !t->error) {
            if (!(t->error = arena_str(a, json_string_value(e), json_string_length(e))))
                return -ENOMEM;
            t->error_statement = (long)id;
        }
        json_t *series = json_object_get(res, "series");
        for (size_t k = 0; series && k < json_array_size(series); k++) {
            int rc = fill_series(a, json_array_get(series, k), id, &t->series[t->n_series]);
            if (rc < 0)
                return rc;
            t->n_series++;
        }
    }
    t->n_results = nres;
    return 0;
}

int json_influx_table(const char *body, size_t len, struct json_table *out)
{
    memset(out, 0, sizeof(*out));
    out->error_statement = -1;
    if (len > JSON_INFLUX_MAX_BYTES)
        return -EMSGSIZE;
    if (!body || !utf8_valid(body, len))
        return -EBADMSG;
    json_error_t err;
    json_t *root = json_loadb(body, len, JSON_DECODE_INT_AS_REAL, &err);
    if (!root)
        return json_error_code(&err) == json_error_out_of_memory ? -ENOMEM : -EBADMSG;
    int rc = -ENOMEM;
    struct table_arena *a = calloc(1, sizeof(*a));
    if (!a)
        goto out_decref;
    /* Filled in a local, so *out only ever holds an empty or a whole table. */
    struct json_table t = {.error_statement = -1, .priv = a};
    rc = fill_table(a, root, &t);
    if (rc < 0) {
        arena_free(a);
        goto out_decref;
    }
    *out = t;
out_decref:
    json_decref(root);
    return rc;
}

void json_table_free(struct json_table *t)
{
    if (!t)
        return;
    arena_free(t->priv);
    memset(t, 0, sizeof(*t));
    t->error_statement = -1;
}

const struct json_series *json_table_find(const struct json_table *t, size_t statement_id)
{
    for (size_t i = 0; i < t->n_series; i++) {
        if (t->series[i].statement_id == statement_id)
            return &t->series[i];
    }
    return NULL;
}

int json_series_column(const struct json_series *s, const char *name)
{
    for (size_t i = 0; i < s->n_columns && i < INT32_MAX; i++) {
        if (strcmp(s->columns[i], name) == 0)
            return (int)i;
    }
    return -1;
}

const struct json_cell *json_series_cell(const struct json_series *s, size_t row, const char *name)
{
    int c = json_series_column(s, name);
    if (c < 0 || row >= s->n_rows)
        return NULL;
    return &s->cells[row * s->n_columns + (size_t)c];
}
