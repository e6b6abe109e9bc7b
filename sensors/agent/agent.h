/* hallgw-agent's core: the state of the running agent, shared by the main
 * loop (agent.c: MQTT, telemetry, watchers) and the command handling
 * (agent_cmd.c). Single-threaded: Paho's thread only fills the inbox. */
#ifndef HALLGW_AGENT_H
#define HALLGW_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "agent_state.h"
#include "agentconf.h"
#include "buf.h"
#include "clock.h"
#include "cmdsign.h"
#include "jsonw.h"
#include "log.h"

/* Telemetry, events and replies are one flat JSON object each (lib/jsonw.h),
 * written into a buffer of this many bytes: one that does not fit is not
 * sent, never cut. */
#define AGENT_PAYLOAD_MAX 8192
#define AGENT_TOPIC_MAX 256
#define AGENT_OUTBOX_MAX 256
#define AGENT_CHILDREN_MAX 8
#define AGENT_REPLAY_CAPACITY 1024

struct mqtt;
struct mqtt_msg;
struct queue;

/* A message waiting for the broker (events and replies are never dropped
 * while the connection is down, up to AGENT_OUTBOX_MAX). */
struct agent_out {
    char *topic, *payload;
    bool retained;
};

enum agent_child_kind { CHILD_NONE, CHILD_SCAN, CHILD_NOTIFY, CHILD_WARN, CHILD_POWEROFF };

struct agent_child {
    enum agent_child_kind kind;
    pid_t pid;
    char id[CMDSIGN_ID_MAX + 1]; /* the command it answers ("" for none) */
    mono_ms deadline;            /* SIGTERM then, SIGKILL 5 s later */
    bool term_sent;
};

struct agent {
    struct agentconf *cfg;
    bool dry_run;
    bool state_ok;       /* state_dir is usable: save the state file and the MQTT session */
    bool nonces_unsaved; /* the last save of the nonces failed: commands are refused */
    struct queue *inbox;
    struct mqtt *mqtt;
    char t_telemetry[AGENT_TOPIC_MAX], t_event[AGENT_TOPIC_MAX], t_status[AGENT_TOPIC_MAX],
        t_cmd[AGENT_TOPIC_MAX], t_reply[AGENT_TOPIC_MAX];

    struct agent_out outbox[AGENT_OUTBOX_MAX];
    size_t out_head, out_n;
    uint64_t out_dropped;

    struct cmdsign_replay *replay;
    struct agent_state st;
    struct agent_child children[AGENT_CHILDREN_MAX];

    struct { /* an accepted poweroff, waiting for its grace */
        bool pending;
        mono_ms at;
        char id[CMDSIGN_ID_MAX + 1];
        char reason[CMDSIGN_ARG_VALUE_MAX + 1];
    } poweroff;
    struct { /* the running scan */
        char type[8];
        uint64_t log_inode, log_start;
    } scan;

    bool exit_requested; /* after the outbox is flushed: stop and exit */
    int exit_code;
    struct log_ratelimit rl_cmd, rl_probe;
};

/* agent.c */
/* Queues a message for the broker (sent at once when connected). */
void agent_publish(struct agent *a, const char *topic, const char *payload, bool retained);
/* Publishes an event; payload is a complete JSON object. */
void agent_event(struct agent *a, const char *payload);
/* Saves the state file; logs a failure once. */
void agent_save_state(struct agent *a);

/* agent_cmd.c */
/* Handles one message from the inbox (a command). */
void agent_cmd_handle(struct agent *a, const struct mqtt_msg *m);
/* Reaps children, enforces their timeouts, runs a due poweroff. */
void agent_cmd_tick(struct agent *a, mono_ms now);
/* Signals every running child (at exit). */
void agent_cmd_stop_children(struct agent *a);

#endif
