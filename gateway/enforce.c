/* Enforcement on the core thread (enforce.h): the power-off runs, the
 * closed-hall rule, commands and replies, the records, the alerts and the
 * overrides. What to do is decided in enforce_plan.c, when in
 * enforce_time.c; the scans are enforce_scan.c's. */
#include "enforce.h"
#include "enforce_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerting.h"
#include "cmdsign.h"
#include "crypto.h"
#include "enforce_time.h"
#include "log.h"
#include "metrics.h"
#include "schedule.h"
#include "strmap.h"

#define OVERRIDES_EVERY_MS 5000

/* ---- helpers ---------------------------------------------------------------------- */

static void load_key(struct enforce *ef)
{
    const char *path = ef->cfg->mqtt.command_key_file;
    ef->key_len = 0;
    if (!path || (!ef->cfg->poweroff.enabled && !ef->cfg->scans.enabled))
        return;
    int r = cmdsign_key_load(path, ef->key, &ef->key_len);
    if (r < 0) {
        ef->key_len = 0;
        log_err("enforce: cannot read the command key %s: %s; commands will fail", path,
                r == -EINVAL ? "shorter than 16 bytes" : strerror(-r));
    }
}

static struct hm_device *device_of(struct enforce *ef, const char *hall, const char *id)
{
    struct route rt = {.format = FORMAT_NATIVE};
    snprintf(rt.hall, sizeof(rt.hall), "%s", hall);
    snprintf(rt.device, sizeof(rt.device), "%s", id);
    return hallmodel_lookup(ef->hm, &rt);
}

struct pc_track *enforce_track(struct enforce *ef, const char *id)
{
    struct pc_track *t = strmap_get(ef->tracks, id);
    if (t)
        return t;
    if (!(t = calloc(1, sizeof(*t))))
        return NULL;
    if (strmap_put(ef->tracks, id, t) < 0) {
        free(t);
        return NULL;
    }
    return t;
}

static void next_cmd_id(struct enforce *ef, const char *kind, wall_s wall, char *buf, size_t size)
{
    snprintf(buf, size, "%s-%lld-%u", kind, (long long)wall_whole(wall), ++ef->seq);
}

/* Records one step: the store's power-off log, InfluxDB and the log. */
static void record(struct enforce *ef, const struct enforce_run *run, const char *hall,
                   const char *window, const char *device, enum device_kind kind, const char *step,
                   bool ok, const char *detail, wall_s wall)
{
    struct record_poweroff_step s = {.at = wall, .ok = ok};
    snprintf(s.date, sizeof(s.date), "%s", run->date);
    snprintf(s.hall, sizeof(s.hall), "%s", hall);
    snprintf(s.window, sizeof(s.window), "%s", window);
    snprintf(s.device, sizeof(s.device), "%s", device);
    snprintf(s.kind, sizeof(s.kind), "%s", config_kind_name(kind));
    snprintf(s.step, sizeof(s.step), "%s", step);
    snprintf(s.detail, sizeof(s.detail), "%s", detail);
    log_msg(ok ? LOG_NOTICE : LOG_WARNING, "poweroff %s %s: %s%s%s", device, step,
            ok ? "" : "NOT OK: ", detail, ef->cfg->poweroff.dry_run ? " [dry run]" : "");
    if (ef->io.store && store_poweroff_add(ef->io.store, &s) < 0) {
        metrics_inc(MET_STORE_ERRORS);
        if (log_ratelimit_ok(&ef->rl_store, "enforce: store errors"))
            log_err("enforce: cannot record the step: %s", store_last_error(ef->io.store));
    }
    if (ef->io.step_point) {
        /* Steps of one device never share a timestamp (they would overwrite). */
        ef->io.step_point(ef->io.ctx, &s, wall_ns(wall_after(wall, &ef->last_point)));
    }
}

static void alert_id_of(const char *device, char *buf, size_t size)
{
    snprintf(buf, size, "%s:%s", ALERTING_RULE_POWEROFF_FAILED, device);
}

