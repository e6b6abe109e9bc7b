/* Shelly Gen2+: <id>/events/rpc, <id>/online and <id>/status/<component>
 * (decode.h has the mapping). */
#include "decode_foreign.h"

#include <stdio.h>
#include <string.h>

/* The fields of a component that have a native name (to NULL: the field is
 * left out); the component's number n > 0 appends "_<n>". Energy counters
 * are Wh on the device, kWh here. */
struct shelly_field {
    const char *comp;
    const char *path;
    const char *to;
    enum decode_conv conv;
    double scale;
};

static const struct shelly_field shelly_fields[] = {
    {"switch", "output", "on", DECODE_BOOL, 1},
    {"switch", "apower", "power_w", DECODE_NUMBER, 1},
    {"switch", "aenergy_total", "energy_kwh", DECODE_NUMBER, 0.001},
    {"em1", "act_power", "power_w", DECODE_NUMBER, 1},
    {"em1", "voltage", "voltage", DECODE_NUMBER, 1},
    {"em1", "current", "current", DECODE_NUMBER, 1},
    {"em", "total_act_power", "power_w", DECODE_NUMBER, 1},
    {"em", "a_act_power", "power_w_a", DECODE_NUMBER, 1},
    {"em", "b_act_power", "power_w_b", DECODE_NUMBER, 1},
    {"em", "c_act_power", "power_w_c", DECODE_NUMBER, 1},
    {"temperature", "tC", "temperature", DECODE_NUMBER, 1},
    {"temperature", "tF", NULL, DECODE_NUMBER, 1},
    {"humidity", "rh", "humidity", DECODE_NUMBER, 1},
    {"devicepower", "battery_percent", "battery", DECODE_NUMBER, 1},
};

/* The components read; the others (sys, wifi, input, ...) are ignored. */
static const char *const shelly_components[] = {"switch",      "em1",      "em",
                                                "temperature", "humidity", "devicepower"};

/* The length of the component type at key when it is one read, else 0. */
static size_t shelly_component(const char *key)
{
    for (size_t i = 0; i < sizeof(shelly_components) / sizeof(shelly_components[0]); i++) {
        size_t n = strlen(shelly_components[i]);
        if (strncmp(key, shelly_components[i], n) == 0 && key[n] == ':')
            return n;
    }
    return 0;
}

/* One field of a component, key "<type>:<n>_<path>" (already without
 * "params_"). The fields of shelly_fields get their native names, the
 * component's own id is left out, other numbers and booleans pass through
 * as "<type>:<n>_<path>". */
static void shelly_field(struct reading *out, const char *key, const struct json_field *f)
{
    size_t type_len = shelly_component(key);
    if (!type_len)
        return; /* a component not read */
    const char *num = key + type_len + 1;
    size_t digits = strspn(num, "0123456789");
    if (digits == 0 || digits > 3 || num[digits] != '_' || (digits > 1 && num[0] == '0'))
        return; /* not a field of a component object */
    const char *path = num + digits + 1;
    if (strcmp(path, "id") == 0)
        return;
    const struct shelly_field *m = NULL;
    for (size_t i = 0; i < sizeof(shelly_fields) / sizeof(shelly_fields[0]); i++) {
        if (strlen(shelly_fields[i].comp) == type_len &&
            strncmp(key, shelly_fields[i].comp, type_len) == 0 &&
            strcmp(path, shelly_fields[i].path) == 0) {
            m = &shelly_fields[i];
            break;
        }
    }
    if (!m) {
        decode_pass_through(out, key, f);
        return;
    }
    if (!m->to)
        return;
    char to[32];
    if (digits == 1 && num[0] == '0')
        (void)snprintf(to, sizeof(to), "%s", m->to);
    else
        (void)snprintf(to, sizeof(to), "%s_%.*s", m->to, (int)digits, num);
    decode_add_named(out, to, m->conv, m->scale, f);
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
    if (!decode_str_is(method, "NotifyStatus") && !decode_str_is(method, "NotifyFullStatus")) {
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
        } else if (strncmp(f->key, "params_", 7) == 0) {
            shelly_field(out, f->key + 7, f);
        }
    }
    rc = decode_telemetry_result(out);
out_free_flat:
    json_flat_free(&flat);
    return rc;
}

/* <id>/status/<type>:<n>: the component object itself. */
static enum decode_result shelly_status(const char *component, const char *payload, size_t len,
                                        const struct json_limits *lim, struct reading *out,
                                        enum json_reject *why)
{
    size_t type_len = shelly_component(component);
    if (!type_len)
        return DECODE_BAD_VALUE;
    const char *num = component + type_len + 1;
    size_t digits = strspn(num, "0123456789");
    if (digits == 0 || digits > 3 || num[digits] != '\0')
        return DECODE_BAD_VALUE;
    struct json_flat flat;
    enum decode_result rc = decode_parse(payload, len, lim, &flat, why);
    if (rc != DECODE_OK)
        return rc;
    for (size_t i = 0; i < flat.n; i++) {
        char key[JSON_KEY_MAX + 32];
        int n = snprintf(key, sizeof(key), "%s_%s", component, flat.fields[i].key);
        if (n > 0 && (size_t)n < sizeof(key))
            shelly_field(out, key, &flat.fields[i]);
    }
    json_flat_free(&flat);
    return decode_telemetry_result(out);
}

enum decode_result decode_shelly(const struct route *r, const char *payload, size_t len,
                                 const struct json_limits *lim, struct reading *out,
                                 enum json_reject *why)
{
    if (strncmp(r->sub, "gen1/", 5) == 0)
        return decode_shelly1(r, payload, len, lim, out, why);
    decode_begin(r, out, why);
    if (strcmp(r->sub, "online") == 0)
        return decode_availability(payload, len, "true", "false", out);
    if (strcmp(r->sub, "events/rpc") == 0)
        return shelly_rpc(payload, len, lim, out, why);
    if (strncmp(r->sub, "status/", 7) == 0)
        return shelly_status(r->sub + 7, payload, len, lim, out, why);
    return DECODE_BAD_VALUE;
}
