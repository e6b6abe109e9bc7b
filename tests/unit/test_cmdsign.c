/* Signed commands: the canonical string, signing, every refusal, key files
 * and the replay cache. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cmdsign.h"

/* The worked example of docs/agents.md. */
#define EX_KEY "hallgw-example-key-0123456789abcdef"
#define EX_SIG "cf841e1b95ab87d8da808d68492a6d26f6a8cf53ac131c49e7be07203f5bcf11"
#define EX_NOW 1767261700
#define EX_CMD(sig)                                                                                \
    "{\"id\":\"c-42\",\"action\":\"poweroff\",\"hall\":\"h1\",\"device\":\"pc-w01\","              \
    "\"issued\":1767261600,\"expires\":1767262200,"                                                \
    "\"nonce\":\"6f1d0c2b9a8e7d6c5b4a39281706f5e4\","                                              \
    "\"args\":{\"reason\":\"after-hours\",\"grace_s\":300},\"sig\":\"" sig "\"}"

static const uint8_t *ex_key(size_t *len)
{
    *len = strlen(EX_KEY);
    return (const uint8_t *)EX_KEY;
}

static int verify_at(const char *payload, int64_t now, struct cmdsign_cmd *out, const char **why)
{
    size_t kl;
    const uint8_t *k = ex_key(&kl);
    return cmdsign_verify(k, kl, payload, strlen(payload), now, "h1", "pc-w01", out, why);
}

static void example_cmd(struct cmdsign_cmd *c)
{
    memset(c, 0, sizeof(*c));
    strcpy(c->id, "c-42");
    strcpy(c->action, "poweroff");
    strcpy(c->hall, "h1");
    strcpy(c->device, "pc-w01");
    c->issued = 1767261600;
    c->expires = 1767262200;
    strcpy(c->nonce, "6f1d0c2b9a8e7d6c5b4a39281706f5e4");
    assert_int_equal(cmdsign_arg_int(c, "grace_s", 300), 0);
    assert_int_equal(cmdsign_arg_str(c, "reason", "after-hours"), 0);
}

static void test_canonical_string_sorts_args_and_has_no_trailing_newline(void **state)
{
    struct cmdsign_cmd c;
    (void)state;

    example_cmd(&c);
    char *s = cmdsign_canonical(&c);
    assert_non_null(s);
    assert_string_equal(s, "v1\nc-42\npoweroff\nh1\npc-w01\n1767261600\n1767262200\n"
                           "6f1d0c2b9a8e7d6c5b4a39281706f5e4\ngrace_s=300\nreason=after-hours");
    free(s);
    c.n_args = 0;
    s = cmdsign_canonical(&c);
    assert_string_equal(s, "v1\nc-42\npoweroff\nh1\npc-w01\n1767261600\n1767262200\n"
                           "6f1d0c2b9a8e7d6c5b4a39281706f5e4\n");
    free(s);
}

static void test_worked_example_verifies(void **state)
{
    struct cmdsign_cmd c;
    const char *why;
    (void)state;

    assert_int_equal(verify_at(EX_CMD(EX_SIG), EX_NOW, &c, &why), 0);
    assert_string_equal(c.id, "c-42");
    assert_int_equal(c.action_code, CMDSIGN_ACTION_POWEROFF);
    assert_int_equal(c.issued, 1767261600);
    assert_int_equal(c.expires, 1767262200);
    assert_int_equal(c.n_args, 2);
    const struct cmdsign_arg *g = cmdsign_arg_get(&c, "grace_s");
    assert_non_null(g);
    assert_int_equal(g->type, CMDSIGN_ARG_INT);
    assert_int_equal(g->num, 300);
    assert_string_equal(cmdsign_arg_get(&c, "reason")->value, "after-hours");
    assert_null(cmdsign_arg_get(&c, "type"));
    /* The signature's hex digits may be upper case. */
    char upper[] = EX_SIG;
    for (char *p = upper; *p; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 'a' + 'A');
    char payload[1024];
    snprintf(payload, sizeof(payload), EX_CMD("%s"), upper);
    assert_int_equal(verify_at(payload, EX_NOW, &c, &why), 0);
}

