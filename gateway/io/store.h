/* The state store (SQLite is included in store*.c only): active alerts and
 * the full history of their transitions (the patrol record, 巡查记录),
 * approved baselines, power-off overrides with their log, and the power-off
 * log. One file, <state_dir>/hallgw.db, WAL mode, synchronous=FULL: a
 * committed write survives a power loss.
 *
 * A handle is owned by one thread at a time (the core); the CLI opens its own
 * read-only or read-write handle. The gateway records alert transitions
 * through a store_writer (below): its own thread and connection, so the core
 * never waits for the disk. */
#ifndef HALLGW_STORE_H
#define HALLGW_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include "alert.h"
#include "record.h"

struct store;

/* Errors, here and below: 0 or a negative errno: -EBUSY when another
 * connection holds the database past the busy timeout (SQLITE_BUSY/LOCKED),
 * -EROFS when it cannot be written (SQLITE_READONLY, or a write through a
 * readonly handle), -ENOSPC when the disk is full, -ENOMEM, -EPROTO for a
 * schema this build does not know (newer, or not yet created when readonly),
 * the system's errno when the file cannot be opened or created (-ENOENT,
 * -EACCES, ...), -EIO for anything else SQLite reports. */

/* Opens (creating and migrating the schema as needed) path: WAL, foreign
 * keys, synchronous=FULL on every write of this handle, busy timeout 5 s.
 * readonly for the CLI's listings: the file must exist and already carry the
 * current schema; nothing is created or migrated. On failure *out is NULL and
 * *why (if not NULL) gets the reason, SQLite's message with the system's
 * (without the path: "cannot open PATH: " + why reads well), in a
 * thread-local buffer valid until the next store_open of this thread. */
int store_open(const char *path, bool readonly, struct store **out, const char **why);
void store_close(struct store *st); /* NULL does nothing */

/* The message of the last failure on st ("" when none): what was being done
 * and SQLite's own message. Valid until the next call on st. */
const char *store_last_error(const struct store *st);

/* How long a statement waits for another connection's lock before -EBUSY
 * (default 5000 ms; 0 fails at once). */
void store_set_busy_timeout(struct store *st, int timeout_ms);

/* Records a transition of a, in one transaction: the alert's current row is
 * written from a (upserted while a is firing or acknowledged, deleted
 * otherwise), and AT_FIRING, AT_ACKNOWLEDGED and AT_RESOLVED append a history
 * row with who (acked_by, resolved_by) and the note. AT_PENDING and
 * AT_CANCELLED are not recorded (nothing is written); AT_NONE only updates the
 * current row (a changed note, summary or value, the notification
 * bookkeeping). Returns 0 or a negative errno; nothing is written then. */
int store_record(struct store *st, const struct alert *a, enum alert_transition t);

/* One transition to record: a copy of the alert as it was then. */
struct store_transition {
    struct alert alert;
    enum alert_transition t;
};

/* Records v[0..n) in order, as store_record would, in one transaction (one
 * sync to disk): all of them or, on failure, none. */
int store_record_batch(struct store *st, const struct store_transition *v, size_t n);

/* Loads every active alert (firing or acknowledged; pending ones are not
 * stored) into a malloc'd array (free() it; NULL when *n is 0), oldest
 * firing first. pending_since_mono is 0: the monotonic clock of another run
 * means nothing. */
int store_load_active(struct store *st, struct alert **out, size_t *n);

/* History rows with at in [from, to) (0 = unbounded), optionally one hall
 * (NULL = all), oldest first, at most limit rows (0 = no limit), into a
 * malloc'd array (free() it; NULL when *n is 0). */
int store_history(struct store *st, wall_s from, wall_s to, const char *hall, size_t limit,
                  struct record_alert **out, size_t *n);
/* The same, skipping the first offset rows (pages of limit rows). */
int store_history_page(struct store *st, wall_s from, wall_s to, const char *hall, size_t offset,
                       size_t limit, struct record_alert **out, size_t *n);

