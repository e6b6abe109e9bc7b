/* The state store: the transition writer (store.h), a thread that commits
 * queued alert transitions in groups on its own connection. The transitions
 * reach it through a worker queue (lib/queue.h); each group is whatever the
 * queue holds when the thread gets to it, written in one transaction. */
#include "store.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "metrics.h"
#include "queue.h"
#include "threads.h"

struct store_writer {
    struct store *st; /* the thread's own connection */
    pthread_t thread;
    struct queue *q;                /* of malloc'd struct store_transition */
    struct store_transition *group; /* the group being written, contiguous */
    size_t group_cap;
    struct log_ratelimit rl;
};

/* Writes a group; on failure, one transition at a time, so that one bad
 * transition does not cost the others. */
static void write_group(struct store_writer *w, const struct store_transition *v, size_t n)
{
    if (store_record_batch(w->st, v, n) == 0)
        return;
    for (size_t i = 0; i < n; i++) {
        /* A group of one has been tried already. */
        if (n == 1 || store_record(w->st, &v[i].alert, v[i].t) < 0) {
            metrics_inc(MET_STORE_ERRORS);
            if (log_ratelimit_ok(&w->rl, "store: transitions not written"))
                log_err("store: cannot record %s of %s: %s", alert_transition_name(v[i].t),
                        v[i].alert.id, store_last_error(w->st));
        }
    }
}

static void *writer_main(void *arg)
{
    struct store_writer *w = arg;
    void *items[STORE_WRITER_QUEUE_MAX];
    threads_name_self("hallgw-store");

    for (;;) {
        size_t n = queue_pop_batch(w->q, items, STORE_WRITER_QUEUE_MAX, -1);
        if (n == 0) {
            if (queue_drained(w->q))
                break;
            continue;
        }
        if (n > w->group_cap) {
            size_t cap = w->group_cap * 2 > n ? w->group_cap * 2 : n;
            struct store_transition *g = realloc(w->group, cap * sizeof(*g));
            if (g) {
                w->group = g;
                w->group_cap = cap;
            }
        }
        /* Out of memory for a larger group: one transition at a time. */
        size_t step = n <= w->group_cap ? n : 1;
        for (size_t i = 0; i < n; i += step) {
            for (size_t k = 0; k < step; k++)
                w->group[k] = *(struct store_transition *)items[i + k];
            write_group(w, w->group, step);
        }
        for (size_t i = 0; i < n; i++)
            free(items[i]);
        queue_done(w->q, n);
    }
    return NULL;
}

int store_writer_start(const char *path, struct store_writer **out, const char **why)
{
    struct store_writer *w = calloc(1, sizeof(*w));
    int err;

    *out = NULL;
    if (why)
        *why = "out of memory";
    if (!w)
        return -ENOMEM;
    w->q = queue_new(STORE_WRITER_QUEUE_MAX);
    w->group_cap = 16;
    w->group = calloc(w->group_cap, sizeof(*w->group));
    if (!w->q || !w->group) {
        err = -ENOMEM;
        goto out_free;
    }
    if ((err = store_open(path, false, &w->st, why)) < 0)
        goto out_free;
    w->rl = (struct log_ratelimit)LOG_RATELIMIT_INIT(60000, 3);
    if ((err = pthread_create(&w->thread, NULL, writer_main, w)) != 0) {
        if (why)
            *why = "cannot start the store writer thread";
        store_close(w->st);
        err = -err;
        goto out_free;
    }
    *out = w;
    return 0;

out_free:
    queue_free(w->q);
    free(w->group);
    free(w);
    return err;
}

int store_writer_record(struct store_writer *w, const struct alert *a, enum alert_transition t)
{
    bool keep = a->state == ALERT_FIRING || a->state == ALERT_ACKNOWLEDGED;

    if (t == AT_PENDING || t == AT_CANCELLED || (t == AT_NONE && !keep))
        return 0;
    struct store_transition *tr = malloc(sizeof(*tr));
    if (!tr)
        return -ENOMEM;
    tr->alert = *a;
    tr->t = t;
    /* A full queue waits for the thread: transitions are never dropped. */
    if (queue_push(w->q, tr, -1, NULL) < 0) {
        free(tr);
        return -ESHUTDOWN;
    }
    return 0;
}

void store_writer_flush(struct store_writer *w)
{
    queue_flush(w->q);
}

size_t store_writer_pending(struct store_writer *w)
{
    return queue_unfinished(w->q);
}

void store_writer_stop(struct store_writer *w)
{
    if (!w)
        return;
    queue_close(w->q);
    pthread_join(w->thread, NULL);
    store_close(w->st);
    queue_free(w->q);
    free(w->group);
    free(w);
}
