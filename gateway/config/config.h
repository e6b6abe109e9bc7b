/* The gateway's configuration, hallgw.conf (read with lib/conf.h).
 *
 * config_load() parses one file into an immutable, validated struct config.
 * Every problem found is reported, not only the first, as
 * "FILE:LINE: key: message" (struct conf_errors, conf_errors_print()).
 * Unknown keys are errors. Secrets (*_file) are read at load time and never
 * logged. A reload builds a new struct config and
 * swaps it in only when it loaded without errors. */
#ifndef HALLGW_CONFIG_H
#define HALLGW_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "conf.h"
#include "id.h"

/* Where a device's messages come from: hallgw's own topics, or a foreign
 * format bound by "source" ("zigbee2mqtt:<friendly name>", ...). */
enum source_format { FORMAT_NATIVE, FORMAT_ZIGBEE2MQTT, FORMAT_TASMOTA, FORMAT_SHELLY };
#define FORMAT_COUNT 4
#define CONFIG_SOURCE_NAME_MAX 192 /* bytes of a foreign name (Zigbee2MQTT friendly names) */

enum device_kind {
    KIND_SEAT,
    KIND_PEOPLE,
    KIND_QUEUE,
    KIND_ENV,
    KIND_EQUIPMENT,
    KIND_PLUG,
    KIND_PC,
    KIND_UNKNOWN,
};
#define KIND_COUNT 8

enum unknown_policy { UNKNOWN_ACCEPT, UNKNOWN_IGNORE };

struct config_window {
    char *id;
    char *name;                     /* UTF-8 as written; defaults to id */
    char *seat, *pc, *plug, *queue; /* device ids, or NULL */
    bool lunch_duty;
};

struct config_hall {
    char *id;
    char *name;
    struct config_window *windows;
    size_t n_windows;
};

struct config_device {
    char *id;
    char *hall;
    char *window; /* from the device's own "window" key or from the hall's windows; NULL if none */
    enum device_kind kind;
    enum source_format format;   /* FORMAT_NATIVE when there is no "source" */
    char *source_name;           /* foreign name after "format:", NULL for native; "<id>#<n>"
                                  * for channel n of a Shelly (config_source_channel()) */
    char *type;                  /* free text, e.g. "printer"; NULL if absent */
    int64_t service_interval_ms; /* 0 if absent */
    int32_t last_service_days;   /* days since epoch; -1 if absent */
    int line;
    /* zigbee2mqtt: its base topic (one of sources.z2m_bases, not owned) and
     * its friendly name (source_name, after "<base>/" with several bases). */
    const char *source_base, *source_friendly;
};

/* Where foreign devices publish (config_sources.c): Zigbee2MQTT base topics
 * and Tasmota FullTopic patterns with their prefixes. */
#define CONFIG_BASES_MAX 16
#define CONFIG_BASE_MAX 64 /* bytes of a base topic or a FullTopic pattern */
#define CONFIG_TASMOTA_PREFIX_MAX 32
enum tasmota_prefix { TASMOTA_CMND, TASMOTA_STAT, TASMOTA_TELE };
struct config_sources {
    char **z2m_bases; /* default {"zigbee2mqtt"} */
    size_t n_z2m_bases;
    char **tasmota_full_topics; /* default {"%prefix%/%topic%/"}; each ends in '/' */
    size_t n_tasmota_full_topics;
    char *tasmota_prefixes[3]; /* by enum tasmota_prefix: "cmnd", "stat", "tele" */
};

struct config_tls {
    char *ca_file, *cert_file, *key_file; /* NULL if absent */
    bool verify;                          /* default true */
};

enum config_durability { DURABILITY_PROCESS, DURABILITY_MACHINE };

struct config_mqtt {
    char *uri;              /* tcp://host:port or ssl://host:port */
    char *client_id;        /* default "hallgw-<gateway.id>" */
    char *username;         /* NULL if absent */
    char *password;         /* read from password_file; NULL if absent */
    char *prefix;           /* default "hall" */
    int qos;                /* 0 or 1, default 1 */
    int keepalive_s;        /* default 30 */
    char *command_key_file; /* NULL if absent (used by enforcement) */
    char *shared_group;     /* NULL if absent; else filters as $share/<group>/<filter> */
    struct config_tls tls;
    enum config_durability durability; /* of the inbox journal; default process */
    int64_t sync_interval_ms;          /* durability machine: default 0, each message */
};

enum influx_api { INFLUX_V1 = 1, INFLUX_V2 = 2 };

