/* fuzz_topic: topic_route() on arbitrary bytes, prefix "hall".
 *
 * Oracle: a routed topic is rebuilt from the route (format, class, ids,
 * name, sub) and must be exactly the input, so nothing was truncated, lost
 * or invented; the ids pass id_valid() and are not reserved; a topic
 * that routes at all holds no control bytes, wildcards or bad UTF-8; the
 * result does not change when routed again or with a NUL appended (which is
 * ROUTE_BAD_TOPIC). */
#include "fuzz.h"

#include "json.h"
#include "topic.h"
#include "utf8.h"

static const char *const native_suffix[] = {
    [MSG_TELEMETRY] = "telemetry",
    [MSG_STATUS] = "status",
    [MSG_EVENT] = "event",
    [MSG_REPLY] = "cmd/reply",
};

static bool nul_terminated(const char *s, size_t cap)
{
    return memchr(s, '\0', cap) != NULL;
}

/* The topic a route was made from, as the formats write it. */
static void rebuild(const struct route *r, char *out, size_t cap)
{
    switch (r->format) {
    case FORMAT_NATIVE:
        snprintf(out, cap, "hall/%s/%s/%s", r->hall, r->device, native_suffix[r->cls]);
        return;
    case FORMAT_ZIGBEE2MQTT:
        snprintf(out, cap, "zigbee2mqtt/%s%s%s", r->name, r->sub[0] ? "/" : "", r->sub);
        return;
    case FORMAT_TASMOTA: {
        bool tele = strcmp(r->sub, "SENSOR") == 0 || strcmp(r->sub, "STATE") == 0 ||
                    strcmp(r->sub, "LWT") == 0;
        snprintf(out, cap, "%s/%s/%s", tele ? "tele" : "stat", r->name, r->sub);
        return;
    }
    case FORMAT_SHELLY:
        if (strncmp(r->sub, "gen1/", 5) != 0)
            snprintf(out, cap, "%s/%s", r->name, r->sub);
        else if (r->name[0])
            snprintf(out, cap, "shellies/%s/%s", r->name, r->sub + 5);
        else
            snprintf(out, cap, "shellies/%s", r->sub + 5); /* the global announce */
        return;
    }
    FUZZ_CHECK(false, "format %d", (int)r->format);
}

static void check_route(const char *topic, size_t len, const struct route *r)
{
    char again[1024];

    FUZZ_CHECK(
        nul_terminated(r->hall, sizeof(r->hall)) && nul_terminated(r->device, sizeof(r->device)) &&
            nul_terminated(r->name, sizeof(r->name)) && nul_terminated(r->sub, sizeof(r->sub)),
        "unterminated route field");
    FUZZ_CHECK(utf8_valid(topic, len), "routed a topic that is not UTF-8");
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)topic[i];
        FUZZ_CHECK(c >= 0x20 && c != 0x7f && c != '+' && c != '#', "routed byte 0x%02x", c);
    }
    FUZZ_CHECK((unsigned)r->cls <= MSG_REPLY, "class %d", (int)r->cls);
    FUZZ_CHECK(config_format_parse(config_format_name(r->format),
                                   strlen(config_format_name(r->format))) == (int)r->format,
               "format name does not parse back");
    if (r->format == FORMAT_NATIVE) {
        FUZZ_CHECK(id_valid(r->hall, strlen(r->hall)), "hall id \"%s\"", r->hall);
        FUZZ_CHECK(id_valid(r->device, strlen(r->device)), "device id \"%s\"", r->device);
        FUZZ_CHECK(strcmp(r->hall, "_gateway") != 0, "reserved hall routed");
        FUZZ_CHECK(strcmp(r->device, "alerts") != 0 && strcmp(r->device, "windows") != 0,
                   "reserved device \"%s\" routed", r->device);
        FUZZ_CHECK(!r->name[0] && !r->sub[0], "native route with a foreign name");
    } else {
        /* The global Gen1 shellies/announce names its device in the payload. */
        bool announce = r->format == FORMAT_SHELLY && strcmp(r->sub, "gen1/announce") == 0;
        FUZZ_CHECK(r->name[0] != '\0' || announce, "foreign route without a name");
        FUZZ_CHECK(!r->hall[0] && !r->device[0], "foreign route with native ids");
        if (r->format != FORMAT_ZIGBEE2MQTT && r->name[0])
            FUZZ_CHECK(id_valid(r->name, strlen(r->name)), "name \"%s\"", r->name);
        else
            FUZZ_CHECK(strlen(r->name) <= TOPIC_NAME_MAX, "z2m name too long");
    }
    rebuild(r, again, sizeof(again));
    FUZZ_CHECK(strlen(again) == len && memcmp(again, topic, len) == 0,
               "route does not rebuild the topic: got \"%s\" (%zu bytes in)", again, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *topic = fuzz_copy((const char *)data, size);
    struct route r, r2;
    enum route_result rc = topic_route("hall", topic, size, &r);

    FUZZ_CHECK(rc <= ROUTE_BAD_TOPIC, "result %d", (int)rc);
    if (rc == ROUTE_OK)
        check_route(topic, size, &r);

    /* Deterministic, and a NUL inside is always a bad topic. */
    FUZZ_CHECK(topic_route("hall", topic, size, &r2) == rc, "not deterministic");
    if (rc == ROUTE_OK)
        FUZZ_CHECK(memcmp(&r, &r2, sizeof(r)) == 0, "route differs when routed again");
    char *with_nul = fuzz_dup((const char *)data, size);
    FUZZ_CHECK(topic_route("hall", with_nul, size + 1, &r2) == ROUTE_BAD_TOPIC,
               "a topic with a NUL inside was not refused");
    free(with_nul);
    free(topic);
    return 0;
}
