#include "journal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "reclog.h"

#define JOURNAL_MAGIC UINT32_C(0x4e4a4748) /* "HGJN" */
#define MSG_HEADER_BYTES 24
#define DONE_BYTES 16
#define SEG_NAME_LEN 20 /* 16 hex digits and ".log" */

struct segment {
    uint64_t first_id; /* its name: no message before it has a larger id */
    uint64_t last_id;  /* its largest message id; 0 when it holds none */
};

#define RECENT_MAX 4096

struct recent {
    uint32_t msgid, crc;
};

struct journal {
    pthread_mutex_t mu;
    int dir_fd;
    enum journal_durability durability;
    int64_t sync_interval_ms;
    struct reclog cur; /* the last segment, appended to */
    struct segment *segs;
    size_t n_segs, cap_segs;
    uint64_t next_id;
    uint64_t done;        /* the highest done mark */
    uint64_t replay_from; /* the done mark found at open */
    /* The last messages the last run recorded (a ring, then sorted): one
     * whose acknowledgement a crash cut off comes again (journal_seen). */
    struct recent *recent;
    size_t n_recent, recent_next;
    wall_s last_arrival;
    bool unsynced;
    mono_ms unsynced_since;
    struct journal_stats st;
    void (*on_error)(void *ctx);
    void *error_ctx;
    struct log_ratelimit rl;
};

static void failed(struct journal *j, const char *what, int err)
{
    j->st.errors++;
    if (j->on_error)
        j->on_error(j->error_ctx);
    if (log_ratelimit_ok(&j->rl, "journal errors"))
        log_err("journal: cannot %s: %s; messages since are not protected against a crash", what,
                strerror(-err));
}

/* What tells a message from another: its topic and payload. */
static uint32_t message_crc(const char *topic, size_t topic_len, const void *payload,
                            size_t payload_len)
{
    return reclog_crc32(reclog_crc32(0, topic, topic_len), payload, payload_len);
}

static int cmp_recent(const void *a, const void *b)
{
    const struct recent *x = a, *y = b;
    if (x->msgid != y->msgid)
        return x->msgid < y->msgid ? -1 : 1;
    return x->crc < y->crc ? -1 : x->crc > y->crc;
}

/* ---- segments --------------------------------------------------------------- */

static void segment_name(char name[SEG_NAME_LEN + 1], uint64_t first_id)
{
    snprintf(name, SEG_NAME_LEN + 1, "%016" PRIx64 ".log", first_id);
}

static bool parse_segment_name(const char *name, uint64_t *first_id)
{
    if (strlen(name) != SEG_NAME_LEN || strcmp(name + 16, ".log") != 0)
        return false;
    uint64_t v = 0;
    for (int i = 0; i < 16; i++) {
        char c = name[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0)
            return false;
        v = v << 4 | (uint64_t)d;
    }
    *first_id = v;
    return true;
}

static int cmp_segment(const void *a, const void *b)
{
    const struct segment *x = a, *y = b;
    return x->first_id < y->first_id ? -1 : x->first_id > y->first_id;
}

static int add_segment(struct journal *j, uint64_t first_id)
{
    if (j->n_segs == j->cap_segs) {
        size_t cap = j->cap_segs ? j->cap_segs * 2 : 8;
        struct segment *s = realloc(j->segs, cap * sizeof(*s));
        if (!s)
            return -ENOMEM;
        j->segs = s;
        j->cap_segs = cap;
    }
    j->segs[j->n_segs++] = (struct segment){.first_id = first_id};
    return 0;
}

static int append_done(struct reclog *l, uint64_t mark)
{
    unsigned char rec[DONE_BYTES] = {'D'};
    reclog_put_le64(rec + 8, mark);
    struct iovec part = {rec, sizeof(rec)};
    return reclog_append(l, &part, 1);
}

/* Starts a new segment for messages from next_id on; it begins with the done
 * mark, so the segments before it may go. */
static int start_segment(struct journal *j)
{
    char name[SEG_NAME_LEN + 1];
    segment_name(name, j->next_id);
    struct reclog l;
    int fail_err = j->cur.fail_err;
    int rc = reclog_open(&l, j->dir_fd, name, O_RDWR | O_CREAT | O_TRUNC, 0600, JOURNAL_MAGIC);
    if (rc < 0)
        return rc;
    l.fail_err = fail_err;
    if (j->n_segs > 0 && j->segs[j->n_segs - 1].first_id == j->next_id)
        j->n_segs--; /* the same file, empty of messages: reused */
    if ((rc = add_segment(j, j->next_id)) < 0 || (j->done && (rc = append_done(&l, j->done)) < 0)) {
        reclog_close(&l);
        return rc;
    }
    reclog_close(&j->cur);
    j->cur = l;
    return 0;
}

