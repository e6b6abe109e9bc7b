/* The on-disk spool: order and exactly-once across reopen, torn tails and
 * corrupt records found and skipped, the size cap, and refusals. Each test
 * runs in its own mkdtemp directory under /tmp, removed afterwards. */
#include "spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))
#define HEADER 16
#define MiB (UINT64_C(1) << 20)

/* ---- Fixture: a fresh directory per test ---------------------------------- */

static int make_dir(void **state)
{
    char tmpl[] = "/tmp/hallgw-spool-XXXXXX";

    if (!mkdtemp(tmpl))
        return -1;
    *state = strdup(tmpl);
    return *state ? 0 : -1;
}

static int remove_dir(void **state)
{
    char *dir = *state, path[512];
    struct dirent *e;
    DIR *d = opendir(dir);

    if (d) {
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
            unlink(path);
        }
        closedir(d);
    }
    rmdir(dir);
    free(dir);
    return 0;
}

/* ---- Helpers -------------------------------------------------------------- */

/* Record i of size bytes: "record NNNNNN " then a pattern that depends on i. */
static void fill_record(unsigned char *buf, size_t size, unsigned i)
{
    char head[16];
    int n = snprintf(head, sizeof(head), "record %06u ", i);

    for (size_t k = 0; k < size; k++)
        buf[k] = k < (size_t)n ? (unsigned char)head[k] : (unsigned char)(k * 31 + i * 7);
}

static void append_record(struct spool *s, unsigned i, size_t size)
{
    unsigned char *buf = malloc(size);

    assert_non_null(buf);
    fill_record(buf, size, i);
    assert_int_equal(spool_append(s, buf, size), 0);
    free(buf);
}

static void append_records(struct spool *s, unsigned from, unsigned to, size_t size)
{
    for (unsigned i = from; i < to; i++)
        append_record(s, i, size);
}

/* Peeks, checks it is record i of size bytes, and consumes it. */
static void expect_record(struct spool *s, unsigned i, size_t size)
{
    unsigned char *want = malloc(size);
    void *data;
    size_t len;
    int rc;

    assert_non_null(want);
    fill_record(want, size, i);
    rc = spool_peek(s, &data, &len);
    if (rc != 0)
        fail_msg("record %u: peek returned %d", i, rc);
    if (len != size || memcmp(data, want, size) != 0)
        fail_msg("record %u: got \"%.13s\" (%zu bytes)", i, (const char *)data, len);
    free(data);
    free(want);
    assert_int_equal(spool_consume(s), 0);
}

static void expect_empty(struct spool *s)
{
    void *data = (void *)1;
    size_t len = 1;

    assert_int_equal(spool_peek(s, &data, &len), -ENOENT);
    assert_null(data);
    assert_int_equal(len, 0);
}

static struct spool_stats stats_of(const struct spool *s)
{
    struct spool_stats st;

    spool_get_stats(s, &st);
    return st;
}

static struct spool *open_spool(const char *dir, uint64_t max_bytes, uint64_t segment_bytes)
{
    struct spool *s = NULL;

    assert_int_equal(spool_open(dir, max_bytes, segment_bytes, &s), 0);
    assert_non_null(s);
    return s;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* The segment files of dir, sorted; returns how many (at most max). */
static size_t list_segments(const char *dir, char names[][64], size_t max)
{
    struct dirent *e;
    DIR *d = opendir(dir);
    size_t n = 0;

    assert_non_null(d);
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);

        if (len > 6 && strcmp(e->d_name + len - 6, ".spool") == 0 && n < max)
            snprintf(names[n++], 64, "%.63s", e->d_name);
    }
    closedir(d);
    qsort(names, n, 64, cmp_names);
    return n;
}

static void segment_path(const char *dir, bool newest, char *path, size_t size)
{
    char names[64][64];
    size_t n = list_segments(dir, names, N_ELEMS(names));

    assert_true(n > 0);
    snprintf(path, size, "%s/%s", dir, names[newest ? n - 1 : 0]);
}

static off_t file_size(const char *path)
{
    struct stat sb;

    assert_int_equal(stat(path, &sb), 0);
    return sb.st_size;
}

static void truncate_file(const char *path, off_t size)
{
    assert_int_equal(truncate(path, size), 0);
}

static void append_bytes(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_APPEND);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    close(fd);
}

static void flip_byte(const char *path, off_t off)
{
    unsigned char c;
    int fd = open(path, O_RDWR);

    assert_true(fd >= 0);
    assert_int_equal(pread(fd, &c, 1, off), 1);
    c ^= 0x20;
    assert_int_equal(pwrite(fd, &c, 1, off), 1);
    close(fd);
}

