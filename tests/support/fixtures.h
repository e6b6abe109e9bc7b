/* Test support: the device payload fixtures (tests/fixtures/NAME.jsonl).
 * One JSON object per line: format, topic, payload or payload_hex, expect. */
#ifndef HALLGW_TEST_FIXTURES_H
#define HALLGW_TEST_FIXTURES_H

#include <jansson.h>
#include <stddef.h>

struct fixture {
    char *file; /* base name, e.g. "tasmota.jsonl" */
    int line;
    char *format;
    char *topic; /* NUL-terminated for convenience; may hold NUL bytes */
    size_t topic_len;
    char *payload; /* raw bytes, NUL-terminated for convenience */
    size_t payload_len;
    json_t *expect; /* borrowed from the fixture set */
};

struct fixture_set {
    struct fixture *v;
    size_t n;
};

/* Loads one fixture file by base name from HALLGW_FIXTURES_DIR ("native.jsonl"),
 * or every *.jsonl when name is NULL. Aborts the test program on error. */
void fixtures_load(const char *name, struct fixture_set *out);
void fixtures_free(struct fixture_set *s);

/* Reads a whole file into a malloc'd NUL-terminated buffer; aborts on error. */
char *fixtures_read_file(const char *path, size_t *len);

#endif
