/* The gateway daemon: wires the MQTT client, the core loop, the hall model
 * and the InfluxDB writer together, and runs until SIGTERM or SIGINT.
 *
 * Threads: the core (the caller of gateway_run), which owns all state and
 * is the only one to change it; Paho's receiving thread (copies messages
 * into the bounded inbox); and workers that each own one outside resource
 * and take their work from a queue (lib/queue.h): the InfluxDB writer
 * ("hallgw-influx"), the MQTT outbox ("hallgw-outbox"), the SQLite store
 * writer ("hallgw-store") and the notification routes ("hallgw-notify");
 * libmicrohttpd's threads (one per connection) answer HTTP from what the
 * core publishes (api.h); a signal thread ("hallgw-signals", sigwait) sets
 * flags and wakes the core. */
#ifndef HALLGW_GATEWAY_H
#define HALLGW_GATEWAY_H

/* Loads config_path, runs, and returns the process exit code. Blocks
 * SIGTERM, SIGINT and SIGHUP in the calling thread (before starting any
 * other thread) and handles them: TERM/INT stop cleanly, flushing every
 * accepted message to InfluxDB or the spool; HUP reloads the config. */
int gateway_run(const char *config_path);

#endif