/* ---- Order and exactly-once ----------------------------------------------- */

static void test_records_survive_reopen_in_order_with_their_stats(void **state)
{
    const char *dir = *state;
    struct spool *s = open_spool(dir, MiB, 4096);
    struct spool_stats before, after;
    uint64_t bytes = 0;

    for (unsigned i = 0; i < 100; i++) {
        append_record(s, i, 10 + i * 3);
        bytes += HEADER + 10 + i * 3;
    }
    before = stats_of(s);
    assert_int_equal(before.records, 100);
    assert_int_equal(before.appended, 100);
    assert_int_equal(before.bytes, bytes);
    spool_close(s);

    s = open_spool(dir, MiB, 4096);
    after = stats_of(s);
    assert_int_equal(after.records, 100);
    assert_int_equal(after.bytes, bytes);
    assert_int_equal(after.appended, 0);
    assert_int_equal(after.torn, 0);
    for (unsigned i = 0; i < 100; i++) {
        expect_record(s, i, 10 + i * 3);
        assert_int_equal(stats_of(s).records, 99 - i);
    }
    expect_empty(s);
    spool_close(s);
}

static void test_consumed_records_are_not_replayed_after_reopen(void **state)
{
    const char *dir = *state;
    struct spool *s = open_spool(dir, MiB, 1000);
    char names[64][64];
    void *data;
    size_t len;

    append_records(s, 0, 50, 40);
    for (unsigned i = 0; i < 20; i++)
        expect_record(s, i, 40);
    spool_close(s);

    s = open_spool(dir, MiB, 1000);
    assert_int_equal(stats_of(s).records, 30);
    /* Peeked but not consumed: still there after a restart. */
    assert_int_equal(spool_peek(s, &data, &len), 0);
    free(data);
    spool_close(s);

    s = open_spool(dir, MiB, 1000);
    for (unsigned i = 20; i < 50; i++)
        expect_record(s, i, 40);
    expect_empty(s);
    spool_close(s);

    s = open_spool(dir, MiB, 1000);
    expect_empty(s);
    assert_int_equal(stats_of(s).records, 0);
    assert_int_equal(stats_of(s).bytes, 0);
    assert_int_equal(list_segments(dir, names, N_ELEMS(names)), 0);
    /* New records after a full drain come out too. */
    append_records(s, 50, 53, 40);
    spool_close(s);
    s = open_spool(dir, MiB, 1000);
    for (unsigned i = 50; i < 53; i++)
        expect_record(s, i, 40);
    expect_empty(s);
    spool_close(s);
}

static void test_empty_spool_has_nothing_to_peek_or_consume(void **state)
{
    struct spool *s = open_spool(*state, MiB, 4096);
    struct spool_stats st = stats_of(s);

    expect_empty(s);
    assert_int_equal(spool_consume(s), -EINVAL);
    assert_int_equal(st.records + st.bytes + st.appended + st.dropped_records + st.torn, 0);
    spool_close(s);
    spool_close(NULL);
}

static void test_consume_needs_a_peek_first(void **state)
{
    struct spool *s = open_spool(*state, MiB, 4096);

    append_records(s, 0, 2, 10);
    expect_record(s, 0, 10);
    assert_int_equal(spool_consume(s), -EINVAL); /* not twice for one peek */
    expect_record(s, 1, 10);
    spool_close(s);
}

static void test_fully_consumed_segments_are_deleted(void **state)
{
    const char *dir = *state;
    struct spool *s = open_spool(dir, MiB, 300); /* two 116-byte records each */
    char names[64][64];

    append_records(s, 0, 6, 100);
    assert_int_equal(list_segments(dir, names, N_ELEMS(names)), 3);
    expect_record(s, 0, 100);
    assert_int_equal(list_segments(dir, names, N_ELEMS(names)), 3);
    expect_record(s, 1, 100);
    assert_int_equal(list_segments(dir, names, N_ELEMS(names)), 2);
    assert_int_equal(stats_of(s).bytes, 4 * 116);
    for (unsigned i = 2; i < 6; i++)
        expect_record(s, i, 100);
    assert_int_equal(list_segments(dir, names, N_ELEMS(names)), 0);
    assert_int_equal(stats_of(s).bytes, 0);
    spool_close(s);
}