static void test_build_signs_the_worked_example_and_round_trips(void **state)
{
    struct cmdsign_cmd c, back;
    const char *why;
    char *json;
    size_t kl;
    const uint8_t *k = ex_key(&kl);
    (void)state;

    example_cmd(&c);
    assert_int_equal(cmdsign_build(k, kl, &c, &json), 0);
    assert_non_null(strstr(json, "\"sig\":\"" EX_SIG "\""));
    assert_int_equal(verify_at(json, EX_NOW, &back, &why), 0);
    assert_string_equal(back.nonce, c.nonce);
    free(json);

    /* A fresh random nonce each time, and strings that need escaping. */
    example_cmd(&c);
    c.nonce[0] = '\0';
    c.n_args = 0;
    strcpy(c.action, "notify");
    assert_int_equal(cmdsign_arg_str(&c, "message", "请保存工作 \"now\" \\ ok"), 0);
    assert_int_equal(cmdsign_arg_bool(&c, "urgent", true), 0);
    assert_int_equal(cmdsign_build(k, kl, &c, &json), 0);
    assert_int_equal(strlen(c.nonce), 32);
    assert_int_equal(verify_at(json, EX_NOW, &back, &why), 0);
    assert_int_equal(back.action_code, CMDSIGN_ACTION_NOTIFY);
    assert_string_equal(cmdsign_arg_get(&back, "message")->value, "请保存工作 \"now\" \\ ok");
    assert_int_equal(cmdsign_arg_get(&back, "urgent")->type, CMDSIGN_ARG_BOOL);
    assert_string_equal(cmdsign_arg_get(&back, "urgent")->value, "true");
    char nonce1[CMDSIGN_NONCE_MAX + 1];
    strcpy(nonce1, c.nonce);
    free(json);
    c.nonce[0] = '\0';
    assert_int_equal(cmdsign_build(k, kl, &c, &json), 0);
    assert_string_not_equal(nonce1, c.nonce);
    free(json);
}

static void test_build_refuses_what_would_not_verify(void **state)
{
    struct cmdsign_cmd c;
    char *json = (char *)"x";
    size_t kl;
    const uint8_t *k = ex_key(&kl);
    (void)state;

    example_cmd(&c);
    assert_int_equal(cmdsign_arg_str(&c, "message", "two\nlines"), -EINVAL);
    assert_int_equal(cmdsign_arg_str(&c, "Message", "x"), -EINVAL);
    assert_int_equal(cmdsign_arg_int(&c, "grace_s", 1), -EINVAL); /* duplicate */
    for (int i = 0; i < CMDSIGN_MAX_ARGS - 2; i++) {
        char key[8];
        snprintf(key, sizeof(key), "k%d", i);
        assert_int_equal(cmdsign_arg_int(&c, key, i), 0);
    }
    assert_int_equal(cmdsign_arg_int(&c, "one_more", 1), -E2BIG);

    example_cmd(&c);
    strcpy(c.device, "pc w01");
    assert_int_equal(cmdsign_build(k, kl, &c, &json), -EINVAL);
    assert_null(json);
    example_cmd(&c);
    c.expires = c.issued;
    assert_int_equal(cmdsign_build(k, kl, &c, &json), -EINVAL);
    example_cmd(&c);
    c.expires = c.issued + CMDSIGN_MAX_LIFETIME_S + 1;
    assert_int_equal(cmdsign_build(k, kl, &c, &json), -EINVAL);
    example_cmd(&c);
    strcpy(c.nonce, "abc123");
    assert_int_equal(cmdsign_build(k, kl, &c, &json), -EINVAL);
    example_cmd(&c);
    assert_int_equal(cmdsign_build(k, 8, &c, &json), -EINVAL);
}

