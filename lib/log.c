#include "log.h"

#include <stdarg.h>
#include <stdio.h>

#include "clock.h"

static enum log_level max_level = LOG_INFO;

void log_set_level(enum log_level max)
{
    max_level = max;
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
    if (lvl > max_level)
        return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    /* One fprintf per line so lines of different threads never interleave. */
    fprintf(stderr, "<%d>%s\n", (int)lvl, line);
}

bool log_ratelimit_ok(struct log_ratelimit *rl, const char *what)
{
    mono_ms now = clock_mono_ms();
    if (now - rl->window_start_ms >= rl->interval_ms) {
        if (rl->suppressed)
            log_warn("%s: %llu similar messages suppressed", what,
                     (unsigned long long)rl->suppressed);
        rl->window_start_ms = now;
        rl->printed = 0;
        rl->suppressed = 0;
    }
    if (rl->printed < rl->burst) {
        rl->printed++;
        return true;
    }
    rl->suppressed++;
    return false;
}
