/* The state store: the patrol record of transitions, active alerts across a
 * restart, history queries, baselines, and the ways opening and writing can
 * fail (missing file, read-only, locked, not ours). Each test runs in its own
 * mkdtemp directory under /tmp, removed afterwards.
 *
 * sqlite3.h is included here too, for a second, independent connection: the
 * one that holds a write lock, or looks at the file as another tool would. */
#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))
#define T0 1732600000.0 /* 2024-11-26T05:46:40Z */
#define MONO0 INT64_C(1000000)

/* ---- Fixture: a fresh directory per test ----------------------------------- */

struct fixture {
    char dir[64];
    char path[128]; /* dir/hallgw.db */
};

static int make_dir(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    if (!f)
        return -1;
    snprintf(f->dir, sizeof(f->dir), "/tmp/hallgw-store-XXXXXX");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    snprintf(f->path, sizeof(f->path), "%s/hallgw.db", f->dir);
    *state = f;
    return 0;
}

static int remove_dir(void **state)
{
    struct fixture *f = *state;
    char path[512];
    struct dirent *e;
    DIR *d;

    chmod(f->dir, 0700);
    d = opendir(f->dir);
    if (d) {
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            snprintf(path, sizeof(path), "%s/%s", f->dir, e->d_name);
            unlink(path);
        }
        closedir(d);
    }
    rmdir(f->dir);
    free(f);
    return 0;
}

/* ---- Helpers --------------------------------------------------------------- */

static const struct config_rule co2_rule = {
    .name = "co2_high", .type = RULE_THRESHOLD, .severity = SEV_MAJOR, .for_ms = 0};
static const struct config_rule usb_rule = {
    .name = "usb_storage", .type = RULE_EVENT, .severity = SEV_CRITICAL};
static const struct config_rule seat_rule = {
    .name = "window_unstaffed", .type = RULE_UNSTAFFED, .severity = SEV_WARNING};

static struct store *open_rw(const char *path)
{
    struct store *st = NULL;
    const char *why = NULL;
    int rc = store_open(path, false, &st, &why);

    if (rc != 0)
        fail_msg("store_open %s: %d %s", path, rc, why);
    return st;
}

/* Fires a at wall (the condition became true with for 0) and records it. */
static void fire(struct store *st, struct alert *a, double wall)
{
    mono_ms now = MONO0 + (mono_ms)((wall - T0) * 1000);

    assert_int_equal(alert_update(a, true, 0, now, wall), AT_FIRING);
    assert_int_equal(store_record(st, a, AT_FIRING), 0);
}

static void clear(struct store *st, struct alert *a, double wall)
{
    mono_ms now = MONO0 + (mono_ms)((wall - T0) * 1000);

    assert_int_equal(alert_update(a, false, 0, now, wall), AT_RESOLVED);
    assert_int_equal(store_record(st, a, AT_RESOLVED), 0);
}

static void ack(struct store *st, struct alert *a, const char *by, const char *note, double wall)
{
    assert_int_equal(alert_ack(a, by, note, wall), AT_ACKNOWLEDGED);
    assert_int_equal(store_record(st, a, AT_ACKNOWLEDGED), 0);
}

static size_t history_count(struct store *st)
{
    struct record_alert *h;
    size_t n;

    assert_int_equal(store_history(st, 0, 0, NULL, 0, &h, &n), 0);
    free(h);
    return n;
}

