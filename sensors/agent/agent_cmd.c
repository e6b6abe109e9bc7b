/* hallgw-agent's commands: verification (signature, target, time, replay),
 * then poweroff, scan and notify, each answered on .../cmd/reply. Programs
 * run from the config's argv arrays (agent_exec), never through a shell. */
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent_clamav.h"
#include "agent_exec.h"
#include "mqtt.h"

#define KILL_AFTER_MS 5000
#define MAX_NOTIFY 4
#define MAX_GRACE_S 86400
#define FOUND_COUNT_BYTES (16u << 20)

static void send_reply(struct agent *a, const char *id, const char *result, const char *detail,
                       int threats)
{
    char jtext[AGENT_PAYLOAD_MAX];
    struct buf j;
    const char *payload;

    buf_init_fixed(&j, jtext, sizeof(jtext));

    buf_putc(&j, '{');
    jsonw_member_str(&j, "id", id);
    jsonw_member_str(&j, "result", result);
    jsonw_member_str(&j, "detail", detail);
    if (threats >= 0)
        jsonw_member_int(&j, "threats", threats);
    jsonw_member_int(&j, "ts", (long long)wall_whole(clock_wall()));
    if ((payload = (buf_putc(&j, '}') == 0 ? j.data : NULL)))
        agent_publish(a, a->t_reply, payload, false);
}

static void reply(struct agent *a, const char *id, const char *result, const char *detail,
                  int threats)
{
    send_reply(a, id, result, detail, threats);
    log_msg(strcmp(result, "failed") == 0 ? LOG_WARNING : LOG_NOTICE, "command %s: %s%s%s",
            id[0] ? id : "(no id)", result, detail[0] ? ": " : "", detail);
}

/* Every refusal is answered; the log is rate-limited, since anyone who can
 * publish on the command topic can repeat them. */
static void refuse(struct agent *a, const char *id, const char *why)
{
    send_reply(a, id, "refused", why, -1);
    if (log_ratelimit_ok(&a->rl_cmd, "command refusals"))
        log_warn("command %s refused: %s", id[0] ? id : "(no id)", why);
}

static struct agent_child *child_new(struct agent *a, enum agent_child_kind kind, const char *id,
                                     pid_t pid, int64_t timeout_ms)
{
    for (size_t i = 0; i < AGENT_CHILDREN_MAX; i++) {
        struct agent_child *c = &a->children[i];
        if (c->kind != CHILD_NONE)
            continue;
        *c = (struct agent_child){.kind = kind, .pid = pid};
        snprintf(c->id, sizeof(c->id), "%s", id);
        c->deadline = clock_mono_ms() + timeout_ms;
        return c;
    }
    return NULL;
}

static size_t children_of(const struct agent *a, enum agent_child_kind kind)
{
    size_t n = 0;
    for (size_t i = 0; i < AGENT_CHILDREN_MAX; i++)
        n += a->children[i].kind == kind;
    return n;
}

static bool have_free_slot(const struct agent *a)
{
    return children_of(a, CHILD_NONE) > 0;
}

/* Runs argv (+ extra) as a child of this kind; false (and *err) if it could not start. */
static bool run(struct agent *a, const struct agentconf_argv *argv, const char *extra, int out_fd,
                enum agent_child_kind kind, const char *id, int64_t timeout_ms, int *err)
{
    pid_t pid;

    *err = agent_exec_start(argv->v, argv->n, extra, out_fd, &pid);
    if (*err < 0)
        return false;
    log_info("started %s (pid %d)%s", argv->v[0], (int)pid, extra ? " with the message" : "");
    if (!child_new(a, kind, id, pid, timeout_ms)) {
        /* Callers check for a slot first; never leave a child unwatched. */
        agent_exec_signal(pid, SIGKILL);
        *err = -EAGAIN;
        return false;
    }
    return true;
}

/* ---- poweroff ----------------------------------------------------------- */

