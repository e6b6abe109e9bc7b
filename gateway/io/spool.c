/* The on-disk spool.
 *
 * On disk, in DIR:
 *   NNNNNNNNNNNNNNNN.spool  segments, 16 decimal digits, ids increasing. Each
 *                           is a sequence of records:
 *                             u32 magic "HGSR" (0x52534748)
 *                             u32 payload length
 *                             u32 CRC-32 (zlib) of the payload
 *                             u32 reserved, 0
 *                             payload
 *                           all little-endian.
 *   cursor                  24 bytes: u32 magic "HGSC" (0x43534748), u32 CRC-32
 *                           of the next 16 bytes, u64 segment id, u64 offset
 *                           of the oldest record not yet consumed. Replaced
 *                           atomically (cursor.tmp, fsync, rename, fsync DIR).
 *
 * Segments older than the cursor's are fully consumed and deleted; a cursor
 * naming a segment that does not exist means the start of the first segment
 * after it. A missing or corrupt cursor means the start of the oldest
 * segment: records may be replayed, never lost.
 *
 * On open the newest segment is read in full and everything after its last
 * record with a good CRC (a record cut short, garbage, a bad CRC at the end)
 * is cut off; older segments are only walked header by header (to count
 * records), and their CRCs are checked as the reader meets them. A record
 * with a bad CRC followed by good ones is skipped when met, not cut, so the
 * good records after it are kept.
 *
 * The reader's position is always in segs[0]: segments are deleted as soon as
 * the reader passes their end, the newest one too (the next append starts a
 * new segment). DIR itself is flock()ed so two processes can not share it. */
#include "spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define SPOOL_RECORD_MAGIC UINT32_C(0x52534748) /* "HGSR" */
#define SPOOL_CURSOR_MAGIC UINT32_C(0x43534748) /* "HGSC" */
#define SPOOL_HEADER_BYTES 16
#define SPOOL_CURSOR_BYTES 24
#define SPOOL_ID_DIGITS 16
#define SPOOL_SUFFIX ".spool"
#define SPOOL_NAME_MAX 32 /* 20 digits of a uint64, the suffix and the NUL */
#define SPOOL_CURSOR_NAME "cursor"
#define SPOOL_CURSOR_TMP "cursor.tmp"
#define SPOOL_CHUNK 16384

struct segment {
    uint64_t id;
    uint64_t size;      /* bytes in the file */
    uint64_t valid_end; /* end of the run of well-formed records from 0 */
    uint64_t records;   /* records in [0, valid_end) */
};

enum peek_state {
    PEEK_NONE,
    PEEK_VALID,   /* consume may advance past the record */
    PEEK_DROPPED, /* the peeked record's segment was dropped since */
};

struct spool {
    int dir_fd; /* also holds the flock */
    uint64_t max_bytes;
    uint64_t segment_bytes;

    struct segment *segs; /* oldest first */
    size_t n_segs;
    size_t cap_segs;
    uint64_t next_id;

    int append_fd;    /* on the last segment, or -1 */
    int read_fd;      /* on segs[0] when it is not the last, or -1 */
    uint64_t read_id; /* the segment read_fd is open on */

    uint64_t cur_off;      /* reader position in segs[0] */
    uint64_t cur_consumed; /* records of segs[0] before cur_off */
    enum peek_state peek;
    uint64_t peek_next_off;

    struct spool_stats st;
};

/* ---- Little-endian and I/O helpers --------------------------------------- */

