#include "auth.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "log.h"
#include "password.h"
#include "store.h"

/* Failed sign-ins: after AUTH_FAIL_MAX within AUTH_FAIL_WINDOW_S for one
 * name or one address, that name or address waits out the window. The table
 * is fixed: a flood of names replaces the oldest entries. */
#define AUTH_FAIL_MAX 5
#define AUTH_FAIL_WINDOW_S 900.0
#define AUTH_FAIL_SLOTS 64
/* A token's last use is written at most this often. */
#define AUTH_TOKEN_USE_EVERY_S 60.0

struct fail_slot {
    char key[72]; /* "n:<name>" or "a:<addr>" */
    int count;
    wall_s first;
};

struct auth {
    pthread_mutex_t lock;
    struct store *st;
    char *legacy_token;
    double session_s;
    struct fail_slot fails[AUTH_FAIL_SLOTS];
};

int auth_open(const char *db_path, const char *legacy_token, double session_s, struct auth **out)
{
    struct auth *a = calloc(1, sizeof(*a));
    if (!a)
        return -ENOMEM;
    const char *why = NULL;
    int rc = store_open(db_path, false, &a->st, &why);
    if (rc < 0) {
        log_err("http: cannot open %s: %s", db_path, why ? why : strerror(-rc));
        free(a);
        return rc;
    }
    if (legacy_token && !(a->legacy_token = strdup(legacy_token))) {
        store_close(a->st);
        free(a);
        return -ENOMEM;
    }
    a->session_s = session_s;
    pthread_mutex_init(&a->lock, NULL);
    *out = a;
    return 0;
}

void auth_close(struct auth *a)
{
    if (!a)
        return;
    store_close(a->st);
    crypto_free_secret(a->legacy_token);
    pthread_mutex_destroy(&a->lock);
    free(a);
}

struct store *auth_store_acquire(struct auth *a)
{
    pthread_mutex_lock(&a->lock);
    return a->st;
}

void auth_store_release(struct auth *a)
{
    pthread_mutex_unlock(&a->lock);
}

/* Equal strings, compared through their digests: the time taken tells
 * nothing of either, not even its length. */
static bool same_secret(const char *x, const char *y)
{
    char hx[65], hy[65];
    crypto_sha256_hex(x, strlen(x), hx);
    crypto_sha256_hex(y, strlen(y), hy);
    return crypto_equal(hx, hy, 64);
}

static bool all_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!strchr("0123456789abcdef", s[i]) || !s[i])
            return false;
    return s[n] == '\0' || s[n] == '_';
}

/* An enabled account's role into who; -EACCES for none or disabled.
 * Called with the lock held. */
static int account_role(struct auth *a, const char *name, struct auth_who *who)
{
    struct record_account acc;
    int rc = store_account_get(a->st, name, &acc);
    if (rc == -ENOENT)
        return -EACCES;
    if (rc < 0) {
        log_warn("http: cannot read account %s: %s", name, store_last_error(a->st));
        return -EIO;
    }
    enum role r = role_parse(acc.role);
    if (acc.disabled || r == ROLE_NONE)
        return -EACCES;
    snprintf(who->name, sizeof(who->name), "%s", acc.name);
    who->role = r;
    return 0;
}

/* "hgw_<16 hex>_<64 hex>": the token's id into id, its secret at *secret. */
static bool parse_token(const char *text, char id[17], const char **secret)
{
    if (strncmp(text, "hgw_", 4) != 0 || strlen(text) != 4 + 16 + 1 + 64 || text[20] != '_' ||
        !all_hex(text + 4, 16) || !all_hex(text + 21, 64))
        return false;
    memcpy(id, text + 4, 16);
    id[16] = '\0';
    *secret = text + 21;
    return true;
}

