/* hallgw-sim --month: see simmonth.h. */
#include "simmonth.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "clock.h"
#include "httpclient.h"
#include "lineproto.h"
#include "schedule.h"

#define BATCH_BYTES (1u << 20)
#define STRETCHES_MAX 16

struct writer {
    const struct config_influx *ic;
    struct http_client *http;
    char url[2048];
    char *userpwd;
    char auth[600];
    struct buf b;
    size_t points, requests;
    uint64_t rng;
};

static uint64_t rng_next(struct writer *w)
{
    /* xorshift64* */
    w->rng ^= w->rng >> 12;
    w->rng ^= w->rng << 25;
    w->rng ^= w->rng >> 27;
    return w->rng * 2685821657736338717ULL;
}

static double rng_unit(struct writer *w)
{
    return (double)(rng_next(w) >> 11) / 9007199254740992.0;
}

static int post(struct writer *w, const char *url, const char *body, size_t len,
                const char *content_type)
{
    const char *headers[2] = {content_type, w->auth};
    struct http_request req = {.method = "POST",
                               .url = url,
                               .headers = headers,
                               .n_headers = w->auth[0] ? 2 : 1,
                               .body = body,
                               .body_len = len,
                               .userpwd = w->userpwd,
                               .timeout_ms = 60000};
    struct http_response *resp = calloc(1, sizeof(*resp));
    if (!resp)
        return -ENOMEM;
    int rc = http_client_do(w->http, &req, resp);
    w->requests++;
    if (rc < 0) {
        fprintf(stderr, "hallgw-sim: InfluxDB at %s can not be reached: %s\n", w->ic->url,
                resp->error);
    } else if (resp->status < 200 || resp->status >= 300) {
        fprintf(stderr, "hallgw-sim: InfluxDB answered %ld: %.300s\n", resp->status, resp->body);
        rc = -EIO;
    }
    free(resp);
    return rc < 0 ? -EIO : 0;
}

static int flush(struct writer *w)
{
    if (w->b.err)
        return w->b.err;
    if (w->b.len == 0)
        return 0;
    int rc = post(w, w->url, w->b.data, w->b.len, "Content-Type: text/plain; charset=utf-8");
    buf_reset(&w->b);
    return rc;
}

static int point(struct writer *w, const char *measurement, const struct lp_tag *tags, size_t nt,
                 const struct lp_field *fields, size_t nf, wall_s at)
{
    int rc = lineproto_append(&w->b, measurement, tags, nt, fields, nf, wall_ns(at));
    if (rc < 0)
        return rc;
    w->points++;
    return w->b.len >= BATCH_BYTES ? flush(w) : 0;
}

static int open_writer(struct writer *w, const struct config_influx *ic)
{
    w->ic = ic;
    buf_init(&w->b, 0);
    if (http_client_new(&w->http) < 0)
        return -ENOMEM;
    size_t ul = strlen(ic->url);
    while (ul > 0 && ic->url[ul - 1] == '/')
        ul--;
    if (ic->api == INFLUX_V2) {
        char *org = http_url_escape(w->http, ic->org ? ic->org : "");
        char *bucket = http_url_escape(w->http, ic->bucket ? ic->bucket : "");
        if (org && bucket)
            snprintf(w->url, sizeof(w->url), "%.*s/api/v2/write?org=%s&bucket=%s&precision=ns",
                     (int)ul, ic->url, org, bucket);
        free(org);
        free(bucket);
        if (ic->token)
            snprintf(w->auth, sizeof(w->auth), "Authorization: Token %s", ic->token);
        return w->url[0] ? 0 : -ENOMEM;
    }
    if (ic->username) {
        size_t n = strlen(ic->username) + (ic->password ? strlen(ic->password) : 0) + 2;
        if (!(w->userpwd = malloc(n)))
            return -ENOMEM;
        snprintf(w->userpwd, n, "%s:%s", ic->username, ic->password ? ic->password : "");
    }
    char *db = http_url_escape(w->http, ic->database ? ic->database : "hallgw");
    char *rp = ic->retention_policy ? http_url_escape(w->http, ic->retention_policy) : NULL;
    if (!db)
        return -ENOMEM;
    snprintf(w->url, sizeof(w->url), "%.*s/write?db=%s%s%s&precision=ns", (int)ul, ic->url, db,
             rp ? "&rp=" : "", rp ? rp : "");
    int rc = 0;
    if (ic->create_database) {
        char url[1024], body[512];
        snprintf(url, sizeof(url), "%.*s/query", (int)ul, ic->url);
        char *q = http_url_escape(w->http, ic->database ? ic->database : "hallgw");
        if (q) {
            /* the name as an identifier, URL-encoded: "..." with the quotes encoded */
            snprintf(body, sizeof(body), "q=CREATE+DATABASE+%%22%s%%22", q);
            rc =
                post(w, url, body, strlen(body), "Content-Type: application/x-www-form-urlencoded");
        }
        free(q);
    }
    free(db);
    free(rp);
    return rc;
}

