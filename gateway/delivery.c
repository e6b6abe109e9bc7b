#include "delivery.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "httpclient.h"
#include "jsonw.h"
#include "log.h"
#include "metrics.h"
#include "notifier.h"
#include "notify_message.h"
#include "queue.h"
#include "report.h"
#include "report_delivery.h"
#include "store.h"
#include "threads.h"
#include "utf8.h"
#include "wecom.h"

#define DELIVERY_QUEUE_CAP 8
#define LEASE_S 900.0 /* a claim not renewed for this long was left by a sender gone */
#define REASON_MAX 320

struct delivery {
    pthread_t thread;
    struct queue *q;
    char *config_path;
    char owner[128];
    atomic_bool stopping;
    _Atomic int64_t abort_at; /* mono ms; 0 until delivery_stop */
    int32_t asked_day;        /* the core's: the last day asked for */
    atomic_size_t n_routes;   /* the core's configuration's, when it asked */
    _Atomic wall_s retry_at;  /* when another sender's claim runs out; 0: none */
    uint64_t seq;             /* Message-ID uniqueness */
};

/* ---- the texts ---------------------------------------------------------- */

/* The record in format f, malloc'd, or NULL. */
static char *render(const struct report *r, enum report_format f, size_t *len)
{
    char *data = NULL;
    FILE *out = open_memstream(&data, len);
    if (!out)
        return NULL;
    int w = report_render(r, f, out);
    if (fclose(out) != 0 || w < 0) {
        free(data);
        return NULL;
    }
    return data;
}

/* What each kind of route gets. */
struct texts {
    const struct report *r;
    char halls[1024];
    char link[512];
    struct buf subject, summary;
    struct buf wecom; /* the summary cut to a WeCom message, its link kept */
    char *html, *csv, *md;
    size_t html_len, csv_len, md_len;
};

static void texts_free(struct texts *t)
{
    buf_free(&t->subject);
    buf_free(&t->summary);
    buf_free(&t->wecom);
    free(t->html);
    free(t->csv);
    free(t->md);
}

enum robot { ROBOT_PLAIN, ROBOT_DINGTALK, ROBOT_FEISHU, ROBOT_WECOM };

static enum robot robot_of(const struct config_notify *c)
{
    if (c->sign == SIGN_DINGTALK || (c->url && strstr(c->url, "oapi.dingtalk.com/")))
        return ROBOT_DINGTALK;
    if (c->sign == SIGN_FEISHU ||
        (c->url && (strstr(c->url, "open.feishu.cn/") || strstr(c->url, "open.larksuite.com/"))))
        return ROBOT_FEISHU;
    if (c->url && strstr(c->url, "qyapi.weixin.qq.com/cgi-bin/webhook"))
        return ROBOT_WECOM;
    return ROBOT_PLAIN;
}

/* The webhook body of the summary, in the robot's own message format. */
static int webhook_body(const struct config_notify *c, const struct texts *t, struct buf *b)
{
    const char *sum = t->summary.data ? t->summary.data : "";
    buf_putc(b, '{');
    switch (robot_of(c)) {
    case ROBOT_DINGTALK:
        jsonw_member_str(b, "msgtype", "markdown");
        jsonw_key(b, "markdown");
        buf_putc(b, '{');
        jsonw_member_str(b, "title", t->subject.data);
        jsonw_member_str(b, "text", sum);
        buf_putc(b, '}');
        break;
    case ROBOT_FEISHU:
        jsonw_member_str(b, "msg_type", "text");
        jsonw_key(b, "content");
        buf_putc(b, '{');
        jsonw_member_str(b, "text", sum);
        buf_putc(b, '}');
        break;
    case ROBOT_WECOM:
        jsonw_member_str(b, "msgtype", "markdown");
        jsonw_key(b, "markdown");
        buf_putc(b, '{');
        jsonw_member_str(b, "content", sum);
        buf_putc(b, '}');
        break;
    default:
        jsonw_member_str(b, "type", "daily_record");
        jsonw_member_str(b, "date", t->r->date);
        jsonw_member_str(b, "halls", t->halls);
        jsonw_member_str(b, "subject", t->subject.data);
        jsonw_member_str(b, "text", sum);
        jsonw_member_str(b, "url", t->link);
        break;
    }
    buf_putc(b, '}');
    return b->err;
}

/* ---- e-mail ------------------------------------------------------------- */

