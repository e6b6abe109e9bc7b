/* Signing robot webhooks (core/notify_sign.c): where the signature goes, and
 * that it changes with the secret and the time. Its value against each
 * robot's documented algorithm is checked by an independent implementation
 * in tests/integration/test_notify.py. */
#include "notify_sign.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void test_dingtalk_signs_in_the_url(void **state)
{
    (void)state;
    char *u = notify_sign_dingtalk_url("https://oapi.dingtalk.com/robot/send?access_token=abc",
                                       "SECx", 1700000000123);
    assert_non_null(u);
    assert_non_null(strstr(u, "?access_token=abc&timestamp=1700000000123&sign="));
    assert_null(strchr(strstr(u, "&sign=") + 6, '+')); /* URL-encoded */
    assert_null(strchr(strstr(u, "&sign=") + 6, '/'));
    free(u);
    u = notify_sign_dingtalk_url("https://example.org/hook", "SECx", 5);
    assert_non_null(strstr(u, "/hook?timestamp=5&sign="));
    free(u);

    char a[96], b[96], c[96];
    assert_int_equal(notify_sign_dingtalk("SECx", 1000, a, sizeof(a)), 0);
    assert_int_equal(notify_sign_dingtalk("SECy", 1000, b, sizeof(b)), 0);
    assert_int_equal(notify_sign_dingtalk("SECx", 1001, c, sizeof(c)), 0);
    assert_string_not_equal(a, b);
    assert_string_not_equal(a, c);
    assert_int_equal(notify_sign_dingtalk("SECx", 1000, a, 8), -EIO);
}

static void test_feishu_signs_in_the_body(void **state)
{
    (void)state;
    size_t n = 0;
    const char body[] = " {\"msg_type\":\"text\",\"content\":{\"text\":\"hi\"}}";
    char *out = notify_sign_feishu_body(body, strlen(body), "s3cret", 1700000000, &n);
    assert_non_null(out);
    assert_int_equal(n, strlen(out));
    assert_memory_equal(out, "{\"timestamp\":\"1700000000\",\"sign\":\"", 34);
    assert_non_null(strstr(out, "\",\"msg_type\":\"text\",\"content\":{\"text\":\"hi\"}}"));
    free(out);
    out = notify_sign_feishu_body("{ }", 3, "s3cret", 1, &n);
    assert_non_null(out);
    assert_null(strstr(out, "\",}")); /* no comma before the empty object's end */
    assert_non_null(strstr(out, "\" }"));
    free(out);
    assert_null(notify_sign_feishu_body("[1]", 3, "s", 1, &n));
    assert_null(notify_sign_feishu_body("", 0, "s", 1, &n));

    char a[48], b[48];
    assert_int_equal(notify_sign_feishu("s3cret", 10, a, sizeof(a)), 0);
    assert_int_equal(notify_sign_feishu("s3cret", 11, b, sizeof(b)), 0);
    assert_string_not_equal(a, b);
    assert_int_equal(strlen(a), 44);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dingtalk_signs_in_the_url),
        cmocka_unit_test(test_feishu_signs_in_the_body),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
