#include "httpclient.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

char *http_url_escape(struct http_client *c, const char *s)
{
    char *e = curl_easy_escape(c->curl, s, 0);
    if (!e)
        return NULL;
    char *out = strdup(e);
    curl_free(e);
    return out;
}
