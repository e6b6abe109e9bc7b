/* A growable byte buffer with a cap: the one text and byte buffer of the
 * project (line protocol batches, JSON, e-mails, reports, the parser's
 * scratch).
 *
 * A buffer lives on the heap, or starts in storage of the caller's (a stack
 * array, so that short work allocates nothing) and moves to the heap when it
 * outgrows it, or stays in such storage for good (buf_init_fixed). After
 * anything was put, data[len] is a NUL, so text can be used as a string.
 *
 * The first failure is kept in err, and from then on nothing more is put:
 * a writer may append piece after piece and check once at the end. Every
 * function that appends also returns 0 or that failure. */
#ifndef HALLGW_BUF_H
#define HALLGW_BUF_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

struct buf {
    char *data; /* NULL until something is put (heap buffers) */
    size_t len;
    size_t cap;     /* bytes data can hold, the NUL not counted */
    size_t max;     /* len never passes it; 0: no limit */
    int err;        /* 0, or the first failure: -ENOSPC (over max) or -ENOMEM */
    char *own;      /* the caller's storage it started in, or NULL */
    size_t own_cap; /* bytes own holds, the NUL not counted */
    bool fixed;     /* never leaves own */
};

/* An empty heap buffer of at most max bytes (0: no limit). */
void buf_init(struct buf *b, size_t max);

/* An empty buffer in storage (size >= 1 bytes, the NUL included), which moves
 * to the heap when more is put than storage holds; at most max bytes (0: no
 * limit). storage must outlive the buffer's use of it. */
void buf_init_on(struct buf *b, char *storage, size_t size, size_t max);

/* An empty buffer that stays in storage: at most size - 1 bytes, then
 * -ENOSPC. */
void buf_init_fixed(struct buf *b, char *storage, size_t size);

/* Frees the heap memory (never the caller's storage). The buffer is then
 * empty, as after buf_init() with the same max. NULL does nothing. */
void buf_free(struct buf *b);

/* Empties the buffer and clears err; keeps its memory. */
void buf_reset(struct buf *b);

/* Cuts the text back to len bytes (len <= b->len) and clears err: how a
 * writer undoes a piece that failed half-way. */
void buf_truncate(struct buf *b, size_t len);

/* Room for n more bytes (and the NUL). */
int buf_grow_(struct buf *b, size_t n); /* buf_reserve()'s slow path */
static inline int buf_reserve(struct buf *b, size_t n)
{
    if (!b->err && b->data && n <= b->cap - b->len && (!b->max || n <= b->max - b->len))
        return 0;
    return buf_grow_(b, n);
}

static inline int buf_put(struct buf *b, const void *s, size_t n)
{
    int rc = buf_reserve(b, n);
    if (rc < 0)
        return rc;
    if (n)
        memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

static inline int buf_putc(struct buf *b, char c)
{
    int rc = buf_reserve(b, 1);
    if (rc < 0)
        return rc;
    b->data[b->len++] = c;
    b->data[b->len] = '\0';
    return 0;
}

/* Appends n bytes for the caller to fill (an element of an array kept in
 * the buffer, say) and returns where they start; NULL on failure. */
static inline void *buf_alloc(struct buf *b, size_t n)
{
    if (buf_reserve(b, n) < 0)
        return NULL;
    char *p = b->data + b->len;
    b->len += n;
    b->data[b->len] = '\0';
    return p;
}

int buf_puts(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The text as a malloc'd NUL-terminated string (the buffer's own memory when
 * it is on the heap), its length in *len when len is not NULL; the buffer is
 * left empty. NULL, with errno set from err, when something failed (the text
 * is then freed) or out of memory. */
char *buf_steal(struct buf *b, size_t *len);

#endif
