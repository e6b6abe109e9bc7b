/* The MQTT client's persistence log: put/get/keys/remove/clear, reopen
 * restores the live keys only, a torn tail is cut, the log is emptied when
 * the last key goes and compacted when it grows, a failing write is an error
 * that keeps the record in memory and is counted, messages of the library's
 * own file persistence are imported. Each test runs in its own mkdtemp
 * directory under /tmp, removed afterwards. */
#include "mqtt_persist.h"

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

#include "reclog.h"

/* Failures the log reported (mqtt_persist_open's on_error). */
static unsigned errors;

static void count_error(void *ctx)
{
    (void)ctx;
    errors++;
}

#define NAME "gw-test"
/* Bytes of a record of a key of k bytes and data of d bytes: the record
 * log's header, the two lengths, the key, the data. */
#define RECORD(k, d) (16 + 8 + (k) + (d))

/* ---- Fixture: a fresh directory per test ---------------------------------- */

static int make_dir(void **state)
{
    char tmpl[] = "/tmp/hallgw-mqttp-XXXXXX";

    if (!mkdtemp(tmpl))
        return -1;
    *state = strdup(tmpl);
    errors = 0;
    return *state ? 0 : -1;
}

static void remove_tree(const char *dir)
{
    char path[512];
    struct dirent *e;
    struct stat st;
    DIR *d = opendir(dir);

    if (d) {
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
            if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
                remove_tree(path);
            else
                unlink(path);
        }
        closedir(d);
    }
    rmdir(dir);
}

static int remove_dir(void **state)
{
    remove_tree(*state);
    free(*state);
    return 0;
}

/* ---- Helpers -------------------------------------------------------------- */

static struct mqtt_persist *open_store(const char *dir)
{
    struct mqtt_persist *p = NULL;
    assert_int_equal(mqtt_persist_open(dir, NAME, count_error, NULL, &p), 0);
    assert_non_null(p);
    return p;
}

static int put_str(struct mqtt_persist *p, const char *key, const char *data)
{
    char *bufs[] = {(char *)data};
    int lens[] = {(int)strlen(data)};
    return mqtt_persist_put(p, key, 1, bufs, lens);
}

/* Asserts key holds exactly data. */
static void assert_holds(struct mqtt_persist *p, const char *key, const char *data)
{
    char *buf = NULL;
    int len = -1;
    assert_int_equal(mqtt_persist_get(p, key, malloc, &buf, &len), 0);
    assert_int_equal(len, (int)strlen(data));
    assert_memory_equal(buf, data, (size_t)len);
    free(buf);
}

