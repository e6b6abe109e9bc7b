/* json: the size, UTF-8, syntax, depth and field checks, and the flattening. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct reject_case {
    const char *payload;
    size_t len; /* 0: strlen(payload) */
    enum json_reject want;
};

static const struct reject_case reject_cases[] = {
    {"{}", 0, JSON_OK},
    {"{\"a\":1}", 0, JSON_OK},
    {" \t\n{\"a\":1}\n", 0, JSON_OK},
    {"", 0, JSON_SYNTAX},
    {"{", 0, JSON_SYNTAX},
    {"{\"a\":1} x", 0, JSON_SYNTAX},
    {"{\"a\":1}{}", 0, JSON_SYNTAX},
    {"{\"a\":1}\"", 0, JSON_SYNTAX},    /* a string left open after the object */
    {"{\"a\":1} \"}", 0, JSON_SYNTAX},  /* ... that holds what looks like the end */
    {"{\"a\":1}\"x\"", 0, JSON_SYNTAX}, /* a whole string after it */
    {"{\"a\":1} \r\n\t", 0, JSON_OK},   /* JSON whitespace after it is fine */
    {"{'a':1}", 0, JSON_SYNTAX},
    {"{\"a\":NaN}", 0, JSON_SYNTAX},
    {"{\"a\":Infinity}", 0, JSON_SYNTAX},
    {"{\"a\":-Infinity}", 0, JSON_SYNTAX},
    {"{\"a\":01}", 0, JSON_SYNTAX},
    {"{\"a\":1,}", 0, JSON_SYNTAX},
    {"{\"a\":\"x\ny\"}", 0, JSON_SYNTAX},                  /* raw control character in a string */
    {"{\"a\":\"\\ud800\"}", 0, JSON_SYNTAX},               /* escaped lone surrogate */
    {"{\"a\":1,\"a\":2}", 0, JSON_SYNTAX},                 /* duplicate key */
    {"{\"a\":{\"b\":1,\"b\":1}}", 0, JSON_SYNTAX},         /* duplicate key, nested */
    {"{\"a\":[{\"x\":1,\"x\":2}]}", 0, JSON_SYNTAX},       /* duplicate key inside an array */
    {"{\"a\":{\"b\":1},\"c\":{\"b\":1}}", 0, JSON_OK},     /* same key, other objects */
    {"{\"a\":\"\\u0061\",\"\\u0061\":1}", 0, JSON_SYNTAX}, /* escaped duplicate */
    {"{\"a\":\"\\udc00\"}", 0, JSON_SYNTAX},               /* lone low surrogate */
    {"{\"a\":\"\\ud83d\\u0041\"}", 0, JSON_SYNTAX},        /* high surrogate, no low one */
    {"{\"a\":\"\\ud83d\"}", 0, JSON_SYNTAX},               /* high surrogate at the end */
    {"{\"a\":1}\f", 0, JSON_SYNTAX},                       /* \f and \v are not JSON whitespace */
    {"{\"a\":\v1}", 0, JSON_SYNTAX},
    /* The first error in the text decides. */
    {"{\"a\":1e999,\"b\":1,\"b\":2}", 0, JSON_NON_FINITE},
    {"{\"b\":1,\"b\":2,\"a\":1e999}", 0, JSON_SYNTAX},
    {"{\"a\":\"\\u0000\",\"b\":1e999}", 0, JSON_NUL},
    {"{\"a\":1e999}\f", 0, JSON_NON_FINITE},
    {"{\"a\" 1e999}", 0, JSON_NON_FINITE}, /* the overflowing token comes first */
    {"{\"a\":1} 1e999", 0, JSON_NON_FINITE},
    {"{\"a\":1} \"\\u0000\"", 0, JSON_SYNTAX},
    {"{\"a\":[1e999]}", 0, JSON_NON_FINITE}, /* inside a dropped array too */
    {"{\"a\":1e999}", 0, JSON_NON_FINITE},
    {"{\"a\":-1e999}", 0, JSON_NON_FINITE},
    {"{\"a\":1e-999}", 0, JSON_OK}, /* underflow is 0, not an error */
    {"{\"a\":\"\\u0000\"}", 0, JSON_NUL},
    {"{\"a\\u0000b\":1}", 0, JSON_NUL},
    {"{\"a\":{\"x\\u0000\":1}}", 0, JSON_NUL},
    {"{\"a\":1}\0", 8, JSON_SYNTAX}, /* a raw NUL after the object */
    {"\xff\xfe{\"a\":1}", 0, JSON_BAD_UTF8},
    {"{\"a\":\"\xc3\x28\"}", 0, JSON_BAD_UTF8},
    {"{\"a\":\"\xc0\xaf\"}", 0, JSON_BAD_UTF8},     /* overlong '/' */
    {"{\"a\":\"\xed\xa0\x80\"}", 0, JSON_BAD_UTF8}, /* raw surrogate */
    {"{\"\xf4\x90\x80\x80\":1}", 0, JSON_BAD_UTF8}, /* beyond U+10FFFF */
    {"[1,2,3]", 0, JSON_NOT_OBJECT},
    {"42", 0, JSON_NOT_OBJECT},
    {"\"online\"", 0, JSON_NOT_OBJECT},
    {"null", 0, JSON_NOT_OBJECT},
    {"true", 0, JSON_NOT_OBJECT},
    {"online", 0, JSON_SYNTAX},
    /* depth: the top-level object is 1, the default cap is 8 */
    {"{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":1}}}}}}}}", 0, JSON_OK},
    {"{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":1}}}}}}}}}", 0, JSON_TOO_DEEP},
    {"{\"a\":[[[[[[[1]]]]]]]}", 0, JSON_OK},
    {"{\"a\":[[[[[[[[1]]]]]]]]}", 0, JSON_TOO_DEEP}, /* arrays count too */
    {"{\"a\":[{\"b\":[{\"c\":[{\"d\":[{}]}]}]}]}", 0, JSON_TOO_DEEP},
};

