/* Writing JSON (pure): the one JSON string escaper and writer of the
 * project, into a struct buf.
 *
 * Strings: '"' and '\' are escaped, \b \t \n \f \r written as such, other
 * control characters, DEL, U+2028 and U+2029 (which end a line in
 * JavaScript) as \uXXXX; valid UTF-8 is passed through as it is, and every
 * byte that is not part of valid UTF-8 becomes \ufffd. So any bytes make
 * valid JSON, and valid text reads back unchanged.
 *
 * Numbers: the shortest decimal that reads back as the same double
 * (number.h); JSON has no NaN or infinity, so those are written null.
 *
 * Members: jsonw_key() writes the comma a member needs by looking at the
 * byte before it, so objects are written without a state of their own:
 *   buf_putc(b, '{'); jsonw_member_str(b, "id", id); ... buf_putc(b, '}');
 *
 * Every function returns 0 or the buffer's failure (buf.h). */
#ifndef HALLGW_JSONW_H
#define HALLGW_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* s (n bytes) as a JSON string, quotes included. */
int jsonw_string(struct buf *b, const char *s, size_t n);

/* A NUL-terminated s as a JSON string; NULL is written as "". */
int jsonw_str(struct buf *b, const char *s);

/* s (n bytes) escaped as inside a JSON string, without the quotes: for text
 * put into a string that a template opened. */
int jsonw_escape(struct buf *b, const char *s, size_t n);

int jsonw_number(struct buf *b, double v);
int jsonw_int(struct buf *b, long long v);
int jsonw_bool(struct buf *b, bool v);
int jsonw_null(struct buf *b);

/* "key": after '{' or '[', else ,"key": (key is escaped like any string). */
int jsonw_key(struct buf *b, const char *key);

/* The comma before an array element (nothing after '['). */
int jsonw_next(struct buf *b);

/* One member, "key":value, with the comma jsonw_key() writes. */
int jsonw_member_str(struct buf *b, const char *key, const char *v); /* NULL: "" */
int jsonw_member_number(struct buf *b, const char *key, double v);
int jsonw_member_int(struct buf *b, const char *key, long long v);
int jsonw_member_bool(struct buf *b, const char *key, bool v);

#endif
