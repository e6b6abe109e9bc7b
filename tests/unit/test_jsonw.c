/* The JSON writer: any bytes make valid JSON that jansson reads back, valid
 * UTF-8 comes back unchanged, invalid bytes as U+FFFD; numbers are the
 * shortest that read back; members get their commas; a payload that does
 * not fit its buffer fails whole, never cut. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "jsonw.h"

static json_t *parse(const char *text)
{
    json_error_t err;
    json_t *j = json_loads(text, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &err);
    if (!j)
        fail_msg("not JSON (%s): %s", err.text, text);
    return j;
}

static void test_strings_escape_what_json_needs_and_keep_the_rest(void **state)
{
    (void)state;
    char out[512];
    struct buf b;
    buf_init_fixed(&b, out, sizeof(out));
    const char s[] = "C:\\dir\\\"q\"\n\t\x01\x7f 文件 \xe2\x80\xa8 \xff\xfe ok";
    assert_int_equal(jsonw_string(&b, s, sizeof(s) - 1), 0);
    assert_string_equal(out, "\"C:\\\\dir\\\\\\\"q\\\"\\n\\t\\u0001\\u007f 文件 \\u2028 "
                             "\\ufffd\\ufffd ok\"");
    /* Read back: the text, with the invalid bytes as U+FFFD. */
    char doc[600];
    snprintf(doc, sizeof(doc), "[%s]", out);
    json_t *j = parse(doc);
    assert_string_equal(json_string_value(json_array_get(j, 0)),
                        "C:\\dir\\\"q\"\n\t\x01\x7f 文件 \xe2\x80\xa8 \xef\xbf\xbd\xef\xbf\xbd ok");
    json_decref(j);

    buf_reset(&b);
    assert_int_equal(jsonw_str(&b, NULL), 0);
    assert_string_equal(out, "\"\"");
    buf_reset(&b);
    assert_int_equal(jsonw_escape(&b, "a\"b", 3), 0);
    assert_string_equal(out, "a\\\"b");
}

static void test_every_byte_makes_valid_json(void **state)
{
    (void)state;
    char s[256];
    for (int i = 0; i < 256; i++)
        s[i] = (char)i;
    struct buf b;
    buf_init(&b, 0);
    buf_putc(&b, '[');
    jsonw_string(&b, s, sizeof(s));
    buf_putc(&b, ']');
    assert_int_equal(b.err, 0);
    json_t *j = parse(b.data);
    const char *back = json_string_value(json_array_get(j, 0));
    /* ASCII as it was; each of the 128 high bytes alone is invalid. */
    assert_int_equal(json_string_length(json_array_get(j, 0)), 128 + 128 * 3);
    assert_memory_equal(back, s, 128);
    json_decref(j);
    buf_free(&b);
}

static void test_numbers_are_the_shortest_that_read_back(void **state)
{
    (void)state;
    static const struct {
        double v;
        const char *text;
    } cases[] = {
        {0, "0"},
        {-0.0, "-0"},
        {21, "21"},
        {21.5, "21.5"},
        {0.1, "0.1"},
        {1e21, "1e+21"},
        {1.7e9 + 0.25, "1700000000.25"},
        {NAN, "null"},
        {INFINITY, "null"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char out[64];
        struct buf b;
        buf_init_fixed(&b, out, sizeof(out));
        assert_int_equal(jsonw_number(&b, cases[i].v), 0);
        if (strcmp(out, cases[i].text) != 0)
            fail_msg("case %zu: %s, want %s", i, out, cases[i].text);
    }
}

static void test_objects_get_their_commas_and_fail_whole(void **state)
{
    (void)state;
    char out[128];
    struct buf b;
    buf_init_fixed(&b, out, sizeof(out));
    buf_putc(&b, '{');
    jsonw_member_str(&b, "id", "pc-w01");
    jsonw_member_int(&b, "n", -42);
    jsonw_member_number(&b, "pct", 12.3);
    jsonw_member_bool(&b, "b", false);
    jsonw_key(&b, "list");
    buf_putc(&b, '[');
    for (int i = 0; i < 3; i++) {
        jsonw_next(&b);
        jsonw_int(&b, i);
    }
    buf_putc(&b, ']');
    jsonw_key(&b, "none");
    jsonw_null(&b);
    assert_int_equal(buf_putc(&b, '}'), 0);
    assert_string_equal(
        out,
        "{\"id\":\"pc-w01\",\"n\":-42,\"pct\":12.3,\"b\":false,\"list\":[0,1,2],\"none\":null}");
    json_decref(parse(out));

    /* Too long for its buffer: the failure sticks to the end. */
    char small[16];
    buf_init_fixed(&b, small, sizeof(small));
    buf_putc(&b, '{');
    jsonw_member_str(&b, "k", "a value longer than the buffer");
    assert_int_equal(buf_putc(&b, '}'), -ENOSPC);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strings_escape_what_json_needs_and_keep_the_rest),
        cmocka_unit_test(test_every_byte_makes_valid_json),
        cmocka_unit_test(test_numbers_are_the_shortest_that_read_back),
        cmocka_unit_test(test_objects_get_their_commas_and_fail_whole),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