static void close_writer(struct writer *w)
{
    buf_free(&w->b);
    http_client_free(w->http);
    free(w->userpwd);
}

/* ---- the hall's month ----------------------------------------------------------------- */

struct stretch {
    wall_s from, to;
};

/* The hall's opening stretches of [from, to), breaks excluded. */
static size_t stretches(const struct config_schedule *s, wall_s from, wall_s to,
                        struct stretch *out)
{
    size_t n = 0;
    wall_s t = from;
    while (t < to && n < STRETCHES_MAX) {
        wall_s next = schedule_next_transition(s, t, false);
        if (next <= t || next > to)
            next = to;
        if (schedule_state(s, t) == SCHED_OPEN) {
            if (n > 0 && out[n - 1].to == t)
                out[n - 1].to = next;
            else
                out[n++] = (struct stretch){t, next};
        }
        t = next;
    }
    return n;
}

static wall_s local_midnight(int y, int m, int d)
{
    struct tm tm = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d, .tm_isdst = -1};
    return (wall_s)mktime(&tm);
}

static int window_point(struct writer *w, const char *hall, const char *win, bool open,
                        bool staffed, double waiting, wall_s at)
{
    struct lp_tag tags[] = {{"hall", hall}, {"window", win}};
    struct lp_field f[4] = {
        {.key = "open", .type = LP_BOOL, .b = open},
        {.key = "staffed", .type = LP_BOOL, .b = staffed},
        {.key = "waiting", .type = LP_FLOAT, .f = waiting},
        {.key = "staffed_open", .type = LP_FLOAT, .f = staffed ? 1.0 : 0.0},
    };
    return point(w, "window", tags, 2, f, open ? 4 : 3, at);
}

/* One window over one stretch: staffed from the start (or after a late
 * arrival), with a few absences; w07 is away more often. */
static int window_stretch(struct writer *w, const char *hall, int n, const struct stretch *s,
                          double waiting)
{
    char win[16];
    snprintf(win, sizeof(win), "w%02d", n);
    struct {
        wall_s from, to;
    } away[4];
    size_t na = 0;
    double len = s->to - s->from;
    if (rng_unit(w) < 0.1) /* late */
        away[na++].from = s->from, away[0].to = s->from + 60 * floor(2 + rng_unit(w) * 20);
    int k = (int)floor(rng_unit(w) * (n == 7 ? 4 : 2.2));
    for (int i = 0; i < k && na < 4; i++) {
        wall_s a = s->from + floor(rng_unit(w) * len / 60) * 60;
        wall_s b = a + 60 * floor(3 + rng_unit(w) * (n == 7 ? 40 : 20));
        if (na > 0 && a <= away[na - 1].to)
            continue;
        away[na].from = a;
        away[na++].to = b < s->to ? b : s->to;
    }
    int rc = 0;
    if (na == 0 || away[0].from > s->from)
        rc = window_point(w, hall, win, true, true, waiting, s->from);
    for (size_t i = 0; i < na && rc == 0; i++) {
        rc = window_point(w, hall, win, true, false, waiting, away[i].from);
        if (rc == 0 && away[i].to < s->to)
            rc = window_point(w, hall, win, true, true, waiting, away[i].to);
    }
    return rc ? rc : window_point(w, hall, win, false, true, 0, s->to);
}

