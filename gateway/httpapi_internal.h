/* Private to the HTTP endpoints (httpapi.c: access, the page, alerts and
 * routing; httpapi_overrides.c; httpapi_people.c: signing in and the audit
 * log; httpapi_reports.c; httpapi_silences.c; httpapi_devices.c). Nothing else may include
 * this header. */
#ifndef HALLGW_HTTPAPI_INTERNAL_H
#define HALLGW_HTTPAPI_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth.h"
#include "buf.h"
#include "httpapi.h"
#include "httpserver.h"

#define SNAPSHOT_WAIT_MS 3000
#define ACK_WAIT_MS 5000
/* At most this many history rows per answer; the next page is asked for
 * with offset= (X-Next-Offset says where it starts). */
#define HISTORY_PAGE_MAX 1000

#define JSON_TYPE "application/json; charset=utf-8"

struct httpapi {
    struct httpserver *server;
    struct api *api;
    struct auth *auth;
    char *web_dir;
    size_t max_body;
    bool open_reads;
    int64_t session_ms;
    char **hosts; /* http.hosts */
    size_t n_hosts;
    char *config_path; /* the daily record reads the configuration again */
};

/* Answers json (malloc'd, NULL: a 500) with status. */
void httpapi_reply_json(struct http_response *r, unsigned status, char *json);
/* {"error": msg}, msg escaped by the JSON writer whatever it holds. */
void httpapi_reply_error(struct http_response *r, unsigned status, const char *msg);
/* Answers b's JSON (and frees b), or a 500 when err or b ran out of memory. */
void httpapi_reply_buf(struct http_response *r, unsigned status, struct buf *b, int err);
/* The query argument name as a number into *out; true when absent too. */
bool httpapi_arg_double(const struct http_request *req, const char *name, double *out);
/* Who sent req: 0 with *who, -ENOENT without credentials; answers (and
 * returns -EACCES or -EIO) when they are not valid. */
int httpapi_identify(const struct httpapi *h, const struct http_request *req, struct auth_who *who,
                     struct http_response *r);

/* httpapi_overrides.c: GET, POST /api/v1/overrides, DELETE .../<device>. */
void httpapi_serve_overrides(const struct httpapi *h, const struct http_request *req,
                             struct http_response *r);
void httpapi_serve_override_add(const struct httpapi *h, const struct http_request *req,
                                const struct auth_who *who, struct http_response *r);
void httpapi_serve_override_remove(const struct httpapi *h, const struct http_request *req,
                                   const struct auth_who *who, const char *device,
                                   struct http_response *r);

/* httpapi_people.c: /api/v1/session (any method) and GET /api/v1/audit. */
void httpapi_serve_session(const struct httpapi *h, const struct http_request *req,
                           struct http_response *r);
void httpapi_serve_audit(const struct httpapi *h, const struct http_request *req,
                         struct http_response *r);

/* httpapi_reports.c: GET /api/v1/reports/daily. */
void httpapi_serve_daily_report(const struct httpapi *h, const struct http_request *req,
                                struct http_response *r);

/* The start every report endpoint shares: the format= argument (html when
 * absent) into *format and the configuration file read again into *cfg
 * (freed with config_free). Returns 0, or -1 having answered a 400 (bad
 * format) or a 503 (the configuration cannot be read). */
struct config;
int httpapi_report_open(const struct httpapi *h, const struct http_request *req,
                        struct http_response *r, int *format, struct config **cfg);
/* The end every report endpoint shares: answers body (malloc'd, taken; len
 * bytes, made with rendered >= 0) as format, named hallgw-<name>[-<hall>].<ext>,
 * or a 500 saying failure when it could not be made. */
void httpapi_report_send(struct http_response *r, int format, const char *name, const char *hall,
                         char *body, size_t len, int rendered, const char *failure);

/* httpapi_period.c: GET /api/v1/reports/period (the week's or month's 考核). */
void httpapi_serve_period_report(const struct httpapi *h, const struct http_request *req,
                                 struct http_response *r);

/* httpapi_silences.c: GET, POST /api/v1/silences; POST (extend) and DELETE
 * (expire) /api/v1/silences/<id>. */
void httpapi_serve_silences(const struct httpapi *h, const struct http_request *req,
                            struct http_response *r);
void httpapi_serve_silence_add(const struct httpapi *h, const struct http_request *req,
                               const struct auth_who *who, struct http_response *r);
void httpapi_serve_silence_end(const struct httpapi *h, const struct http_request *req,
                               const struct auth_who *who, const char *id, bool expire,
                               struct http_response *r);

/* httpapi_devices.c: GET /api/v1/devices/unbound. */
void httpapi_serve_unbound(const struct httpapi *h, struct http_response *r);

#endif
