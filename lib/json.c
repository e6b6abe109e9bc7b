#include "json.h"

#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>

#include "json_flatten.h"
#include "utf8.h"

static const struct json_limits default_limits = {
    .max_bytes = JSON_DEFAULT_MAX_BYTES,
    .max_depth = JSON_DEFAULT_MAX_DEPTH,
    .max_fields = JSON_DEFAULT_MAX_FIELDS,
};

/* ---- json_flatten: one pass with yajl (the callbacks: json_flatten.c) ---- */

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

/* ---- an arena for yajl's allocations: the caller's stack, then the heap -- */

struct arena {
    unsigned char *mem;
    size_t cap, used;
};

struct arena_hdr {
    size_t size;
    size_t heap; /* 1: its own malloc() block */
};

#define ARENA_HDR 16 /* sizeof(struct arena_hdr), keeps 16-byte alignment */

static size_t ya_span(size_t size)
{
    return ARENA_HDR + ((size + ARENA_HDR - 1) & ~(size_t)(ARENA_HDR - 1));
}

static struct arena_hdr ya_hdr_of(void *p)
{
    struct arena_hdr h;
    memcpy(&h, (unsigned char *)p - ARENA_HDR, sizeof(h));
    return h;
}

static void *ya_malloc(void *ctx, size_t size)
{
    struct arena *a = ctx;
    struct arena_hdr h = {.size = size};
    unsigned char *blk;
    if (size < SIZE_MAX / 2 && ya_span(size) <= a->cap - a->used) {
        blk = a->mem + a->used;
        a->used += ya_span(size);
    } else {
        blk = size < SIZE_MAX - ARENA_HDR ? malloc(ARENA_HDR + size) : NULL;
        if (!blk)
            return NULL;
        h.heap = 1;
    }
    memcpy(blk, &h, sizeof(h));
    return blk + ARENA_HDR;
}

static bool ya_is_last(const struct arena *a, void *p, size_t size)
{
    return (unsigned char *)p - ARENA_HDR + ya_span(size) == a->mem + a->used;
}

static void ya_free(void *ctx, void *p)
{
    struct arena *a = ctx;
    if (!p)
        return;
    struct arena_hdr h = ya_hdr_of(p);
    if (h.heap)
        free((unsigned char *)p - ARENA_HDR);
    else if (ya_is_last(a, p, h.size))
        a->used -= ya_span(h.size);
}

static void *ya_realloc(void *ctx, void *p, size_t size)
{
    struct arena *a = ctx;
    if (!p)
        return ya_malloc(ctx, size);
    struct arena_hdr h = ya_hdr_of(p);
    if (h.heap) {
        if (size >= SIZE_MAX - ARENA_HDR)
            return NULL;
        unsigned char *blk = realloc((unsigned char *)p - ARENA_HDR, ARENA_HDR + size);
        if (!blk)
            return NULL;
        h.size = size;
        memcpy(blk, &h, sizeof(h));
        return blk + ARENA_HDR;
    }
    if (size <= h.size)
        return p;
    size_t base = (size_t)((unsigned char *)p - ARENA_HDR - a->mem);
    if (ya_is_last(a, p, h.size) && size < SIZE_MAX / 2 && ya_span(size) <= a->cap - base) {
        a->used = base + ya_span(size);
        h.size = size;
        memcpy((unsigned char *)p - ARENA_HDR, &h, sizeof(h));
        return p;
    }
    void *q = ya_malloc(ctx, size);
    if (q)
        memcpy(q, p, h.size);
    return q;
}

/* ---- json_flatten --------------------------------------------------------- */

static size_t odd_space_at(const char *s, size_t len)
{
    const char *v = memchr(s, '\v', len);
    const char *f = memchr(s, '\f', len);
    if (!v && !f)
        return SIZE_MAX;
    if (!v || (f && f < v))
        v = f;
    return (size_t)(v - s);
}

/* The reason for a text yajl refused itself. yajl refuses every lexical and
 * grammar error alike; a reader that reads the next token before judging its
 * place (jansson, the documented behaviour) refuses a misplaced number that
 * overflows a double as JSON_NON_FINITE. Such a text is read again with
 * jansson to tell. */
static enum json_reject syntax_reason(const char *payload, size_t len)
{
    json_error_t err;
    json_t *root = json_loadb(
        payload, len, JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL | JSON_REJECT_DUPLICATES, &err);
    if (!root)
        return map_error(&err);
    json_decref(root);
    return JSON_SYNTAX;
}

