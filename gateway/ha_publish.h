/* Home Assistant discovery at run time: publishes the retained discovery
 * configs (homeassistant.h) at every connect and after a reload, removes by
 * an empty retained config the entities a reload took away, and keeps each
 * hall's state topic (hallstate.h) current. Does nothing while
 * homeassistant.enabled is false, except removing what an earlier config
 * published.
 *
 * Owned by the core thread; not thread-safe. */
#ifndef HALLGW_HA_PUBLISH_H
#define HALLGW_HA_PUBLISH_H

#include <stdbool.h>
#include <stddef.h>

#include "alerting.h"
#include "clock.h"
#include "config.h"
#include "hallmodel.h"

struct ha_publish_io {
    void *ctx;
    /* Publishes at QoS 1; returns 0, or a negative errno when it could not
     * (not connected): tried again at the next connect. */
    int (*publish)(void *ctx, const char *topic, const char *payload, size_t len, bool retained);
};

struct ha_publish;

/* Keeps hm, al and cfg (until ha_publish_set_config()); al NULL: no alerts
 * are counted. Returns 0 or -ENOMEM. */
int ha_publish_new(const struct config *cfg, struct hallmodel *hm, struct alerting *al,
                   const struct ha_publish_io *io, struct ha_publish **out);
void ha_publish_free(struct ha_publish *d); /* NULL does nothing */

/* A reloaded config (the old one may be freed after the call): the configs
 * of the new one are published, those only the old one had are removed, and
 * the state topics of halls it no longer has are emptied. Returns 0 or
 * -ENOMEM (then nothing more is published until the next reload). */
int ha_publish_set_config(struct ha_publish *d, const struct config *cfg);

/* Call on every turn of the core loop: after a connect (connected going from
 * false to true) publishes the pending removals, the configs and the hall
 * states; otherwise, at most once a second, each hall's state when it
 * changed. */
void ha_publish_tick(struct ha_publish *d, bool connected, wall_s wall, mono_ms now);

#endif
