/* fuzz_decode: topic\0payload; topic_route() then decode_message() with the
 * default JSON limits (a Zigbee2MQTT name with '/' also as an attribute
 * output of its first levels).
 *
 * Oracle, when the message decodes (DECODE_OK or DECODE_EMPTY): at most
 * READING_MAX_METRICS metrics with distinct keys that pass
 * reading_key_valid(), strings that are UTF-8 without control characters
 * (reading_string_valid()), finite numbers, a plausible ts or 0, a valid
 * event type for events and a known availability for status messages; *why
 * is JSON_OK except for DECODE_BAD_JSON. And what decodes can be written: the
 * reading encodes with ingest_encode() (exactly as ingestion writes it) and
 * lineproto_parse() gives back every metric, floats bit for bit. */
#include "fuzz.h"

#include <errno.h>
#include <math.h>

#include "decode.h"
#include "ingest.h"
#include "lineproto_parse.h"
#include "reading.h"
#include "topic.h"
#include "utf8.h"

static struct reading rd;

static bool inside_text(const struct reading *r, const char *p)
{
    return p >= r->text && p < r->text + sizeof(r->text);
}

static void check_reading(const struct route *route, const struct reading *r)
{
    FUZZ_CHECK(r->cls == route->cls, "class %d for a route of class %d", (int)r->cls,
               (int)route->cls);
    FUZZ_CHECK(r->n_metrics <= READING_MAX_METRICS, "%u metrics", r->n_metrics);
    FUZZ_CHECK(r->text_used <= sizeof(r->text), "text_used %zu", r->text_used);
    FUZZ_CHECK(r->ts == 0 || (r->ts >= READING_TS_MIN && r->ts < READING_TS_MAX), "ts %.17g",
               r->ts);
    if (r->cls == MSG_EVENT)
        FUZZ_CHECK(reading_key_valid(r->event, strlen(r->event)), "event type \"%s\"", r->event);
    for (unsigned i = 0; i < r->n_metrics; i++) {
        const struct metric *m = &r->metrics[i];
        FUZZ_CHECK(m->key && inside_text(r, m->key), "metric %u key outside the reading", i);
        FUZZ_CHECK(reading_key_valid(m->key, strlen(m->key)), "metric key \"%s\"", m->key);
        for (unsigned j = 0; j < i; j++)
            FUZZ_CHECK(strcmp(r->metrics[j].key, m->key) != 0, "metric \"%s\" twice", m->key);
        switch (m->type) {
        case METRIC_NUMBER:
            FUZZ_CHECK(isfinite(m->v.num), "metric \"%s\" is not finite", m->key);
            break;
        case METRIC_BOOL:
            break;
        case METRIC_STRING:
            FUZZ_CHECK(m->v.str && inside_text(r, m->v.str), "string of \"%s\" outside", m->key);
            FUZZ_CHECK(utf8_valid(m->v.str, strlen(m->v.str)), "\"%s\" is not UTF-8", m->key);
            FUZZ_CHECK(reading_string_valid(m->v.str, strlen(m->v.str)),
                       "\"%s\" holds control characters or is too long", m->key);
            break;
        default:
            FUZZ_CHECK(false, "metric \"%s\" of type %d", m->key, (int)m->type);
        }
    }
}

static bool same_double(double a, double b)
{
    return memcmp(&a, &b, sizeof(a)) == 0;
}