static void warning_text(int grace_s, char *buf, size_t size)
{
    if (grace_s >= 120)
        snprintf(buf, size,
                 "This computer will shut down in %d minutes (after-hours power-off). Please "
                 "save your work now. 本机将在 %d 分钟后关机（下班断电），请立即保存工作。",
                 grace_s / 60, grace_s / 60);
    else
        snprintf(buf, size,
                 "This computer will shut down in %d second%s (after-hours power-off). Please "
                 "save your work now. 本机将在 %d 秒后关机（下班断电），请立即保存工作。",
                 grace_s, grace_s == 1 ? "" : "s", grace_s);
}

static void cmd_poweroff(struct agent *a, const struct cmdsign_cmd *cmd)
{
    const struct cmdsign_arg *g = cmdsign_arg_get(cmd, "grace_s");
    const struct cmdsign_arg *msg = cmdsign_arg_get(cmd, "message");
    const struct cmdsign_arg *why = cmdsign_arg_get(cmd, "reason");
    int grace_s = (int)(a->cfg->poweroff.grace_ms / 1000);
    char text[CMDSIGN_ARG_VALUE_MAX + 256], detail[128];
    int err;

    if (a->poweroff.pending) {
        refuse(a, cmd->id, "a poweroff is already pending");
        return;
    }
    if (g && (g->type != CMDSIGN_ARG_INT || g->num < 0 || g->num > MAX_GRACE_S)) {
        refuse(a, cmd->id, "args.grace_s must be an integer from 0 to 86400");
        return;
    }
    if ((msg && msg->type != CMDSIGN_ARG_STR) || (why && why->type != CMDSIGN_ARG_STR)) {
        refuse(a, cmd->id, "args.message and args.reason must be strings");
        return;
    }
    if (g)
        grace_s = (int)g->num;
    a->poweroff.pending = true;
    a->poweroff.at = clock_mono_ms() + (int64_t)grace_s * 1000;
    snprintf(a->poweroff.id, sizeof(a->poweroff.id), "%s", cmd->id);
    snprintf(a->poweroff.reason, sizeof(a->poweroff.reason), "%s",
             why && why->value[0] ? why->value : "poweroff command");
    snprintf(detail, sizeof(detail), "shutting down in %d s%s", grace_s,
             a->dry_run ? " (dry run)" : "");
    reply(a, cmd->id, "accepted", detail, -1);

    if (msg && msg->value[0])
        snprintf(text, sizeof(text), "%s", msg->value);
    else
        warning_text(grace_s, text, sizeof(text));
    if (a->dry_run)
        log_notice("dry run: would warn the users: %s", text);
    else if (!have_free_slot(a) || !run(a, &a->cfg->notify.argv, text, -1, CHILD_WARN, "",
                                        a->cfg->notify.timeout_ms, &err))
        log_warn("cannot warn the users with %s: %s", a->cfg->notify.argv.v[0],
                 have_free_slot(a) ? strerror(-err) : "too many programs running");
}

/* The grace has passed: report, then shut down (or, dry, act as if). */
static void poweroff_now(struct agent *a)
{
    char jtext[AGENT_PAYLOAD_MAX];
    struct buf j;
    const char *payload;
    int err;

    a->poweroff.pending = false;
    buf_init_fixed(&j, jtext, sizeof(jtext));
    buf_putc(&j, '{');
    jsonw_member_str(&j, "type", "shutdown");
    jsonw_member_str(&j, "reason", a->poweroff.reason);
    jsonw_member_str(&j, "command_id", a->poweroff.id);
    if (a->dry_run)
        jsonw_member_bool(&j, "dry_run", true);
    jsonw_member_int(&j, "ts", (long long)wall_whole(clock_wall()));
    if ((payload = (buf_putc(&j, '}') == 0 ? j.data : NULL)))
        agent_event(a, payload);
    if (a->dry_run) {
        reply(a, a->poweroff.id, "done", "dry run: the PC was not shut down; the agent stops", -1);
        log_notice("dry run: acting as if the PC went down: offline, disconnect, exit");
        a->exit_requested = true;
        a->exit_code = 0;
        return;
    }
    reply(a, a->poweroff.id, "done", "shutting down now", -1);
    for (size_t i = 0; i < AGENT_CHILDREN_MAX; i++) /* make room: the PC goes down anyway */
        if (a->children[i].kind == CHILD_WARN || a->children[i].kind == CHILD_NOTIFY)
            agent_exec_signal(a->children[i].pid, SIGTERM);
    if (!have_free_slot(a) || !run(a, &a->cfg->poweroff.argv, NULL, -1, CHILD_POWEROFF,
                                   a->poweroff.id, 10 * 60000, &err)) {
        char detail[256];
        snprintf(detail, sizeof(detail), "cannot run %s: %s", a->cfg->poweroff.argv.v[0],
                 have_free_slot(a) ? strerror(-err) : "too many programs running");
        reply(a, a->poweroff.id, "failed", detail, -1);
    }
}

