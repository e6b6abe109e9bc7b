#include "silence.h"

#include <string.h>

#include "config.h"

static bool field_matches(const char *want, const char *have)
{
    return !want[0] || strcmp(want, have) == 0;
}

bool silence_matches(const struct record_silence *s, const struct alert *a, wall_s now)
{
    return now >= s->starts && now < s->ends && field_matches(s->hall, a->hall) &&
           field_matches(s->window, a->window) && field_matches(s->device, a->device) &&
           field_matches(s->rule, a->rule) &&
           field_matches(s->severity, config_severity_name(a->severity));
}

const struct record_silence *silence_find(const struct record_silence *v, size_t n,
                                          const struct alert *a, wall_s now)
{
    for (size_t i = 0; i < n; i++)
        if (silence_matches(&v[i], a, now))
            return &v[i];
    return NULL;
}

const char *silence_describe(const struct record_silence *s, char *out, size_t size)
{
    const char *const names[] = {"hall", "window", "device", "rule", "severity"};
    const char *const values[] = {s->hall, s->window, s->device, s->rule, s->severity};
    size_t n = 0;
    out[0] = '\0';
    for (size_t i = 0; i < 5 && n < size; i++)
        if (values[i][0]) {
            int w = snprintf(out + n, size - n, "%s%s=%s", n ? " " : "", names[i], values[i]);
            n += w > 0 ? (size_t)w : 0;
        }
    return out;
}

const char *silence_check(const struct record_silence *s, wall_s now, double max_s)
{
    if (!s->hall[0] && !s->window[0] && !s->device[0] && !s->rule[0] && !s->severity[0])
        return "a silence needs at least one matcher: hall, window, device, rule or severity";
    if (s->severity[0]) {
        bool known = false;
        for (int i = 0; i < SEV_COUNT && !known; i++)
            known = strcmp(s->severity, config_severity_name((enum severity)i)) == 0;
        if (!known)
            return "severity must be info, warning, major or critical";
    }
    if (s->ends <= s->starts)
        return "a silence must end after it starts";
    if (s->ends <= now)
        return "a silence must end in the future";
    if (s->ends - (s->starts > now ? s->starts : now) > max_s)
        return "a silence may last at most alerts.silence_max";
    if (!s->comment[0])
        return "a silence needs a comment: why";
    return NULL;
}
