#include "discovery.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "id.h"
#include "json.h"
#include "utf8.h"

#define ITEM_MAX_DEPTH 32 /* a bridge/devices entry nests its exposes deeply */
#define ITEM_MAX_FIELDS 2048

static bool has_prefix(const char *s, size_t len, const char *p)
{
    size_t n = strlen(p);
    return len >= n && memcmp(s, p, n) == 0;
}

enum discovery_kind discovery_topic(const char *topic, size_t len, char *mac, size_t size)
{
    static const char tas[] = "tasmota/discovery/";
    if (len == 26 && memcmp(topic, "zigbee2mqtt/bridge/devices", 26) == 0)
        return DISCOVERY_Z2M_DEVICES;
    if (len == 17 && memcmp(topic, "shellies/announce", 17) == 0)
        return DISCOVERY_SHELLY_ANNOUNCE;
    if (!has_prefix(topic, len, tas))
        return DISCOVERY_NONE;
    const char *m = topic + sizeof(tas) - 1, *end = topic + len;
    const char *slash = memchr(m, '/', (size_t)(end - m));
    if (!slash || !id_valid(m, (size_t)(slash - m)) || (size_t)(slash - m) >= size)
        return DISCOVERY_NONE;
    size_t rest = (size_t)(end - slash - 1);
    enum discovery_kind k = DISCOVERY_NONE;
    if (rest == 6 && memcmp(slash + 1, "config", 6) == 0)
        k = DISCOVERY_TASMOTA_CONFIG;
    else if (rest == 7 && memcmp(slash + 1, "sensors", 7) == 0)
        k = DISCOVERY_TASMOTA_SENSORS;
    if (k != DISCOVERY_NONE) {
        memcpy(mac, m, (size_t)(slash - m));
        mac[slash - m] = '\0';
    }
    return k;
}

/* The string member key as plain text into dst (cut to fit); false (and
 * dst "") when it is absent, not a string or not plain text. */
static bool get_text(const struct json_flat *f, const char *key, char *dst, size_t size)
{
    const struct json_field *v = json_flat_get(f, key);
    dst[0] = '\0';
    if (!v || v->type != JSON_T_STRING || !utf8_plain_text(v->str, v->str_len))
        return false;
    size_t n = utf8_cut(v->str, v->str_len, size - 1);
    memcpy(dst, v->str, n);
    dst[n] = '\0';
    return n > 0;
}

/* The whole string member key into dst: false when it does not fit. */
static bool get_name(const struct json_flat *f, const char *key, char *dst, size_t size)
{
    const struct json_field *v = json_flat_get(f, key);
    dst[0] = '\0';
    if (!v || v->type != JSON_T_STRING || v->str_len == 0 || v->str_len >= size ||
        !utf8_plain_text(v->str, v->str_len))
        return false;
    memcpy(dst, v->str, v->str_len);
    dst[v->str_len] = '\0';
    return true;
}

static int parse_object(const char *payload, size_t len, size_t max_bytes, int depth, size_t fields,
                        struct json_flat *out)
{
    struct json_limits lim = {.max_bytes = max_bytes, .max_depth = depth, .max_fields = fields};
    enum json_reject r = json_flatten(payload, len, &lim, out);
    switch (r) {
    case JSON_OK:
        return 0;
    case JSON_TOO_LARGE:
        return len > max_bytes ? -EMSGSIZE : -ENOMEM;
    case JSON_NOT_OBJECT:
    case JSON_TOO_DEEP:
    case JSON_TOO_MANY:
        return -EPROTO;
    default:
        return -EBADMSG;
    }
}

/* "<a> <b>" of the texts that are not empty. */
static void join(char *dst, size_t size, const char *a, const char *b)
{
    char tmp[UNBOUND_DESCRIPTION_MAX * 2 + 2];
    snprintf(tmp, sizeof(tmp), "%s%s%s", a, *a && *b ? " " : "", b);
    utf8_copy(dst, size, tmp);
}

/* One entry of zigbee2mqtt/bridge/devices: 1 when it is a device, 0 when
 * it is to be skipped and counted, -1 for the Coordinator (skipped, not a
 * refusal: every list has one). */
static int z2m_item(const char *text, size_t len, struct discovery_device *d)
{
    struct json_flat f;
    if (parse_object(text, len, len, ITEM_MAX_DEPTH, ITEM_MAX_FIELDS, &f) < 0)
        return 0;
    char type[32], vendor[UNBOUND_DESCRIPTION_MAX + 1], desc[UNBOUND_DESCRIPTION_MAX + 1];
    int ok = 0;
    memset(d, 0, sizeof(*d));
    d->format = FORMAT_ZIGBEE2MQTT;
    get_text(&f, "type", type, sizeof(type));
    if (strcmp(type, "Coordinator") == 0) {
        ok = -1;
        goto out_free;
    }
    if (!get_name(&f, "friendly_name", d->name, sizeof(d->name)))
        goto out_free;
    get_text(&f, "ieee_address", d->mac, sizeof(d->mac));
    if (!get_text(&f, "definition_model", d->model, sizeof(d->model)))
        get_text(&f, "model_id", d->model, sizeof(d->model));
    get_text(&f, "definition_vendor", vendor, sizeof(vendor));
    get_text(&f, "definition_description", desc, sizeof(desc));
    join(d->description, sizeof(d->description), vendor, desc);
    ok = 1;
out_free:
    json_flat_free(&f);
    return ok;
}

