#include "httpapi.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "buf.h"
#include "clock.h"
#include "crypto.h"
#include "duration.h"
#include "enforce_time.h"
#include "httpapi_internal.h"
#include "httpserver.h"
#include "id.h"
#include "json.h"
#include "jsonw.h"
#include "log.h"
#include "metrics.h"
#include "report.h"
#include "snapshot.h"
#include "store.h"
#include "utf8.h"
#include "webpage.h"

/* ---- responses ----------------------------------------------------------- */

void httpapi_reply_json(struct http_response *r, unsigned status, char *json)
{
    http_response_take(r, status, JSON_TYPE, json, json ? strlen(json) : 0);
}

/* {"error": msg}, msg escaped by the JSON writer whatever it holds. */
void httpapi_reply_error(struct http_response *r, unsigned status, const char *msg)
{
    http_response_error(r, status, msg);
}

/* A JSON body from b, or a 500 when b ran out of memory. */
void httpapi_reply_buf(struct http_response *r, unsigned status, struct buf *b, int err)
{
    size_t len = 0;
    char *json = err == 0 ? buf_steal(b, &len) : NULL;
    buf_free(b);
    if (!json) {
        httpapi_reply_error(r, 500, "out of memory");
        return;
    }
    http_response_take(r, status, JSON_TYPE, json, len);
}

/* ---- access -------------------------------------------------------------- */

/* A Host header that names this server: an IP literal, localhost, or one of
 * http.hosts. A DNS name an attacker controls, pointed at this address (DNS
 * rebinding), is none of these. No Host at all (HTTP/1.0) passes. */
static bool host_allowed(const struct httpapi *h, const char *host)
{
    if (!host)
        return true;
    char name[256];
    size_t n = strlen(host);
    if (n >= sizeof(name))
        return false;
    if (host[0] == '[') /* [v6]:port */
        return strchr(host, ']') != NULL;
    memcpy(name, host, n + 1);
    char *colon = strchr(name, ':');
    if (colon)
        *colon = '\0';
    struct in_addr v4;
    if (inet_pton(AF_INET, name, &v4) == 1 || strcasecmp(name, "localhost") == 0)
        return true;
    for (size_t i = 0; i < h->n_hosts; i++)
        if (strcasecmp(name, h->hosts[i]) == 0)
            return true;
    return false;
}

/* Who sent req: 0 with *who, -ENOENT without credentials; answers (and
 * returns -EACCES or -EIO) when they are not valid. */
int httpapi_identify(const struct httpapi *h, const struct http_request *req, struct auth_who *who,
                     struct http_response *r)
{
    int rc = auth_identify(h->auth, http_request_header(req, "Authorization"),
                           http_request_cookie(req, AUTH_COOKIE), clock_wall(), who);
    if (rc == -EACCES)
        httpapi_reply_error(r, 401,
                            "the token or session is not valid (revoked, expired or a disabled "
                            "account): sign in again");
    else if (rc == -EIO)
        httpapi_reply_error(r, 503, "the accounts cannot be read");
    return rc;
}

/* True when who may read; else answers. */
static bool read_allowed(const struct httpapi *h, int identified, struct http_response *r)
{
    if (identified == 0 || h->open_reads)
        return true;
    httpapi_reply_error(r, 401, "sign in, or send a bearer token (http.open_reads is off)");
    return false;
}

/* True when who may do action a with this request; else answers. */
static bool change_allowed(const struct httpapi *h, const struct http_request *req, int identified,
                           const struct auth_who *who, enum role_action a, struct http_response *r)
{
    (void)h;
    if (identified != 0) {
        httpapi_reply_error(r, 401, "sign in, or send a bearer token");
        return false;
    }
    if (!roles_may(who->role, a)) {
        char msg[128];
        snprintf(msg, sizeof(msg), "the role %s may not do this", role_name(who->role));
        httpapi_reply_error(r, 403, msg);
        return false;
    }
    if (!auth_csrf_ok(who, http_request_header(req, "X-CSRF-Token"))) {
        httpapi_reply_error(r, 403, "missing or wrong X-CSRF-Token: reload the page");
        return false;
    }
    if (req->body_too_large) {
        httpapi_reply_error(r, 413, "request body too large");
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
        httpapi_reply_error(r, 404, "not found");
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
        httpapi_reply_error(r, 503, "the gateway core is not answering");
        return;
    }
    http_response_take(r, 200, JSON_TYPE, json, len);
}

