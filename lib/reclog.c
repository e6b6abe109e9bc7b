#include "reclog.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define CHUNK 16384
#define TMP_SUFFIX ".tmp"

/* ---- encoding ----------------------------------------------------------------- */

/* zlib's crc32() takes a uInt length. */
static uint32_t crc_update(uint32_t crc, const void *data, size_t len)
{
    const unsigned char *p = data;
    while (len > 0) {
        uInt n = len > UINT32_MAX ? UINT32_MAX : (uInt)len;
        crc = (uint32_t)crc32(crc, p, n);
        p += n;
        len -= n;
    }
    return crc;
}

static uint32_t crc_start(void)
{
    return (uint32_t)crc32(0L, Z_NULL, 0);
}

uint32_t reclog_crc32(uint32_t crc, const void *data, size_t len)
{
    return crc_update(crc, data, len);
}

/* ---- file I/O ----------------------------------------------------------------- */

/* Reads up to n bytes at off; how many (fewer only at the end of the file)
 * or a negative errno. */
static ssize_t pread_full(int fd, void *buf, size_t n, uint64_t off)
{
    size_t done = 0;
    while (done < n) {
        ssize_t r = pread(fd, (char *)buf + done, n - done, (off_t)(off + done));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -errno;
        if (r == 0)
            break;
        done += (size_t)r;
    }
    return (ssize_t)done;
}

/* Writes the iovecs at off, all of them (pwritev may write less). */
static int pwritev_full(int fd, struct iovec *iov, int n, uint64_t off)
{
    while (n > 0) {
        ssize_t w = pwritev(fd, iov, n, (off_t)off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -errno;
        if (w == 0)
            return -EIO;
        off += (uint64_t)w;
        while (n > 0 && (size_t)w >= iov->iov_len) {
            w -= (ssize_t)iov->iov_len;
            iov++;
            n--;
        }
        if (n > 0) {
            iov->iov_base = (char *)iov->iov_base + w;
            iov->iov_len -= (size_t)w;
        }
    }
    return 0;
}

int reclog_open(struct reclog *l, int dir_fd, const char *name, int flags, mode_t mode,
                uint32_t magic)
{
    struct stat st;
    *l = (struct reclog){.fd = -1, .magic = magic};
    int fd = openat(dir_fd, name, flags | O_CLOEXEC, mode);
    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) < 0) {
        int err = -errno;
        close(fd);
        return err;
    }
    l->fd = fd;
    l->size = (uint64_t)st.st_size;
    return 0;
}

void reclog_close(struct reclog *l)
{
    if (l->fd >= 0)
        close(l->fd);
    l->fd = -1;
}

int reclog_append(struct reclog *l, const struct iovec *parts, int n)
{
    unsigned char header[RECLOG_HEADER_BYTES];
    struct iovec iov[1 + 8];
    uint32_t crc = crc_start();
    size_t len = 0;

    if (n < 0 || n > 8)
        return -EINVAL;
    for (int i = 0; i < n; i++) {
        if (parts[i].iov_len > RECLOG_RECORD_MAX - len)
            return -EINVAL;
        len += parts[i].iov_len;
        crc = crc_update(crc, parts[i].iov_base, parts[i].iov_len);
        iov[1 + i] = parts[i];
    }
    if (len == 0)
        return -EINVAL;
    reclog_put_le32(header, l->magic);
    reclog_put_le32(header + 4, (uint32_t)len);
    reclog_put_le32(header + 8, crc);
    reclog_put_le32(header + 12, 0);
    iov[0] = (struct iovec){header, sizeof(header)};

    int rc;
    if (l->fail_err) {
        /* Tests: a write cut short by a full disk or a crash. */
        size_t half = (sizeof(header) + len) / 2;
        iov[0].iov_len = half < sizeof(header) ? half : sizeof(header);
        rc = pwritev_full(l->fd, iov, 1, l->size);
        rc = rc < 0 ? rc : -l->fail_err;
    } else {
        rc = pwritev_full(l->fd, iov, 1 + n, l->size);
    }
    if (rc < 0) {
        /* Best effort: the next append overwrites from size anyway, and the
         * next reader stops at the torn record. */
        if (ftruncate(l->fd, (off_t)l->size) < 0) {
            /* nothing more to do */
        }
        return rc;
    }
    l->size += sizeof(header) + len;
    return 0;
}

int reclog_sync(struct reclog *l)
{
    return fdatasync(l->fd) < 0 ? -errno : 0;
}

/* The header at off: 1 and its length and CRC, 0 when not well formed. */
static int read_header(const struct reclog *l, uint64_t off, uint64_t end, uint32_t *len,
                       uint32_t *crc)
{
    unsigned char raw[RECLOG_HEADER_BYTES];
    if (off > end || end - off < RECLOG_HEADER_BYTES)
        return 0;
    ssize_t n = pread_full(l->fd, raw, sizeof(raw), off);
    if (n < 0)
        return (int)n;
    if ((size_t)n < sizeof(raw) || reclog_get_le32(raw) != l->magic ||
        reclog_get_le32(raw + 12) != 0)
        return 0;
    *len = reclog_get_le32(raw + 4);
    *crc = reclog_get_le32(raw + 8);
    if (*len == 0 || *len > RECLOG_RECORD_MAX || *len > end - off - RECLOG_HEADER_BYTES)
        return 0;
    return 1;
}

