/* Hall and device ids (pure): [A-Za-z0-9_.-]{1,64}, the names that appear
 * in topics, tags, file names and commands without any escaping. */
#ifndef HALLGW_ID_H
#define HALLGW_ID_H

#include <stdbool.h>
#include <stddef.h>

#define ID_MAX 64 /* bytes, without the NUL */

/* True when s (len bytes) is an id. */
bool id_valid(const char *s, size_t len);

#endif
