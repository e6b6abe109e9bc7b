/* The inbox journal: what is recorded and not done is replayed after a
 * reopen, with its arrival; what is done is not; a torn tail is cut off and
 * counted; the last run's messages are recognised when sent again. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "journal.h"

static char dir[] = "/tmp/hallgw-test-journal-XXXXXX";

struct seen {
    int n;
    uint64_t ids[64];
    wall_s arrivals[64];
    char payloads[64][32];
};

static int collect(void *ctx, const struct journal_msg *m)
{
    struct seen *s = ctx;
    assert_true(s->n < 64);
    assert_string_equal(m->topic, "hall/h1/env-1/telemetry");
    s->ids[s->n] = m->id;
    s->arrivals[s->n] = m->arrival;
    snprintf(s->payloads[s->n], sizeof(s->payloads[0]), "%s", m->payload);
    s->n++;
    return 0;
}

static uint64_t record(struct journal *j, int i, wall_s *arrival)
{
    char payload[32];
    static const char topic[] = "hall/h1/env-1/telemetry";
    uint64_t id;
    int n = snprintf(payload, sizeof(payload), "{\"seq\": %d}", i);
    assert_int_equal(journal_record(j, 100 + i, topic, strlen(topic), payload, (size_t)n, 1, false,
                                    &id, arrival),
                     0);
    return id;
}

static void test_what_is_not_done_is_replayed_with_its_arrival(void **state)
{
    (void)state;
    assert_non_null(mkdtemp(dir));
    struct journal *j;
    assert_int_equal(journal_open(dir, "c", JOURNAL_PROCESS, 0, NULL, NULL, &j), 0);
    wall_s arrival[10];
    uint64_t ids[10];
    for (int i = 0; i < 10; i++)
        ids[i] = record(j, i, &arrival[i]);
    for (int i = 1; i < 10; i++) {
        assert_int_equal(ids[i], ids[i - 1] + 1);
        assert_true(arrival[i] > arrival[i - 1]);
    }
    journal_done(j, ids[5]);
    /* A crash: the journal is not closed. */
    struct journal_stats st;
    journal_stats(j, &st);
    assert_int_equal(st.recorded, 10);

    struct journal *k;
    assert_int_equal(journal_open(dir, "c", JOURNAL_PROCESS, 0, NULL, NULL, &k), 0);
    struct seen s = {0};
    assert_int_equal(journal_replay(k, collect, &s), 4);
    assert_int_equal(s.n, 4);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(s.ids[i], ids[6 + i]);
        assert_true(s.arrivals[i] == arrival[6 + i]); /* the very same instant */
    }
    assert_string_equal(s.payloads[0], "{\"seq\": 6}");
    /* New ids go on after the old. */
    wall_s t;
    assert_true(record(k, 10, &t) > ids[9]);
    /* The last run's messages are known when the broker sends them again. */
    assert_true(journal_seen(k, 109, "hall/h1/env-1/telemetry", 23, "{\"seq\": 9}", 10));
    assert_false(journal_seen(k, 109, "hall/h1/env-1/telemetry", 23, "{\"seq\": 8}", 10));
    journal_close(j);
    /* Everything done: closing leaves nothing to replay. */
    journal_done(k, ids[9] + 1);
    journal_close(k);
    assert_int_equal(journal_open(dir, "c", JOURNAL_PROCESS, 0, NULL, NULL, &k), 0);
    memset(&s, 0, sizeof(s));
    assert_int_equal(journal_replay(k, collect, &s), 0);
    journal_close(k);
}

static void test_a_torn_tail_is_cut_off_and_counted(void **state)
{
    (void)state;
    struct journal *j;
    assert_int_equal(journal_open(dir, "t", JOURNAL_MACHINE, 0, NULL, NULL, &j), 0);
    wall_s t;
    for (int i = 0; i < 3; i++)
        record(j, i, &t);
    journal_stats(j, &(struct journal_stats){0});
    /* Half of the next write: a torn record. */
    journal_fail_writes(j, 5 /* EIO */);
    char payload[] = "{\"seq\": 3}";
    uint64_t id;
    assert_true(journal_record(j, 103, "hall/h1/env-1/telemetry", 23, payload, strlen(payload), 1,
                               false, &id, &t) < 0);
    assert_int_equal(id, 0);
    struct journal_stats st;
    journal_stats(j, &st);
    assert_int_equal(st.errors, 1);
    assert_true(st.syncs >= 3); /* machine: each message synced */
    /* Leave a torn tail as a kill would: append half a record by hand. */
    char path[256], best[256] = "", seg[600];
    snprintf(path, sizeof(path), "%s/t.journal", dir);
    DIR *d = opendir(path);
    assert_non_null(d);
    for (struct dirent *e; (e = readdir(d));)
        if (strstr(e->d_name, ".log") && strcmp(e->d_name, best) > 0)
            snprintf(best, sizeof(best), "%s", e->d_name);
    closedir(d);
    assert_true(best[0] != '\0');
    snprintf(seg, sizeof(seg), "%s/%s", path, best);
    FILE *f = fopen(seg, "ab");
    assert_non_null(f);
    fwrite("HGJN\x40\0\0\0garbage", 1, 15, f);
    fclose(f);

    struct journal *k;
    assert_int_equal(journal_open(dir, "t", JOURNAL_PROCESS, 0, NULL, NULL, &k), 0);
    journal_stats(k, &st);
    assert_int_equal(st.torn, 1);
    struct seen s = {0};
    assert_int_equal(journal_replay(k, collect, &s), 3);
    journal_close(j);
    journal_close(k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_what_is_not_done_is_replayed_with_its_arrival),
        cmocka_unit_test(test_a_torn_tail_is_cut_off_and_counted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