static void put_date(struct buf *b, wall_s now)
{
    time_t s = (time_t)wall_whole(now);
    struct tm tm;
    char when[64];
    localtime_r(&s, &tm);
    strftime(when, sizeof(when), "%a, %d %b %Y %H:%M:%S %z", &tm);
    buf_printf(b, "Date: %s", when);
}

static enum notify_outcome send_mail(struct delivery *d, struct notify_sender *s,
                                     const struct texts *t, char *reason, size_t size)
{
    const struct config_notify *c = notify_sender_route(s);
    enum notify_outcome out = NOTIFY_RETRY;
    struct buf h[5];
    const char *hdrs[5];
    char **to = calloc(c->n_to ? c->n_to : 1, sizeof(*to));
    char *from = notify_message_address(c->from);
    for (int i = 0; i < 5; i++)
        buf_init(&h[i], 16384);

    buf_puts(&h[0], "From: ");
    notify_message_header_text(&h[0], c->from);
    buf_puts(&h[1], "To: ");
    for (size_t i = 0; i < c->n_to; i++) {
        if (i)
            buf_puts(&h[1], ", ");
        notify_message_header_text(&h[1], c->to[i]);
    }
    buf_puts(&h[2], "Subject: ");
    notify_message_header_text(&h[2], t->subject.data ? t->subject.data : "");
    put_date(&h[3], clock_wall());
    buf_printf(&h[4], "Message-ID: <%lld.%llx.report@%s>", (long long)wall_whole(clock_wall()),
               (unsigned long long)d->seq++,
               strrchr(from ? from : "", '@') ? strrchr(from, '@') + 1 : "hallgw.invalid");
    bool ok = to && from;
    for (size_t i = 0; ok && i < c->n_to; i++)
        ok = (to[i] = notify_message_address(c->to[i])) != NULL;
    for (int i = 0; i < 5; i++) {
        ok = ok && !h[i].err;
        hdrs[i] = h[i].data;
    }
    if (!ok) {
        snprintf(reason, size, "cannot build the message: out of memory");
        goto out_free;
    }

    struct smtp_part alt[2];
    size_t n_alt = 0;
    const char *sum = t->summary.data ? t->summary.data : "";
    alt[n_alt++] = (struct smtp_part){"text/plain; charset=utf-8", sum, strlen(sum), NULL};
    if (t->html)
        alt[n_alt++] = (struct smtp_part){"text/html; charset=utf-8", t->html, t->html_len, NULL};
    char csv_name[64], md_name[64];
    snprintf(csv_name, sizeof(csv_name), "hallgw-%s.csv", t->r->date);
    snprintf(md_name, sizeof(md_name), "hallgw-%s.md", t->r->date);
    struct smtp_part att[2];
    size_t n_att = 0;
    if (t->csv)
        att[n_att++] = (struct smtp_part){"text/csv; charset=utf-8", t->csv, t->csv_len, csv_name};
    if (t->md)
        att[n_att++] =
            (struct smtp_part){"text/markdown; charset=utf-8", t->md, t->md_len, md_name};
    struct smtp_mime mime = {hdrs, 5, alt, n_alt, att, n_att};
    struct smtp_message m = {.url = c->smtp_url,
                             .from = from,
                             .to = (const char *const *)to,
                             .n_to = c->n_to,
                             .username = c->username,
                             .password = c->password,
                             .require_tls = c->starttls,
                             .timeout_ms = c->timeout_ms > 0 ? c->timeout_ms : 10000,
                             .abort_at_ms = &d->abort_at};
    struct http_response resp;
    if (http_client_smtp_mime(notify_sender_http(s), &m, &mime, &resp) == 0) {
        snprintf(reason, size, "SMTP %ld", resp.status);
        out = NOTIFY_SENT;
    } else {
        if (resp.status)
            snprintf(reason, size, "SMTP %ld: %s", resp.status, resp.error);
        else
            snprintf(reason, size, "%s", resp.error);
        /* RFC 5321: 5yz is a permanent failure, 4yz and no answer are not. */
        out = resp.status >= 500 && resp.status < 600 ? NOTIFY_FINAL : NOTIFY_RETRY;
    }

out_free:
    for (int i = 0; i < 5; i++)
        buf_free(&h[i]);
    for (size_t i = 0; to && i < c->n_to; i++)
        free(to[i]);
    free(to);
    free(from);
    return out;
}

/* ---- one route ---------------------------------------------------------- */

/* Waits ms, or less when stopping. */
static void pause_ms(struct delivery *d, int64_t ms)
{
    mono_ms until = clock_mono_ms() + ms;
    while (!atomic_load(&d->stopping) && clock_mono_ms() < until) {
        struct timespec ts = {0, 100 * 1000000L};
        nanosleep(&ts, NULL);
    }
}

