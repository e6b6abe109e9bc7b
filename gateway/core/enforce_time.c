/* The times of enforcement (enforce_time.h): pure, no clock. */
#include "enforce_time.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "duration.h"
#include "schedule.h"

#define OFF_LOOKBACK_DAYS 40

void enforce_local_date(wall_s t, char out[11])
{
    struct tm tm;
    time_t tt = (time_t)wall_whole(t);
    if (!localtime_r(&tt, &tm) || strftime(out, 11, "%Y-%m-%d", &tm) == 0)
        snprintf(out, 11, "1970-01-01");
}

/* ---- the schedule --------------------------------------------------------------------- */

/* Noon of the local date k days before the date of t; 0 when out of range. */
static wall_s noon_days_before(wall_s t, int k)
{
    struct tm tm;
    time_t tt = (time_t)wall_whole(t);
    if (!localtime_r(&tt, &tm))
        return 0;
    tm.tm_mday -= k;
    tm.tm_hour = 12;
    tm.tm_min = tm.tm_sec = 0;
    tm.tm_isdst = -1;
    time_t r = mktime(&tm);
    return r == (time_t)-1 ? 0 : (wall_s)r;
}

wall_s enforce_off_since(const struct config_schedule *s, wall_s t)
{
    if (s->poweroff_s < 0 || schedule_state(s, t) != SCHED_CLOSED)
        return 0;
    int32_t wake_s = s->poweron_s >= 0 ? s->poweron_s : s->open_s;
    for (int k = 0; k <= OFF_LOOKBACK_DAYS; k++) {
        wall_s noon = noon_days_before(t, k);
        if (!noon)
            return 0;
        if (!schedule_is_workday(s, noon))
            continue;
        wall_s off = schedule_at(noon, s->poweroff_s), wake = schedule_at(noon, wake_s);
        bool off_past = off && off <= t, wake_past = wake && wake <= t;
        if (off_past && (!wake_past || off >= wake))
            return off;
        if (wake_past)
            return 0; /* woken up since the last power-off */
    }
    return 0;
}

bool enforce_closed_due(const struct config_poweroff *p, wall_s seen_on_since,
                        enum availability avail, wall_s wall)
{
    return p->enabled && seen_on_since > 0 && avail != AVAIL_OFFLINE &&
           (wall - seen_on_since) * 1000.0 >= (double)p->closed_grace_ms;
}

bool enforce_scan_allowed(const struct config *cfg, wall_s t)
{
    const struct config_schedule *s = &cfg->schedule;
    if (cfg->scans.when == SCANS_BREAK)
        return schedule_state(s, t) == SCHED_BREAK;
    if (s->poweroff_s < 0)
        return false;
    wall_s p = schedule_next_on_workday(s, t, s->poweroff_s);
    return p && (p - t) * 1000.0 <= (double)cfg->scans.before_poweroff_ms;
}

wall_s enforce_scan_next(const struct config *cfg, wall_s t)
{
    const struct config_schedule *s = &cfg->schedule;
    if (enforce_scan_allowed(cfg, t))
        return t;
    if (cfg->scans.when == SCANS_BREAK) {
        wall_s u = t;
        /* At most a few transitions a day: 400 days of them. */
        for (int i = 0; i < 400 * 8; i++) {
            u = schedule_next_transition(s, u, false);
            if (!u)
                return 0;
            if (schedule_state(s, u) == SCHED_BREAK)
                return u;
        }
        return 0;
    }
    if (s->poweroff_s < 0)
        return 0;
    wall_s p = schedule_next_on_workday(s, t, s->poweroff_s);
    return p ? p - (wall_s)(cfg->scans.before_poweroff_ms / 1000) : 0;
}

bool enforce_scan_overdue(const struct config_rule *r, double value, wall_s wall)
{
    return r->type == RULE_MAX_AGE && (wall - value) * 1000.0 > (double)r->max_age_ms;
}

/* ---- overrides ---------------------------------------------------------------------- */

static bool all_digits(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++) {
        if (!isdigit((unsigned char)*s))
            return false;
    }
    return true;
}

int enforce_parse_until(const char *s, wall_s now, wall_s *out)
{
    wall_s t = 0;
    int32_t tod, day;
    size_t len = s ? strlen(s) : 0;
    if (len == 0)
        return -EINVAL;
    if (all_digits(s)) {
        if (len > 12)
            return -EINVAL;
        t = (wall_s)strtoll(s, NULL, 10);
    } else if ((len == 5 || len == 8) && s[2] == ':') {
        if (timeofday_parse(s, &tod) < 0)
            return -EINVAL;
        t = schedule_at(now, tod);
        if (t <= now)
            t = schedule_at(noon_days_before(now, -1), tod);
    } else if ((len == 16 || len == 19) && (s[10] == 'T' || s[10] == ' ')) {
        char date[11];
        memcpy(date, s, 10);
        date[10] = '\0';
        if (date_parse(date, &day) < 0 || timeofday_parse(s + 11, &tod) < 0)
            return -EINVAL;
        time_t d = (time_t)day * 86400;
        struct tm tm;
        if (!gmtime_r(&d, &tm))
            return -EINVAL;
        tm.tm_hour = 12;
        tm.tm_min = tm.tm_sec = 0;
        tm.tm_isdst = -1;
        time_t noon = mktime(&tm);
        if (noon == (time_t)-1)
            return -EINVAL;
        t = schedule_at((wall_s)noon, tod);
    } else {
        return -EINVAL;
    }
    if (t <= now || t - now > ENFORCE_OVERRIDE_MAX_S)
        return -ERANGE;
    *out = t;
    return 0;
}

int enforce_override_check(const struct config *cfg, const char *device, wall_s until, wall_s wall,
                           const char **why)
{
    const struct config_device *cd = device ? config_find_device(cfg, device) : NULL;
    if (!cd) {
        *why = "no such device in the configuration";
        return -ENOENT;
    }
    if (cd->kind != KIND_PC && cd->kind != KIND_PLUG) {
        *why = "overrides are for PCs and plugs";
        return -EINVAL;
    }
    if (!(until > wall) || until - wall > ENFORCE_OVERRIDE_MAX_S) {
        *why = "until must be in the future, at most 31 days ahead";
        return -ERANGE;
    }
    *why = "";
    return 0;
}
