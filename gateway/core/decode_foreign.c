/* Decoders for the off-the-shelf device formats: Zigbee2MQTT, Tasmota and
 * Shelly Gen2. Each maps the keys it names to native metric names and passes
 * other numbers and booleans through under their flattened name.
 *
 * Rules shared by the three:
 * - A named key is written once, under its native name only. When two source
 *   keys name the same metric, the first in the payload wins.
 * - A null value of a named key is ignored (devices report null for "not
 *   measured yet"); a value of the wrong type is dropped and counted.
 * - Strings, nulls and arrays the format carries for itself are ignored and
 *   not counted; a passed-through key that is not a valid metric key, or that
 *   would overwrite a metric already decoded, is dropped and counted. */
#include "decode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

enum conv {
    CONV_NUMBER, /* a JSON number */
    CONV_BOOL,   /* a JSON boolean */
    CONV_ONOFF,  /* the string "ON" or "OFF", as a boolean */
};

enum named_outcome { NAMED_ADDED, NAMED_TAKEN, NAMED_IGNORED, NAMED_REFUSED };

static void begin(const struct route *r, struct reading *out, enum json_reject *why)
{
    if (why)
        *why = JSON_OK;
    reading_reset(out, r->cls);
}

static bool str_is(const struct json_field *f, const char *word)
{
    size_t n = strlen(word);
    return f->type == JSON_T_STRING && f->str_len == n && memcmp(f->str, word, n) == 0;
}

/* Writes f under the native name to, converted per conv. */
static enum named_outcome add_named(struct reading *out, const char *to, enum conv conv,
                                    const struct json_field *f)
{
    if (f->type == JSON_T_NULL)
        return NAMED_IGNORED;
    if (reading_find(out, to))
        return NAMED_TAKEN;
    bool typed = false;
    int rc = 0;
    switch (conv) {
    case CONV_NUMBER:
        typed = f->type == JSON_T_NUMBER;
        if (typed)
            rc = reading_add_number(out, to, f->num);
        break;
    case CONV_BOOL:
        typed = f->type == JSON_T_BOOL;
        if (typed)
            rc = reading_add_bool(out, to, f->b);
        break;
    case CONV_ONOFF:
        typed = str_is(f, "ON") || str_is(f, "OFF");
        if (typed)
            rc = reading_add_bool(out, to, str_is(f, "ON"));
        break;
    }
    if (!typed) {
        out->dropped_keys++; /* reading_add_* counts its own refusals */
        return NAMED_REFUSED;
    }
    return rc == 0 ? NAMED_ADDED : NAMED_REFUSED;
}

/* Passes a number or boolean through under key; ignores other types. */
static void pass_through(struct reading *out, const char *key, const struct json_field *f)
{
    if (f->type != JSON_T_NUMBER && f->type != JSON_T_BOOL)
        return;
    if (reading_find(out, key)) {
        out->dropped_keys++;
        return;
    }
    decode_add_field(out, key, f);
}

static enum decode_result telemetry_result(const struct reading *out)
{
    return out->n_metrics > 0 ? DECODE_OK : DECODE_EMPTY;
}

/* ---- Zigbee2MQTT ------------------------------------------------------- */

struct key_map {
    const char *from;
    const char *to;
    enum conv conv;
};

/* Zigbee2MQTT exposes (https://www.zigbee2mqtt.io/guide/usage/exposes.html). */
static const struct key_map z2m_keys[] = {
    {"occupancy", "presence", CONV_BOOL},
    {"presence", "presence", CONV_BOOL},
    {"state", "on", CONV_ONOFF},
    {"power", "power_w", CONV_NUMBER},
    {"energy", "energy_kwh", CONV_NUMBER},
    {"illuminance_lux", "illuminance", CONV_NUMBER},
    {"illuminance", "illuminance", CONV_NUMBER},
    {"temperature", "temperature", CONV_NUMBER},
    {"humidity", "humidity", CONV_NUMBER},
    {"co2", "co2", CONV_NUMBER},
    {"pm25", "pm25", CONV_NUMBER},
    {"battery", "battery", CONV_NUMBER},
    {"linkquality", "linkquality", CONV_NUMBER},
};

