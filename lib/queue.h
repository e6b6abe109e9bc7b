/* A bounded FIFO of pointers between threads: many producers, one consumer.
 *
 * The producer that finds the queue full waits up to a bounded time for room
 * (backpressure) before giving up; the consumer takes items in batches to
 * keep lock traffic low. queue_wake() rouses a waiting consumer without an
 * item, for control flags (signals, connection state).
 *
 * The queue owns no items: whoever pops an item owns it. */
#ifndef HALLGW_QUEUE_H
#define HALLGW_QUEUE_H

#include <stddef.h>
#include <stdint.h>

struct queue;

/* Returns NULL on allocation failure. capacity >= 1. */
struct queue *queue_new(size_t capacity);
void queue_free(struct queue *q); /* NULL does nothing; items left are not freed */

/* Appends item. When full, waits up to wait_ms for room. Returns 0,
 * -ETIMEDOUT when still full after the wait (the caller drops and counts),
 * or -ESHUTDOWN after queue_close(). *waited is set to 1 when it had to wait
 * at all (may be NULL). */
int queue_push(struct queue *q, void *item, int64_t wait_ms, int *waited);

/* Takes up to max items, oldest first, waiting up to wait_ms for the first one
 * (0 = do not wait). Returns the number taken; 0 on timeout or wake-up. */
size_t queue_pop_batch(struct queue *q, void **items, size_t max, int64_t wait_ms);

/* Makes a waiting queue_pop_batch return. A wake-up with no consumer waiting
 * is remembered until the next pop. */
void queue_wake(struct queue *q);

/* Refuses further pushes (-ESHUTDOWN) and releases waiting producers. Items
 * already queued can still be popped. */
void queue_close(struct queue *q);

size_t queue_depth(struct queue *q);

#endif
