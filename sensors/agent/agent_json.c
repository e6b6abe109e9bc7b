/* hallgw-agent's JSON writer (see agent_json.h). */
#include "agent_json.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "utf8.h"

static void put(struct agent_json *j, const char *s, size_t n)
{
    if (j->overflow || j->len + n + 2 > sizeof(j->buf)) { /* room for "}" and the NUL */
        j->overflow = true;
        return;
    }
    memcpy(j->buf + j->len, s, n);
    j->len += n;
    j->buf[j->len] = '\0';
}

static size_t utf8_len(unsigned char c)
{
    return c < 0x80             ? 1
           : (c & 0xe0) == 0xc0 ? 2
           : (c & 0xf0) == 0xe0 ? 3
           : (c & 0xf8) == 0xf0 ? 4
                                : 0;
}

static void put_string(struct agent_json *j, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    char esc[8];

    put(j, "\"", 1);
    while (*p) {
        size_t n = utf8_len(*p);
        if (*p == '"' || *p == '\\') {
            esc[0] = '\\';
            esc[1] = (char)*p;
            put(j, esc, 2);
            p++;
        } else if (*p < 0x20 || *p == 0x7f) {
            (void)snprintf(esc, sizeof(esc), "\\u%04x", *p);
            put(j, esc, 6);
            p++;
        } else if (n == 0 || strnlen((const char *)p, n) < n || !utf8_valid((const char *)p, n)) {
            put(j, "\\ufffd", 6);
            p++;
        } else {
            put(j, (const char *)p, n);
            p += n;
        }
    }
    put(j, "\"", 1);
}

static void put_key(struct agent_json *j, const char *key)
{
    if (!j->first)
        put(j, ",", 1);
    j->first = false;
    put_string(j, key);
    put(j, ":", 1);
}

void agent_json_begin(struct agent_json *j)
{
    j->len = 0;
    j->first = true;
    j->overflow = false;
    put(j, "{", 1);
}

void agent_json_str(struct agent_json *j, const char *key, const char *v)
{
    put_key(j, key);
    put_string(j, v ? v : "");
}

void agent_json_int(struct agent_json *j, const char *key, long long v)
{
    char num[32];
    int n = snprintf(num, sizeof(num), "%lld", v);
    put_key(j, key);
    put(j, num, (size_t)n);
}

void agent_json_num(struct agent_json *j, const char *key, double v, int decimals)
{
    char num[64];
    int n = isfinite(v) ? snprintf(num, sizeof(num), "%.*f", decimals, v)
                        : snprintf(num, sizeof(num), "null");
    put_key(j, key);
    put(j, num, (size_t)n);
}

void agent_json_bool(struct agent_json *j, const char *key, bool v)
{
    put_key(j, key);
    put(j, v ? "true" : "false", v ? 4 : 5);
}

const char *agent_json_end(struct agent_json *j)
{
    if (j->overflow)
        return NULL;
    j->buf[j->len++] = '}';
    j->buf[j->len] = '\0';
    return j->buf;
}
