#include "unbound_feed.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "decode.h"
#include "discovery.h"
#include "jsonw.h"
#include "metrics.h"

#define JSON_MAX_BYTES (16u << 20)

static void sensors_text(const char *payload, size_t len, size_t max_bytes, struct buf *b);

static void count(enum unbound_result r)
{
    switch (r) {
    case UNBOUND_ADDED:
        metrics_inc(MET_UNBOUND_ADDED);
        break;
    case UNBOUND_EVICTED:
        metrics_inc(MET_UNBOUND_ADDED);
        metrics_inc(MET_UNBOUND_EVICTED);
        break;
    case UNBOUND_REFUSED:
        metrics_inc(MET_UNBOUND_REFUSED);
        break;
    case UNBOUND_UPDATED:
        break;
    }
}

struct found_ctx {
    struct unbound *u;
    const struct config *cfg;
    const char *via;
    const char *z2m_base; /* the base of a bridge/devices list with several bases */
    const char *payload;  /* Tasmota's sensors: the reading */
    size_t payload_len;
    wall_s now;
};

static void found(const struct discovery_device *d, void *arg)
{
    struct found_ctx *c = arg;
    struct unbound_seen s = {
        .format = d->format,
        .name = d->name,
        .mac = d->mac,
        .model = d->model,
        .description = d->description,
        .via = c->via,
    };
    char name[CONFIG_BASE_MAX + CONFIG_SOURCE_NAME_MAX + 2];
    if (c->z2m_base) {
        /* With several bases a source names its base ("zigbee/seat 1"). */
        int n = snprintf(name, sizeof(name), "%s/%s", c->z2m_base, d->name);
        if (n < 0 || (size_t)n > CONFIG_SOURCE_NAME_MAX) {
            count(UNBOUND_REFUSED);
            return;
        }
        s.name = name;
    }
    if (c->payload) {
        /* A reading named by MAC: it goes to the device of that MAC. */
        const struct unbound_device *e = unbound_find_mac(c->u, d->format, d->mac);
        if (!e)
            return;
        s.name = e->name;
        s.sample = c->payload;
        s.sample_len = c->payload_len;
    }
    if (config_source_bound(c->cfg, s.format, s.name))
        return;
    count(unbound_note(c->u, &s, c->now));
}

/* The base topic of <base>/bridge/devices (a configured Zigbee2MQTT base),
 * or NULL. */
static const char *z2m_devices_base(const struct config *cfg, const char *topic, size_t len)
{
    static const char tail[] = "/bridge/devices";
    size_t tl = sizeof(tail) - 1;
    if (len <= tl || memcmp(topic + len - tl, tail, tl) != 0)
        return NULL;
    for (size_t i = 0; i < cfg->sources.n_z2m_bases; i++) {
        const char *b = cfg->sources.z2m_bases[i];
        if (strlen(b) == len - tl && memcmp(topic, b, len - tl) == 0)
            return b;
    }
    return NULL;
}

bool unbound_feed_discovery(struct unbound *u, const struct config *cfg, const char *topic,
                            size_t topic_len, const char *payload, size_t payload_len,
                            bool oversize, wall_s now)
{
    char mac[UNBOUND_MAC_MAX + 1];
    const char *base = z2m_devices_base(cfg, topic, topic_len);
    enum discovery_kind k =
        base ? DISCOVERY_Z2M_DEVICES : discovery_topic(topic, topic_len, mac, sizeof(mac));
    if (k == DISCOVERY_NONE || (k == DISCOVERY_Z2M_DEVICES && !base))
        return false; /* zigbee2mqtt/bridge/devices when "zigbee2mqtt" is not a base */
    static const char *const via[] = {
        [DISCOVERY_Z2M_DEVICES] = "zigbee2mqtt/bridge/devices",
        [DISCOVERY_TASMOTA_CONFIG] = "tasmota/discovery",
        [DISCOVERY_TASMOTA_SENSORS] = "tasmota/discovery",
        [DISCOVERY_SHELLY_ANNOUNCE] = "shellies/announce",
    };
    struct found_ctx c = {.u = u, .cfg = cfg, .via = via[k], .now = now};
    char z2m_via[CONFIG_BASE_MAX + 16];
    if (base) {
        (void)snprintf(z2m_via, sizeof(z2m_via), "%s/bridge/devices", base);
        c.via = z2m_via;
    }
    if (base && cfg->sources.n_z2m_bases > 1)
        c.z2m_base = base;
    size_t skipped = 0;
    size_t max = cfg->limits.payload_max_bytes;
    char text[UNBOUND_SAMPLE_MAX * 2];
    struct buf b;
    buf_init_fixed(&b, text, sizeof(text));
    if (k == DISCOVERY_TASMOTA_SENSORS && !oversize) {
        sensors_text(payload, payload_len, max, &b);
        c.payload = b.len ? text : payload;
        c.payload_len = b.len ? b.len : payload_len;
    }
    int n = oversize ? -EMSGSIZE
                     : discovery_parse(k, mac, payload, payload_len, max, found, &c, &skipped);
    metrics_inc(n < 0 ? MET_DISCOVERY_REJECTED : MET_DISCOVERY_READ);
    metrics_add(MET_UNBOUND_REFUSED, skipped);
    metrics_set(MET_G_UNBOUND, unbound_count(u));
    /* Shelly Gen1's announce is also a bound device's message. */
    return k != DISCOVERY_SHELLY_ANNOUNCE;
}

