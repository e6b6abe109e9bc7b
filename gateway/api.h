/* The exchange between the HTTP server's threads and the core thread.
 *
 * The core owns all state; the HTTP threads never touch it. Instead the core
 * publishes JSON snapshots (the hall state and the active alerts) while
 * someone is asking for them, and serves requests that change something
 * (acknowledgements, power-off overrides) from its own loop, answering each
 * one. */
#ifndef HALLGW_API_H
#define HALLGW_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clock.h"
#include "record.h"
#include "roles.h"

struct queue;

enum api_request_kind {
    API_ACK,             /* hall, id (the alert), by, note, resolve */
    API_APPROVE,         /* hall, id (a baseline alert), by, note: approve and resolve */
    API_OVERRIDE_ADD,    /* id (the device), until, note (the reason), by */
    API_OVERRIDE_REMOVE, /* id (the device), by */
    API_SILENCE_ADD,     /* silence (its created_by set), answered with its id */
    API_SILENCE_END,     /* id (the silence), until (<= now: expire it now), by */
};

struct api_request {
    enum api_request_kind kind;
    char hall[65];
    char id[131];
    char by[65];
    char note[256];
    bool resolve;
    enum role role; /* the account's: checked against the alert's kind */
    struct record_silence silence;
    wall_s until;
    /* the answer */
    int result;     /* 0 or a negative errno */
    char state[16]; /* the alert's state afterwards */
    char why[128];  /* overrides: why it was refused */
    /* private */
    bool done;
    int refs;
};

struct api;

/* wake: the core's inbox, woken when a request or a snapshot wish arrives. */
struct api *api_new(struct queue *wake);
void api_free(struct api *a); /* NULL does nothing */

/* ---- the core's side ---- */

/* True while some client asked for a snapshot in the last 30 s. */
bool api_wanted(struct api *a, mono_ms now);

/* Replaces the snapshots (takes ownership of both malloc'd strings; either
 * may be NULL to keep the old one). */
void api_publish(struct api *a, char *state_json, char *alerts_json);
/* Replaces the overview of every hall (overview.h), the same way. */
void api_publish_overview(struct api *a, char *overview_json);

/* Replaces the unbound devices' snapshot (unbound_feed_json(); takes
 * ownership; NULL keeps the old one). */
void api_publish_unbound(struct api *a, char *json);

/* The core loop is turning; mqtt tells whether the broker is connected. */
void api_heartbeat(struct api *a, mono_ms now, bool mqtt_connected);

/* The next request to serve, or NULL. Answer each with api_complete(). */
struct api_request *api_next_request(struct api *a);
void api_complete(struct api *a, struct api_request *r);

/* ---- the HTTP threads' side ---- */

/* A malloc'd copy of the state (or alerts) snapshot; waits up to wait_ms for
 * the first one. Returns 0, or -EAGAIN when none came in time. */
int api_get_state(struct api *a, char **json, size_t *len, int64_t wait_ms);
int api_get_alerts(struct api *a, char **json, size_t *len, int64_t wait_ms);
int api_get_unbound(struct api *a, char **json, size_t *len, int64_t wait_ms);
int api_get_overview(struct api *a, char **json, size_t *len, int64_t wait_ms);

/* Hands r (a malloc'd request) to the core and waits up to wait_ms for the
 * answer. Returns 0 with r answered, or -ETIMEDOUT. Frees r either way with
 * api_request_release(), after copying the answer into *out when not NULL. */
int api_submit(struct api *a, struct api_request *r, int64_t wait_ms, struct api_request *out);

/* True when the core turned in the last 5 s and MQTT is connected. */
bool api_healthy(struct api *a, mono_ms now, bool *mqtt_connected, int64_t *since_turn_ms);

#endif
