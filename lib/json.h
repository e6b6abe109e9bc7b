/* The one module that parses JSON: device payloads in one pass with yajl,
 * everything else with jansson. It turns a payload into a flat list of leaf
 * fields, so decoders never see a JSON library.
 *
 * Nested objects are flattened with '_' between keys ({"a":{"b":1}} gives
 * "a_b"). Arrays are not flattened: a field whose value is an array is
 * dropped and counted in dropped, unless the limits ask for array items (see
 * json_limits.max_items). So is a field whose flattened key would be
 * longer than JSON_KEY_MAX, and one whose flattened key repeats an earlier
 * one ({"a_b":1,"a":{"b":2}}: the second "a_b" is dropped, never merged).
 * Fields keep the payload's order.
 *
 * Duplicate keys inside one object are a syntax error (JSON_SYNTAX): which of
 * them a reader keeps is undefined, so the message is refused. Numbers are
 * read as doubles (integers beyond 2^53 lose precision, they are not
 * refused); a number that overflows a double is JSON_NON_FINITE. */
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
    /* For JSON_T_NUMBER: the number as the payload wrote it (JSON number
     * syntax, NUL-terminated), num_len bytes; num is the double nearest to
     * it. NULL for other types. */
    const char *num_text;
    size_t num_len;
    /* An item of an array (json_limits.max_items): key is the array's key
     * and "_<item>", item counting from 0. */
    bool is_item;
    unsigned item;
};

struct json_flat {
    size_t n;
    unsigned dropped; /* arrays, keys too long to flatten */
    struct json_field *fields;
    /* private */
    void *priv;
};

#define JSON_KEY_MAX 255 /* bytes of a flattened key */

struct json_limits {
    size_t max_bytes;  /* e.g. 65536 */
    int max_depth;     /* e.g. 8; the top-level object is depth 1 */
    size_t max_fields; /* e.g. 256 */
    /* 0: a field whose value is an array is dropped (counted once). Else the
     * scalar items of an array that is a member of an object are leaves,
     * each keyed "<key>_<i>" (i from 0) and marked is_item, at most
     * max_items of them per array; items past that, and arrays or objects
     * inside the array, are dropped and counted one each. Every item counts
     * towards max_fields. */
    size_t max_items;
};

/* Defaults used when lim is NULL. */
#define JSON_DEFAULT_MAX_BYTES 65536
#define JSON_DEFAULT_MAX_DEPTH 8
#define JSON_DEFAULT_MAX_FIELDS 256

/* Parses and flattens payload. The checks run in this order: size
 * (JSON_TOO_LARGE), UTF-8 (JSON_BAD_UTF8), the parse (JSON_NUL, JSON_SYNTAX,
 * JSON_NON_FINITE, whichever comes first in the text; nesting beyond the
 * parser's own limit of 2048 levels is JSON_TOO_DEEP there too),
 * then JSON_NOT_OBJECT, JSON_TOO_DEEP and JSON_TOO_MANY (leaves, counting
 * dropped arrays); running out of memory is JSON_TOO_LARGE. lim may be NULL
 * for the defaults. On JSON_OK, *out must be
 * released with json_flat_free(); on any reject *out is empty and nothing
 * needs freeing. One allocation holds the fields, keys, strings and number
 * texts; no tree is built. */
enum json_reject json_flatten(const char *payload, size_t len, const struct json_limits *lim,
                              struct json_flat *out);
void json_flat_free(struct json_flat *f); /* NULL or an empty flat: nothing */

/* The field with exactly this key, or NULL. */
const struct json_field *json_flat_get(const struct json_flat *f, const char *key);

/* A short name for each reject reason: "too_large", "bad_utf8", ... */
const char *json_reject_name(enum json_reject r);

