/* Power-off enforcement, the pure part (enforce_plan.h): no I/O, no clock. */
#include "enforce_plan.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "enforce_time.h"

/* ---- small helpers ---------------------------------------------------------- */

static void copy_id(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src ? src : "");
}

__attribute__((format(printf, 4, 5))) static void rec(struct enforce_out *out, const char *step,
                                                      bool ok, const char *fmt, ...)
{
    if (out->n_rec >= sizeof(out->rec) / sizeof(out->rec[0]))
        return;
    va_list ap;
    out->rec[out->n_rec].step = step;
    out->rec[out->n_rec].ok = ok;
    va_start(ap, fmt);
    vsnprintf(out->rec[out->n_rec].detail, sizeof(out->rec[0].detail), fmt, ap);
    va_end(ap);
    out->n_rec++;
}

/* "5m", "90s", "1h30m": a duration as a person reads it. */
static void fmt_dur(int64_t ms, char *buf, size_t size)
{
    int64_t s = ms / 1000, h = s / 3600, m = s / 60 % 60, sec = s % 60;
    size_t n = 0;
    buf[0] = '\0';
    if (h)
        n += (size_t)snprintf(buf + n, size - n, "%lldh", (long long)h);
    if (m && n < size)
        n += (size_t)snprintf(buf + n, size - n, "%lldm", (long long)m);
    if ((sec || (!h && !m)) && n < size)
        snprintf(buf + n, size - n, "%llds", (long long)sec);
}

/* A local time as "HH:MM", or "YYYY-MM-DD HH:MM" when not on the date of ref. */
static void fmt_local(wall_s t, wall_s ref, char *buf, size_t size)
{
    time_t tt = (time_t)wall_whole(t), rt = (time_t)wall_whole(ref);
    struct tm tm, rm;
    if (!localtime_r(&tt, &tm) || !localtime_r(&rt, &rm)) {
        snprintf(buf, size, "%.0f", t);
        return;
    }
    if (tm.tm_year == rm.tm_year && tm.tm_yday == rm.tm_yday)
        strftime(buf, size, "%H:%M", &tm);
    else
        strftime(buf, size, "%Y-%m-%d %H:%M", &tm);
}

/* ---- the run ------------------------------------------------------------------ */

void enforce_run_free(struct enforce_run *r)
{
    if (!r)
        return;
    free(r->pcs);
    free(r->plugs);
    memset(r, 0, sizeof(*r));
}

static bool pc_active(const struct enforce_pc *pc)
{
    return pc->state == EPC_PENDING || pc->state == EPC_SENT || pc->state == EPC_ACCEPTED ||
           pc->state == EPC_DONE;
}

bool enforce_run_active(const struct enforce_run *r)
{
    for (size_t i = 0; i < r->n_pcs; i++) {
        if (pc_active(&r->pcs[i]))
            return true;
    }
    for (size_t i = 0; i < r->n_plugs; i++) {
        if (r->plugs[i].state == EPL_WAITING || r->plugs[i].state == EPL_SENT)
            return true;
    }
    return false;
}

static int find_pc(const struct enforce_run *r, const char *id)
{
    for (size_t i = 0; i < r->n_pcs; i++) {
        if (strcmp(r->pcs[i].id, id) == 0)
            return (int)i;
    }
    return -1;
}

static int find_plug(const struct enforce_run *r, const char *id)
{
    for (size_t i = 0; i < r->n_plugs; i++) {
        if (strcmp(r->plugs[i].id, id) == 0)
            return (int)i;
    }
    return -1;
}

static int grow(void **v, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 16;
    void *nv = realloc(*v, ncap * elem);
    if (!nv)
        return -ENOMEM;
    *v = nv;
    *cap = ncap;
    return 0;
}

static struct enforce_pc *add_pc(struct enforce_run *r, const struct config_device *cd)
{
    if (grow((void **)&r->pcs, &r->cap_pcs, r->n_pcs, sizeof(*r->pcs)) < 0)
        return NULL;
    struct enforce_pc *pc = &r->pcs[r->n_pcs++];
    memset(pc, 0, sizeof(*pc));
    copy_id(pc->id, sizeof(pc->id), cd->id);
    copy_id(pc->hall, sizeof(pc->hall), cd->hall);
    copy_id(pc->window, sizeof(pc->window), cd->window);
    pc->plug = -1;
    return pc;
}