static void put_le32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void put_le64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get_le32(const unsigned char *p)
{
    uint32_t v = 0;

    for (int i = 3; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static uint64_t get_le64(const unsigned char *p)
{
    uint64_t v = 0;

    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static uint32_t crc_update(uint32_t crc, const void *data, size_t len)
{
    const unsigned char *p = data;

    /* zlib's crc32() takes a uInt length. */
    while (len > 0) {
        uInt n = len > UINT32_MAX ? UINT32_MAX : (uInt)len;

        crc = (uint32_t)crc32(crc, p, n);
        p += n;
        len -= n;
    }
    return crc;
}

/* Reads up to n bytes at off; returns how many (fewer only at end of file)
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

static int pwrite_full(int fd, const void *buf, size_t n, uint64_t off)
{
    size_t done = 0;

    while (done < n) {
        ssize_t w = pwrite(fd, (const char *)buf + done, n - done, (off_t)(off + done));

        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -errno;
        done += (size_t)w;
    }
    return 0;
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

static void segment_name(uint64_t id, char name[SPOOL_NAME_MAX])
{
    snprintf(name, SPOOL_NAME_MAX, "%0*" PRIu64 SPOOL_SUFFIX, SPOOL_ID_DIGITS, id);
}

static bool parse_segment_name(const char *name, uint64_t *id)
{
    uint64_t v = 0;

    for (int i = 0; i < SPOOL_ID_DIGITS; i++) {
        if (name[i] < '0' || name[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(name[i] - '0');
    }
    if (strcmp(name + SPOOL_ID_DIGITS, SPOOL_SUFFIX) != 0)
        return false;
    *id = v;
    return true;
}

/* ---- Records -------------------------------------------------------------- */

struct record_header {
    uint32_t len;
    uint32_t crc;
};

/* Reads the header at off. Returns 1 when it is well formed and its payload
 * lies within size, 0 when not, or a negative errno. */
static int read_header(int fd, uint64_t off, uint64_t size, struct record_header *h)
{
    unsigned char raw[SPOOL_HEADER_BYTES];
    ssize_t n;

    if (off > size || size - off < SPOOL_HEADER_BYTES)
        return 0;
    n = pread_full(fd, raw, sizeof(raw), off);
    if (n < 0)
        return (int)n;
    if ((size_t)n < sizeof(raw))
        return 0;
    if (get_le32(raw) != SPOOL_RECORD_MAGIC || get_le32(raw + 12) != 0)
        return 0;
    h->len = get_le32(raw + 4);
    h->crc = get_le32(raw + 8);
    if (h->len == 0 || h->len > size - off - SPOOL_HEADER_BYTES)
        return 0;
    return 1;
}

/* Returns 1 when the payload of len bytes at off matches crc, 0 when not, or a
 * negative errno. */
static int payload_matches(int fd, uint64_t off, uint32_t len, uint32_t crc)
{
    unsigned char chunk[SPOOL_CHUNK];
    uint32_t c = (uint32_t)crc32(0L, Z_NULL, 0);
    uint64_t done = 0;

    while (done < len) {
        size_t want = len - done > sizeof(chunk) ? sizeof(chunk) : (size_t)(len - done);
        ssize_t n = pread_full(fd, chunk, want, off + done);

        if (n < 0)
            return (int)n;
        if ((size_t)n < want)
            return 0;
        c = crc_update(c, chunk, want);
        done += want;
    }
    return c == crc;
}

/* What a walk over a segment found. */
struct walk {
    uint64_t valid_end;    /* end of the well-formed records */
    uint64_t records;      /* well-formed records */
    uint64_t good_end;     /* end of the last record with a good CRC (check_crc) */
    uint64_t good_records; /* records before good_end */
    uint64_t bad_after;    /* bad-CRC records after good_end */
};

static int walk_segment(int fd, uint64_t size, bool check_crc, struct walk *w)
{
    uint64_t off = 0;

    memset(w, 0, sizeof(*w));
    for (;;) {
        struct record_header h;
        int rc = read_header(fd, off, size, &h);

        if (rc < 0)
            return rc;
        if (rc == 0)
            break;
        if (check_crc) {
            rc = payload_matches(fd, off + SPOOL_HEADER_BYTES, h.len, h.crc);
            if (rc < 0)
                return rc;
        }
        off += SPOOL_HEADER_BYTES + (uint64_t)h.len;
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

/* ---- Cursor --------------------------------------------------------------- */

static void read_cursor(int dir_fd, uint64_t *seg_id, uint64_t *off)
{
    unsigned char raw[SPOOL_CURSOR_BYTES];
    int fd = openat(dir_fd, SPOOL_CURSOR_NAME, O_RDONLY | O_CLOEXEC);
    ssize_t n;

    *seg_id = 0;
    *off = 0;
    if (fd < 0)
        return;
    n = pread_full(fd, raw, sizeof(raw), 0);
    close(fd);
    if (n != (ssize_t)sizeof(raw) || get_le32(raw) != SPOOL_CURSOR_MAGIC ||
        get_le32(raw + 4) != crc_update((uint32_t)crc32(0L, Z_NULL, 0), raw + 8, 16))
        return; /* start over from the oldest segment: replay, never lose */
    *seg_id = get_le64(raw + 8);
    *off = get_le64(raw + 16);
}

static int write_cursor(struct spool *s, uint64_t seg_id, uint64_t off)
{
    unsigned char raw[SPOOL_CURSOR_BYTES];
    int fd, rc;

    put_le32(raw, SPOOL_CURSOR_MAGIC);
    put_le64(raw + 8, seg_id);
    put_le64(raw + 16, off);
    put_le32(raw + 4, crc_update((uint32_t)crc32(0L, Z_NULL, 0), raw + 8, 16));

    fd = openat(s->dir_fd, SPOOL_CURSOR_TMP, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    rc = pwrite_full(fd, raw, sizeof(raw), 0);
    if (rc == 0 && fsync(fd) < 0)
        rc = -errno;
    if (close(fd) < 0 && rc == 0)
        rc = -errno;
    if (rc < 0)
        goto out_unlink_tmp;
    if (renameat(s->dir_fd, SPOOL_CURSOR_TMP, s->dir_fd, SPOOL_CURSOR_NAME) < 0) {
        rc = -errno;
        goto out_unlink_tmp;
    }
    if (fsync(s->dir_fd) < 0)
        return -errno;
    return 0;

out_unlink_tmp:
    unlinkat(s->dir_fd, SPOOL_CURSOR_TMP, 0);
    return rc;
}

/* ---- Segments ------------------------------------------------------------- */

static int reader_fd(struct spool *s);

static int push_segment(struct spool *s, const struct segment *g)
{
    if (s->n_segs == s->cap_segs) {
        size_t cap = s->cap_segs ? s->cap_segs * 2 : 16;
        struct segment *p = realloc(s->segs, cap * sizeof(*p));

        if (!p)
            return -ENOMEM;
        s->segs = p;
        s->cap_segs = cap;
    }
    s->segs[s->n_segs++] = *g;
    return 0;
}

/* Forgets segs[0] (its file already gone) and puts the reader at the start of
 * the next one. */
static void pop_first_segment(struct spool *s)
{
    struct segment *g = &s->segs[0];
    uint64_t unread = g->records - s->cur_consumed;

    if (s->read_fd >= 0 && s->read_id == g->id)
        close_fd(&s->read_fd);
    if (s->n_segs == 1)
        close_fd(&s->append_fd);
    s->st.bytes -= g->size;
    s->st.records -= unread;
    memmove(&s->segs[0], &s->segs[1], (s->n_segs - 1) * sizeof(*s->segs));
    s->n_segs--;
    s->cur_off = 0;
    s->cur_consumed = 0;
}

/* The reader has passed the end of segs[0]: move the cursor on and delete it.
 * Garbage after its last well-formed record is counted as torn. */
static int retire_first_segment(struct spool *s)
{
    char name[SPOOL_NAME_MAX];
    struct segment *g = &s->segs[0];
    uint64_t next = s->n_segs > 1 ? s->segs[1].id : g->id + 1;
    int rc;

    rc = write_cursor(s, next, 0);
    if (rc < 0)
        return rc;
    if (g->valid_end < g->size)
        s->st.torn++;
    segment_name(g->id, name);
    /* Should this fail, the cursor already says the segment is consumed and
     * the next open deletes it. */
    unlinkat(s->dir_fd, name, 0);
    if (next > s->next_id)
        s->next_id = next;
    pop_first_segment(s);
    return 0;
}

/* The newline-ended lines of the records of segs[0] from off to its valid
 * end: the points about to be dropped with it. Best effort: an unreadable
 * record counts none. */
static uint64_t count_lines_from(struct spool *s, uint64_t off)
{
    const struct segment *g = &s->segs[0];
    unsigned char chunk[SPOOL_CHUNK];
    uint64_t lines = 0;
    int fd = reader_fd(s);

    while (fd >= 0 && off < g->valid_end) {
        struct record_header h;
        uint64_t done = 0;

        if (read_header(fd, off, g->valid_end, &h) != 1)
            break;
        while (done < h.len) {
            size_t want = h.len - done > sizeof(chunk) ? sizeof(chunk) : (size_t)(h.len - done);
            ssize_t n = pread_full(fd, chunk, want, off + SPOOL_HEADER_BYTES + done);

            if (n <= 0)
                return lines;
            for (const unsigned char *p = chunk, *end = chunk + n;
                 (p = memchr(p, '\n', (size_t)(end - p))) != NULL; p++)
                lines++;
            done += (uint64_t)n;
        }
        off += SPOOL_HEADER_BYTES + (uint64_t)h.len;
    }
    return lines;
}

/* Deletes segs[0] to make room, counting its unread records as dropped. */
static int drop_first_segment(struct spool *s)
{
    char name[SPOOL_NAME_MAX];
    struct segment *g = &s->segs[0];

    s->st.dropped_lines += count_lines_from(s, s->cur_off);
    segment_name(g->id, name);
    if (unlinkat(s->dir_fd, name, 0) < 0 && errno != ENOENT)
        return -errno;
    s->st.dropped_records += g->records - s->cur_consumed;
    if (s->peek == PEEK_VALID)
        s->peek = PEEK_DROPPED;
    pop_first_segment(s);
    return 0;
}

static int start_segment(struct spool *s)
{
    char name[SPOOL_NAME_MAX];
    struct segment g = {.id = s->next_id};
    int fd, rc;

    segment_name(g.id, name);
    fd = openat(s->dir_fd, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    if (fsync(s->dir_fd) < 0) {
        rc = -errno;
        goto out_remove_file;
    }
    rc = push_segment(s, &g);
    if (rc < 0)
        goto out_remove_file;
    close_fd(&s->append_fd);
    s->append_fd = fd;
    s->next_id++;
    return 0;

out_remove_file:
    close(fd);
    unlinkat(s->dir_fd, name, 0);
    return rc;
}

/* The fd to read segs[0] through. */
static int reader_fd(struct spool *s)
{
    char name[SPOOL_NAME_MAX];

    if (s->n_segs == 1)
        return s->append_fd;
    if (s->read_fd >= 0 && s->read_id == s->segs[0].id)
        return s->read_fd;
    close_fd(&s->read_fd);
    segment_name(s->segs[0].id, name);
    s->read_fd = openat(s->dir_fd, name, O_RDONLY | O_CLOEXEC);
    if (s->read_fd < 0)
        return -errno;
    s->read_id = s->segs[0].id;
    return s->read_fd;
}

/* ---- Open ----------------------------------------------------------------- */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return (x > y) - (x < y);
}

/* The ids of DIR's segment files, sorted. */
static int list_segments(int dir_fd, uint64_t **ids, size_t *n_ids)
{
    size_t n = 0, cap = 0;
    uint64_t *v = NULL;
    struct dirent *e;
    DIR *d;
    int fd, rc = 0;

    fd = dup(dir_fd);
    if (fd < 0)
        return -errno;
    d = fdopendir(fd);
    if (!d) {
        rc = -errno;
        close(fd);
        return rc;
    }
    rewinddir(d);
    while ((e = readdir(d)) != NULL) {
        uint64_t id;

        if (!parse_segment_name(e->d_name, &id))
            continue;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            uint64_t *p = realloc(v, ncap * sizeof(*p));

            if (!p) {
                rc = -ENOMEM;
                goto out_close_dir;
            }
            v = p;
            cap = ncap;
        }
        v[n++] = id;
    }
    if (n > 1)
        qsort(v, n, sizeof(*v), cmp_u64);
    *ids = v;
    *n_ids = n;
    v = NULL;

out_close_dir:
    free(v);
    closedir(d);
    return rc;
}

/* Reads one segment into s: the newest in full (cutting its torn tail), the
 * others header by header. */
static int load_segment(struct spool *s, uint64_t id, bool newest)
{
    char name[SPOOL_NAME_MAX];
    struct segment g = {.id = id};
    struct walk w;
    struct stat sb;
    int fd, rc;

    segment_name(id, name);
    fd = openat(s->dir_fd, name, (newest ? O_RDWR : O_RDONLY) | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    if (fstat(fd, &sb) < 0) {
        rc = -errno;
        goto out_close;
    }
    g.size = (uint64_t)sb.st_size;
    rc = walk_segment(fd, g.size, newest, &w);
    if (rc < 0)
        goto out_close;
    g.valid_end = w.valid_end;
    g.records = w.records;
    if (newest && w.good_end < g.size) {
        if (ftruncate(fd, (off_t)w.good_end) < 0 || fsync(fd) < 0) {
            rc = -errno;
            goto out_close;
        }
        s->st.torn += w.bad_after + (w.valid_end < g.size ? 1 : 0);
        g.size = g.valid_end = w.good_end;
        g.records = w.good_records;
    }
    rc = push_segment(s, &g);
    if (rc < 0)
        goto out_close;
    s->st.bytes += g.size;
    s->st.records += g.records;
    if (newest) {
        s->append_fd = fd;
        return 0;
    }

out_close:
    close(fd);
    return rc;
}

/* Puts the reader at the cursor: the first record at or after off in segs[0]
 * when the cursor names it, else the start of segs[0]. */
static int place_reader(struct spool *s, uint64_t cursor_id, uint64_t cursor_off)
{
    struct segment *g = &s->segs[0];
    uint64_t off = 0;
    int fd;

    if (g->id != cursor_id)
        return 0;
    fd = reader_fd(s);
    if (fd < 0)
        return fd;
    while (off < cursor_off && off < g->valid_end) {
        struct record_header h;
        int rc = read_header(fd, off, g->valid_end, &h);

        if (rc <= 0)
            return rc < 0 ? rc : -EIO;
        off += SPOOL_HEADER_BYTES + (uint64_t)h.len;
        s->cur_consumed++;
    }
    s->cur_off = off;
    s->st.records -= s->cur_consumed;
    return 0;
}

int spool_open(const char *dir, uint64_t max_bytes, uint64_t segment_bytes, struct spool **out)
{
    uint64_t cursor_id, cursor_off, *ids = NULL;
    size_t n_ids = 0, first = 0;
    struct spool *s;
    int rc;

    if (!dir || !out || max_bytes <= SPOOL_HEADER_BYTES || segment_bytes == 0)
        return -EINVAL;
    *out = NULL;
    if (mkdir(dir, 0700) < 0 && errno != EEXIST)
        return -errno;
    s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->max_bytes = max_bytes;
    s->segment_bytes = segment_bytes;
    s->append_fd = -1;
    s->read_fd = -1;
    s->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (s->dir_fd < 0) {
        rc = -errno;
        goto out_free_spool;
    }
    if (flock(s->dir_fd, LOCK_EX | LOCK_NB) < 0) {
        rc = errno == EWOULDBLOCK ? -EBUSY : -errno;
        goto out_close_spool;
    }

    read_cursor(s->dir_fd, &cursor_id, &cursor_off);
    unlinkat(s->dir_fd, SPOOL_CURSOR_TMP, 0);
    rc = list_segments(s->dir_fd, &ids, &n_ids);
    if (rc < 0)
        goto out_close_spool;
    /* Segments before the cursor's were consumed before a crash. */
    for (; first < n_ids && ids[first] < cursor_id; first++) {
        char name[SPOOL_NAME_MAX];

        segment_name(ids[first], name);
        unlinkat(s->dir_fd, name, 0);
    }
    for (size_t i = first; i < n_ids; i++) {
        rc = load_segment(s, ids[i], i + 1 == n_ids);
        if (rc < 0)
            goto out_free_ids;
    }
    s->next_id = n_ids > first ? ids[n_ids - 1] + 1 : 0;
    if (cursor_id > s->next_id)
        s->next_id = cursor_id;
    if (s->n_segs > 0) {
        rc = place_reader(s, cursor_id, cursor_off);
        if (rc < 0)
            goto out_free_ids;
    }
    free(ids);
    *out = s;
    return 0;

out_free_ids:
    free(ids);
out_close_spool:
    spool_close(s);
    return rc;
out_free_spool:
    free(s);
    return rc;
}

void spool_close(struct spool *s)
{
    if (!s)
        return;
    close_fd(&s->append_fd);
    close_fd(&s->read_fd);
    close_fd(&s->dir_fd); /* releases the flock */
    free(s->segs);
    free(s);
}

/* ---- Append, peek, consume ------------------------------------------------ */

static int append_record(struct spool *s, const void *data, size_t len)
{
    unsigned char header[SPOOL_HEADER_BYTES];
    struct segment *g;
    uint64_t total = SPOOL_HEADER_BYTES + (uint64_t)len;
    bool need_new;
    int rc;

    g = s->n_segs ? &s->segs[s->n_segs - 1] : NULL;
    need_new = !g || (g->size > 0 && g->size + total > s->segment_bytes);
    while (s->n_segs > 0 && s->st.bytes + total > s->max_bytes) {
        /* Never delete the segment being appended to: start a new one. */
        if (s->n_segs == 1 && !need_new) {
            need_new = true;
            continue;
        }
        rc = drop_first_segment(s);
        if (rc < 0)
            return rc;
    }
    if (need_new) {
        rc = start_segment(s);
        if (rc < 0)
            return rc;
    }
    g = &s->segs[s->n_segs - 1];

    put_le32(header, SPOOL_RECORD_MAGIC);
    put_le32(header + 4, (uint32_t)len);
    put_le32(header + 8, crc_update((uint32_t)crc32(0L, Z_NULL, 0), data, len));
    put_le32(header + 12, 0);
    rc = pwrite_full(s->append_fd, header, sizeof(header), g->size);
    if (rc == 0)
        rc = pwrite_full(s->append_fd, data, len, g->size + SPOOL_HEADER_BYTES);
    if (rc == 0 && fdatasync(s->append_fd) < 0)
        rc = -errno;
    if (rc < 0) {
        /* Best effort; the next append overwrites from g->size anyway and
         * the next open cuts whatever is left. */
        if (ftruncate(s->append_fd, (off_t)g->size) < 0) {
            /* nothing more to do */
        }
        return rc;
    }
    g->size += total;
    g->valid_end = g->size;
    g->records++;
    s->st.records++;
    s->st.bytes += total;
    s->st.appended++;
    return 0;
}

/* True when segs[0] holds records not yet written, so dropping it frees
 * room for newer ones. */
static bool oldest_has_unread(const struct spool *s)
{
    return s->n_segs > 0 && s->segs[0].records > s->cur_consumed;
}

int spool_append(struct spool *s, const void *data, size_t len)
{
    int rc;

    if (!s || !data || len == 0)
        return -EINVAL;
    if (len > UINT32_MAX || len > s->max_bytes - SPOOL_HEADER_BYTES)
        return -EFBIG;
    /* A full disk: the oldest batches give way to the newest, as at max_bytes. */
    while ((rc = append_record(s, data, len)) == -ENOSPC || rc == -EDQUOT) {
        if (!oldest_has_unread(s))
            return -ENOSPC;
        rc = drop_first_segment(s);
        if (rc < 0)
            return rc;
    }
    return rc;
}

/* Moves the reader past n records ending at off and persists the cursor. */
static int advance_reader(struct spool *s, uint64_t off, uint64_t n)
{
    int rc = write_cursor(s, s->segs[0].id, off);

    if (rc < 0)
        return rc;
    s->cur_off = off;
    s->cur_consumed += n;
    s->st.records -= n;
    return 0;
}

int spool_peek(struct spool *s, void **data, size_t *len)
{
    if (!s || !data || !len)
        return -EINVAL;
    *data = NULL;
    *len = 0;
    s->peek = PEEK_NONE;
    for (;;) {
        struct segment *g;
        struct record_header h;
        unsigned char *buf;
        uint64_t next;
        ssize_t n;
        int fd, rc;

        if (s->n_segs == 0)
            return -ENOENT;
        g = &s->segs[0];
        if (s->cur_off >= g->valid_end) {
            rc = retire_first_segment(s);
            if (rc < 0)
                return rc;
            continue;
        }
        fd = reader_fd(s);
        if (fd < 0)
            return fd;
        rc = read_header(fd, s->cur_off, g->valid_end, &h);
        if (rc < 0)
            return rc;
        if (rc == 0) {
            /* Changed under us since it was walked: the rest is garbage,
             * counted as torn when the segment is retired. */
            s->st.records -= g->records - s->cur_consumed;
            g->valid_end = s->cur_off;
            g->records = s->cur_consumed;
            continue;
        }
        next = s->cur_off + SPOOL_HEADER_BYTES + (uint64_t)h.len;
        buf = malloc(h.len);
        if (!buf)
            return -ENOMEM;
        n = pread_full(fd, buf, h.len, s->cur_off + SPOOL_HEADER_BYTES);
        if (n < 0) {
            free(buf);
            return (int)n;
        }
        if ((size_t)n == h.len && crc_update((uint32_t)crc32(0L, Z_NULL, 0), buf, h.len) == h.crc) {
            *data = buf;
            *len = h.len;
            s->peek = PEEK_VALID;
            s->peek_next_off = next;
            return 0;
        }
        free(buf);
        s->st.torn++;
        rc = advance_reader(s, next, 1);
        if (rc < 0)
            return rc;
    }
}

int spool_consume(struct spool *s)
{
    int rc;

    if (!s || s->peek == PEEK_NONE)
        return -EINVAL;
    if (s->peek == PEEK_DROPPED) {
        /* Already gone (and counted as dropped) to make room. */
        s->peek = PEEK_NONE;
        return 0;
    }
    rc = advance_reader(s, s->peek_next_off, 1);
    if (rc < 0)
        return rc;
    s->peek = PEEK_NONE;
    /* The record is consumed either way; a segment that can not be retired
     * now is retired by the next peek (or the next open). */
    if (s->cur_off >= s->segs[0].valid_end)
        (void)retire_first_segment(s);
    return 0;
}

void spool_get_stats(const struct spool *s, struct spool_stats *out)
{
    *out = s->st;
}
