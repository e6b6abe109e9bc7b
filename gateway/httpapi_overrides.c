/* The power-off overrides over HTTP: read from the store, changed through
 * the core (enforcement), each change on the audit log. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "clock.h"
#include "crypto.h"
#include "enforce_time.h"
#include "httpapi_internal.h"
#include "id.h"
#include "json.h"
#include "jsonw.h"
#include "snapshot.h"
#include "store.h"
#include "utf8.h"

/* ---- overrides -------------------------------------------------------------- */

/* GET /api/v1/overrides[?log=1&from=&to=]: read from the store, like the
 * alert history. */
void httpapi_serve_overrides(const struct httpapi *h, const struct http_request *req,
                             struct http_response *r)
{
    double from = 0, to = 0;
    const char *log = http_request_arg(req, "log");
    bool with_log = log && strcmp(log, "0") != 0;
    if (!httpapi_arg_double(req, "from", &from) || !httpapi_arg_double(req, "to", &to)) {
        httpapi_reply_error(r, 400, "from and to are unix seconds");
        return;
    }
    struct record_override *v = NULL;
    struct record_override_event *ev = NULL, none;
    size_t n = 0, n_ev = 0;
    struct store *st = auth_store_acquire(h->auth);
    int rc = store_overrides(st, clock_wall(), &v, &n);
    if (rc == 0 && with_log)
        rc = store_override_log(st, from, to, &ev, &n_ev);
    auth_store_release(h->auth);
    char *json = NULL;
    if (rc == 0)
        json = snapshot_overrides(v, n, with_log ? (ev ? ev : &none) : NULL, n_ev);
    free(v);
    free(ev);
    if (rc < 0) {
        httpapi_reply_error(r, 503, "the overrides cannot be read");
        return;
    }
    httpapi_reply_json(r, 200, json);
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
        httpapi_reply_error(r, 404,
                            a->kind == API_OVERRIDE_ADD ? "no such PC or plug in the configuration"
                                                        : "no override for this device");
        return;
    case -EINVAL:
    case -ERANGE:
        httpapi_reply_error(r, 400, why ? why : "bad override");
        return;
    default:
        httpapi_reply_error(r, 500, why ? why : "the override cannot be stored");
        return;
    }
    if (a->kind == API_OVERRIDE_REMOVE) {
        if (asprintf(&body, "{\"device\":\"%s\",\"removed\":true}", a->id) < 0)
            body = NULL;
        httpapi_reply_json(r, 200, body);
        return;
    }
    struct record_override o = {.until = a->until, .created = clock_wall()};
    snprintf(o.device, sizeof(o.device), "%.64s", a->id);
    snprintf(o.reason, sizeof(o.reason), "%s", a->note);
    snprintf(o.by, sizeof(o.by), "%s", a->by);
    httpapi_reply_json(r, 201, snapshot_overrides(&o, 1, NULL, 0));
}

/* Hands ar to the core, records the answer in the audit log, answers. */
static void submit_override(const struct httpapi *h, const struct http_request *req,
                            const struct auth_who *who, struct api_request *ar,
                            struct http_response *r)
{
    struct api_request answer;
    char id[sizeof(ar->id)];
    snprintf(id, sizeof(id), "%s", ar->id);
    bool add = ar->kind == API_OVERRIDE_ADD;
    if (api_submit(h->api, ar, ACK_WAIT_MS, &answer) < 0) {
        httpapi_reply_error(r, 503, "the gateway core is not answering");
        return;
    }
    char detail[sizeof(answer.note) + 48];
    if (add)
        snprintf(detail, sizeof(detail), "until %.0f: %s", answer.until, answer.note);
    else
        snprintf(detail, sizeof(detail), "%s", answer.why);
    auth_audit(h->auth, who->name, req->addr, add ? "override-add" : "override-remove", id, detail,
               answer.result == 0, clock_wall());
    override_answer(&answer, r);
}

/* POST /api/v1/overrides {"device","until","reason"}: until is unix
 * seconds, "HH:MM" (the next one) or "YYYY-MM-DDTHH:MM" (local time). by is
 * the account's name. */
void httpapi_serve_override_add(const struct httpapi *h, const struct http_request *req,
                                const struct auth_who *who, struct http_response *r)
{
    struct json_flat f;
    struct json_limits lim = {.max_bytes = h->max_body, .max_depth = 1, .max_fields = 16};
    if (json_flatten(req->body, req->body_len, &lim, &f) != JSON_OK) {
        httpapi_reply_error(r, 400, "the body must be a JSON object");
        return;
    }
    const struct json_field *device = json_flat_get(&f, "device");
    const struct json_field *until = json_flat_get(&f, "until");
    const struct json_field *reason = json_flat_get(&f, "reason");
    wall_s now = clock_wall(), t = 0;
    int ur = -EINVAL;
    if (until && until->type == JSON_T_NUMBER && until->num > 0 && until->num < 1e12) {
        t = until->num;
        ur = t > now && t - now <= ENFORCE_OVERRIDE_MAX_S ? 0 : -ERANGE;
    } else if (until && until->type == JSON_T_STRING) {
        ur = enforce_parse_until(until->str, now, &t);
    }
    bool ok = device && device->type == JSON_T_STRING && id_valid(device->str, device->str_len) &&
              reason && reason->type == JSON_T_STRING && reason->str_len > 0 &&
              reason->str_len < 256 && utf8_plain_text(reason->str, reason->str_len);
    struct api_request *ar = ok && ur == 0 ? calloc(1, sizeof(*ar)) : NULL;
    if (ar) {
        ar->kind = API_OVERRIDE_ADD;
        snprintf(ar->id, sizeof(ar->id), "%s", device->str);
        snprintf(ar->by, sizeof(ar->by), "%s", who->name);
        snprintf(ar->note, sizeof(ar->note), "%s", reason->str);
        ar->until = t;
    }
    json_flat_free(&f);
    if (!ok) {
        httpapi_reply_error(r, 400,
                            "expected {\"device\": id, \"until\": unix seconds, \"HH:MM\" "
                            "or \"YYYY-MM-DDTHH:MM\", \"reason\": plain text (1-255 bytes, no "
                            "control characters)}");
        return;
    }
    if (ur < 0) {
        httpapi_reply_error(r, 400,
                            ur == -ERANGE ? "until must be in the future, at most 31 days ahead"
                                          : "until must be unix seconds, \"HH:MM\" or "
                                            "\"YYYY-MM-DDTHH:MM\"");
        return;
    }
    if (!ar) {
        httpapi_reply_error(r, 500, "out of memory");
        return;
    }
    submit_override(h, req, who, ar, r);
}

/* DELETE /api/v1/overrides/<device> */
void httpapi_serve_override_remove(const struct httpapi *h, const struct http_request *req,
                                   const struct auth_who *who, const char *device,
                                   struct http_response *r)
{
    if (!id_valid(device, strlen(device))) {
        httpapi_reply_error(r, 404, "no override for this device");
        return;
    }
    struct api_request *ar = calloc(1, sizeof(*ar));
    if (!ar) {
        httpapi_reply_error(r, 500, "out of memory");
        return;
    }
    ar->kind = API_OVERRIDE_REMOVE;
    snprintf(ar->id, sizeof(ar->id), "%s", device);
    snprintf(ar->by, sizeof(ar->by), "%s", who->name);
    submit_override(h, req, who, ar, r);
}
