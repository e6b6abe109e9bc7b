/* The record log: appends read back, a torn tail (cut short, garbage, a bad
 * CRC) is found by reading and by walking and cut off, a failed append
 * leaves the log as it was, and one-record files are replaced whole. */
#include <errno.h>
#include <fcntl.h>
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

#include "reclog.h"

#define MAGIC UINT32_C(0x54534554) /* "TEST" */

static int make_dir(void **state)
{
    char tmpl[] = "/tmp/hallgw-reclog-XXXXXX";
    if (!mkdtemp(tmpl))
        return -1;
    *state = strdup(tmpl);
    return *state ? 0 : -1;
}

static int remove_dir(void **state)
{
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", (char *)*state);
    int rc = system(cmd);
    free(*state);
    return rc == 0 ? 0 : -1;
}

static int dir_fd(void **state)
{
    int fd = open(*state, O_RDONLY | O_DIRECTORY);
    assert_true(fd >= 0);
    return fd;
}

static void append_str(struct reclog *l, const char *s)
{
    struct iovec part = {(void *)s, strlen(s)};
    assert_int_equal(reclog_append(l, &part, 1), 0);
}

static void test_appends_read_back_in_order(void **state)
{
    int dfd = dir_fd(state);
    struct reclog l;
    assert_int_equal(reclog_open(&l, dfd, "log", O_RDWR | O_CREAT, 0600, MAGIC), 0);
    assert_int_equal(l.size, 0);
    append_str(&l, "first");
    /* One record of several parts. */
    struct iovec parts[3] = {{"se", 2}, {"con", 3}, {"d", 1}};
    assert_int_equal(reclog_append(&l, parts, 3), 0);
    append_str(&l, "third record");
    assert_int_equal(reclog_sync(&l), 0);
    assert_int_equal(l.size, 3 * RECLOG_HEADER_BYTES + 5 + 6 + 12);

    const char *want[] = {"first", "second", "third record"};
    uint64_t off = 0;
    for (int i = 0; i < 3; i++) {
        void *data;
        uint32_t len;
        uint64_t next;
        assert_int_equal(reclog_read(&l, off, l.size, &data, &len, &next), 1);
        assert_int_equal(len, strlen(want[i]));
        assert_memory_equal(data, want[i], len);
        free(data);
        off = next;
    }
    assert_int_equal(off, l.size);
    struct reclog_walk w;
    assert_int_equal(reclog_walk(&l, l.size, true, &w), 0);
    assert_int_equal(w.records, 3);
    assert_int_equal(w.good_end, l.size);
    /* Another log's records are not this one's. */
    struct reclog other = l;
    other.magic = MAGIC + 1;
    uint32_t len;
    assert_int_equal(reclog_header(&other, 0, l.size, &len), 0);
    /* An empty payload is refused. */
    struct iovec none = {"", 0};
    assert_int_equal(reclog_append(&l, &none, 1), -EINVAL);
    reclog_close(&l);
    close(dfd);
}

