/* Line protocol: exact encoding, refusals that leave the buffer untouched, a
 * bounded buffer, and the round-trip oracle (every encoded line parses back
 * to the same point, bit for bit). */
#include "lineproto_parse.h"

#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))
#define TS 1764150000000000000

struct point {
    const char *measurement;
    struct lp_tag tags[4];
    size_t n_tags;
    struct lp_field fields[4];
    size_t n_fields;
    int64_t ts_ns;
};

static int append_point(struct buf *b, const struct point *p)
{
    return lineproto_append(b, p->measurement, p->tags, p->n_tags, p->fields, p->n_fields,
                            p->ts_ns);
}

/* A fixed-seed generator (xorshift64*), so failures reproduce. */
static uint64_t rng_state = UINT64_C(0x9E3779B97F4A7C15);

static uint64_t rng_next(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * UINT64_C(0x2545F4914F6CDD1D);
}

static bool same_double(double a, double b)
{
    return memcmp(&a, &b, sizeof(a)) == 0;
}

/* Parses line (without '\n') and asserts it is the point p, tags with an
 * empty value left out. */
static void assert_parses_as(const char *line, size_t len, const struct point *p)
{
    struct lp_point got;
    size_t t = 0;

    assert_int_equal(lineproto_parse(line, len, &got), 0);
    assert_string_equal(got.measurement, p->measurement);
    for (size_t i = 0; i < p->n_tags; i++) {
        if (!p->tags[i].value || !p->tags[i].value[0])
            continue;
        assert_true(t < got.n_tags);
        assert_string_equal(got.tags[t].key, p->tags[i].key);
        assert_string_equal(got.tags[t].value, p->tags[i].value);
        t++;
    }
    assert_int_equal(got.n_tags, t);
    assert_int_equal(got.n_fields, p->n_fields);
    for (size_t i = 0; i < p->n_fields; i++) {
        const struct lp_field *want = &p->fields[i], *f = &got.fields[i];

        assert_string_equal(f->key, want->key);
        assert_int_equal(f->type, want->type);
        if (want->type == LP_FLOAT && !same_double(f->f, want->f))
            fail_msg("field %s: wrote %.17g, read back %.17g", want->key, want->f, f->f);
        if (want->type == LP_BOOL)
            assert_int_equal(f->b, want->b);
        if (want->type == LP_STRING)
            assert_string_equal(f->s, want->s);
    }
    assert_true(got.has_ts);
    assert_true(got.ts_ns == p->ts_ns);
    lineproto_point_free(&got);
}

/* Encodes p alone and parses it back. */
static void assert_round_trip(const struct point *p)
{
    struct buf b;

    buf_init(&b, 0);
    assert_int_equal(append_point(&b, p), 0);
    assert_int_equal(lineproto_count_lines(b.data, b.len), 1);
    assert_int_equal(b.data[b.len - 1], '\n');
    assert_parses_as(b.data, b.len - 1, p);
    buf_free(&b);
}

/* ---- Exact encoding ------------------------------------------------------- */

static const struct {
    const char *name;
    struct point p;
    const char *want;
} encode_cases[] = {
    {"whole number is a float without i",
     {"env", {{"hall", "h1"}, {"window", "W01"}}, 2, {{.key = "temperature", .f = 21}}, 1, TS},
     "env,hall=h1,window=W01 temperature=21 1764150000000000000\n"},
    {"fraction",
     {"env", {{0}}, 0, {{.key = "temperature", .f = 21.5}}, 1, TS},
     "env temperature=21.5 1764150000000000000\n"},
    {"booleans",
     {"plug",
      {{0}},
      0,
      {{.key = "on", .type = LP_BOOL, .b = true}, {.key = "fault", .type = LP_BOOL, .b = false}},
      2,
      1},
     "plug on=true,fault=false 1\n"},
    {"string escapes quote and backslash, also at the end",
     {"alert", {{0}}, 0, {{.key = "msg", .type = LP_STRING, .s = "say \"hi\" C:\\dir\\"}}, 1, 0},
     "alert msg=\"say \\\"hi\\\" C:\\\\dir\\\\\" 0\n"},
    {"empty string",
     {"alert", {{0}}, 0, {{.key = "msg", .type = LP_STRING, .s = ""}}, 1, 0},
     "alert msg=\"\" 0\n"},
    {"measurement escapes comma and space, not equals",
     {"my meas,x=y", {{0}}, 0, {{.key = "v", .f = 1}}, 1, 0},
     "my\\ meas\\,x=y v=1 0\n"},
    {"tag key and value escape comma, equals and space",
     {"m", {{"a b", "x,y=z"}}, 1, {{.key = "v", .f = 1}}, 1, 0},
     "m,a\\ b=x\\,y\\=z v=1 0\n"},
    {"field key escapes comma, equals and space",
     {"m", {{0}}, 0, {{.key = "f=1 2,3", .f = 1}}, 1, 0},
     "m f\\=1\\ 2\\,3=1 0\n"},
    {"backslash in a tag value is literal",
     {"m", {{"path", "C:\\dir"}}, 1, {{.key = "v", .f = 1}}, 1, 0},
     "m,path=C:\\dir v=1 0\n"},
    {"leading and trailing spaces in a tag value",
     {"m", {{"t", " x "}}, 1, {{.key = "v", .f = 1}}, 1, 0},
     "m,t=\\ x\\  v=1 0\n"},
    {"empty and missing tag values are left out",
     {"m", {{"hall", "h1"}, {"window", ""}, {"device", NULL}}, 3, {{.key = "v", .f = 1}}, 1, 0},
     "m,hall=h1 v=1 0\n"},
    {"UTF-8 text as it is",
     {"occupancy",
      {{"hall", "政务服务大厅"}, {"window", "综合受理"}},
      2,
      {{.key = "备注", .type = LP_STRING, .s = "窗口 1,\"忙\""}},
      1,
      TS},
     "occupancy,hall=政务服务大厅,window=综合受理 备注=\"窗口 1,\\\"忙\\\"\" "
     "1764150000000000000\n"},
    {"negative timestamp", {"m", {{0}}, 0, {{.key = "v", .f = -2.25}}, 1, -1}, "m v=-2.25 -1\n"},
};