/* ---- scan --------------------------------------------------------------- */

static void scan_finished_event(struct agent *a, const char *type, int threats)
{
    char jtext[AGENT_PAYLOAD_MAX];
    struct buf j;
    const char *payload;

    buf_init_fixed(&j, jtext, sizeof(jtext));

    buf_putc(&j, '{');
    jsonw_member_str(&j, "type", "scan_finished");
    jsonw_member_str(&j, "scan_type", type);
    jsonw_member_int(&j, "threats", threats);
    if (a->dry_run)
        jsonw_member_bool(&j, "dry_run", true);
    jsonw_member_int(&j, "ts", (long long)wall_whole(clock_wall()));
    if ((payload = (buf_putc(&j, '}') == 0 ? j.data : NULL)))
        agent_event(a, payload);
}

static void cmd_scan(struct agent *a, const struct cmdsign_cmd *cmd)
{
    const struct cmdsign_arg *t = cmdsign_arg_get(cmd, "type");
    const struct agentconf_argv *argv;
    char detail[256];
    struct stat st;
    int fd, err;

    if (t && (t->type != CMDSIGN_ARG_STR ||
              (strcmp(t->value, "quick") != 0 && strcmp(t->value, "full") != 0))) {
        refuse(a, cmd->id, "args.type must be \"quick\" or \"full\"");
        return;
    }
    const char *type = t && strcmp(t->value, "full") == 0 ? "full" : "quick";
    if (children_of(a, CHILD_SCAN) > 0) {
        refuse(a, cmd->id, "a scan is already running");
        return;
    }
    if (a->poweroff.pending) {
        refuse(a, cmd->id, "the PC is about to shut down");
        return;
    }
    if (a->dry_run) {
        reply(a, cmd->id, "accepted", "dry run: no scan is run", -1);
        reply(a, cmd->id, "done", "dry run: no scan was run", 0);
        scan_finished_event(a, type, 0);
        return;
    }
    if (!have_free_slot(a)) {
        refuse(a, cmd->id, "too many programs running");
        return;
    }
    argv = strcmp(type, "full") == 0 ? &a->cfg->scan.full_argv : &a->cfg->scan.quick_argv;
    fd = open(a->cfg->scan.log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0 || fstat(fd, &st) < 0) {
        snprintf(detail, sizeof(detail), "cannot open the scan log %s: %s", a->cfg->scan.log,
                 strerror(errno));
        reply(a, cmd->id, "failed", detail, -1);
        if (fd >= 0)
            close(fd);
        return;
    }
    snprintf(a->scan.type, sizeof(a->scan.type), "%s", type);
    a->scan.log_inode = (uint64_t)st.st_ino;
    a->scan.log_start = (uint64_t)st.st_size;
    bool ok = run(a, argv, NULL, fd, CHILD_SCAN, cmd->id, a->cfg->scan.timeout_ms, &err);
    close(fd);
    if (!ok) {
        snprintf(detail, sizeof(detail), "cannot run %s: %s", argv->v[0], strerror(-err));
        reply(a, cmd->id, "failed", detail, -1);
        return;
    }
    snprintf(detail, sizeof(detail), "%s scan started", type);
    reply(a, cmd->id, "accepted", detail, -1);
}

static void count_found(void *ctx, const char *path, const char *sig)
{
    (void)path;
    (void)sig;
    (*(int *)ctx)++;
}