static int parse_z2m(const char *payload, size_t len, size_t max_bytes,
                     void (*fn)(const struct discovery_device *, void *), void *arg,
                     size_t *skipped)
{
    struct json_elements e;
    int rc = json_array_elements(payload, len, NULL, max_bytes, DISCOVERY_ITEMS_MAX, &e);
    if (rc < 0)
        return rc;
    int n = 0;
    *skipped += e.total - e.n;
    for (size_t i = 0; i < e.n; i++) {
        struct discovery_device d;
        int r = z2m_item(e.text[i], e.len[i], &d);
        if (r > 0) {
            fn(&d, arg);
            n++;
        } else if (r == 0) {
            (*skipped)++;
        }
    }
    json_elements_free(&e);
    return n;
}

/* Tasmota's default full topic; a device with another one publishes where
 * the default routing does not look. */
#define TASMOTA_DEFAULT_FT "%prefix%/%topic%/"

static int parse_tasmota_config(const struct json_flat *f, const char *mac,
                                struct discovery_device *d)
{
    char dn[UNBOUND_DESCRIPTION_MAX + 1], hn[UNBOUND_DESCRIPTION_MAX + 1], ft[64];
    char both[UNBOUND_DESCRIPTION_MAX + 1];
    d->format = FORMAT_TASMOTA;
    if (!get_name(f, "t", d->name, sizeof(d->name)))
        return -EPROTO;
    /* The topic's MAC names the device's sensors message too. */
    if (!*mac || !utf8_copy(d->mac, sizeof(d->mac), mac))
        get_text(f, "mac", d->mac, sizeof(d->mac));
    get_text(f, "md", d->model, sizeof(d->model));
    get_text(f, "dn", dn, sizeof(dn));
    get_text(f, "hn", hn, sizeof(hn));
    join(both, sizeof(both), dn, hn);
    if (get_text(f, "ft", ft, sizeof(ft)) && strcmp(ft, TASMOTA_DEFAULT_FT) != 0) {
        char more[UNBOUND_DESCRIPTION_MAX + 1];
        snprintf(more, sizeof(more), "(FullTopic %s)", ft);
        join(d->description, sizeof(d->description), both, more);
    } else {
        utf8_copy(d->description, sizeof(d->description), both);
    }
    return 0;
}

static int parse_shelly_announce(const struct json_flat *f, struct discovery_device *d)
{
    char ip[64], fw[64], desc[2 * 64 + 16]; /* cut to the description below */
    d->format = FORMAT_SHELLY;
    if (!get_name(f, "id", d->name, sizeof(d->name)))
        return -EPROTO;
    get_text(f, "mac", d->mac, sizeof(d->mac));
    get_text(f, "model", d->model, sizeof(d->model));
    get_text(f, "ip", ip, sizeof(ip));
    get_text(f, "fw_ver", fw, sizeof(fw));
    snprintf(desc, sizeof(desc), "%s%s%s%s", *ip ? "ip " : "", ip,
             *ip && *fw ? ", fw "
             : *fw      ? "fw "
                        : "",
             fw);
    utf8_copy(d->description, sizeof(d->description), desc);
    return 0;
}

int discovery_parse(enum discovery_kind kind, const char *mac, const char *payload, size_t len,
                    size_t max_bytes, void (*fn)(const struct discovery_device *d, void *arg),
                    void *arg, size_t *skipped)
{
    size_t skip_local = 0;
    if (!skipped)
        skipped = &skip_local;
    if (kind == DISCOVERY_Z2M_DEVICES)
        return parse_z2m(payload, len, max_bytes, fn, arg, skipped);
    if (kind == DISCOVERY_NONE)
        return -EINVAL;

    struct json_flat f;
    int rc = parse_object(payload, len, max_bytes, JSON_DEFAULT_MAX_DEPTH, 512, &f);
    if (rc < 0)
        return rc;
    struct discovery_device d;
    memset(&d, 0, sizeof(d));
    switch (kind) {
    case DISCOVERY_TASMOTA_CONFIG:
        rc = parse_tasmota_config(&f, mac ? mac : "", &d);
        break;
    case DISCOVERY_TASMOTA_SENSORS:
        d.format = FORMAT_TASMOTA;
        utf8_copy(d.mac, sizeof(d.mac), mac ? mac : "");
        rc = 0;
        break;
    case DISCOVERY_SHELLY_ANNOUNCE:
        rc = parse_shelly_announce(&f, &d);
        break;
    default:
        rc = -EINVAL;
        break;
    }
    json_flat_free(&f);
    if (rc < 0)
        return rc;
    fn(&d, arg);
    return 1;
}

void discovery_shelly_model(const char *payload, size_t len, size_t max_bytes, char *model,
                            size_t size)
{
    struct json_flat f;
    char src[CONFIG_SOURCE_NAME_MAX + 1];
    model[0] = '\0';
    if (parse_object(payload, len, max_bytes, JSON_DEFAULT_MAX_DEPTH, JSON_DEFAULT_MAX_FIELDS, &f) <
        0)
        return;
    if (get_name(&f, "src", src, sizeof(src))) {
        char *dash = strrchr(src, '-');
        if (dash && dash != src) {
            *dash = '\0';
            utf8_copy(model, size, src);
        }
    }
    json_flat_free(&f);
}