/* Each tampered member, with the original signature. */
static void test_tampered_fields_are_bad_signatures(void **state)
{
    static const struct {
        const char *from, *to;
    } edits[] = {
        {"\"c-42\"", "\"c-43\""},
        {"\"poweroff\"", "\"scan\""},
        {"1767261600", "1767261601"},
        {"1767262200", "1767262300"},
        {"6f1d0c2b9a8e7d6c", "6f1d0c2b9a8e7d6d"},
        {"\"grace_s\":300", "\"grace_s\":0"},
        {"\"after-hours\"", "\"overtime\""},
        {",\"grace_s\":300", ""},                       /* an argument removed */
        {"\"grace_s\":300", "\"grace_s\":300,\"x\":1"}, /* one added */
        {"\"grace_s\":300", "\"grace_s\":\"300\""},     /* same text: type is not signed */
    };
    (void)state;

    for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
        const char *orig = EX_CMD(EX_SIG);
        const char *at = strstr(orig, edits[i].from);
        char buf[1024];
        struct cmdsign_cmd c;
        const char *why;

        assert_non_null(at);
        snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(at - orig), orig, edits[i].to,
                 at + strlen(edits[i].from));
        int rc = verify_at(buf, EX_NOW, &c, &why);
        if (i == sizeof(edits) / sizeof(edits[0]) - 1) {
            /* "300" and 300 have the same canonical text: accepted, as a string. */
            assert_int_equal(rc, 0);
            assert_int_equal(cmdsign_arg_get(&c, "grace_s")->type, CMDSIGN_ARG_STR);
            continue;
        }
        if (rc != CMDSIGN_E_BAD_SIG)
            fail_msg("edit %zu (%s -> %s): got %d (%s), want bad signature", i, edits[i].from,
                     edits[i].to, rc, why);
        assert_string_equal(why, "bad signature");
    }
}

static void test_hall_or_device_changed_is_a_bad_signature(void **state)
{
    struct cmdsign_cmd c;
    const char *why;
    size_t kl;
    const uint8_t *k = ex_key(&kl);
    const char *p = EX_CMD(EX_SIG);
    (void)state;

    /* Re-addressed to pc-w02 (where the agent expects pc-w02): the signature breaks. */
    char buf[1024];
    snprintf(buf, sizeof(buf), "%s", p);
    memcpy(strstr(buf, "pc-w01"), "pc-w02", 6);
    assert_int_equal(cmdsign_verify(k, kl, buf, strlen(buf), EX_NOW, "h1", "pc-w02", &c, &why),
                     CMDSIGN_E_BAD_SIG);
}

static void test_correctly_signed_for_another_device_is_wrong_device(void **state)
{
    struct cmdsign_cmd c;
    const char *why;
    size_t kl;
    const uint8_t *k = ex_key(&kl);
    const char *p = EX_CMD(EX_SIG);
    (void)state;

    assert_int_equal(cmdsign_verify(k, kl, p, strlen(p), EX_NOW, "h1", "pc-w02", &c, &why),
                     CMDSIGN_E_WRONG_DEVICE);
    assert_non_null(strstr(why, "wrong device"));
    assert_int_equal(cmdsign_verify(k, kl, p, strlen(p), EX_NOW, "h2", "pc-w01", &c, &why),
                     CMDSIGN_E_WRONG_DEVICE);
    assert_string_equal(c.id, "c-42");
}

static void test_wrong_key_is_a_bad_signature(void **state)
{
    struct cmdsign_cmd c;
    const char *why;
    const char *p = EX_CMD(EX_SIG);
    const char *other = "hallgw-example-key-0123456789abcdeF";
    (void)state;

    assert_int_equal(cmdsign_verify((const uint8_t *)other, strlen(other), p, strlen(p), EX_NOW,
                                    "h1", "pc-w01", &c, &why),
                     CMDSIGN_E_BAD_SIG);
    assert_int_equal(cmdsign_verify(NULL, 0, p, strlen(p), EX_NOW, "h1", "pc-w01", &c, &why),
                     CMDSIGN_E_BAD_SIG);
}

static void test_time_window_expired_and_future(void **state)
{
    struct cmdsign_cmd c;
    const char *why;
    (void)state;

    assert_int_equal(verify_at(EX_CMD(EX_SIG), 1767262199, &c, &why), 0);
    assert_int_equal(verify_at(EX_CMD(EX_SIG), 1767262200, &c, &why), CMDSIGN_E_EXPIRED);
    assert_string_equal(why, "expired");
    assert_int_equal(verify_at(EX_CMD(EX_SIG), 1767299999, &c, &why), CMDSIGN_E_EXPIRED);
    /* issued may be up to 60 s ahead of the agent's clock. */
    assert_int_equal(verify_at(EX_CMD(EX_SIG), 1767261600 - 60, &c, &why), 0);
    assert_int_equal(verify_at(EX_CMD(EX_SIG), 1767261600 - 61, &c, &why), CMDSIGN_E_NOT_YET);
    assert_non_null(strstr(why, "not yet valid"));
    /* An expired command with a bad signature is reported as badly signed. */
    assert_int_equal(verify_at(EX_CMD("00" EX_SIG), 1767299999, &c, &why), CMDSIGN_E_BAD_SIG);
}