static void serve_overview(const struct httpapi *h, struct http_response *r)
{
    char *json = NULL;
    size_t len = 0;
    if (api_get_overview(h->api, &json, &len, SNAPSHOT_WAIT_MS) < 0) {
        httpapi_reply_error(r, 503, "the gateway core is not answering");
        return;
    }
    http_response_take(r, 200, JSON_TYPE, json, len);
}

bool httpapi_arg_double(const struct http_request *req, const char *name, double *out)
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
    double from = 0, to = 0, limit = HISTORY_PAGE_MAX, offset = 0;
    const char *date = http_request_arg(req, "date");
    const char *hall = http_request_arg(req, "hall");
    if (!httpapi_arg_double(req, "from", &from) || !httpapi_arg_double(req, "to", &to) ||
        !httpapi_arg_double(req, "limit", &limit) || limit < 1 || limit > HISTORY_PAGE_MAX ||
        !httpapi_arg_double(req, "offset", &offset) || offset < 0 || offset > 1e12 ||
        offset != (double)(int64_t)offset) {
        httpapi_reply_error(r, 400,
                            "from and to are unix seconds, limit 1 to 1000, offset a count");
        return;
    }
    if (date) {
        int32_t day;
        if (date_parse(date, &day) < 0) {
            httpapi_reply_error(r, 400, "date must be YYYY-MM-DD");
            return;
        }
        /* The day in the gateway's zone: TZ is the process's. */
        report_day_bounds(day, &from, &to);
    }
    struct record_alert *v = NULL;
    size_t n = 0;
    struct store *st = auth_store_acquire(h->auth);
    int rc = store_history_page(st, from, to, hall, (size_t)offset, (size_t)limit, &v, &n);
    auth_store_release(h->auth);
    if (rc < 0) {
        httpapi_reply_error(r, 503, "the alert history cannot be read");
        return;
    }
    if (n == (size_t)limit) {
        char next[32];
        snprintf(next, sizeof(next), "%.0f", offset + limit);
        http_response_header(r, "X-Next-Offset", next);
    }
    httpapi_reply_json(r, 200, snapshot_history(v, n));
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
    enum json_reject jr = json_flatten(body, len, &lim, &f);
    /* \u0000 or bytes that are not UTF-8 in a string: text that is not
     * plain, refused like a control character. */
    if (jr == JSON_NUL || jr == JSON_BAD_UTF8)
        return -EINVAL;
    if (jr != JSON_OK)
        return -EBADMSG;
    const struct json_field *by = json_flat_get(&f, "by");
    const struct json_field *note = json_flat_get(&f, "note");
    const struct json_field *resolve = json_flat_get(&f, "resolve");
    /* Plain text only: a line break, a NUL or a bidirectional control would
     * break the alert's InfluxDB points, forge log lines or disguise the
     * patrol record. */
    bool ok = f.dropped == 0 &&
              (!by || (by->type == JSON_T_STRING && by->str_len > 0 && by->str_len <= 64 &&
                       utf8_plain_text(by->str, by->str_len))) &&
              (!note || (note->type == JSON_T_STRING && note->str_len < 256 &&
                         utf8_plain_text(note->str, note->str_len))) &&
              (!resolve || resolve->type == JSON_T_BOOL);
    if (ok) {
        snprintf(req->by, sizeof(req->by), "%s", by ? by->str : "");
        snprintf(req->note, sizeof(req->note), "%s", note ? note->str : "");
        req->resolve = resolve && resolve->b;
    }
    json_flat_free(&f);
    return ok ? 0 : -EINVAL;
}

