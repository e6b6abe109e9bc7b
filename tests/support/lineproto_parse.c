/* InfluxDB line protocol: the parser, for the tests' oracle (every line the
 * encoder writes must parse back to the same point) and the bench. It reads
 * the subset lineproto.c writes, plus integer fields. */
#include "lineproto_parse.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

struct lp_scan {
    const char *s;
    size_t len;
    size_t pos;
    char *out; /* next free byte of the point's storage */
};

static bool scan_at_end(const struct lp_scan *sc)
{
    return sc->pos >= sc->len;
}

static char scan_peek(const struct lp_scan *sc)
{
    return scan_at_end(sc) ? '\0' : sc->s[sc->pos];
}

/* Reads a name up to the first unescaped character of stops, unescaping the
 * characters of escapes, into the storage. Returns it NUL-terminated, or NULL
 * when it is empty or not clean UTF-8. */
static char *scan_name(struct lp_scan *sc, const char *escapes, const char *stops)
{
    char *start = sc->out;
    char *d = sc->out;

    while (!scan_at_end(sc)) {
        char c = sc->s[sc->pos];

        if (c == '\\' && sc->pos + 1 < sc->len && strchr(escapes, sc->s[sc->pos + 1])) {
            *d++ = sc->s[sc->pos + 1];
            sc->pos += 2;
            continue;
        }
        if (strchr(stops, c))
            break;
        *d++ = c;
        sc->pos++;
    }
    if (d == start || !utf8_clean(start, (size_t)(d - start)))
        return NULL;
    *d++ = '\0';
    sc->out = d;
    return start;
}

/* Reads a quoted string field value (the opening quote already taken). */
static char *scan_string(struct lp_scan *sc)
{
    char *start = sc->out;
    char *d = sc->out;

    for (;;) {
        char c;

        if (scan_at_end(sc))
            return NULL;
        c = sc->s[sc->pos];
        if (c == '"')
            break;
        if (c == '\\' && sc->pos + 1 < sc->len && strchr(LP_STRING_ESCAPES, sc->s[sc->pos + 1])) {
            *d++ = sc->s[sc->pos + 1];
            sc->pos += 2;
            continue;
        }
        *d++ = c;
        sc->pos++;
    }
    sc->pos++; /* closing quote */
    if (!utf8_clean(start, (size_t)(d - start)))
        return NULL;
    *d++ = '\0';
    sc->out = d;
    return start;
}

static bool all_digits(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

/* [-]digits as an int64; false on syntax error or overflow. */
static bool parse_int64(const char *s, size_t n, int64_t *out)
{
    bool neg = n > 0 && s[0] == '-';
    uint64_t v = 0, limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;

    if (neg) {
        s++;
        n--;
    }
    if (!all_digits(s, n))
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned dig = (unsigned)(s[i] - '0');

        if (v > (limit - dig) / 10)
            return false;
        v = v * 10 + dig;
    }
    *out = neg ? (v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v) : (int64_t)v;
    return true;
}

/* The float grammar of line protocol: [-] (digits [. [digits]] | . digits)
 * [(e|E) [+|-] digits]. */
static bool is_float_syntax(const char *s, size_t n)
{
    size_t i = 0, int_digits = 0, frac_digits = 0;

    if (i < n && s[i] == '-')
        i++;
    while (i < n && s[i] >= '0' && s[i] <= '9')
        i++, int_digits++;
    if (i < n && s[i] == '.') {
        i++;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++, frac_digits++;
    }
    if (int_digits + frac_digits == 0)
        return false;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        size_t exp_digits = 0;

        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++, exp_digits++;
        if (exp_digits == 0)
            return false;
    }
    return i == n;
}

/* An unquoted field value: a bool, an integer (12i, 12u) or a float. */
static int parse_bare_value(const char *v, size_t n, struct lp_field *f, char *scratch)
{
    static const struct {
        const char *text;
        bool value;
    } bools[] = {
        {"t", true},  {"T", true},  {"true", true},   {"True", true},   {"TRUE", true},
        {"f", false}, {"F", false}, {"false", false}, {"False", false}, {"FALSE", false},
    };
    int64_t i64;

    for (size_t k = 0; k < sizeof(bools) / sizeof(bools[0]); k++) {
        if (strlen(bools[k].text) == n && memcmp(v, bools[k].text, n) == 0) {
            f->type = LP_BOOL;
            f->b = bools[k].value;
            return 0;
        }
    }
    /* Integers: "12i", and unsigned "12u" (up to INT64_MAX). */
    if (n >= 2 && (v[n - 1] == 'i' || v[n - 1] == 'u')) {
        if ((v[n - 1] == 'u' && v[0] == '-') || !parse_int64(v, n - 1, &i64))
            return -EINVAL;
        f->type = LP_FLOAT;
        f->f = (double)i64;
        return 0;
    }
    if (!is_float_syntax(v, n))
        return -EINVAL;
    /* strtod needs a terminated copy; the storage has room for it. */
    memcpy(scratch, v, n);
    scratch[n] = '\0';
    f->type = LP_FLOAT;
    f->f = strtod(scratch, NULL);
    return isfinite(f->f) ? 0 : -EINVAL;
}