struct config_influx {
    bool enabled; /* false when the block is absent or enabled = false */
    char *url;    /* http://127.0.0.1:8086 */
    enum influx_api api;
    char *database, *retention_policy, *username, *password; /* v1; password from password_file */
    bool create_database;                                    /* v1, default true */
    char *org, *bucket, *token;                              /* v2; token from token_file */
    int batch_size;                                          /* points, default 5000 */
    int64_t flush_interval_ms;                               /* default 1000 */
    int64_t timeout_ms;                                      /* per request, default 10000 */
    bool gzip;                                               /* default true */
    char *spool_dir;                                         /* default <state_dir>/spool */
    uint64_t spool_max_bytes;                                /* default 512 MiB */
};

struct config_http {
    bool enabled;  /* the block is present and enabled is not false */
    char *listen;  /* "host:port", default "127.0.0.1:8080" */
    char *token;   /* from token_file: a token acting as an admin account; NULL for none */
    char *web_dir; /* the live page's files instead of the built-in ones; NULL: built in */
    char *cert_file, *key_file;      /* HTTPS when both are set */
    size_t max_body_bytes;           /* request bodies, default 16384 */
    bool open_reads;                 /* reads without an account; default: true on loopback only */
    int max_connections_per_address; /* open at once from one address, default 16 */
    char **hosts; /* Host names the server answers to, besides IP literals and localhost; NULL
                   * when absent */
    size_t n_hosts;
    int64_t session_ms; /* how long a sign-in lasts, default 12 h */
    char *public_url;   /* the page's address as people open it; NULL when unset */
};

struct config_limits {
    size_t payload_max_bytes; /* default 65536 */
    int json_max_depth;       /* default 8 */
    size_t max_devices;       /* default 20000 */
    size_t queue_capacity;    /* messages, default 8192 */
    int64_t queue_wait_ms;    /* backpressure wait before a drop, default 2000 */
};

/* ---- schedule, rules, notification routes, alert policy ---------------- */

struct config_break {
    int32_t from_s, to_s; /* seconds since local midnight, from < to */
};

struct config_schedule {
    uint8_t weekdays;            /* bit (1 << tm_wday), Sunday = bit 0; default mon-fri */
    int32_t open_s, close_s;     /* default 09:00 and 17:00 */
    struct config_break *breaks; /* sorted, not overlapping, inside open..close */
    size_t n_breaks;
    int32_t *holidays; /* days since 1970-01-01 (local dates), sorted: closed */
    size_t n_holidays;
    int32_t *workdays; /* make-up working days (调休), sorted: open even on a weekend */
    size_t n_workdays;
    int32_t poweroff_s; /* -1 when absent */
    int32_t poweron_s;  /* -1 when absent */
};

enum rule_type {
    RULE_THRESHOLD,
    RULE_STALE,
    RULE_UNSTAFFED,
    RULE_WAIT_TIME,
    RULE_MAX_AGE,
    RULE_EVENT,
    RULE_BASELINE,
    RULE_MAINTENANCE,
    RULE_EQUIPMENT_STATUS,
};
#define RULE_TYPE_COUNT 9

enum severity { SEV_INFO, SEV_WARNING, SEV_MAJOR, SEV_CRITICAL };
#define SEV_COUNT 4

enum rule_when { WHEN_ALWAYS, WHEN_OPEN, WHEN_CLOSED };

struct config_rule {
    char *name; /* unique; [A-Za-z0-9_.-]{1,64} */
    enum rule_type type;
    enum severity severity; /* default warning */
    enum rule_when when;    /* default always (unstaffed: open) */
    unsigned kinds;         /* bit (1 << enum device_kind); 0 = any kind */
    char *hall;             /* fnmatch glob on the hall id, or NULL for all */
    char *devices;          /* fnmatch glob on the device id, or NULL for all */
    char *metric;           /* threshold, max_age, baseline; NULL otherwise */
    bool has_above, has_below, has_clear_at;
    double above, below, clear_at;
    /* threshold with `is`: fires while the metric equals this value (then
     * no above, below or clear_at). */
    enum config_is { CONFIG_IS_NONE, CONFIG_IS_BOOL, CONFIG_IS_NUMBER, CONFIG_IS_STRING } is_type;
    bool is_b;
    double is_num;
    char *is_str;                /* CONFIG_IS_STRING: 1..256 bytes of UTF-8 */
    int64_t for_ms;              /* threshold, stale, unstaffed, equipment_status; 0 = at once */
    int64_t for_when_waiting_ms; /* unstaffed; -1 when absent */
    int64_t max_ms;              /* wait_time: longest_wait_s over this */
    int64_t max_age_ms;          /* max_age */
    char *action;                /* max_age: "scan" or NULL */
    char *event;                 /* event: the event type */
    bool enabled;                /* default true */
    bool from_defaults;          /* came from default_rules and was not replaced */
    int line;
};

