#include "topic.h"

#include <string.h>

#include "id.h"
#include "utf8.h"

/* One level of a topic: a byte range, not NUL-terminated. */
struct slice {
    const char *p;
    size_t len;
};

static bool slice_is(struct slice s, const char *word)
{
    size_t n = strlen(word);
    return s.len == n && memcmp(s.p, word, n) == 0;
}

/* Splits s at '/' into lv (at most max levels). Returns the number of levels,
 * or max + 1 when there are more. */
static size_t split(const char *s, size_t len, struct slice *lv, size_t max)
{
    size_t n = 0, start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && s[i] != '/')
            continue;
        if (n == max)
            return max + 1;
        lv[n].p = s + start;
        lv[n].len = i - start;
        n++;
        start = i + 1;
    }
    return n;
}

static void copy_slice(char *dst, size_t cap, struct slice s)
{
    size_t n = s.len < cap - 1 ? s.len : cap - 1;
    memcpy(dst, s.p, n);
    dst[n] = '\0';
}

static bool slice_id_valid(struct slice s)
{
    return id_valid(s.p, s.len);
}

/* <prefix>/<hall>/<device>/{telemetry,status,event} and .../cmd/reply. The
 * shape is checked first, then the ids. */
static enum route_result route_native(const char *rest, size_t len, struct route *out)
{
    struct slice lv[4];
    size_t n = split(rest, len, lv, 4);
    if (n == 3 && slice_is(lv[2], "telemetry"))
        out->cls = MSG_TELEMETRY;
    else if (n == 3 && slice_is(lv[2], "status"))
        out->cls = MSG_STATUS;
    else if (n == 3 && slice_is(lv[2], "event"))
        out->cls = MSG_EVENT;
    else if (n == 4 && slice_is(lv[2], "cmd") && slice_is(lv[3], "reply"))
        out->cls = MSG_REPLY;
    else
        return ROUTE_BAD_TOPIC; /* including <prefix>/<hall>/<device>/cmd, our own output */

    /* Gateways' own status (hall/_gateway/<id>/status) is not device input. */
    if (n == 3 && out->cls == MSG_STATUS && slice_is(lv[0], "_gateway") && slice_id_valid(lv[1]))
        return ROUTE_IGNORE;
    if (!slice_id_valid(lv[0]) || slice_is(lv[0], "_gateway"))
        return ROUTE_BAD_ID;
    if (!slice_id_valid(lv[1]) || slice_is(lv[1], "alerts") || slice_is(lv[1], "windows") ||
        slice_is(lv[1], "state"))
        return ROUTE_BAD_ID;
    out->format = FORMAT_NATIVE;
    copy_slice(out->hall, sizeof(out->hall), lv[0]);
    copy_slice(out->device, sizeof(out->device), lv[1]);
    return ROUTE_OK;
}

/* A Zigbee2MQTT friendly name: levels without empty ones, at most
 * TOPIC_NAME_MAX bytes (control bytes, '+', '#' and bad UTF-8 were refused
 * for the whole topic already). */
static bool z2m_name_valid(const char *s, size_t len)
{
    if (len == 0 || len > TOPIC_NAME_MAX || s[0] == '/' || s[len - 1] == '/')
        return false;
    for (size_t i = 1; i < len; i++) {
        if (s[i] == '/' && s[i - 1] == '/')
            return false;
    }
    return true;
}

/* The last level of s[0..len) (all of it when there is no '/'). */
static struct slice last_level(const char *s, size_t len)
{
    size_t i = len;
    while (i > 0 && s[i - 1] != '/')
        i--;
    return (struct slice){s + i, len - i};
}

static bool is_set_or_get(struct slice s)
{
    return slice_is(s, "set") || slice_is(s, "get");
}

/* zigbee2mqtt/<friendly name>[/availability]; bridge/... and the set/get
 * command topics (<name>/set, <name>/set/<attr>) carry nothing for us. */
static enum route_result route_z2m(const char *rest, size_t len, struct route *out)
{
    struct slice first = {0};
    split(rest, len, &first, 1);
    if (slice_is(first, "bridge"))
        return ROUTE_IGNORE;
    struct slice last = last_level(rest, len);
    if (last.len < len) {
        size_t before = len - last.len - 1; /* without the '/' */
        if (is_set_or_get(last) || is_set_or_get(last_level(rest, before)))
            return ROUTE_IGNORE;
        if (slice_is(last, "availability")) {
            if (!z2m_name_valid(rest, before))
                return ROUTE_BAD_ID;
            out->format = FORMAT_ZIGBEE2MQTT;
            out->cls = MSG_STATUS;
            copy_slice(out->name, sizeof(out->name), (struct slice){rest, before});
            strcpy(out->sub, "availability");
            return ROUTE_OK;
        }
    }
    if (!z2m_name_valid(rest, len))
        return len == 0 ? ROUTE_BAD_TOPIC : ROUTE_BAD_ID;
    out->format = FORMAT_ZIGBEE2MQTT;
    out->cls = MSG_TELEMETRY;
    copy_slice(out->name, sizeof(out->name), (struct slice){rest, len});
    return ROUTE_OK;
}