static void assert_absent(struct mqtt_persist *p, const char *key)
{
    char *buf = NULL;
    int len = -1;
    assert_int_equal(mqtt_persist_get(p, key, malloc, &buf, &len), -ENOENT);
    assert_false(mqtt_persist_contains(p, key));
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Asserts the live keys, sorted, joined by ',', equal want. */
static void assert_keys(struct mqtt_persist *p, const char *want)
{
    char **keys = NULL, got[1024] = "";
    int n = -1;
    assert_int_equal(mqtt_persist_keys(p, malloc, &keys, &n), 0);
    if (n > 0)
        qsort(keys, (size_t)n, sizeof(*keys), cmp_str);
    for (int i = 0; i < n; i++) {
        if (i)
            strcat(got, ",");
        strcat(got, keys[i]);
        free(keys[i]);
    }
    free(keys);
    assert_string_equal(got, want);
}

static long long file_size(const char *dir)
{
    char path[512];
    struct stat st;
    snprintf(path, sizeof(path), "%s/%s.log", dir, NAME);
    return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

/* ---- Tests ------------------------------------------------------------------ */

static void test_put_get_keys_remove_clear(void **state)
{
    struct mqtt_persist *p = open_store(*state);
    char *bufs[] = {"c-", "\0\1", "payload"};
    int lens[] = {2, 2, 7};

    assert_keys(p, "");
    assert_int_equal(mqtt_persist_put(p, "c-1", 3, bufs, lens), 0);
    assert_int_equal(put_str(p, "q-2", "second"), 0);
    assert_int_equal(put_str(p, "s-3", ""), 0);
    char *buf = NULL;
    int len = 0;
    assert_int_equal(mqtt_persist_get(p, "c-1", malloc, &buf, &len), 0);
    assert_int_equal(len, 11);
    assert_memory_equal(buf, "c-\0\1payload", 11);
    free(buf);
    assert_holds(p, "s-3", "");
    assert_true(mqtt_persist_contains(p, "q-2"));
    assert_keys(p, "c-1,q-2,s-3");
    assert_int_equal(mqtt_persist_count_prefix(p, "q"), 1);
    assert_int_equal(mqtt_persist_count_prefix(p, "c-"), 1);
    assert_int_equal(mqtt_persist_count_prefix(p, ""), 3);
    assert_int_equal(mqtt_persist_count_prefix(p, "r-"), 0);

    assert_int_equal(put_str(p, "q-2", "replaced"), 0);
    assert_holds(p, "q-2", "replaced");
    assert_int_equal(mqtt_persist_remove(p, "c-1"), 0);
    assert_int_equal(mqtt_persist_remove(p, "c-1"), 0); /* absent: nothing to do */
    assert_absent(p, "c-1");
    assert_keys(p, "q-2,s-3");

    assert_int_equal(mqtt_persist_clear(p), 0);
    assert_keys(p, "");
    assert_int_equal(mqtt_persist_count_prefix(p, ""), 0);
    assert_int_equal(file_size(*state), 0);
    assert_int_equal(errors, 0);
    mqtt_persist_close(p);
    mqtt_persist_close(NULL);
}

static void test_bad_keys_and_names_are_refused(void **state)
{
    struct mqtt_persist *p = NULL;
    char key[MQTT_PERSIST_KEY_MAX + 2];

    assert_int_equal(mqtt_persist_open(*state, "a/b", NULL, NULL, &p), -EINVAL);
    assert_int_equal(mqtt_persist_open(*state, "", NULL, NULL, &p), -EINVAL);
    p = open_store(*state);
    memset(key, 'k', sizeof(key) - 1);
    key[sizeof(key) - 1] = '\0';
    assert_int_equal(put_str(p, key, "x"), -EINVAL);
    assert_int_equal(put_str(p, "", "x"), -EINVAL);
    assert_keys(p, "");
    mqtt_persist_close(p);
}

static void test_reopen_restores_the_live_keys_only(void **state)
{
    struct mqtt_persist *p = open_store(*state);
    assert_int_equal(put_str(p, "c-1", "one"), 0);
    assert_int_equal(put_str(p, "c-2", "two"), 0);
    assert_int_equal(put_str(p, "q-3", "three"), 0);
    assert_int_equal(mqtt_persist_remove(p, "c-2"), 0);
    assert_int_equal(put_str(p, "c-1", "one again"), 0);
    mqtt_persist_close(p);

    p = open_store(*state);
    assert_keys(p, "c-1,q-3");
    assert_holds(p, "c-1", "one again");
    assert_holds(p, "q-3", "three");
    /* Opening keeps only the live records. */
    assert_int_equal(file_size(*state), mqtt_persist_log_bytes(p));
    assert_int_equal(file_size(*state), RECORD(3, 9) + RECORD(3, 5));
    mqtt_persist_close(p);

    p = open_store(*state);
    assert_keys(p, "c-1,q-3");
    assert_int_equal(errors, 0);
    mqtt_persist_close(p);
}

static void test_a_torn_tail_is_cut_and_counted(void **state)
{
    struct mqtt_persist *p = open_store(*state);
    assert_int_equal(put_str(p, "c-1", "kept"), 0);
    assert_int_equal(put_str(p, "c-2", "torn by the crash"), 0);
    mqtt_persist_close(p);
    char path[512];
    snprintf(path, sizeof(path), "%s/%s.log", (char *)*state, NAME);
    assert_int_equal(truncate(path, file_size(*state) - 5), 0);

    p = open_store(*state);
    assert_keys(p, "c-1");
    assert_holds(p, "c-1", "kept");
    assert_int_equal(file_size(*state), RECORD(3, 4));
    assert_int_equal(errors, 1);
    /* Appends after the cut are read back. */
    assert_int_equal(put_str(p, "c-3", "after"), 0);
    mqtt_persist_close(p);

    /* Garbage after the records: cut too. */
    int fd = open(path, O_WRONLY | O_APPEND);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "HGMQgarbage-garbage", 19), 19);
    close(fd);
    p = open_store(*state);
    assert_keys(p, "c-1,c-3");
    assert_holds(p, "c-3", "after");
    assert_int_equal(errors, 2);
    mqtt_persist_close(p);
}

/* A record of the log as earlier versions wrote it: "HGMP", key length,
 * data length, CRC-32 of the lengths, key and data; then key and data. */
