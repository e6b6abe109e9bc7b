#include "crypto.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

int crypto_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
                       uint8_t mac[CRYPTO_SHA256_BYTES])
{
    unsigned int mac_len = 0;
    if (key_len > INT_MAX || !HMAC(EVP_sha256(), key, (int)key_len, data, len, mac, &mac_len) ||
        mac_len != CRYPTO_SHA256_BYTES)
        return -EIO;
    return 0;
}

int crypto_sha256(const void *data, size_t len, uint8_t md[CRYPTO_SHA256_BYTES])
{
    unsigned int n = 0;
    if (!EVP_Digest(data, len, md, &n, EVP_sha256(), NULL) || n != CRYPTO_SHA256_BYTES)
        return -EIO;
    return 0;
}

int crypto_random(void *out, size_t n)
{
    return n <= INT_MAX && RAND_bytes(out, (int)n) == 1 ? 0 : -EIO;
}

void crypto_hex(const void *data, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    const unsigned char *b = data;
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[b[i] >> 4];
        out[2 * i + 1] = digits[b[i] & 15];
    }
    out[2 * n] = '\0';
}

void crypto_sha256_hex(const void *data, size_t len, char out[2 * CRYPTO_SHA256_BYTES + 1])
{
    uint8_t md[CRYPTO_SHA256_BYTES];
    if (crypto_sha256(data, len, md) < 0)
        memset(md, 0, sizeof(md));
    crypto_hex(md, sizeof(md), out);
}

int crypto_random_hex(size_t n, char *out)
{
    unsigned char b[64];
    if (n > sizeof(b) || crypto_random(b, n) < 0)
        return -EIO;
    crypto_hex(b, n, out);
    crypto_wipe(b, n);
    return 0;
}

bool crypto_equal(const void *a, const void *b, size_t n)
{
    return CRYPTO_memcmp(a, b, n) == 0;
}

void crypto_wipe(void *p, size_t n)
{
    OPENSSL_cleanse(p, n);
}

void crypto_free_secret(char *s)
{
    if (!s)
        return;
    OPENSSL_cleanse(s, strlen(s));
    free(s);
}

size_t crypto_base64(const void *data, size_t n, char *out)
{
    /* EVP_EncodeBlock takes an int length: encode in blocks of 3 * 2^28. */
    const unsigned char *s = data;
    size_t o = 0;
    while (n > 0) {
        size_t take = n > (size_t)3 << 28 ? (size_t)3 << 28 : n;
        o += (size_t)EVP_EncodeBlock((unsigned char *)out + o, s, (int)take);
        s += take;
        n -= take;
    }
    out[o] = '\0';
    return o;
}
