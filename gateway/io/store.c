/* The state store: opening, the schema, errors and the statement helpers the
 * store_*.c files share (store_int.h). */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store_int.h"
#include "utf8.h"

#define STORE_BUSY_TIMEOUT_MS 5000

/* ---- Schema ---------------------------------------------------------------- */

/* migrations[v] takes the schema from version v to v + 1 (PRAGMA
 * user_version). Append, never edit: a database in the field has run the
 * earlier ones. */
static const char *const migrations[] = {
    /* 0 -> 1 */
    "CREATE TABLE alerts ("
    " id TEXT PRIMARY KEY NOT NULL,"
    " rule TEXT NOT NULL,"
    " subject TEXT NOT NULL,"
    " hall TEXT NOT NULL,"
    " device TEXT NOT NULL,"
    " \"window\" TEXT NOT NULL,"
    " kind TEXT NOT NULL,"
    " severity TEXT NOT NULL,"
    " type TEXT NOT NULL,"
    " state TEXT NOT NULL CHECK (state IN ('firing', 'acknowledged')),"
    " manual_resolve INTEGER NOT NULL,"
    " pending_since REAL NOT NULL,"
    " firing_since REAL NOT NULL,"
    " acked_at REAL NOT NULL,"
    " acked_by TEXT NOT NULL,"
    " changed_at REAL NOT NULL,"
    " note TEXT NOT NULL,"
    " summary TEXT NOT NULL,"
    " value REAL,"
    " last_notified REAL NOT NULL,"
    " escalated INTEGER NOT NULL);"
    "CREATE TABLE alert_history ("
    " seq INTEGER PRIMARY KEY,"
    " alert_id TEXT NOT NULL,"
    " rule TEXT NOT NULL,"
    " subject TEXT NOT NULL,"
    " hall TEXT NOT NULL,"
    " device TEXT NOT NULL,"
    " \"window\" TEXT NOT NULL,"
    " severity TEXT NOT NULL,"
    " transition TEXT NOT NULL,"
    " at REAL NOT NULL,"
    " \"by\" TEXT NOT NULL,"
    " note TEXT NOT NULL,"
    " summary TEXT NOT NULL,"
    " value REAL);"
    "CREATE INDEX alert_history_at ON alert_history (at);"
    "CREATE INDEX alert_history_hall_at ON alert_history (hall, at);"
    "CREATE INDEX alert_history_alert ON alert_history (alert_id, seq);"
    "CREATE TABLE baselines ("
    " device TEXT NOT NULL,"
    " metric TEXT NOT NULL,"
    " value TEXT NOT NULL,"
    " approved_by TEXT NOT NULL,"
    " at REAL NOT NULL,"
    " PRIMARY KEY (device, metric));",
    /* 1 -> 2: power-off enforcement */
    "CREATE TABLE overrides ("
    " device TEXT PRIMARY KEY NOT NULL,"
    " \"until\" REAL NOT NULL,"
    " reason TEXT NOT NULL,"
    " \"by\" TEXT NOT NULL,"
    " created REAL NOT NULL);"
    "CREATE TABLE override_log ("
    " seq INTEGER PRIMARY KEY,"
    " device TEXT NOT NULL,"
    " action TEXT NOT NULL CHECK (action IN ('add', 'remove', 'expire')),"
    " \"until\" REAL NOT NULL,"
    " reason TEXT NOT NULL,"
    " \"by\" TEXT NOT NULL,"
    " at REAL NOT NULL);"
    "CREATE INDEX override_log_at ON override_log (at);"
    "CREATE TABLE poweroff_log ("
    " seq INTEGER PRIMARY KEY,"
    " date TEXT NOT NULL,"
    " at REAL NOT NULL,"
    " hall TEXT NOT NULL,"
    " \"window\" TEXT NOT NULL,"
    " device TEXT NOT NULL,"
    " kind TEXT NOT NULL,"
    " step TEXT NOT NULL,"
    " ok INTEGER NOT NULL,"
    " detail TEXT NOT NULL);"
    "CREATE INDEX poweroff_log_date ON poweroff_log (date, seq);"
    "CREATE INDEX poweroff_log_at ON poweroff_log (at);",
    /* 2 -> 3: people's accounts, their API tokens and sessions, the audit log */
    "CREATE TABLE accounts ("
    " name TEXT PRIMARY KEY NOT NULL,"
    " role TEXT NOT NULL,"
    " hash TEXT NOT NULL,"
    " disabled INTEGER NOT NULL,"
    " created REAL NOT NULL,"
    " changed REAL NOT NULL);"
    "CREATE TABLE tokens ("
    " id TEXT PRIMARY KEY NOT NULL,"
    " account TEXT NOT NULL,"
    " hash TEXT NOT NULL,"
    " label TEXT NOT NULL,"
    " created REAL NOT NULL,"
    " last_used REAL NOT NULL);"
    "CREATE TABLE sessions ("
    " id_hash TEXT PRIMARY KEY NOT NULL,"
    " account TEXT NOT NULL,"
    " csrf TEXT NOT NULL,"
    " addr TEXT NOT NULL,"
    " created REAL NOT NULL,"
    " expires REAL NOT NULL);"
    "CREATE INDEX sessions_account ON sessions (account);"
    "CREATE TABLE audit ("
    " seq INTEGER PRIMARY KEY,"
    " at REAL NOT NULL,"
    " account TEXT NOT NULL,"
    " addr TEXT NOT NULL,"
    " action TEXT NOT NULL,"
    " target TEXT NOT NULL,"
    " detail TEXT NOT NULL,"
    " ok INTEGER NOT NULL);"
    "CREATE INDEX audit_at ON audit (at);",
    /* 3 -> 4: silences */
    "CREATE TABLE silences ("
    " id TEXT PRIMARY KEY NOT NULL,"
    " hall TEXT NOT NULL,"
    " \"window\" TEXT NOT NULL,"
    " device TEXT NOT NULL,"
    " rule TEXT NOT NULL,"
    " severity TEXT NOT NULL,"
    " starts REAL NOT NULL,"
    " ends REAL NOT NULL,"
    " comment TEXT NOT NULL,"
    " maintenance INTEGER NOT NULL,"
    " created_by TEXT NOT NULL,"
    " created REAL NOT NULL,"
    " ended_by TEXT NOT NULL);"
    "CREATE INDEX silences_ends ON silences (ends);",
    /* 4 -> 5: the daily record sent by itself, per day, hall set and route */
    "CREATE TABLE report_deliveries ("
    " day TEXT NOT NULL,"
    " halls TEXT NOT NULL,"
    " route TEXT NOT NULL,"
    " state TEXT NOT NULL CHECK (state IN ('sending', 'sent', 'failed')),"
    " owner TEXT NOT NULL,"
    " lease_until REAL NOT NULL,"
    " attempts INTEGER NOT NULL,"
    " sent_at REAL NOT NULL,"
    " last_error TEXT NOT NULL,"
    " changed REAL NOT NULL,"
    " PRIMARY KEY (day, halls, route));",
};
#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

