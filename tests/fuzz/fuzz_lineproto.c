/* fuzz_lineproto: the line-protocol encoder against its parser.
 *
 * 1. Round trip (the oracle STYLE.md asks for): a point is derived from the
 *    input bytes (a measurement, up to 4 tags, up to 4 fields of each type
 *    -- float, bool, string -- and a timestamp; fuzz_string() makes names
 *    from raw bytes or from tokens such as ",", "=", " ", "\\", "\"", "é",
 *    "time") and encoded with lineproto_append() after some text already in
 *    the buffer, sometimes under a small cap. When it returns 0 it added
 *    exactly one line, ending in the only new '\n', and lineproto_parse() of
 *    that line gives back the same measurement, the tags with a value in
 *    order, the fields in order (floats bit for bit, bools, strings) and the
 *    timestamp. When it fails, the buffer's text is exactly as it was.
 * 2. lineproto_parse() directly on the raw input (must not crash); a point
 *    it accepts and the encoder can write parses back to the same point
 *    (parse -> encode -> parse).
 */
#include "fuzz.h"

#include <errno.h>
#include <inttypes.h>

#include "lineproto_parse.h"

#define NAME_MAX_BYTES 64
#define MAX_PER_TYPE 4

struct point {
    char measurement[NAME_MAX_BYTES + 1];
    char tag_keys[4][NAME_MAX_BYTES + 1], tag_values[4][NAME_MAX_BYTES + 1];
    struct lp_tag tags[4];
    size_t n_tags;
    char field_keys[3 * MAX_PER_TYPE][NAME_MAX_BYTES + 1];
    char field_strings[MAX_PER_TYPE][NAME_MAX_BYTES + 1];
    struct lp_field fields[3 * MAX_PER_TYPE];
    size_t n_fields;
    int64_t ts_ns;
};

static bool same_double(double a, double b)
{
    return memcmp(&a, &b, sizeof(a)) == 0;
}

static void derive(struct fuzz_in *in, struct point *pt)
{
    memset(pt, 0, sizeof(*pt));
    fuzz_string(in, pt->measurement, NAME_MAX_BYTES);
    uint8_t counts = fuzz_u8(in);
    pt->n_tags = (counts & 7) % 5;
    for (size_t i = 0; i < pt->n_tags; i++) {
        fuzz_string(in, pt->tag_keys[i], NAME_MAX_BYTES);
        fuzz_string(in, pt->tag_values[i], NAME_MAX_BYTES);
        pt->tags[i] = (struct lp_tag){pt->tag_keys[i], pt->tag_values[i]};
    }
    uint8_t types = fuzz_u8(in);
    size_t n_float = (types & 7) % 5, n_bool = (types >> 3 & 7) % 5, n_str = (counts >> 3 & 7) % 5;
    /* The order of the types is taken from the input too: 2 bits a field. */
    size_t left[3] = {n_float, n_bool, n_str};
    while (left[0] + left[1] + left[2] > 0) {
        unsigned t = fuzz_u8(in) % 3;
        while (left[t] == 0)
            t = (t + 1) % 3;
        left[t]--;
        size_t i = pt->n_fields++;
        struct lp_field *f = &pt->fields[i];
        fuzz_string(in, pt->field_keys[i], NAME_MAX_BYTES);
        f->key = pt->field_keys[i];
        switch (t) {
        case 0:
            f->type = LP_FLOAT;
            f->f = fuzz_double(in);
            break;
        case 1:
            f->type = LP_BOOL;
            f->b = fuzz_u8(in) & 1;
            break;
        default: {
            char *s = pt->field_strings[n_str - 1 - left[2]];
            fuzz_string(in, s, NAME_MAX_BYTES);
            f->type = LP_STRING;
            f->s = s;
            break;
        }
        }
    }
    pt->ts_ns = (int64_t)fuzz_u64(in);
}

