/* The worker queue: order, backpressure, wake-ups, closing, and the done
 * accounting that lets producers wait for their items to be finished. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include <cmocka.h>

#include "clock.h"
#include "queue.h"

static void test_items_come_out_in_order_in_batches(void **state)
{
    (void)state;
    struct queue *q = queue_new(8);
    intptr_t v[8];
    for (intptr_t i = 0; i < 8; i++)
        assert_int_equal(queue_push(q, (void *)(i + 1), 0, NULL), 0);
    void *out[8];
    assert_int_equal(queue_pop_batch(q, out, 3, 0), 3);
    for (int i = 0; i < 3; i++)
        v[i] = (intptr_t)out[i];
    assert_int_equal(queue_pop_batch(q, out + 3, 8, 0), 5);
    for (int i = 3; i < 8; i++)
        v[i] = (intptr_t)out[i];
    for (int i = 0; i < 8; i++)
        assert_int_equal(v[i], i + 1);
    assert_int_equal(queue_pop_batch(q, out, 8, 0), 0);
    queue_free(q);
}

static void test_full_queue_times_out_after_the_bounded_wait(void **state)
{
    (void)state;
    struct queue *q = queue_new(2);
    assert_int_equal(queue_push(q, (void *)1, 0, NULL), 0);
    assert_int_equal(queue_push(q, (void *)2, 0, NULL), 0);
    int waited = 0;
    mono_ms t0 = clock_mono_ms();
    assert_int_equal(queue_push(q, (void *)3, 50, &waited), -ETIMEDOUT);
    assert_true(clock_mono_ms() - t0 >= 50);
    assert_int_equal(waited, 1);
    assert_int_equal(queue_depth(q), 2);
    /* Without a wait, a full queue refuses at once. */
    assert_int_equal(queue_push(q, (void *)3, 0, &waited), -ETIMEDOUT);
    assert_int_equal(waited, 0);
    queue_free(q);
}

struct consumer {
    struct queue *q;
    int64_t delay_ms;
    size_t got;
};

static void *slow_consumer(void *arg)
{
    struct consumer *c = arg;
    struct timespec ts = {0, (long)c->delay_ms * 1000000L};
    nanosleep(&ts, NULL);
    void *out[4];
    c->got = queue_pop_batch(c->q, out, 4, 1000);
    return NULL;
}

static void test_waiting_producer_gets_room_when_the_consumer_takes(void **state)
{
    (void)state;
    struct queue *q = queue_new(1);
    assert_int_equal(queue_push(q, (void *)1, 0, NULL), 0);
    struct consumer c = {q, 30, 0};
    pthread_t t;
    pthread_create(&t, NULL, slow_consumer, &c);
    int waited = 0;
    assert_int_equal(queue_push(q, (void *)2, 5000, &waited), 0);
    assert_int_equal(waited, 1);
    pthread_join(t, NULL);
    assert_int_equal(c.got, 1);
    void *out[1];
    assert_int_equal(queue_pop_batch(q, out, 1, 0), 1);
    assert_ptr_equal(out[0], (void *)2);
    queue_free(q);
}

static void *waker(void *arg)
{
    struct timespec ts = {0, 20000000L};
    nanosleep(&ts, NULL);
    queue_wake(arg);
    return NULL;
}

static void test_wake_rouses_a_waiting_consumer_without_an_item(void **state)
{
    (void)state;
    struct queue *q = queue_new(4);
    pthread_t t;
    pthread_create(&t, NULL, waker, q);
    mono_ms t0 = clock_mono_ms();
    void *out[4];
    assert_int_equal(queue_pop_batch(q, out, 4, 10000), 0);
    assert_true(clock_mono_ms() - t0 < 5000);
    pthread_join(t, NULL);
    /* A wake-up with nobody waiting is kept for the next pop. */
    queue_wake(q);
    t0 = clock_mono_ms();
    assert_int_equal(queue_pop_batch(q, out, 4, 10000), 0);
    assert_true(clock_mono_ms() - t0 < 1000);
    queue_free(q);
}

