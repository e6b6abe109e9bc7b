/* The gateway's self-counters and gauges. Any thread may bump a counter
 * (relaxed atomics); readers take a consistent-enough snapshot for /metrics
 * and the "gateway" measurement.
 *
 * Each metric has a Prometheus family name with labels and a flat field name
 * for InfluxDB. */
#ifndef HALLGW_METRICS_H
#define HALLGW_METRICS_H

#include <stdint.h>

#include "clock.h"

enum metric_id {
    /* messages by format */
    MET_RECV_NATIVE,
    MET_RECV_ZIGBEE2MQTT,
    MET_RECV_TASMOTA,
    MET_RECV_SHELLY,
    MET_DECODED,
    MET_IGNORED,         /* topics of a known format that carry nothing for us */
    MET_UNKNOWN_IGNORED, /* unknown devices with unknown_devices = "ignore" */
    MET_UNBOUND_FOREIGN, /* foreign device not bound to a hall device */
    MET_DEVICE_TABLE_FULL,
    MET_RETAINED, /* retained messages seen */
    MET_KEYS_DROPPED,
    /* rejections by reason */
    MET_REJECT_BAD_TOPIC,
    MET_REJECT_BAD_ID,
    MET_REJECT_TOO_LARGE,
    MET_REJECT_BAD_UTF8,
    MET_REJECT_NUL,
    MET_REJECT_SYNTAX,
    MET_REJECT_NON_FINITE,
    MET_REJECT_TOO_DEEP,
    MET_REJECT_NOT_OBJECT,
    MET_REJECT_TOO_MANY_FIELDS,
    MET_REJECT_BAD_STATUS,
    MET_REJECT_BAD_EVENT,
    MET_REJECT_BAD_VALUE,
    MET_REJECT_ENCODE, /* could not be written as line protocol */
    /* the core queue */
    MET_QUEUE_WAITS, /* backpressure engaged */
    MET_QUEUE_DROPS,
    /* InfluxDB output */
    MET_POINTS_QUEUED,
    MET_POINTS_WRITTEN,
    MET_POINTS_SPOOLED,
    MET_POINTS_REPLAYED,
    MET_POINTS_REJECTED,      /* 400/422: final */
    MET_POINTS_SPOOL_DROPPED, /* oldest dropped to keep the spool under its cap */
    MET_POINTS_LOST,          /* neither written nor spooled (spool unusable, buffer full) */
    MET_WRITE_REQUESTS,
    MET_WRITE_FAILURES, /* 429, 5xx, network */
    MET_WRITE_SPLITS,   /* 413 */
    MET_SPOOL_TORN,
    /* MQTT */
    MET_MQTT_CONNECTS,
    MET_MQTT_CONNECTION_LOST,
    MET_MQTT_CONNECT_FAILURES,
    MET_MQTT_PUBLISHED,
    MET_MQTT_PUBLISH_FAILURES,
    MET_MQTT_PERSIST_ERRORS, /* in-flight messages not written to the log (kept in memory) */
    MET_JOURNAL_REPLAYED,    /* messages replayed from the inbox journal at start */
    MET_JOURNAL_TORN,        /* torn journal tails cut off at start */
    /* alerts and notifications */
    MET_ALERTS_FIRED,
    MET_ALERTS_ACKNOWLEDGED,
    MET_ALERTS_RESOLVED,
    MET_ACKS_REJECTED, /* acks for unknown alerts or malformed */
    MET_ACKS_REFUSED,  /* MQTT acks whose by or note is not plain text */
    MET_NOTIFY_SENT,
    MET_NOTIFY_RETRIES,
    MET_NOTIFY_FAILED,  /* gave up after the retries */
    MET_NOTIFY_DROPPED, /* the notifier's queue was full */
    /* the daily record sent by itself (delivery.c), per route */
    MET_REPORTS_SENT,    /* sent */
    MET_REPORTS_RETRIES, /* attempts after the first */
    MET_REPORTS_FAILED,  /* refused for good or retries used up */
    MET_STORE_ERRORS,
    MET_CONFIG_RELOADS,
    MET_CONFIG_RELOAD_FAILURES,
    /* enforcement: power-off runs and scans (enforce.c) */
    MET_COMMANDS_SENT,     /* signed commands and plug commands published */
    MET_COMMAND_REPLIES,   /* replies to our commands on .../cmd/reply */
    MET_PCS_VERIFIED_OFF,  /* PCs seen off after a power-off command (or already off) */
    MET_PLUGS_OFF,         /* plugs that reported off after our command */
    MET_POWEROFF_FAILURES, /* PCs or plugs refused, silent or still on after verify_within */
    /* discovery and the unbound devices (unbound_feed.c) */
    MET_DISCOVERY_READ,     /* discovery messages read */
    MET_DISCOVERY_REJECTED, /* discovery messages refused: too large, not JSON, wrong shape */
    MET_UNBOUND_ADDED,      /* devices added to the unbound list */
    MET_UNBOUND_EVICTED,    /* entries pushed out of the full list */
    MET_UNBOUND_REFUSED,    /* names that can be no source, list entries not devices */
    /* gauges */
    MET_G_QUEUE_DEPTH,
    MET_G_DEVICES,
    MET_G_SPOOL_BYTES,
    MET_G_SPOOL_RECORDS,
    MET_G_MQTT_CONNECTED,
    MET_G_ALERTS_ACTIVE,
    MET_G_UNBOUND, /* entries in the unbound list */
    MET__COUNT
};

struct metric_desc {
    const char *family; /* Prometheus name, e.g. "hallgw_rejected_total" */
    const char *labels; /* e.g. "reason=\"bad_utf8\"", or "" */
    const char *field;  /* InfluxDB field name in measurement "gateway" */
    const char *help;
    int gauge; /* 1 for gauges */
};

const struct metric_desc *metrics_desc(enum metric_id id);

void metrics_add(enum metric_id id, uint64_t n);
static inline void metrics_inc(enum metric_id id)
{
    metrics_add(id, 1);
}
void metrics_set(enum metric_id id, uint64_t v); /* gauges */
uint64_t metrics_get(enum metric_id id);

/* The Prometheus text exposition (version 0.0.4) of every metric, malloc'd;
 * NULL when out of memory. */
char *metrics_prometheus(void);

/* Appends every metric as one point of measurement "gateway" (tag gateway,
 * a float field each) to b; lineproto_append()'s result. */
struct buf;
int metrics_points(struct buf *b, const char *gateway_id, wall_s wall);

/* Sets every value to zero (tests). */
void metrics_reset(void);

#endif