/* "/api/v1/alerts/<id>/approve": the id into id (size bytes). */
static bool approve_path(const char *url, char *id, size_t size)
{
    static const char pre[] = "/api/v1/alerts/", post[] = "/approve";
    size_t n = strlen(url), pl = sizeof(pre) - 1, sl = sizeof(post) - 1;
    if (n <= pl + sl || strncmp(url, pre, pl) != 0 || strcmp(url + n - sl, post) != 0 ||
        n - pl - sl >= size)
        return false;
    memcpy(id, url + pl, n - pl - sl);
    id[n - pl - sl] = '\0';
    return !strchr(id, '/');
}

static const char *alert_action_name(const struct api_request *a)
{
    return a->kind == API_APPROVE ? "approve" : a->resolve ? "resolve" : "ack";
}

/* POST /api/v1/alerts/<id>/ack and /approve. by is the account's name; a
 * "by" in the body is not believed (it is still checked, for old clients). */
static void serve_alert_action(const struct httpapi *h, const struct http_request *req,
                               const struct auth_who *who, enum api_request_kind kind,
                               const char *id, struct http_response *r)
{
    struct api_request parsed = {0};
    int pr = 0;
    if (kind == API_ACK || req->body_len > 0)
        pr = httpapi_ack_body(req->body, req->body_len, h->max_body, &parsed);
    if (pr == -EBADMSG) {
        httpapi_reply_error(r, 400, "the body must be a JSON object");
        return;
    }
    if (pr < 0) {
        httpapi_reply_error(
            r, 400,
            "expected {\"note\": text (under 256 bytes), \"resolve\": true|false}, "
            "the note plain text: no control characters (line breaks, tabs, NUL), no "
            "bidirectional controls, valid UTF-8");
        return;
    }
    struct api_request *ar = calloc(1, sizeof(*ar));
    if (!ar) {
        httpapi_reply_error(r, 500, "out of memory");
        return;
    }
    ar->kind = kind;
    ar->role = who->role;
    snprintf(ar->id, sizeof(ar->id), "%s", id);
    const char *hall = http_request_arg(req, "hall");
    snprintf(ar->hall, sizeof(ar->hall), "%s", hall ? hall : "");
    snprintf(ar->by, sizeof(ar->by), "%s", who->name);
    snprintf(ar->note, sizeof(ar->note), "%s", parsed.note);
    ar->resolve = parsed.resolve;
    struct api_request answer;
    if (api_submit(h->api, ar, ACK_WAIT_MS, &answer) < 0) {
        httpapi_reply_error(r, 503, "the gateway core is not answering");
        return;
    }
    auth_audit(h->auth, who->name, req->addr, alert_action_name(&answer), id, answer.note,
               answer.result == 0, clock_wall());
    switch (answer.result) {
    case 0:
        break;
    case -ENOENT:
        httpapi_reply_error(r, 404, "no such active alert");
        return;
    case -EACCES:
        httpapi_reply_error(
            r, 403,
            "this alert is not for your role (operator: the hall's sensors; it: PCs, "
            "plugs and equipment)");
        return;
    case -EINVAL:
        httpapi_reply_error(
            r, 409,
            kind == API_APPROVE
                ? "only a baseline alert has a value to approve"
                : "this alert resolves by itself when its condition clears (a baseline "
                  "alert: when its value is approved)");
        return;
    default:
        httpapi_reply_error(r, 500, strerror(-answer.result));
        return;
    }
    char *body = NULL;
    if (asprintf(&body, "{\"id\":\"%s\",\"state\":\"%s\",\"by\":\"%s\"}", answer.id, answer.state,
                 answer.by) < 0)
        body = NULL;
    httpapi_reply_json(r, 200, body);
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
    httpapi_reply_json(r, ok ? 200 : 503, body);
}

static void serve_metrics(struct http_response *r)
{
    char *text = metrics_prometheus();
    if (!text) {
        httpapi_reply_error(r, 500, "out of memory");
        return;
    }
    http_response_take(r, 200, "text/plain; version=0.0.4; charset=utf-8", text, strlen(text));
}

/* ---- routing ------------------------------------------------------------------- */

/* The changes: POST /api/v1/alerts/<id>/ack|approve, POST
 * /api/v1/overrides, DELETE /api/v1/overrides/<device>. True when url is
 * one of them (answered). */