static const struct key_map *z2m_lookup(const char *key)
{
    for (size_t i = 0; i < sizeof(z2m_keys) / sizeof(z2m_keys[0]); i++) {
        if (strcmp(z2m_keys[i].from, key) == 0)
            return &z2m_keys[i];
    }
    return NULL;
}

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
    if (state && str_is(state, "online"))
        out->status = AVAIL_ONLINE;
    else if (state && str_is(state, "offline"))
        out->status = AVAIL_OFFLINE;
    else
        rc = DECODE_BAD_STATUS;
    json_flat_free(&flat);
    return rc;
}

/* One key of a Zigbee2MQTT state message. */
static void z2m_field(struct reading *out, const struct json_field *f, bool has_lux)
{
    /* Devices that report both give "illuminance" as the raw sensor value
     * (Zigbee2MQTT 2.x calls it illuminance_raw) and lux in illuminance_lux. */
    if (has_lux && strcmp(f->key, "illuminance") == 0) {
        pass_through(out, "illuminance_raw", f);
        return;
    }
    const struct key_map *m = z2m_lookup(f->key);
    if (m) {
        add_named(out, m->to, m->conv, f);
        return;
    }
    /* Multi-gang switches: state_l1, state_left, ... -> on_l1, on_left. */
    if (strncmp(f->key, "state_", 6) == 0 && (str_is(f, "ON") || str_is(f, "OFF"))) {
        char key[READING_KEY_MAX + 2];
        int n = snprintf(key, sizeof(key), "on_%s", f->key + 6);
        if (n < 0 || (size_t)n >= sizeof(key))
            out->dropped_keys++;
        else
            add_named(out, key, CONV_ONOFF, f);
        return;
    }
    pass_through(out, f->key, f);
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
        for (size_t i = 0; i < flat.n; i++)
            z2m_field(out, &flat.fields[i], false);
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
    return telemetry_result(out);
}

enum decode_result decode_zigbee2mqtt(const struct route *r, const char *payload, size_t len,
                                      const struct json_limits *lim, struct reading *out,
                                      enum json_reject *why)
{
    begin(r, out, why);
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
    return telemetry_result(out);
}

/* ---- Tasmota ----------------------------------------------------------- */

/* The native name for a relay: POWER and POWER1 -> on, POWER<n> -> on_<n>.
 * Returns false for keys that are not relay states. */
static bool tasmota_power_key(const char *key, char *to, size_t cap)
{
    if (strncmp(key, "POWER", 5) != 0)
        return false;
    const char *n = key + 5;
    if (n[0] == '\0' || strcmp(n, "1") == 0) {
        (void)snprintf(to, cap, "on");
        return true;
    }
    size_t digits = strspn(n, "0123456789");
    if (digits == 0 || digits > 2 || n[digits] != '\0' || n[0] == '0')
        return false;
    (void)snprintf(to, cap, "on_%s", n);
    return true;
}

/* tele/<t>/STATE and stat/<t>/RESULT: only the relay states are ours; the
 * rest is device housekeeping (Uptime, Heap, Wifi) or command echoes. */
static enum decode_result tasmota_power_json(const char *payload, size_t len,
                                             const struct json_limits *lim, struct reading *out,
                                             enum json_reject *why)
{
    struct json_flat flat;
    enum decode_result rc = decode_parse(payload, len, lim, &flat, why);
    if (rc != DECODE_OK)
        return rc;
    for (size_t i = 0; i < flat.n; i++) {
        char to[16];
        if (tasmota_power_key(flat.fields[i].key, to, sizeof(to)))
            add_named(out, to, CONV_ONOFF, &flat.fields[i]);
    }
    json_flat_free(&flat);
    return telemetry_result(out);
}

/* Leaf names of Tasmota sensors (any sensor object but the chip's own and
 * ENERGY) and their native names. */
static const struct key_map tasmota_leaves[] = {
    {"CarbonDioxide", "co2", CONV_NUMBER},
    {"Temperature", "temperature", CONV_NUMBER},
    {"Humidity", "humidity", CONV_NUMBER},
    {"Pressure", "pressure", CONV_NUMBER},
    {"Illuminance", "illuminance", CONV_NUMBER},
    {"PM2.5", "pm25", CONV_NUMBER},
    {"TVOC", "tvoc", CONV_NUMBER},
};

