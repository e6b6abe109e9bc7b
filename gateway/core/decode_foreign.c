/* The helpers the decoders of the off-the-shelf formats share
 * (decode_foreign.h): named keys, pass-through, numbers written as strings
 * and arrays of readings. */
#include "decode_foreign.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "number.h"

void decode_begin(const struct route *r, struct reading *out, enum json_reject *why)
{
    if (why)
        *why = JSON_OK;
    reading_reset(out, r->cls);
}

enum decode_result decode_parse_items(const char *payload, size_t len,
                                      const struct json_limits *lim, struct json_flat *flat,
                                      enum json_reject *why)
{
    struct json_limits l = {
        .max_bytes = JSON_DEFAULT_MAX_BYTES,
        .max_depth = JSON_DEFAULT_MAX_DEPTH,
        .max_fields = JSON_DEFAULT_MAX_FIELDS,
    };
    if (lim)
        l = *lim;
    l.max_items = DECODE_MAX_ITEMS;
    return decode_parse(payload, len, &l, flat, why);
}

bool decode_str_is(const struct json_field *f, const char *word)
{
    size_t n = strlen(word);
    return f->type == JSON_T_STRING && f->str_len == n && memcmp(f->str, word, n) == 0;
}

/* The length of the run of digits at s[i..len). */
static size_t digits_at(const char *s, size_t i, size_t len)
{
    size_t n = 0;
    while (i + n < len && s[i + n] >= '0' && s[i + n] <= '9')
        n++;
    return n;
}

int decode_number_text(const char *s, size_t len, double *v)
{
    size_t i = 0, n;
    if (i < len && s[i] == '-')
        i++;
    n = digits_at(s, i, len);
    if (n == 0 || (n > 1 && s[i] == '0'))
        return -EINVAL;
    i += n;
    if (i < len && s[i] == '.') {
        n = digits_at(s, ++i, len);
        if (n == 0)
            return -EINVAL;
        i += n;
    }
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-'))
            i++;
        n = digits_at(s, i, len);
        if (n == 0)
            return -EINVAL;
        i += n;
    }
    if (i != len)
        return -EINVAL;
    double d = number_parse(s, len);
    if (!isfinite(d))
        return -EINVAL;
    *v = d;
    return 0;
}

int decode_field_number(const struct json_field *f, double *v)
{
    if (f->type == JSON_T_NUMBER) {
        *v = f->num;
        return 0;
    }
    if (f->type == JSON_T_STRING)
        return decode_number_text(f->str, f->str_len, v);
    return -EINVAL;
}

enum decode_named decode_add_named(struct reading *out, const char *to, enum decode_conv conv,
                                   double scale, const struct json_field *f)
{
    char key[READING_KEY_MAX + 16];
    if (f->is_item) {
        int n = snprintf(key, sizeof(key), "%s_%u", to, f->item);
        if (n < 0 || (size_t)n >= sizeof(key)) {
            out->dropped_keys++;
            return DECODE_REFUSED;
        }
        to = key;
    }
    if (f->type == JSON_T_NULL)
        return DECODE_IGNORED;
    if (reading_find(out, to))
        return DECODE_TAKEN;
    bool typed = false;
    int rc = 0;
    double num = 0;
    switch (conv) {
    case DECODE_NUMBER:
        typed = decode_field_number(f, &num) == 0;
        if (typed)
            rc = reading_add_number(out, to, num * scale);
        break;
    case DECODE_BOOL:
        typed = f->type == JSON_T_BOOL;
        if (typed)
            rc = reading_add_bool(out, to, f->b);
        break;
    case DECODE_ONOFF:
        typed = decode_str_is(f, "ON") || decode_str_is(f, "OFF");
        if (typed)
            rc = reading_add_bool(out, to, decode_str_is(f, "ON"));
        break;
    }
    if (!typed) {
        out->dropped_keys++; /* reading_add_* counts its own refusals */
        return DECODE_REFUSED;
    }
    return rc == 0 ? DECODE_ADDED : DECODE_REFUSED;
}

void decode_pass_through(struct reading *out, const char *key, const struct json_field *f)
{
    if (f->type != JSON_T_NUMBER && f->type != JSON_T_BOOL)
        return;
    if (reading_find(out, key)) {
        out->dropped_keys++;
        return;
    }
    decode_add_field(out, key, f);
}

const char *decode_item_base(const struct json_field *f, char *buf, size_t cap)
{
    if (!f->is_item)
        return f->key;
    char idx[16];
    int n = snprintf(idx, sizeof(idx), "_%u", f->item);
    if (n < 0 || (size_t)n > f->key_len || f->key_len - (size_t)n >= cap)
        return NULL;
    size_t base = f->key_len - (size_t)n;
    memcpy(buf, f->key, base);
    buf[base] = '\0';
    return buf;
}

const struct decode_key_map *decode_map_find(const struct decode_key_map *m, size_t n,
                                             const char *from)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(m[i].from, from) == 0)
            return &m[i];
    }
    return NULL;
}

enum decode_result decode_telemetry_result(const struct reading *out)
{
    return out->n_metrics > 0 ? DECODE_OK : DECODE_EMPTY;
}