static void test_rejects_each_kind_of_bad_payload_with_its_reason(void **state)
{
    (void)state;
    int bad = 0;
    for (size_t i = 0; i < ARRAY_SIZE(reject_cases); i++) {
        const struct reject_case *c = &reject_cases[i];
        size_t len = c->len ? c->len : strlen(c->payload);
        struct json_flat f;
        enum json_reject got = json_flatten(c->payload, len, NULL, &f);
        if (got != c->want) {
            print_error("case %zu (%s): got %s, want %s\n", i, c->payload, json_reject_name(got),
                        json_reject_name(c->want));
            bad++;
        }
        if (got != JSON_OK && (f.n != 0 || f.fields || f.priv)) {
            print_error("case %zu: a rejected flat is not empty\n", i);
            bad++;
        }
        json_flat_free(&f);
    }
    assert_int_equal(bad, 0);
}

static void test_a_very_deep_payload_is_too_deep_not_a_crash(void **state)
{
    (void)state;
    static char payload[60000];
    size_t n = 0;
    for (int i = 0; i < 5000; i++)
        n += (size_t)snprintf(payload + n, sizeof(payload) - n, "{\"a\":");
    payload[n++] = '1';
    for (int i = 0; i < 5000; i++)
        payload[n++] = '}';
    struct json_flat f;
    assert_int_equal(json_flatten(payload, n, NULL, &f), JSON_TOO_DEEP);
    memset(payload, '[', 20000);
    assert_int_equal(json_flatten(payload, 20000, NULL, &f), JSON_TOO_DEEP);
}

/* Past 2048 levels the parse itself stops: what follows is not read. Below
 * that, an error later in the text still wins over max_depth. */
static void test_the_parsers_own_depth_limit_stops_the_parse(void **state)
{
    (void)state;
    static char payload[8192];
    struct json_flat f;
    for (size_t levels = 2046; levels <= 2050; levels++) {
        memset(payload, '[', levels);
        size_t n = levels;
        n += (size_t)snprintf(payload + n, sizeof(payload) - n, "1e999");
        /* An overflow is found reading the number, before its level. */
        enum json_reject want = levels > 2048 ? JSON_TOO_DEEP : JSON_NON_FINITE;
        assert_int_equal(json_flatten(payload, n, NULL, &f), want);
    }
    /* A scalar is a level of its own. */
    memset(payload, '[', 2048);
    memcpy(payload + 2048, "1]", 2);
    assert_int_equal(json_flatten(payload, 2050, NULL, &f), JSON_TOO_DEEP);
    memset(payload, '[', 100);
    assert_int_equal(json_flatten(payload, 100, NULL, &f), JSON_SYNTAX);
    memset(payload, '[', 3000);
    assert_int_equal(json_flatten(payload, 3000, NULL, &f), JSON_TOO_DEEP);
}

