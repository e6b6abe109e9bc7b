/* The MQTT topic filters a config needs: the native topics under the prefix
 * (telemetry, status, event, cmd/reply, alert acks) and each bound foreign
 * device's own topics (Zigbee2MQTT under its base topic, with the base's
 * bridge/state; Tasmota under each FullTopic pattern; Shelly).
 *
 * With gateway.halls, the native filters name each owned hall instead of '+'
 * (the config then holds only those halls' devices, so the foreign filters
 * follow). With mqtt.shared_group, every filter but the acks and the
 * Zigbee2MQTT bridge/state topics (every member needs those) is written
 * $share/<group>/<filter> (MQTT 5 shared subscriptions; Mosquitto 2.0 also
 * honours them for MQTT 3.1.1 clients).
 *
 * With discovery.enabled, the families' discovery topics too
 * (zigbee2mqtt/bridge/devices, tasmota/discovery/+/config and /sensors,
 * shellies/announce), never shared; and, without shared_group and
 * gateway.halls, +/online and +/events/rpc for every Shelly Gen2+ device,
 * in place of each bound Shelly device's own two. */
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