/* "POWER", or "POWER<n>" for n in 1..99 without a leading zero. */
static bool tasmota_power_name(struct slice s)
{
    if (s.len < 5 || memcmp(s.p, "POWER", 5) != 0)
        return false;
    size_t digits = s.len - 5;
    if (digits == 0)
        return true;
    if (digits > 2 || s.p[5] < '1' || s.p[5] > '9')
        return false;
    return digits == 1 || (s.p[6] >= '0' && s.p[6] <= '9');
}

/* tele/<t>/{SENSOR,STATE,LWT}, stat/<t>/{POWER[n],RESULT}. Other tele/stat
 * subtopics (INFO1, STATUS5, UPGRADE, ...) and our own cmnd/... are ignored. */
static enum route_result route_tasmota(const struct slice *lv, size_t n, struct route *out)
{
    if (slice_is(lv[0], "cmnd"))
        return ROUTE_IGNORE;
    if (n != 3)
        return ROUTE_BAD_TOPIC;
    struct slice sub = lv[2];
    bool tele = slice_is(lv[0], "tele");
    if (tele && slice_is(sub, "LWT"))
        out->cls = MSG_STATUS;
    else if (tele ? slice_is(sub, "SENSOR") || slice_is(sub, "STATE")
                  : tasmota_power_name(sub) || slice_is(sub, "RESULT"))
        out->cls = MSG_TELEMETRY;
    else
        return ROUTE_IGNORE;
    if (!slice_id_valid(lv[1]))
        return ROUTE_BAD_ID;
    out->format = FORMAT_TASMOTA;
    copy_slice(out->name, sizeof(out->name), lv[1]);
    copy_slice(out->sub, sizeof(out->sub), sub);
    return ROUTE_OK;
}

/* "switch:<n>" for n in 0..999 without a leading zero. */
static bool shelly_switch_name(struct slice s)
{
    if (s.len < 8 || s.len > 10 || memcmp(s.p, "switch:", 7) != 0)
        return false;
    if (s.p[7] == '0' && s.len > 8)
        return false;
    for (size_t i = 7; i < s.len; i++) {
        if (s.p[i] < '0' || s.p[i] > '9')
            return false;
    }
    return true;
}

/* A Gen1 channel index: 0..999 without a leading zero. */
static bool shelly1_index(struct slice s)
{
    if (s.len == 0 || s.len > 3 || (s.p[0] == '0' && s.len > 1))
        return false;
    for (size_t i = 0; i < s.len; i++) {
        if (s.p[i] < '0' || s.p[i] > '9')
            return false;
    }
    return true;
}

static bool slice_in(struct slice s, const char *const *words)
{
    for (; *words; words++) {
        if (slice_is(s, *words))
            return true;
    }
    return false;
}

/* The class of a Gen1 path (the levels after shellies/<id>/), or -1 for the
 * paths that carry nothing for us (input/<n>, longpush/<n>, command,
 * relay/<n>/command, info, ...). */
static int shelly1_class(const struct slice *lv, size_t n)
{
    static const char *const emeter[] = {
        "power",  "reactive_power",  "voltage", "current",        "pf",
        "energy", "returned_energy", "total",   "total_returned", NULL};
    static const char *const sensor[] = {"temperature", "humidity", "battery",   "lux", "state",
                                         "flood",       "tilt",     "vibration", NULL};
    if (n == 1 && (slice_is(lv[0], "online") || slice_is(lv[0], "announce")))
        return MSG_STATUS;
    if (n == 1 && (slice_is(lv[0], "temperature") || slice_is(lv[0], "ext_temperatures")))
        return MSG_TELEMETRY;
    if (n == 2 && slice_is(lv[0], "ext_temperature") && shelly1_index(lv[1]))
        return MSG_TELEMETRY;
    if (n == 2 && slice_is(lv[0], "sensor") && slice_in(lv[1], sensor))
        return MSG_TELEMETRY;
    if (slice_is(lv[0], "relay") && n >= 2 && shelly1_index(lv[1]) &&
        (n == 2 || (n == 3 && (slice_is(lv[2], "power") || slice_is(lv[2], "energy")))))
        return MSG_TELEMETRY;
    if (n == 3 && slice_is(lv[0], "emeter") && shelly1_index(lv[1]) && slice_in(lv[2], emeter))
        return MSG_TELEMETRY;
    return -1;
}

