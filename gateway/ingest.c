#include "ingest.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "channels.h"
#include "decode.h"
#include "metrics.h"
#include "strmap.h"
#include "topic.h"
#include "unbound_feed.h"

void ingest_init(struct ingest *in, const struct config *cfg, struct hallmodel *hm)
{
    memset(in, 0, sizeof(*in));
    in->hm = hm;
    ingest_set_config(in, cfg);
}

void ingest_set_config(struct ingest *in, const struct config *cfg)
{
    in->cfg = cfg;
    in->limits.max_bytes = cfg->limits.payload_max_bytes;
    in->limits.max_depth = cfg->limits.json_max_depth;
    in->limits.max_fields = READING_MAX_METRICS * 4;
    in->ns_tag = (int)(strmap_hash(cfg->gateway.id) % 1000);
}

static const enum metric_id recv_metric[FORMAT_COUNT] = {
    [FORMAT_NATIVE] = MET_RECV_NATIVE,
    [FORMAT_ZIGBEE2MQTT] = MET_RECV_ZIGBEE2MQTT,
    [FORMAT_TASMOTA] = MET_RECV_TASMOTA,
    [FORMAT_SHELLY] = MET_RECV_SHELLY,
};

static const enum metric_id json_reject_metric[JSON_REJECT_COUNT] = {
    [JSON_OK] = MET_REJECT_SYNTAX,
    [JSON_TOO_LARGE] = MET_REJECT_TOO_LARGE,
    [JSON_BAD_UTF8] = MET_REJECT_BAD_UTF8,
    [JSON_NUL] = MET_REJECT_NUL,
    [JSON_SYNTAX] = MET_REJECT_SYNTAX,
    [JSON_NON_FINITE] = MET_REJECT_NON_FINITE,
    [JSON_TOO_DEEP] = MET_REJECT_TOO_DEEP,
    [JSON_NOT_OBJECT] = MET_REJECT_NOT_OBJECT,
    [JSON_TOO_MANY] = MET_REJECT_TOO_MANY_FIELDS,
};

static enum metric_id decode_reject_metric(enum decode_result r, enum json_reject why)
{
    switch (r) {
    case DECODE_BAD_JSON:
        return json_reject_metric[why];
    case DECODE_BAD_STATUS:
        return MET_REJECT_BAD_STATUS;
    case DECODE_BAD_EVENT:
        return MET_REJECT_BAD_EVENT;
    case DECODE_BAD_VALUE:
    case DECODE_EMPTY:
    case DECODE_OK:
        break;
    }
    return MET_REJECT_BAD_VALUE;
}

int64_t ingest_timestamp_ns(double device_ts, wall_s arrival, wall_s *last_stamp, int ns_tag)
{
    if (device_ts > 0 && isfinite(device_ts) && device_ts >= arrival - INGEST_TS_MAX_AGE_S &&
        device_ts <= arrival + INGEST_TS_MAX_AHEAD_S)
        return wall_ns(device_ts);
    int64_t ns = wall_ns(wall_after(arrival, last_stamp));
    return ns > 0 && ns < INT64_MAX - 1000 ? ns + ns_tag : ns;
}

static size_t device_tags(const struct hm_device *d, struct lp_tag tags[4])
{
    tags[0] = (struct lp_tag){"hall", d->hall};
    tags[1] = (struct lp_tag){"window", d->window};
    tags[2] = (struct lp_tag){"device", d->id};
    tags[3] = (struct lp_tag){"kind", config_kind_name(d->kind)};
    return 4;
}

/* The device's tags are the same in each of its points: they are checked
 * and escaped once, into d->lp_tags. */
static void device_tagset(struct hm_device *d)
{
    struct lp_tag tags[4];
    char buf[HM_LP_TAGS_MAX];
    size_t nt = device_tags(d, tags);
    int n = lineproto_tagset(buf, sizeof(buf), tags, nt);
    d->lp_tags = n > 0 ? malloc((size_t)n + 1) : NULL;
    if (!d->lp_tags) {
        d->lp_tags_len = -1; /* encoded with each point */
        return;
    }
    memcpy(d->lp_tags, buf, (size_t)n);
    d->lp_tags[n] = '\0';
    d->lp_tags_len = n;
}