static void raise_alert(struct enforce *ef, const char *hall, const char *window,
                        const char *device, enum device_kind kind, const char *summary, wall_s wall,
                        mono_ms now)
{
    metrics_inc(MET_POWEROFF_FAILURES);
    if (!ef->io.alerting)
        return;
    struct alerting_external x = {.rule = ALERTING_RULE_POWEROFF_FAILED,
                                  .subject = device,
                                  .hall = hall,
                                  .device = device,
                                  .window = window,
                                  .kind = kind,
                                  .severity = SEV_MAJOR,
                                  .summary = summary};
    if (alerting_raise_external(ef->io.alerting, &x, wall, now) < 0)
        log_err("enforce: cannot raise the alert for %s", device);
}

static void resolve_alert(struct enforce *ef, const char *hall, const char *device,
                          const char *note, wall_s wall)
{
    char id[ALERT_ID_MAX + 1];
    if (!ef->io.alerting)
        return;
    alert_id_of(device, id, sizeof(id));
    alerting_resolve_external(ef->io.alerting, hall, id, note, wall); /* alerting logs it */
}

/* Applies what a state machine asked for, for a PC (pc) or a plug (pl). */
static void apply(struct enforce *ef, const struct enforce_run *run, const struct enforce_pc *pc,
                  const struct enforce_plug *pl, const struct enforce_out *out, wall_s wall,
                  mono_ms now)
{
    const char *hall = pc ? pc->hall : pl->hall, *window = pc ? pc->window : pl->window;
    const char *id = pc ? pc->id : pl->id;
    enum device_kind kind = pc ? KIND_PC : KIND_PLUG;
    for (size_t i = 0; i < out->n_rec; i++) {
        record(ef, run, hall, window, id, kind, out->rec[i].step, out->rec[i].ok,
               out->rec[i].detail, wall);
        if (strcmp(out->rec[i].step, "verified_off") == 0)
            metrics_inc(MET_PCS_VERIFIED_OFF);
        else if (strcmp(out->rec[i].step, "plug_off") == 0)
            metrics_inc(MET_PLUGS_OFF);
    }
    if (out->raise)
        raise_alert(ef, hall, window, id, kind, pc ? pc->detail : pl->detail, wall, now);
    if (out->resolve)
        resolve_alert(ef, hall, id, pc ? "seen off after all" : "the plug reported off", wall);
    if (pc && (pc->state == EPC_OFF || pc->state == EPC_FAILED)) {
        /* The attempt is over: the closed-hall rule starts counting afresh. */
        struct pc_track *t = strmap_get(ef->tracks, pc->id);
        if (t)
            t->seen_on_since = 0;
    }
}

int enforce_send_signed(struct enforce *ef, struct cmdsign_cmd *cmd, const char *kind,
                        const char *action, const char *hall, const char *device,
                        int64_t lifetime_s, wall_s wall, const char **why)
{
    char topic[256], *json = NULL;
    if (!ef->key_len) {
        *why = "no command key (mqtt.command_key_file could not be read)";
        return -ENOKEY;
    }
    next_cmd_id(ef, kind, wall, cmd->id, sizeof(cmd->id));
    snprintf(cmd->action, sizeof(cmd->action), "%s", action);
    snprintf(cmd->hall, sizeof(cmd->hall), "%s", hall);
    snprintf(cmd->device, sizeof(cmd->device), "%s", device);
    cmd->issued = wall_whole(wall);
    cmd->expires = cmd->issued + (lifetime_s > 0 ? lifetime_s : 1);
    int r = cmdsign_build(ef->key, ef->key_len, cmd, &json);
    if (r < 0) {
        *why = r == -ENOMEM ? "out of memory" : "the command cannot be signed";
        return r;
    }
    snprintf(topic, sizeof(topic), "%s/%s/%s/cmd", ef->cfg->mqtt.prefix, hall, device);
    r = ef->io.publish ? ef->io.publish(ef->io.ctx, topic, json, strlen(json), false) : -ENOTCONN;
    free(json);
    if (r < 0) {
        *why = r == -ENOTCONN ? "not connected to the MQTT broker" : "the MQTT publish failed";
        return r;
    }
    metrics_inc(MET_COMMANDS_SENT);
    return 0;
}

/* ---- the runs ------------------------------------------------------------------------- */

