/* The on-disk spool.
 *
 * On disk, in DIR:
 *   NNNNNNNNNNNNNNNN.spool  segments, 16 decimal digits, ids increasing; each
 *                           a record log (lib/reclog.h) of batches, magic
 *                           "HGSR".
 *   cursor                  one record (magic "HGSC") of 16 bytes: u64
 *                           segment id, u64 offset of the oldest record not
 *                           yet consumed, little-endian; replaced atomically.
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

#include "reclog.h"

#define SPOOL_RECORD_MAGIC UINT32_C(0x52534748) /* "HGSR" */
#define SPOOL_CURSOR_MAGIC UINT32_C(0x43534748) /* "HGSC" */
#define SPOOL_ID_DIGITS 16
#define SPOOL_SUFFIX ".spool"
#define SPOOL_NAME_MAX 32 /* 20 digits of a uint64, the suffix and the NUL */
#define SPOOL_CURSOR_NAME "cursor"

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

    struct reclog app; /* the last segment, or closed */
    struct reclog rd;  /* segs[0] when it is not the last, or closed */
    uint64_t read_id;  /* the segment rd is open on */

    uint64_t cur_off;      /* reader position in segs[0] */
    uint64_t cur_consumed; /* records of segs[0] before cur_off */
    enum peek_state peek;
    uint64_t peek_next_off;

    struct spool_stats st;
};

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

/* ---- Cursor --------------------------------------------------------------- */

static void read_cursor(int dir_fd, uint64_t *seg_id, uint64_t *off)
{
    unsigned char raw[16];

    *seg_id = 0;
    *off = 0;
    if (reclog_load(dir_fd, SPOOL_CURSOR_NAME, SPOOL_CURSOR_MAGIC, raw, sizeof(raw)) < 0)
        return; /* start over from the oldest segment: replay, never lose */
    *seg_id = reclog_get_le64(raw);
    *off = reclog_get_le64(raw + 8);
}

static int write_cursor(struct spool *s, uint64_t seg_id, uint64_t off)
{
    unsigned char raw[16];

    reclog_put_le64(raw, seg_id);
    reclog_put_le64(raw + 8, off);
    return reclog_replace(s->dir_fd, SPOOL_CURSOR_NAME, SPOOL_CURSOR_MAGIC, raw, sizeof(raw));
}

/* ---- Segments ------------------------------------------------------------- */

static struct reclog *reader(struct spool *s);

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

    if (s->rd.fd >= 0 && s->read_id == g->id)
        reclog_close(&s->rd);
    if (s->n_segs == 1)
        reclog_close(&s->app);
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
    struct reclog *l = reader(s);
    uint64_t lines = 0;

    while (l && off < g->valid_end) {
        void *data;
        uint32_t len;
        uint64_t next;
        int rc = reclog_read(l, off, g->valid_end, &data, &len, &next);
        if (rc < 0 || next == 0)
            break;
        for (const char *p = data, *end = p + (rc == 1 ? len : 0);
             (p = memchr(p, '\n', (size_t)(end - p))) != NULL; p++)
            lines++;
        free(data);
        off = next;
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
    struct reclog l;
    int rc;

    segment_name(g.id, name);
    rc = reclog_open(&l, s->dir_fd, name, O_RDWR | O_CREAT | O_EXCL, 0600, SPOOL_RECORD_MAGIC);
    if (rc < 0)
        return rc;
    if (fsync(s->dir_fd) < 0) {
        rc = -errno;
        goto out_remove_file;
    }
    rc = push_segment(s, &g);
    if (rc < 0)
        goto out_remove_file;
    reclog_close(&s->app);
    s->app = l;
    s->next_id++;
    return 0;

out_remove_file:
    reclog_close(&l);
    unlinkat(s->dir_fd, name, 0);
    return rc;
}

/* The log to read segs[0] through, or NULL. */
static struct reclog *reader(struct spool *s)
{
    char name[SPOOL_NAME_MAX];

