#include "queue.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "clock.h"

struct queue {
    pthread_mutex_t lock;
    pthread_cond_t not_empty; /* CLOCK_MONOTONIC */
    pthread_cond_t not_full;  /* CLOCK_MONOTONIC */
    pthread_cond_t finished;  /* CLOCK_MONOTONIC: done moved */
    size_t capacity, head, count;
    uint64_t pushed, done; /* items pushed, and finished by the consumer */
    bool closed, woken;
    void **ring;
};

static int cond_init_monotonic(pthread_cond_t *c)
{
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    int r = pthread_cond_init(c, &attr);
    pthread_condattr_destroy(&attr);
    return r;
}

struct queue *queue_new(size_t capacity)
{
    struct queue *q = calloc(1, sizeof(*q));
    if (!q)
        return NULL;
    q->ring = calloc(capacity ? capacity : 1, sizeof(void *));
    if (!q->ring)
        goto out_free_queue;
    q->capacity = capacity ? capacity : 1;
    pthread_mutex_init(&q->lock, NULL);
    cond_init_monotonic(&q->not_empty);
    cond_init_monotonic(&q->not_full);
    cond_init_monotonic(&q->finished);
    return q;

out_free_queue:
    free(q);
    return NULL;
}

void queue_free(struct queue *q)
{
    if (!q)
        return;
    pthread_cond_destroy(&q->finished);
    pthread_cond_destroy(&q->not_full);
    pthread_cond_destroy(&q->not_empty);
    pthread_mutex_destroy(&q->lock);
    free(q->ring);
    free(q);
}

int queue_push(struct queue *q, void *item, int64_t wait_ms, int *waited)
{
    int r = 0;
    if (waited)
        *waited = 0;
    pthread_mutex_lock(&q->lock);
    if (q->count == q->capacity && !q->closed && wait_ms != 0) {
        struct timespec deadline = clock_mono_deadline(wait_ms > 0 ? wait_ms : 0);
        if (waited)
            *waited = 1;
        while (q->count == q->capacity && !q->closed) {
            if (wait_ms < 0)
                pthread_cond_wait(&q->not_full, &q->lock);
            else if (pthread_cond_timedwait(&q->not_full, &q->lock, &deadline) == ETIMEDOUT)
                break;
        }
    }
    if (q->closed) {
        r = -ESHUTDOWN;
    } else if (q->count == q->capacity) {
        r = -ETIMEDOUT;
    } else {
        q->ring[(q->head + q->count) % q->capacity] = item;
        q->count++;
        q->pushed++;
        pthread_cond_signal(&q->not_empty);
    }
    pthread_mutex_unlock(&q->lock);
    return r;
}

size_t queue_pop_batch(struct queue *q, void **items, size_t max, int64_t wait_ms)
{
    size_t n = 0;
    pthread_mutex_lock(&q->lock);
    if (q->count == 0 && !q->woken && !q->closed && wait_ms != 0) {
        struct timespec deadline = clock_mono_deadline(wait_ms > 0 ? wait_ms : 0);
        while (q->count == 0 && !q->woken && !q->closed) {
            if (wait_ms < 0)
                pthread_cond_wait(&q->not_empty, &q->lock);
            else if (pthread_cond_timedwait(&q->not_empty, &q->lock, &deadline) == ETIMEDOUT)
                break;
        }
    }
    q->woken = false;
    while (n < max && q->count > 0) {
        items[n++] = q->ring[q->head];
        q->head = (q->head + 1) % q->capacity;
        q->count--;
    }
    if (n > 0)
        pthread_cond_broadcast(&q->not_full);
    pthread_mutex_unlock(&q->lock);
    return n;
}

void queue_done(struct queue *q, size_t n)
{
    pthread_mutex_lock(&q->lock);
    q->done += n;
    pthread_cond_broadcast(&q->finished);
    pthread_mutex_unlock(&q->lock);
}

void queue_flush(struct queue *q)
{
    pthread_mutex_lock(&q->lock);
    uint64_t target = q->pushed;
    while (q->done < target)
        pthread_cond_wait(&q->finished, &q->lock);
    pthread_mutex_unlock(&q->lock);
}

bool queue_drained(struct queue *q)
{
    pthread_mutex_lock(&q->lock);
    bool drained = q->closed && q->count == 0;
    pthread_mutex_unlock(&q->lock);
    return drained;
}

void queue_wake(struct queue *q)
{
    pthread_mutex_lock(&q->lock);
    q->woken = true;
    pthread_cond_signal(&q->not_empty);
    pthread_mutex_unlock(&q->lock);
}

void queue_close(struct queue *q)
{
    pthread_mutex_lock(&q->lock);
    q->closed = true;
    pthread_cond_broadcast(&q->not_full);
    pthread_cond_broadcast(&q->not_empty);
    pthread_cond_broadcast(&q->finished);
    pthread_mutex_unlock(&q->lock);
}

size_t queue_depth(struct queue *q)
{
    pthread_mutex_lock(&q->lock);
    size_t n = q->count;
    pthread_mutex_unlock(&q->lock);
    return n;
}

size_t queue_unfinished(struct queue *q)
{
    pthread_mutex_lock(&q->lock);
    size_t n = (size_t)(q->pushed - q->done);
    pthread_mutex_unlock(&q->lock);
    return n;
}
