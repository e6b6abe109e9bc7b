/* hallgw-agent's command handling (sensors/agent/agent_cmd.c) without a
 * broker: signed commands go in as inbox messages, the replies the agent
 * would publish are caught by the agent_publish() below (the agent's own,
 * in agent.c, is not part of the library). Runs as a dry run: no program
 * is started. */
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

#include "agent.h"
#include "mqtt.h"

#define REPLIES_MAX 8

static char replies[REPLIES_MAX][AGENT_PAYLOAD_MAX];
static size_t n_replies;

void agent_publish(struct agent *a, const char *topic, const char *payload, bool retained)
{
    assert_string_equal(topic, a->t_reply);
    assert_false(retained);
    assert_true(n_replies < REPLIES_MAX);
    snprintf(replies[n_replies++], sizeof(replies[0]), "%s", payload);
}

void agent_event(struct agent *a, const char *payload)
{
    (void)a;
    (void)payload;
}

void agent_save_state(struct agent *a)
{
    (void)a;
}

static uint8_t key[] = "hallgw-test-key-0123456789abcdef";
static char dir[256], nonces[300];
static struct agentconf cfg;
static struct agent agent;

/* A signed notify command with a fresh nonce, as the gateway sends it. */
static char *notify_command(const char *id)
{
    struct cmdsign_cmd cmd = {0};
    char *json = NULL;

    snprintf(cmd.id, sizeof(cmd.id), "%s", id);
    snprintf(cmd.action, sizeof(cmd.action), "notify");
    snprintf(cmd.hall, sizeof(cmd.hall), "h1");
    snprintf(cmd.device, sizeof(cmd.device), "pc-w01");
    cmd.issued = wall_whole(clock_wall());
    cmd.expires = cmd.issued + 300;
    assert_int_equal(cmdsign_arg_str(&cmd, "message", "please save your work"), 0);
    assert_int_equal(cmdsign_build(key, sizeof(key) - 1, &cmd, &json), 0);
    return json;
}

/* Hands payload to the agent; returns the replies it published. */
static size_t handle(const char *payload)
{
    struct mqtt_msg m = {.topic = agent.t_cmd,
                         .topic_len = strlen(agent.t_cmd),
                         .payload = (char *)payload,
                         .payload_len = strlen(payload),
                         .qos = 1};

    n_replies = 0;
    agent_cmd_handle(&agent, &m);
    return n_replies;
}

/* The result and detail of reply i. */
static void reply_is(size_t i, const char *id, const char *result, const char *detail_part)
{
    char *r = replies[i];

    assert_true(i < n_replies);
    if (!strstr(r, id) || !strstr(r, result) || !strstr(r, detail_part))
        fail_msg("reply %zu: want %s %s ...%s..., got %s", i, id, result, detail_part, r);
}

static int setup(void **state)
{
    const char *tmp = getenv("TMPDIR");
    (void)state;

    snprintf(dir, sizeof(dir), "%s/hallgw-test-agent-cmd-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir))
        return -1;
    snprintf(nonces, sizeof(nonces), "%s/nonces", dir);
    cfg = (struct agentconf){.hall = "h1",
                             .device = "pc-w01",
                             .command_key = key,
                             .command_key_len = sizeof(key) - 1,
                             .state_dir = dir};
    agent = (struct agent){
        .cfg = &cfg, .dry_run = true, .state_ok = true, .rl_cmd = LOG_RATELIMIT_INIT(60000, 10)};
    snprintf(agent.t_cmd, sizeof(agent.t_cmd), "hall/h1/pc-w01/cmd");
    snprintf(agent.t_reply, sizeof(agent.t_reply), "hall/h1/pc-w01/cmd/reply");
    agent.replay = cmdsign_replay_new(AGENT_REPLAY_CAPACITY);
    return agent.replay ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    cmdsign_replay_free(agent.replay);
    rmdir(nonces); /* the test's stand-in for a store that cannot be written */
    unlink(nonces);
    rmdir(dir);
    return 0;
}

static void test_accepted_command_nonce_is_saved_first(void **state)
{
    char *cmd = notify_command("c-1");
    const char *nonce;
    FILE *f;
    char line[256];
    (void)state;

    assert_int_equal(handle(cmd), 2);
    reply_is(0, "c-1", "accepted", "dry run");
    reply_is(1, "c-1", "done", "dry run");
    nonce = strstr(cmd, "\"nonce\":\"");
    assert_non_null(nonce);
    f = fopen(nonces, "r");
    assert_non_null(f);
    assert_non_null(fgets(line, sizeof(line), f));
    fclose(f);
    assert_memory_equal(line, nonce + 9, 32); /* "<nonce> <expires>" */
    free(cmd);
}

/* The store of nonces cannot be written (here: its path is a directory,
 * which stops root too): a correctly signed command is refused, saying why,
 * and does not run; once the store can be written commands are accepted,
 * the refused one too (its nonce was not kept: it never ran). */
static void test_command_is_refused_while_the_nonces_cannot_be_saved(void **state)
{
    char *first = notify_command("c-2"), *second = notify_command("c-3");
    (void)state;

    assert_int_equal(mkdir(nonces, 0700), 0);
    assert_int_equal(handle(first), 1);
    reply_is(0, "c-2", "refused", "no replay protection: cannot save");
    reply_is(0, "c-2", "refused", nonces);
    reply_is(0, "c-2", "refused", "Is a directory");
    assert_int_equal(cmdsign_replay_count(agent.replay), 0);

    assert_int_equal(handle(second), 1); /* refused again while it lasts */
    reply_is(0, "c-3", "refused", "no replay protection");

    assert_int_equal(rmdir(nonces), 0);
    assert_int_equal(handle(second), 2);
    reply_is(0, "c-3", "accepted", "dry run");
    assert_int_equal(handle(first), 2);
    reply_is(0, "c-2", "accepted", "dry run");
    assert_int_equal(handle(first), 1); /* and now it is a replay */
    reply_is(0, "c-2", "refused", "replayed");
    free(first);
    free(second);
}

/* A state directory that was never usable (state_ok false at start) is no
 * excuse either. */
static void test_command_is_refused_when_the_state_directory_is_missing(void **state)
{
    char *cmd = notify_command("c-4");
    char missing[300];
    (void)state;

    snprintf(missing, sizeof(missing), "%s/missing", dir);
    cfg.state_dir = missing;
    agent.state_ok = false;
    assert_int_equal(handle(cmd), 1);
    reply_is(0, "c-4", "refused", "No such file or directory");
    cfg.state_dir = dir;
    assert_int_equal(handle(cmd), 2);
    reply_is(0, "c-4", "accepted", "dry run");
    free(cmd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_accepted_command_nonce_is_saved_first, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_command_is_refused_while_the_nonces_cannot_be_saved,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_command_is_refused_when_the_state_directory_is_missing,
                                        setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
