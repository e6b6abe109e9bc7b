/* UTF-8: the validator refuses every form RFC 3629 forbids wherever it sits,
 * the decoder gives the code point and the length, "clean" text has no
 * control characters, and cutting or copying never leaves half a
 * character. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "utf8.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct utf8_case {
    const char *s;
    size_t len;
    bool valid;
};

static const struct utf8_case utf8_cases[] = {
    {"", 0, true},
    {"plain ascii", 11, true},
    {"a\0b", 3, true}, /* NUL is valid UTF-8; JSON and readings refuse it elsewhere */
    {"\xc2\x80", 2, true},
    {"\xdf\xbf", 2, true},
    {"\xe0\xa0\x80", 3, true},
    {"\xed\x9f\xbf", 3, true}, /* U+D7FF */
    {"\xee\x80\x80", 3, true}, /* U+E000 */
    {"\xef\xbf\xbf", 3, true},
    {"\xf0\x90\x80\x80", 4, true},
    {"\xf4\x8f\xbf\xbf", 4, true}, /* U+10FFFF */
    {"\x80", 1, false},            /* lone continuation */
    {"\xc0\x80", 2, false},        /* overlong NUL */
    {"\xc1\xbf", 2, false},
    {"\xe0\x9f\xbf", 3, false},     /* overlong */
    {"\xed\xa0\x80", 3, false},     /* U+D800 */
    {"\xed\xbf\xbf", 3, false},     /* U+DFFF */
    {"\xf0\x8f\xbf\xbf", 4, false}, /* overlong */
    {"\xf4\x90\x80\x80", 4, false}, /* U+110000 */
    {"\xf5\x80\x80\x80", 4, false},
    {"\xff", 1, false},
    {"\xe2\x82", 2, false},     /* truncated */
    {"\xe2\x28\xa1", 3, false}, /* bad second byte */
    {"\xe2\x82\x28", 3, false}, /* bad third byte */
    {"\xf0\x90\x80", 3, false}, /* truncated at the end */
    {"ok\xc3", 3, false},
};

static void test_utf8_validator_refuses_overlongs_surrogates_and_truncation(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(utf8_cases); i++) {
        if (utf8_valid(utf8_cases[i].s, utf8_cases[i].len) != utf8_cases[i].valid)
            fail_msg("utf8 case %zu: want %d", i, utf8_cases[i].valid);
    }
}

/* A bad sequence is found wherever it sits among plain ASCII bytes. */
static void test_utf8_validator_finds_a_bad_byte_at_any_offset(void **state)
{
    (void)state;
    for (size_t len = 1; len <= 40; len++) {
        for (size_t at = 0; at < len; at++) {
            char s[48];
            memset(s, 'a', len);
            s[at] = (char)0xff;
            assert_false(utf8_valid(s, len));
            s[at] = (char)0xc3; /* a two-byte sequence cut by the next byte or the end */
            assert_false(utf8_valid(s, len));
            if (at + 1 < len) {
                s[at + 1] = (char)0xa9; /* é */
                assert_true(utf8_valid(s, len));
            }
        }
    }
}

static void test_decode_gives_the_code_point_and_the_length(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        size_t n, len;
        uint32_t cp;
    } cases[] = {
        {"A", 1, 1, 0x41},
        {"\xc3\xa9", 2, 2, 0xe9},            /* é */
        {"\xe4\xb8\xad", 3, 3, 0x4e2d},      /* 中 */
        {"\xf0\x9f\x98\x80", 4, 4, 0x1f600}, /* an emoji */
        {"\xe4\xb8\xad", 2, 0, 0},           /* cut short by n */
        {"\xe2\x80\xa8", 3, 3, 0x2028},      /* LINE SEPARATOR */
        {"\xc0\xaf", 2, 0, 0},               /* overlong '/' */
        {"", 0, 0, 0},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        uint32_t cp = 0xdeadbeef;
        size_t len = utf8_decode(cases[i].s, cases[i].n, &cp);
        if (len != cases[i].len || (len && cp != cases[i].cp))
            fail_msg("case %zu: got %zu U+%04X", i, len, (unsigned)cp);
    }
    assert_int_equal(utf8_decode("\xc3\xa9", 2, NULL), 2);
}

static void test_clean_text_has_no_control_characters(void **state)
{
    (void)state;
    assert_true(utf8_clean("政务服务大厅 1F", strlen("政务服务大厅 1F")));
    assert_true(utf8_clean("", 0));
    assert_false(utf8_clean("a\nb", 3));
    assert_false(utf8_clean("a\tb", 3));
    assert_false(utf8_clean("a\x7f", 2));
    assert_false(utf8_clean("a\0b", 3));
    assert_false(utf8_clean("\xff", 1));
    assert_false(utf8_clean("\xed\xa0\x80", 3));
}

