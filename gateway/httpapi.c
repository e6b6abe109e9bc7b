#include "httpapi.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "crypto.h"
#include "duration.h"
#include "enforce_time.h"
#include "httpserver.h"
#include "json.h"
#include "log.h"
#include "metrics.h"
#include "report.h"
#include "snapshot.h"
#include "store.h"
#include "webpage.h"

#define SNAPSHOT_WAIT_MS 3000
#define ACK_WAIT_MS 5000

#define JSON_TYPE "application/json; charset=utf-8"

struct httpapi {
    struct httpserver *server;
    struct api *api;
    char *token;
    char *web_dir;
    char *db_path;
    size_t max_body;
    bool open_reads;
};

/* ---- responses ----------------------------------------------------------- */

static void reply_json(struct http_response *r, unsigned status, char *json)
{
    http_response_take(r, status, JSON_TYPE, json, json ? strlen(json) : 0);
}

/* msg is ours, never the client's: no escaping needed beyond quotes. */
static void reply_error(struct http_response *r, unsigned status, const char *msg)
{
    char *body = NULL;
    if (asprintf(&body, "{\"error\":\"%s\"}", msg) < 0)
        body = NULL;
    reply_json(r, status, body);
}

/* ---- access -------------------------------------------------------------- */

static bool token_ok(const struct httpapi *h, const struct http_request *req)
{
    const char *a = http_request_header(req, "Authorization");
    if (!h->token || !a || strncmp(a, "Bearer ", 7) != 0)
        return false;
    /* Digests compared in constant time: the time taken tells nothing of
     * the token, not even its length. */
    uint8_t want[CRYPTO_SHA256_BYTES], got[CRYPTO_SHA256_BYTES];
    if (crypto_sha256(h->token, strlen(h->token), want) < 0 ||
        crypto_sha256(a + 7, strlen(a + 7), got) < 0)
        return false;
    return crypto_equal(want, got, sizeof(want));
}

/* True when the request may change something; else answers it. */
static bool change_allowed(const struct httpapi *h, const struct http_request *req,
                           struct http_response *r)
{
    if (!h->token) {
        reply_error(r, 403, "changes are disabled: no http.token_file");
        return false;
    }
    if (!token_ok(h, req)) {
        reply_error(r, 401, "a valid bearer token is required");
        return false;
    }
    if (req->body_too_large) {
        reply_error(r, 413, "request body too large");
        return false;
    }
    return true;
}

/* ---- the page's files ------------------------------------------------------ */

/* Revalidated on every load (no-cache) and answered 304 while the ETag still
 * matches: the files are not fingerprinted, so a longer max-age would keep an
 * old app.js after an upgrade. */
static void serve_file(const struct httpapi *h, const struct http_request *req, const char *name,
                       struct http_response *r)
{
    struct webpage_file f;
    if (webpage_open(h->web_dir, name, &f) < 0) {
        reply_error(r, 404, "not found");
        return;
    }
    http_response_header(r, "ETag", f.etag);
    http_response_header(r, "Cache-Control", "no-cache");
    http_response_header(r, "Content-Security-Policy",
                         "default-src 'self'; style-src 'self' 'unsafe-inline'; "
                         "img-src 'self' data:");
    if (webpage_etag_matches(http_request_header(req, "If-None-Match"), f.etag)) {
        if (f.fd >= 0)
            close(f.fd);
        r->status = 304;
        return;
    }
    r->status = 200;
    r->type = f.type;
    r->len = f.len;
    r->fd = f.fd;
    r->static_body = f.data;
}

/* ---- the API --------------------------------------------------------------- */

static void serve_snapshot(const struct httpapi *h, bool alerts, struct http_response *r)
{
    char *json = NULL;
    size_t len = 0;
    int rc = alerts ? api_get_alerts(h->api, &json, &len, SNAPSHOT_WAIT_MS)
                    : api_get_state(h->api, &json, &len, SNAPSHOT_WAIT_MS);
    if (rc < 0) {
        reply_error(r, 503, "the gateway core is not answering");
        return;
    }
    http_response_take(r, 200, JSON_TYPE, json, len);
}

static bool arg_double(const struct http_request *req, const char *name, double *out)
{
    const char *v = http_request_arg(req, name);
    if (!v)
        return true;
    char *end;
    *out = strtod(v, &end);
    return *v && !*end;
}

