#include "ha_publish.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "alert.h"
#include "buf.h"
#include "hallstate.h"
#include "homeassistant.h"
#include "log.h"
#include "windows.h"

#define STATE_EVERY_MS 1000
#define STATE_TOPIC_MAX 256

/* A hall's state topic and what was last published on it (NULL: nothing
 * yet, or to be published again). */
struct hall_out {
    char topic[STATE_TOPIC_MAX];
    char *last;
};

struct ha_publish {
    const struct config *cfg;
    struct hallmodel *hm;
    struct alerting *al;
    struct ha_publish_io io;
    struct windows_index *wix;
    struct homeassistant_configs configs;
    struct hall_out *halls; /* one per cfg->halls while enabled, else none */
    size_t n_halls;
    size_t *active; /* active alerts per hall, counted at each evaluation */
    /* Topics to empty (removed configs, states of removed halls), sent at
     * the next chance. */
    char **pending;
    size_t n_pending;
    bool connected;
    size_t next_config; /* configs before it are published since the connect */
    mono_ms next_state;
};

static void free_halls(struct hall_out *h, size_t n)
{
    for (size_t i = 0; i < n && h; i++)
        free(h[i].last);
    free(h);
}

void ha_publish_free(struct ha_publish *d)
{
    if (!d)
        return;
    homeassistant_configs_free(&d->configs);
    free_halls(d->halls, d->n_halls);
    free(d->active);
    windows_index_free(d->wix);
    for (size_t i = 0; i < d->n_pending; i++)
        free(d->pending[i]);
    free(d->pending);
    free(d);
}

/* The configs, hall outputs and windows index of cfg into d's fields (the
 * old ones are the caller's). */
static int build(struct ha_publish *d, const struct config *cfg)
{
    /* Cleared first: on a failure d must not keep the old ones, which the
     * caller frees. */
    d->halls = NULL;
    d->active = NULL;
    d->n_halls = 0;
    d->wix = NULL;
    if (homeassistant_configs(cfg, &d->configs) < 0)
        return -ENOMEM;
    if (!cfg->homeassistant.enabled)
        return 0;
    d->halls = calloc(cfg->n_halls ? cfg->n_halls : 1, sizeof(*d->halls));
    d->active = calloc(cfg->n_halls ? cfg->n_halls : 1, sizeof(*d->active));
    if (!d->halls || !d->active)
        goto out_free;
    for (size_t i = 0; i < cfg->n_halls; i++)
        if (hallstate_topic(cfg, cfg->halls[i].id, d->halls[i].topic, STATE_TOPIC_MAX) < 0)
            goto out_free;
    d->n_halls = cfg->n_halls;
    d->wix = windows_index_new(cfg); /* NULL: windows_state() scans */
    return 0;

out_free:
    free(d->halls);
    free(d->active);
    d->halls = NULL;
    d->active = NULL;
    homeassistant_configs_free(&d->configs);
    return -ENOMEM;
}

int ha_publish_new(const struct config *cfg, struct hallmodel *hm, struct alerting *al,
                   const struct ha_publish_io *io, struct ha_publish **out)
{
    struct ha_publish *d = calloc(1, sizeof(*d));
    if (!d)
        return -ENOMEM;
    d->cfg = cfg;
    d->hm = hm;
    d->al = al;
    d->io = *io;
    if (build(d, cfg) < 0) {
        free(d);
        return -ENOMEM;
    }
    *out = d;
    return 0;
}

static bool is_pending(const struct ha_publish *d, const char *topic)
{
    for (size_t i = 0; i < d->n_pending; i++)
        if (strcmp(d->pending[i], topic) == 0)
            return true;
    return false;
}

static void add_pending(struct ha_publish *d, const char *topic)
{
    if (is_pending(d, topic))
        return;
    char **v = realloc(d->pending, (d->n_pending + 1) * sizeof(*v));
    char *t = strdup(topic);
    if (v)
        d->pending = v;
    if (!v || !t) {
        free(t);
        log_warn("homeassistant: out of memory: %s is not removed", topic);
        return;
    }
    d->pending[d->n_pending++] = t;
}

static bool publish(struct ha_publish *d, const char *topic, const char *payload, size_t len)
{
    return d->io.publish(d->io.ctx, topic, payload, len, true) == 0;
}

/* Empties the pending topics while the publishes go out. */
static void send_pending(struct ha_publish *d)
{
    size_t k = 0;
    for (size_t i = 0; i < d->n_pending; i++) {
        if (publish(d, d->pending[i], "", 0))
            free(d->pending[i]);
        else
            d->pending[k++] = d->pending[i];
    }
    d->n_pending = k;
}

