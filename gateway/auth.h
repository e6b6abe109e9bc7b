/* Who is asking, and what people did: the gateway's accounts, their API
 * tokens and browser sessions (kept in the state store), the one token of
 * http.token_file, and the audit log.
 *
 * An auth is shared by the HTTP server's threads: each call takes its lock,
 * and it holds the one connection to the store that those threads use (for
 * the alert history and the overrides too: auth_store_acquire).
 *
 * A token looks like "hgw_<16 hex id>_<64 hex secret>" and is shown once,
 * when it is made; the store keeps the SHA-256 of the secret. A session is a
 * random cookie value, kept as its SHA-256, with a CSRF token the page sends
 * back in X-CSRF-Token with every change. The name recorded for an action is
 * always the account's, never anything the request says. */
#ifndef HALLGW_AUTH_H
#define HALLGW_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "clock.h"
#include "record.h"
#include "roles.h"

struct store;

#define AUTH_COOKIE "hallgw_session"
/* The account name the token of http.token_file acts as (role admin). */
#define AUTH_LEGACY_NAME "token_file"

enum auth_via { AUTH_NONE, AUTH_LEGACY_TOKEN, AUTH_TOKEN, AUTH_SESSION };

struct auth_who {
    char name[65];
    enum role role;
    enum auth_via via;
    char csrf[65]; /* AUTH_SESSION: the session's CSRF token */
};

struct auth;

/* Opens the store at db_path (created and migrated as needed) for the HTTP
 * threads. legacy_token: http.token_file's token or NULL (copied).
 * session_s: how long a session lasts. 0 or a negative errno (logged). */
int auth_open(const char *db_path, const char *legacy_token, double session_s, struct auth **out);
void auth_close(struct auth *a); /* NULL does nothing */

/* Who sent a request with these headers (either may be NULL): 0 with *who,
 * -ENOENT when it carries no credentials, -EACCES when it carries ones that
 * are not valid (a wrong or revoked token, an expired session, a disabled
 * account), -EIO when the store cannot be read. A bearer token wins over a
 * cookie. */
int auth_identify(struct auth *a, const char *authorization, const char *cookie_session, wall_s now,
                  struct auth_who *who);

/* Checks name and password; on success makes a session (its cookie value
 * into cookie, 64 hex digits) and fills *who. -EACCES for a wrong name or
 * password or a disabled account (the same answer, in the same time),
 * -EIO when the store fails. Recorded in the audit log either way. */
int auth_sign_in(struct auth *a, const char *name, const char *password, const char *addr,
                 wall_s now, char cookie[65], struct auth_who *who);

/* Ends the session of this cookie value (nothing when there is none). */
void auth_sign_out(struct auth *a, const char *cookie_session);

/* True when the CSRF token the request sent matches the session's (always
 * true for a bearer token: browsers do not send those by themselves). */
bool auth_csrf_ok(const struct auth_who *who, const char *sent);

/* Appends to the audit log (errors are logged, not returned). */
void auth_audit(struct auth *a, const char *account, const char *addr, const char *action,
                const char *target, const char *detail, bool ok, wall_s at);

/* The store, locked for the caller until auth_store_release(). */
struct store *auth_store_acquire(struct auth *a);
void auth_store_release(struct auth *a);

/* ---- making tokens (the CLI) ---- */

/* Makes a token for account into t (stored by the caller with
 * store_token_add) and its full text into text (AUTH_TOKEN_TEXT_MAX). */
#define AUTH_TOKEN_TEXT_MAX 96
int auth_token_make(const char *account, const char *label, wall_s now, struct record_token *t,
                    char text[AUTH_TOKEN_TEXT_MAX]);

#endif