/* What the gateway needs to carry on with an alert after a restart. */
static void assert_alert_restored(const struct alert *got, const struct alert *want)
{
    assert_string_equal(got->id, want->id);
    assert_string_equal(got->rule, want->rule);
    assert_string_equal(got->subject, want->subject);
    assert_string_equal(got->hall, want->hall);
    assert_string_equal(got->device, want->device);
    assert_string_equal(got->window, want->window);
    assert_int_equal(got->kind, want->kind);
    assert_int_equal(got->severity, want->severity);
    assert_int_equal(got->type, want->type);
    assert_int_equal(got->state, want->state);
    assert_int_equal(got->manual_resolve, want->manual_resolve);
    assert_int_equal(got->pending_since_mono, 0);
    assert_true(got->pending_since == want->pending_since);
    assert_true(got->firing_since == want->firing_since);
    assert_true(got->acked_at == want->acked_at);
    assert_true(got->changed_at == want->changed_at);
    assert_string_equal(got->acked_by, want->acked_by);
    assert_string_equal(got->note, want->note);
    assert_string_equal(got->summary, want->summary);
    assert_int_equal(got->has_value, want->has_value);
    if (want->has_value)
        assert_true(got->value == want->value);
    assert_true(got->last_notified == want->last_notified);
    assert_int_equal(got->escalated, want->escalated);
}

/* The result of a store_open, carried back from a child process. */
struct open_result {
    int rc;
    bool got_store;
    char why[256];
};

static void try_open(const char *path, bool readonly, struct open_result *r)
{
    struct store *st = NULL;
    const char *why = NULL;

    memset(r, 0, sizeof(*r));
    r->rc = store_open(path, readonly, &st, &why);
    r->got_store = st != NULL;
    snprintf(r->why, sizeof(r->why), "%s", why ? why : "(null)");
    store_close(st);
}

/* Opens path as an unprivileged user: root ignores file and directory
 * permissions, so as root the open runs in a child that became nobody. */
static void try_open_unprivileged(const char *path, bool readonly, struct open_result *r)
{
    int fds[2];
    pid_t pid;
    int status;

    if (geteuid() != 0) {
        try_open(path, readonly, r);
        return;
    }
    assert_int_equal(pipe(fds), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct open_result cr;

        close(fds[0]);
        if (setgroups(0, NULL) != 0 || setgid(65534) != 0 || setuid(65534) != 0)
            _exit(3);
        try_open(path, readonly, &cr);
        _exit(write(fds[1], &cr, sizeof(cr)) == (ssize_t)sizeof(cr) ? 0 : 4);
    }
    close(fds[1]);
    memset(r, 0, sizeof(*r));
    assert_int_equal(read(fds[0], r, sizeof(*r)), (ssize_t)sizeof(*r));
    close(fds[0]);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static double mono_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- The patrol record ----------------------------------------------------- */

static void test_store_records_firing_ack_resolved_in_order_with_who_and_note(void **state)
{
    struct fixture *f = *state;
    struct store *st = open_rw(f->path);
    struct alert a;
    struct record_alert *h;
    struct alert *act;
    size_t n;

    alert_init(&a, &co2_rule, "env-1", "hall-a", "env-1", "", KIND_ENV);
    snprintf(a.summary, sizeof(a.summary), "co2 1350 > 1000 ppm");
    a.value = 1350;
    a.has_value = true;
    fire(st, &a, T0);
    ack(st, &a, "王芳", "开窗通风", T0 + 60);
    a.value = 950;
    snprintf(a.summary, sizeof(a.summary), "co2 950 ppm");
    clear(st, &a, T0 + 600);

    assert_int_equal(store_history(st, 0, 0, NULL, 0, &h, &n), 0);
    assert_int_equal(n, 3);
    static const struct {
        const char *transition, *by, *note, *summary;
        double at, value;
    } want[] = {
        {"firing", "", "", "co2 1350 > 1000 ppm", T0, 1350},
        {"acknowledged", "王芳", "开窗通风", "co2 1350 > 1000 ppm", T0 + 60, 1350},
        {"resolved", "", "开窗通风", "co2 950 ppm", T0 + 600, 950},
    };
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(h[i].alert_id, "co2_high:env-1");
        assert_string_equal(h[i].rule, "co2_high");
        assert_string_equal(h[i].subject, "env-1");
        assert_string_equal(h[i].hall, "hall-a");
        assert_string_equal(h[i].device, "env-1");
        assert_string_equal(h[i].window, "");
        assert_string_equal(h[i].severity, "major");
        assert_string_equal(h[i].transition, want[i].transition);
        assert_string_equal(h[i].by, want[i].by);
        assert_string_equal(h[i].note, want[i].note);
        assert_string_equal(h[i].summary, want[i].summary);
        assert_true(h[i].at == want[i].at);
        assert_true(h[i].has_value);
        assert_true(h[i].value == want[i].value);
    }
    free(h);

    /* Resolved: no longer among the active ones. */
    assert_int_equal(store_load_active(st, &act, &n), 0);
    assert_int_equal(n, 0);
    assert_null(act);
    store_close(st);
}

