/* Private to the enforce module (enforce.c, enforce_scan.c): the state of a
 * running enforcement and the helpers both files use. Nothing else may
 * include this header. */
#ifndef HALLGW_ENFORCE_INTERNAL_H
#define HALLGW_ENFORCE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "cmdsign.h"
#include "enforce.h"
#include "log.h"

struct strmap;

/* What is kept per PC between runs. */
struct pc_track {
    wall_s seen_on_since; /* wall: first live sign while the hall is off; 0 for none */
    char scan_date[11];   /* local date of the last scan ordered; "" for none */
    wall_s scan_hold;     /* the scan alert is held until then; 0 while not overdue */
    char scan_cmd[ID_MAX + 1];
};

struct enforce {
    const struct config *cfg;
    struct hallmodel *hm;
    struct enforce_io io;
    uint8_t key[CMDSIGN_KEY_MAX];
    size_t key_len;
    struct enforce_run run; /* the last power-off run */
    bool have_run;
    struct enforce_run poweron; /* the last power-on */
    bool have_poweron;
    struct strmap *tracks; /* PC id -> struct pc_track * */
    struct record_override *ov;
    size_t n_ov;
    mono_ms next_overrides;
    wall_s last_wall;
    wall_s fired_poweroff, fired_poweron; /* the instants already run: never twice */
    unsigned seq;
    wall_s last_point; /* of the last step point */
    struct log_ratelimit rl_store;
};

/* enforce.c */

/* The track of PC id, created on first use; NULL when out of memory. */
struct pc_track *enforce_track(struct enforce *ef, const char *id);

/* Signs a command for device (cmd holds its args; id, action, hall, device,
 * issued and expires = wall + lifetime_s are filled here) and publishes it
 * on <prefix>/<hall>/<device>/cmd. kind prefixes the command id. Returns 0,
 * or a negative errno with *why a static reason. */
int enforce_send_signed(struct enforce *ef, struct cmdsign_cmd *cmd, const char *kind,
                        const char *action, const char *hall, const char *device,
                        int64_t lifetime_s, wall_s wall, const char **why);

/* enforce_scan.c */

/* The scan rules of PC d (max_age with action "scan"): holds their alert
 * while a scan is due, orders one a day at an allowed moment (not when
 * may_order is false: retained state). */
void enforce_scans_device(struct enforce *ef, const struct hm_device *d, wall_s wall,
                          bool may_order);

/* enforce_scans_device() for every PC. */
void enforce_scans_tick(struct enforce *ef, wall_s wall);

#endif
