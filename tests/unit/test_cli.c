/* The CLI's table columns: display width of UTF-8 text and padding by
 * columns, so names such as 值班员 line up in hallgw alerts and hallgw
 * override list. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "cli.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const struct {
    const char *what;
    const char *text;
    size_t cols;
} widths[] = {
    {"empty", "", 0},
    {"ascii", "duty-officer", 12},
    {"cjk ideographs count two each", "值班员", 6},
    {"mixed ascii and cjk", "王工 (w07)", 10},
    {"hangul syllables", "한글", 4},
    {"fullwidth letters", "ＡＢ", 4},
    {"ideographic full stop", "。", 2},
    {"latin with accents counts one each", "Müller", 6},
    {"halfwidth katakana count one", "ｱｲ", 2},
    {"cjk extension b", "\xF0\xA0\x80\x80", 2},
    {"emoji", "\xF0\x9F\x98\x80", 2},
    {"stray continuation byte counts one", "a\x80z", 3},
    {"truncated sequence counts a column a byte", "\xE5\x80", 2},
    {"overlong encoding is not a character", "\xC0\xAF", 2},
    {"encoded surrogate is not a character", "\xED\xA0\x80", 3},
};

static void test_text_width_counts_terminal_columns(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(widths); i++) {
        size_t got = cli_text_width(widths[i].text);
        if (got != widths[i].cols)
            fail_msg("%s: \"%s\" is %zu columns, want %zu", widths[i].what, widths[i].text, got,
                     widths[i].cols);
    }
}

static void test_pad_fills_to_the_column_not_the_byte(void **state)
{
    (void)state;
    char buf[64];
    /* 值班员 is 9 bytes and 6 columns: 6 spaces make 12 columns. */
    assert_string_equal(cli_pad(buf, sizeof(buf), "值班员", 12), "值班员      ");
    assert_int_equal(cli_text_width(buf), 12);
    assert_string_equal(cli_pad(buf, sizeof(buf), "-", 12), "-           ");
    assert_int_equal(cli_text_width(cli_pad(buf, sizeof(buf), "王工", 12)), 12);
}

static void test_rows_with_wide_names_line_up(void **state)
{
    (void)state;
    const char *names[] = {"值班员", "王工", "duty", "Müller"};
    char buf[64], row[128];
    for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
        snprintf(row, sizeof(row), "%s %s", cli_pad(buf, sizeof(buf), names[i], 12), "note");
        /* the next column starts at column 13 on every row */
        assert_int_equal(cli_text_width(row), 12 + 1 + 4);
    }
}

static void test_text_wider_than_the_column_is_left_whole(void **state)
{
    (void)state;
    char buf[64];
    assert_string_equal(cli_pad(buf, sizeof(buf), "政务服务大厅一楼", 12), "政务服务大厅一楼");
}

static void test_pad_never_cuts_inside_a_character(void **state)
{
    (void)state;
    char buf[8]; /* room for 7 bytes: two 3-byte characters, not a third's head */
    assert_string_equal(cli_pad(buf, sizeof(buf), "值班员", 0), "值班");
    assert_string_equal(cli_pad(buf, sizeof(buf), "值班员", 12), "值班 ");
    char one[1];
    assert_string_equal(cli_pad(one, sizeof(one), "abc", 4), "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_width_counts_terminal_columns),
        cmocka_unit_test(test_pad_fills_to_the_column_not_the_byte),
        cmocka_unit_test(test_rows_with_wide_names_line_up),
        cmocka_unit_test(test_text_wider_than_the_column_is_left_whole),
        cmocka_unit_test(test_pad_never_cuts_inside_a_character),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
