#include "homeassistant.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "hallstate.h"
#include "jsonw.h"

#define TOPIC_MAX 1024

/* What one entity is made of; the strings are the caller's. */
struct entity {
    const char *component; /* "binary_sensor", "sensor" */
    const char *object;    /* the escaped object id */
    const char *name;      /* the entity's own name (Home Assistant puts the hall's first) */
    const char *state_topic;
    const char *value_template;
    const char *device_class;  /* NULL for none */
    const char *icon;          /* NULL for none */
    const char *attr_template; /* json_attributes_template on the state topic, NULL for none */
    bool binary;
};

/* The common parts of every config of one gateway and hall. */
struct hall_ctx {
    const struct config *cfg;
    const struct config_hall *h;
    const char *node;      /* "hallgw-<gw>" */
    const char *status;    /* the gateway's status topic */
    const char *device_id; /* "hallgw-<gw>-<hall>" */
    struct homeassistant_configs *out;
    size_t cap;
};

/* id with '_' as "__", '.' as "_d", '-' as "_h": only A-Z a-z 0-9 _, and
 * different ids stay different. */
static int put_escaped(struct buf *b, const char *id)
{
    int r = 0;
    for (const char *p = id; *p && r == 0; p++) {
        if (*p == '_')
            r = buf_puts(b, "__");
        else if (*p == '.')
            r = buf_puts(b, "_d");
        else if (*p == '-')
            r = buf_puts(b, "_h");
        else
            r = buf_putc(b, *p);
    }
    return r;
}

/* A NUL-terminated string of b, or NULL when it failed. */
static char *finish(struct buf *b)
{
    if (b->err) {
        buf_free(b);
        return NULL;
    }
    return buf_steal(b, NULL);
}

static char *escaped(const char *prefix, const char *id, const char *suffix, const char *id2)
{
    struct buf b;
    buf_init(&b, TOPIC_MAX);
    buf_puts(&b, prefix);
    put_escaped(&b, id);
    if (suffix)
        buf_puts(&b, suffix);
    if (id2)
        put_escaped(&b, id2);
    return finish(&b);
}

static int payload(const struct hall_ctx *x, const struct entity *e, const char *unique_id,
                   struct buf *b)
{
    int r = buf_putc(b, '{');
    r |= jsonw_member_str(b, "name", e->name);
    r |= jsonw_member_str(b, "unique_id", unique_id);
    r |= jsonw_member_str(b, "state_topic", e->state_topic);
    r |= jsonw_member_str(b, "value_template", e->value_template);
    if (e->binary) {
        r |= jsonw_member_str(b, "payload_on", "ON");
        r |= jsonw_member_str(b, "payload_off", "OFF");
    } else {
        r |= jsonw_member_str(b, "state_class", "measurement");
    }
    if (e->device_class)
        r |= jsonw_member_str(b, "device_class", e->device_class);
    if (e->icon)
        r |= jsonw_member_str(b, "icon", e->icon);
    if (e->attr_template) {
        r |= jsonw_member_str(b, "json_attributes_topic", e->state_topic);
        r |= jsonw_member_str(b, "json_attributes_template", e->attr_template);
    }
    r |= jsonw_member_str(b, "availability_topic", x->status);
    r |= jsonw_member_str(b, "payload_available", "online");
    r |= jsonw_member_str(b, "payload_not_available", "offline");
    r |= jsonw_member_int(b, "qos", 1);
    r |= jsonw_key(b, "device");
    r |= buf_putc(b, '{');
    r |= jsonw_key(b, "identifiers");
    r |= buf_putc(b, '[');
    r |= jsonw_str(b, x->device_id);
    r |= buf_putc(b, ']');
    r |= jsonw_member_str(b, "name", x->h->name ? x->h->name : x->h->id);
    r |= jsonw_member_str(b, "manufacturer", "hallgw");
    r |= jsonw_member_str(b, "model", "Service hall");
    r |= jsonw_member_str(b, "sw_version", HALLGW_VERSION);
    r |= buf_putc(b, '}');
    r |= jsonw_key(b, "origin");
    r |= buf_putc(b, '{');
    r |= jsonw_member_str(b, "name", "hallgw");
    r |= jsonw_member_str(b, "sw_version", HALLGW_VERSION);
    r |= buf_putc(b, '}');
    return r | buf_putc(b, '}');
}

static int add(struct hall_ctx *x, const struct entity *e)
{
    struct homeassistant_configs *out = x->out;
    if (out->n == x->cap) {
        size_t cap = x->cap ? 2 * x->cap : 16;
        struct homeassistant_config *v = realloc(out->v, cap * sizeof(*v));
        if (!v)
            return -ENOMEM;
        out->v = v;
        x->cap = cap;
    }
    struct buf t, p;
    buf_init(&t, TOPIC_MAX);
    buf_printf(&t, "%s/%s/%s/%s/config", x->cfg->homeassistant.discovery_prefix, e->component,
               x->node, e->object);
    char *topic = finish(&t);
    struct buf u;
    buf_init(&u, TOPIC_MAX);
    buf_printf(&u, "%s-%s", x->node, e->object);
    char *unique_id = finish(&u);
    buf_init(&p, 0);
    int r = unique_id ? payload(x, e, unique_id, &p) : -ENOMEM;
    size_t len = p.len;
    char *body = r == 0 ? finish(&p) : NULL;
    if (r != 0)
        buf_free(&p);
    free(unique_id);
    if (!topic || !body) {
        free(topic);
        free(body);
        return -ENOMEM;
    }
    out->v[out->n++] = (struct homeassistant_config){topic, body, len};
    return 0;
}

