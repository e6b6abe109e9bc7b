/* The state store's internals, shared by store.c (opening, the schema, the
 * statement helpers), store_alerts.c, store_overrides.c, store_accounts.c,
 * store_silences.c and store_writer.c. Not for use outside the store. */
#ifndef HALLGW_STORE_INT_H
#define HALLGW_STORE_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <sqlite3.h>

#include "store.h"

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
    STMT_ACCOUNT_ADD,
    STMT_ACCOUNT_GET,
    STMT_ACCOUNT_SET,
    STMT_ACCOUNTS,
    STMT_TOKEN_ADD,
    STMT_TOKEN_GET,
    STMT_TOKEN_USED,
    STMT_TOKEN_DELETE,
    STMT_TOKENS,
    STMT_SESSION_ADD,
    STMT_SESSION_GET,
    STMT_SESSION_DELETE,
    STMT_SESSIONS_END,
    STMT_AUDIT_ADD,
    STMT_AUDIT,
    STMT_SILENCE_PUT,
    STMT_SILENCE_GET,
    STMT_SILENCES,
    STMT_DELIVERY_CLAIM,
    STMT_DELIVERY_UPDATE,
    STMT_DELIVERIES,
    STMT_COUNT
};

struct store {
    sqlite3 *db;
    bool readonly;
    sqlite3_stmt *stmt[STMT_COUNT];
    char err[512];
};

/* Binds parameters in order; the first failure sticks in rc. */
struct store_binder {
    sqlite3_stmt *stmt;
    int idx;
    int rc;
};

/* A fixed-size char array of struct alert, read no further than its size. */
#define BIND_FIELD(b, arr) store_bind_str((b), (arr), sizeof(arr))

/* Reads columns in order. */
struct store_reader {
    sqlite3_stmt *stmt;
    int idx;
};

#define COL_FIELD(r, arr) store_col_str((r), (arr), sizeof(arr))

/* Sets st->err to "<what>: <SQLite's message>" (with the system's reason when
 * a file could not be opened or read) and returns the negative errno of rc. */
__attribute__((format(printf, 3, 4))) int store_fail(struct store *st, int rc, const char *fmt,
                                                     ...);
/* Sets st->err for a failure that is not SQLite's, returns err. */
__attribute__((format(printf, 3, 4))) int store_fail_with(struct store *st, int err,
                                                          const char *fmt, ...);

void store_bind_str(struct store_binder *b, const char *s, size_t max);
void store_bind_double(struct store_binder *b, double v);
void store_bind_int(struct store_binder *b, int v);
/* NULL when there is no value (or it is NaN, which SQLite cannot keep). */
void store_bind_value(struct store_binder *b, bool has_value, double v);

/* Copies a text column into dst, cut to fit at a UTF-8 character boundary. */
void store_col_str(struct store_reader *r, char *dst, size_t size);
double store_col_double(struct store_reader *r);
int store_col_int(struct store_reader *r);
bool store_col_value(struct store_reader *r, double *v);

/* The cached statement id, prepared on first use; NULL with st->err set. */
sqlite3_stmt *store_stmt_get(struct store *st, enum stmt_id id, int *err);
/* Leaves a statement ready for its next use, with no pointer bound. */
void store_stmt_done(sqlite3_stmt *s);
/* Steps s to completion (no rows expected). */
int store_stmt_run(struct store *st, sqlite3_stmt *s, const char *what);
int store_exec(struct store *st, enum stmt_id id, const char *what);
void store_rollback(struct store *st);
/* Makes room for one more element in a growing array. */
int store_grow(void **v, size_t *cap, size_t n, size_t elem);

/* Reads one row of s into row (zeroed); 0, or a negative errno with st->err
 * set. */
typedef int (*store_row_fn)(struct store *st, sqlite3_stmt *s, void *row);

/* Steps s (bound) to the end, each row read by read into a growing array of
 * elem-byte rows: on 0, *out (free() it) holds *n rows; on an error, named
 * by what in st->err, nothing. s is left ready for its next use. */
int store_read_rows(struct store *st, sqlite3_stmt *s, size_t elem, store_row_fn read,
                    const char *what, void **out, size_t *n);

/* Binds the parameters of a statement from arg, in order. */
typedef void (*store_bind_fn)(struct store_binder *b, const void *arg);

/* Runs statement id (no rows expected) with the parameters bind puts from
 * arg; what names it in st->err. With changes, the number of rows it
 * changed. 0 or a negative errno. */
int store_run(struct store *st, enum stmt_id id, store_bind_fn bind, const void *arg,
              const char *what, int *changes);

/* Runs query id with the parameters bind puts from arg and reads its first
 * row into row: 0, -ENOENT when there is none, or a negative
 * errno. */
int store_query_one(struct store *st, enum stmt_id id, store_bind_fn bind, const void *arg,
                    store_row_fn read, const char *what, void *row);

/* Runs query id and reads every row, as store_read_rows. */
int store_query(struct store *st, enum stmt_id id, store_bind_fn bind, const void *arg, size_t elem,
                store_row_fn read, const char *what, void **out, size_t *n);

#endif
