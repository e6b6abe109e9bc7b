#include "httpserver.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "duration.h"
#include "enforce_time.h"
#include "json.h"
#include "log.h"
#include "metrics.h"
#include "snapshot.h"
#include "store.h"
#include "webpage.h"

#define SNAPSHOT_WAIT_MS 3000
#define ACK_WAIT_MS 5000

struct httpserver {
    struct MHD_Daemon *mhd;
    struct api *api;
    char *token;
    char *web_dir;
    char *db_path;
    char *timezone;
    size_t max_body;
    bool open_reads;
    char *cert, *key; /* PEM contents for HTTPS */
};

struct request_ctx {
    char *body;
    size_t len;
    bool too_large;
};

/* ---- responses ----------------------------------------------------------- */

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *type,
                             char *body, size_t len)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(
        len, body, body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!r) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    if (status == MHD_HTTP_UNAUTHORIZED)
        MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"hallgw\"");
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result reply_json(struct MHD_Connection *c, unsigned status, char *json)
{
    if (!json)
        return reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "application/json", NULL, 0);
    return reply(c, status, "application/json; charset=utf-8", json, strlen(json));
}

static enum MHD_Result reply_error(struct MHD_Connection *c, unsigned status, const char *msg)
{
    char *body = NULL;
    /* msg is ours, never the client's: no escaping needed beyond quotes. */
    if (asprintf(&body, "{\"error\":\"%s\"}", msg) < 0)
        body = NULL;
    return reply_json(c, status, body);
}

/* ---- access -------------------------------------------------------------- */

static bool token_ok(const struct httpserver *s, struct MHD_Connection *c)
{
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (!s->token || !h || strncmp(h, "Bearer ", 7) != 0)
        return false;
    const char *t = h + 7;
    size_t n = strlen(t), m = strlen(s->token);
    unsigned diff = (unsigned)(n ^ m);
    for (size_t i = 0; i < m; i++)
        diff |= (unsigned char)s->token[i] ^ (unsigned char)(i < n ? t[i] : 0);
    return diff == 0;
}

/* ---- the page's files ------------------------------------------------------ */

/* Revalidated on every load (no-cache) and answered 304 while the ETag still
 * matches: the files are not fingerprinted, so a longer max-age would keep an
 * old app.js after an upgrade. */
static enum MHD_Result serve_file(struct httpserver *s, struct MHD_Connection *c, const char *name)
{
    struct webpage_file f;
    if (webpage_open(s->web_dir, name, &f) < 0)
        return reply_error(c, MHD_HTTP_NOT_FOUND, "not found");
    const char *inm =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);
    bool fresh = webpage_etag_matches(inm, f.etag);
    struct MHD_Response *r;
    unsigned status = fresh ? MHD_HTTP_NOT_MODIFIED : MHD_HTTP_OK;
    if (fresh) {
        if (f.fd >= 0)
            close(f.fd);
        r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    } else if (f.fd >= 0) {
        r = MHD_create_response_from_fd((uint64_t)f.len, f.fd);
        if (!r)
            close(f.fd);
    } else {
        r = MHD_create_response_from_buffer(f.len, (void *)f.data, MHD_RESPMEM_PERSISTENT);
    }
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, f.etag);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    if (!fresh)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, f.type);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Content-Security-Policy",
                            "default-src 'self'; style-src 'self' 'unsafe-inline'; "
                            "img-src 'self' data:");
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

/* ---- the API --------------------------------------------------------------- */

static enum MHD_Result serve_snapshot(struct httpserver *s, struct MHD_Connection *c, bool alerts)
{
    char *json = NULL;
    size_t len = 0;
    int r = alerts ? api_get_alerts(s->api, &json, &len, SNAPSHOT_WAIT_MS)
                   : api_get_state(s->api, &json, &len, SNAPSHOT_WAIT_MS);
    if (r < 0)
        return reply_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, "the gateway core is not answering");
    return reply(c, MHD_HTTP_OK, "application/json; charset=utf-8", json, len);
}

