#include "benchsub.h"

#include <MQTTAsync.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

struct benchsub {
    MQTTAsync client;
    const char *prog;
    char **filters;
    int *qos;
    int n;
    benchsub_fn fn;
    void *arg;
    atomic_int state; /* 0 connecting, 1 subscribed, -1 failed */
    atomic_bool lost;
};

double benchsub_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double benchsub_wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double benchsub_cpu_s(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static int on_message(void *ctx, char *topic, int topic_len, MQTTAsync_message *m)
{
    struct benchsub *s = ctx;
    size_t tl = topic_len > 0 ? (size_t)topic_len : strlen(topic);
    s->fn(s->arg, topic, tl, m->payload, m->payloadlen > 0 ? (size_t)m->payloadlen : 0);
    MQTTAsync_freeMessage(&m);
    MQTTAsync_free(topic);
    return 1;
}

static void on_lost(void *ctx, char *cause)
{
    struct benchsub *s = ctx;
    fprintf(stderr, "%s: connection lost%s%s\n", s->prog, cause ? ": " : "", cause ? cause : "");
    atomic_store(&s->lost, true);
}

static void on_subscribed(void *ctx, MQTTAsync_successData *r)
{
    (void)r;
    struct benchsub *s = ctx;
    atomic_store(&s->state, 1);
}

static void on_failure(void *ctx, MQTTAsync_failureData *r)
{
    struct benchsub *s = ctx;
    fprintf(stderr, "%s: connect or subscribe failed: %s\n", s->prog,
            r && r->message ? r->message : MQTTAsync_strerror(r ? r->code : 0));
    atomic_store(&s->state, -1);
}

static void on_connected(void *ctx, MQTTAsync_successData *r)
{
    (void)r;
    struct benchsub *s = ctx;
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    ro.onSuccess = on_subscribed;
    ro.onFailure = on_failure;
    ro.context = s;
    int rc = MQTTAsync_subscribeMany(s->client, s->n, s->filters, s->qos, &ro);
    if (rc != MQTTASYNC_SUCCESS) {
        fprintf(stderr, "%s: subscribe: %s\n", s->prog, MQTTAsync_strerror(rc));
        atomic_store(&s->state, -1);
    }
}

struct benchsub *benchsub_start(const char *prog, const char *uri, const char *client_id,
                                const char *const *filters, size_t n_filters, int qos,
                                benchsub_fn fn, void *arg, double timeout_s)
{
    struct benchsub *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->prog = prog;
    s->fn = fn;
    s->arg = arg;
    s->n = (int)n_filters;
    s->filters = calloc(n_filters, sizeof(char *));
    s->qos = calloc(n_filters, sizeof(int));
    if (!s->filters || !s->qos)
        goto out_free;
    for (size_t i = 0; i < n_filters; i++) {
        s->filters[i] = (char *)filters[i];
        s->qos[i] = qos;
    }
    int rc = MQTTAsync_create(&s->client, uri, client_id, MQTTCLIENT_PERSISTENCE_NONE, NULL);
    if (rc != MQTTASYNC_SUCCESS) {
        fprintf(stderr, "%s: %s: %s\n", prog, uri, MQTTAsync_strerror(rc));
        s->client = NULL;
        goto out_free;
    }
    MQTTAsync_setCallbacks(s->client, s, on_lost, on_message, NULL);
    MQTTAsync_connectOptions co = MQTTAsync_connectOptions_initializer;
    co.keepAliveInterval = 60;
    co.cleansession = 1;
    co.connectTimeout = (int)timeout_s + 1;
    co.onSuccess = on_connected;
    co.onFailure = on_failure;
    co.context = s;
    rc = MQTTAsync_connect(s->client, &co);
    if (rc != MQTTASYNC_SUCCESS) {
        fprintf(stderr, "%s: connect: %s\n", prog, MQTTAsync_strerror(rc));
        goto out_free;
    }
    double deadline = benchsub_mono() + timeout_s;
    while (atomic_load(&s->state) == 0 && benchsub_mono() < deadline)
        usleep(5000);
    if (atomic_load(&s->state) != 1) {
        if (atomic_load(&s->state) == 0)
            fprintf(stderr, "%s: no SUBACK from %s within %.0fs\n", prog, uri, timeout_s);
        goto out_free;
    }
    return s;

out_free:
    benchsub_stop(s);
    return NULL;
}

int benchsub_publish(struct benchsub *s, const char *topic, const void *payload, size_t len,
                     int qos)
{
    MQTTAsync_message m = MQTTAsync_message_initializer;
    m.payload = (void *)payload;
    m.payloadlen = (int)len;
    m.qos = qos;
    return MQTTAsync_sendMessage(s->client, topic, &m, NULL) == MQTTASYNC_SUCCESS ? 0 : -1;
}

bool benchsub_lost(const struct benchsub *s)
{
    return atomic_load(&((struct benchsub *)s)->lost);
}

void benchsub_stop(struct benchsub *s)
{
    if (!s)
        return;
    if (s->client) {
        if (MQTTAsync_isConnected(s->client)) {
            MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer;
            d.timeout = 1000;
            MQTTAsync_disconnect(s->client, &d);
            for (int i = 0; i < 100 && MQTTAsync_isConnected(s->client); i++)
                usleep(10000);
        }
        MQTTAsync_destroy(&s->client);
    }
    free(s->filters);
    free(s->qos);
    free(s);
}
