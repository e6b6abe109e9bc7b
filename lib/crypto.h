/* The cryptography the programs use (OpenSSL is included here only):
 * HMAC-SHA256 and SHA-256, random bytes, hex, a comparison that takes the same
 * time whatever the bytes, wiping secrets, and base64. */
#ifndef HALLGW_CRYPTO_H
#define HALLGW_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CRYPTO_SHA256_BYTES 32

/* HMAC-SHA256 of data with key into mac. Returns 0 or -EIO. */
int crypto_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
                       uint8_t mac[CRYPTO_SHA256_BYTES]);

/* SHA-256 of data into md. Returns 0 or -EIO. */
int crypto_sha256(const void *data, size_t len, uint8_t md[CRYPTO_SHA256_BYTES]);

/* n bytes from the system's cryptographic random source. Returns 0 or -EIO. */
int crypto_random(void *out, size_t n);

/* The lowercase hex of n bytes into out, NUL-terminated: out holds 2n + 1
 * bytes. */
void crypto_hex(const void *data, size_t n, char *out);

/* The SHA-256 of data as 64 lowercase hex digits into out (65 bytes); all
 * zeros should the library fail. */
void crypto_sha256_hex(const void *data, size_t len, char out[2 * CRYPTO_SHA256_BYTES + 1]);

/* n random bytes as 2n hex digits into out (2n + 1 bytes). 0 or -EIO. */
int crypto_random_hex(size_t n, char *out);

/* True when the n bytes of a and b are equal, in a time that does not
 * depend on where they differ. */
bool crypto_equal(const void *a, const void *b, size_t n);

/* Overwrites n bytes in a way the compiler can not leave out. */
void crypto_wipe(void *p, size_t n);

/* Frees a secret held as a string (a password, a token, a key read as text,
 * or a copy that contains one, such as an "Authorization:" header) after
 * wiping its bytes up to the NUL. Every secret string is freed this way.
 * NULL does nothing. */
void crypto_free_secret(char *s);

/* The base64 (RFC 4648, with padding) of n bytes into out, NUL-terminated:
 * out holds CRYPTO_BASE64_LEN(n) + 1 bytes. Returns the length. */
#define CRYPTO_BASE64_LEN(n) (4 * (((n) + 2) / 3))
size_t crypto_base64(const void *data, size_t n, char *out);

#endif
