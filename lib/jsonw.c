#include "jsonw.h"

#include <stdio.h>
#include <string.h>

#include "number.h"
#include "utf8.h"

/* Bytes a JSON string may carry as they are: printable ASCII but '"' and
 * '\'. Every byte >= 0x80 goes through the UTF-8 check. */
static inline bool plain(unsigned char c)
{
    return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
}

int jsonw_escape(struct buf *b, const char *s, size_t n)
{
    static const char short_esc[0x20] = {
        ['\b'] = 'b', ['\t'] = 't', ['\n'] = 'n', ['\f'] = 'f', ['\r'] = 'r'};
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    char esc[8];

    while (i < n && !b->err) {
        size_t run = i;
        while (run < n && plain(p[run]))
            run++;
        if (run > i) {
            buf_put(b, s + i, run - i);
            i = run;
            continue;
        }
        unsigned char c = p[i];
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            buf_put(b, esc, 2);
            i++;
        } else if (c < 0x20 && short_esc[c]) {
            esc[0] = '\\';
            esc[1] = short_esc[c];
            buf_put(b, esc, 2);
            i++;
        } else if (c < 0x80) { /* other control characters, DEL */
            (void)snprintf(esc, sizeof(esc), "\\u%04x", c);
            buf_put(b, esc, 6);
            i++;
        } else {
            uint32_t cp;
            size_t len = utf8_decode(s + i, n - i, &cp);
            if (len == 0) {
                buf_put(b, "\\ufffd", 6);
                i++;
            } else if (cp == 0x2028 || cp == 0x2029) {
                (void)snprintf(esc, sizeof(esc), "\\u%04x", (unsigned)cp);
                buf_put(b, esc, 6);
                i += len;
            } else {
                buf_put(b, s + i, len);
                i += len;
            }
        }
    }
    return b->err;
}

int jsonw_string(struct buf *b, const char *s, size_t n)
{
    buf_putc(b, '"');
    jsonw_escape(b, s, n);
    return buf_putc(b, '"');
}

int jsonw_str(struct buf *b, const char *s)
{
    return jsonw_string(b, s ? s : "", s ? strlen(s) : 0);
}

int jsonw_number(struct buf *b, double v)
{
    char num[NUMBER_TEXT_MAX];
    int n = number_format(v, num);
    return n < 0 ? buf_put(b, "null", 4) : buf_put(b, num, (size_t)n);
}

int jsonw_int(struct buf *b, long long v)
{
    return buf_printf(b, "%lld", v);
}

int jsonw_bool(struct buf *b, bool v)
{
    return v ? buf_put(b, "true", 4) : buf_put(b, "false", 5);
}

int jsonw_null(struct buf *b)
{
    return buf_put(b, "null", 4);
}

int jsonw_next(struct buf *b)
{
    if (b->len && b->data[b->len - 1] != '{' && b->data[b->len - 1] != '[')
        return buf_putc(b, ',');
    return b->err;
}

int jsonw_key(struct buf *b, const char *key)
{
    jsonw_next(b);
    jsonw_str(b, key);
    return buf_putc(b, ':');
}

int jsonw_member_str(struct buf *b, const char *key, const char *v)
{
    jsonw_key(b, key);
    return jsonw_str(b, v);
}

int jsonw_member_number(struct buf *b, const char *key, double v)
{
    jsonw_key(b, key);
    return jsonw_number(b, v);
}

int jsonw_member_int(struct buf *b, const char *key, long long v)
{
    jsonw_key(b, key);
    return jsonw_int(b, v);
}

int jsonw_member_bool(struct buf *b, const char *key, bool v)
{
    jsonw_key(b, key);
    return jsonw_bool(b, v);
}