/* From where the last call stopped (a full outbox, a lost connection). */
static void send_configs(struct ha_publish *d)
{
    while (d->next_config < d->configs.n) {
        const struct homeassistant_config *c = &d->configs.v[d->next_config];
        if (!publish(d, c->topic, c->payload, c->payload_len))
            return;
        d->next_config++;
    }
}

/* Whether topic is published by the current config: a config or a state. */
static bool current(const struct ha_publish *d, const char *topic)
{
    if (homeassistant_configs_has(&d->configs, topic))
        return true;
    for (size_t i = 0; i < d->n_halls; i++)
        if (strcmp(d->halls[i].topic, topic) == 0)
            return true;
    return false;
}

int ha_publish_set_config(struct ha_publish *d, const struct config *cfg)
{
    struct ha_publish old = *d;
    int r = build(d, cfg);
    d->cfg = cfg; /* the old one is freed after the call */
    if (r < 0) {
        /* Nothing to publish from now on; what the broker keeps stays. */
        homeassistant_configs_free(&old.configs);
        free_halls(old.halls, old.n_halls);
        free(old.active);
        windows_index_free(old.wix);
        return r;
    }
    /* A hall kept keeps what was published on its state topic. */
    for (size_t j = 0; j < d->n_halls; j++) {
        for (size_t i = 0; i < old.n_halls; i++) {
            if (strcmp(old.halls[i].topic, d->halls[j].topic) == 0) {
                d->halls[j].last = old.halls[i].last;
                old.halls[i].last = NULL;
                break;
            }
        }
    }
    /* What came back is no longer to be emptied. */
    size_t k = 0;
    for (size_t i = 0; i < d->n_pending; i++) {
        if (current(d, d->pending[i]))
            free(d->pending[i]);
        else
            d->pending[k++] = d->pending[i];
    }
    d->n_pending = k;
    for (size_t i = 0; i < old.configs.n; i++)
        if (!current(d, old.configs.v[i].topic))
            add_pending(d, old.configs.v[i].topic);
    for (size_t i = 0; i < old.n_halls; i++)
        if (old.halls[i].last && !current(d, old.halls[i].topic))
            add_pending(d, old.halls[i].topic);
    homeassistant_configs_free(&old.configs);
    free_halls(old.halls, old.n_halls);
    free(old.active);
    windows_index_free(old.wix);
    d->next_config = 0;
    if (d->connected) {
        send_pending(d);
        send_configs(d);
    }
    d->next_state = 0;
    return 0;
}

static void count_alert(const struct alert *a, void *arg)
{
    struct ha_publish *d = arg;
    if (!alert_is_active(a) || a->state == ALERT_PENDING)
        return;
    for (size_t i = 0; i < d->n_halls; i++) {
        if (strcmp(d->cfg->halls[i].id, a->hall) == 0) {
            d->active[i]++;
            return;
        }
    }
}

static void send_states(struct ha_publish *d, wall_s wall)
{
    memset(d->active, 0, d->n_halls * sizeof(*d->active));
    if (d->al)
        alerting_foreach(d->al, count_alert, d);
    struct buf b;
    buf_init(&b, 0);
    for (size_t i = 0; i < d->n_halls; i++) {
        struct hall_out *h = &d->halls[i];
        buf_reset(&b);
        if (hallstate_json(d->cfg, d->wix, d->hm, &d->cfg->halls[i], d->active[i], wall, &b) < 0 ||
            buf_putc(&b, '\0') < 0)
            continue;
        if (h->last && strcmp(h->last, b.data) == 0)
            continue;
        if (!publish(d, h->topic, b.data, b.len - 1))
            continue;
        free(h->last);
        h->last = strdup(b.data); /* NULL: published again next time */
    }
    buf_free(&b);
}

void ha_publish_tick(struct ha_publish *d, bool connected, wall_s wall, mono_ms now)
{
    bool came = connected && !d->connected;
    d->connected = connected;
    if (!connected)
        return;
    if (came) {
        /* All again: a broker that restarted may have lost what it kept. */
        d->next_config = 0;
        for (size_t i = 0; i < d->n_halls; i++) {
            free(d->halls[i].last);
            d->halls[i].last = NULL;
        }
        d->next_state = 0;
    }
    if (d->n_pending)
        send_pending(d);
    if (d->next_config < d->configs.n)
        send_configs(d);
    if (d->n_halls == 0 || now < d->next_state)
        return;
    d->next_state = now + STATE_EVERY_MS;
    send_states(d, wall);
}
