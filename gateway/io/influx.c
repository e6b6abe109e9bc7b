#include "influx.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <zlib.h>

#include "buf.h"
#include "clock.h"
#include "crypto.h"
#include "httpclient.h"
#include "lineproto.h"
#include "log.h"
#include "metrics.h"
#include "queue.h"
#include "spool.h"
#include "threads.h"

#define WRITER_QUEUE_BATCHES 64
#define BACKOFF_MIN_MS 500
#define BACKOFF_MAX_MS 30000
#define REPLAY_PER_ROUND 16
#define SPOOL_SEGMENT_MAX (UINT64_C(8) << 20)
#define SPOOL_SEGMENT_MIN (UINT64_C(64) << 10)

enum send_result { SEND_OK, SEND_FINAL, SEND_RETRY };

struct influx_writer {
    pthread_t thread;
    struct queue *q;
    atomic_bool stopping;
    int64_t drain_deadline; /* mono ms, set by stop */

    struct http_client *http;
    struct spool *spool;
    char *write_url;
    char *query_url; /* v1 only: for CREATE DATABASE */
    char *database;
    char *auth_header; /* v2 token */
    char *userpwd;     /* v1 basic auth */
    enum influx_api api;
    bool create_database, gzip;
    int64_t timeout_ms;

    int64_t backoff_ms;
    mono_ms retry_at; /* 0 when not backing off */
    struct log_ratelimit rl_fail, rl_reject, rl_spool;
    struct buf zbuf; /* the gzipped body */
    influx_done_fn on_done;
    void *done_ctx;
};

long influx_parse_dropped(const char *body)
{
    const char *p = strstr(body, "dropped=");
    if (!p)
        return -1;
    char *end;
    long n = strtol(p + 8, &end, 10);
    return end == p + 8 || n < 0 ? -1 : n;
}

