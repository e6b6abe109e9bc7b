#include "unbound.h"

#include <stdlib.h>
#include <string.h>

#include "utf8.h"

struct unbound {
    struct unbound_device *v;
    size_t n, cap, max;
    uint64_t version, members;
};

struct unbound *unbound_new(size_t max)
{
    struct unbound *u = calloc(1, sizeof(*u));
    if (!u)
        return NULL;
    u->max = max < UNBOUND_MAX_LIMIT ? max : UNBOUND_MAX_LIMIT;
    return u;
}

void unbound_free(struct unbound *u)
{
    if (!u)
        return;
    free(u->v);
    free(u);
}

static void remove_at(struct unbound *u, size_t i)
{
    u->v[i] = u->v[--u->n];
    u->version++;
    u->members++;
}

/* The entry seen longest ago (the first of equals). */
static size_t oldest(const struct unbound *u)
{
    size_t o = 0;
    for (size_t i = 1; i < u->n; i++)
        if (u->v[i].last_seen < u->v[o].last_seen)
            o = i;
    return o;
}

size_t unbound_set_max(struct unbound *u, size_t max)
{
    size_t evicted = 0;
    u->max = max < UNBOUND_MAX_LIMIT ? max : UNBOUND_MAX_LIMIT;
    while (u->n > u->max) {
        remove_at(u, oldest(u));
        evicted++;
    }
    return evicted;
}

static struct unbound_device *find(struct unbound *u, enum source_format f, const char *name)
{
    for (size_t i = 0; i < u->n; i++)
        if (u->v[i].format == f && strcmp(u->v[i].name, name) == 0)
            return &u->v[i];
    return NULL;
}

/* Copies text when it is plain text (cut to fit); leaves dst as it was
 * otherwise, and for NULL or "". */
static void set_text(char *dst, size_t size, const char *src)
{
    if (!src || !*src)
        return;
    size_t n = utf8_cut(src, strlen(src), size - 1);
    if (!utf8_plain_text(src, n))
        return;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* The first bytes of s as plain text: each byte that does not start a
 * plain-text character becomes '?'. */
static void set_sample(char *dst, size_t size, const char *s, size_t n)
{
    size_t o = 0;
    n = utf8_cut(s, n, size - 1);
    while (n > 0) {
        size_t len = utf8_decode(s, n, NULL);
        if (len == 0 || !utf8_plain_text(s, len)) {
            dst[o++] = '?';
            len = len ? len : 1;
        } else {
            memcpy(dst + o, s, len);
            o += len;
        }
        s += len;
        n -= len;
    }
    dst[o] = '\0';
}

static bool name_ok(enum source_format f, const char *name)
{
    size_t len = name ? strlen(name) : 0;
    return f != FORMAT_NATIVE && (unsigned)f < FORMAT_COUNT && len > 0 &&
           len <= CONFIG_SOURCE_NAME_MAX && utf8_plain_text(name, len) &&
           !config_source_name_problem(f, name);
}

enum unbound_result unbound_note(struct unbound *u, const struct unbound_seen *s, wall_s now)
{
    if (!name_ok(s->format, s->name))
        return UNBOUND_REFUSED;
    enum unbound_result r = UNBOUND_UPDATED;
    struct unbound_device *d = find(u, s->format, s->name);
    if (!d) {
        if (u->max == 0)
            return UNBOUND_REFUSED;
        r = UNBOUND_ADDED;
        if (u->n == u->max) {
            remove_at(u, oldest(u));
            r = UNBOUND_EVICTED;
        }
        if (u->n == u->cap) {
            size_t cap = u->cap ? u->cap * 2 : 16;
            cap = cap < u->max ? cap : u->max;
            struct unbound_device *v = realloc(u->v, cap * sizeof(*v));
            if (!v)
                return UNBOUND_REFUSED;
            u->v = v;
            u->cap = cap;
        }
        d = &u->v[u->n++];
        u->members++;
        memset(d, 0, sizeof(*d));
        d->format = s->format;
        memcpy(d->name, s->name, strlen(s->name) + 1);
        d->first_seen = now;
    }
    set_text(d->mac, sizeof(d->mac), s->mac);
    set_text(d->model, sizeof(d->model), s->model);
    set_text(d->description, sizeof(d->description), s->description);
    set_text(d->via, sizeof(d->via), s->via);
    if (s->sample && s->sample_len)
        set_sample(d->sample, sizeof(d->sample), s->sample, s->sample_len);
    d->last_seen = now;
    u->version++;
    return r;
}

size_t unbound_forget_bound(struct unbound *u, const struct config *cfg)
{
    size_t gone = 0;
    for (size_t i = 0; i < u->n;) {
        if (config_source_bound(cfg, u->v[i].format, u->v[i].name)) {
            remove_at(u, i);
            gone++;
        } else {
            i++;
        }
    }
    return gone;
}

size_t unbound_count(const struct unbound *u)
{
    return u->n;
}

size_t unbound_max(const struct unbound *u)
{
    return u->max;
}

const struct unbound_device *unbound_get(const struct unbound *u, size_t i)
{
    return i < u->n ? &u->v[i] : NULL;
}

const struct unbound_device *unbound_find_mac(const struct unbound *u, enum source_format format,
                                              const char *mac)
{
    for (size_t i = 0; mac && *mac && i < u->n; i++)
        if (u->v[i].format == format && strcmp(u->v[i].mac, mac) == 0)
            return &u->v[i];
    return NULL;
}

uint64_t unbound_version(const struct unbound *u)
{
    return u->version;
}

uint64_t unbound_members_version(const struct unbound *u)
{
    return u->members;
}

int unbound_source_literal(const struct unbound_device *d, char *out, size_t size)
{
    const char *fmt = config_format_name(d->format);
    size_t o = 0, fl = strlen(fmt);
    if (size < fl + 4)
        return -1;
    out[o++] = '"';
    memcpy(out + o, fmt, fl);
    o += fl;
    out[o++] = ':';
    for (const char *p = d->name; *p; p++) {
        bool esc = *p == '"' || *p == '\\';
        if (o + (esc ? 2 : 1) + 2 > size)
            return -1;
        if (esc)
            out[o++] = '\\';
        out[o++] = *p;
    }
    out[o++] = '"';
    out[o] = '\0';
    return (int)o;
}