static void test_size_cap_is_checked_before_parsing(void **state)
{
    (void)state;
    struct json_limits lim = {.max_bytes = 7, .max_depth = 8, .max_fields = 16};
    struct json_flat f;
    assert_int_equal(json_flatten("{\"a\":1}", 7, &lim, &f), JSON_OK);
    json_flat_free(&f);
    assert_int_equal(json_flatten("{\"a\":12}", 8, &lim, &f), JSON_TOO_LARGE);
    /* Too large wins over broken: nothing past the cap is even read. */
    assert_int_equal(json_flatten("\xff\xff\xff\xff\xff\xff\xff\xff", 8, &lim, &f), JSON_TOO_LARGE);
}

static void test_more_leaves_than_max_fields_is_too_many(void **state)
{
    (void)state;
    struct json_limits lim = {.max_bytes = 1024, .max_depth = 8, .max_fields = 3};
    struct json_flat f;
    const char *three = "{\"a\":1,\"b\":{\"c\":2},\"d\":null}";
    assert_int_equal(json_flatten(three, strlen(three), &lim, &f), JSON_OK);
    assert_int_equal(f.n, 3);
    json_flat_free(&f);
    const char *four = "{\"a\":1,\"b\":{\"c\":2},\"d\":null,\"e\":[1]}";
    assert_int_equal(json_flatten(four, strlen(four), &lim, &f), JSON_TOO_MANY);
}

static void test_nested_objects_flatten_with_underscores_in_payload_order(void **state)
{
    (void)state;
    const char *p =
        "{\"z\":1,\"env\":{\"air\":{\"co2\":612.5},\"ok\":true},\"note\":\"a\\\"b\\\\c\","
        "\"gone\":null,\"list\":[1,2],\"empty\":{}}";
    struct json_flat f;
    assert_int_equal(json_flatten(p, strlen(p), NULL, &f), JSON_OK);
    assert_int_equal(f.n, 5);
    assert_int_equal(f.dropped, 1); /* the array */
    const char *keys[] = {"z", "env_air_co2", "env_ok", "note", "gone"};
    const enum json_type types[] = {JSON_T_NUMBER, JSON_T_NUMBER, JSON_T_BOOL, JSON_T_STRING,
                                    JSON_T_NULL};
    for (size_t i = 0; i < 5; i++) {
        assert_string_equal(f.fields[i].key, keys[i]);
        assert_int_equal(f.fields[i].key_len, strlen(keys[i]));
        assert_int_equal(f.fields[i].type, types[i]);
    }
    assert_true(f.fields[1].num == 612.5);
    assert_true(f.fields[2].b);
    assert_string_equal(f.fields[3].str, "a\"b\\c");
    assert_int_equal(f.fields[3].str_len, 5);
    assert_ptr_equal(json_flat_get(&f, "env_ok"), &f.fields[2]);
    assert_null(json_flat_get(&f, "env"));
    assert_null(json_flat_get(&f, "list"));
    json_flat_free(&f);
    assert_null(f.fields);
    assert_int_equal(f.n, 0);
    json_flat_free(&f); /* twice is harmless */
    json_flat_free(NULL);
}

static void test_arrays_of_items_flatten_to_numbered_keys_when_asked(void **state)
{
    (void)state;
    const char *p = "{\"e\":{\"t\":[1.5,null,\"x\",true,[1],{\"a\":1},7],\"v\":2},"
                    "\"l\":[1,2,3],\"z\":[]}";
    struct json_limits lim = {.max_bytes = 4096, .max_depth = 8, .max_fields = 64, .max_items = 6};
    struct json_flat f;
    assert_int_equal(json_flatten(p, strlen(p), &lim, &f), JSON_OK);
    const char *keys[] = {"e_t_0", "e_t_1", "e_t_2", "e_t_3", "e_v", "l_0", "l_1", "l_2"};
    assert_int_equal(f.n, 8);
    for (size_t i = 0; i < 8; i++)
        assert_string_equal(f.fields[i].key, keys[i]);
    assert_true(f.fields[0].is_item && f.fields[0].item == 0 && f.fields[0].num == 1.5);
    assert_int_equal(f.fields[1].type, JSON_T_NULL);
    assert_string_equal(f.fields[2].str, "x");
    assert_true(f.fields[3].is_item && f.fields[3].item == 3 && f.fields[3].b);
    assert_false(f.fields[4].is_item);
    assert_true(f.fields[7].is_item && f.fields[7].item == 2);
    /* [1] and {"a":1} are not readings; 7 is item 6, past max_items. */
    assert_int_equal(f.dropped, 3);
    json_flat_free(&f);
    /* Without max_items an array is one dropped field, as before. */
    lim.max_items = 0;
    assert_int_equal(json_flatten(p, strlen(p), &lim, &f), JSON_OK);
    assert_int_equal(f.n, 1);
    assert_string_equal(f.fields[0].key, "e_v");
    assert_int_equal(f.dropped, 3);
    json_flat_free(&f);
}

