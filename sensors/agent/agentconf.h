/* The configuration of hallgw-agent, /etc/hallgw/agent.conf, read with the
 * key-table walker of lib/conf.h: its own small file and struct, loaded once
 * and immutable. Every problem is reported, not only the first, as
 * "FILE:LINE: key: message"; unknown keys are errors. The password and the
 * command key are read at load time and never logged. */
#ifndef HALLGW_AGENTCONF_H
#define HALLGW_AGENTCONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"

#define AGENTCONF_DEFAULT_PATH "/etc/hallgw/agent.conf"

/* A program and its arguments, run with execvp(): never through a shell. */
struct agentconf_argv {
    char **v; /* n strings and a NULL */
    size_t n; /* >= 1 */
};

struct agentconf {
    char *path;
    struct {
        char *uri;       /* tcp://host:port or ssl://host:port (mqtt:// and mqtts:// mapped) */
        char *client_id; /* default "hallgw-agent-<hall>-<device>" */
        char *username;  /* NULL if absent */
        char *password;  /* from password_file; NULL if absent */
        char *prefix;    /* default "hall" */
        int keepalive_s; /* default 30 */
        char *ca_file, *cert_file, *key_file; /* tls; NULL if absent */
        bool verify;                          /* tls.verify, default true */
    } mqtt;
    char *hall, *device;    /* required, [A-Za-z0-9_.-]{1,64}, not reserved */
    char *command_key_file; /* NULL: no key, every command is refused */
    uint8_t *command_key;   /* cmdsign_key_load() of command_key_file */
    size_t command_key_len;
    int64_t interval_ms;       /* telemetry period, default 60 s */
    int64_t watch_interval_ms; /* scan log, USB and network checks, default 2 s */
    char *state_dir;           /* default /var/lib/hallgw-agent */
    char *probe_root;          /* prefix of /proc, /sys, /etc paths read; default "/" */
    struct {
        char *db_dir;   /* default /var/lib/clamav */
        char *scan_log; /* default /var/log/clamav/scan.log */
    } clamav;
    struct {
        struct agentconf_argv argv; /* default systemctl poweroff */
        int64_t grace_ms;           /* default 5 min */
    } poweroff;
    struct {
        struct agentconf_argv quick_argv; /* default clamscan -r --infected /home */
        struct agentconf_argv full_argv;  /* default clamscan -r --infected / */
        char *log;                        /* output appended here; default clamav.scan_log */
        int64_t timeout_ms;               /* default 12 h */
    } scan;
    struct {
        struct agentconf_argv argv; /* the message is appended as one more argument */
        int64_t timeout_ms;         /* default 30 s */
    } notify;
    struct {
        bool proxy_env; /* proxy settings of /etc/environment in net_fp; default true */
        bool ipv6;      /* IPv6 addresses in net_fp; default true */
    } network;
};

/* Loads path. Returns 0 and *out, or a negative errno with *out == NULL and
 * errs filled (never empty on failure). */
int agentconf_load(const char *path, struct agentconf **out, struct conf_errors *errs);
void agentconf_free(struct agentconf *c); /* NULL does nothing; wipes the secrets */

#endif