static int identify_token(struct auth *a, const char *text, wall_s now, struct auth_who *who)
{
    if (a->legacy_token && same_secret(text, a->legacy_token)) {
        snprintf(who->name, sizeof(who->name), "%s", AUTH_LEGACY_NAME);
        who->role = ROLE_ADMIN;
        who->via = AUTH_LEGACY_TOKEN;
        return 0;
    }
    char id[17], hash[65];
    const char *secret;
    if (!parse_token(text, id, &secret))
        return -EACCES;
    crypto_sha256_hex(secret, strlen(secret), hash);
    struct record_token t;
    int rc = store_token_get(a->st, id, &t);
    if (rc == -ENOENT || (rc == 0 && !crypto_equal(hash, t.hash, 64)))
        return -EACCES;
    if (rc < 0)
        return -EIO;
    if ((rc = account_role(a, t.account, who)) < 0)
        return rc;
    who->via = AUTH_TOKEN;
    if (now - t.last_used >= AUTH_TOKEN_USE_EVERY_S && store_token_used(a->st, id, now) < 0)
        log_warn("http: cannot note the use of token %s: %s", id, store_last_error(a->st));
    return 0;
}

static int identify_session(struct auth *a, const char *cookie, wall_s now, struct auth_who *who)
{
    if (strlen(cookie) != 64 || !all_hex(cookie, 64))
        return -EACCES;
    char hash[65];
    crypto_sha256_hex(cookie, strlen(cookie), hash);
    struct record_session s;
    int rc = store_session_get(a->st, hash, now, &s);
    if (rc == -ENOENT)
        return -EACCES;
    if (rc < 0)
        return -EIO;
    if ((rc = account_role(a, s.account, who)) < 0)
        return rc;
    who->via = AUTH_SESSION;
    snprintf(who->csrf, sizeof(who->csrf), "%s", s.csrf);
    return 0;
}

int auth_identify(struct auth *a, const char *authorization, const char *cookie_session, wall_s now,
                  struct auth_who *who)
{
    memset(who, 0, sizeof(*who));
    if (!authorization && !cookie_session)
        return -ENOENT;
    pthread_mutex_lock(&a->lock);
    int rc;
    if (authorization)
        rc = strncmp(authorization, "Bearer ", 7) == 0
                 ? identify_token(a, authorization + 7, now, who)
                 : -EACCES;
    else
        rc = identify_session(a, cookie_session, now, who);
    pthread_mutex_unlock(&a->lock);
    if (rc < 0)
        memset(who, 0, sizeof(*who));
    return rc;
}

bool auth_csrf_ok(const struct auth_who *who, const char *sent)
{
    if (who->via != AUTH_SESSION)
        return true;
    return sent && strlen(sent) == 64 && strlen(who->csrf) == 64 &&
           crypto_equal(sent, who->csrf, 64);
}

/* ---- signing in ---------------------------------------------------------------- */

/* The slot of key, or the oldest one taken over for it. Lock held. */
static struct fail_slot *fail_slot(struct auth *a, const char *key, bool take)
{
    struct fail_slot *oldest = &a->fails[0];
    for (size_t i = 0; i < AUTH_FAIL_SLOTS; i++) {
        if (strcmp(a->fails[i].key, key) == 0)
            return &a->fails[i];
        if (a->fails[i].first < oldest->first)
            oldest = &a->fails[i];
    }
    if (!take)
        return NULL;
    memset(oldest, 0, sizeof(*oldest));
    snprintf(oldest->key, sizeof(oldest->key), "%s", key);
    return oldest;
}

static bool locked_out(struct auth *a, const char *key, wall_s now)
{
    struct fail_slot *f = fail_slot(a, key, false);
    return f && f->count >= AUTH_FAIL_MAX && now - f->first < AUTH_FAIL_WINDOW_S;
}

static void note_failure(struct auth *a, const char *key, wall_s now)
{
    struct fail_slot *f = fail_slot(a, key, true);
    if (now - f->first >= AUTH_FAIL_WINDOW_S) {
        f->count = 0;
        f->first = now;
    }
    f->count++;
}

static void audit_locked(struct auth *a, const char *account, const char *addr, const char *action,
                         const char *target, const char *detail, bool ok, wall_s at)
{
    if (store_audit_note(a->st, account, addr, action, target, detail, ok, at) < 0)
        log_warn("audit: cannot record %s by %s: %s", action, account, store_last_error(a->st));
}

