/* People: the roles and what each may do, password hashes, the accounts,
 * tokens, sessions and audit log in the store, and auth.c deciding who sent
 * a request. Each test has its own mkdtemp directory for the store. */
#include "auth.h"

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

#include "password.h"
#include "roles.h"
#include "store.h"

#define T0 1764800000.0 /* 2025-12-03T22:13:20Z */

struct fixture {
    char dir[64];
    char path[128];
    struct store *st;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (!f)
        return -1;
    snprintf(f->dir, sizeof(f->dir), "/tmp/hallgw-accounts-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof(f->path), "%s/hallgw.db", f->dir);
    if (store_open(f->path, false, &f->st, NULL) < 0)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char p[256];
    store_close(f->st);
    static const char *const files[] = {"hallgw.db", "hallgw.db-wal", "hallgw.db-shm"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof(p), "%s/%s", f->dir, files[i]);
        unlink(p);
    }
    rmdir(f->dir);
    free(f);
    return 0;
}

static void add_account(struct store *st, const char *name, const char *role, const char *pw)
{
    struct record_account a = {.created = T0, .changed = T0};
    snprintf(a.name, sizeof(a.name), "%s", name);
    snprintf(a.role, sizeof(a.role), "%s", role);
    assert_int_equal(password_hash(pw, a.hash), 0);
    assert_int_equal(store_account_add(st, &a), 0);
}

/* ---- roles ------------------------------------------------------------------- */

static void test_each_role_may_do_what_its_description_says(void **state)
{
    (void)state;
    /* rows: none viewer operator it admin */
    static const bool want[][5] = {
        [ACTION_READ] = {false, true, true, true, true},
        [ACTION_HANDLE_ALERT] = {false, false, true, true, true},
        [ACTION_OVERRIDE] = {false, false, true, true, true},
        [ACTION_SILENCE] = {false, false, true, true, true},
        [ACTION_APPROVE] = {false, false, false, true, true},
        [ACTION_ACCOUNTS] = {false, false, false, false, true},
        [ACTION_AUDIT] = {false, false, false, false, true},
    };
    for (int a = ACTION_READ; a <= ACTION_AUDIT; a++)
        for (int r = ROLE_NONE; r <= ROLE_ADMIN; r++)
            if (roles_may((enum role)r, (enum role_action)a) != want[a][r])
                fail_msg("role %s, action %d: want %d", role_name((enum role)r), a, want[a][r]);
}

static void test_an_alert_is_handled_by_the_role_of_its_device_kind(void **state)
{
    (void)state;
    static const enum device_kind hall[] = {KIND_SEAT, KIND_PEOPLE, KIND_QUEUE, KIND_ENV,
                                            KIND_UNKNOWN};
    static const enum device_kind it[] = {KIND_PC, KIND_PLUG, KIND_EQUIPMENT};
    for (size_t i = 0; i < sizeof(hall) / sizeof(hall[0]); i++) {
        assert_true(roles_may_handle(ROLE_OPERATOR, hall[i]));
        assert_false(roles_may_handle(ROLE_IT, hall[i]));
        assert_false(roles_may_handle(ROLE_VIEWER, hall[i]));
        assert_true(roles_may_handle(ROLE_ADMIN, hall[i]));
    }
    for (size_t i = 0; i < sizeof(it) / sizeof(it[0]); i++) {
        assert_false(roles_may_handle(ROLE_OPERATOR, it[i]));
        assert_true(roles_may_handle(ROLE_IT, it[i]));
        assert_false(roles_may_handle(ROLE_VIEWER, it[i]));
        assert_true(roles_may_handle(ROLE_ADMIN, it[i]));
    }
}

static void test_role_names_round_trip_and_unknown_ones_are_none(void **state)
{
    (void)state;
    for (int r = ROLE_VIEWER; r <= ROLE_ADMIN; r++)
        assert_int_equal(role_parse(role_name((enum role)r)), r);
    assert_int_equal(role_parse("root"), ROLE_NONE);
    assert_int_equal(role_parse(""), ROLE_NONE);
    assert_int_equal(role_parse(NULL), ROLE_NONE);
    assert_int_equal(role_parse("none"), ROLE_NONE);
}

/* ---- passwords ----------------------------------------------------------------- */

