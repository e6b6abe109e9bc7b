#include "notify_sign.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"

/* base64 of the HMAC-SHA256 of data under key into b64 (45 bytes). */
static int hmac_b64(const char *key, size_t key_len, const char *data, size_t len, char b64[45])
{
    uint8_t mac[CRYPTO_SHA256_BYTES];
    if (crypto_hmac_sha256(key, key_len, data, len, mac) < 0)
        return -EIO;
    crypto_base64(mac, sizeof(mac), b64);
    return 0;
}

int notify_sign_dingtalk(const char *secret, int64_t ts_ms, char *out, size_t size)
{
    char text[512], b64[45];
    int n = snprintf(text, sizeof(text), "%lld\n%s", (long long)ts_ms, secret);
    if (n < 0 || (size_t)n >= sizeof(text) ||
        hmac_b64(secret, strlen(secret), text, (size_t)n, b64))
        return -EIO;
    /* urlencode: base64 holds only A-Z a-z 0-9 + / = */
    size_t o = 0;
    for (const char *p = b64; *p; p++) {
        const char *enc = *p == '+' ? "%2B" : *p == '/' ? "%2F" : *p == '=' ? "%3D" : NULL;
        size_t l = enc ? 3 : 1;
        if (o + l >= size)
            return -EIO;
        memcpy(out + o, enc ? enc : p, l);
        o += l;
    }
    out[o] = '\0';
    return 0;
}

int notify_sign_feishu(const char *secret, int64_t ts_s, char *out, size_t size)
{
    char key[512], b64[45];
    int n = snprintf(key, sizeof(key), "%lld\n%s", (long long)ts_s, secret);
    if (n < 0 || (size_t)n >= sizeof(key) || size < sizeof(b64) ||
        hmac_b64(key, (size_t)n, "", 0, b64))
        return -EIO;
    memcpy(out, b64, sizeof(b64));
    return 0;
}

char *notify_sign_dingtalk_url(const char *url, const char *secret, int64_t ts_ms)
{
    char sign[96];
    char *out = NULL;
    if (notify_sign_dingtalk(secret, ts_ms, sign, sizeof(sign)) < 0 ||
        asprintf(&out, "%s%ctimestamp=%lld&sign=%s", url, strchr(url, '?') ? '&' : '?',
                 (long long)ts_ms, sign) < 0)
        return NULL;
    return out;
}

char *notify_sign_feishu_body(const char *body, size_t len, const char *secret, int64_t ts_s,
                              size_t *out_len)
{
    size_t i = 0;
    while (i < len && strchr(" \t\r\n", body[i]))
        i++;
    char sign[48];
    if (i == len || body[i] != '{' || notify_sign_feishu(secret, ts_s, sign, sizeof(sign)) < 0)
        return NULL;
    /* An empty object takes no comma after the two members. */
    size_t j = i + 1;
    while (j < len && strchr(" \t\r\n", body[j]))
        j++;
    bool empty = j < len && body[j] == '}';
    char head[128];
    int n = snprintf(head, sizeof(head), "{\"timestamp\":\"%lld\",\"sign\":\"%s\"%s",
                     (long long)ts_s, sign, empty ? "" : ",");
    char *out = malloc((size_t)n + (len - i - 1) + 1);
    if (!out)
        return NULL;
    memcpy(out, head, (size_t)n);
    memcpy(out + n, body + i + 1, len - i - 1);
    *out_len = (size_t)n + (len - i - 1);
    out[*out_len] = '\0';
    return out;
}