/* Deletes the segments before the last whose messages are all done. */
static void drop_done_segments(struct journal *j)
{
    size_t k = 0;
    while (k + 1 < j->n_segs && j->segs[k].last_id <= j->done) {
        char name[SEG_NAME_LEN + 1];
        segment_name(name, j->segs[k].first_id);
        if (unlinkat(j->dir_fd, name, 0) < 0 && errno != ENOENT)
            break;
        k++;
    }
    if (k) {
        memmove(j->segs, j->segs + k, (j->n_segs - k) * sizeof(*j->segs));
        j->n_segs -= k;
    }
    j->st.segments = j->n_segs;
}

/* Reads one segment: its largest message id, the done marks, a torn tail
 * (cut off). */
static int scan_segment(struct journal *j, struct segment *s, uint64_t *max_id)
{
    char name[SEG_NAME_LEN + 1];
    segment_name(name, s->first_id);
    struct reclog l;
    int rc = reclog_open(&l, j->dir_fd, name, O_RDWR, 0600, JOURNAL_MAGIC);
    if (rc < 0)
        return rc;
    uint64_t off = 0;
    while (off < l.size) {
        void *data;
        uint32_t len;
        uint64_t next;
        rc = reclog_read(&l, off, l.size, &data, &len, &next);
        if (rc < 0)
            break;
        if (rc == 0) {
            j->st.torn++;
            log_warn("journal: %s: a torn or corrupt record at byte %" PRIu64
                     " (a crash while writing); cut off",
                     name, off);
            if ((rc = reclog_truncate(&l, off)) == 0)
                rc = reclog_sync(&l);
            break;
        }
        const unsigned char *p = data;
        if (p[0] == 'M' && len >= MSG_HEADER_BYTES &&
            reclog_get_le32(p + 4) <= len - MSG_HEADER_BYTES) {
            uint64_t id = reclog_get_le64(p + 8);
            uint32_t tlen = reclog_get_le32(p + 4);
            if (id > s->last_id)
                s->last_id = id;
            if (id > *max_id)
                *max_id = id;
            if (j->recent) {
                j->recent[j->recent_next] = (struct recent){
                    .msgid = (uint32_t)(p[2] | p[3] << 8),
                    .crc = message_crc((const char *)p + MSG_HEADER_BYTES, tlen,
                                       p + MSG_HEADER_BYTES + tlen, len - MSG_HEADER_BYTES - tlen)};
                j->recent_next = (j->recent_next + 1) % RECENT_MAX;
                if (j->n_recent < RECENT_MAX)
                    j->n_recent++;
            }
        } else if (p[0] == 'D' && len == DONE_BYTES) {
            uint64_t mark = reclog_get_le64(p + 8);
            if (mark > j->done)
                j->done = mark;
        }
        free(data);
        off = next;
    }
    reclog_close(&l);
    return rc < 0 ? rc : 0;
}

static int load(struct journal *j)
{
    j->recent = malloc(RECENT_MAX * sizeof(*j->recent)); /* NULL: no check */
    int fd = dup(j->dir_fd);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        if (fd >= 0)
            close(fd);
        return -errno;
    }
    int rc = 0;
    for (struct dirent *e; (e = readdir(d)) && rc == 0;) {
        uint64_t first;
        if (parse_segment_name(e->d_name, &first))
            rc = add_segment(j, first);
    }
    closedir(d);
    if (rc < 0)
        return rc;
    if (j->n_segs > 1)
        qsort(j->segs, j->n_segs, sizeof(*j->segs), cmp_segment);
    uint64_t max_id = 0;
    for (size_t i = 0; i < j->n_segs; i++) {
        if ((rc = scan_segment(j, &j->segs[i], &max_id)) < 0)
            return rc;
        if (j->segs[i].first_id > max_id)
            max_id = j->segs[i].first_id - 1;
    }
    if (j->recent)
        qsort(j->recent, j->n_recent, sizeof(*j->recent), cmp_recent);
    j->replay_from = j->done;
    j->next_id = (max_id > j->done ? max_id : j->done) + 1;
    return 0;
}

