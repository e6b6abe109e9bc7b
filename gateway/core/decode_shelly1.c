/* The decoder of Shelly first-generation (Gen1) devices: one value per topic
 * under shellies/<id>/, as plain text (JSON for announce and
 * ext_temperatures). Routed with sub "gen1/<path>" (topic.h).
 *
 * Units as the Gen1 API gives them: power in W, the relay and emeter
 * "energy" counters in watt-minutes, the emeter "total" counters in Wh; both
 * are written in kWh. A value that is not what its topic carries is
 * DECODE_BAD_VALUE, counted by ingest. */
#include "decode.h"
#include "decode_foreign.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "id.h"

#define WMIN_PER_KWH 60000.0
#define WH_PER_KWH 1000.0

/* "<base>" for channel "0", "<base>_<n>" for the others. */
static void channel_name(char *to, size_t cap, const char *base, const char *n, size_t n_len)
{
    if (n_len == 1 && n[0] == '0')
        (void)snprintf(to, cap, "%s", base);
    else
        (void)snprintf(to, cap, "%s_%.*s", base, (int)n_len, n);
}

static enum decode_result add_scaled(struct reading *out, const char *key, const char *payload,
                                     size_t len, double divisor)
{
    double v;
    if (decode_number_text(payload, len, &v) != 0)
        return DECODE_BAD_VALUE;
    return reading_add_number(out, key, v / divisor) == 0 ? DECODE_OK : DECODE_BAD_VALUE;
}

/* relay/<n>: "on", "off", or "overpower" (the relay switched itself off). */
static enum decode_result relay_state(struct reading *out, const char *n, size_t n_len,
                                      const char *payload, size_t len)
{
    char on[32], over[40];
    channel_name(on, sizeof(on), "on", n, n_len);
    if (decode_text_is(payload, len, "on") || decode_text_is(payload, len, "off")) {
        reading_add_bool(out, on, decode_text_is(payload, len, "on"));
        return DECODE_OK;
    }
    if (!decode_text_is(payload, len, "overpower"))
        return DECODE_BAD_VALUE;
    channel_name(over, sizeof(over), "overpower", n, n_len);
    reading_add_bool(out, on, false);
    reading_add_bool(out, over, true);
    return DECODE_OK;
}

/* relay/<n>[/power|/energy] (after "relay/"). */
static enum decode_result relay(struct reading *out, const char *path, const char *payload,
                                size_t len)
{
    size_t n_len = strcspn(path, "/");
    const char *leaf = path[n_len] ? path + n_len + 1 : NULL;
    char key[40];
    if (!leaf)
        return relay_state(out, path, n_len, payload, len);
    if (strcmp(leaf, "power") == 0) {
        channel_name(key, sizeof(key), "power_w", path, n_len);
        return add_scaled(out, key, payload, len, 1.0);
    }
    if (strcmp(leaf, "energy") == 0) {
        channel_name(key, sizeof(key), "energy_kwh", path, n_len);
        return add_scaled(out, key, payload, len, WMIN_PER_KWH);
    }
    return DECODE_BAD_VALUE;
}

/* emeter/<n>/<leaf> (after "emeter/"): the native name and the divisor that
 * makes its unit. */
static const struct {
    const char *leaf, *base;
    double divisor;
} emeter_leaves[] = {
    {"power", "power_w", 1.0},
    {"reactive_power", "reactive_power_var", 1.0},
    {"voltage", "voltage", 1.0},
    {"current", "current", 1.0},
    {"pf", "power_factor", 1.0},
    {"energy", "energy_kwh", WMIN_PER_KWH},
    {"returned_energy", "returned_energy_kwh", WMIN_PER_KWH},
    {"total", "total_kwh", WH_PER_KWH},
    {"total_returned", "total_returned_kwh", WH_PER_KWH},
};

static enum decode_result emeter(struct reading *out, const char *path, const char *payload,
                                 size_t len)
{
    size_t n_len = strcspn(path, "/");
    const char *leaf = path[n_len] ? path + n_len + 1 : "";
    for (size_t i = 0; i < sizeof(emeter_leaves) / sizeof(emeter_leaves[0]); i++) {
        if (strcmp(leaf, emeter_leaves[i].leaf) == 0) {
            char key[48];
            channel_name(key, sizeof(key), emeter_leaves[i].base, path, n_len);
            return add_scaled(out, key, payload, len, emeter_leaves[i].divisor);
        }
    }
    return DECODE_BAD_VALUE;
}

/* sensor/<name>: H&T temperature, humidity and battery (numbers), lux,
 * tilt; door/window state "open"/"close" -> open; flood "true"/"false";
 * vibration 0/1. */