/* Approved baseline values (e.g. net_fp per PC). */
/* 0, -ENOENT when none is approved, -ENOSPC when it does not fit in size
 * (value is then ""), or a negative errno. */
int store_baseline_get(struct store *st, const char *device, const char *metric, char *value,
                       size_t size);
/* Approves value (replacing any earlier one), by whom and when. */
int store_baseline_set(struct store *st, const char *device, const char *metric, const char *value,
                       const char *by, wall_s at);

/* ---- Power-off overrides ("keep pc-w03 on until 21:00, reason: overtime") */

/* Sets the override of o->device (one per device: replaces an earlier one)
 * and logs "add" (by o->by, at o->created), in one transaction. */
int store_override_set(struct store *st, const struct record_override *o);

/* Removes device's override and logs "remove" by whom, at; the removed one
 * into *removed when not NULL. -ENOENT when there is none. */
int store_override_remove(struct store *st, const char *device, const char *by, wall_s at,
                          struct record_override *removed);

/* The overrides still in force at now (until > now), by device, into a
 * malloc'd array (free() it; NULL when *n is 0). Expired ones that are still
 * stored are left out. */
int store_overrides(struct store *st, wall_s now, struct record_override **out, size_t *n);

/* Deletes the overrides that ran out by now (until <= now), logging each as
 * "expire" at its until, and returns them (malloc'd, free() it; NULL when *n
 * is 0). Writes nothing when none ran out. */
int store_overrides_expire(struct store *st, wall_s now, struct record_override **expired,
                           size_t *n);

/* Override log entries with at in [from, to) (0 = unbounded), oldest first
 * (malloc'd; NULL when *n is 0). */
int store_override_log(struct store *st, wall_s from, wall_s to, struct record_override_event **out,
                       size_t *n);

/* ---- The power-off log: every step of power-off enforcement ------------- */

/* Appends one step. */
int store_poweroff_add(struct store *st, const struct record_poweroff_step *p);

/* Steps of one run date (NULL: any), one hall (NULL: all) and with at in
 * [from, to) (0 = unbounded), in the order they were written (malloc'd;
 * NULL when *n is 0). */
int store_poweroff_log(struct store *st, const char *date, const char *hall, wall_s from, wall_s to,
                       struct record_poweroff_step **out, size_t *n);

/* ---- The daily record's deliveries ----------------------------------------- */

/* One day's record for one set of halls on one notify route. A sender first
 * claims it (store_delivery_claim), so that of several senders sharing the
 * file (a restart, two gateways) only one sends it, then records each
 * attempt. */
struct record_delivery {
    char day[11];     /* YYYY-MM-DD */
    char halls[1024]; /* the hall ids of the record, "," between */
    char route[65];
    char state[8];      /* "sending", "sent", "failed" */
    char owner[128];    /* the sender that holds the claim */
    wall_s lease_until; /* "sending": another may take it over after this */
    int attempts;
    wall_s sent_at; /* 0 until sent */
    char last_error[ALERT_TEXT_MAX];
    wall_s changed;
};

/* Claims d->day, d->halls, d->route for d->owner until d->lease_until, at
 * d->changed: 0 when the claim is owner's (a new row, or one still sending
 * whose lease ran out before d->changed: its sender went away), -EALREADY
 * when it was sent or failed for good or another sender holds it. */
int store_delivery_claim(struct store *st, const struct record_delivery *d);

/* Records the outcome so far of a claimed delivery (state, lease_until,
 * attempts, sent_at, last_error, changed): 0, or -ESTALE when d->owner no
 * longer holds the claim. */
int store_delivery_update(struct store *st, const struct record_delivery *d);

/* The deliveries of days from..to (YYYY-MM-DD, both included), by day, halls
 * and route (malloc'd; NULL when *n is 0). */
int store_deliveries(struct store *st, const char *from, const char *to,
                     struct record_delivery **out, size_t *n);

/* ---- The transition writer ---------------------------------------------- */

