#include "httpserver.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "buf.h"
#include "crypto.h"
#include "jsonw.h"
#include "log.h"

#define PEM_MAX_BYTES 65536
#define MAX_CONNECTIONS 64u
#define ERROR_TYPE "application/json; charset=utf-8"

/* The answer when even an error body cannot be allocated. */
static const char out_of_memory[] = "{\"error\":\"out of memory\"}";

struct httpserver {
    struct MHD_Daemon *mhd;
    httpserver_handler handler;
    void *ctx;
    size_t max_body;
    char *cert, *key; /* PEM contents for HTTPS */
};

/* A request while its body arrives: at most max_body bytes are kept. */
struct request_ctx {
    struct buf body;
    bool too_large;
};

const char *http_request_header(const struct http_request *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *http_request_arg(const struct http_request *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *http_request_cookie(const struct http_request *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, name);
}

/* The client's address, without a port. */
static void client_addr(struct MHD_Connection *c, char *out, size_t size)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;
    out[0] = '\0';
    if (sa && sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
                  (socklen_t)size);
    else if (sa && sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out,
                  (socklen_t)size);
}

void http_response_header(struct http_response *r, const char *name, const char *value)
{
    if (r->n_headers == HTTP_RESPONSE_HEADERS)
        return;
    (void)snprintf(r->headers[r->n_headers].name, sizeof(r->headers[0].name), "%s", name);
    (void)snprintf(r->headers[r->n_headers].value, sizeof(r->headers[0].value), "%s", value);
    r->n_headers++;
}

void http_response_take(struct http_response *r, unsigned status, const char *type, char *body,
                        size_t len)
{
    free(r->body);
    r->body = body;
    r->len = body ? len : 0;
    r->status = body ? status : MHD_HTTP_INTERNAL_SERVER_ERROR;
    r->type = body ? type : NULL;
}

void http_response_error(struct http_response *r, unsigned status, const char *msg)
{
    struct buf b;
    size_t len = 0;
    buf_init(&b, 0);
    buf_putc(&b, '{');
    jsonw_member_str(&b, "error", msg);
    buf_putc(&b, '}');
    char *body = buf_steal(&b, &len); /* NULL when any step failed */
    if (body) {
        http_response_take(r, status, ERROR_TYPE, body, len);
        return;
    }
    http_response_take(r, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL, NULL, 0);
    r->type = ERROR_TYPE;
    r->static_body = out_of_memory;
    r->len = sizeof(out_of_memory) - 1;
}

/* An error the handler answered without a body (or could not allocate one
 * for) gets the JSON body every error has. */
static void complete_error(struct http_response *r)
{
    if (r->status < 400 || r->body || r->static_body || r->fd >= 0)
        return;
    const char *phrase = MHD_get_reason_phrase_for(r->status);
    http_response_error(r, r->status, phrase && *phrase ? phrase : "error");
}

static bool has_header(const struct http_response *r, const char *name)
{
    for (size_t i = 0; i < r->n_headers; i++)
        if (strcasecmp(r->headers[i].name, name) == 0)
            return true;
    return false;
}

static enum MHD_Result send_response(struct MHD_Connection *c, struct http_response *hr)
{
    struct MHD_Response *r;
    if (hr->fd >= 0) {
        r = MHD_create_response_from_fd((uint64_t)hr->len, hr->fd);
        if (!r)
            close(hr->fd);
    } else if (hr->body) {
        r = MHD_create_response_from_buffer(hr->len, hr->body, MHD_RESPMEM_MUST_FREE);
        if (!r)
            free(hr->body);
    } else {
        r = MHD_create_response_from_buffer(hr->static_body ? hr->len : 0, (void *)hr->static_body,
                                            MHD_RESPMEM_PERSISTENT);
    }
    if (!r)
        return MHD_NO;
    if (hr->type)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, hr->type);
    if (!has_header(hr, MHD_HTTP_HEADER_CACHE_CONTROL))
        MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    if (hr->status == MHD_HTTP_UNAUTHORIZED)
        MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"hallgw\"");
    for (size_t i = 0; i < hr->n_headers; i++)
        MHD_add_response_header(r, hr->headers[i].name, hr->headers[i].value);
    enum MHD_Result ret = MHD_queue_response(c, hr->status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
    (void)version;
    struct httpserver *s = cls;
    struct request_ctx *rc = *con_cls;
    if (!rc) {
        rc = calloc(1, sizeof(*rc));
        if (!rc)
            return MHD_NO;
        buf_init(&rc->body, s->max_body);
        *con_cls = rc;
        return MHD_YES;
    }
    if (*upload_size) {
        int r = rc->too_large ? 0 : buf_put(&rc->body, upload, *upload_size);
        if (r == -ENOMEM)
            return MHD_NO;
        if (r == -ENOSPC)
            rc->too_large = true;
        *upload_size = 0;
        return MHD_YES;
    }
    struct http_request req = {
        .method = method,
        .url = url,
        .body = rc->body.data && !rc->too_large ? rc->body.data : "",
        .body_len = rc->too_large ? 0 : rc->body.len,
        .body_too_large = rc->too_large,
        .https = s->cert != NULL,
        .conn = c,
    };
    client_addr(c, req.addr, sizeof(req.addr));
    struct http_response resp = {.status = MHD_HTTP_INTERNAL_SERVER_ERROR, .fd = -1};
    s->handler(s->ctx, &req, &resp);
    complete_error(&resp);
    return send_response(c, &resp);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    struct request_ctx *rc = *con_cls;
    if (rc) {
        buf_free(&rc->body);
        free(rc);
        *con_cls = NULL;
    }
}

