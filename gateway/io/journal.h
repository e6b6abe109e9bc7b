/* The inbox journal: every QoS 1 message the MQTT library acknowledges to
 * the broker is recorded here before the acknowledgement, and stays
 * recorded until its points are in InfluxDB or in the spool. After a crash
 * the next start replays what is still recorded, at full speed, before it
 * connects.
 *
 * Layout: <dir>/<name>.journal/, segment files "<first id, 16 hex>.log",
 * record logs (lib/reclog.h, magic "HGJN") of two kinds of record,
 * little-endian:
 *   'M' a message: u8 'M', u8 flags (bit 0 retained, bits 1-2 the QoS),
 *       u16 MQTT packet id, u32 topic length, u64 id, f64 arrival (wall_s),
 *       topic, payload
 *   'D' done: u8 'D', 7 bytes 0, u64 mark: every message with an id up to
 *       mark is written or spooled
 * Ids grow by one per message across runs. A message is one write() (with
 * durability "machine" also an fdatasync before the acknowledgement, or at
 * most sync_interval later); a done mark is one write per batch. Segments
 * are started at each open and when one reaches JOURNAL_SEGMENT_BYTES; a
 * segment whose every message is done is deleted (tombstones go in bulk).
 *
 * At open every segment is read: the messages after the highest done mark
 * are the ones to replay (journal_replay); a torn or corrupt record ends its
 * segment, is cut off and counted, and is never fatal.
 *
 * The arrival of each message is given here, once: a wall-clock instant a
 * microsecond after the one before, so that the replay writes a reading
 * without a device time on the very timestamp of its first writing
 * (InfluxDB keeps a point written twice once).
 *
 * All functions are thread-safe. */
#ifndef HALLGW_JOURNAL_H
#define HALLGW_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clock.h"

#define JOURNAL_SEGMENT_BYTES (UINT64_C(4) << 20)

enum journal_durability {
    JOURNAL_PROCESS, /* write(): survives a crash of the process */
    JOURNAL_MACHINE, /* and fdatasync: survives a power cut */
};

struct journal;

/* What a journal counts; read with journal_stats(). */
struct journal_stats {
    uint64_t recorded;    /* messages recorded in this run */
    uint64_t replayed;    /* messages replayed from the last run */
    uint64_t torn;        /* torn or corrupt tails cut off at open */
    uint64_t redelivered; /* the last run's messages, sent again, dropped */
    uint64_t errors;      /* writes or syncs that failed */
    uint64_t syncs;       /* fdatasyncs */
    uint64_t segments;    /* segment files now */
};

/* Opens (creating) <dir>/<name>.journal and reads what the last run left.
 * sync_interval_ms: with JOURNAL_MACHINE, how long a recorded message may
 * wait for its fdatasync (0: each is synced before its acknowledgement).
 * on_error(ctx) (may be NULL) is called for each failed write or sync.
 * Returns 0, or a negative errno (the directory cannot be made or read). */
int journal_open(const char *dir, const char *name, enum journal_durability durability,
                 int64_t sync_interval_ms, void (*on_error)(void *ctx), void *ctx,
                 struct journal **out);
/* Closes; the segments of a journal whose every message is done are
 * deleted. NULL does nothing. */
void journal_close(struct journal *j);

/* One recorded message, as replayed. */
struct journal_msg {
    uint64_t id;
    wall_s arrival;
    bool retained;
    int qos;
    const char *topic; /* NUL-terminated, topic_len bytes */
    size_t topic_len;
    const char *payload; /* NUL-terminated copy, payload_len bytes */
    size_t payload_len;
};

/* Records a message the MQTT library is about to acknowledge (its message
 * callback runs before the acknowledgement is sent), or one an earlier
 * version's persistence kept. *id is its id and *arrival its arrival, given
 * here. Returns 0, or a negative errno when the write failed (counted; *id
 * is then 0 and the message goes on unrecorded). */
int journal_record(struct journal *j, int msgid, const char *topic, size_t topic_len,
                   const void *payload, size_t payload_len, int qos, bool retained, uint64_t *id,
                   wall_s *arrival);

/* A message the broker sends again (dup set), or one the library kept:
 * true when it is one of the last RECENT (4096) messages the last run
 * recorded (the same packet id, topic and payload), whose acknowledgement
 * a crash cut off. It is written or in the replay already: drop it. */
bool journal_seen(struct journal *j, int msgid, const char *topic, size_t topic_len,
                  const void *payload, size_t payload_len);

/* A fresh arrival instant, a microsecond after every one given before
 * (for a QoS 0 message, which is not recorded). */
wall_s journal_arrival(struct journal *j);

/* Every message with an id up to mark has its points written or spooled
 * (or was refused, or had none). */
void journal_done(struct journal *j, uint64_t mark);

/* Calls fn for each message the last run recorded and did not finish,
 * oldest first, streaming from the segments; stops when fn returns
 * non-zero. Returns how many were replayed, or a negative errno. */
long journal_replay(struct journal *j, int (*fn)(void *ctx, const struct journal_msg *m),
                    void *ctx);

/* With JOURNAL_MACHINE and a sync_interval: syncs what waits longer than
 * that. Call it now and then (the owner's tick). */
void journal_tick(struct journal *j);

void journal_stats(struct journal *j, struct journal_stats *st);

/* Tests: each following write writes half its bytes and then fails with
 * err (0 stops). */
void journal_fail_writes(struct journal *j, int err);

#endif