static void test_encodes_points_exactly(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ELEMS(encode_cases); i++) {
        struct buf b;

        buf_init(&b, 0);
        if (append_point(&b, &encode_cases[i].p) != 0)
            fail_msg("%s: refused", encode_cases[i].name);
        if (strcmp(b.data, encode_cases[i].want) != 0)
            fail_msg("%s:\n got  %s want %s", encode_cases[i].name, b.data, encode_cases[i].want);
        assert_round_trip(&encode_cases[i].p);
        buf_free(&b);
    }
}

static const struct {
    double value;
    const char *want;
} float_cases[] = {
    {21, "21"},
    {21.5, "21.5"},
    {0.1, "0.1"},
    {-0.0, "-0"},
    {0, "0"},
    {1.0 / 3, "0.3333333333333333"},    /* needs 16 digits */
    {0.1 + 0.2, "0.30000000000000004"}, /* needs 17 digits */
    {1e21, "1e+21"},
    {1e-7, "1e-07"},
    {123456789012345678.0, "1.2345678901234568e+17"},
    {1.7976931348623157e308, "1.7976931348623157e+308"},
    {4.9406564584124654e-324, "4.94065645841247e-324"},
    {-1234.5678, "-1234.5678"},
};

/* Readings with a few decimals, written without printf, read exactly as
 * %.15g writes them. */
static void test_short_decimals_are_written_as_printf_writes_them(void **state)
{
    (void)state;
    static const double scale[] = {1, 10, 100, 1000, 1e4, 1e5, 1e6, 1e8, 1e9};
    struct buf b;
    buf_init(&b, 0);
    for (long i = -30000; i <= 30000; i += 7) {
        for (size_t k = 0; k < N_ELEMS(scale); k++) {
            double v = (double)(i * 1237) / scale[k];
            struct point p = {"m", {{0}}, 0, {{.key = "v", .f = v}}, 1, 0};
            char want[64];
            snprintf(want, sizeof(want), "m v=%.15g 0\n", v);
            if (strtod(want + 4, NULL) != v)
                continue; /* needs 16 or 17 digits: another test's case */
            buf_reset(&b);
            assert_int_equal(append_point(&b, &p), 0);
            assert_string_equal(b.data, want);
        }
    }
    buf_free(&b);
}

/* The shortest of %.15g, %.16g and %.17g that reads back as v. */
static void shortest_printf(double v, char out[64])
{
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(out, 64, "%.*g", prec, v);
        if (strtod(out, NULL) == v)
            return;
    }
}

/* Device times in seconds with microseconds and other values of 16
 * significant digits are written as printf writes them too. */
static void test_sixteen_digit_decimals_are_written_as_printf_writes_them(void **state)
{
    (void)state;
    static const double scale[] = {1, 10, 100, 1000, 1e4, 1e5, 1e6, 1e7, 1e8};
    struct buf b;
    buf_init(&b, 0);
    for (int i = 0; i < 200000; i++) {
        uint64_t r = rng_next();
        double v = (double)(r % UINT64_C(9007199254740992)) / scale[i % N_ELEMS(scale)];
        if (i % 3 == 0)
            v = 1764201234.0 + (double)(r % 1000000) / 1e6; /* a ts */
        if (i % 2)
            v = -v;
        struct point p = {"m", {{0}}, 0, {{.key = "v", .f = v}}, 1, 0};
        char num[64], want[96];
        shortest_printf(v, num);
        snprintf(want, sizeof(want), "m v=%s 0\n", num);
        buf_reset(&b);
        assert_int_equal(append_point(&b, &p), 0);
        if (strcmp(b.data, want) != 0)
            fail_msg("%.17g:\n got  %s want %s", v, b.data, want);
    }
    buf_free(&b);
}