static bool arg_double(struct MHD_Connection *c, const char *name, double *out)
{
    const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);
    if (!v)
        return true;
    char *end;
    *out = strtod(v, &end);
    return *v && !*end;
}

static enum MHD_Result serve_history(struct httpserver *s, struct MHD_Connection *c)
{
    double from = 0, to = 0, limit = 1000;
    const char *date = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "date");
    const char *hall = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "hall");
    if (!arg_double(c, "from", &from) || !arg_double(c, "to", &to) ||
        !arg_double(c, "limit", &limit) || limit < 1 || limit > 100000)
        return reply_error(c, MHD_HTTP_BAD_REQUEST,
                           "from and to are unix seconds, limit 1 to 100000");
    if (date) {
        int32_t day;
        if (date_parse(date, &day) < 0)
            return reply_error(c, MHD_HTTP_BAD_REQUEST, "date must be YYYY-MM-DD");
        /* The day in the gateway's zone: TZ is the process's. */
        time_t t = (time_t)day * 86400;
        struct tm tm;
        gmtime_r(&t, &tm);
        tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
        tm.tm_isdst = -1;
        from = (double)mktime(&tm);
        tm.tm_mday++;
        tm.tm_isdst = -1;
        to = (double)mktime(&tm);
    }
    struct store *st = NULL;
    const char *why = NULL;
    if (store_open(s->db_path, true, &st, &why) < 0)
        return reply_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, "the alert history cannot be read");
    struct store_history *h = NULL;
    size_t n = 0;
    int r = store_history(st, from, to, hall, (size_t)limit, &h, &n);
    store_close(st);
    if (r < 0)
        return reply_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, "the alert history cannot be read");
    char *json = snapshot_history(h, n);
    free(h);
    return reply_json(c, MHD_HTTP_OK, json);
}

int httpserver_ack_body(const char *body, size_t len, size_t max_body, struct api_request *req)
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

static enum MHD_Result serve_ack(struct httpserver *s, struct MHD_Connection *c, const char *id,
                                 const struct request_ctx *rc)
{
    if (!s->token)
        return reply_error(c, MHD_HTTP_FORBIDDEN, "changes are disabled: no http.token_file");
    if (!token_ok(s, c))
        return reply_error(c, MHD_HTTP_UNAUTHORIZED, "a valid bearer token is required");
    if (rc->too_large)
        return reply_error(c, MHD_HTTP_CONTENT_TOO_LARGE, "request body too large");

    struct api_request parsed = {0};
    int pr = httpserver_ack_body(rc->body ? rc->body : "", rc->len, s->max_body, &parsed);
    if (pr == -EBADMSG)
        return reply_error(c, MHD_HTTP_BAD_REQUEST, "the body must be a JSON object");
    if (pr < 0)
        return reply_error(c, MHD_HTTP_BAD_REQUEST,
                           "expected {\"by\": name (1-64 bytes), \"note\": text, \"resolve\": "
                           "true|false}");
    struct api_request *req = calloc(1, sizeof(*req));
    if (!req)
        return reply_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    req->kind = API_ACK;
    snprintf(req->id, sizeof(req->id), "%s", id);
    const char *hall = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "hall");
    snprintf(req->hall, sizeof(req->hall), "%s", hall ? hall : "");
    snprintf(req->by, sizeof(req->by), "%s", parsed.by);
    snprintf(req->note, sizeof(req->note), "%s", parsed.note);
    req->resolve = parsed.resolve;
    struct api_request answer;
    if (api_submit(s->api, req, ACK_WAIT_MS, &answer) < 0)
        return reply_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, "the gateway core is not answering");
    if (answer.result == -ENOENT)
        return reply_error(c, MHD_HTTP_NOT_FOUND, "no such active alert");
    if (answer.result == -EINVAL)
        return reply_error(c, MHD_HTTP_CONFLICT,
                           "this alert resolves by itself when its condition clears");
    if (answer.result < 0)
        return reply_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, strerror(-answer.result));
    char *body = NULL;
    if (asprintf(&body, "{\"id\":\"%s\",\"state\":\"%s\"}", answer.id, answer.state) < 0)
        body = NULL;
    return reply_json(c, MHD_HTTP_OK, body);
}