static void test_numbers_are_doubles_including_big_integers(void **state)
{
    (void)state;
    const char *p = "{\"i\":21,\"neg\":-3.5,\"exp\":1.5e3,\"big\":18446744073709551616,"
                    "\"huge\":123456789012345678901234567890}";
    struct json_flat f;
    assert_int_equal(json_flatten(p, strlen(p), NULL, &f), JSON_OK);
    assert_true(json_flat_get(&f, "i")->num == 21.0);
    assert_true(json_flat_get(&f, "neg")->num == -3.5);
    assert_true(json_flat_get(&f, "exp")->num == 1500.0);
    assert_true(json_flat_get(&f, "big")->num == 18446744073709551616.0);
    assert_true(json_flat_get(&f, "huge")->num == 123456789012345678901234567890.0);
    json_flat_free(&f);
}

static void test_numbers_keep_their_text_as_written(void **state)
{
    (void)state;
    const char *p = "{\"t\":21.50,\"z\":-0,\"e\":1E3,\"ts\":1764150000.123456,\"s\":\"1\","
                    "\"o\":{\"n\":-0.0001}}";
    struct json_flat f;
    assert_int_equal(json_flatten(p, strlen(p), NULL, &f), JSON_OK);
    static const struct {
        const char *key, *text;
        double num;
    } want[] = {{"t", "21.50", 21.5},
                {"z", "-0", -0.0},
                {"e", "1E3", 1000},
                {"ts", "1764150000.123456", 1764150000.123456},
                {"o_n", "-0.0001", -0.0001}};
    for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
        const struct json_field *x = json_flat_get(&f, want[i].key);
        assert_non_null(x);
        assert_string_equal(x->num_text, want[i].text);
        assert_int_equal(x->num_len, strlen(want[i].text));
        assert_memory_equal(&x->num, &want[i].num, sizeof(double));
    }
    assert_null(json_flat_get(&f, "s")->num_text);
    json_flat_free(&f);
}

/* Every number reads as the double strtod() gives for its text, on the quick
 * path (up to 15 digits, powers of ten up to 22) and off it. */
static void test_numbers_are_the_nearest_double(void **state)
{
    (void)state;
    static const char *const texts[] = {"0.1",
                                        "0.3",
                                        "-2.5e-3",
                                        "123456789012345",
                                        "1234567890123456",
                                        "9007199254740993",
                                        "9007199254740992",
                                        "1764201234.123456",
                                        "-1764201234.1234567",
                                        "0.9007199254740993",
                                        "900719925474099.3",
                                        "1234567890.123456e-5",
                                        "1e22",
                                        "1e23",
                                        "4.9e-324",
                                        "2.2250738585072014e-308",
                                        "1.7976931348623157e308",
                                        "0.000000000000000000000000001",
                                        "123.456e-10",
                                        "0e999",
                                        "-0e-999",
                                        "1e-400"};
    for (size_t i = 0; i < ARRAY_SIZE(texts); i++) {
        char p[128];
        snprintf(p, sizeof(p), "{\"v\":%s}", texts[i]);
        struct json_flat f;
        assert_int_equal(json_flatten(p, strlen(p), NULL, &f), JSON_OK);
        double want = strtod(texts[i], NULL);
        assert_memory_equal(&f.fields[0].num, &want, sizeof(double));
        json_flat_free(&f);
    }
}

/* An object with many keys, a long key and a long escaped string: the
 * parser's buffers grow past their first size. */
