/* Topic routing (pure): from an MQTT topic to the source format, the device it
 * names and the class of message, before any payload is read.
 *
 * Native:      <prefix>/<hall>/<device>/{telemetry,status,event,cmd/reply}
 * Zigbee2MQTT: <base>/<friendly name, may contain '/'>[/availability],
 *              <base>/<name>/<attribute>, <base>/bridge/state
 * Tasmota:     <FullTopic>/{SENSOR,STATE,LWT} under the tele prefix,
 *              <FullTopic>/{POWER,RESULT,STATUS8,...} under stat
 * Shelly Gen2: <id>/events/rpc, <id>/online, <id>/status/<component>:<n>
 * Shelly Gen1: shellies/<id>/{online,announce,temperature,ext_temperatures},
 *              shellies/<id>/relay/<n>[/power,/energy],
 *              shellies/<id>/emeter/<n>/<power,energy,total,voltage,...>,
 *              shellies/<id>/sensor/<temperature,humidity,state,flood,...>,
 *              shellies/<id>/ext_temperature/<n>, and shellies/announce
 *
 * The layouts are the config's sources block (base topics, FullTopic
 * patterns and prefixes, tried in the order written); topic_route() uses
 * the defaults: base "zigbee2mqtt", FullTopic "%prefix%/%topic%/".
 *
 * Checked in this order: control bytes (anything below 0x20, DEL), MQTT
 * wildcards and bad UTF-8 anywhere are ROUTE_BAD_TOPIC. A topic under the
 * native prefix is native only: a shape other than the four inputs above
 * (including <prefix>/<hall>/<device>/cmd, the gateway's own output) is
 * ROUTE_BAD_TOPIC, then bad or reserved ids are ROUTE_BAD_ID. Foreign names
 * that can not be a device (Tasmota topic or Shelly id outside the id
 * charset; a Zigbee2MQTT friendly name with an empty level or over
 * TOPIC_NAME_MAX bytes; friendly names may be any other UTF-8) are
 * ROUTE_BAD_ID. ROUTE_IGNORE: <base>/bridge[/...] but bridge/state,
 * <base>/<name>/set and /get (also set/<attr>), cmnd/..., tele and stat
 * subtopics other than those above (INFO1, STATUS5, UPGRADE, POWER0, ...),
 * Shelly status components other than switch, em1, em, temperature,
 * humidity and devicepower (sys, wifi, input:0, ...), Gen1 paths other than
 * those above (input/<n>, relay/<n>/command, shellies/command), and
 * homeassistant/... (Home Assistant's MQTT discovery and status, written by
 * Zigbee2MQTT, the gateway itself and others; never a device).
 * A first level "shellies" is always Gen1.
 *
 * route.sub holds the last level(s) for foreign formats: "" (Zigbee2MQTT
 * state), "availability", "attr/<attribute>" or "bridge/state"; "SENSOR",
 * "STATE", "LWT", "POWER", "POWER<n>", "RESULT", "STATUS8", "STATUS10",
 * "STATUS11"; "events/rpc", "online", "status/<component>:<n>"; for Gen1
 * "gen1/" and the path after shellies/<id>/ ("gen1/relay/0/power"). The
 * global shellies/announce has name "" and sub "gen1/announce": its device
 * is named in the payload (decode_shelly1_announce_id()).
 *
 * route.name for Zigbee2MQTT is the friendly name with one base, and
 * "<base>/<friendly name>" with several (as config_find_source() takes it);
 * for bridge/state it is the base topic. Friendly names may contain '/', so
 * <base>/a/b is the attribute b of the device "a" only when "a" is bound in
 * the config and "a/b" is not; else it is the state of "a/b".
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
    char sub[80]; /* foreign only: "SENSOR", "POWER", "events/rpc", "attr/occupancy", ... */
};

/* Routes topic (len bytes, not necessarily NUL-terminated; a NUL inside is
 * ROUTE_BAD_TOPIC). prefix is the native prefix ("hall"). Reserved names:
 * device ids "alerts", "windows" and "state", hall id "_gateway" are
 * ROUTE_BAD_ID. */
enum route_result topic_route(const char *prefix, const char *topic, size_t len, struct route *out);
/* The same with c's prefix, sources and bindings (attribute topics). */
enum route_result topic_route_config(const struct config *c, const char *topic, size_t len,
                                     struct route *out);

#endif
