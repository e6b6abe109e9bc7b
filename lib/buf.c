#include "buf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define BUF_FIRST_CAP 256

void buf_init(struct buf *b, size_t max)
{
    *b = (struct buf){.max = max};
}

void buf_init_on(struct buf *b, char *storage, size_t size, size_t max)
{
    *b = (struct buf){
        .data = storage, .cap = size - 1, .max = max, .own = storage, .own_cap = size - 1};
    storage[0] = '\0';
}

void buf_init_fixed(struct buf *b, char *storage, size_t size)
{
    buf_init_on(b, storage, size, size - 1);
    b->fixed = true;
}

void buf_free(struct buf *b)
{
    if (!b)
        return;
    if (b->data != b->own)
        free(b->data);
    if (b->fixed) {
        buf_reset(b);
        return;
    }
    *b = (struct buf){.max = b->max};
}

void buf_reset(struct buf *b)
{
    b->len = 0;
    b->err = 0;
    if (b->data)
        b->data[0] = '\0';
}

void buf_truncate(struct buf *b, size_t len)
{
    if (len < b->len) {
        b->len = len;
        b->data[len] = '\0';
    }
    b->err = 0;
}

static int fail(struct buf *b, int err)
{
    if (!b->err)
        b->err = err;
    return b->err;
}

int buf_grow_(struct buf *b, size_t n)
{
    if (b->err)
        return b->err;
    if (n > SIZE_MAX / 2 - b->len || (b->max && n > b->max - b->len))
        return fail(b, -ENOSPC);
    size_t need = b->len + n;
    if (b->data && need <= b->cap)
        return 0;
    if (b->fixed)
        return fail(b, -ENOSPC);
    size_t cap = b->cap > BUF_FIRST_CAP / 2 ? b->cap * 2 : BUF_FIRST_CAP;
    while (cap < need)
        cap *= 2;
    if (b->max && cap > b->max)
        cap = b->max;
    char *p;
    if (b->data == b->own) {
        p = malloc(cap + 1);
        if (p && b->data)
            memcpy(p, b->data, b->len + 1);
    } else {
        p = realloc(b->data, cap + 1);
    }
    if (!p)
        return fail(b, -ENOMEM);
    if (!b->data)
        p[0] = '\0';
    b->data = p;
    b->cap = cap;
    return 0;
}

int buf_puts(struct buf *b, const char *s)
{
    return buf_put(b, s, strlen(s));
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    char tmp[256];

    if (b->err)
        return b->err;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0)
        return fail(b, -EINVAL);
    if ((size_t)n < sizeof(tmp))
        return buf_put(b, tmp, (size_t)n);
    int rc = buf_reserve(b, (size_t)n);
    if (rc < 0)
        return rc;
    va_start(ap, fmt);
    (void)vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

char *buf_steal(struct buf *b, size_t *len)
{
    char *s;
    if (!b->err && !b->data)
        (void)buf_reserve(b, 0);
    if (b->err) {
        errno = -b->err;
        buf_free(b);
        buf_reset(b);
        return NULL;
    }
    if (b->data == b->own) {
        s = malloc(b->len + 1);
        if (!s) {
            errno = ENOMEM;
            return NULL;
        }
        memcpy(s, b->data, b->len + 1);
    } else {
        s = b->data;
        b->data = NULL;
        b->cap = 0;
    }
    if (len)
        *len = b->len;
    if (b->own) {
        b->data = b->own;
        b->cap = b->own_cap;
    }
    buf_reset(b);
    return s;
}
