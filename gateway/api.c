#include "api.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "queue.h"

#define WANTED_FOR_MS 30000
#define REQUESTS_CAP 64
#define HEALTHY_TURN_MS 5000

struct api {
    pthread_mutex_t lock;
    pthread_cond_t changed; /* CLOCK_MONOTONIC: snapshots published, requests answered */
    char *state, *alerts, *overview;
    size_t state_len, alerts_len, overview_len;
    char *unbound; /* the unbound devices */
    size_t unbound_len;
    struct queue *requests;
    struct queue *wake;
    _Atomic int64_t wanted_at;
    _Atomic int64_t heartbeat;
    atomic_bool mqtt_connected;
};

struct api *api_new(struct queue *wake)
{
    struct api *a = calloc(1, sizeof(*a));
    if (!a)
        return NULL;
    a->requests = queue_new(REQUESTS_CAP);
    if (!a->requests) {
        free(a);
        return NULL;
    }
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&a->changed, &attr);
    pthread_condattr_destroy(&attr);
    pthread_mutex_init(&a->lock, NULL);
    a->wake = wake;
    return a;
}

static void release(struct api *a, struct api_request *r)
{
    pthread_mutex_lock(&a->lock);
    bool last = --r->refs == 0;
    pthread_mutex_unlock(&a->lock);
    if (last)
        free(r);
}

void api_free(struct api *a)
{
    if (!a)
        return;
    struct api_request *r;
    void *item;
    while (queue_pop_batch(a->requests, &item, 1, 0) == 1) {
        r = item;
        r->result = -ECANCELED;
        api_complete(a, r);
    }
    queue_free(a->requests);
    pthread_cond_destroy(&a->changed);
    pthread_mutex_destroy(&a->lock);
    free(a->state);
    free(a->alerts);
    free(a->overview);
    free(a->unbound);
    free(a);
}

bool api_wanted(struct api *a, mono_ms now)
{
    int64_t at = atomic_load(&a->wanted_at);
    return at && now - at < WANTED_FOR_MS;
}

void api_publish(struct api *a, char *state_json, char *alerts_json)
{
    pthread_mutex_lock(&a->lock);
    if (state_json) {
        free(a->state);
        a->state = state_json;
        a->state_len = strlen(state_json);
    }
    if (alerts_json) {
        free(a->alerts);
        a->alerts = alerts_json;
        a->alerts_len = strlen(alerts_json);
    }
    pthread_cond_broadcast(&a->changed);
    pthread_mutex_unlock(&a->lock);
}

void api_publish_overview(struct api *a, char *overview_json)
{
    if (!overview_json)
        return;
    pthread_mutex_lock(&a->lock);
    free(a->overview);
    a->overview = overview_json;
    a->overview_len = strlen(overview_json);
    pthread_cond_broadcast(&a->changed);
    pthread_mutex_unlock(&a->lock);
}

void api_publish_unbound(struct api *a, char *json)
{
    if (!json)
        return;
    pthread_mutex_lock(&a->lock);
    free(a->unbound);
    a->unbound = json;
    a->unbound_len = strlen(json);
    pthread_cond_broadcast(&a->changed);
    pthread_mutex_unlock(&a->lock);
}

void api_heartbeat(struct api *a, mono_ms now, bool mqtt_connected)
{
    atomic_store(&a->heartbeat, now);
    atomic_store(&a->mqtt_connected, mqtt_connected);
}

struct api_request *api_next_request(struct api *a)
{
    void *item;
    return queue_pop_batch(a->requests, &item, 1, 0) == 1 ? item : NULL;
}

void api_complete(struct api *a, struct api_request *r)
{
    pthread_mutex_lock(&a->lock);
    r->done = true;
    pthread_cond_broadcast(&a->changed);
    pthread_mutex_unlock(&a->lock);
    release(a, r);
}

static int get_copy(struct api *a, char *const *src, const size_t *src_len, char **json,
                    size_t *len, int64_t wait_ms)
{
    atomic_store(&a->wanted_at, clock_mono_ms());
    pthread_mutex_lock(&a->lock);
    if (!*src) {
        queue_wake(a->wake);
        struct timespec deadline = clock_mono_deadline(wait_ms);
        while (!*src && pthread_cond_timedwait(&a->changed, &a->lock, &deadline) == 0)
            ;
    }
    int r = -EAGAIN;
    if (*src) {
        *json = malloc(*src_len + 1);
        r = *json ? 0 : -ENOMEM;
        if (*json) {
            memcpy(*json, *src, *src_len + 1);
            *len = *src_len;
        }
    }
    pthread_mutex_unlock(&a->lock);
    return r;
}

int api_get_state(struct api *a, char **json, size_t *len, int64_t wait_ms)
{
    return get_copy(a, &a->state, &a->state_len, json, len, wait_ms);
}

int api_get_alerts(struct api *a, char **json, size_t *len, int64_t wait_ms)
{
    return get_copy(a, &a->alerts, &a->alerts_len, json, len, wait_ms);
}

int api_get_overview(struct api *a, char **json, size_t *len, int64_t wait_ms)
{
    return get_copy(a, &a->overview, &a->overview_len, json, len, wait_ms);
}

int api_get_unbound(struct api *a, char **json, size_t *len, int64_t wait_ms)
{
    return get_copy(a, &a->unbound, &a->unbound_len, json, len, wait_ms);
}

int api_submit(struct api *a, struct api_request *r, int64_t wait_ms, struct api_request *out)
{
    r->done = false;
    r->refs = 2; /* ours and the core's */
    if (queue_push(a->requests, r, 0, NULL) < 0) {
        free(r);
        return -ETIMEDOUT;
    }
    queue_wake(a->wake);
    pthread_mutex_lock(&a->lock);
    struct timespec deadline = clock_mono_deadline(wait_ms);
    while (!r->done && pthread_cond_timedwait(&a->changed, &a->lock, &deadline) == 0)
        ;
    bool done = r->done;
    if (done && out)
        *out = *r;
    pthread_mutex_unlock(&a->lock);
    release(a, r);
    return done ? 0 : -ETIMEDOUT;
}

bool api_healthy(struct api *a, mono_ms now, bool *mqtt_connected, int64_t *since_turn_ms)
{
    int64_t hb = atomic_load(&a->heartbeat);
    *mqtt_connected = atomic_load(&a->mqtt_connected);
    *since_turn_ms = hb ? now - hb : -1;
    return hb && now - hb < HEALTHY_TURN_MS && *mqtt_connected;
}
