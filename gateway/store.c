/* The state store: SQLite, included here only. */
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

#include <sqlite3.h>

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
};
#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

/* ---- Statements, prepared once and cached ---------------------------------- */

enum stmt_id {
    STMT_BEGIN,
    STMT_COMMIT,
    STMT_ROLLBACK,
    STMT_ALERT_PUT,
    STMT_ALERT_DELETE,
    STMT_HISTORY_ADD,
    STMT_ACTIVE,
    STMT_HISTORY,
    STMT_HISTORY_HALL,
    STMT_BASELINE_GET,
    STMT_BASELINE_SET,
    STMT_OVERRIDE_GET,
    STMT_OVERRIDE_PUT,
    STMT_OVERRIDE_DELETE,
    STMT_OVERRIDE_LOG_ADD,
    STMT_OVERRIDES,
    STMT_OVERRIDES_EXPIRED,
    STMT_OVERRIDE_LOG,
    STMT_POWEROFF_ADD,
    STMT_POWEROFF_LOG,
    STMT_COUNT
};

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
                      " WHERE at >= ?1 AND at < ?2 ORDER BY at, seq LIMIT ?3"),
    [STMT_HISTORY_HALL] = ("SELECT " HISTORY_COLUMNS " FROM alert_history"
                           " WHERE hall = ?4 AND at >= ?1 AND at < ?2 ORDER BY at, seq LIMIT ?3"),
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
};