int ingest_encode(struct hm_device *d, const struct reading *rd, int64_t ts_ns, struct buf *out)
{
    struct lp_tag tags[4];
    struct lp_field fields[READING_MAX_METRICS + 1];
    size_t nf = 0;
    const char *measurement = config_kind_measurement(d->kind);

    switch (rd->cls) {
    case MSG_STATUS:
        fields[nf++] =
            (struct lp_field){.key = "online", .type = LP_BOOL, .b = rd->status == AVAIL_ONLINE};
        break;
    case MSG_EVENT:
    case MSG_REPLY:
        measurement = "event";
        fields[nf++] = (struct lp_field){
            .key = "type", .type = LP_STRING, .s = rd->cls == MSG_EVENT ? rd->event : "cmd_reply"};
        /* The event's own fields follow. */
        __attribute__((fallthrough));
    case MSG_TELEMETRY:
        for (unsigned i = 0; i < rd->n_metrics; i++) {
            const struct metric *m = &rd->metrics[i];
            if (rd->cls != MSG_TELEMETRY && strcmp(m->key, "type") == 0)
                continue;
            struct lp_field *f = &fields[nf++];
            f->key = m->key;
            switch (m->type) {
            case METRIC_NUMBER:
                f->type = LP_FLOAT;
                f->f = m->v.num;
                break;
            case METRIC_BOOL:
                f->type = LP_BOOL;
                f->b = m->v.b;
                break;
            case METRIC_STRING:
                f->type = LP_STRING;
                f->s = m->v.str;
                break;
            }
        }
        break;
    }
    if (d->lp_tags_len == 0)
        device_tagset(d);
    if (d->lp_tags_len > 0)
        return lineproto_append_tagset(out, measurement, d->lp_tags, (size_t)d->lp_tags_len, fields,
                                       nf, ts_ns);
    return lineproto_append(out, measurement, tags, device_tags(d, tags), fields, nf, ts_ns);
}

/* The devices bound to channels of the Shelly r names, after d (the
 * device itself, channel 0, or NULL) into in->targets. Returns how many
 * channel devices there are. Each is marked with the generation of r. */
static size_t shelly_targets(struct ingest *in, const struct route *r, struct hm_device *d)
{
    const struct config_device *cds[INGEST_TARGETS_MAX];
    size_t n = config_find_channels(in->cfg, r->name, cds, INGEST_TARGETS_MAX - 1);
    unsigned char gen = strncmp(r->sub, "gen1/", 5) == 0 ? 1 : 2;

    in->n_targets = in->next_target = in->n_bound = 0;
    if (d)
        d->shelly_gen = gen;
    if (n > INGEST_TARGETS_MAX - 1)
        n = INGEST_TARGETS_MAX - 1;
    if (n == 0)
        return 0;
    if (d)
        in->targets[in->n_targets++] = (struct ingest_target){d, 0};
    for (size_t i = 0; i < n; i++) {
        struct route cr = {.format = FORMAT_SHELLY};
        size_t id_len;
        int ch = config_source_channel(cds[i]->source_name, &id_len);
        (void)snprintf(cr.name, sizeof(cr.name), "%s", cds[i]->source_name);
        struct hm_device *cd = hallmodel_lookup(in->hm, &cr);
        if (!cd)
            continue;
        cd->shelly_gen = gen;
        in->targets[in->n_targets++] = (struct ingest_target){cd, ch};
        in->bound[in->n_bound++] = ch;
    }
    if (in->n_bound == 0)
        in->n_targets = 0; /* no channel device: d alone, the plain way */
    return in->n_bound;
}

