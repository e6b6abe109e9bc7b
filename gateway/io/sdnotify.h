/* Talking to systemd (libsystemd's sd-daemon is included here only):
 * READY, RELOADING, STOPPING, STATUS and the watchdog. Every call does
 * nothing when the gateway was not started by systemd. */
#ifndef HALLGW_SDNOTIFY_H
#define HALLGW_SDNOTIFY_H

#include <stdbool.h>
#include <stdint.h>

#include "clock.h"

void sdnotify_ready(const char *status);
void sdnotify_reloading(void);
void sdnotify_stopping(void);
void sdnotify_status(const char *status);

/* Pings the watchdog, at most every half WatchdogSec. Called from the core
 * loop on every turn: a core that stops turning stops pinging, and systemd
 * restarts it. Nothing else withholds the ping: a broker or InfluxDB outage
 * is not cured by a restart (which would only lose the gateway's state);
 * /healthz, the metrics and the alerts report it. */
void sdnotify_watchdog(mono_ms now);

#endif
