/* A map from strings to pointers (chained hashing, grows by doubling). The
 * map copies keys; it owns no values. Not thread-safe. */
#ifndef HALLGW_STRMAP_H
#define HALLGW_STRMAP_H

#include <stddef.h>
#include <stdint.h>

struct strmap;

struct strmap *strmap_new(void);
/* Frees the map and its keys; values are the caller's (free them first with
 * strmap_foreach). NULL does nothing. */
void strmap_free(struct strmap *m);

void *strmap_get(const struct strmap *m, const char *key);
/* Sets key to value (replacing). Returns 0 or -ENOMEM. */
int strmap_put(struct strmap *m, const char *key, void *value);
/* Removes key; returns its value, or NULL. */
void *strmap_remove(struct strmap *m, const char *key);
size_t strmap_count(const struct strmap *m);

/* The map's hash of a string (64-bit FNV-1a), for callers that need a
 * stable number from a name. */
uint64_t strmap_hash(const char *s);

/* Calls fn for every entry. fn must not change the map. */
void strmap_foreach(const struct strmap *m, void (*fn)(const char *key, void *value, void *arg),
                    void *arg);

#endif
