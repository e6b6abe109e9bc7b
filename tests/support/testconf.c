#include "testconf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

void testconf_write(char *path, size_t size, const void *data, size_t len)
{
    const char *tmp = getenv("TMPDIR");

    (void)snprintf(path, size, "%s/hallgw-test-config-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    close(fd);
}

int testconf_load_text(const char *text, struct config **c, struct conf_errors *e)
{
    char path[1024];

    testconf_write(path, sizeof(path), text, strlen(text));
    int rc = config_load(path, c, e);
    unlink(path);
    return rc;
}

struct config *testconf_load(const char *text)
{
    struct config *c = NULL;
    struct conf_errors e = {0};

    if (testconf_load_text(text, &c, &e) != 0) {
        conf_errors_print(&e, stderr);
        fail_msg("config refused");
    }
    conf_errors_free(&e);
    return c;
}
