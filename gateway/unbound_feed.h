/* From messages to the unbound list (core/unbound.h), and the list out to
 * the HTTP API and to hallgw devices --unbound.
 *
 * Runs on the core thread. Counts every outcome in metrics:
 * hallgw_discovery_messages_total{outcome="read"|"rejected"},
 * hallgw_unbound_devices_total{event="added"|"evicted"|"refused"} and the
 * gauge hallgw_unbound_listed. */
#ifndef HALLGW_UNBOUND_FEED_H
#define HALLGW_UNBOUND_FEED_H

#include <stdbool.h>
#include <stddef.h>

#include "clock.h"
#include "config.h"
#include "json.h"
#include "reading.h"
#include "topic.h"
#include "unbound.h"

/* The file hallgw devices --unbound reads, in gateway.state_dir: the same
 * JSON as GET /api/v1/devices/unbound. */
#define UNBOUND_FILE "unbound-devices.json"

/* When topic is a discovery topic (discovery.h), reads it into u. Returns
 * true when the message is used up: the Zigbee2MQTT and Tasmota discovery
 * topics, which carry nothing else; false for shellies/announce (Shelly
 * Gen1's routing reads it too: a bound device's announce) and for any other
 * topic. Devices cfg binds are left out. oversize: the payload was not
 * kept. */
bool unbound_feed_discovery(struct unbound *u, const struct config *cfg, const char *topic,
                            size_t topic_len, const char *payload, size_t payload_len,
                            bool oversize, wall_s now);

/* A message of a known layout (r, routed) from a foreign device no device
 * of the config binds: lists it, with what the decoder reads in it as its
 * sample ("on=true, power_w=12.5"; the payload's first bytes when the
 * decoder reads nothing). rd is scratch space. */
void unbound_feed_traffic(struct unbound *u, const struct route *r, const char *payload,
                          size_t payload_len, const struct json_limits *lim, struct reading *rd,
                          wall_s now);

/* At start and after a reload: the new bound (none while discovery is
 * off), and the devices cfg binds now leave. */
void unbound_feed_config(struct unbound *u, const struct config *cfg);

/* The list as JSON, malloc'd (NULL when out of memory):
 * {"enabled":true,"max":256,"count":1,"devices":[{"family":"zigbee2mqtt",
 * "name":"seat w13","source":"zigbee2mqtt:seat w13","source_literal":
 * "\"zigbee2mqtt:seat w13\"","mac","model","description","via",
 * "first_seen","last_seen" (unix s),"sample"}]}, devices in the order of
 * their source. */
char *unbound_feed_json(const struct unbound *u, const struct config *cfg);

/* Writes json to dir/UNBOUND_FILE (a temporary file renamed over it).
 * Returns 0 or a negative errno. */
int unbound_feed_write(const char *dir, const char *json);

#endif