/* ---- Statements, prepared once and cached ---------------------------------- */

#define ALERT_COLUMNS                                                                              \
    "id, rule, subject, hall, device, \"window\", kind, severity, type, state, manual_resolve,"    \
    " pending_since, firing_since, acked_at, acked_by, changed_at, note, summary, value,"          \
    " last_notified, escalated"

#define HISTORY_COLUMNS                                                                            \
    "alert_id, rule, subject, hall, device, \"window\", severity, transition, at, \"by\", note,"   \
    " summary, value"

#define OVERRIDE_COLUMNS "device, \"until\", reason, \"by\", created"
#define OVERRIDE_LOG_COLUMNS "device, action, \"until\", reason, \"by\", at"
#define POWEROFF_COLUMNS "date, at, hall, \"window\", device, kind, step, ok, detail"
#define ACCOUNT_COLUMNS "name, role, hash, disabled, created, changed"
#define TOKEN_COLUMNS "id, account, hash, label, created, last_used"
#define SESSION_COLUMNS "id_hash, account, csrf, addr, created, expires"
#define AUDIT_COLUMNS "at, account, addr, action, target, detail, ok"
#define SILENCE_COLUMNS                                                                            \
    "id, hall, \"window\", device, rule, severity, starts, ends, comment, maintenance,"            \
    " created_by, created, ended_by"