static void record(struct store *st, struct record_delivery *rec)
{
    int rc = store_delivery_update(st, rec);
    if (rc < 0) {
        metrics_inc(MET_STORE_ERRORS);
        log_err("report: cannot record the delivery of %s to route \"%s\": %s", rec->day,
                rec->route, store_last_error(st));
    }
}

/* Releases the claims of recs still "sending" (mine[i]), so that the next
 * start, or another sender, sends them. */
static void release_claims(struct store *st, struct record_delivery *recs, const bool *mine,
                           size_t n)
{
    for (size_t i = 0; recs && mine && i < n; i++) {
        if (!mine[i] || strcmp(recs[i].state, "sending") != 0 || recs[i].lease_until == 0)
            continue;
        recs[i].lease_until = 0;
        recs[i].changed = clock_wall();
        record(st, &recs[i]);
    }
}

/* The end of the lease held by another sender on rec's day, halls and route,
 * or 0. */
static wall_s other_lease(struct store *st, const struct record_delivery *rec)
{
    struct record_delivery *v = NULL;
    size_t n = 0;
    wall_s until = 0;
    if (store_deliveries(st, rec->day, rec->day, &v, &n) < 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].route, rec->route) == 0 && strcmp(v[i].halls, rec->halls) == 0 &&
            strcmp(v[i].state, "sending") == 0 && v[i].lease_until > until)
            until = v[i].lease_until;
    free(v);
    return until;
}

/* Sends the record on the claimed route rec->route, retrying, and records
 * each outcome. */
static void send_route(struct delivery *d, struct store *st, const struct config_notify *c,
                       const struct texts *t, struct record_delivery *rec)
{
    struct notify_sender *s = NULL;
    char reason[REASON_MAX] = "";
    int rc = notify_sender_new(c, &d->abort_at, &s);
    if (rc < 0) {
        snprintf(rec->state, sizeof(rec->state), "failed");
        snprintf(rec->last_error, sizeof(rec->last_error), "%s",
                 rc == -EINVAL ? "the route lacks what its type needs" : strerror(-rc));
        rec->changed = clock_wall();
        record(st, rec);
        metrics_inc(MET_REPORTS_FAILED);
        return;
    }
    struct buf body;
    buf_init(&body, 0);
    if (c->type == NOTIFY_WEBHOOK)
        webhook_body(c, t, &body);
    for (int attempt = 1;; attempt++) {
        enum notify_outcome out;
        if (body.err) {
            snprintf(reason, sizeof(reason), "cannot build the request: out of memory");
            out = NOTIFY_RETRY;
        } else if (c->type == NOTIFY_EMAIL) {
            out = send_mail(d, s, t, reason, sizeof(reason));
        } else if (c->type == NOTIFY_WECOM) {
            const char *sum = t->wecom.data ? t->wecom.data : "";
            out = notify_sender_post(s, sum, strlen(sum), reason, sizeof(reason));
        } else {
            out = notify_sender_post(s, body.data, body.len, reason, sizeof(reason));
        }
        wall_s now = clock_wall();
        rec->attempts++;
        rec->changed = now;
        if (out == NOTIFY_SENT) {
            snprintf(rec->state, sizeof(rec->state), "sent");
            rec->sent_at = now;
            rec->last_error[0] = '\0';
            record(st, rec);
            metrics_inc(MET_REPORTS_SENT);
            log_notice("report: the record of %s sent to route \"%s\" (%s)", rec->day, c->name,
                       reason);
            break;
        }
        utf8_copy(rec->last_error, sizeof(rec->last_error), reason);
        if (atomic_load(&d->stopping)) {
            /* Not given up: the next start sends it. */
            rec->lease_until = 0;
            record(st, rec);
            log_warn("report: stopping: the record of %s not sent to route \"%s\": %s", rec->day,
                     c->name, reason);
            break;
        }
        if (out == NOTIFY_FINAL || attempt > c->retries) {
            snprintf(rec->state, sizeof(rec->state), "failed");
            record(st, rec);
            metrics_inc(MET_REPORTS_FAILED);
            log_warn("report: the record of %s not sent to route \"%s\" after %d attempts: %s",
                     rec->day, c->name, attempt, reason);
            break;
        }
        int64_t wait = notifier_backoff_ms(attempt);
        rec->lease_until = now + (double)wait / 1000 + LEASE_S;
        record(st, rec);
        metrics_inc(MET_REPORTS_RETRIES);
        pause_ms(d, wait);
        if (atomic_load(&d->stopping)) {
            /* No new attempt: the next start sends it. */
            rec->lease_until = 0;
            rec->changed = clock_wall();
            record(st, rec);
            log_warn("report: stopping: the record of %s not sent to route \"%s\": %s", rec->day,
                     c->name, reason);
            break;
        }
    }
    buf_free(&body);
    notify_sender_free(s);
}

