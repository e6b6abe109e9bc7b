/* Silences over HTTP: read from the store, made, extended and expired
 * through the core (alerting), each change on the audit log. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "clock.h"
#include "duration.h"
#include "enforce_time.h"
#include "httpapi_internal.h"
#include "id.h"
#include "json.h"
#include "jsonw.h"
#include "store.h"
#include "utf8.h"

static int silence_json(struct buf *b, const struct record_silence *s)
{
    int err = buf_putc(b, '{');
    err |= jsonw_member_str(b, "id", s->id);
    err |= jsonw_member_str(b, "hall", s->hall);
    err |= jsonw_member_str(b, "window", s->window);
    err |= jsonw_member_str(b, "device", s->device);
    err |= jsonw_member_str(b, "rule", s->rule);
    err |= jsonw_member_str(b, "severity", s->severity);
    err |= jsonw_member_number(b, "starts", s->starts);
    err |= jsonw_member_number(b, "ends", s->ends);
    err |= jsonw_member_str(b, "comment", s->comment);
    err |= jsonw_member_bool(b, "maintenance", s->maintenance);
    err |= jsonw_member_str(b, "created_by", s->created_by);
    err |= jsonw_member_number(b, "created", s->created);
    err |= jsonw_member_str(b, "ended_by", s->ended_by);
    return err | buf_putc(b, '}');
}

/* GET /api/v1/silences: those in force now or later; with from= (and to=),
 * those in force at some time of [from, to). */
void httpapi_serve_silences(const struct httpapi *h, const struct http_request *req,
                            struct http_response *r)
{
    double from = 0, to = 0;
    if (!httpapi_arg_double(req, "from", &from) || !httpapi_arg_double(req, "to", &to)) {
        httpapi_reply_error(r, 400, "from and to are unix seconds");
        return;
    }
    struct record_silence *v = NULL;
    size_t n = 0;
    struct store *st = auth_store_acquire(h->auth);
    int rc = store_silences(st, from ? from : clock_wall(), to, &v, &n);
    auth_store_release(h->auth);
    if (rc < 0) {
        httpapi_reply_error(r, 503, "the silences cannot be read");
        return;
    }
    struct buf b;
    buf_init(&b, 16 * 1024 * 1024);
    int err = buf_puts(&b, "{\"silences\":[");
    for (size_t i = 0; i < n; i++)
        err |= jsonw_next(&b) | silence_json(&b, &v[i]);
    err |= buf_puts(&b, "]}");
    free(v);
    httpapi_reply_buf(r, 200, &b, err);
}

/* A matcher member: absent, or an id (an empty string is "any"). */
static bool matcher(const struct json_flat *f, const char *key, char *out, size_t size)
{
    const struct json_field *v = json_flat_get(f, key);
    if (!v)
        return true;
    if (v->type != JSON_T_STRING || (v->str_len && !id_valid(v->str, v->str_len)) ||
        v->str_len >= size)
        return false;
    memcpy(out, v->str, v->str_len + 1);
    return true;
}

/* ends (unix s, "HH:MM" or "YYYY-MM-DDTHH:MM") or for (a duration) into
 * *ends: 0, or a static reason. */
static const char *parse_end(const struct json_flat *f, wall_s now, wall_s *ends)
{
    const struct json_field *e = json_flat_get(f, "ends"), *d = json_flat_get(f, "for");
    if (!e == !d)
        return "give ends (unix seconds, \"HH:MM\" or \"YYYY-MM-DDTHH:MM\") or for (\"2h\")";
    if (d) {
        int64_t ms;
        if (d->type != JSON_T_STRING || duration_parse_ms(d->str, &ms) < 0 || ms <= 0)
            return "for must be a duration such as \"90m\" or \"2h\"";
        *ends = now + (double)ms / 1000.0;
        return NULL;
    }
    if (e->type == JSON_T_NUMBER && e->num > 0 && e->num < 1e12) {
        *ends = e->num;
        return NULL;
    }
    if (e->type == JSON_T_STRING && enforce_parse_until(e->str, now, ends) == 0)
        return NULL;
    return "ends must be in the future: unix seconds, \"HH:MM\" or \"YYYY-MM-DDTHH:MM\"";
}