static void test_store_manual_resolve_records_who_handled_it(void **state)
{
    struct fixture *f = *state;
    struct store *st = open_rw(f->path);
    struct alert a;
    struct record_alert *h;
    size_t n;

    alert_init(&a, &usb_rule, "pc-3", "hall-a", "pc-3", "w3", KIND_PC);
    snprintf(a.summary, sizeof(a.summary), "USB storage inserted");
    fire(st, &a, T0);
    assert_int_equal(alert_resolve(&a, "zhao.min", "U盘已收回, 已登记", T0 + 300), AT_RESOLVED);
    assert_int_equal(store_record(st, &a, AT_RESOLVED), 0);

    assert_int_equal(store_history(st, 0, 0, NULL, 0, &h, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(h[1].transition, "resolved");
    assert_string_equal(h[1].by, "zhao.min");
    assert_string_equal(h[1].note, "U盘已收回, 已登记");
    assert_string_equal(h[1].window, "w3");
    assert_string_equal(h[1].severity, "critical");
    assert_false(h[1].has_value);
    free(h);
    store_close(st);
}

static void test_store_does_not_record_pending_or_cancelled(void **state)
{
    struct fixture *f = *state;
    struct store *st = open_rw(f->path);
    struct alert a;
    struct alert *act;
    size_t n;

    alert_init(&a, &co2_rule, "env-2", "hall-a", "env-2", "", KIND_ENV);
    assert_int_equal(alert_update(&a, true, 60000, MONO0, T0), AT_PENDING);
    assert_int_equal(store_record(st, &a, AT_PENDING), 0);
    assert_int_equal(alert_update(&a, false, 60000, MONO0 + 1000, T0 + 1), AT_CANCELLED);
    assert_int_equal(store_record(st, &a, AT_CANCELLED), 0);
    assert_int_equal(history_count(st), 0);
    assert_int_equal(store_load_active(st, &act, &n), 0);
    assert_int_equal(n, 0);
    store_close(st);
}

static void test_store_update_without_transition_keeps_the_row_current(void **state)
{
    struct fixture *f = *state;
    struct store *st = open_rw(f->path);
    struct alert a;
    struct alert *act;
    size_t n;

    alert_init(&a, &co2_rule, "env-1", "hall-a", "env-1", "", KIND_ENV);
    fire(st, &a, T0);
    /* Re-notified and escalated; a new value: no transition, no history. */
    a.last_notified = T0 + 3600;
    a.escalated = true;
    a.value = 1500;
    a.has_value = true;
    assert_int_equal(store_record(st, &a, AT_NONE), 0);
    assert_int_equal(history_count(st), 1);
    assert_int_equal(store_load_active(st, &act, &n), 0);
    assert_int_equal(n, 1);
    assert_alert_restored(&act[0], &a);
    free(act);
    store_close(st);
}

/* ---- Restart --------------------------------------------------------------- */

static void test_store_active_alerts_come_back_after_restart(void **state)
{
    struct fixture *f = *state;
    struct store *st = open_rw(f->path);
    struct alert firing, acked, gone, pending, event;
    struct alert *act;
    size_t n;

    alert_init(&firing, &co2_rule, "env-1", "hall-a", "env-1", "", KIND_ENV);
    snprintf(firing.summary, sizeof(firing.summary), "co2 1350 > 1000 ppm");
    firing.value = 1350.25;
    firing.has_value = true;
    fire(st, &firing, T0);

    alert_init(&acked, &seat_rule, "w2", "hall-b", "seat-2", "w2", KIND_SEAT);
    snprintf(acked.summary, sizeof(acked.summary), "窗口 2 无人 12 分钟");
    fire(st, &acked, T0 + 10);
    ack(st, &acked, "li.wei", "lunch cover on the way", T0 + 20);

    alert_init(&event, &usb_rule, "pc-3", "hall-a", "pc-3", "w3", KIND_PC);
    fire(st, &event, T0 + 30);

    alert_init(&gone, &co2_rule, "env-9", "hall-a", "env-9", "", KIND_ENV);
    fire(st, &gone, T0 + 5);
    clear(st, &gone, T0 + 40);

    alert_init(&pending, &co2_rule, "env-7", "hall-a", "env-7", "", KIND_ENV);
    assert_int_equal(alert_update(&pending, true, 60000, MONO0, T0 + 50), AT_PENDING);
    assert_int_equal(store_record(st, &pending, AT_PENDING), 0);
    store_close(st);

    /* The restart. */
    st = open_rw(f->path);
    assert_int_equal(store_load_active(st, &act, &n), 0);
    assert_int_equal(n, 3); /* oldest firing first */
    assert_alert_restored(&act[0], &firing);
    assert_alert_restored(&act[1], &acked);
    assert_alert_restored(&act[2], &event);
    assert_true(act[2].manual_resolve);

    /* They carry on where they were: the firing one clears and resolves, the
     * event one still ignores its condition clearing. */
    assert_int_equal(alert_update(&act[0], false, 0, 0, T0 + 100), AT_RESOLVED);
    assert_int_equal(store_record(st, &act[0], AT_RESOLVED), 0);
    assert_int_equal(alert_update(&act[2], false, 0, 0, T0 + 100), AT_NONE);
    free(act);
    store_close(st);

    st = open_rw(f->path);
    assert_int_equal(store_load_active(st, &act, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(act[0].id, "window_unstaffed:w2");
    assert_int_equal(act[0].state, ALERT_ACKNOWLEDGED);
    assert_string_equal(act[1].id, "usb_storage:pc-3");
    free(act);
    store_close(st);
}

/* ---- History queries ------------------------------------------------------- */

static void test_store_history_filters_by_time_and_hall(void **state)
{
    struct fixture *f = *state;
    struct store *st = open_rw(f->path);
    /* Fired at T0 + at, in hall, then resolved 1000 s later. */
    static const struct {
        const char *subject, *hall;
        double at;
    } fired[] = {
        {"env-1", "hall-a", 0},    {"env-2", "hall-b", 100},  {"env-3", "hall-a", 200},
        {"env-4", "hall-b", 2000}, {"env-5", "hall-a", 3000},
    };
    /* Firing rows at T0 + 0, 100, 200, 2000, 3000; resolved rows at
     * T0 + 1000, 1100, 1200, 3000, 4000 (equal times: in insertion order). */
    static const struct {
        double from, to;
        const char *hall;
        size_t limit;
        const char *want; /* "<subject>/<transition initial>" in order */
    } queries[] = {
        {0, 0, NULL, 0, "1f 2f 3f 1r 2r 3r 4f 4r 5f 5r"},
        {0, 0, "hall-a", 0, "1f 3f 1r 3r 5f 5r"},
        {0, 0, "hall-b", 0, "2f 2r 4f 4r"},
        {0, 0, "hall-z", 0, ""},
        {T0 + 100, T0 + 1100, NULL, 0, "2f 3f 1r"}, /* from inclusive, to exclusive */
        {T0 + 100, T0 + 1100, "hall-a", 0, "3f 1r"},
        {T0 + 3000, 0, NULL, 0, "4r 5f 5r"},
        {0, T0 + 100, NULL, 0, "1f"},
        {0, 0, NULL, 4, "1f 2f 3f 1r"},
        {T0 + 1000, 0, "hall-b", 2, "2r 4f"},
    };
    char got[128];

    for (size_t i = 0; i < N_ELEMS(fired); i++) {
        struct alert a;

        alert_init(&a, &co2_rule, fired[i].subject, fired[i].hall, fired[i].subject, "", KIND_ENV);
        fire(st, &a, T0 + fired[i].at);
        clear(st, &a, T0 + fired[i].at + 1000);
    }
    for (size_t q = 0; q < N_ELEMS(queries); q++) {
        struct record_alert *h;
        size_t n, len = 0;

        assert_int_equal(store_history(st, queries[q].from, queries[q].to, queries[q].hall,
                                       queries[q].limit, &h, &n),
                         0);
        got[0] = '\0';
        for (size_t i = 0; i < n; i++)
            len += (size_t)snprintf(got + len, sizeof(got) - len, "%s%c%c", i ? " " : "",
                                    h[i].subject[4], h[i].transition[0]);
        if (strcmp(got, queries[q].want) != 0)
            fail_msg("query %zu: got \"%s\", want \"%s\"", q, got, queries[q].want);
        free(h);
    }
    store_close(st);
}

/* ---- Baselines ------------------------------------------------------------- */

static void test_store_baselines_set_get_overwrite(void **state)
{
    struct fixture *f = *state;
    struct store *st = open_rw(f->path);
    char v[64], tiny[4];

    assert_int_equal(store_baseline_get(st, "pc-1", "net_fp", v, sizeof(v)), -ENOENT);
    assert_int_equal(store_baseline_set(st, "pc-1", "net_fp", "a1b2c3", "it.zhang", T0), 0);
    assert_int_equal(store_baseline_set(st, "pc-2", "net_fp", "ffff00", "it.zhang", T0), 0);
    assert_int_equal(store_baseline_get(st, "pc-1", "net_fp", v, sizeof(v)), 0);
    assert_string_equal(v, "a1b2c3");
    assert_int_equal(store_baseline_get(st, "pc-1", "other", v, sizeof(v)), -ENOENT);

    assert_int_equal(store_baseline_set(st, "pc-1", "net_fp", "d4e5f6", "it.li", T0 + 60), 0);
    assert_int_equal(store_baseline_get(st, "pc-1", "net_fp", v, sizeof(v)), 0);
    assert_string_equal(v, "d4e5f6");
    assert_int_equal(store_baseline_get(st, "pc-2", "net_fp", v, sizeof(v)), 0);
    assert_string_equal(v, "ffff00");

    /* A value that does not fit is refused, never cut. */
    assert_int_equal(store_baseline_get(st, "pc-1", "net_fp", tiny, sizeof(tiny)), -ENOSPC);
    assert_string_equal(tiny, "");
    store_close(st);

    st = open_rw(f->path);
    assert_int_equal(store_baseline_get(st, "pc-1", "net_fp", v, sizeof(v)), 0);
    assert_string_equal(v, "d4e5f6");
    store_close(st);
}

/* ---- Opening and failing --------------------------------------------------- */

static void test_store_creates_a_wal_database_with_a_schema_version(void **state)
{
    struct fixture *f = *state;
    struct store *st = open_rw(f->path);
    sqlite3 *db;
    sqlite3_stmt *s;

    assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(s, 0), "wal");
    sqlite3_finalize(s);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(s, 0), 5);
    sqlite3_finalize(s);
    sqlite3_close(db);
    store_close(st);

    /* Opening again migrates nothing and loses nothing. */
    st = open_rw(f->path);
    assert_int_equal(history_count(st), 0);
    store_close(st);
}

static void test_store_refuses_a_newer_schema(void **state)
{
    struct fixture *f = *state;
    struct open_result r;
    sqlite3 *db;

    store_close(open_rw(f->path));
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);

    try_open(f->path, false, &r);
    assert_int_equal(r.rc, -EPROTO);
    assert_false(r.got_store);
    assert_non_null(strstr(r.why, "newer"));
    try_open(f->path, true, &r);
    assert_int_equal(r.rc, -EPROTO);
}

static void test_store_refuses_a_file_that_is_not_a_database(void **state)
{
    struct fixture *f = *state;
    struct open_result r;
    FILE *fp = fopen(f->path, "w");

    assert_non_null(fp);
    for (int i = 0; i < 64; i++)
        fputs("this is a text file, not SQLite\n", fp);
    fclose(fp);
    try_open(f->path, false, &r);
    assert_int_equal(r.rc, -EIO);
    assert_false(r.got_store);
    assert_non_null(strstr(r.why, "not a database"));
}

static void test_store_readonly_open_of_missing_file_fails_clearly(void **state)
{
    struct fixture *f = *state;
    struct open_result r;
    struct stat sb;

    try_open(f->path, true, &r);
    assert_int_equal(r.rc, -ENOENT);
    assert_false(r.got_store);
    assert_non_null(strstr(r.why, "no such file"));
    /* Nothing was created on the way. */
    assert_int_equal(stat(f->path, &sb), -1);
    assert_int_equal(errno, ENOENT);
}

static void test_store_readonly_handle_reads_while_the_gateway_writes(void **state)
{
    struct fixture *f = *state;
    struct store *rw = open_rw(f->path), *ro = NULL;
    const char *why = NULL;
    struct alert a;
    struct alert *act;
    size_t n;

    alert_init(&a, &co2_rule, "env-1", "hall-a", "env-1", "", KIND_ENV);
    fire(rw, &a, T0);
    assert_int_equal(store_open(f->path, true, &ro, &why), 0);
    assert_int_equal(store_load_active(ro, &act, &n), 0);
    assert_int_equal(n, 1);
    free(act);

    /* A later write by the gateway is seen by the reader. */
    ack(rw, &a, "li.wei", "seen", T0 + 10);
    assert_int_equal(history_count(ro), 2);

    /* The reader cannot write. */
    assert_int_equal(store_record(ro, &a, AT_RESOLVED), -EROFS);
    assert_non_null(strstr(store_last_error(ro), "read-only"));
    assert_int_equal(store_baseline_set(ro, "pc-1", "net_fp", "x", "y", T0), -EROFS);
    assert_int_equal(history_count(rw), 2);
    store_close(ro);
    store_close(rw);
}

static void test_store_locked_database_gives_ebusy_after_the_timeout(void **state)
{
    struct fixture *f = *state;
    struct store *st = open_rw(f->path);
    struct alert a;
    struct alert *act;
    sqlite3 *other;
    size_t n;
    double t;

    /* Another process holds a write transaction. */
    assert_int_equal(sqlite3_open(f->path, &other), SQLITE_OK);
    assert_int_equal(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);

    store_set_busy_timeout(st, 200);
    alert_init(&a, &co2_rule, "env-1", "hall-a", "env-1", "", KIND_ENV);
    assert_int_equal(alert_update(&a, true, 0, MONO0, T0), AT_FIRING);
    t = mono_s();
    assert_int_equal(store_record(st, &a, AT_FIRING), -EBUSY);
    assert_true(mono_s() - t >= 0.15); /* it waited, then gave up */
    assert_non_null(strstr(store_last_error(st), "locked"));
    assert_int_equal(store_baseline_set(st, "pc-1", "net_fp", "x", "y", T0), -EBUSY);

    /* Readers are not blocked by a writer (WAL). */
    assert_int_equal(store_load_active(st, &act, &n), 0);
    assert_int_equal(n, 0);

    /* Once the other lets go, the same record goes through. */
    assert_int_equal(sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(other);
    assert_int_equal(store_record(st, &a, AT_FIRING), 0);
    assert_int_equal(history_count(st), 1);
    store_close(st);
}

static void test_store_open_in_readonly_directory_fails_clearly(void **state)
{
    struct fixture *f = *state;
    struct open_result r;

    assert_int_equal(chmod(f->dir, 0555), 0);
    try_open_unprivileged(f->path, false, &r);
    assert_int_equal(r.rc, -EACCES);
    assert_false(r.got_store);
    assert_non_null(strstr(r.why, f->dir));
    assert_non_null(strstr(r.why, "Permission denied"));
    assert_non_null(strstr(r.why, "directory is not writable"));
}

static void test_store_existing_database_in_readonly_directory_fails_clearly(void **state)
{
    struct fixture *f = *state;
    struct open_result r;

    /* The file itself is writable; its -wal and -shm cannot be made. */
    store_close(open_rw(f->path));
    assert_int_equal(chmod(f->path, 0666), 0);
    assert_int_equal(chmod(f->dir, 0555), 0);
    try_open_unprivileged(f->path, false, &r);
    assert_int_equal(r.rc, -EROFS);
    assert_false(r.got_store);
    assert_non_null(strstr(r.why, "directory is not writable"));
}

static void test_store_readonly_file_fails_clearly(void **state)
{
    struct fixture *f = *state;
    struct open_result r;

    store_close(open_rw(f->path));
    assert_int_equal(chmod(f->path, 0444), 0);
    assert_int_equal(chmod(f->dir, 0777), 0);
    try_open_unprivileged(f->path, false, &r);
    assert_int_equal(r.rc, -EROFS);
    assert_false(r.got_store);
    assert_non_null(strstr(r.why, "read-only"));
    /* Read-only is what the CLI's listings need, and that works. */
    try_open_unprivileged(f->path, true, &r);
    assert_int_equal(r.rc, 0);
    assert_true(r.got_store);
}

/* ---- The transition writer --------------------------------------------- */

static struct store_writer *start_writer(const char *path)
{
    struct store_writer *w = NULL;
    const char *why = NULL;
    int rc = store_writer_start(path, &w, &why);

    if (rc != 0)
        fail_msg("store_writer_start %s: %d %s", path, rc, why);
    return w;
}

static void test_store_batch_records_every_transition_in_order(void **state)
{
    struct fixture *f = *state;
    struct store *st = open_rw(f->path);
    struct store_transition v[4];
    struct record_alert *h;
    struct alert *act;
    size_t n;

    alert_init(&v[0].alert, &co2_rule, "env-1", "hall-a", "env-1", "", KIND_ENV);
    assert_int_equal(alert_update(&v[0].alert, true, 0, MONO0, T0), AT_FIRING);
    v[0].t = AT_FIRING;
    v[1] = v[0];
    assert_int_equal(alert_ack(&v[1].alert, "王芳", "开窗通风", T0 + 1), AT_ACKNOWLEDGED);
    v[1].t = AT_ACKNOWLEDGED;
    v[2] = v[1];
    assert_int_equal(alert_update(&v[2].alert, false, 0, MONO0, T0 + 2), AT_RESOLVED);
    v[2].t = AT_RESOLVED;
    alert_init(&v[3].alert, &usb_rule, "pc-3", "hall-a", "pc-3", "w3", KIND_PC);
    assert_int_equal(alert_update(&v[3].alert, true, 0, MONO0, T0 + 3), AT_FIRING);
    v[3].t = AT_FIRING;
    assert_int_equal(store_record_batch(st, v, N_ELEMS(v)), 0);

    assert_int_equal(store_history(st, 0, 0, NULL, 0, &h, &n), 0);
    assert_int_equal(n, 4);
    assert_string_equal(h[0].transition, "firing");
    assert_string_equal(h[1].transition, "acknowledged");
    assert_string_equal(h[1].by, "王芳");
    assert_string_equal(h[2].transition, "resolved");
    assert_string_equal(h[3].alert_id, "usb_storage:pc-3");
    free(h);
    assert_int_equal(store_load_active(st, &act, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(act[0].id, "usb_storage:pc-3");
    free(act);
    store_close(st);
}

/* What the gateway does: the writer records many transitions behind the
 * caller's back; after a stop every one of them is in the file, in order. */
static void test_store_writer_stop_commits_everything_queued_in_order(void **state)
{
    struct fixture *f = *state;
    struct store *st = open_rw(f->path);
    struct store_writer *w = start_writer(f->path);
    enum { N_ALERTS = 300 };
    struct alert a;
    struct record_alert *h;
    struct alert *act;
    size_t n;

    for (int i = 0; i < N_ALERTS; i++) {
        char dev[16];
        snprintf(dev, sizeof(dev), "env-%d", i);
        alert_init(&a, &co2_rule, dev, "hall-a", dev, "", KIND_ENV);
        assert_int_equal(alert_update(&a, true, 0, MONO0, T0 + i), AT_FIRING);
        assert_int_equal(store_writer_record(w, &a, AT_FIRING), 0);
        if (i % 3 == 0) {
            assert_int_equal(alert_update(&a, false, 0, MONO0, T0 + i + 0.5), AT_RESOLVED);
            assert_int_equal(store_writer_record(w, &a, AT_RESOLVED), 0);
        }
        /* Not recorded at all, as with store_record. */
        assert_int_equal(store_writer_record(w, &a, AT_PENDING), 0);
    }
    store_writer_stop(w);

    assert_int_equal(store_history(st, 0, 0, NULL, 0, &h, &n), 0);
    assert_int_equal(n, N_ALERTS + N_ALERTS / 3);
    for (size_t i = 1; i < n; i++)
        assert_true(h[i - 1].at <= h[i].at);
    assert_string_equal(h[0].alert_id, "co2_high:env-0");
    assert_string_equal(h[0].transition, "firing");
    assert_string_equal(h[1].alert_id, "co2_high:env-0");
    assert_string_equal(h[1].transition, "resolved");
    free(h);
    assert_int_equal(store_load_active(st, &act, &n), 0);
    assert_int_equal(n, N_ALERTS - N_ALERTS / 3);
    free(act);
    store_close(st);
}

/* After a flush, another connection (the CLI, the HTTP API) reads what was
 * queued before it. */
static void test_store_writer_flush_makes_transitions_visible_to_readers(void **state)
{
    struct fixture *f = *state;
    struct store *st = open_rw(f->path);
    struct store_writer *w = start_writer(f->path);
    struct store *ro = NULL;
    struct alert a;

    assert_int_equal(store_open(f->path, true, &ro, NULL), 0);
    alert_init(&a, &co2_rule, "env-1", "hall-a", "env-1", "", KIND_ENV);
    assert_int_equal(alert_update(&a, true, 0, MONO0, T0), AT_FIRING);
    assert_int_equal(store_writer_record(w, &a, AT_FIRING), 0);
    assert_int_equal(alert_ack(&a, "li.wei", "on it", T0 + 5), AT_ACKNOWLEDGED);
    assert_int_equal(store_writer_record(w, &a, AT_ACKNOWLEDGED), 0);
    store_writer_flush(w);
    assert_int_equal(store_writer_pending(w), 0);
    assert_int_equal(history_count(ro), 2);
    assert_int_equal(history_count(st), 2);
    store_writer_stop(w);
    store_close(ro);
    store_close(st);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, make_dir, remove_dir)
    const struct CMUnitTest tests[] = {
        T(test_store_records_firing_ack_resolved_in_order_with_who_and_note),
        T(test_store_manual_resolve_records_who_handled_it),
        T(test_store_does_not_record_pending_or_cancelled),
        T(test_store_update_without_transition_keeps_the_row_current),
        T(test_store_active_alerts_come_back_after_restart),
        T(test_store_history_filters_by_time_and_hall),
        T(test_store_baselines_set_get_overwrite),
        T(test_store_creates_a_wal_database_with_a_schema_version),
        T(test_store_refuses_a_newer_schema),
        T(test_store_refuses_a_file_that_is_not_a_database),
        T(test_store_readonly_open_of_missing_file_fails_clearly),
        T(test_store_readonly_handle_reads_while_the_gateway_writes),
        T(test_store_locked_database_gives_ebusy_after_the_timeout),
        T(test_store_open_in_readonly_directory_fails_clearly),
        T(test_store_existing_database_in_readonly_directory_fails_clearly),
        T(test_store_readonly_file_fails_clearly),
        T(test_store_batch_records_every_transition_in_order),
        T(test_store_writer_stop_commits_everything_queued_in_order),
        T(test_store_writer_flush_makes_transitions_visible_to_readers),
    };
#undef T

    return cmocka_run_group_tests(tests, NULL, NULL);
}