struct store {
    sqlite3 *db;
    bool readonly;
    sqlite3_stmt *stmt[STMT_COUNT];
    char err[512];
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
__attribute__((format(printf, 3, 4))) static int fail(struct store *st, int rc, const char *fmt,
                                                      ...)
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
__attribute__((format(printf, 3, 4))) static int fail_with(struct store *st, int err,
                                                           const char *fmt, ...)
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

/* Binds parameters in order; the first failure sticks in rc. */
struct binder {
    sqlite3_stmt *stmt;
    int idx;
    int rc;
};

static void bind_str(struct binder *b, const char *s, size_t max)
{
    if (!s)
        s = "";
    if (b->rc == SQLITE_OK)
        b->rc = sqlite3_bind_text(b->stmt, ++b->idx, s, (int)strnlen(s, max), SQLITE_STATIC);
}

/* A fixed-size char array of struct alert, read no further than its size. */
#define BIND_FIELD(b, arr) bind_str((b), (arr), sizeof(arr))

static void bind_double(struct binder *b, double v)
{
    if (b->rc == SQLITE_OK)
        b->rc = sqlite3_bind_double(b->stmt, ++b->idx, v);
}

static void bind_int(struct binder *b, int v)
{
    if (b->rc == SQLITE_OK)
        b->rc = sqlite3_bind_int(b->stmt, ++b->idx, v);
}

/* NULL when there is no value (or it is NaN, which SQLite cannot keep). */
static void bind_value(struct binder *b, bool has_value, double v)
{
    if (b->rc != SQLITE_OK)
        return;
    if (has_value && !isnan(v))
        b->rc = sqlite3_bind_double(b->stmt, ++b->idx, v);
    else
        b->rc = sqlite3_bind_null(b->stmt, ++b->idx);
}

/* Reads columns in order. */
struct reader {
    sqlite3_stmt *stmt;
    int idx;
};

/* Copies a text column into dst, cut to fit at a UTF-8 character boundary. */
static void col_str(struct reader *r, char *dst, size_t size)
{
    const char *s = (const char *)sqlite3_column_text(r->stmt, r->idx);
    size_t n = s ? (size_t)sqlite3_column_bytes(r->stmt, r->idx) : 0;

    r->idx++;
    if (n >= size) {
        n = size - 1;
        while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
            n--;
    }
    if (n > 0)
        memcpy(dst, s, n);
    dst[n] = '\0';
}

#define COL_FIELD(r, arr) col_str((r), (arr), sizeof(arr))

static double col_double(struct reader *r)
{
    return sqlite3_column_double(r->stmt, r->idx++);
}

static int col_int(struct reader *r)
{
    return sqlite3_column_int(r->stmt, r->idx++);
}

static bool col_value(struct reader *r, double *v)
{
    bool null = sqlite3_column_type(r->stmt, r->idx) == SQLITE_NULL;

    *v = null ? 0 : sqlite3_column_double(r->stmt, r->idx);
    r->idx++;
    return !null;
}

/* ---- Statement helpers ----------------------------------------------------- */

/* The cached statement id, prepared on first use; NULL with st->err set. */
static sqlite3_stmt *stmt_get(struct store *st, enum stmt_id id, int *err)
{
    int rc;

    if (st->stmt[id])
        return st->stmt[id];
    rc = sqlite3_prepare_v3(st->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &st->stmt[id],
                            NULL);
    if (rc != SQLITE_OK) {
        *err = fail(st, rc, "prepare \"%.40s...\"", stmt_sql[id]);
        st->stmt[id] = NULL;
        return NULL;
    }
    return st->stmt[id];
}

/* Leaves a statement ready for its next use, with no pointer bound. */
static void stmt_done(sqlite3_stmt *s)
{
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
}

/* Steps s to completion (no rows expected). */
static int stmt_run(struct store *st, sqlite3_stmt *s, const char *what)
{
    int rc = sqlite3_step(s);
    int err = 0;

    if (rc != SQLITE_DONE)
        err = fail(st, rc, "%s", what);
    stmt_done(s);
    return err;
}

static int exec_simple(struct store *st, enum stmt_id id, const char *what)
{
    int err = 0;
    sqlite3_stmt *s = stmt_get(st, id, &err);

    return s ? stmt_run(st, s, what) : err;
}

static void rollback(struct store *st)
{
    if (!sqlite3_get_autocommit(st->db))
        exec_simple(st, STMT_ROLLBACK, "rollback");
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
    return fail_with(st, -e, "cannot create it in %s: %s%s", dir,
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
        return fail(st, rc, "%s", sql);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW && value) {
        struct reader r = {s, 0};
        col_str(&r, value, size);
    } else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        err = fail(st, rc, "%s", sql);
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
        if ((err = exec_simple(st, STMT_BEGIN, "begin migration")) < 0)
            return err;
        if ((err = user_version(st, &version)) < 0)
            goto out_rollback;
        if (version > SCHEMA_VERSION) {
            err = fail_with(st, -EPROTO,
                            "schema version %d is newer than this hallgw knows (%d); "
                            "refusing to touch it",
                            version, SCHEMA_VERSION);
            goto out_rollback;
        }
        if (version == SCHEMA_VERSION) {
            if ((err = exec_simple(st, STMT_COMMIT, "commit")) < 0)
                goto out_rollback;
            return 0;
        }
        rc = sqlite3_exec(st->db, migrations[version], NULL, NULL, NULL);
        if (rc != SQLITE_OK) {
            err = fail(st, rc, "migrate schema %d -> %d", version, version + 1);
            goto out_rollback;
        }
        snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", version + 1);
        if ((err = pragma(st, sql, NULL, 0)) < 0)
            goto out_rollback;
        if ((err = exec_simple(st, STMT_COMMIT, "commit migration")) < 0)
            goto out_rollback;
    }
out_rollback:
    rollback(st);
    return err;
}