static void scan_done(struct agent *a, const struct agent_child *c, int status)
{
    struct agent_scan_summary sum;
    char detail[256], how[96];
    int threats = 0;
    bool ok = !c->term_sent && WIFEXITED(status) &&
              (WEXITSTATUS(status) == 0 || WEXITSTATUS(status) == 1); /* 1: threats found */

    if (!ok) {
        agent_exec_describe(status, how, sizeof(how));
        snprintf(detail, sizeof(detail), "%s scan failed: %s%s", a->scan.type,
                 c->term_sent ? "timed out, " : "", how);
        reply(a, c->id, "failed", detail, -1);
        return;
    }
    if (agent_clamav_last_summary(a->cfg->scan.log, a->scan.log_start, &sum) == 0 &&
        sum.inode == a->scan.log_inode && sum.threats >= 0) {
        threats = sum.threats;
        snprintf(a->st.last_scan_type, sizeof(a->st.last_scan_type), "%s", a->scan.type);
        a->st.last_scan_inode = sum.inode;
        a->st.last_scan_summary = sum.offset;
        a->st.have_scan = true;
        agent_save_state(a);
    } else {
        struct agent_scanlog_pos pos = {.inode = a->scan.log_inode, .offset = a->scan.log_start};
        (void)agent_clamav_follow(a->cfg->scan.log, &pos, FOUND_COUNT_BYTES, count_found, &threats);
    }
    snprintf(detail, sizeof(detail), "%s scan finished: %d threat%s found", a->scan.type, threats,
             threats == 1 ? "" : "s");
    reply(a, c->id, "done", detail, threats);
    scan_finished_event(a, a->scan.type, threats);
}

/* ---- notify ------------------------------------------------------------- */

static void cmd_notify(struct agent *a, const struct cmdsign_cmd *cmd)
{
    const struct cmdsign_arg *m = cmdsign_arg_get(cmd, "message");
    char detail[256];
    int err;

    if (!m || m->type != CMDSIGN_ARG_STR || !m->value[0]) {
        refuse(a, cmd->id, "args.message (a non-empty string) is required");
        return;
    }
    if (a->dry_run) {
        log_notice("dry run: would show the users: %s", m->value);
        reply(a, cmd->id, "accepted", "dry run", -1);
        reply(a, cmd->id, "done", "dry run: the message was logged, not shown", -1);
        return;
    }
    if (children_of(a, CHILD_NOTIFY) >= MAX_NOTIFY || !have_free_slot(a)) {
        refuse(a, cmd->id, "too many notifications running");
        return;
    }
    if (!run(a, &a->cfg->notify.argv, m->value, -1, CHILD_NOTIFY, cmd->id,
             a->cfg->notify.timeout_ms, &err)) {
        snprintf(detail, sizeof(detail), "cannot run %s: %s", a->cfg->notify.argv.v[0],
                 strerror(-err));
        reply(a, cmd->id, "failed", detail, -1);
        return;
    }
    reply(a, cmd->id, "accepted", "showing the message", -1);
}

/* ---- dispatch ----------------------------------------------------------- */

/* Saves the replay cache, which now holds cmd's nonce, before cmd runs: a
 * command whose nonce could not be kept across a restart could be replayed
 * after one, so it is refused (and its nonce forgotten: it never ran) until
 * the state directory can be written again. True when cmd may run. */
static bool save_nonce(struct agent *a, const struct cmdsign_cmd *cmd)
{
    char why[512];
    int rc = agent_state_save_nonces(a->cfg->state_dir, a->replay);

    if (rc == 0) {
        if (a->nonces_unsaved)
            log_notice("%s/nonces can be written again: commands are accepted", a->cfg->state_dir);
        a->nonces_unsaved = false;
        return true;
    }
    cmdsign_replay_forget(a->replay, cmd->nonce);
    if (!a->nonces_unsaved)
        log_err("cannot save %s/nonces: %s; commands are refused until it can be written "
                "(without it a command could be replayed after a restart)",
                a->cfg->state_dir, strerror(-rc));
    a->nonces_unsaved = true;
    snprintf(why, sizeof(why),
             "no replay protection: cannot save %s/nonces: %s; commands are refused until it "
             "can be written",
             a->cfg->state_dir, strerror(-rc));
    refuse(a, cmd->id, why);
    return false;
}

