/* Zigbee2MQTT bridges (pure): the availability of each coordinator, from
 * <base>/bridge/state, by base topic. While a bridge is offline every device
 * of its base is silent; that is one fact, said once (the bridge-offline
 * alert), not once per device (no stale alert for them meanwhile).
 *
 * Bounded: at most CONFIG_BASES_MAX bridges (routes come only from the
 * configured bases). */
#ifndef HALLGW_BRIDGES_H
#define HALLGW_BRIDGES_H

#include <stdbool.h>
#include <stddef.h>

#include "clock.h"
#include "config.h"
#include "id.h"
#include "reading.h"

struct bridge {
    char base[CONFIG_BASE_MAX + 1];
    enum availability avail; /* AVAIL_UNKNOWN until its first bridge/state */
    mono_ms since;           /* when it entered that state */
    wall_s since_wall;
    bool alerted;                /* the bridge-offline alert was raised for this outage */
    char alert_hall[ID_MAX + 1]; /* the hall its alert was raised in, "" for none */
};

struct bridges {
    struct bridge v[CONFIG_BASES_MAX];
    size_t n;
};

/* Records bridge/state of base. Returns 0, or -ENOSPC when the table is
 * full (the state is dropped). */
int bridges_set(struct bridges *b, const char *base, enum availability a, mono_ms now, wall_s wall);

/* Forgets the bridge at index i (its base left the config). */
void bridges_remove(struct bridges *b, size_t i);

/* The bridge of base, or NULL when it never reported. */
const struct bridge *bridges_find(const struct bridges *b, const char *base);

/* True when the bridge of base said offline and has not come back. */
bool bridges_offline(const struct bridges *b, const char *base);

#endif