static int setup_readwrite(struct store *st)
{
    char mode[16];
    int err;

    if ((err = pragma(st, "PRAGMA journal_mode = WAL", mode, sizeof(mode))) < 0)
        return err;
    if (strcmp(mode, "wal") != 0 && strcmp(mode, "memory") != 0)
        return fail_with(st, -EIO, "cannot switch to WAL mode (journal_mode is %s)", mode);
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
        return fail_with(st, -EPROTO, "schema version %d, this hallgw reads %d (%s)", version,
                         SCHEMA_VERSION,
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
            fail_with(st, err, "no such file (the gateway creates it when it first starts)");
        else if (readonly || (err = check_directory(st, path)) == 0)
            err = fail(st, rc, "%s", readonly ? "open read-only" : "open or create");
        goto out_close_db;
    }
    if (!readonly && sqlite3_db_readonly(st->db, "main") == 1) {
        /* SQLite fell back to read-only: the file is not writable. */
        err = fail_with(st, -EROFS, "the file is read-only (it must be writable by the gateway)");
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

/* ---- Alerts ---------------------------------------------------------------- */

static const char *name_or(const char *name, const char *fallback)
{
    return name ? name : fallback;
}

static int put_alert(struct store *st, const struct alert *a)
{
    int err = 0;
    sqlite3_stmt *s = stmt_get(st, STMT_ALERT_PUT, &err);
    struct binder b = {s, 0, SQLITE_OK};

    if (!s)
        return err;
    BIND_FIELD(&b, a->id);
    BIND_FIELD(&b, a->rule);
    BIND_FIELD(&b, a->subject);
    BIND_FIELD(&b, a->hall);
    BIND_FIELD(&b, a->device);
    BIND_FIELD(&b, a->window);
    bind_str(&b, name_or(config_kind_name(a->kind), "unknown"), SIZE_MAX);
    bind_str(&b, name_or(config_severity_name(a->severity), "unknown"), SIZE_MAX);
    bind_str(&b, name_or(config_rule_type_name(a->type), "unknown"), SIZE_MAX);
    bind_str(&b, alert_state_name(a->state), SIZE_MAX);
    bind_int(&b, a->manual_resolve);
    bind_double(&b, a->pending_since);
    bind_double(&b, a->firing_since);
    bind_double(&b, a->acked_at);
    BIND_FIELD(&b, a->acked_by);
    bind_double(&b, a->changed_at);
    BIND_FIELD(&b, a->note);
    BIND_FIELD(&b, a->summary);
    bind_value(&b, a->has_value, a->value);
    bind_double(&b, a->last_notified);
    bind_int(&b, a->escalated);
    if (b.rc != SQLITE_OK) {
        err = fail(st, b.rc, "bind alert %s", a->id);
        stmt_done(s);
        return err;
    }
    return stmt_run(st, s, "write alert");
}

static int delete_alert(struct store *st, const struct alert *a)
{
    int err = 0;
    sqlite3_stmt *s = stmt_get(st, STMT_ALERT_DELETE, &err);
    struct binder b = {s, 0, SQLITE_OK};

    if (!s)
        return err;
    BIND_FIELD(&b, a->id);
    if (b.rc != SQLITE_OK) {
        err = fail(st, b.rc, "bind alert %s", a->id);
        stmt_done(s);
        return err;
    }
    return stmt_run(st, s, "delete alert");
}

static int add_history(struct store *st, const struct alert *a, enum alert_transition t)
{
    int err = 0;
    sqlite3_stmt *s = stmt_get(st, STMT_HISTORY_ADD, &err);
    struct binder b = {s, 0, SQLITE_OK};
    const char *by = t == AT_ACKNOWLEDGED ? a->acked_by : t == AT_RESOLVED ? a->resolved_by : "";
    size_t by_max = sizeof(a->acked_by);

    if (!s)
        return err;
    BIND_FIELD(&b, a->id);
    BIND_FIELD(&b, a->rule);
    BIND_FIELD(&b, a->subject);
    BIND_FIELD(&b, a->hall);
    BIND_FIELD(&b, a->device);
    BIND_FIELD(&b, a->window);
    bind_str(&b, name_or(config_severity_name(a->severity), "unknown"), SIZE_MAX);
    bind_str(&b, alert_transition_name(t), SIZE_MAX);
    bind_double(&b, a->changed_at);
    bind_str(&b, by, by_max);
    bind_str(&b, t == AT_FIRING ? "" : a->note, sizeof(a->note));
    BIND_FIELD(&b, a->summary);
    bind_value(&b, a->has_value, a->value);
    if (b.rc != SQLITE_OK) {
        err = fail(st, b.rc, "bind history of %s", a->id);
        stmt_done(s);
        return err;
    }
    return stmt_run(st, s, "append history");
}

int store_record(struct store *st, const struct alert *a, enum alert_transition t)
{
    bool keep = a->state == ALERT_FIRING || a->state == ALERT_ACKNOWLEDGED;
    bool history = t == AT_FIRING || t == AT_ACKNOWLEDGED || t == AT_RESOLVED;
    int err;

    st->err[0] = '\0';
    if (t == AT_PENDING || t == AT_CANCELLED || (t == AT_NONE && !keep))
        return 0;
    if (st->readonly)
        return fail_with(st, -EROFS, "record %s of %s: the store is open read-only",
                         alert_transition_name(t), a->id);
    if ((err = exec_simple(st, STMT_BEGIN, "begin")) < 0)
        return err;
    err = keep ? put_alert(st, a) : delete_alert(st, a);
    if (err < 0)
        goto out_rollback;
    if (history && (err = add_history(st, a, t)) < 0)
        goto out_rollback;
    if ((err = exec_simple(st, STMT_COMMIT, "commit")) < 0)
        goto out_rollback;
    return 0;

out_rollback:
    rollback(st);
    return err;
}

static int rule_type_parse(const char *s)
{
    for (int i = 0; i < RULE_TYPE_COUNT; i++) {
        const char *name = config_rule_type_name((enum rule_type)i);
        if (name && strcmp(name, s) == 0)
            return i;
    }
    return -1;
}

/* One row of STMT_ACTIVE into a. */
static int read_alert(struct store *st, sqlite3_stmt *s, struct alert *a)
{
    struct reader r = {s, 0};
    char kind[32], severity[32], type[32], state[32];
    int k, sev, ty, sta;

    memset(a, 0, sizeof(*a));
    COL_FIELD(&r, a->id);
    COL_FIELD(&r, a->rule);
    COL_FIELD(&r, a->subject);
    COL_FIELD(&r, a->hall);
    COL_FIELD(&r, a->device);
    COL_FIELD(&r, a->window);
    COL_FIELD(&r, kind);
    COL_FIELD(&r, severity);
    COL_FIELD(&r, type);
    COL_FIELD(&r, state);
    a->manual_resolve = col_int(&r) != 0;
    a->pending_since = col_double(&r);
    a->firing_since = col_double(&r);
    a->acked_at = col_double(&r);
    COL_FIELD(&r, a->acked_by);
    a->changed_at = col_double(&r);
    COL_FIELD(&r, a->note);
    COL_FIELD(&r, a->summary);
    a->has_value = col_value(&r, &a->value);
    a->last_notified = col_double(&r);
    a->escalated = col_int(&r) != 0;
    a->pending_since_mono = 0;

    /* A kind this build does not know (a downgrade) still comes back. */
    k = config_kind_parse(kind);
    a->kind = k < 0 ? KIND_UNKNOWN : (enum device_kind)k;
    sev = config_severity_parse(severity);
    ty = rule_type_parse(type);
    sta = alert_state_parse(state);
    if (sev < 0 || ty < 0 || (sta != ALERT_FIRING && sta != ALERT_ACKNOWLEDGED))
        return fail_with(st, -EPROTO, "alert %s: unknown severity '%s', type '%s' or state '%s'",
                         a->id, severity, type, state);
    a->severity = (enum severity)sev;
    a->type = (enum rule_type)ty;
    a->state = (enum alert_state)sta;
    return 0;
}

/* Makes room for one more element in a growing array. */
static int grow(void **v, size_t *cap, size_t n, size_t elem)
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

int store_load_active(struct store *st, struct alert **out, size_t *n)
{
    int err = 0, rc;
    sqlite3_stmt *s = stmt_get(st, STMT_ACTIVE, &err);
    struct alert *v = NULL;
    size_t cap = 0, count = 0;

    *out = NULL;
    *n = 0;
    st->err[0] = '\0';
    if (!s)
        return err;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if ((err = grow((void **)&v, &cap, count, sizeof(*v))) < 0) {
            fail_with(st, err, "load active alerts: out of memory");
            goto out_free_rows;
        }
        if ((err = read_alert(st, s, &v[count])) < 0)
            goto out_free_rows;
        count++;
    }
    if (rc != SQLITE_DONE) {
        err = fail(st, rc, "load active alerts");
        goto out_free_rows;
    }
    stmt_done(s);
    *out = v;
    *n = count;
    return 0;

out_free_rows:
    stmt_done(s);
    free(v);
    return err;
}

/* ---- History --------------------------------------------------------------- */

static void read_history(sqlite3_stmt *s, struct store_history *h)
{
    struct reader r = {s, 0};

    memset(h, 0, sizeof(*h));
    COL_FIELD(&r, h->alert_id);
    COL_FIELD(&r, h->rule);
    COL_FIELD(&r, h->subject);
    COL_FIELD(&r, h->hall);
    COL_FIELD(&r, h->device);
    COL_FIELD(&r, h->window);
    COL_FIELD(&r, h->severity);
    COL_FIELD(&r, h->transition);
    h->at = col_double(&r);
    COL_FIELD(&r, h->by);
    COL_FIELD(&r, h->note);
    COL_FIELD(&r, h->summary);
    h->has_value = col_value(&r, &h->value);
}

int store_history(struct store *st, double from, double to, const char *hall, size_t limit,
                  struct store_history **out, size_t *n)
{
    int err = 0, rc;
    sqlite3_stmt *s = stmt_get(st, hall ? STMT_HISTORY_HALL : STMT_HISTORY, &err);
    struct store_history *v = NULL;
    size_t cap = 0, count = 0;
    struct binder b = {s, 0, SQLITE_OK};

    *out = NULL;
    *n = 0;
    st->err[0] = '\0';
    if (!s)
        return err;
    bind_double(&b, from != 0 ? from : -INFINITY);
    bind_double(&b, to != 0 ? to : INFINITY);
    if (b.rc == SQLITE_OK)
        b.rc = sqlite3_bind_int64(s, 3, limit == 0 || limit > INT64_MAX ? -1 : (int64_t)limit);
    if (hall && b.rc == SQLITE_OK)
        b.rc = sqlite3_bind_text(s, 4, hall, -1, SQLITE_STATIC);
    if (b.rc != SQLITE_OK) {
        err = fail(st, b.rc, "bind history query");
        goto out_free_rows;
    }
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if ((err = grow((void **)&v, &cap, count, sizeof(*v))) < 0) {
            fail_with(st, err, "read history: out of memory");
            goto out_free_rows;
        }
        read_history(s, &v[count++]);
    }
    if (rc != SQLITE_DONE) {
        err = fail(st, rc, "read history");
        goto out_free_rows;
    }
    stmt_done(s);
    *out = v;
    *n = count;
    return 0;

out_free_rows:
    stmt_done(s);
    free(v);
    return err;
}

