#include "json.h"

#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const struct json_limits default_limits = {
    .max_bytes = JSON_DEFAULT_MAX_BYTES,
    .max_depth = JSON_DEFAULT_MAX_DEPTH,
    .max_fields = JSON_DEFAULT_MAX_FIELDS,
};

bool json_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        unsigned char c = p[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        unsigned char lo = 0x80, hi = 0xbf; /* range of the second byte */
        if (c >= 0xc2 && c <= 0xdf) {
            n = 2;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 3;
            if (c == 0xe0)
                lo = 0xa0; /* overlong */
            else if (c == 0xed)
                hi = 0x9f; /* UTF-16 surrogates */
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 4;
            if (c == 0xf0)
                lo = 0x90; /* overlong */
            else if (c == 0xf4)
                hi = 0x8f; /* over U+10FFFF */
        } else {
            return false; /* continuation byte, overlong C0/C1, F5..FF */
        }
        if (len - i < n)
            return false;
        if (p[i + 1] < lo || p[i + 1] > hi)
            return false;
        for (size_t k = 2; k < n; k++) {
            if ((p[i + k] & 0xc0) != 0x80)
                return false;
        }
        i += n;
    }
    return true;
}

static enum json_reject map_error(const json_error_t *err)
{
    switch (json_error_code(err)) {
    case json_error_invalid_utf8:
        return JSON_BAD_UTF8;
    case json_error_null_character:
    case json_error_null_byte_in_key:
        return JSON_NUL;
    case json_error_numeric_overflow:
        return JSON_NON_FINITE;
    case json_error_stack_overflow:
        return JSON_TOO_DEEP;
    case json_error_out_of_memory:
        return JSON_TOO_LARGE;
    default:
        return JSON_SYNTAX;
    }
}

/* False when a container below v (v at depth) is deeper than max. */
static bool depth_ok(json_t *v, int depth, int max)
{
    if (!json_is_object(v) && !json_is_array(v))
        return true;
    if (depth > max)
        return false;
    if (json_is_object(v)) {
        for (void *it = json_object_iter(v); it; it = json_object_iter_next(v, it)) {
            if (!depth_ok(json_object_iter_value(it), depth + 1, max))
                return false;
        }
    } else {
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (!depth_ok(json_array_get(v, i), depth + 1, max))
                return false;
        }
    }
    return true;
}

/* The length of key's flattened path below a parent path of parent_len bytes
 * (top: no parent, no separator). */
static size_t path_len_of(size_t parent_len, bool top, size_t key_len)
{
    return top ? key_len : parent_len + 1 + key_len;
}

struct measure {
    size_t leaves; /* every non-object value, arrays included */
    size_t bytes;  /* keys and strings with their NULs, for the kept leaves */
};

/* Counts the leaves of obj and the bytes they need. False when there are more
 * than max_fields. */
static bool measure(json_t *obj, size_t parent_len, bool top, size_t max_fields, struct measure *m)
{
    for (void *it = json_object_iter(obj); it; it = json_object_iter_next(obj, it)) {
        json_t *v = json_object_iter_value(it);
        size_t plen = path_len_of(parent_len, top, json_object_iter_key_len(it));
        if (json_is_object(v)) {
            if (!measure(v, plen, false, max_fields, m))
                return false;
            continue;
        }
        if (++m->leaves > max_fields)
            return false;
        if (json_is_array(v) || plen > JSON_KEY_MAX)
            continue;
        m->bytes += plen + 1;
        if (json_is_string(v))
            m->bytes += json_string_length(v) + 1;
    }
    return true;
}

struct filler {
    struct json_flat *out;
    char *text; /* next free byte; measure() sized the block */
    char path[JSON_KEY_MAX + 1];
};

static char *fill_copy(struct filler *f, const char *s, size_t len)
{
    char *p = f->text;
    if (len)
        memcpy(p, s, len);
    p[len] = '\0';
    f->text += len + 1;
    return p;
}

static bool seen_key(const struct json_flat *out, const char *key, size_t len)
{
    for (size_t i = 0; i < out->n; i++) {
        if (out->fields[i].key_len == len && memcmp(out->fields[i].key, key, len) == 0)
            return true;
    }
    return false;
}