    if (s->n_segs == 1)
        return s->app.fd >= 0 ? &s->app : NULL;
    if (s->rd.fd >= 0 && s->read_id == s->segs[0].id)
        return &s->rd;
    reclog_close(&s->rd);
    segment_name(s->segs[0].id, name);
    if (reclog_open(&s->rd, s->dir_fd, name, O_RDONLY, 0, SPOOL_RECORD_MAGIC) < 0)
        return NULL;
    s->read_id = s->segs[0].id;
    return &s->rd;
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
    struct reclog_walk w;
    struct reclog l;
    int rc;

    segment_name(id, name);
    rc = reclog_open(&l, s->dir_fd, name, newest ? O_RDWR : O_RDONLY, 0, SPOOL_RECORD_MAGIC);
    if (rc < 0)
        return rc;
    g.size = l.size;
    rc = reclog_walk(&l, g.size, newest, &w);
    if (rc < 0)
        goto out_close;
    g.valid_end = w.valid_end;
    g.records = w.records;
    if (newest && w.good_end < g.size) {
        if ((rc = reclog_truncate(&l, w.good_end)) < 0 || (rc = reclog_sync(&l)) < 0)
            goto out_close;
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
        s->app = l;
        return 0;
    }

out_close:
    reclog_close(&l);
    return rc;
}

/* Puts the reader at the cursor: the first record at or after off in segs[0]
 * when the cursor names it, else the start of segs[0]. */
static int place_reader(struct spool *s, uint64_t cursor_id, uint64_t cursor_off)
{
    struct segment *g = &s->segs[0];
    uint64_t off = 0;
    struct reclog *l;

    if (g->id != cursor_id)
        return 0;
    if (!(l = reader(s)))
        return -EIO;
    while (off < cursor_off && off < g->valid_end) {
        uint32_t len;
        int rc = reclog_header(l, off, g->valid_end, &len);

        if (rc <= 0)
            return rc < 0 ? rc : -EIO;
        off += RECLOG_HEADER_BYTES + (uint64_t)len;
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

    if (!dir || !out || max_bytes <= RECLOG_HEADER_BYTES || segment_bytes == 0)
        return -EINVAL;
    *out = NULL;
    if (mkdir(dir, 0700) < 0 && errno != EEXIST)
        return -errno;
    s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->max_bytes = max_bytes;
    s->segment_bytes = segment_bytes;
    s->app.fd = -1;
    s->rd.fd = -1;
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
    unlinkat(s->dir_fd, SPOOL_CURSOR_NAME ".tmp", 0);
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
    reclog_close(&s->app);
    reclog_close(&s->rd);
    if (s->dir_fd >= 0)
        close(s->dir_fd); /* releases the flock */
    free(s->segs);
    free(s);
}

/* ---- Append, peek, consume ------------------------------------------------ */

static int append_record(struct spool *s, const void *data, size_t len)
{
    struct segment *g;
    uint64_t total = RECLOG_HEADER_BYTES + (uint64_t)len;
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

    struct iovec part = {(void *)data, len};
    rc = reclog_append(&s->app, &part, 1);
    if (rc == 0)
        rc = reclog_sync(&s->app);
    if (rc < 0) {
        /* The next append overwrites from g->size anyway and the next open
         * cuts whatever is left. */
        s->app.size = g->size;
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
    if (len > RECLOG_RECORD_MAX || len > s->max_bytes - RECLOG_HEADER_BYTES)
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
        struct reclog *l;
        void *buf;
        uint32_t n;
        uint64_t next;
        int rc;

        if (s->n_segs == 0)
            return -ENOENT;
        g = &s->segs[0];
        if (s->cur_off >= g->valid_end) {
            rc = retire_first_segment(s);
            if (rc < 0)
                return rc;
            continue;
        }
        if (!(l = reader(s)))
            return -EIO;
        rc = reclog_read(l, s->cur_off, g->valid_end, &buf, &n, &next);
        if (rc < 0)
            return rc;
        if (rc == 1) {
            *data = buf;
            *len = n;
            s->peek = PEEK_VALID;
            s->peek_next_off = next;
            return 0;
        }
        if (next == 0) {
            /* Changed under us since it was walked: the rest is garbage,
             * counted as torn when the segment is retired. */
            s->st.records -= g->records - s->cur_consumed;
            g->valid_end = s->cur_off;
            g->records = s->cur_consumed;
            continue;
        }
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