static void send_poweroff(struct enforce *ef, struct enforce_run *run, struct enforce_pc *pc,
                          wall_s wall, mono_ms now)
{
    const struct config_poweroff *p = &ef->cfg->poweroff;
    struct cmdsign_cmd cmd = {0};
    const char *why = "";
    char detail[ALERT_TEXT_MAX];
    struct enforce_out out;
    int r = cmdsign_arg_int(&cmd, "grace_s", (long long)(p->grace_ms / 1000));
    if (r == 0)
        r = cmdsign_arg_str(&cmd, "reason",
                            run->trigger == ENFORCE_NIGHTLY ? "after-hours power-off"
                                                            : "on while the hall is closed");
    if (r == 0)
        r = enforce_send_signed(ef, &cmd, "po", "poweroff", pc->hall, pc->id,
                                p->verify_within_ms / 1000, wall, &why);
    if (r < 0) {
        enforce_pc_send_failed(pc, why, &out);
        record(ef, run, pc->hall, pc->window, pc->id, KIND_PC, "command", false, why, wall);
        apply(ef, run, pc, NULL, &out, wall, now);
        return;
    }
    enforce_pc_sent(pc, cmd.id, now, p->verify_within_ms);
    snprintf(detail, sizeof(detail), "poweroff %s, grace %llds, to be off within %llds%s", cmd.id,
             (long long)(p->grace_ms / 1000), (long long)(p->verify_within_ms / 1000),
             pc->attempts > 1 ? " (again)" : "");
    record(ef, run, pc->hall, pc->window, pc->id, KIND_PC, "command", true, detail, wall);
}

static void send_plug(struct enforce *ef, struct enforce_run *run, struct enforce_plug *pl,
                      wall_s wall, mono_ms now)
{
    const struct config_poweroff *p = &ef->cfg->poweroff;
    struct enforce_plug_cmd pcmd;
    struct enforce_out out;
    const char *why = "the topic is too long";
    char id[ID_MAX + 1] = "", detail[ALERT_TEXT_MAX];
    const char *step = pl->target_on ? "poweron_command" : "plug_command";
    if (pl->format == FORMAT_SHELLY) {
        const struct hm_device *d = device_of(ef, pl->hall, pl->id);
        pl->shelly_gen = d ? d->shelly_gen : 0;
    }
    int r = enforce_plug_command(ef->cfg->mqtt.prefix, pl, pl->target_on, &pcmd);
    if (r == 0 && pcmd.native) {
        struct cmdsign_cmd cmd = {0};
        r = enforce_send_signed(ef, &cmd, "pl", pl->target_on ? "on" : "off", pl->hall, pl->id,
                                p->verify_within_ms / 1000, wall, &why);
        snprintf(id, sizeof(id), "%s", cmd.id);
        snprintf(detail, sizeof(detail), "%.150s signed %s %.64s", pcmd.topic,
                 pl->target_on ? "on" : "off", cmd.id);
    } else if (r == 0) {
        r = ef->io.publish
                ? ef->io.publish(ef->io.ctx, pcmd.topic, pcmd.payload, strlen(pcmd.payload), false)
                : -ENOTCONN;
        why = r == -ENOTCONN ? "not connected to the MQTT broker" : "the MQTT publish failed";
        if (r == 0)
            metrics_inc(MET_COMMANDS_SENT);
        snprintf(detail, sizeof(detail), "%.120s %.120s", pcmd.topic, pcmd.payload);
        /* A Shelly of a generation not yet known: its other generation's
         * command too (each ignores the other's topic). */
        if (r == 0 && pcmd.topic2[0]) {
            r = ef->io.publish(ef->io.ctx, pcmd.topic2, pcmd.payload2, strlen(pcmd.payload2),
                               false);
            if (r == 0)
                metrics_inc(MET_COMMANDS_SENT);
            snprintf(detail, sizeof(detail), "%.70s %.100s, %.70s %.10s", pcmd.topic, pcmd.payload,
                     pcmd.topic2, pcmd.payload2);
        }
    }
    if (r < 0) {
        enforce_plug_send_failed(pl, why, &out);
        record(ef, run, pl->hall, pl->window, pl->id, KIND_PLUG, step, false, why, wall);
        apply(ef, run, NULL, pl, &out, wall, now);
        return;
    }
    enforce_plug_sent(pl, id, now, clock_wall(), p->verify_within_ms);
    record(ef, run, pl->hall, pl->window, pl->id, KIND_PLUG, step, true, detail, wall);
}

