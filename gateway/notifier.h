/* Notification routes: a thread that sends alert transitions to webhooks
 * (JSON POST with an optional body template, for WeCom/DingTalk/Slack-style
 * robots) and e-mail (SMTP through libcurl, STARTTLS and auth). Failures are
 * retried with backoff and counted; nothing here ever blocks the core: the
 * core hands over a copy and goes on. */
#ifndef HALLGW_NOTIFIER_H
#define HALLGW_NOTIFIER_H

#include <stddef.h>

#include "alert.h"
#include "config.h"

struct notifier;

/* Copies the routes of cfg and starts the thread. */
int notifier_start(const struct config *cfg, struct notifier **out);

/* Stops the thread, giving pending sends up to drain_ms; frees n. */
void notifier_stop(struct notifier *n, int64_t drain_ms);

/* Queues a transition of a for every route whose severity, kind and hall
 * match (route == NULL), or for the named route only (escalation). Never
 * blocks: when the queue is full the notification is dropped and counted. */
void notifier_send(struct notifier *n, const struct alert *a, enum alert_transition t,
                   const char *gateway_id, const char *route);

/* True when route r matches alert a. */
bool notifier_route_matches(const struct config_notify *r, const struct alert *a);

/* Expands a body template: {{name}} is replaced by the alert's field of that
 * name (id, rule, subject, hall, device, window, kind, severity, state,
 * transition, summary, value, by, note, at, gateway), escaped for JSON
 * string context ({{raw:name}} unescaped); {{json}} is the whole alert JSON.
 * Unknown names expand to "". Returns a malloc'd string or NULL. */
char *notifier_expand(const char *tmpl, const struct alert *a, enum alert_transition t,
                      const char *gateway_id);

#endif
