/* Signed commands: the replay cache of nonces (see cmdsign.h). A fixed
 * table of entries with a chained hash over them; entries leave when their
 * command expires or, when the table is full of live ones, oldest first. */
#include "cmdsign.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct replay_entry {
    int64_t expires;
    uint64_t seq; /* insertion order */
    int32_t next; /* bucket chain, or free list; -1 ends */
    bool used;
    char nonce[CMDSIGN_NONCE_MAX + 1];
};

struct cmdsign_replay {
    size_t cap, n;
    uint64_t seq;
    int64_t min_expires;     /* a lower bound of the entries' expires: no sweep before */
    bool forgot;             /* some nonce was forgotten before it expired */
    int64_t forgotten_until; /* the latest expires of those */
    size_t n_buckets;        /* a power of two */
    int32_t *buckets;
    int32_t free_head;
    struct replay_entry *e;
};

static size_t nonce_hash(const char *s, size_t n_buckets)
{
    uint64_t h = UINT64_C(14695981039346656037);
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * UINT64_C(1099511628211);
    return (size_t)(h & (n_buckets - 1));
}

struct cmdsign_replay *cmdsign_replay_new(size_t capacity)
{
    struct cmdsign_replay *rc;

    if (capacity == 0 || capacity > (1u << 24))
        return NULL;
    if (!(rc = calloc(1, sizeof(*rc))))
        return NULL;
    rc->cap = capacity;
    rc->n_buckets = 16;
    while (rc->n_buckets < 2 * capacity)
        rc->n_buckets *= 2;
    rc->buckets = malloc(rc->n_buckets * sizeof(int32_t));
    rc->e = calloc(capacity, sizeof(*rc->e));
    if (!rc->buckets || !rc->e) {
        cmdsign_replay_free(rc);
        return NULL;
    }
    for (size_t i = 0; i < rc->n_buckets; i++)
        rc->buckets[i] = -1;
    for (size_t i = 0; i < capacity; i++)
        rc->e[i].next = i + 1 < capacity ? (int32_t)(i + 1) : -1;
    rc->free_head = 0;
    rc->min_expires = INT64_MAX;
    return rc;
}

void cmdsign_replay_free(struct cmdsign_replay *rc)
{
    if (!rc)
        return;
    free(rc->buckets);
    free(rc->e);
    free(rc);
}

static int32_t replay_find(const struct cmdsign_replay *rc, const char *nonce)
{
    for (int32_t i = rc->buckets[nonce_hash(nonce, rc->n_buckets)]; i >= 0; i = rc->e[i].next)
        if (strcmp(rc->e[i].nonce, nonce) == 0)
            return i;
    return -1;
}

static void replay_remove(struct cmdsign_replay *rc, int32_t idx)
{
    int32_t *link = &rc->buckets[nonce_hash(rc->e[idx].nonce, rc->n_buckets)];

    while (*link != idx)
        link = &rc->e[*link].next;
    *link = rc->e[idx].next;
    rc->e[idx].used = false;
    rc->e[idx].next = rc->free_head;
    rc->free_head = idx;
    rc->n--;
}

static void replay_sweep(struct cmdsign_replay *rc, int64_t now)
{
    int64_t min = INT64_MAX;

    if (now < rc->min_expires)
        return;
    for (size_t i = 0; i < rc->cap; i++) {
        if (!rc->e[i].used)
            continue;
        if (rc->e[i].expires <= now)
            replay_remove(rc, (int32_t)i);
        else if (rc->e[i].expires < min)
            min = rc->e[i].expires;
    }
    rc->min_expires = min;
}

static void replay_evict_oldest(struct cmdsign_replay *rc)
{
    int32_t oldest = -1;

    for (size_t i = 0; i < rc->cap; i++)
        if (rc->e[i].used && (oldest < 0 || rc->e[i].seq < rc->e[oldest].seq))
            oldest = (int32_t)i;
    if (oldest < 0)
        return;
    if (!rc->forgot || rc->e[oldest].expires > rc->forgotten_until)
        rc->forgotten_until = rc->e[oldest].expires;
    rc->forgot = true;
    replay_remove(rc, oldest);
}

int cmdsign_replay_check_and_add(struct cmdsign_replay *rc, const char *nonce, int64_t expires,
                                 int64_t now)
{
    size_t len = strlen(nonce);
    int32_t idx;

    if (len == 0 || len > CMDSIGN_NONCE_MAX)
        return -EINVAL;
    replay_sweep(rc, now);
    if (rc->forgot && rc->forgotten_until <= now)
        rc->forgot = false;
    if (replay_find(rc, nonce) >= 0)
        return -EALREADY;
    if (rc->forgot && expires <= rc->forgotten_until)
        return -ENOSPC;
    if (expires <= now)
        return 0; /* dead already: nothing to remember */
    if (rc->n == rc->cap)
        replay_evict_oldest(rc);
    idx = rc->free_head;
    rc->free_head = rc->e[idx].next;
    struct replay_entry *e = &rc->e[idx];
    memcpy(e->nonce, nonce, len + 1);
    e->expires = expires;
    e->seq = rc->seq++;
    e->used = true;
    size_t b = nonce_hash(nonce, rc->n_buckets);
    e->next = rc->buckets[b];
    rc->buckets[b] = idx;
    rc->n++;
    if (expires < rc->min_expires)
        rc->min_expires = expires;
    return 0;
}

void cmdsign_replay_forget(struct cmdsign_replay *rc, const char *nonce)
{
    int32_t idx = replay_find(rc, nonce);

    if (idx >= 0)
        replay_remove(rc, idx);
}

size_t cmdsign_replay_count(const struct cmdsign_replay *rc)
{
    return rc->n;
}

static int by_seq(const void *a, const void *b)
{
    const struct replay_entry *x = *(const struct replay_entry *const *)a;
    const struct replay_entry *y = *(const struct replay_entry *const *)b;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void cmdsign_replay_foreach(const struct cmdsign_replay *rc,
                            void (*fn)(void *ctx, const char *nonce, int64_t expires), void *ctx)
{
    const struct replay_entry **v = malloc((rc->n ? rc->n : 1) * sizeof(*v));
    size_t n = 0;

    if (!v)
        return;
    for (size_t i = 0; i < rc->cap; i++)
        if (rc->e[i].used)
            v[n++] = &rc->e[i];
    qsort(v, n, sizeof(*v), by_seq);
    for (size_t i = 0; i < n; i++)
        fn(ctx, v[i]->nonce, v[i]->expires);
    free(v);
}
