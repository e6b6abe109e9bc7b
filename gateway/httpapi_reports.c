/* The daily record over HTTP: GET /api/v1/reports/daily?date=&hall=&format=,
 * made as hallgw report makes it, from the configuration file as it is now
 * (read again for each request), the alert history and InfluxDB. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "config.h"
#include "httpapi_internal.h"
#include "log.h"
#include "report.h"

static const char *const types[] = {
    [REPORT_MD] = "text/markdown; charset=utf-8",
    [REPORT_HTML] = "text/html; charset=utf-8",
    [REPORT_CSV] = "text/csv; charset=utf-8",
};
static const char *const exts[] = {
    [REPORT_MD] = "md", [REPORT_HTML] = "html", [REPORT_CSV] = "csv"};

int httpapi_report_open(const struct httpapi *h, const struct http_request *req,
                        struct http_response *r, int *format, struct config **cfg)
{
    const char *fmt = http_request_arg(req, "format");
    *format = report_format_parse(fmt ? fmt : "html");
    if (*format < 0) {
        httpapi_reply_error(r, 400, "format is html, csv or md");
        return -1;
    }
    *cfg = NULL;
    struct conf_errors errs = {0};
    if (!h->config_path || config_load(h->config_path, cfg, &errs) < 0) {
        conf_errors_free(&errs);
        httpapi_reply_error(r, 503, "the configuration cannot be read now");
        return -1;
    }
    return 0;
}

void httpapi_report_send(struct http_response *r, int format, const char *name, const char *hall,
                         char *body, size_t len, int rendered, const char *failure)
{
    if (rendered < 0 || !body) {
        free(body);
        httpapi_reply_error(r, 500, failure);
        return;
    }
    char disposition[160];
    snprintf(disposition, sizeof(disposition), "inline; filename=\"hallgw-%s%s%.64s.%s\"", name,
             hall ? "-" : "", hall ? hall : "", exts[format]);
    http_response_header(r, "Content-Disposition", disposition);
    http_response_take(r, 200, types[format], body, len);
}

void httpapi_serve_daily_report(const struct httpapi *h, const struct http_request *req,
                                struct http_response *r)
{
    const char *date = http_request_arg(req, "date");
    const char *hall = http_request_arg(req, "hall");
    int f;
    struct config *cfg;
    if (httpapi_report_open(h, req, r, &f, &cfg) < 0)
        return;
    wall_s now = clock_wall();
    int32_t day;
    if (report_parse_day(date ? date : "today", now, &day) < 0 || day > report_local_day(now)) {
        config_free(cfg);
        httpapi_reply_error(r, 400, "date is YYYY-MM-DD (not in the future), today or yesterday");
        return;
    }
    if (hall && !config_find_hall(cfg, hall)) {
        config_free(cfg);
        httpapi_reply_error(r, 404, "no such hall");
        return;
    }
    struct report rep;
    int g = report_gather(cfg, hall, day, now, &rep);
    char *body = NULL;
    size_t len = 0;
    FILE *out = g == -ENOMEM ? NULL : open_memstream(&body, &len);
    int w = out ? report_render(&rep, (enum report_format)f, out) : -ENOMEM;
    if (out)
        fclose(out);
    httpapi_report_send(r, f, rep.date[0] ? rep.date : "record", hall, body, len, w,
                        "the record cannot be made");
    report_free(&rep);
    config_free(cfg);
}