/* libmicrohttpd's own messages: its format, its arguments. A client can make
 * it repeat one (each connection refused over a limit logs one), so they are
 * rate-limited; they come from any of its threads, hence the lock. */
static void mhd_log(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

static pthread_mutex_t mhd_log_lock = PTHREAD_MUTEX_INITIALIZER;
static struct log_ratelimit mhd_log_rl = LOG_RATELIMIT_INIT(60000, 20);

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    pthread_mutex_lock(&mhd_log_lock);
    bool ok = log_ratelimit_ok(&mhd_log_rl, "http server messages");
    pthread_mutex_unlock(&mhd_log_lock);
    if (!ok)
        return;
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
    char *buf = calloc(1, PEM_MAX_BYTES + 1);
    size_t n = buf ? fread(buf, 1, PEM_MAX_BYTES, f) : 0;
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
    free(s->cert);
    crypto_free_secret(s->key); /* the TLS private key */
    free(s);
}

int httpserver_start(const struct httpserver_options *o, httpserver_handler handler, void *ctx,
                     struct httpserver **out)
{
    struct httpserver *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->handler = handler;
    s->ctx = ctx;
    s->max_body = o->max_body;

    /* listen = "host:port"; host may be a name, an IPv4 or a [IPv6] address. */
    char host[256];
    const char *colon = strrchr(o->listen, ':');
    if (!colon) {
        log_err("http: listen address %s has no port", o->listen);
        httpserver_stop(s);
        return -EINVAL;
    }
    snprintf(host, sizeof(host), "%.*s", (int)(colon - o->listen), o->listen);
    if (host[0] == '[') {
        memmove(host, host + 1, strlen(host));
        char *rb = strchr(host, ']');
        if (rb)
            *rb = '\0';
    }
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV}, *ai = NULL;
    int gai = getaddrinfo(host, colon + 1, &hints, &ai);
    if (gai != 0) {
        log_err("http: cannot resolve listen address %s: %s", o->listen, gai_strerror(gai));
        httpserver_stop(s);
        return -EINVAL;
    }
    unsigned flags =
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
    if (ai->ai_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    if (o->cert_file && o->key_file) {
        s->cert = read_pem(o->cert_file);
        s->key = read_pem(o->key_file);
        if (!s->cert || !s->key) {
            log_err("http: cannot read %s or %s", o->cert_file, o->key_file);
            freeaddrinfo(ai);
            httpserver_stop(s);
            return -EINVAL;
        }
        flags |= MHD_USE_TLS;
    }
    s->mhd = MHD_start_daemon(flags, 0, NULL, NULL, handle, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_log,
                              s, MHD_OPTION_SOCK_ADDR, ai->ai_addr, MHD_OPTION_NOTIFY_COMPLETED,
                              completed, s, MHD_OPTION_CONNECTION_LIMIT, MAX_CONNECTIONS,
                              MHD_OPTION_PER_IP_CONNECTION_LIMIT, o->max_connections_per_address,
                              MHD_OPTION_CONNECTION_TIMEOUT, 30u,
                              s->cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, s->cert,
                              MHD_OPTION_HTTPS_MEM_KEY, s->key, MHD_OPTION_END);
    freeaddrinfo(ai);
    if (!s->mhd) {
        log_err("http: cannot listen on %s", o->listen);
        httpserver_stop(s);
        return -EADDRINUSE;
    }
    *out = s;
    return 0;
}
