#include "subscriptions.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void subscriptions_free(char **subs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(subs[i]);
    free(subs);
}

static int subs_add(char ***subs, size_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int subs_add(char ***subs, size_t *n, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    char **nv = realloc(*subs, (*n + 1) * sizeof(char *));
    if (!nv)
        return -ENOMEM;
    *subs = nv;
    if (!(nv[*n] = strdup(buf)))
        return -ENOMEM;
    (*n)++;
    return 0;
}

/* Whether the topics of the Shelly d is bound to (a channel "<id>#<n>")
 * are subscribed for another device already: the device itself, or a
 * channel bound earlier in the config. */
static bool shelly_subscribed_before(const struct config *c, const struct config_device *d)
{
    const struct config_device *chans[16];
    char id[CONFIG_SOURCE_NAME_MAX + 1];
    size_t id_len;

    if (config_source_channel(d->source_name, &id_len) == 0)
        return false;
    (void)snprintf(id, sizeof(id), "%.*s", (int)id_len, d->source_name);
    if (config_find_source(c, FORMAT_SHELLY, id))
        return true;
    size_t k = config_find_channels(c, id, chans, 16);
    for (size_t i = 0; i < k && i < 16; i++) {
        if (chans[i] < d)
            return true;
    }
    return false;
}

/* Zigbee2MQTT: per base with a bound device, <base>/bridge/state (never
 * shared); per
 * device <base>/<name> (state) and <base>/<name>/+ (availability and the
 * attribute outputs). Tasmota: per FullTopic pattern and device, the tele
 * and stat subtopics. */
/* True when the friendly name of d is "<p>/<last level>" and another
 * device of its base is bound as p. */
static bool z2m_parent_bound(const struct config *c, const struct config_device *d)
{
    const char *slash = strrchr(d->source_friendly, '/');
    if (!slash)
        return false;
    size_t pl = (size_t)(slash - d->source_friendly);
    for (size_t i = 0; i < c->n_devices; i++) {
        const struct config_device *o = &c->devices[i];
        if (o != d && o->format == FORMAT_ZIGBEE2MQTT && o->source_base == d->source_base &&
            strlen(o->source_friendly) == pl &&
            memcmp(o->source_friendly, d->source_friendly, pl) == 0)
            return true;
    }
    return false;
}

static int subscriptions_sources(const struct config *c, const char *share, char ***subs, size_t *n)
{
    const struct config_sources *src = &c->sources;
    int r = 0;

    for (size_t b = 0; b < src->n_z2m_bases && r == 0; b++) {
        bool any = false;
        for (size_t i = 0; i < c->n_devices && r == 0; i++) {
            const struct config_device *d = &c->devices[i];
            if (d->format != FORMAT_ZIGBEE2MQTT || d->source_base != src->z2m_bases[b])
                continue;
            /* Unshared, like the acks: every member of a group must know
             * that its devices of this base are silent because of it. */
            if (!any)
                r |= subs_add(subs, n, "%s/bridge/state", d->source_base);
            any = true;
            /* "a/b" beside "a": a/+ has its state already (one filter per
             * message, never two copies). */
            if (!z2m_parent_bound(c, d))
                r |= subs_add(subs, n, "%s%s/%s", share, d->source_base, d->source_friendly);
            r |= subs_add(subs, n, "%s%s/%s/+", share, d->source_base, d->source_friendly);
        }
    }
    for (size_t k = 0; k < src->n_tasmota_full_topics && r == 0; k++) {
        const char *pat = src->tasmota_full_topics[k];
        for (size_t i = 0; i < c->n_devices && r == 0; i++) {
            const struct config_device *d = &c->devices[i];
            char tele[512], stat[512];
            if (d->format != FORMAT_TASMOTA)
                continue;
            if (config_tasmota_topic(pat, src->tasmota_prefixes[TASMOTA_TELE], d->source_name, tele,
                                     sizeof(tele)) < 0 ||
                config_tasmota_topic(pat, src->tasmota_prefixes[TASMOTA_STAT], d->source_name, stat,
                                     sizeof(stat)) < 0)
                continue; /* can not happen: both are bounded */
            r |= subs_add(subs, n, "%s%s+", share, tele);
            r |= subs_add(subs, n, "%s%s+", share, stat);
        }
    }
    return r;
}

/* Shelly Gen2+ devices announce themselves only on their own topics: with
 * discovery on, <id>/online and <id>/events/rpc of every device are read,
 * and these two filters replace each bound device's own (one filter per
 * message, never two copies). Not with shared_group or gateway.halls: there
 * a wildcard shared by the group would hand a bound device's messages to
 * an instance that does not hold it. */
static bool shelly_wide(const struct config *c)
{
    return c->discovery.enabled && !c->mqtt.shared_group && c->gateway.n_halls == 0;
}

/* The discovery topics (discovery.h), read by every instance: they are
 * few, retained, and each instance lists what it does not bind.
 * shellies/announce only when no bound Shelly had it subscribed already. */
static int subs_discovery(const struct config *c, bool have_announce, char ***subs, size_t *n)
{
    int r = 0;
    if (!c->discovery.enabled)
        return 0;
    for (size_t b = 0; b < c->sources.n_z2m_bases; b++)
        r |= subs_add(subs, n, "%s/bridge/devices", c->sources.z2m_bases[b]);
    r |= subs_add(subs, n, "tasmota/discovery/+/config");
    r |= subs_add(subs, n, "tasmota/discovery/+/sensors");
    if (!have_announce)
        r |= subs_add(subs, n, "shellies/announce");
    if (shelly_wide(c)) {
        r |= subs_add(subs, n, "+/online");
        r |= subs_add(subs, n, "+/events/rpc");
    }
    return r;
}

int subscriptions_build(const struct config *c, char ***out, size_t *n_out)
{
    char **subs = NULL;
    size_t n = 0;
    int r = 0;
    unsigned shelly_announce = 0;
    const char *p = c->mqtt.prefix;
    /* "$share/<group>/" in shared mode: one instance of the group gets each
     * message. Acks stay unshared: the instance that holds the alert must see
     * its ack (the others count it as refused). */
    char share[96] = "";
    const char *const *halls = (const char *const *)c->gateway.halls;
    size_t n_halls = c->gateway.n_halls ? c->gateway.n_halls : 1;

    if (c->mqtt.shared_group)
        (void)snprintf(share, sizeof(share), "$share/%s/", c->mqtt.shared_group);
    for (size_t i = 0; i < n_halls && r == 0; i++) {
        const char *h = c->gateway.n_halls ? halls[i] : "+";
        r |= subs_add(&subs, &n, "%s%s/%s/+/telemetry", share, p, h);
        r |= subs_add(&subs, &n, "%s%s/%s/+/status", share, p, h);
        r |= subs_add(&subs, &n, "%s%s/%s/+/event", share, p, h);
        r |= subs_add(&subs, &n, "%s%s/%s/+/cmd/reply", share, p, h);
        r |= subs_add(&subs, &n, "%s/%s/alerts/+/ack", p, h);
        r |= subs_add(&subs, &n, "%s/%s/alerts/+/ack/+", p, h);
    }
    r |= subscriptions_sources(c, share, &subs, &n);
    for (size_t i = 0; i < c->n_devices && r == 0; i++) {
        const struct config_device *d = &c->devices[i];
        const char *name = d->source_name;
        switch (d->format) {
        case FORMAT_NATIVE:
            break;
        case FORMAT_ZIGBEE2MQTT:
        case FORMAT_TASMOTA:
            break; /* subscriptions_sources() */
        case FORMAT_SHELLY: {
            /* Gen2 and Gen1 topics: the generation shows in the topic. */
            size_t id_len;
            (void)config_source_channel(name, &id_len);
            if (shelly_subscribed_before(c, d))
                break;
            int l = (int)id_len;
            if (!shelly_wide(c))
                r |= subs_add(&subs, &n, "%s%.*s/events/rpc", share, l, name);
            if (!shelly_wide(c))
                r |= subs_add(&subs, &n, "%s%.*s/online", share, l, name);
            r |= subs_add(&subs, &n, "%s%.*s/status/+", share, l, name);
            r |= subs_add(&subs, &n, "%sshellies/%.*s/#", share, l, name);
            if (!shelly_announce++)
                r |= subs_add(&subs, &n, "%sshellies/announce", share);
            break;
        }
        }
    }
    if (r == 0)
        r |= subs_discovery(c, shelly_announce > 0, &subs, &n);
    if (r) {
        subscriptions_free(subs, n);
        return -ENOMEM;
    }
    *out = subs;
    *n_out = n;
    return 0;
}

bool subscriptions_equal(char **a, size_t na, char **b, size_t nb)
{
    if (na != nb)
        return false;
    for (size_t i = 0; i < na; i++) {
        if (strcmp(a[i], b[i]) != 0)
            return false;
    }
    return true;
}