/* A foreign plug's own topic for commands: "<base>/<friendly name>" for
 * Zigbee2MQTT, the first FullTopic with the cmnd prefix for Tasmota ("" when
 * it does not fit: the command then fails as too long). */
static void plug_topic(const struct config *cfg, const struct config_device *cd, char *buf,
                       size_t size)
{
    const struct config_sources *src = &cfg->sources;
    int n = 0;
    buf[0] = '\0';
    if (cd->format == FORMAT_ZIGBEE2MQTT && cd->source_base)
        n = snprintf(buf, size, "%s/%s", cd->source_base, cd->source_friendly);
    else if (cd->format == FORMAT_TASMOTA && src->n_tasmota_full_topics)
        n = config_tasmota_topic(src->tasmota_full_topics[0], src->tasmota_prefixes[TASMOTA_CMND],
                                 cd->source_name, buf, size);
    if (n < 0 || (size_t)n >= size)
        buf[0] = '\0';
}

static struct enforce_plug *add_plug(struct enforce_run *r, const struct config *cfg,
                                     const struct config_device *cd, const char *window)
{
    if (grow((void **)&r->plugs, &r->cap_plugs, r->n_plugs, sizeof(*r->plugs)) < 0)
        return NULL;
    struct enforce_plug *pl = &r->plugs[r->n_plugs++];
    memset(pl, 0, sizeof(*pl));
    copy_id(pl->id, sizeof(pl->id), cd->id);
    copy_id(pl->hall, sizeof(pl->hall), cd->hall);
    copy_id(pl->window, sizeof(pl->window), window);
    pl->format = cd->format;
    copy_id(pl->source, sizeof(pl->source), cd->source_name);
    plug_topic(cfg, cd, pl->topic, sizeof(pl->topic));
    pl->pc = -1;
    return pl;
}

const char *enforce_exempt(const struct config_poweroff *p, const char *id)
{
    for (size_t i = 0; i < p->n_exempt; i++) {
        if (fnmatch(p->exempt[i], id, 0) == 0)
            return p->exempt[i];
    }
    return NULL;
}

const struct record_override *enforce_override_for(const struct record_override *v, size_t n,
                                                   const char *id, wall_s wall)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(v[i].device, id) == 0 && v[i].until > wall)
            return &v[i];
    }
    return NULL;
}

static void override_text(const struct record_override *o, wall_s wall, char *buf, size_t size)
{
    char until[32];
    fmt_local(o->until, wall, until, sizeof(until));
    snprintf(buf, size, "override until %s by %.64s: %.120s", until, o->by, o->reason);
}

static const char *avail_text(enum availability a)
{
    return a == AVAIL_ONLINE ? "online" : a == AVAIL_OFFLINE ? "offline" : "availability unknown";
}

/* Decides what to do with a PC at the start of a run. */
static void decide_pc(const struct config *cfg, struct enforce_pc *pc,
                      const struct record_override *ov, size_t n_ov, enum availability avail,
                      wall_s wall, mono_ms now)
{
    const struct config_poweroff *p = &cfg->poweroff;
    const char *glob = enforce_exempt(p, pc->id);
    const struct record_override *o = enforce_override_for(ov, n_ov, pc->id, wall);
    if (glob) {
        pc->state = EPC_SKIPPED;
        pc->skip = ENFORCE_SKIP_EXEMPT;
        snprintf(pc->detail, sizeof(pc->detail), "exempt (poweroff.exempt \"%.100s\")", glob);
    } else if (o) {
        pc->state = EPC_SKIPPED;
        pc->skip = ENFORCE_SKIP_OVERRIDE;
        override_text(o, wall, pc->detail, sizeof(pc->detail));
    } else if (p->dry_run) {
        pc->state = EPC_SKIPPED;
        pc->skip = ENFORCE_SKIP_DRY_RUN;
        snprintf(pc->detail, sizeof(pc->detail), "dry run: would send poweroff (%s)",
                 avail_text(avail));
    } else if (avail == AVAIL_OFFLINE) {
        pc->state = EPC_OFF;
        pc->off_at = now;
        snprintf(pc->detail, sizeof(pc->detail), "already off (offline)");
    } else {
        pc->state = EPC_PENDING;
        pc->detail[0] = '\0';
    }
}

