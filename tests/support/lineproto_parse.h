/* Test support: a line-protocol parser, the oracle the encoder of
 * gateway/core/lineproto.c is checked against by the unit tests and the
 * fuzzers (every encoded line parses back to the same point). It reads the
 * subset the encoder writes, plus integer fields. */
#ifndef HALLGW_LINEPROTO_PARSE_H
#define HALLGW_LINEPROTO_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lineproto.h"

/* A parsed point; strings point into storage owned by the struct. */
struct lp_point {
    char *measurement;
    size_t n_tags, n_fields;
    struct lp_tag tags[32];
    struct lp_field fields[128]; /* an event: 64 metrics and its type */
    int64_t ts_ns;
    bool has_ts;
    char *storage; /* private */
};

/* Parses one line (without its '\n') of len bytes. Returns 0, -EINVAL (also
 * for more than 32 tags or 128 fields, control characters or invalid UTF-8) or
 * -ENOMEM. Free with lineproto_point_free(), also after an error. Supports the
 * subset the encoder writes plus integer ("12i", "12u") fields, read as
 * LP_FLOAT. */
int lineproto_parse(const char *line, size_t len, struct lp_point *out);
void lineproto_point_free(struct lp_point *p);

#endif