#define DELIVERY_COLUMNS                                                                           \
    "day, halls, route, state, owner, lease_until, attempts, sent_at, last_error, changed"

static const char *const stmt_sql[STMT_COUNT] = {
    [STMT_BEGIN] = "BEGIN IMMEDIATE",
    [STMT_COMMIT] = "COMMIT",
    [STMT_ROLLBACK] = "ROLLBACK",
    [STMT_ALERT_PUT] = ("INSERT OR REPLACE INTO alerts (" ALERT_COLUMNS ")"
                        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
    [STMT_ALERT_DELETE] = "DELETE FROM alerts WHERE id = ?",
    [STMT_HISTORY_ADD] = ("INSERT INTO alert_history (" HISTORY_COLUMNS ")"
                          " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
    [STMT_ACTIVE] = ("SELECT " ALERT_COLUMNS " FROM alerts"
                     " WHERE state IN ('firing', 'acknowledged') ORDER BY firing_since, id"),
    [STMT_HISTORY] = ("SELECT " HISTORY_COLUMNS " FROM alert_history"
                      " WHERE at >= ?1 AND at < ?2 ORDER BY at, seq LIMIT ?3 OFFSET ?5"),
    [STMT_HISTORY_HALL] = ("SELECT " HISTORY_COLUMNS " FROM alert_history"
                           " WHERE hall = ?4 AND at >= ?1 AND at < ?2 ORDER BY at, seq"
                           " LIMIT ?3 OFFSET ?5"),
    [STMT_BASELINE_GET] = "SELECT value FROM baselines WHERE device = ? AND metric = ?",
    [STMT_BASELINE_SET] =
        ("INSERT OR REPLACE INTO baselines (device, metric, value, approved_by, at)"
         " VALUES (?, ?, ?, ?, ?)"),
    [STMT_OVERRIDE_GET] = ("SELECT " OVERRIDE_COLUMNS " FROM overrides WHERE device = ?"),
    [STMT_OVERRIDE_PUT] = ("INSERT OR REPLACE INTO overrides (" OVERRIDE_COLUMNS ")"
                           " VALUES (?, ?, ?, ?, ?)"),
    [STMT_OVERRIDE_DELETE] = "DELETE FROM overrides WHERE device = ?",
    [STMT_OVERRIDE_LOG_ADD] = ("INSERT INTO override_log (" OVERRIDE_LOG_COLUMNS ")"
                               " VALUES (?, ?, ?, ?, ?, ?)"),
    [STMT_OVERRIDES] = ("SELECT " OVERRIDE_COLUMNS " FROM overrides"
                        " WHERE \"until\" > ?1 ORDER BY device"),
    [STMT_OVERRIDES_EXPIRED] = ("SELECT " OVERRIDE_COLUMNS " FROM overrides"
                                " WHERE \"until\" <= ?1 ORDER BY \"until\", device"),
    [STMT_OVERRIDE_LOG] = ("SELECT " OVERRIDE_LOG_COLUMNS " FROM override_log"
                           " WHERE at >= ?1 AND at < ?2 ORDER BY at, seq"),
    [STMT_POWEROFF_ADD] = ("INSERT INTO poweroff_log (" POWEROFF_COLUMNS ")"
                           " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"),
    [STMT_POWEROFF_LOG] = ("SELECT " POWEROFF_COLUMNS " FROM poweroff_log"
                           " WHERE (?1 IS NULL OR date = ?1) AND (?2 IS NULL OR hall = ?2)"
                           " AND at >= ?3 AND at < ?4 ORDER BY seq"),
    [STMT_ACCOUNT_ADD] = ("INSERT INTO accounts (" ACCOUNT_COLUMNS ") VALUES (?, ?, ?, ?, ?, ?)"),
    [STMT_ACCOUNT_GET] = ("SELECT " ACCOUNT_COLUMNS " FROM accounts WHERE name = ?"),
    [STMT_ACCOUNT_SET] = ("UPDATE accounts SET role = ?2, hash = ?3, disabled = ?4, changed = ?5"
                          " WHERE name = ?1"),
    [STMT_ACCOUNTS] = ("SELECT " ACCOUNT_COLUMNS " FROM accounts ORDER BY name"),
    [STMT_TOKEN_ADD] = ("INSERT INTO tokens (" TOKEN_COLUMNS ") VALUES (?, ?, ?, ?, ?, ?)"),
    [STMT_TOKEN_GET] = ("SELECT " TOKEN_COLUMNS " FROM tokens WHERE id = ?"),
    [STMT_TOKEN_USED] = "UPDATE tokens SET last_used = ?2 WHERE id = ?1",
    [STMT_TOKEN_DELETE] = "DELETE FROM tokens WHERE id = ?",
    [STMT_TOKENS] = ("SELECT " TOKEN_COLUMNS " FROM tokens WHERE ?1 IS NULL OR account = ?1"
                     " ORDER BY account, created"),
    [STMT_SESSION_ADD] = ("INSERT INTO sessions (" SESSION_COLUMNS ") VALUES (?, ?, ?, ?, ?, ?)"),
    [STMT_SESSION_GET] = ("SELECT " SESSION_COLUMNS " FROM sessions WHERE id_hash = ?1"
                          " AND expires > ?2"),
    [STMT_SESSION_DELETE] = "DELETE FROM sessions WHERE id_hash = ?",
    [STMT_SESSIONS_END] = "DELETE FROM sessions WHERE account = ?1 OR expires <= ?2",
    [STMT_AUDIT_ADD] = ("INSERT INTO audit (" AUDIT_COLUMNS ") VALUES (?, ?, ?, ?, ?, ?, ?)"),
    [STMT_SILENCE_PUT] = ("INSERT OR REPLACE INTO silences (" SILENCE_COLUMNS ")"
                          " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
    [STMT_SILENCE_GET] = ("SELECT " SILENCE_COLUMNS " FROM silences WHERE id = ?"),
    [STMT_SILENCES] = ("SELECT " SILENCE_COLUMNS " FROM silences WHERE ends > ?1 AND starts < ?2"
                       " ORDER BY starts, id"),
    /* A claim: a new row, or one whose sender's lease ran out unsent. */
    [STMT_DELIVERY_CLAIM] =
        ("INSERT INTO report_deliveries (" DELIVERY_COLUMNS ")"
         " VALUES (?1, ?2, ?3, 'sending', ?4, ?5, 0, 0, '', ?6)"
         " ON CONFLICT (day, halls, route) DO UPDATE SET owner = excluded.owner,"
         " lease_until = excluded.lease_until, changed = excluded.changed"
         " WHERE state = 'sending' AND lease_until < excluded.changed"),
    [STMT_DELIVERY_UPDATE] = ("UPDATE report_deliveries SET state = ?5, lease_until = ?6,"
                              " attempts = ?7, sent_at = ?8, last_error = ?9, changed = ?10"
                              " WHERE day = ?1 AND halls = ?2 AND route = ?3 AND owner = ?4"),
    [STMT_DELIVERIES] = ("SELECT " DELIVERY_COLUMNS " FROM report_deliveries"
                         " WHERE day >= ?1 AND day <= ?2 ORDER BY day, halls, route"),
    [STMT_AUDIT] = ("SELECT " AUDIT_COLUMNS " FROM audit WHERE at >= ?1 AND at < ?2"
                    " ORDER BY at, seq LIMIT ?3"),
};

/* ---- Errors ---------------------------------------------------------------- */

static const char *errno_text(int e, char *buf, size_t size)
{
#if defined(__GLIBC__) && defined(_GNU_SOURCE)
    return strerror_r(e, buf, size);
#else
    return strerror_r(e, buf, size) == 0 ? buf : "unknown error";
#endif
}

/* The negative errno for an SQLite result code. */
static int errno_of(sqlite3 *db, int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_ROW:
    case SQLITE_DONE:
        return 0;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return -EBUSY;
    case SQLITE_READONLY:
        return -EROFS;
    case SQLITE_CONSTRAINT: {
        /* An account or token whose name is taken; any other is a bug. */
        int ext = db ? sqlite3_extended_errcode(db) : 0;
        return ext == SQLITE_CONSTRAINT_PRIMARYKEY || ext == SQLITE_CONSTRAINT_UNIQUE ? -EEXIST
                                                                                      : -EIO;
    }
    case SQLITE_NOMEM:
        return -ENOMEM;
    case SQLITE_FULL:
        return -ENOSPC;
    case SQLITE_PERM:
    case SQLITE_AUTH:
        return -EACCES;
    case SQLITE_CANTOPEN: {
        int sys = db ? sqlite3_system_errno(db) : 0;
        return sys > 0 ? -sys : -EIO;
    }
    default:
        return -EIO;
    }
}

/* Sets st->err to "<what>: <SQLite's message>" (with the system's reason when
 * a file could not be opened or read) and returns the negative errno of rc. */
int store_fail(struct store *st, int rc, const char *fmt, ...)
{
    char what[256], sysbuf[128];
    const char *msg = sqlite3_errmsg(st->db);
    int prim = rc & 0xff;
    int sys = sqlite3_system_errno(st->db);
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    if ((prim == SQLITE_CANTOPEN || prim == SQLITE_IOERR) && sys > 0)
        snprintf(st->err, sizeof(st->err), "%s: %s (%s)", what, msg,
                 errno_text(sys, sysbuf, sizeof(sysbuf)));
    else if (rc == SQLITE_READONLY_DIRECTORY)
        snprintf(st->err, sizeof(st->err),
                 "%s: %s (its directory is not writable: a WAL database needs its -wal and "
                 "-shm files beside it)",
                 what, msg);
    else
        snprintf(st->err, sizeof(st->err), "%s: %s", what, msg);
    return errno_of(st->db, rc);
}

/* Sets st->err for a failure that is not SQLite's, returns err. */
int store_fail_with(struct store *st, int err, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(st->err, sizeof(st->err), fmt, ap);
    va_end(ap);
    return err;
}

const char *store_last_error(const struct store *st)
{
    return st ? st->err : "";
}

/* ---- Binding and reading columns ------------------------------------------- */

void store_bind_str(struct store_binder *b, const char *s, size_t max)
{
    if (!s)
        s = "";
    if (b->rc == SQLITE_OK)
        b->rc = sqlite3_bind_text(b->stmt, ++b->idx, s, (int)strnlen(s, max), SQLITE_STATIC);
}

void store_bind_double(struct store_binder *b, double v)
{
    if (b->rc == SQLITE_OK)
        b->rc = sqlite3_bind_double(b->stmt, ++b->idx, v);
}

void store_bind_int(struct store_binder *b, int v)
{
    if (b->rc == SQLITE_OK)
        b->rc = sqlite3_bind_int(b->stmt, ++b->idx, v);
}

/* NULL when there is no value (or it is NaN, which SQLite cannot keep). */
void store_bind_value(struct store_binder *b, bool has_value, double v)
{
    if (b->rc != SQLITE_OK)
        return;
    if (has_value && !isnan(v))
        b->rc = sqlite3_bind_double(b->stmt, ++b->idx, v);
    else
        b->rc = sqlite3_bind_null(b->stmt, ++b->idx);
}

/* Copies a text column into dst, cut to fit at a UTF-8 character boundary. */
void store_col_str(struct store_reader *r, char *dst, size_t size)
{
    const char *s = (const char *)sqlite3_column_text(r->stmt, r->idx);
    size_t n = s ? (size_t)sqlite3_column_bytes(r->stmt, r->idx) : 0;

    r->idx++;
    if (n >= size)
        n = utf8_cut(s, n, size - 1);
    if (n > 0)
        memcpy(dst, s, n);
    dst[n] = '\0';
}

double store_col_double(struct store_reader *r)
{
    return sqlite3_column_double(r->stmt, r->idx++);
}

int store_col_int(struct store_reader *r)
{
    return sqlite3_column_int(r->stmt, r->idx++);
}

bool store_col_value(struct store_reader *r, double *v)
{
    bool null = sqlite3_column_type(r->stmt, r->idx) == SQLITE_NULL;

    *v = null ? 0 : sqlite3_column_double(r->stmt, r->idx);
    r->idx++;
    return !null;
}

/* ---- Statement helpers ----------------------------------------------------- */

/* The cached statement id, prepared on first use; NULL with st->err set. */
sqlite3_stmt *store_stmt_get(struct store *st, enum stmt_id id, int *err)
{
    int rc;

    if (st->stmt[id])
        return st->stmt[id];
    rc = sqlite3_prepare_v3(st->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &st->stmt[id],
                            NULL);
    if (rc != SQLITE_OK) {
        *err = store_fail(st, rc, "prepare \"%.40s...\"", stmt_sql[id]);
        st->stmt[id] = NULL;
        return NULL;
    }
    return st->stmt[id];
}

/* Leaves a statement ready for its next use, with no pointer bound. */
void store_stmt_done(sqlite3_stmt *s)
{
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
}

/* Steps s to completion (no rows expected). */
int store_stmt_run(struct store *st, sqlite3_stmt *s, const char *what)
{
    int rc = sqlite3_step(s);
    int err = 0;

    if (rc != SQLITE_DONE)
        err = store_fail(st, rc, "%s", what);
    store_stmt_done(s);
    return err;
}

int store_exec(struct store *st, enum stmt_id id, const char *what)
{
    int err = 0;
    sqlite3_stmt *s = store_stmt_get(st, id, &err);

    return s ? store_stmt_run(st, s, what) : err;
}

void store_rollback(struct store *st)
{
    if (!sqlite3_get_autocommit(st->db))
        store_exec(st, STMT_ROLLBACK, "rollback");
}

/* Makes room for one more element in a growing array. */
int store_grow(void **v, size_t *cap, size_t n, size_t elem)
{
    void *nv;
    size_t ncap;

    if (n < *cap)
        return 0;
    ncap = *cap ? *cap * 2 : 16;
    if (ncap > SIZE_MAX / elem)
        return -ENOMEM;
    nv = realloc(*v, ncap * elem);
    if (!nv)
        return -ENOMEM;
    *v = nv;
    *cap = ncap;
    return 0;
}

int store_read_rows(struct store *st, sqlite3_stmt *s, size_t elem, store_row_fn read,
                    const char *what, void **out, size_t *n)
{
    char *v = NULL;
    size_t cap = 0, count = 0;
    int rc, err;

    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if ((err = store_grow((void **)&v, &cap, count, elem)) < 0) {
            store_fail_with(st, err, "%s: out of memory", what);
            goto fail;
        }
        memset(v + count * elem, 0, elem);
        if ((err = read(st, s, v + count * elem)) < 0)
            goto fail;
        count++;
    }
    if (rc != SQLITE_DONE) {
        err = store_fail(st, rc, "%s", what);
        goto fail;
    }
    store_stmt_done(s);
    *out = v;
    *n = count;
    return 0;

fail:
    store_stmt_done(s);
    free(v);
    return err;
}

/* The cached statement id with bind's parameters; NULL with *err set. */
static sqlite3_stmt *bound(struct store *st, enum stmt_id id, store_bind_fn bind, const void *arg,
                           const char *what, int *err)
{
    sqlite3_stmt *s = store_stmt_get(st, id, err);
    struct store_binder b = {s, 0, SQLITE_OK};

    if (!s)
        return NULL;
    if (bind)
        bind(&b, arg);
    if (b.rc != SQLITE_OK) {
        *err = store_fail(st, b.rc, "bind %s", what);
        store_stmt_done(s);
        return NULL;
    }
    return s;
}

int store_run(struct store *st, enum stmt_id id, store_bind_fn bind, const void *arg,
              const char *what, int *changes)
{
    int err = 0;
    sqlite3_stmt *s = bound(st, id, bind, arg, what, &err);

    if (!s)
        return err;
    if ((err = store_stmt_run(st, s, what)) == 0 && changes)
        *changes = sqlite3_changes(st->db);
    return err;
}

int store_query_one(struct store *st, enum stmt_id id, store_bind_fn bind, const void *arg,
                    store_row_fn read, const char *what, void *row)
{
    int err = 0, rc;
    sqlite3_stmt *s = bound(st, id, bind, arg, what, &err);

    if (!s)
        return err;
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        err = read(st, s, row);
    else if (rc == SQLITE_DONE)
        err = -ENOENT;
    else
        err = store_fail(st, rc, "%s", what);
    store_stmt_done(s);
    return err;
}

int store_query(struct store *st, enum stmt_id id, store_bind_fn bind, const void *arg, size_t elem,
                store_row_fn read, const char *what, void **out, size_t *n)
{
    int err = 0;
    sqlite3_stmt *s = bound(st, id, bind, arg, what, &err);

    return s ? store_read_rows(st, s, elem, read, what, out, n) : err;
}

/* ---- Opening and the schema ------------------------------------------------ */

/* Why path could not be created, when its directory is to blame: SQLite
 * retries a failed create read-only and reports that retry's ENOENT, hiding
 * the EACCES or EROFS that matters. Returns a negative errno with st->err
 * set, or 0 when the directory looks fine. */
static int check_directory(struct store *st, const char *path)
{
    char dir[4096], sysbuf[128];
    const char *slash = strrchr(path, '/');
    size_t len = slash ? (size_t)(slash - path) : 1;
    int e;

    if (!slash)
        memcpy(dir, ".", 2);
    else if (len == 0)
        memcpy(dir, "/", 2);
    else if (len < sizeof(dir)) {
        memcpy(dir, path, len);
        dir[len] = '\0';
    } else
        return 0;
    if (faccessat(AT_FDCWD, path, F_OK, AT_EACCESS) == 0)
        return 0; /* it exists: not a creation problem */
    if (faccessat(AT_FDCWD, dir, W_OK | X_OK, AT_EACCESS) == 0)
        return 0;
    e = errno;
    return store_fail_with(st, -e, "cannot create it in %s: %s%s", dir,
                           errno_text(e, sysbuf, sizeof(sysbuf)),
                           e == EACCES || e == EROFS ? " (the directory is not writable)" : "");
}

/* Runs one PRAGMA (or other statement) and, when value is not NULL, returns
 * the first column of its first row there. */
static int pragma(struct store *st, const char *sql, char *value, size_t size)
{
    sqlite3_stmt *s;
    int rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);
    int err = 0;

    if (rc != SQLITE_OK)
        return store_fail(st, rc, "%s", sql);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW && value) {
        struct store_reader r = {s, 0};
        store_col_str(&r, value, size);
    } else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        err = store_fail(st, rc, "%s", sql);
    } else if (value) {
        value[0] = '\0';
    }
    sqlite3_finalize(s);
    return err;
}