/* ---- one day ------------------------------------------------------------ */

static void day_string(int32_t day, char *out, size_t size)
{
    time_t t = (time_t)day * 86400;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, size, "%Y-%m-%d", &tm);
}

/* Records not sent for a reason of the gateway's, not of the route's. */
static void count_unsent(size_t n)
{
    for (size_t i = 0; i < n; i++)
        metrics_inc(MET_REPORTS_FAILED);
}

static void deliver_day(struct delivery *d, int32_t day)
{
    struct config *cfg = NULL;
    struct conf_errors errs = {0};
    if (config_load(d->config_path, &cfg, &errs) < 0) {
        log_err("report: the daily record not sent: %s cannot be read now%s%s", d->config_path,
                errs.n ? ": " : "", errs.n ? errs.v[0].msg : "");
        conf_errors_free(&errs);
        count_unsent(atomic_load(&d->n_routes));
        return;
    }
    const struct config_report_daily *rd = &cfg->report_daily;
    struct store *st = NULL;
    const char *why = NULL;
    char db[1024];
    snprintf(db, sizeof(db), "%s/hallgw.db", cfg->gateway.state_dir);
    if (!rd->enabled || rd->n_routes == 0)
        goto out_free_config;
    if (store_open(db, false, &st, &why) < 0) {
        log_err("report: the daily record not sent: cannot open %s: %s", db, why ? why : "");
        count_unsent(rd->n_routes);
        goto out_free_config;
    }

    /* Claim the day on each route: the ones already sent, failed for good,
     * or being sent by another sender are left alone. */
    struct record_delivery *recs = calloc(rd->n_routes, sizeof(*recs));
    bool *mine = calloc(rd->n_routes, sizeof(*mine));
    size_t n_mine = 0, n_errors = 0;
    wall_s now = clock_wall();
    wall_s retry_at = 0;
    for (size_t i = 0; recs && mine && i < rd->n_routes; i++) {
        struct record_delivery *rec = &recs[i];
        day_string(day, rec->day, sizeof(rec->day));
        report_delivery_halls(cfg, rec->halls, sizeof(rec->halls));
        snprintf(rec->route, sizeof(rec->route), "%s", rd->routes[i]);
        snprintf(rec->owner, sizeof(rec->owner), "%s", d->owner);
        snprintf(rec->state, sizeof(rec->state), "sending");
        rec->lease_until = now + LEASE_S;
        rec->changed = now;
        int rc = store_delivery_claim(st, rec);
        if (rc == 0) {
            mine[i] = true;
            n_mine++;
        } else if (rc == -EALREADY) {
            /* Held by another sender: asked again when its lease runs out,
             * in case that sender went away. */
            wall_s until = other_lease(st, rec);
            if (until > 0 && (retry_at == 0 || until < retry_at))
                retry_at = until;
        } else {
            n_errors++;
            metrics_inc(MET_STORE_ERRORS);
            log_err("report: cannot claim the record of %s for route \"%s\": %s", rec->day,
                    rec->route, store_last_error(st));
        }
    }
    if (retry_at > 0)
        atomic_store(&d->retry_at, retry_at + 1);
    count_unsent(recs && mine ? n_errors : rd->n_routes);
    if (n_mine == 0) {
        log_notice("report: the record of %s is sent already (or being sent) on every route",
                   recs && recs[0].day[0] ? recs[0].day : "today");
        goto out_free_claims;
    }

    struct report r;
    struct texts t = {.r = &r};
    buf_init(&t.subject, 4096);
    buf_init(&t.summary, 16384);
    buf_init(&t.wecom, 16384);
    int g = report_gather(cfg, NULL, day, now, &r);
    if (g == -ENOMEM) {
        log_err("report: the record of %s cannot be made: out of memory", recs[0].day);
        report_free(&r);
        goto out_free_texts;
    }
    if (g < 0)
        log_warn("report: the record of %s: neither the alert history nor InfluxDB could be read; "
                 "sent with its notes",
                 recs[0].day);
    report_delivery_halls(cfg, t.halls, sizeof(t.halls));
    report_delivery_link(cfg->http.public_url, r.date, t.link, sizeof(t.link));
    report_delivery_subject(&r, &t.subject);
    report_delivery_summary(&r, t.link, &t.summary);
    report_delivery_summary_fit(&r, t.link, WECOM_CONTENT_MAX, &t.wecom);
    if (rd->formats & REPORT_FMT_HTML)
        t.html = render(&r, REPORT_HTML, &t.html_len);
    if (rd->formats & REPORT_FMT_CSV)
        t.csv = render(&r, REPORT_CSV, &t.csv_len);
    if (rd->formats & REPORT_FMT_MD)
        t.md = render(&r, REPORT_MD, &t.md_len);
    for (size_t i = 0; i < rd->n_routes && !atomic_load(&d->stopping); i++) {
        const struct config_notify *c = config_find_notify(cfg, rd->routes[i]);
        if (mine[i] && c)
            send_route(d, st, c, &t, &recs[i]);
    }
    report_free(&r);
out_free_texts:
    texts_free(&t);
out_free_claims:
    /* Stopped, out of memory: the routes not sent are not given up. */
    release_claims(st, recs, mine, rd->n_routes);
    free(recs);
    free(mine);
    store_close(st);
out_free_config:
    config_free(cfg);
}

