/* The worker queue: a bounded FIFO of pointers between threads, many
 * producers and one consumer. Every hand-over between the gateway's threads
 * goes through one: Paho's receive thread to the core (the inbox), the core
 * to the InfluxDB writer, the notifier, the store writer and the MQTT
 * outbox, the HTTP threads to the core.
 *
 * The producer that finds the queue full waits up to a bounded time for room
 * (backpressure) before giving up; the consumer takes items in batches to
 * keep lock traffic low. queue_wake() rouses a waiting consumer without an
 * item, for control flags (signals, connection state). A consumer that says
 * when it has finished items (queue_done) lets producers wait for everything
 * they queued to be finished (queue_flush). queue_close() ends the queue:
 * the consumer empties it and stops.
 *
 * The queue owns no items: whoever pops an item owns it. */
#ifndef HALLGW_QUEUE_H
#define HALLGW_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct queue;

/* Returns NULL on allocation failure. capacity >= 1. */
struct queue *queue_new(size_t capacity);
void queue_free(struct queue *q); /* NULL does nothing; items left are not freed */

/* Appends item. When full, waits up to wait_ms for room (< 0: as long as it
 * takes). Returns 0, -ETIMEDOUT when still full after the wait (the caller
 * drops and counts), or -ESHUTDOWN after queue_close(). *waited is set to 1
 * when it had to wait at all (may be NULL). */
int queue_push(struct queue *q, void *item, int64_t wait_ms, int *waited);

/* Takes up to max items, oldest first, waiting up to wait_ms for the first one
 * (0: do not wait; < 0: until an item, a wake-up or the close). Returns the
 * number taken; 0 on timeout, wake-up, or when the queue is closed and empty
 * (queue_drained()). */
size_t queue_pop_batch(struct queue *q, void **items, size_t max, int64_t wait_ms);

/* The consumer has finished n of the items it took. */
void queue_done(struct queue *q, size_t n);

/* Waits until every item pushed before the call is finished (queue_done).
 * For producers of a consumer that calls queue_done() for every item it
 * takes, closed or not. */
void queue_flush(struct queue *q);

/* Makes a waiting queue_pop_batch return. A wake-up with no consumer waiting
 * is remembered until the next pop. */
void queue_wake(struct queue *q);

/* Refuses further pushes (-ESHUTDOWN) and releases waiting producers and the
 * consumer. Items already queued can still be popped. */
void queue_close(struct queue *q);

/* True once the queue is closed and empty: the consumer may stop. */
bool queue_drained(struct queue *q);

/* Items waiting in the queue. */
size_t queue_depth(struct queue *q);

/* Items pushed and not yet finished (queue_done): waiting, or being worked
 * on by the consumer. */
size_t queue_unfinished(struct queue *q);

#endif
