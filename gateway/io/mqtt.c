/* The MQTT client: the connection, the inbox and the outbox. What it keeps
 * on disk is in mqtt_store.c. */
#include <MQTTAsync.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto.h"
#include "journal.h"
#include "mqtt_internal.h"
#include "mqtt_persist.h"
#include "queue.h"
#include "threads.h"

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

static int outbox_start(struct mqtt *m);
static void outbox_stop(struct mqtt *m);

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
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

    /* Stopped: the owner takes no more. With the journal, a QoS 1 message
     * is recorded there and replayed at the next start; without, Paho keeps
     * it (persisted) for then. */
    bool stopped = atomic_load(&m->stopped);
    if (stopped && !(m->journal && pm->qos > 0 && !oversize))
        return 0;
    if (!m->inbox)
        goto out_free;
    struct mqtt_msg *msg = malloc(sizeof(*msg) + tlen + 1 + copy + 1);
    if (!msg) {
        mqtt_emit(m, MQTT_EV_INBOX_DROP);
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
    if (!mqtt_store_arrived(m, msg, pm->msgid, pm->dup != 0)) {
        free(msg);
        goto out_free;
    }
    if (stopped) {
        bool recorded = msg->journal_id != 0;
        free(msg);
        if (!recorded)
            return 0; /* the journal failed: Paho keeps it, in memory */
        goto out_free;
    }

    int waited = 0;
    int r = queue_push(m->inbox, msg, m->inbox_wait_ms, &waited);
    if (waited)
        mqtt_emit(m, MQTT_EV_INBOX_WAIT);
    if (r < 0) {
        mqtt_emit(m, MQTT_EV_INBOX_DROP);
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
    mqtt_emit(m, MQTT_EV_CONNECTED);
    wake_owner(m);
}

static void on_connection_lost(void *ctx, char *cause)
{
    struct mqtt *m = ctx;
    /* With automatic reconnect on, Paho reconnects by itself. */
    atomic_store(&m->state, CONN_CONNECTING);
    mqtt_emit(m, MQTT_EV_CONNECTION_LOST);
    log_warn("mqtt: connection to %s lost%s%s; reconnecting", m->uri, cause ? ": " : "",
             cause ? cause : "");
    wake_owner(m);
}

static void on_connect_failure(void *ctx, MQTTAsync_failureData *resp)
{
    struct mqtt *m = ctx;
    mqtt_emit(m, MQTT_EV_CONNECT_FAILURE);
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
    mqtt_store_init(m);
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
        mqtt_emit(m, MQTT_EV_PUBLISH_FAILURE);
    else
        mqtt_emit(m, MQTT_EV_PUBLISHED);
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
        mqtt_emit(m, MQTT_EV_PUBLISH_FAILURE);
        return -ENOTCONN;
    }
    size_t tlen = strlen(topic);
    struct outgoing *o = malloc(sizeof(*o) + tlen + 1 + len);
    if (!o) {
        mqtt_emit(m, MQTT_EV_PUBLISH_FAILURE);
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
        mqtt_emit(m, MQTT_EV_PUBLISH_FAILURE);
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
    mqtt_emit(m, MQTT_EV_DISCONNECTED);
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
