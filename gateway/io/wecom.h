/* WeCom (企业微信) application messages: the access token of an application
 * (GET /cgi-bin/gettoken?corpid=&corpsecret=), kept until shortly before it
 * expires, and messages sent with POST /cgi-bin/message/send?access_token=.
 * Every answer carries {"errcode":N,"errmsg":"..."}: N != 0 is a failure.
 *
 * The token's bookkeeping (wecom_token_*) and the message body are pure and
 * take `now`; wecom_send() does the requests through the caller's
 * http_client, on the caller's thread. A struct wecom_token belongs to one
 * route and one thread. */
#ifndef HALLGW_WECOM_H
#define HALLGW_WECOM_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clock.h"
#include "config.h"
#include "httpclient.h"

#define WECOM_TOKEN_MAX 768       /* bytes of an access token (WeCom: at most 512) */
#define WECOM_EXPIRES_MAX_S 86400 /* a token's life longer than this is taken as this */
#define WECOM_CONTENT_MAX 2048    /* bytes of a text or markdown message's content */
#define WECOM_REFRESH_EARLY_S 300 /* a token is renewed this long before it expires */

struct wecom_token {
    char value[WECOM_TOKEN_MAX]; /* "" when none */
    mono_ms renew_at;            /* when to fetch a new one */
};

/* True when t holds a token that is not due for renewal at now. */
bool wecom_token_usable(const struct wecom_token *t, mono_ms now);

/* Keeps token (len bytes) that WeCom said lasts expires_in_s from now: it is
 * used until WECOM_REFRESH_EARLY_S (or a tenth of its life, when shorter)
 * before then. A token too long for t, or empty, is not kept (false). */
bool wecom_token_set(struct wecom_token *t, const char *token, size_t len, int64_t expires_in_s,
                     mono_ms now);

/* Forgets the token (WeCom said it is invalid or expired). */
void wecom_token_forget(struct wecom_token *t);

/* True for the errcodes that mean the token is not (or no longer) valid:
 * 40014 invalid access_token, 42001 access_token expired, 41001 missing. */
bool wecom_token_rejected(long errcode);

/* The body of /cgi-bin/message/send for route r: touser, msgtype (r's),
 * agentid and the content, cut to WECOM_CONTENT_MAX bytes at a character
 * boundary. Returns a malloc'd NUL-terminated string and its length, or
 * NULL when out of memory. */
char *wecom_message_body(const struct config_notify *r, const char *content, size_t *len);

enum wecom_result { WECOM_OK, WECOM_FINAL, WECOM_RETRY };

/* Sends body (from wecom_message_body) on route r: fetches a token first
 * when tok has none usable, and when WeCom rejects the token, forgets it,
 * fetches a new one and sends again, once. answer gets one line: WeCom's
 * answer ("HTTP 200: {...}") or why it failed ("gettoken: errcode 40001:
 * invalid credential"). WECOM_RETRY for a network error, an HTTP 5xx or 429,
 * and WeCom's busy codes (-1, 45009); WECOM_FINAL for other failures. */
enum wecom_result wecom_send(struct http_client *http, const struct config_notify *r,
                             struct wecom_token *tok, const char *body, size_t len,
                             const _Atomic int64_t *abort_at_ms, char *answer, size_t size);

#endif
