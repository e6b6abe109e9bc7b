/* Support for the libFuzzer targets in tests/fuzz/ (docs/fuzzing.md).
 *
 * FUZZ_CHECK is the oracle's assertion: unlike assert() it is on in every
 * build type (RelWithDebInfo defines NDEBUG), and it says which invariant
 * broke before aborting, so libFuzzer saves the input as a crash.
 *
 * struct fuzz_in hands out the input byte by byte; past the end it gives
 * zeros, so every input, however short, makes a complete structure. */
#ifndef HALLGW_FUZZ_H
#define HALLGW_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FUZZ_CHECK(cond, ...)                                                                      \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: oracle failed: %s: ", __FILE__, __LINE__, #cond);              \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

struct fuzz_in {
    const uint8_t *p;
    size_t n;
};

static inline uint8_t fuzz_u8(struct fuzz_in *in)
{
    if (in->n == 0)
        return 0;
    in->n--;
    return *in->p++;
}

static inline uint64_t fuzz_u64(struct fuzz_in *in)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | fuzz_u8(in);
    return v;
}

static inline double fuzz_double(struct fuzz_in *in)
{
    uint64_t bits = fuzz_u64(in);
    double d;
    memcpy(&d, &bits, sizeof(d));
    return d;
}

/* Tokens that matter to the formats under test: separators, escapes,
 * multi-byte UTF-8, control characters, reserved names. */
static const char *const fuzz_tokens[] = {
    "a",
    "B",
    "7",
    "_",
    "-",
    ".",
    ":",
    ",",
    "=",
    " ",
    "\\",
    "\"",
    "#",
    "/",
    "é",
    "中",
    "\xf0\x9f\x98\x80",
    "\t",
    "\n",
    "\r",
    "\x7f",
    "time",
    "_field",
    "_measurement",
    "\\ ",
    "\\,",
    "\\=",
    "\\\"",
    "\\\\",
    "x\\y",
};
#define FUZZ_N_TOKENS (sizeof(fuzz_tokens) / sizeof(fuzz_tokens[0]))

/* A NUL-terminated string of at most max bytes into out (max + 1 bytes).
 * One length byte; when its top bit is set, each following byte picks a
 * token, otherwise the bytes are copied as they are (a NUL ends the string
 * early, like a C string would). */
static inline void fuzz_string(struct fuzz_in *in, char *out, size_t max)
{
    uint8_t len = fuzz_u8(in);
    size_t n = 0;
    if (len & 0x80) {
        for (uint8_t i = 0; i < (len & 0x3f); i++) {
            const char *t = fuzz_tokens[fuzz_u8(in) % FUZZ_N_TOKENS];
            size_t tl = strlen(t);
            if (n + tl > max)
                break;
            memcpy(out + n, t, tl);
            n += tl;
        }
    } else {
        for (uint8_t i = 0; i < len && n < max; i++) {
            uint8_t c = fuzz_u8(in);
            if (c == 0)
                break;
            out[n++] = (char)c;
        }
    }
    out[n] = '\0';
}

/* Splits data at its first NUL: topic (or URL) before, payload after. When
 * there is no NUL the whole input is the first part and the second is empty. */
static inline void fuzz_split(const uint8_t *data, size_t size, const char **a, size_t *a_len,
                              const char **b, size_t *b_len)
{
    const uint8_t *nul = memchr(data, '\0', size);
    *a = (const char *)data;
    *a_len = nul ? (size_t)(nul - data) : size;
    *b = nul ? (const char *)nul + 1 : (const char *)data + size;
    *b_len = nul ? size - *a_len - 1 : 0;
}

/* An exact-size heap copy without a NUL, so ASan sees any read past len
 * (the parts fuzz_split gives are followed by more input). */
static inline char *fuzz_copy(const char *s, size_t len)
{
    char *p = malloc(len ? len : 1);
    if (!p)
        abort();
    if (len)
        memcpy(p, s, len);
    return p;
}

/* A heap copy with a NUL after len bytes, for C strings. */
static inline char *fuzz_dup(const char *s, size_t len)
{
    char *p = malloc(len + 1);
    if (!p)
        abort();
    if (len)
        memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

#endif
