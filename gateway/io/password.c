#include "password.h"

#include <crypt.h>
#include <errno.h>
#include <string.h>

#include "crypto.h"

/* yescrypt at libxcrypt's default cost (about 30 ms on a small box). */
#define PASSWORD_PREFIX "$y$"

/* A valid yescrypt setting, for the names that have no account. */
static const char dummy_hash[] =
    "$y$j9T$dZOJkZ7KSeGwXaT7Ye/fV.$x4m2b/jV8UMUG1AiY0j/hN52V4fmahiWbaFcRz8oVz1";

const char *password_acceptable(const char *pw)
{
    size_t n = strlen(pw);
    if (n < PASSWORD_MIN_LEN)
        return "a password has at least 10 characters";
    if (n > PASSWORD_MAX_LEN)
        return "a password has at most 256 bytes";
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)pw[i] < 0x20 || pw[i] == 0x7f)
            return "a password holds no control characters";
    return NULL;
}

int password_hash(const char *pw, char out[PASSWORD_HASH_MAX])
{
    char setting[CRYPT_GENSALT_OUTPUT_SIZE];
    unsigned char rnd[32];
    if (crypto_random(rnd, sizeof(rnd)) < 0)
        return -EIO;
    const char *s = crypt_gensalt_rn(PASSWORD_PREFIX, 0, (const char *)rnd, (int)sizeof(rnd),
                                     setting, (int)sizeof(setting));
    crypto_wipe(rnd, sizeof(rnd));
    if (!s)
        return -EIO;
    struct crypt_data cd;
    memset(&cd, 0, sizeof(cd));
    const char *h = crypt_r(pw, setting, &cd);
    int rc = -EIO;
    if (h && h[0] == '$' && strlen(h) < PASSWORD_HASH_MAX) {
        memcpy(out, h, strlen(h) + 1);
        rc = 0;
    }
    crypto_wipe(&cd, sizeof(cd));
    return rc;
}

bool password_verify(const char *pw, const char *hash)
{
    bool known = hash && strncmp(hash, PASSWORD_PREFIX, strlen(PASSWORD_PREFIX)) == 0 &&
                 strlen(hash) < PASSWORD_HASH_MAX;
    const char *setting = known ? hash : dummy_hash;
    struct crypt_data cd;
    memset(&cd, 0, sizeof(cd));
    const char *h = crypt_r(pw ? pw : "", setting, &cd);
    size_t n = strlen(setting);
    bool ok = h && h[0] == '$' && strlen(h) == n && crypto_equal(h, setting, n);
    crypto_wipe(&cd, sizeof(cd));
    return ok && known;
}