/* ---- the thread --------------------------------------------------------- */

static void *delivery_main(void *arg)
{
    struct delivery *d = arg;
    threads_name_self("hallgw-report");
    for (;;) {
        void *item;
        size_t got = queue_pop_batch(d->q, &item, 1, -1);
        if (got == 0) {
            if (queue_drained(d->q) || atomic_load(&d->stopping))
                break;
            continue;
        }
        int32_t day = *(int32_t *)item;
        free(item);
        if (!atomic_load(&d->stopping))
            deliver_day(d, day);
        queue_done(d->q, 1);
    }
    return NULL;
}

int delivery_start(const char *config_path, const char *gateway_id, struct delivery **out)
{
    struct delivery *d = calloc(1, sizeof(*d));
    if (!d)
        return -ENOMEM;
    d->q = queue_new(DELIVERY_QUEUE_CAP);
    d->config_path = strdup(config_path);
    if (!d->q || !d->config_path) {
        queue_free(d->q);
        free(d->config_path);
        free(d);
        return -ENOMEM;
    }
    wall_s now = clock_wall();
    d->seq = (uint64_t)wall_ns(now);
    snprintf(d->owner, sizeof(d->owner), "%.64s/%ld/%lld", gateway_id, (long)getpid(),
             (long long)wall_whole(now));
    int rc = -pthread_create(&d->thread, NULL, delivery_main, d);
    if (rc < 0) {
        queue_free(d->q);
        free(d->config_path);
        free(d);
        return rc;
    }
    *out = d;
    return 0;
}

void delivery_stop(struct delivery *d, int64_t drain_ms)
{
    if (!d)
        return;
    atomic_store(&d->abort_at, clock_mono_ms() + (drain_ms > 0 ? drain_ms : 0));
    atomic_store(&d->stopping, true);
    queue_close(d->q);
    queue_wake(d->q);
    pthread_join(d->thread, NULL);
    void *item;
    while (queue_pop_batch(d->q, &item, 1, 0) == 1)
        free(item);
    queue_free(d->q);
    free(d->config_path);
    free(d);
}

bool delivery_ask_again(int32_t asked_day, wall_s retry_at, int32_t today, wall_s now)
{
    return today != asked_day || (retry_at > 0 && now >= retry_at);
}

void delivery_tick(struct delivery *d, const struct config *cfg, wall_s now)
{
    if (!d || !cfg->report_daily.enabled)
        return;
    int32_t today = report_local_day(now);
    wall_s retry_at = atomic_load(&d->retry_at);
    if (!delivery_ask_again(d->asked_day, retry_at, today, now))
        return;
    wall_s at = report_delivery_at(&cfg->report_daily, &cfg->schedule, today);
    if (at == 0 || now < at)
        return;
    int32_t *job = malloc(sizeof(*job));
    if (!job)
        return;
    *job = today;
    atomic_store(&d->n_routes, cfg->report_daily.n_routes);
    if (queue_push(d->q, job, 0, NULL) < 0) {
        free(job); /* the queue is full of days: asked again at the next tick */
        return;
    }
    if (retry_at > 0) /* unless the thread set a new one meanwhile */
        atomic_compare_exchange_strong(&d->retry_at, &retry_at, 0);
    d->asked_day = today;
}
