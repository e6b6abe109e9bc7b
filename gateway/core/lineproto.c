/* InfluxDB line protocol (pure): the encoder.
 *
 * Backslashes in names (measurement, tag keys, tag values, field keys) are
 * not escaped: a backslash is literal unless the next character is one the
 * element escapes. A literal backslash is therefore only written where every
 * reader agrees on it: before an ordinary character ("C:\dir", "a\nb").
 * Before a comma, space, equals sign, double quote or another backslash, or at
 * the end, readers disagree (InfluxDB 1.x unescapes \" and \= in
 * measurements and takes \\ as a pair in field keys; a trailing backslash
 * escapes the separator after it, which the reference encoder refuses too),
 * so such a name is refused. In string field values both the double quote
 * and the backslash are escaped, so any string round-trips. The parser, the
 * oracle of the tests, is tests/support/lineproto_parse.c. */
#include "lineproto.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LP_INITIAL_CAP 256
#define LP_FLOAT_MAX 32 /* "%.17g" of any finite double fits with room */

static const char measurement_escapes[] = LP_MEASUREMENT_ESCAPES;
static const char key_escapes[] = LP_KEY_ESCAPES;
static const char string_escapes[] = LP_STRING_ESCAPES;

/* Keys InfluxDB 2.x reserves (or 1.x silently drops). */
static const char *const reserved_keys[] = {"time", "_field", "_measurement"};