/* Decides what to do with a plug at the start of a run (or a new attempt of
 * its PC). */
static void decide_plug(const struct config *cfg, struct enforce_run *r, struct enforce_plug *pl,
                        const struct record_override *ov, size_t n_ov, wall_s wall, mono_ms now)
{
    const struct config_poweroff *p = &cfg->poweroff;
    const char *glob = enforce_exempt(p, pl->id);
    const struct record_override *o =
        pl->target_on ? NULL : enforce_override_for(ov, n_ov, pl->id, wall);
    const struct enforce_pc *pc = pl->pc >= 0 ? &r->pcs[pl->pc] : NULL;
    pl->ready_at = 0;
    pl->detail[0] = '\0';
    pl->state = EPL_SKIPPED;
    if (glob) {
        snprintf(pl->detail, sizeof(pl->detail), "exempt (poweroff.exempt \"%.100s\")", glob);
    } else if (o) {
        override_text(o, wall, pl->detail, sizeof(pl->detail));
    } else if (pc && pc->state == EPC_SKIPPED && pc->skip != ENFORCE_SKIP_DRY_RUN) {
        snprintf(pl->detail, sizeof(pl->detail), "kept on with %.64s (%.150s)", pc->id, pc->detail);
    } else if (p->dry_run) {
        snprintf(pl->detail, sizeof(pl->detail), "dry run: would switch %s%s%.64s",
                 pl->target_on ? "on" : "off", pc ? " after " : "", pc ? pc->id : "");
    } else {
        pl->state = EPL_WAITING;
        if (pl->target_on || !pc || pc->state == EPC_OFF)
            pl->ready_at = now; /* nothing to wait for */
    }
}

/* The plug of the window of PC cd, or NULL. */
static const struct config_device *window_plug(const struct config *cfg,
                                               const struct config_device *cd,
                                               const struct config_window **win)
{
    const struct config_hall *h = cd->window ? config_find_hall(cfg, cd->hall) : NULL;
    for (size_t i = 0; h && i < h->n_windows; i++) {
        const struct config_window *w = &h->windows[i];
        if (strcmp(w->id, cd->window) == 0 && w->plug) {
            const struct config_device *p = config_find_device(cfg, w->plug);
            *win = w;
            return p && p->kind == KIND_PLUG ? p : NULL;
        }
    }
    return NULL;
}

int enforce_plan_run(const struct config *cfg, enum enforce_trigger trigger,
                     const struct record_override *ov, size_t n_ov, const struct enforce_view *view,
                     wall_s wall, mono_ms now, struct enforce_run *r)
{
    memset(r, 0, sizeof(*r));
    r->started = wall;
    r->trigger = trigger;
    enforce_local_date(wall, r->date);
    if (trigger != ENFORCE_POWERON) {
        for (size_t i = 0; i < cfg->n_devices; i++) {
            const struct config_device *cd = &cfg->devices[i];
            if (cd->kind != KIND_PC)
                continue;
            struct enforce_pc *pc = add_pc(r, cd);
            if (!pc)
                goto out_nomem;
            enum availability a = view && view->avail ? view->avail(view->ctx, cd) : AVAIL_UNKNOWN;
            decide_pc(cfg, pc, ov, n_ov, a, wall, now);
        }
    }
    if (!cfg->poweroff.plugs_after_pcs)
        return 0;
    for (size_t i = 0; i < cfg->n_halls; i++) {
        const struct config_hall *h = &cfg->halls[i];
        for (size_t j = 0; j < h->n_windows; j++) {
            const struct config_window *w = &h->windows[j];
            const struct config_device *cd = w->plug ? config_find_device(cfg, w->plug) : NULL;
            if (!cd || cd->kind != KIND_PLUG || find_plug(r, cd->id) >= 0)
                continue;
            struct enforce_plug *pl = add_plug(r, cfg, cd, w->id);
            if (!pl)
                goto out_nomem;
            pl->target_on = trigger == ENFORCE_POWERON;
            pl->pc = w->pc && !pl->target_on ? find_pc(r, w->pc) : -1;
            if (pl->pc >= 0)
                r->pcs[pl->pc].plug = (int)(r->n_plugs - 1);
            decide_plug(cfg, r, pl, ov, n_ov, wall, now);
        }
    }
    return 0;

out_nomem:
    enforce_run_free(r);
    return -ENOMEM;
}

