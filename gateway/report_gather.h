/* Private to the report's gathering (report_gather.c, report_query.c): the
 * state of one gathering of the daily inspection record. Nothing else may
 * include this header.
 *
 * It is a header of its own, and not part of report_query.h, because it is
 * the gathering's state, not the query client's contract: the client in
 * report_query.c keeps its connection and the last failure here and hands
 * the whole struct to the row callbacks of report_paged(), which add to the
 * report through the functions of core/report_data.c. */
#ifndef HALLGW_REPORT_GATHER_H
#define HALLGW_REPORT_GATHER_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "report.h"

struct http_client;

struct gather {
    const struct config *cfg;
    struct report *r; /* its day_start and until bound every question */
    /* InfluxDB */
    struct http_client *http;
    char *base_url; /* .../query?db=...&epoch=ms&q= */
    char *userpwd;
    char auth_header[600];
    bool influx_down;
    char influx_why[REPORT_TEXT_MAX];
    char qerr[REPORT_TEXT_MAX]; /* the last query's failure */
};

#endif
