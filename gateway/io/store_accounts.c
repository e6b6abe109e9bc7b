/* The state store: people's accounts, their API tokens and browser sessions,
 * and the audit log of what they did. */
#include "store.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "store_int.h"

/* ---- Accounts ---------------------------------------------------------------- */

static void bind_account(struct store_binder *b, const void *arg)
{
    const struct record_account *a = arg;
    BIND_FIELD(b, a->name);
    BIND_FIELD(b, a->role);
    BIND_FIELD(b, a->hash);
    store_bind_int(b, a->disabled);
    store_bind_double(b, a->created);
    store_bind_double(b, a->changed);
}

static void bind_account_update(struct store_binder *b, const void *arg)
{
    const struct record_account *a = arg;
    BIND_FIELD(b, a->name);
    BIND_FIELD(b, a->role);
    BIND_FIELD(b, a->hash);
    store_bind_int(b, a->disabled);
    store_bind_double(b, a->changed);
}

static void bind_text(struct store_binder *b, const void *arg)
{
    store_bind_str(b, arg, SIZE_MAX);
}

static int read_account(struct store *st, sqlite3_stmt *s, void *row)
{
    (void)st;
    struct record_account *a = row;
    struct store_reader r = {s, 0};
    memset(a, 0, sizeof(*a));
    COL_FIELD(&r, a->name);
    COL_FIELD(&r, a->role);
    COL_FIELD(&r, a->hash);
    a->disabled = store_col_int(&r) != 0;
    a->created = store_col_double(&r);
    a->changed = store_col_double(&r);
    return 0;
}

int store_account_add(struct store *st, const struct record_account *a)
{
    return store_run(st, STMT_ACCOUNT_ADD, bind_account, a, "add account", NULL);
}

int store_account_get(struct store *st, const char *name, struct record_account *a)
{
    return store_query_one(st, STMT_ACCOUNT_GET, bind_text, name, read_account, "read account", a);
}

struct end_sessions {
    const char *account;
    wall_s now;
};

static void bind_end_sessions(struct store_binder *b, const void *arg)
{
    const struct end_sessions *e = arg;
    if (e->account)
        store_bind_str(b, e->account, SIZE_MAX);
    else
        b->idx++; /* NULL: no account's sessions */
    store_bind_double(b, e->now);
}

int store_account_set(struct store *st, const struct record_account *a)
{
    int err, changes = 0;
    struct end_sessions e = {a->name, 0};

    if ((err = store_exec(st, STMT_BEGIN, "begin")) < 0)
        return err;
    if ((err = store_run(st, STMT_ACCOUNT_SET, bind_account_update, a, "change account",
                         &changes)) < 0 ||
        (err = changes == 0 ? -ENOENT : 0) < 0 ||
        (err = store_run(st, STMT_SESSIONS_END, bind_end_sessions, &e, "end sessions", NULL)) < 0 ||
        (err = store_exec(st, STMT_COMMIT, "commit")) < 0) {
        store_rollback(st);
        return err;
    }
    return 0;
}

int store_accounts(struct store *st, struct record_account **out, size_t *n)
{
    return store_query(st, STMT_ACCOUNTS, NULL, NULL, sizeof(**out), read_account, "read accounts",
                       (void **)out, n);
}

/* ---- Tokens -------------------------------------------------------------------- */

static void bind_token(struct store_binder *b, const void *arg)
{
    const struct record_token *t = arg;
    BIND_FIELD(b, t->id);
    BIND_FIELD(b, t->account);
    BIND_FIELD(b, t->hash);
    BIND_FIELD(b, t->label);
    store_bind_double(b, t->created);
    store_bind_double(b, t->last_used);
}

static int read_token(struct store *st, sqlite3_stmt *s, void *row)
{
    (void)st;
    struct record_token *t = row;
    struct store_reader r = {s, 0};
    memset(t, 0, sizeof(*t));
    COL_FIELD(&r, t->id);
    COL_FIELD(&r, t->account);
    COL_FIELD(&r, t->hash);
    COL_FIELD(&r, t->label);
    t->created = store_col_double(&r);
    t->last_used = store_col_double(&r);
    return 0;
}

int store_token_add(struct store *st, const struct record_token *t)
{
    return store_run(st, STMT_TOKEN_ADD, bind_token, t, "add token", NULL);
}

int store_token_get(struct store *st, const char *id, struct record_token *t)
{
    return store_query_one(st, STMT_TOKEN_GET, bind_text, id, read_token, "read token", t);
}

struct token_use {
    const char *id;
    wall_s at;
};

static void bind_token_use(struct store_binder *b, const void *arg)
{
    const struct token_use *u = arg;
    store_bind_str(b, u->id, SIZE_MAX);
    store_bind_double(b, u->at);
}

int store_token_used(struct store *st, const char *id, wall_s at)
{
    struct token_use u = {id, at};
    return store_run(st, STMT_TOKEN_USED, bind_token_use, &u, "note token use", NULL);
}

int store_token_delete(struct store *st, const char *id)
{
    int changes = 0;
    int err = store_run(st, STMT_TOKEN_DELETE, bind_text, id, "delete token", &changes);
    return err < 0 ? err : changes == 0 ? -ENOENT : 0;
}

