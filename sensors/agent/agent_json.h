/* hallgw-agent's JSON writer for telemetry, events and command replies (pure).
 *
 * One flat object into a fixed buffer: strings are escaped (control
 * characters as \u00XX, invalid UTF-8 bytes as U+FFFD), numbers written
 * with the given decimals. A value that does not fit makes the whole object
 * fail (agent_json_end() returns NULL), never a truncated payload. */
#ifndef HALLGW_AGENT_JSON_H
#define HALLGW_AGENT_JSON_H

#include <stdbool.h>
#include <stddef.h>

#define AGENT_JSON_MAX 8192

struct agent_json {
    char buf[AGENT_JSON_MAX];
    size_t len;
    bool first, overflow;
};

void agent_json_begin(struct agent_json *j);
void agent_json_str(struct agent_json *j, const char *key, const char *v);
void agent_json_int(struct agent_json *j, const char *key, long long v);
void agent_json_num(struct agent_json *j, const char *key, double v, int decimals);
void agent_json_bool(struct agent_json *j, const char *key, bool v);
/* Closes the object: the NUL-terminated JSON (in j->buf), or NULL on overflow. */
const char *agent_json_end(struct agent_json *j);

#endif
