/* The daily record sent by itself (reports.daily): at the configured time
 * the core asks for the day's record (delivery_tick); a thread of its own
 * ("hallgw-report") reads the configuration file again, claims the day for
 * each route in the state store, makes the record as `hallgw report` does
 * (report_gather, report_render) and sends it: an e-mail route gets the HTML
 * record as the body (with the summary as a plain-text alternative) and the
 * CSV as an attachment; a webhook, chat robot or WeCom route gets a short
 * Markdown summary with a link to the record on the page. A failed sending
 * is retried as the notifier retries (the route's retries, backoff from 1 s
 * doubling to 60 s), and every outcome is kept in the store
 * (store_delivery_*): a day's record goes to a route once, across restarts,
 * reloads and gateways sharing the store. */
#ifndef HALLGW_DELIVERY_H
#define HALLGW_DELIVERY_H

#include <stdbool.h>
#include <stdint.h>

#include "clock.h"
#include "config.h"

struct delivery;

/* Starts the thread, which reads config_path for each day's record.
 * gateway_id names this sender in the store's claims. http_global_init()
 * must have been called. Returns 0 or a negative errno. */
int delivery_start(const char *config_path, const char *gateway_id, struct delivery **out);

/* Stops the thread: no new attempt is made, an e-mail under way is
 * abandoned after drain_ms (a webhook request at its route's timeout), and
 * the claim of a record not yet sent is released, so that the next start
 * sends it. NULL does nothing. */
void delivery_stop(struct delivery *d, int64_t drain_ms);

/* From the core, every second: when today's record is due under cfg (and
 * was not yet asked for by this process), asks the thread for it. A record
 * due while the gateway was down is asked for at the first tick, if its day
 * is still today; one held by another sender is asked for again when that
 * sender's lease runs out. */
void delivery_tick(struct delivery *d, const struct config *cfg, wall_s now);

/* The core's decision: ask for today's record when it was not asked for
 * yet (asked_day), or again at retry_at (wall time; 0: never), set when a
 * route's claim was held by another sender until then: a sender killed
 * outright is taken over after its lease. */
bool delivery_ask_again(int32_t asked_day, wall_s retry_at, int32_t today, wall_s now);

#endif