static size_t legacy_record(unsigned char *out, const char *key, const char *data)
{
    uint32_t k = (uint32_t)strlen(key), d = data ? (uint32_t)strlen(data) : 0xffffffffu;
    size_t body = data ? d : 0;
    uint32_t v[3] = {0x504d4748u, k, d};
    for (int i = 0; i < 3; i++)
        for (int b = 0; b < 4; b++)
            out[4 * i + b] = (unsigned char)(v[i] >> (8 * b));
    memcpy(out + 16, key, k);
    if (data)
        memcpy(out + 16 + k, data, body);
    uint32_t crc = reclog_crc32(0, out + 4, 8);
    crc = reclog_crc32(crc, out + 16, k + body);
    for (int b = 0; b < 4; b++)
        out[12 + b] = (unsigned char)(crc >> (8 * b));
    return 16 + k + body;
}

static void test_a_log_of_the_earlier_format_is_read_and_rewritten(void **state)
{
    unsigned char buf[512];
    size_t n = 0;
    n += legacy_record(buf + n, "q-1", "kept across the upgrade");
    n += legacy_record(buf + n, "c-2", "sent");
    n += legacy_record(buf + n, "c-2", NULL); /* removed */
    n += legacy_record(buf + n, "q-3", "also kept");
    char path[512];
    snprintf(path, sizeof(path), "%s/%s.log", (char *)*state, NAME);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, buf, n), (ssize_t)n);
    close(fd);

    struct mqtt_persist *p = open_store(*state);
    assert_keys(p, "q-1,q-3");
    assert_holds(p, "q-1", "kept across the upgrade");
    assert_holds(p, "q-3", "also kept");
    assert_int_equal(errors, 0);
    /* Rewritten in the record log's format, and read back as such. */
    assert_int_equal(file_size(*state), RECORD(3, 23) + RECORD(3, 9));
    mqtt_persist_close(p);
    p = open_store(*state);
    assert_keys(p, "q-1,q-3");
    assert_holds(p, "q-1", "kept across the upgrade");
    mqtt_persist_close(p);
}

static void test_the_log_is_emptied_when_the_last_key_goes(void **state)
{
    struct mqtt_persist *p = open_store(*state);
    assert_int_equal(put_str(p, "c-1", "one"), 0);
    assert_int_equal(put_str(p, "c-2", "two"), 0);
    assert_int_equal(mqtt_persist_remove(p, "c-1"), 0);
    assert_true(file_size(*state) > 0);
    assert_int_equal(mqtt_persist_remove(p, "c-2"), 0);
    assert_int_equal(file_size(*state), 0);
    mqtt_persist_close(p);
    p = open_store(*state);
    assert_keys(p, "");
    mqtt_persist_close(p);
}

static void test_the_log_is_compacted_when_it_grows(void **state)
{
    struct mqtt_persist *p = open_store(*state);
    size_t big = 64 * 1024;
    char *data = malloc(big + 1);
    assert_non_null(data);
    memset(data, 'x', big);
    data[big] = '\0';

    assert_int_equal(put_str(p, "q-1", "stays"), 0);
    for (int i = 0; i < 200; i++) { /* 12.5 MiB written in all */
        assert_int_equal(put_str(p, "c-2", data), 0);
        assert_true(file_size(*state) <= (long long)MQTT_PERSIST_COMPACT_BYTES +
                                             2 * RECORD(3, (long long)big) + RECORD(3, 5));
    }
    mqtt_persist_close(p);
    p = open_store(*state);
    assert_keys(p, "c-2,q-1");
    assert_holds(p, "c-2", data);
    assert_holds(p, "q-1", "stays");
    mqtt_persist_close(p);
    free(data);
}

static void test_a_failing_write_is_an_error_counted_and_kept_in_memory(void **state)
{
    struct mqtt_persist *p = open_store(*state);
    assert_int_equal(put_str(p, "c-1", "on disk"), 0);
    assert_int_equal(put_str(p, "c-2", "removed while the disk is full"), 0);
    long long before = file_size(*state);

    mqtt_persist_fail_writes(p, ENOSPC);
    assert_int_equal(put_str(p, "c-3", "in memory only"), -ENOSPC);
    assert_int_equal(file_size(*state), before); /* the half-written record is cut off */
    assert_holds(p, "c-3", "in memory only");
    assert_int_not_equal(mqtt_persist_remove(p, "c-2"), 0);
    assert_absent(p, "c-2");
    assert_keys(p, "c-1,c-3");
    assert_true(errors >= 2);

    /* Space back: the log is rewritten from memory (at most once a second). */
    mqtt_persist_fail_writes(p, 0);
    usleep(1100 * 1000);
    assert_int_equal(put_str(p, "c-4", "after"), 0);
    mqtt_persist_close(p);

    p = open_store(*state);
    assert_keys(p, "c-1,c-3,c-4");
    assert_holds(p, "c-3", "in memory only");
    mqtt_persist_close(p);
}

