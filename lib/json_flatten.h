/* Private to the JSON module (json.c, json_flatten.c): the state of one
 * json_flatten() and the yajl callbacks that fill it. json.c runs yajl and
 * builds the result; json_flatten.c is the parser's side. Nothing else may
 * include this header. */
#ifndef HALLGW_JSON_FLATTEN_H
#define HALLGW_JSON_FLATTEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yajl/yajl_parse.h>

#include "buf.h"
#include "json.h"

/* The parser's own nesting limit: any value (scalars included) nested deeper
 * is JSON_TOO_DEEP while parsing, whatever max_depth says. */
#define JSON_PARSER_DEPTH 2048

/* Number of bytes yajl may take from the stack arena of one call. */
#define JSON_ARENA_BYTES 8192
#define JSON_STACK_FIELDS 16
#define JSON_STACK_TEXT 1024
#define JSON_STACK_KEYS 512
#define JSON_STACK_SLOTS 64 /* duplicate-key table, a power of two */
#define JSON_LINEAR_KEYS 16 /* keys checked by a plain scan before the table */
#define JSON_STACK_LEVELS 32

/* A field while parsing: text by offset, as the text buffer may move. */
struct flat_leaf {
    size_t key, key_len;
    enum json_type type;
    double num;
    bool b;
    size_t str, str_len; /* JSON_T_STRING: the string; JSON_T_NUMBER: its text */
    bool is_item;        /* an item of an array (json_limits.max_items) */
    unsigned item;
};

/* An open object or array. */
struct level {
    uint32_t obj;  /* objects: an id for the duplicate-key table; 0 for arrays */
    uint16_t plen; /* objects, and arrays of items: flattened length of the path to it, capped */
    bool root;
    bool items;     /* an array whose scalars are leaves (json_limits.max_items) */
    uint32_t count; /* items: the values seen so far */
};

/* A key already seen in an object, in the keys buffer. */
struct key_slot {
    uint32_t obj; /* 0: empty */
    uint32_t hash;
    size_t off, len;
};

struct parser {
    const char *payload;
    size_t len;
    const struct json_limits *lim;
    yajl_handle h;
    size_t ws_at;   /* first \v or \f in the payload; SIZE_MAX when none */
    bool finishing; /* in yajl_complete_parse(): all the text was read */
    size_t end_at;  /* just past the top-level container; SIZE_MAX before */
    enum json_reject reject;

    struct buf levels; /* struct level */
    size_t depth;      /* open containers */
    size_t arrays;     /* open arrays among them */
    uint32_t next_obj;
    bool root_object, too_deep, too_many;

    struct buf keys; /* raw keys of the objects, for duplicates */
    /* The first keys are looked up by a scan of lin; past JSON_LINEAR_KEYS
     * they all move to slots, a table with open addressing. */
    struct key_slot lin[JSON_LINEAR_KEYS];
    size_t n_lin;
    bool hashed;
    struct key_slot *slots;
    size_t n_slots, used_slots;
    struct key_slot *stack_slots;

    uint16_t key_plen; /* flattened length of the current key, capped */
    char path[JSON_KEY_MAX + 1];

    size_t leaves;
    unsigned dropped;
    struct buf leaf; /* struct flat_leaf */
    struct buf text; /* keys, strings and number texts of the leaves */
};

/* The callbacks yajl calls with a struct parser as its context. */
extern const yajl_callbacks json_flatten_callbacks;

/* True when only JSON whitespace follows the top-level container. */
bool json_flatten_only_space_after(const struct parser *p);

#endif
