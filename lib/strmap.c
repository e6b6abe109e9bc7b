#include "strmap.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct entry {
    struct entry *next;
    void *value;
    uint64_t hash;
    char key[];
};

struct strmap {
    struct entry **buckets;
    size_t n_buckets, count;
};

uint64_t strmap_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

struct strmap *strmap_new(void)
{
    struct strmap *m = calloc(1, sizeof(*m));
    if (!m)
        return NULL;
    m->n_buckets = 64;
    m->buckets = calloc(m->n_buckets, sizeof(*m->buckets));
    if (!m->buckets) {
        free(m);
        return NULL;
    }
    return m;
}

void strmap_free(struct strmap *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n_buckets; i++) {
        struct entry *e = m->buckets[i];
        while (e) {
            struct entry *next = e->next;
            free(e);
            e = next;
        }
    }
    free(m->buckets);
    free(m);
}

static struct entry **find(const struct strmap *m, const char *key, uint64_t h)
{
    struct entry **p = &m->buckets[h & (m->n_buckets - 1)];
    while (*p && ((*p)->hash != h || strcmp((*p)->key, key) != 0))
        p = &(*p)->next;
    return p;
}

void *strmap_get(const struct strmap *m, const char *key)
{
    struct entry *e = *find(m, key, strmap_hash(key));
    return e ? e->value : NULL;
}

static void grow(struct strmap *m)
{
    size_t n = m->n_buckets * 2;
    struct entry **nb = calloc(n, sizeof(*nb));
    if (!nb)
        return; /* stay slower, still correct */
    for (size_t i = 0; i < m->n_buckets; i++) {
        struct entry *e = m->buckets[i];
        while (e) {
            struct entry *next = e->next;
            e->next = nb[e->hash & (n - 1)];
            nb[e->hash & (n - 1)] = e;
            e = next;
        }
    }
    free(m->buckets);
    m->buckets = nb;
    m->n_buckets = n;
}

int strmap_put(struct strmap *m, const char *key, void *value)
{
    uint64_t h = strmap_hash(key);
    struct entry **p = find(m, key, h);
    if (*p) {
        (*p)->value = value;
        return 0;
    }
    size_t len = strlen(key);
    struct entry *e = malloc(sizeof(*e) + len + 1);
    if (!e)
        return -ENOMEM;
    memcpy(e->key, key, len + 1);
    e->hash = h;
    e->value = value;
    e->next = NULL;
    *p = e;
    if (++m->count > m->n_buckets)
        grow(m);
    return 0;
}

void *strmap_remove(struct strmap *m, const char *key)
{
    struct entry **p = find(m, key, strmap_hash(key));
    struct entry *e = *p;
    if (!e)
        return NULL;
    void *v = e->value;
    *p = e->next;
    free(e);
    m->count--;
    return v;
}

size_t strmap_count(const struct strmap *m)
{
    return m->count;
}

void strmap_foreach(const struct strmap *m, void (*fn)(const char *key, void *value, void *arg),
                    void *arg)
{
    for (size_t i = 0; i < m->n_buckets; i++) {
        for (struct entry *e = m->buckets[i]; e; e = e->next)
            fn(e->key, e->value, arg);
    }
}
