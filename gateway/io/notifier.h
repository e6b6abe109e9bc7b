/* Notification routes: a thread that sends alert transitions to webhooks
 * (JSON POST with an optional body template, for WeCom/DingTalk/Slack-style
 * robots) and e-mail (SMTP through libcurl, STARTTLS and auth). Failures are
 * retried with backoff and counted; nothing here ever blocks the core: the
 * core hands over a copy and goes on.
 *
 * Every notification ends in exactly one of the counters MET_NOTIFY_SENT,
 * MET_NOTIFY_FAILED (refused for good, retries used up, not sent before
 * notifier_stop's drain time, or its request could not be built) and
 * MET_NOTIFY_DROPPED (the queue was full); MET_NOTIFY_RETRIES counts the
 * attempts after the first. */
#ifndef HALLGW_NOTIFIER_H
#define HALLGW_NOTIFIER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alert.h"
#include "config.h"

struct notifier;

/* Copies the routes of cfg (cfg may be freed afterwards) and starts the
 * thread, which has its own http_client: call http_global_init() first.
 * Returns 0 and *out, or a negative errno. */
int notifier_start(const struct config *cfg, struct notifier **out);

/* Stops the thread, giving pending sends up to drain_ms; what is still
 * unsent then counts as failed. Frees n; NULL does nothing. */
void notifier_stop(struct notifier *n, int64_t drain_ms);

/* Queues a transition of a for every route whose severity, kind and hall
 * match (route == NULL), or for the named route only (escalation). Never
 * blocks: when the queue is full the notification is dropped and counted.
 * Only AT_FIRING, AT_ACKNOWLEDGED and AT_RESOLVED are announced; other
 * transitions are ignored. The request (body or whole e-mail) is built here,
 * on the caller's thread, from a; nothing points into a afterwards. Call
 * from one thread (the core). */
void notifier_send(struct notifier *n, const struct alert *a, enum alert_transition t,
                   const char *gateway_id, const char *route);

/* True when route r matches alert a: the alert's severity bit is in
 * r->severities, its kind bit in r->kinds, and its hall is one of r->halls
 * (r->halls == NULL: any hall). */
bool notifier_route_matches(const struct config_notify *r, const struct alert *a);

/* Sends one test notification (a made-up firing alert, "test:hallgw") on
 * the route named route of cfg, once, now, without retries, and writes what
 * the far end answered into answer (one line): "HTTP 200: {...}", or why it
 * failed. Returns 0 when sent, -ENOENT for no such route, -EIO when the far
 * end refused or could not be reached, or another negative errno.
 * http_global_init() must have been called. (hallgw notify test) */
int notifier_test(const struct config *cfg, const char *route, char *answer, size_t size);

/* ---- one route, outside the notifier's thread ------------------------------ */

/* A route with its own copy of the config, HTTP client and WeCom token, for
 * a thread that sends something other than alerts (the daily record, see
 * delivery.h) and retries as it pleases. One thread at a time. */
struct notify_sender;

enum notify_outcome { NOTIFY_SENT, NOTIFY_FINAL, NOTIFY_RETRY };

/* The wait before retry number retry (1, 2, ...): the notifier's backoff,
 * 1 s doubling up to 60 s. */
int64_t notifier_backoff_ms(int retry);

/* Copies route c; a request under way is abandoned at *abort_at (mono ms,
 * 0: not yet; NULL: only at its timeout). Returns 0, -ENOMEM, or -EINVAL
 * for a route that lacks what its type needs. http_global_init() must have been called. */
int notify_sender_new(const struct config_notify *c, const _Atomic int64_t *abort_at,
                      struct notify_sender **out);
void notify_sender_free(struct notify_sender *s); /* NULL does nothing */

const struct config_notify *notify_sender_route(const struct notify_sender *s);
struct http_client *notify_sender_http(struct notify_sender *s);

/* One attempt, now: on a webhook route data is the request body (signed for
 * DingTalk and Feishu, the robots' answers checked as for alerts); on a
 * WeCom route it is the message's content. Not for e-mail routes (FINAL).
 * reason gets the far end's answer or why it failed, on one line. */
enum notify_outcome notify_sender_post(struct notify_sender *s, const char *data, size_t len,
                                       char *reason, size_t size);

#endif
