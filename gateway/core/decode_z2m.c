/* Zigbee2MQTT: <base>/<name> state messages, their attribute outputs
 * (<base>/<name>/<attribute>), their availability and the bridge's
 * (decode.h has the mapping). */
#include "decode_foreign.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

/* Zigbee2MQTT exposes (https://www.zigbee2mqtt.io/guide/usage/exposes.html). */
static const struct decode_key_map z2m_keys[] = {
    {"occupancy", "presence", DECODE_BOOL},
    {"presence", "presence", DECODE_BOOL},
    {"state", "on", DECODE_ONOFF},
    {"power", "power_w", DECODE_NUMBER},
    {"energy", "energy_kwh", DECODE_NUMBER},
    {"illuminance_lux", "illuminance", DECODE_NUMBER},
    {"illuminance", "illuminance", DECODE_NUMBER},
    {"temperature", "temperature", DECODE_NUMBER},
    {"humidity", "humidity", DECODE_NUMBER},
    {"co2", "co2", DECODE_NUMBER},
    {"pm25", "pm25", DECODE_NUMBER},
    {"battery", "battery", DECODE_NUMBER},
    {"linkquality", "linkquality", DECODE_NUMBER},
};

/* zigbee2mqtt/<name>/availability: plain "online"/"offline" (Zigbee2MQTT
 * 1.x legacy availability) or {"state":"online"} (the JSON form, 2.x). */
static enum decode_result z2m_availability(const char *payload, size_t len,
                                           const struct json_limits *lim, struct reading *out)
{
    if (decode_availability(payload, len, "online", "offline", out) == DECODE_OK)
        return DECODE_OK;
    struct json_flat flat;
    if (decode_parse(payload, len, lim, &flat, NULL) != DECODE_OK)
        return DECODE_BAD_STATUS; /* neither a word nor JSON: not a JSON problem */
    const struct json_field *state = json_flat_get(&flat, "state");
    enum decode_result rc = DECODE_OK;
    if (state && decode_str_is(state, "online"))
        out->status = AVAIL_ONLINE;
    else if (state && decode_str_is(state, "offline"))
        out->status = AVAIL_OFFLINE;
    else
        rc = DECODE_BAD_STATUS;
    json_flat_free(&flat);
    return rc;
}

/* One key of a Zigbee2MQTT state message. */
static void z2m_field(struct reading *out, const struct json_field *f, bool has_lux)
{
    /* When the device was last heard from (ms since the epoch, or an ISO
     * string, per the last_seen setting) is time, not a reading. */
    if (strcmp(f->key, "last_seen") == 0)
        return;
    /* Devices that report both give "illuminance" as the raw sensor value
     * (Zigbee2MQTT 2.x calls it illuminance_raw) and lux in illuminance_lux. */
    if (has_lux && strcmp(f->key, "illuminance") == 0) {
        decode_pass_through(out, "illuminance_raw", f);
        return;
    }
    const struct decode_key_map *m =
        decode_map_find(z2m_keys, sizeof(z2m_keys) / sizeof(z2m_keys[0]), f->key);
    if (m) {
        decode_add_named(out, m->to, m->conv, 1, f);
        return;
    }
    /* Multi-gang switches: state_l1, state_left, ... -> on_l1, on_left. */
    if (strncmp(f->key, "state_", 6) == 0 && (decode_str_is(f, "ON") || decode_str_is(f, "OFF"))) {
        char key[READING_KEY_MAX + 2];
        int n = snprintf(key, sizeof(key), "on_%s", f->key + 6);
        if (n < 0 || (size_t)n >= sizeof(key))
            out->dropped_keys++;
        else
            decode_add_named(out, key, DECODE_ONOFF, 1, f);
        return;
    }
    decode_pass_through(out, f->key, f);
}

/* <base>/<name>/<attribute>: the plain value of one attribute (Zigbee2MQTT's
 * attribute output: "true", "21.5", "ON", {"x":0.3,"y":0.3}), decoded as that
 * one key of a state message. A value that is not JSON is a string. */
static enum decode_result z2m_attribute(const char *attr, const char *payload, size_t len,
                                        const struct json_limits *lim, struct reading *out,
                                        enum json_reject *why)
{
    size_t alen = strlen(attr);
    if (strpbrk(attr, "\"\\")) {
        out->dropped_keys++; /* can not be a metric key */
        return DECODE_EMPTY;
    }
    struct json_limits wl = lim ? *lim : (struct json_limits){0};
    if (lim)
        wl.max_bytes += alen + 5;
    char *wrapped = malloc(len + alen + 6);
    if (!wrapped)
        return DECODE_BAD_VALUE;
    (void)snprintf(wrapped, len + alen + 6, "{\"%s\":", attr);
    memcpy(wrapped + alen + 4, payload, len);
    wrapped[len + alen + 4] = '}';
    wrapped[len + alen + 5] = '\0';
    struct json_flat flat;
    enum decode_result rc = decode_parse(wrapped, len + alen + 5, lim ? &wl : NULL, &flat, why);
    if (rc == DECODE_OK) {
        /* Only the attribute itself (and its members when it is an object):
         * a payload like `true,"temperature":99` must not add a key. */
        for (size_t i = 0; i < flat.n; i++) {
            const char *k = flat.fields[i].key;
            if (strncmp(k, attr, alen) == 0 && (k[alen] == '\0' || k[alen] == '_'))
                z2m_field(out, &flat.fields[i], false);
            else
                out->dropped_keys++;
        }
        json_flat_free(&flat);
    } else if (len > 0 && payload[0] != '{' && payload[0] != '[' && utf8_valid(payload, len) &&
               !memchr(payload, '\0', len)) {
        if (why)
            *why = JSON_OK;
        struct json_field f = {
            .key = attr, .key_len = alen, .type = JSON_T_STRING, .str = payload, .str_len = len};
        z2m_field(out, &f, false);
    } else {
        free(wrapped);
        return rc;
    }
    free(wrapped);
    return decode_telemetry_result(out);
}

enum decode_result decode_zigbee2mqtt(const struct route *r, const char *payload, size_t len,
                                      const struct json_limits *lim, struct reading *out,
                                      enum json_reject *why)
{
    decode_begin(r, out, why);
    if (r->cls == MSG_STATUS)
        return z2m_availability(payload, len, lim, out);
    if (strncmp(r->sub, "attr/", 5) == 0)
        return z2m_attribute(r->sub + 5, payload, len, lim, out, why);
    struct json_flat flat;
    enum decode_result rc = decode_parse(payload, len, lim, &flat, why);
    if (rc != DECODE_OK)
        return rc;
    const struct json_field *lux = json_flat_get(&flat, "illuminance_lux");
    bool has_lux = lux && lux->type == JSON_T_NUMBER;
    for (size_t i = 0; i < flat.n; i++)
        z2m_field(out, &flat.fields[i], has_lux);
    json_flat_free(&flat);
    return decode_telemetry_result(out);
}
