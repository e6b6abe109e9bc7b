/* The state store: the transition writer (store.h), a thread that commits
 * queued alert transitions in groups on its own connection. */
#include "store.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "metrics.h"
#include "threads.h"

struct store_writer {
    struct store *st; /* the thread's own connection */
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t more;      /* the queue got a transition, or stop */
    pthread_cond_t room;      /* the thread took the queue */
    pthread_cond_t committed; /* done moved */
    struct store_transition *queue, *batch;
    size_t n, cap, batch_cap;
    uint64_t queued, done; /* transitions queued and finished since the start */
    bool stop;
    struct log_ratelimit rl;
};

/* Writes a batch; on failure, one transition at a time, so that one bad
 * transition does not cost the others. */
static void write_batch(struct store_writer *w, const struct store_transition *v, size_t n)
{
    if (store_record_batch(w->st, v, n) == 0)
        return;
    for (size_t i = 0; i < n; i++) {
        /* A batch of one has been tried already. */
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
    threads_name_self("hallgw-store");

    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (w->n == 0 && !w->stop)
            pthread_cond_wait(&w->more, &w->mu);
        if (w->n == 0)
            break; /* stopping, and everything is written */
        /* Take the whole queue: the next transitions go to the other array. */
        struct store_transition *v = w->queue;
        size_t n = w->n, cap = w->cap;
        uint64_t upto = w->queued;
        w->queue = w->batch;
        w->cap = w->batch_cap;
        w->n = 0;
        pthread_cond_broadcast(&w->room);
        pthread_mutex_unlock(&w->mu);

        write_batch(w, v, n);

        pthread_mutex_lock(&w->mu);
        w->batch = v;
        w->batch_cap = cap;
        w->done = upto;
        pthread_cond_broadcast(&w->committed);
    }
    pthread_mutex_unlock(&w->mu);
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
    if ((err = store_open(path, false, &w->st, why)) < 0) {
        free(w);
        return err;
    }
    w->rl = (struct log_ratelimit)LOG_RATELIMIT_INIT(60000, 3);
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->more, NULL);
    pthread_cond_init(&w->room, NULL);
    pthread_cond_init(&w->committed, NULL);
    if ((err = pthread_create(&w->thread, NULL, writer_main, w)) != 0) {
        if (why)
            *why = "cannot start the store writer thread";
        pthread_mutex_destroy(&w->mu);
        pthread_cond_destroy(&w->more);
        pthread_cond_destroy(&w->room);
        pthread_cond_destroy(&w->committed);
        store_close(w->st);
        free(w);
        return -err;
    }
    *out = w;
    return 0;
}

/* Room for one more queued transition; called locked. */
static int make_room(struct store_writer *w)
{
    while (w->n >= STORE_WRITER_QUEUE_MAX)
        pthread_cond_wait(&w->room, &w->mu);
    if (w->n < w->cap)
        return 0;
    size_t cap = w->cap ? w->cap * 2 : 16;
    if (cap > STORE_WRITER_QUEUE_MAX)
        cap = STORE_WRITER_QUEUE_MAX;
    struct store_transition *nv = realloc(w->queue, cap * sizeof(*nv));
    if (!nv)
        return -ENOMEM;
    w->queue = nv;
    w->cap = cap;
    return 0;
}

int store_writer_record(struct store_writer *w, const struct alert *a, enum alert_transition t)
{
    bool keep = a->state == ALERT_FIRING || a->state == ALERT_ACKNOWLEDGED;
    int err;

    if (t == AT_PENDING || t == AT_CANCELLED || (t == AT_NONE && !keep))
        return 0;
    pthread_mutex_lock(&w->mu);
    if ((err = make_room(w)) == 0) {
        w->queue[w->n].alert = *a;
        w->queue[w->n].t = t;
        w->n++;
        w->queued++;
        pthread_cond_signal(&w->more);
    }
    pthread_mutex_unlock(&w->mu);
    return err;
}

void store_writer_flush(struct store_writer *w)
{
    pthread_mutex_lock(&w->mu);
    uint64_t target = w->queued;
    while (w->done < target)
        pthread_cond_wait(&w->committed, &w->mu);
    pthread_mutex_unlock(&w->mu);
}

size_t store_writer_pending(struct store_writer *w)
{
    pthread_mutex_lock(&w->mu);
    size_t n = (size_t)(w->queued - w->done);
    pthread_mutex_unlock(&w->mu);
    return n;
}

void store_writer_stop(struct store_writer *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->stop = true;
    pthread_cond_signal(&w->more);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->more);
    pthread_cond_destroy(&w->room);
    pthread_cond_destroy(&w->committed);
    store_close(w->st);
    free(w->queue);
    free(w->batch);
    free(w);
}
