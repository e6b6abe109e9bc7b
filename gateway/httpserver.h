/* The HTTP server (libmicrohttpd is included here only): the live hall page
 * and its files, the JSON API, /metrics (Prometheus) and /healthz.
 *
 *   GET  /, /<file>                  the page, from http.web_dir
 *   GET  /api/v1/state               halls, windows, devices (core snapshot)
 *   GET  /api/v1/alerts              active alerts; ?history=1 with date=YYYY-MM-DD
 *                                    or from=/to= (unix s), hall=, limit=
 *   POST /api/v1/alerts/<id>/ack     {"by","note","resolve"}, ?hall=H
 *   GET  /metrics, /healthz
 *
 * Changes need "Authorization: Bearer <http.token_file>"; reads too unless
 * http.open_reads. Errors are JSON {"error": "..."} with a fitting status. */
#ifndef HALLGW_HTTPSERVER_H
#define HALLGW_HTTPSERVER_H

#include "api.h"
#include "config.h"

struct httpserver;

/* Copies what it needs from cfg and starts listening. Returns 0 or a
 * negative errno (logged). */
int httpserver_start(const struct config *cfg, struct api *api, struct httpserver **out);
void httpserver_stop(struct httpserver *s); /* NULL does nothing */

#endif
