/* Power-off enforcement, the pure part: which devices a run covers, in what
 * order and with what decision (exempt, override, dry run, already off,
 * command), the per-PC and per-plug state machines and the plug commands of
 * each device format. The times (off period, scan moments, an override's
 * end) are enforce_time.h's.
 *
 * No I/O, no clock, no logging: `now` (mono_ms, for deadlines) and `wall`
 * (unix seconds, for the schedule and records) are parameters. Wall-clock
 * times of day are in the process's time zone (schedule.h). enforce.c does
 * the sending, recording and alerting. */
#ifndef HALLGW_ENFORCE_PLAN_H
#define HALLGW_ENFORCE_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "alert.h"
#include "clock.h"
#include "config.h"
#include "reading.h"
#include "record.h"
#include "topic.h"

/* A PC silent this long after its agent replied "done" counts as off. */
#define ENFORCE_SILENT_OFF_MS 120000
/* Power-off commands to one PC in one run at most (the night's, and the
 * closed-hall rule's retries). */
#define ENFORCE_ATTEMPTS_MAX 4
/* A commanded PC seen off, then back online, this often in one attempt fails. */
#define ENFORCE_FLAPS_MAX 3

enum enforce_pc_state {
    EPC_PENDING,  /* planned, the command not sent yet */
    EPC_SKIPPED,  /* exempt, under an override, or dry run: nothing is sent */
    EPC_SENT,     /* command sent, no reply yet */
    EPC_ACCEPTED, /* the agent accepted it and waits its grace */
    EPC_DONE,     /* the agent says it is shutting down */
    EPC_OFF,      /* verified off: offline, or silent after "done", or off already */
    EPC_FAILED,   /* refused, failed, no reply, or still on after verify_within */
};

enum enforce_plug_state {
    EPL_WAITING, /* for its PC to be off (and plug_delay), or for the power-on */
    EPL_SKIPPED, /* exempt, override, its PC kept on, or dry run */
    EPL_HELD,    /* its PC did not go off: never cut (resumes if the PC goes off later) */
    EPL_SENT,    /* command sent, waiting for the plug to report */
    EPL_DONE,    /* reported in the target state (off; on for the power-on) */
    EPL_FAILED,  /* not in the target state after verify_within */
};

enum enforce_skip {
    ENFORCE_SKIP_NONE,
    ENFORCE_SKIP_EXEMPT,   /* poweroff.exempt */
    ENFORCE_SKIP_OVERRIDE, /* an override in force */
    ENFORCE_SKIP_DRY_RUN,  /* poweroff.dry_run */
    ENFORCE_SKIP_CAME_ON,  /* off when the run began, switched on since */
};

struct enforce_pc {
    char id[ID_MAX + 1], hall[ID_MAX + 1], window[ID_MAX + 1];
    enum enforce_pc_state state;
    enum enforce_skip skip; /* why, when SKIPPED */
    int plug;               /* index in the run's plugs, -1 for none */
    char cmd_id[ID_MAX + 1];
    mono_ms sent_at, deadline, done_at, off_at;
    unsigned attempts; /* commands sent to it in this run */
    unsigned flaps;    /* came back online after being seen off, this attempt */
    bool alerted;      /* the poweroff-failed alert was raised for this attempt */
    char detail[ALERT_TEXT_MAX];
};

struct enforce_plug {
    char id[ID_MAX + 1], hall[ID_MAX + 1], window[ID_MAX + 1];
    enum source_format format;
    char source[TOPIC_NAME_MAX + 1]; /* foreign name ("" for native) */
    unsigned char shelly_gen;        /* Shelly: 1 or 2 as last heard, 0 unknown (both) */
    int pc;                          /* index in the run's pcs, -1 for none */
    bool target_on;                  /* false for the night, true for the power-on */
    enum enforce_plug_state state;
    mono_ms ready_at; /* switch no earlier; 0 while not known (PC not off yet) */
    mono_ms sent_at, deadline;
    wall_s sent_wall; /* a report at or after this verifies */
    char cmd_id[ID_MAX + 1];
    bool alerted;
    char detail[ALERT_TEXT_MAX];
};