static int user_version(struct store *st, int *version)
{
    char v[32];
    int err = pragma(st, "PRAGMA user_version", v, sizeof(v));

    if (err == 0)
        *version = atoi(v);
    return err;
}

/* Brings the schema to SCHEMA_VERSION, one migration per transaction. The
 * version is read inside the write transaction, so two processes opening at
 * once never both migrate. */
static int migrate(struct store *st)
{
    char sql[64];
    int version = 0, err, rc;

    for (;;) {
        if ((err = store_exec(st, STMT_BEGIN, "begin migration")) < 0)
            return err;
        if ((err = user_version(st, &version)) < 0)
            goto out_rollback;
        if (version > SCHEMA_VERSION) {
            err = store_fail_with(st, -EPROTO,
                                  "schema version %d is newer than this hallgw knows (%d); "
                                  "refusing to touch it",
                                  version, SCHEMA_VERSION);
            goto out_rollback;
        }
        if (version == SCHEMA_VERSION) {
            if ((err = store_exec(st, STMT_COMMIT, "commit")) < 0)
                goto out_rollback;
            return 0;
        }
        rc = sqlite3_exec(st->db, migrations[version], NULL, NULL, NULL);
        if (rc != SQLITE_OK) {
            err = store_fail(st, rc, "migrate schema %d -> %d", version, version + 1);
            goto out_rollback;
        }
        snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", version + 1);
        if ((err = pragma(st, sql, NULL, 0)) < 0)
            goto out_rollback;
        if ((err = store_exec(st, STMT_COMMIT, "commit migration")) < 0)
            goto out_rollback;
    }
out_rollback:
    store_rollback(st);
    return err;
}