static void test_closed_queue_refuses_pushes_but_keeps_its_items(void **state)
{
    (void)state;
    struct queue *q = queue_new(4);
    assert_int_equal(queue_push(q, (void *)1, 0, NULL), 0);
    queue_close(q);
    assert_int_equal(queue_push(q, (void *)2, 100, NULL), -ESHUTDOWN);
    void *out[4];
    assert_int_equal(queue_pop_batch(q, out, 4, 0), 1);
    queue_free(q);
}

struct producer {
    struct queue *q;
    int n;
    int failures;
};

static void *producer_main(void *arg)
{
    struct producer *p = arg;
    for (intptr_t i = 1; i <= p->n; i++) {
        if (queue_push(p->q, (void *)i, 5000, NULL) != 0)
            p->failures++;
    }
    return NULL;
}

static void test_many_producers_one_consumer_lose_nothing(void **state)
{
    (void)state;
    struct queue *q = queue_new(16);
    struct producer p[4];
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        p[i] = (struct producer){q, 20000, 0};
        pthread_create(&t[i], NULL, producer_main, &p[i]);
    }
    long long sum = 0, count = 0;
    void *out[64];
    while (count < 4 * 20000) {
        size_t n = queue_pop_batch(q, out, 64, 1000);
        for (size_t i = 0; i < n; i++)
            sum += (intptr_t)out[i];
        count += (long long)n;
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(p[i].failures, 0);
    }
    assert_int_equal(count, 80000);
    assert_true(sum == 4LL * 20000 * 20001 / 2);
    queue_free(q);
}

/* A consumer that finishes items slowly, stopping when the queue is closed
 * and drained; counts what it finished. */
struct worker {
    struct queue *q;
    int finished;
};

static void *slow_worker(void *arg)
{
    struct worker *w = arg;
    void *items[4];
    for (;;) {
        size_t n = queue_pop_batch(w->q, items, 4, -1);
        if (n == 0) {
            if (queue_drained(w->q))
                return NULL;
            continue;
        }
        struct timespec ts = {0, 20 * 1000000L};
        nanosleep(&ts, NULL);
        w->finished += (int)n;
        queue_done(w->q, n);
    }
}

static void test_flush_waits_until_the_consumer_finished_everything(void **state)
{
    (void)state;
    struct worker w = {.q = queue_new(4)};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, slow_worker, &w), 0);
    /* Waiting for room as long as it takes: nothing is dropped. */
    for (intptr_t i = 0; i < 20; i++)
        assert_int_equal(queue_push(w.q, (void *)(i + 1), -1, NULL), 0);
    queue_flush(w.q);
    assert_int_equal(w.finished, 20);
    assert_int_equal(queue_unfinished(w.q), 0);
    assert_int_equal(queue_depth(w.q), 0);
    /* Closing ends the consumer once the queue is empty. */
    assert_int_equal(queue_push(w.q, (void *)1, -1, NULL), 0);
    queue_close(w.q);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(w.finished, 21);
    assert_true(queue_drained(w.q));
    assert_int_equal(queue_push(w.q, (void *)1, -1, NULL), -ESHUTDOWN);
    queue_free(w.q);
}

static void test_an_endless_wait_ends_with_the_close(void **state)
{
    (void)state;
    struct worker w = {.q = queue_new(2)};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, slow_worker, &w), 0);
    struct timespec ts = {0, 50 * 1000000L};
    nanosleep(&ts, NULL); /* the worker waits with no deadline */
    queue_close(w.q);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(w.finished, 0);
    queue_free(w.q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_items_come_out_in_order_in_batches),
        cmocka_unit_test(test_full_queue_times_out_after_the_bounded_wait),
        cmocka_unit_test(test_waiting_producer_gets_room_when_the_consumer_takes),
        cmocka_unit_test(test_wake_rouses_a_waiting_consumer_without_an_item),
        cmocka_unit_test(test_closed_queue_refuses_pushes_but_keeps_its_items),
        cmocka_unit_test(test_many_producers_one_consumer_lose_nothing),
        cmocka_unit_test(test_flush_waits_until_the_consumer_finished_everything),
        cmocka_unit_test(test_an_endless_wait_ends_with_the_close),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
