/* The state store (SQLite is included here only): active alerts and the full
 * history of their transitions (the patrol record, 巡查记录), approved
 * baselines. One file, <state_dir>/hallgw.db, WAL mode; alert transitions are
 * written with synchronous=FULL, so an acknowledged transition survives a
 * power loss.
 *
 * Owned by one thread at a time (the core); the CLI opens its own read-only
 * or read-write handle. */
#ifndef HALLGW_STORE_H
#define HALLGW_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include "alert.h"

struct store;

/* Opens (creating and migrating the schema as needed) path. readonly for the
 * CLI's listings. Returns 0 or a negative errno; *why (if not NULL) gets
 * SQLite's message in a static buffer. */
int store_open(const char *path, bool readonly, struct store **out, const char **why);
void store_close(struct store *st); /* NULL does nothing */

/* Records a transition of a: updates the alert's current row (deleting it
 * when resolved) and appends a history row with who and the note, in one
 * transaction. Returns 0 or a negative errno. */
int store_record(struct store *st, const struct alert *a, enum alert_transition t);

/* Loads every active alert (firing or acknowledged; pending ones are not
 * stored) into a malloc'd array. */
int store_load_active(struct store *st, struct alert **out, size_t *n);

/* One history row. */
struct store_history {
    char alert_id[ALERT_ID_MAX + 1];
    char rule[65], subject[65], hall[65], device[65], window[65];
    char severity[16], transition[16];
    double at; /* unix seconds */
    char by[65];
    char note[ALERT_TEXT_MAX];
    char summary[ALERT_TEXT_MAX];
};

/* History rows with at in [from, to) (0 = unbounded), optionally one hall
 * (NULL = all), oldest first, at most limit rows (0 = no limit). */
int store_history(struct store *st, double from, double to, const char *hall, size_t limit,
                  struct store_history **out, size_t *n);

/* Approved baseline values (e.g. net_fp per PC). */
int store_baseline_get(struct store *st, const char *device, const char *metric, char *value,
                       size_t size); /* 0, -ENOENT, or a negative errno */
int store_baseline_set(struct store *st, const char *device, const char *metric,
                       const char *value, const char *by, double at);

#endif