static void answer(const struct httpapi *h, const struct http_request *req,
                   const struct auth_who *who, const char *action, struct api_request *ar,
                   unsigned ok_status, struct http_response *r)
{
    struct api_request a;
    char target[sizeof(ar->id)];
    snprintf(target, sizeof(target), "%s", ar->id);
    if (api_submit(h->api, ar, ACK_WAIT_MS, &a) < 0) {
        httpapi_reply_error(r, 503, "the gateway core is not answering");
        return;
    }
    char detail[ALERT_TEXT_MAX + 64];
    snprintf(detail, sizeof(detail), "until %.0f: %s", a.silence.ends, a.silence.comment);
    auth_audit(h->auth, who->name, req->addr, action, a.result == 0 ? a.silence.id : target,
               a.result == 0 ? detail : a.why, a.result == 0, clock_wall());
    if (a.result == -ENOENT) {
        httpapi_reply_error(r, 404, "no such silence in force");
        return;
    }
    if (a.result == -EINVAL) {
        httpapi_reply_error(r, 400, a.why);
        return;
    }
    if (a.result < 0) {
        httpapi_reply_error(r, 500, a.why[0] ? a.why : "the silence cannot be stored");
        return;
    }
    struct buf b;
    buf_init(&b, 8192);
    httpapi_reply_buf(r, ok_status, &b, silence_json(&b, &a.silence));
}

/* POST /api/v1/silences {"hall","window","device","rule","severity",
 * "ends"|"for","comment","maintenance"}. */
void httpapi_serve_silence_add(const struct httpapi *h, const struct http_request *req,
                               const struct auth_who *who, struct http_response *r)
{
    struct json_flat f;
    struct json_limits lim = {.max_bytes = h->max_body, .max_depth = 1, .max_fields = 16};
    if (json_flatten(req->body, req->body_len, &lim, &f) != JSON_OK) {
        httpapi_reply_error(r, 400, "the body must be a JSON object");
        return;
    }
    struct api_request *ar = calloc(1, sizeof(*ar));
    if (!ar) {
        json_flat_free(&f);
        httpapi_reply_error(r, 500, "out of memory");
        return;
    }
    struct record_silence *s = &ar->silence;
    const struct json_field *comment = json_flat_get(&f, "comment");
    const struct json_field *maint = json_flat_get(&f, "maintenance");
    const struct json_field *sev = json_flat_get(&f, "severity");
    const char *why = NULL;
    if (!matcher(&f, "hall", s->hall, sizeof(s->hall)) ||
        !matcher(&f, "window", s->window, sizeof(s->window)) ||
        !matcher(&f, "device", s->device, sizeof(s->device)) ||
        !matcher(&f, "rule", s->rule, sizeof(s->rule)))
        why = "hall, window, device and rule are ids (A-Z a-z 0-9 _ . -, up to 64)";
    else if (sev && (sev->type != JSON_T_STRING || sev->str_len >= sizeof(s->severity)))
        why = "severity must be info, warning, major or critical";
    else if (!comment || comment->type != JSON_T_STRING || comment->str_len == 0 ||
             comment->str_len >= sizeof(s->comment) ||
             !utf8_plain_text(comment->str, comment->str_len))
        why = "comment is required: plain text of 1 to 255 bytes (why, and who to call)";
    else if (maint && maint->type != JSON_T_BOOL)
        why = "maintenance is true or false";
    else
        why = parse_end(&f, clock_wall(), &s->ends);
    if (!why) {
        if (sev)
            memcpy(s->severity, sev->str, sev->str_len + 1);
        memcpy(s->comment, comment->str, comment->str_len + 1);
        s->maintenance = maint && maint->b;
        snprintf(s->created_by, sizeof(s->created_by), "%s", who->name);
    }
    json_flat_free(&f);
    if (why) {
        free(ar);
        httpapi_reply_error(r, 400, why);
        return;
    }
    ar->kind = API_SILENCE_ADD;
    snprintf(ar->by, sizeof(ar->by), "%s", who->name);
    answer(h, req, who, "silence-add", ar, 201, r);
}

/* POST /api/v1/silences/<id> {"ends"|"for"} extends it; DELETE expires it
 * now. */
void httpapi_serve_silence_end(const struct httpapi *h, const struct http_request *req,
                               const struct auth_who *who, const char *id, bool expire,
                               struct http_response *r)
{
    if (strlen(id) != 16) {
        httpapi_reply_error(r, 404, "no such silence in force");
        return;
    }
    struct api_request *ar = calloc(1, sizeof(*ar));
    if (!ar) {
        httpapi_reply_error(r, 500, "out of memory");
        return;
    }
    ar->kind = API_SILENCE_END;
    snprintf(ar->id, sizeof(ar->id), "%s", id);
    snprintf(ar->by, sizeof(ar->by), "%s", who->name);
    if (!expire) {
        struct json_flat f;
        struct json_limits lim = {.max_bytes = h->max_body, .max_depth = 1, .max_fields = 4};
        const char *why = "the body must be a JSON object";
        if (json_flatten(req->body, req->body_len, &lim, &f) == JSON_OK) {
            why = parse_end(&f, clock_wall(), &ar->until);
            json_flat_free(&f);
        }
        if (why) {
            free(ar);
            httpapi_reply_error(r, 400, why);
            return;
        }
    }
    answer(h, req, who, expire ? "silence-expire" : "silence-extend", ar, 200, r);
}
