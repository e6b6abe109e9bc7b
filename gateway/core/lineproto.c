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

#include "number.h"
#include "utf8.h"

static const char measurement_escapes[] = LP_MEASUREMENT_ESCAPES;
static const char key_escapes[] = LP_KEY_ESCAPES;
static const char string_escapes[] = LP_STRING_ESCAPES;

/* Keys InfluxDB 2.x reserves (or 1.x silently drops). */
static const char *const reserved_keys[] = {"time", "_field", "_measurement"};

/* Appends s with every character of escapes preceded by a backslash. */
static int put_escaped(struct buf *b, const char *s, const char *escapes)
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
    return utf8_clean(s, strlen(s));
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
            if (!f->s || !utf8_clean(f->s, strlen(f->s)))
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

static int put_field_value(struct buf *b, const struct lp_field *f)
{
    char num[NUMBER_TEXT_MAX];
    int n, rc;

    switch (f->type) {
    case LP_FLOAT:
        n = number_format(f->f, num);
        if (n < 0)
            return n;
        return buf_put(b, num, (size_t)n);
    case LP_BOOL:
        return f->b ? buf_put(b, "true", 4) : buf_put(b, "false", 5);
    case LP_STRING:
        rc = buf_putc(b, '"');
        if (rc == 0)
            rc = put_escaped(b, f->s, string_escapes);
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
static int put_tags(struct buf *b, const struct lp_tag *tags, size_t n_tags)
{
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < n_tags; i++) {
        if (!tag_is_written(&tags[i]))
            continue;
        rc = buf_putc(b, ',');
        if (rc == 0)
            rc = put_escaped(b, tags[i].key, key_escapes);
        if (rc == 0)
            rc = buf_putc(b, '=');
        if (rc == 0)
            rc = put_escaped(b, tags[i].value, key_escapes);
    }
    return rc;
}

/* Writes " field=value,..." and " <ts_ns>\n". */
static int put_fields(struct buf *b, const struct lp_field *fields, size_t n_fields, int64_t ts_ns)
{
    char ts[24];
    int n, rc = 0;

    for (size_t i = 0; rc == 0 && i < n_fields; i++) {
        rc = buf_putc(b, i == 0 ? ' ' : ',');
        if (rc == 0)
            rc = put_escaped(b, fields[i].key, key_escapes);
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
static int put_point(struct buf *b, const char *measurement, const struct lp_tag *tags,
                     size_t n_tags, const char *tagset, size_t tagset_len,
                     const struct lp_field *fields, size_t n_fields, int64_t ts_ns)
{
    size_t old_len = b->len;
    int rc = put_escaped(b, measurement, measurement_escapes);

    if (rc == 0)
        rc = tagset ? buf_put(b, tagset, tagset_len) : put_tags(b, tags, n_tags);
    if (rc == 0)
        rc = put_fields(b, fields, n_fields, ts_ns);
    if (rc < 0)
        buf_truncate(b, old_len);
    return rc;
}

int lineproto_append(struct buf *b, const char *measurement, const struct lp_tag *tags,
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
    struct buf b;
    buf_init_fixed(&b, out, size);
    rc = put_tags(&b, tags, n_tags);
    if (rc < 0) {
        out[0] = '\0';
        return rc;
    }
    return (int)b.len;
}

int lineproto_append_tagset(struct buf *b, const char *measurement, const char *tagset,
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