static void test_missing_or_non_hex_signature(void **state)
{
    static const struct {
        const char *payload;
        int rc;
        const char *why;
    } cases[] = {
        {"{\"id\":\"c-1\",\"action\":\"poweroff\"}", CMDSIGN_E_UNSIGNED, "unsigned: no sig"},
        {"{\"id\":\"c-1\",\"sig\":\"\"}", CMDSIGN_E_UNSIGNED, "unsigned: no sig"},
        {"{\"id\":\"c-1\",\"sig\":"
         "\"zz841e1b95ab87d8da808d68492a6d26f6a8cf53ac131c49e7be07203f5bcf11"
         "\"}",
         CMDSIGN_E_BAD_SIG, "bad signature: sig is not 64 hex digits"},
        {"{\"id\":\"c-1\",\"sig\":\"cf84\"}", CMDSIGN_E_BAD_SIG,
         "bad signature: sig is not 64 hex digits"},
        {"{\"id\":\"c-1\",\"sig\":12}", CMDSIGN_E_BAD_SIG,
         "bad signature: sig is not 64 hex digits"},
    };
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct cmdsign_cmd c;
        const char *why;
        int rc = verify_at(cases[i].payload, EX_NOW, &c, &why);
        if (rc != cases[i].rc || strcmp(why, cases[i].why) != 0)
            fail_msg("case %zu: got %d \"%s\", want %d \"%s\"", i, rc, why, cases[i].rc,
                     cases[i].why);
        assert_string_equal(c.id, "c-1"); /* known, so the refusal can name it */
    }
    /* Unsigned is reported for the real example with its sig removed. */
    struct cmdsign_cmd c;
    const char *why;
    char buf[1024];
    snprintf(buf, sizeof(buf), "%s", EX_CMD(EX_SIG));
    strcpy(strstr(buf, ",\"sig\""), "}");
    assert_int_equal(verify_at(buf, EX_NOW, &c, &why), CMDSIGN_E_UNSIGNED);
}

static void test_huge_payload_is_refused_unread(void **state)
{
    struct cmdsign_cmd c;
    const char *why;
    size_t n = CMDSIGN_PAYLOAD_MAX + 1;
    char *big = malloc(n + 1);
    (void)state;

    memset(big, ' ', n);
    big[n] = '\0';
    memcpy(big, EX_CMD(EX_SIG), strlen(EX_CMD(EX_SIG)));
    assert_int_equal(verify_at(big, EX_NOW, &c, &why), CMDSIGN_E_TOO_LARGE);
    assert_non_null(strstr(why, "larger than"));
    /* Exactly the limit still parses. */
    big[CMDSIGN_PAYLOAD_MAX] = '\0';
    assert_int_equal(verify_at(big, EX_NOW, &c, &why), 0);
    free(big);
}