enum notify_type { NOTIFY_WEBHOOK, NOTIFY_EMAIL, NOTIFY_WECOM };
/* What a WeCom application message is sent as. */
enum notify_msgtype { MSGTYPE_MARKDOWN, MSGTYPE_TEXT };
/* How a webhook request is signed for the robot it goes to. */
enum notify_sign { SIGN_NONE, SIGN_DINGTALK, SIGN_FEISHU };

struct config_notify {
    char *name;
    enum notify_type type;
    unsigned severities; /* bit (1 << enum severity); all bits when absent */
    unsigned kinds;      /* bit (1 << enum device_kind); all bits when absent */
    char **halls;        /* hall ids; NULL (all halls) when absent */
    size_t n_halls;
    /* webhook */
    char *url;             /* http:// or https:// */
    char *template_text;   /* the body template, read from template_file; NULL: the alert JSON */
    char *content_type;    /* default "application/json" */
    enum notify_sign sign; /* DingTalk's or Feishu's signed robots; default none */
    char *secret;          /* from secret_file: the robot's signing secret */
    /* email */
    char *smtp_url; /* smtp://host:587 (STARTTLS) or smtps://host:465 */
    char *from;
    char **to;
    size_t n_to;
    char *username, *password; /* password from password_file */
    bool starttls;             /* smtp:// only: require STARTTLS; default true */
    /* wecom: 企业微信 application messages (secret: the application's, from secret_file) */
    char *corp_id;
    int agent_id;
    char *to_users;              /* touser: user ids joined by "|", or "@all" */
    char *api_url;               /* default https://qyapi.weixin.qq.com */
    enum notify_msgtype msgtype; /* default markdown */
    /* both */
    int64_t timeout_ms; /* default 10s */
    int retries;        /* attempts after the first, default 5 */
    int line;
};

struct config_alert_policy {
    int64_t renotify_ms;       /* 0 = never; default 1h */
    int64_t escalate_after_ms; /* 0 = never */
    char *escalate_to;         /* a notify route name, or NULL */
    int64_t silence_max_ms;    /* the longest a silence may last; default 7 days */
};

/* ---- the daily record sent by itself (config_reports.c) ---------------- */

enum report_format_bit {
    REPORT_FMT_MD = 1u << 0,
    REPORT_FMT_HTML = 1u << 1,
    REPORT_FMT_CSV = 1u << 2
};

struct config_report_daily {
    bool enabled;     /* the block is present */
    bool after_close; /* at = "after close + D": D after the day's close */
    int32_t at_s;     /* at = "HH:MM": a time of day */
    int64_t after_ms; /* D */
    char **routes;    /* notify route names */
    size_t n_routes;
    unsigned formats; /* REPORT_FMT_* bits; default html and csv */
    int line;
};

/* ---- enforcement: nightly power-off and virus scans (config_enforce.c) -- */

struct config_poweroff {
    bool enabled;             /* the block is present and enabled is not false */
    int64_t grace_ms;         /* what the agent waits before shutting down; default 5m */
    int64_t verify_within_ms; /* the PC (and then its plug) must be off by then; default 15m */
    int64_t closed_grace_ms;  /* a PC seen on while the hall is closed: poweroff after; 10m */
    int64_t plug_delay_ms;    /* between a PC verified off and its plug cut; default 1m */
    bool plugs_after_pcs;     /* switch the windows' plugs off after their PCs; default true */
    bool dry_run;             /* log and record what would be done, send nothing */
    char **exempt;            /* fnmatch globs on device ids, never powered off */
    size_t n_exempt;
};

enum scans_when { SCANS_BREAK, SCANS_BEFORE_POWEROFF };
enum scans_type { SCANS_QUICK, SCANS_FULL };

struct config_scans {
    bool enabled;                   /* the block is present and enabled is not false */
    enum scans_when when;           /* default SCANS_BREAK */
    enum scans_type type;           /* default SCANS_QUICK */
    int64_t before_poweroff_ms;     /* the window before schedule.poweroff_at; default 30m */
    int64_t still_overdue_after_ms; /* the scan alert stays quiet this long; default 2h */
};

/* Home Assistant MQTT discovery (homeassistant.h); off when the block is
 * absent. */
struct config_homeassistant {
    bool enabled;           /* default false */
    char *discovery_prefix; /* default "homeassistant" */
};

/* Listening to the devices' own discovery traffic for unbound devices
 * (discovery.h, unbound.h). */
struct config_discovery {
    bool enabled;       /* default true */
    size_t unbound_max; /* entries of the unbound list, default 256 */
};

