/* What the MQTT client keeps on disk: mqtt_persist behind Paho's
 * persistence interface, and the inbox journal (journal.h) that records each
 * QoS 1 message before Paho acknowledges it. */
#include <MQTTAsync.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "journal.h"
#include "mqtt_internal.h"
#include "mqtt_persist.h"

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
    mqtt_emit(ctx, MQTT_EV_PERSIST_ERROR);
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

/* With the journal, Paho's queue entries are not written: every message
 * Paho hands over is recorded in the journal before it is acknowledged, and
 * on_message never leaves one with Paho (mqtt.c), so its queue entry only
 * lives between Paho's read and that record. A message Paho had read when
 * the process died was not acknowledged either: the broker sends it again.
 * This saves two writes per message. */
static bool journaled(const struct mqtt *m, const char *key)
{
    return m->journal && is_queue_key(key);
}

static int pst_put(void *handle, char *key, int n, char *bufs[], int lens[])
{
    struct mqtt *m = handle;
    if (journaled(m, key))
        return 0;
    int rc = mqtt_persist_put(m->pst, key, n, bufs, lens);
    return rc == 0 || (rc != -ENOMEM && rc != -EINVAL) ? 0 : MQTTCLIENT_PERSISTENCE_ERROR;
}

static int pst_get(void *handle, char *key, char **buf, int *len)
{
    struct mqtt *m = handle;
    if (journaled(m, key))
        return MQTTCLIENT_PERSISTENCE_ERROR;
    return mqtt_persist_get(m->pst, key, paho_alloc, buf, len) == 0 ? 0
                                                                    : MQTTCLIENT_PERSISTENCE_ERROR;
}

static int pst_remove(void *handle, char *key)
{
    struct mqtt *m = handle;
    if (journaled(m, key))
        return 0;
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
    if (journaled(m, key))
        return MQTTCLIENT_PERSISTENCE_ERROR;
    return mqtt_persist_contains(m->pst, key) ? 0 : MQTTCLIENT_PERSISTENCE_ERROR;
}

void mqtt_store_init(struct mqtt *m)
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

/* ---- arrivals ---------------------------------------------------------------- */

bool mqtt_store_arrived(struct mqtt *m, struct mqtt_msg *msg, int msgid, bool dup)
{
    if (!m->journal) {
        msg->arrival = clock_wall();
    } else if (msg->qos == 0 || msg->oversize) {
        msg->arrival = journal_arrival(m->journal);
    } else if (dup && journal_seen(m->journal, msgid, msg->topic, msg->topic_len, msg->payload,
                                   msg->payload_len)) {
        return false; /* the replay has it */
    } else {
        (void)journal_record(m->journal, msgid, msg->topic, msg->topic_len, msg->payload,
                             msg->payload_len, msg->qos, msg->retained, &msg->journal_id,
                             &msg->arrival);
    }
    return true;
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