/* ---- Baselines ------------------------------------------------------------- */

int store_baseline_get(struct store *st, const char *device, const char *metric, char *value,
                       size_t size)
{
    int err = 0, rc;
    sqlite3_stmt *s = stmt_get(st, STMT_BASELINE_GET, &err);
    struct binder b = {s, 0, SQLITE_OK};

    st->err[0] = '\0';
    if (size > 0)
        value[0] = '\0';
    if (!s)
        return err;
    bind_str(&b, device, SIZE_MAX);
    bind_str(&b, metric, SIZE_MAX);
    if (b.rc != SQLITE_OK) {
        err = fail(st, b.rc, "bind baseline query");
        goto out_reset;
    }
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        const char *text = (const char *)sqlite3_column_text(s, 0);
        size_t len = text ? (size_t)sqlite3_column_bytes(s, 0) : 0;

        if (len >= size) {
            err = fail_with(st, -ENOSPC, "baseline %s/%s: %zu bytes do not fit in %zu", device,
                            metric, len, size);
            goto out_reset;
        }
        memcpy(value, text ? text : "", len);
        value[len] = '\0';
    } else if (rc == SQLITE_DONE) {
        err = -ENOENT;
    } else {
        err = fail(st, rc, "read baseline %s/%s", device, metric);
    }