enum enforce_trigger {
    ENFORCE_NIGHTLY, /* schedule.poweroff_at */
    ENFORCE_CLOSED,  /* a PC seen on while the hall is closed */
    ENFORCE_POWERON, /* schedule.poweron_at: plugs on */
};

struct enforce_run {
    char date[11]; /* local YYYY-MM-DD of its start */
    wall_s started;
    enum enforce_trigger trigger;
    struct enforce_pc *pcs; /* PCs first, then plugs: the order things happen */
    size_t n_pcs, cap_pcs;
    struct enforce_plug *plugs;
    size_t n_plugs, cap_plugs;
};

void enforce_run_free(struct enforce_run *r); /* frees the arrays; NULL does nothing */

/* True while some PC or plug of r is still being worked on. */
bool enforce_run_active(const struct enforce_run *r);

/* What the planner needs to know of a device now. */
struct enforce_view {
    enum availability (*avail)(void *ctx, const struct config_device *d);
    void *ctx;
};

/* The glob of p->exempt matching id, or NULL. */
const char *enforce_exempt(const struct config_poweroff *p, const char *id);

/* The override of id in force at wall (until > wall), or NULL. */
const struct record_override *enforce_override_for(const struct record_override *v, size_t n,
                                                   const char *id, wall_s wall);

/* Plans the nightly run (or the power-on with trigger ENFORCE_POWERON) into
 * *r (which must be empty): every configured PC in config order, then (with
 * plugs_after_pcs) every window's plug, each linked to the window's PC.
 * Decisions: exempt, override and dry run make SKIPPED (a plug is skipped
 * with its PC); a PC already offline is OFF; every other PC is PENDING (to
 * command); a plug WAITING. The power-on plans only plugs (target on),
 * skipping exempt ones (dry run: skipped too). detail says why.
 * Returns 0 or -ENOMEM. */
int enforce_plan_run(const struct config *cfg, enum enforce_trigger trigger,
                     const struct record_override *ov, size_t n_ov, const struct enforce_view *view,
                     wall_s wall, mono_ms now, struct enforce_run *r);

/* Adds PC cd to run r for the closed-hall rule, or restarts its item for a
 * new attempt: PENDING (SKIPPED in a dry run), attempts kept; its window's
 * plug (with plugs_after_pcs) is added or set WAITING again unless it is
 * already off, exempt or under an override. Returns the PC's index, or
 * -ENOMEM. */
int enforce_plan_pc(const struct config *cfg, const struct config_device *cd,
                    const struct record_override *ov, size_t n_ov, wall_s wall,
                    struct enforce_run *r);

/* ---- the state machines ---- */

/* What a step of a state machine asks enforce.c to do. */
struct enforce_out {
    struct {
        const char *step; /* "reply", "verified_off", "failure", ... */
        bool ok;
        char detail[ALERT_TEXT_MAX];
    } rec[2];
    size_t n_rec;
    bool raise;   /* raise the poweroff-failed alert of the device */
    bool resolve; /* resolve it: the device is off after all */
    bool send;    /* (plugs) send the command now, then enforce_plug_sent() */
};

/* The command went out at now: SENT, deadline now + verify_ms, attempts + 1. */
void enforce_pc_sent(struct enforce_pc *pc, const char *cmd_id, mono_ms now, int64_t verify_ms);

/* The command could not be sent (why): FAILED with a failure to record. */
void enforce_pc_send_failed(struct enforce_pc *pc, const char *why, struct enforce_out *out);

/* A reply to pc's command ("accepted", "refused", "done" or "failed", with
 * the agent's detail). Always records "reply"; refused and failed make the
 * PC FAILED (raise). A reply after the PC is off or failed is only recorded.
 * Returns true when something is to be done. */
bool enforce_pc_reply(struct enforce_pc *pc, const char *result, const char *detail, mono_ms now,
                      struct enforce_out *out);

