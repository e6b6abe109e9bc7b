#include "sdnotify.h"

#include <stdio.h>
#include <systemd/sd-daemon.h>

void sdnotify_ready(const char *status)
{
    sd_notifyf(0, "READY=1\nSTATUS=%s", status);
}

void sdnotify_reloading(void)
{
    /* MONOTONIC_USEC lets systemd (253+) see the reload; older ones ignore it. */
    sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%lld", (long long)clock_mono_ms() * 1000);
}

void sdnotify_stopping(void)
{
    sd_notify(0, "STOPPING=1");
}

void sdnotify_status(const char *status)
{
    sd_notifyf(0, "STATUS=%s", status);
}

void sdnotify_watchdog(mono_ms now)
{
    static mono_ms last;
    static int64_t interval_ms = -1;
    if (interval_ms < 0) {
        uint64_t usec = 0;
        interval_ms = sd_watchdog_enabled(0, &usec) > 0 ? (int64_t)(usec / 1000) : 0;
    }
    if (interval_ms == 0 || now - last < interval_ms / 2)
        return;
    last = now;
    sd_notify(0, "WATCHDOG=1");
}