static void plug_seen(struct enforce *ef, const struct enforce_plug *pl,
                      struct enforce_plug_seen *seen)
{
    memset(seen, 0, sizeof(*seen));
    const struct hm_device *d = device_of(ef, pl->hall, pl->id);
    const struct hm_value *v = d ? hallmodel_value(d, "on") : NULL;
    if (!v || v->type != METRIC_BOOL)
        return;
    seen->has_value = true;
    seen->on = v->b;
    seen->reported = pl->state != EPL_WAITING && d->last_wall >= pl->sent_wall;
}

static void advance_pc(struct enforce *ef, struct enforce_run *run, size_t i, wall_s wall,
                       mono_ms now)
{
    struct enforce_pc *pc = &run->pcs[i];
    struct enforce_out out;
    if (pc->state == EPC_PENDING) {
        send_poweroff(ef, run, pc, wall, now);
        return;
    }
    const struct hm_device *d = device_of(ef, pc->hall, pc->id);
    const struct enforce_plug *pl = pc->plug >= 0 ? &run->plugs[pc->plug] : NULL;
    struct enforce_pc_seen seen = {
        .avail = d ? d->avail : AVAIL_UNKNOWN,
        .last_seen = d ? d->last_seen : 0,
        .plug_cut =
            pl && (pl->state == EPL_SENT || pl->state == EPL_DONE || pl->state == EPL_FAILED),
    };
    if (enforce_pc_check(pc, &seen, ef->cfg->poweroff.verify_within_ms, now, &out))
        apply(ef, run, pc, NULL, &out, wall, now);
}

static void advance_plug(struct enforce *ef, struct enforce_run *run, size_t i, wall_s wall,
                         mono_ms now)
{
    struct enforce_plug *pl = &run->plugs[i];
    const struct enforce_pc *pc = pl->pc >= 0 ? &run->pcs[pl->pc] : NULL;
    struct enforce_plug_seen seen;
    struct enforce_out out;
    plug_seen(ef, pl, &seen);
    if (!enforce_plug_check(pl, pc, &seen, ef->cfg->poweroff.plug_delay_ms, now, &out))
        return;
    apply(ef, run, NULL, pl, &out, wall, now);
    if (out.send)
        send_plug(ef, run, pl, wall, now);
}

/* Moves every item of run along: PCs first, then plugs. */
static void advance(struct enforce *ef, struct enforce_run *run, wall_s wall, mono_ms now)
{
    for (size_t i = 0; i < run->n_pcs; i++)
        advance_pc(ef, run, i, wall, now);
    for (size_t i = 0; i < run->n_plugs; i++)
        advance_plug(ef, run, i, wall, now);
}

/* Moves along the items of run that device d is (a PC and its plug, or a plug). */
static void advance_device(struct enforce *ef, struct enforce_run *run, const struct hm_device *d,
                           wall_s wall, mono_ms now)
{
    for (size_t i = 0; d->kind == KIND_PC && i < run->n_pcs; i++) {
        if (strcmp(run->pcs[i].id, d->id) != 0)
            continue;
        advance_pc(ef, run, i, wall, now);
        if (run->pcs[i].plug >= 0)
            advance_plug(ef, run, (size_t)run->pcs[i].plug, wall, now);
        return;
    }
    for (size_t i = 0; d->kind == KIND_PLUG && i < run->n_plugs; i++) {
        if (strcmp(run->plugs[i].id, d->id) == 0) {
            advance_plug(ef, run, i, wall, now);
            return;
        }
    }
}

static enum availability view_avail(void *ctx, const struct config_device *cd)
{
    const struct hm_device *d = device_of(ctx, cd->hall, cd->id);
    return d ? d->avail : AVAIL_UNKNOWN;
}

/* Records the decisions a new run starts with. */
static void record_plan(struct enforce *ef, struct enforce_run *run, wall_s wall)
{
    for (size_t i = 0; i < run->n_pcs; i++) {
        struct enforce_pc *pc = &run->pcs[i];
        if (pc->state == EPC_SKIPPED)
            record(ef, run, pc->hall, pc->window, pc->id, KIND_PC, "skipped", true, pc->detail,
                   wall);
        else if (pc->state == EPC_OFF) {
            record(ef, run, pc->hall, pc->window, pc->id, KIND_PC, "verified_off", true, pc->detail,
                   wall);
            metrics_inc(MET_PCS_VERIFIED_OFF);
        }
    }
    for (size_t i = 0; i < run->n_plugs; i++) {
        struct enforce_plug *pl = &run->plugs[i];
        if (pl->state == EPL_SKIPPED)
            record(ef, run, pl->hall, pl->window, pl->id, KIND_PLUG, "skipped", true, pl->detail,
                   wall);
    }
}