int enforce_plan_pc(const struct config *cfg, const struct config_device *cd,
                    const struct record_override *ov, size_t n_ov, wall_s wall,
                    struct enforce_run *r)
{
    int i = find_pc(r, cd->id);
    struct enforce_pc *pc;
    if (i < 0) {
        if (!(pc = add_pc(r, cd)))
            return -ENOMEM;
        i = (int)r->n_pcs - 1;
    } else {
        pc = &r->pcs[i];
    }
    unsigned attempts = pc->attempts;
    int plug = pc->plug;
    bool alerted = pc->alerted;
    memset(pc, 0, sizeof(*pc));
    copy_id(pc->id, sizeof(pc->id), cd->id);
    copy_id(pc->hall, sizeof(pc->hall), cd->hall);
    copy_id(pc->window, sizeof(pc->window), cd->window);
    pc->attempts = attempts;
    pc->plug = plug;
    pc->alerted = alerted;
    if (cfg->poweroff.dry_run) {
        pc->state = EPC_SKIPPED;
        pc->skip = ENFORCE_SKIP_DRY_RUN;
        snprintf(pc->detail, sizeof(pc->detail),
                 "dry run: would send poweroff (seen on while "
                 "the hall is closed)");
    } else {
        pc->state = EPC_PENDING;
    }
    if (!cfg->poweroff.plugs_after_pcs)
        return i;
    const struct config_window *w = NULL;
    const struct config_device *pd = window_plug(cfg, cd, &w);
    if (!pd)
        return i;
    int j = find_plug(r, pd->id);
    struct enforce_plug *pl;
    if (j < 0) {
        if (!(pl = add_plug(r, cfg, pd, w->id)))
            return -ENOMEM;
        j = (int)r->n_plugs - 1;
    } else {
        pl = &r->plugs[j];
        if (pl->state == EPL_DONE || pl->state == EPL_SENT)
            return i; /* off already, or being switched */
    }
    pl->target_on = false;
    pl->pc = i;
    r->pcs[i].plug = j;
    decide_plug(cfg, r, pl, ov, n_ov, wall, 0);
    return i;
}

/* ---- the PC state machine --------------------------------------------------------- */

void enforce_pc_sent(struct enforce_pc *pc, const char *cmd_id, mono_ms now, int64_t verify_ms)
{
    pc->state = EPC_SENT;
    copy_id(pc->cmd_id, sizeof(pc->cmd_id), cmd_id);
    pc->sent_at = now;
    pc->deadline = now + verify_ms;
    pc->done_at = pc->off_at = 0;
    pc->flaps = 0;
    pc->attempts++;
    pc->detail[0] = '\0';
}

static void pc_fail(struct enforce_pc *pc, struct enforce_out *out, const char *detail)
{
    pc->state = EPC_FAILED;
    snprintf(pc->detail, sizeof(pc->detail), "%s", detail);
    rec(out, "failure", false, "%s", detail);
    out->raise = true;
    pc->alerted = true;
}

void enforce_pc_send_failed(struct enforce_pc *pc, const char *why, struct enforce_out *out)
{
    char d[ALERT_TEXT_MAX];
    memset(out, 0, sizeof(*out));
    snprintf(d, sizeof(d), "the power-off command could not be sent: %.200s", why);
    pc_fail(pc, out, d);
}

static void pc_off(struct enforce_pc *pc, struct enforce_out *out, mono_ms now, const char *detail)
{
    pc->state = EPC_OFF;
    pc->off_at = now;
    snprintf(pc->detail, sizeof(pc->detail), "%s", detail);
    rec(out, "verified_off", true, "%s", detail);
    out->resolve = true;
}