int journal_open(const char *dir, const char *name, enum journal_durability durability,
                 int64_t sync_interval_ms, void (*on_error)(void *ctx), void *ctx,
                 struct journal **out)
{
    if (!name[0] || strchr(name, '/'))
        return -EINVAL;
    struct journal *j = calloc(1, sizeof(*j));
    if (!j)
        return -ENOMEM;
    pthread_mutex_init(&j->mu, NULL);
    j->cur.fd = -1;
    j->durability = durability;
    j->sync_interval_ms = sync_interval_ms;
    j->on_error = on_error;
    j->error_ctx = ctx;
    j->rl = (struct log_ratelimit)LOG_RATELIMIT_INIT(60000, 3);
    char path[4096];
    int rc;
    if (snprintf(path, sizeof(path), "%s/%s.journal", dir, name) >= (int)sizeof(path)) {
        rc = -ENAMETOOLONG;
        goto fail;
    }
    if (mkdir(path, 0700) < 0 && errno != EEXIST) {
        rc = -errno;
        goto fail;
    }
    j->dir_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (j->dir_fd < 0) {
        rc = -errno;
        goto fail;
    }
    if ((rc = load(j)) < 0 || (rc = start_segment(j)) < 0) {
        close(j->dir_fd);
        goto fail;
    }
    drop_done_segments(j);
    if (j->next_id - 1 > j->replay_from)
        log_notice("journal: %" PRIu64 " messages of the last run to replay",
                   j->next_id - 1 - j->replay_from);
    *out = j;
    return 0;
fail:
    log_err("journal: cannot open %s: %s", path, strerror(-rc));
    free(j->segs);
    free(j->recent);
    pthread_mutex_destroy(&j->mu);
    free(j);
    return rc;
}

void journal_close(struct journal *j)
{
    if (!j)
        return;
    /* Every message done: nothing to replay, no file needed. */
    bool all_done = j->done + 1 >= j->next_id;
    reclog_close(&j->cur);
    if (all_done) {
        for (size_t i = 0; i < j->n_segs; i++) {
            char name[SEG_NAME_LEN + 1];
            segment_name(name, j->segs[i].first_id);
            (void)unlinkat(j->dir_fd, name, 0);
        }
    }
    close(j->dir_fd);
    free(j->segs);
    free(j->recent);
    pthread_mutex_destroy(&j->mu);
    free(j);
}

/* ---- recording -------------------------------------------------------------- */

static void sync_now(struct journal *j)
{
    int rc = reclog_sync(&j->cur);
    if (rc < 0)
        failed(j, "sync", rc);
    j->st.syncs++;
    j->unsynced = false;
}

int journal_record(struct journal *j, int msgid, const char *topic, size_t topic_len,
                   const void *payload, size_t payload_len, int qos, bool retained,
                   uint64_t *id_out, wall_s *arrival)
{
    unsigned char h[MSG_HEADER_BYTES] = {'M', (unsigned char)((retained ? 1 : 0) | (qos & 3) << 1),
                                         (unsigned char)msgid, (unsigned char)(msgid >> 8)};
    pthread_mutex_lock(&j->mu);
    uint64_t id = j->next_id++;
    wall_s t = wall_after(clock_wall(), &j->last_arrival);
    uint64_t bits;
    memcpy(&bits, &t, sizeof(bits));
    reclog_put_le32(h + 4, (uint32_t)topic_len);
    reclog_put_le64(h + 8, id);
    reclog_put_le64(h + 16, bits);
    int rc = 0;
    if (j->cur.size >= JOURNAL_SEGMENT_BYTES && (rc = start_segment(j)) < 0)
        failed(j, "start a segment", rc);
    if (rc == 0) {
        struct iovec parts[3] = {
            {h, sizeof(h)}, {(void *)topic, topic_len}, {(void *)payload, payload_len}};
        rc = reclog_append(&j->cur, parts, 3);
        if (rc < 0) {
            failed(j, "write", rc);
        } else {
            j->segs[j->n_segs - 1].last_id = id;
            j->st.recorded++;
            if (j->durability == JOURNAL_MACHINE) {
                mono_ms now = clock_mono_ms();
                if (!j->unsynced) {
                    j->unsynced = true;
                    j->unsynced_since = now;
                }
                if (now - j->unsynced_since >= j->sync_interval_ms)
                    sync_now(j);
            }
        }
    }
    pthread_mutex_unlock(&j->mu);
    *id_out = rc == 0 ? id : 0;
    *arrival = t;
    return rc;
}

bool journal_seen(struct journal *j, int msgid, const char *topic, size_t topic_len,
                  const void *payload, size_t payload_len)
{
    struct recent key = {(uint32_t)msgid & 0xffff,
                         message_crc(topic, topic_len, payload, payload_len)};
    pthread_mutex_lock(&j->mu);
    bool seen = j->n_recent && bsearch(&key, j->recent, j->n_recent, sizeof(key), cmp_recent);
    if (seen)
        j->st.redelivered++;
    pthread_mutex_unlock(&j->mu);
    return seen;
}

wall_s journal_arrival(struct journal *j)
{
    pthread_mutex_lock(&j->mu);
    wall_s t = wall_after(clock_wall(), &j->last_arrival);
    pthread_mutex_unlock(&j->mu);
    return t;
}