void auth_audit(struct auth *a, const char *account, const char *addr, const char *action,
                const char *target, const char *detail, bool ok, wall_s at)
{
    pthread_mutex_lock(&a->lock);
    audit_locked(a, account, addr, action, target, detail, ok, at);
    pthread_mutex_unlock(&a->lock);
}

int auth_sign_in(struct auth *a, const char *name, const char *password, const char *addr,
                 wall_s now, char cookie[65], struct auth_who *who)
{
    char name_key[72], addr_key[72];
    snprintf(name_key, sizeof(name_key), "n:%.64s", name);
    snprintf(addr_key, sizeof(addr_key), "a:%.64s", addr ? addr : "");
    memset(who, 0, sizeof(*who));

    /* The hash (tens of milliseconds) is checked without the lock. */
    pthread_mutex_lock(&a->lock);
    bool wait = locked_out(a, name_key, now) || locked_out(a, addr_key, now);
    struct record_account acc;
    int rc = wait ? -EAGAIN : store_account_get(a->st, name, &acc);
    pthread_mutex_unlock(&a->lock);
    if (rc == -EAGAIN) {
        auth_audit(a, name, addr, "sign-in", name, "too many failed sign-ins; waiting", false, now);
        return -EAGAIN;
    }
    if (rc < 0 && rc != -ENOENT)
        return -EIO;
    bool ok = password_verify(password, rc == 0 ? acc.hash : NULL) && rc == 0 && !acc.disabled &&
              role_parse(acc.role) != ROLE_NONE;

    pthread_mutex_lock(&a->lock);
    if (!ok) {
        note_failure(a, name_key, now);
        note_failure(a, addr_key, now);
        audit_locked(a, name, addr, "sign-in", name, "wrong name or password, or disabled", false,
                     now);
        pthread_mutex_unlock(&a->lock);
        return -EACCES;
    }
    struct record_session s = {.created = now, .expires = now + a->session_s};
    snprintf(s.account, sizeof(s.account), "%s", acc.name);
    snprintf(s.addr, sizeof(s.addr), "%s", addr ? addr : "");
    rc = crypto_random_hex(32, cookie);
    if (rc == 0)
        rc = crypto_random_hex(32, s.csrf);
    if (rc == 0) {
        crypto_sha256_hex(cookie, strlen(cookie), s.id_hash);
        if (store_sessions_end(a->st, NULL, now) < 0 || store_session_add(a->st, &s) < 0) {
            log_warn("http: cannot store a session: %s", store_last_error(a->st));
            rc = -EIO;
        }
    }
    if (rc == 0) {
        snprintf(who->name, sizeof(who->name), "%s", acc.name);
        who->role = role_parse(acc.role);
        who->via = AUTH_SESSION;
        snprintf(who->csrf, sizeof(who->csrf), "%s", s.csrf);
        audit_locked(a, acc.name, addr, "sign-in", acc.name, "", true, now);
    }
    pthread_mutex_unlock(&a->lock);
    crypto_wipe(&acc, sizeof(acc));
    return rc;
}

void auth_sign_out(struct auth *a, const char *cookie_session)
{
    if (!cookie_session || strlen(cookie_session) != 64)
        return;
    char hash[65];
    crypto_sha256_hex(cookie_session, strlen(cookie_session), hash);
    pthread_mutex_lock(&a->lock);
    if (store_session_delete(a->st, hash) < 0)
        log_warn("http: cannot end a session: %s", store_last_error(a->st));
    pthread_mutex_unlock(&a->lock);
}

int auth_token_make(const char *account, const char *label, wall_s now, struct record_token *t,
                    char text[AUTH_TOKEN_TEXT_MAX])
{
    char secret[65];
    memset(t, 0, sizeof(*t));
    if (crypto_random_hex(8, t->id) < 0 || crypto_random_hex(32, secret) < 0)
        return -EIO;
    snprintf(t->account, sizeof(t->account), "%s", account);
    snprintf(t->label, sizeof(t->label), "%s", label ? label : "");
    crypto_sha256_hex(secret, strlen(secret), t->hash);
    t->created = now;
    snprintf(text, AUTH_TOKEN_TEXT_MAX, "hgw_%s_%s", t->id, secret);
    crypto_wipe(secret, sizeof(secret));
    return 0;
}