/* p (parsed) is the point pt with its written tags. */
static void check_same(const struct point *pt, const struct lp_point *p, const char *line)
{
    FUZZ_CHECK(strcmp(p->measurement, pt->measurement) == 0,
               "measurement \"%s\" came back as \"%s\" from %s", pt->measurement, p->measurement,
               line);
    size_t k = 0;
    for (size_t i = 0; i < pt->n_tags; i++) {
        if (!pt->tags[i].value[0])
            continue; /* tags without a value are left out */
        FUZZ_CHECK(k < p->n_tags, "tag \"%s\" lost from %s", pt->tags[i].key, line);
        FUZZ_CHECK(strcmp(p->tags[k].key, pt->tags[i].key) == 0 &&
                       strcmp(p->tags[k].value, pt->tags[i].value) == 0,
                   "tag %s=%s came back as %s=%s from %s", pt->tags[i].key, pt->tags[i].value,
                   p->tags[k].key, p->tags[k].value, line);
        k++;
    }
    FUZZ_CHECK(k == p->n_tags, "%zu tags written, %zu read from %s", k, p->n_tags, line);
    FUZZ_CHECK(p->n_fields == pt->n_fields, "%zu fields written, %zu read from %s", pt->n_fields,
               p->n_fields, line);
    for (size_t i = 0; i < pt->n_fields; i++) {
        const struct lp_field *a = &pt->fields[i], *b = &p->fields[i];
        FUZZ_CHECK(strcmp(a->key, b->key) == 0, "field key \"%s\" came back as \"%s\" from %s",
                   a->key, b->key, line);
        FUZZ_CHECK(a->type == b->type, "field \"%s\" type %d came back as %d from %s", a->key,
                   (int)a->type, (int)b->type, line);
        switch (a->type) {
        case LP_FLOAT:
            FUZZ_CHECK(same_double(a->f, b->f), "field \"%s\": %a came back as %a from %s", a->key,
                       a->f, b->f, line);
            break;
        case LP_BOOL:
            FUZZ_CHECK(a->b == b->b, "field \"%s\" bool from %s", a->key, line);
            break;
        case LP_STRING:
            FUZZ_CHECK(strcmp(a->s, b->s) == 0, "field \"%s\": \"%s\" came back as \"%s\" from %s",
                       a->key, a->s, b->s, line);
            break;
        }
    }
    FUZZ_CHECK(p->has_ts && p->ts_ns == pt->ts_ns, "timestamp %" PRId64 " came back as %" PRId64,
               pt->ts_ns, p->ts_ns);
}

/* The point written with its tags encoded once by lineproto_tagset() is the
 * line lineproto_append() wrote (want), or refused as it was (rc). */
static void same_with_tagset(const struct point *pt, int rc, const char *want)
{
    char tagset[4096];
    struct buf b;
    int n = lineproto_tagset(tagset, sizeof(tagset), pt->tags, pt->n_tags);
    if (n == -ENOSPC)
        return; /* tags longer than this test's buffer */
    buf_init(&b, 0);
    int trc = n < 0 ? n
                    : lineproto_append_tagset(&b, pt->measurement, tagset, (size_t)n, pt->fields,
                                              pt->n_fields, pt->ts_ns);
    if (trc != -ENOMEM) {
        FUZZ_CHECK(trc == rc, "with a tagset: %d, without: %d", trc, rc);
        FUZZ_CHECK(rc != 0 || strcmp(b.data, want) == 0, "with a tagset:\n%s\nwithout:\n%s", b.data,
                   want);
    }
    buf_free(&b);
}