/* ---- arrays of objects ----------------------------------------------------
 *
 * Zigbee2MQTT's device list (zigbee2mqtt/bridge/devices) is an array of
 * objects, which json_flatten() does not take. json_array_elements() reads
 * such an array (the top level, or the member of that name of a top-level
 * object) and writes each of its first max_items elements back as compact
 * JSON text (text[i], len[i] bytes, NUL-terminated), for json_flatten() to
 * read one by one; total says how many there were. */
struct json_elements {
    size_t n, total;
    char **text;
    size_t *len;
};

/* member: NULL for a top-level array. Returns 0 and fills *out (release
 * with json_elements_free()), or -EMSGSIZE over max_bytes, -EBADMSG when it
 * is not valid UTF-8 JSON, -EPROTO when there is no such array, -ENOMEM. On
 * failure *out is empty. */
int json_array_elements(const char *text, size_t len, const char *member, size_t max_bytes,
                        size_t max_items, struct json_elements *out);
void json_elements_free(struct json_elements *e); /* NULL or empty: nothing */

/* ---- InfluxDB /query answers ----------------------------------------------
 *
 * InfluxDB 1.x (and 2.x's /query compatibility endpoint) answers a query with
 *   {"results":[{"statement_id":0,"series":[{"name":"env","tags":{"device":"e1"},
 *     "columns":["time","max"],"values":[[1700000000000,1300]]}]},
 *    {"statement_id":1,"error":"..."}]}
 * or, for a query that does not parse, {"error":"..."}. json_influx_table()
 * turns such an answer into a flat list of series, whatever statement they
 * came from, in the answer's order. */

/* One value of a row: a number (always a double: integers beyond 2^53, such
 * as epoch=ns times, lose precision; ask for epoch=ms), a bool, a string or
 * null (the column has no value in this row). */
struct json_cell {
    enum json_type type;
    double num;
    bool b;
    const char *str; /* JSON_T_STRING: NUL-terminated UTF-8, no NUL inside */
};

struct json_series {
    size_t statement_id; /* of the result it came from */
    const char *name;    /* the measurement; "" when the answer has none */
    size_t n_tags;       /* the GROUP BY tags, in the answer's order */
    const char **tag_keys, **tag_values;
    size_t n_columns;
    const char **columns;
    size_t n_rows;
    const struct json_cell *cells; /* n_rows * n_columns, row by row */
};

struct json_table {
    size_t n_results; /* statements answered */
    size_t n_series;
    struct json_series *series;
    /* The answer's top-level "error" (the query did not parse, bad auth), or
     * else the first statement's "error" ("database not found: x"); NULL
     * when none. A statement's error is not a parse failure: the other
     * statements' series are still there. */
    const char *error;
    long error_statement; /* statement_id of error; -1 for the top level */
    /* private */
    void *priv;
};

#define JSON_INFLUX_MAX_BYTES (64u << 20) /* answers larger than this are refused */

/* Parses an InfluxDB /query answer of len bytes. Returns 0 and fills *out
 * (release it with json_table_free()); or -EMSGSIZE over
 * JSON_INFLUX_MAX_BYTES, -EBADMSG when it is not valid UTF-8 JSON (a body
 * cut short included), -EPROTO when it is JSON but not an answer of that
 * shape (no "results" and no "error", a row of another width than its
 * columns, a nested value in a row), -ENOMEM. On failure *out is empty and
 * needs no freeing. Every string of *out lives in *out's own storage. */
int json_influx_table(const char *body, size_t len, struct json_table *out);
void json_table_free(struct json_table *t); /* NULL or an empty table: nothing */

/* The first series of statement statement_id, or NULL when it has none
 * (an aggregate over no points answers with no series at all). */
const struct json_series *json_table_find(const struct json_table *t, size_t statement_id);

/* The index of column name in s, or -1. */
int json_series_column(const struct json_series *s, const char *name);

/* The cell of row and column name, or NULL when there is no such row or
 * column. */
const struct json_cell *json_series_cell(const struct json_series *s, size_t row, const char *name);

#endif