static void test_large_objects_and_strings_are_read_whole(void **state)
{
    (void)state;
    static char p[40000];
    size_t n = (size_t)snprintf(p, sizeof(p), "{");
    for (int i = 0; i < 300; i++)
        n += (size_t)snprintf(p + n, sizeof(p) - n, "\"k%d\":%d,", i, i);
    n += (size_t)snprintf(p + n, sizeof(p) - n, "\"s\":\"");
    for (int i = 0; i < 3000; i++)
        n += (size_t)snprintf(p + n, sizeof(p) - n, "\\t");
    n += (size_t)snprintf(p + n, sizeof(p) - n, "\"}");
    struct json_limits lim = {.max_bytes = sizeof(p), .max_depth = 8, .max_fields = 512};
    struct json_flat f;
    assert_int_equal(json_flatten(p, n, &lim, &f), JSON_OK);
    assert_int_equal(f.n, 301);
    assert_true(json_flat_get(&f, "k299")->num == 299);
    const struct json_field *s = json_flat_get(&f, "s");
    assert_int_equal(s->str_len, 3000);
    assert_true(s->str[0] == '\t' && s->str[2999] == '\t');
    json_flat_free(&f);
    /* The same object with its first key again at the end. */
    n -= 2 + 3000 * 2 + 6;
    n += (size_t)snprintf(p + n, sizeof(p) - n, "\"k0\":1}");
    assert_int_equal(json_flatten(p, n, &lim, &f), JSON_SYNTAX);
}

static void test_unicode_escapes_become_utf8(void **state)
{
    (void)state;
    const char *p = "{\"w\":\"\\u7a97\\u53e3 \\ud83d\\ude00\"}";
    struct json_flat f;
    assert_int_equal(json_flatten(p, strlen(p), NULL, &f), JSON_OK);
    assert_string_equal(f.fields[0].str, "\xe7\xaa\x97\xe5\x8f\xa3 \xf0\x9f\x98\x80");
    json_flat_free(&f);
}

static void test_flattened_key_repeating_an_earlier_one_is_dropped(void **state)
{
    (void)state;
    const char *p = "{\"a_b\":1,\"a\":{\"b\":2,\"c\":3}}";
    struct json_flat f;
    assert_int_equal(json_flatten(p, strlen(p), NULL, &f), JSON_OK);
    assert_int_equal(f.n, 2);
    assert_int_equal(f.dropped, 1);
    assert_true(json_flat_get(&f, "a_b")->num == 1);
    assert_true(json_flat_get(&f, "a_c")->num == 3);
    json_flat_free(&f);
}

static void test_flattened_keys_longer_than_the_cap_are_dropped(void **state)
{
    (void)state;
    char k[JSON_KEY_MAX + 2], p[2 * JSON_KEY_MAX + 100];
    /* exactly JSON_KEY_MAX: kept */
    memset(k, 'k', JSON_KEY_MAX);
    k[JSON_KEY_MAX] = '\0';
    snprintf(p, sizeof(p), "{\"%s\":1}", k);
    struct json_flat f;
    assert_int_equal(json_flatten(p, strlen(p), NULL, &f), JSON_OK);
    assert_int_equal(f.n, 1);
    assert_int_equal(f.fields[0].key_len, JSON_KEY_MAX);
    json_flat_free(&f);
    /* one more: dropped */
    memset(k, 'k', JSON_KEY_MAX + 1);
    k[JSON_KEY_MAX + 1] = '\0';
    snprintf(p, sizeof(p), "{\"%s\":1,\"ok\":2}", k);
    assert_int_equal(json_flatten(p, strlen(p), NULL, &f), JSON_OK);
    assert_int_equal(f.n, 1);
    assert_int_equal(f.dropped, 1);
    json_flat_free(&f);
    /* a prefix that fits, leaves that do not: every leaf below counted */
    memset(k, 'k', JSON_KEY_MAX - 1);
    k[JSON_KEY_MAX - 1] = '\0';
    snprintf(p, sizeof(p), "{\"%s\":{\"x\":1,\"y\":{\"z\":2}},\"ok\":3}", k);
    assert_int_equal(json_flatten(p, strlen(p), NULL, &f), JSON_OK);
    assert_int_equal(f.n, 1);
    assert_int_equal(f.dropped, 2);
    assert_string_equal(f.fields[0].key, "ok");
    json_flat_free(&f);
}

static void test_empty_keys_are_flattened_as_they_are(void **state)
{
    (void)state;
    const char *p = "{\"\":1,\"a\":{\"\":2}}";
    struct json_flat f;
    assert_int_equal(json_flatten(p, strlen(p), NULL, &f), JSON_OK);
    assert_int_equal(f.n, 2);
    assert_int_equal(f.fields[0].key_len, 0);
    assert_string_equal(f.fields[1].key, "a_");
    json_flat_free(&f);
}

static void test_an_object_without_leaves_is_ok_and_empty(void **state)
{
    (void)state;
    struct json_flat f;
    assert_int_equal(json_flatten("{\"a\":{\"b\":{}}}", 14, NULL, &f), JSON_OK);
    assert_int_equal(f.n, 0);
    assert_int_equal(f.dropped, 0);
    json_flat_free(&f);
}