void lp_buf_init(struct lp_buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void lp_buf_free(struct lp_buf *b)
{
    if (!b)
        return;
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void lp_buf_reset(struct lp_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

/* buf_reserve() when b must grow (or refuse). */
static int buf_grow(struct lp_buf *b, size_t n)
{
    size_t need, cap;
    char *p;

    if (n > SIZE_MAX - 1 - b->len)
        return -ENOSPC;
    need = b->len + n;
    if (b->max && need > b->max)
        return -ENOSPC;
    if (need <= b->cap && b->data)
        return 0;
    cap = b->cap ? b->cap : LP_INITIAL_CAP;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    if (b->max && cap > b->max)
        cap = b->max;
    p = realloc(b->data, cap + 1);
    if (!p)
        return -ENOMEM;
    b->data = p;
    b->cap = cap;
    return 0;
}

/* Makes room for n more bytes (plus the NUL kept after len). The capacity
 * doubles, clamped to max; the bytes in [0, len) never change. */
static inline int buf_reserve(struct lp_buf *b, size_t n)
{
    if (b->data && n <= b->cap - b->len && (!b->max || n <= b->max - b->len))
        return 0;
    return buf_grow(b, n);
}

static int buf_put(struct lp_buf *b, const char *s, size_t n)
{
    int rc = buf_reserve(b, n);

    if (rc < 0)
        return rc;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

static int buf_putc(struct lp_buf *b, char c)
{
    int rc = buf_reserve(b, 1);

    if (rc < 0)
        return rc;
    b->data[b->len++] = c;
    b->data[b->len] = '\0';
    return 0;
}

/* Appends s with every character of escapes preceded by a backslash. */
static int buf_put_escaped(struct lp_buf *b, const char *s, const char *escapes)
{
    size_t n = strcspn(s, escapes), extra = 0;
    char *d;
    int rc;

    if (s[n] == '\0')
        return buf_put(b, s, n); /* the usual name: nothing to escape */
    for (; s[n]; n++)
        if (strchr(escapes, s[n]))
            extra++;
    rc = buf_reserve(b, n + extra);
    if (rc < 0)
        return rc;
    d = b->data + b->len;
    for (size_t i = 0; i < n; i++) {
        if (strchr(escapes, s[i]))
            *d++ = '\\';
        *d++ = s[i];
    }
    b->len += n + extra;
    b->data[b->len] = '\0';
    return 0;
}

static bool is_control(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}

bool lineproto_text_clean(const char *text, size_t n)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t i = 0;

    while (i < n) {
        unsigned char c = s[i];
        size_t more;
        uint32_t cp, min;

        if (c < 0x80) {
            if (is_control(c))
                return false;
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            more = 1;
            cp = c & 0x1f;
            min = 0x80;
        } else if (c >= 0xe0 && c <= 0xef) {
            more = 2;
            cp = c & 0x0f;
            min = 0x800;
        } else if (c >= 0xf0 && c <= 0xf4) {
            more = 3;
            cp = c & 0x07;
            min = 0x10000;
        } else {
            return false;
        }
        if (n - i <= more)
            return false;
        for (size_t k = 1; k <= more; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += more + 1;
    }
    return true;
}

/* A measurement, tag key, tag value or field key that can be written and read
 * back unchanged by every reader: clean UTF-8, and a backslash only before a
 * character that is special nowhere in line protocol. */
static bool is_writable_name(const char *s)
{
    if (!s || !*s)
        return false;
    const unsigned char *u = (const unsigned char *)s;
    while (*u >= 0x20 && *u < 0x7f && *u != '\\')
        u++; /* the usual name: printable ASCII, no backslash */
    if (*u == '\0')
        return true;
    for (const char *p = s; (p = strchr(p, '\\')) != NULL; p++)
        if (p[1] == '\0' || strchr("\\,= \"", p[1]))
            return false;
    return lineproto_text_clean(s, strlen(s));
}

static bool is_writable_key(const char *s)
{
    if (!is_writable_name(s))
        return false;
    if (s[0] != 't' && s[0] != '_')
        return true; /* no reserved key starts otherwise */
    for (size_t i = 0; i < sizeof(reserved_keys) / sizeof(reserved_keys[0]); i++)
        if (strcmp(s, reserved_keys[i]) == 0)
            return false;
    return true;
}

#define LP_FIXED_DECIMALS 8
#define LP_FIXED_MAX 1e15 /* below it %.15g and %.16g write every digit, no exponent */
#define LP_FIXED_DIGITS_MAX 9007199254740992.0 /* 2^53: every integer below is a double */

/* Writes the decimal digits of m (< 2^53) with a point before the last
 * decimals ones; returns the length. */
static int put_fixed(char *out, bool neg, uint64_t m, int decimals)
{
    char digits[24];
    int n = 0, len = 0;

    do {
        digits[n++] = (char)('0' + m % 10);
        m /= 10;
    } while (m || n <= decimals);
    if (neg)
        out[len++] = '-';
    while (n > 0) {
        if (n == decimals)
            out[len++] = '.';
        out[len++] = digits[--n];
    }
    out[len] = '\0';
    return len;
}

/* a * p10 rounded to the nearest integer, ties to even, as printf rounds:
 * the product is rounded once to a double first, so the exact remainder
 * (fma) corrects the double rounding. Needs a * p10 < 2^53 - 2. */
static double scaled_digits(double a, double p10)
{
    double m = nearbyint(a * p10);
    double r = fma(a, p10, -m); /* exact for products of 16 digits */
    bool odd = ((uint64_t)m & 1) != 0;

    if (r > 0.5 || (r == 0.5 && odd))
        m += 1;
    else if (r < -0.5 || (r == -0.5 && odd))
        m -= 1;
    return m;
}

/* The common case without printf: d with at most LP_FIXED_DECIMALS decimals
 * and 16 significant digits (below 2^53), in [1e-4, 1e15) (where %.15g and
 * %.16g use no exponent). m / 10^k == d holds exactly in doubles only when
 * m/10^k is a decimal that reads back as d (IEEE division is correctly
 * rounded and 10^k is exact); with m correctly rounded, the smallest such k
 * gives what %.15g, else %.16g writes (a decimal of 15 digits or fewer that
 * reads back is the only one, so %.15g finds it too). Returns the length, or
 * 0 when d is not such a number. */
static int format_fixed(double d, char out[LP_FLOAT_MAX])
{
    static const double pow10[LP_FIXED_DECIMALS + 1] = {1e0, 1e1, 1e2, 1e3, 1e4,
                                                        1e5, 1e6, 1e7, 1e8};
    double a = fabs(d);

    if (d == 0)
        return put_fixed(out, signbit(d), 0, 0);
    if (!(a < LP_FIXED_MAX) || a < 1e-4)
        return 0;
    for (int k = 0; k <= LP_FIXED_DECIMALS; k++) {
        if (a * pow10[k] >= LP_FIXED_DIGITS_MAX - 2)
            return 0;
        double m = scaled_digits(a, pow10[k]);

        if (m / pow10[k] == a)
            return put_fixed(out, d < 0, (uint64_t)m, k);
    }
    return 0;
}

/* Writes the shortest of %.15g, %.16g and %.17g that reads back as exactly d.
 * Returns the length, or -EINVAL for a non-finite d or a locale whose decimal
 * point is not '.'. */
static int format_float(double d, char out[LP_FLOAT_MAX])
{
    static const int precisions[] = {15, 16, 17};
    int n = 0;

    if (!isfinite(d))
        return -EINVAL;
    n = format_fixed(d, out);
    if (n > 0)
        return n;
    for (size_t i = 0; i < sizeof(precisions) / sizeof(precisions[0]); i++) {
        n = snprintf(out, LP_FLOAT_MAX, "%.*g", precisions[i], d);
        if (n <= 0 || n >= LP_FLOAT_MAX)
            return -EINVAL;
        double back = strtod(out, NULL);

        if (back == d && signbit(back) == signbit(d))
            break;
    }
    if (strspn(out, "0123456789.eE+-") != (size_t)n)
        return -EINVAL;
    return n;
}

static int check_fields(const struct lp_field *fields, size_t n_fields)
{
    if (!fields || n_fields == 0)
        return -EINVAL;
    for (size_t i = 0; i < n_fields; i++) {
        const struct lp_field *f = &fields[i];

        if (!is_writable_key(f->key))
            return -EINVAL;
        switch (f->type) {
        case LP_FLOAT:
            if (!isfinite(f->f))
                return -EINVAL;
            break;
        case LP_BOOL:
            break;
        case LP_STRING:
            if (!f->s || !lineproto_text_clean(f->s, strlen(f->s)))
                return -EINVAL;
            break;
        default:
            return -EINVAL;
        }
        for (size_t j = 0; j < i; j++)
            if (fields[j].key[0] == f->key[0] && strcmp(fields[j].key, f->key) == 0)
                return -EINVAL;
    }
    return 0;
}

static bool tag_is_written(const struct lp_tag *t)
{
    return t->value && t->value[0];
}

static int check_tags(const struct lp_tag *tags, size_t n_tags)
{
    if (n_tags && !tags)
        return -EINVAL;
    for (size_t i = 0; i < n_tags; i++) {
        if (!is_writable_key(tags[i].key))
            return -EINVAL;
        if (!tag_is_written(&tags[i]))
            continue;
        if (!is_writable_name(tags[i].value))
            return -EINVAL;
        /* InfluxDB refuses a point with duplicate tags. */
        for (size_t j = 0; j < i; j++)
            if (tag_is_written(&tags[j]) && tags[j].key[0] == tags[i].key[0] &&
                strcmp(tags[j].key, tags[i].key) == 0)
                return -EINVAL;
    }
    return 0;
}

static int put_field_value(struct lp_buf *b, const struct lp_field *f)
{
    char num[LP_FLOAT_MAX];
    int n, rc;

    switch (f->type) {
    case LP_FLOAT:
        n = format_float(f->f, num);
        if (n < 0)
            return n;
        return buf_put(b, num, (size_t)n);
    case LP_BOOL:
        return f->b ? buf_put(b, "true", 4) : buf_put(b, "false", 5);
    case LP_STRING:
        rc = buf_putc(b, '"');
        if (rc == 0)
            rc = buf_put_escaped(b, f->s, string_escapes);
        if (rc == 0)
            rc = buf_putc(b, '"');
        return rc;
    }
    return -EINVAL;
}

/* Writes " <ts_ns>\n" into out; returns the length. */
static int format_timestamp(int64_t ts_ns, char out[24])
{
    char digits[20];
    uint64_t v = ts_ns < 0 ? 0 - (uint64_t)ts_ns : (uint64_t)ts_ns;
    int n = 0, len = 0;

    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    out[len++] = ' ';
    if (ts_ns < 0)
        out[len++] = '-';
    while (n > 0)
        out[len++] = digits[--n];
    out[len++] = '\n';
    return len;
}

/* Writes ",key=value" for each written tag. */
static int put_tags(struct lp_buf *b, const struct lp_tag *tags, size_t n_tags)
{
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < n_tags; i++) {
        if (!tag_is_written(&tags[i]))
            continue;
        rc = buf_putc(b, ',');
        if (rc == 0)
            rc = buf_put_escaped(b, tags[i].key, key_escapes);
        if (rc == 0)
            rc = buf_putc(b, '=');
        if (rc == 0)
            rc = buf_put_escaped(b, tags[i].value, key_escapes);
    }
    return rc;
}

/* Writes " field=value,..." and " <ts_ns>\n". */
static int put_fields(struct lp_buf *b, const struct lp_field *fields, size_t n_fields,
                      int64_t ts_ns)
{
    char ts[24];
    int n, rc = 0;

    for (size_t i = 0; rc == 0 && i < n_fields; i++) {
        rc = buf_putc(b, i == 0 ? ' ' : ',');
        if (rc == 0)
            rc = buf_put_escaped(b, fields[i].key, key_escapes);
        if (rc == 0)
            rc = buf_putc(b, '=');
        if (rc == 0)
            rc = put_field_value(b, &fields[i]);
    }
    if (rc < 0)
        return rc;
    n = format_timestamp(ts_ns, ts);
    return buf_put(b, ts, (size_t)n);
}

static bool is_writable_measurement(const char *s)
{
    return is_writable_name(s) && s[0] != '#';
}

/* Writes the point; on error b's text is left as it was. tagset is
 * lineproto_tagset()'s text, or NULL for tags. */
static int put_point(struct lp_buf *b, const char *measurement, const struct lp_tag *tags,
                     size_t n_tags, const char *tagset, size_t tagset_len,
                     const struct lp_field *fields, size_t n_fields, int64_t ts_ns)
{
    size_t old_len = b->len;
    int rc = buf_put_escaped(b, measurement, measurement_escapes);

    if (rc == 0)
        rc = tagset ? buf_put(b, tagset, tagset_len) : put_tags(b, tags, n_tags);
    if (rc == 0)
        rc = put_fields(b, fields, n_fields, ts_ns);
    if (rc < 0) {
        b->len = old_len;
        if (b->data)
            b->data[old_len] = '\0';
    }
    return rc;
}

int lineproto_append(struct lp_buf *b, const char *measurement, const struct lp_tag *tags,
                     size_t n_tags, const struct lp_field *fields, size_t n_fields, int64_t ts_ns)
{
    int rc;

    if (!b || !is_writable_measurement(measurement))
        return -EINVAL;
    rc = check_tags(tags, n_tags);
    if (rc == 0)
        rc = check_fields(fields, n_fields);
    if (rc < 0)
        return rc;
    return put_point(b, measurement, tags, n_tags, NULL, 0, fields, n_fields, ts_ns);
}

int lineproto_tagset(char *out, size_t size, const struct lp_tag *tags, size_t n_tags)
{
    if (!out || size == 0)
        return -ENOSPC;
    int rc = check_tags(tags, n_tags);
    if (rc < 0)
        return rc;
    /* A buffer over out that never grows: max keeps it within size (a max
     * of 0 would be no limit, so size 1 writes into one byte of its own). */
    char one[2];
    struct lp_buf b = {.data = size > 1 ? out : one, .cap = size > 1 ? size - 1 : 1};
    b.max = b.cap;
    out[0] = '\0';
    rc = put_tags(&b, tags, n_tags);
    if (rc == 0 && size == 1 && b.len)
        rc = -ENOSPC;
    if (rc < 0) {
        out[0] = '\0';
        return rc;
    }
    return (int)b.len;
}

int lineproto_append_tagset(struct lp_buf *b, const char *measurement, const char *tagset,
                            size_t tagset_len, const struct lp_field *fields, size_t n_fields,
                            int64_t ts_ns)
{
    int rc;

    if (!b || !tagset || !is_writable_measurement(measurement))
        return -EINVAL;
    rc = check_fields(fields, n_fields);
    if (rc < 0)
        return rc;
    return put_point(b, measurement, NULL, 0, tagset, tagset_len, fields, n_fields, ts_ns);
}

size_t lineproto_count_lines(const char *buf, size_t len)
{
    size_t n = 0;
    const char *p = buf, *end = buf + len;

    while (p < end && (p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
        n++;
        p++;
    }
    return n;
}
