/* The discovery traffic of the foreign device families (pure): what
 * Zigbee2MQTT, Tasmota and Shelly publish about the devices they have,
 * read into the name a device's "source" takes, its model and a
 * description. Feeds the unbound list (unbound.h); never stores a device.
 *
 *   zigbee2mqtt/bridge/devices      retained JSON array of the bridge's
 *                                   devices: friendly_name, ieee_address,
 *                                   type, definition.{model,vendor,
 *                                   description}; the Coordinator is skipped
 *   tasmota/discovery/<mac>/config  retained JSON object: "t" (the topic,
 *                                   the source name), "dn" (device name),
 *                                   "md" (model), "hn" (host name), "mac",
 *                                   "ft" (full topic)
 *   tasmota/discovery/<mac>/sensors retained {"sn":{...},"ver":1}: the
 *                                   sensors' reading, named by MAC only
 *   shellies/announce               Shelly Gen1: {"id","model","mac","ip",
 *                                   "fw_ver",...}
 *
 * Shelly Gen2+ devices announce themselves on their own topics (<id>/online,
 * NotifyFullStatus on <id>/events/rpc), which topic.h routes; discovery
 * only reads their model from such a message ("src").
 *
 * Every payload is checked by the JSON module (size, UTF-8, syntax, depth),
 * each text member kept only when it is plain text; a member of the wrong
 * type counts as missing. */
#ifndef HALLGW_DISCOVERY_H
#define HALLGW_DISCOVERY_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "unbound.h"

enum discovery_kind {
    DISCOVERY_NONE,
    DISCOVERY_Z2M_DEVICES,
    DISCOVERY_TASMOTA_CONFIG,
    DISCOVERY_TASMOTA_SENSORS,
    DISCOVERY_SHELLY_ANNOUNCE,
};

/* At most this many devices are read from one bridge/devices list; the
 * others are counted as skipped. */
#define DISCOVERY_ITEMS_MAX 1024

/* The discovery topic's kind, DISCOVERY_NONE for any other topic. For
 * tasmota/discovery/<mac>/..., mac (size bytes) receives <mac> (12 hex
 * digits in Tasmota's own topics; anything of [A-Za-z0-9_.-] is taken). */
enum discovery_kind discovery_topic(const char *topic, size_t len, char *mac, size_t size);

/* One device read from a discovery payload. */
struct discovery_device {
    enum source_format format;
    char name[CONFIG_SOURCE_NAME_MAX + 1];
    char mac[UNBOUND_MAC_MAX + 1];
    char model[UNBOUND_MODEL_MAX + 1];
    char description[UNBOUND_DESCRIPTION_MAX + 1];
};

/* Calls fn for each device payload names. mac is the topic's (Tasmota);
 * max_bytes bounds the payload. For DISCOVERY_TASMOTA_SENSORS, fn gets a
 * device with only mac set (the reading is the payload itself). Returns
 * the number of devices passed to fn (0 for a list with none), or
 * -EMSGSIZE over max_bytes, -EBADMSG for a payload that is not UTF-8 JSON,
 * -EPROTO for JSON of another shape (not an array, not an object, a device
 * without its name). *skipped (not NULL) counts the entries of a list that
 * were not devices, had no usable name, or were past DISCOVERY_ITEMS_MAX;
 * the Coordinator is skipped without a count. */
int discovery_parse(enum discovery_kind kind, const char *mac, const char *payload, size_t len,
                    size_t max_bytes, void (*fn)(const struct discovery_device *d, void *arg),
                    void *arg, size_t *skipped);

/* The model of a Shelly Gen2+ device from one of its messages: the part of
 * "src" (e.g. "shellyplusplugs-a8032ab1") before its last '-'. Writes "" when
 * there is none. */
void discovery_shelly_model(const char *payload, size_t len, size_t max_bytes, char *model,
                            size_t size);

#endif
