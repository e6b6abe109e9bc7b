/* The HTTP server (libmicrohttpd is included here only): listening (HTTP or
 * HTTPS), reading requests and their bodies, and sending what a handler
 * answers. What the endpoints mean is the gateway's (gateway/httpapi.c).
 *
 * Each connection has a thread of its own; the handler is called on it once
 * per request, with the whole body read (up to max_body bytes), and fills in
 * a response. Every response carries "X-Content-Type-Options: nosniff" and,
 * unless the handler sets its own, "Cache-Control: no-store"; a 401 carries
 * "WWW-Authenticate: Bearer realm="hallgw"". Every error (4xx, 5xx) the
 * server answers has a JSON body {"error": "..."}: what the handler wrote
 * with http_response_error(), or, when the handler left the body empty, the
 * status's reason phrase.
 *
 * At most 64 connections are open at once, and at most
 * max_connections_per_address of them from one address; a connection over
 * either limit is closed at once, without an answer. */
#ifndef HALLGW_HTTPSERVER_H
#define HALLGW_HTTPSERVER_H

#include <stdbool.h>
#include <stddef.h>

struct httpserver_options {
    const char *listen;                   /* "host:port", "[v6]:port" */
    const char *cert_file, *key_file;     /* PEM: HTTPS when both are set */
    size_t max_body;                      /* bytes of a request body kept */
    unsigned max_connections_per_address; /* 0: only the total limit */
};

struct http_request {
    const char *method; /* "GET", "POST", ... */
    const char *url;    /* the path, URL-decoded, without the query */
    const char *body;   /* NUL-terminated; "" when there is none */
    size_t body_len;
    bool body_too_large; /* over max_body: body is then "" */
    bool https;          /* it came over TLS */
    char addr[64];       /* the client's address: "127.0.0.1", "::1" */
    void *conn;          /* private */
};

/* A request header, query argument (URL-decoded) or cookie, or NULL. */
const char *http_request_header(const struct http_request *r, const char *name);
const char *http_request_arg(const struct http_request *r, const char *name);
const char *http_request_cookie(const struct http_request *r, const char *name);

#define HTTP_RESPONSE_HEADERS 8

/* What the handler answers; it starts as an empty 500. The body is one of:
 * body (malloc'd, freed by the server), static_body (not freed), or fd (an
 * open file of len bytes, closed by the server). */
struct http_response {
    unsigned status;
    const char *type; /* Content-Type; NULL for none */
    char *body;
    const void *static_body;
    int fd;
    size_t len;
    size_t n_headers;
    struct {
        char name[32];
        char value[256];
    } headers[HTTP_RESPONSE_HEADERS];
};

/* Adds a header (copied; cut to fit); more than HTTP_RESPONSE_HEADERS are
 * dropped. */
void http_response_header(struct http_response *r, const char *name, const char *value);

/* Sets a malloc'd body (NULL: an empty 500, out of memory). */
void http_response_take(struct http_response *r, unsigned status, const char *type, char *body,
                        size_t len);

/* Answers status with the JSON body {"error": msg} (msg is escaped, whatever
 * it holds; NULL is ""). Out of memory: a 500 with a fixed JSON body. */
void http_response_error(struct http_response *r, unsigned status, const char *msg);

typedef void (*httpserver_handler)(void *ctx, const struct http_request *req,
                                   struct http_response *resp);

struct httpserver;

/* Starts listening and serving with handler(ctx, ...). Returns 0 or a
 * negative errno (logged: the address cannot be resolved or bound, the
 * certificate cannot be read). */
int httpserver_start(const struct httpserver_options *o, httpserver_handler handler, void *ctx,
                     struct httpserver **out);
/* Stops serving (waits for the requests in progress). NULL does nothing. */
void httpserver_stop(struct httpserver *s);

#endif