static void refresh_overrides(struct enforce *ef, wall_s wall, mono_ms now)
{
    struct record_override *v = NULL;
    size_t n = 0;
    ef->next_overrides = now + OVERRIDES_EVERY_MS;
    if (!ef->io.store)
        return;
    if (store_overrides_expire(ef->io.store, wall, &v, &n) == 0) {
        for (size_t i = 0; i < n; i++)
            log_notice("override of %s (by %s: %s) expired", v[i].device, v[i].by, v[i].reason);
        free(v);
    }
    if (store_overrides(ef->io.store, wall, &v, &n) < 0) {
        metrics_inc(MET_STORE_ERRORS);
        if (log_ratelimit_ok(&ef->rl_store, "enforce: store errors"))
            log_err("enforce: cannot read the overrides: %s", store_last_error(ef->io.store));
        return; /* keep the last known ones */
    }
    free(ef->ov);
    ef->ov = v;
    ef->n_ov = n;
}

static void start_run(struct enforce *ef, enum enforce_trigger trigger, wall_s wall, mono_ms now)
{
    struct enforce_run r;
    struct enforce_view view = {.avail = view_avail, .ctx = ef};
    refresh_overrides(ef, wall, now);
    if (enforce_plan_run(ef->cfg, trigger, ef->ov, ef->n_ov, &view, wall, now, &r) < 0) {
        log_err("enforce: out of memory planning the %s",
                trigger == ENFORCE_POWERON ? "power-on" : "power-off run");
        return;
    }
    struct enforce_run *slot = trigger == ENFORCE_POWERON ? &ef->poweron : &ef->run;
    enforce_run_free(slot);
    *slot = r;
    if (trigger == ENFORCE_POWERON)
        ef->have_poweron = true;
    else
        ef->have_run = true;
    log_notice("%s%s: %zu PCs, %zu plugs",
               trigger == ENFORCE_POWERON ? "power-on of the plugs" : "nightly power-off run",
               ef->cfg->poweroff.dry_run ? " (dry run)" : "", slot->n_pcs, slot->n_plugs);
    record_plan(ef, slot, wall);
    advance(ef, slot, wall, now);
}

/* True when a time of day tod_s of a working day falls in (from, to] and
 * was not run yet (*fired: a wall clock set back crosses it again). */
static bool crossed(const struct config_schedule *s, wall_s from, wall_s to, int32_t tod_s,
                    wall_s *fired)
{
    if (tod_s < 0 || to <= from)
        return false;
    wall_s t = schedule_next_on_workday(s, from, tod_s);
    if (!t || t > to || t == *fired)
        return false;
    *fired = t;
    return true;
}

/* ---- the closed-hall rule --------------------------------------------------------------- */

static bool may_retry(const struct enforce_run *run, int i)
{
    if (i < 0)
        return true;
    const struct enforce_pc *pc = &run->pcs[i];
    switch (pc->state) {
    case EPC_OFF:
    case EPC_FAILED:
        return pc->attempts < ENFORCE_ATTEMPTS_MAX;
    case EPC_SKIPPED:
        return pc->skip == ENFORCE_SKIP_OVERRIDE || pc->skip == ENFORCE_SKIP_CAME_ON;
    case EPC_PENDING:
    case EPC_SENT:
    case EPC_ACCEPTED:
    case EPC_DONE:
        break;
    }
    return false;
}

static int run_pc(const struct enforce_run *run, const char *id)
{
    for (size_t i = 0; i < run->n_pcs; i++) {
        if (strcmp(run->pcs[i].id, id) == 0)
            return (int)i;
    }
    return -1;
}

