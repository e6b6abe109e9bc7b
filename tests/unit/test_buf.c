/* The growable buffer: appends keep a NUL after the text, the cap is never
 * passed, the first failure sticks until a reset, truncation undoes a piece,
 * a buffer started in the caller's storage moves to the heap when it must
 * and a fixed one never does, and stealing hands over a plain string. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"

static void test_appends_keep_a_nul_after_the_text(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 0);
    assert_null(b.data);
    assert_int_equal(buf_puts(&b, "abc"), 0);
    assert_int_equal(buf_putc(&b, '-'), 0);
    assert_int_equal(buf_put(&b, "xyz", 2), 0);
    assert_int_equal(buf_printf(&b, "%d:%s", 42, "end"), 0);
    assert_string_equal(b.data, "abc-xy42:end");
    assert_int_equal(b.len, strlen("abc-xy42:end"));
    /* printf longer than its first try's scratch space */
    char big[1000];
    memset(big, 'q', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(buf_printf(&b, "[%s]", big), 0);
    assert_int_equal(b.len, strlen("abc-xy42:end") + 1001);
    assert_int_equal(b.data[b.len], '\0');
    buf_free(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
}

static void test_the_cap_is_never_passed_and_the_failure_sticks(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 8);
    assert_int_equal(buf_puts(&b, "12345678"), 0);
    assert_int_equal(buf_putc(&b, '9'), -ENOSPC);
    assert_int_equal(b.err, -ENOSPC);
    /* Nothing more goes in, even what would fit after a cut. */
    buf_truncate(&b, 4);
    assert_int_equal(b.err, 0);
    assert_string_equal(b.data, "1234");
    assert_int_equal(buf_puts(&b, "abcdef"), -ENOSPC);
    assert_int_equal(buf_putc(&b, 'x'), -ENOSPC);
    assert_string_equal(b.data, "1234");
    buf_reset(&b);
    assert_int_equal(b.err, 0);
    assert_int_equal(b.len, 0);
    assert_string_equal(b.data, "");
    assert_int_equal(buf_puts(&b, "ok"), 0);
    buf_free(&b);
}

static void test_a_buffer_on_the_stack_moves_to_the_heap_when_it_must(void **state)
{
    (void)state;
    char stack[8];
    struct buf b;
    buf_init_on(&b, stack, sizeof(stack), 0);
    assert_ptr_equal(b.data, stack);
    assert_int_equal(buf_puts(&b, "1234567"), 0); /* 7 bytes and the NUL: still there */
    assert_ptr_equal(b.data, stack);
    assert_int_equal(buf_puts(&b, "89"), 0);
    assert_ptr_not_equal(b.data, stack);
    assert_string_equal(b.data, "123456789");
    /* An array of structs kept in a buffer. */
    struct pair {
        int a, b;
    } *p = buf_alloc(&b, sizeof(*p));
    assert_non_null(p);
    assert_int_equal(b.len, 9 + sizeof(*p));
    buf_free(&b); /* frees the heap copy, never the stack */
}

static void test_a_fixed_buffer_never_leaves_its_storage(void **state)
{
    (void)state;
    char out[6];
    struct buf b;
    buf_init_fixed(&b, out, sizeof(out));
    assert_int_equal(buf_puts(&b, "hello"), 0);
    assert_ptr_equal(b.data, out);
    assert_int_equal(buf_putc(&b, '!'), -ENOSPC);
    assert_string_equal(out, "hello");
    char one[1];
    buf_init_fixed(&b, one, sizeof(one));
    assert_int_equal(buf_putc(&b, 'x'), -ENOSPC);
    assert_int_equal(one[0], '\0');
}

static void test_steal_hands_over_a_string_or_the_failure(void **state)
{
    (void)state;
    struct buf b;
    size_t len = 99;
    buf_init(&b, 0);
    char *s = buf_steal(&b, &len);
    assert_non_null(s);
    assert_string_equal(s, "");
    assert_int_equal(len, 0);
    free(s);

    buf_puts(&b, "text");
    s = buf_steal(&b, &len);
    assert_string_equal(s, "text");
    assert_int_equal(len, 4);
    assert_int_equal(b.len, 0);
    free(s);

    char stack[16];
    buf_init_on(&b, stack, sizeof(stack), 0);
    buf_puts(&b, "on the stack");
    s = buf_steal(&b, NULL);
    assert_ptr_not_equal(s, stack);
    assert_string_equal(s, "on the stack");
    free(s);
    assert_ptr_equal(b.data, stack); /* ready for more */
    assert_int_equal(b.cap, sizeof(stack) - 1);

    buf_init(&b, 3);
    buf_puts(&b, "four");
    errno = 0;
    assert_null(buf_steal(&b, NULL));
    assert_int_equal(errno, ENOSPC);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_appends_keep_a_nul_after_the_text),
        cmocka_unit_test(test_the_cap_is_never_passed_and_the_failure_sticks),
        cmocka_unit_test(test_a_buffer_on_the_stack_moves_to_the_heap_when_it_must),
        cmocka_unit_test(test_a_fixed_buffer_never_leaves_its_storage),
        cmocka_unit_test(test_steal_hands_over_a_string_or_the_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