static void test_garbled_cursor_replays_rather_than_loses(void **state)
{
    const char *dir = *state;
    struct spool *s = open_spool(dir, MiB, 4096);
    char path[512];

    append_records(s, 0, 5, 30);
    expect_record(s, 0, 30);
    expect_record(s, 1, 30);
    spool_close(s);

    snprintf(path, sizeof(path), "%s/cursor", dir);
    flip_byte(path, 10);
    s = open_spool(dir, MiB, 4096);
    assert_int_equal(stats_of(s).records, 5);
    for (unsigned i = 0; i < 5; i++)
        expect_record(s, i, 30);
    expect_empty(s);
    spool_close(s);
}

/* ---- Torn tails and corrupt records --------------------------------------- */

enum corruption {
    CUT_MID_PAYLOAD,
    CUT_MID_HEADER,
    APPEND_GARBAGE,
    FLIP_LAST_PAYLOAD_BYTE,
    ZERO_FILLED_TAIL,
    HEADER_PAST_END,
};

static const struct {
    const char *name;
    enum corruption how;
    unsigned kept; /* of the 5 records written */
} torn_cases[] = {
    {"cut in the middle of the last payload", CUT_MID_PAYLOAD, 4},
    {"cut in the middle of the last header", CUT_MID_HEADER, 4},
    {"garbage after the last record", APPEND_GARBAGE, 5},
    {"a byte of the last payload flipped", FLIP_LAST_PAYLOAD_BYTE, 4},
    {"zeros after the last record", ZERO_FILLED_TAIL, 5},
    {"a header whose payload runs past the end", HEADER_PAST_END, 5},
};

static void corrupt_newest(const char *dir, enum corruption how)
{
    static const unsigned char header_past_end[] = {
        0x48, 0x47, 0x53, 0x52, 0xe8, 0x03, 0, 0, 1, 2, 3, 4, 0, 0, 0, 0, 'a', 'b', 'c'};
    char path[512];
    off_t last = 4 * (HEADER + 100); /* start of the fifth record */

    segment_path(dir, true, path, sizeof(path));
    assert_int_equal(file_size(path), 5 * (HEADER + 100));
    switch (how) {
    case CUT_MID_PAYLOAD:
        truncate_file(path, last + HEADER + 50);
        break;
    case CUT_MID_HEADER:
        truncate_file(path, last + 9);
        break;
    case APPEND_GARBAGE:
        append_bytes(path, "garbage that is no record at all", 32);
        break;
    case FLIP_LAST_PAYLOAD_BYTE:
        flip_byte(path, last + HEADER + 99);
        break;
    case ZERO_FILLED_TAIL:
        truncate_file(path, last + HEADER + 100 + 4096);
        break;
    case HEADER_PAST_END:
        append_bytes(path, header_past_end, sizeof(header_past_end));
        break;
    }
}

static void test_torn_tail_is_cut_counted_and_earlier_records_kept(void **state)
{
    const char *dir = *state;

    for (size_t c = 0; c < N_ELEMS(torn_cases); c++) {
        struct spool *s = open_spool(dir, MiB, MiB);
        struct spool_stats st;
        unsigned kept = torn_cases[c].kept;

        append_records(s, 0, 5, 100);
        spool_close(s);
        corrupt_newest(dir, torn_cases[c].how);

        s = open_spool(dir, MiB, MiB);
        st = stats_of(s);
        if (st.torn != 1 || st.records != kept)
            fail_msg("%s: torn %llu, records %llu", torn_cases[c].name, (unsigned long long)st.torn,
                     (unsigned long long)st.records);
        assert_int_equal(st.bytes, kept * (HEADER + 100));
        /* Appends go on after the cut, and everything reads back in order. */
        append_record(s, 1000, 100);
        spool_close(s);

        s = open_spool(dir, MiB, MiB);
        assert_int_equal(stats_of(s).torn, 0);
        for (unsigned i = 0; i < kept; i++)
            expect_record(s, i, 100);
        expect_record(s, 1000, 100);
        expect_empty(s);
        spool_close(s);
    }
}

static void test_corrupt_record_before_good_ones_is_skipped_not_cut(void **state)
{
    const char *dir = *state;
    struct spool *s = open_spool(dir, MiB, MiB);
    char path[512];

    append_records(s, 0, 5, 100);
    spool_close(s);
    segment_path(dir, true, path, sizeof(path));
    flip_byte(path, 2 * (HEADER + 100) + HEADER + 40);

    s = open_spool(dir, MiB, MiB);
    assert_int_equal(stats_of(s).torn, 0);
    assert_int_equal(stats_of(s).records, 5);
    expect_record(s, 0, 100);
    expect_record(s, 1, 100);
    expect_record(s, 3, 100); /* 2 is skipped... */
    assert_int_equal(stats_of(s).torn, 1);
    expect_record(s, 4, 100); /* ...and the good ones after it kept */
    expect_empty(s);
    assert_int_equal(stats_of(s).records, 0);
    spool_close(s);

    s = open_spool(dir, MiB, MiB);
    expect_empty(s);
    assert_int_equal(stats_of(s).torn, 0);
    spool_close(s);
}

