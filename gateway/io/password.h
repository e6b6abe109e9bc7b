/* Password hashes for the gateway's accounts (libxcrypt is included here
 * only): yescrypt, the hash Debian uses for /etc/shadow, with a random salt.
 * A password itself is never stored, logged or kept longer than a call. */
#ifndef HALLGW_PASSWORD_H
#define HALLGW_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

/* Room for a hash string with its NUL ("$y$j9T$<salt>$<hash>"). */
#define PASSWORD_HASH_MAX 128

/* Passwords shorter than this are refused (by password_acceptable). */
#define PASSWORD_MIN_LEN 10
#define PASSWORD_MAX_LEN 256

/* NULL when pw may be used as a password; else why not (a static text). */
const char *password_acceptable(const char *pw);

/* Hashes pw with a new random salt into out (PASSWORD_HASH_MAX bytes).
 * Returns 0, or -EIO when the library fails. */
int password_hash(const char *pw, char out[PASSWORD_HASH_MAX]);

/* True when pw matches hash. Takes the same time whether or not it matches;
 * a NULL or malformed hash is checked against a fixed one so that a name
 * that has no account takes as long as a wrong password. */
bool password_verify(const char *pw, const char *hash);

#endif