/* ---- overrides -------------------------------------------------------------- */

static bool change_allowed(struct httpserver *s, struct MHD_Connection *c, enum MHD_Result *ret)
{
    if (!s->token) {
        *ret = reply_error(c, MHD_HTTP_FORBIDDEN, "changes are disabled: no http.token_file");
        return false;
    }
    if (!token_ok(s, c)) {
        *ret = reply_error(c, MHD_HTTP_UNAUTHORIZED, "a valid bearer token is required");
        return false;
    }
    return true;
}

/* GET /api/v1/overrides[?log=1&from=&to=]: read from the store, like the
 * alert history. */
static enum MHD_Result serve_overrides(struct httpserver *s, struct MHD_Connection *c)
{
    double from = 0, to = 0;
    const char *log = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "log");
    bool with_log = log && strcmp(log, "0") != 0;
    if (!arg_double(c, "from", &from) || !arg_double(c, "to", &to))
        return reply_error(c, MHD_HTTP_BAD_REQUEST, "from and to are unix seconds");
    struct store *st = NULL;
    const char *why = NULL;
    if (store_open(s->db_path, true, &st, &why) < 0)
        return reply_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, "the overrides cannot be read");
    struct store_override *v = NULL;
    struct store_override_event *ev = NULL, none;
    size_t n = 0, n_ev = 0;
    int r = store_overrides(st, (double)clock_wall_ns() / 1e9, &v, &n);
    if (r == 0 && with_log)
        r = store_override_log(st, from, to, &ev, &n_ev);
    store_close(st);
    char *json = NULL;
    if (r == 0)
        json = snapshot_overrides(v, n, with_log ? (ev ? ev : &none) : NULL, n_ev);
    free(v);
    free(ev);
    if (r < 0)
        return reply_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, "the overrides cannot be read");
    return reply_json(c, MHD_HTTP_OK, json);
}

/* The core's answer to an override request as an HTTP reply. a->why is one
 * of enforcement's static reasons (no quotes to escape). */
static enum MHD_Result override_answer(struct MHD_Connection *c, const struct api_request *a)
{
    char *body = NULL;
    const char *why = a->why[0] ? a->why : NULL;
    switch (a->result) {
    case 0:
        break;
    case -ENOENT:
        return reply_error(c, MHD_HTTP_NOT_FOUND,
                           a->kind == API_OVERRIDE_ADD ? "no such PC or plug in the configuration"
                                                       : "no override for this device");
    case -EINVAL:
    case -ERANGE:
        return reply_error(c, MHD_HTTP_BAD_REQUEST, why ? why : "bad override");
    default:
        return reply_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
                           why ? why : "the override cannot be stored");
    }
    if (a->kind == API_OVERRIDE_REMOVE) {
        if (asprintf(&body, "{\"device\":\"%s\",\"removed\":true}", a->id) < 0)
            body = NULL;
        return reply_json(c, MHD_HTTP_OK, body);
    }
    struct store_override o = {.until = a->until, .created = (double)clock_wall_ns() / 1e9};
    snprintf(o.device, sizeof(o.device), "%.64s", a->id);
    snprintf(o.reason, sizeof(o.reason), "%s", a->note);
    snprintf(o.by, sizeof(o.by), "%s", a->by);
    return reply_json(c, MHD_HTTP_CREATED, snapshot_overrides(&o, 1, NULL, 0));
}

/* POST /api/v1/overrides {"device","until","reason","by"}: until is unix
 * seconds, "HH:MM" (the next one) or "YYYY-MM-DDTHH:MM" (local time). */
