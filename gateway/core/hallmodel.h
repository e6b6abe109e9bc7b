/* The live model of the halls: every device with its kind, hall, window,
 * availability, when it was last heard from and its last values.
 *
 * Owned by the core thread; not thread-safe. Bounded: at most
 * limits.max_devices devices (configured devices always have a place; the
 * rest is for unknown devices under unknown_devices = "accept") and at most
 * HM_MAX_VALUES last values per device. */
#ifndef HALLGW_HALLMODEL_H
#define HALLGW_HALLMODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clock.h"
#include "config.h"
#include "reading.h"
#include "topic.h"

#define HM_MAX_VALUES 48
#define HM_LP_TAGS_MAX 256 /* bytes of a device's line protocol tags */

struct hm_value {
    const char *key; /* interned, lives as long as the model */
    enum metric_type type;
    bool b;
    double num;
    char *str; /* METRIC_STRING only */
    /* Known only from retained messages (the broker's copy of an earlier
     * reading): state to show, never a reason to act. A live reading of
     * the key clears it. */
    bool retained;
};

struct hm_device {
    char id[ID_MAX + 1];
    char hall[ID_MAX + 1];
    char window[ID_MAX + 1]; /* "" when the device belongs to no window */
    enum device_kind kind;
    enum source_format format;
    unsigned char shelly_gen; /* Shelly: 1 or 2, the generation whose topics it was last heard
                               * on (set by ingest); 0 before any message */
    bool registered;          /* in the config; false for accepted unknown devices */
    enum availability avail;
    mono_ms last_seen; /* 0 = never */
    wall_s last_wall;  /* the arrival of its last message */
    wall_s last_stamp; /* the arrival stamp of its last point without a device time */
    uint64_t messages;
    /* Its tags as line protocol (lineproto_tagset()), kept by ingest in
     * an allocation of their size: lp_tags_len 0 until built and after
     * hall, window or kind change (hallmodel_forget_tags()), -1 when they
     * are longer than HM_LP_TAGS_MAX (then encoded with each point). */
    char *lp_tags;
    int lp_tags_len;
    unsigned n_values, cap_values;
    struct hm_value *values; /* grows to at most HM_MAX_VALUES */
};

enum hm_resolve {
    HM_FOUND = 0,
    HM_UNKNOWN_IGNORED, /* unknown native device, unknown_devices = "ignore" */
    HM_UNBOUND,         /* foreign device not bound to any hall device */
    HM_FULL,            /* device table full */
};

struct hallmodel;

/* Drops the device's kept line-protocol tags: its hall, window or kind
 * changed. */
void hallmodel_forget_tags(struct hm_device *d);

int hallmodel_new(const struct config *cfg, struct hallmodel **out);
void hallmodel_free(struct hallmodel *hm); /* NULL does nothing */

/* Takes a newly loaded config: adds its devices, updates kind, hall and
 * window of those already known, demotes devices no longer configured to
 * unknown. Last values and availability are kept. */
int hallmodel_apply_config(struct hallmodel *hm, const struct config *cfg);

/* The device a routed message is about, creating an unknown native device
 * when the policy accepts it. NULL with *why set otherwise. */
struct hm_device *hallmodel_resolve(struct hallmodel *hm, const struct route *r,
                                    enum hm_resolve *why);

/* Records a decoded reading: availability, last seen, last values. Keys past
 * HM_MAX_VALUES are not kept (they are still written out). The values of a
 * reading delivered retained (rd->retained) are marked retained. */
void hallmodel_update(struct hallmodel *hm, struct hm_device *d, const struct reading *rd,
                      mono_ms now, wall_s wall);

/* The device a route names, without creating it; NULL when unknown. */
struct hm_device *hallmodel_lookup(struct hallmodel *hm, const struct route *r);

const struct hm_value *hallmodel_value(const struct hm_device *d, const char *key);

size_t hallmodel_count(const struct hallmodel *hm);

/* Calls fn for every device, in no particular order. */
void hallmodel_foreach(struct hallmodel *hm, void (*fn)(struct hm_device *d, void *arg), void *arg);

#endif