out_reset:
    stmt_done(s);
    return err;
}

int store_baseline_set(struct store *st, const char *device, const char *metric, const char *value,
                       const char *by, double at)
{
    int err = 0;
    sqlite3_stmt *s;
    struct binder b = {NULL, 0, SQLITE_OK};

    st->err[0] = '\0';
    if (!device || !metric || !value)
        return fail_with(st, -EINVAL, "baseline: device, metric and value are required");
    if (st->readonly)
        return fail_with(st, -EROFS, "baseline %s/%s: the store is open read-only", device, metric);
    if (!(s = stmt_get(st, STMT_BASELINE_SET, &err)))
        return err;
    b.stmt = s;
    bind_str(&b, device, SIZE_MAX);
    bind_str(&b, metric, SIZE_MAX);
    bind_str(&b, value, SIZE_MAX);
    bind_str(&b, by, SIZE_MAX);
    bind_double(&b, at);
    if (b.rc != SQLITE_OK) {
        err = fail(st, b.rc, "bind baseline %s/%s", device, metric);
        stmt_done(s);
        return err;
    }
    return stmt_run(st, s, "write baseline");
}

/* ---- Overrides ------------------------------------------------------------- */

static void read_override(sqlite3_stmt *s, struct store_override *o)
{
    struct reader r = {s, 0};

    memset(o, 0, sizeof(*o));
    COL_FIELD(&r, o->device);
    o->until = col_double(&r);
    COL_FIELD(&r, o->reason);
    COL_FIELD(&r, o->by);
    o->created = col_double(&r);
}