static const struct key_map tasmota_energy[] = {
    {"Power", "power_w", CONV_NUMBER},
    {"Total", "energy_kwh", CONV_NUMBER},
    {"Voltage", "voltage", CONV_NUMBER},
    {"Current", "current", CONV_NUMBER},
};

static const struct key_map *map_find(const struct key_map *m, size_t n, const char *from)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(m[i].from, from) == 0)
            return &m[i];
    }
    return NULL;
}

/* The mapping for a flattened SENSOR key "<Sensor>_<Leaf>", or NULL. */
static const struct key_map *tasmota_sensor_map(const char *key)
{
    const char *sep = strchr(key, '_');
    if (!sep)
        return NULL; /* top level: Time, TempUnit, ... */
    size_t group_len = (size_t)(sep - key);
    const char *leaf = strrchr(key, '_') + 1;
    if (group_len == 6 && strncmp(key, "ENERGY", 6) == 0)
        return map_find(tasmota_energy, sizeof(tasmota_energy) / sizeof(tasmota_energy[0]), leaf);
    /* The chip's own temperature is not the room's. */
    if ((group_len == 5 && strncmp(key, "ESP32", 5) == 0) ||
        (group_len == 7 && strncmp(key, "ESP8266", 7) == 0))
        return NULL;
    return map_find(tasmota_leaves, sizeof(tasmota_leaves) / sizeof(tasmota_leaves[0]), leaf);
}

/* tele/<t>/SENSOR: {"Time":...,"SCD40":{"CarbonDioxide":618,...},"TempUnit":"C"}.
 * A second sensor of a kind already mapped (two thermometers) keeps its own
 * flattened name (BME280_Temperature). Fahrenheit (TempUnit "F") is
 * converted for the mapped temperature only. */
static enum decode_result tasmota_sensor(const char *payload, size_t len,
                                         const struct json_limits *lim, struct reading *out,
                                         enum json_reject *why)
{
    struct json_flat flat;
    enum decode_result rc = decode_parse(payload, len, lim, &flat, why);
    if (rc != DECODE_OK)
        return rc;
    const struct json_field *unit = json_flat_get(&flat, "TempUnit");
    bool fahrenheit = unit && str_is(unit, "F");
    for (size_t i = 0; i < flat.n; i++) {
        const struct json_field *f = &flat.fields[i];
        const struct key_map *m = tasmota_sensor_map(f->key);
        if (!m) {
            pass_through(out, f->key, f);
            continue;
        }
        struct json_field v = *f;
        if (fahrenheit && strcmp(m->to, "temperature") == 0 && v.type == JSON_T_NUMBER)
            v.num = (v.num - 32.0) * 5.0 / 9.0;
        if (add_named(out, m->to, m->conv, &v) == NAMED_TAKEN)
            pass_through(out, f->key, f);
    }
    json_flat_free(&flat);
    return telemetry_result(out);
}

enum decode_result decode_tasmota(const struct route *r, const char *payload, size_t len,
                                  const struct json_limits *lim, struct reading *out,
                                  enum json_reject *why)
{
    begin(r, out, why);
    if (strcmp(r->sub, "LWT") == 0)
        return decode_availability(payload, len, "Online", "Offline", out);
    if (strcmp(r->sub, "SENSOR") == 0)
        return tasmota_sensor(payload, len, lim, out, why);
    if (strcmp(r->sub, "STATE") == 0 || strcmp(r->sub, "RESULT") == 0)
        return tasmota_power_json(payload, len, lim, out, why);
    char to[16];
    if (!tasmota_power_key(r->sub, to, sizeof(to)))
        return DECODE_BAD_VALUE;
    /* stat/<t>/POWER[n]: plain ON / OFF. */
    if (decode_text_is(payload, len, "ON"))
        reading_add_bool(out, to, true);
    else if (decode_text_is(payload, len, "OFF"))
        reading_add_bool(out, to, false);
    else
        return DECODE_BAD_VALUE;
    return DECODE_OK;
}

/* ---- Shelly Gen2 ------------------------------------------------------- */

/* One field of a switch component, key "switch:<n>_<path>" (already without
 * "params_"). output, apower and aenergy.total (Wh) become on, power_w and
 * energy_kwh for switch:0, on_<n>, power_w_<n>, energy_kwh_<n> for the others;
 * the component's own id is left out; other numbers and booleans pass
 * through as "switch:<n>_<path>". */