static void test_floats_are_shortest_round_trip_and_never_integers(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ELEMS(float_cases); i++) {
        struct point p = {"m", {{0}}, 0, {{.key = "v", .f = float_cases[i].value}}, 1, 0};
        char want[64];
        struct buf b;

        snprintf(want, sizeof(want), "m v=%s 0\n", float_cases[i].want);
        buf_init(&b, 0);
        assert_int_equal(append_point(&b, &p), 0);
        assert_string_equal(b.data, want);
        assert_round_trip(&p);
        buf_free(&b);
    }
}

/* ---- Refusals ------------------------------------------------------------- */

#define F1 {{.key = "v", .f = 1}}, 1
#define T1(k, v) {{(k), (v)}}, 1

static const struct {
    const char *name;
    struct point p;
} refuse_cases[] = {
    {"empty measurement", {"", {{0}}, 0, F1, 0}},
    {"NULL measurement", {NULL, {{0}}, 0, F1, 0}},
    {"newline in measurement", {"a\nb", {{0}}, 0, F1, 0}},
    {"carriage return in measurement", {"a\rb", {{0}}, 0, F1, 0}},
    {"tab in measurement", {"a\tb", {{0}}, 0, F1, 0}},
    {"DEL in measurement", {"a\x7f", {{0}}, 0, F1, 0}},
    {"measurement that reads as a comment", {"#m", {{0}}, 0, F1, 0}},
    {"measurement ending in a backslash", {"m\\", {{0}}, 0, F1, 0}},
    {"invalid UTF-8 in measurement", {"m\xff", {{0}}, 0, F1, 0}},
    {"overlong UTF-8 in measurement", {"m\xc0\xaf", {{0}}, 0, F1, 0}},
    {"surrogate in measurement", {"m\xed\xa0\x80", {{0}}, 0, F1, 0}},
    {"truncated UTF-8 in measurement", {"m\xe6\x94", {{0}}, 0, F1, 0}},
    {"empty tag key", {"m", T1("", "x"), F1, 0}},
    {"NULL tag key", {"m", T1(NULL, "x"), F1, 0}},
    {"bad tag key even with an empty value", {"m", T1("a\nb", ""), F1, 0}},
    {"tag key time", {"m", T1("time", "x"), F1, 0}},
    {"tag key _field", {"m", T1("_field", "x"), F1, 0}},
    {"tag key _measurement", {"m", T1("_measurement", "x"), F1, 0}},
    {"newline in tag key", {"m", T1("a\nb", "x"), F1, 0}},
    {"newline in tag value", {"m", T1("t", "x\ny"), F1, 0}},
    {"carriage return in tag value", {"m", T1("t", "x\r"), F1, 0}},
    {"control character in tag value", {"m", T1("t", "x\x01y"), F1, 0}},
    {"tag value ending in a backslash", {"m", T1("t", "C:\\"), F1, 0}},
    {"tag key ending in a backslash", {"m", T1("t\\", "x"), F1, 0}},
    {"backslash before a comma in a tag value", {"m", T1("t", "a\\,b"), F1, 0}},
    {"backslash before a space in a tag key", {"m", T1("a\\ b", "x"), F1, 0}},
    {"backslash before an equals sign in a measurement", {"a\\=b", {{0}}, 0, F1, 0}},
    {"backslash before a quote in a measurement", {"\\\"x", {{0}}, 0, F1, 0}},
    {"double backslash in a field key", {"m", {{0}}, 0, {{.key = "a\\\\b", .f = 1}}, 1, 0}},
    {"duplicate tag keys", {"m", {{"t", "a"}, {"t", "b"}}, 2, F1, 0}},
    {"no fields", {"m", {{0}}, 0, {{0}}, 0, 0}},
    {"field key time", {"m", {{0}}, 0, {{.key = "time", .f = 1}}, 1, 0}},
    {"empty field key", {"m", {{0}}, 0, {{.key = "", .f = 1}}, 1, 0}},
    {"NULL field key", {"m", {{0}}, 0, {{.key = NULL, .f = 1}}, 1, 0}},
    {"field key ending in a backslash", {"m", {{0}}, 0, {{.key = "v\\", .f = 1}}, 1, 0}},
    {"NaN", {"m", {{0}}, 0, {{.key = "v", .f = NAN}}, 1, 0}},
    {"+inf", {"m", {{0}}, 0, {{.key = "v", .f = INFINITY}}, 1, 0}},
    {"-inf", {"m", {{0}}, 0, {{.key = "v", .f = -INFINITY}}, 1, 0}},
    {"NaN after a good field",
     {"m", {{0}}, 0, {{.key = "a", .f = 1}, {.key = "b", .f = NAN}}, 2, 0}},
    {"newline in string", {"m", {{0}}, 0, {{.key = "s", .type = LP_STRING, .s = "a\nb"}}, 1, 0}},
    {"carriage return in string",
     {"m", {{0}}, 0, {{.key = "s", .type = LP_STRING, .s = "a\r"}}, 1, 0}},
    {"escape character in string",
     {"m", {{0}}, 0, {{.key = "s", .type = LP_STRING, .s = "\x1b[0m"}}, 1, 0}},
    {"invalid UTF-8 in string",
     {"m", {{0}}, 0, {{.key = "s", .type = LP_STRING, .s = "\xfe"}}, 1, 0}},
    {"NULL string", {"m", {{0}}, 0, {{.key = "s", .type = LP_STRING, .s = NULL}}, 1, 0}},
    {"duplicate field keys", {"m", {{0}}, 0, {{.key = "v", .f = 1}, {.key = "v", .f = 2}}, 2, 0}},
    {"unknown field type", {"m", {{0}}, 0, {{.key = "v", .type = (enum lp_field_type)99}}, 1, 0}},
};

