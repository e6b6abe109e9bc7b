/* Tasmota: tele/<t>/SENSOR, STATE, LWT, stat/<t>/RESULT, POWER<n> and the
 * replies to Status 8, 10 and 11 (decode.h has the mapping). */
#include "decode_foreign.h"

#include <stdio.h>
#include <string.h>

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

/* A switch input: Switch<n> -> switch_<n> (Switch1 -> switch_1), n 1..28. */
static bool tasmota_switch_key(const char *key, char *to, size_t cap)
{
    if (strncmp(key, "Switch", 6) != 0)
        return false;
    const char *n = key + 6;
    size_t digits = strspn(n, "0123456789");
    if (digits == 0 || digits > 2 || n[digits] != '\0' || n[0] == '0')
        return false;
    (void)snprintf(to, cap, "switch_%s", n);
    return true;
}

/* The numbers of STATE that tell a device's health. */
static const struct decode_key_map tasmota_health[] = {
    {"Wifi_RSSI", "wifi_rssi", DECODE_NUMBER},
    {"Wifi_Signal", "wifi_signal_dbm", DECODE_NUMBER},
    {"UptimeSec", "uptime_s", DECODE_NUMBER},
    {"LoadAvg", "load_avg", DECODE_NUMBER},
};

/* The keys of flat under prefix ("" for all), without it; NULL for others. */
static const char *under(const struct json_field *f, const char *prefix)
{
    size_t n = strlen(prefix);
    return strncmp(f->key, prefix, n) == 0 ? f->key + n : NULL;
}

/* tele/<t>/STATE, stat/<t>/RESULT and the StatusSTS of a Status 11 reply:
 * the relay states, and for STATE the health numbers; the rest is device
 * housekeeping or command echoes. */
static enum decode_result tasmota_state(const char *payload, size_t len,
                                        const struct json_limits *lim, const char *prefix,
                                        bool health, struct reading *out, enum json_reject *why)
{
    struct json_flat flat;
    enum decode_result rc = decode_parse(payload, len, lim, &flat, why);
    if (rc != DECODE_OK)
        return rc;
    for (size_t i = 0; i < flat.n; i++) {
        const struct json_field *f = &flat.fields[i];
        const char *key = under(f, prefix);
        char to[16];
        const struct decode_key_map *m = NULL;
        if (!key)
            continue;
        if (tasmota_power_key(key, to, sizeof(to)))
            decode_add_named(out, to, DECODE_ONOFF, 1, f);
        else if (health &&
                 (m = decode_map_find(tasmota_health,
                                      sizeof(tasmota_health) / sizeof(tasmota_health[0]), key)))
            decode_add_named(out, m->to, m->conv, 1, f);
    }
    json_flat_free(&flat);
    return decode_telemetry_result(out);
}

/* Leaf names of Tasmota sensors (any sensor object but the chip's own and
 * ENERGY) and their native names. */
static const struct decode_key_map tasmota_leaves[] = {
    {"CarbonDioxide", "co2", DECODE_NUMBER},
    {"Temperature", "temperature", DECODE_NUMBER},
    {"Humidity", "humidity", DECODE_NUMBER},
    {"Pressure", "pressure", DECODE_NUMBER},
    {"Illuminance", "illuminance", DECODE_NUMBER},
    {"PM2.5", "pm25", DECODE_NUMBER},
    {"TVOC", "tvoc", DECODE_NUMBER},
};

static const struct decode_key_map tasmota_energy[] = {
    {"Power", "power_w", DECODE_NUMBER},
    {"Total", "energy_kwh", DECODE_NUMBER},
    {"Voltage", "voltage", DECODE_NUMBER},
    {"Current", "current", DECODE_NUMBER},
};