static int scan_field(struct lp_scan *sc, struct lp_field *f)
{
    size_t start;

    memset(f, 0, sizeof(*f));
    f->key = scan_name(sc, LP_KEY_ESCAPES, ",= ");
    if (!f->key || scan_peek(sc) != '=')
        return -EINVAL;
    sc->pos++;
    if (scan_peek(sc) == '"') {
        sc->pos++;
        f->type = LP_STRING;
        f->s = scan_string(sc);
        return f->s ? 0 : -EINVAL;
    }
    start = sc->pos;
    while (!scan_at_end(sc) && sc->s[sc->pos] != ',' && sc->s[sc->pos] != ' ')
        sc->pos++;
    return parse_bare_value(sc->s + start, sc->pos - start, f, sc->out);
}

static void skip_spaces(struct lp_scan *sc)
{
    while (scan_peek(sc) == ' ')
        sc->pos++;
}

static int scan_point(struct lp_scan *sc, struct lp_point *p)
{
    const size_t max_tags = sizeof(p->tags) / sizeof(p->tags[0]);
    const size_t max_fields = sizeof(p->fields) / sizeof(p->fields[0]);
    size_t ts_start;

    skip_spaces(sc);
    if (scan_peek(sc) == '#')
        return -EINVAL; /* a comment, not a point */
    p->measurement = scan_name(sc, LP_MEASUREMENT_ESCAPES, ", ");
    if (!p->measurement)
        return -EINVAL;
    while (scan_peek(sc) == ',') {
        struct lp_tag *t;

        if (p->n_tags == max_tags)
            return -EINVAL;
        sc->pos++;
        t = &p->tags[p->n_tags++];
        t->key = scan_name(sc, LP_KEY_ESCAPES, ",= ");
        if (!t->key || scan_peek(sc) != '=')
            return -EINVAL;
        sc->pos++;
        t->value = scan_name(sc, LP_KEY_ESCAPES, ",= ");
        if (!t->value || scan_peek(sc) == '=')
            return -EINVAL;
    }
    if (scan_peek(sc) != ' ')
        return -EINVAL;
    skip_spaces(sc);
    do {
        if (p->n_fields == max_fields)
            return -EINVAL;
        if (p->n_fields > 0)
            sc->pos++; /* the comma */
        if (scan_field(sc, &p->fields[p->n_fields++]) < 0)
            return -EINVAL;
    } while (scan_peek(sc) == ',');
    skip_spaces(sc);
    if (scan_at_end(sc))
        return 0;
    ts_start = sc->pos;
    while (!scan_at_end(sc) && sc->s[sc->pos] != ' ')
        sc->pos++;
    if (!parse_int64(sc->s + ts_start, sc->pos - ts_start, &p->ts_ns))
        return -EINVAL;
    p->has_ts = true;
    skip_spaces(sc);
    return scan_at_end(sc) ? 0 : -EINVAL;
}

int lineproto_parse(const char *line, size_t len, struct lp_point *out)
{
    struct lp_scan sc = {.s = line, .len = len, .pos = 0};
    int rc;

    memset(out, 0, sizeof(*out));
    if (!line || memchr(line, '\n', len) || memchr(line, '\r', len))
        return -EINVAL;
    /* Unescaping only shrinks text; each name gets a NUL, and the last bare
     * value a terminated copy for strtod. */
    if (len > SIZE_MAX / 2 - 8)
        return -EINVAL;
    out->storage = malloc(2 * len + 8);
    if (!out->storage)
        return -ENOMEM;
    sc.out = out->storage;
    rc = scan_point(&sc, out);
    if (rc < 0)
        lineproto_point_free(out);
    return rc;
}

void lineproto_point_free(struct lp_point *p)
{
    if (!p)
        return;
    free(p->storage);
    memset(p, 0, sizeof(*p));
}