static void test_refuses_unwritable_points_and_leaves_buffer_untouched(void **state)
{
    static const char before[] = "prev v=1 0\n";

    (void)state;
    for (size_t i = 0; i < N_ELEMS(refuse_cases); i++) {
        struct buf b;
        size_t cap;

        buf_init(&b, 0);
        assert_int_equal(
            lineproto_append(&b, "prev", NULL, 0, &(struct lp_field){.key = "v", .f = 1}, 1, 0), 0);
        cap = b.cap;
        if (append_point(&b, &refuse_cases[i].p) != -EINVAL)
            fail_msg("%s: not refused with -EINVAL", refuse_cases[i].name);
        assert_int_equal(b.len, strlen(before));
        assert_string_equal(b.data, before);
        assert_int_equal(b.cap, cap);
        buf_free(&b);
    }
}

/* A point written with tags encoded once by lineproto_tagset() is the point
 * lineproto_append() writes; what one refuses, the other refuses. */
static int append_point_tagset(struct buf *b, const struct point *p)
{
    char tagset[512];
    int n = lineproto_tagset(tagset, sizeof(tagset), p->tags, p->n_tags);
    if (n < 0)
        return n;
    assert_int_equal(strlen(tagset), (size_t)n);
    return lineproto_append_tagset(b, p->measurement, tagset, (size_t)n, p->fields, p->n_fields,
                                   p->ts_ns);
}

static void test_tagset_points_are_the_points_append_writes(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ELEMS(encode_cases); i++) {
        struct buf b;
        buf_init(&b, 0);
        if (append_point_tagset(&b, &encode_cases[i].p) != 0)
            fail_msg("%s: refused", encode_cases[i].name);
        if (strcmp(b.data, encode_cases[i].want) != 0)
            fail_msg("%s:\n got  %s want %s", encode_cases[i].name, b.data, encode_cases[i].want);
        buf_free(&b);
    }
    for (size_t i = 0; i < N_ELEMS(refuse_cases); i++) {
        struct buf b;
        buf_init(&b, 0);
        assert_int_equal(
            lineproto_append(&b, "prev", NULL, 0, &(struct lp_field){.key = "v", .f = 1}, 1, 0), 0);
        if (append_point_tagset(&b, &refuse_cases[i].p) != -EINVAL)
            fail_msg("%s: not refused with -EINVAL", refuse_cases[i].name);
        assert_string_equal(b.data, "prev v=1 0\n");
        buf_free(&b);
    }
}

static void test_tagset_that_does_not_fit_is_refused_empty(void **state)
{
    (void)state;
    struct lp_tag tags[] = {{"hall", "h1"}, {"device", "dev 1"}};
    char out[64];
    int n = lineproto_tagset(out, sizeof(out), tags, 2);
    assert_int_equal(n, (int)strlen(",hall=h1,device=dev\\ 1"));
    assert_string_equal(out, ",hall=h1,device=dev\\ 1");
    for (size_t size = 1; size <= (size_t)n; size++) {
        memset(out, 'x', sizeof(out));
        assert_int_equal(lineproto_tagset(out, size, tags, 2), -ENOSPC);
        assert_string_equal(out, "");
    }
    assert_int_equal(lineproto_tagset(out, (size_t)n + 1, tags, 2), n);
    assert_int_equal(lineproto_tagset(out, sizeof(out), NULL, 0), 0);
    assert_string_equal(out, "");
}

