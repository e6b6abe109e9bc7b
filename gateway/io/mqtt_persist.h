/* The MQTT client's persistence: what the MQTT library must keep across a
 * restart (QoS 1 messages it has acknowledged but not yet handed over,
 * publishes not yet acknowledged), as one append-only log per client.
 *
 * Layout: <dir>/<name>.log, a record log (lib/reclog.h, magic "HGMQ") whose
 * records' payloads are, little-endian:
 *   u32 key length (1..MQTT_PERSIST_KEY_MAX)
 *   u32 data length, or MQTT_PERSIST_TOMBSTONE for a remove
 *   key bytes, data bytes
 * A log of the format earlier versions wrote (records of their own, magic
 * "HGMP") is read at open and rewritten in this one.
 * A put or a remove is one write(); when the last key is removed the file is
 * truncated to 0 bytes (the usual state: everything acknowledged), and when
 * it grows past its live records by MQTT_PERSIST_COMPACT_BYTES it is
 * rewritten (a temporary file renamed over it). At open the log is replayed;
 * a torn or corrupt record ends it (the rest is cut off, logged and counted).
 *
 * No fsync, like the library's own file persistence: a crash of the process
 * loses nothing (the page cache keeps what was written), a crash of the
 * machine may lose the last records.
 *
 * The live records are also held in memory, which is what get() reads: a
 * write that fails (full disk, I/O error) leaves the record in memory, so
 * the running client loses nothing; only a restart before the disk recovers
 * would. Each failure is reported to on_error (the gateway counts
 * mqtt_persist_errors) and logged (rate limited); the log is rewritten from
 * memory once writing works again. Memory is bounded by what the client has in flight.
 *
 * All functions are thread-safe. */
#ifndef HALLGW_MQTT_PERSIST_H
#define HALLGW_MQTT_PERSIST_H

#include <stdbool.h>
#include <stddef.h>

#define MQTT_PERSIST_KEY_MAX 255
#define MQTT_PERSIST_DATA_MAX (256u << 20)
#define MQTT_PERSIST_TOMBSTONE 0xffffffffu
#define MQTT_PERSIST_COMPACT_BYTES (4u << 20)

struct mqtt_persist;

/* Opens (creating dir if needed) the log of client name, replays it, and
 * imports messages the library's own file persistence left in dir (its
 * directories "<name>-<server>", one file "<key>.msg" per key), removing
 * them once they are in the log. A log that cannot be opened is logged and
 * the store works in memory only (every put then counts as an error).
 * on_error(ctx) (may be NULL) is called, from the calling thread, for each
 * failure to write or read the log: the owner counts them.
 * Returns 0, or -ENOMEM / -EINVAL (a name that is empty or holds '/'). */
int mqtt_persist_open(const char *dir, const char *name, void (*on_error)(void *ctx), void *ctx,
                      struct mqtt_persist **out);
void mqtt_persist_close(struct mqtt_persist *p); /* NULL does nothing */

/* Stores the concatenation of n buffers under key (replacing any). Returns 0
 * when it is in the log, a negative errno from the write (ENOSPC, EIO, ...)
 * when it is kept in memory only (counted), -EINVAL for a bad key or size,
 * -ENOMEM when not kept at all. */
int mqtt_persist_put(struct mqtt_persist *p, const char *key, int n, char *const bufs[],
                     const int lens[]);

/* A copy of key's data in memory from alloc (the caller frees it with the
 * matching free); *len its length. Returns 0, -ENOENT or -ENOMEM. */
int mqtt_persist_get(struct mqtt_persist *p, const char *key, void *(*alloc)(size_t), char **data,
                     int *len);

/* Removes key. Returns 0 (also when it was absent), or a negative errno when
 * the remove could not be written (counted; gone from memory anyway). */
int mqtt_persist_remove(struct mqtt_persist *p, const char *key);

bool mqtt_persist_contains(struct mqtt_persist *p, const char *key);

/* The live keys: an array of n strings, the array and each string from
 * alloc. NULL and 0 when there are none. Returns 0 or -ENOMEM. */
int mqtt_persist_keys(struct mqtt_persist *p, void *(*alloc)(size_t), char ***keys, int *n);

/* How many live keys begin with prefix (a scan of them all). */
size_t mqtt_persist_count_prefix(struct mqtt_persist *p, const char *prefix);

/* Removes every key and truncates the log. Returns 0 or a negative errno. */
int mqtt_persist_clear(struct mqtt_persist *p);

/* Tests: the log's size in bytes, and a write failure to inject: each
 * following write writes half its bytes and then fails with err (0 stops). */
long long mqtt_persist_log_bytes(struct mqtt_persist *p);
void mqtt_persist_fail_writes(struct mqtt_persist *p, int err);

#endif