static void closed_rule(struct enforce *ef, wall_s off_since, wall_s wall)
{
    const struct config *cfg = ef->cfg;
    char today[11];
    enforce_local_date(wall, today);
    for (size_t i = 0; i < cfg->n_devices; i++) {
        const struct config_device *cd = &cfg->devices[i];
        struct pc_track *t;
        if (cd->kind != KIND_PC || !(t = strmap_get(ef->tracks, cd->id)) || !t->seen_on_since)
            continue;
        const struct hm_device *d = device_of(ef, cd->hall, cd->id);
        if (!enforce_closed_due(&cfg->poweroff, t->seen_on_since, d ? d->avail : AVAIL_UNKNOWN,
                                wall))
            continue;
        if (enforce_exempt(&cfg->poweroff, cd->id) ||
            enforce_override_for(ef->ov, ef->n_ov, cd->id, wall))
            continue; /* seen_on_since is kept: due as soon as the override ends */
        bool same = ef->have_run && ef->run.started >= off_since &&
                    (strcmp(ef->run.date, today) == 0 || enforce_run_active(&ef->run));
        if (same && !may_retry(&ef->run, run_pc(&ef->run, cd->id)))
            continue;
        if (!same) {
            enforce_run_free(&ef->run);
            ef->run.started = wall;
            ef->run.trigger = ENFORCE_CLOSED;
            snprintf(ef->run.date, sizeof(ef->run.date), "%s", today);
            ef->have_run = true;
        }
        int k = enforce_plan_pc(cfg, cd, ef->ov, ef->n_ov, wall, &ef->run);
        if (k < 0) {
            log_err("enforce: out of memory");
            return;
        }
        char since[16] = "?";
        time_t s = (time_t)wall_whole(t->seen_on_since);
        struct tm tm;
        if (localtime_r(&s, &tm))
            strftime(since, sizeof(since), "%H:%M:%S", &tm);
        log_notice("%s is on while the hall is closed (seen since %s): powering it off", cd->id,
                   since);
        t->seen_on_since = 0;
        struct enforce_pc *pc = &ef->run.pcs[k];
        if (pc->state == EPC_SKIPPED)
            record(ef, &ef->run, pc->hall, pc->window, pc->id, KIND_PC, "skipped", true, pc->detail,
                   wall);
        if (pc->plug >= 0 && ef->run.plugs[pc->plug].state == EPL_SKIPPED)
            record(ef, &ef->run, ef->run.plugs[pc->plug].hall, ef->run.plugs[pc->plug].window,
                   ef->run.plugs[pc->plug].id, KIND_PLUG, "skipped", true,
                   ef->run.plugs[pc->plug].detail, wall);
    }
}

/* A live sign of PC d: while the hall is off, the closed-hall rule starts
 * counting (unless the PC is being worked on). */
static void pc_seen(struct enforce *ef, const struct hm_device *d, const struct reading *rd,
                    wall_s wall)
{
    struct pc_track *t = enforce_track(ef, d->id);
    if (!t)
        return;
    if (rd->cls == MSG_STATUS && rd->status == AVAIL_OFFLINE) {
        t->seen_on_since = 0;
        return;
    }
    if (t->seen_on_since || !ef->cfg->poweroff.enabled ||
        !enforce_off_since(&ef->cfg->schedule, wall))
        return;
    int i = ef->have_run ? run_pc(&ef->run, d->id) : -1;
    if (i >= 0 && (ef->run.pcs[i].state == EPC_PENDING || ef->run.pcs[i].state == EPC_SENT ||
                   ef->run.pcs[i].state == EPC_ACCEPTED || ef->run.pcs[i].state == EPC_DONE))
        return;
    t->seen_on_since = wall;
}

/* ---- replies ----------------------------------------------------------------------------- */

