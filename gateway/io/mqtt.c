#include "mqtt.h"

#include <MQTTAsync.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto.h"
#include "journal.h"
#include "log.h"
#include "mqtt_persist.h"
#include "queue.h"
#include "threads.h"

enum conn_state { CONN_IDLE, CONN_CONNECTING, CONN_UP, CONN_RETRY_WAIT };

/* Filters per SUBSCRIBE, and SUBSCRIBEs in flight at once (subscribe_chunk). */
#define MQTT_SUBSCRIBE_CHUNK 512
#define MQTT_SUBSCRIBE_WINDOW 4
/* Messages kept across a restart: how many packets to ask the broker for at
 * a time, and how often (see nudge_kept). */
#define KEPT_NUDGE_BATCH 64
#define KEPT_NUDGE_EVERY_MS 50

/* One publish waiting in the outbox, one allocation. A NULL topic is the
 * stop request: publish the will and disconnect. */
struct outgoing {
    char *topic;
    void *payload;
    size_t len;
    int qos;
    bool retained;
    bool nudge; /* not a publish: an UNSUBSCRIBE of topic (see nudge_kept) */
};

/* The outbox: publishes are handed to Paho by a thread of their own. Paho
 * holds its client lock while its receive thread sits in on_message, and
 * on_message waits while the inbox is full: an owner that called Paho itself
 * would wait for a callback that waits for the owner to empty the inbox. */
struct outbox {
    pthread_t thread;
    bool started;
    struct queue *q; /* of struct outgoing */
    _Atomic int64_t stop_timeout_ms;
};

struct mqtt {
    MQTTAsync client;
    /* Paho keeps a pointer to it for the client's life; context is m. */
    MQTTClient_persistence persistence;
    char *persistence_dir;
    _Atomic(struct mqtt_persist *) persist; /* while Paho has it open */
    struct mqtt_persist *pst;               /* Paho's handle is m; this is its log */
    /* The inbox journal (journal.h): Paho's queue entries ("q-" keys) go
     * there instead of to persist; NULL without one. */
    struct journal *journal;
    bool use_journal;
    enum journal_durability durability;
    int64_t sync_interval_ms;
    char *nudge_filter; /* subscribed by no one (nudge_kept) */
    size_t kept_seen;   /* kept messages at the last nudge (owner only) */
    mono_ms next_nudge;
    char *uri, *client_id, *username, *password;
    char *ca_file, *cert_file, *key_file;
    char *will_topic, *online_payload, *will_payload;
    char **subs;
    int *sub_qos;
    size_t n_subs;
    int keepalive_s, qos;
    bool clean_session, verify;
    struct queue *inbox;
    int64_t inbox_wait_ms;
    size_t max_payload;

    _Atomic int state;          /* enum conn_state, written by callbacks */
    atomic_bool need_subscribe; /* set by the connected callback */
    atomic_int chunks_acked;    /* chunks of subscriptions the broker acknowledged */
    atomic_bool subscribed;     /* every chunk of this connect acknowledged */
    size_t sub_next;            /* the first subscription of the next chunk (owner only) */
    int sub_inflight;           /* chunks sent and not yet acknowledged (owner only) */
    atomic_bool disconnected;   /* set by the disconnect callback */
    atomic_bool stopped;        /* after mqtt_stop: messages are no longer taken */
    mono_ms stop_deadline;
    int retry_delay_ms;
    mono_ms retry_at;
    struct log_ratelimit rl_fail;
    struct log_ratelimit rl_outbox;
    void (*on_event)(void *ctx, enum mqtt_event ev);
    void *event_ctx;
    struct outbox out;
};

static int outbox_start(struct mqtt *m);
static void outbox_stop(struct mqtt *m);

