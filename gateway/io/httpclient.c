#include "httpclient.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"

struct http_client {
    CURL *curl;
    char errbuf[CURL_ERROR_SIZE];
};

int http_global_init(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -EIO;
}

void http_global_cleanup(void)
{
    curl_global_cleanup();
}

int http_client_new(struct http_client **out)
{
    struct http_client *c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->curl = curl_easy_init();
    if (!c->curl) {
        free(c);
        return -ENOMEM;
    }
    *out = c;
    return 0;
}

void http_client_free(struct http_client *c)
{
    if (!c)
        return;
    curl_easy_cleanup(c->curl);
    free(c);
}

/* CURLOPT_XFERINFOFUNCTION: nonzero abandons the transfer. */
static int check_abort(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    const _Atomic int64_t *abort_at_ms = userdata;
    int64_t at = atomic_load(abort_at_ms);
    return at != 0 && clock_mono_ms() >= at;
}

static void set_abort(CURL *h, const _Atomic int64_t *abort_at_ms)
{
    if (!abort_at_ms)
        return;
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, check_abort);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, (void *)abort_at_ms);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
}

static size_t keep_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct http_response *resp = userdata;
    size_t n = size * nmemb;
    size_t room = HTTP_BODY_KEEP - resp->body_len;
    size_t take = n < room ? n : room;
    memcpy(resp->body + resp->body_len, ptr, take);
    resp->body_len += take;
    resp->body[resp->body_len] = '\0';
    return n;
}

int http_client_do(struct http_client *c, const struct http_request *req,
                   struct http_response *resp)
{
    CURL *h = c->curl;
    struct curl_slist *hdrs = NULL;
    int r = 0;

    memset(resp, 0, sizeof(*resp));
    curl_easy_reset(h);
    c->errbuf[0] = '\0';
    curl_easy_setopt(h, CURLOPT_URL, req->url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)req->timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                     (long)(req->timeout_ms < 5000 ? req->timeout_ms : 5000));
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, keep_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, resp);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "hallgw");
    set_abort(h, req->abort_at_ms);
    if (req->userpwd) {
        curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(h, CURLOPT_USERPWD, req->userpwd);
    }
    if (strcmp(req->method, "POST") == 0) {
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body ? req->body : "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
    } else if (strcmp(req->method, "GET") != 0) {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
    }
    /* No "Expect: 100-continue" round trip for large bodies. */
    hdrs = curl_slist_append(hdrs, "Expect:");
    for (size_t i = 0; i < req->n_headers; i++)
        hdrs = curl_slist_append(hdrs, req->headers[i]);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);

    CURLcode rc = curl_easy_perform(h);
    if (rc != CURLE_OK) {
        snprintf(resp->error, sizeof(resp->error), "%s",
                 c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc));
        r = -EIO;
        goto out_free_headers;
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);

out_free_headers:
    curl_slist_free_all(hdrs);
    return r;
}

struct upload {
    const char *data;
    size_t len, off;
};

static size_t read_upload(char *buf, size_t size, size_t nitems, void *userdata)
{
    struct upload *u = userdata;
    size_t room = size * nitems;
    size_t left = u->len - u->off;
    size_t take = left < room ? left : room;
    memcpy(buf, u->data + u->off, take);
    u->off += take;
    return take;
}

/* The envelope and connection of m on c's handle (reset first). */
static void smtp_setup(struct http_client *c, const struct smtp_message *m, struct curl_slist *rcpt)
{
    CURL *h = c->curl;
    curl_easy_reset(h);
    c->errbuf[0] = '\0';
    curl_easy_setopt(h, CURLOPT_URL, m->url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)m->timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                     (long)(m->timeout_ms < 5000 ? m->timeout_ms : 5000));
    set_abort(h, m->abort_at_ms);
    curl_easy_setopt(h, CURLOPT_MAIL_FROM, m->from);
    curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpt);
    if (m->username) {
        curl_easy_setopt(h, CURLOPT_USERNAME, m->username);
        curl_easy_setopt(h, CURLOPT_PASSWORD, m->password ? m->password : "");
    }
    if (m->require_tls)
        curl_easy_setopt(h, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
}

/* The recipients of m as a list, or NULL with resp->error set. */
static struct curl_slist *smtp_rcpt(const struct smtp_message *m, struct http_response *resp)
{
    struct curl_slist *rcpt = NULL;
    for (size_t i = 0; i < m->n_to; i++) {
        struct curl_slist *next = curl_slist_append(rcpt, m->to[i]);
        if (!next) {
            snprintf(resp->error, sizeof(resp->error), "out of memory");
            curl_slist_free_all(rcpt);
            return NULL;
        }
        rcpt = next;
    }
    return rcpt;
}

