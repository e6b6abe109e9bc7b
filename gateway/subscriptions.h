/* The MQTT topic filters a config needs: the native topics under the prefix
 * (telemetry, status, event, cmd/reply, alert acks) and each bound foreign
 * device's own topics (Zigbee2MQTT, Tasmota, Shelly). */
#ifndef HALLGW_SUBSCRIPTIONS_H
#define HALLGW_SUBSCRIPTIONS_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

/* A malloc'd array of malloc'd filters. Returns 0 or -ENOMEM. */
int subscriptions_build(const struct config *c, char ***out, size_t *n_out);
void subscriptions_free(char **subs, size_t n);
bool subscriptions_equal(char **a, size_t na, char **b, size_t nb);

#endif
