#include "mqtt_persist.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "reclog.h"

#define RECORD_MAGIC UINT32_C(0x514d4748) /* "HGMQ" */
#define KEYLEN_BYTES 8                    /* u32 key length, u32 data length */
/* The log's format before it was a record log (lib/reclog.h): read once,
 * rewritten in the present one. */
#define LEGACY_MAGIC UINT32_C(0x504d4748) /* "HGMP" */
#define LEGACY_HEADER_BYTES 16
#define OLD_SUFFIX ".msg"
/* While the log is behind memory (a write failed), how often to try to
 * rewrite it. */
#define REWRITE_RETRY_MS 1000

struct entry {
    struct entry *next;
    char *data;
    size_t len;
    char key[]; /* NUL-terminated */
};

struct mqtt_persist {
    pthread_mutex_t mu;
    char *path, *tmp_path; /* the log, and its rewrite before the rename */
    struct reclog log;     /* fd -1: memory only; size: bytes, all good records */
    long long live_bytes;  /* what a rewrite would write */
    bool stale;            /* the log differs from memory: a write failed */
    int last_err;          /* errno of the last failure (or of the open) */
    mono_ms retry_at;      /* when stale: the next rewrite attempt */
    struct entry **buckets;
    size_t n_buckets, n;
    int fail_err; /* tests: inject write failures (given to the log) */
    void (*on_error)(void *ctx);
    void *error_ctx;
    struct log_ratelimit rl;
};

/* ---- the map: key -> data --------------------------------------------------- */

static size_t hash_key(const char *key)
{
    uint64_t h = UINT64_C(1469598103934665603);
    for (const unsigned char *c = (const unsigned char *)key; *c; c++)
        h = (h ^ *c) * UINT64_C(1099511628211);
    return (size_t)h;
}

static struct entry **map_slot(struct mqtt_persist *p, const char *key)
{
    struct entry **e = &p->buckets[hash_key(key) & (p->n_buckets - 1)];
    while (*e && strcmp((*e)->key, key) != 0)
        e = &(*e)->next;
    return e;
}

static long long record_bytes(size_t key_len, size_t data_len)
{
    return RECLOG_HEADER_BYTES + KEYLEN_BYTES + (long long)key_len + (long long)data_len;
}

static void map_grow(struct mqtt_persist *p)
{
    size_t nb = p->n_buckets * 2;
    struct entry **b = calloc(nb, sizeof(*b));
    if (!b)
        return; /* longer chains, still correct */
    for (size_t i = 0; i < p->n_buckets; i++) {
        for (struct entry *e = p->buckets[i], *next; e; e = next) {
            next = e->next;
            size_t h = hash_key(e->key) & (nb - 1);
            e->next = b[h];
            b[h] = e;
        }
    }
    free(p->buckets);
    p->buckets = b;
    p->n_buckets = nb;
}

static void map_unlink(struct mqtt_persist *p, struct entry **slot)
{
    struct entry *e = *slot;
    *slot = e->next;
    p->n--;
    p->live_bytes -= record_bytes(strlen(e->key), e->len);
    free(e->data);
    free(e);
}

/* Takes data (malloc'd). Returns 0 or -ENOMEM (data freed). */
static int map_set(struct mqtt_persist *p, const char *key, char *data, size_t len)
{
    struct entry **slot = map_slot(p, key);
    if (*slot)
        map_unlink(p, slot);
    size_t klen = strlen(key);
    struct entry *e = malloc(sizeof(*e) + klen + 1);
    if (!e) {
        free(data);
        return -ENOMEM;
    }
    memcpy(e->key, key, klen + 1);
    e->data = data;
    e->len = len;
    e->next = *slot;
    *slot = e;
    p->n++;
    p->live_bytes += record_bytes(klen, len);
    if (p->n > p->n_buckets)
        map_grow(p);
    return 0;
}

static void map_clear(struct mqtt_persist *p)
{
    for (size_t i = 0; i < p->n_buckets; i++)
        while (p->buckets[i])
            map_unlink(p, &p->buckets[i]);
}