/* Performs the transfer set up on c; 0 or -EIO with resp set. */
static int smtp_perform(struct http_client *c, struct http_response *resp)
{
    CURLcode rc = curl_easy_perform(c->curl);
    /* The last SMTP reply, also on failure (e.g. 535 or 550). */
    curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &resp->status);
    if (rc == CURLE_OK)
        return 0;
    snprintf(resp->error, sizeof(resp->error), "%s",
             c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc));
    return -EIO;
}

int http_client_smtp(struct http_client *c, const struct smtp_message *m,
                     struct http_response *resp)
{
    CURL *h = c->curl;
    struct upload up = {m->data, m->len, 0};

    memset(resp, 0, sizeof(*resp));
    struct curl_slist *rcpt = smtp_rcpt(m, resp);
    if (!rcpt && m->n_to)
        return -ENOMEM;
    smtp_setup(c, m, rcpt);
    /* libcurl converts a lone "." line of the upload (dot-stuffing). */
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, read_upload);
    curl_easy_setopt(h, CURLOPT_READDATA, &up);
    curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)m->len);
    int r = smtp_perform(c, resp);
    curl_slist_free_all(rcpt);
    return r;
}

/* One leaf part: data, its type and transfer encoding, and a file name when
 * it is an attachment. NULL when out of memory. */
static curl_mimepart *mime_leaf(curl_mime *mime, const struct smtp_part *p, const char *encoder)
{
    curl_mimepart *part = curl_mime_addpart(mime);
    if (!part || curl_mime_data(part, p->data, p->len) != CURLE_OK ||
        curl_mime_type(part, p->type) != CURLE_OK || curl_mime_encoder(part, encoder) != CURLE_OK)
        return NULL;
    if (p->filename && curl_mime_filename(part, p->filename) != CURLE_OK)
        return NULL;
    return part;
}

int http_client_smtp_mime(struct http_client *c, const struct smtp_message *m,
                          const struct smtp_mime *body, struct http_response *resp)
{
    CURL *h = c->curl;
    curl_mime *mime = NULL, *alt = NULL;
    struct curl_slist *hdrs = NULL, *inline_hdr = NULL;
    int r = -ENOMEM;

    memset(resp, 0, sizeof(*resp));
    struct curl_slist *rcpt = smtp_rcpt(m, resp);
    if (!rcpt && m->n_to)
        return -ENOMEM;
    smtp_setup(c, m, rcpt);
    for (size_t i = 0; i < body->n_headers; i++) {
        struct curl_slist *next = curl_slist_append(hdrs, body->headers[i]);
        if (!next)
            goto out_free;
        hdrs = next;
    }
    /* multipart/mixed: the text (an alternative of plain text and HTML
     * when both are given), then the attachments. */
    if (!(mime = curl_mime_init(h)))
        goto out_free;
    if (body->n_alternatives > 1) {
        if (!(alt = curl_mime_init(h)))
            goto out_free;
        for (size_t i = 0; i < body->n_alternatives; i++)
            if (!mime_leaf(alt, &body->alternatives[i], "quoted-printable"))
                goto out_free;
        curl_mimepart *part = curl_mime_addpart(mime);
        if (!part || curl_mime_subparts(part, alt) != CURLE_OK)
            goto out_free;
        alt = NULL; /* the part owns it */
        if (curl_mime_type(part, "multipart/alternative") != CURLE_OK ||
            !(inline_hdr = curl_slist_append(NULL, "Content-Disposition: inline")) ||
            curl_mime_headers(part, inline_hdr, 1) != CURLE_OK)
            goto out_free;
        inline_hdr = NULL;
    } else if (body->n_alternatives == 1 &&
               !mime_leaf(mime, &body->alternatives[0], "quoted-printable")) {
        goto out_free;
    }
    for (size_t i = 0; i < body->n_attachments; i++)
        if (!mime_leaf(mime, &body->attachments[i], "base64"))
            goto out_free;
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_MIMEPOST, mime);
    r = smtp_perform(c, resp);
    if (r == -ENOMEM)
        r = -EIO;
    goto out_done;

out_free:
    snprintf(resp->error, sizeof(resp->error), "cannot build the message: out of memory");
out_done:
    /* The handle may still point at them until its next reset. */
    curl_easy_reset(h);
    curl_slist_free_all(inline_hdr);
    curl_mime_free(alt);
    curl_mime_free(mime);
    curl_slist_free_all(hdrs);
    curl_slist_free_all(rcpt);
    return r;
}

char *http_url_escape(struct http_client *c, const char *s)
{
    char *e = curl_easy_escape(c->curl, s, 0);
    if (!e)
        return NULL;
    char *out = strdup(e);
    curl_free(e);
    return out;
}
