/* The MQTT client (Paho MQTTAsync is included here only).
 *
 * Paho's threads only copy messages into the inbox queue and flip state
 * flags. Publishes (and the will and disconnect of a stop) are handed to
 * Paho by the client's outbox thread, so the owner never waits on Paho's
 * lock; the other calls into Paho are made by the owning (core) thread from
 * mqtt_tick(): connecting, retrying with backoff after a failed first
 * connect, and (re)subscribing after every connect. */
#ifndef HALLGW_MQTT_H
#define HALLGW_MQTT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clock.h"
#include "journal.h"

struct queue;

/* One received message, one allocation; the receiver frees it with free(). */
struct mqtt_msg {
    char *topic; /* NUL-terminated; may hold NUL bytes before topic_len (then refused) */
    size_t topic_len;
    char *payload; /* NUL-terminated copy (the NUL is not part of payload_len) */
    size_t payload_len;
    bool oversize; /* payload over max_payload: not copied, payload_len is the real size */
    bool retained;
    int qos;
    wall_s arrival;      /* given once (journal.h): a replay has the same */
    uint64_t journal_id; /* its id in the journal; 0 when not recorded */
    bool replayed;       /* from the journal: the last run did not finish it */
};

/* What the client reports to its owner's counters (the gateway's /metrics),
 * through mqtt_options.on_event, from any of its threads. */
enum mqtt_event {
    MQTT_EV_INBOX_WAIT,      /* the inbox was full: the callback waited (backpressure) */
    MQTT_EV_INBOX_DROP,      /* a message dropped: the inbox stayed full, or out of memory */
    MQTT_EV_CONNECTED,       /* connected (again) */
    MQTT_EV_CONNECTION_LOST, /* lost; reconnecting */
    MQTT_EV_CONNECT_FAILURE, /* a connect attempt failed */
    MQTT_EV_DISCONNECTED,    /* stopped */
    MQTT_EV_PUBLISHED,       /* a publish handed to the library */
    MQTT_EV_PUBLISH_FAILURE, /* a publish refused (not connected, outbox full, library error) */
    MQTT_EV_PERSIST_ERROR,   /* the persistence log could not be written (mqtt_persist.h) */
};

struct mqtt_options {
    const char *uri; /* tcp://, ssl://, mqtt://, mqtts:// */
    const char *client_id;
    const char *username; /* NULL for none */
    const char *password; /* NULL for none */
    int keepalive_s;
    bool clean_session;                         /* false for the gateway: a persistent session */
    const char *ca_file, *cert_file, *key_file; /* ssl only; NULL for none */
    bool verify;                                /* verify the server certificate (ssl) */
    const char *will_topic;                    /* NULL for no LWT; the will is retained "offline" */
    const char *online_payload, *will_payload; /* published retained on will_topic */
    const char *const *subscriptions;          /* topic filters, subscribed after every connect */
    size_t n_subscriptions;
    int qos;               /* subscription QoS */
    struct queue *inbox;   /* NULL: received messages are dropped (publish-only clients) */
    int64_t inbox_wait_ms; /* backpressure: how long a full inbox may hold the callback */
    size_t max_payload;    /* larger payloads are not copied (oversize) */
    /* Directory for the client's persistence (mqtt_persist.h: the log
     * <dir>/<client_id>.log), or NULL for none. Paho acknowledges a QoS 1
     * message as soon as it reads it; with persistence a message it has read
     * but not yet handed over (at a disconnect) is kept on disk and handed
     * over after the next start, instead of lost; so are QoS 1 publishes not
     * yet acknowledged by the broker. A disk that cannot be written costs
     * that durability (counted in mqtt_persist_errors), never a message of
     * the running client. */
    const char *persistence_dir;
    /* With persistence_dir and an inbox: record each QoS 1 message in the
     * inbox journal (journal.h) before it is acknowledged, until the owner
     * says it is done (mqtt_journal_done). */
    bool journal;
    enum journal_durability durability;
    int64_t sync_interval_ms;
    /* Called for each event, from any thread (so it must be thread-safe and
     * quick); NULL for none. */
    void (*on_event)(void *ctx, enum mqtt_event ev);
    void *event_ctx;
};

struct mqtt;

/* Creates the client; does not connect. Strings in opts are copied.
 * Returns 0 or a negative errno, logging Paho's reason. */
int mqtt_new(const struct mqtt_options *opts, struct mqtt **out);
void mqtt_free(struct mqtt *m); /* NULL does nothing; disconnects first */

/* Starts connecting. Then call mqtt_tick() from the owner's loop. */
int mqtt_start(struct mqtt *m);

/* Does the owner-thread work that callbacks asked for: subscribe after a
 * connect, publish "online", retry a failed connect after backoff. Returns
 * the milliseconds until it next needs to run (at most 1000). */
int64_t mqtt_tick(struct mqtt *m, mono_ms now);

bool mqtt_is_connected(const struct mqtt *m);

/* True once after the broker acknowledged all the subscriptions of a
 * connect (each connect subscribes again, in chunks of a few hundred
 * filters, the next when the last is acknowledged). NULL: false. */
bool mqtt_take_subscribed(struct mqtt *m);

/* Hands fn each message the journal holds from the last run (replayed set),
 * oldest first; fn takes ownership of msg (frees it) and returns 0 to go
 * on. Call before mqtt_start(). Returns how many, or a negative errno. */
long mqtt_replay(struct mqtt *m, int (*fn)(void *ctx, struct mqtt_msg *msg), void *ctx);

/* Every message with a journal_id up to mark has its points written or
 * spooled. Thread-safe; m NULL or without a journal: nothing. */
void mqtt_journal_done(struct mqtt *m, uint64_t mark);
/* Syncs what waits longer than sync_interval (durability "machine"). */
void mqtt_journal_tick(struct mqtt *m);
/* False without a journal. */
bool mqtt_journal_stats(struct mqtt *m, struct journal_stats *st);

/* Publishes; thread-safe, never waits for Paho: the message is copied into
 * the outbox, which a thread of the client hands to Paho in order (the
 * QoS 1 persistence record, one write(), is written there too). Returns 0,
 * -ENOTCONN (not connected, or stopping) or -EIO (out of memory, or
 * MQTT_OUTBOX_MAX publishes already waiting). A failure later, in Paho, is
 * reported as MQTT_EV_PUBLISH_FAILURE like these. */
#define MQTT_OUTBOX_MAX 8192
int mqtt_publish(struct mqtt *m, const char *topic, const void *payload, size_t len, int qos,
                 bool retained);

/* Waits until every publish queued before the call is handed to Paho. */
void mqtt_flush(struct mqtt *m);

/* Publishes will_payload on will_topic (a clean shutdown sends no LWT) and
 * starts disconnecting, allowing timeout_ms for in-flight work. The owner
 * keeps emptying the inbox until mqtt_stop_done() says the connection is
 * closed: from then on no message is taken (Paho keeps any it still holds
 * for the next start). */
void mqtt_stop_begin(struct mqtt *m, int64_t timeout_ms);
bool mqtt_stop_done(struct mqtt *m);

/* mqtt_stop_begin() and a wait for mqtt_stop_done(), for owners without an
 * inbox to empty. */
void mqtt_stop(struct mqtt *m, int64_t timeout_ms);

#endif
