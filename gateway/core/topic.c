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

/* Where foreign devices publish and which names are bound (NULL: none). */
struct layouts {
    const char *prefix;
    const struct config_sources *src;
    const struct config *cfg;
};

/* route.name of a Zigbee2MQTT name: "<base>/<name>" with several bases,
 * else the name. False when it is too long to be a device. */
static bool z2m_route_name(const struct layouts *l, const char *base, struct slice name,
                           struct route *out)
{
    size_t bl = l->src->n_z2m_bases > 1 ? strlen(base) + 1 : 0;
    if (bl + name.len > TOPIC_NAME_MAX)
        return false;
    if (bl) {
        memcpy(out->name, base, bl - 1);
        out->name[bl - 1] = '/';
    }
    memcpy(out->name + bl, name.p, name.len);
    out->name[bl + name.len] = '\0';
    return true;
}

static bool z2m_bound(const struct layouts *l, const char *base, struct slice name)
{
    struct route r;
    return l->cfg && z2m_route_name(l, base, name, &r) &&
           config_find_source(l->cfg, FORMAT_ZIGBEE2MQTT, r.name) != NULL;
}

/* <base>/<friendly name>[/availability], <base>/<name>/<attribute> (the
 * attribute output, when <name> is bound and <name>/<attribute> is not) and
 * <base>/bridge/state; the rest of bridge/... and the set/get command topics
 * (<name>/set, <name>/set/<attr>) carry nothing for us. */
