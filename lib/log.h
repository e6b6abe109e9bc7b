/* Logging to stderr with sd-daemon "<N>" priority prefixes, so journald keeps
 * the level. Anything an input can repeat goes through a log_ratelimit. */
#ifndef HALLGW_LOG_H
#define HALLGW_LOG_H

#include <stdbool.h>
#include <stdint.h>

enum log_level { LOG_ERR = 3, LOG_WARNING = 4, LOG_NOTICE = 5, LOG_INFO = 6, LOG_DEBUG = 7 };

void log_set_level(enum log_level max);
void log_msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_err(...) log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARNING, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

/* Allows burst messages per interval_ms; counts what it suppresses. Not
 * shared between threads: one per call site and thread. */
struct log_ratelimit {
    int64_t interval_ms;
    unsigned burst;
    int64_t window_start_ms;
    unsigned printed;
    uint64_t suppressed;
};
#define LOG_RATELIMIT_INIT(ms, n)                                                                  \
    {                                                                                              \
        .interval_ms = (ms), .burst = (n)                                                          \
    }

/* True when this message may be printed; when a new window starts after
 * suppression, logs how many were suppressed. */
bool log_ratelimit_ok(struct log_ratelimit *rl, const char *what);

#endif