int reclog_header(const struct reclog *l, uint64_t off, uint64_t end, uint32_t *len)
{
    uint32_t crc;
    return read_header(l, off, end, len, &crc);
}

/* 1 when the len payload bytes at off have this CRC, 0 when not. */
static int payload_matches(const struct reclog *l, uint64_t off, uint32_t len, uint32_t crc)
{
    unsigned char chunk[CHUNK];
    uint32_t c = crc_start();
    uint64_t done = 0;
    while (done < len) {
        size_t want = len - done > sizeof(chunk) ? sizeof(chunk) : (size_t)(len - done);
        ssize_t n = pread_full(l->fd, chunk, want, off + done);
        if (n < 0)
            return (int)n;
        if ((size_t)n < want)
            return 0;
        c = crc_update(c, chunk, want);
        done += want;
    }
    return c == crc;
}

int reclog_read(const struct reclog *l, uint64_t off, uint64_t end, void **data, uint32_t *len,
                uint64_t *next)
{
    uint32_t crc;
    *data = NULL;
    *len = 0;
    *next = 0;
    int rc = read_header(l, off, end, len, &crc);
    if (rc <= 0)
        return rc;
    *next = off + RECLOG_HEADER_BYTES + *len;
    unsigned char *buf = malloc(*len);
    if (!buf)
        return -ENOMEM;
    ssize_t n = pread_full(l->fd, buf, *len, off + RECLOG_HEADER_BYTES);
    if (n < 0) {
        free(buf);
        return (int)n;
    }
    if ((size_t)n != *len || crc_update(crc_start(), buf, *len) != crc) {
        free(buf);
        return 0;
    }
    *data = buf;
    return 1;
}

int reclog_walk(const struct reclog *l, uint64_t end, bool check_crc, struct reclog_walk *w)
{
    uint64_t off = 0;
    memset(w, 0, sizeof(*w));
    for (;;) {
        uint32_t len, crc;
        int rc = read_header(l, off, end, &len, &crc);
        if (rc < 0)
            return rc;
        if (rc == 0)
            break;
        if (check_crc && (rc = payload_matches(l, off + RECLOG_HEADER_BYTES, len, crc)) < 0)
            return rc;
        off += RECLOG_HEADER_BYTES + (uint64_t)len;
        w->records++;
        if (!check_crc || rc == 1) {
            w->good_end = off;
            w->good_records = w->records;
            w->bad_after = 0;
        } else {
            w->bad_after++;
        }
    }
    w->valid_end = off;
    return 0;
}

int reclog_truncate(struct reclog *l, uint64_t off)
{
    if (ftruncate(l->fd, (off_t)off) < 0)
        return -errno;
    l->size = off;
    return 0;
}

/* ---- one-record files ----------------------------------------------------------- */

int reclog_replace(int dir_fd, const char *name, uint32_t magic, const void *data, size_t len)
{
    char tmp[256];
    struct reclog l;
    int rc;

    if ((size_t)snprintf(tmp, sizeof(tmp), "%s" TMP_SUFFIX, name) >= sizeof(tmp))
        return -ENAMETOOLONG;
    if ((rc = reclog_open(&l, dir_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600, magic)) < 0)
        return rc;
    struct iovec part = {(void *)data, len};
    rc = reclog_append(&l, &part, 1);
    if (rc == 0 && fsync(l.fd) < 0)
        rc = -errno;
    if (close(l.fd) < 0 && rc == 0)
        rc = -errno;
    if (rc == 0 && renameat(dir_fd, tmp, dir_fd, name) < 0)
        rc = -errno;
    if (rc < 0) {
        unlinkat(dir_fd, tmp, 0);
        return rc;
    }
    return fsync(dir_fd) < 0 ? -errno : 0;
}

int reclog_load(int dir_fd, const char *name, uint32_t magic, void *data, size_t len)
{
    struct reclog l;
    void *rec;
    uint32_t rec_len;
    uint64_t next;
    int rc = reclog_open(&l, dir_fd, name, O_RDONLY, 0, magic);
    if (rc < 0)
        return rc == -ENOENT ? -ENOENT : -EBADMSG;
    rc = reclog_read(&l, 0, l.size, &rec, &rec_len, &next);
    reclog_close(&l);
    if (rc <= 0 || rec_len != len || next != l.size) {
        free(rec);
        return rc == -ENOMEM ? -ENOMEM : -EBADMSG;
    }
    memcpy(data, rec, len);
    free(rec);
    return 0;
}