/* Duplicate keys are refused however many keys come before them, in the
 * top-level object and in a nested one; the same key in two objects is
 * not a duplicate. */
static void test_duplicate_keys_are_found_among_many_keys(void **state)
{
    (void)state;
    for (int n = 1; n <= 40; n++) {
        for (int dup = 0; dup < n; dup++) {
            char p[1024];
            size_t len = (size_t)snprintf(p, sizeof(p), "{\"o\":{\"k0\":0}");
            for (int i = 0; i < n; i++)
                len += (size_t)snprintf(p + len, sizeof(p) - len, ",\"k%d\":%d", i, i);
            char ok[sizeof(p) + 2];
            snprintf(ok, sizeof(ok), "%s}", p);
            struct json_flat f;
            assert_int_equal(json_flatten(ok, strlen(ok), NULL, &f), JSON_OK);
            assert_int_equal(f.n, (size_t)n + 1);
            json_flat_free(&f);
            snprintf(p + len, sizeof(p) - len, ",\"k%d\":1}", dup);
            assert_int_equal(json_flatten(p, strlen(p), NULL, &f), JSON_SYNTAX);
        }
        char nested[1024];
        size_t len = (size_t)snprintf(nested, sizeof(nested), "{\"o\":{\"x\":1");
        for (int i = 0; i < n; i++)
            len += (size_t)snprintf(nested + len, sizeof(nested) - len, ",\"k%d\":%d", i, i);
        snprintf(nested + len, sizeof(nested) - len, ",\"x\":2}}");
        struct json_flat f;
        assert_int_equal(json_flatten(nested, strlen(nested), NULL, &f), JSON_SYNTAX);
    }
}

static void test_reject_names_are_distinct(void **state)
{
    (void)state;
    for (int i = 0; i < JSON_REJECT_COUNT; i++) {
        assert_string_not_equal(json_reject_name((enum json_reject)i), "unknown");
        for (int j = 0; j < i; j++)
            assert_string_not_equal(json_reject_name((enum json_reject)i),
                                    json_reject_name((enum json_reject)j));
    }
    assert_string_equal(json_reject_name(JSON_TOO_LARGE), "too_large");
    assert_string_equal(json_reject_name(JSON_BAD_UTF8), "bad_utf8");
}

/* ---- InfluxDB /query answers ------------------------------------------------ */

static void test_influx_table_gives_series_tags_columns_and_typed_rows(void **state)
{
    (void)state;
    const char *body =
        "{\"results\":[{\"statement_id\":0,\"series\":[{\"name\":\"env\",\"tags\":{\"device\":"
        "\"env-1\",\"hall\":\"h1\"},\"columns\":[\"time\",\"co2\",\"ok\",\"status\",\"x\"],"
        "\"values\":[[1700000040000,812.5,true,\"paper_out\",null],[1700000100000,1300,false,"
        "\"\\u4e00\\u697c\",null]]}]}]}";
    struct json_table t;
    assert_int_equal(json_influx_table(body, strlen(body), &t), 0);
    assert_null(t.error);
    assert_int_equal(t.n_results, 1);
    assert_int_equal(t.n_series, 1);
    const struct json_series *s = json_table_find(&t, 0);
    assert_non_null(s);
    assert_string_equal(s->name, "env");
    assert_int_equal(s->n_tags, 2);
    assert_string_equal(s->tag_keys[0], "device");
    assert_string_equal(s->tag_values[0], "env-1");
    assert_string_equal(s->tag_keys[1], "hall");
    assert_int_equal(s->n_columns, 5);
    assert_int_equal(s->n_rows, 2);
    assert_int_equal(json_series_column(s, "status"), 3);
    assert_int_equal(json_series_column(s, "nope"), -1);
    const struct json_cell *c = json_series_cell(s, 0, "time");
    assert_int_equal(c->type, JSON_T_NUMBER);
    assert_true(c->num == 1700000040000.0); /* epoch=ms is exact in a double */
    assert_true(json_series_cell(s, 0, "co2")->num == 812.5);
    assert_true(json_series_cell(s, 1, "co2")->num == 1300.0);
    assert_int_equal(json_series_cell(s, 0, "ok")->type, JSON_T_BOOL);
    assert_true(json_series_cell(s, 0, "ok")->b);
    assert_false(json_series_cell(s, 1, "ok")->b);
    assert_int_equal(json_series_cell(s, 0, "status")->type, JSON_T_STRING);
    assert_string_equal(json_series_cell(s, 0, "status")->str, "paper_out");
    assert_string_equal(json_series_cell(s, 1, "status")->str, "\xe4\xb8\x80\xe6\xa5\xbc");
    assert_int_equal(json_series_cell(s, 1, "x")->type, JSON_T_NULL);
    assert_null(json_series_cell(s, 2, "co2")); /* no such row */
    assert_null(json_series_cell(s, 0, "nope"));
    json_table_free(&t);
    assert_null(t.priv);
    json_table_free(&t); /* twice: nothing */
    json_table_free(NULL);
}

