/* The on-disk spool: batches of line protocol that could not be written to
 * InfluxDB, kept in order until they can be.
 *
 * Layout: DIR/NNNNNNNNNNNNNNNN.spool segment files, appended to in order;
 * each record is a header {magic, length, CRC-32 of the payload} and the
 * payload. DIR/cursor holds the segment and offset of the oldest record not
 * yet written. A torn tail (short header, short payload or bad CRC, as left
 * by a crash mid-append) is detected on open, counted and cut off. When the
 * spool would pass max_bytes, the oldest whole segments are deleted and their
 * records counted as dropped. When the disk itself is full (ENOSPC, EDQUOT)
 * the oldest segments are dropped the same way until the record fits.
 *
 * Not thread-safe: owned by the InfluxDB writer thread. */
#ifndef HALLGW_SPOOL_H
#define HALLGW_SPOOL_H

#include <stddef.h>
#include <stdint.h>

struct spool;

struct spool_stats {
    uint64_t records;         /* records currently pending */
    uint64_t bytes;           /* bytes on disk, headers included */
    uint64_t appended;        /* records appended since open */
    uint64_t dropped_records; /* deleted to stay under max_bytes or on a full disk */
    uint64_t dropped_lines;   /* the newline-ended lines (points) of those records */
    uint64_t torn;            /* torn or corrupt records cut off */
};

/* Opens (creating DIR if needed) and scans the spool. segment_bytes is the
 * size at which a new segment is started (e.g. 4 MiB); max_bytes the cap on
 * the total. Returns 0 and *out, or a negative errno. */
int spool_open(const char *dir, uint64_t max_bytes, uint64_t segment_bytes, struct spool **out);
void spool_close(struct spool *s); /* NULL does nothing */

/* Appends one record and fsyncs it. A record larger than max_bytes is
 * refused with -EFBIG. On a full disk the oldest segments are dropped (and
 * counted) until it fits; -ENOSPC when it does not fit even alone. Returns 0
 * or a negative errno. */
int spool_append(struct spool *s, const void *data, size_t len);

/* Reads the oldest pending record into a malloc'd buffer (*data, *len) that
 * the caller frees. Returns 0, -ENOENT when the spool is empty, or a negative
 * errno. A corrupt record met here is counted as torn and skipped. */
int spool_peek(struct spool *s, void **data, size_t *len);

/* Marks the record returned by the last spool_peek as written: advances and
 * persists the cursor, deleting segments that are fully written. */
int spool_consume(struct spool *s);

void spool_get_stats(const struct spool *s, struct spool_stats *out);

#endif
