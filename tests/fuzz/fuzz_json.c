/* fuzz_json: json_flatten() with small limits taken from the first two bytes
 * (max_depth 1..4, max_fields 1..16, max_items 0..3, max_bytes 4096); the
 * rest is the payload.
 * The same payload also goes through json_influx_table(), the other JSON
 * decoder of the module (InfluxDB /query answers).
 *
 * Oracle for json_flatten(): on JSON_OK at most max_fields fields, and fields
 * plus dropped leaves at most max_fields; every key NUL-terminated at
 * key_len <= JSON_KEY_MAX and distinct; strings NUL-terminated at str_len
 * (no NUL inside) and valid UTF-8; numbers finite and equal to strtod() of
 * their kept text; json_flat_get() finds
 * each key. On a reject *out is empty. Raising the limits never turns an
 * accepted payload into a refused one or changes its fields.
 * For json_influx_table(): on 0, every series has n_rows * n_columns cells
 * and every name, column, tag and string cell is a C string. */
#include "fuzz.h"

#include <errno.h>
#include <math.h>

#include "json.h"
#include "utf8.h"

static bool same_field(const struct json_field *a, const struct json_field *b)
{
    if (a->key_len != b->key_len || strcmp(a->key, b->key) != 0 || a->type != b->type)
        return false;
    switch (a->type) {
    case JSON_T_NUMBER:
        return memcmp(&a->num, &b->num, sizeof(a->num)) == 0;
    case JSON_T_BOOL:
        return a->b == b->b;
    case JSON_T_STRING:
        return a->str_len == b->str_len && memcmp(a->str, b->str, a->str_len) == 0;
    case JSON_T_NULL:
        return true;
    }
    return false;
}

static void check_flat(const struct json_flat *f, const struct json_limits *lim)
{
    FUZZ_CHECK(f->n <= lim->max_fields, "%zu fields, max %zu", f->n, lim->max_fields);
    FUZZ_CHECK(f->n + f->dropped <= lim->max_fields, "%zu fields + %u dropped, max %zu", f->n,
               f->dropped, lim->max_fields);
    FUZZ_CHECK(f->n == 0 || f->fields, "fields missing");
    for (size_t i = 0; i < f->n; i++) {
        const struct json_field *x = &f->fields[i];
        FUZZ_CHECK(x->key && x->key_len <= JSON_KEY_MAX, "key of %zu bytes", x->key_len);
        FUZZ_CHECK(strlen(x->key) == x->key_len, "key \"%s\" not NUL-terminated at %zu", x->key,
                   x->key_len);
        FUZZ_CHECK(json_flat_get(f, x->key) == x, "json_flat_get(\"%s\") finds another field",
                   x->key);
        switch (x->type) {
        case JSON_T_NUMBER:
            FUZZ_CHECK(isfinite(x->num), "\"%s\" is not finite", x->key);
            FUZZ_CHECK(x->num_text && strlen(x->num_text) == x->num_len, "text of \"%s\"", x->key);
            FUZZ_CHECK(strtod(x->num_text, NULL) == x->num, "\"%s\": %s read as %.17g", x->key,
                       x->num_text, x->num);
            break;
        case JSON_T_STRING:
            FUZZ_CHECK(x->str && strlen(x->str) == x->str_len, "string of \"%s\"", x->key);
            FUZZ_CHECK(utf8_valid(x->str, x->str_len), "string of \"%s\" not UTF-8", x->key);
            break;
        case JSON_T_BOOL:
        case JSON_T_NULL:
            break;
        default:
            FUZZ_CHECK(false, "type %d", (int)x->type);
        }
    }
}

static void check_table(const struct json_table *t)
{
    FUZZ_CHECK(t->n_series == 0 || t->series, "series missing");
    for (size_t i = 0; i < t->n_series; i++) {
        const struct json_series *s = &t->series[i];
        FUZZ_CHECK(s->name && strlen(s->name) < (size_t)-1, "series name");
        for (size_t k = 0; k < s->n_tags; k++)
            FUZZ_CHECK(s->tag_keys[k] && s->tag_values[k], "tag %zu", k);
        for (size_t k = 0; k < s->n_columns; k++)
            FUZZ_CHECK(s->columns[k] && json_series_column(s, s->columns[k]) >= 0, "column %zu", k);
        for (size_t k = 0; k < s->n_rows * s->n_columns; k++) {
            const struct json_cell *c = &s->cells[k];
            if (c->type == JSON_T_STRING)
                FUZZ_CHECK(c->str && utf8_valid(c->str, strlen(c->str)), "cell %zu", k);
            if (c->type == JSON_T_NUMBER)
                FUZZ_CHECK(isfinite(c->num), "cell %zu not finite", k);
        }
        FUZZ_CHECK(json_table_find(t, s->statement_id) != NULL, "statement %zu not found",
                   s->statement_id);
    }
    FUZZ_CHECK(!t->error || t->error_statement >= -1, "error statement");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = {data, size};
    struct json_limits lim = {.max_bytes = 4096};
    lim.max_depth = 1 + fuzz_u8(&in) % 4;
    uint8_t b = fuzz_u8(&in);
    lim.max_fields = 1 + b % 16;
    lim.max_items = (size_t)(b / 16) % 4; /* 0: arrays dropped whole */
    char *payload = fuzz_copy((const char *)in.p, in.n);
    size_t len = in.n;

    struct json_flat f, big;
    enum json_reject rc = json_flatten(payload, len, &lim, &f);
    FUZZ_CHECK(rc < JSON_REJECT_COUNT, "reject %d", (int)rc);
    FUZZ_CHECK(strcmp(json_reject_name(rc), "unknown") != 0, "no name for %d", (int)rc);
    if (rc != JSON_OK) {
        FUZZ_CHECK(f.n == 0 && f.fields == NULL && f.priv == NULL && f.dropped == 0,
                   "a refused payload left a flat behind (%s)", json_reject_name(rc));
    } else {
        check_flat(&f, &lim);
        /* Larger limits accept it too, with the same fields. */
        struct json_limits more = {
            .max_bytes = 1 << 20, .max_depth = 64, .max_fields = 4096, .max_items = lim.max_items};
        enum json_reject rc2 = json_flatten(payload, len, &more, &big);
        FUZZ_CHECK(rc2 == JSON_OK, "accepted under small limits, refused (%s) under large ones",
                   json_reject_name(rc2));
        FUZZ_CHECK(big.n == f.n && big.dropped == f.dropped, "%zu/%u fields/dropped, then %zu/%u",
                   f.n, f.dropped, big.n, big.dropped);
        for (size_t i = 0; i < f.n; i++)
            FUZZ_CHECK(same_field(&f.fields[i], &big.fields[i]), "field %zu differs", i);
        json_flat_free(&big);
    }
    json_flat_free(&f);
    json_flat_free(&f); /* an emptied flat: nothing */

    struct json_table t;
    int trc = json_influx_table(payload, len, &t);
    FUZZ_CHECK(trc == 0 || trc == -EMSGSIZE || trc == -EBADMSG || trc == -EPROTO || trc == -ENOMEM,
               "json_influx_table: %d", trc);
    if (trc == 0)
        check_table(&t);
    else
        FUZZ_CHECK(t.n_series == 0 && t.series == NULL && t.priv == NULL,
                   "a refused answer left a table");
    json_table_free(&t);
    free(payload);
    return 0;
}