static void bind_text_or_null(struct store_binder *b, const void *arg)
{
    if (arg)
        store_bind_str(b, arg, SIZE_MAX);
    else
        b->idx++;
}

int store_tokens(struct store *st, const char *account, struct record_token **out, size_t *n)
{
    return store_query(st, STMT_TOKENS, bind_text_or_null, account, sizeof(**out), read_token,
                       "read tokens", (void **)out, n);
}

/* ---- Sessions ------------------------------------------------------------------ */

static void bind_session(struct store_binder *b, const void *arg)
{
    const struct record_session *s = arg;
    BIND_FIELD(b, s->id_hash);
    BIND_FIELD(b, s->account);
    BIND_FIELD(b, s->csrf);
    BIND_FIELD(b, s->addr);
    store_bind_double(b, s->created);
    store_bind_double(b, s->expires);
}

static int read_session(struct store *st, sqlite3_stmt *s, void *row)
{
    (void)st;
    struct record_session *x = row;
    struct store_reader r = {s, 0};
    memset(x, 0, sizeof(*x));
    COL_FIELD(&r, x->id_hash);
    COL_FIELD(&r, x->account);
    COL_FIELD(&r, x->csrf);
    COL_FIELD(&r, x->addr);
    x->created = store_col_double(&r);
    x->expires = store_col_double(&r);
    return 0;
}

int store_session_add(struct store *st, const struct record_session *s)
{
    return store_run(st, STMT_SESSION_ADD, bind_session, s, "add session", NULL);
}

struct session_key {
    const char *id_hash;
    wall_s now;
};

static void bind_session_key(struct store_binder *b, const void *arg)
{
    const struct session_key *k = arg;
    store_bind_str(b, k->id_hash, SIZE_MAX);
    store_bind_double(b, k->now);
}

int store_session_get(struct store *st, const char *id_hash, wall_s now, struct record_session *s)
{
    struct session_key k = {id_hash, now};
    return store_query_one(st, STMT_SESSION_GET, bind_session_key, &k, read_session, "read session",
                           s);
}

int store_session_delete(struct store *st, const char *id_hash)
{
    return store_run(st, STMT_SESSION_DELETE, bind_text, id_hash, "delete session", NULL);
}

int store_sessions_end(struct store *st, const char *account, wall_s now)
{
    struct end_sessions e = {account, now};
    return store_run(st, STMT_SESSIONS_END, bind_end_sessions, &e, "end sessions", NULL);
}

/* ---- The audit log ---------------------------------------------------------------- */

static void bind_audit(struct store_binder *b, const void *arg)
{
    const struct record_audit *a = arg;
    store_bind_double(b, a->at);
    BIND_FIELD(b, a->account);
    BIND_FIELD(b, a->addr);
    BIND_FIELD(b, a->action);
    BIND_FIELD(b, a->target);
    BIND_FIELD(b, a->detail);
    store_bind_int(b, a->ok);
}

static int read_audit(struct store *st, sqlite3_stmt *s, void *row)
{
    (void)st;
    struct record_audit *a = row;
    struct store_reader r = {s, 0};
    memset(a, 0, sizeof(*a));
    a->at = store_col_double(&r);
    COL_FIELD(&r, a->account);
    COL_FIELD(&r, a->addr);
    COL_FIELD(&r, a->action);
    COL_FIELD(&r, a->target);
    COL_FIELD(&r, a->detail);
    a->ok = store_col_int(&r) != 0;
    return 0;
}

int store_audit_add(struct store *st, const struct record_audit *a)
{
    return store_run(st, STMT_AUDIT_ADD, bind_audit, a, "append audit log", NULL);
}

int store_audit_note(struct store *st, const char *account, const char *addr, const char *action,
                     const char *target, const char *detail, bool ok, wall_s at)
{
    struct record_audit a = {.at = at, .ok = ok};
    snprintf(a.account, sizeof(a.account), "%s", account);
    snprintf(a.addr, sizeof(a.addr), "%s", addr ? addr : "");
    snprintf(a.action, sizeof(a.action), "%s", action);
    snprintf(a.target, sizeof(a.target), "%s", target ? target : "");
    snprintf(a.detail, sizeof(a.detail), "%s", detail ? detail : "");
    return store_audit_add(st, &a);
}

struct audit_range {
    wall_s from, to;
    size_t limit;
};

static void bind_audit_range(struct store_binder *b, const void *arg)
{
    const struct audit_range *q = arg;
    store_bind_double(b, q->from != 0 ? q->from : -INFINITY);
    store_bind_double(b, q->to != 0 ? q->to : INFINITY);
    store_bind_int(b, q->limit == 0 || q->limit > INT_MAX ? -1 : (int)q->limit);
}

int store_audit(struct store *st, wall_s from, wall_s to, size_t limit, struct record_audit **out,
                size_t *n)
{
    struct audit_range q = {from, to, limit};
    return store_query(st, STMT_AUDIT, bind_audit_range, &q, sizeof(**out), read_audit,
                       "read audit log", (void **)out, n);
}