static void test_refuses_a_null_buffer(void **state)
{
    struct lp_field f = {.key = "v", .f = 1};

    (void)state;
    assert_int_equal(lineproto_append(NULL, "m", NULL, 0, &f, 1, 0), -EINVAL);
}

/* ---- The buffer ----------------------------------------------------------- */

static void test_buffer_grows_by_doubling_up_to_max(void **state)
{
    struct lp_field f = {.key = "value", .f = 1.5};
    struct buf b;
    size_t seen[8], n_seen = 0, points = 0;
    char *snapshot;
    int rc;

    (void)state;
    buf_init(&b, 1000);
    /* "m,n=NNNN value=1.5 0\n" is 21 bytes. */
    for (;;) {
        char v[8];
        struct lp_tag t = {"n", v};

        snprintf(v, sizeof(v), "%04zu", points);
        snapshot = b.data ? strdup(b.data) : strdup("");
        rc = lineproto_append(&b, "m", &t, 1, &f, 1, 0);
        if (rc != 0)
            break;
        free(snapshot);
        points++;
        if (n_seen == 0 || seen[n_seen - 1] != b.cap)
            seen[n_seen++] = b.cap;
        assert_true(b.len <= b.max);
    }
    assert_int_equal(rc, -ENOSPC);
    assert_int_equal(points, 1000 / 21);
    assert_int_equal(b.len, points * 21);
    assert_string_equal(b.data, snapshot);
    free(snapshot);
    assert_int_equal(n_seen, 3);
    assert_int_equal(seen[0], 256);
    assert_int_equal(seen[1], 512);
    assert_int_equal(seen[2], 1000);
    assert_int_equal(lineproto_count_lines(b.data, b.len), points);

    buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, 1000);
    buf_free(&b);
    buf_free(NULL);
}

static void test_point_of_exactly_max_bytes_fits(void **state)
{
    struct lp_field f = {.key = "v", .f = 1};
    struct buf b;

    (void)state;
    buf_init(&b, 8); /* "m v=1 0\n" */
    assert_int_equal(lineproto_append(&b, "m", NULL, 0, &f, 1, 0), 0);
    assert_string_equal(b.data, "m v=1 0\n");
    assert_int_equal(lineproto_append(&b, "m", NULL, 0, &f, 1, 0), -ENOSPC);
    assert_string_equal(b.data, "m v=1 0\n");
    buf_free(&b);

    buf_init(&b, 7);
    assert_int_equal(lineproto_append(&b, "m", NULL, 0, &f, 1, 0), -ENOSPC);
    assert_int_equal(b.len, 0);
    buf_free(&b);
}

/* ---- Round trips ---------------------------------------------------------- */

enum {
    NAME_OK = 1,    /* usable as a tag key, tag value or field key */
    MEASURE_OK = 2, /* usable as a measurement */
};

static const struct {
    const char *text;
    int ok;
} tricky[] = {
    {"plain", NAME_OK | MEASURE_OK},
    {"with space", NAME_OK | MEASURE_OK},
    {" leading", NAME_OK | MEASURE_OK},
    {"trailing ", NAME_OK | MEASURE_OK},
    {"  ", NAME_OK | MEASURE_OK},
    {",", NAME_OK | MEASURE_OK},
    {"a,b", NAME_OK | MEASURE_OK},
    {"=", NAME_OK | MEASURE_OK},
    {"a=b", NAME_OK | MEASURE_OK},
    {"x=1,y=2 z=3", NAME_OK | MEASURE_OK},
    {"\"", NAME_OK | MEASURE_OK},
    {"\"quoted\"", NAME_OK | MEASURE_OK},
    {"back\\slash", NAME_OK | MEASURE_OK},
    {"\\leading", NAME_OK | MEASURE_OK},
    {" \\x", NAME_OK | MEASURE_OK},
    {"tab\\t", NAME_OK | MEASURE_OK},
    {"a\\nb", NAME_OK | MEASURE_OK}, /* a backslash and an n, not a newline */
    {"政务服务大厅", NAME_OK | MEASURE_OK},
    {"综合受理", NAME_OK | MEASURE_OK},
    {"政务 服务,大厅=1", NAME_OK | MEASURE_OK},
    {" 综合受理 ", NAME_OK | MEASURE_OK},
    {"窗口\\号", NAME_OK | MEASURE_OK},
    {"emoji 😀", NAME_OK | MEASURE_OK},
    {"true", NAME_OK | MEASURE_OK},
    {"1i", NAME_OK | MEASURE_OK},
    {"-1.5e10", NAME_OK | MEASURE_OK},
    {"#hash", NAME_OK},
    {"_underscore", NAME_OK | MEASURE_OK},
    {"ends with backslash\\", 0},
    {"\\", 0},
    {"\\\\", 0},
    {"\\\\x", 0},
    {"a\\,b", 0},
    {"a\\ b", 0},
    {"a\\=b", 0},
    {"a\\\\,b", 0},
    {"\\\"x", 0},
    {"\\ ", 0},
    {"窗口\\", 0},
};