static void round_trip(struct fuzz_in *in)
{
    static struct point pt;
    static const char before[] = "previous,tag=x value=1 1\n";
    uint8_t mode = fuzz_u8(in);
    struct buf b;
    struct lp_point p;

    derive(in, &pt);
    /* Sometimes a cap, so -ENOSPC is taken too (and must leave b as it was). */
    buf_init(&b, mode & 1 ? sizeof(before) - 1 + (size_t)fuzz_u8(in) : 0);
    if (mode & 2)
        FUZZ_CHECK(lineproto_append(&b, "previous", &(struct lp_tag){"tag", "x"}, 1,
                                    &(struct lp_field){.key = "value", .type = LP_FLOAT, .f = 1}, 1,
                                    1) == 0 &&
                       b.len == sizeof(before) - 1 && memcmp(b.data, before, b.len) == 0,
                   "the fixed first line");
    size_t old_len = b.len;
    char *old = fuzz_dup(b.data ? b.data : "", b.len);

    int rc =
        lineproto_append(&b, pt.measurement, pt.tags, pt.n_tags, pt.fields, pt.n_fields, pt.ts_ns);
    FUZZ_CHECK(rc == 0 || rc == -EINVAL || rc == -ENOSPC || rc == -ENOMEM, "result %d", rc);
    FUZZ_CHECK(b.len >= old_len && (old_len == 0 || memcmp(b.data, old, old_len) == 0),
               "the text before the point changed");
    FUZZ_CHECK(b.max == 0 || b.len <= b.max, "%zu bytes over a cap of %zu", b.len, b.max);
    if (rc != 0) {
        FUZZ_CHECK(b.len == old_len && (!b.data || b.data[b.len] == '\0'),
                   "a refused point (%d) left text behind", rc);
    } else {
        const char *line = b.data + old_len;
        size_t len = b.len - old_len;
        FUZZ_CHECK(len > 1 && line[len - 1] == '\n' && b.data[b.len] == '\0', "no final newline");
        FUZZ_CHECK(memchr(line, '\n', len - 1) == NULL && lineproto_count_lines(line, len) == 1,
                   "more than one line for one point: %s", line);
        FUZZ_CHECK(memchr(line, '\r', len) == NULL, "a CR in the line");
        int prc = lineproto_parse(line, len - 1, &p);
        FUZZ_CHECK(prc == 0, "an encoded point does not parse (%d): %s", prc, line);
        check_same(&pt, &p, line);
        lineproto_point_free(&p);
    }
    if (rc == 0 || rc == -EINVAL)
        same_with_tagset(&pt, rc, b.data ? b.data + old_len : "");
    free(old);
    buf_free(&b);
}

/* The raw input as a line; a point the encoder can write reads back the same. */
static void parse_raw(const uint8_t *data, size_t size)
{
    char *line = fuzz_copy((const char *)data, size);
    struct lp_point p, q;
    struct buf b;

    int rc = lineproto_parse(line, size, &p);
    FUZZ_CHECK(rc == 0 || rc == -EINVAL || rc == -ENOMEM, "parse result %d", rc);
    if (rc == 0) {
        FUZZ_CHECK(p.measurement && p.n_tags <= 32 && p.n_fields >= 1 &&
                       p.n_fields <= sizeof(p.fields) / sizeof(p.fields[0]),
                   "parsed point shape");
        buf_init(&b, 0);
        if (lineproto_append(&b, p.measurement, p.tags, p.n_tags, p.fields, p.n_fields,
                             p.has_ts ? p.ts_ns : 0) == 0) {
            FUZZ_CHECK(lineproto_parse(b.data, b.len - 1, &q) == 0,
                       "re-encoded point does not parse: %s", b.data);
            FUZZ_CHECK(strcmp(q.measurement, p.measurement) == 0, "measurement");
            FUZZ_CHECK(q.n_tags == p.n_tags && q.n_fields == p.n_fields, "counts");
            for (size_t i = 0; i < p.n_tags; i++)
                FUZZ_CHECK(strcmp(q.tags[i].key, p.tags[i].key) == 0 &&
                               strcmp(q.tags[i].value, p.tags[i].value) == 0,
                           "tag %zu", i);
            for (size_t i = 0; i < p.n_fields; i++) {
                const struct lp_field *x = &p.fields[i], *y = &q.fields[i];
                FUZZ_CHECK(strcmp(x->key, y->key) == 0 && x->type == y->type, "field %zu", i);
                FUZZ_CHECK(x->type != LP_FLOAT || same_double(x->f, y->f), "field %zu: %a vs %a", i,
                           x->f, y->f);
                FUZZ_CHECK(x->type != LP_BOOL || x->b == y->b, "field %zu bool", i);
                FUZZ_CHECK(x->type != LP_STRING || strcmp(x->s, y->s) == 0, "field %zu string", i);
            }
            FUZZ_CHECK(q.has_ts && q.ts_ns == (p.has_ts ? p.ts_ns : 0), "timestamp");
            lineproto_point_free(&q);
        }
        buf_free(&b);
    }
    lineproto_point_free(&p);
    free(line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = {data, size};

    round_trip(&in);
    parse_raw(data, size);
    return 0;
}
