/* What the decoders of the off-the-shelf formats share (decode_z2m.c,
 * decode_tasmota.c, decode_shelly.c, decode_shelly1.c; the helpers are in
 * decode_foreign.c).
 * Private to the decode module: nothing else includes it.
 *
 * Rules shared by the formats:
 * - A named key is written once, under its native name only. When two source
 *   keys name the same metric, the first in the payload wins.
 * - A null value of a named key is ignored: devices report null for "not
 *   measured yet", and it is never stored as 0 or false. A value of the
 *   wrong type is dropped and counted.
 * - A named numeric key takes a JSON number or a string holding exactly one
 *   in JSON number syntax ("100.00"; not " 7", "7 W", "0x10" or "1e999").
 * - An array of readings ([1.2, 3.4]) gives one metric per item, the native
 *   name with "_<i>" appended (energy_kwh_0, energy_kwh_1); at most
 *   DECODE_MAX_ITEMS items per array, the rest dropped and counted.
 * - Strings, nulls and arrays the format carries for itself are ignored and
 *   not counted; a passed-through key that is not a valid metric key, or that
 *   would overwrite a metric already decoded, is dropped and counted. */
#ifndef HALLGW_DECODE_FOREIGN_H
#define HALLGW_DECODE_FOREIGN_H

#include <stdbool.h>
#include <stddef.h>

#include "decode.h"

#define DECODE_MAX_ITEMS 16

enum decode_conv {
    DECODE_NUMBER, /* a JSON number, or a string holding one */
    DECODE_BOOL,   /* a JSON boolean */
    DECODE_ONOFF,  /* the string "ON" or "OFF", as a boolean */
};

enum decode_named { DECODE_ADDED, DECODE_TAKEN, DECODE_IGNORED, DECODE_REFUSED };

struct decode_key_map {
    const char *from;
    const char *to;
    enum decode_conv conv;
};

/* Resets out for r and clears *why (may be NULL). */
void decode_begin(const struct route *r, struct reading *out, enum json_reject *why);

/* decode_parse() with the arrays of readings kept as items (DECODE_MAX_ITEMS). */
enum decode_result decode_parse_items(const char *payload, size_t len,
                                      const struct json_limits *lim, struct json_flat *flat,
                                      enum json_reject *why);

/* True when f is the string word. */
bool decode_str_is(const struct json_field *f, const char *word);

/* The number a string holds when it is exactly JSON number syntax
 * (-?digits[.digits][(e|E)[+-]digits], no space) and finite: 0 and *v set,
 * else -EINVAL. */
int decode_number_text(const char *s, size_t len, double *v);

/* The number f holds: a JSON number, or a string decode_number_text()
 * takes. 0 and *v set, else -EINVAL. */
int decode_field_number(const struct json_field *f, double *v);

/* Writes f under the native name to, converted per conv; an array item gets
 * "_<item>" appended to to. scale multiplies numbers (1 for none). */
enum decode_named decode_add_named(struct reading *out, const char *to, enum decode_conv conv,
                                   double scale, const struct json_field *f);

/* Passes a number or boolean through under key; ignores other types. */
void decode_pass_through(struct reading *out, const char *key, const struct json_field *f);

/* The key of f without the "_<item>" of an array item, into buf (cap bytes);
 * NULL when it does not fit. */
const char *decode_item_base(const struct json_field *f, char *buf, size_t cap);

const struct decode_key_map *decode_map_find(const struct decode_key_map *m, size_t n,
                                             const char *from);

/* DECODE_OK when out has a metric, else DECODE_EMPTY. */
enum decode_result decode_telemetry_result(const struct reading *out);

#endif