static void on_reply(struct enforce *ef, const struct hm_device *d, const struct reading *rd,
                     wall_s wall, mono_ms now)
{
    const struct metric *mid = reading_find(rd, "id"), *mres = reading_find(rd, "result");
    const struct metric *mdet = reading_find(rd, "detail");
    char id[ID_MAX + 1];
    if (!mid || !mres || mres->type != METRIC_STRING)
        return;
    if (mid->type == METRIC_STRING)
        snprintf(id, sizeof(id), "%s", mid->v.str);
    else
        snprintf(id, sizeof(id), "%.0f", mid->v.num);
    const char *detail = mdet && mdet->type == METRIC_STRING ? mdet->v.str : "";
    struct enforce_out out;
    struct enforce_run *runs[2] = {ef->have_run ? &ef->run : NULL,
                                   ef->have_poweron ? &ef->poweron : NULL};
    for (int k = 0; k < 2; k++) {
        struct enforce_run *run = runs[k];
        for (size_t i = 0; run && d->kind == KIND_PC && i < run->n_pcs; i++) {
            struct enforce_pc *pc = &run->pcs[i];
            if (strcmp(pc->id, d->id) != 0 || strcmp(pc->cmd_id, id) != 0)
                continue;
            metrics_inc(MET_COMMAND_REPLIES);
            if (enforce_pc_reply(pc, mres->v.str, detail, now, &out))
                apply(ef, run, pc, NULL, &out, wall, now);
            return;
        }
        for (size_t i = 0; run && d->kind == KIND_PLUG && i < run->n_plugs; i++) {
            struct enforce_plug *pl = &run->plugs[i];
            if (strcmp(pl->id, d->id) != 0 || strcmp(pl->cmd_id, id) != 0)
                continue;
            metrics_inc(MET_COMMAND_REPLIES);
            bool good = strcmp(mres->v.str, "accepted") == 0 || strcmp(mres->v.str, "done") == 0;
            char text[ALERT_TEXT_MAX];
            snprintf(text, sizeof(text), "%s%s%.200s", mres->v.str, *detail ? ": " : "", detail);
            record(ef, run, pl->hall, pl->window, pl->id, KIND_PLUG, "reply", good, text, wall);
            return;
        }
    }
    struct pc_track *t = d->kind == KIND_PC ? strmap_get(ef->tracks, d->id) : NULL;
    if (t && t->scan_cmd[0] && strcmp(t->scan_cmd, id) == 0) {
        metrics_inc(MET_COMMAND_REPLIES);
        log_msg(strcmp(mres->v.str, "refused") == 0 || strcmp(mres->v.str, "failed") == 0
                    ? LOG_WARNING
                    : LOG_NOTICE,
                "scan of %s %s: %s", d->id, mres->v.str, detail);
    }
}

/* ---- the core's calls ---------------------------------------------------------------------- */

void enforce_on_reading(struct enforce *ef, struct hm_device *d, const struct reading *rd,
                        bool retained, wall_s wall, mono_ms now)
{
    if (!d->registered || (d->kind != KIND_PC && d->kind != KIND_PLUG))
        return;
    if (!retained && rd->cls == MSG_REPLY)
        on_reply(ef, d, rd, wall, now);
    if (d->kind == KIND_PC) {
        if (!retained)
            pc_seen(ef, d, rd, wall);
        if (rd->cls == MSG_TELEMETRY)
            enforce_scans_device(ef, d, wall, !retained);
        /* React at once rather than at the next tick. */
        if (ef->have_run)
            advance_device(ef, &ef->run, d, wall, now);
        /* Seen off: a failure alert (of this run or an earlier one) resolves. */
        if (rd->cls == MSG_STATUS && rd->status == AVAIL_OFFLINE)
            resolve_alert(ef, d->hall, d->id, "seen offline", wall);
        return;
    }
    if (ef->have_run)
        advance_device(ef, &ef->run, d, wall, now);
    if (ef->have_poweron)
        advance_device(ef, &ef->poweron, d, wall, now);
    const struct hm_value *v = hallmodel_value(d, "on");
    if (rd->cls == MSG_TELEMETRY && v && v->type == METRIC_BOOL && !v->b)
        resolve_alert(ef, d->hall, d->id, "the plug reported off", wall);
}

static void clear_seen(const char *key, void *value, void *arg)
{
    (void)key;
    (void)arg;
    ((struct pc_track *)value)->seen_on_since = 0;
}

void enforce_tick(struct enforce *ef, wall_s wall, mono_ms now)
{
    const struct config *cfg = ef->cfg;
    const struct config_poweroff *p = &cfg->poweroff;
    if (now >= ef->next_overrides)
        refresh_overrides(ef, wall, now);
    if (p->enabled) {
        if (crossed(&cfg->schedule, ef->last_wall, wall, cfg->schedule.poweroff_s,
                    &ef->fired_poweroff))
            start_run(ef, ENFORCE_NIGHTLY, wall, now);
        if (p->plugs_after_pcs && crossed(&cfg->schedule, ef->last_wall, wall,
                                          cfg->schedule.poweron_s, &ef->fired_poweron))
            start_run(ef, ENFORCE_POWERON, wall, now);
        wall_s off_since = enforce_off_since(&cfg->schedule, wall);
        if (off_since)
            closed_rule(ef, off_since, wall);
        else
            strmap_foreach(ef->tracks, clear_seen, NULL);
    }
    if (ef->have_run)
        advance(ef, &ef->run, wall, now);
    if (ef->have_poweron)
        advance(ef, &ef->poweron, wall, now);
    if (cfg->scans.enabled)
        enforce_scans_tick(ef, wall);
    ef->last_wall = wall;
}

