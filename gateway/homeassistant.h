/* Home Assistant MQTT discovery (pure): the retained config messages that
 * make each hall of the config one device in Home Assistant, with
 *   - a binary_sensor (occupancy) per window: staffed, from the window state
 *     topic <prefix>/<hall>/windows/<window>;
 *   - a binary_sensor (opening) for the hall's open state and a sensor of
 *     its active alerts, from <prefix>/<hall>/state (hallstate.h);
 *   - a binary_sensor (problem) per PC: not compliant, with the PC's entry
 *     of <prefix>/<hall>/state as attributes;
 * all available while the gateway's status topic
 * <prefix>/_gateway/<gateway id>/status says "online".
 *
 * Config topics: <discovery_prefix>/<component>/hallgw-<gw>/<object>/config.
 * Objects: <hall>-open, <hall>-alerts, <hall>-window-<window>,
 * <hall>-pc-<pc>; unique ids hallgw-<gw>-<object>; device identifiers
 * hallgw-<gw>-<hall>. Each id in them is written with '_' as "__", '.' as
 * "_d" and '-' as "_h" (discovery topic levels allow only A-Z a-z 0-9 _ -),
 * so different ids never give the same name. They depend on nothing but the
 * ids: the same across restarts and reloads. */
#ifndef HALLGW_HOMEASSISTANT_H
#define HALLGW_HOMEASSISTANT_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

struct homeassistant_config {
    char *topic;
    char *payload; /* JSON, payload_len bytes, NUL-terminated */
    size_t payload_len;
};

struct homeassistant_configs {
    struct homeassistant_config *v;
    size_t n;
};

/* The discovery configs of cfg: every hall, its windows and PCs, in config
 * order; none when cfg->homeassistant.enabled is false. Returns 0 or
 * -ENOMEM (out is then empty). Free with homeassistant_configs_free(). */
int homeassistant_configs(const struct config *cfg, struct homeassistant_configs *out);
void homeassistant_configs_free(struct homeassistant_configs *c); /* leaves it empty */

/* Whether c holds a config on topic. */
bool homeassistant_configs_has(const struct homeassistant_configs *c, const char *topic);

#endif