static int setup_readwrite(struct store *st)
{
    char mode[16];
    int err;

    if ((err = pragma(st, "PRAGMA journal_mode = WAL", mode, sizeof(mode))) < 0)
        return err;
    if (strcmp(mode, "wal") != 0 && strcmp(mode, "memory") != 0)
        return store_fail_with(st, -EIO, "cannot switch to WAL mode (journal_mode is %s)", mode);
    if ((err = pragma(st, "PRAGMA synchronous = FULL", NULL, 0)) < 0)
        return err;
    return migrate(st);
}

static int setup_readonly(struct store *st)
{
    int version = 0, err;

    if ((err = user_version(st, &version)) < 0)
        return err;
    if (version != SCHEMA_VERSION)
        return store_fail_with(
            st, -EPROTO, "schema version %d, this hallgw reads %d (%s)", version, SCHEMA_VERSION,
            version < SCHEMA_VERSION ? "start the gateway once to create or migrate it"
                                     : "written by a newer hallgw");
    return 0;
}

int store_open(const char *path, bool readonly, struct store **out, const char **why)
{
    static _Thread_local char open_why[600];
    int flags = readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    struct store *st;
    int rc, err;

    *out = NULL;
    if (why)
        *why = "";
    st = calloc(1, sizeof(*st));
    if (!st) {
        snprintf(open_why, sizeof(open_why), "out of memory");
        err = -ENOMEM;
        goto out_report;
    }
    st->readonly = readonly;
    rc = sqlite3_open_v2(path, &st->db, flags | SQLITE_OPEN_NOMUTEX, NULL);
    if (!st->db) {
        snprintf(open_why, sizeof(open_why), "out of memory");
        err = -ENOMEM;
        goto out_free_store;
    }
    if (rc != SQLITE_OK) {
        err = errno_of(st->db, rc);
        if (readonly && err == -ENOENT)
            store_fail_with(st, err, "no such file (the gateway creates it when it first starts)");
        else if (readonly || (err = check_directory(st, path)) == 0)
            err = store_fail(st, rc, "%s", readonly ? "open read-only" : "open or create");
        goto out_close_db;
    }
    if (!readonly && sqlite3_db_readonly(st->db, "main") == 1) {
        /* SQLite fell back to read-only: the file is not writable. */
        err = store_fail_with(st, -EROFS,
                              "the file is read-only (it must be writable by the gateway)");
        goto out_close_db;
    }
    sqlite3_extended_result_codes(st->db, 1);
    sqlite3_busy_timeout(st->db, STORE_BUSY_TIMEOUT_MS);
    if ((err = pragma(st, "PRAGMA foreign_keys = ON", NULL, 0)) < 0)
        goto out_close_db;
    err = readonly ? setup_readonly(st) : setup_readwrite(st);
    if (err < 0)
        goto out_close_db;
    *out = st;
    return 0;

out_close_db:
    snprintf(open_why, sizeof(open_why), "%s", st->err);
    store_close(st);
    st = NULL;
out_free_store:
    free(st);
out_report:
    if (why)
        *why = open_why;
    return err;
}

void store_close(struct store *st)
{
    if (!st)
        return;
    for (size_t i = 0; i < STMT_COUNT; i++)
        sqlite3_finalize(st->stmt[i]);
    sqlite3_close(st->db);
    free(st);
}

void store_set_busy_timeout(struct store *st, int timeout_ms)
{
    sqlite3_busy_timeout(st->db, timeout_ms > 0 ? timeout_ms : 0);
}