/* Malformed commands: each with a well-formed signature field. */
static void test_malformed_commands(void **state)
{
    static const struct {
        const char *from, *to, *why;
    } edits[] = {
        {"\"c-42\"", "\"c 42\"", "malformed: id is not"},
        {"\"c-42\"", "42", "malformed: id is not"},
        {"\"poweroff\"", "\"PowerOff\"", "malformed: action is not"},
        {"\"h1\"", "\"h/1\"", "malformed: hall is not"},
        {"\"pc-w01\"", "\"\"", "malformed: device is not"},
        {"1767261600", "1767261600.5", "malformed: issued is not"},
        {"1767261600", "-5", "malformed: issued is not"},
        {"1767262200", "\"1767262200\"", "malformed: expires is not"},
        {"1767262200", "1767261600", "malformed: expires is not after issued"},
        {"1767262200", "1767400000", "malformed: valid for more than 24 hours"},
        {"\"6f1d0c2b9a8e7d6c5b4a39281706f5e4\"", "\"6f1d0c2b\"", "malformed: nonce is not"},
        {"\"6f1d0c2b9a8e7d6c5b4a39281706f5e4\"", "\"6f1d0c2b9a8e7d6c5b4a39281706f5eg\"",
         "malformed: nonce is not"},
        {"\"grace_s\":300", "\"grace_s\":300.5", "malformed: an argument number is not"},
        {"\"grace_s\":300", "\"grace_s\":null", "malformed: an argument is null"},
        {"\"grace_s\":300", "\"grace_s\":{\"x\":1}", "malformed: nested deeper"},
        {"\"grace_s\":300", "\"Grace\":300", "malformed: an argument name"},
        {"\"grace_s\":300", "\"grace_s\":[300]", "malformed: nested deeper"},
        {"\"c-42\"", "[\"c-42\"]", "malformed: holds an array"},
        {"\"after-hours\"", "\"a\\nb=c\"", "malformed: an argument string"},
        {"\"args\":{", "\"extra\":1,\"args\":{", "malformed: unknown member"},
        {"\"args\":{\"reason\":\"after-hours\",\"grace_s\":300}", "\"args\":5",
         "malformed: args is not an object"},
        {"\"id\":\"c-42\",", "", "malformed: no id"},
        {"\"nonce\":\"6f1d0c2b9a8e7d6c5b4a39281706f5e4\",", "", "malformed: no nonce"},
        {"\"issued\":1767261600,", "", "malformed: no issued"},
        {"\"device\":\"pc-w01\",", "\"device\":\"pc-w01\",\"device\":\"pc-w02\",",
         "malformed: not a JSON object"},
        {"{", "[{", "malformed: not a JSON object"},
    };
    (void)state;

    for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
        const char *orig = EX_CMD(EX_SIG);
        const char *at = strstr(orig, edits[i].from);
        char buf[1024];
        struct cmdsign_cmd c;
        const char *why;

        assert_non_null(at);
        snprintf(buf, sizeof(buf), "%.*s%s%s%s", (int)(at - orig), orig, edits[i].to,
                 at + strlen(edits[i].from), edits[i].from[0] == '{' ? "]" : "");
        int rc = verify_at(buf, EX_NOW, &c, &why);
        if (rc != CMDSIGN_E_MALFORMED || strncmp(why, edits[i].why, strlen(edits[i].why)) != 0)
            fail_msg("edit %zu: got %d \"%s\", want malformed \"%s\"\n%s", i, rc, why, edits[i].why,
                     buf);
    }
    struct cmdsign_cmd c;
    const char *why;
    assert_int_equal(verify_at("not json", EX_NOW, &c, &why), CMDSIGN_E_MALFORMED);
    assert_int_equal(verify_at("", EX_NOW, &c, &why), CMDSIGN_E_MALFORMED);
    assert_string_equal(c.id, "");
}

static void test_unknown_action_verifies_as_other(void **state)
{
    struct cmdsign_cmd c, back;
    const char *why;
    char *json;
    size_t kl;
    const uint8_t *k = ex_key(&kl);
    (void)state;

    example_cmd(&c);
    strcpy(c.action, "reboot");
    assert_int_equal(cmdsign_build(k, kl, &c, &json), 0);
    assert_int_equal(verify_at(json, EX_NOW, &back, &why), 0);
    assert_int_equal(back.action_code, CMDSIGN_ACTION_OTHER);
    free(json);
    assert_int_equal(cmdsign_action_parse("scan"), CMDSIGN_ACTION_SCAN);
    assert_int_equal(cmdsign_action_parse("Scan"), CMDSIGN_ACTION_OTHER);
}

/* ---- key files ---- */

