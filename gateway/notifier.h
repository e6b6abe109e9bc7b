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

#define NOTIFIER_BODY_MAX 65536 /* bytes of an expanded template (the NUL not counted) */

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

/* Expands a body template: {{name}} is replaced by the alert's field of that
 * name (id, rule, subject, hall, device, window, kind, severity, state,
 * transition, summary, value, by, note, at, gateway), escaped for JSON
 * string context ({{raw:name}} unescaped); {{json}} is the whole alert JSON
 * (alert_to_json plus "transition"), as an object. Unknown names expand to
 * "". Spaces around a name are ignored ({{ severity }}). A "{{" without a
 * closing "}}" is copied as it is. In JSON context, bytes that are not UTF-8
 * become U+FFFD. `at` is the time the alert entered its state, RFC 3339 in
 * the local zone ("2026-10-01T09:30:00+08:00"); `value` is empty when the
 * alert has none. Returns a malloc'd string, or NULL with errno EMSGSIZE when
 * the result would pass NOTIFIER_BODY_MAX bytes, ENOMEM when out of memory. */
char *notifier_expand(const char *tmpl, const struct alert *a, enum alert_transition t,
                      const char *gateway_id);

/* Builds the e-mail for a transition of a on route r (an e-mail route): an
 * RFC 5322 message with CRLF line ends — From (r->from as written), To
 * (r->to), Subject "[hallgw] <severity> <state>: <rule> <subject>" (RFC 2047
 * base64 encoded words when it is not plain ASCII), Date (now_s, local zone),
 * Message-ID (unique per now_s and seq), MIME-Version, Content-Type
 * text/plain; charset=utf-8, Content-Transfer-Encoding 8bit, Auto-Submitted,
 * X-Hallgw-Alert (the alert id) — and a body of one "Name: value" line per
 * alert field that is set. Header values never carry CR or LF from the
 * alert. Dot-stuffing is left to libcurl. Returns a malloc'd message and its
 * length in *len, or NULL when out of memory. */
char *notifier_build_email(const struct config_notify *r, const struct alert *a,
                           enum alert_transition t, const char *gateway_id, int64_t now_s,
                           uint64_t seq, size_t *len);

#endif
