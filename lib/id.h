/* Hall and device ids (pure): [A-Za-z0-9_.-]{1,64}, the names that appear
 * in topics, tags, file names and commands without any escaping. */
#ifndef HALLGW_ID_H
#define HALLGW_ID_H

#include <stdbool.h>
#include <stddef.h>

#define ID_MAX 64 /* bytes, without the NUL */

/* True when s (len bytes) is an id. */
bool id_valid(const char *s, size_t len);

/* The first topic levels of other trees on a hall broker: the native prefix
 * "hall", Tasmota's cmnd, tele, stat, tasmota and group topic tasmotas,
 * shellies, homeassistant, zigbee2mqtt and the gateway's hallgw (Shelly RPC
 * replies). A native device's id is also its broker account, and the ACL
 * lets an account publish under <its name>/online, <its name>/status/...: an
 * account named like one of these would write into that tree. NULL-ended;
 * scripts/hall-provision refuses the same names. */
extern const char *const id_topic_levels[];

/* True when s is one of id_topic_levels (exactly; topics are
 * case-sensitive). */
bool id_is_topic_level(const char *s);

#endif
