/* The record log: the one on-disk format for data that must survive a
 * crash, a file of CRC-checked records appended in order. The InfluxDB
 * spool keeps its batches and its cursor in record logs, the MQTT client its
 * in-flight messages.
 *
 * A record, little-endian:
 *   u32 magic     the log's own (RECLOG_MAGIC_* of its user)
 *   u32 length    of the payload, 1 .. RECLOG_RECORD_MAX
 *   u32 CRC-32    (zlib) of the payload
 *   u32 reserved  0
 *   payload
 * An append is one pwritev() at the end; when it fails the bytes written are
 * cut off again, so the log ends with whole records. A crash in the middle
 * of an append leaves a torn tail: a short header, a short payload or a bad
 * CRC, which readers detect (reclog_read, reclog_walk) and the owner cuts
 * off (reclog_truncate).
 *
 * Not thread-safe: a log has one owner at a time. */
#ifndef HALLGW_RECLOG_H
#define HALLGW_RECLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#define RECLOG_HEADER_BYTES 16

/* Little-endian fields, for the payloads of the logs' users. */
static inline void reclog_put_le32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static inline void reclog_put_le64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static inline uint32_t reclog_get_le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t reclog_get_le64(const unsigned char *p)
{
    return (uint64_t)reclog_get_le32(p) | (uint64_t)reclog_get_le32(p + 4) << 32;
}
#define RECLOG_RECORD_MAX (UINT32_C(1) << 30) /* bytes of a payload */

struct reclog {
    int fd;         /* -1 when closed */
    uint32_t magic; /* of every record */
    uint64_t size;  /* the end: where the next record goes */
    int fail_err;   /* tests: each append writes half its bytes, then fails with it */
};

/* Opens name in dir_fd (AT_FDCWD for a path) with flags (O_RDWR, O_CREAT,
 * O_EXCL, O_TRUNC, O_RDONLY; O_CLOEXEC is added) and mode. size is the
 * file's size: nothing is checked yet. Returns 0 or a negative errno. */
int reclog_open(struct reclog *l, int dir_fd, const char *name, int flags, mode_t mode,
                uint32_t magic);
void reclog_close(struct reclog *l); /* a closed log: nothing */

/* Appends one record whose payload is the n parts, at l->size. Returns 0 or
 * a negative errno (-EINVAL for an empty or too large payload); on failure
 * the log is cut back to where it was (best effort). */
int reclog_append(struct reclog *l, const struct iovec *parts, int n);

/* fdatasync: what was appended survives a power cut. */
int reclog_sync(struct reclog *l);

/* The header of the record at off, which must end at or before end: 1 when
 * it is well formed (*len its payload length), 0 when it is not (a torn or
 * foreign header), or a negative errno. */
int reclog_header(const struct reclog *l, uint64_t off, uint64_t end, uint32_t *len);

/* Reads the record at off (ending at or before end) into a malloc'd *data of
 * *len bytes. Returns 1 when it is whole with a good CRC; 0 when it is torn
 * or corrupt (*next is then the end of a well-formed header's record, where
 * a reader may go on, or 0 when even the header is bad); or a negative
 * errno. *next is the offset after the record. */
int reclog_read(const struct reclog *l, uint64_t off, uint64_t end, void **data, uint32_t *len,
                uint64_t *next);

/* What a walk over [0, end) found. */
struct reclog_walk {
    uint64_t valid_end;    /* end of the well-formed headers from 0 */
    uint64_t records;      /* records in [0, valid_end) */
    uint64_t good_end;     /* end of the last record with a good CRC (check_crc) */
    uint64_t good_records; /* records before good_end */
    uint64_t bad_after;    /* records with a bad CRC after good_end */
};

/* Walks the records header by header, with check_crc also their CRCs
 * (reading every payload). Returns 0 or a negative errno. */
int reclog_walk(const struct reclog *l, uint64_t end, bool check_crc, struct reclog_walk *w);

/* Cuts the log at off (the end of its last good record, say); reclog_sync()
 * makes the cut survive a power cut. Returns 0 or a negative errno. */
int reclog_truncate(struct reclog *l, uint64_t off);

/* The CRC-32 every record carries (zlib's, started with crc 0), for readers
 * of formats that came before the record log. */
uint32_t reclog_crc32(uint32_t crc, const void *data, size_t len);

/* Writes one record as the whole content of the file name in dir_fd,
 * replacing it atomically (name.tmp, fsync, rename, fsync of the
 * directory): a small state that must never be half written (a cursor).
 * Returns 0 or a negative errno. */
int reclog_replace(int dir_fd, const char *name, uint32_t magic, const void *data, size_t len);

/* Reads such a file: 0 and exactly len bytes of its one record into data;
 * -ENOENT when there is none; -EBADMSG when it is not one good record of
 * len bytes. */
int reclog_load(int dir_fd, const char *name, uint32_t magic, void *data, size_t len);

#endif
