/* The configuration's enforcement blocks, "poweroff" and "scans": values,
 * defaults, and every broken value or missing dependency (the command key,
 * schedule.poweroff_at, breaks) reported as FILE:LINE: key: message. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

#define MIN_MS (60 * 1000LL)

static char dir[200], key_path[256], conf_file[256];

/* The config text: MQTT (with or without the key) + rest. */
static int load_text(const char *rest, bool key, struct config **c, struct conf_errors *e)
{
    FILE *f = fopen(conf_file, "w");
    assert_non_null(f);
    if (key)
        fprintf(f, "mqtt = { uri = \"tcp://127.0.0.1:1883\"; command_key_file = \"%s\"; };\n",
                key_path);
    else
        fprintf(f, "mqtt = { uri = \"tcp://127.0.0.1:1883\"; };\n");
    fputs(rest, f);
    fclose(f);
    return config_load(conf_file, c, e);
}

static struct config *load_ok(const char *rest)
{
    struct config *c = NULL;
    struct conf_errors e;
    if (load_text(rest, true, &c, &e) < 0) {
        conf_errors_print(&e, stderr);
        fail_msg("refused: %s", rest);
    }
    return c;
}

/* Must fail with exactly one error: line, key, a part of the message. */
static void expect_error(const char *rest, bool key, int line, const char *want_key,
                         const char *msg)
{
    struct config *c = NULL;
    struct conf_errors e;
    int rc = load_text(rest, key, &c, &e);
    if (rc != -EINVAL || e.n != 1 || e.v[0].line != line || strcmp(e.v[0].key, want_key) != 0 ||
        !strstr(e.v[0].msg, msg)) {
        conf_errors_print(&e, stderr);
        fail_msg("want one error %d: %s: ...%s... for:\n%s", line, want_key, msg, rest);
    }
    conf_errors_free(&e);
}

#define SCHED "schedule = { poweroff_at = \"17:30\"; poweron_at = \"08:30\"; };\n"
#define SCHED_BREAK                                                                                \
    "schedule = { poweroff_at = \"17:30\"; breaks = ( { from = \"12:00\"; to = \"13:00\"; } ); "   \
    "};\n"

static void test_blocks_absent_leave_enforcement_off(void **state)
{
    (void)state;
    struct config *c = NULL;
    struct conf_errors e;
    assert_int_equal(load_text("", false, &c, &e), 0);
    assert_false(c->poweroff.enabled);
    assert_false(c->scans.enabled);
    assert_int_equal(c->poweroff.n_exempt, 0);
    config_free(c);
}

static void test_poweroff_block_values_and_defaults(void **state)
{
    (void)state;
    struct config *c = load_ok(SCHED "poweroff = { enabled = true; grace = \"5m\"; "
                                     "verify_within = \"15m\"; plugs_after_pcs = true; "
                                     "exempt = [\"server-*\", \"kiosk-?\"]; dry_run = false; "
                                     "closed_grace = \"10m\"; };\n");
    assert_true(c->poweroff.enabled);
    assert_int_equal(c->poweroff.grace_ms, 5 * MIN_MS);
    assert_int_equal(c->poweroff.verify_within_ms, 15 * MIN_MS);
    assert_int_equal(c->poweroff.closed_grace_ms, 10 * MIN_MS);
    assert_int_equal(c->poweroff.plug_delay_ms, MIN_MS);
    assert_true(c->poweroff.plugs_after_pcs);
    assert_false(c->poweroff.dry_run);
    assert_int_equal(c->poweroff.n_exempt, 2);
    assert_string_equal(c->poweroff.exempt[0], "server-*");
    assert_string_equal(c->poweroff.exempt[1], "kiosk-?");
    config_free(c);

    c = load_ok(SCHED "poweroff = { grace = \"30s\"; verify_within = \"2m\"; dry_run = true; "
                      "plugs_after_pcs = false; plug_delay = \"0s\"; exempt = \"srv-1\"; };\n");
    assert_true(c->poweroff.enabled); /* present: on */
    assert_int_equal(c->poweroff.grace_ms, 30000);
    assert_int_equal(c->poweroff.closed_grace_ms, 10 * MIN_MS);
    assert_int_equal(c->poweroff.plug_delay_ms, 0);
    assert_true(c->poweroff.dry_run);
    assert_false(c->poweroff.plugs_after_pcs);
    assert_int_equal(c->poweroff.n_exempt, 1);
    config_free(c);

    /* Turned off, it needs nothing. */
    struct conf_errors e;
    assert_int_equal(load_text("poweroff = { enabled = false; };\n", false, &c, &e), 0);
    assert_false(c->poweroff.enabled);
    config_free(c);
}

static void test_poweroff_needs_the_command_key(void **state)
{
    (void)state;
    expect_error(SCHED "poweroff = { grace = \"5m\"; };\n", false, 1, "mqtt.command_key_file",
                 "required when poweroff is enabled (it signs the power-off commands)");
}

