/* InfluxDB line protocol (pure): an encoder with exact escaping.
 *
 *   measurement,tag=v,tag=v field=1.5,flag=true,note="a \"b\"" 1764150000000000000
 *
 * Escaping (InfluxDB line protocol reference): measurement: comma and space;
 * tag keys, tag values, field keys: comma, equals sign and space; string field
 * values: double quote and backslash. Newlines (\n, \r) and other control
 * characters can not be escaped in line protocol at all, so they are refused.
 * Other backslashes are written as they are, so in names and tag values a
 * backslash is only accepted before an ordinary character ("C:\dir"): at the
 * end, or before a comma, space, equals sign, double quote or backslash,
 * InfluxDB's readers disagree on it, and it is refused.
 * Numbers are always written as floats (never "i"), so a field's type never
 * changes between 21 and 21.5: the shortest of %.15g/%.16g/%.17g that reads
 * back as the same double. The parser the tests and fuzzers check the encoder
 * against is tests/support/lineproto_parse.c. */
#ifndef HALLGW_LINEPROTO_H
#define HALLGW_LINEPROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

enum lp_field_type { LP_FLOAT, LP_BOOL, LP_STRING };

struct lp_tag {
    const char *key;
    const char *value;
};

struct lp_field {
    const char *key;
    enum lp_field_type type;
    double f;
    bool b;
    const char *s; /* NUL-terminated UTF-8 */
};

/* Appends one point and its terminating '\n' to b. Tags with an empty value
 * are left out (line protocol has no empty tag values). Returns 0, -EINVAL
 * when a name or value can not be written (empty measurement or key, control
 * characters, invalid UTF-8, a backslash last or before a special character, a
 * measurement starting with '#', a key named "time", "_field" or
 * "_measurement", duplicate tag or field keys, no fields, non-finite float),
 * -ENOSPC when b would pass max, or -ENOMEM. On error b's text is left
 * exactly as it was. */
int lineproto_append(struct buf *b, const char *measurement, const struct lp_tag *tags,
                     size_t n_tags, const struct lp_field *fields, size_t n_fields, int64_t ts_ns);

/* The tags of points written many times, encoded once: ",key=value" for
 * each tag lineproto_append() would write, checked and escaped as it does,
 * into out (size bytes, NUL-terminated). Returns the length (0 for no tag
 * written), -EINVAL for a tag lineproto_append() refuses, or -ENOSPC when
 * it does not fit. */
int lineproto_tagset(char *out, size_t size, const struct lp_tag *tags, size_t n_tags);

/* lineproto_append() with tags given as lineproto_tagset()'s text: the same
 * point, the same checks of the measurement and the fields. */
int lineproto_append_tagset(struct buf *b, const char *measurement, const char *tagset,
                            size_t tagset_len, const struct lp_field *fields, size_t n_fields,
                            int64_t ts_ns);

/* Characters each element escapes with a backslash. */
#define LP_MEASUREMENT_ESCAPES ", "
#define LP_KEY_ESCAPES ",= " /* tag keys, tag values, field keys */
#define LP_STRING_ESCAPES "\"\\"

/* Number of '\n'-terminated lines (points) in buf. */
size_t lineproto_count_lines(const char *buf, size_t len);

#endif
