/* Decimal numbers (pure): the one reader and writer of doubles as text, for
 * JSON and line protocol, exact both ways and without printf or strtod in
 * the common cases.
 *
 * Independent of the locale: the decimal point is always '.'. */
#ifndef HALLGW_NUMBER_H
#define HALLGW_NUMBER_H

#include <stddef.h>

#define NUMBER_TEXT_MAX 32 /* number_format()'s output of any finite double, NUL included */

/* Writes the shortest of %.15g, %.16g and %.17g that reads back as exactly d
 * (the sign of a zero kept) into out, NUL-terminated. Returns the length, or
 * -EINVAL when d is not finite. */
int number_format(double d, char out[NUMBER_TEXT_MAX]);

/* The double nearest to s (len bytes in JSON number syntax, which the caller
 * has checked: -?digits[.digits][(e|E)[+-]digits]), correctly rounded. NAN
 * when out of memory. */
double number_parse(const char *s, size_t len);

#endif