static int log_override(struct store *st, const struct store_override *o, const char *action,
                        const char *by, double at)
{
    int err = 0;
    sqlite3_stmt *s = stmt_get(st, STMT_OVERRIDE_LOG_ADD, &err);
    struct binder b = {s, 0, SQLITE_OK};

    if (!s)
        return err;
    BIND_FIELD(&b, o->device);
    bind_str(&b, action, SIZE_MAX);
    bind_double(&b, o->until);
    BIND_FIELD(&b, o->reason);
    bind_str(&b, by, 64);
    bind_double(&b, at);
    if (b.rc != SQLITE_OK) {
        err = fail(st, b.rc, "bind override log of %s", o->device);
        stmt_done(s);
        return err;
    }
    return stmt_run(st, s, "append override log");
}

int store_override_set(struct store *st, const struct store_override *o)
{
    int err = 0;
    sqlite3_stmt *s;
    struct binder b = {NULL, 0, SQLITE_OK};

    st->err[0] = '\0';
    if (st->readonly)
        return fail_with(st, -EROFS, "override of %s: the store is open read-only", o->device);
    if ((err = exec_simple(st, STMT_BEGIN, "begin")) < 0)
        return err;
    if (!(s = stmt_get(st, STMT_OVERRIDE_PUT, &err)))
        goto out_rollback;
    b.stmt = s;
    BIND_FIELD(&b, o->device);
    bind_double(&b, o->until);
    BIND_FIELD(&b, o->reason);
    BIND_FIELD(&b, o->by);
    bind_double(&b, o->created);
    if (b.rc != SQLITE_OK) {
        err = fail(st, b.rc, "bind override of %s", o->device);
        stmt_done(s);
        goto out_rollback;
    }
    if ((err = stmt_run(st, s, "write override")) < 0)
        goto out_rollback;
    if ((err = log_override(st, o, "add", o->by, o->created)) < 0)
        goto out_rollback;
    if ((err = exec_simple(st, STMT_COMMIT, "commit")) < 0)
        goto out_rollback;
    return 0;

out_rollback:
    rollback(st);
    return err;
}

/* The override of device into *o: 0 or -ENOENT (or an error). */
static int get_override(struct store *st, const char *device, struct store_override *o)
{
    int err = 0, rc;
    sqlite3_stmt *s = stmt_get(st, STMT_OVERRIDE_GET, &err);
    struct binder b = {s, 0, SQLITE_OK};

    if (!s)
        return err;
    bind_str(&b, device, SIZE_MAX);
    if (b.rc != SQLITE_OK) {
        err = fail(st, b.rc, "bind override query");
        stmt_done(s);
        return err;
    }
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        read_override(s, o);
    else if (rc == SQLITE_DONE)
        err = -ENOENT;
    else
        err = fail(st, rc, "read override of %s", device);
    stmt_done(s);
    return err;
}

static int delete_override(struct store *st, const char *device)
{
    int err = 0;
    sqlite3_stmt *s = stmt_get(st, STMT_OVERRIDE_DELETE, &err);
    struct binder b = {s, 0, SQLITE_OK};

    if (!s)
        return err;
    bind_str(&b, device, SIZE_MAX);
    if (b.rc != SQLITE_OK) {
        err = fail(st, b.rc, "bind override delete");
        stmt_done(s);
        return err;
    }
    return stmt_run(st, s, "delete override");
}