static int hall_entities(struct hall_ctx *x, const char *state_topic)
{
    const struct config *cfg = x->cfg;
    const struct config_hall *h = x->h;
    char *object = NULL, *topic = NULL, *tmpl = NULL, *attr = NULL, *name = NULL;
    int r;

    object = escaped("", h->id, "-open", NULL);
    r = object
            ? add(x, &(struct entity){.component = "binary_sensor",
                                      .object = object,
                                      .name = "Open",
                                      .state_topic = state_topic,
                                      .value_template = "{{ 'ON' if value_json.open else 'OFF' }}",
                                      .device_class = "opening",
                                      .binary = true})
            : -ENOMEM;
    free(object);
    if (r < 0)
        return r;
    object = escaped("", h->id, "-alerts", NULL);
    r = object ? add(x, &(struct entity){.component = "sensor",
                                         .object = object,
                                         .name = "Active alerts",
                                         .state_topic = state_topic,
                                         .value_template = "{{ value_json.active_alerts }}",
                                         .icon = "mdi:alert"})
               : -ENOMEM;
    free(object);
    if (r < 0)
        return r;

    for (size_t i = 0; i < h->n_windows && r == 0; i++) {
        const struct config_window *w = &h->windows[i];
        struct buf t, n;
        buf_init(&t, TOPIC_MAX);
        buf_printf(&t, "%s/%s/windows/%s", cfg->mqtt.prefix, h->id, w->id);
        buf_init(&n, 0);
        buf_printf(&n, "%s staffed", w->name ? w->name : w->id);
        topic = finish(&t);
        name = finish(&n);
        object = escaped("", h->id, "-window-", w->id);
        r = topic && name && object
                ? add(x, &(struct entity){.component = "binary_sensor",
                                          .object = object,
                                          .name = name,
                                          .state_topic = topic,
                                          .value_template =
                                              "{% if value_json.staffed is none %}None"
                                              "{% elif value_json.staffed %}ON{% else %}OFF"
                                              "{% endif %}",
                                          .device_class = "occupancy",
                                          .binary = true})
                : -ENOMEM;
        free(topic);
        free(name);
        free(object);
    }

    for (size_t i = 0; i < cfg->n_devices && r == 0; i++) {
        const struct config_device *d = &cfg->devices[i];
        if (d->kind != KIND_PC || strcmp(d->hall, h->id) != 0)
            continue;
        struct buf t, a, n;
        /* Ids are [A-Za-z0-9_.-]: safe inside a quoted template string. */
        buf_init(&t, 0);
        buf_printf(&t,
                   "{%% set pc = value_json.pcs.get('%s') %%}"
                   "{%% if pc is none or pc.compliant is none %%}None"
                   "{%% elif pc.compliant %%}OFF{%% else %%}ON{%% endif %%}",
                   d->id);
        buf_init(&a, 0);
        buf_printf(&a, "{{ value_json.pcs.get('%s', {}) | tojson }}", d->id);
        buf_init(&n, 0);
        buf_printf(&n, "%s compliance", d->id);
        tmpl = finish(&t);
        attr = finish(&a);
        name = finish(&n);
        object = escaped("", h->id, "-pc-", d->id);
        r = tmpl && attr && name && object ? add(x, &(struct entity){.component = "binary_sensor",
                                                                     .object = object,
                                                                     .name = name,
                                                                     .state_topic = state_topic,
                                                                     .value_template = tmpl,
                                                                     .device_class = "problem",
                                                                     .attr_template = attr,
                                                                     .binary = true})
                                           : -ENOMEM;
        free(tmpl);
        free(attr);
        free(name);
        free(object);
    }
    return r;
}

void homeassistant_configs_free(struct homeassistant_configs *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->v[i].topic);
        free(c->v[i].payload);
    }
    free(c->v);
    c->v = NULL;
    c->n = 0;
}

int homeassistant_configs(const struct config *cfg, struct homeassistant_configs *out)
{
    *out = (struct homeassistant_configs){0};
    if (!cfg->homeassistant.enabled)
        return 0;
    char status[TOPIC_MAX], state[TOPIC_MAX];
    snprintf(status, sizeof(status), "%s/_gateway/%s/status", cfg->mqtt.prefix, cfg->gateway.id);
    char *node = escaped("hallgw-", cfg->gateway.id, NULL, NULL);
    int r = node ? 0 : -ENOMEM;
    struct hall_ctx x = {.cfg = cfg, .node = node, .status = status, .out = out};
    for (size_t i = 0; i < cfg->n_halls && r == 0; i++) {
        x.h = &cfg->halls[i];
        char *device_id = escaped(node, "", "-", x.h->id);
        x.device_id = device_id;
        if (!device_id || hallstate_topic(cfg, x.h->id, state, sizeof(state)) < 0)
            r = -ENOMEM;
        else
            r = hall_entities(&x, state);
        free(device_id);
    }
    free(node);
    if (r < 0)
        homeassistant_configs_free(out);
    return r;
}

bool homeassistant_configs_has(const struct homeassistant_configs *c, const char *topic)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->v[i].topic, topic) == 0)
            return true;
    return false;
}