static enum MHD_Result serve_override_add(struct httpserver *s, struct MHD_Connection *c,
                                          const struct request_ctx *rc)
{
    enum MHD_Result ret;
    if (!change_allowed(s, c, &ret))
        return ret;
    if (rc->too_large)
        return reply_error(c, MHD_HTTP_CONTENT_TOO_LARGE, "request body too large");
    struct json_flat f;
    struct json_limits lim = {.max_bytes = s->max_body, .max_depth = 1, .max_fields = 16};
    if (json_flatten(rc->body ? rc->body : "", rc->len, &lim, &f) != JSON_OK)
        return reply_error(c, MHD_HTTP_BAD_REQUEST, "the body must be a JSON object");
    const struct json_field *device = json_flat_get(&f, "device");
    const struct json_field *until = json_flat_get(&f, "until");
    const struct json_field *reason = json_flat_get(&f, "reason");
    const struct json_field *by = json_flat_get(&f, "by");
    time_t now = time(NULL), t = 0;
    int ur = -EINVAL;
    if (until && until->type == JSON_T_NUMBER && until->num > 0 && until->num < 1e12) {
        t = (time_t)until->num;
        ur = t > now && t - now <= ENFORCE_OVERRIDE_MAX_S ? 0 : -ERANGE;
    } else if (until && until->type == JSON_T_STRING) {
        ur = enforce_parse_until(until->str, now, &t);
    }
    bool ok = device && device->type == JSON_T_STRING &&
              topic_id_valid(device->str, device->str_len) && by && by->type == JSON_T_STRING &&
              by->str_len > 0 && by->str_len <= 64 && reason && reason->type == JSON_T_STRING &&
              reason->str_len > 0 && reason->str_len < 256;
    struct api_request *req = ok && ur == 0 ? calloc(1, sizeof(*req)) : NULL;
    if (req) {
        req->kind = API_OVERRIDE_ADD;
        snprintf(req->id, sizeof(req->id), "%s", device->str);
        snprintf(req->by, sizeof(req->by), "%s", by->str);
        snprintf(req->note, sizeof(req->note), "%s", reason->str);
        req->until = (double)t;
    }
    json_flat_free(&f);
    if (!ok)
        return reply_error(
            c, MHD_HTTP_BAD_REQUEST,
            "expected {\\\"device\\\": id, \\\"until\\\": unix seconds, \\\"HH:MM\\\" "
            "or \\\"YYYY-MM-DDTHH:MM\\\", \\\"reason\\\": text (1-255 bytes), "
            "\\\"by\\\": name (1-64 bytes)}");
    if (ur < 0)
        return reply_error(c, MHD_HTTP_BAD_REQUEST,
                           ur == -ERANGE ? "until must be in the future, at most 31 days ahead"
                                         : "until must be unix seconds, \\\"HH:MM\\\" or "
                                           "\\\"YYYY-MM-DDTHH:MM\\\"");
    if (!req)
        return reply_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    struct api_request answer;
    if (api_submit(s->api, req, ACK_WAIT_MS, &answer) < 0)
        return reply_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, "the gateway core is not answering");
    return override_answer(c, &answer);
}

/* DELETE /api/v1/overrides/<device>?by=NAME */
static enum MHD_Result serve_override_remove(struct httpserver *s, struct MHD_Connection *c,
                                             const char *device)
{
    enum MHD_Result ret;
    if (!change_allowed(s, c, &ret))
        return ret;
    const char *by = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "by");
    if (!by || !*by || strlen(by) > 64)
        return reply_error(c, MHD_HTTP_BAD_REQUEST, "?by=NAME (who removes it) is required");
    if (!topic_id_valid(device, strlen(device)))
        return reply_error(c, MHD_HTTP_NOT_FOUND, "no override for this device");
    struct api_request *req = calloc(1, sizeof(*req));
    if (!req)
        return reply_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    req->kind = API_OVERRIDE_REMOVE;
    snprintf(req->id, sizeof(req->id), "%s", device);
    snprintf(req->by, sizeof(req->by), "%s", by);
    struct api_request answer;
    if (api_submit(s->api, req, ACK_WAIT_MS, &answer) < 0)
        return reply_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, "the gateway core is not answering");
    return override_answer(c, &answer);
}

