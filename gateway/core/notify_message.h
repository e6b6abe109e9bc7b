/* The messages of the notification routes (pure): webhook bodies from
 * templates, and e-mails. */
#ifndef HALLGW_NOTIFY_MESSAGE_H
#define HALLGW_NOTIFY_MESSAGE_H

#include <stddef.h>
#include <stdint.h>

#include "alert.h"
#include "buf.h"
#include "config.h"

#define NOTIFY_MESSAGE_BODY_MAX 65536 /* bytes of an expanded template (the NUL not counted) */

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
 * the result would pass NOTIFY_MESSAGE_BODY_MAX bytes, ENOMEM when out of memory. */
char *notify_message_expand(const char *tmpl, const struct alert *a, enum alert_transition t,
                            const char *gateway_id);

/* Builds the e-mail for a transition of a on route r (an e-mail route): an
 * RFC 5322 message with CRLF line ends — From (r->from as written), To
 * (r->to), Subject "[hallgw] <severity> <state>: <rule> <subject>" (RFC 2047
 * base64 encoded words when it is not plain ASCII), Date (now, local zone),
 * Message-ID (unique per whole second of now and seq), MIME-Version, Content-Type
 * text/plain; charset=utf-8, Content-Transfer-Encoding 8bit, Auto-Submitted,
 * X-Hallgw-Alert (the alert id) — and a body of one "Name: value" line per
 * alert field that is set. Header values never carry CR or LF from the
 * alert. Dot-stuffing is left to libcurl. Returns a malloc'd message and its
 * length in *len, or NULL when out of memory. */
char *notify_message_email(const struct config_notify *r, const struct alert *a,
                           enum alert_transition t, const char *gateway_id, wall_s now,
                           uint64_t seq, size_t *len);

/* text as a header value: on one line (control characters dropped as in
 * the alert e-mails), as RFC 2047 base64 encoded words when it is not plain
 * ASCII, folded with CRLF + space between words. */
void notify_message_header_text(struct buf *b, const char *text);

/* The address in "Name <a@b>", or s itself, trimmed; malloc'd (NULL when out
 * of memory). For the SMTP envelope. */
char *notify_message_address(const char *s);

#endif
