/* The periodic assessment over HTTP: GET
 * /api/v1/reports/period?period=week|month&date=&hall=&format=, made as
 * hallgw report --period makes it, from the configuration file as it is now
 * (read again for each request), the alert history and InfluxDB. The same
 * access as the daily record. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "config.h"
#include "httpapi_internal.h"
#include "report.h"
#include "report_period.h"

/* One assessment made at a time in the process: each reads up to a month
 * from InfluxDB on three threads for up to a minute. */
static pthread_mutex_t gathering = PTHREAD_MUTEX_INITIALIZER;

void httpapi_serve_period_report(const struct httpapi *h, const struct http_request *req,
                                 struct http_response *r)
{
    const char *kind_s = http_request_arg(req, "period");
    const char *date = http_request_arg(req, "date");
    const char *hall = http_request_arg(req, "hall");
    int kind = report_period_kind_parse(kind_s ? kind_s : "month");
    if (kind < 0) {
        httpapi_reply_error(r, 400, "period is week or month");
        return;
    }
    int f;
    struct config *cfg;
    if (httpapi_report_open(h, req, r, &f, &cfg) < 0)
        return;
    wall_s now = clock_wall();
    int32_t day, first, n;
    if (date && *date) {
        if (report_parse_day(date, now, &day) < 0 || day > report_local_day(now)) {
            config_free(cfg);
            httpapi_reply_error(r, 400,
                                "date is YYYY-MM-DD (not in the future), today or yesterday");
            return;
        }
    } else { /* the last complete period */
        report_period_bounds((enum period_kind)kind, report_local_day(now), &first, &n);
        day = first - 1;
    }
    if (hall && !config_find_hall(cfg, hall)) {
        config_free(cfg);
        httpapi_reply_error(r, 404, "no such hall");
        return;
    }
    if (pthread_mutex_trylock(&gathering) != 0) {
        config_free(cfg);
        httpapi_reply_error(r, 503, "another assessment is being made: try again shortly");
        http_response_header(r, "Retry-After", "30");
        return;
    }
    struct period p;
    int g = report_period_gather(cfg, hall, (enum period_kind)kind, day, now, &p);
    pthread_mutex_unlock(&gathering);
    char *body = NULL;
    size_t len = 0;
    FILE *out = g == -ENOMEM ? NULL : open_memstream(&body, &len);
    int w = out ? report_period_render(&p, (enum report_format)f, out) : -ENOMEM;
    if (out)
        fclose(out);
    httpapi_report_send(r, f, p.label[0] ? p.label : "assessment", hall, body, len, w,
                        "the assessment cannot be made");
    report_period_free(&p);
    config_free(cfg);
}