static void serve_history(const struct httpapi *h, const struct http_request *req,
                          struct http_response *r)
{
    double from = 0, to = 0, limit = 1000;
    const char *date = http_request_arg(req, "date");
    const char *hall = http_request_arg(req, "hall");
    if (!arg_double(req, "from", &from) || !arg_double(req, "to", &to) ||
        !arg_double(req, "limit", &limit) || limit < 1 || limit > 100000) {
        reply_error(r, 400, "from and to are unix seconds, limit 1 to 100000");
        return;
    }
    if (date) {
        int32_t day;
        if (date_parse(date, &day) < 0) {
            reply_error(r, 400, "date must be YYYY-MM-DD");
            return;
        }
        /* The day in the gateway's zone: TZ is the process's. */
        report_day_bounds(day, &from, &to);
    }
    struct store *st = NULL;
    const char *why = NULL;
    if (store_open(h->db_path, true, &st, &why) < 0) {
        reply_error(r, 503, "the alert history cannot be read");
        return;
    }
    struct record_alert *v = NULL;
    size_t n = 0;
    int rc = store_history(st, from, to, hall, (size_t)limit, &v, &n);
    store_close(st);
    if (rc < 0) {
        reply_error(r, 503, "the alert history cannot be read");
        return;
    }
    reply_json(r, 200, snapshot_history(v, n));
    free(v);
}

bool httpapi_ack_path(const char *url, char *id, size_t size)
{
    static const char pre[] = "/api/v1/alerts/";
    if (strncmp(url, pre, sizeof(pre) - 1) != 0)
        return false;
    const char *p = url + sizeof(pre) - 1;
    size_t len = strlen(p);
    if (len <= 4 || strcmp(p + len - 4, "/ack") != 0 || len - 4 >= size)
        return false;
    memcpy(id, p, len - 4);
    id[len - 4] = '\0';
    return !strchr(id, '/');
}

int httpapi_ack_body(const char *body, size_t len, size_t max_body, struct api_request *req)
{
    struct json_flat f;
    /* A flat object: a member that is an object or array is refused, not
     * taken as absent. */
    struct json_limits lim = {.max_bytes = max_body, .max_depth = 1, .max_fields = 16};
    if (json_flatten(body, len, &lim, &f) != JSON_OK)
        return -EBADMSG;
    const struct json_field *by = json_flat_get(&f, "by");
    const struct json_field *note = json_flat_get(&f, "note");
    const struct json_field *resolve = json_flat_get(&f, "resolve");
    bool ok = f.dropped == 0 && by && by->type == JSON_T_STRING && by->str_len > 0 &&
              by->str_len <= 64 &&
              (!note || (note->type == JSON_T_STRING && note->str_len < 256)) &&
              (!resolve || resolve->type == JSON_T_BOOL);
    if (ok) {
        snprintf(req->by, sizeof(req->by), "%s", by->str);
        snprintf(req->note, sizeof(req->note), "%s", note ? note->str : "");
        req->resolve = resolve && resolve->b;
    }
    json_flat_free(&f);
    return ok ? 0 : -EINVAL;
}

static void serve_ack(const struct httpapi *h, const struct http_request *req, const char *id,
                      struct http_response *r)
{
    if (!change_allowed(h, req, r))
        return;
    struct api_request parsed = {0};
    int pr = httpapi_ack_body(req->body, req->body_len, h->max_body, &parsed);
    if (pr == -EBADMSG) {
        reply_error(r, 400, "the body must be a JSON object");
        return;
    }
    if (pr < 0) {
        reply_error(r, 400,
                    "expected {\\\"by\\\": name (1-64 bytes), \\\"note\\\": text, "
                    "\\\"resolve\\\": true|false}");
        return;
    }
    struct api_request *ar = calloc(1, sizeof(*ar));
    if (!ar) {
        reply_error(r, 500, "out of memory");
        return;
    }
    ar->kind = API_ACK;
    snprintf(ar->id, sizeof(ar->id), "%s", id);
    const char *hall = http_request_arg(req, "hall");
    snprintf(ar->hall, sizeof(ar->hall), "%s", hall ? hall : "");
    snprintf(ar->by, sizeof(ar->by), "%s", parsed.by);
    snprintf(ar->note, sizeof(ar->note), "%s", parsed.note);
    ar->resolve = parsed.resolve;
    struct api_request answer;
    if (api_submit(h->api, ar, ACK_WAIT_MS, &answer) < 0) {
        reply_error(r, 503, "the gateway core is not answering");
        return;
    }
    if (answer.result == -ENOENT) {
        reply_error(r, 404, "no such active alert");
        return;
    }
    if (answer.result == -EINVAL) {
        reply_error(r, 409, "this alert resolves by itself when its condition clears");
        return;
    }
    if (answer.result < 0) {
        reply_error(r, 500, strerror(-answer.result));
        return;
    }
    char *body = NULL;
    if (asprintf(&body, "{\"id\":\"%s\",\"state\":\"%s\"}", answer.id, answer.state) < 0)
        body = NULL;
    reply_json(r, 200, body);
}

