/* Private to the report's data (report_data.c, report_query.c): the state of
 * one gathering of the daily inspection record. Nothing else may include this
 * header.
 *
 * It is a header of its own, and not part of report_query.h, because it is
 * the gathering's state, not the query client's contract: the client in
 * report_query.c keeps its connection and the last failure here and hands
 * the whole struct to the row callbacks of report_paged(), which add to the
 * report; the report, its day and its arrays' capacities belong to
 * report_data.c alone. */
#ifndef HALLGW_REPORT_GATHER_H
#define HALLGW_REPORT_GATHER_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "report.h"

struct http_client;

struct gather {
    const struct config *cfg;
    struct report *r;
    double d0, until; /* the day's start and the report's end */
    /* InfluxDB */
    struct http_client *http;
    char *base_url; /* .../query?db=...&epoch=ms&q= */
    char *userpwd;
    char auth_header[600];
    bool influx_down;
    char influx_why[REPORT_TEXT_MAX];
    char qerr[REPORT_TEXT_MAX]; /* the last query's failure */
    /* array capacities, and PUSH's scratch */
    void *grown;
    size_t cap_windows, cap_incidents, cap_env, cap_faults, cap_eq_alerts, cap_poweroffs, cap_pcs,
        cap_events;
};

#endif