static bool route_change(const struct httpapi *h, const struct http_request *req, int identified,
                         const struct auth_who *who, struct http_response *r)
{
    static const char ov_pre[] = "/api/v1/overrides/", si_pre[] = "/api/v1/silences/";
    const char *url = req->url;
    bool post = strcmp(req->method, "POST") == 0;
    bool del = strcmp(req->method, "DELETE") == 0;
    char id[sizeof(((struct api_request *)0)->id)];
    bool ack = httpapi_ack_path(url, id, sizeof(id));
    bool approve = !ack && approve_path(url, id, sizeof(id));
    bool ov_add = strcmp(url, "/api/v1/overrides") == 0 && post;
    bool ov_del = strncmp(url, ov_pre, sizeof(ov_pre) - 1) == 0;
    bool si_add = strcmp(url, "/api/v1/silences") == 0 && post;
    bool si_one = strncmp(url, si_pre, sizeof(si_pre) - 1) == 0;
    const char *target = ov_del ? url + sizeof(ov_pre) - 1 : si_one ? url + sizeof(si_pre) - 1 : id;

    if (!ack && !approve && !ov_add && !ov_del && !si_add && !si_one)
        return false;
    if ((ov_del && !del) || (si_one && !del && !post)) {
        httpapi_reply_error(r, 405, ov_del ? "use DELETE" : "POST (extend) or DELETE (expire)");
        return true;
    }
    if ((ack || approve) && !post) {
        httpapi_reply_error(r, 405, "use POST");
        return true;
    }
    enum role_action a = ack                ? ACTION_HANDLE_ALERT
                         : approve          ? ACTION_APPROVE
                         : ov_add || ov_del ? ACTION_OVERRIDE
                                            : ACTION_SILENCE;
    const char *action = ack       ? "ack"
                         : approve ? "approve"
                         : ov_add  ? "override-add"
                         : ov_del  ? "override-remove"
                         : si_add  ? "silence-add"
                         : del     ? "silence-expire"
                                   : "silence-extend";
    if (!change_allowed(h, req, identified, who, a, r)) {
        if (identified == 0 && r->status == 403) /* a person tried: on the record */
            auth_audit(h->auth, who->name, req->addr, action, si_add || ov_add ? "" : target,
                       "refused: not for this role, or no CSRF token", false, clock_wall());
        return true;
    }
    if (ack || approve)
        serve_alert_action(h, req, who, ack ? API_ACK : API_APPROVE, id, r);
    else if (ov_add)
        httpapi_serve_override_add(h, req, who, r);
    else if (ov_del)
        httpapi_serve_override_remove(h, req, who, target, r);
    else if (si_add)
        httpapi_serve_silence_add(h, req, who, r);
    else
        httpapi_serve_silence_end(h, req, who, target, del, r);
    return true;
}

