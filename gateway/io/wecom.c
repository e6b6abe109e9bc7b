#include "wecom.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "crypto.h"
#include "json.h"
#include "jsonw.h"
#include "utf8.h"

bool wecom_token_usable(const struct wecom_token *t, mono_ms now)
{
    return t->value[0] && now < t->renew_at;
}

bool wecom_token_set(struct wecom_token *t, const char *token, size_t len, int64_t expires_in_s,
                     mono_ms now)
{
    wecom_token_forget(t);
    if (len == 0 || len >= sizeof(t->value) || memchr(token, '\0', len))
        return false;
    if (expires_in_s <= 0)
        expires_in_s = 0;
    if (expires_in_s > WECOM_EXPIRES_MAX_S)
        expires_in_s = WECOM_EXPIRES_MAX_S;
    int64_t early =
        expires_in_s / 10 < WECOM_REFRESH_EARLY_S ? expires_in_s / 10 : WECOM_REFRESH_EARLY_S;
    memcpy(t->value, token, len);
    t->value[len] = '\0';
    t->renew_at = now + (expires_in_s - early) * 1000;
    return true;
}

void wecom_token_forget(struct wecom_token *t)
{
    explicit_bzero(t->value, sizeof(t->value));
    t->renew_at = 0;
}

bool wecom_token_rejected(long errcode)
{
    return errcode == 40014 || errcode == 42001 || errcode == 41001;
}

char *wecom_message_body(const struct config_notify *r, const char *content, size_t *len)
{
    const char *type = r->msgtype == MSGTYPE_TEXT ? "text" : "markdown";
    size_t n = utf8_cut(content, strlen(content), WECOM_CONTENT_MAX);
    struct buf b;
    /* Bounded by the configuration's to_users and the cut content, each
     * byte escaped to at most 6 bytes. */
    size_t users = r->to_users ? strlen(r->to_users) : 0;
    buf_init(&b, 6 * (users + WECOM_CONTENT_MAX) + 256);
    buf_putc(&b, '{');
    jsonw_member_str(&b, "touser", r->to_users);
    jsonw_member_str(&b, "msgtype", type);
    jsonw_member_int(&b, "agentid", r->agent_id);
    jsonw_key(&b, type);
    buf_putc(&b, '{');
    jsonw_key(&b, "content");
    jsonw_string(&b, content, n);
    buf_puts(&b, "}}");
    if (b.err) {
        buf_free(&b);
        return NULL;
    }
    *len = b.len;
    return b.data;
}

/* WeCom's errcode and errmsg in a parsed answer; false when it has no
 * numeric errcode. */
static bool flat_code(const struct json_flat *f, long *code, char *msg, size_t size)
{
    const struct json_field *c = json_flat_get(f, "errcode");
    const struct json_field *m = json_flat_get(f, "errmsg");
    /* WeCom's codes are small integers: anything else is not its answer. */
    bool ok = c && c->type == JSON_T_NUMBER && isfinite(c->num) && c->num >= -2147483648.0 &&
              c->num <= 2147483647.0;
    if (ok) {
        *code = (long)c->num;
        snprintf(msg, size, "%.*s",
                 m && m->type == JSON_T_STRING ? (int)(m->str_len < 200 ? m->str_len : 200) : 0,
                 m && m->type == JSON_T_STRING ? m->str : "");
    }
    return ok;
}

/* The same of an answer's body; false when it is not JSON with a numeric
 * errcode. */
static bool answer_code(const struct http_response *resp, long *code, char *msg, size_t size)
{
    struct json_flat f;
    if (resp->body_len == 0 || json_flatten(resp->body, resp->body_len, NULL, &f) != JSON_OK)
        return false;
    bool ok = flat_code(&f, code, msg, size);
    json_flat_free(&f);
    return ok;
}

static bool busy(long code)
{
    return code == -1 || code == 45009;
}

/* api_url + path, without a doubled "/". */
static char *api(const struct config_notify *r, const char *path)
{
    const char *base = r->api_url ? r->api_url : "https://qyapi.weixin.qq.com";
    size_t n = strlen(base);
    while (n > 0 && base[n - 1] == '/')
        n--;
    return conf_xprintf("%.*s%s", (int)n, base, path);
}