static void test_poweroff_needs_poweroff_at(void **state)
{
    (void)state;
    expect_error("schedule = { open = \"09:00\"; };\npoweroff = { };\n", true, 2,
                 "schedule.poweroff_at", "required by poweroff");
    expect_error("poweroff = { };\n", true, 2, "poweroff", "poweroff needs schedule.poweroff_at");
}

static void test_poweroff_bad_values(void **state)
{
    (void)state;
    expect_error(SCHED "poweroff = { grace = \"5m\"; verify_within = \"5m\"; };\n", true, 3,
                 "poweroff.verify_within", "must be longer than grace (300s)");
    expect_error(SCHED "poweroff = { grace = \"20m\"; };\n", true, 3, "poweroff.grace",
                 "verify_within (900s) must be longer than grace (1200s)");
    expect_error(SCHED "poweroff = { verify_within = \"2d\"; };\n", true, 3,
                 "poweroff.verify_within", "must be between");
    expect_error(SCHED "poweroff = { exempt = [\"server *\"]; };\n", true, 3, "poweroff.exempt[0]",
                 "is not a pattern of device ids");
    expect_error(SCHED "poweroff = { exempt = [\"a\", \"a\"]; };\n", true, 3, "poweroff.exempt[1]",
                 "already in the list");
    expect_error(SCHED "poweroff = { grace = 300; };\n", true, 3, "poweroff.grace",
                 "expected a duration");
    expect_error(SCHED "poweroff = { dryrun = true; };\n", true, 3, "poweroff.dryrun",
                 "unknown key");
    expect_error(SCHED "poweroff = \"on\";\n", true, 3, "poweroff", "expected a group");
}

static void test_scans_block_values_and_dependencies(void **state)
{
    (void)state;
    struct config *c = load_ok(SCHED_BREAK "scans = { when = \"break\"; type = \"quick\"; };\n");
    assert_true(c->scans.enabled);
    assert_int_equal(c->scans.when, SCANS_BREAK);
    assert_int_equal(c->scans.type, SCANS_QUICK);
    assert_int_equal(c->scans.still_overdue_after_ms, 120 * MIN_MS);
    assert_string_equal(config_scans_when_name(c->scans.when), "break");
    config_free(c);
    c = load_ok(SCHED "scans = { when = \"before_poweroff\"; type = \"full\"; "
                      "before_poweroff = \"45m\"; still_overdue_after = \"3h\"; };\n");
    assert_int_equal(c->scans.when, SCANS_BEFORE_POWEROFF);
    assert_int_equal(c->scans.type, SCANS_FULL);
    assert_int_equal(c->scans.before_poweroff_ms, 45 * MIN_MS);
    assert_int_equal(c->scans.still_overdue_after_ms, 180 * MIN_MS);
    assert_string_equal(config_scans_type_name(c->scans.type), "full");
    config_free(c);

    expect_error(SCHED "scans = { when = \"break\"; };\n", true, 3, "scans.when",
                 "\"break\" needs schedule.breaks");
    expect_error(SCHED "scans = { type = \"quick\"; };\n", true, 3, "scans.when",
                 "defaults to \"break\"");
    expect_error("scans = { when = \"before_poweroff\"; };\n", true, 2, "scans",
                 "needs schedule.poweroff_at");
    expect_error(SCHED_BREAK "scans = { before_poweroff = \"10m\"; };\n", true, 3,
                 "scans.before_poweroff", "only used with when = \"before_poweroff\"");
    expect_error(SCHED_BREAK "scans = { type = \"deep\"; };\n", true, 3, "scans.type", "deep");
    expect_error(SCHED_BREAK "scans = { };\n", false, 1, "mqtt.command_key_file",
                 "required when scans is enabled (it signs the scan commands)");
}

static void test_enforcement_alert_names_are_reserved(void **state)
{
    (void)state;
    expect_error("rules = ( { name = \"poweroff-failed\"; type = \"event\"; event = \"x\"; } );\n",
                 true, 2, "rules[0].name", "reserved for the alerts of power-off enforcement");
}

static int setup(void **state)
{
    (void)state;
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof(dir), "%s/hallgw-test-config-enforce-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir))
        return -1;
    snprintf(key_path, sizeof(key_path), "%s/command.key", dir);
    snprintf(conf_file, sizeof(conf_file), "%s/hallgw.conf", dir);
    FILE *f = fopen(key_path, "w");
    if (!f)
        return -1;
    fputs("a shared secret of more than sixteen bytes\n", f);
    fclose(f);
    return chmod(key_path, 0600); /* a secret file: group and others kept out */
}

static int teardown(void **state)
{
    (void)state;
    unlink(key_path);
    unlink(conf_file);
    rmdir(dir);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_blocks_absent_leave_enforcement_off),
        cmocka_unit_test(test_poweroff_block_values_and_defaults),
        cmocka_unit_test(test_poweroff_needs_the_command_key),
        cmocka_unit_test(test_poweroff_needs_poweroff_at),
        cmocka_unit_test(test_poweroff_bad_values),
        cmocka_unit_test(test_scans_block_values_and_dependencies),
        cmocka_unit_test(test_enforcement_alert_names_are_reserved),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
