/* The HTTP client (libcurl is included here only). One http_client per
 * thread; it keeps its connection alive between requests. */
#ifndef HALLGW_HTTPCLIENT_H
#define HALLGW_HTTPCLIENT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_BODY_KEEP 1024 /* bytes of a response body kept for logs and parsing */

struct http_client;

struct http_request {
    const char *method; /* "GET", "POST" */
    const char *url;
    const char *const *headers; /* "Name: value" */
    size_t n_headers;
    const void *body;
    size_t body_len;
    const char *userpwd; /* "user:password" for basic auth, or NULL */
    int64_t timeout_ms;
    /* NULL, or a CLOCK_MONOTONIC deadline in ms (0: none yet) that another
     * thread may set: the transfer is abandoned within about a second of it
     * passing, as a network error. For a bounded shutdown. */
    const _Atomic int64_t *abort_at_ms;
};

struct http_response {
    long status;                   /* 0 when no HTTP answer came */
    char body[HTTP_BODY_KEEP + 1]; /* first bytes of the body, NUL-terminated */
    size_t body_len;               /* bytes kept */
    char error[256];               /* libcurl's message on a network error */
};

/* Call once, before any other thread starts. */
int http_global_init(void);
void http_global_cleanup(void);

int http_client_new(struct http_client **out);
void http_client_free(struct http_client *c); /* NULL does nothing */

/* Performs req. Returns 0 when an HTTP status was received (any status), or
 * -EIO on a network error or timeout (resp->error says which). */
int http_client_do(struct http_client *c, const struct http_request *req,
                   struct http_response *resp);

/* An e-mail to send over SMTP. */
struct smtp_message {
    const char *url; /* smtp://host:port or smtps://host:port */
    const char *from;
    const char *const *to;
    size_t n_to;
    const char *username; /* NULL: no AUTH */
    const char *password;
    bool require_tls; /* smtp://: STARTTLS or fail */
    const char *data; /* the whole message, headers and body, CRLF line ends */
    size_t len;
    int64_t timeout_ms;
    const _Atomic int64_t *abort_at_ms; /* as in struct http_request */
};

/* Sends m (the whole message is uploaded; libcurl does the dot-stuffing).
 * from and to are addresses ("a@example" or "<a@example>"), not display
 * names. Returns 0, or -EIO with resp->error set (resp->status is the last
 * SMTP reply code when one came, e.g. 451, 535, 550), or -ENOMEM. resp->body
 * stays empty. */
int http_client_smtp(struct http_client *c, const struct smtp_message *m,
                     struct http_response *resp);

/* One part of a MIME e-mail: its media type ("text/html; charset=utf-8"),
 * its bytes, and a file name when it is an attachment. */
struct smtp_part {
    const char *type;
    const char *data;
    size_t len;
    const char *filename; /* NULL: shown inline */
};

/* A MIME e-mail built by libcurl (curl_mime): the top-level headers
 * ("Subject: ...", "From: ...", "To: ...", "Date: ..."; each one line, RFC
 * 2047 encoded where needed), then multipart/mixed of the body (one part,
 * or a multipart/alternative of several: plain text first, HTML last) and
 * the attachments (base64). Text parts are quoted-printable. */
struct smtp_mime {
    const char *const *headers;
    size_t n_headers;
    const struct smtp_part *alternatives;
    size_t n_alternatives;
    const struct smtp_part *attachments;
    size_t n_attachments;
};

/* Sends body to m's envelope (m->data and m->len are not used); as
 * http_client_smtp. */
int http_client_smtp_mime(struct http_client *c, const struct smtp_message *m,
                          const struct smtp_mime *body, struct http_response *resp);

/* URL-encodes s into a malloc'd string; NULL on allocation failure. */
char *http_url_escape(struct http_client *c, const char *s);

#endif
