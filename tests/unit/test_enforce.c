/* Power-off enforcement, the pure part (enforce_plan.c): the plan of a run
 * (order, exemptions, overrides, dry run, PCs already off), the PC and plug
 * state machines with `now` as a parameter, the plug commands of each format,
 * the hall's off period, the scan windows and the parsing of an override's
 * end; and the store's override and power-off tables. Times are UTC. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "alerting.h"
#include "config.h"
#include "enforce_plan.h"
#include "enforce_time.h"
#include "hallmodel.h"
#include "reading.h"
#include "store.h"

#define MIN_MS (60 * 1000LL)
#define S(x) ((int64_t)(x)*1000)

/* ---- a config ---- */

static char key_path[256], conf_file[256];

static const char *const config_text =
    "gateway = { timezone = \"UTC\"; };\n"
    "mqtt = { uri = \"tcp://127.0.0.1:1883\"; command_key_file = \"%s\"; };\n"
    "schedule = { weekdays = [\"mon\",\"tue\",\"wed\",\"thu\",\"fri\"]; open = \"09:00\";\n"
    "  close = \"17:00\"; breaks = ( { from = \"12:00\"; to = \"13:00\"; } );\n"
    "  poweroff_at = \"17:30\"; poweron_at = \"08:30\"; };\n"
    "halls = ( { id = \"h1\"; windows = (\n"
    "  { id = \"w01\"; pc = \"pc-w01\"; plug = \"plug-w01\"; },\n"
    "  { id = \"w02\"; pc = \"pc-w02\"; plug = \"plug-w02\"; },\n"
    "  { id = \"w03\"; pc = \"pc-w03\"; plug = \"plug-w03\"; },\n"
    "  { id = \"w04\"; plug = \"plug-w04\"; } ); } );\n"
    "devices = (\n"
    "  { id = \"pc-w01\"; hall = \"h1\"; kind = \"pc\"; },\n"
    "  { id = \"pc-w02\"; hall = \"h1\"; kind = \"pc\"; },\n"
    "  { id = \"pc-w03\"; hall = \"h1\"; kind = \"pc\"; },\n"
    "  { id = \"server-1\"; hall = \"h1\"; kind = \"pc\"; },\n"
    "  { id = \"plug-w01\"; hall = \"h1\"; kind = \"plug\"; source = \"tasmota:plug_w01\"; },\n"
    "  { id = \"plug-w02\"; hall = \"h1\"; kind = \"plug\"; source = \"shelly:shellyplug-02\"; },\n"
    "  { id = \"plug-w03\"; hall = \"h1\"; kind = \"plug\"; source = \"zigbee2mqtt:hall/plug 3\"; "
    "},\n"
    "  { id = \"plug-w04\"; hall = \"h1\"; kind = \"plug\"; },\n"
    "  { id = \"env-1\"; hall = \"h1\"; kind = \"env\"; } );\n"
    "rules = ( { name = \"av-scan\"; type = \"max_age\"; kind = \"pc\"; metric = "
    "\"av_last_scan\";\n"
    "  max_age = \"7d\"; action = \"scan\"; } );\n"
    "poweroff = { grace = \"5m\"; verify_within = \"15m\"; plug_delay = \"1m\";\n"
    "  exempt = [\"server-*\"]; %s };\n"
    "scans = { when = \"%s\"; still_overdue_after = \"2h\"; };\n";