static void test_influx_table_keeps_each_statement_and_its_error(void **state)
{
    (void)state;
    /* Statement 1 has no points (no series), 2 failed, 3 has two series. */
    const char *body =
        "{\"results\":[{\"statement_id\":0,\"series\":[{\"name\":\"window\",\"columns\":[\"time\","
        "\"count\",\"sum\"],\"values\":[[0,420,330]]}]},{\"statement_id\":1},{\"statement_id\":2,"
        "\"error\":\"database not found: hallgw\"},{\"statement_id\":3,\"series\":[{\"name\":\"a\","
        "\"columns\":[\"time\"],\"values\":[[1]]},{\"name\":\"b\",\"columns\":[\"time\"]}]}]}";
    struct json_table t;
    assert_int_equal(json_influx_table(body, strlen(body), &t), 0);
    assert_int_equal(t.n_results, 4);
    assert_int_equal(t.n_series, 3);
    assert_string_equal(t.error, "database not found: hallgw");
    assert_int_equal(t.error_statement, 2);
    const struct json_series *s = json_table_find(&t, 0);
    assert_true(json_series_cell(s, 0, "count")->num == 420.0);
    assert_true(json_series_cell(s, 0, "sum")->num == 330.0);
    assert_null(json_table_find(&t, 1));
    assert_null(json_table_find(&t, 2));
    s = json_table_find(&t, 3);
    assert_string_equal(s->name, "a");
    assert_int_equal(t.series[2].statement_id, 3);
    assert_string_equal(t.series[2].name, "b");
    assert_int_equal(t.series[2].n_rows, 0); /* columns without values */
    assert_int_equal(t.series[2].n_tags, 0);
    json_table_free(&t);
}

static void test_influx_table_top_level_error_is_kept(void **state)
{
    (void)state;
    const char *body = "{\"error\":\"error parsing query: found SELEC\"}";
    struct json_table t;
    assert_int_equal(json_influx_table(body, strlen(body), &t), 0);
    assert_string_equal(t.error, "error parsing query: found SELEC");
    assert_int_equal(t.error_statement, -1);
    assert_int_equal(t.n_results, 0);
    assert_int_equal(t.n_series, 0);
    json_table_free(&t);
}

struct table_reject_case {
    const char *body;
    int want;
};

static const struct table_reject_case table_reject_cases[] = {
    {"", -EBADMSG},
    {"{\"results\":[{\"statement_id\":0,\"series\":[{\"name\":\"a\",\"col", -EBADMSG}, /* cut */
    {"{\"results\":[]}\xff", -EBADMSG},
    {"[]", -EPROTO},
    {"{}", -EPROTO},
    {"{\"results\":{}}", -EPROTO},
    {"{\"error\":42}", -EPROTO},
    {"{\"results\":[42]}", -EPROTO},
    {"{\"results\":[{\"series\":{}}]}", -EPROTO},
    {"{\"results\":[{\"statement_id\":\"0\"}]}", -EPROTO},
    {"{\"results\":[{\"statement_id\":-1}]}", -EPROTO},
    {"{\"results\":[{\"statement_id\":1.55556e104}]}", -EPROTO}, /* no size_t holds it */
    {"{\"results\":[{\"statement_id\":0.5}]}", -EPROTO},
    {"{\"results\":[{\"series\":[{\"name\":1}]}]}", -EPROTO},
    {"{\"results\":[{\"series\":[{\"tags\":{\"a\":1}}]}]}", -EPROTO},
    {"{\"results\":[{\"series\":[{\"values\":[[1]]}]}]}", -EPROTO}, /* rows without columns */
    {"{\"results\":[{\"series\":[{\"columns\":[\"a\",\"b\"],\"values\":[[1]]}]}]}", -EPROTO},
    {"{\"results\":[{\"series\":[{\"columns\":[\"a\"],\"values\":[[[1]]]}]}]}", -EPROTO},
    {"{\"results\":[{\"series\":[{\"columns\":[\"a\"],\"values\":[{\"a\":1}]}]}]}", -EPROTO},
    {"{\"results\":[{\"series\":[{\"columns\":[1],\"values\":[]}]}]}", -EPROTO},
    {"{\"results\":[]}", 0},
    {"{\"results\":[{}]}", 0},
};