static enum json_reject run_parse(struct parser *p, struct arena *a)
{
    yajl_alloc_funcs af = {ya_malloc, ya_realloc, ya_free, a};
    p->h = yajl_alloc(&json_flatten_callbacks, &af, p);
    if (!p->h)
        return JSON_TOO_LARGE;
    yajl_config(p->h, yajl_dont_validate_strings, 1); /* checked whole before */
    yajl_status st = yajl_parse(p->h, (const unsigned char *)p->payload, p->len);
    if (st == yajl_status_ok) {
        p->finishing = true;
        st = yajl_complete_parse(p->h);
    }
    yajl_free(p->h);
    p->h = NULL;
    if (st == yajl_status_client_canceled)
        return p->reject;
    if (st != yajl_status_ok)
        return syntax_reason(p->payload, p->len);
    if (p->ws_at != SIZE_MAX || (p->end_at != SIZE_MAX && !json_flatten_only_space_after(p)))
        return JSON_SYNTAX;
    if (!p->root_object)
        return JSON_NOT_OBJECT;
    if (p->too_deep)
        return JSON_TOO_DEEP;
    if (p->too_many)
        return JSON_TOO_MANY;
    return JSON_OK;
}

/* Copies the leaves into one block: fields, then their text. */
static enum json_reject flat_build(const struct parser *p, struct json_flat *out)
{
    const struct flat_leaf *l = (const struct flat_leaf *)p->leaf.data;
    size_t n = p->leaf.len / sizeof(*l);
    out->dropped = p->dropped;
    if (n == 0)
        return JSON_OK;
    char *block = malloc(n * sizeof(struct json_field) + p->text.len);
    if (!block)
        return JSON_TOO_LARGE;
    struct json_field *f = (struct json_field *)block;
    char *text = block + n * sizeof(struct json_field);
    memcpy(text, p->text.data, p->text.len);
    for (size_t i = 0; i < n; i++) {
        f[i] = (struct json_field){.key = text + l[i].key,
                                   .key_len = l[i].key_len,
                                   .type = l[i].type,
                                   .num = l[i].num,
                                   .b = l[i].b,
                                   .is_item = l[i].is_item,
                                   .item = l[i].item};
        if (l[i].type == JSON_T_STRING) {
            f[i].str = text + l[i].str;
            f[i].str_len = l[i].str_len;
        } else if (l[i].type == JSON_T_NUMBER) {
            f[i].num_text = text + l[i].str;
            f[i].num_len = l[i].str_len;
        }
    }
    out->n = n;
    out->fields = f;
    out->priv = block;
    return JSON_OK;
}

enum json_reject json_flatten(const char *payload, size_t len, const struct json_limits *lim,
                              struct json_flat *out)
{
    memset(out, 0, sizeof(*out));
    if (!lim)
        lim = &default_limits;
    if (len > lim->max_bytes)
        return JSON_TOO_LARGE;
    if (!payload || !utf8_valid(payload, len))
        return payload ? JSON_BAD_UTF8 : JSON_SYNTAX;

    _Alignas(16) unsigned char arena_mem[JSON_ARENA_BYTES];
    /* One byte more each: a struct buf keeps a NUL after its bytes. */
    _Alignas(16) char leaf_mem[JSON_STACK_FIELDS * sizeof(struct flat_leaf) + 1];
    _Alignas(16) char level_mem[JSON_STACK_LEVELS * sizeof(struct level) + 1];
    char text_mem[JSON_STACK_TEXT], key_mem[JSON_STACK_KEYS];
    struct key_slot slot_mem[JSON_STACK_SLOTS];
    struct arena a = {.mem = arena_mem, .cap = sizeof(arena_mem)};
    struct parser p = {.payload = payload, .len = len, .lim = lim, .end_at = SIZE_MAX};
    p.ws_at = odd_space_at(payload, len);
    buf_init_on(&p.levels, level_mem, sizeof(level_mem), 0);
    buf_init_on(&p.keys, key_mem, sizeof(key_mem), 0);
    buf_init_on(&p.leaf, leaf_mem, sizeof(leaf_mem), 0);
    buf_init_on(&p.text, text_mem, sizeof(text_mem), 0);
    p.slots = p.stack_slots = slot_mem;
    p.n_slots = JSON_STACK_SLOTS;

    enum json_reject rc = run_parse(&p, &a);
    if (rc == JSON_OK)
        rc = flat_build(&p, out);
    buf_free(&p.levels);
    buf_free(&p.keys);
    buf_free(&p.leaf);
    if (p.text.data) /* the strings' copies: a token or key among them */
        explicit_bzero(p.text.data, p.text.len);
    buf_free(&p.text);
    if (p.slots != p.stack_slots)
        free(p.slots);
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