/* ---- records ----------------------------------------------------------------
 * A record's payload: u32 key length, u32 data length (MQTT_PERSIST_TOMBSTONE
 * for a remove), the key, the data. */

/* Appends one record to l; data NULL with data_len MQTT_PERSIST_TOMBSTONE
 * for a remove. */
static int append_record(struct reclog *l, const char *key, const char *data, uint32_t data_len)
{
    unsigned char lens[KEYLEN_BYTES];
    size_t klen = strlen(key);
    reclog_put_le32(lens, (uint32_t)klen);
    reclog_put_le32(lens + 4, data_len);
    struct iovec parts[3] = {{lens, sizeof(lens)}, {(void *)key, klen}, {(void *)data, 0}};
    if (data_len != MQTT_PERSIST_TOMBSTONE)
        parts[2].iov_len = data_len;
    return reclog_append(l, parts, 3);
}

/* Reads a record's payload: key into key (NUL-terminated), the data's
 * offset and length. False when it is not one (a foreign record). */
static bool decode_payload(const unsigned char *buf, size_t len, char key[MQTT_PERSIST_KEY_MAX + 1],
                           size_t *data_off, uint32_t *dlen)
{
    if (len < KEYLEN_BYTES)
        return false;
    uint32_t klen = reclog_get_le32(buf);
    *dlen = reclog_get_le32(buf + 4);
    size_t body = *dlen == MQTT_PERSIST_TOMBSTONE ? 0 : *dlen;
    if (klen == 0 || klen > MQTT_PERSIST_KEY_MAX ||
        (*dlen != MQTT_PERSIST_TOMBSTONE && *dlen > MQTT_PERSIST_DATA_MAX) ||
        len != KEYLEN_BYTES + klen + body || memchr(buf + KEYLEN_BYTES, '\0', klen))
        return false;
    memcpy(key, buf + KEYLEN_BYTES, klen);
    key[klen] = '\0';
    *data_off = KEYLEN_BYTES + klen;
    return true;
}

/* Applies one record to the map. Returns 0 or -ENOMEM. */
static int apply(struct mqtt_persist *p, const char *key, const unsigned char *data, uint32_t dlen)
{
    if (dlen == MQTT_PERSIST_TOMBSTONE) {
        struct entry **slot = map_slot(p, key);
        if (*slot)
            map_unlink(p, slot);
        return 0;
    }
    char *copy = malloc(dlen ? dlen : 1);
    if (!copy)
        return -ENOMEM;
    memcpy(copy, data, dlen);
    return map_set(p, key, copy, dlen);
}

/* ---- the log file ------------------------------------------------------------ */

static void count_error(struct mqtt_persist *p)
{
    if (p->on_error)
        p->on_error(p->error_ctx);
}

static void count_failure(struct mqtt_persist *p, const char *what, int err)
{
    count_error(p);
    if (log_ratelimit_ok(&p->rl, "mqtt persistence errors"))
        log_err("mqtt: cannot %s %s: %s; in-flight messages are kept in memory until it can be "
                "written",
                what, p->path, strerror(err));
}

/* Writes the whole live set to a new file renamed over the log. Returns 0
 * or a negative errno (the log is left as it was). */
static int log_rewrite(struct mqtt_persist *p)
{
    struct reclog tmp;
    int rc;

    if (!p->path)
        return -EBADF;
    rc = reclog_open(&tmp, AT_FDCWD, p->tmp_path, O_RDWR | O_CREAT | O_TRUNC, 0600, RECORD_MAGIC);
    if (rc < 0)
        return rc;
    tmp.fail_err = p->fail_err;
    for (size_t i = 0; rc == 0 && i < p->n_buckets; i++)
        for (struct entry *e = p->buckets[i]; rc == 0 && e; e = e->next)
            rc = append_record(&tmp, e->key, e->data, (uint32_t)e->len);
    if (rc == 0 && rename(p->tmp_path, p->path) < 0)
        rc = -errno;
    if (rc < 0) {
        reclog_close(&tmp);
        unlink(p->tmp_path);
        return rc;
    }
    reclog_close(&p->log);
    p->log = tmp;
    p->stale = false;
    return 0;
}