/* The reading as ingestion writes it, read back. */
static void check_encodes(const struct reading *r)
{
    struct hm_device d = {.id = "dev-1", .hall = "h1", .window = "w01", .kind = KIND_ENV};
    struct buf b;
    struct lp_point p;
    const int64_t ts = INT64_C(1764150000000000000);

    buf_init(&b, 0);
    int rc = ingest_encode(&d, r, ts, &b);
    hallmodel_forget_tags(&d); /* the tags ingest kept for the device */
    FUZZ_CHECK(rc == 0, "a decoded reading does not encode: %d (%s)", rc, strerror(-rc));
    FUZZ_CHECK(b.len > 0 && b.data[b.len - 1] == '\n' && lineproto_count_lines(b.data, b.len) == 1,
               "not one line");
    rc = lineproto_parse(b.data, b.len - 1, &p);
    FUZZ_CHECK(rc == 0, "the encoded reading does not parse back: %d: %s", rc, b.data);
    FUZZ_CHECK(p.has_ts && p.ts_ns == ts, "timestamp");

    size_t skip = 0; /* the "type" (events, replies) or "online" (status) field */
    if (r->cls == MSG_STATUS) {
        FUZZ_CHECK(p.n_fields == 1 && strcmp(p.fields[0].key, "online") == 0 &&
                       p.fields[0].type == LP_BOOL && p.fields[0].b == (r->status == AVAIL_ONLINE),
                   "status field");
        goto out;
    }
    if (r->cls != MSG_TELEMETRY) {
        FUZZ_CHECK(p.n_fields >= 1 && strcmp(p.fields[0].key, "type") == 0 &&
                       p.fields[0].type == LP_STRING &&
                       strcmp(p.fields[0].s, r->cls == MSG_EVENT ? r->event : "cmd_reply") == 0,
                   "type field");
        skip = 1;
    }
    size_t k = skip;
    for (unsigned i = 0; i < r->n_metrics; i++) {
        const struct metric *m = &r->metrics[i];
        if (r->cls != MSG_TELEMETRY && strcmp(m->key, "type") == 0)
            continue;
        FUZZ_CHECK(k < p.n_fields, "metric \"%s\" missing from %s", m->key, b.data);
        const struct lp_field *f = &p.fields[k++];
        FUZZ_CHECK(strcmp(f->key, m->key) == 0, "field \"%s\" for metric \"%s\"", f->key, m->key);
        switch (m->type) {
        case METRIC_NUMBER:
            FUZZ_CHECK(f->type == LP_FLOAT && same_double(f->f, m->v.num),
                       "\"%s\": %.17g came back as %.17g", m->key, m->v.num, f->f);
            break;
        case METRIC_BOOL:
            FUZZ_CHECK(f->type == LP_BOOL && f->b == m->v.b, "\"%s\" bool", m->key);
            break;
        case METRIC_STRING:
            FUZZ_CHECK(f->type == LP_STRING && strcmp(f->s, m->v.str) == 0, "\"%s\" string",
                       m->key);
            break;
        }
    }
    FUZZ_CHECK(k == p.n_fields, "%zu fields for %zu metrics", p.n_fields, k);
out:
    lineproto_point_free(&p);
    buf_free(&b);
}

static void decode_checked(const struct route *r, const char *payload, size_t plen)
{
    enum json_reject why = JSON_OK;
    enum decode_result dr = decode_message(r, payload, plen, NULL, &rd, &why);
    FUZZ_CHECK(dr <= DECODE_BAD_VALUE, "result %d", (int)dr);
    FUZZ_CHECK((dr == DECODE_BAD_JSON) == (why != JSON_OK), "%s with why %s",
               decode_result_name(dr), json_reject_name(why));
    if (dr == DECODE_OK || dr == DECODE_EMPTY)
        check_reading(r, &rd);
    if (dr == DECODE_OK) {
        if (r->cls == MSG_STATUS)
            FUZZ_CHECK(rd.status != AVAIL_UNKNOWN, "status message without availability");
        else if (r->cls == MSG_TELEMETRY)
            FUZZ_CHECK(rd.n_metrics > 0, "telemetry decoded OK without metrics");
        check_encodes(&rd);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *t, *pl;
    size_t tlen, plen;
    struct route r;

    fuzz_split(data, size, &t, &tlen, &pl, &plen);
    char *topic = fuzz_copy(t, tlen);
    char *payload = fuzz_copy(pl, plen);
    if (topic_route("hall", topic, tlen, &r) == ROUTE_OK) {
        decode_checked(&r, payload, plen);
        /* zigbee2mqtt/<a>/<b> is also the attribute output b of a bound
         * device a: the same payload decoded that way. */
        const char *slash =
            r.format == FORMAT_ZIGBEE2MQTT && !r.sub[0] ? strrchr(r.name, '/') : NULL;
        if (slash && strlen(slash + 1) + 5 < sizeof(r.sub)) {
            struct route a = r;
            snprintf(a.sub, sizeof(a.sub), "attr/%s", slash + 1);
            a.name[slash - r.name] = '\0';
            decode_checked(&a, payload, plen);
        }
    }
    free(payload);
    free(topic);
    return 0;
}
