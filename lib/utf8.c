#include "utf8.h"

#include <string.h>

size_t utf8_decode(const char *s, size_t n, uint32_t *cp)
{
    const unsigned char *p = (const unsigned char *)s;
    unsigned char lo = 0x80, hi = 0xbf; /* the range of the second byte */
    size_t len;
    uint32_t c;

    if (n == 0)
        return 0;
    if (p[0] < 0x80) {
        if (cp)
            *cp = p[0];
        return 1;
    }
    if (p[0] >= 0xc2 && p[0] <= 0xdf) {
        len = 2;
        c = p[0] & 0x1fu;
    } else if (p[0] >= 0xe0 && p[0] <= 0xef) {
        len = 3;
        c = p[0] & 0x0fu;
        if (p[0] == 0xe0)
            lo = 0xa0; /* overlong */
        else if (p[0] == 0xed)
            hi = 0x9f; /* surrogates */
    } else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
        len = 4;
        c = p[0] & 0x07u;
        if (p[0] == 0xf0)
            lo = 0x90; /* overlong */
        else if (p[0] == 0xf4)
            hi = 0x8f; /* beyond U+10FFFF */
    } else {
        return 0; /* a continuation byte, C0, C1, F5..FF */
    }
    if (n < len || p[1] < lo || p[1] > hi)
        return 0;
    c = (c << 6) | (p[1] & 0x3fu);
    for (size_t i = 2; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        c = (c << 6) | (p[i] & 0x3fu);
    }
    if (cp)
        *cp = c;
    return len;
}

/* The bytes at s hold no byte >= 0x80, eight at a time. */
static inline bool ascii8(const unsigned char *s)
{
    uint64_t w;
    memcpy(&w, s, sizeof(w));
    return (w & UINT64_C(0x8080808080808080)) == 0;
}

bool utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        if (n - i >= 8 && ascii8(p + i)) {
            i += 8;
            continue;
        }
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        size_t len = utf8_decode(s + i, n - i, NULL);
        if (len == 0)
            return false;
        i += len;
    }
    return true;
}

bool utf8_clean(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        unsigned char c = p[i];
        if (c < 0x80) {
            if (c < 0x20 || c == 0x7f)
                return false;
            i++;
            continue;
        }
        size_t len = utf8_decode(s + i, n - i, NULL);
        if (len == 0)
            return false;
        i += len;
    }
    return true;
}

/* A C1 control or a bidirectional formatting character. */
static bool invisible_control(uint32_t cp)
{
    return (cp >= 0x80 && cp <= 0x9f) || cp == 0x061c || cp == 0x200e || cp == 0x200f ||
           (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

bool utf8_plain_text(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint32_t cp;
        size_t len = utf8_decode(s + i, n - i, &cp);
        if (len == 0 || cp < 0x20 || cp == 0x7f || invisible_control(cp))
            return false;
        i += len;
    }
    return true;
}

size_t utf8_cut(const char *s, size_t n, size_t max)
{
    size_t i = 0;
    if (n <= max)
        return n;
    while (i < max) {
        size_t len = utf8_decode(s + i, n - i, NULL);
        if (len == 0)
            len = 1;
        if (len > max - i)
            break;
        i += len;
    }
    return i;
}

size_t utf8_copy(char *dst, size_t size, const char *src)
{
    size_t n = src ? strlen(src) : 0;
    if (n >= size)
        n = utf8_cut(src, n, size - 1);
    if (n)
        memcpy(dst, src, n);
    dst[n] = '\0';
    return n;
}