static const struct {
    const char *name;
    enum corruption how;
    unsigned missing; /* the record of the oldest segment lost, or 99 */
} older_cases[] = {
    {"a byte of an older segment's payload flipped", FLIP_LAST_PAYLOAD_BYTE, 1},
    {"an older segment cut mid-record", CUT_MID_PAYLOAD, 1},
    {"garbage after an older segment's last record", APPEND_GARBAGE, 99},
};

static void test_corruption_in_older_segment_is_found_when_read(void **state)
{
    const char *dir = *state;

    for (size_t c = 0; c < N_ELEMS(older_cases); c++) {
        struct spool *s = open_spool(dir, MiB, 300); /* two 116-byte records each */
        char path[512];

        append_records(s, 0, 6, 100);
        spool_close(s);
        segment_path(dir, false, path, sizeof(path));
        if (older_cases[c].how == FLIP_LAST_PAYLOAD_BYTE)
            flip_byte(path, HEADER + 100 + HEADER + 7);
        else if (older_cases[c].how == CUT_MID_PAYLOAD)
            truncate_file(path, HEADER + 100 + HEADER + 50);
        else
            append_bytes(path, "garbage", 7);

        s = open_spool(dir, MiB, 300);
        assert_int_equal(stats_of(s).torn, 0); /* not read yet */
        for (unsigned i = 0; i < 6; i++)
            if (i != older_cases[c].missing)
                expect_record(s, i, 100);
        expect_empty(s);
        if (stats_of(s).torn != 1)
            fail_msg("%s: torn %llu", older_cases[c].name, (unsigned long long)stats_of(s).torn);
        assert_int_equal(stats_of(s).records, 0);
        spool_close(s);
    }
}

/* ---- The size cap --------------------------------------------------------- */

static void test_full_spool_drops_oldest_segments_and_keeps_newest(void **state)
{
    const char *dir = *state;
    struct spool *s = open_spool(dir, 1000, 300); /* 116-byte records, two a segment */
    struct spool_stats st;
    unsigned first;

    for (unsigned i = 0; i < 30; i++) {
        append_record(s, i, 100);
        assert_true(stats_of(s).bytes <= 1000);
    }
    st = stats_of(s);
    assert_int_equal(st.appended, 30);
    assert_int_equal(st.records + st.dropped_records, 30);
    assert_int_equal(st.records, 8); /* four segments of two */
    assert_int_equal(st.dropped_records, 22);
    spool_close(s);

    s = open_spool(dir, 1000, 300);
    assert_int_equal(stats_of(s).records, 8);
    first = 30 - 8;
    for (unsigned i = first; i < 30; i++)
        expect_record(s, i, 100);
    expect_empty(s);
    spool_close(s);
}

static void test_dropping_counts_only_unconsumed_records(void **state)
{
    struct spool *s = open_spool(*state, 1000, 300);

    append_records(s, 0, 8, 100); /* 928 bytes in four segments */
    expect_record(s, 0, 100);
    append_record(s, 8, 100); /* drops the oldest: 0 (consumed) and 1 */
    assert_int_equal(stats_of(s).dropped_records, 1);
    assert_int_equal(stats_of(s).records, 7);
    for (unsigned i = 2; i < 9; i++)
        expect_record(s, i, 100);
    expect_empty(s);
    spool_close(s);
}

static void test_full_single_segment_starts_a_new_one_to_make_room(void **state)
{
    struct spool *s = open_spool(*state, 300, MiB); /* segments larger than the cap */

    append_records(s, 0, 2, 100);
    append_record(s, 2, 100);
    assert_int_equal(stats_of(s).dropped_records, 2);
    assert_int_equal(stats_of(s).records, 1);
    assert_int_equal(stats_of(s).bytes, 116);
    expect_record(s, 2, 100);
    expect_empty(s);
    spool_close(s);
}