static void emit(struct mqtt *m, enum mqtt_event ev)
{
    if (m->on_event)
        m->on_event(m->event_ctx, ev);
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* ---- persistence: mqtt_persist behind Paho's interface ---------------------
 * Buffers handed to Paho come from MQTTAsync_malloc: Paho frees them with its
 * own (tracking) allocator. A put that cannot reach the disk still succeeds
 * for Paho: the record is kept in memory (and counted by mqtt_persist), so
 * Paho never reads back less than it stored. */

static void *paho_alloc(size_t n)
{
    return MQTTAsync_malloc(n);
}

static void persist_error(void *ctx)
{
    emit(ctx, MQTT_EV_PERSIST_ERROR);
}

/* A queue entry the library kept in the log (MQTTPersistence_persistQueueEntry,
 * MQTT 3.1.1), its buffers stored one after the other: int payloadlen, the
 * payload, int qos, int retained, int dup, int msgid, the topic with its
 * NUL, int topicLen. */
struct queue_entry {
    const char *payload, *topic;
    size_t payload_len, topic_len;
    int qos, msgid;
    bool retained;
};

static bool is_queue_key(const char *key)
{
    return key[0] == 'q' && key[1] == '-';
}

static bool parse_stored_entry(const char *data, int len, struct queue_entry *q)
{
    const int I = (int)sizeof(int);
    int plen, retained;
    if (len < 5 * I + 1)
        return false;
    memcpy(&plen, data, sizeof(int));
    if (plen < 0 || plen > len - 5 * I - 1)
        return false;
    const char *ints = data + I + plen; /* qos, retained, dup, msgid */
    const char *topic = ints + 4 * I;
    const char *nul = memchr(topic, '\0', (size_t)(data + len - topic));
    if (!nul || nul + 1 + I != data + len)
        return false;
    memcpy(&q->qos, ints, sizeof(int));
    memcpy(&retained, ints + I, sizeof(int));
    memcpy(&q->msgid, ints + 3 * I, sizeof(int));
    q->payload = data + I;
    q->payload_len = (size_t)plen;
    q->topic = topic;
    q->topic_len = (size_t)(nul - topic);
    q->retained = retained != 0;
    return true;
}

/* Moves the queue entries an earlier version kept in the log into the
 * journal, so that they are replayed at full speed with the rest. */
static void adopt_kept(struct mqtt *m, struct mqtt_persist *p)
{
    char **keys = NULL;
    int n = 0;
    if (mqtt_persist_keys(p, malloc, &keys, &n) < 0)
        return;
    for (int i = 0; i < n; i++) {
        char *data;
        int len;
        struct queue_entry q;
        if (is_queue_key(keys[i]) && mqtt_persist_get(p, keys[i], malloc, &data, &len) == 0) {
            uint64_t id;
            wall_s arrival;
            if (parse_stored_entry(data, len, &q) &&
                (journal_seen(m->journal, q.msgid, q.topic, q.topic_len, q.payload,
                              q.payload_len) ||
                 journal_record(m->journal, q.msgid, q.topic, q.topic_len, q.payload, q.payload_len,
                                q.qos, q.retained, &id, &arrival) == 0))
                mqtt_persist_remove(p, keys[i]);
            free(data);
        }
        free(keys[i]);
    }
    free(keys);
}

static int pst_open(void **handle, const char *client_id, const char *server_uri, void *ctx)
{
    (void)server_uri;
    struct mqtt *m = ctx;
    struct mqtt_persist *p;
    if (mqtt_persist_open(m->persistence_dir, client_id, persist_error, m, &p) < 0)
        return MQTTCLIENT_PERSISTENCE_ERROR;
    *handle = m;
    m->pst = p;
    atomic_store(&m->persist, p);
    if (m->use_journal && !m->journal &&
        journal_open(m->persistence_dir, client_id, m->durability, m->sync_interval_ms,
                     persist_error, m, &m->journal) == 0)
        adopt_kept(m, p);
    return 0;
}

static int pst_close(void *handle)
{
    /* Paho closes it when the client is destroyed (mqtt_free clears
     * m->persist before that). */
    struct mqtt *m = handle;
    mqtt_persist_close(m->pst);
    m->pst = NULL;
    return 0;
}

static int pst_put(void *handle, char *key, int n, char *bufs[], int lens[])
{
    struct mqtt *m = handle;
    int rc = mqtt_persist_put(m->pst, key, n, bufs, lens);
    return rc == 0 || (rc != -ENOMEM && rc != -EINVAL) ? 0 : MQTTCLIENT_PERSISTENCE_ERROR;
}

static int pst_get(void *handle, char *key, char **buf, int *len)
{
    struct mqtt *m = handle;
    return mqtt_persist_get(m->pst, key, paho_alloc, buf, len) == 0 ? 0
                                                                    : MQTTCLIENT_PERSISTENCE_ERROR;
}

static int pst_remove(void *handle, char *key)
{
    struct mqtt *m = handle;
    mqtt_persist_remove(m->pst, key); /* a failed write is counted; gone from memory */
    return 0;
}

static int pst_keys(void *handle, char ***keys, int *n)
{
    struct mqtt *m = handle;
    if (mqtt_persist_keys(m->pst, paho_alloc, keys, n) == 0)
        return 0;
    for (int i = 0; i < *n; i++)
        MQTTAsync_free((*keys)[i]);
    if (*keys)
        MQTTAsync_free(*keys);
    *keys = NULL;
    *n = 0;
    return MQTTCLIENT_PERSISTENCE_ERROR;
}

static int pst_clear(void *handle)
{
    struct mqtt *m = handle;
    mqtt_persist_clear(m->pst);
    return 0;
}

static int pst_containskey(void *handle, char *key)
{
    struct mqtt *m = handle;
    return mqtt_persist_contains(m->pst, key) ? 0 : MQTTCLIENT_PERSISTENCE_ERROR;
}

static void persistence_init(struct mqtt *m)
{
    m->persistence = (MQTTClient_persistence){
        .context = m,
        .popen = pst_open,
        .pclose = pst_close,
        .pput = pst_put,
        .pget = pst_get,
        .premove = pst_remove,
        .pkeys = pst_keys,
        .pclear = pst_clear,
        .pcontainskey = pst_containskey,
    };
}

static void wake_owner(struct mqtt *m)
{
    if (m->inbox)
        queue_wake(m->inbox);
}

/* Paho thread: copy, enqueue, never call into Paho. */
static int on_message(void *ctx, char *topic, int topic_len, MQTTAsync_message *pm)
{
    struct mqtt *m = ctx;
    size_t tlen = topic_len > 0 ? (size_t)topic_len : strlen(topic);
    size_t plen = pm->payloadlen > 0 ? (size_t)pm->payloadlen : 0;
    bool oversize = plen > m->max_payload;
    size_t copy = oversize ? 0 : plen;

    if (atomic_load(&m->stopped))
        return 0; /* Paho keeps it (persisted) for the next start */
    if (!m->inbox)
        goto out_free;
    struct mqtt_msg *msg = malloc(sizeof(*msg) + tlen + 1 + copy + 1);
    if (!msg) {
        emit(m, MQTT_EV_INBOX_DROP);
        goto out_free;
    }
    msg->topic = (char *)(msg + 1);
    memcpy(msg->topic, topic, tlen);
    msg->topic[tlen] = '\0';
    msg->topic_len = tlen;
    msg->payload = msg->topic + tlen + 1;
    if (copy)
        memcpy(msg->payload, pm->payload, copy);
    msg->payload[copy] = '\0';
    msg->payload_len = plen;
    msg->oversize = oversize;
    msg->retained = pm->retained != 0;
    msg->qos = pm->qos;
    msg->journal_id = 0;
    msg->replayed = false;
    /* Paho sends the acknowledgement of a QoS 1 message after this
     * returns: record it first (journal.h). */
    if (!m->journal) {
        msg->arrival = clock_wall();
    } else if (pm->qos == 0 || oversize) {
        msg->arrival = journal_arrival(m->journal);
    } else if (pm->dup &&
               journal_seen(m->journal, pm->msgid, msg->topic, tlen, msg->payload, plen)) {
        free(msg); /* the replay has it */
        goto out_free;
    } else {
        (void)journal_record(m->journal, pm->msgid, msg->topic, tlen, msg->payload, plen, pm->qos,
                             msg->retained, &msg->journal_id, &msg->arrival);
    }

    int waited = 0;
    int r = queue_push(m->inbox, msg, m->inbox_wait_ms, &waited);
    if (waited)
        emit(m, MQTT_EV_INBOX_WAIT);
    if (r < 0) {
        emit(m, MQTT_EV_INBOX_DROP);
        free(msg);
    }

out_free:
    MQTTAsync_freeMessage(&pm);
    MQTTAsync_free(topic);
    return 1; /* handled: never 0, or Paho would buffer without bound */
}

static void on_connected(void *ctx, char *cause)
{
    (void)cause;
    struct mqtt *m = ctx;
    atomic_store(&m->state, CONN_UP);
    atomic_store(&m->need_subscribe, true);
    emit(m, MQTT_EV_CONNECTED);
    wake_owner(m);
}

static void on_connection_lost(void *ctx, char *cause)
{
    struct mqtt *m = ctx;
    /* With automatic reconnect on, Paho reconnects by itself. */
    atomic_store(&m->state, CONN_CONNECTING);
    emit(m, MQTT_EV_CONNECTION_LOST);
    log_warn("mqtt: connection to %s lost%s%s; reconnecting", m->uri, cause ? ": " : "",
             cause ? cause : "");
    wake_owner(m);
}

static void on_connect_failure(void *ctx, MQTTAsync_failureData *resp)
{
    struct mqtt *m = ctx;
    emit(m, MQTT_EV_CONNECT_FAILURE);
    if (log_ratelimit_ok(&m->rl_fail, "mqtt: connect failures")) {
        const char *why = resp && resp->message ? resp->message : NULL;
        int code = resp ? resp->code : 0;
        log_warn("mqtt: cannot connect to %s: %s (code %d)", m->uri,
                 why ? why : MQTTAsync_strerror(code), code);
    }
    atomic_store(&m->state, CONN_RETRY_WAIT);
    wake_owner(m);
}

static void on_subscribe_failure(void *ctx, MQTTAsync_failureData *resp)
{
    struct mqtt *m = ctx;
    log_err("mqtt: subscribe failed (code %d); retrying", resp ? resp->code : 0);
    atomic_store(&m->need_subscribe, true);
}

static void on_subscribed(void *ctx, MQTTAsync_successData *resp)
{
    (void)resp;
    struct mqtt *m = ctx;
    atomic_fetch_add(&m->chunks_acked, 1);
    wake_owner(m);
}

static void on_disconnected(void *ctx, MQTTAsync_successData *resp)
{
    (void)resp;
    struct mqtt *m = ctx;
    atomic_store(&m->disconnected, true);
}

static void on_disconnect_failure(void *ctx, MQTTAsync_failureData *resp)
{
    (void)resp;
    struct mqtt *m = ctx;
    atomic_store(&m->disconnected, true);
}

int mqtt_new(const struct mqtt_options *o, struct mqtt **out)
{
    struct mqtt *m = calloc(1, sizeof(*m));
    if (!m)
        return -ENOMEM;
    m->uri = strdup(o->uri);
    m->client_id = strdup(o->client_id);
    if (m->client_id && asprintf(&m->nudge_filter, "_hallgw/%s/kept", m->client_id) < 0)
        m->nudge_filter = NULL;
    m->username = dup_or_null(o->username);
    m->password = dup_or_null(o->password);
    m->ca_file = dup_or_null(o->ca_file);
    m->cert_file = dup_or_null(o->cert_file);
    m->key_file = dup_or_null(o->key_file);
    m->will_topic = dup_or_null(o->will_topic);
    m->online_payload = dup_or_null(o->online_payload ? o->online_payload : "online");
    m->will_payload = dup_or_null(o->will_payload ? o->will_payload : "offline");
    m->keepalive_s = o->keepalive_s > 0 ? o->keepalive_s : 30;
    m->qos = o->qos;
    m->clean_session = o->clean_session;
    m->verify = o->verify;
    m->inbox = o->inbox;
    m->inbox_wait_ms = o->inbox_wait_ms;
    m->max_payload = o->max_payload ? o->max_payload : 65536;
    m->rl_fail = (struct log_ratelimit)LOG_RATELIMIT_INIT(60000, 3);
    m->on_event = o->on_event;
    m->event_ctx = o->event_ctx;
    m->n_subs = o->n_subscriptions;
    m->subs = calloc(m->n_subs + 1, sizeof(char *));
    m->sub_qos = calloc(m->n_subs + 1, sizeof(int));
    for (size_t i = 0; i < m->n_subs; i++) {
        m->subs[i] = strdup(o->subscriptions[i]);
        m->sub_qos[i] = o->qos;
    }

    MQTTAsync_createOptions co = MQTTAsync_createOptions_initializer;
    co.MQTTVersion = MQTTVERSION_3_1_1;
    co.sendWhileDisconnected = 0;
    m->persistence_dir = dup_or_null(o->persistence_dir);
    m->use_journal = o->journal && o->persistence_dir && o->inbox;
    m->durability = o->durability;
    m->sync_interval_ms = o->sync_interval_ms;
    persistence_init(m);
    int rc = MQTTAsync_createWithOptions(&m->client, m->uri, m->client_id,
                                         m->persistence_dir ? MQTTCLIENT_PERSISTENCE_USER
                                                            : MQTTCLIENT_PERSISTENCE_NONE,
                                         m->persistence_dir ? &m->persistence : NULL, &co);
    if (rc != MQTTASYNC_SUCCESS) {
        log_err("mqtt: cannot create client for %s: %s", m->uri, MQTTAsync_strerror(rc));
        m->client = NULL;
        mqtt_free(m);
        return -EINVAL;
    }
    MQTTAsync_setCallbacks(m->client, m, on_connection_lost, on_message, NULL);
    MQTTAsync_setConnected(m->client, m, on_connected);
    m->rl_outbox = (struct log_ratelimit)LOG_RATELIMIT_INIT(60000, 3);
    if (outbox_start(m) < 0) {
        log_err("mqtt: cannot start the publishing thread");
        mqtt_free(m);
        return -EAGAIN;
    }
    *out = m;
    return 0;
}

/* ---- the outbox ------------------------------------------------------------ */

static void send_stop(struct mqtt *m, int64_t timeout_ms)
{
    if (!MQTTAsync_isConnected(m->client)) {
        atomic_store(&m->disconnected, true);
        return;
    }
    if (m->will_topic) {
        MQTTAsync_message msg = MQTTAsync_message_initializer;
        MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
        msg.payload = m->will_payload;
        msg.payloadlen = (int)strlen(m->will_payload);
        msg.qos = 1;
        msg.retained = 1;
        /* Paho's disconnect waits out its whole timeout when a QoS 1
         * publish is still in flight as it starts, even if the PUBACK comes
         * a moment later: wait for the last publish (the broker acknowledges
         * in order) before disconnecting. */
        if (MQTTAsync_sendMessage(m->client, m->will_topic, &msg, &ro) == MQTTASYNC_SUCCESS)
            MQTTAsync_waitForCompletion(m->client, ro.token, (unsigned long)timeout_ms);
    }
    MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer;
    d.timeout = (int)timeout_ms;
    d.onSuccess = on_disconnected;
    d.onFailure = on_disconnect_failure;
    d.context = m;
    if (MQTTAsync_disconnect(m->client, &d) != MQTTASYNC_SUCCESS)
        atomic_store(&m->disconnected, true);
}

static void send_one(struct mqtt *m, const struct outgoing *o)
{
    MQTTAsync_message msg = MQTTAsync_message_initializer;
    msg.payload = o->payload;
    msg.payloadlen = (int)o->len;
    msg.qos = o->qos;
    msg.retained = o->retained;
    if (MQTTAsync_sendMessage(m->client, o->topic, &msg, NULL) != MQTTASYNC_SUCCESS)
        emit(m, MQTT_EV_PUBLISH_FAILURE);
    else
        emit(m, MQTT_EV_PUBLISHED);
}

static void *outbox_main(void *arg)
{
    struct mqtt *m = arg;
    threads_name_self("hallgw-outbox");
    struct outbox *ob = &m->out;
    void *item;

    for (;;) {
        if (queue_pop_batch(ob->q, &item, 1, -1) == 0) {
            if (queue_drained(ob->q))
                break;
            continue;
        }
        struct outgoing *o = item;
        if (o->nudge)
            MQTTAsync_unsubscribe(m->client, o->topic, NULL);
        else if (o->topic)
            send_one(m, o);
        else
            send_stop(m, atomic_load(&ob->stop_timeout_ms));
        free(o);
        queue_done(ob->q, 1);
    }
    return NULL;
}

static int outbox_start(struct mqtt *m)
{
    struct outbox *ob = &m->out;
    /* One more than the publishes allowed: the stop request always fits. */
    if (!(ob->q = queue_new(MQTT_OUTBOX_MAX + 1)))
        return -ENOMEM;
    if (pthread_create(&ob->thread, NULL, outbox_main, m) != 0) {
        queue_free(ob->q);
        ob->q = NULL;
        return -EAGAIN;
    }
    ob->started = true;
    return 0;
}

/* Sends what is queued (Paho may still hold it), then ends the thread. */
static void outbox_stop(struct mqtt *m)
{
    struct outbox *ob = &m->out;
    if (!ob->started)
        return;
    queue_close(ob->q);
    pthread_join(ob->thread, NULL);
    queue_free(ob->q);
    ob->q = NULL;
    ob->started = false;
}

/* Queues o; false when the outbox is full (o is then not taken). The stop
 * request (no topic) waits for room. */
static bool outbox_put(struct mqtt *m, struct outgoing *o)
{
    struct outbox *ob = &m->out;
    if (o->topic && queue_depth(ob->q) >= MQTT_OUTBOX_MAX)
        return false;
    return queue_push(ob->q, o, o->topic ? 0 : -1, NULL) == 0;
}

void mqtt_flush(struct mqtt *m)
{
    if (m && m->out.started)
        queue_flush(m->out.q);
}

static int do_connect(struct mqtt *m)
{
    MQTTAsync_connectOptions opts = MQTTAsync_connectOptions_initializer;
    MQTTAsync_willOptions will = MQTTAsync_willOptions_initializer;
    MQTTAsync_SSLOptions ssl = MQTTAsync_SSLOptions_initializer;

    opts.keepAliveInterval = m->keepalive_s;
    opts.cleansession = m->clean_session;
    opts.automaticReconnect = 1;
    opts.minRetryInterval = 1;
    opts.maxRetryInterval = 30;
    opts.connectTimeout = 10;
    opts.username = m->username;
    opts.password = m->password;
    opts.onFailure = on_connect_failure;
    opts.context = m;
    if (m->will_topic) {
        will.topicName = m->will_topic;
        will.message = m->will_payload;
        will.retained = 1;
        will.qos = 1;
        opts.will = &will;
    }
    if (strncmp(m->uri, "ssl://", 6) == 0 || strncmp(m->uri, "mqtts://", 8) == 0) {
        ssl.trustStore = m->ca_file;
        ssl.keyStore = m->cert_file;
        ssl.privateKey = m->key_file;
        ssl.enableServerCertAuth = m->verify;
        ssl.verify = m->verify;
        ssl.sslVersion = MQTT_SSL_VERSION_TLS_1_2;
        opts.ssl = &ssl;
    }
    atomic_store(&m->state, CONN_CONNECTING);
    int rc = MQTTAsync_connect(m->client, &opts);
    if (rc != MQTTASYNC_SUCCESS) {
        log_err("mqtt: cannot start connecting to %s: %s", m->uri, MQTTAsync_strerror(rc));
        atomic_store(&m->state, CONN_RETRY_WAIT);
        return -EIO;
    }
    return 0;
}

int mqtt_start(struct mqtt *m)
{
    m->retry_delay_ms = 500;
    return do_connect(m);
}

/* Subscribes the next chunk of at most MQTT_SUBSCRIBE_CHUNK filters. At most
 * MQTT_SUBSCRIBE_WINDOW chunks are in flight: another goes when the broker
 * acknowledges one. Thousands of foreign devices mean thousands of filters:
 * in one SUBSCRIBE, Paho's threads would hold megabytes for it at once (and
 * glibc keep them). */
static bool subscribe_chunk(struct mqtt *m)
{
    size_t n = m->n_subs - m->sub_next;
    if (n > MQTT_SUBSCRIBE_CHUNK)
        n = MQTT_SUBSCRIBE_CHUNK;
    size_t first = m->sub_next;
    m->sub_next += n;
    m->sub_inflight++;
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    ro.onFailure = on_subscribe_failure;
    ro.onSuccess = on_subscribed;
    ro.context = m;
    int rc = MQTTAsync_subscribeMany(m->client, (int)n, m->subs + first, m->sub_qos + first, &ro);
    if (rc != MQTTASYNC_SUCCESS) {
        log_err("mqtt: subscribe failed: %s", MQTTAsync_strerror(rc));
        atomic_store(&m->need_subscribe, true); /* all again, on the next tick */
        return false;
    }
    return true;
}

/* Keeps MQTT_SUBSCRIBE_WINDOW chunks in flight until all are sent. */
static void subscribe_more(struct mqtt *m)
{
    while (m->sub_next < m->n_subs && m->sub_inflight < MQTT_SUBSCRIBE_WINDOW) {
        if (!subscribe_chunk(m))
            return;
    }
}

/* Paho hands a QoS 1 message it kept across a restart (one the last run
 * read but did not take) to on_message only when it has just read a packet
 * from the broker: one kept message per packet. In a quiet hall the next
 * packet may be the keepalive's ping, 30 s away, so kept messages would
 * trickle in. While some wait, ask the broker for packets: an UNSUBSCRIBE
 * of a filter nobody subscribes to is answered with one UNSUBACK and
 * reaches no one else. Through the outbox, so the owner never waits on
 * Paho's lock. Returns how long until the next look. */
static int64_t nudge_kept(struct mqtt *m, mono_ms now)
{
    struct mqtt_persist *p = atomic_load(&m->persist);
    if (!p || !m->nudge_filter || atomic_load(&m->state) != CONN_UP || atomic_load(&m->stopped))
        return 1000;
    if (now < m->next_nudge)
        return m->next_nudge - now;
    /* Paho's keys of queued messages: "q-<n>", "q5-<n>" with MQTT 5. */
    size_t kept = mqtt_persist_count_prefix(p, "q");
    if (kept > 0 && m->kept_seen == 0)
        log_notice("mqtt: %zu message%s kept from the last run; receiving them", kept,
                   kept == 1 ? "" : "s");
    else if (kept == 0 && m->kept_seen > 0)
        log_notice("mqtt: every message kept from the last run received");
    m->kept_seen = kept;
    if (kept == 0) {
        m->next_nudge = now + 1000; /* one look a second: a scan of the log's keys */
        return 1000;
    }
    size_t n = kept < KEPT_NUDGE_BATCH ? kept : KEPT_NUDGE_BATCH;
    size_t tlen = strlen(m->nudge_filter);
    for (size_t i = 0; i < n; i++) {
        struct outgoing *o = calloc(1, sizeof(*o) + tlen + 1);
        if (!o)
            break;
        o->topic = (char *)(o + 1);
        memcpy(o->topic, m->nudge_filter, tlen + 1);
        o->nudge = true;
        if (!outbox_put(m, o)) {
            free(o);
            break;
        }
    }
    m->next_nudge = now + KEPT_NUDGE_EVERY_MS;
    return KEPT_NUDGE_EVERY_MS;
}

int64_t mqtt_tick(struct mqtt *m, mono_ms now)
{
    if (atomic_exchange(&m->need_subscribe, false)) {
        log_notice("mqtt: connected to %s as %s", m->uri, m->client_id);
        m->retry_delay_ms = 500;
        m->sub_next = 0;
        m->sub_inflight = 0;
        atomic_store(&m->chunks_acked, 0);
        subscribe_more(m);
        if (m->n_subs == 0)
            atomic_store(&m->subscribed, true);
        if (m->will_topic)
            mqtt_publish(m, m->will_topic, m->online_payload, strlen(m->online_payload), 1, true);
    }
    int acked = atomic_exchange(&m->chunks_acked, 0);
    if (acked > 0) {
        m->sub_inflight = m->sub_inflight > acked ? m->sub_inflight - acked : 0;
        subscribe_more(m);
        if (m->sub_next >= m->n_subs && m->sub_inflight == 0)
            atomic_store(&m->subscribed, true);
    }
    if (atomic_load(&m->state) == CONN_RETRY_WAIT) {
        if (m->retry_at == 0) {
            m->retry_at = now + m->retry_delay_ms;
            m->retry_delay_ms = m->retry_delay_ms * 2 > 30000 ? 30000 : m->retry_delay_ms * 2;
        }
        if (now >= m->retry_at) {
            m->retry_at = 0;
            do_connect(m);
        } else {
            int64_t wait = m->retry_at - now;
            return wait < 1000 ? wait : 1000;
        }
    }
    return nudge_kept(m, now);
}

bool mqtt_take_subscribed(struct mqtt *m)
{
    return m && atomic_exchange(&m->subscribed, false);
}

bool mqtt_is_connected(const struct mqtt *m)
{
    return atomic_load(&((struct mqtt *)m)->state) == CONN_UP;
}

int mqtt_publish(struct mqtt *m, const char *topic, const void *payload, size_t len, int qos,
                 bool retained)
{
    if (atomic_load(&m->state) != CONN_UP || atomic_load(&m->stopped)) {
        emit(m, MQTT_EV_PUBLISH_FAILURE);
        return -ENOTCONN;
    }
    size_t tlen = strlen(topic);
    struct outgoing *o = malloc(sizeof(*o) + tlen + 1 + len);
    if (!o) {
        emit(m, MQTT_EV_PUBLISH_FAILURE);
        return -EIO;
    }
    o->topic = (char *)(o + 1);
    memcpy(o->topic, topic, tlen + 1);
    o->payload = o->topic + tlen + 1;
    if (len)
        memcpy(o->payload, payload, len);
    o->len = len;
    o->qos = qos;
    o->retained = retained;
    o->nudge = false;
    if (!outbox_put(m, o)) {
        free(o);
        emit(m, MQTT_EV_PUBLISH_FAILURE);
        if (log_ratelimit_ok(&m->rl_outbox, "mqtt: outbox full"))
            log_err("mqtt: %d publishes wait for the broker: dropping the publish on %s",
                    MQTT_OUTBOX_MAX, topic);
        return -EIO;
    }
    return 0;
}

void mqtt_stop_begin(struct mqtt *m, int64_t timeout_ms)
{
    if (!m || !m->client)
        return;
    /* After what is queued, on the outbox thread: the owner keeps emptying
     * the inbox meanwhile. */
    struct outgoing *o = calloc(1, sizeof(*o));
    atomic_store(&m->disconnected, !o || !m->out.started);
    if (o && m->out.started) {
        atomic_store(&m->out.stop_timeout_ms, timeout_ms);
        if (!outbox_put(m, o)) {
            free(o);
            atomic_store(&m->disconnected, true);
        }
    } else {
        free(o);
    }
    m->stop_deadline = clock_mono_ms() + timeout_ms + 1000;
}

bool mqtt_stop_done(struct mqtt *m)
{
    if (!m || !m->client)
        return true;
    if (!atomic_load(&m->disconnected) && clock_mono_ms() < m->stop_deadline)
        return false;
    atomic_store(&m->state, CONN_IDLE);
    atomic_store(&m->stopped, true);
    emit(m, MQTT_EV_DISCONNECTED);
    return true;
}

void mqtt_stop(struct mqtt *m, int64_t timeout_ms)
{
    mqtt_stop_begin(m, timeout_ms);
    while (!mqtt_stop_done(m))
        usleep(10000);
}

void mqtt_free(struct mqtt *m)
{
    if (!m)
        return;
    if (m->client) {
        if (!atomic_load(&m->stopped))
            mqtt_stop(m, 1000);
        outbox_stop(m);
        atomic_store(&m->persist, NULL);
        MQTTAsync_destroy(&m->client);
    }
    journal_close(m->journal);
    for (size_t i = 0; i < m->n_subs; i++)
        free(m->subs[i]);
    free(m->subs);
    free(m->sub_qos);
    free(m->uri);
    free(m->client_id);
    free(m->username);
    crypto_free_secret(m->password);
    free(m->ca_file);
    free(m->cert_file);
    free(m->key_file);
    free(m->will_topic);
    free(m->online_payload);
    free(m->will_payload);
    free(m->persistence_dir);
    free(m->nudge_filter);
    free(m);
}

/* ---- the journal ------------------------------------------------------------ */

struct replay_ctx {
    int (*fn)(void *ctx, struct mqtt_msg *msg);
    void *ctx;
};

static int replay_one(void *ctx, const struct journal_msg *jm)
{
    struct replay_ctx *r = ctx;
    struct mqtt_msg *msg = malloc(sizeof(*msg) + jm->topic_len + 1 + jm->payload_len + 1);
    if (!msg)
        return -ENOMEM;
    msg->topic = (char *)(msg + 1);
    memcpy(msg->topic, jm->topic, jm->topic_len + 1);
    msg->topic_len = jm->topic_len;
    msg->payload = msg->topic + jm->topic_len + 1;
    memcpy(msg->payload, jm->payload, jm->payload_len + 1);
    msg->payload_len = jm->payload_len;
    msg->oversize = false;
    msg->retained = jm->retained;
    msg->qos = jm->qos;
    msg->arrival = jm->arrival;
    msg->journal_id = jm->id;
    msg->replayed = true;
    return r->fn(r->ctx, msg);
}

long mqtt_replay(struct mqtt *m, int (*fn)(void *ctx, struct mqtt_msg *msg), void *ctx)
{
    if (!m->journal)
        return 0;
    struct replay_ctx r = {fn, ctx};
    return journal_replay(m->journal, replay_one, &r);
}

void mqtt_journal_done(struct mqtt *m, uint64_t mark)
{
    if (m && m->journal)
        journal_done(m->journal, mark);
}

void mqtt_journal_tick(struct mqtt *m)
{
    if (m && m->journal)
        journal_tick(m->journal);
}

bool mqtt_journal_stats(struct mqtt *m, struct journal_stats *st)
{
    if (!m || !m->journal)
        return false;
    journal_stats(m->journal, st);
    return true;
}