enum ingest_outcome ingest_next(struct ingest *in, struct buf *out, struct hm_device **dev)
{
    while (in->next_target < in->n_targets) {
        const struct ingest_target *t = &in->targets[in->next_target++];
        struct hm_device *d = t->dev;
        if (channels_select(&in->all, t->channel, in->bound, in->n_bound, &in->rd) == 0 &&
            in->all.cls != MSG_STATUS)
            continue; /* nothing of this channel in the message */
        in->rd.retained = in->all_retained;
        int64_t ts_ns = ingest_timestamp_ns(in->rd.ts, in->all_arrival, &d->last_stamp, in->ns_tag);
        if (ingest_encode(d, &in->rd, ts_ns, out) < 0) {
            metrics_inc(MET_REJECT_ENCODE);
            continue;
        }
        hallmodel_update(in->hm, d, &in->rd, in->all_now, in->all_arrival);
        metrics_inc(MET_DECODED);
        if (dev)
            *dev = d;
        return INGEST_WRITTEN;
    }
    in->n_targets = in->next_target = 0;
    return INGEST_IGNORED;
}

/* <base>/bridge/state: the coordinator's availability, kept in the hall
 * model (alerting says it once; its devices' silence is not stale meanwhile).
 * Nothing is written to InfluxDB. */
static enum ingest_outcome ingest_bridge(struct ingest *in, const struct route *r,
                                         const char *payload, size_t payload_len, mono_ms now,
                                         wall_s arrival)
{
    enum json_reject jwhy = JSON_OK;
    enum decode_result dr = decode_message(r, payload, payload_len, &in->limits, &in->rd, &jwhy);
    if (dr != DECODE_OK) {
        metrics_inc(decode_reject_metric(dr, jwhy));
        return INGEST_REJECTED;
    }
    if (bridges_set(hallmodel_bridges(in->hm), r->name, in->rd.status, now, arrival) < 0) {
        metrics_inc(MET_DEVICE_TABLE_FULL);
        return INGEST_IGNORED;
    }
    metrics_inc(MET_DECODED);
    return INGEST_IGNORED;
}

static enum ingest_outcome ingest_one(struct ingest *in, const char *topic, size_t topic_len,
                                      const char *payload, size_t payload_len, bool oversize,
                                      bool retained, mono_ms now, wall_s arrival, struct buf *out,
                                      struct hm_device **dev)
{
    struct route r;
    bool discovery = in->unbound && in->cfg->discovery.enabled;
    if (discovery && unbound_feed_discovery(in->unbound, in->cfg, topic, topic_len, payload,
                                            payload_len, oversize, arrival))
        return INGEST_IGNORED;
    switch (topic_route_config(in->cfg, topic, topic_len, &r)) {
    case ROUTE_OK:
        break;
    case ROUTE_IGNORE:
        metrics_inc(MET_IGNORED);
        return INGEST_IGNORED;
    case ROUTE_BAD_ID:
        metrics_inc(MET_REJECT_BAD_ID);
        return INGEST_REJECTED;
    case ROUTE_BAD_TOPIC:
        metrics_inc(MET_REJECT_BAD_TOPIC);
        return INGEST_REJECTED;
    }
    /* A hall this instance does not own (gateway.halls): another instance
     * writes it. Such messages still arrive through a wider filter. */
    if (r.format == FORMAT_NATIVE && in->cfg->gateway.n_halls > 0 &&
        !config_find_hall(in->cfg, r.hall)) {
        metrics_inc(MET_IGNORED);
        return INGEST_IGNORED;
    }
    metrics_inc(recv_metric[r.format]);
    if (oversize || payload_len > in->limits.max_bytes) {
        metrics_inc(MET_REJECT_TOO_LARGE);
        return INGEST_REJECTED;
    }