static void test_peeked_record_dropped_meanwhile_is_not_consumed_twice(void **state)
{
    struct spool *s = open_spool(*state, 500, 250);
    void *data;
    size_t len;

    append_records(s, 0, 4, 100); /* two segments, 464 bytes */
    assert_int_equal(spool_peek(s, &data, &len), 0);
    free(data);
    append_record(s, 4, 100); /* drops the segment holding 0 and 1 */
    assert_int_equal(stats_of(s).dropped_records, 2);
    assert_int_equal(spool_consume(s), 0); /* nothing more to do */
    for (unsigned i = 2; i < 5; i++)
        expect_record(s, i, 100);
    expect_empty(s);
    spool_close(s);
}

static void test_record_larger_than_max_is_refused(void **state)
{
    struct spool *s = open_spool(*state, 1000, 300);
    unsigned char *big = calloc(1, 1000);
    struct spool_stats st;

    assert_non_null(big);
    append_record(s, 0, 100);
    assert_int_equal(spool_append(s, big, 1000 - HEADER + 1), -EFBIG);
    assert_int_equal(spool_append(s, big, 1000), -EFBIG);
    assert_int_equal(spool_append(s, big, 0), -EINVAL);
    assert_int_equal(spool_append(s, NULL, 10), -EINVAL);
    st = stats_of(s);
    assert_int_equal(st.records, 1);
    assert_int_equal(st.appended, 1);
    assert_int_equal(st.dropped_records, 0);
    /* Exactly max_bytes with its header fits, in place of everything else. */
    assert_int_equal(spool_append(s, big, 1000 - HEADER), 0);
    assert_int_equal(stats_of(s).bytes, 1000);
    assert_int_equal(stats_of(s).dropped_records, 1);
    free(big);
    spool_close(s);
}

static void test_large_records_round_trip(void **state)
{
    static const size_t sizes[] = {1 * MiB, 3 * MiB, 5 * MiB, 1, 4 * MiB - HEADER};
    const char *dir = *state;
    struct spool *s = open_spool(dir, 64 * MiB, 4 * MiB);

    for (size_t i = 0; i < N_ELEMS(sizes); i++)
        append_record(s, (unsigned)i, sizes[i]);
    spool_close(s);
    s = open_spool(dir, 64 * MiB, 4 * MiB);
    for (size_t i = 0; i < N_ELEMS(sizes); i++)
        expect_record(s, (unsigned)i, sizes[i]);
    expect_empty(s);
    spool_close(s);
}

/* ---- Opening -------------------------------------------------------------- */

static void test_open_refuses_bad_arguments_and_a_second_owner(void **state)
{
    const char *dir = *state;
    struct spool *s = NULL, *other = NULL;
    char sub[512];

    assert_int_equal(spool_open(NULL, MiB, 4096, &s), -EINVAL);
    assert_int_equal(spool_open(dir, 0, 4096, &s), -EINVAL);
    assert_int_equal(spool_open(dir, MiB, 0, &s), -EINVAL);
    assert_int_equal(spool_open(dir, MiB, 4096, NULL), -EINVAL);

    s = open_spool(dir, MiB, 4096);
    assert_int_equal(spool_open(dir, MiB, 4096, &other), -EBUSY);
    assert_null(other);
    spool_close(s);

    /* The directory is created when missing. */
    snprintf(sub, sizeof(sub), "%s/nested", dir);
    s = open_spool(sub, MiB, 4096);
    append_record(s, 0, 10);
    spool_close(s);
    s = open_spool(sub, MiB, 4096);
    expect_record(s, 0, 10);
    spool_close(s);
    remove_dir(&(void *){strdup(sub)});
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, make_dir, remove_dir)
    const struct CMUnitTest tests[] = {
        T(test_records_survive_reopen_in_order_with_their_stats),
        T(test_consumed_records_are_not_replayed_after_reopen),
        T(test_empty_spool_has_nothing_to_peek_or_consume),
        T(test_consume_needs_a_peek_first),
        T(test_fully_consumed_segments_are_deleted),
        T(test_garbled_cursor_replays_rather_than_loses),
        T(test_torn_tail_is_cut_counted_and_earlier_records_kept),
        T(test_corrupt_record_before_good_ones_is_skipped_not_cut),
        T(test_corruption_in_older_segment_is_found_when_read),
        T(test_full_spool_drops_oldest_segments_and_keeps_newest),
        T(test_dropping_counts_only_unconsumed_records),
        T(test_full_single_segment_starts_a_new_one_to_make_room),
        T(test_peeked_record_dropped_meanwhile_is_not_consumed_twice),
        T(test_record_larger_than_max_is_refused),
        T(test_large_records_round_trip),
        T(test_open_refuses_bad_arguments_and_a_second_owner),
    };
#undef T

    return cmocka_run_group_tests(tests, NULL, NULL);
}
