/* Topic routing (pure): from an MQTT topic to the source format, the device it
 * names and the class of message, before any payload is read.
 *
 * Native:      <prefix>/<hall>/<device>/{telemetry,status,event,cmd/reply}
 * Zigbee2MQTT: zigbee2mqtt/<friendly name, may contain '/'>[/availability]
 * Tasmota:     tele/<t>/{SENSOR,STATE,LWT}, stat/<t>/{POWER,RESULT}
 * Shelly Gen2: <id>/events/rpc, <id>/online, <id>/status/switch:<n>
 * Shelly Gen1: shellies/<id>/{online,announce,temperature,ext_temperatures},
 *              shellies/<id>/relay/<n>[/power,/energy],
 *              shellies/<id>/emeter/<n>/<power,energy,total,voltage,...>,
 *              shellies/<id>/sensor/<temperature,humidity,state,flood,...>,
 *              shellies/<id>/ext_temperature/<n>, and shellies/announce
 *
 * Checked in this order: control bytes (anything below 0x20, DEL), MQTT
 * wildcards and bad UTF-8 anywhere are ROUTE_BAD_TOPIC. A topic under the
 * native prefix is native only: a shape other than the four inputs above
 * (including <prefix>/<hall>/<device>/cmd, the gateway's own output) is
 * ROUTE_BAD_TOPIC, then bad or reserved ids are ROUTE_BAD_ID. Foreign names
 * that can not be a device (Tasmota topic or Shelly id outside the id
 * charset; a Zigbee2MQTT friendly name with an empty level or over
 * TOPIC_NAME_MAX bytes; friendly names may be any other UTF-8) are
 * ROUTE_BAD_ID. ROUTE_IGNORE: zigbee2mqtt/bridge[/...], zigbee2mqtt/<name>/set
 * and /get (also set/<attr>), cmnd/..., tele and stat subtopics other than
 * those above (INFO1, STATUS8, UPGRADE, POWER0, ...), Shelly status
 * components other than switch:<n> (sys, wifi, input:0, ...), Gen1 paths
 * other than those above (input/<n>, relay/<n>/command, shellies/command),
 * and homeassistant/... (Home Assistant's MQTT discovery and status, written
 * by Zigbee2MQTT, the gateway itself and others; never a device).
 * A first level "shellies" is always Gen1.
 *
 * route.sub holds the last level(s) for foreign formats: "" (Zigbee2MQTT
 * state) or "availability"; "SENSOR", "STATE", "LWT", "POWER", "POWER<n>",
 * "RESULT"; "events/rpc", "online", "status/switch:<n>"; for Gen1 "gen1/"
 * and the path after shellies/<id>/ ("gen1/relay/0/power"). The global
 * shellies/announce has name "" and sub "gen1/announce": its device is
 * named in the payload (decode_shelly1_announce_id()).
 */
#ifndef HALLGW_TOPIC_H
#define HALLGW_TOPIC_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "id.h"
#include "reading.h"

#define TOPIC_NAME_MAX CONFIG_SOURCE_NAME_MAX /* foreign names (Zigbee2MQTT friendly names) */

enum route_result {
    ROUTE_OK = 0,
    ROUTE_IGNORE, /* a topic of a known format that carries nothing for us (z2m bridge/..., /set) */
    ROUTE_BAD_ID, /* hall or device id outside [A-Za-z0-9_.-]{1,64}, or reserved */
    ROUTE_BAD_TOPIC /* not an input topic of any format (including <prefix>/.../cmd) */
};

struct route {
    enum source_format format;
    enum msg_class cls;
    char hall[ID_MAX + 1];         /* native only */
    char device[ID_MAX + 1];       /* native only */
    char name[TOPIC_NAME_MAX + 1]; /* foreign only: z2m friendly name, tasmota topic, shelly id */
    char sub[32]; /* foreign only: "SENSOR", "POWER", "events/rpc", "gen1/relay/0", ... */
};

/* Routes topic (len bytes, not necessarily NUL-terminated; a NUL inside is
 * ROUTE_BAD_TOPIC). prefix is the native prefix ("hall"). Reserved names:
 * device ids "alerts", "windows" and "state", hall id "_gateway" are
 * ROUTE_BAD_ID. */
enum route_result topic_route(const char *prefix, const char *topic, size_t len, struct route *out);

#endif