static enum decode_result sensor(struct reading *out, const char *name, const char *payload,
                                 size_t len)
{
    if (strcmp(name, "state") == 0) {
        if (!decode_text_is(payload, len, "open") && !decode_text_is(payload, len, "close"))
            return DECODE_BAD_VALUE;
        reading_add_bool(out, "open", decode_text_is(payload, len, "open"));
        return DECODE_OK;
    }
    if (strcmp(name, "flood") == 0) {
        if (!decode_text_is(payload, len, "true") && !decode_text_is(payload, len, "false"))
            return DECODE_BAD_VALUE;
        reading_add_bool(out, "flood", decode_text_is(payload, len, "true"));
        return DECODE_OK;
    }
    if (strcmp(name, "vibration") == 0) {
        if (!decode_text_is(payload, len, "0") && !decode_text_is(payload, len, "1"))
            return DECODE_BAD_VALUE;
        reading_add_bool(out, "vibration", decode_text_is(payload, len, "1"));
        return DECODE_OK;
    }
    return add_scaled(out, strcmp(name, "lux") == 0 ? "illuminance" : name, payload, len, 1.0);
}

/* ext_temperatures: {"<n>":{"hwID":"...","tC":21.5,"tF":70.7},...}: tC of
 * each sensor -> ext_temperature_<n>. */
static enum decode_result ext_temperatures(const char *payload, size_t len,
                                           const struct json_limits *lim, struct reading *out,
                                           enum json_reject *why)
{
    struct json_flat flat;
    enum decode_result rc = decode_parse(payload, len, lim, &flat, why);
    if (rc != DECODE_OK)
        return rc;
    for (size_t i = 0; i < flat.n; i++) {
        const struct json_field *f = &flat.fields[i];
        size_t klen = strlen(f->key);
        if (klen < 4 || strcmp(f->key + klen - 3, "_tC") != 0)
            continue;
        if (f->type != JSON_T_NUMBER) {
            if (f->type != JSON_T_NULL)
                out->dropped_keys++;
            continue;
        }
        char key[READING_KEY_MAX + 2];
        int n = snprintf(key, sizeof(key), "ext_temperature_%.*s", (int)(klen - 3), f->key);
        if (n < 0 || (size_t)n >= sizeof(key))
            out->dropped_keys++;
        else
            reading_add_number(out, key, f->num);
    }
    json_flat_free(&flat);
    return out->n_metrics > 0 ? DECODE_OK : DECODE_EMPTY;
}

int decode_shelly1_announce_id(const char *payload, size_t len, const struct json_limits *lim,
                               char *id, size_t cap)
{
    struct json_flat flat;
    if (decode_parse(payload, len, lim, &flat, NULL) != DECODE_OK)
        return -EINVAL;
    const struct json_field *f = json_flat_get(&flat, "id");
    int rc = -EINVAL;
    if (f && f->type == JSON_T_STRING && f->str_len < cap && id_valid(f->str, f->str_len)) {
        memcpy(id, f->str, f->str_len);
        id[f->str_len] = '\0';
        rc = 0;
    }
    json_flat_free(&flat);
    return rc;
}

enum decode_result decode_shelly1(const struct route *r, const char *payload, size_t len,
                                  const struct json_limits *lim, struct reading *out,
                                  enum json_reject *why)
{
    const char *path = r->sub + 5; /* after "gen1/" */
    if (why)
        *why = JSON_OK;
    reading_reset(out, r->cls);
    if (strcmp(path, "online") == 0)
        return decode_availability(payload, len, "true", "false", out);
    if (strcmp(path, "announce") == 0) {
        /* Sent when the device connects: it is online. */
        struct json_flat flat;
        enum decode_result rc = decode_parse(payload, len, lim, &flat, why);
        if (rc != DECODE_OK)
            return rc;
        json_flat_free(&flat);
        out->status = AVAIL_ONLINE;
        return DECODE_OK;
    }
    if (strncmp(path, "relay/", 6) == 0)
        return relay(out, path + 6, payload, len);
    if (strncmp(path, "emeter/", 7) == 0)
        return emeter(out, path + 7, payload, len);
    if (strncmp(path, "sensor/", 7) == 0)
        return sensor(out, path + 7, payload, len);
    if (strcmp(path, "temperature") == 0) /* the device's own, not the room's */
        return add_scaled(out, "device_temperature", payload, len, 1.0);
    if (strncmp(path, "ext_temperature/", 16) == 0) {
        char key[40];
        (void)snprintf(key, sizeof(key), "ext_temperature_%s", path + 16);
        return add_scaled(out, key, payload, len, 1.0);
    }
    if (strcmp(path, "ext_temperatures") == 0)
        return ext_temperatures(payload, len, lim, out, why);
    return DECODE_BAD_VALUE;
}
