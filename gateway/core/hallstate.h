/* The state of a hall as one retained message (pure): is the hall open, how
 * many of its windows are staffed, how many alerts are active, and whether
 * each of its PCs is compliant, as the gateway judges it. Published on
 * <prefix>/<hall>/state while Home Assistant discovery is on
 * (docs/topics.md, docs/homeassistant.md).
 *
 * A PC is compliant when none of these holds: a max_age rule that applies to
 * it (av-scan-overdue on av_last_scan, av-signatures-old on av_sig_updated)
 * finds its value overdue, av_realtime is false, av_threats is above 0,
 * usb_storage shows a USB storage device. Its compliance is unknown until it
 * has reported one of those metrics. The same checks as the live page's PC
 * panel. */
#ifndef HALLGW_HALLSTATE_H
#define HALLGW_HALLSTATE_H

#include <stddef.h>

#include "buf.h"
#include "clock.h"
#include "config.h"
#include "hallmodel.h"
#include "windows.h"

#define HALLSTATE_PROBLEMS_MAX 8

struct hallstate_pc {
    int compliant; /* -1 unknown (no antivirus or USB metric yet), 0 no, 1 yes */
    /* What makes it not compliant: the names of the overdue max_age rules,
     * "realtime_off", "threats", "usb_storage"; at most HALLSTATE_PROBLEMS_MAX. */
    const char *problems[HALLSTATE_PROBLEMS_MAX];
    size_t n_problems;
};

/* The compliance of PC d at wall under cfg's rules. */
void hallstate_pc_compliance(const struct config *cfg, const struct hm_device *d, wall_s wall,
                             struct hallstate_pc *out);

/* "<mqtt.prefix>/<hall>/state" into buf; returns its length or -ENOSPC. */
int hallstate_topic(const struct config *cfg, const char *hall, char *buf, size_t size);

/* The state of hall h (one of cfg's) at wall, appended to out:
 *   {"hall","name","open","schedule":"open"|"closed"|"break","windows":n,
 *    "staffed":n,"active_alerts":n,"pcs":{"<id>":{"window","compliant",
 *    "problems":[...],"av_realtime","av_sig_updated","av_last_scan",
 *    "av_threats","usb_storage"}}}
 * "open" is the schedule's open state, "staffed" the windows whose seat
 * reports presence, "pcs" the PCs configured in the hall in config order;
 * a metric not reported yet is null. Nothing in it changes with time alone
 * but "open" and "compliant", so equal payloads mean an unchanged state.
 * ix: windows_index_new(cfg) or NULL. Returns 0 or the buffer's failure. */
int hallstate_json(const struct config *cfg, const struct windows_index *ix, struct hallmodel *hm,
                   const struct config_hall *h, size_t active_alerts, wall_s wall, struct buf *out);

#endif