bool enforce_pc_reply(struct enforce_pc *pc, const char *result, const char *detail, mono_ms now,
                      struct enforce_out *out)
{
    memset(out, 0, sizeof(*out));
    bool good = strcmp(result, "accepted") == 0 || strcmp(result, "done") == 0;
    rec(out, "reply", good, "%s%s%.200s", result, detail && *detail ? ": " : "",
        detail ? detail : "");
    if (pc->state != EPC_SENT && pc->state != EPC_ACCEPTED && pc->state != EPC_DONE)
        return true; /* late: only recorded */
    if (strcmp(result, "accepted") == 0) {
        if (pc->state == EPC_SENT)
            pc->state = EPC_ACCEPTED;
    } else if (strcmp(result, "done") == 0) {
        if (pc->state != EPC_DONE)
            pc->done_at = now;
        pc->state = EPC_DONE;
    } else {
        char d[ALERT_TEXT_MAX];
        snprintf(d, sizeof(d), "%.64s %s the power-off: %.160s", pc->id,
                 strcmp(result, "refused") == 0 ? "refused" : "failed",
                 detail && *detail ? detail : "(no detail)");
        pc_fail(pc, out, d);
    }
    return true;
}

bool enforce_pc_check(struct enforce_pc *pc, const struct enforce_pc_seen *seen, int64_t verify_ms,
                      mono_ms now, struct enforce_out *out)
{
    char d[ALERT_TEXT_MAX], dur[32];
    memset(out, 0, sizeof(*out));
    switch (pc->state) {
    case EPC_SENT:
    case EPC_ACCEPTED:
    case EPC_DONE:
        if (seen->avail == AVAIL_OFFLINE) {
            fmt_dur(now - pc->sent_at, dur, sizeof(dur));
            snprintf(d, sizeof(d), "offline %s after the command", dur);
            pc_off(pc, out, now, d);
            return true;
        }
        if (pc->state == EPC_DONE) {
            mono_ms last = seen->last_seen > pc->done_at ? seen->last_seen : pc->done_at;
            if (now - last >= ENFORCE_SILENT_OFF_MS) {
                fmt_dur(ENFORCE_SILENT_OFF_MS, dur, sizeof(dur));
                snprintf(d, sizeof(d), "silent for %s after \"done\"", dur);
                pc_off(pc, out, now, d);
                return true;
            }
        }
        if (now < pc->deadline)
            return false;
        fmt_dur(verify_ms, dur, sizeof(dur));
        if (pc->state == EPC_SENT)
            snprintf(d, sizeof(d), "%s did not answer the power-off command within %s", pc->id,
                     dur);
        else
            snprintf(d, sizeof(d), "%s still on %s after the power-off command", pc->id, dur);
        pc_fail(pc, out, d);
        return true;
    case EPC_OFF:
        if (seen->plug_cut || seen->avail == AVAIL_OFFLINE || seen->last_seen <= pc->off_at)
            return false;
        if (pc->cmd_id[0] && ++pc->flaps > ENFORCE_FLAPS_MAX) {
            snprintf(d, sizeof(d), "%s keeps coming back online after the power-off command",
                     pc->id);
            pc_fail(pc, out, d);
        } else if (pc->cmd_id[0]) {
            /* It came back (a reboot, not a shutdown): the deadline still holds. */
            pc->state = EPC_ACCEPTED;
            pc->off_at = 0;
            snprintf(pc->detail, sizeof(pc->detail), "came back on before its plug was cut");
            rec(out, "back_on", false, "%s came back on before its plug was cut", pc->id);
        } else {
            /* Off when the run began, switched on since: the closed-hall rule's. */
            pc->state = EPC_SKIPPED;
            pc->skip = ENFORCE_SKIP_CAME_ON;
            snprintf(pc->detail, sizeof(pc->detail), "switched on after the run began");
            rec(out, "back_on", false, "%s was switched on after the run began", pc->id);
        }
        return true;
    case EPC_FAILED:
        if (seen->avail != AVAIL_OFFLINE)
            return false;
        pc_off(pc, out, now, "offline, after the failure was reported");
        return true;
    case EPC_PENDING:
    case EPC_SKIPPED:
        break;
    }
    return false;
}

/* ---- the plug state machine ---------------------------------------------------------- */