static void test_a_full_disk_then_everything_acknowledged_empties_the_log(void **state)
{
    struct mqtt_persist *p = open_store(*state);
    assert_int_equal(put_str(p, "c-1", "one"), 0);
    mqtt_persist_fail_writes(p, EIO);
    assert_int_equal(put_str(p, "c-2", "two"), -EIO);
    mqtt_persist_fail_writes(p, 0);
    /* Within a second of the failure the log is not retried: still an error. */
    assert_int_equal(mqtt_persist_remove(p, "c-1"), -EIO);
    assert_int_equal(mqtt_persist_remove(p, "c-2"), 0);
    assert_int_equal(file_size(*state), 0);
    mqtt_persist_close(p);
    p = open_store(*state);
    assert_keys(p, "");
    mqtt_persist_close(p);
}

static void test_an_unwritable_directory_keeps_messages_in_memory(void **state)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/not-a-dir", (char *)*state);
    int fd = open(path, O_WRONLY | O_CREAT, 0600);
    assert_true(fd >= 0);
    close(fd);

    struct mqtt_persist *p = NULL;
    assert_int_equal(mqtt_persist_open(path, NAME, count_error, NULL, &p), 0);
    assert_int_equal(put_str(p, "c-1", "memory"), -ENOTDIR);
    assert_holds(p, "c-1", "memory");
    assert_int_equal(mqtt_persist_remove(p, "c-1"), 0);
    assert_keys(p, "");
    assert_int_equal(errors, 1);
    mqtt_persist_close(p);
}

static void write_file(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    close(fd);
}

static void test_the_old_file_persistence_is_imported(void **state)
{
    char old[512], other[512], path[600];
    snprintf(old, sizeof(old), "%s/%s-127.0.0.1-1883", (char *)*state, NAME);
    snprintf(other, sizeof(other), "%s/another-127.0.0.1-1883", (char *)*state);
    assert_int_equal(mkdir(old, 0700), 0);
    assert_int_equal(mkdir(other, 0700), 0);
    snprintf(path, sizeof(path), "%s/c-1.msg", old);
    write_file(path, "command\0bytes", 13);
    snprintf(path, sizeof(path), "%s/q-7.msg", old);
    write_file(path, "queued", 6);
    snprintf(path, sizeof(path), "%s/q-9.msg", other);
    write_file(path, "not ours", 8);

    struct mqtt_persist *p = open_store(*state);
    assert_keys(p, "c-1,q-7");
    char *buf = NULL;
    int len = 0;
    assert_int_equal(mqtt_persist_get(p, "c-1", malloc, &buf, &len), 0);
    assert_int_equal(len, 13);
    assert_memory_equal(buf, "command\0bytes", 13);
    free(buf);
    assert_holds(p, "q-7", "queued");
    struct stat st;
    assert_int_equal(stat(old, &st), -1); /* imported, then removed */
    assert_int_equal(stat(other, &st), 0);
    mqtt_persist_close(p);

    p = open_store(*state);
    assert_keys(p, "c-1,q-7");
    mqtt_persist_close(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_put_get_keys_remove_clear, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_bad_keys_and_names_are_refused, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_reopen_restores_the_live_keys_only, make_dir,
                                        remove_dir),
        cmocka_unit_test_setup_teardown(test_a_torn_tail_is_cut_and_counted, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_a_log_of_the_earlier_format_is_read_and_rewritten,
                                        make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_the_log_is_emptied_when_the_last_key_goes, make_dir,
                                        remove_dir),
        cmocka_unit_test_setup_teardown(test_the_log_is_compacted_when_it_grows, make_dir,
                                        remove_dir),
        cmocka_unit_test_setup_teardown(test_a_failing_write_is_an_error_counted_and_kept_in_memory,
                                        make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(
            test_a_full_disk_then_everything_acknowledged_empties_the_log, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_an_unwritable_directory_keeps_messages_in_memory,
                                        make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_the_old_file_persistence_is_imported, make_dir,
                                        remove_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