void journal_done(struct journal *j, uint64_t mark)
{
    pthread_mutex_lock(&j->mu);
    if (mark > j->done && mark < j->next_id) {
        j->done = mark;
        int rc = append_done(&j->cur, mark);
        if (rc < 0)
            failed(j, "write", rc);
        drop_done_segments(j);
    }
    pthread_mutex_unlock(&j->mu);
}

void journal_tick(struct journal *j)
{
    pthread_mutex_lock(&j->mu);
    if (j->unsynced && clock_mono_ms() - j->unsynced_since >= j->sync_interval_ms)
        sync_now(j);
    pthread_mutex_unlock(&j->mu);
}

/* ---- replay ----------------------------------------------------------------- */

/* Replays the messages of one segment with ids in (from, to]. Returns how
 * many, or a negative errno; *stop when fn asked to stop. */
static long replay_segment(int dir_fd, uint64_t first_id, uint64_t from, uint64_t to,
                           int (*fn)(void *ctx, const struct journal_msg *m), void *ctx, bool *stop)
{
    char name[SEG_NAME_LEN + 1];
    segment_name(name, first_id);
    struct reclog l;
    int rc = reclog_open(&l, dir_fd, name, O_RDONLY, 0, JOURNAL_MAGIC);
    if (rc < 0)
        return rc == -ENOENT ? 0 : rc; /* deleted meanwhile: all done */
    long n = 0;
    for (uint64_t off = 0; off < l.size && !*stop;) {
        void *data;
        uint32_t len;
        uint64_t next;
        if (reclog_read(&l, off, l.size, &data, &len, &next) != 1)
            break; /* the tail, cut at open */
        const unsigned char *p = data;
        uint32_t tlen = len >= MSG_HEADER_BYTES ? reclog_get_le32(p + 4) : 0;
        uint64_t id = len >= MSG_HEADER_BYTES ? reclog_get_le64(p + 8) : 0;
        if (p[0] == 'M' && len >= MSG_HEADER_BYTES && tlen <= len - MSG_HEADER_BYTES && id > from &&
            id <= to) {
            size_t plen = len - MSG_HEADER_BYTES - tlen;
            char *copy = malloc(tlen + 1 + plen + 1);
            if (!copy) {
                free(data);
                reclog_close(&l);
                return -ENOMEM;
            }
            memcpy(copy, p + MSG_HEADER_BYTES, tlen);
            copy[tlen] = '\0';
            memcpy(copy + tlen + 1, p + MSG_HEADER_BYTES + tlen, plen);
            copy[tlen + 1 + plen] = '\0';
            uint64_t bits = reclog_get_le64(p + 16);
            struct journal_msg m = {.id = id,
                                    .retained = p[1] & 1,
                                    .qos = (p[1] >> 1) & 3,
                                    .topic = copy,
                                    .topic_len = tlen,
                                    .payload = copy + tlen + 1,
                                    .payload_len = plen};
            memcpy(&m.arrival, &bits, sizeof(bits));
            *stop = fn(ctx, &m) != 0;
            free(copy);
            n++;
        }
        free(data);
        off = next;
    }
    reclog_close(&l);
    return n;
}

long journal_replay(struct journal *j, int (*fn)(void *ctx, const struct journal_msg *m), void *ctx)
{
    pthread_mutex_lock(&j->mu);
    size_t n_segs = j->n_segs;
    uint64_t *firsts = malloc((n_segs ? n_segs : 1) * sizeof(*firsts));
    for (size_t i = 0; firsts && i < n_segs; i++)
        firsts[i] = j->segs[i].first_id;
    uint64_t from = j->replay_from, to = j->next_id - 1;
    pthread_mutex_unlock(&j->mu);
    if (!firsts)
        return -ENOMEM;
    long total = 0;
    bool stop = false;
    /* Segments are not changed but deleted: reading one the writer has
     * just finished with finds it gone, or reads it to the end. */
    for (size_t i = 0; i < n_segs && !stop && from < to; i++) {
        long n = replay_segment(j->dir_fd, firsts[i], from, to, fn, ctx, &stop);
        if (n < 0) {
            free(firsts);
            return n;
        }
        total += n;
    }
    free(firsts);
    pthread_mutex_lock(&j->mu);
    j->st.replayed += (uint64_t)total;
    j->replay_from = to;
    pthread_mutex_unlock(&j->mu);
    return total;
}

void journal_stats(struct journal *j, struct journal_stats *st)
{
    pthread_mutex_lock(&j->mu);
    *st = j->st;
    st->segments = j->n_segs;
    pthread_mutex_unlock(&j->mu);
}

void journal_fail_writes(struct journal *j, int err)
{
    pthread_mutex_lock(&j->mu);
    j->cur.fail_err = err;
    pthread_mutex_unlock(&j->mu);
}
