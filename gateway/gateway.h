/* The gateway daemon: wires the MQTT client, the core loop, the hall model
 * and the InfluxDB writer together, and runs until SIGTERM or SIGINT.
 *
 * Threads: Paho's (copies messages into the inbox), the InfluxDB writer,
 * a signal thread (sigwait; sets flags and wakes the core) and the core
 * thread (the caller of gateway_run), which owns all state. */
#ifndef HALLGW_GATEWAY_H
#define HALLGW_GATEWAY_H

/* Loads config_path, runs, and returns the process exit code. Blocks
 * SIGTERM, SIGINT and SIGHUP in the calling thread (before starting any
 * other thread) and handles them: TERM/INT stop cleanly, flushing every
 * accepted message to InfluxDB or the spool; HUP reloads the config. */
int gateway_run(const char *config_path);

#endif
