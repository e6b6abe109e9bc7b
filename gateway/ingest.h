/* Ingestion: one received MQTT message through routing, decoding and the
 * hall model into line protocol. Counts every outcome in metrics.
 *
 * Runs on the core thread; does no I/O. */
#ifndef HALLGW_INGEST_H
#define HALLGW_INGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clock.h"
#include "config.h"
#include "hallmodel.h"
#include "json.h"
#include "lineproto.h"
#include "reading.h"

/* A device timestamp is used when it is at most this far in the past or the
 * future of the arrival time; otherwise the arrival time is (a device whose
 * clock was never set reports 1970). */
#define INGEST_TS_MAX_AGE_S (7 * 86400)
#define INGEST_TS_MAX_AHEAD_S 300

enum ingest_outcome {
    INGEST_WRITTEN,  /* decoded, applied and encoded */
    INGEST_IGNORED,  /* not for us, unknown device ignored, unbound, table full */
    INGEST_REJECTED, /* refused: counted by reason */
};

/* Devices one Shelly message can be about: the device and those bound to
 * its channels ("shelly:<id>#<n>"); channels past this are not written. */
#define INGEST_TARGETS_MAX 16

struct ingest_target {
    struct hm_device *dev;
    int channel;
};

struct ingest {
    const struct config *cfg;
    struct hallmodel *hm;
    struct json_limits limits;
    struct reading rd; /* reused for every message */
    int ns_tag;        /* the nanoseconds of arrival stamps: from gateway.id */
    /* A Shelly message with channels bound as devices of their own: the
     * whole reading, and the devices that still get their part of it. */
    struct reading all;
    struct ingest_target targets[INGEST_TARGETS_MAX];
    int bound[INGEST_TARGETS_MAX]; /* the channels > 0 that have a device */
    size_t n_targets, next_target, n_bound;
    bool all_retained;
    mono_ms all_now;
    wall_s all_arrival;
    /* The unbound devices (unbound_feed.h), fed with discovery messages and
     * with foreign messages no device binds while discovery.enabled; NULL:
     * none. Set by the owner; not freed here. */
    struct unbound *unbound;
};

/* hm must outlive in. */
void ingest_init(struct ingest *in, const struct config *cfg, struct hallmodel *hm);
void ingest_set_config(struct ingest *in, const struct config *cfg);

/* Processes one live message, appending its point (if any) to out. On
 * INGEST_WRITTEN *dev (if not NULL) is the device it was about. */
enum ingest_outcome ingest_message(struct ingest *in, const char *topic, size_t topic_len,
                                   const char *payload, size_t payload_len, bool oversize,
                                   mono_ms now, wall_s arrival, struct buf *out,
                                   struct hm_device **dev);

/* After INGEST_WRITTEN: the next device the same message is about (a
 * channel of a Shelly bound as "<id>#<n>"; the message's device first,
 * then its channels): its reading is in in->rd, its point appended to out,
 * *dev set, and INGEST_WRITTEN returned. INGEST_IGNORED when there is none
 * left. */
enum ingest_outcome ingest_next(struct ingest *in, struct buf *out, struct hm_device **dev);

/* As ingest_message, for a message the broker delivered retained: it is
 * written out and kept as state, and its values are marked retained in the
 * hall model (rules do not judge them) until a live reading replaces them. */
enum ingest_outcome ingest_retained_message(struct ingest *in, const char *topic, size_t topic_len,
                                            const char *payload, size_t payload_len, bool oversize,
                                            mono_ms now, wall_s arrival, struct buf *out,
                                            struct hm_device **dev);

/* Chooses the point's timestamp (ns): the device's ts when sane, to the
 * microsecond. Else the message's arrival, at least a microsecond after the
 * device's last such stamp (*last_stamp, updated), so that a burst never
 * puts two readings on one instant of the series; its nanoseconds are
 * ns_tag (0..999, from the gateway's id), so that gateways sharing a
 * device's messages (mqtt.shared_group) do not overwrite each other's
 * points either. */
int64_t ingest_timestamp_ns(double device_ts, wall_s arrival, wall_s *last_stamp, int ns_tag);

/* Encodes rd for device d as one point; d's tags are encoded once, into
 * d->lp_tags. Returns lineproto_append's result. */
int ingest_encode(struct hm_device *d, const struct reading *rd, int64_t ts_ns, struct buf *out);

#endif