void enforce_plug_sent(struct enforce_plug *pl, const char *cmd_id, mono_ms now, wall_s wall,
                       int64_t verify_ms)
{
    pl->state = EPL_SENT;
    copy_id(pl->cmd_id, sizeof(pl->cmd_id), cmd_id);
    pl->sent_at = now;
    pl->sent_wall = wall;
    pl->deadline = now + verify_ms;
    pl->detail[0] = '\0';
}

static void plug_fail(struct enforce_plug *pl, struct enforce_out *out, const char *detail)
{
    pl->state = EPL_FAILED;
    snprintf(pl->detail, sizeof(pl->detail), "%s", detail);
    rec(out, "failure", false, "%s", detail);
    out->raise = !pl->target_on;
    pl->alerted |= out->raise;
}

void enforce_plug_send_failed(struct enforce_plug *pl, const char *why, struct enforce_out *out)
{
    char d[ALERT_TEXT_MAX];
    memset(out, 0, sizeof(*out));
    snprintf(d, sizeof(d), "the plug command could not be sent: %.200s", why);
    plug_fail(pl, out, d);
}

bool enforce_plug_check(struct enforce_plug *pl, const struct enforce_pc *pc,
                        const struct enforce_plug_seen *seen, int64_t plug_delay_ms, mono_ms now,
                        struct enforce_out *out)
{
    const char *target = pl->target_on ? "on" : "off";
    memset(out, 0, sizeof(*out));
    switch (pl->state) {
    case EPL_HELD:
        if (!pc || pc->state != EPC_OFF)
            return false;
        pl->state = EPL_WAITING; /* its PC went off after all */
        pl->ready_at = 0;
        __attribute__((fallthrough));
    case EPL_WAITING:
        if (!pl->target_on && pc) {
            if (pc->state == EPC_FAILED || pc->state == EPC_SKIPPED) {
                const char *why = pc->state == EPC_FAILED ? "did not go off" : "is on";
                pl->state = EPL_HELD;
                snprintf(pl->detail, sizeof(pl->detail), "not cut: %s %s", pc->id, why);
                rec(out, "skipped", false, "not cut: %s %s", pc->id, why);
                return true;
            }
            if (pc->state != EPC_OFF) {
                pl->ready_at = 0; /* (again) waiting for its PC */
                return false;
            }
            if (pl->ready_at == 0)
                pl->ready_at = pc->off_at + plug_delay_ms;
        } else if (pl->ready_at == 0) {
            pl->ready_at = now;
        }
        if (now < pl->ready_at)
            return false;
        out->send = true;
        return true;
    case EPL_SENT:
        if (seen->reported && seen->on == pl->target_on) {
            pl->state = EPL_DONE;
            snprintf(pl->detail, sizeof(pl->detail), "reported %s", target);
            rec(out, pl->target_on ? "plug_on" : "plug_off", true, "%s reported %s", pl->id,
                target);
            out->resolve = !pl->target_on;
            return true;
        }
        if (now < pl->deadline)
            return false;
        {
            char d[ALERT_TEXT_MAX];
            if (seen->reported)
                snprintf(d, sizeof(d), "%s still %s after the %s command", pl->id,
                         pl->target_on ? "off" : "on", target);
            else
                snprintf(d, sizeof(d), "%s did not report %s after the %s command", pl->id, target,
                         target);
            plug_fail(pl, out, d);
        }
        return true;
    case EPL_FAILED:
        if (!seen->reported || seen->on != pl->target_on)
            return false;
        pl->state = EPL_DONE;
        snprintf(pl->detail, sizeof(pl->detail), "reported %s, after the failure", target);
        rec(out, pl->target_on ? "plug_on" : "plug_off", true, "%s reported %s, after the failure",
            pl->id, target);
        out->resolve = !pl->target_on;
        return true;
    case EPL_SKIPPED:
    case EPL_DONE:
        break;
    }
    return false;
}

/* Switch.Set over <id>/rpc (Gen2), relay/<n>/command (Gen1), or both while
 * the generation is not known. */