static void test_a_password_hash_verifies_only_its_password(void **state)
{
    (void)state;
    char h1[PASSWORD_HASH_MAX], h2[PASSWORD_HASH_MAX];
    assert_int_equal(password_hash("correct horse", h1), 0);
    assert_int_equal(password_hash("correct horse", h2), 0);
    assert_string_not_equal(h1, h2); /* a salt of its own */
    assert_memory_equal(h1, "$y$", 3);
    assert_null(strstr(h1, "correct"));
    assert_true(password_verify("correct horse", h1));
    assert_false(password_verify("correct horsE", h1));
    assert_false(password_verify("", h1));
    assert_false(password_verify("correct horse", NULL));
    assert_false(password_verify("correct horse", "plaintext"));
    assert_false(password_verify("correct horse", ""));
}

static void test_short_or_controlled_passwords_are_refused(void **state)
{
    (void)state;
    assert_non_null(password_acceptable("short"));
    assert_non_null(password_acceptable("ten chars\n"));
    assert_null(password_acceptable("ten chars!"));
    assert_null(password_acceptable("窗口三号的密码很长"));
}

/* ---- the store ------------------------------------------------------------------- */

static void test_accounts_are_added_once_and_changes_end_their_sessions(void **state)
{
    struct fixture *f = *state;
    add_account(f->st, "wang", "operator", "operator-pw-1");
    struct record_account a = {.created = T0};
    snprintf(a.name, sizeof(a.name), "wang");
    snprintf(a.role, sizeof(a.role), "admin");
    assert_int_equal(store_account_add(f->st, &a), -EEXIST);

    struct record_session s = {.created = T0, .expires = T0 + 3600};
    snprintf(s.id_hash, sizeof(s.id_hash), "%064d", 1);
    snprintf(s.account, sizeof(s.account), "wang");
    assert_int_equal(store_session_add(f->st, &s), 0);
    struct record_session got;
    assert_int_equal(store_session_get(f->st, s.id_hash, T0 + 10, &got), 0);
    assert_string_equal(got.account, "wang");
    assert_int_equal(store_session_get(f->st, s.id_hash, T0 + 3600, &got), -ENOENT);

    assert_int_equal(store_account_get(f->st, "wang", &a), 0);
    assert_string_equal(a.role, "operator");
    snprintf(a.role, sizeof(a.role), "it");
    a.changed = T0 + 20;
    assert_int_equal(store_account_set(f->st, &a), 0);
    assert_int_equal(store_session_get(f->st, s.id_hash, T0 + 30, &got), -ENOENT);
    assert_int_equal(store_account_get(f->st, "wang", &a), 0);
    assert_string_equal(a.role, "it");

    snprintf(a.name, sizeof(a.name), "nobody");
    assert_int_equal(store_account_set(f->st, &a), -ENOENT);

    struct record_account *v = NULL;
    size_t n = 0;
    add_account(f->st, "an", "viewer", "viewer-pw-1");
    assert_int_equal(store_accounts(f->st, &v, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(v[0].name, "an");
    assert_string_equal(v[1].name, "wang");
    free(v);
}

static void test_the_audit_log_reads_back_by_time_and_limit(void **state)
{
    struct fixture *f = *state;
    for (int i = 0; i < 5; i++) {
        struct record_audit a = {.at = T0 + i, .ok = i != 2};
        snprintf(a.account, sizeof(a.account), "user%d", i);
        snprintf(a.action, sizeof(a.action), "ack");
        snprintf(a.target, sizeof(a.target), "co2_high:env-1");
        snprintf(a.detail, sizeof(a.detail), "note %d", i);
        assert_int_equal(store_audit_add(f->st, &a), 0);
    }
    struct record_audit *v = NULL;
    size_t n = 0;
    assert_int_equal(store_audit(f->st, T0 + 1, T0 + 4, 0, &v, &n), 0);
    assert_int_equal(n, 3);
    assert_string_equal(v[0].account, "user1");
    assert_false(v[1].ok);
    assert_string_equal(v[2].detail, "note 3");
    free(v);
    assert_int_equal(store_audit(f->st, 0, 0, 2, &v, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(v[1].account, "user1");
    free(v);
}

/* ---- auth ------------------------------------------------------------------------- */

static struct auth *open_auth(struct fixture *f, const char *legacy)
{
    struct auth *a = NULL;
    assert_int_equal(auth_open(f->path, legacy, 3600, &a), 0);
    return a;
}

static void test_a_sign_in_makes_a_session_that_names_the_account(void **state)
{
    struct fixture *f = *state;
    add_account(f->st, "wang", "operator", "operator-pw-1");
    struct auth *a = open_auth(f, NULL);
    struct auth_who who;
    char cookie[65];
    assert_int_equal(auth_sign_in(a, "wang", "operator-pw-1", "192.0.2.7", T0, cookie, &who), 0);
    assert_string_equal(who.name, "wang");
    assert_int_equal(who.role, ROLE_OPERATOR);
    assert_int_equal(strlen(cookie), 64);

    struct auth_who again;
    assert_int_equal(auth_identify(a, NULL, cookie, T0 + 60, &again), 0);
    assert_string_equal(again.name, "wang");
    assert_int_equal(again.via, AUTH_SESSION);
    assert_string_equal(again.csrf, who.csrf);
    assert_true(auth_csrf_ok(&again, who.csrf));
    assert_false(auth_csrf_ok(&again, NULL));
    char wrong[65];
    snprintf(wrong, sizeof(wrong), "%s", who.csrf);
    wrong[0] = wrong[0] == 'a' ? 'b' : 'a';
    assert_false(auth_csrf_ok(&again, wrong));

    /* Expired, signed out, or a cookie that was never issued. */
    assert_int_equal(auth_identify(a, NULL, cookie, T0 + 3600, &again), -EACCES);
    assert_int_equal(auth_identify(a, NULL, "not-a-cookie", T0, &again), -EACCES);
    auth_sign_out(a, cookie);
    assert_int_equal(auth_identify(a, NULL, cookie, T0 + 60, &again), -EACCES);
    assert_int_equal(auth_identify(a, NULL, NULL, T0, &again), -ENOENT);

    /* Recorded: who signed in, from where. */
    struct record_audit *v = NULL;
    size_t n = 0;
    assert_int_equal(store_audit(f->st, 0, 0, 0, &v, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(v[0].account, "wang");
    assert_string_equal(v[0].addr, "192.0.2.7");
    assert_string_equal(v[0].action, "sign-in");
    assert_true(v[0].ok);
    free(v);
    auth_close(a);
}

static void test_wrong_passwords_are_refused_and_then_locked_out(void **state)
{
    struct fixture *f = *state;
    add_account(f->st, "wang", "operator", "operator-pw-1");
    struct auth *a = open_auth(f, NULL);
    struct auth_who who;
    char cookie[65];
    assert_int_equal(auth_sign_in(a, "nobody", "operator-pw-1", "192.0.2.7", T0, cookie, &who),
                     -EACCES);
    for (int i = 0; i < 4; i++)
        assert_int_equal(auth_sign_in(a, "wang", "guess", "192.0.2.8", T0 + i, cookie, &who),
                         -EACCES);
    /* The fifth failure for the name: now even the right password waits. */
    assert_int_equal(auth_sign_in(a, "wang", "guess", "192.0.2.9", T0 + 5, cookie, &who), -EACCES);
    assert_int_equal(auth_sign_in(a, "wang", "operator-pw-1", "192.0.2.10", T0 + 6, cookie, &who),
                     -EAGAIN);
    assert_int_equal(auth_sign_in(a, "wang", "operator-pw-1", "192.0.2.10", T0 + 906, cookie, &who),
                     0);

    struct record_audit *v = NULL;
    size_t n = 0, failed = 0;
    assert_int_equal(store_audit(f->st, 0, 0, 0, &v, &n), 0);
    for (size_t i = 0; i < n; i++)
        failed += !v[i].ok;
    assert_int_equal(failed, 7);
    assert_true(v[n - 1].ok);
    free(v);
    auth_close(a);
}

static void test_a_disabled_account_loses_its_sessions_and_tokens(void **state)
{
    struct fixture *f = *state;
    add_account(f->st, "li", "it", "it-password-1");
    struct record_token t;
    char text[AUTH_TOKEN_TEXT_MAX], header[AUTH_TOKEN_TEXT_MAX + 8];
    assert_int_equal(auth_token_make("li", "script", T0, &t, text), 0);
    assert_int_equal(store_token_add(f->st, &t), 0);
    assert_null(strstr(t.hash, text + 21)); /* only the digest is kept */
    snprintf(header, sizeof(header), "Bearer %s", text);

    struct auth *a = open_auth(f, NULL);
    struct auth_who who;
    char cookie[65];
    assert_int_equal(auth_identify(a, header, NULL, T0, &who), 0);
    assert_string_equal(who.name, "li");
    assert_int_equal(who.role, ROLE_IT);
    assert_int_equal(who.via, AUTH_TOKEN);
    assert_true(auth_csrf_ok(&who, NULL)); /* a token is not sent by browsers */
    assert_int_equal(auth_sign_in(a, "li", "it-password-1", "::1", T0, cookie, &who), 0);

    struct store *st = auth_store_acquire(a);
    struct record_account acc;
    assert_int_equal(store_account_get(st, "li", &acc), 0);
    acc.disabled = true;
    assert_int_equal(store_account_set(st, &acc), 0);
    auth_store_release(a);

    assert_int_equal(auth_identify(a, header, NULL, T0 + 1, &who), -EACCES);
    assert_int_equal(auth_identify(a, NULL, cookie, T0 + 1, &who), -EACCES);
    assert_int_equal(auth_sign_in(a, "li", "it-password-1", "::1", T0 + 2, cookie, &who), -EACCES);
    auth_close(a);
}

static void test_tokens_are_checked_whole_and_a_revoked_one_fails(void **state)
{
    struct fixture *f = *state;
    add_account(f->st, "zhao", "viewer", "viewer-pw-1");
    struct record_token t;
    char text[AUTH_TOKEN_TEXT_MAX], header[AUTH_TOKEN_TEXT_MAX + 8];
    assert_int_equal(auth_token_make("zhao", "", T0, &t, text), 0);
    assert_int_equal(store_token_add(f->st, &t), 0);
    struct auth *a = open_auth(f, "legacy-secret-token");
    struct auth_who who;

    snprintf(header, sizeof(header), "Bearer %s", text);
    header[strlen(header) - 1] ^= 1; /* one digit changed */
    assert_int_equal(auth_identify(a, header, NULL, T0, &who), -EACCES);
    snprintf(header, sizeof(header), "Bearer %.40s", text); /* cut short */
    assert_int_equal(auth_identify(a, header, NULL, T0, &who), -EACCES);
    assert_int_equal(auth_identify(a, "Basic eHg6eXk=", NULL, T0, &who), -EACCES);
    snprintf(header, sizeof(header), "Bearer %s", text);
    assert_int_equal(auth_identify(a, header, NULL, T0, &who), 0);
    assert_int_equal(who.role, ROLE_VIEWER);

    /* http.token_file's token acts as an admin account of its own name. */
    assert_int_equal(auth_identify(a, "Bearer legacy-secret-token", NULL, T0, &who), 0);
    assert_string_equal(who.name, AUTH_LEGACY_NAME);
    assert_int_equal(who.role, ROLE_ADMIN);
    assert_int_equal(auth_identify(a, "Bearer legacy-secret-toke", NULL, T0, &who), -EACCES);

    struct store *st = auth_store_acquire(a);
    assert_int_equal(store_token_delete(st, t.id), 0);
    assert_int_equal(store_token_delete(st, t.id), -ENOENT);
    auth_store_release(a);
    assert_int_equal(auth_identify(a, header, NULL, T0, &who), -EACCES);
    auth_close(a);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_role_may_do_what_its_description_says),
        cmocka_unit_test(test_an_alert_is_handled_by_the_role_of_its_device_kind),
        cmocka_unit_test(test_role_names_round_trip_and_unknown_ones_are_none),
        cmocka_unit_test(test_a_password_hash_verifies_only_its_password),
        cmocka_unit_test(test_short_or_controlled_passwords_are_refused),
        T(test_accounts_are_added_once_and_changes_end_their_sessions),
        T(test_the_audit_log_reads_back_by_time_and_limit),
        T(test_a_sign_in_makes_a_session_that_names_the_account),
        T(test_wrong_passwords_are_refused_and_then_locked_out),
        T(test_a_disabled_account_loses_its_sessions_and_tokens),
        T(test_tokens_are_checked_whole_and_a_revoked_one_fails),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
