/* The bridge-offline alert: a Zigbee2MQTT coordinator that says offline on
 * <base>/bridge/state silences every device of its base at once. One alert
 * per base says so (the devices' stale rules are unknown meanwhile, see
 * rules.h); it resolves itself when the bridge is online again. */
#include "alerting_internal.h"

#include <stdio.h>

#include "id.h"

/* The first configured device of base, whose hall the alert goes to. */
static const struct config_device *first_device(const struct config *cfg, const char *base)
{
    for (size_t i = 0; i < cfg->n_devices; i++) {
        const struct config_device *d = &cfg->devices[i];
        if (d->format == FORMAT_ZIGBEE2MQTT && d->source_base && strcmp(d->source_base, base) == 0)
            return d;
    }
    return NULL;
}

void alerting_bridges_tick(struct alerting *al, wall_s wall, mono_ms now)
{
    struct bridges *bs = hallmodel_bridges(al->hm);
    for (size_t i = 0; i < bs->n; i++) {
        struct bridge *b = &bs->v[i];
        const struct config_device *d = first_device(al->cfg, b->base);
        char subject[ID_MAX + 1], id[ALERT_ID_MAX + 1], summary[ALERT_TEXT_MAX];
        config_z2m_base_subject(b->base, subject, sizeof(subject));
        snprintf(id, sizeof(id), "%s:%s", ALERTING_RULE_BRIDGE_OFFLINE, subject);
        /* Resolved where it was raised: a reload may have moved the base's
         * first device to another hall, or removed the base. */
        if (b->avail == AVAIL_ONLINE || !d) {
            /* Raised before a restart: in the hall of the base's first device. */
            const char *hall = b->alert_hall[0] ? b->alert_hall : d ? d->hall : NULL;
            if (hall && alerting_find_alert(al, hall, id))
                alerting_resolve_external(
                    al, hall, id,
                    d ? "the bridge is online again" : "the base is no longer configured", wall);
            b->alert_hall[0] = '\0';
            if (!d) /* nothing of that base is bound any more: forget it */
                bridges_remove(bs, i--);
            continue;
        }
        if (b->avail != AVAIL_OFFLINE || b->alerted)
            continue;
        snprintf(summary, sizeof(summary),
                 "Zigbee2MQTT bridge %s is offline: its devices are not heard", b->base);
        struct alerting_external x = {
            .rule = ALERTING_RULE_BRIDGE_OFFLINE,
            .subject = subject,
            .hall = d->hall,
            .kind = KIND_EQUIPMENT,
            .severity = SEV_MAJOR,
            .summary = summary,
        };
        if (alerting_raise_external(al, &x, wall, now) == 0) {
            b->alerted = true;
            snprintf(b->alert_hall, sizeof(b->alert_hall), "%s", d->hall);
        }
    }
}
