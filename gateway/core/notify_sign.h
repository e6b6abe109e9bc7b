/* Signing a webhook request for the chat robots that ask for it (pure: the
 * caller gives the time). Each robot's own documented algorithm:
 *
 *   DingTalk  sign = urlencode(base64(HMAC-SHA256(key = secret,
 *                                                 data = "<ms>\n<secret>")))
 *             sent as &timestamp=<ms>&sign=<sign> on the webhook's URL
 *   Feishu    sign = base64(HMAC-SHA256(key = "<s>\n<secret>", data = ""))
 *             sent as "timestamp": "<s>", "sign": "<sign>" in the JSON body
 *
 * with <ms> and <s> the unix time in milliseconds and seconds. */
#ifndef HALLGW_NOTIFY_SIGN_H
#define HALLGW_NOTIFY_SIGN_H

#include <stddef.h>
#include <stdint.h>

/* The signature of DingTalk's signed robots, URL-encoded, into out (at
 * least 64 bytes). 0 or -EIO. */
int notify_sign_dingtalk(const char *secret, int64_t ts_ms, char *out, size_t size);

/* The signature of Feishu's signed robots (base64) into out (at least 48
 * bytes). 0 or -EIO. */
int notify_sign_feishu(const char *secret, int64_t ts_s, char *out, size_t size);

/* url with DingTalk's timestamp and sign appended as query parameters
 * (malloc'd), or NULL. */
char *notify_sign_dingtalk_url(const char *url, const char *secret, int64_t ts_ms);

/* The JSON object body with "timestamp" and "sign" put first (malloc'd,
 * *out_len its length), or NULL when body is not a JSON object. */
char *notify_sign_feishu_body(const char *body, size_t len, const char *secret, int64_t ts_s,
                              size_t *out_len);

#endif