static int gzip_body(struct influx_writer *w, const char *data, size_t len, size_t *out_len)
{
    size_t need = compressBound(len) + 32;
    buf_reset(&w->zbuf);
    if (buf_reserve(&w->zbuf, need) < 0)
        return -ENOMEM;
    z_stream zs = {0};
    if (deflateInit2(&zs, 3, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return -ENOMEM;
    zs.next_in = (unsigned char *)data;
    zs.avail_in = (uInt)len;
    zs.next_out = (unsigned char *)w->zbuf.data;
    zs.avail_out = (uInt)need;
    int rc = deflate(&zs, Z_FINISH);
    *out_len = zs.total_out;
    deflateEnd(&zs);
    return rc == Z_STREAM_END ? 0 : -EIO;
}

static int create_database(struct influx_writer *w)
{
    char stmt[512], body[1024];
    snprintf(stmt, sizeof(stmt), "CREATE DATABASE \"%s\"", w->database);
    char *esc = http_url_escape(w->http, stmt);
    if (!esc)
        return -ENOMEM;
    snprintf(body, sizeof(body), "q=%s", esc);
    free(esc);
    const char *hdrs[1] = {"Content-Type: application/x-www-form-urlencoded"};
    struct http_request req = {.method = "POST",
                               .url = w->query_url,
                               .headers = hdrs,
                               .n_headers = 1,
                               .body = body,
                               .body_len = strlen(body),
                               .userpwd = w->userpwd,
                               .timeout_ms = w->timeout_ms};
    struct http_response resp;
    if (http_client_do(w->http, &req, &resp) < 0 || resp.status != 200) {
        log_err("influx: cannot create database \"%s\": %s", w->database,
                resp.status ? resp.body : resp.error);
        return -EIO;
    }
    log_notice("influx: created database \"%s\"", w->database);
    return 0;
}

static enum send_result post_once(struct influx_writer *w, const char *data, size_t len,
                                  struct http_response *resp)
{
    const void *body = data;
    size_t body_len = len;
    const char *hdrs[3];
    size_t nh = 0;
    hdrs[nh++] = "Content-Type: text/plain; charset=utf-8";
    if (w->gzip && gzip_body(w, data, len, &body_len) == 0) {
        body = w->zbuf.data;
        hdrs[nh++] = "Content-Encoding: gzip";
    } else {
        body_len = len;
    }
    if (w->auth_header)
        hdrs[nh++] = w->auth_header;
    struct http_request req = {.method = "POST",
                               .url = w->write_url,
                               .headers = hdrs,
                               .n_headers = nh,
                               .body = body,
                               .body_len = body_len,
                               .userpwd = w->userpwd,
                               .timeout_ms = w->timeout_ms};
    metrics_inc(MET_WRITE_REQUESTS);
    if (http_client_do(w->http, &req, resp) < 0)
        return SEND_RETRY;
    if (resp->status == 204 || resp->status == 200)
        return SEND_OK;
    if (resp->status == 400 || resp->status == 422 || resp->status == 413 || resp->status == 404)
        return SEND_FINAL; /* refined by the caller */
    if (resp->status >= 400 && resp->status < 500 && resp->status != 429 && resp->status != 401 &&
        resp->status != 403 && resp->status != 408)
        return SEND_FINAL;
    return SEND_RETRY;
}

/* Writes data (points lines). On SEND_RETRY, *unsent is the offset from
 * which nothing has been written. */
static enum send_result send_lines(struct influx_writer *w, const char *data, size_t len,
                                   size_t points, size_t *unsent)
{
    struct http_response resp;
    *unsent = 0;
    enum send_result r = post_once(w, data, len, &resp);
    if (r == SEND_FINAL && resp.status == 404 && w->api == INFLUX_V1 && w->create_database &&
        strstr(resp.body, "database not found")) {
        if (create_database(w) < 0)
            r = SEND_RETRY;
        else
            r = post_once(w, data, len, &resp);
    }
    if (r == SEND_FINAL && resp.status == 413 && points > 1) {
        metrics_inc(MET_WRITE_SPLITS);
        /* Split at the line boundary nearest the middle. */
        size_t half = points / 2, cut = 0, seen = 0;
        for (size_t i = 0; i < len; i++) {
            if (data[i] == '\n' && ++seen == half) {
                cut = i + 1;
                break;
            }
        }
        size_t sub_unsent;
        r = send_lines(w, data, cut, half, &sub_unsent);
        if (r == SEND_RETRY) {
            *unsent = sub_unsent;
            return r;
        }
        enum send_result r2 = send_lines(w, data + cut, len - cut, points - half, &sub_unsent);
        if (r2 == SEND_RETRY)
            *unsent = cut + sub_unsent;
        return r2 == SEND_OK ? r : r2;
    }
    switch (r) {
    case SEND_OK:
        metrics_add(MET_POINTS_WRITTEN, points);
        break;
    case SEND_FINAL: {
        long dropped = influx_parse_dropped(resp.body);
        size_t bad = dropped >= 0 && (size_t)dropped <= points ? (size_t)dropped : points;
        metrics_add(MET_POINTS_REJECTED, bad);
        metrics_add(MET_POINTS_WRITTEN, points - bad);
        if (log_ratelimit_ok(&w->rl_reject, "influx: rejected points"))
            log_err("influx: HTTP %ld, %zu of %zu points refused and dropped: %s", resp.status, bad,
                    points, resp.body);
        break;
    }
    case SEND_RETRY:
        metrics_inc(MET_WRITE_FAILURES);
        if (log_ratelimit_ok(&w->rl_fail, "influx: write failures")) {
            if (resp.status)
                log_warn("influx: HTTP %ld from %s: %s; will retry", resp.status, w->write_url,
                         resp.body);
            else
                log_warn("influx: cannot reach %s: %s; will retry", w->write_url, resp.error);
        }
        break;
    }
    return r;
}

static void backoff_start(struct influx_writer *w)
{
    w->backoff_ms = w->backoff_ms ? w->backoff_ms * 2 : BACKOFF_MIN_MS;
    if (w->backoff_ms > BACKOFF_MAX_MS)
        w->backoff_ms = BACKOFF_MAX_MS;
    w->retry_at = clock_mono_ms() + w->backoff_ms;
}

static void backoff_clear(struct influx_writer *w)
{
    w->backoff_ms = 0;
    w->retry_at = 0;
}

/* The spool drops whole segments when full (max_size_mb, or the disk): keep
 * them a small part of both, so that only the oldest batches go. */
static uint64_t spool_segment_bytes(const char *dir, uint64_t max_bytes)
{
    uint64_t seg = SPOOL_SEGMENT_MAX;
    struct statvfs fs;
    char parent[1024];
    int r = statvfs(dir, &fs);

    if (r < 0) { /* not created yet: the file system it will be on */
        snprintf(parent, sizeof(parent), "%s", dir);
        char *slash = strrchr(parent, '/');
        if (slash && slash != parent) {
            *slash = '\0';
            r = statvfs(parent, &fs);
        }
    }
    if (max_bytes / 8 < seg)
        seg = max_bytes / 8;
    if (r == 0 && (uint64_t)fs.f_blocks * fs.f_frsize / 8 < seg)
        seg = (uint64_t)fs.f_blocks * fs.f_frsize / 8;
    return seg < SPOOL_SEGMENT_MIN ? SPOOL_SEGMENT_MIN : seg;
}

static void update_spool_gauges(struct influx_writer *w)
{
    if (!w->spool)
        return;
    struct spool_stats st;
    spool_get_stats(w->spool, &st);
    metrics_set(MET_G_SPOOL_BYTES, st.bytes);
    metrics_set(MET_G_SPOOL_RECORDS, st.records);
}

static bool spool_pending(struct influx_writer *w)
{
    if (!w->spool)
        return false;
    struct spool_stats st;
    spool_get_stats(w->spool, &st);
    return st.records > 0;
}

static void to_spool(struct influx_writer *w, const char *data, size_t len, size_t points)
{
    if (len == 0)
        return;
    struct spool_stats before, after;
    if (w->spool) {
        spool_get_stats(w->spool, &before);
        int r = spool_append(w->spool, data, len);
        if (r == 0) {
            spool_get_stats(w->spool, &after);
            metrics_add(MET_POINTS_SPOOLED, points);
            metrics_add(MET_POINTS_SPOOL_DROPPED, after.dropped_lines - before.dropped_lines);
            if (after.dropped_records > before.dropped_records &&
                log_ratelimit_ok(&w->rl_spool, "influx: spool full"))
                log_warn("influx: spool full, %llu oldest batches (%llu points) dropped",
                         (unsigned long long)(after.dropped_records - before.dropped_records),
                         (unsigned long long)(after.dropped_lines - before.dropped_lines));
            update_spool_gauges(w);
            return;
        }
        if (log_ratelimit_ok(&w->rl_spool, "influx: spool errors"))
            log_err("influx: cannot spool %zu points: %s", points, strerror(-r));
    }
    metrics_add(MET_POINTS_LOST, points);
}

/* Sends a batch that is next in order; spools what could not be written. */
static void write_or_spool(struct influx_writer *w, const char *data, size_t len, size_t points)
{
    size_t unsent;
    if (send_lines(w, data, len, points, &unsent) == SEND_RETRY) {
        backoff_start(w);
        to_spool(w, data + unsent, len - unsent,
                 lineproto_count_lines(data + unsent, len - unsent));
    } else {
        backoff_clear(w);
    }
}

/* Replays up to max spooled records, oldest first. */
static void replay(struct influx_writer *w, int max)
{
    for (int i = 0; i < max; i++) {
        void *data;
        size_t len;
        if (spool_peek(w->spool, &data, &len) < 0)
            break;
        size_t points = lineproto_count_lines(data, len), unsent;
        enum send_result r = send_lines(w, data, len, points, &unsent);
        free(data);
        if (r == SEND_RETRY) {
            backoff_start(w);
            break;
        }
        backoff_clear(w);
        metrics_add(MET_POINTS_REPLAYED, points);
        spool_consume(w->spool);
        update_spool_gauges(w);
    }
}

static void *writer_main(void *arg)
{
    struct influx_writer *w = arg;
    threads_name_self("hallgw-influx");
    void *items[16];
    for (;;) {
        bool stopping = atomic_load(&w->stopping);
        mono_ms now = clock_mono_ms();
        bool backing_off = w->retry_at && now < w->retry_at;
        int64_t wait = 1000;
        if (stopping || (spool_pending(w) && !backing_off))
            wait = 0;
        else if (backing_off && w->retry_at - now < wait)
            wait = w->retry_at - now;

        size_t n = queue_pop_batch(w->q, items, 16, wait);
        for (size_t i = 0; i < n; i++) {
            struct influx_batch *b = items[i];
            now = clock_mono_ms();
            backing_off = w->retry_at && now < w->retry_at;
            if (b->len == 0)
                ; /* only a mark */
            else if (backing_off || spool_pending(w) || (stopping && now >= w->drain_deadline))
                to_spool(w, b->data, b->len, b->points);
            else
                write_or_spool(w, b->data, b->len, b->points);
            if (b->mark && w->on_done)
                w->on_done(w->done_ctx, b->mark);
            free(b->data);
            free(b);
        }
        now = clock_mono_ms();
        backing_off = w->retry_at && now < w->retry_at;
        if (w->spool && !backing_off && (!stopping || now < w->drain_deadline))
            replay(w, REPLAY_PER_ROUND);
        if (stopping && n == 0 && queue_depth(w->q) == 0) {
            /* Everything given is written or spooled. Use what is left of the
             * drain time to empty the spool, if InfluxDB answers. */
            while (w->spool && spool_pending(w) && !w->retry_at &&
                   clock_mono_ms() < w->drain_deadline)
                replay(w, REPLAY_PER_ROUND);
            break;
        }
    }
    return NULL;
}

static char *build_write_url(struct influx_writer *w, const struct config_influx *cfg)
{
    char url[2048];
    char *a = NULL, *b = NULL;
    const char *base = cfg->url;
    size_t bl = strlen(base);
    while (bl > 0 && base[bl - 1] == '/')
        bl--;
    if (cfg->api == INFLUX_V2) {
        a = http_url_escape(w->http, cfg->org);
        b = http_url_escape(w->http, cfg->bucket);
        snprintf(url, sizeof(url), "%.*s/api/v2/write?org=%s&bucket=%s&precision=ns", (int)bl, base,
                 a, b);
    } else {
        a = http_url_escape(w->http, cfg->database);
        int n = snprintf(url, sizeof(url), "%.*s/write?db=%s&precision=ns", (int)bl, base, a);
        if (cfg->retention_policy) {
            b = http_url_escape(w->http, cfg->retention_policy);
            snprintf(url + n, sizeof(url) - (size_t)n, "&rp=%s", b);
        }
    }
    free(a);
    free(b);
    return strdup(url);
}

static char *token_header(const struct config_influx *cfg)
{
    if (cfg->api != INFLUX_V2 || !cfg->token)
        return NULL;
    size_t n = strlen(cfg->token) + 32;
    char *h = malloc(n);
    if (h)
        snprintf(h, n, "Authorization: Token %s", cfg->token);
    return h;
}

int influx_writer_start(const struct config_influx *cfg, influx_done_fn on_done, void *done_ctx,
                        struct influx_writer **out)
{
    struct influx_writer *w = calloc(1, sizeof(*w));
    if (!w)
        return -ENOMEM;
    w->on_done = on_done;
    w->done_ctx = done_ctx;
    int r = -ENOMEM;
    w->q = queue_new(WRITER_QUEUE_BATCHES);
    if (!w->q)
        goto out_free;
    if ((r = http_client_new(&w->http)) < 0)
        goto out_free;
    w->api = cfg->api;
    w->create_database = cfg->create_database;
    w->gzip = cfg->gzip;
    w->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : 10000;
    w->database = cfg->database ? strdup(cfg->database) : NULL;
    w->write_url = build_write_url(w, cfg);
    w->auth_header = token_header(cfg);
    if (cfg->api == INFLUX_V1 && cfg->username) {
        size_t n = strlen(cfg->username) + (cfg->password ? strlen(cfg->password) : 0) + 2;
        w->userpwd = malloc(n);
        if (w->userpwd)
            snprintf(w->userpwd, n, "%s:%s", cfg->username, cfg->password ? cfg->password : "");
    }
    if (cfg->api == INFLUX_V1) {
        size_t bl = strlen(cfg->url);
        while (bl > 0 && cfg->url[bl - 1] == '/')
            bl--;
        char url[2048];
        snprintf(url, sizeof(url), "%.*s/query", (int)bl, cfg->url);
        w->query_url = strdup(url);
    }
    w->rl_fail = (struct log_ratelimit)LOG_RATELIMIT_INIT(60000, 3);
    w->rl_reject = (struct log_ratelimit)LOG_RATELIMIT_INIT(60000, 5);
    w->rl_spool = (struct log_ratelimit)LOG_RATELIMIT_INIT(60000, 3);

    if (cfg->spool_dir) {
        int sr = spool_open(cfg->spool_dir, cfg->spool_max_bytes,
                            spool_segment_bytes(cfg->spool_dir, cfg->spool_max_bytes), &w->spool);
        if (sr < 0) {
            log_err("influx: cannot open spool %s: %s; running without one", cfg->spool_dir,
                    strerror(-sr));
            w->spool = NULL;
        } else {
            struct spool_stats st;
            spool_get_stats(w->spool, &st);
            metrics_add(MET_SPOOL_TORN, st.torn);
            if (st.records)
                log_notice("influx: %llu spooled batches to replay",
                           (unsigned long long)st.records);
            update_spool_gauges(w);
        }
    }
    if ((r = -pthread_create(&w->thread, NULL, writer_main, w)) < 0)
        goto out_free;
    *out = w;
    return 0;

out_free:
    spool_close(w->spool);
    http_client_free(w->http);
    queue_free(w->q);
    free(w->write_url);
    free(w->query_url);
    free(w->database);
    crypto_free_secret(w->auth_header);
    crypto_free_secret(w->userpwd);
    free(w);
    return r;
}

int influx_writer_submit(struct influx_writer *w, struct influx_batch *b, int64_t wait_ms)
{
    struct influx_batch *copy = malloc(sizeof(*copy));
    if (!copy) {
        metrics_add(MET_POINTS_LOST, b->points);
        free(b->data);
        return -ENOMEM;
    }
    *copy = *b;
    metrics_add(MET_POINTS_QUEUED, b->points);
    int r = queue_push(w->q, copy, wait_ms, NULL);
    if (r < 0) {
        metrics_add(MET_POINTS_LOST, b->points);
        free(copy->data);
        free(copy);
    }
    return r;
}

void influx_writer_stop(struct influx_writer *w, int64_t drain_ms)
{
    if (!w)
        return;
    w->drain_deadline = clock_mono_ms() + drain_ms;
    atomic_store(&w->stopping, true);
    queue_close(w->q);
    queue_wake(w->q);
    pthread_join(w->thread, NULL);
    spool_close(w->spool);
    http_client_free(w->http);
    queue_free(w->q);
    buf_free(&w->zbuf);
    free(w->write_url);
    free(w->query_url);
    free(w->database);
    crypto_free_secret(w->auth_header);
    crypto_free_secret(w->userpwd);
    free(w);
}
