/* The live hall page's files: built into the program byte for byte as they
 * are in dashboards/web, found by name with their type and ETag, or read
 * from a customised web_dir; If-None-Match as browsers send it. */
#include <dirent.h>
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

#include "fixtures.h"
#include "webpage.h"

#define WEB_DIR HALLGW_SOURCE_DIR "/dashboards/web"

static void test_every_page_file_is_built_in_as_it_is_in_the_tree(void **state)
{
    (void)state;
    DIR *d = opendir(WEB_DIR);
    struct dirent *e;
    size_t n = 0;
    assert_non_null(d);
    while ((e = readdir(d))) {
        char path[1024];
        size_t len;
        struct webpage_file f;
        if (e->d_name[0] == '.')
            continue;
        (void)snprintf(path, sizeof(path), "%s/%s", WEB_DIR, e->d_name);
        char *want = fixtures_read_file(path, &len);
        if (webpage_open(NULL, e->d_name, &f) != 0)
            fail_msg("%s is not built in", e->d_name);
        assert_int_equal(f.fd, -1);
        assert_int_equal(f.len, len);
        assert_memory_equal(f.data, want, len);
        assert_int_equal(f.data[len], 0);
        /* A strong ETag: 16 hex digits, quoted. */
        assert_int_equal(strlen(f.etag), 18);
        assert_true(f.etag[0] == '"' && f.etag[17] == '"');
        free(want);
        n++;
    }
    closedir(d);
    assert_true(n >= 4); /* index.html, app.js, i18n.js, style.css at least */
    assert_int_equal(webpage_embedded_count(), n);
}

static void test_types_follow_the_extension(void **state)
{
    (void)state;
    struct webpage_file f;
    assert_int_equal(webpage_open(NULL, "index.html", &f), 0);
    assert_string_equal(f.type, "text/html; charset=utf-8");
    assert_int_equal(webpage_open(NULL, "app.js", &f), 0);
    assert_string_equal(f.type, "text/javascript; charset=utf-8");
    assert_int_equal(webpage_open(NULL, "style.css", &f), 0);
    assert_string_equal(f.type, "text/css; charset=utf-8");
    assert_int_equal(webpage_open(NULL, "favicon.svg", &f), 0);
    assert_string_equal(f.type, "image/svg+xml");
    /* What a browser asks of a page without an icon: the same icon. */
    struct webpage_file ico;
    assert_int_equal(webpage_open(NULL, "favicon.ico", &ico), 0);
    assert_string_equal(ico.type, "image/svg+xml");
    assert_int_equal(ico.len, f.len);
    assert_string_equal(ico.etag, f.etag);
}

static void test_names_outside_the_page_are_not_found(void **state)
{
    (void)state;
    struct webpage_file f;
    static const char *const bad[] = {"",       "missing.js",   ".hidden",      "../x",
                                      "a/b.js", "index.html\n", "%2e%2e%2fetc", "app.js?x",
                                      "APP.JS", " index.html"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(webpage_open(NULL, bad[i], &f), -ENOENT);
        assert_int_equal(webpage_open(WEB_DIR, bad[i], &f), -ENOENT);
        assert_int_equal(f.fd, -1);
    }
}

static void test_a_customised_dir_is_read_and_its_etag_follows_changes(void **state)
{
    (void)state;
    char dir[] = "/tmp/hallgw-test-web-XXXXXX", path[256];
    struct webpage_file f;
    assert_non_null(mkdtemp(dir));
    (void)snprintf(path, sizeof(path), "%s/index.html", dir);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("<!doctype html><title>our hall</title>", fp);
    fclose(fp);

    assert_int_equal(webpage_open(dir, "index.html", &f), 0);
    assert_true(f.fd >= 0);
    assert_null(f.data);
    assert_int_equal(f.len, strlen("<!doctype html><title>our hall</title>"));
    char first[sizeof(f.etag)];
    memcpy(first, f.etag, sizeof(first));
    close(f.fd);
    /* Not in the directory: not taken from the built-in page either. */
    assert_int_equal(webpage_open(dir, "app.js", &f), -ENOENT);
    /* A directory is not a file. */
    (void)snprintf(path, sizeof(path), "%s/sub.d", dir);
    assert_int_equal(mkdir(path, 0700), 0);
    assert_int_equal(webpage_open(dir, "sub.d", &f), -ENOENT);
    assert_int_equal(rmdir(path), 0);

    (void)snprintf(path, sizeof(path), "%s/index.html", dir);
    fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("<!doctype html><title>our hall, edited</title>", fp);
    fclose(fp);
    assert_int_equal(webpage_open(dir, "index.html", &f), 0);
    assert_string_not_equal(f.etag, first);
    close(f.fd);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(rmdir(dir), 0);
}

static void test_if_none_match_lists_wildcards_and_weak_tags(void **state)
{
    (void)state;
    const char *etag = "\"0123456789abcdef\"";
    assert_true(webpage_etag_matches("\"0123456789abcdef\"", etag));
    assert_true(webpage_etag_matches("W/\"0123456789abcdef\"", etag));
    assert_true(webpage_etag_matches("\"x\", \"0123456789abcdef\"", etag));
    assert_true(webpage_etag_matches("\"x\",W/\"0123456789abcdef\"", etag));
    assert_true(webpage_etag_matches("*", etag));
    assert_false(webpage_etag_matches(NULL, etag));
    assert_false(webpage_etag_matches("", etag));
    assert_false(webpage_etag_matches("\"0123456789abcde\"", etag));
    assert_false(webpage_etag_matches("0123456789abcdef", etag));
    assert_false(webpage_etag_matches("\"0123456789abcdef", etag));
    assert_false(webpage_etag_matches("W/", etag));
    assert_false(webpage_etag_matches(",,, ,", etag));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_page_file_is_built_in_as_it_is_in_the_tree),
        cmocka_unit_test(test_types_follow_the_extension),
        cmocka_unit_test(test_names_outside_the_page_are_not_found),
        cmocka_unit_test(test_a_customised_dir_is_read_and_its_etag_follows_changes),
        cmocka_unit_test(test_if_none_match_lists_wildcards_and_weak_tags),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