static void test_tricky_strings_round_trip_in_every_position(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ELEMS(tricky); i++) {
        const char *s = tricky[i].text;
        struct point as_measurement = {s, {{0}}, 0, {{.key = "v", .f = 1}}, 1, TS};
        struct point as_tag_key = {"m", {{s, "v"}}, 1, {{.key = "v", .f = 1}}, 1, TS};
        struct point as_tag_value = {"m", {{"t", s}, {"u", s}}, 2, {{.key = "v", .f = 1}}, 1, TS};
        struct point as_field_key = {"m", {{0}}, 0, {{.key = s, .f = 2.5}}, 1, TS};
        struct point as_string = {
            "m", {{"t", "x"}},
            1,   {{.key = "s", .type = LP_STRING, .s = s}, {.key = "n", .f = 3}},
            2,   TS};
        const struct point *names[] = {&as_tag_key, &as_tag_value, &as_field_key};
        struct buf b;

        /* A string field value takes anything without control characters. */
        assert_round_trip(&as_string);

        for (size_t k = 0; k < N_ELEMS(names); k++) {
            if (tricky[i].ok & NAME_OK) {
                assert_round_trip(names[k]);
                continue;
            }
            buf_init(&b, 0);
            if (append_point(&b, names[k]) != -EINVAL)
                fail_msg("\"%s\" accepted as a name", s);
            assert_int_equal(b.len, 0);
            buf_free(&b);
        }
        if (tricky[i].ok & MEASURE_OK) {
            assert_round_trip(&as_measurement);
        } else {
            buf_init(&b, 0);
            if (append_point(&b, &as_measurement) != -EINVAL)
                fail_msg("\"%s\" accepted as a measurement", s);
            buf_free(&b);
        }
    }
}

static double random_double(void)
{
    for (;;) {
        uint64_t bits = rng_next();
        double d;

        memcpy(&d, &bits, sizeof(d));
        if (isfinite(d))
            return d;
    }
}

/* A value a sensor would send: up to 7 significant digits. */
static double random_reading(void)
{
    static const double scale[] = {1, 10, 100, 1000, 1e4, 1e5, 1e6};
    int64_t k = (int64_t)(rng_next() % 20000001) - 10000000;

    return (double)k / scale[rng_next() % N_ELEMS(scale)];
}

static void test_random_doubles_round_trip_bit_exact(void **state)
{
    enum { N_POINTS = 20000 };
    struct buf b;
    double *want;
    size_t line = 0;
    const char *p, *end;

    (void)state;
    want = calloc(2 * N_POINTS, sizeof(*want));
    assert_non_null(want);
    buf_init(&b, 0);
    for (size_t i = 0; i < N_POINTS; i++) {
        struct lp_field f[2] = {{.key = "raw", .f = random_double()},
                                {.key = "reading", .f = random_reading()}};

        if (i == 0)
            f[0].f = 5e-324; /* the smallest subnormal */
        want[2 * i] = f[0].f;
        want[2 * i + 1] = f[1].f;
        assert_int_equal(lineproto_append(&b, "m", NULL, 0, f, 2, (int64_t)i), 0);
    }
    assert_int_equal(lineproto_count_lines(b.data, b.len), N_POINTS);

    for (p = b.data, end = b.data + b.len; p < end; line++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        struct lp_point got;
        const char *reading;
        char shortest[32];

        assert_non_null(nl);
        assert_int_equal(lineproto_parse(p, (size_t)(nl - p), &got), 0);
        assert_int_equal(got.n_fields, 2);
        assert_int_equal(got.fields[0].type, LP_FLOAT);
        if (!same_double(got.fields[0].f, want[2 * line]) ||
            !same_double(got.fields[1].f, want[2 * line + 1]))
            fail_msg("line %zu: %.*s", line, (int)(nl - p), p);
        assert_true(got.ts_ns == (int64_t)line);
        lineproto_point_free(&got);

        /* Numbers only: never an i suffix, inf or nan. */
        assert_int_equal(strspn(p + 6, "0123456789.eE+-"), (size_t)(strchr(p + 6, ',') - p - 6));
        /* A sensor's reading is written as short as %.15g writes it. */
        reading = strstr(p, ",reading=") + strlen(",reading=");
        snprintf(shortest, sizeof(shortest), "%.15g", want[2 * line + 1]);
        assert_memory_equal(reading, shortest, strlen(shortest));
        assert_int_equal(reading[strlen(shortest)], ' ');
        p = nl + 1;
    }
    assert_int_equal(line, N_POINTS);
    buf_free(&b);
    free(want);
}

