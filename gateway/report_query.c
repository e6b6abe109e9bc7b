/* The report's InfluxQL client: questions to /query through the HTTP client,
 * answers read into a json_table, lists read in pages. */
#include "report_query.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "crypto.h"
#include "httpclient.h"
#include "report_gather.h"

#define PAGES_MAX 600

void report_ql_quote(char *buf, size_t size, const char *s, char q)
{
    size_t o = 0;
    if (size < 3) {
        buf[0] = '\0';
        return;
    }
    buf[o++] = q;
    for (; *s && o + 3 < size; s++) {
        if (*s == q || *s == '\\')
            buf[o++] = '\\';
        buf[o++] = *s;
    }
    buf[o++] = q;
    buf[o] = '\0';
}

long long report_ql_ms(double t)
{
    return llround(t * 1000.0);
}

int report_influx_open(struct gather *g)
{
    const struct config_influx *ic = &g->cfg->influx;
    int r = http_client_new(&g->http);
    if (r < 0)
        return r;
    size_t bl = strlen(ic->url);
    while (bl > 0 && ic->url[bl - 1] == '/')
        bl--;
    const char *db = ic->api == INFLUX_V2 ? ic->bucket : ic->database;
    char *edb = http_url_escape(g->http, db ? db : "");
    char *erp = ic->api == INFLUX_V1 && ic->retention_policy
                    ? http_url_escape(g->http, ic->retention_policy)
                    : NULL;
    size_t need = bl + (edb ? strlen(edb) : 0) + (erp ? strlen(erp) : 0) + 64;
    g->base_url = malloc(need);
    if (!edb || !g->base_url) {
        free(edb);
        free(erp);
        return -ENOMEM;
    }
    snprintf(g->base_url, need, "%.*s/query?db=%s%s%s&epoch=ms&q=", (int)bl, ic->url, edb,
             erp ? "&rp=" : "", erp ? erp : "");
    free(edb);
    free(erp);
    if (ic->api == INFLUX_V2 && ic->token) {
        snprintf(g->auth_header, sizeof(g->auth_header), "Authorization: Token %s", ic->token);
    } else if (ic->username) {
        size_t n = strlen(ic->username) + (ic->password ? strlen(ic->password) : 0) + 2;
        if (!(g->userpwd = malloc(n)))
            return -ENOMEM;
        snprintf(g->userpwd, n, "%s:%s", ic->username, ic->password ? ic->password : "");
    }
    return 0;
}

void report_influx_close(struct gather *g)
{
    http_client_free(g->http);
    free(g->base_url);
    crypto_free_secret(g->userpwd);
    crypto_wipe(g->auth_header, sizeof(g->auth_header));
}

int report_iq(struct gather *g, const char *stmt, struct json_table *t)
{
    memset(t, 0, sizeof(*t));
    if (g->influx_down) {
        snprintf(g->qerr, sizeof(g->qerr), "%s", g->influx_why);
        return -EIO;
    }
    char *q = http_url_escape(g->http, stmt);
    if (!q)
        return -ENOMEM;
    size_t n = strlen(g->base_url) + strlen(q) + 1;
    char *url = malloc(n);
    if (!url) {
        free(q);
        return -ENOMEM;
    }
    snprintf(url, n, "%s%s", g->base_url, q);
    free(q);
    const char *hdrs[1] = {g->auth_header};
    struct http_request req = {.method = "GET",
                               .url = url,
                               .headers = hdrs,
                               .n_headers = g->auth_header[0] ? 1 : 0,
                               .userpwd = g->userpwd,
                               .timeout_ms = g->cfg->influx.timeout_ms};
    struct http_response *resp = malloc(sizeof(*resp));
    int rc = -ENOMEM;
    if (!resp)
        goto out_free_url;
    if (http_client_do(g->http, &req, resp) < 0) {
        snprintf(g->influx_why, sizeof(g->influx_why), "cannot reach InfluxDB at %.100s: %.120s",
                 g->cfg->influx.url, resp->error);
        goto out_down;
    }
    if (resp->status != 200 && resp->status != 400) {
        snprintf(g->influx_why, sizeof(g->influx_why),
                 "InfluxDB at %.100s answered HTTP %ld: %.100s", g->cfg->influx.url, resp->status,
                 resp->body);
        goto out_down;
    }
    if (resp->body_len >= HTTP_BODY_KEEP) {
        snprintf(g->qerr, sizeof(g->qerr), "an answer of InfluxDB is longer than %d bytes",
                 HTTP_BODY_KEEP);
        rc = -E2BIG;
        goto out_free_resp;
    }
    rc = json_influx_table(resp->body, resp->body_len, t);
    if (rc < 0) {
        snprintf(g->qerr, sizeof(g->qerr), "InfluxDB's answer is not understood (%s): %.80s",
                 strerror(-rc), resp->body);
        rc = -EPROTO;
        goto out_free_resp;
    }
    if (t->error) {
        snprintf(g->qerr, sizeof(g->qerr), "InfluxDB: %.200s", t->error);
        json_table_free(t);
        rc = -EPROTO;
        goto out_free_resp;
    }
    rc = 0;
    goto out_free_resp;

out_down:
    g->influx_down = true;
    snprintf(g->qerr, sizeof(g->qerr), "%s", g->influx_why);
    rc = -EIO;
out_free_resp:
    free(resp);
out_free_url:
    free(url);
    return rc;
}

bool report_num_of(const struct json_table *t, size_t k, const char *col, double *out)
{
    const struct json_series *s = json_table_find(t, k);
    const struct json_cell *c = s ? json_series_cell(s, 0, col) : NULL;
    if (!c || c->type != JSON_T_NUMBER)
        return false;
    *out = c->num;
    return true;
}

int report_paged(struct gather *g, const char *stmt, size_t page, report_row_fn fn, void *arg)
{
    char *q = malloc(REPORT_STMT_MAX + 64);
    if (!q)
        return -ENOMEM;
    size_t offset = 0;
    int rc = 0;
    for (int i = 0; i < PAGES_MAX; i++) {
        snprintf(q, REPORT_STMT_MAX + 64, "%s LIMIT %zu OFFSET %zu", stmt, page, offset);
        struct json_table t;
        rc = report_iq(g, q, &t);
        if (rc == -E2BIG && page > 1) {
            page /= 2;
            continue;
        }
        if (rc == -E2BIG) {
            rc = fn(g, NULL, 0, arg);
            offset++;
            if (rc < 0)
                break;
            continue;
        }
        if (rc < 0)
            break;
        const struct json_series *s = json_table_find(&t, 0);
        size_t n = s ? s->n_rows : 0;
        for (size_t k = 0; k < n && rc == 0; k++)
            rc = fn(g, s, k, arg);
        json_table_free(&t);
        if (rc < 0 || n < page)
            break;
        offset += n;
    }
    free(q);
    return rc;
}