/* ---- overrides -------------------------------------------------------------- */

/* GET /api/v1/overrides[?log=1&from=&to=]: read from the store, like the
 * alert history. */
static void serve_overrides(const struct httpapi *h, const struct http_request *req,
                            struct http_response *r)
{
    double from = 0, to = 0;
    const char *log = http_request_arg(req, "log");
    bool with_log = log && strcmp(log, "0") != 0;
    if (!arg_double(req, "from", &from) || !arg_double(req, "to", &to)) {
        reply_error(r, 400, "from and to are unix seconds");
        return;
    }
    struct store *st = NULL;
    const char *why = NULL;
    if (store_open(h->db_path, true, &st, &why) < 0) {
        reply_error(r, 503, "the overrides cannot be read");
        return;
    }
    struct record_override *v = NULL;
    struct record_override_event *ev = NULL, none;
    size_t n = 0, n_ev = 0;
    int rc = store_overrides(st, clock_wall(), &v, &n);
    if (rc == 0 && with_log)
        rc = store_override_log(st, from, to, &ev, &n_ev);
    store_close(st);
    char *json = NULL;
    if (rc == 0)
        json = snapshot_overrides(v, n, with_log ? (ev ? ev : &none) : NULL, n_ev);
    free(v);
    free(ev);
    if (rc < 0) {
        reply_error(r, 503, "the overrides cannot be read");
        return;
    }
    reply_json(r, 200, json);
}

/* The core's answer to an override request. a->why is one of enforcement's
 * static reasons (no quotes to escape). */
static void override_answer(const struct api_request *a, struct http_response *r)
{
    char *body = NULL;
    const char *why = a->why[0] ? a->why : NULL;
    switch (a->result) {
    case 0:
        break;
    case -ENOENT:
        reply_error(r, 404,
                    a->kind == API_OVERRIDE_ADD ? "no such PC or plug in the configuration"
                                                : "no override for this device");
        return;
    case -EINVAL:
    case -ERANGE:
        reply_error(r, 400, why ? why : "bad override");
        return;
    default:
        reply_error(r, 500, why ? why : "the override cannot be stored");
        return;
    }
    if (a->kind == API_OVERRIDE_REMOVE) {
        if (asprintf(&body, "{\"device\":\"%s\",\"removed\":true}", a->id) < 0)
            body = NULL;
        reply_json(r, 200, body);
        return;
    }
    struct record_override o = {.until = a->until, .created = clock_wall()};
    snprintf(o.device, sizeof(o.device), "%.64s", a->id);
    snprintf(o.reason, sizeof(o.reason), "%s", a->note);
    snprintf(o.by, sizeof(o.by), "%s", a->by);
    reply_json(r, 201, snapshot_overrides(&o, 1, NULL, 0));
}

/* POST /api/v1/overrides {"device","until","reason","by"}: until is unix
 * seconds, "HH:MM" (the next one) or "YYYY-MM-DDTHH:MM" (local time). */