/* What the hall model says of a PC now. */
struct enforce_pc_seen {
    enum availability avail;
    mono_ms last_seen; /* 0: never */
    bool plug_cut;     /* its plug was already switched off */
};

/* Time and the PC's state: offline while commanded is OFF; silent for
 * ENFORCE_SILENT_OFF_MS after "done" is OFF; past the deadline it is FAILED
 * (raise); a failed PC seen offline later is OFF (resolve); an OFF PC heard
 * from again (online) before its plug is cut is back on (ACCEPTED: the
 * deadline still holds; the fourth time in one attempt it is FAILED: it
 * keeps coming back). Returns true when something is to be done. */
bool enforce_pc_check(struct enforce_pc *pc, const struct enforce_pc_seen *seen, int64_t verify_ms,
                      mono_ms now, struct enforce_out *out);

/* What the hall model says of a plug now. */
struct enforce_plug_seen {
    bool reported;  /* it reported its relay ("on") at or after sent_wall */
    bool on;        /* that value */
    bool has_value; /* an "on" value is known at all (for plugs found in the state) */
};

/* Time, the plug's PC (NULL when the window has none) and what the plug
 * reported: WAITING sends (out->send) once its PC is OFF and plug_delay has
 * passed (at once without a PC, and for the power-on); a PC that FAILED
 * holds its plug (HELD, recorded not ok): a plug feeding a PC that is still
 * on is never cut. SENT becomes DONE when the plug reports the target state,
 * FAILED at the deadline (raise for the night). */
bool enforce_plug_check(struct enforce_plug *pl, const struct enforce_pc *pc,
                        const struct enforce_plug_seen *seen, int64_t plug_delay_ms, mono_ms now,
                        struct enforce_out *out);

/* The plug command went out at now (wall): SENT, deadline now + verify_ms. */
void enforce_plug_sent(struct enforce_plug *pl, const char *cmd_id, mono_ms now, wall_s wall,
                       int64_t verify_ms);

/* The plug command could not be sent: FAILED (raise for the night). */
void enforce_plug_send_failed(struct enforce_plug *pl, const char *why, struct enforce_out *out);

/* The command that switches a plug, by its format:
 *   Tasmota      cmnd/<t>/POWER  OFF | ON
 *   Shelly Gen2  <id>/rpc        {"id":1,"src":"hallgw","method":"Switch.Set",
 *                                 "params":{"id":<n>,"on":false}}
 *   Shelly Gen1  shellies/<id>/relay/<n>/command  off | on
 *                (source "<id>#<n>" names channel n, else 0; by pl->shelly_gen:
 *                while it is 0 both are sent, the Gen2 one in topic/payload
 *                and the Gen1 one in topic2/payload2; each generation ignores
 *                the other's topic)
 *   Zigbee2MQTT  zigbee2mqtt/<name>/set  {"state":"OFF"}
 *   native       <prefix>/<hall>/<id>/cmd, a signed command with action
 *                "off" or "on" (native is true, payload is "": the caller
 *                signs it)
 * Returns 0, or -ENAMETOOLONG. */
struct enforce_plug_cmd {
    char topic[TOPIC_NAME_MAX + 64];
    char payload[128];
    char topic2[TOPIC_NAME_MAX + 64]; /* a second message to send, "" for none */
    char payload2[128];
    bool native;
};
int enforce_plug_command(const char *prefix, const struct enforce_plug *pl, bool on,
                         struct enforce_plug_cmd *out);

/* "pending", "skipped", ...; "waiting", "skipped", "held", "sent", "off"/"on",
 * "failed". */
const char *enforce_pc_state_name(enum enforce_pc_state s);
const char *enforce_plug_state_name(const struct enforce_plug *pl);
/* Whether the item ended well: 1, 0 (failed, held), or -1 while in progress. */
int enforce_pc_ok(const struct enforce_pc *pc);
int enforce_plug_ok(const struct enforce_plug *pl);

#endif
