/* Test support: a configuration given as text, loaded as hallgw loads its
 * file. The text goes to a fresh temporary file under $TMPDIR (or /tmp),
 * removed once read, so relative paths in it resolve against that directory:
 * texts name data files by absolute path. Failures fail the cmocka test. */
#ifndef HALLGW_TEST_TESTCONF_H
#define HALLGW_TEST_TESTCONF_H

#include <stddef.h>

#include "config.h"

/* Writes len bytes of data to a fresh temporary file; its path goes to path
 * (size bytes). The caller unlinks it. */
void testconf_write(char *path, size_t size, const void *data, size_t len);

/* config_load of text: its return value, with *c and *e as it leaves them
 * (the caller frees both). */
int testconf_load_text(const char *text, struct config **c, struct conf_errors *e);

/* The configuration text must give (config_free it); the test fails with
 * the errors printed when it is refused. */
struct config *testconf_load(const char *text);

#endif