static char *write_temp(const void *data, size_t n)
{
    char *path = strdup("/tmp/test_cmdsign_key_XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, n), (ssize_t)n);
    close(fd);
    return path;
}

static void test_key_files_hex_raw_and_too_short(void **state)
{
    uint8_t key[CMDSIGN_KEY_MAX];
    size_t len;
    char *p;
    (void)state;

    p = write_temp("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n", 65);
    assert_int_equal(cmdsign_key_load(p, key, &len), 0);
    assert_int_equal(len, 32);
    for (int i = 0; i < 32; i++)
        assert_int_equal(key[i], i);
    unlink(p);
    free(p);

    p = write_temp(EX_KEY "\r\n", strlen(EX_KEY) + 2);
    assert_int_equal(cmdsign_key_load(p, key, &len), 0);
    assert_int_equal(len, strlen(EX_KEY));
    assert_memory_equal(key, EX_KEY, len);
    unlink(p);
    free(p);

    /* 30 hex digits: too few for hex (32), taken as 30 raw bytes. */
    p = write_temp("000102030405060708090a0b0c0d0e", 30);
    assert_int_equal(cmdsign_key_load(p, key, &len), 0);
    assert_int_equal(len, 30);
    assert_int_equal(key[0], '0');
    unlink(p);
    free(p);

    p = write_temp("short-key-15byt\n", 16);
    assert_int_equal(cmdsign_key_load(p, key, &len), -EINVAL);
    assert_int_equal(len, 0);
    unlink(p);
    free(p);

    char big[4000];
    memset(big, 'k', sizeof(big));
    p = write_temp(big, sizeof(big));
    assert_int_equal(cmdsign_key_load(p, key, &len), -EFBIG);
    unlink(p);
    free(p);

    assert_int_equal(cmdsign_key_load("/nonexistent/command.key", key, &len), -ENOENT);
}

static void test_sha256_hex(void **state)
{
    char out[65];
    (void)state;

    cmdsign_sha256_hex("abc", 3, out);
    assert_string_equal(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

/* ---- replay cache ---- */

static void test_replay_refuses_a_nonce_seen_before(void **state)
{
    struct cmdsign_replay *rc = cmdsign_replay_new(16);
    (void)state;

    assert_int_equal(cmdsign_replay_check_and_add(rc, "aaaa0000aaaa0000", 200, 100), 0);
    assert_int_equal(cmdsign_replay_check_and_add(rc, "aaaa0000aaaa0000", 200, 150), -EALREADY);
    assert_int_equal(cmdsign_replay_check_and_add(rc, "bbbb0000bbbb0000", 200, 150), 0);
    assert_int_equal(cmdsign_replay_count(rc), 2);
    assert_int_equal(cmdsign_replay_check_and_add(rc, "", 200, 150), -EINVAL);
    cmdsign_replay_free(rc);
    cmdsign_replay_free(NULL);
}

/* The verified example and its replay, as the agent runs them. */
static void test_replayed_command_is_refused(void **state)
{
    struct cmdsign_replay *rc = cmdsign_replay_new(1024);
    struct cmdsign_cmd c;
    const char *why;
    (void)state;

    assert_int_equal(verify_at(EX_CMD(EX_SIG), EX_NOW, &c, &why), 0);
    assert_int_equal(cmdsign_replay_check_and_add(rc, c.nonce, c.expires, EX_NOW), 0);
    assert_int_equal(verify_at(EX_CMD(EX_SIG), EX_NOW + 30, &c, &why), 0);
    assert_int_equal(cmdsign_replay_check_and_add(rc, c.nonce, c.expires, EX_NOW + 30), -EALREADY);
    cmdsign_replay_free(rc);
}

static void test_replay_forgets_nonces_when_they_expire(void **state)
{
    struct cmdsign_replay *rc = cmdsign_replay_new(4);
    char nonce[32];
    (void)state;

    for (int i = 0; i < 4; i++) {
        snprintf(nonce, sizeof(nonce), "%016x", i);
        assert_int_equal(cmdsign_replay_check_and_add(rc, nonce, 110 + i, 100), 0);
    }
    assert_int_equal(cmdsign_replay_count(rc), 4);
    /* At 112 the first three have expired (now >= expires): dropped, so there is
     * room without forgetting. */
    assert_int_equal(cmdsign_replay_check_and_add(rc, "ffff0000ffff0000", 150, 112), 0);
    assert_int_equal(cmdsign_replay_count(rc), 2);
    snprintf(nonce, sizeof(nonce), "%016x", 3);
    assert_int_equal(cmdsign_replay_check_and_add(rc, nonce, 113, 112), -EALREADY);
    /* Expired nonces are not "seen" any more (verify refuses them as expired). */
    snprintf(nonce, sizeof(nonce), "%016x", 0);
    assert_int_equal(cmdsign_replay_check_and_add(rc, nonce, 160, 112), 0);
    /* Nothing forgotten early: a short-lived command is still fine. */
    assert_int_equal(cmdsign_replay_check_and_add(rc, "eeee0000eeee0000", 114, 112), 0);
    cmdsign_replay_free(rc);
}

static void test_replay_is_bounded_and_fails_closed_when_full(void **state)
{
    struct cmdsign_replay *rc = cmdsign_replay_new(3);
    char nonce[32];
    (void)state;

    for (int i = 0; i < 3; i++) {
        snprintf(nonce, sizeof(nonce), "%016x", i);
        assert_int_equal(cmdsign_replay_check_and_add(rc, nonce, 1000 + i, 100), 0);
    }
    /* Full of live nonces: the oldest (expires 1000) is forgotten. */
    assert_int_equal(cmdsign_replay_check_and_add(rc, "aaaa0000aaaa0001", 2000, 100), 0);
    assert_int_equal(cmdsign_replay_count(rc), 3);
    /* A replay of the forgotten one can not be told from a new one: refused. */
    snprintf(nonce, sizeof(nonce), "%016x", 0);
    assert_int_equal(cmdsign_replay_check_and_add(rc, nonce, 1000, 101), -ENOSPC);
    assert_int_equal(cmdsign_replay_check_and_add(rc, "aaaa0000aaaa0002", 999, 101), -ENOSPC);
    /* One that expires later than anything forgotten is fine. */
    assert_int_equal(cmdsign_replay_check_and_add(rc, "aaaa0000aaaa0003", 1001, 101), 0);
    /* Once the forgotten nonces have expired, everything is normal again. */
    assert_int_equal(cmdsign_replay_check_and_add(rc, "aaaa0000aaaa0004", 1500, 1001), 0);
    assert_int_equal(cmdsign_replay_check_and_add(rc, "aaaa0000aaaa0005", 1400, 1001), 0);

    /* A big cache stays bounded. */
    struct cmdsign_replay *big = cmdsign_replay_new(1024);
    for (int i = 0; i < 5000; i++) {
        snprintf(nonce, sizeof(nonce), "%016x", i);
        assert_int_equal(cmdsign_replay_check_and_add(big, nonce, 100 + i, 99 + i / 2), 0);
        assert_true(cmdsign_replay_count(big) <= 1024);
    }
    cmdsign_replay_free(big);
    cmdsign_replay_free(rc);
}

struct saved {
    char nonces[8][32];
    int64_t expires[8];
    int n;
};

static void save_one(void *ctx, const char *nonce, int64_t expires)
{
    struct saved *s = ctx;
    snprintf(s->nonces[s->n], sizeof(s->nonces[0]), "%s", nonce);
    s->expires[s->n++] = expires;
}

static void test_replay_foreach_lists_oldest_first(void **state)
{
    struct cmdsign_replay *rc = cmdsign_replay_new(8);
    struct saved s = {0};
    (void)state;

    assert_int_equal(cmdsign_replay_check_and_add(rc, "cccc0000cccc0000", 300, 100), 0);
    assert_int_equal(cmdsign_replay_check_and_add(rc, "aaaa0000aaaa0000", 200, 100), 0);
    assert_int_equal(cmdsign_replay_check_and_add(rc, "bbbb0000bbbb0000", 400, 100), 0);
    cmdsign_replay_foreach(rc, save_one, &s);
    assert_int_equal(s.n, 3);
    assert_string_equal(s.nonces[0], "cccc0000cccc0000");
    assert_string_equal(s.nonces[1], "aaaa0000aaaa0000");
    assert_int_equal(s.expires[2], 400);
    cmdsign_replay_free(rc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_canonical_string_sorts_args_and_has_no_trailing_newline),
        cmocka_unit_test(test_worked_example_verifies),
        cmocka_unit_test(test_build_signs_the_worked_example_and_round_trips),
        cmocka_unit_test(test_build_refuses_what_would_not_verify),
        cmocka_unit_test(test_tampered_fields_are_bad_signatures),
        cmocka_unit_test(test_hall_or_device_changed_is_a_bad_signature),
        cmocka_unit_test(test_correctly_signed_for_another_device_is_wrong_device),
        cmocka_unit_test(test_wrong_key_is_a_bad_signature),
        cmocka_unit_test(test_time_window_expired_and_future),
        cmocka_unit_test(test_missing_or_non_hex_signature),
        cmocka_unit_test(test_huge_payload_is_refused_unread),
        cmocka_unit_test(test_malformed_commands),
        cmocka_unit_test(test_unknown_action_verifies_as_other),
        cmocka_unit_test(test_key_files_hex_raw_and_too_short),
        cmocka_unit_test(test_sha256_hex),
        cmocka_unit_test(test_replay_refuses_a_nonce_seen_before),
        cmocka_unit_test(test_replayed_command_is_refused),
        cmocka_unit_test(test_replay_forgets_nonces_when_they_expire),
        cmocka_unit_test(test_replay_is_bounded_and_fails_closed_when_full),
        cmocka_unit_test(test_replay_foreach_lists_oldest_first),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