static void handle(void *ctx, const struct http_request *req, struct http_response *r)
{
    const struct httpapi *h = ctx;
    const char *url = req->url;

    if (!host_allowed(h, http_request_header(req, "Host"))) {
        httpapi_reply_error(r, 421, "this server does not answer to that host name (http.hosts)");
        return;
    }
    if (strcmp(url, "/healthz") == 0) {
        serve_health(h, r);
        return;
    }
    if (strcmp(url, "/api/v1/session") == 0) {
        httpapi_serve_session(h, req, r);
        return;
    }
    bool api = strncmp(url, "/api/", 5) == 0;
    bool metrics = strcmp(url, "/metrics") == 0;
    if (!api && !metrics) { /* the page's files: they hold no data */
        if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0)
            httpapi_reply_error(r, 405, "only GET here");
        else
            serve_file(h, req,
                       strcmp(url, "/") == 0           ? "index.html"
                       : strcmp(url, "/overview") == 0 ? "overview.html"
                                                       : url + 1,
                       r);
        return;
    }
    struct auth_who who;
    int id = httpapi_identify(h, req, &who, r);
    if (id == -EACCES || id == -EIO)
        return;
    if (route_change(h, req, id, &who, r))
        return;
    if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) {
        httpapi_reply_error(r, 405, "only GET here");
        return;
    }
    if (!read_allowed(h, id, r))
        return;
    if (metrics) {
        serve_metrics(r);
    } else if (strcmp(url, "/api/v1/state") == 0) {
        serve_snapshot(h, false, r);
    } else if (strcmp(url, "/api/v1/alerts") == 0) {
        const char *hist = http_request_arg(req, "history");
        if (hist && strcmp(hist, "0") != 0)
            serve_history(h, req, r);
        else
            serve_snapshot(h, true, r);
    } else if (strcmp(url, "/api/v1/overview") == 0) {
        serve_overview(h, r);
    } else if (strcmp(url, "/api/v1/overrides") == 0) {
        httpapi_serve_overrides(h, req, r);
    } else if (strcmp(url, "/api/v1/silences") == 0) {
        httpapi_serve_silences(h, req, r);
    } else if (strcmp(url, "/api/v1/reports/daily") == 0) {
        httpapi_serve_daily_report(h, req, r);
    } else if (strcmp(url, "/api/v1/reports/period") == 0) {
        httpapi_serve_period_report(h, req, r);
    } else if (strcmp(url, "/api/v1/devices/unbound") == 0) {
        httpapi_serve_unbound(h, r);
    } else if (strcmp(url, "/api/v1/audit") == 0) {
        if (id != 0 || !roles_may(who.role, ACTION_AUDIT))
            httpapi_reply_error(r, id != 0 ? 401 : 403, "the audit log is for the admin role");
        else
            httpapi_serve_audit(h, req, r);
    } else {
        httpapi_reply_error(r, 404, "no such endpoint");
    }
}

/* ---- start and stop ---------------------------------------------------------- */

void httpapi_stop(struct httpapi *h)
{
    if (!h)
        return;
    httpserver_stop(h->server);
    auth_close(h->auth);
    for (size_t i = 0; i < h->n_hosts; i++)
        free(h->hosts[i]);
    free(h->hosts);
    free(h->web_dir);
    free(h->config_path);
    free(h);
}

int httpapi_start(const struct config *cfg, struct api *api, struct httpapi **out)
{
    const struct config_http *hc = &cfg->http;
    struct httpapi *h = calloc(1, sizeof(*h));
    if (!h)
        return -ENOMEM;
    h->api = api;
    h->web_dir = hc->web_dir ? strdup(hc->web_dir) : NULL;
    h->config_path = cfg->path ? strdup(cfg->path) : NULL;
    h->max_body = hc->max_body_bytes;
    h->open_reads = hc->open_reads;
    h->session_ms = hc->session_ms;
    h->hosts = hc->n_hosts ? calloc(hc->n_hosts, sizeof(char *)) : NULL;
    bool nomem = (hc->web_dir && !h->web_dir) || (hc->n_hosts && !h->hosts);
    for (size_t i = 0; h->hosts && i < hc->n_hosts; i++, h->n_hosts++)
        nomem |= !(h->hosts[i] = strdup(hc->hosts[i]));
    char *db_path = NULL;
    if (asprintf(&db_path, "%s/hallgw.db", cfg->gateway.state_dir) < 0)
        db_path = NULL;
    if (nomem || !db_path) {
        free(db_path);
        httpapi_stop(h);
        return -ENOMEM;
    }
    int rc = auth_open(db_path, hc->token, (double)hc->session_ms / 1000, &h->auth);
    free(db_path);
    if (rc < 0) {
        httpapi_stop(h);
        return rc;
    }
    struct httpserver_options o = {.listen = hc->listen,
                                   .cert_file = hc->cert_file,
                                   .key_file = hc->key_file,
                                   .max_body = hc->max_body_bytes,
                                   .max_connections_per_address =
                                       (unsigned)hc->max_connections_per_address};
    rc = httpserver_start(&o, handle, h, &h->server);
    if (rc < 0) {
        httpapi_stop(h);
        return rc;
    }
    log_notice("http: listening on %s%s; the live page from %s; reads %s", hc->listen,
               hc->cert_file && hc->key_file ? " (HTTPS)" : "",
               h->web_dir ? h->web_dir : "the built-in files",
               h->open_reads ? "open" : "need an account");
    *out = h;
    return 0;
}
