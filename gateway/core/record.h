/* The hall's records (pure data): the history of alert transitions (the
 * patrol record, 巡查记录), power-off overrides and their log, and the steps
 * of power-off enforcement. The store (io/store.h) keeps them in SQLite; the
 * pure modules that plan, render and report read them as plain structs.
 * Times are wall_s (lib/clock.h). */
#ifndef HALLGW_RECORD_H
#define HALLGW_RECORD_H

#include <stdbool.h>

#include "alert.h"
#include "clock.h"

/* One transition of an alert, as the history keeps it. */
struct record_alert {
    char alert_id[ALERT_ID_MAX + 1];
    char rule[65], subject[65], hall[65], device[65], window[65];
    char severity[16], transition[16];
    wall_s at;
    char by[65];
    char note[ALERT_TEXT_MAX];
    char summary[ALERT_TEXT_MAX];
    double value; /* when has_value */
    bool has_value;
};

/* A power-off override ("keep pc-w03 on until 21:00, reason: overtime"). */
struct record_override {
    char device[65];
    wall_s until; /* the override ends then */
    char reason[ALERT_TEXT_MAX];
    char by[65];
    wall_s created;
};

/* One entry of the override log: "add", "remove" or "expire". */
struct record_override_event {
    char device[65];
    char action[8];
    wall_s until;
    char reason[ALERT_TEXT_MAX];
    char by[65]; /* who added it; for "remove", who removed it */
    wall_s at;   /* for "expire", the until it ran out at */
};

/* One step of power-off enforcement. */
struct record_poweroff_step {
    char date[11]; /* the run's local date, YYYY-MM-DD */
    wall_s at;
    char hall[65], window[65], device[65];
    char kind[16]; /* "pc" or "plug" */
    char step[32]; /* "command", "reply", "verified_off", "plug_command", "plug_off",
                    * "failure", "skipped", "poweron_command", "plug_on" */
    bool ok;
    char detail[ALERT_TEXT_MAX];
};

/* A person's account (io/password.h makes hash; core/roles.h names role). */
struct record_account {
    char name[65];
    char role[16];
    char hash[128];
    bool disabled;
    wall_s created, changed;
};

/* An API token of an account: "hgw_<id>_<secret>"; only the SHA-256 of the
 * secret is kept. */
struct record_token {
    char id[17]; /* 16 hex digits, shown in listings */
    char account[65];
    char hash[65]; /* hex SHA-256 of the secret */
    char label[65];
    wall_s created, last_used;
};

/* A signed-in browser: the cookie's value is kept as its SHA-256. */
struct record_session {
    char id_hash[65];
    char account[65];
    char csrf[65]; /* the token the page sends back with every change */
    char addr[64]; /* where the sign-in came from */
    wall_s created, expires;
};

/* A silence: alerts that match it send no notification and no escalation
 * while it lasts ([starts, ends)); they still exist, are published, stored
 * and shown as silenced. Each matcher is an exact value, "" for any; at
 * least one is set. A maintenance silence says a device is being repaired
 * (its reason is shown on the window's card). */
struct record_silence {
    char id[17]; /* 16 hex digits */
    char hall[65], window[65], device[65], rule[65];
    char severity[16];
    wall_s starts, ends;
    char comment[ALERT_TEXT_MAX];
    bool maintenance;
    char created_by[65];
    wall_s created;
    char ended_by[65]; /* who expired it early; "" while it runs or ran out */
};

/* One human action, as the audit log keeps it. */
struct record_audit {
    wall_s at;
    char account[65]; /* who; for a failed sign-in, the name that was tried */
    char addr[64];    /* from where: the client's address, "cli" or "mqtt" */
    char action[32];  /* "sign-in", "ack", "resolve", "approve", "override-add", ... */
    char target[132]; /* the alert, device or account acted on */
    char detail[ALERT_TEXT_MAX];
    bool ok; /* false: refused (and why is in detail) */
};

#endif
