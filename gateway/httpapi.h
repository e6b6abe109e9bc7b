/* The gateway's HTTP endpoints, served by io/httpserver.c: the live hall
 * page, the JSON API, /metrics (Prometheus) and /healthz.
 *
 *   GET  /, /<file>                  the page: built in, or from http.web_dir
 *   GET|POST|DELETE /api/v1/session  who is signed in; sign in {"name","password"}
 *                                    (a cookie); sign out
 *   GET  /api/v1/state               halls, windows, devices (core snapshot)
 *   GET  /api/v1/overview            every hall at a glance (overview.h)
 *   GET  /api/v1/alerts              active alerts; ?history=1 with date=YYYY-MM-DD
 *                                    or from=/to= (unix s), hall=, limit= (at most
 *                                    1000), offset= (X-Next-Offset: the next page)
 *   POST /api/v1/alerts/<id>/ack     {"note","resolve"}, ?hall=H       operator, it
 *   POST /api/v1/alerts/<id>/approve {"note"}: a baseline's new value  it
 *   GET  /api/v1/overrides           the power-off overrides in force; ?log=1 (with
 *                                    from=/to=, unix s) adds the log of adds,
 *                                    removes and expiries
 *   POST /api/v1/overrides           {"device","until","reason"}: until is unix s,
 *                                    "HH:MM" or "YYYY-MM-DDTHH:MM" (local time)
 *   DELETE /api/v1/overrides/<device>                                  operator, it
 *   GET  /api/v1/silences            silences in force now or later; from=, to=
 *   POST /api/v1/silences            {"hall","window","device","rule","severity",
 *                                    "ends"|"for","comment","maintenance"}   operator, it
 *   POST /api/v1/silences/<id>       {"ends"|"for"}: extends it          operator, it
 *   DELETE /api/v1/silences/<id>     expires it now                      operator, it
 *   GET  /api/v1/reports/daily       the daily record (巡查记录): date= (YYYY-MM-DD,
 *                                    today, yesterday), hall=, format=html|csv|md
 *   GET  /api/v1/devices/unbound     devices on the broker no device's source names
 *                                    (unbound_feed.h), to bind by a config edit
 *   GET  /api/v1/audit               the audit log; from=, to=, limit=  admin
 *   GET  /metrics, /healthz
 *
 * Who asks is an account (auth.h): a bearer token or a session cookie; the
 * role decides what it may change (roles.h), and the name recorded is the
 * account's. A change through a session also needs its X-CSRF-Token. Reads
 * need an account unless http.open_reads (the default on loopback only);
 * /healthz and the page's files are always open. A Host that is neither an
 * IP literal, localhost nor one of http.hosts is refused (DNS rebinding).
 * Errors are JSON {"error": "..."} with a fitting status. The state and the
 * alerts come from the core through api.c; the history, the overrides, the
 * accounts and the audit log are read from the store on the one connection
 * auth.c keeps. */
#ifndef HALLGW_HTTPAPI_H
#define HALLGW_HTTPAPI_H

#include <stdbool.h>
#include <stddef.h>

#include "api.h"
#include "config.h"

struct httpapi;

/* Copies what it needs from cfg and starts serving. Returns 0 or a negative
 * errno (logged). */
int httpapi_start(const struct config *cfg, struct api *api, struct httpapi **out);
void httpapi_stop(struct httpapi *h); /* NULL does nothing */

/* The pure parts of POST /api/v1/alerts/<id>/ack, as the server uses them
 * (exposed for tests/fuzz/fuzz_http_ack.c).
 * httpapi_ack_path: true when url (URL-decoded) is /api/v1/alerts/<id>/ack
 * with an <id> without '/' shorter than size bytes, copied NUL-terminated
 * into id.
 * httpapi_ack_body: reads a body of len bytes, a JSON object of at most
 * max_body bytes, depth 2 and 16 leaves, into req->by ("by": 1-64 bytes,
 * optional; the server records the account instead), req->note ("note":
 * under 256 bytes, optional) and req->resolve ("resolve": a bool,
 * optional); nothing else of req is touched. by and note must be plain text
 * (utf8_plain_text(): no control characters, no bidirectional controls,
 * valid UTF-8, no \u0000). Returns 0, -EBADMSG when the body is not such a
 * JSON object, -EINVAL when its members are not as above. */
bool httpapi_ack_path(const char *url, char *id, size_t size);
int httpapi_ack_body(const char *body, size_t len, size_t max_body, struct api_request *req);

#endif