static void serve_override_add(const struct httpapi *h, const struct http_request *req,
                               struct http_response *r)
{
    if (!change_allowed(h, req, r))
        return;
    struct json_flat f;
    struct json_limits lim = {.max_bytes = h->max_body, .max_depth = 1, .max_fields = 16};
    if (json_flatten(req->body, req->body_len, &lim, &f) != JSON_OK) {
        reply_error(r, 400, "the body must be a JSON object");
        return;
    }
    const struct json_field *device = json_flat_get(&f, "device");
    const struct json_field *until = json_flat_get(&f, "until");
    const struct json_field *reason = json_flat_get(&f, "reason");
    const struct json_field *by = json_flat_get(&f, "by");
    wall_s now = clock_wall(), t = 0;
    int ur = -EINVAL;
    if (until && until->type == JSON_T_NUMBER && until->num > 0 && until->num < 1e12) {
        t = until->num;
        ur = t > now && t - now <= ENFORCE_OVERRIDE_MAX_S ? 0 : -ERANGE;
    } else if (until && until->type == JSON_T_STRING) {
        ur = enforce_parse_until(until->str, now, &t);
    }
    bool ok = device && device->type == JSON_T_STRING && id_valid(device->str, device->str_len) &&
              by && by->type == JSON_T_STRING && by->str_len > 0 && by->str_len <= 64 && reason &&
              reason->type == JSON_T_STRING && reason->str_len > 0 && reason->str_len < 256;
    struct api_request *ar = ok && ur == 0 ? calloc(1, sizeof(*ar)) : NULL;
    if (ar) {
        ar->kind = API_OVERRIDE_ADD;
        snprintf(ar->id, sizeof(ar->id), "%s", device->str);
        snprintf(ar->by, sizeof(ar->by), "%s", by->str);
        snprintf(ar->note, sizeof(ar->note), "%s", reason->str);
        ar->until = t;
    }
    json_flat_free(&f);
    if (!ok) {
        reply_error(r, 400,
                    "expected {\\\"device\\\": id, \\\"until\\\": unix seconds, \\\"HH:MM\\\" "
                    "or \\\"YYYY-MM-DDTHH:MM\\\", \\\"reason\\\": text (1-255 bytes), "
                    "\\\"by\\\": name (1-64 bytes)}");
        return;
    }
    if (ur < 0) {
        reply_error(r, 400,
                    ur == -ERANGE ? "until must be in the future, at most 31 days ahead"
                                  : "until must be unix seconds, \\\"HH:MM\\\" or "
                                    "\\\"YYYY-MM-DDTHH:MM\\\"");
        return;
    }
    if (!ar) {
        reply_error(r, 500, "out of memory");
        return;
    }
    struct api_request answer;
    if (api_submit(h->api, ar, ACK_WAIT_MS, &answer) < 0) {
        reply_error(r, 503, "the gateway core is not answering");
        return;
    }
    override_answer(&answer, r);
}

/* DELETE /api/v1/overrides/<device>?by=NAME */
static void serve_override_remove(const struct httpapi *h, const struct http_request *req,
                                  const char *device, struct http_response *r)
{
    if (!change_allowed(h, req, r))
        return;
    const char *by = http_request_arg(req, "by");
    if (!by || !*by || strlen(by) > 64) {
        reply_error(r, 400, "?by=NAME (who removes it) is required");
        return;
    }
    if (!id_valid(device, strlen(device))) {
        reply_error(r, 404, "no override for this device");
        return;
    }
    struct api_request *ar = calloc(1, sizeof(*ar));
    if (!ar) {
        reply_error(r, 500, "out of memory");
        return;
    }
    ar->kind = API_OVERRIDE_REMOVE;
    snprintf(ar->id, sizeof(ar->id), "%s", device);
    snprintf(ar->by, sizeof(ar->by), "%s", by);
    struct api_request answer;
    if (api_submit(h->api, ar, ACK_WAIT_MS, &answer) < 0) {
        reply_error(r, 503, "the gateway core is not answering");
        return;
    }
    override_answer(&answer, r);
}

/* ---- health and metrics ------------------------------------------------------ */

static void serve_health(const struct httpapi *h, struct http_response *r)
{
    bool mqtt;
    int64_t since;
    bool ok = api_healthy(h->api, clock_mono_ms(), &mqtt, &since);
    char *body = NULL;
    if (asprintf(&body, "{\"ok\":%s,\"mqtt_connected\":%s,\"core_turned_ms_ago\":%lld}",
                 ok ? "true" : "false", mqtt ? "true" : "false", (long long)since) < 0)
        body = NULL;
    reply_json(r, ok ? 200 : 503, body);
}

