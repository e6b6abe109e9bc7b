/* Private to the report's gathering (report_gather.c, report_query.c): a small
 * InfluxQL client for the report's questions, over /query of the HTTP
 * client. Nothing else may include this header.
 *
 * The HTTP client keeps only the first HTTP_BODY_KEEP bytes of an answer, so
 * every question must be one whose answer is a few numbers, and lists are
 * read in pages (LIMIT/OFFSET), the page halved whenever an answer does not
 * fit. The client's state (connection, whether InfluxDB is down and why, the
 * last query's failure) lives in struct gather (report_gather.h). */
#ifndef HALLGW_REPORT_QUERY_H
#define HALLGW_REPORT_QUERY_H

#include <stdbool.h>
#include <stddef.h>

#include "json.h"

#define REPORT_STMT_MAX 4096 /* the longest statement report_paged() takes */

struct gather;

/* s as an InfluxQL string literal ('...', q '\'') or identifier ("...", q
 * '"') in buf, cut when too long. */
void report_ql_quote(char *buf, size_t size, const char *s, char q);
/* A time literal in milliseconds. */
long long report_ql_ms(double t);

/* Prepares g's client from g->cfg->influx: the /query URL and credentials.
 * Returns 0 or a negative errno; report_influx_close() frees in either
 * case. */
int report_influx_open(struct gather *g);
/* Frees what report_influx_open() made (also after a failed or no open). */
void report_influx_close(struct gather *g);

/* Runs stmt (statements separated by ';'). Returns 0 with *t filled (free
 * it); -EIO when InfluxDB can not be reached or refuses (g->influx_down is
 * set: nothing more is asked), -E2BIG when the answer does not fit what the
 * HTTP client keeps, -EPROTO when a statement failed or the answer is not
 * one. g->qerr says what happened. */
int report_iq(struct gather *g, const char *stmt, struct json_table *t);
/* The number in column col of the first row of statement k's first series. */
bool report_num_of(const struct json_table *t, size_t k, const char *col, double *out);

/* One row of a page; s is NULL for a row too long to read. */
typedef int (*report_row_fn)(struct gather *g, const struct json_series *s, size_t row, void *arg);

/* Runs stmt (one statement without LIMIT, at most REPORT_STMT_MAX bytes)
 * page by page, calling fn for each row, oldest first. A page whose answer
 * does not fit is asked again with half as many rows; a single row that does
 * not fit is passed as NULL. Returns 0, the first negative return of fn, or
 * report_iq()'s failure. */
int report_paged(struct gather *g, const char *stmt, size_t page, report_row_fn fn, void *arg);

#endif