static void test_a_torn_tail_is_found_and_cut(void **state)
{
    int dfd = dir_fd(state);
    struct reclog l;
    assert_int_equal(reclog_open(&l, dfd, "log", O_RDWR | O_CREAT, 0600, MAGIC), 0);
    append_str(&l, "kept");
    append_str(&l, "bad crc here");
    append_str(&l, "kept too");
    uint64_t second = RECLOG_HEADER_BYTES + 4, third = second + RECLOG_HEADER_BYTES + 12;
    /* A flipped byte in the second payload: its CRC no longer matches. */
    assert_int_equal(pwrite(l.fd, "X", 1, (off_t)(second + RECLOG_HEADER_BYTES + 3)), 1);
    void *data;
    uint32_t len;
    uint64_t next;
    assert_int_equal(reclog_read(&l, second, l.size, &data, &len, &next), 0);
    assert_null(data);
    assert_int_equal(next, third); /* a reader may go on past it */
    assert_int_equal(reclog_read(&l, third, l.size, &data, &len, &next), 1);
    free(data);
    struct reclog_walk w;
    assert_int_equal(reclog_walk(&l, l.size, true, &w), 0);
    assert_int_equal(w.records, 3);
    assert_int_equal(w.good_records, 3); /* the last one is good */
    /* Cut short in the middle of the last record. */
    uint64_t end = l.size;
    assert_int_equal(reclog_truncate(&l, end - 3), 0);
    assert_int_equal(reclog_walk(&l, l.size, true, &w), 0);
    assert_int_equal(w.records, 2);
    assert_int_equal(w.valid_end, third);
    assert_int_equal(w.good_end, second);
    assert_int_equal(w.bad_after, 1);
    assert_int_equal(reclog_read(&l, third, l.size, &data, &len, &next), 0);
    assert_int_equal(next, 0); /* not even a whole header's record */
    assert_int_equal(reclog_truncate(&l, w.good_end), 0);
    append_str(&l, "after the cut");
    assert_int_equal(reclog_read(&l, second, l.size, &data, &len, &next), 1);
    assert_memory_equal(data, "after the cut", len);
    free(data);
    reclog_close(&l);
    close(dfd);
}

static void test_a_failed_append_leaves_the_log_as_it_was(void **state)
{
    int dfd = dir_fd(state);
    struct reclog l;
    assert_int_equal(reclog_open(&l, dfd, "log", O_RDWR | O_CREAT, 0600, MAGIC), 0);
    append_str(&l, "one");
    uint64_t size = l.size;
    l.fail_err = ENOSPC;
    struct iovec part = {"two", 3};
    assert_int_equal(reclog_append(&l, &part, 1), -ENOSPC);
    assert_int_equal(l.size, size);
    struct stat st;
    assert_int_equal(fstat(l.fd, &st), 0);
    assert_int_equal((uint64_t)st.st_size, size);
    l.fail_err = 0;
    append_str(&l, "two");
    struct reclog_walk w;
    assert_int_equal(reclog_walk(&l, l.size, true, &w), 0);
    assert_int_equal(w.good_records, 2);
    reclog_close(&l);
    close(dfd);
}

static void test_one_record_files_are_replaced_whole(void **state)
{
    int dfd = dir_fd(state);
    unsigned char v[16];
    assert_int_equal(reclog_load(dfd, "cursor", MAGIC, v, sizeof(v)), -ENOENT);
    assert_int_equal(reclog_replace(dfd, "cursor", MAGIC, "0123456789abcdef", 16), 0);
    assert_int_equal(reclog_load(dfd, "cursor", MAGIC, v, sizeof(v)), 0);
    assert_memory_equal(v, "0123456789abcdef", 16);
    assert_int_equal(reclog_replace(dfd, "cursor", MAGIC, "fedcba9876543210", 16), 0);
    assert_int_equal(reclog_load(dfd, "cursor", MAGIC, v, sizeof(v)), 0);
    assert_memory_equal(v, "fedcba9876543210", 16);
    /* No temporary file is left behind. */
    assert_int_equal(faccessat(dfd, "cursor.tmp", F_OK, 0), -1);
    /* A record of another length, another log's, or a damaged one is not it. */
    assert_int_equal(reclog_load(dfd, "cursor", MAGIC, v, 8), -EBADMSG);
    assert_int_equal(reclog_load(dfd, "cursor", MAGIC + 1, v, sizeof(v)), -EBADMSG);
    int fd = openat(dfd, "cursor", O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, "Z", 1, RECLOG_HEADER_BYTES), 1);
    close(fd);
    assert_int_equal(reclog_load(dfd, "cursor", MAGIC, v, sizeof(v)), -EBADMSG);
    close(dfd);
}

#define T(f) cmocka_unit_test_setup_teardown(f, make_dir, remove_dir)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_appends_read_back_in_order),
        T(test_a_torn_tail_is_found_and_cut),
        T(test_a_failed_append_leaves_the_log_as_it_was),
        T(test_one_record_files_are_replaced_whole),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
