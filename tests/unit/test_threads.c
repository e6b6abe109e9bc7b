/* Thread names: what ps -L, top -H and perf show for the gateway's threads. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "threads.h"

struct named {
    const char *give;
    char got[32];
};

static void *name_and_read(void *arg)
{
    struct named *n = arg;
    threads_name_self(n->give);
    if (pthread_getname_np(pthread_self(), n->got, sizeof(n->got)) != 0)
        n->got[0] = '\0';
    return NULL;
}

static void named_in_thread(struct named *n)
{
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, name_and_read, n), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
}

static void test_threads_name_is_visible_to_the_system(void **state)
{
    (void)state;
    struct named n = {.give = "hallgw-store"};
    named_in_thread(&n);
    assert_string_equal(n.got, "hallgw-store");
}

static void test_threads_long_name_is_cut_to_fifteen_characters(void **state)
{
    (void)state;
    /* pthread_setname_np refuses names over 15 characters: they are cut. */
    struct named n = {.give = "hallgw-a-very-long-thread-name"};
    named_in_thread(&n);
    assert_string_equal(n.got, "hallgw-a-very-l");
}

static void test_threads_name_leaves_other_threads_alone(void **state)
{
    (void)state;
    char before[32], after[32];
    assert_int_equal(pthread_getname_np(pthread_self(), before, sizeof(before)), 0);
    struct named n = {.give = "hallgw-influx"};
    named_in_thread(&n);
    assert_int_equal(pthread_getname_np(pthread_self(), after, sizeof(after)), 0);
    assert_string_equal(before, after);
    assert_string_not_equal(after, "hallgw-influx");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_threads_name_is_visible_to_the_system),
        cmocka_unit_test(test_threads_long_name_is_cut_to_fifteen_characters),
        cmocka_unit_test(test_threads_name_leaves_other_threads_alone),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