static int log_truncate(struct mqtt_persist *p)
{
    int rc;
    if (p->log.fd < 0)
        return -EBADF;
    if ((rc = reclog_truncate(&p->log, 0)) < 0) {
        p->stale = true;
        p->last_err = -rc;
        return rc;
    }
    p->stale = false;
    return 0;
}

/* While the log is behind memory: rewrites it, at most every
 * REWRITE_RETRY_MS. Returns 0 when it is up to date again. */
static int log_catch_up(struct mqtt_persist *p)
{
    mono_ms now = clock_mono_ms();
    if (now < p->retry_at)
        return -EAGAIN;
    p->retry_at = now + REWRITE_RETRY_MS;
    int rc = p->n == 0 ? log_truncate(p) : log_rewrite(p);
    if (rc < 0 && rc != -ENOMEM)
        p->last_err = -rc;
    if (rc == 0)
        log_notice("mqtt: %s written again (%zu in-flight messages)", p->path, p->n);
    return rc;
}

/* Appends one record. On a failure the bytes written are cut off again, and
 * the log is marked stale: rewritten from memory later. */
static int log_append(struct mqtt_persist *p, const char *key, const char *data, uint32_t dlen)
{
    if (p->log.fd < 0)
        return -p->last_err;
    if (p->stale)
        return log_catch_up(p) == 0 ? 0 : -p->last_err;
    p->log.fail_err = p->fail_err;
    int rc = append_record(&p->log, key, data, dlen);
    if (rc < 0) {
        p->stale = true;
        p->last_err = -rc;
        p->retry_at = clock_mono_ms() + REWRITE_RETRY_MS;
        return rc;
    }
    if ((long long)p->log.size > p->live_bytes + (long long)MQTT_PERSIST_COMPACT_BYTES &&
        log_rewrite(p) < 0)
        log_warn("mqtt: cannot compact %s; it keeps growing", p->path);
    return 0;
}

/* ---- open: replay, import ------------------------------------------------------ */