/* The queue system: a reading every 5 minutes from 2 minutes before opening. */
static int queue_stretch(struct writer *w, const char *hall, const struct stretch *s)
{
    struct lp_tag tags[] = {{"hall", hall}, {"device", "queue"}, {"kind", "queue"}};
    double waiting = 2, longest = 60, served = 0;
    int rc = 0;
    for (wall_s t = s->from - 120; t < s->to && rc == 0; t += 300) {
        waiting = fmax(0, waiting + floor(rng_unit(w) * 7) - 3);
        longest = waiting > 0 ? floor(60 * waiting * (0.5 + rng_unit(w))) : 0;
        served += floor(rng_unit(w) * 6);
        struct lp_field f[] = {
            {.key = "waiting", .type = LP_FLOAT, .f = waiting},
            {.key = "longest_wait_s", .type = LP_FLOAT, .f = longest},
            {.key = "served_today", .type = LP_FLOAT, .f = served},
        };
        rc = point(w, "queue", tags, 3, f, 3, t);
    }
    return rc;
}

/* The air: every 10 minutes from half an hour before opening; CO2 climbs
 * through the stretch, more on busy days. */
static int env_stretch(struct writer *w, const char *hall, const struct stretch *s, double busy)
{
    struct lp_tag t1[] = {{"hall", hall}, {"device", "env-1"}, {"kind", "env"}};
    struct lp_tag t2[] = {{"hall", hall}, {"device", "env-2"}, {"kind", "env"}};
    int rc = 0;
    for (wall_s t = s->from - 1800; t < s->to && rc == 0; t += 600) {
        double h = (t - s->from) / 3600.0;
        double co2 = floor(620 + busy * 110 * fmax(0, h) + rng_unit(w) * 80);
        double temp = round((23 + busy * 1.8 * fmax(0, h) / 3 + rng_unit(w)) * 10) / 10;
        struct lp_field f1[] = {
            {.key = "temperature", .type = LP_FLOAT, .f = temp},
            {.key = "humidity", .type = LP_FLOAT, .f = floor(45 + rng_unit(w) * 20)},
            {.key = "co2", .type = LP_FLOAT, .f = co2},
        };
        struct lp_field f2[] = {{.key = "co2", .type = LP_FLOAT, .f = co2 + 30}};
        rc = point(w, "env", t1, 3, f1, 3, t);
        if (rc == 0)
            rc = point(w, "env", t2, 3, f2, 1, t + 5);
    }
    return rc;
}