/* Gen1: shellies/<id>/<path> (rest is what follows "shellies/"), and the
 * global shellies/announce, whose device is named in its payload (name ""). */
static enum route_result route_shelly1(const char *rest, size_t len, struct route *out)
{
    struct slice lv[5];
    size_t n = split(rest, len, lv, 5);
    if (n == 1) {
        if (!slice_is(lv[0], "announce"))
            return lv[0].len == 0 ? ROUTE_BAD_TOPIC : ROUTE_IGNORE; /* shellies/command, ... */
        out->format = FORMAT_SHELLY;
        out->cls = MSG_STATUS;
        strcpy(out->sub, "gen1/announce");
        return ROUTE_OK;
    }
    int cls = n <= 4 ? shelly1_class(lv + 1, n - 1) : -1;
    if (cls < 0)
        return ROUTE_IGNORE;
    if (!slice_id_valid(lv[0]))
        return ROUTE_BAD_ID;
    size_t path_len = len - lv[0].len - 1;
    if (path_len + 5 >= sizeof(out->sub))
        return ROUTE_BAD_TOPIC; /* no path of the list above is this long */
    out->format = FORMAT_SHELLY;
    out->cls = (enum msg_class)cls;
    copy_slice(out->name, sizeof(out->name), lv[0]);
    memcpy(out->sub, "gen1/", 5);
    copy_slice(out->sub + 5, sizeof(out->sub) - 5, (struct slice){lv[1].p, path_len});
    return ROUTE_OK;
}

/* <id>/online, <id>/events/rpc, <id>/status/switch:<n>; other status
 * components (sys, wifi, input:0, ...) are ignored. shellies/... is Gen1. */
static enum route_result route_shelly(const char *topic, size_t len, const struct slice *lv,
                                      size_t n, struct route *out)
{
    static const char gen1[] = "shellies/";
    if (len >= sizeof(gen1) - 1 && memcmp(topic, gen1, sizeof(gen1) - 1) == 0)
        return route_shelly1(topic + sizeof(gen1) - 1, len - (sizeof(gen1) - 1), out);
    bool online = n == 2 && slice_is(lv[1], "online");
    bool rpc = n == 3 && slice_is(lv[1], "events") && slice_is(lv[2], "rpc");
    bool status = n == 3 && slice_is(lv[1], "status") && lv[2].len > 0;
    if (!online && !rpc && !status)
        return ROUTE_BAD_TOPIC;
    if (!slice_id_valid(lv[0]))
        return ROUTE_BAD_ID;
    if (status && !shelly_switch_name(lv[2]))
        return ROUTE_IGNORE;
    out->format = FORMAT_SHELLY;
    out->cls = online ? MSG_STATUS : MSG_TELEMETRY;
    copy_slice(out->name, sizeof(out->name), lv[0]);
    if (online) {
        strcpy(out->sub, "online");
    } else if (rpc) {
        strcpy(out->sub, "events/rpc");
    } else {
        memcpy(out->sub, "status/", 7);
        copy_slice(out->sub + 7, sizeof(out->sub) - 7, lv[2]);
    }
    return ROUTE_OK;
}

enum route_result topic_route(const char *prefix, const char *topic, size_t len, struct route *out)
{
    memset(out, 0, sizeof(*out));
    if (!topic || len == 0)
        return ROUTE_BAD_TOPIC;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)topic[i];
        if (c < 0x20 || c == 0x7f || c == '+' || c == '#')
            return ROUTE_BAD_TOPIC;
    }
    if (!utf8_valid(topic, len))
        return ROUTE_BAD_TOPIC;

    size_t plen = prefix ? strlen(prefix) : 0;
    if (plen > 0 && len > plen && memcmp(topic, prefix, plen) == 0 && topic[plen] == '/')
        return route_native(topic + plen + 1, len - plen - 1, out);

    static const char z2m[] = "zigbee2mqtt/";
    if (len >= sizeof(z2m) - 1 && memcmp(topic, z2m, sizeof(z2m) - 1) == 0)
        return route_z2m(topic + sizeof(z2m) - 1, len - (sizeof(z2m) - 1), out);

    struct slice lv[3];
    size_t n = split(topic, len, lv, 3);
    /* Home Assistant's discovery and status, also Zigbee2MQTT's and ours. */
    if (n > 1 && slice_is(lv[0], "homeassistant"))
        return ROUTE_IGNORE;
    if (slice_is(lv[0], "tele") || slice_is(lv[0], "stat") || slice_is(lv[0], "cmnd"))
        return route_tasmota(lv, n, out);
    return route_shelly(topic, len, lv, n, out);
}