static int read_file(int fd, unsigned char **out, size_t *len)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return -errno;
    size_t size = (size_t)st.st_size, got = 0;
    unsigned char *buf = malloc(size ? size : 1);
    if (!buf)
        return -ENOMEM;
    while (got < size) {
        ssize_t r = pread(fd, buf + got, size - got, (off_t)got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    *out = buf;
    *len = got;
    return 0;
}

/* The log as an earlier version wrote it: records of u32 magic "HGMP", u32
 * key length, u32 data length, u32 CRC-32 of the two lengths, key and data,
 * then the key and the data. Read into memory up to the first torn or
 * corrupt one; the caller rewrites the log. Returns 0 or -ENOMEM. */
static int replay_legacy(struct mqtt_persist *p, const unsigned char *buf, size_t len)
{
    size_t off = 0;
    while (len - off >= LEGACY_HEADER_BYTES && reclog_get_le32(buf + off) == LEGACY_MAGIC) {
        const unsigned char *r = buf + off;
        uint32_t klen = reclog_get_le32(r + 4), dlen = reclog_get_le32(r + 8);
        size_t body = dlen == MQTT_PERSIST_TOMBSTONE ? 0 : dlen;
        char key[MQTT_PERSIST_KEY_MAX + 1];
        if (klen == 0 || klen > MQTT_PERSIST_KEY_MAX || body > MQTT_PERSIST_DATA_MAX ||
            len - off - LEGACY_HEADER_BYTES < klen + body ||
            memchr(r + LEGACY_HEADER_BYTES, '\0', klen))
            break;
        uint32_t crc = reclog_crc32(0, r + 4, 8);
        crc = reclog_crc32(crc, r + LEGACY_HEADER_BYTES, klen + body);
        if (crc != reclog_get_le32(r + 12))
            break;
        memcpy(key, r + LEGACY_HEADER_BYTES, klen);
        key[klen] = '\0';
        if (apply(p, key, r + LEGACY_HEADER_BYTES + klen, dlen) < 0)
            return -ENOMEM;
        off += LEGACY_HEADER_BYTES + klen + body;
    }
    if (off < len) {
        count_error(p);
        log_warn("mqtt: %s: a torn or corrupt record at byte %zu; %zu bytes left out", p->path, off,
                 len - off);
    }
    log_notice("mqtt: %s read in its earlier format (%zu in-flight messages)", p->path, p->n);
    return 0;
}

/* Replays the log into memory; cuts a torn tail. */
static int log_replay(struct mqtt_persist *p)
{
    uint64_t off = 0, end = p->log.size;
    unsigned char head[4];

    if (end >= sizeof(head) && pread(p->log.fd, head, sizeof(head), 0) == (ssize_t)sizeof(head) &&
        reclog_get_le32(head) == LEGACY_MAGIC) {
        unsigned char *buf;
        size_t len;
        int rc = read_file(p->log.fd, &buf, &len);
        if (rc == 0)
            rc = replay_legacy(p, buf, len);
        free(buf);
        if (rc == 0)
            rc = log_rewrite(p);
        return rc;
    }
    while (off < end) {
        void *data;
        uint32_t len, dlen;
        uint64_t next;
        size_t data_off;
        char key[MQTT_PERSIST_KEY_MAX + 1];
        int rc = reclog_read(&p->log, off, end, &data, &len, &next);
        if (rc < 0)
            return rc;
        if (rc == 0 || !decode_payload(data, len, key, &data_off, &dlen)) {
            free(data);
            break;
        }
        rc = apply(p, key, (const unsigned char *)data + data_off, dlen);
        free(data);
        if (rc < 0)
            return rc;
        off = next;
    }
    if (off < end) {
        count_error(p);
        log_warn("mqtt: %s: a torn or corrupt record at byte %llu; %llu bytes cut off", p->path,
                 (unsigned long long)off, (unsigned long long)(end - off));
        return reclog_truncate(&p->log, off);
    }
    return 0;
}

/* Imports one directory of the library's file persistence; removes what
 * is in the log. Returns the number of messages imported. */
static size_t import_old_dir(struct mqtt_persist *p, const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t nl = strlen(de->d_name);
        size_t sl = strlen(OLD_SUFFIX);
        if (nl <= sl || nl - sl > MQTT_PERSIST_KEY_MAX || strcmp(de->d_name + nl - sl, OLD_SUFFIX))
            continue;
        char path[PATH_MAX], key[MQTT_PERSIST_KEY_MAX + 1];
        int pl = snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        if (pl < 0 || (size_t)pl >= sizeof(path))
            continue;
        memcpy(key, de->d_name, nl - sl);
        key[nl - sl] = '\0';
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        unsigned char *buf;
        size_t len;
        if (fd < 0 || read_file(fd, &buf, &len) < 0) {
            log_warn("mqtt: cannot read %s: %s; not imported", path, strerror(errno));
            if (fd >= 0)
                close(fd);
            continue;
        }
        close(fd);
        char *bufs[] = {(char *)buf};
        int lens[] = {(int)len};
        if (len > 0 && len <= MQTT_PERSIST_DATA_MAX &&
            mqtt_persist_put(p, key, 1, bufs, lens) == 0) {
            unlink(path);
            n++;
        }
        free(buf);
    }
    closedir(d);
    if (rmdir(dir) < 0)
        log_warn("mqtt: %s: not every message could be imported; left there", dir);
    return n;
}

/* The library's file persistence kept each client in "<dir>/<name>-<server>". */
static void import_old(struct mqtt_persist *p, const char *dir, const char *name)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    size_t nl = strlen(name);
    struct dirent *de;
    while ((de = readdir(d))) {
        if (strncmp(de->d_name, name, nl) != 0 || de->d_name[nl] != '-')
            continue;
        char sub[PATH_MAX];
        struct stat st;
        int sl = snprintf(sub, sizeof(sub), "%s/%s", dir, de->d_name);
        if (sl < 0 || (size_t)sl >= sizeof(sub) || stat(sub, &st) < 0 || !S_ISDIR(st.st_mode))
            continue;
        size_t n = import_old_dir(p, sub);
        log_info("mqtt: %zu in-flight messages imported from %s into %s", n, sub, p->path);
    }
    closedir(d);
}