/* At opening, each PC's antivirus state; at night, the power-off steps. */
static int pcs_day(struct writer *w, const char *hall, int windows, int day, wall_s open,
                   wall_s close)
{
    int rc = 0;
    for (int n = 1; n <= windows && rc == 0; n++) {
        char win[16], pc[24], plug[24];
        snprintf(win, sizeof(win), "w%02d", n);
        snprintf(pc, sizeof(pc), "pc-w%02d", n);
        snprintf(plug, sizeof(plug), "plug-w%02d", n);
        struct lp_tag tags[] = {{"hall", hall}, {"window", win}, {"device", pc}, {"kind", "pc"}};
        double scan = n == 5 ? open - 9 * 86400.0 : open - 3600.0 * floor(1 + rng_unit(w) * 40);
        struct lp_field f[] = {
            {.key = "av_last_scan", .type = LP_FLOAT, .f = scan},
            {.key = "av_sig_updated", .type = LP_FLOAT, .f = open - 3600.0 * 6},
            {.key = "av_threats", .type = LP_FLOAT, .f = 0},
        };
        rc = point(w, "pc", tags, 4, f, 3, open + n);
        if (rc == 0 && n == 3 && day == 10) {
            struct lp_field e[] = {{.key = "type", .type = LP_STRING, .s = "threat_detected"},
                                   {.key = "signature", .type = LP_STRING, .s = "Eicar-Test"},
                                   {.key = "path", .type = LP_STRING, .s = "C:\\Temp\\eicar.com"}};
            rc = point(w, "event", tags, 4, e, 3, open + 7200);
        }
        bool fails = n == 3 && day % 7 == 3;
        struct lp_tag ptags[] = {{"hall", hall}, {"window", win}, {"device", pc}, {"kind", "pc"}};
        struct lp_tag qtags[] = {
            {"hall", hall}, {"window", win}, {"device", plug}, {"kind", "plug"}};
        struct lp_field c[] = {{.key = "step", .type = LP_STRING, .s = "command"},
                               {.key = "ok", .type = LP_BOOL, .b = true},
                               {.key = "detail", .type = LP_STRING, .s = ""}};
        struct lp_field v[] = {
            {.key = "step", .type = LP_STRING, .s = fails ? "failure" : "verified_off"},
            {.key = "ok", .type = LP_BOOL, .b = !fails},
            {.key = "detail", .type = LP_STRING, .s = fails ? "the user refused" : ""}};
        struct lp_field p[] = {{.key = "step", .type = LP_STRING, .s = "plug_off"},
                               {.key = "ok", .type = LP_BOOL, .b = true},
                               {.key = "detail", .type = LP_STRING, .s = ""}};
        if (rc == 0)
            rc = point(w, "poweroff", ptags, 4, c, 3, close + 1800 + n);
        if (rc == 0)
            rc = point(w, "poweroff", ptags, 4, v, 3, close + 1860 + n);
        if (rc == 0 && !fails)
            rc = point(w, "poweroff", qtags, 4, p, 3, close + 1920 + n);
    }
    return rc;
}

int simmonth_run(const struct simmonth_opts *o)
{
    int y, m;
    char tail;
    if (sscanf(o->month, "%4d-%2d%c", &y, &m, &tail) != 2 || y < 1971 || y > 2200 || m < 1 ||
        m > 12) {
        fprintf(stderr, "hallgw-sim: --month: expected YYYY-MM, got '%s'\n", o->month);
        return -EINVAL;
    }
    struct writer w = {.rng = o->seed ? o->seed * 0x9E3779B97F4A7C15ULL : 0x2545F4914F6CDD1DULL};
    mono_ms t0 = clock_mono_ms();
    int rc = open_writer(&w, o->influx);
    for (int d = 1; d <= 31 && rc == 0; d++) {
        wall_s from = local_midnight(y, m, d), to = local_midnight(y, m, d + 1);
        struct tm tm;
        time_t ft = (time_t)from;
        localtime_r(&ft, &tm);
        if (tm.tm_mon != m - 1)
            break;
        struct stretch st[STRETCHES_MAX];
        size_t n = stretches(o->sched, from, to, st);
        double busy = 0.6 + rng_unit(&w) * 0.8;
        for (size_t i = 0; i < n && rc == 0; i++) {
            for (int k = 1; k <= o->windows && rc == 0; k++)
                rc = window_stretch(&w, o->hall, k, &st[i], 0);
            if (rc == 0)
                rc = queue_stretch(&w, o->hall, &st[i]);
            if (rc == 0)
                rc = env_stretch(&w, o->hall, &st[i], busy);
        }
        if (rc == 0 && n > 0)
            rc = pcs_day(&w, o->hall, o->windows, d, st[0].from, st[n - 1].to);
    }
    if (rc == 0)
        rc = flush(&w);
    if (rc == -ENOMEM)
        fputs("hallgw-sim: out of memory\n", stderr);
    else if (rc == -EINVAL || rc == -ENOSPC)
        fputs("hallgw-sim: a point could not be written\n", stderr);
    else if (rc == 0)
        fprintf(stderr, "hallgw-sim: month %s of hall %s: %zu points in %zu requests, %.1f s\n",
                o->month, o->hall, w.points, w.requests, (double)(clock_mono_ms() - t0) / 1000.0);
    close_writer(&w);
    return rc == -EINVAL || rc == -ENOSPC ? -EIO : rc;
}