/* The mapping for a flattened sensor key "<Sensor>_<Leaf>", or NULL. */
static const struct decode_key_map *tasmota_sensor_map(const char *key)
{
    const char *sep = strchr(key, '_');
    if (!sep)
        return NULL; /* top level: Time, TempUnit, ... */
    size_t group_len = (size_t)(sep - key);
    const char *leaf = strrchr(key, '_') + 1;
    if (group_len == 6 && strncmp(key, "ENERGY", 6) == 0)
        return decode_map_find(tasmota_energy, sizeof(tasmota_energy) / sizeof(tasmota_energy[0]),
                               leaf);
    /* The chip's own temperature is not the room's. */
    if ((group_len == 5 && strncmp(key, "ESP32", 5) == 0) ||
        (group_len == 7 && strncmp(key, "ESP8266", 7) == 0))
        return NULL;
    return decode_map_find(tasmota_leaves, sizeof(tasmota_leaves) / sizeof(tasmota_leaves[0]),
                           leaf);
}

/* One field of the sensor readings, key without the prefix. */
static void tasmota_sensor_field(struct reading *out, const char *key, const struct json_field *f,
                                 bool fahrenheit)
{
    char base[JSON_KEY_MAX + 1], to[16];
    if (tasmota_switch_key(key, to, sizeof(to))) {
        decode_add_named(out, to, DECODE_ONOFF, 1, f);
        return;
    }
    /* An array item: mapped by the array's key (ENERGY_Total_1 by ENERGY_Total). */
    struct json_field item = *f;
    item.key = key;
    item.key_len = strlen(key);
    const char *mkey = decode_item_base(&item, base, sizeof(base));
    const struct decode_key_map *m = mkey ? tasmota_sensor_map(mkey) : NULL;
    if (!m) {
        decode_pass_through(out, key, f);
        return;
    }
    if (fahrenheit && strcmp(m->to, "temperature") == 0 && decode_field_number(f, &item.num) == 0) {
        item.type = JSON_T_NUMBER;
        item.num = (item.num - 32.0) * 5.0 / 9.0;
    }
    if (decode_add_named(out, m->to, m->conv, 1, &item) == DECODE_TAKEN)
        decode_pass_through(out, key, f);
}

/* tele/<t>/SENSOR: {"Time":...,"SCD40":{"CarbonDioxide":618,...},"TempUnit":"C"},
 * and the same under "StatusSNS" in the replies to Status 8 and 10. A
 * second sensor of a kind already mapped (two thermometers) keeps its own
 * flattened name (BME280_Temperature). Fahrenheit (TempUnit "F") is
 * converted for the mapped temperature only. */
static enum decode_result tasmota_sensor(const char *payload, size_t len,
                                         const struct json_limits *lim, const char *prefix,
                                         struct reading *out, enum json_reject *why)
{
    struct json_flat flat;
    enum decode_result rc = decode_parse_items(payload, len, lim, &flat, why);
    if (rc != DECODE_OK)
        return rc;
    char unit_key[32];
    (void)snprintf(unit_key, sizeof(unit_key), "%sTempUnit", prefix);
    const struct json_field *unit = json_flat_get(&flat, unit_key);
    bool fahrenheit = unit && decode_str_is(unit, "F");
    out->dropped_keys += flat.dropped; /* readings past DECODE_MAX_ITEMS, nested arrays */
    for (size_t i = 0; i < flat.n; i++) {
        const char *key = under(&flat.fields[i], prefix);
        if (key)
            tasmota_sensor_field(out, key, &flat.fields[i], fahrenheit);
    }
    json_flat_free(&flat);
    return decode_telemetry_result(out);
}

enum decode_result decode_tasmota(const struct route *r, const char *payload, size_t len,
                                  const struct json_limits *lim, struct reading *out,
                                  enum json_reject *why)
{
    decode_begin(r, out, why);
    if (strcmp(r->sub, "LWT") == 0)
        return decode_availability(payload, len, "Online", "Offline", out);
    if (strcmp(r->sub, "SENSOR") == 0)
        return tasmota_sensor(payload, len, lim, "", out, why);
    if (strcmp(r->sub, "STATUS8") == 0 || strcmp(r->sub, "STATUS10") == 0)
        return tasmota_sensor(payload, len, lim, "StatusSNS_", out, why);
    if (strcmp(r->sub, "STATE") == 0)
        return tasmota_state(payload, len, lim, "", true, out, why);
    if (strcmp(r->sub, "STATUS11") == 0)
        return tasmota_state(payload, len, lim, "StatusSTS_", true, out, why);
    if (strcmp(r->sub, "RESULT") == 0)
        return tasmota_state(payload, len, lim, "", false, out, why);
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