static enum MHD_Result serve_health(struct httpserver *s, struct MHD_Connection *c)
{
    bool mqtt;
    int64_t since;
    bool ok = api_healthy(s->api, clock_mono_ms(), &mqtt, &since);
    char *body = NULL;
    if (asprintf(&body, "{\"ok\":%s,\"mqtt_connected\":%s,\"core_turned_ms_ago\":%lld}",
                 ok ? "true" : "false", mqtt ? "true" : "false", (long long)since) < 0)
        body = NULL;
    return reply_json(c, ok ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE, body);
}

/* /api/v1/alerts/<id>/ack → id (URL-decoded in place by libmicrohttpd). */
static bool ack_path(const char *url, char *id, size_t size)
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

bool httpserver_ack_path(const char *url, char *id, size_t size)
{
    return ack_path(url, id, size);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
    (void)version;
    struct httpserver *s = cls;
    struct request_ctx *rc = *con_cls;
    bool post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;
    if (!rc) {
        rc = calloc(1, sizeof(*rc));
        if (!rc)
            return MHD_NO;
        *con_cls = rc;
        return MHD_YES;
    }
    if (*upload_size) {
        if (rc->len + *upload_size > s->max_body) {
            rc->too_large = true;
        } else {
            char *nb = realloc(rc->body, rc->len + *upload_size + 1);
            if (!nb)
                return MHD_NO;
            memcpy(nb + rc->len, upload, *upload_size);
            rc->body = nb;
            rc->len += *upload_size;
            rc->body[rc->len] = '\0';
        }
        *upload_size = 0;
        return MHD_YES;
    }

    static const char ov_pre[] = "/api/v1/overrides/";
    bool del = strcmp(method, MHD_HTTP_METHOD_DELETE) == 0;
    if (strcmp(url, "/api/v1/overrides") == 0 && post)
        return serve_override_add(s, c, rc);
    if (strncmp(url, ov_pre, sizeof(ov_pre) - 1) == 0) {
        if (!del)
            return reply_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "use DELETE");
        return serve_override_remove(s, c, url + sizeof(ov_pre) - 1);
    }
    if (del)
        return reply_error(c, MHD_HTTP_METHOD_NOT_ALLOWED,
                           "DELETE only for /api/v1/overrides/<device>");

    char id[sizeof(((struct api_request *)0)->id)];
    if (ack_path(url, id, sizeof(id))) {
        if (!post)
            return reply_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "use POST");
        return serve_ack(s, c, id, rc);
    }
    if (post)
        return reply_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET here");
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
        return reply_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "GET or POST");
    if (strcmp(url, "/healthz") == 0)
        return serve_health(s, c);
    if (strcmp(url, "/metrics") == 0) {
        char *text = metrics_prometheus();
        return text ? reply(c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", text,
                            strlen(text))
                    : reply_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    }
    bool api = strncmp(url, "/api/", 5) == 0;
    if (api && !s->open_reads && !token_ok(s, c))
        return reply_error(c, MHD_HTTP_UNAUTHORIZED, "a valid bearer token is required");
    if (strcmp(url, "/api/v1/state") == 0)
        return serve_snapshot(s, c, false);
    if (strcmp(url, "/api/v1/alerts") == 0) {
        const char *h = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "history");
        return h && strcmp(h, "0") != 0 ? serve_history(s, c) : serve_snapshot(s, c, true);
    }
    if (strcmp(url, "/api/v1/overrides") == 0)
        return serve_overrides(s, c);
    if (api)
        return reply_error(c, MHD_HTTP_NOT_FOUND, "no such endpoint");
    return serve_file(s, c, strcmp(url, "/") == 0 ? "index.html" : url + 1);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    struct request_ctx *rc = *con_cls;
    if (rc) {
        free(rc->body);
        free(rc);
        *con_cls = NULL;
    }
}