/* Appends "key=value" to b, after ", " when b holds something already. */
static void put_pair(struct buf *b, const char *key, size_t key_len, const char *value,
                     size_t value_len)
{
    if (b->len)
        buf_puts(b, ", ");
    buf_put(b, key, key_len);
    buf_putc(b, '=');
    buf_put(b, value, value_len);
}

/* The reading in a line: "on=true, power_w=12.5", or "online". */
static void reading_text(const struct reading *rd, struct buf *b)
{
    if (rd->cls == MSG_STATUS) {
        buf_puts(b, rd->status == AVAIL_ONLINE    ? "online"
                    : rd->status == AVAIL_OFFLINE ? "offline"
                                                  : "unknown");
        return;
    }
    for (unsigned i = 0; i < rd->n_metrics && b->len <= UNBOUND_SAMPLE_MAX; i++) {
        const struct metric *m = &rd->metrics[i];
        char num[32];
        const char *v = num;
        if (m->type == METRIC_NUMBER)
            snprintf(num, sizeof(num), "%.10g", m->v.num);
        else
            v = m->type == METRIC_BOOL ? (m->v.b ? "true" : "false") : m->v.str;
        put_pair(b, m->key, strlen(m->key), v, strlen(v));
    }
}

/* A Tasmota sensors message in a line: the leaves, by their last key, but
 * the times ("Time", "TotalStartTime"). */
static void sensors_text(const char *payload, size_t len, size_t max_bytes, struct buf *b)
{
    struct json_flat f;
    struct json_limits lim = {.max_bytes = max_bytes, .max_depth = 8, .max_fields = 256};
    if (json_flatten(payload, len, &lim, &f) != JSON_OK)
        return;
    for (size_t i = 0; i < f.n && b->len <= UNBOUND_SAMPLE_MAX; i++) {
        const struct json_field *x = &f.fields[i];
        const char *key = strrchr(x->key, '_');
        key = key ? key + 1 : x->key;
        size_t kl = strlen(key);
        if ((kl >= 4 && strcmp(key + kl - 4, "Time") == 0) || strcmp(x->key, "ver") == 0)
            continue;
        if (x->type == JSON_T_NUMBER)
            put_pair(b, key, kl, x->num_text, x->num_len);
        else if (x->type == JSON_T_BOOL)
            put_pair(b, key, kl, x->b ? "true" : "false", x->b ? 4 : 5);
        else if (x->type == JSON_T_STRING)
            put_pair(b, key, kl, x->str, x->str_len);
    }
    json_flat_free(&f);
}

