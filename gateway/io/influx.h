/* The InfluxDB writer: a thread that owns the HTTP client and the spool.
 *
 * The core hands it whole batches of line protocol. It writes them in order
 * (v1 /write or v2 /api/v2/write, gzip, precision ns):
 *   204        done;
 *   400, 422   final: the bad points are counted and dropped, never retried
 *              (InfluxDB keeps the good lines of a partial write);
 *   404        v1 "database not found": CREATE DATABASE, then again;
 *   413        the batch is split in two, recursively;
 *   429, 5xx, 401/403 and network errors: retried with capped exponential
 *              backoff; meanwhile batches go to the on-disk spool, which is
 *              replayed in order before anything newer is sent.
 * influx_writer_stop() writes or spools everything it was given. */
#ifndef HALLGW_INFLUX_H
#define HALLGW_INFLUX_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

struct influx_writer;

struct influx_batch {
    char *data; /* line protocol, '\n'-terminated lines; malloc'd */
    size_t len;
    size_t points;
    uint64_t mark; /* for on_done: 0 none; a batch may carry only a mark */
};

/* Called by the writer's thread, in order, once a batch's points are
 * written, spooled or counted as lost, with the batch's mark (when not 0). */
typedef void (*influx_done_fn)(void *ctx, uint64_t mark);

/* Copies what it needs from cfg, opens the spool and starts the thread.
 * A spool that can not be opened is logged and the writer runs without one
 * (failed batches are then counted as lost). Returns 0 or a negative errno. */
int influx_writer_start(const struct config_influx *cfg, influx_done_fn on_done, void *done_ctx,
                        struct influx_writer **out);

/* Hands b to the writer, which takes ownership of b->data (also on failure,
 * when it frees it). Waits up to wait_ms for room. Returns 0, or -ETIMEDOUT
 * when the writer's queue stayed full (the points are counted as lost). */
int influx_writer_submit(struct influx_writer *w, struct influx_batch *b, int64_t wait_ms);

/* Writes what is queued (one attempt each, unless already backing off) and
 * spools what can not be written, within about drain_ms; then stops the
 * thread and frees w. NULL does nothing. */
void influx_writer_stop(struct influx_writer *w, int64_t drain_ms);

/* Parses InfluxDB's "partial write: ... dropped=N" message; -1 if absent. */
long influx_parse_dropped(const char *body);

#endif