    if (r.format == FORMAT_ZIGBEE2MQTT && strcmp(r.sub, "bridge/state") == 0)
        return ingest_bridge(in, &r, payload, payload_len, now, arrival);
    /* The global Gen1 announce names its device in the payload. */
    if (r.format == FORMAT_SHELLY && !r.name[0] &&
        decode_shelly1_announce_id(payload, payload_len, &in->limits, r.name, sizeof(r.name)) < 0) {
        metrics_inc(MET_REJECT_BAD_VALUE);
        return INGEST_REJECTED;
    }

    enum hm_resolve why;
    struct hm_device *d = hallmodel_resolve(in->hm, &r, &why);
    size_t n_channels = 0;
    in->n_targets = in->next_target = 0;
    if (r.format == FORMAT_SHELLY)
        n_channels = shelly_targets(in, &r, d);
    if (!d && n_channels == 0) {
        if (why == HM_UNBOUND && discovery)
            unbound_feed_traffic(in->unbound, &r, payload, payload_len, &in->limits, &in->rd,
                                 arrival);
        metrics_inc(why == HM_UNKNOWN_IGNORED ? MET_UNKNOWN_IGNORED
                    : why == HM_UNBOUND       ? MET_UNBOUND_FOREIGN
                                              : MET_DEVICE_TABLE_FULL);
        metrics_set(MET_G_DEVICES, hallmodel_count(in->hm));
        return INGEST_IGNORED;
    }
    metrics_set(MET_G_DEVICES, hallmodel_count(in->hm));

    enum json_reject jwhy = JSON_OK;
    struct reading *rd = n_channels ? &in->all : &in->rd;
    enum decode_result dr = decode_message(&r, payload, payload_len, &in->limits, rd, &jwhy);
    if (dr == DECODE_EMPTY) {
        /* Good input with nothing to write (a Shelly NotifyEvent, an empty
         * object, or every key dropped). */
        in->n_targets = 0;
        metrics_add(MET_KEYS_DROPPED, rd->dropped_keys);
        metrics_inc(MET_IGNORED);
        return INGEST_IGNORED;
    }
    if (dr != DECODE_OK) {
        in->n_targets = 0;
        metrics_inc(decode_reject_metric(dr, jwhy));
        return INGEST_REJECTED;
    }
    if (rd->dropped_keys)
        metrics_add(MET_KEYS_DROPPED, rd->dropped_keys);
    if (n_channels) {
        /* Shared by the device and its channels: ingest_next. */
        in->all_retained = retained;
        in->all_now = now;
        in->all_arrival = arrival;
        if (ingest_next(in, out, dev) == INGEST_WRITTEN)
            return INGEST_WRITTEN;
        metrics_inc(MET_IGNORED);
        return INGEST_IGNORED;
    }
    in->rd.retained = retained;

    int64_t ts_ns = ingest_timestamp_ns(in->rd.ts, arrival, &d->last_stamp, in->ns_tag);
    /* The caller flushes batches long before out reaches its cap, so a
     * failure here is a point line protocol can not carry. */
    if (ingest_encode(d, &in->rd, ts_ns, out) < 0) {
        metrics_inc(MET_REJECT_ENCODE);
        return INGEST_REJECTED;
    }
    hallmodel_update(in->hm, d, &in->rd, now, arrival);
    metrics_inc(MET_DECODED);
    if (dev)
        *dev = d;
    return INGEST_WRITTEN;
}

enum ingest_outcome ingest_message(struct ingest *in, const char *topic, size_t topic_len,
                                   const char *payload, size_t payload_len, bool oversize,
                                   mono_ms now, wall_s arrival, struct buf *out,
                                   struct hm_device **dev)
{
    return ingest_one(in, topic, topic_len, payload, payload_len, oversize, false, now, arrival,
                      out, dev);
}

enum ingest_outcome ingest_retained_message(struct ingest *in, const char *topic, size_t topic_len,
                                            const char *payload, size_t payload_len, bool oversize,
                                            mono_ms now, wall_s arrival, struct buf *out,
                                            struct hm_device **dev)
{
    return ingest_one(in, topic, topic_len, payload, payload_len, oversize, true, now, arrival, out,
                      dev);
}