void unbound_feed_traffic(struct unbound *u, const struct route *r, const char *payload,
                          size_t payload_len, const struct json_limits *lim, struct reading *rd,
                          wall_s now)
{
    char model[UNBOUND_MODEL_MAX + 1] = "", text[UNBOUND_SAMPLE_MAX * 2];
    struct buf b;
    buf_init_fixed(&b, text, sizeof(text));
    if (r->format == FORMAT_SHELLY && strcmp(r->sub, "events/rpc") == 0)
        discovery_shelly_model(payload, payload_len, lim->max_bytes, model, sizeof(model));
    enum json_reject why;
    if (decode_message(r, payload, payload_len, lim, rd, &why) == DECODE_OK)
        reading_text(rd, &b);
    /* What the decoders can not read is shown as it came. */
    struct unbound_seen s = {
        .format = r->format,
        .name = r->name,
        .model = model,
        .via = r->sub[0] ? r->sub : "state",
        .sample = b.len ? text : payload,
        .sample_len = b.len ? b.len : payload_len,
    };
    count(unbound_note(u, &s, now));
    metrics_set(MET_G_UNBOUND, unbound_count(u));
}

void unbound_feed_config(struct unbound *u, const struct config *cfg)
{
    /* Turned off, the list empties: nothing is read into it any more. */
    size_t gone = unbound_set_max(u, cfg->discovery.enabled ? cfg->discovery.unbound_max : 0);
    if (cfg->discovery.enabled)
        metrics_add(MET_UNBOUND_EVICTED, gone);
    unbound_forget_bound(u, cfg);
    metrics_set(MET_G_UNBOUND, unbound_count(u));
}

static int cmp_source(const void *a, const void *b)
{
    const struct unbound_device *x = *(const struct unbound_device *const *)a;
    const struct unbound_device *y = *(const struct unbound_device *const *)b;
    if (x->format != y->format)
        return (int)x->format - (int)y->format;
    return strcmp(x->name, y->name);
}

static void device_json(struct buf *b, const struct unbound_device *d)
{
    char src[CONFIG_SOURCE_NAME_MAX + 32], lit[2 * CONFIG_SOURCE_NAME_MAX + 32];
    snprintf(src, sizeof(src), "%s:%s", config_format_name(d->format), d->name);
    if (unbound_source_literal(d, lit, sizeof(lit)) < 0)
        lit[0] = '\0';
    jsonw_next(b);
    buf_putc(b, '{');
    jsonw_member_str(b, "family", config_format_name(d->format));
    jsonw_member_str(b, "name", d->name);
    jsonw_member_str(b, "source", src);
    jsonw_member_str(b, "source_literal", lit);
    jsonw_member_str(b, "mac", d->mac);
    jsonw_member_str(b, "model", d->model);
    jsonw_member_str(b, "description", d->description);
    jsonw_member_str(b, "via", d->via);
    jsonw_member_number(b, "first_seen", d->first_seen);
    jsonw_member_number(b, "last_seen", d->last_seen);
    jsonw_member_str(b, "sample", d->sample);
    buf_putc(b, '}');
}

char *unbound_feed_json(const struct unbound *u, const struct config *cfg)
{
    size_t n = unbound_count(u);
    const struct unbound_device **v = n ? malloc(n * sizeof(*v)) : NULL;
    if (n && !v)
        return NULL;
    for (size_t i = 0; i < n; i++)
        v[i] = unbound_get(u, i);
    if (n)
        qsort(v, n, sizeof(*v), cmp_source);
    struct buf b;
    buf_init(&b, JSON_MAX_BYTES);
    buf_putc(&b, '{');
    jsonw_member_bool(&b, "enabled", cfg->discovery.enabled);
    jsonw_member_int(&b, "max", (long long)unbound_max(u));
    jsonw_member_int(&b, "count", (long long)n);
    jsonw_key(&b, "devices");
    buf_putc(&b, '[');
    for (size_t i = 0; i < n; i++)
        device_json(&b, v[i]);
    buf_putc(&b, ']');
    buf_putc(&b, '}');
    free(v);
    return buf_steal(&b, NULL);
}

int unbound_feed_write(const char *dir, const char *json)
{
    char path[1024], tmp[1040];
    if (snprintf(path, sizeof(path), "%s/%s", dir, UNBOUND_FILE) >= (int)sizeof(path))
        return -ENAMETOOLONG;
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0)
        return -errno;
    size_t len = strlen(json), off = 0;
    while (off < len) {
        ssize_t w = write(fd, json + off, len - off);
        if (w < 0) {
            int e = -errno;
            close(fd);
            unlink(tmp);
            return e;
        }
        off += (size_t)w;
    }
    if (close(fd) < 0 || rename(tmp, path) < 0) {
        int e = -errno;
        unlink(tmp);
        return e;
    }
    return 0;
}