static enum route_result route_z2m(const struct layouts *l, const char *base, const char *rest,
                                   size_t len, struct route *out)
{
    struct slice first = {0};
    split(rest, len, &first, 1);
    if (slice_is(first, "bridge")) {
        if (len != 12 || memcmp(rest, "bridge/state", 12) != 0)
            return ROUTE_IGNORE;
        out->format = FORMAT_ZIGBEE2MQTT;
        out->cls = MSG_STATUS;
        copy_slice(out->name, sizeof(out->name), (struct slice){base, strlen(base)});
        strcpy(out->sub, "bridge/state");
        return ROUTE_OK;
    }
    struct slice last = last_level(rest, len);
    if (last.len < len) {
        size_t before = len - last.len - 1; /* without the '/' */
        if (is_set_or_get(last) || is_set_or_get(last_level(rest, before)))
            return ROUTE_IGNORE;
        if (slice_is(last, "availability")) {
            if (!z2m_name_valid(rest, before) ||
                !z2m_route_name(l, base, (struct slice){rest, before}, out))
                return ROUTE_BAD_ID;
            out->format = FORMAT_ZIGBEE2MQTT;
            out->cls = MSG_STATUS;
            strcpy(out->sub, "availability");
            return ROUTE_OK;
        }
        struct slice owner = {rest, before};
        if (last.len > 0 && last.len < sizeof(out->sub) - 5 && z2m_name_valid(rest, before) &&
            !z2m_bound(l, base, (struct slice){rest, len}) && z2m_bound(l, base, owner)) {
            z2m_route_name(l, base, owner, out);
            out->format = FORMAT_ZIGBEE2MQTT;
            out->cls = MSG_TELEMETRY;
            memcpy(out->sub, "attr/", 5);
            copy_slice(out->sub + 5, sizeof(out->sub) - 5, last);
            return ROUTE_OK;
        }
    }
    if (!z2m_name_valid(rest, len))
        return len == 0 ? ROUTE_BAD_TOPIC : ROUTE_BAD_ID;
    if (!z2m_route_name(l, base, (struct slice){rest, len}, out))
        return ROUTE_BAD_ID;
    out->format = FORMAT_ZIGBEE2MQTT;
    out->cls = MSG_TELEMETRY;
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

static bool tasmota_status_name(struct slice s)
{
    return slice_is(s, "STATUS8") || slice_is(s, "STATUS10") || slice_is(s, "STATUS11");
}

#define PATTERN_LEVELS 8 /* config_sources.c allows no more */
#define TOPIC_LEVELS (PATTERN_LEVELS + 1)

/* One FullTopic pattern against the topic's levels (n of them, lv holding
 * at most TOPIC_LEVELS): -1 when the pattern does not claim the topic (its
 * %prefix% level is not one of the prefixes, or a text level differs), else
 * the route result: <full topic>/<sub> with tele {SENSOR,STATE,LWT}, stat
 * {POWER[n],RESULT,STATUS8,STATUS10,STATUS11}. Other tele/stat subtopics
 * (INFO1, STATUS5, UPGRADE, ...) and our own cmnd are ignored. */
static int route_tasmota_pattern(const struct layouts *l, const char *pattern,
                                 const struct slice *lv, size_t n, struct route *out)
{
    struct slice pl[PATTERN_LEVELS + 1];
    size_t np = split(pattern, strlen(pattern) - 1, pl, PATTERN_LEVELS); /* without the '/' */
    size_t seen = n < TOPIC_LEVELS ? n : TOPIC_LEVELS;
    int prefix = -1;
    size_t at_topic = 0;
    if (np > PATTERN_LEVELS)
        return -1;
    for (size_t j = 0; j < np; j++) {
        if (slice_is(pl[j], "%topic%")) {
            at_topic = j;
        } else if (slice_is(pl[j], "%prefix%")) {
            if (j >= seen)
                return -1;
            for (int k = 0; k < 3 && prefix < 0; k++)
                if (slice_is(lv[j], l->src->tasmota_prefixes[k]))
                    prefix = k;
            if (prefix < 0)
                return -1;
        } else if (j < seen && (lv[j].len != pl[j].len || memcmp(lv[j].p, pl[j].p, pl[j].len))) {
            return -1;
        }
    }
    if (prefix == TASMOTA_CMND)
        return ROUTE_IGNORE;
    if (n != np + 1)
        return ROUTE_BAD_TOPIC;
    struct slice sub = lv[np];
    bool tele = prefix == TASMOTA_TELE;
    if (tele && slice_is(sub, "LWT"))
        out->cls = MSG_STATUS;
    else if (tele ? slice_is(sub, "SENSOR") || slice_is(sub, "STATE")
                  : tasmota_power_name(sub) || slice_is(sub, "RESULT") || tasmota_status_name(sub))
        out->cls = MSG_TELEMETRY;
    else
        return ROUTE_IGNORE;
    if (!slice_id_valid(lv[at_topic]))
        return ROUTE_BAD_ID;
    out->format = FORMAT_TASMOTA;
    copy_slice(out->name, sizeof(out->name), lv[at_topic]);
    copy_slice(out->sub, sizeof(out->sub), sub);
    return ROUTE_OK;
}

/* The first pattern that routes the topic wins; else the first that claims
 * it says why not; -1 when none claims it. */
static int route_tasmota(const struct layouts *l, const struct slice *lv, size_t n,
                         struct route *out)
{
    int first = -1;
    for (size_t i = 0; i < l->src->n_tasmota_full_topics; i++) {
        int r = route_tasmota_pattern(l, l->src->tasmota_full_topics[i], lv, n, out);
        if (r == ROUTE_OK)
            return r;
        if (first < 0)
            first = r;
    }
    memset(out, 0, sizeof(*out));
    return first;
}

/* A status component the decoders read, "<type>:<n>" with n in 0..999
 * without a leading zero: switch, em1, em, temperature, humidity,
 * devicepower (decode.h). */
static bool shelly_component_name(struct slice s)
{
    static const char *const types[] = {
        "switch:", "em1:", "em:", "temperature:", "humidity:", "devicepower:", NULL};
    for (const char *const *t = types; *t; t++) {
        size_t tl = strlen(*t);
        if (s.len <= tl || s.len > tl + 3 || memcmp(s.p, *t, tl) != 0)
            continue;
        if (s.p[tl] == '0' && s.len > tl + 1)
            return false;
        for (size_t i = tl; i < s.len; i++) {
            if (s.p[i] < '0' || s.p[i] > '9')
                return false;
        }
        return true;
    }
    return false;
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

/* <id>/online, <id>/events/rpc, <id>/status/<component>:<n>; other status
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
    if (status && !shelly_component_name(lv[2]))
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

static enum route_result route_with(const struct layouts *l, const char *topic, size_t len,
                                    struct route *out)
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

    const char *prefix = l->prefix;
    size_t plen = prefix ? strlen(prefix) : 0;
    if (plen > 0 && len > plen && memcmp(topic, prefix, plen) == 0 && topic[plen] == '/')
        return route_native(topic + plen + 1, len - plen - 1, out);

    for (size_t i = 0; i < l->src->n_z2m_bases; i++) {
        const char *base = l->src->z2m_bases[i];
        size_t bl = strlen(base);
        if (len > bl && memcmp(topic, base, bl) == 0 && topic[bl] == '/')
            return route_z2m(l, base, topic + bl + 1, len - bl - 1, out);
    }

    struct slice lv[TOPIC_LEVELS];
    size_t n = split(topic, len, lv, TOPIC_LEVELS);
    /* Home Assistant's discovery and status, also Zigbee2MQTT's and ours. */
    if (n > 1 && slice_is(lv[0], "homeassistant"))
        return ROUTE_IGNORE;
    int r = route_tasmota(l, lv, n, out);
    if (r >= 0)
        return (enum route_result)r;
    return route_shelly(topic, len, lv, n > 3 ? 4 : n, out);
}

enum route_result topic_route(const char *prefix, const char *topic, size_t len, struct route *out)
{
    static char *bases[] = {"zigbee2mqtt"}, *patterns[] = {"%prefix%/%topic%/"};
    static const struct config_sources defaults = {
        .z2m_bases = bases,
        .n_z2m_bases = 1,
        .tasmota_full_topics = patterns,
        .n_tasmota_full_topics = 1,
        .tasmota_prefixes = {"cmnd", "stat", "tele"},
    };
    struct layouts l = {prefix, &defaults, NULL};
    return route_with(&l, topic, len, out);
}

enum route_result topic_route_config(const struct config *c, const char *topic, size_t len,
                                     struct route *out)
{
    struct layouts l = {c->mqtt.prefix, &c->sources, c};
    return route_with(&l, topic, len, out);
}