static enum wecom_result fetch_token(struct http_client *http, const struct config_notify *r,
                                     struct wecom_token *tok, const _Atomic int64_t *abort_at_ms,
                                     char *answer, size_t size)
{
    char *id = http_url_escape(http, r->corp_id ? r->corp_id : "");
    char *secret = http_url_escape(http, r->secret ? r->secret : "");
    char *base = api(r, "/cgi-bin/gettoken");
    char *url =
        id && secret && base ? conf_xprintf("%s?corpid=%s&corpsecret=%s", base, id, secret) : NULL;
    crypto_free_secret(secret);
    free(id);
    free(base);
    if (!url) {
        snprintf(answer, size, "gettoken: out of memory");
        return WECOM_RETRY;
    }
    struct http_request req = {.method = "GET",
                               .url = url,
                               .timeout_ms = r->timeout_ms > 0 ? r->timeout_ms : 10000,
                               .abort_at_ms = abort_at_ms};
    struct http_response resp;
    int rc = http_client_do(http, &req, &resp);
    crypto_free_secret(url); /* it carries the secret */
    if (rc < 0) {
        snprintf(answer, size, "gettoken: %s", resp.error);
        return WECOM_RETRY;
    }
    if (resp.status < 200 || resp.status >= 300) {
        snprintf(answer, size, "gettoken: HTTP %ld: %.200s", resp.status, resp.body);
        return resp.status == 429 || resp.status >= 500 ? WECOM_RETRY : WECOM_FINAL;
    }
    /* One parse: the code, then the token; the token's copy in f is wiped. */
    long code = 0;
    char msg[256] = "";
    struct json_flat f;
    bool parsed = resp.body_len > 0 && json_flatten(resp.body, resp.body_len, NULL, &f) == JSON_OK;
    bool coded = parsed && flat_code(&f, &code, msg, sizeof(msg)), kept = false;
    if (!coded)
        snprintf(answer, size, "gettoken: HTTP %ld, not WeCom's answer: %.200s", resp.status,
                 resp.body);
    else if (code != 0)
        snprintf(answer, size, "gettoken: errcode %ld: %s", code, msg);
    if (parsed) {
        const struct json_field *t = json_flat_get(&f, "access_token");
        const struct json_field *e = json_flat_get(&f, "expires_in");
        double expires = e && e->type == JSON_T_NUMBER && isfinite(e->num) ? e->num : 7200;
        if (expires > WECOM_EXPIRES_MAX_S)
            expires = WECOM_EXPIRES_MAX_S;
        if (t && t->type == JSON_T_STRING) {
            if (coded && code == 0)
                kept = wecom_token_set(tok, t->str, t->str_len, expires > 0 ? (int64_t)expires : 0,
                                       clock_mono_ms());
            crypto_wipe((char *)t->str, t->str_len);
        }
        json_flat_free(&f);
    }
    explicit_bzero(resp.body, sizeof(resp.body));
    if (!coded)
        return WECOM_FINAL;
    if (code != 0)
        return busy(code) ? WECOM_RETRY : WECOM_FINAL;
    if (!kept) {
        snprintf(answer, size, "gettoken: the answer holds no usable access_token");
        return WECOM_FINAL;
    }
    return WECOM_OK;
}

/* One POST of body with tok's token. *code is WeCom's errcode (0 when the
 * answer had none). */
static enum wecom_result post(struct http_client *http, const struct config_notify *r,
                              const struct wecom_token *tok, const char *body, size_t len,
                              const _Atomic int64_t *abort_at_ms, long *code, char *answer,
                              size_t size)
{
    char *base = api(r, "/cgi-bin/message/send");
    char *url = base ? conf_xprintf("%s?access_token=%s", base, tok->value) : NULL;
    free(base);
    *code = 0;
    if (!url) {
        snprintf(answer, size, "out of memory");
        return WECOM_RETRY;
    }
    const char *hdrs[1] = {"Content-Type: application/json"};
    struct http_request req = {.method = "POST",
                               .url = url,
                               .headers = hdrs,
                               .n_headers = 1,
                               .body = body,
                               .body_len = len,
                               .timeout_ms = r->timeout_ms > 0 ? r->timeout_ms : 10000,
                               .abort_at_ms = abort_at_ms};
    struct http_response resp;
    int rc = http_client_do(http, &req, &resp);
    crypto_free_secret(url);
    if (rc < 0) {
        snprintf(answer, size, "%s", resp.error);
        return WECOM_RETRY;
    }
    snprintf(answer, size, "HTTP %ld: %.200s", resp.status, resp.body);
    if (resp.status < 200 || resp.status >= 300)
        return resp.status == 429 || resp.status >= 500 ? WECOM_RETRY : WECOM_FINAL;
    char msg[256] = "";
    if (!answer_code(&resp, code, msg, sizeof(msg))) {
        snprintf(answer, size, "HTTP %ld, not WeCom's answer: %.200s", resp.status, resp.body);
        return WECOM_FINAL;
    }
    if (*code == 0)
        return WECOM_OK;
    snprintf(answer, size, "HTTP %ld, errcode %ld: %s", resp.status, *code, msg);
    return busy(*code) ? WECOM_RETRY : WECOM_FINAL;
}

enum wecom_result wecom_send(struct http_client *http, const struct config_notify *r,
                             struct wecom_token *tok, const char *body, size_t len,
                             const _Atomic int64_t *abort_at_ms, char *answer, size_t size)
{
    enum wecom_result res;
    long code = 0;
    answer[0] = '\0';
    for (int round = 0; round < 2; round++) {
        if (!wecom_token_usable(tok, clock_mono_ms()) &&
            (res = fetch_token(http, r, tok, abort_at_ms, answer, size)) != WECOM_OK)
            return res;
        res = post(http, r, tok, body, len, abort_at_ms, &code, answer, size);
        if (res == WECOM_OK || !wecom_token_rejected(code))
            return res;
        wecom_token_forget(tok); /* revoked or expired early: a new one, once */
    }
    return res;
}
