/* Silences (pure): which alerts a silence covers, and what makes a silence
 * acceptable. A silenced alert still exists, is published on MQTT, stored
 * and shown; only its notifications and escalation are held back. */
#ifndef HALLGW_SILENCE_H
#define HALLGW_SILENCE_H

#include <stdbool.h>
#include <stddef.h>

#include "alert.h"
#include "clock.h"
#include "record.h"

/* True when s is in force at now and each of its matchers equals a's value
 * (hall, window, device, rule; severity by name). */
bool silence_matches(const struct record_silence *s, const struct alert *a, wall_s now);

/* The first of v[0..n) that matches a at now, or NULL. */
const struct record_silence *silence_find(const struct record_silence *v, size_t n,
                                          const struct alert *a, wall_s now);

/* What s matches, "hall=h1 device=printer-w03" (its matchers in that
 * order: hall, window, device, rule, severity), into out. Returns out. */
const char *silence_describe(const struct record_silence *s, char *out, size_t size);

/* NULL when s may be stored at now with at most max_s of duration from now;
 * else why not (a static text): no matcher, an unknown severity, ends not
 * after starts or already past, too long. */
const char *silence_check(const struct record_silence *s, wall_s now, double max_s);

#endif
