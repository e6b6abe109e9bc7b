/* The parser's side of json_flatten() (json.h): yajl's callbacks write the
 * leaves straight into the flat's field list; no tree is built. The checks
 * jansson makes while it reads (the reject reasons the header documents) are
 * made here, in the order of the text: whitespace other than space, tab, CR
 * and LF (yajl also skips \v and \f), UTF-16 surrogates (yajl lets a lone
 * one through), nesting beyond JSON_PARSER_DEPTH, \u0000, duplicate keys
 * and numbers that overflow. */
#include "json_flatten.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "number.h"

/* The parser's growing arrays and texts are struct bufs that start on the
 * caller's stack (buf_init_on) and move to the heap only for large input. */

/* Appends s and a NUL; returns the offset of the copy, or SIZE_MAX. */
static size_t put_str(struct buf *g, const char *s, size_t len)
{
    char *d = len < SIZE_MAX ? buf_alloc(g, len + 1) : NULL;
    if (!d)
        return SIZE_MAX;
    if (len)
        memcpy(d, s, len);
    d[len] = '\0';
    return (size_t)(d - g->data);
}

static int fail(struct parser *p, enum json_reject why)
{
    p->reject = why;
    return 0;
}

/* jansson stops at whitespace it does not know: a callback for a token after
 * such a byte is a syntax error there. */
static bool past_odd_space(const struct parser *p)
{
    if (p->ws_at == SIZE_MAX)
        return false;
    return p->finishing || p->ws_at < yajl_get_bytes_consumed(p->h);
}

static struct level *top(struct parser *p)
{
    return p->depth ? (struct level *)p->levels.data + p->depth - 1 : NULL;
}

/* Whether a value here is a leaf of the flat: a member of an object that is
 * not inside an array, or an item of an array of items. */
static bool at_leaf(struct parser *p)
{
    struct level *l = top(p);
    return l && ((l->obj && p->arrays == 0) || (l->items && p->arrays == 1));
}

/* ---- strings -------------------------------------------------------------- */

static unsigned hex4(const char *s)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        v = v * 16 + (unsigned)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
    }
    return v;
}

/* The raw text of a string yajl has just decoded: it ends at the closing
 * quote before the parse position; its opening quote is the first quote
 * before that with an even number of backslashes in front of it. */
static void raw_string(const struct parser *p, const char **s, size_t *n)
{
    size_t end = yajl_get_bytes_consumed(p->h) - 1;
    size_t i = end;
    while (i > 0) {
        i--;
        if (p->payload[i] != '"')
            continue;
        size_t bs = 0;
        while (i > bs && p->payload[i - 1 - bs] == '\\')
            bs++;
        if (bs % 2 == 0)
            break;
    }
    *s = p->payload + i + 1;
    *n = end - i - 1;
}

/* False when a \u escape of the raw string s is a UTF-16 surrogate that is
 * not half of a pair (yajl has checked the escapes' syntax). */
static bool surrogates_ok(const char *s, size_t n)
{
    for (size_t i = 0; i + 1 < n; i++) {
        if (s[i] != '\\')
            continue;
        if (s[++i] != 'u')
            continue;
        unsigned cp = hex4(s + i + 1);
        i += 4;
        if (cp >= 0xdc00 && cp <= 0xdfff)
            return false;
        if (cp < 0xd800 || cp > 0xdbff)
            continue;
        if (i + 2 >= n || s[i + 1] != '\\' || s[i + 2] != 'u')
            return false;
        unsigned lo = hex4(s + i + 3);
        if (lo < 0xdc00 || lo > 0xdfff)
            return false;
        i += 6;
    }
    return true;
}

/* Checks a string as a tree-building parser reads it. */
static bool string_ok(struct parser *p, const char *s)
{
    uintptr_t at = (uintptr_t)s, from = (uintptr_t)p->payload;
    if (at >= from && at < from + p->len)
        return true; /* no escapes: yajl handed the payload's own bytes */
    const char *raw;
    size_t n;
    raw_string(p, &raw, &n);
    return surrogates_ok(raw, n);
}