/* Random text from an alphabet rich in separators, escapes, control
 * characters and multi-byte UTF-8 (and broken UTF-8). */
static void random_text(char *out, size_t max)
{
    static const char *const good[] = {
        "a",  "b",  " ",    ",", "=", "\"", "\\",  "#",   "_",
        "政", "厅", "time", "1", ".", "i",  "\\,", "\\ ",
    };
    static const char *const bad[] = {"\n", "\r", "\t", "\x7f", "\x01", "\xff", "\xe6"};
    size_t n = rng_next() % 8, len = 0;

    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        const char *piece =
            rng_next() % 32 ? good[rng_next() % N_ELEMS(good)] : bad[rng_next() % N_ELEMS(bad)];

        if (len + strlen(piece) >= max)
            break;
        strcpy(out + len, piece);
        len += strlen(piece);
    }
}

static void test_no_input_smuggles_a_second_line(void **state)
{
    enum { N_TRIES = 20000 };
    struct buf b;
    size_t accepted = 0, reparsed = 0;
    const char *q, *end;

    (void)state;
    buf_init(&b, 0);
    for (size_t i = 0; i < N_TRIES; i++) {
        char m[40], tk[40], tv[40], fk[40], sv[40];
        struct point p = {m, {{tk, tv}},
                          1, {{.key = fk, .type = LP_STRING, .s = sv}, {.key = "n", .f = 1}},
                          2, (int64_t)i};
        bool has_break;
        size_t before = b.len;
        int rc;

        random_text(m, sizeof(m));
        random_text(tk, sizeof(tk));
        random_text(tv, sizeof(tv));
        random_text(fk, sizeof(fk));
        random_text(sv, sizeof(sv));
        /* Keep some points valid often enough to exercise both sides. */
        if (rng_next() % 2)
            strcpy(m, "m");
        if (rng_next() % 2)
            strcpy(tk, "t");
        if (rng_next() % 2)
            strcpy(fk, "f");
        has_break = strpbrk(m, "\r\n") || strpbrk(tk, "\r\n") || strpbrk(tv, "\r\n") ||
                    strpbrk(fk, "\r\n") || strpbrk(sv, "\r\n");

        rc = append_point(&b, &p);
        if (rc != 0) {
            assert_int_equal(rc, -EINVAL);
            assert_int_equal(b.len, before);
            continue;
        }
        assert_false(has_break);
        accepted++;
        assert_int_equal(lineproto_count_lines(b.data + before, b.len - before), 1);
        assert_int_equal(b.data[b.len - 1], '\n');
        assert_parses_as(b.data + before, b.len - before - 1, &p);
    }
    assert_true(accepted > N_TRIES / 10);
    assert_true(accepted < N_TRIES);
    /* Refusals left no trace: every line of the batch still parses. */
    assert_int_equal(lineproto_count_lines(b.data, b.len), accepted);
    for (q = b.data, end = b.data + b.len; q < end; reparsed++) {
        const char *nl = memchr(q, '\n', (size_t)(end - q));
        struct lp_point got;

        assert_int_equal(lineproto_parse(q, (size_t)(nl - q), &got), 0);
        assert_true(got.ts_ns >= 0 && got.ts_ns < N_TRIES);
        lineproto_point_free(&got);
        q = nl + 1;
    }
    assert_int_equal(reparsed, accepted);
    buf_free(&b);
}

/* ---- The parser on its own ------------------------------------------------ */