static struct config *load(const char *poweroff_extra, const char *when)
{
    char text[4096];
    struct config *c = NULL;
    struct conf_errors e;
    FILE *f;
    /* One template for every case; its %s are filled in order. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    snprintf(text, sizeof(text), config_text, key_path, poweroff_extra, when);
#pragma GCC diagnostic pop
    f = fopen(conf_file, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    if (config_load(conf_file, &c, &e) < 0) {
        conf_errors_print(&e, stderr);
        fail_msg("the test config does not load");
    }
    return c;
}

/* A UTC instant. */
static wall_s at(int y, int mo, int d, int h, int mi, int s)
{
    struct tm tm = {.tm_year = y - 1900,
                    .tm_mon = mo - 1,
                    .tm_mday = d,
                    .tm_hour = h,
                    .tm_min = mi,
                    .tm_sec = s,
                    .tm_isdst = 0};
    return timegm(&tm);
}

/* Friday 2026-11-20, 17:30: the nightly run. */
#define FRI_1730 at(2026, 11, 20, 17, 30, 0)

struct avail_map {
    const char *id;
    enum availability a;
};

static enum availability avail_of(void *ctx, const struct config_device *d)
{
    for (const struct avail_map *m = ctx; m->id; m++) {
        if (strcmp(m->id, d->id) == 0)
            return m->a;
    }
    return AVAIL_ONLINE;
}

static const struct enforce_pc *pc_of(const struct enforce_run *r, const char *id)
{
    for (size_t i = 0; i < r->n_pcs; i++) {
        if (strcmp(r->pcs[i].id, id) == 0)
            return &r->pcs[i];
    }
    fail_msg("no PC %s in the run", id);
    return NULL;
}

static const struct enforce_plug *plug_of(const struct enforce_run *r, const char *id)
{
    for (size_t i = 0; i < r->n_plugs; i++) {
        if (strcmp(r->plugs[i].id, id) == 0)
            return &r->plugs[i];
    }
    fail_msg("no plug %s in the run", id);
    return NULL;
}

static void plan(const struct config *c, const struct record_override *ov, size_t n_ov,
                 const struct avail_map *avail, struct enforce_run *r)
{
    static const struct avail_map none[] = {{NULL, AVAIL_UNKNOWN}};
    struct enforce_view v = {.avail = avail_of, .ctx = (void *)(avail ? avail : none)};
    assert_int_equal(enforce_plan_run(c, ENFORCE_NIGHTLY, ov, n_ov, &v, FRI_1730, 1000, r), 0);
}

/* ---- the plan ---- */

static void test_plan_orders_pcs_then_plugs_each_plug_linked_to_its_window_pc(void **state)
{
    (void)state;
    struct config *c = load("", "break");
    struct enforce_run r;
    plan(c, NULL, 0, NULL, &r);
    assert_string_equal(r.date, "2026-11-20");
    assert_int_equal(r.trigger, ENFORCE_NIGHTLY);
    /* PCs in config order, then the plugs of the windows in order. */
    assert_int_equal(r.n_pcs, 4);
    const char *pcs[] = {"pc-w01", "pc-w02", "pc-w03", "server-1"};
    for (size_t i = 0; i < 4; i++)
        assert_string_equal(r.pcs[i].id, pcs[i]);
    assert_int_equal(r.n_plugs, 4);
    const char *plugs[] = {"plug-w01", "plug-w02", "plug-w03", "plug-w04"};
    for (size_t i = 0; i < 4; i++)
        assert_string_equal(r.plugs[i].id, plugs[i]);
    assert_int_equal(r.pcs[0].state, EPC_PENDING);
    assert_string_equal(r.pcs[0].window, "w01");
    assert_int_equal(r.pcs[0].plug, 0);
    assert_int_equal(r.plugs[0].pc, 0);
    assert_int_equal(r.plugs[1].pc, 1);
    assert_int_equal(r.plugs[0].state, EPL_WAITING);
    assert_int_equal(r.plugs[0].ready_at, 0); /* waits for its PC */
    assert_int_equal(r.plugs[0].format, FORMAT_TASMOTA);
    assert_string_equal(r.plugs[0].source, "plug_w01");
    /* A window plug without a PC: nothing to wait for. */
    assert_int_equal(r.plugs[3].pc, -1);
    assert_int_equal(r.plugs[3].state, EPL_WAITING);
    assert_int_equal(r.plugs[3].ready_at, 1000);
    assert_true(enforce_run_active(&r));
    enforce_run_free(&r);
    config_free(c);
}

static void test_plan_skips_exempt_globs(void **state)
{
    (void)state;
    struct config *c = load("", "break");
    struct enforce_run r;
    plan(c, NULL, 0, NULL, &r);
    const struct enforce_pc *s = pc_of(&r, "server-1");
    assert_int_equal(s->state, EPC_SKIPPED);
    assert_int_equal(s->skip, ENFORCE_SKIP_EXEMPT);
    assert_non_null(strstr(s->detail, "exempt"));
    assert_non_null(strstr(s->detail, "server-*"));
    assert_int_equal(enforce_pc_ok(s), 1);
    assert_non_null(enforce_exempt(&c->poweroff, "server-1"));
    assert_non_null(enforce_exempt(&c->poweroff, "server-"));
    assert_null(enforce_exempt(&c->poweroff, "pc-server-1"));
    assert_null(enforce_exempt(&c->poweroff, "Server-1"));
    enforce_run_free(&r);
    config_free(c);
}

static void test_plan_skips_active_overrides_and_ignores_expired_ones(void **state)
{
    (void)state;
    struct config *c = load("", "break");
    struct record_override ov[] = {
        {.device = "pc-w03", .until = FRI_1730 + 3 * 3600, .reason = "overtime", .by = "wang"},
        {.device = "pc-w02", .until = FRI_1730 - 1, .reason = "yesterday", .by = "li"},
        {.device = "plug-w01", .until = FRI_1730 + 60, .reason = "router", .by = "it"},
    };
    struct enforce_run r;
    plan(c, ov, 3, NULL, &r);
    const struct enforce_pc *w3 = pc_of(&r, "pc-w03");
    assert_int_equal(w3->state, EPC_SKIPPED);
    assert_int_equal(w3->skip, ENFORCE_SKIP_OVERRIDE);
    assert_non_null(strstr(w3->detail, "override until 20:30 by wang: overtime"));
    /* Its plug stays on with it. */
    const struct enforce_plug *p3 = plug_of(&r, "plug-w03");
    assert_int_equal(p3->state, EPL_SKIPPED);
    assert_non_null(strstr(p3->detail, "kept on with pc-w03"));
    /* Expired: ignored. */
    assert_int_equal(pc_of(&r, "pc-w02")->state, EPC_PENDING);
    assert_int_equal(plug_of(&r, "plug-w02")->state, EPL_WAITING);
    /* An override of a plug keeps the plug on, the PC still goes off. */
    assert_int_equal(pc_of(&r, "pc-w01")->state, EPC_PENDING);
    assert_int_equal(plug_of(&r, "plug-w01")->state, EPL_SKIPPED);
    assert_non_null(strstr(plug_of(&r, "plug-w01")->detail, "override"));
    /* until is exclusive. */
    assert_null(enforce_override_for(ov, 3, "pc-w03", ov[0].until));
    assert_non_null(enforce_override_for(ov, 3, "pc-w03", ov[0].until - 1));
    enforce_run_free(&r);
    config_free(c);
}

static void test_plan_pc_already_offline_is_off_and_its_plug_is_ready(void **state)
{
    (void)state;
    struct config *c = load("", "break");
    struct avail_map avail[] = {{"pc-w02", AVAIL_OFFLINE}, {NULL, AVAIL_UNKNOWN}};
    struct enforce_run r;
    plan(c, NULL, 0, avail, &r);
    const struct enforce_pc *w2 = pc_of(&r, "pc-w02");
    assert_int_equal(w2->state, EPC_OFF);
    assert_non_null(strstr(w2->detail, "already off"));
    assert_int_equal(plug_of(&r, "plug-w02")->ready_at, 1000);
    enforce_run_free(&r);
    config_free(c);
}

static void test_dry_run_plans_everything_and_sends_nothing(void **state)
{
    (void)state;
    struct config *c = load("dry_run = true;", "break");
    struct avail_map avail[] = {{"pc-w01", AVAIL_ONLINE}, {NULL, AVAIL_UNKNOWN}};
    struct enforce_run r;
    plan(c, NULL, 0, avail, &r);
    for (size_t i = 0; i < r.n_pcs; i++)
        assert_int_equal(r.pcs[i].state, EPC_SKIPPED);
    for (size_t i = 0; i < r.n_plugs; i++)
        assert_int_equal(r.plugs[i].state, EPL_SKIPPED);
    assert_string_equal(pc_of(&r, "pc-w01")->detail, "dry run: would send poweroff (online)");
    assert_non_null(strstr(plug_of(&r, "plug-w01")->detail, "dry run: would switch off after "
                                                            "pc-w01"));
    /* Exemption still shows as such. */
    assert_int_equal(pc_of(&r, "server-1")->skip, ENFORCE_SKIP_EXEMPT);
    assert_false(enforce_run_active(&r));
    enforce_run_free(&r);
    config_free(c);
}

static void test_without_plugs_after_pcs_no_plug_is_touched(void **state)
{
    (void)state;
    struct config *c = load("plugs_after_pcs = false;", "break");
    struct enforce_run r;
    plan(c, NULL, 0, NULL, &r);
    assert_int_equal(r.n_pcs, 4);
    assert_int_equal(r.n_plugs, 0);
    assert_int_equal(r.pcs[0].plug, -1);
    enforce_run_free(&r);
    config_free(c);
}

static void test_poweron_plans_plugs_only(void **state)
{
    (void)state;
    struct config *c = load("", "break");
    struct enforce_run r;
    assert_int_equal(enforce_plan_run(c, ENFORCE_POWERON, NULL, 0, NULL, FRI_1730, 5, &r), 0);
    assert_int_equal(r.n_pcs, 0);
    assert_int_equal(r.n_plugs, 4);
    for (size_t i = 0; i < r.n_plugs; i++) {
        assert_true(r.plugs[i].target_on);
        assert_int_equal(r.plugs[i].pc, -1);
        assert_int_equal(r.plugs[i].ready_at, 5);
    }
    enforce_run_free(&r);
    config_free(c);
}

/* ---- the PC state machine ---- */

static struct enforce_pc sent_pc(mono_ms now)
{
    struct enforce_pc pc = {.id = "pc-w01", .hall = "h1", .window = "w01", .plug = 0};
    enforce_pc_sent(&pc, "po-1-1", now, 15 * MIN_MS);
    return pc;
}

static void test_pc_accepted_then_done_then_offline_is_verified_off(void **state)
{
    (void)state;
    struct enforce_pc pc = sent_pc(S(100));
    struct enforce_out out;
    struct enforce_pc_seen seen = {.avail = AVAIL_ONLINE, .last_seen = S(100)};
    assert_int_equal(pc.state, EPC_SENT);
    assert_int_equal(pc.attempts, 1);
    assert_false(enforce_pc_check(&pc, &seen, 15 * MIN_MS, S(101), &out));

    assert_true(enforce_pc_reply(&pc, "accepted", "shutting down in 300 s", S(101), &out));
    assert_int_equal(pc.state, EPC_ACCEPTED);
    assert_int_equal(out.n_rec, 1);
    assert_string_equal(out.rec[0].step, "reply");
    assert_true(out.rec[0].ok);
    assert_string_equal(out.rec[0].detail, "accepted: shutting down in 300 s");

    assert_true(enforce_pc_reply(&pc, "done", "shutting down now", S(401), &out));
    assert_int_equal(pc.state, EPC_DONE);

    seen.avail = AVAIL_OFFLINE;
    seen.last_seen = S(402);
    assert_true(enforce_pc_check(&pc, &seen, 15 * MIN_MS, S(403), &out));
    assert_int_equal(pc.state, EPC_OFF);
    assert_int_equal(pc.off_at, S(403));
    assert_int_equal(out.n_rec, 1);
    assert_string_equal(out.rec[0].step, "verified_off");
    assert_true(out.rec[0].ok);
    assert_true(out.resolve);
    assert_false(out.raise);
    assert_int_equal(enforce_pc_ok(&pc), 1);
    /* A late reply is recorded, nothing else. */
    assert_true(enforce_pc_reply(&pc, "done", "", S(404), &out));
    assert_int_equal(pc.state, EPC_OFF);
}

static void test_pc_refusal_is_a_failure_for_it(void **state)
{
    (void)state;
    struct enforce_pc pc = sent_pc(0);
    struct enforce_out out;
    assert_true(enforce_pc_reply(&pc, "refused", "bad signature", S(1), &out));
    assert_int_equal(pc.state, EPC_FAILED);
    assert_int_equal(out.n_rec, 2);
    assert_string_equal(out.rec[0].step, "reply");
    assert_false(out.rec[0].ok);
    assert_string_equal(out.rec[1].step, "failure");
    assert_false(out.rec[1].ok);
    assert_non_null(strstr(out.rec[1].detail, "pc-w01 refused the power-off: bad signature"));
    assert_true(out.raise);
    assert_int_equal(enforce_pc_ok(&pc), 0);

    pc = sent_pc(0);
    enforce_pc_reply(&pc, "failed", "systemctl failed", S(1), &out);
    assert_int_equal(pc.state, EPC_FAILED);
    assert_true(out.raise);
}

static void test_pc_without_a_reply_fails_at_the_deadline(void **state)
{
    (void)state;
    struct enforce_pc pc = sent_pc(0);
    struct enforce_out out;
    struct enforce_pc_seen seen = {.avail = AVAIL_ONLINE, .last_seen = S(60)};
    assert_false(enforce_pc_check(&pc, &seen, 15 * MIN_MS, 15 * MIN_MS - 1, &out));
    assert_true(enforce_pc_check(&pc, &seen, 15 * MIN_MS, 15 * MIN_MS, &out));
    assert_int_equal(pc.state, EPC_FAILED);
    assert_string_equal(out.rec[0].step, "failure");
    assert_string_equal(out.rec[0].detail,
                        "pc-w01 did not answer the power-off command within 15m");
    assert_true(out.raise);
}

static void test_pc_still_on_after_verify_within_fails_and_resolves_when_seen_off(void **state)
{
    (void)state;
    struct enforce_pc pc = sent_pc(0);
    struct enforce_out out;
    struct enforce_pc_seen seen = {.avail = AVAIL_ONLINE};
    enforce_pc_reply(&pc, "accepted", "", S(1), &out);
    enforce_pc_reply(&pc, "done", "", S(300), &out);
    /* It keeps talking: never silent, never offline. */
    for (mono_ms t = S(301); t < 15 * MIN_MS; t += S(30)) {
        seen.last_seen = t;
        assert_false(enforce_pc_check(&pc, &seen, 15 * MIN_MS, t, &out));
    }
    seen.last_seen = 15 * MIN_MS - S(1);
    assert_true(enforce_pc_check(&pc, &seen, 15 * MIN_MS, 15 * MIN_MS, &out));
    assert_int_equal(pc.state, EPC_FAILED);
    assert_string_equal(out.rec[0].detail, "pc-w01 still on 15m after the power-off command");
    assert_true(out.raise);
    /* Later it goes off after all: verified, the alert resolves. */
    seen.avail = AVAIL_OFFLINE;
    assert_true(enforce_pc_check(&pc, &seen, 15 * MIN_MS, 20 * MIN_MS, &out));
    assert_int_equal(pc.state, EPC_OFF);
    assert_string_equal(out.rec[0].step, "verified_off");
    assert_true(out.resolve);
}

static void test_pc_silent_two_minutes_after_done_is_off(void **state)
{
    (void)state;
    struct enforce_pc pc = sent_pc(0);
    struct enforce_out out;
    struct enforce_pc_seen seen = {.avail = AVAIL_ONLINE, .last_seen = S(10)};
    enforce_pc_reply(&pc, "done", "", S(10), &out);
    assert_false(
        enforce_pc_check(&pc, &seen, 15 * MIN_MS, S(10) + ENFORCE_SILENT_OFF_MS - 1, &out));
    assert_true(enforce_pc_check(&pc, &seen, 15 * MIN_MS, S(10) + ENFORCE_SILENT_OFF_MS, &out));
    assert_int_equal(pc.state, EPC_OFF);
    assert_non_null(strstr(out.rec[0].detail, "silent for 2m"));
    /* Silence without "done" proves nothing. */
    pc = sent_pc(0);
    enforce_pc_reply(&pc, "accepted", "", S(1), &out);
    assert_false(enforce_pc_check(&pc, &seen, 15 * MIN_MS, S(10) + ENFORCE_SILENT_OFF_MS, &out));
    assert_int_equal(pc.state, EPC_ACCEPTED);
}

static void test_pc_back_on_before_its_plug_is_cut(void **state)
{
    (void)state;
    struct enforce_pc pc = sent_pc(0);
    struct enforce_out out;
    struct enforce_pc_seen seen = {.avail = AVAIL_OFFLINE, .last_seen = S(5)};
    assert_true(enforce_pc_check(&pc, &seen, 15 * MIN_MS, S(6), &out));
    assert_int_equal(pc.state, EPC_OFF);
    /* A reboot, not a shutdown. */
    seen.avail = AVAIL_ONLINE;
    seen.last_seen = S(30);
    assert_true(enforce_pc_check(&pc, &seen, 15 * MIN_MS, S(31), &out));
    assert_int_equal(pc.state, EPC_ACCEPTED);
    assert_string_equal(out.rec[0].step, "back_on");
    assert_false(out.rec[0].ok);
    /* A PC that keeps coming back fails (and bounds what it makes us record). */
    struct enforce_pc flapper = sent_pc(0);
    for (int i = 0; i < ENFORCE_FLAPS_MAX; i++) {
        seen.avail = AVAIL_OFFLINE;
        assert_true(enforce_pc_check(&flapper, &seen, 15 * MIN_MS, S(100 + 10 * i), &out));
        seen.avail = AVAIL_ONLINE;
        seen.last_seen = S(105 + 10 * i);
        assert_true(enforce_pc_check(&flapper, &seen, 15 * MIN_MS, S(106 + 10 * i), &out));
        assert_int_equal(flapper.state, EPC_ACCEPTED);
    }
    seen.avail = AVAIL_OFFLINE;
    enforce_pc_check(&flapper, &seen, 15 * MIN_MS, S(200), &out);
    seen.avail = AVAIL_ONLINE;
    seen.last_seen = S(205);
    assert_true(enforce_pc_check(&flapper, &seen, 15 * MIN_MS, S(206), &out));
    assert_int_equal(flapper.state, EPC_FAILED);
    assert_true(out.raise);
    /* Once the plug is cut, nothing is taken back. */
    seen.avail = AVAIL_OFFLINE;
    enforce_pc_check(&pc, &seen, 15 * MIN_MS, S(40), &out);
    seen.avail = AVAIL_ONLINE;
    seen.last_seen = S(50);
    seen.plug_cut = true;
    assert_false(enforce_pc_check(&pc, &seen, 15 * MIN_MS, S(51), &out));
    assert_int_equal(pc.state, EPC_OFF);
}

/* ---- the plug state machine ---- */

static void test_plug_waits_for_its_pc_and_plug_delay_then_sends(void **state)
{
    (void)state;
    struct enforce_pc pc = sent_pc(0);
    struct enforce_plug pl = {.id = "plug-w01", .pc = 0, .state = EPL_WAITING};
    struct enforce_plug_seen seen = {0};
    struct enforce_out out;
    assert_false(enforce_plug_check(&pl, &pc, &seen, MIN_MS, S(10), &out));
    pc.state = EPC_OFF;
    pc.off_at = S(100);
    assert_false(enforce_plug_check(&pl, &pc, &seen, MIN_MS, S(159), &out));
    assert_int_equal(pl.ready_at, S(160));
    assert_true(enforce_plug_check(&pl, &pc, &seen, MIN_MS, S(160), &out));
    assert_true(out.send);
    assert_int_equal(out.n_rec, 0);
    enforce_plug_sent(&pl, "", S(160), 1000, 15 * MIN_MS);
    assert_int_equal(pl.state, EPL_SENT);
    /* Verified only by a report after the command. */
    seen.reported = true;
    seen.on = true;
    assert_false(enforce_plug_check(&pl, &pc, &seen, MIN_MS, S(161), &out));
    seen.on = false;
    assert_true(enforce_plug_check(&pl, &pc, &seen, MIN_MS, S(162), &out));
    assert_int_equal(pl.state, EPL_DONE);
    assert_string_equal(out.rec[0].step, "plug_off");
    assert_true(out.rec[0].ok);
    assert_string_equal(enforce_plug_state_name(&pl), "off");
    assert_int_equal(enforce_plug_ok(&pl), 1);
}

static void test_plug_is_never_cut_while_its_pc_is_on(void **state)
{
    (void)state;
    struct enforce_pc pc = sent_pc(0);
    struct enforce_plug pl = {.id = "plug-w02", .pc = 0, .state = EPL_WAITING};
    struct enforce_plug_seen seen = {0};
    struct enforce_out out;
    /* Accepted, done, still on: for as long as it is not off, no send. */
    enforce_pc_reply(&pc, "done", "", S(1), &out);
    for (mono_ms t = 0; t < 15 * MIN_MS; t += S(10)) {
        assert_false(enforce_plug_check(&pl, &pc, &seen, 0, t, &out));
        assert_false(out.send);
    }
    pc.state = EPC_FAILED;
    assert_true(enforce_plug_check(&pl, &pc, &seen, 0, 15 * MIN_MS, &out));
    assert_false(out.send);
    assert_int_equal(pl.state, EPL_HELD);
    assert_string_equal(out.rec[0].step, "skipped");
    assert_false(out.rec[0].ok);
    assert_string_equal(out.rec[0].detail, "not cut: pc-w01 did not go off");
    assert_false(enforce_plug_check(&pl, &pc, &seen, 0, 16 * MIN_MS, &out));
    assert_int_equal(enforce_plug_ok(&pl), 0);
    /* The PC goes off after all: the plug follows. */
    pc.state = EPC_OFF;
    pc.off_at = 17 * MIN_MS;
    assert_true(enforce_plug_check(&pl, &pc, &seen, 0, 17 * MIN_MS, &out));
    assert_true(out.send);
}

static void test_plug_still_on_after_verify_within_fails(void **state)
{
    (void)state;
    struct enforce_plug pl = {.id = "plug-w04", .pc = -1, .state = EPL_WAITING};
    struct enforce_plug_seen seen = {.reported = true, .on = true};
    struct enforce_out out;
    assert_true(enforce_plug_check(&pl, NULL, &seen, MIN_MS, 0, &out));
    assert_true(out.send); /* no PC: at once */
    enforce_plug_sent(&pl, "", 0, 1, 15 * MIN_MS);
    assert_false(enforce_plug_check(&pl, NULL, &seen, MIN_MS, 15 * MIN_MS - 1, &out));
    assert_true(enforce_plug_check(&pl, NULL, &seen, MIN_MS, 15 * MIN_MS, &out));
    assert_int_equal(pl.state, EPL_FAILED);
    assert_string_equal(out.rec[0].detail, "plug-w04 still on after the off command");
    assert_true(out.raise);
    seen.reported = false;
    pl.state = EPL_SENT;
    assert_true(enforce_plug_check(&pl, NULL, &seen, MIN_MS, 15 * MIN_MS, &out));
    assert_string_equal(out.rec[0].detail, "plug-w04 did not report off after the off command");
    /* It reports off later: done, resolved. */
    seen.reported = true;
    seen.on = false;
    assert_true(enforce_plug_check(&pl, NULL, &seen, MIN_MS, 20 * MIN_MS, &out));
    assert_int_equal(pl.state, EPL_DONE);
    assert_true(out.resolve);
}

static void test_plug_commands_per_format(void **state)
{
    (void)state;
    struct enforce_plug_cmd cmd;
    struct enforce_plug pl = {.id = "plug-w01", .hall = "h1"};
    static const struct {
        enum source_format f;
        const char *source;
        bool on;
        const char *topic, *payload;
        bool native;
    } cases[] = {
        {FORMAT_TASMOTA, "plug_w01", false, "cmnd/plug_w01/POWER", "OFF", false},
        {FORMAT_TASMOTA, "plug_w01", true, "cmnd/plug_w01/POWER", "ON", false},
        {FORMAT_SHELLY, "shellyplusplugs-a8032ab1", false, "shellyplusplugs-a8032ab1/rpc",
         "{\"id\":1,\"src\":\"hallgw\",\"method\":\"Switch.Set\",\"params\":{\"id\":0,\"on\":false}"
         "}",
         false},
        {FORMAT_SHELLY, "shellyplusplugs-a8032ab1", true, "shellyplusplugs-a8032ab1/rpc",
         "{\"id\":1,\"src\":\"hallgw\",\"method\":\"Switch.Set\",\"params\":{\"id\":0,\"on\":true}"
         "}",
         false},
        {FORMAT_ZIGBEE2MQTT, "hall/plug 3", false, "zigbee2mqtt/hall/plug 3/set",
         "{\"state\":\"OFF\"}", false},
        {FORMAT_ZIGBEE2MQTT, "plug_3", true, "zigbee2mqtt/plug_3/set", "{\"state\":\"ON\"}", false},
        {FORMAT_NATIVE, "", false, "hall/h1/plug-w01/cmd", "", true},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        pl.format = cases[i].f;
        snprintf(pl.source, sizeof(pl.source), "%s", cases[i].source);
        assert_int_equal(enforce_plug_command("hall", &pl, cases[i].on, &cmd), 0);
        assert_string_equal(cmd.topic, cases[i].topic);
        assert_string_equal(cmd.payload, cases[i].payload);
        assert_int_equal(cmd.native, cases[i].native);
    }
}

/* Shelly: Switch.Set over <id>/rpc for Gen2, relay/<n>/command for Gen1,
 * both while the generation is not known; "<id>#<n>" switches channel n. */
static void test_shelly_commands_by_generation_and_channel(void **state)
{
    (void)state;
    struct enforce_plug_cmd cmd;
    struct enforce_plug pl = {.id = "desk-b", .hall = "h1", .format = FORMAT_SHELLY};
    static const struct {
        const char *source;
        unsigned char gen;
        bool on;
        const char *topic, *payload, *topic2, *payload2;
    } cases[] = {
        {"shellyplug-s-7C87CE", 1, false, "shellies/shellyplug-s-7C87CE/relay/0/command", "off", "",
         ""},
        {"shellyplug-s-7C87CE", 1, true, "shellies/shellyplug-s-7C87CE/relay/0/command", "on", "",
         ""},
        {"shellyswitch25-1#1", 1, false, "shellies/shellyswitch25-1/relay/1/command", "off", "",
         ""},
        {"shellypro4pm-1#3", 2, false, "shellypro4pm-1/rpc",
         "{\"id\":1,\"src\":\"hallgw\",\"method\":\"Switch.Set\",\"params\":{\"id\":3,\"on\":false}"
         "}",
         "", ""},
        {"shellyplus1pm-1", 0, false, "shellyplus1pm-1/rpc",
         "{\"id\":1,\"src\":\"hallgw\",\"method\":\"Switch.Set\",\"params\":{\"id\":0,\"on\":false}"
         "}",
         "shellies/shellyplus1pm-1/relay/0/command", "off"},
        {"shellyplus2pm-1#1", 0, true, "shellyplus2pm-1/rpc",
         "{\"id\":1,\"src\":\"hallgw\",\"method\":\"Switch.Set\",\"params\":{\"id\":1,\"on\":true}"
         "}",
         "shellies/shellyplus2pm-1/relay/1/command", "on"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(pl.source, sizeof(pl.source), "%s", cases[i].source);
        pl.shelly_gen = cases[i].gen;
        assert_int_equal(enforce_plug_command("hall", &pl, cases[i].on, &cmd), 0);
        assert_string_equal(cmd.topic, cases[i].topic);
        assert_string_equal(cmd.payload, cases[i].payload);
        assert_string_equal(cmd.topic2, cases[i].topic2);
        assert_string_equal(cmd.payload2, cases[i].payload2);
        assert_false(cmd.native);
    }
}

/* ---- the closed-hall rule ---- */

static void test_off_period_runs_from_poweroff_at_to_the_next_wake_up(void **state)
{
    (void)state;
    struct config *c = load("", "break");
    const struct config_schedule *s = &c->schedule;
    /* Friday: open, closed before 17:30, off from 17:30. */
    assert_int_equal(enforce_off_since(s, at(2026, 11, 20, 10, 0, 0)), 0);
    assert_int_equal(enforce_off_since(s, at(2026, 11, 20, 17, 10, 0)), 0);
    assert_int_equal(enforce_off_since(s, at(2026, 11, 20, 17, 29, 59)), 0);
    assert_int_equal(enforce_off_since(s, FRI_1730), FRI_1730);
    assert_int_equal(enforce_off_since(s, at(2026, 11, 20, 23, 0, 0)), FRI_1730);
    /* The weekend belongs to Friday's night. */
    assert_int_equal(enforce_off_since(s, at(2026, 11, 21, 12, 0, 0)), FRI_1730);
    assert_int_equal(enforce_off_since(s, at(2026, 11, 23, 8, 29, 0)), FRI_1730);
    /* poweron_at wakes the hall up. */
    assert_int_equal(enforce_off_since(s, at(2026, 11, 23, 8, 30, 0)), 0);
    assert_int_equal(enforce_off_since(s, at(2026, 11, 23, 12, 30, 0)), 0); /* lunch */
    config_free(c);
}

static void test_closed_hall_pc_is_due_after_closed_grace(void **state)
{
    (void)state;
    struct config *c = load("closed_grace = \"10m\";", "break");
    wall_s seen = at(2026, 11, 20, 19, 0, 0);
    assert_false(enforce_closed_due(&c->poweroff, 0, AVAIL_ONLINE, seen + 3600));
    assert_false(enforce_closed_due(&c->poweroff, seen, AVAIL_ONLINE, seen + 599));
    assert_true(enforce_closed_due(&c->poweroff, seen, AVAIL_ONLINE, seen + 600));
    assert_true(enforce_closed_due(&c->poweroff, seen, AVAIL_UNKNOWN, seen + 600));
    assert_false(enforce_closed_due(&c->poweroff, seen, AVAIL_OFFLINE, seen + 600));
    config_free(c);
}

static void test_closed_hall_attempt_restarts_a_pc_and_rearms_its_plug(void **state)
{
    (void)state;
    struct config *c = load("", "break");
    struct enforce_run r;
    struct enforce_out out;
    struct record_override ov = {
        .device = "pc-w03", .until = FRI_1730 + 6, .reason = "overtime", .by = "wang"};
    plan(c, &ov, 1, NULL, &r);
    assert_int_equal(pc_of(&r, "pc-w03")->state, EPC_SKIPPED);
    assert_int_equal(plug_of(&r, "plug-w03")->state, EPL_SKIPPED);
    /* After the override ran out, the closed-hall rule takes it. */
    int i = enforce_plan_pc(c, config_find_device(c, "pc-w03"), &ov, 1, FRI_1730 + 10, &r);
    assert_true(i >= 0);
    assert_int_equal(r.pcs[i].state, EPC_PENDING);
    assert_int_equal(r.n_pcs, 4);
    const struct enforce_plug *p3 = plug_of(&r, "plug-w03");
    assert_int_equal(p3->state, EPL_WAITING);
    assert_int_equal(r.pcs[i].plug, (int)(p3 - r.plugs));
    /* A PC not in the run (a new run for the closed-hall rule) is added with its plug. */
    struct enforce_run r2 = {.date = "2026-11-21"};
    i = enforce_plan_pc(c, config_find_device(c, "pc-w02"), NULL, 0, FRI_1730, &r2);
    assert_int_equal(i, 0);
    assert_int_equal(r2.n_plugs, 1);
    assert_string_equal(r2.plugs[0].id, "plug-w02");
    assert_int_equal(r2.plugs[0].pc, 0);
    /* A plug already off stays so. */
    enforce_pc_sent(&r2.pcs[0], "po-1", 0, 15 * MIN_MS);
    r2.plugs[0].state = EPL_DONE;
    enforce_pc_reply(&r2.pcs[0], "refused", "x", 1, &out);
    i = enforce_plan_pc(c, config_find_device(c, "pc-w02"), NULL, 0, FRI_1730, &r2);
    assert_int_equal(r2.pcs[i].attempts, 1);
    assert_int_equal(r2.plugs[0].state, EPL_DONE);
    enforce_run_free(&r2);
    enforce_run_free(&r);
    config_free(c);
}

/* ---- scans ---- */

static void test_scans_at_the_break_or_before_poweroff(void **state)
{
    (void)state;
    struct config *c = load("", "break");
    assert_false(enforce_scan_allowed(c, at(2026, 11, 20, 11, 59, 0)));
    assert_true(enforce_scan_allowed(c, at(2026, 11, 20, 12, 0, 0)));
    assert_false(enforce_scan_allowed(c, at(2026, 11, 21, 12, 30, 0))); /* Saturday */
    assert_int_equal(enforce_scan_next(c, at(2026, 11, 20, 10, 0, 0)), at(2026, 11, 20, 12, 0, 0));
    assert_int_equal(enforce_scan_next(c, at(2026, 11, 20, 14, 0, 0)), at(2026, 11, 23, 12, 0, 0));
    config_free(c);

    c = load("", "before_poweroff");
    assert_false(enforce_scan_allowed(c, at(2026, 11, 20, 16, 59, 0)));
    assert_true(enforce_scan_allowed(c, at(2026, 11, 20, 17, 0, 0)));
    assert_true(enforce_scan_allowed(c, at(2026, 11, 20, 17, 29, 59)));
    assert_false(enforce_scan_allowed(c, FRI_1730));
    assert_int_equal(enforce_scan_next(c, at(2026, 11, 20, 10, 0, 0)), at(2026, 11, 20, 17, 0, 0));
    assert_int_equal(enforce_scan_next(c, FRI_1730), at(2026, 11, 23, 17, 0, 0));

    const struct config_rule *r = &c->rules[0];
    wall_s now = FRI_1730;
    assert_false(enforce_scan_overdue(r, now - 7 * 86400, now));
    assert_true(enforce_scan_overdue(r, now - 7 * 86400 - 1, now));
    config_free(c);
}

/* ---- overrides ---- */

static void test_override_until_parses_times_dates_and_unix_seconds(void **state)
{
    (void)state;
    wall_s now = at(2026, 11, 20, 17, 0, 0), t;
    assert_int_equal(enforce_parse_until("21:00", now, &t), 0);
    assert_int_equal(t, at(2026, 11, 20, 21, 0, 0));
    /* Past today: tomorrow's. */
    assert_int_equal(enforce_parse_until("08:00", now, &t), 0);
    assert_int_equal(t, at(2026, 11, 21, 8, 0, 0));
    assert_int_equal(enforce_parse_until("17:00", now, &t), 0);
    assert_int_equal(t, at(2026, 11, 21, 17, 0, 0));
    assert_int_equal(enforce_parse_until("2026-11-22T09:30", now, &t), 0);
    assert_int_equal(t, at(2026, 11, 22, 9, 30, 0));
    assert_int_equal(enforce_parse_until("2026-11-22 09:30:15", now, &t), 0);
    assert_int_equal(t, at(2026, 11, 22, 9, 30, 15));
    assert_int_equal(enforce_parse_until("1795208400", now, &t), 0);
    assert_int_equal(t, 1795208400);
    assert_int_equal(enforce_parse_until("2026-11-20T16:00", now, &t), -ERANGE);
    assert_int_equal(enforce_parse_until("2027-01-20T16:00", now, &t), -ERANGE);
    assert_int_equal(enforce_parse_until("100", now, &t), -ERANGE);
    const char *bad[] = {"", "9pm", "25:00", "21:00x", "2026-13-01T10:00", "-5", NULL};
    for (size_t i = 0; bad[i]; i++)
        assert_int_equal(enforce_parse_until(bad[i], now, &t), -EINVAL);
}

static void test_override_is_for_configured_pcs_and_plugs(void **state)
{
    (void)state;
    struct config *c = load("", "break");
    const char *why;
    wall_s now = FRI_1730;
    assert_int_equal(enforce_override_check(c, "pc-w03", now + 3600, now, &why), 0);
    assert_int_equal(enforce_override_check(c, "plug-w01", now + 3600, now, &why), 0);
    assert_int_equal(enforce_override_check(c, "pc-w3", now + 3600, now, &why), -ENOENT);
    assert_int_equal(enforce_override_check(c, "env-1", now + 3600, now, &why), -EINVAL);
    assert_int_equal(enforce_override_check(c, "pc-w03", now, now, &why), -ERANGE);
    assert_int_equal(enforce_override_check(c, "pc-w03", now + 40 * 86400, now, &why), -ERANGE);
    config_free(c);
}

/* ---- alerting: what enforcement asks of it ---- */

static int published;

static void count_publish(void *ctx, const char *topic, const char *payload, size_t len,
                          bool retained)
{
    (void)ctx;
    (void)topic;
    (void)payload;
    (void)len;
    (void)retained;
    published++;
}

struct alerting_fixture {
    struct config *c;
    struct hallmodel *hm;
    struct alerting *al;
};

static void alerting_up(struct alerting_fixture *f)
{
    struct alerting_io io = {.publish = count_publish};
    f->c = load("", "break");
    assert_int_equal(hallmodel_new(f->c, &f->hm), 0);
    assert_int_equal(alerting_new(f->c, f->hm, &io, FRI_1730, 1, &f->al), 0);
    published = 0;
}

static void alerting_down(struct alerting_fixture *f)
{
    alerting_free(f->al);
    hallmodel_free(f->hm);
    config_free(f->c);
}

static void test_external_alert_fires_once_resolves_by_itself_or_by_hand(void **state)
{
    (void)state;
    struct alerting_fixture f;
    alerting_up(&f);
    struct alerting_external x = {.rule = ALERTING_RULE_POWEROFF_FAILED,
                                  .subject = "pc-w02",
                                  .hall = "h1",
                                  .device = "pc-w02",
                                  .window = "w02",
                                  .kind = KIND_PC,
                                  .severity = SEV_MAJOR,
                                  .summary = "pc-w02 still on 15m after the power-off command"};
    assert_int_equal(alerting_raise_external(f.al, &x, 1000, 5), 0);
    const struct alert *a = alerting_find(f.al, "h1", "poweroff-failed:pc-w02");
    assert_non_null(a);
    assert_int_equal(a->state, ALERT_FIRING);
    assert_int_equal(a->severity, SEV_MAJOR);
    assert_true(a->manual_resolve);
    assert_string_equal(a->window, "w02");
    assert_int_equal(published, 2); /* the transition and the retained state */
    /* A repeat updates, never duplicates. */
    x.summary = "pc-w02 refused";
    assert_int_equal(alerting_raise_external(f.al, &x, 1001, 6), 0);
    assert_int_equal(published, 2);
    assert_int_equal(alerting_active_count(f.al), 1);
    assert_string_equal(alerting_find(f.al, "h1", "poweroff-failed:pc-w02")->summary,
                        "pc-w02 refused");
    /* A reload does not take it for an orphan of a removed rule. */
    alerting_set_config(f.al, f.c, NULL, 1002);
    assert_non_null(alerting_find(f.al, "h1", "poweroff-failed:pc-w02"));
    /* Seen off: resolved by itself. */
    assert_int_equal(
        alerting_resolve_external(f.al, "h1", "poweroff-failed:pc-w02", "seen off", 1003), 0);
    assert_null(alerting_find(f.al, "h1", "poweroff-failed:pc-w02"));
    assert_int_equal(alerting_resolve_external(f.al, "h1", "poweroff-failed:pc-w02", "x", 1004),
                     -ENOENT);
    /* Or by a person with a handling note. */
    assert_int_equal(alerting_raise_external(f.al, &x, 1005, 7), 0);
    assert_int_equal(alerting_ack(f.al, "h1", "poweroff-failed:pc-w02", "王工",
                                  "switched off by hand", true, 1006),
                     0);
    assert_null(alerting_find(f.al, "h1", "poweroff-failed:pc-w02"));
    x.rule = "co2-high";
    assert_int_equal(alerting_raise_external(f.al, &x, 1007, 8), -EINVAL);
    assert_true(alerting_external_rule("poweroff-failed"));
    assert_false(alerting_external_rule("av-scan"));
    alerting_down(&f);
}

static struct hm_device *pc_with_scan(struct alerting_fixture *f, const char *id, double last_scan,
                                      wall_s wall, mono_ms now)
{
    static struct reading rd;
    struct route rt = {.format = FORMAT_NATIVE, .hall = "h1"};
    enum hm_resolve why;
    snprintf(rt.device, sizeof(rt.device), "%s", id);
    struct hm_device *d = hallmodel_resolve(f->hm, &rt, &why);
    assert_non_null(d);
    reading_reset(&rd, MSG_TELEMETRY);
    assert_int_equal(reading_add_number(&rd, "av_last_scan", last_scan), 0);
    hallmodel_update(f->hm, d, &rd, now, wall);
    alerting_on_reading(f->al, d, &rd, wall, now);
    return d;
}

static void test_a_held_alert_stays_pending_until_the_hold_ends(void **state)
{
    (void)state;
    struct alerting_fixture f;
    wall_s wall = FRI_1730;
    alerting_up(&f);
    assert_int_equal(alerting_hold(f.al, "h1", "av-scan:pc-w01", wall + 100), 0);
    pc_with_scan(&f, "pc-w01", wall - 10 * 86400, wall, S(1));
    const struct alert *a = alerting_find(f.al, "h1", "av-scan:pc-w01");
    assert_non_null(a);
    assert_int_equal(a->state, ALERT_PENDING);
    /* Without a hold it fires at once. */
    pc_with_scan(&f, "pc-w02", wall - 10 * 86400, wall, S(1));
    assert_int_equal(alerting_find(f.al, "h1", "av-scan:pc-w02")->state, ALERT_FIRING);
    alerting_tick(f.al, wall + 99, S(100));
    assert_int_equal(alerting_find(f.al, "h1", "av-scan:pc-w01")->state, ALERT_PENDING);
    alerting_tick(f.al, wall + 100, S(101));
    assert_int_equal(alerting_find(f.al, "h1", "av-scan:pc-w01")->state, ALERT_FIRING);
    /* A hold does not silence an alert already firing. */
    alerting_hold(f.al, "h1", "av-scan:pc-w02", wall + 1000);
    alerting_tick(f.al, wall + 101, S(102));
    assert_int_equal(alerting_find(f.al, "h1", "av-scan:pc-w02")->state, ALERT_FIRING);
    /* The scan finished while held: quietly cancelled. */
    alerting_hold(f.al, "h1", "av-scan:pc-w03", wall + 1000);
    pc_with_scan(&f, "pc-w03", wall - 10 * 86400, wall, S(1));
    pc_with_scan(&f, "pc-w03", wall, wall + 5, S(6));
    assert_null(alerting_find(f.al, "h1", "av-scan:pc-w03"));
    alerting_down(&f);
}

/* ---- the store ---- */

static char db_path[256];

static struct store *open_db(void)
{
    struct store *st = NULL;
    const char *why = NULL;
    if (store_open(db_path, false, &st, &why) < 0)
        fail_msg("store_open: %s", why);
    return st;
}

static void test_store_overrides_are_logged_replaced_removed_and_expire(void **state)
{
    (void)state;
    unlink(db_path);
    struct store *st = open_db();
    struct record_override o = {
        .device = "pc-w03", .until = 2000, .reason = "加班", .by = "王工", .created = 1000};
    struct record_override *v;
    struct record_override_event *e;
    size_t n;
    assert_int_equal(store_override_set(st, &o), 0);
    o.until = 3000;
    o.created = 1100;
    assert_int_equal(store_override_set(st, &o), 0); /* replaces */
    struct record_override p = {
        .device = "plug-w01", .until = 1500, .reason = "router", .by = "it", .created = 1200};
    assert_int_equal(store_override_set(st, &p), 0);
    assert_int_equal(store_overrides(st, 1300, &v, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(v[0].device, "pc-w03");
    assert_true(v[0].until == 3000);
    assert_string_equal(v[0].reason, "加班");
    free(v);
    /* Read-only handles see it too (the HTTP API, the CLI). */
    struct store *ro = NULL;
    assert_int_equal(store_open(db_path, true, &ro, NULL), 0);
    assert_int_equal(store_overrides(ro, 1600, &v, &n), 0);
    assert_int_equal(n, 1); /* plug-w01 ran out at 1500 */
    free(v);
    assert_int_equal(store_override_set(ro, &o), -EROFS);
    store_close(ro);
    /* Expiry deletes and logs at its until. */
    assert_int_equal(store_overrides_expire(st, 1600, &v, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(v[0].device, "plug-w01");
    free(v);
    assert_int_equal(store_overrides_expire(st, 1600, &v, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(store_override_remove(st, "pc-w03", "李", 1700, &o), 0);
    assert_true(o.until == 3000);
    assert_int_equal(store_override_remove(st, "pc-w03", "李", 1700, NULL), -ENOENT);
    assert_int_equal(store_override_log(st, 0, 0, &e, &n), 0);
    assert_int_equal(n, 5);
    const char *actions[] = {"add", "add", "add", "expire", "remove"};
    for (size_t i = 0; i < n; i++)
        assert_string_equal(e[i].action, actions[i]);
    assert_true(e[3].at == 1500);
    assert_string_equal(e[4].by, "李");
    free(e);
    store_close(st);
}

static void test_store_poweroff_log_by_date_and_hall(void **state)
{
    (void)state;
    unlink(db_path);
    struct store *st = open_db();
    struct record_poweroff_step s = {.date = "2026-11-20",
                                     .at = 100,
                                     .hall = "h1",
                                     .window = "w01",
                                     .device = "pc-w01",
                                     .kind = "pc",
                                     .step = "command",
                                     .ok = true,
                                     .detail = "poweroff po-1"};
    assert_int_equal(store_poweroff_add(st, &s), 0);
    snprintf(s.step, sizeof(s.step), "failure");
    s.ok = false;
    s.at = 200;
    assert_int_equal(store_poweroff_add(st, &s), 0);
    snprintf(s.date, sizeof(s.date), "2026-11-21");
    snprintf(s.hall, sizeof(s.hall), "h2");
    assert_int_equal(store_poweroff_add(st, &s), 0);
    struct record_poweroff_step *v;
    size_t n;
    assert_int_equal(store_poweroff_log(st, "2026-11-20", NULL, 0, 0, &v, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(v[0].step, "command");
    assert_true(v[0].ok);
    assert_string_equal(v[1].step, "failure");
    assert_false(v[1].ok);
    free(v);
    assert_int_equal(store_poweroff_log(st, NULL, "h2", 0, 0, &v, &n), 0);
    assert_int_equal(n, 1);
    free(v);
    assert_int_equal(store_poweroff_log(st, NULL, NULL, 150, 0, &v, &n), 0);
    assert_int_equal(n, 2);
    free(v);
    store_close(st);
}

static void test_store_migrates_a_version_1_database_keeping_its_data(void **state)
{
    (void)state;
    sqlite3 *db;
    unlink(db_path);
    assert_int_equal(sqlite3_open(db_path, &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(db,
                     "CREATE TABLE baselines (device TEXT NOT NULL, metric TEXT NOT "
                     "NULL, value TEXT NOT NULL, approved_by TEXT NOT NULL, at REAL "
                     "NOT NULL, PRIMARY KEY (device, metric));"
                     "INSERT INTO baselines VALUES ('pc-w01', 'net_fp', 'abc', 'x', 1);"
                     "PRAGMA user_version = 1;",
                     NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
    struct store *st = open_db();
    char value[32];
    assert_int_equal(store_baseline_get(st, "pc-w01", "net_fp", value, sizeof(value)), 0);
    assert_string_equal(value, "abc");
    struct record_override o = {.device = "pc-w01", .until = 10, .reason = "r", .by = "b"};
    assert_int_equal(store_override_set(st, &o), 0);
    store_close(st);
}

static int setup(void **state)
{
    (void)state;
    const char *tmp = getenv("TMPDIR");
    char dir[200];
    snprintf(dir, sizeof(dir), "%s/hallgw-test-enforce-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir))
        return -1;
    snprintf(key_path, sizeof(key_path), "%s/command.key", dir);
    snprintf(conf_file, sizeof(conf_file), "%s/hallgw.conf", dir);
    snprintf(db_path, sizeof(db_path), "%s/hallgw.db", dir);
    FILE *f = fopen(key_path, "w");
    if (!f)
        return -1;
    fputs("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n", f);
    fclose(f);
    if (chmod(key_path, 0600) < 0) /* a secret file: group and others kept out */
        return -1;
    setenv("TZ", "UTC", 1);
    tzset();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char dir[300];
    unlink(key_path);
    unlink(conf_file);
    unlink(db_path);
    snprintf(dir, sizeof(dir), "%s-wal", db_path);
    unlink(dir);
    snprintf(dir, sizeof(dir), "%s-shm", db_path);
    unlink(dir);
    snprintf(dir, sizeof(dir), "%s", key_path);
    *strrchr(dir, '/') = '\0';
    rmdir(dir);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plan_orders_pcs_then_plugs_each_plug_linked_to_its_window_pc),
        cmocka_unit_test(test_plan_skips_exempt_globs),
        cmocka_unit_test(test_plan_skips_active_overrides_and_ignores_expired_ones),
        cmocka_unit_test(test_plan_pc_already_offline_is_off_and_its_plug_is_ready),
        cmocka_unit_test(test_dry_run_plans_everything_and_sends_nothing),
        cmocka_unit_test(test_without_plugs_after_pcs_no_plug_is_touched),
        cmocka_unit_test(test_poweron_plans_plugs_only),
        cmocka_unit_test(test_pc_accepted_then_done_then_offline_is_verified_off),
        cmocka_unit_test(test_pc_refusal_is_a_failure_for_it),
        cmocka_unit_test(test_pc_without_a_reply_fails_at_the_deadline),
        cmocka_unit_test(test_pc_still_on_after_verify_within_fails_and_resolves_when_seen_off),
        cmocka_unit_test(test_pc_silent_two_minutes_after_done_is_off),
        cmocka_unit_test(test_pc_back_on_before_its_plug_is_cut),
        cmocka_unit_test(test_plug_waits_for_its_pc_and_plug_delay_then_sends),
        cmocka_unit_test(test_plug_is_never_cut_while_its_pc_is_on),
        cmocka_unit_test(test_plug_still_on_after_verify_within_fails),
        cmocka_unit_test(test_plug_commands_per_format),
        cmocka_unit_test(test_shelly_commands_by_generation_and_channel),
        cmocka_unit_test(test_off_period_runs_from_poweroff_at_to_the_next_wake_up),
        cmocka_unit_test(test_closed_hall_pc_is_due_after_closed_grace),
        cmocka_unit_test(test_closed_hall_attempt_restarts_a_pc_and_rearms_its_plug),
        cmocka_unit_test(test_scans_at_the_break_or_before_poweroff),
        cmocka_unit_test(test_override_until_parses_times_dates_and_unix_seconds),
        cmocka_unit_test(test_override_is_for_configured_pcs_and_plugs),
        cmocka_unit_test(test_external_alert_fires_once_resolves_by_itself_or_by_hand),
        cmocka_unit_test(test_a_held_alert_stays_pending_until_the_hold_ends),
        cmocka_unit_test(test_store_overrides_are_logged_replaced_removed_and_expire),
        cmocka_unit_test(test_store_poweroff_log_by_date_and_hall),
        cmocka_unit_test(test_store_migrates_a_version_1_database_keeping_its_data),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