/* ---- duplicate keys ------------------------------------------------------- */

static uint32_t key_hash(const char *s, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

static bool slots_grow(struct parser *p)
{
    size_t n = p->n_slots * 2;
    if (n > SIZE_MAX / sizeof(struct key_slot))
        return false;
    struct key_slot *s = calloc(n, sizeof(*s));
    if (!s)
        return false;
    for (size_t i = 0; i < p->n_slots; i++) {
        struct key_slot *o = &p->slots[i];
        if (!o->obj)
            continue;
        size_t k = o->hash & (n - 1);
        while (s[k].obj)
            k = (k + 1) & (n - 1);
        s[k] = *o;
    }
    if (p->slots != p->stack_slots)
        free(p->slots);
    p->slots = s;
    p->n_slots = n;
    return true;
}

static uint32_t slot_hash(uint32_t obj, const char *key, size_t len)
{
    return key_hash(key, len) ^ (obj * 0x9e3779b9u);
}

/* Moves the keys of lin into the (empty) table. */
static void slots_fill(struct parser *p)
{
    memset(p->slots, 0, p->n_slots * sizeof(*p->slots));
    for (size_t i = 0; i < p->n_lin; i++) {
        struct key_slot s = p->lin[i];
        s.hash = slot_hash(s.obj, (const char *)p->keys.data + s.off, s.len);
        size_t k = s.hash & (p->n_slots - 1);
        while (p->slots[k].obj)
            k = (k + 1) & (p->n_slots - 1);
        p->slots[k] = s;
    }
    p->used_slots = p->n_lin;
    p->hashed = true;
}

/* key_add() for the first keys: a scan, as a message has few. */
static int key_add_linear(struct parser *p, uint32_t obj, const char *key, size_t len)
{
    for (size_t i = 0; i < p->n_lin; i++) {
        const struct key_slot *s = &p->lin[i];
        if (s->obj == obj && s->len == len && memcmp(p->keys.data + s->off, key, len) == 0)
            return 0;
    }
    size_t off = put_str(&p->keys, key, len);
    if (off == SIZE_MAX)
        return -1;
    p->lin[p->n_lin++] = (struct key_slot){.obj = obj, .off = off, .len = len};
    return 1;
}

/* Records key in object obj. Returns 1, 0 when obj already has it, -1 when
 * out of memory. */
static int key_add(struct parser *p, uint32_t obj, const char *key, size_t len)
{
    if (!p->hashed) {
        if (p->n_lin < JSON_LINEAR_KEYS)
            return key_add_linear(p, obj, key, len);
        slots_fill(p);
    }
    if ((p->used_slots + 1) * 2 > p->n_slots && !slots_grow(p))
        return -1;
    uint32_t hash = slot_hash(obj, key, len);
    size_t k = hash & (p->n_slots - 1);
    for (; p->slots[k].obj; k = (k + 1) & (p->n_slots - 1)) {
        const struct key_slot *s = &p->slots[k];
        if (s->obj == obj && s->hash == hash && s->len == len &&
            memcmp(p->keys.data + s->off, key, len) == 0)
            return 0;
    }
    size_t off = put_str(&p->keys, key, len);
    if (off == SIZE_MAX)
        return -1;
    p->slots[k] = (struct key_slot){.obj = obj, .hash = hash, .off = off, .len = len};
    p->used_slots++;
    return 1;
}

/* ---- leaves --------------------------------------------------------------- */

static bool path_seen(const struct parser *p, size_t plen)
{
    const struct flat_leaf *l = (const struct flat_leaf *)p->leaf.data;
    size_t n = p->leaf.len / sizeof(*l);
    for (size_t i = 0; i < n; i++) {
        if (l[i].key_len == plen && memcmp(p->text.data + l[i].key, p->path, plen) == 0)
            return true;
    }
    return false;
}

/* Counts a leaf; returns the field to fill, or NULL when it is not kept
 * (dropped, over the limits, or out of memory: see p->reject). */
static struct flat_leaf *leaf_new(struct parser *p, bool array)
{
    if (++p->leaves > p->lim->max_fields)
        p->too_many = true;
    if (p->too_many || p->too_deep)
        return NULL;
    size_t plen = p->key_plen;
    if (array || plen > JSON_KEY_MAX || path_seen(p, plen)) {
        p->dropped++;
        return NULL;
    }
    size_t key = put_str(&p->text, p->path, plen);
    struct flat_leaf *l = key == SIZE_MAX ? NULL : buf_alloc(&p->leaf, sizeof(*l));
    if (!l) {
        p->reject = JSON_TOO_LARGE;
        return NULL;
    }
    memset(l, 0, sizeof(*l));
    l->key = key;
    l->key_len = plen;
    return l;
}

/* Checks common to every scalar once the token is read; false to stop. */
static bool scalar_nesting_ok(struct parser *p)
{
    if (p->depth + 1 > JSON_PARSER_DEPTH)
        return fail(p, JSON_TOO_DEEP);
    return true;
}

/* Adds a scalar leaf of type t; its text (string or number) is s/len. */
static int add_scalar(struct parser *p, enum json_type t, double num, bool b, const char *s,
                      size_t len)
{
    if (!at_leaf(p))
        return 1;
    struct level *in = top(p);
    uint32_t item = in->items ? in->count++ : 0;
    if (in->items) {
        /* The array's key and "_<item>"; past max_items: dropped. */
        char idx[16];
        int n = snprintf(idx, sizeof(idx), "_%u", (unsigned)item);
        size_t plen = (size_t)in->plen + (size_t)n;
        if (item >= p->lim->max_items) {
            leaf_new(p, true);
            return p->reject == JSON_OK;
        }
        if (plen <= JSON_KEY_MAX)
            memcpy(p->path + in->plen, idx, (size_t)n);
        p->key_plen = (uint16_t)(plen > JSON_KEY_MAX ? JSON_KEY_MAX + 1 : plen);
    }
    struct flat_leaf *l = leaf_new(p, false);
    if (!l)
        return p->reject == JSON_OK;
    l->is_item = in->items;
    l->item = item;
    l->type = t;
    l->num = num;
    l->b = b;
    if (s) {
        size_t off = put_str(&p->text, s, len);
        if (off == SIZE_MAX)
            return fail(p, JSON_TOO_LARGE);
        l->str = off;
        l->str_len = len;
    }
    return 1;
}

/* ---- yajl callbacks ------------------------------------------------------- */

static int cb_null(void *ctx)
{
    struct parser *p = ctx;
    if (past_odd_space(p))
        return fail(p, JSON_SYNTAX);
    if (!scalar_nesting_ok(p))
        return 0;
    return add_scalar(p, JSON_T_NULL, 0, false, NULL, 0);
}

static int cb_boolean(void *ctx, int b)
{
    struct parser *p = ctx;
    if (past_odd_space(p))
        return fail(p, JSON_SYNTAX);
    if (!scalar_nesting_ok(p))
        return 0;
    return add_scalar(p, JSON_T_BOOL, 0, b != 0, NULL, 0);
}

static int cb_number(void *ctx, const char *s, size_t len)
{
    struct parser *p = ctx;
    if (past_odd_space(p))
        return fail(p, JSON_SYNTAX);
    double v = number_parse(s, len);
    if (isnan(v))
        return fail(p, JSON_TOO_LARGE);
    if (isinf(v))
        return fail(p, JSON_NON_FINITE);
    if (!scalar_nesting_ok(p))
        return 0;
    return add_scalar(p, JSON_T_NUMBER, v, false, s, len);
}

static int cb_string(void *ctx, const unsigned char *s, size_t len)
{
    struct parser *p = ctx;
    if (past_odd_space(p) || !string_ok(p, (const char *)s))
        return fail(p, JSON_SYNTAX);
    if (!scalar_nesting_ok(p))
        return 0;
    if (memchr(s, '\0', len))
        return fail(p, JSON_NUL);
    return add_scalar(p, JSON_T_STRING, 0, false, (const char *)s, len);
}

static int cb_map_key(void *ctx, const unsigned char *key, size_t len)
{
    struct parser *p = ctx;
    if (past_odd_space(p) || !string_ok(p, (const char *)key))
        return fail(p, JSON_SYNTAX);
    if (memchr(key, '\0', len))
        return fail(p, JSON_NUL);
    struct level *l = top(p);
    int added = key_add(p, l->obj, (const char *)key, len);
    if (added <= 0)
        return fail(p, added < 0 ? JSON_TOO_LARGE : JSON_SYNTAX);
    if (p->arrays)
        return 1;
    size_t sep = l->root ? 0 : 1;
    size_t plen = len > JSON_KEY_MAX ? JSON_KEY_MAX + 1 : l->plen + sep + len;
    p->key_plen = (uint16_t)(plen > JSON_KEY_MAX ? JSON_KEY_MAX + 1 : plen);
    if (plen <= JSON_KEY_MAX) {
        if (sep)
            p->path[l->plen] = '_';
        memcpy(p->path + l->plen + sep, key, len);
    }
    return 1;
}

/* A container starts: checks, counts the leaf it may be, pushes a level. */
static int open_level(struct parser *p, bool array)
{
    if (past_odd_space(p))
        return fail(p, JSON_SYNTAX);
    if (p->depth + 1 > JSON_PARSER_DEPTH)
        return fail(p, JSON_TOO_DEEP);
    if (p->depth + 1 > (size_t)(p->lim->max_depth > 0 ? p->lim->max_depth : 0))
        p->too_deep = true;
    struct level *parent = top(p);
    bool items = array && p->lim->max_items && parent && parent->obj && p->arrays == 0;
    if (parent && parent->items && p->arrays == 1)
        parent->count++; /* a container where items are scalars: dropped */
    if (!items && at_leaf(p) && (array || (parent->items && p->arrays == 1))) {
        leaf_new(p, true);
        if (p->reject != JSON_OK)
            return 0;
    }
    struct level l = {.root = p->depth == 0, .items = items};
    if (items)
        l.plen = p->key_plen;
    void *slot = buf_alloc(&p->levels, sizeof(l));
    if (!slot)
        return fail(p, JSON_TOO_LARGE);
    if (l.root)
        p->root_object = !array;
    if (!array) {
        l.obj = ++p->next_obj;
        l.plen = l.root ? 0 : p->key_plen;
    }
    memcpy(slot, &l, sizeof(l));
    p->depth++;
    p->arrays += array;
    return 1;
}

static int close_level(struct parser *p, bool array)
{
    if (past_odd_space(p))
        return fail(p, JSON_SYNTAX);
    p->depth--;
    buf_truncate(&p->levels, p->levels.len - sizeof(struct level));
    p->arrays -= array;
    if (p->depth == 0 && !p->finishing)
        p->end_at = yajl_get_bytes_consumed(p->h);
    return 1;
}

/* yajl takes a string left open after the top-level value ({"a":1}"}) for
 * one still arriving, and its end for the end of the text: only JSON
 * whitespace may follow the top-level container. */
bool json_flatten_only_space_after(const struct parser *p)
{
    for (size_t i = p->end_at; i < p->len; i++) {
        char c = p->payload[i];
        if (c != ' ' && c != '\t' && c != '\r' && c != '\n')
            return false;
    }
    return true;
}

static int cb_start_map(void *ctx)
{
    return open_level(ctx, false);
}

static int cb_end_map(void *ctx)
{
    return close_level(ctx, false);
}

static int cb_start_array(void *ctx)
{
    return open_level(ctx, true);
}

static int cb_end_array(void *ctx)
{
    return close_level(ctx, true);
}

const yajl_callbacks json_flatten_callbacks = {
    .yajl_null = cb_null,
    .yajl_boolean = cb_boolean,
    .yajl_number = cb_number,
    .yajl_string = cb_string,
    .yajl_start_map = cb_start_map,
    .yajl_map_key = cb_map_key,
    .yajl_end_map = cb_end_map,
    .yajl_start_array = cb_start_array,
    .yajl_end_array = cb_end_array,
};
