/* Private to the MQTT client (mqtt.c: the connection, the inbox and the
 * outbox; mqtt_store.c: what it keeps on disk, Paho's persistence and the
 * inbox journal). Nothing else may include this header. */
#ifndef HALLGW_MQTT_INTERNAL_H
#define HALLGW_MQTT_INTERNAL_H

#include <MQTTAsync.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "journal.h"
#include "log.h"
#include "mqtt.h"

struct mqtt_persist;

enum conn_state { CONN_IDLE, CONN_CONNECTING, CONN_UP, CONN_RETRY_WAIT };

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
    /* The inbox journal (journal.h); NULL without one. With it, Paho's
     * queue entries ("q-" keys) are not written to persist: the journal
     * holds every message before it is acknowledged (mqtt_store.c). */
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

static inline void mqtt_emit(struct mqtt *m, enum mqtt_event ev)
{
    if (m->on_event)
        m->on_event(m->event_ctx, ev);
}

/* ---- mqtt_store.c ---- */

/* Fills m->persistence: Paho's persistence interface over mqtt_persist,
 * which opens the journal too (with use_journal) when Paho opens it. */
void mqtt_store_init(struct mqtt *m);

/* Paho thread, before the message is acknowledged: gives msg its arrival
 * time and, for a QoS 1 message, records it in the journal. False when msg
 * is a redelivery of a message the journal already holds: then it is not
 * handed on. */
bool mqtt_store_arrived(struct mqtt *m, struct mqtt_msg *msg, int msgid, bool dup);

#endif