static void shelly_switch_field(struct reading *out, const char *key, const struct json_field *f)
{
    const char *num = key + 7; /* after "switch:" */
    size_t digits = strspn(num, "0123456789");
    if (digits == 0 || digits > 3 || num[digits] != '_' || (digits > 1 && num[0] == '0'))
        return; /* not a field of a switch object */
    const char *path = num + digits + 1;
    char suffix[8] = "";
    if (!(digits == 1 && num[0] == '0'))
        (void)snprintf(suffix, sizeof(suffix), "_%.*s", (int)digits, num);

    char to[32];
    struct json_field v = *f;
    enum conv conv;
    if (strcmp(path, "output") == 0) {
        (void)snprintf(to, sizeof(to), "on%s", suffix);
        conv = CONV_BOOL;
    } else if (strcmp(path, "apower") == 0) {
        (void)snprintf(to, sizeof(to), "power_w%s", suffix);
        conv = CONV_NUMBER;
    } else if (strcmp(path, "aenergy_total") == 0) {
        (void)snprintf(to, sizeof(to), "energy_kwh%s", suffix);
        conv = CONV_NUMBER;
        v.num = f->num / 1000.0;
    } else if (strcmp(path, "id") == 0) {
        return;
    } else {
        pass_through(out, key, f);
        return;
    }
    add_named(out, to, conv, &v);
}

/* <id>/events/rpc: NotifyStatus (changes) and NotifyFullStatus carry
 * component states in params; params.ts is the device's clock. NotifyEvent
 * (button presses, ...) and other methods carry no metric: DECODE_EMPTY. */
static enum decode_result shelly_rpc(const char *payload, size_t len, const struct json_limits *lim,
                                     struct reading *out, enum json_reject *why)
{
    struct json_flat flat;
    enum decode_result rc = decode_parse(payload, len, lim, &flat, why);
    if (rc != DECODE_OK)
        return rc;
    const struct json_field *method = json_flat_get(&flat, "method");
    if (!method || method->type != JSON_T_STRING) {
        rc = DECODE_BAD_VALUE;
        goto out_free_flat;
    }
    if (!str_is(method, "NotifyStatus") && !str_is(method, "NotifyFullStatus")) {
        rc = DECODE_EMPTY;
        goto out_free_flat;
    }
    for (size_t i = 0; i < flat.n; i++) {
        const struct json_field *f = &flat.fields[i];
        if (strcmp(f->key, "params_ts") == 0) {
            if (f->type == JSON_T_NUMBER)
                reading_set_ts(out, f->num);
            else if (f->type != JSON_T_NULL)
                out->dropped_keys++;
        } else if (strncmp(f->key, "params_switch:", 14) == 0) {
            shelly_switch_field(out, f->key + 7, f);
        }
    }
    rc = telemetry_result(out);
out_free_flat:
    json_flat_free(&flat);
    return rc;
}

/* <id>/status/switch:<n>: the switch object itself. */
static enum decode_result shelly_status(const char *component, const char *payload, size_t len,
                                        const struct json_limits *lim, struct reading *out,
                                        enum json_reject *why)
{
    struct json_flat flat;
    enum decode_result rc = decode_parse(payload, len, lim, &flat, why);
    if (rc != DECODE_OK)
        return rc;
    for (size_t i = 0; i < flat.n; i++) {
        char key[JSON_KEY_MAX + 16];
        int n = snprintf(key, sizeof(key), "%s_%s", component, flat.fields[i].key);
        if (n > 0 && (size_t)n < sizeof(key))
            shelly_switch_field(out, key, &flat.fields[i]);
    }
    json_flat_free(&flat);
    return telemetry_result(out);
}

enum decode_result decode_shelly(const struct route *r, const char *payload, size_t len,
                                 const struct json_limits *lim, struct reading *out,
                                 enum json_reject *why)
{
    begin(r, out, why);
    if (strcmp(r->sub, "online") == 0)
        return decode_availability(payload, len, "true", "false", out);
    if (strcmp(r->sub, "events/rpc") == 0)
        return shelly_rpc(payload, len, lim, out, why);
    if (strncmp(r->sub, "status/switch:", 14) == 0)
        return shelly_status(r->sub + 7, payload, len, lim, out, why);
    return DECODE_BAD_VALUE;
}