static const struct utf8_case plain_cases[] = {
    {"", 0, true},
    {"张三", 6, true},
    {"开窗通风, window opened (CO2 1450 ppm) \"ok\" C:\\dir", 54, true},
    {"\xc2\xa0nbsp and \xc2\xa9", 13, true},     /* U+00A0, U+00A9: after C1 */
    {"\xe2\x80\x8d zwj \xe2\x80\xa9", 11, true}, /* U+200D, U+2029 */
    {"\xe2\x81\xa5 \xe2\x81\xaa", 7, true},      /* U+2065, U+206A: around the isolates */
    {"\xe2\x80\xa9\xe2\x80\xaf", 6, true},       /* U+2029, U+202F: around the embeddings */
    {"\xd8\x9b\xd8\x9d", 4, true},               /* U+061B, U+061D */
    {"\xf0\x9f\x98\x80", 4, true},               /* an emoji */
    {"a\nb", 3, false},
    {"a\rb", 3, false},
    {"a\tb", 3, false},
    {"a\0b", 3, false},
    {"\x1b[31mred", 8, false},
    {"\x01", 1, false},
    {"\x1f", 1, false},
    {"a\x7f", 2, false},
    {"\xc2\x80", 2, false},        /* U+0080 */
    {"\xc2\x85", 2, false},        /* U+0085 NEL: a line break to some readers */
    {"\xc2\x9b", 2, false},        /* U+009B CSI */
    {"\xc2\x9f", 2, false},        /* U+009F */
    {"\xd8\x9c", 2, false},        /* U+061C arabic letter mark */
    {"\xe2\x80\x8e", 3, false},    /* U+200E */
    {"\xe2\x80\x8f", 3, false},    /* U+200F */
    {"\xe2\x80\xaa", 3, false},    /* U+202A */
    {"abc\xe2\x80\xae", 6, false}, /* U+202E right-to-left override */
    {"\xe2\x81\xa6", 3, false},    /* U+2066 */
    {"\xe2\x81\xa9x", 4, false},   /* U+2069 */
    {"\xff", 1, false},
    {"\xc0\x8a", 2, false},     /* an overlong newline */
    {"\xed\xa0\x80", 3, false}, /* a surrogate */
    {"\xe5\xbc", 2, false},     /* half a character */
};

static void test_plain_text_refuses_controls_bidi_and_invalid_utf8(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(plain_cases); i++) {
        if (utf8_plain_text(plain_cases[i].s, plain_cases[i].len) != plain_cases[i].valid)
            fail_msg("plain text case %zu: want %d", i, plain_cases[i].valid);
    }
    /* Wherever the character sits. */
    char s[16];
    for (size_t at = 0; at < 8; at++) {
        memset(s, 'x', sizeof(s));
        memcpy(s + at, "\xe2\x80\xae", 3);
        assert_false(utf8_plain_text(s, 12));
        memset(s, 'x', sizeof(s));
        s[at] = '\n';
        assert_false(utf8_plain_text(s, 12));
        assert_true(utf8_plain_text(s, at));
    }
}

static void test_cut_and_copy_never_split_a_character(void **state)
{
    (void)state;
    const char *s = "ab中文"; /* 2 + 3 + 3 bytes */
    size_t n = strlen(s);
    assert_int_equal(utf8_cut(s, n, 100), n);
    assert_int_equal(utf8_cut(s, n, 8), 8);
    assert_int_equal(utf8_cut(s, n, 7), 5);
    assert_int_equal(utf8_cut(s, n, 5), 5);
    assert_int_equal(utf8_cut(s, n, 4), 2);
    assert_int_equal(utf8_cut(s, n, 0), 0);
    /* Invalid bytes count as one character each. */
    assert_int_equal(utf8_cut("\xff\xfe\xfd", 3, 2), 2);

    char dst[6];
    assert_int_equal(utf8_copy(dst, sizeof(dst), s), 5);
    assert_string_equal(dst, "ab中");
    assert_int_equal(utf8_copy(dst, sizeof(dst), NULL), 0);
    assert_string_equal(dst, "");
    assert_int_equal(utf8_copy(dst, 1, "abc"), 0);
    assert_string_equal(dst, "");
    assert_int_equal(utf8_copy(dst, sizeof(dst), "abc"), 3);
    assert_string_equal(dst, "abc");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8_validator_refuses_overlongs_surrogates_and_truncation),
        cmocka_unit_test(test_utf8_validator_finds_a_bad_byte_at_any_offset),
        cmocka_unit_test(test_decode_gives_the_code_point_and_the_length),
        cmocka_unit_test(test_clean_text_has_no_control_characters),
        cmocka_unit_test(test_plain_text_refuses_controls_bidi_and_invalid_utf8),
        cmocka_unit_test(test_cut_and_copy_never_split_a_character),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
