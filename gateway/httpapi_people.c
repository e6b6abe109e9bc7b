/* People over HTTP: signing in and out of the live page, and the audit
 * log for admins. */
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

/* ---- people: signing in and out, the audit log ------------------------------ */

static void set_cookie(const struct http_request *req, struct http_response *r, const char *value,
                       double max_age_s)
{
    char c[256];
    snprintf(c, sizeof(c), "%s=%s; Path=/; Max-Age=%.0f; HttpOnly; SameSite=Strict%s", AUTH_COOKIE,
             value, max_age_s, req->https ? "; Secure" : "");
    http_response_header(r, "Set-Cookie", c);
}

static void session_json(const struct httpapi *h, const struct auth_who *who, bool signed_in,
                         struct http_response *r)
{
    static const char *const via[] = {"", "token_file", "token", "session"};
    struct buf b;
    buf_init(&b, 4096);
    int err = buf_putc(&b, '{');
    err |= jsonw_member_bool(&b, "signed_in", signed_in);
    if (signed_in) {
        err |= jsonw_member_str(&b, "name", who->name);
        err |= jsonw_member_str(&b, "role", role_name(who->role));
        err |= jsonw_member_str(&b, "via", via[who->via]);
        if (who->via == AUTH_SESSION)
            err |= jsonw_member_str(&b, "csrf", who->csrf);
    }
    err |= jsonw_member_bool(&b, "open_reads", h->open_reads);
    err |= buf_putc(&b, '}');
    httpapi_reply_buf(r, 200, &b, err);
}

/* POST {"name","password"}: signs in (a cookie); GET: who is signed in;
 * DELETE: signs out. */
void httpapi_serve_session(const struct httpapi *h, const struct http_request *req,
                           struct http_response *r)
{
    struct auth_who who;
    if (strcmp(req->method, "POST") == 0) {
        if (req->body_too_large) {
            httpapi_reply_error(r, 413, "request body too large");
            return;
        }
        struct json_flat f;
        struct json_limits lim = {.max_bytes = h->max_body, .max_depth = 1, .max_fields = 8};
        if (json_flatten(req->body, req->body_len, &lim, &f) != JSON_OK) {
            httpapi_reply_error(r, 400, "the body must be a JSON object");
            return;
        }
        const struct json_field *name = json_flat_get(&f, "name");
        const struct json_field *pw = json_flat_get(&f, "password");
        if (!name || name->type != JSON_T_STRING || !id_valid(name->str, name->str_len) || !pw ||
            pw->type != JSON_T_STRING || pw->str_len == 0 || pw->str_len > 256) {
            json_flat_free(&f);
            httpapi_reply_error(r, 400, "expected {\"name\": account, \"password\": text}");
            return;
        }
        char cookie[65];
        int rc = auth_sign_in(h->auth, name->str, pw->str, req->addr, clock_wall(), cookie, &who);
        json_flat_free(&f);
        if (rc == -EAGAIN) {
            httpapi_reply_error(r, 429, "too many failed sign-ins: wait 15 minutes");
            return;
        }
        if (rc == -EACCES) {
            httpapi_reply_error(r, 401, "wrong name or password");
            return;
        }
        if (rc < 0) {
            httpapi_reply_error(r, 503, "the accounts cannot be written");
            return;
        }
        set_cookie(req, r, cookie, (double)h->session_ms / 1000);
        crypto_wipe(cookie, sizeof(cookie));
        session_json(h, &who, true, r);
        return;
    }
    int id = httpapi_identify(h, req, &who, r);
    if (id == -EIO)
        return;
    if (strcmp(req->method, "DELETE") == 0) {
        if (id == 0 && !auth_csrf_ok(&who, http_request_header(req, "X-CSRF-Token"))) {
            httpapi_reply_error(r, 403, "missing or wrong X-CSRF-Token: reload the page");
            return;
        }
        if (id == 0 && who.via == AUTH_SESSION) {
            auth_sign_out(h->auth, http_request_cookie(req, AUTH_COOKIE));
            auth_audit(h->auth, who.name, req->addr, "sign-out", who.name, "", true, clock_wall());
        }
        set_cookie(req, r, "", 0);
        memset(&who, 0, sizeof(who));
        session_json(h, &who, false, r);
        return;
    }
    if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) {
        httpapi_reply_error(r, 405, "GET, POST (sign in) or DELETE (sign out)");
        return;
    }
    /* A stale cookie is no error here: the page asks to sign in again. */
    session_json(h, &who, id == 0, r);
}

/* GET /api/v1/audit?from=&to=&limit= (role admin). */
void httpapi_serve_audit(const struct httpapi *h, const struct http_request *req,
                         struct http_response *r)
{
    double from = 0, to = 0, limit = HISTORY_PAGE_MAX;
    if (!httpapi_arg_double(req, "from", &from) || !httpapi_arg_double(req, "to", &to) ||
        !httpapi_arg_double(req, "limit", &limit) || limit < 1 || limit > HISTORY_PAGE_MAX) {
        httpapi_reply_error(r, 400, "from and to are unix seconds, limit 1 to 1000");
        return;
    }
    struct record_audit *v = NULL;
    size_t n = 0;
    struct store *st = auth_store_acquire(h->auth);
    int rc = store_audit(st, from, to, (size_t)limit, &v, &n);
    auth_store_release(h->auth);
    if (rc < 0) {
        httpapi_reply_error(r, 503, "the audit log cannot be read");
        return;
    }
    struct buf b;
    buf_init(&b, 64 * 1024 * 1024);
    int err = buf_putc(&b, '[');
    for (size_t i = 0; i < n && err == 0; i++) {
        err |= jsonw_next(&b);
        err |= buf_putc(&b, '{');
        err |= jsonw_member_number(&b, "at", v[i].at);
        err |= jsonw_member_str(&b, "account", v[i].account);
        err |= jsonw_member_str(&b, "addr", v[i].addr);
        err |= jsonw_member_str(&b, "action", v[i].action);
        err |= jsonw_member_str(&b, "target", v[i].target);
        err |= jsonw_member_str(&b, "detail", v[i].detail);
        err |= jsonw_member_bool(&b, "ok", v[i].ok);
        err |= buf_putc(&b, '}');
    }
    err |= buf_putc(&b, ']');
    free(v);
    httpapi_reply_buf(r, 200, &b, err);
}