/* ---- overrides -------------------------------------------------------------------------- */

int enforce_override_add(struct enforce *ef, const char *device, double until, const char *reason,
                         const char *by, double wall, const char **why)
{
    int r = enforce_override_check(ef->cfg, device, until, wall, why);
    if (r < 0)
        return r;
    if (!ef->io.store) {
        *why = "no state store";
        return -EIO;
    }
    struct record_override o = {.until = until, .created = wall};
    snprintf(o.device, sizeof(o.device), "%s", device);
    snprintf(o.reason, sizeof(o.reason), "%s", reason ? reason : "");
    snprintf(o.by, sizeof(o.by), "%s", by ? by : "");
    if (store_override_set(ef->io.store, &o) < 0) {
        *why = "the override cannot be stored";
        log_err("enforce: cannot store the override of %s: %s", device,
                store_last_error(ef->io.store));
        return -EIO;
    }
    log_notice("override: %s kept on until %.0f by %s: %s", device, until, o.by, o.reason);
    refresh_overrides(ef, wall, clock_mono_ms());
    return 0;
}

int enforce_override_remove(struct enforce *ef, const char *device, const char *by, double wall)
{
    if (!ef->io.store)
        return -EIO;
    int r = store_override_remove(ef->io.store, device, by, wall, NULL);
    if (r == -ENOENT)
        return r;
    if (r < 0) {
        log_err("enforce: cannot remove the override of %s: %s", device,
                store_last_error(ef->io.store));
        return -EIO;
    }
    log_notice("override of %s removed by %s", device, by);
    refresh_overrides(ef, wall, clock_mono_ms());
    return 0;
}

void enforce_overrides(const struct enforce *ef, const struct record_override **v, size_t *n)
{
    *v = ef->ov;
    *n = ef->n_ov;
}

/* ---- life ---------------------------------------------------------------------------------- */

const struct enforce_run *enforce_last_run(const struct enforce *ef)
{
    return ef->have_run ? &ef->run : NULL;
}

bool enforce_running(const struct enforce *ef)
{
    return ef->have_run && enforce_run_active(&ef->run);
}

int enforce_new(const struct config *cfg, struct hallmodel *hm, const struct enforce_io *io,
                wall_s wall, struct enforce **out)
{
    struct enforce *ef = calloc(1, sizeof(*ef));
    if (!ef)
        return -ENOMEM;
    ef->cfg = cfg;
    ef->hm = hm;
    ef->io = *io;
    ef->last_wall = wall;
    ef->rl_store = (struct log_ratelimit)LOG_RATELIMIT_INIT(60000, 3);
    if (!(ef->tracks = strmap_new())) {
        free(ef);
        return -ENOMEM;
    }
    load_key(ef);
    refresh_overrides(ef, wall, clock_mono_ms());
    if (cfg->poweroff.enabled) {
        int at_s = cfg->schedule.poweroff_s;
        char at[40];
        if (at_s % 60)
            snprintf(at, sizeof(at), "%02d:%02d:%02d", at_s / 3600, at_s / 60 % 60, at_s % 60);
        else
            snprintf(at, sizeof(at), "%02d:%02d", at_s / 3600, at_s / 60 % 60);
        log_notice("power-off enforcement%s: at %s on working days, %zu exempt patterns",
                   cfg->poweroff.dry_run ? " (dry run)" : "", at, cfg->poweroff.n_exempt);
    }
    *out = ef;
    return 0;
}

void enforce_set_config(struct enforce *ef, const struct config *cfg)
{
    ef->cfg = cfg;
    load_key(ef);
}

static void free_track(const char *key, void *value, void *arg)
{
    (void)key;
    (void)arg;
    free(value);
}

void enforce_free(struct enforce *ef)
{
    if (!ef)
        return;
    enforce_run_free(&ef->run);
    enforce_run_free(&ef->poweron);
    strmap_foreach(ef->tracks, free_track, NULL);
    strmap_free(ef->tracks);
    free(ef->ov);
    crypto_wipe(ef->key, sizeof(ef->key));
    free(ef);
}