static int shelly_command(const struct enforce_plug *pl, bool on, struct enforce_plug_cmd *out)
{
    size_t id_len;
    int ch = config_source_channel(pl->source, &id_len), n = 0, n1 = 0;
    char *topic1 = out->topic, *payload1 = out->payload;
    size_t cap1 = sizeof(out->topic), pcap1 = sizeof(out->payload);
    if (pl->shelly_gen != 1) {
        n = snprintf(out->topic, sizeof(out->topic), "%.*s/rpc", (int)id_len, pl->source);
        snprintf(out->payload, sizeof(out->payload),
                 "{\"id\":1,\"src\":\"hallgw\",\"method\":\"Switch.Set\","
                 "\"params\":{\"id\":%d,\"on\":%s}}",
                 ch, on ? "true" : "false");
        topic1 = out->topic2;
        payload1 = out->payload2;
        cap1 = sizeof(out->topic2);
        pcap1 = sizeof(out->payload2);
    }
    if (pl->shelly_gen != 2) {
        n1 = snprintf(topic1, cap1, "shellies/%.*s/relay/%d/command", (int)id_len, pl->source, ch);
        snprintf(payload1, pcap1, "%s", on ? "on" : "off");
    }
    if (n < 0 || n1 < 0 || (size_t)n >= sizeof(out->topic) || (size_t)n1 >= cap1)
        return -ENAMETOOLONG;
    return 0;
}

int enforce_plug_command(const char *prefix, const struct enforce_plug *pl, bool on,
                         struct enforce_plug_cmd *out)
{
    int n = 0;
    memset(out, 0, sizeof(*out));
    switch (pl->format) {
    case FORMAT_TASMOTA:
        n = pl->topic[0] ? snprintf(out->topic, sizeof(out->topic), "%sPOWER", pl->topic) : -1;
        snprintf(out->payload, sizeof(out->payload), "%s", on ? "ON" : "OFF");
        break;
    case FORMAT_SHELLY:
        return shelly_command(pl, on, out);
    case FORMAT_ZIGBEE2MQTT:
        n = pl->topic[0] ? snprintf(out->topic, sizeof(out->topic), "%s/set", pl->topic) : -1;
        snprintf(out->payload, sizeof(out->payload), "{\"state\":\"%s\"}", on ? "ON" : "OFF");
        break;
    case FORMAT_NATIVE:
        n = snprintf(out->topic, sizeof(out->topic), "%s/%s/%s/cmd", prefix, pl->hall, pl->id);
        out->native = true;
        break;
    }
    return n < 0 || (size_t)n >= sizeof(out->topic) ? -ENAMETOOLONG : 0;
}

/* ---- names ------------------------------------------------------------------------ */

const char *enforce_pc_state_name(enum enforce_pc_state s)
{
    static const char *const names[] = {
        [EPC_PENDING] = "pending",   [EPC_SKIPPED] = "skipped", [EPC_SENT] = "sent",
        [EPC_ACCEPTED] = "accepted", [EPC_DONE] = "done",       [EPC_OFF] = "off",
        [EPC_FAILED] = "failed",
    };
    return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "unknown";
}

const char *enforce_plug_state_name(const struct enforce_plug *pl)
{
    switch (pl->state) {
    case EPL_WAITING:
        return "waiting";
    case EPL_SKIPPED:
        return "skipped";
    case EPL_HELD:
        return "held";
    case EPL_SENT:
        return "sent";
    case EPL_DONE:
        return pl->target_on ? "on" : "off";
    case EPL_FAILED:
        return "failed";
    }
    return "unknown";
}

int enforce_pc_ok(const struct enforce_pc *pc)
{
    switch (pc->state) {
    case EPC_OFF:
        return 1;
    case EPC_SKIPPED:
        return pc->skip == ENFORCE_SKIP_CAME_ON ? 0 : 1;
    case EPC_FAILED:
        return 0;
    case EPC_PENDING:
    case EPC_SENT:
    case EPC_ACCEPTED:
    case EPC_DONE:
        break;
    }
    return -1;
}

int enforce_plug_ok(const struct enforce_plug *pl)
{
    switch (pl->state) {
    case EPL_DONE:
    case EPL_SKIPPED:
        return 1;
    case EPL_HELD:
    case EPL_FAILED:
        return 0;
    case EPL_WAITING:
    case EPL_SENT:
        break;
    }
    return -1;
}