int store_override_remove(struct store *st, const char *device, const char *by, double at,
                          struct store_override *removed)
{
    struct store_override o = {0};
    int err;

    st->err[0] = '\0';
    if (st->readonly)
        return fail_with(st, -EROFS, "override of %s: the store is open read-only", device);
    if ((err = exec_simple(st, STMT_BEGIN, "begin")) < 0)
        return err;
    if ((err = get_override(st, device, &o)) < 0)
        goto out_rollback;
    if ((err = delete_override(st, device)) < 0 ||
        (err = log_override(st, &o, "remove", by ? by : "", at)) < 0)
        goto out_rollback;
    if ((err = exec_simple(st, STMT_COMMIT, "commit")) < 0)
        goto out_rollback;
    if (removed)
        *removed = o;
    return 0;

out_rollback:
    rollback(st);
    return err;
}

/* Runs the override query id with ?1 = now into a malloc'd array. */
static int query_overrides(struct store *st, enum stmt_id id, double now,
                           struct store_override **out, size_t *n)
{
    int err = 0, rc;
    sqlite3_stmt *s = stmt_get(st, id, &err);
    struct store_override *v = NULL;
    size_t cap = 0, count = 0;
    struct binder b = {s, 0, SQLITE_OK};

    *out = NULL;
    *n = 0;
    if (!s)
        return err;
    bind_double(&b, now);
    if (b.rc != SQLITE_OK) {
        err = fail(st, b.rc, "bind overrides query");
        goto out_free_rows;
    }
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if ((err = grow((void **)&v, &cap, count, sizeof(*v))) < 0) {
            fail_with(st, err, "read overrides: out of memory");
            goto out_free_rows;
        }
        read_override(s, &v[count++]);
    }
    if (rc != SQLITE_DONE) {
        err = fail(st, rc, "read overrides");
        goto out_free_rows;
    }
    stmt_done(s);
    *out = v;
    *n = count;
    return 0;

out_free_rows:
    stmt_done(s);
    free(v);
    return err;
}

int store_overrides(struct store *st, double now, struct store_override **out, size_t *n)
{
    st->err[0] = '\0';
    return query_overrides(st, STMT_OVERRIDES, now, out, n);
}

int store_overrides_expire(struct store *st, double now, struct store_override **expired, size_t *n)
{
    struct store_override *v = NULL;
    size_t count = 0;
    int err;

    *expired = NULL;
    *n = 0;
    st->err[0] = '\0';
    if (st->readonly)
        return fail_with(st, -EROFS, "expire overrides: the store is open read-only");
    /* A read first: most calls find nothing and write nothing. */
    if ((err = query_overrides(st, STMT_OVERRIDES_EXPIRED, now, &v, &count)) < 0 || count == 0)
        return err;
    free(v);
    if ((err = exec_simple(st, STMT_BEGIN, "begin")) < 0)
        return err;
    if ((err = query_overrides(st, STMT_OVERRIDES_EXPIRED, now, &v, &count)) < 0)
        goto out_rollback;
    for (size_t i = 0; i < count; i++) {
        /* Logged as of the moment it ran out, whoever notices. */
        if ((err = delete_override(st, v[i].device)) < 0 ||
            (err = log_override(st, &v[i], "expire", v[i].by, v[i].until)) < 0)
            goto out_rollback;
    }
    if ((err = exec_simple(st, STMT_COMMIT, "commit")) < 0)
        goto out_rollback;
    *expired = v;
    *n = count;
    return 0;

out_rollback:
    rollback(st);
    free(v);
    return err;
}