static void serve_metrics(struct http_response *r)
{
    char *text = metrics_prometheus();
    if (!text) {
        reply_error(r, 500, "out of memory");
        return;
    }
    http_response_take(r, 200, "text/plain; version=0.0.4; charset=utf-8", text, strlen(text));
}

/* ---- routing ------------------------------------------------------------------- */

static void handle(void *ctx, const struct http_request *req, struct http_response *r)
{
    static const char ov_pre[] = "/api/v1/overrides/";
    const struct httpapi *h = ctx;
    const char *url = req->url;
    bool post = strcmp(req->method, "POST") == 0;
    bool del = strcmp(req->method, "DELETE") == 0;

    if (strcmp(url, "/api/v1/overrides") == 0 && post) {
        serve_override_add(h, req, r);
        return;
    }
    if (strncmp(url, ov_pre, sizeof(ov_pre) - 1) == 0) {
        if (!del)
            reply_error(r, 405, "use DELETE");
        else
            serve_override_remove(h, req, url + sizeof(ov_pre) - 1, r);
        return;
    }
    if (del) {
        reply_error(r, 405, "DELETE only for /api/v1/overrides/<device>");
        return;
    }
    char id[sizeof(((struct api_request *)0)->id)];
    if (httpapi_ack_path(url, id, sizeof(id))) {
        if (!post)
            reply_error(r, 405, "use POST");
        else
            serve_ack(h, req, id, r);
        return;
    }
    if (post) {
        reply_error(r, 405, "only GET here");
        return;
    }
    if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) {
        reply_error(r, 405, "GET or POST");
        return;
    }
    if (strcmp(url, "/healthz") == 0) {
        serve_health(h, r);
        return;
    }
    if (strcmp(url, "/metrics") == 0) {
        serve_metrics(r);
        return;
    }
    bool api = strncmp(url, "/api/", 5) == 0;
    if (api && !h->open_reads && !token_ok(h, req)) {
        reply_error(r, 401, "a valid bearer token is required");
        return;
    }
    if (strcmp(url, "/api/v1/state") == 0) {
        serve_snapshot(h, false, r);
    } else if (strcmp(url, "/api/v1/alerts") == 0) {
        const char *hist = http_request_arg(req, "history");
        if (hist && strcmp(hist, "0") != 0)
            serve_history(h, req, r);
        else
            serve_snapshot(h, true, r);
    } else if (strcmp(url, "/api/v1/overrides") == 0) {
        serve_overrides(h, req, r);
    } else if (api) {
        reply_error(r, 404, "no such endpoint");
    } else {
        serve_file(h, req, strcmp(url, "/") == 0 ? "index.html" : url + 1, r);
    }
}

/* ---- start and stop ---------------------------------------------------------- */

void httpapi_stop(struct httpapi *h)
{
    if (!h)
        return;
    httpserver_stop(h->server);
    crypto_free_secret(h->token);
    free(h->web_dir);
    free(h->db_path);
    free(h);
}

int httpapi_start(const struct config *cfg, struct api *api, struct httpapi **out)
{
    const struct config_http *hc = &cfg->http;
    struct httpapi *h = calloc(1, sizeof(*h));
    if (!h)
        return -ENOMEM;
    h->api = api;
    h->token = hc->token ? strdup(hc->token) : NULL;
    h->web_dir = hc->web_dir ? strdup(hc->web_dir) : NULL;
    h->max_body = hc->max_body_bytes;
    h->open_reads = hc->open_reads;
    if (asprintf(&h->db_path, "%s/hallgw.db", cfg->gateway.state_dir) < 0)
        h->db_path = NULL;
    if ((hc->token && !h->token) || (hc->web_dir && !h->web_dir) || !h->db_path) {
        httpapi_stop(h);
        return -ENOMEM;
    }
    struct httpserver_options o = {.listen = hc->listen,
                                   .cert_file = hc->cert_file,
                                   .key_file = hc->key_file,
                                   .max_body = hc->max_body_bytes};
    int rc = httpserver_start(&o, handle, h, &h->server);
    if (rc < 0) {
        httpapi_stop(h);
        return rc;
    }
    log_notice("http: listening on %s%s; the live page from %s", hc->listen,
               hc->cert_file && hc->key_file ? " (HTTPS)" : "",
               h->web_dir ? h->web_dir : "the built-in files");
    *out = h;
    return 0;
}