static void test_influx_table_refuses_what_is_not_an_answer(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(table_reject_cases); i++) {
        const struct table_reject_case *c = &table_reject_cases[i];
        struct json_table t;
        int got = json_influx_table(c->body, strlen(c->body), &t);
        if (got != c->want)
            fail_msg("table case %zu (%s): got %d, want %d", i, c->body, got, c->want);
        if (got < 0 && (t.n_series || t.series || t.priv || t.error))
            fail_msg("table case %zu: a refused answer left something in *out", i);
        json_table_free(&t);
    }
    struct json_table t;
    assert_int_equal(json_influx_table("{}", (size_t)JSON_INFLUX_MAX_BYTES + 1, &t), -EMSGSIZE);
    assert_int_equal(json_influx_table(NULL, 0, &t), -EBADMSG);
}

static void test_influx_table_rows_of_a_long_answer_are_all_kept(void **state)
{
    (void)state;
    /* 2000 rows, as a day of per-minute buckets would give. */
    size_t cap = 64 + 2000 * 32, n = 0;
    char *body = malloc(cap);
    assert_non_null(body);
    n += (size_t)snprintf(body + n, cap - n,
                          "{\"results\":[{\"statement_id\":0,\"series\":[{\"name\":\"equipment\","
                          "\"columns\":[\"time\",\"last\"],\"values\":[");
    for (int i = 0; i < 2000; i++)
        n += (size_t)snprintf(body + n, cap - n, "%s[%d,\"%s\"]", i ? "," : "", i * 60,
                              i % 2 ? "ok" : "jam");
    n += (size_t)snprintf(body + n, cap - n, "]}]}]}");
    struct json_table t;
    assert_int_equal(json_influx_table(body, n, &t), 0);
    const struct json_series *s = json_table_find(&t, 0);
    assert_int_equal(s->n_rows, 2000);
    assert_true(json_series_cell(s, 1999, "time")->num == 1999 * 60.0);
    assert_string_equal(json_series_cell(s, 1999, "last")->str, "ok");
    assert_string_equal(json_series_cell(s, 1998, "last")->str, "jam");
    json_table_free(&t);
    free(body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rejects_each_kind_of_bad_payload_with_its_reason),
        cmocka_unit_test(test_a_very_deep_payload_is_too_deep_not_a_crash),
        cmocka_unit_test(test_arrays_of_items_flatten_to_numbered_keys_when_asked),
        cmocka_unit_test(test_the_parsers_own_depth_limit_stops_the_parse),
        cmocka_unit_test(test_size_cap_is_checked_before_parsing),
        cmocka_unit_test(test_more_leaves_than_max_fields_is_too_many),
        cmocka_unit_test(test_nested_objects_flatten_with_underscores_in_payload_order),
        cmocka_unit_test(test_numbers_are_doubles_including_big_integers),
        cmocka_unit_test(test_numbers_keep_their_text_as_written),
        cmocka_unit_test(test_numbers_are_the_nearest_double),
        cmocka_unit_test(test_large_objects_and_strings_are_read_whole),
        cmocka_unit_test(test_unicode_escapes_become_utf8),
        cmocka_unit_test(test_flattened_key_repeating_an_earlier_one_is_dropped),
        cmocka_unit_test(test_flattened_keys_longer_than_the_cap_are_dropped),
        cmocka_unit_test(test_empty_keys_are_flattened_as_they_are),
        cmocka_unit_test(test_an_object_without_leaves_is_ok_and_empty),
        cmocka_unit_test(test_duplicate_keys_are_found_among_many_keys),
        cmocka_unit_test(test_reject_names_are_distinct),
        cmocka_unit_test(test_influx_table_gives_series_tags_columns_and_typed_rows),
        cmocka_unit_test(test_influx_table_keeps_each_statement_and_its_error),
        cmocka_unit_test(test_influx_table_top_level_error_is_kept),
        cmocka_unit_test(test_influx_table_refuses_what_is_not_an_answer),
        cmocka_unit_test(test_influx_table_rows_of_a_long_answer_are_all_kept),
    };
    return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
