#include "decode.h"

#include <errno.h>
#include <string.h>

const char *decode_result_name(enum decode_result r)
{
    switch (r) {
    case DECODE_OK:
        return "ok";
    case DECODE_EMPTY:
        return "empty";
    case DECODE_BAD_JSON:
        return "bad_json";
    case DECODE_BAD_STATUS:
        return "bad_status";
    case DECODE_BAD_EVENT:
        return "bad_event";
    case DECODE_BAD_VALUE:
        return "bad_value";
    }
    return "unknown";
}

enum decode_result decode_parse(const char *payload, size_t len, const struct json_limits *lim,
                                struct json_flat *flat, enum json_reject *why)
{
    enum json_reject j = json_flatten(payload, len, lim, flat);
    if (why)
        *why = j;
    return j == JSON_OK ? DECODE_OK : DECODE_BAD_JSON;
}

int decode_add_field(struct reading *out, const char *key, const struct json_field *f)
{
    switch (f->type) {
    case JSON_T_NUMBER:
        return reading_add_number(out, key, f->num);
    case JSON_T_BOOL:
        return reading_add_bool(out, key, f->b);
    case JSON_T_STRING:
        return reading_add_string(out, key, f->str, f->str_len);
    case JSON_T_NULL:
        break;
    }
    out->dropped_keys++;
    return -EINVAL;
}

bool decode_text_is(const char *payload, size_t len, const char *word)
{
    size_t n = strlen(word);
    return payload && len == n && memcmp(payload, word, n) == 0;
}

enum decode_result decode_availability(const char *payload, size_t len, const char *online,
                                       const char *offline, struct reading *out)
{
    if (decode_text_is(payload, len, online))
        out->status = AVAIL_ONLINE;
    else if (decode_text_is(payload, len, offline))
        out->status = AVAIL_OFFLINE;
    else
        return DECODE_BAD_STATUS;
    return DECODE_OK;
}

/* Status: the retained LWT, plain "online" or "offline". */
static enum decode_result native_status(const char *payload, size_t len, struct reading *out)
{
    return decode_availability(payload, len, "online", "offline", out);
}

static enum decode_result native_event_type(const struct json_field *type, struct reading *out)
{
    if (!type || type->type != JSON_T_STRING || !reading_key_valid(type->str, type->str_len))
        return DECODE_BAD_EVENT;
    memcpy(out->event, type->str, type->str_len);
    out->event[type->str_len] = '\0';
    return DECODE_OK;
}

/* A reply needs its command id (string or number) and one of the results
 * the agent may give. */
static enum decode_result native_reply_check(const struct reading *out)
{
    static const char *const results[] = {"accepted", "refused", "done", "failed"};
    const struct metric *id = reading_find(out, "id");
    const struct metric *result = reading_find(out, "result");
    if (!id || id->type == METRIC_BOOL || !result || result->type != METRIC_STRING)
        return DECODE_BAD_VALUE;
    for (size_t i = 0; i < sizeof(results) / sizeof(results[0]); i++) {
        if (strcmp(result->v.str, results[i]) == 0)
            return DECODE_OK;
    }
    return DECODE_BAD_VALUE;
}

enum decode_result decode_native(const struct route *r, const char *payload, size_t len,
                                 const struct json_limits *lim, struct reading *out,
                                 enum json_reject *why)
{
    if (why)
        *why = JSON_OK;
    reading_reset(out, r->cls);
    if (r->cls == MSG_STATUS)
        return native_status(payload, len, out);

    struct json_flat flat;
    enum decode_result rc = decode_parse(payload, len, lim, &flat, why);
    if (rc != DECODE_OK)
        return rc;
    out->dropped_keys += flat.dropped;
    const struct json_field *type = NULL;
    for (size_t i = 0; i < flat.n; i++) {
        const struct json_field *f = &flat.fields[i];
        if (strcmp(f->key, "ts") == 0) {
            if (f->type == JSON_T_NUMBER)
                reading_set_ts(out, f->num); /* counts an implausible ts */
            else
                out->dropped_keys++;
        } else if (r->cls == MSG_EVENT && strcmp(f->key, "type") == 0) {
            type = f;
        } else {
            decode_add_field(out, f->key, f);
        }
    }
    switch (r->cls) {
    case MSG_EVENT:
        rc = native_event_type(type, out);
        break;
    case MSG_REPLY:
        rc = native_reply_check(out);
        break;
    case MSG_TELEMETRY:
    case MSG_STATUS:
        rc = out->n_metrics > 0 ? DECODE_OK : DECODE_EMPTY;
        break;
    }
    json_flat_free(&flat);
    return rc;
}

enum decode_result decode_message(const struct route *r, const char *payload, size_t len,
                                  const struct json_limits *lim, struct reading *out,
                                  enum json_reject *why)
{
    switch (r->format) {
    case FORMAT_NATIVE:
        return decode_native(r, payload, len, lim, out, why);
    case FORMAT_ZIGBEE2MQTT:
        return decode_zigbee2mqtt(r, payload, len, lim, out, why);
    case FORMAT_TASMOTA:
        return decode_tasmota(r, payload, len, lim, out, why);
    case FORMAT_SHELLY:
        return decode_shelly(r, payload, len, lim, out, why);
    }
    if (why)
        *why = JSON_OK;
    reading_reset(out, r->cls);
    return DECODE_BAD_VALUE;
}
