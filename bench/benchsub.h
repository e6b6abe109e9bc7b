/* A Paho MQTTAsync subscriber for the bench programs (Paho's header stays in
 * benchsub.c). It connects with a clean session, subscribes and hands every
 * message to a callback on Paho's thread. */
#ifndef HALLGW_BENCHSUB_H
#define HALLGW_BENCHSUB_H

#include <stdbool.h>
#include <stddef.h>

/* Called on Paho's receive thread for each message; the buffers are Paho's
 * and valid only during the call. */
typedef void (*benchsub_fn)(void *arg, const char *topic, size_t topic_len, const void *payload,
                            size_t payload_len);

struct benchsub;

/* Connects to uri and subscribes to filters at qos; waits up to timeout_s for
 * the SUBACK. Returns NULL (after a message on stderr) on failure. */
struct benchsub *benchsub_start(const char *prog, const char *uri, const char *client_id,
                                const char *const *filters, size_t n_filters, int qos,
                                benchsub_fn fn, void *arg, double timeout_s);

/* Publishes a copy of payload to topic at qos; callable from the callback
 * (Paho's receive thread). Returns 0, or -1 when Paho refused it. */
int benchsub_publish(struct benchsub *s, const char *topic, const void *payload, size_t len,
                     int qos);

/* True once the connection was lost. */
bool benchsub_lost(const struct benchsub *s);

/* Disconnects and frees; NULL does nothing. */
void benchsub_stop(struct benchsub *s);

/* CLOCK_MONOTONIC and CLOCK_REALTIME in seconds. */
double benchsub_mono(void);
double benchsub_wall(void);

/* This process's user + system CPU seconds (getrusage). */
double benchsub_cpu_s(void);

#endif
