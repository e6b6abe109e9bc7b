/* The times of enforcement (pure): when the hall is in its "PCs should be
 * off" period, when a PC seen on at night is due for a power-off, when scans
 * may be ordered, and the end of an override as people write it.
 *
 * No clock reads: `t`, `now` and `wall` are parameters. Times of day are in
 * the process's time zone (schedule.h). */
#ifndef HALLGW_ENFORCE_TIME_H
#define HALLGW_ENFORCE_TIME_H

#include <stdbool.h>
#include <time.h>

#include "clock.h"
#include "config.h"
#include "reading.h"

/* The latest end of an override, from its creation. */
#define ENFORCE_OVERRIDE_MAX_S (31 * 86400.0)

/* The instant the hall's current "PCs should be off" period began: the
 * latest poweroff_at of a working day at or before t, when no wake-up
 * (poweron_at, else open, of a working day) came after it, and the hall is
 * closed at t. 0 when PCs may be on at t (open, between the wake-up and
 * poweroff_at, or no poweroff_at). Looks back at most 40 days. */
wall_s enforce_off_since(const struct config_schedule *s, wall_s t);

/* The closed-hall rule: true when a PC first seen on at seen_on_since (wall;
 * 0: not seen on) while the hall is in its off period is to be powered off at
 * wall: seen on for closed_grace, and still not offline. */
bool enforce_closed_due(const struct config_poweroff *p, wall_s seen_on_since,
                        enum availability avail, wall_s wall);

/* Scans: true when t is an allowed moment (a break; or within
 * before_poweroff before poweroff_at, on a working day). */
bool enforce_scan_allowed(const struct config *cfg, wall_s t);
/* The first allowed moment at or after t; 0 when none within 400 days. */
wall_s enforce_scan_next(const struct config *cfg, wall_s t);
/* True when the max_age rule r says metric value (unix s) is overdue at wall. */
bool enforce_scan_overdue(const struct config_rule *r, double value, wall_s wall);

/* The local date of t as "YYYY-MM-DD" ("1970-01-01" if it has none). */
void enforce_local_date(wall_s t, char out[11]);

/* ---- overrides ---- */

/* Parses the end of an override: unix seconds ("1767261600"), "HH:MM" (the
 * next such time: today if still ahead, else tomorrow) or
 * "YYYY-MM-DDTHH:MM" (also with a space), local time. Returns 0; -EINVAL
 * (not one of those); -ERANGE (not after now, or more than
 * ENFORCE_OVERRIDE_MAX_S ahead). */
int enforce_parse_until(const char *s, wall_s now, wall_s *out);

/* Whether device may get an override at wall until `until`: a configured PC
 * or plug, until in (wall, wall + ENFORCE_OVERRIDE_MAX_S]. Returns 0,
 * -ENOENT (not a configured device), -EINVAL (not a PC or plug) or -ERANGE,
 * with *why a static English reason. */
int enforce_override_check(const struct config *cfg, const char *device, wall_s until, wall_s wall,
                           const char **why);

#endif
