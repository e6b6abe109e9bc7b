/* The one module that parses JSON (jansson). It turns a payload into a flat
 * list of leaf fields, so decoders never see the JSON library.
 *
 * Nested objects are flattened with '_' between keys ({"a":{"b":1}} gives
 * "a_b"). Arrays are not flattened: a field whose value is an array is
 * dropped and counted in dropped. */
#ifndef HALLGW_JSON_H
#define HALLGW_JSON_H

#include <stdbool.h>
#include <stddef.h>

enum json_reject {
    JSON_OK = 0,
    JSON_TOO_LARGE,  /* over max_bytes */
    JSON_BAD_UTF8,   /* payload is not valid UTF-8 */
    JSON_NUL,        /* \u0000 in a key or string */
    JSON_SYNTAX,     /* not JSON (includes NaN, Infinity) */
    JSON_NON_FINITE, /* a number that overflows a double (1e999) */
    JSON_TOO_DEEP,   /* nesting deeper than max_depth */
    JSON_NOT_OBJECT, /* top level is not an object */
    JSON_TOO_MANY,   /* more than max_fields leaves */
};
#define JSON_REJECT_COUNT 9

enum json_type { JSON_T_NUMBER, JSON_T_BOOL, JSON_T_STRING, JSON_T_NULL };

struct json_field {
    const char *key; /* flattened path, NUL-terminated, in the flat's storage */
    size_t key_len;
    enum json_type type;
    double num;
    bool b;
    const char *str; /* for JSON_T_STRING: UTF-8, no NUL inside */
    size_t str_len;
};

struct json_flat {
    size_t n;
    unsigned dropped; /* arrays, keys too long to flatten */
    struct json_field *fields;
    /* private */
    void *priv;
};

struct json_limits {
    size_t max_bytes;  /* e.g. 65536 */
    int max_depth;     /* e.g. 8; the top-level object is depth 1 */
    size_t max_fields; /* e.g. 256 */
};

/* Parses and flattens payload. On JSON_OK, *out must be released with
 * json_flat_free(). On any reject, nothing needs freeing. */
enum json_reject json_flatten(const char *payload, size_t len, const struct json_limits *lim,
                              struct json_flat *out);
void json_flat_free(struct json_flat *f);

/* The field with exactly this key, or NULL. */
const struct json_field *json_flat_get(const struct json_flat *f, const char *key);

/* True when the bytes are valid UTF-8 (no overlongs, no surrogates). */
bool json_utf8_valid(const char *s, size_t len);

/* A short name for each reject reason: "too_large", "bad_utf8", ... */
const char *json_reject_name(enum json_reject r);

#endif