static const struct {
    const char *line;
    int rc;
    double first; /* the first field's value, when it is a number */
} parse_cases[] = {
    {"m v=12i", 0, 12},
    {"m v=-9223372036854775808i", 0, -9223372036854775808.0},
    {"m v=9223372036854775808i", -EINVAL, 0},
    {"m v=12u", 0, 12},
    {"m v=-12u", -EINVAL, 0},
    {"m v=1.", 0, 1},
    {"m v=.5", 0, 0.5},
    {"m v=-1E+5", 0, -1e5},
    {"m v=1e", -EINVAL, 0},
    {"m v=1.2.3", -EINVAL, 0},
    {"m v=inf", -EINVAL, 0},
    {"m v=NaN", -EINVAL, 0},
    {"m v=1e999", -EINVAL, 0},
    {"m v=0x10", -EINVAL, 0},
    {"m v=t", 0, 0},
    {"m v=FALSE", 0, 0},
    {"m v=tru", -EINVAL, 0},
    {"m v=\"a\\\"b\"", 0, 0},
    {"m v=\"open", -EINVAL, 0},
    {"m v=\"a\" x", -EINVAL, 0},
    {"m", -EINVAL, 0},
    {"m ", -EINVAL, 0},
    {"m v", -EINVAL, 0},
    {"m v=", -EINVAL, 0},
    {"m v=1,", -EINVAL, 0},
    {" v=1", -EINVAL, 0},
    {"  m v=1", 0, 1},
    {"m  v=1  ", 0, 1},
    {"m,t= v=1", -EINVAL, 0},
    {"m,=x v=1", -EINVAL, 0},
    {"m,t v=1", -EINVAL, 0},
    {"m,t=a=b v=1", -EINVAL, 0},
    {"m, v=1", -EINVAL, 0},
    {"m v=1 12a", -EINVAL, 0},
    {"m v=1 1 2", -EINVAL, 0},
    {"m v=1 99999999999999999999", -EINVAL, 0},
    {"m v=1 -", -EINVAL, 0},
    {"#comment v=1", -EINVAL, 0},
    {"m v=1\nm v=2", -EINVAL, 0},
    {"m v=1\r", -EINVAL, 0},
    {"m\x01 v=1", -EINVAL, 0},
    {"m\xff v=1", -EINVAL, 0},
    {"m,t=a\\ v=1", -EINVAL, 0}, /* the backslash escapes the space */
};

static void test_parser_reads_integers_and_refuses_malformed_lines(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ELEMS(parse_cases); i++) {
        struct lp_point p;
        int rc = lineproto_parse(parse_cases[i].line, strlen(parse_cases[i].line), &p);

        if (rc != parse_cases[i].rc)
            fail_msg("\"%s\": got %d, want %d", parse_cases[i].line, rc, parse_cases[i].rc);
        if (rc == 0 && p.fields[0].type == LP_FLOAT && p.fields[0].f != parse_cases[i].first)
            fail_msg("\"%s\": read %.17g", parse_cases[i].line, p.fields[0].f);
        lineproto_point_free(&p);
    }
}

static void test_parser_limits_tags_and_fields(void **state)
{
    struct lp_point p;

    (void)state;
    for (int n_tags = 32; n_tags <= 33; n_tags++) {
        char line[1024] = "m";

        for (int i = 0; i < n_tags; i++)
            snprintf(line + strlen(line), sizeof(line) - strlen(line), ",t%d=x", i);
        strcat(line, " v=1");
        assert_int_equal(lineproto_parse(line, strlen(line), &p), n_tags == 32 ? 0 : -EINVAL);
        lineproto_point_free(&p);
    }
    for (int n_fields = 128; n_fields <= 129; n_fields++) {
        char line[2048] = "m ";

        for (int i = 0; i < n_fields; i++)
            snprintf(line + strlen(line), sizeof(line) - strlen(line), "%sf%d=1", i ? "," : "", i);
        assert_int_equal(lineproto_parse(line, strlen(line), &p), n_fields == 128 ? 0 : -EINVAL);
        if (n_fields == 128)
            assert_int_equal(p.n_fields, 128);
        lineproto_point_free(&p);
    }
    lineproto_point_free(NULL);
}

static void test_counts_newline_terminated_lines(void **state)
{
    static const struct {
        const char *text;
        size_t lines;
    } cases[] = {{"", 0}, {"a\n", 1}, {"a\nb", 1}, {"\n\n", 2}, {"a\nb\nc\n", 3}};

    (void)state;
    for (size_t i = 0; i < N_ELEMS(cases); i++)
        assert_int_equal(lineproto_count_lines(cases[i].text, strlen(cases[i].text)),
                         cases[i].lines);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encodes_points_exactly),
        cmocka_unit_test(test_short_decimals_are_written_as_printf_writes_them),
        cmocka_unit_test(test_floats_are_shortest_round_trip_and_never_integers),
        cmocka_unit_test(test_refuses_unwritable_points_and_leaves_buffer_untouched),
        cmocka_unit_test(test_sixteen_digit_decimals_are_written_as_printf_writes_them),
        cmocka_unit_test(test_tagset_points_are_the_points_append_writes),
        cmocka_unit_test(test_tagset_that_does_not_fit_is_refused_empty),
        cmocka_unit_test(test_refuses_a_null_buffer),
        cmocka_unit_test(test_buffer_grows_by_doubling_up_to_max),
        cmocka_unit_test(test_point_of_exactly_max_bytes_fits),
        cmocka_unit_test(test_tricky_strings_round_trip_in_every_position),
        cmocka_unit_test(test_random_doubles_round_trip_bit_exact),
        cmocka_unit_test(test_no_input_smuggles_a_second_line),
        cmocka_unit_test(test_parser_reads_integers_and_refuses_malformed_lines),
        cmocka_unit_test(test_parser_limits_tags_and_fields),
        cmocka_unit_test(test_counts_newline_terminated_lines),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