static char *path_join(const char *dir, const char *name, const char *suffix)
{
    size_t len = strlen(dir) + strlen(name) + strlen(suffix) + 2;
    char *s = malloc(len);
    if (s)
        snprintf(s, len, "%s/%s%s", dir, name, suffix);
    return s;
}

/* Opens and replays the log; on failure the store stays in memory only. */
static void log_open(struct mqtt_persist *p, const char *dir)
{
    int rc = 0;
    if (mkdir(dir, 0700) < 0 && errno != EEXIST)
        rc = -errno;
    else if ((rc = reclog_open(&p->log, AT_FDCWD, p->path, O_RDWR | O_CREAT, 0600, RECORD_MAGIC)) <
             0)
        p->log.fd = -1;
    else if ((rc = log_replay(p)) < 0) {
        reclog_close(&p->log);
        map_clear(p);
    }
    if (rc < 0) {
        p->last_err = -rc;
        log_err("mqtt: cannot open %s: %s; in-flight messages are kept in memory only", p->path,
                strerror(-rc));
    }
}

int mqtt_persist_open(const char *dir, const char *name, void (*on_error)(void *ctx), void *ctx,
                      struct mqtt_persist **out)
{
    if (!name[0] || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
        return -EINVAL;
    struct mqtt_persist *p = calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    p->log.fd = -1;
    p->on_error = on_error;
    p->error_ctx = ctx;
    p->n_buckets = 64;
    p->rl = (struct log_ratelimit)LOG_RATELIMIT_INIT(60000, 3);
    pthread_mutex_init(&p->mu, NULL);
    p->buckets = calloc(p->n_buckets, sizeof(*p->buckets));
    p->path = path_join(dir, name, ".log");
    p->tmp_path = path_join(dir, name, ".log.tmp");
    if (!p->buckets || !p->path || !p->tmp_path) {
        mqtt_persist_close(p);
        return -ENOMEM;
    }
    log_open(p, dir);
    if (p->log.fd >= 0) {
        import_old(p, dir, name);
        /* Start from the live records alone: empty, or rewritten. */
        long long size = (long long)p->log.size;
        int rc =
            p->n == 0 ? (size ? log_truncate(p) : 0) : (size != p->live_bytes ? log_rewrite(p) : 0);
        if (rc < 0)
            log_warn("mqtt: cannot compact %s: %s", p->path, strerror(-rc));
        if (p->n)
            log_info("mqtt: %zu in-flight messages restored from %s", p->n, p->path);
    }
    *out = p;
    return 0;
}

void mqtt_persist_close(struct mqtt_persist *p)
{
    if (!p)
        return;
    if (p->buckets)
        map_clear(p);
    reclog_close(&p->log);
    pthread_mutex_destroy(&p->mu);
    free(p->buckets);
    free(p->path);
    free(p->tmp_path);
    free(p);
}

/* ---- the operations -------------------------------------------------------------- */

static bool key_ok(const char *key)
{
    size_t n = key ? strlen(key) : 0;
    return n > 0 && n <= MQTT_PERSIST_KEY_MAX;
}

int mqtt_persist_put(struct mqtt_persist *p, const char *key, int n, char *const bufs[],
                     const int lens[])
{
    size_t len = 0;
    if (!key_ok(key) || n < 0)
        return -EINVAL;
    for (int i = 0; i < n; i++) {
        if (lens[i] < 0 || (size_t)lens[i] > MQTT_PERSIST_DATA_MAX - len)
            return -EINVAL;
        len += (size_t)lens[i];
    }
    char *data = malloc(len ? len : 1);
    if (!data)
        return -ENOMEM;
    for (int i = 0, off = 0; i < n; off += lens[i], i++)
        if (lens[i])
            memcpy(data + off, bufs[i], (size_t)lens[i]);

    pthread_mutex_lock(&p->mu);
    int rc = map_set(p, key, data, len);
    if (rc == 0) {
        struct entry *e = *map_slot(p, key);
        rc = log_append(p, key, e->data, (uint32_t)len);
        if (rc < 0)
            count_failure(p, "write", -rc);
    }
    pthread_mutex_unlock(&p->mu);
    return rc;
}

int mqtt_persist_get(struct mqtt_persist *p, const char *key, void *(*alloc)(size_t), char **data,
                     int *len)
{
    int rc = -ENOENT;
    pthread_mutex_lock(&p->mu);
    struct entry *e = key ? *map_slot(p, key) : NULL;
    if (e) {
        rc = -ENOMEM;
        char *copy = alloc(e->len ? e->len : 1);
        if (copy) {
            memcpy(copy, e->data, e->len);
            *data = copy;
            *len = (int)e->len;
            rc = 0;
        }
    }
    pthread_mutex_unlock(&p->mu);
    return rc;
}

int mqtt_persist_remove(struct mqtt_persist *p, const char *key)
{
    int rc = 0;
    pthread_mutex_lock(&p->mu);
    struct entry **slot = key ? map_slot(p, key) : NULL;
    if (slot && *slot) {
        map_unlink(p, slot);
        /* Memory only (fd < 0): its puts were counted already. When the
         * last key goes (the usual end: everything acknowledged), the log is
         * emptied instead of appended to. */
        if (p->log.fd >= 0)
            rc = p->n == 0 ? log_truncate(p) : log_append(p, key, NULL, MQTT_PERSIST_TOMBSTONE);
        if (rc < 0)
            count_failure(p, "write", -rc);
    }
    pthread_mutex_unlock(&p->mu);
    return rc;
}

bool mqtt_persist_contains(struct mqtt_persist *p, const char *key)
{
    pthread_mutex_lock(&p->mu);
    bool found = key && *map_slot(p, key);
    pthread_mutex_unlock(&p->mu);
    return found;
}

int mqtt_persist_keys(struct mqtt_persist *p, void *(*alloc)(size_t), char ***keys, int *n)
{
    int rc = 0;
    *keys = NULL;
    *n = 0;
    pthread_mutex_lock(&p->mu);
    if (p->n == 0)
        goto out_unlock;
    char **k = alloc(p->n * sizeof(*k));
    if (!k) {
        rc = -ENOMEM;
        goto out_unlock;
    }
    size_t i = 0;
    for (size_t b = 0; b < p->n_buckets; b++) {
        for (struct entry *e = p->buckets[b]; e; e = e->next) {
            size_t kl = strlen(e->key) + 1;
            if (!(k[i] = alloc(kl))) {
                rc = -ENOMEM; /* the caller cannot free a partial array with our free */
                goto out_partial;
            }
            memcpy(k[i++], e->key, kl);
        }
    }
out_partial:
    *keys = k;
    *n = (int)i;
out_unlock:
    pthread_mutex_unlock(&p->mu);
    return rc;
}

size_t mqtt_persist_count_prefix(struct mqtt_persist *p, const char *prefix)
{
    size_t pl = strlen(prefix), n = 0;
    pthread_mutex_lock(&p->mu);
    for (size_t b = 0; p->n > 0 && b < p->n_buckets; b++) {
        for (struct entry *e = p->buckets[b]; e; e = e->next)
            n += strncmp(e->key, prefix, pl) == 0;
    }
    pthread_mutex_unlock(&p->mu);
    return n;
}

int mqtt_persist_clear(struct mqtt_persist *p)
{
    pthread_mutex_lock(&p->mu);
    map_clear(p);
    int rc = p->log.fd >= 0 ? log_truncate(p) : 0;
    if (rc < 0)
        count_failure(p, "truncate", -rc);
    pthread_mutex_unlock(&p->mu);
    return rc;
}

long long mqtt_persist_log_bytes(struct mqtt_persist *p)
{
    pthread_mutex_lock(&p->mu);
    long long n = (long long)p->log.size;
    pthread_mutex_unlock(&p->mu);
    return n;
}

void mqtt_persist_fail_writes(struct mqtt_persist *p, int err)
{
    pthread_mutex_lock(&p->mu);
    p->fail_err = err;
    pthread_mutex_unlock(&p->mu);
}