/* Records alert transitions on a thread of its own, with its own connection
 * to the file: store_writer_record() only queues a copy, and the thread
 * commits everything queued since its last commit in one transaction (group
 * commit: one sync to disk for a burst of transitions). Transitions are
 * written in the order they were queued. A batch that fails is retried one
 * transition at a time; a transition that still fails is counted
 * (MET_STORE_ERRORS) and logged. */
struct store_writer;

/* At most this many transitions wait; past it store_writer_record() waits
 * for room (the disk is then the limit). */
#define STORE_WRITER_QUEUE_MAX 1024

/* Opens path read-write (as store_open, which must have created and migrated
 * it already) and starts the thread. *why as for store_open. */
int store_writer_start(const char *path, struct store_writer **out, const char **why);

/* Queues a copy of transition t of a (nothing for one store_record would not
 * write). Returns 0, or -ENOMEM (nothing queued). */
int store_writer_record(struct store_writer *w, const struct alert *a, enum alert_transition t);

/* Waits until every transition queued before the call is committed (or has
 * failed). */
void store_writer_flush(struct store_writer *w);

/* Transitions queued and not yet committed (for tests and /metrics). */
size_t store_writer_pending(struct store_writer *w);

/* Commits everything queued, stops the thread and closes its connection.
 * NULL does nothing. */
void store_writer_stop(struct store_writer *w);

/* ---- People: accounts, their API tokens and sessions, the audit log ----- */

/* Adds an account: -EEXIST when the name is taken. */
int store_account_add(struct store *st, const struct record_account *a);
/* The account name into *a: 0 or -ENOENT. */
int store_account_get(struct store *st, const char *name, struct record_account *a);
/* Writes a's role, hash and disabled (by a->name, at a->changed): 0 or
 * -ENOENT. Ends every session of the account in the same transaction, so a
 * new password, a new role or a disabled account takes effect at once. */
int store_account_set(struct store *st, const struct record_account *a);
/* Every account by name (malloc'd; NULL when *n is 0). */
int store_accounts(struct store *st, struct record_account **out, size_t *n);

int store_token_add(struct store *st, const struct record_token *t);
int store_token_get(struct store *st, const char *id, struct record_token *t);
/* Notes that token id was used at (at most once a minute is enough). */
int store_token_used(struct store *st, const char *id, wall_s at);
/* -ENOENT when there is no such token. */
int store_token_delete(struct store *st, const char *id);
/* The tokens of account (NULL: of all), malloc'd; NULL when *n is 0. */
int store_tokens(struct store *st, const char *account, struct record_token **out, size_t *n);

int store_session_add(struct store *st, const struct record_session *s);
/* The session whose hash is id_hash and that has not expired by now. */
int store_session_get(struct store *st, const char *id_hash, wall_s now, struct record_session *s);
int store_session_delete(struct store *st, const char *id_hash);
/* Deletes the sessions of account (NULL: none) and every one expired by
 * now. */
int store_sessions_end(struct store *st, const char *account, wall_s now);

int store_audit_add(struct store *st, const struct record_audit *a);
/* The same from its parts, each cut to fit (NULL addr, target or detail:
 * ""). */
int store_audit_note(struct store *st, const char *account, const char *addr, const char *action,
                     const char *target, const char *detail, bool ok, wall_s at);
/* Audit entries with at in [from, to) (0 = unbounded), oldest first, at most
 * limit (0 = no limit); malloc'd, NULL when *n is 0. */
int store_audit(struct store *st, wall_s from, wall_s to, size_t limit, struct record_audit **out,
                size_t *n);

/* ---- Silences --------------------------------------------------------- */

/* Adds s, or replaces the silence of the same id (an extension, or an early
 * end). */
int store_silence_put(struct store *st, const struct record_silence *s);
/* The silence id into *s: 0 or -ENOENT. */
int store_silence_get(struct store *st, const char *id, struct record_silence *s);
/* The silences in force at some time in [from, to) (to 0: unbounded), by
 * start (malloc'd; NULL when *n is 0). store_silences(st, now, 0, ...) are
 * those in force now or later. */
int store_silences(struct store *st, wall_s from, wall_s to, struct record_silence **out,
                   size_t *n);

#endif