/* libmicrohttpd's own messages: its format, its arguments. */
static void mhd_log(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char line[512];
    vsnprintf(line, sizeof(line), fmt, ap);
    size_t n = strlen(line);
    while (n && line[n - 1] == '\n')
        line[--n] = '\0';
    log_warn("http: %s", line);
}

static char *read_pem(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = calloc(1, 65537);
    size_t n = buf ? fread(buf, 1, 65536, f) : 0;
    fclose(f);
    if (buf && n == 0) {
        free(buf);
        buf = NULL;
    }
    return buf;
}

void httpserver_stop(struct httpserver *s)
{
    if (!s)
        return;
    if (s->mhd)
        MHD_stop_daemon(s->mhd);
    free(s->token);
    free(s->web_dir);
    free(s->db_path);
    free(s->timezone);
    free(s->cert);
    free(s->key);
    free(s);
}

int httpserver_start(const struct config *cfg, struct api *api, struct httpserver **out)
{
    const struct config_http *hc = &cfg->http;
    struct httpserver *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->api = api;
    s->token = hc->token ? strdup(hc->token) : NULL;
    s->web_dir = hc->web_dir ? strdup(hc->web_dir) : NULL;
    s->max_body = hc->max_body_bytes;
    s->open_reads = hc->open_reads;
    if (asprintf(&s->db_path, "%s/hallgw.db", cfg->gateway.state_dir) < 0)
        s->db_path = NULL;

    /* listen = "host:port"; host may be a name, an IPv4 or a [IPv6] address. */
    char host[256];
    const char *colon = strrchr(hc->listen, ':');
    snprintf(host, sizeof(host), "%.*s", (int)(colon - hc->listen), hc->listen);
    if (host[0] == '[') {
        memmove(host, host + 1, strlen(host));
        char *rb = strchr(host, ']');
        if (rb)
            *rb = '\0';
    }
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV}, *ai = NULL;
    int gai = getaddrinfo(host, colon + 1, &hints, &ai);
    if (gai != 0) {
        log_err("http: cannot resolve listen address %s: %s", hc->listen, gai_strerror(gai));
        httpserver_stop(s);
        return -EINVAL;
    }
    unsigned flags =
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
    if (ai->ai_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    if (hc->cert_file && hc->key_file) {
        s->cert = read_pem(hc->cert_file);
        s->key = read_pem(hc->key_file);
        if (!s->cert || !s->key) {
            log_err("http: cannot read %s or %s", hc->cert_file, hc->key_file);
            freeaddrinfo(ai);
            httpserver_stop(s);
            return -EINVAL;
        }
        flags |= MHD_USE_TLS;
    }
    s->mhd =
        MHD_start_daemon(flags, 0, NULL, NULL, handle, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s,
                         MHD_OPTION_SOCK_ADDR, ai->ai_addr, MHD_OPTION_NOTIFY_COMPLETED, completed,
                         s, MHD_OPTION_CONNECTION_LIMIT, 64u, MHD_OPTION_CONNECTION_TIMEOUT, 30u,
                         s->cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, s->cert,
                         MHD_OPTION_HTTPS_MEM_KEY, s->key, MHD_OPTION_END);
    freeaddrinfo(ai);
    if (!s->mhd) {
        log_err("http: cannot listen on %s", hc->listen);
        httpserver_stop(s);
        return -EADDRINUSE;
    }
    log_notice("http: listening on %s%s; the live page from %s", hc->listen,
               s->cert ? " (HTTPS)" : "", s->web_dir ? s->web_dir : "the built-in files");
    *out = s;
    return 0;
}
