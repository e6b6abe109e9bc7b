/* hallgw-sim --month: a whole month of a simulated hall written straight into
 * InfluxDB, in the measurements, tags and fields the gateway writes
 * (gateway/core/points.c, gateway/ingest.c), as fast as InfluxDB takes it:
 * for checking the periodic assessment (hallgw report --period month).
 *
 * Only readings: the window state (measurement "window": open, staffed,
 * staffed_open, waiting), the queue system ("queue": waiting,
 * longest_wait_s, served_today), the air sensors ("env"), the PCs' antivirus
 * state ("pc"), PC events ("event") and the nightly power-off steps
 * ("poweroff"). No alerts: those are the gateway's (its state store).
 * Deterministic for a seed. */
#ifndef HALLGW_SIMMONTH_H
#define HALLGW_SIMMONTH_H

#include <stdint.h>

#include "config.h"

struct simmonth_opts {
    const char *month; /* "YYYY-MM" */
    const char *hall;
    int windows;
    uint64_t seed;
    const struct config_schedule *sched; /* in the process's zone */
    const struct config_influx *influx;  /* url, database or bucket, credentials */
};

/* Writes the month. Progress and errors go to stderr. Returns 0, -EINVAL for
 * a bad month, -EIO when InfluxDB refuses or can not be reached, -ENOMEM. */
int simmonth_run(const struct simmonth_opts *o);

#endif
