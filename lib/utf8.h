/* UTF-8 (pure): the one validator and decoder of the project.
 *
 * Valid means RFC 3629 exactly: shortest forms only, no UTF-16 surrogates
 * (U+D800..U+DFFF), nothing beyond U+10FFFF. */
#ifndef HALLGW_UTF8_H
#define HALLGW_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The length (1 to 4) of the valid sequence at s, of which n bytes may be
 * read, and its code point in *cp (when cp is not NULL); 0 when the bytes
 * there are not a valid sequence (a continuation byte, an overlong form, a
 * surrogate, beyond U+10FFFF, cut short by n) or n is 0. A NUL byte is the
 * valid sequence U+0000. */
size_t utf8_decode(const char *s, size_t n, uint32_t *cp);

/* True when the n bytes are valid UTF-8. */
bool utf8_valid(const char *s, size_t n);

/* True when the n bytes are valid UTF-8 without control characters
 * (U+0000..U+001F, U+007F): text that line protocol, a log line or a
 * terminal carries unchanged. */
bool utf8_clean(const char *s, size_t n);

/* True when the n bytes are text a person may write into the record (who
 * acknowledged, a handling note, an override's reason): valid UTF-8 without
 * C0 controls (U+0000..U+001F, tab and line breaks included), DEL, C1
 * controls (U+0080..U+009F) or the invisible bidirectional controls
 * (U+061C, U+200E, U+200F, U+202A..U+202E, U+2066..U+2069) that make a log
 * line, a report or a terminal show something other than what is stored. */
bool utf8_plain_text(const char *s, size_t n);

/* The length of the longest prefix of s (n bytes) that has at most max bytes
 * and does not end inside a valid sequence: where to cut text that must not
 * be left with half a character. Invalid bytes count as one character each. */
size_t utf8_cut(const char *s, size_t n, size_t max);

/* Copies src into dst (size >= 1 bytes), always NUL-terminated; when src
 * does not fit it is cut with utf8_cut(), never leaving half a character.
 * NULL copies as "". Returns the bytes copied. */
size_t utf8_copy(char *dst, size_t size, const char *src);

#endif