static void fill_leaf(struct filler *f, json_t *v, size_t plen)
{
    struct json_flat *out = f->out;
    if (json_is_array(v) || plen > JSON_KEY_MAX || seen_key(out, f->path, plen)) {
        out->dropped++;
        return;
    }
    struct json_field *fl = &out->fields[out->n++];
    memset(fl, 0, sizeof(*fl));
    fl->key = fill_copy(f, f->path, plen);
    fl->key_len = plen;
    if (json_is_number(v)) {
        fl->type = JSON_T_NUMBER;
        fl->num = json_number_value(v);
    } else if (json_is_boolean(v)) {
        fl->type = JSON_T_BOOL;
        fl->b = json_is_true(v);
    } else if (json_is_string(v)) {
        fl->type = JSON_T_STRING;
        fl->str_len = json_string_length(v);
        fl->str = fill_copy(f, json_string_value(v), fl->str_len);
    } else {
        fl->type = JSON_T_NULL;
    }
}

/* Appends obj's leaves below the path in f->path[0..parent_len). The path
 * buffer only holds paths that fit; longer ones are dropped at the leaves. */
static void fill(struct filler *f, json_t *obj, size_t parent_len, bool top)
{
    for (void *it = json_object_iter(obj); it; it = json_object_iter_next(obj, it)) {
        const char *key = json_object_iter_key(it);
        size_t klen = json_object_iter_key_len(it);
        json_t *v = json_object_iter_value(it);
        size_t plen = path_len_of(parent_len, top, klen);
        if (plen <= JSON_KEY_MAX) {
            char *p = f->path + parent_len;
            if (!top)
                *p++ = '_';
            memcpy(p, key, klen);
            f->path[plen] = '\0';
        }
        if (json_is_object(v))
            fill(f, v, plen, false);
        else
            fill_leaf(f, v, plen);
    }
}

enum json_reject json_flatten(const char *payload, size_t len, const struct json_limits *lim,
                              struct json_flat *out)
{
    enum json_reject rc = JSON_OK;
    memset(out, 0, sizeof(*out));
    if (!lim)
        lim = &default_limits;
    if (len > lim->max_bytes)
        return JSON_TOO_LARGE;
    if (!payload || !json_utf8_valid(payload, len))
        return payload ? JSON_BAD_UTF8 : JSON_SYNTAX;

    json_error_t err;
    json_t *root = json_loadb(
        payload, len, JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL | JSON_REJECT_DUPLICATES, &err);
    if (!root)
        return map_error(&err);
    if (!json_is_object(root)) {
        rc = JSON_NOT_OBJECT;
        goto out_decref;
    }
    if (!depth_ok(root, 1, lim->max_depth)) {
        rc = JSON_TOO_DEEP;
        goto out_decref;
    }
    struct measure m = {0};
    if (!measure(root, 0, true, lim->max_fields, &m)) {
        rc = JSON_TOO_MANY;
        goto out_decref;
    }
    if (m.leaves == 0)
        goto out_decref;
    if (m.leaves > (SIZE_MAX - m.bytes) / sizeof(struct json_field)) {
        rc = JSON_TOO_LARGE;
        goto out_decref;
    }
    void *block = calloc(1, m.leaves * sizeof(struct json_field) + m.bytes);
    if (!block) {
        rc = JSON_TOO_LARGE;
        goto out_decref;
    }
    /* Filled in a local, so *out only ever holds an empty or a whole flat. */
    struct json_flat res = {.fields = block, .priv = block};
    struct filler f = {.out = &res, .text = (char *)block + m.leaves * sizeof(struct json_field)};
    fill(&f, root, 0, true);
    *out = res;
out_decref:
    json_decref(root);
    return rc;
}

void json_flat_free(struct json_flat *f)
{
    if (!f)
        return;
    free(f->priv);
    memset(f, 0, sizeof(*f));
}

const struct json_field *json_flat_get(const struct json_flat *f, const char *key)
{
    size_t len = strlen(key);
    for (size_t i = 0; i < f->n; i++) {
        if (f->fields[i].key_len == len && memcmp(f->fields[i].key, key, len) == 0)
            return &f->fields[i];
    }
    return NULL;
}

const char *json_reject_name(enum json_reject r)
{
    switch (r) {
    case JSON_OK:
        return "ok";
    case JSON_TOO_LARGE:
        return "too_large";
    case JSON_BAD_UTF8:
        return "bad_utf8";
    case JSON_NUL:
        return "nul";
    case JSON_SYNTAX:
        return "syntax";
    case JSON_NON_FINITE:
        return "non_finite";
    case JSON_TOO_DEEP:
        return "too_deep";
    case JSON_NOT_OBJECT:
        return "not_object";
    case JSON_TOO_MANY:
        return "too_many";
    }
    return "unknown";
}

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
        if (sid && (!json_is_number(sid) || json_number_value(sid) < 0))
            return -EPROTO;
        size_t id = sid ? (size_t)json_number_value(sid) : i;
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
    if (!body || !json_utf8_valid(body, len))
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