struct config {
    char *path;
    struct {
        char *id;       /* default "gw-1" */
        char *timezone; /* default "UTC" */
        char *state_dir;
        int64_t stats_interval_ms; /* default 10000 */
        /* The halls this instance owns (ids in halls); NULL (all) when absent.
         * When set, halls and devices below hold only these halls' entries:
         * the whole file is validated, then the others are dropped. */
        char **halls;
        size_t n_halls;
    } gateway;
    struct config_mqtt mqtt;
    struct config_influx influx;
    struct config_http http;
    struct config_limits limits;
    struct config_sources sources;
    enum unknown_policy unknown_devices; /* default ignore */
    struct config_discovery discovery;
    struct config_hall *halls;
    size_t n_halls;
    struct config_device *devices;
    size_t n_devices;
    struct config_schedule schedule; /* defaults when the block is absent */
    struct config_rule *rules;       /* default_rules merged with rules, by name */
    size_t n_rules;
    struct config_notify *notify;
    size_t n_notify;
    struct config_alert_policy alerts;
    struct config_poweroff poweroff; /* disabled when the block is absent */
    struct config_scans scans;       /* disabled when the block is absent */
    struct config_homeassistant homeassistant;
    /* reports.daily; disabled when the block is absent */
    struct config_report_daily report_daily;
};

/* Loads path. Returns 0 and *out on success; otherwise a negative errno,
 * *out == NULL and errs filled (never empty on failure). */
int config_load(const char *path, struct config **out, struct conf_errors *errs);
void config_free(struct config *c); /* NULL does nothing */

/* Whether a reload from a to b changes what the MQTT client, the InfluxDB
 * writer or the HTTP server was started with (config_diff.c): the one that
 * did is restarted, the others keep running. */
bool config_mqtt_changed(const struct config *a, const struct config *b);
bool config_influx_changed(const struct config *a, const struct config *b);
bool config_http_changed(const struct config *a, const struct config *b);

/* Lookups on a loaded config; NULL when absent. */
const struct config_device *config_find_device(const struct config *c, const char *id);
const struct config_device *config_find_source(const struct config *c, enum source_format f,
                                               const char *name);
const struct config_hall *config_find_hall(const struct config *c, const char *id);
/* Why name can not follow "<format>:" in a device's source (the message of
 * a config error, e.g. "has an empty topic level in its name"), or NULL. */
const char *config_source_name_problem(enum source_format f, const char *name);

/* One channel of a multi-channel Shelly is bound as "shelly:<id>#<n>"
 * (source_name "<id>#<n>", n in 1..999; "<id>#0" is stored as "<id>", which
 * is channel 0). Returns the channel of a source name and sets *id_len to
 * the length of its device id (all of it when there is no '#'). */
int config_source_channel(const char *source_name, size_t *id_len);

/* True when a device is bound to that source: by name, or for a Shelly by
 * one of its channels ("<name>#<n>"). */
bool config_source_bound(const struct config *c, enum source_format f, const char *name);

/* The Shelly devices bound to channels 1..999 of device id (their sources
 * "<id>#<n>"): up to max of them into out, in no particular order. Returns
 * how many there are. */
size_t config_find_channels(const struct config *c, const char *id,
                            const struct config_device **out, size_t max);

/* The alert subject of Zigbee2MQTT base topic base (bridge-offline:<it>):
 * characters outside ids become '_', at most ID_MAX of them. Distinct
 * bases of one config have distinct subjects (the config checks it). */
void config_z2m_base_subject(const char *base, char *buf, size_t size);

/* A Tasmota topic t under FullTopic pattern (with %prefix% the given
 * prefix): "tasmota/<t>/cmnd/" for "tasmota/%topic%/%prefix%/". Returns the
 * length, or -ENAMETOOLONG when it does not fit in n bytes. */
int config_tasmota_topic(const char *pattern, const char *prefix, const char *t, char *buf,
                         size_t n);

/* "native", "zigbee2mqtt", "tasmota", "shelly"; and back (-1 when unknown). */
const char *config_format_name(enum source_format f);
int config_format_parse(const char *s, size_t len);

const char *config_kind_name(enum device_kind k);    /* "seat", ..., "unknown" */
const char *config_severity_name(enum severity s);   /* "info", ..., "critical" */
int config_severity_parse(const char *s);            /* -1 when unknown */
const char *config_rule_type_name(enum rule_type t); /* "threshold", ... */
const struct config_notify *config_find_notify(const struct config *c, const char *name);
int config_kind_parse(const char *s); /* -1 when unknown */
/* The InfluxDB measurement of a kind: seat/people -> occupancy, ... */
const char *config_kind_measurement(enum device_kind k);

/* "break", "before_poweroff"; "quick", "full". */
const char *config_scans_when_name(enum scans_when w);
const char *config_scans_type_name(enum scans_type t);

/* True when http.listen ("host:port") is a loopback address. */
bool config_listen_is_loopback(const char *listen);

#endif