int store_override_log(struct store *st, double from, double to, struct store_override_event **out,
                       size_t *n)
{
    int err = 0, rc;
    sqlite3_stmt *s = stmt_get(st, STMT_OVERRIDE_LOG, &err);
    struct store_override_event *v = NULL;
    size_t cap = 0, count = 0;
    struct binder b = {s, 0, SQLITE_OK};

    *out = NULL;
    *n = 0;
    st->err[0] = '\0';
    if (!s)
        return err;
    bind_double(&b, from != 0 ? from : -INFINITY);
    bind_double(&b, to != 0 ? to : INFINITY);
    if (b.rc != SQLITE_OK) {
        err = fail(st, b.rc, "bind override log query");
        goto out_free_rows;
    }
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct reader r = {s, 0};
        struct store_override_event *e;

        if ((err = grow((void **)&v, &cap, count, sizeof(*v))) < 0) {
            fail_with(st, err, "read override log: out of memory");
            goto out_free_rows;
        }
        e = &v[count++];
        memset(e, 0, sizeof(*e));
        COL_FIELD(&r, e->device);
        COL_FIELD(&r, e->action);
        e->until = col_double(&r);
        COL_FIELD(&r, e->reason);
        COL_FIELD(&r, e->by);
        e->at = col_double(&r);
    }
    if (rc != SQLITE_DONE) {
        err = fail(st, rc, "read override log");
        goto out_free_rows;
    }
    stmt_done(s);
    *out = v;
    *n = count;
    return 0;

out_free_rows:
    stmt_done(s);
    free(v);
    return err;
}

/* ---- The power-off log ----------------------------------------------------- */

int store_poweroff_add(struct store *st, const struct store_poweroff_step *p)
{
    int err = 0;
    sqlite3_stmt *s;
    struct binder b = {NULL, 0, SQLITE_OK};

    st->err[0] = '\0';
    if (st->readonly)
        return fail_with(st, -EROFS, "power-off log: the store is open read-only");
    if (!(s = stmt_get(st, STMT_POWEROFF_ADD, &err)))
        return err;
    b.stmt = s;
    BIND_FIELD(&b, p->date);
    bind_double(&b, p->at);
    BIND_FIELD(&b, p->hall);
    BIND_FIELD(&b, p->window);
    BIND_FIELD(&b, p->device);
    BIND_FIELD(&b, p->kind);
    BIND_FIELD(&b, p->step);
    bind_int(&b, p->ok);
    BIND_FIELD(&b, p->detail);
    if (b.rc != SQLITE_OK) {
        err = fail(st, b.rc, "bind power-off step of %s", p->device);
        stmt_done(s);
        return err;
    }
    return stmt_run(st, s, "append power-off step");
}

int store_poweroff_log(struct store *st, const char *date, const char *hall, double from, double to,
                       struct store_poweroff_step **out, size_t *n)
{
    int err = 0, rc;
    sqlite3_stmt *s = stmt_get(st, STMT_POWEROFF_LOG, &err);
    struct store_poweroff_step *v = NULL;
    size_t cap = 0, count = 0;
    struct binder b = {s, 0, SQLITE_OK};

    *out = NULL;
    *n = 0;
    st->err[0] = '\0';
    if (!s)
        return err;
    if (date)
        bind_str(&b, date, SIZE_MAX);
    else if (b.rc == SQLITE_OK)
        b.rc = sqlite3_bind_null(s, ++b.idx);
    if (hall)
        bind_str(&b, hall, SIZE_MAX);
    else if (b.rc == SQLITE_OK)
        b.rc = sqlite3_bind_null(s, ++b.idx);
    bind_double(&b, from != 0 ? from : -INFINITY);
    bind_double(&b, to != 0 ? to : INFINITY);
    if (b.rc != SQLITE_OK) {
        err = fail(st, b.rc, "bind power-off log query");
        goto out_free_rows;
    }
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct reader r = {s, 0};
        struct store_poweroff_step *p;

        if ((err = grow((void **)&v, &cap, count, sizeof(*v))) < 0) {
            fail_with(st, err, "read power-off log: out of memory");
            goto out_free_rows;
        }
        p = &v[count++];
        memset(p, 0, sizeof(*p));
        COL_FIELD(&r, p->date);
        p->at = col_double(&r);
        COL_FIELD(&r, p->hall);
        COL_FIELD(&r, p->window);
        COL_FIELD(&r, p->device);
        COL_FIELD(&r, p->kind);
        COL_FIELD(&r, p->step);
        p->ok = col_int(&r) != 0;
        COL_FIELD(&r, p->detail);
    }
    if (rc != SQLITE_DONE) {
        err = fail(st, rc, "read power-off log");
        goto out_free_rows;
    }
    stmt_done(s);
    *out = v;
    *n = count;
    return 0;

out_free_rows:
    stmt_done(s);
    free(v);
    return err;
}