void agent_cmd_handle(struct agent *a, const struct mqtt_msg *m)
{
    struct cmdsign_cmd cmd;
    const char *why;
    int64_t now = wall_whole(clock_wall());
    int rc;

    if (strcmp(m->topic, a->t_cmd) != 0)
        return;
    rc = cmdsign_verify(a->cfg->command_key, a->cfg->command_key_len, m->payload, m->payload_len,
                        now, a->cfg->hall, a->cfg->device, &cmd, &why);
    if (!a->cfg->command_key) {
        refuse(a, cmd.id, "no command key is configured on this PC (command_key_file)");
        return;
    }
    if (rc < 0) {
        refuse(a, cmd.id, why);
        return;
    }
    if (m->retained) {
        refuse(a, cmd.id, "retained: commands must not be retained");
        return;
    }
    rc = cmdsign_replay_check_and_add(a->replay, cmd.nonce, cmd.expires, now);
    if (rc == -EALREADY) {
        refuse(a, cmd.id, "replayed: this nonce was already used");
        return;
    }
    if (rc < 0) {
        refuse(a, cmd.id, "replay cache full: cannot rule out a replay of an older command");
        return;
    }
    if (!save_nonce(a, &cmd))
        return;
    log_notice("command %s: %s verified", cmd.id, cmd.action);
    switch (cmd.action_code) {
    case CMDSIGN_ACTION_POWEROFF:
        cmd_poweroff(a, &cmd);
        break;
    case CMDSIGN_ACTION_SCAN:
        cmd_scan(a, &cmd);
        break;
    case CMDSIGN_ACTION_NOTIFY:
        cmd_notify(a, &cmd);
        break;
    case CMDSIGN_ACTION_OTHER:
        refuse(a, cmd.id, "unknown action");
        break;
    }
}

static void child_ended(struct agent *a, struct agent_child *c, int status)
{
    char how[96], detail[256];

    agent_exec_describe(status, how, sizeof(how));
    log_info("pid %d ended: %s", (int)c->pid, how);
    switch (c->kind) {
    case CHILD_SCAN:
        scan_done(a, c, status);
        break;
    case CHILD_NOTIFY:
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && !c->term_sent)
            reply(a, c->id, "done", "the message was shown", -1);
        else {
            snprintf(detail, sizeof(detail), "%s: %s%s", a->cfg->notify.argv.v[0],
                     c->term_sent ? "timed out, " : "", how);
            reply(a, c->id, "failed", detail, -1);
        }
        break;
    case CHILD_WARN:
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            log_warn("warning the users with %s failed: %s", a->cfg->notify.argv.v[0], how);
        break;
    case CHILD_POWEROFF:
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
            log_notice("%s finished; waiting for the system to stop", a->cfg->poweroff.argv.v[0]);
        } else {
            snprintf(detail, sizeof(detail), "%s failed: %s", a->cfg->poweroff.argv.v[0], how);
            reply(a, c->id, "failed", detail, -1);
        }
        break;
    case CHILD_NONE:
        break;
    }
    c->kind = CHILD_NONE;
}

void agent_cmd_tick(struct agent *a, mono_ms now)
{
    for (size_t i = 0; i < AGENT_CHILDREN_MAX; i++) {
        struct agent_child *c = &a->children[i];
        int status = 0, r;
        if (c->kind == CHILD_NONE)
            continue;
        r = agent_exec_poll(c->pid, &status);
        if (r != 0) {
            if (r < 0) /* not ours any more (ECHILD): report it as lost */
                status = 0x7f00;
            child_ended(a, c, status);
        } else if (now >= c->deadline) {
            log_warn("pid %d ran too long; %s", (int)c->pid,
                     c->term_sent ? "killing it" : "stopping it");
            agent_exec_signal(c->pid, c->term_sent ? SIGKILL : SIGTERM);
            c->deadline = now + KILL_AFTER_MS;
            c->term_sent = true;
        }
    }
    if (a->poweroff.pending && now >= a->poweroff.at)
        poweroff_now(a);
}

void agent_cmd_stop_children(struct agent *a)
{
    for (size_t i = 0; i < AGENT_CHILDREN_MAX; i++) {
        struct agent_child *c = &a->children[i];
        if (c->kind == CHILD_SCAN || c->kind == CHILD_NOTIFY || c->kind == CHILD_WARN) {
            agent_exec_signal(c->pid, SIGTERM);
            c->kind = CHILD_NONE;
        }
    }
}
