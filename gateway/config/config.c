/* The configuration: the blocks gateway, mqtt, influx and limits, loading
 * and releasing a config. Every block is a table of keys (name, type, where it
 * goes, its range) walked by conf_parse_group() (config_parse.c), so an
 * unknown key, a wrong type or a bad value is reported where it is written and
 * the walk goes on. Halls and devices, and the checks across them, are in
 * config_devices.c; the schedule and rules in config_rules.c; notification
 * routes and the alert policy in config_notify.c. The checks across blocks
 * run after the whole file is read. */
#include "config.h"
#include "config_internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "crypto.h"
#include "id.h"

#define DAY_MS INT64_C(86400000)

/* ---- the blocks ---- */

static bool check_timezone(struct conf_ctx *x, const conf_node *s, const char *v)
{
    struct stat st;
    char *p;
    bool ok = v[0] != '/' && !strstr(v, "..") &&
              strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklm"
                        "nopqrstuvwxyz0123456789/_+-") == strlen(v);

    if (!ok) {
        conf_err_at(x, s, NULL, "\"%s\" is not a time zone name like \"Asia/Shanghai\"", v);
        return false;
    }
    if (strcmp(v, "UTC") == 0)
        return true;
    if (!(p = conf_xprintf("/usr/share/zoneinfo/%s", v)))
        return false;
    ok = stat(p, &st) == 0 && S_ISREG(st.st_mode);
    if (!ok)
        conf_err_at(x, s, NULL, "unknown time zone \"%s\" (no %s)", v, p);
    free(p);
    return ok;
}

static bool check_mqtt_uri(struct conf_ctx *x, const conf_node *s, const char *v)
{
    static const char *const schemes[] = {"tcp://", "ssl://", "mqtt://", "mqtts://", NULL};

    return conf_check_hostport(x, s, v, schemes, true);
}

static bool check_http_url(struct conf_ctx *x, const conf_node *s, const char *v)
{
    static const char *const schemes[] = {"http://", "https://", NULL};

    return conf_check_hostport(x, s, v, schemes, false);
}

static bool check_prefix(struct conf_ctx *x, const conf_node *s, const char *v)
{
    static const char *const taken[] = {"zigbee2mqtt", "tele", "stat", "cmnd", NULL};

    if (!id_valid(v, strlen(v))) {
        conf_err_at(x, s, NULL, "\"%s\" is not a valid prefix (1 to 64 of A-Z a-z 0-9 _ . -)", v);
        return false;
    }
    if (conf_name_index(taken, v) >= 0) {
        conf_err_at(x, s, NULL, "\"%s\" is taken by a foreign device format's topics", v);
        return false;
    }
    return true;
}

/* gateway.halls: hall ids without repeats; checked against halls in
 * check_gateway_halls(), after the model is indexed. */
static void parse_gateway_halls(struct conf_ctx *x, const conf_node *s, void *dst)
{
    struct config *c = dst;
    size_t n, k = 0;
    const conf_node **v = conf_str_elems(x, s, &n);
    char **ids = n ? calloc(n, sizeof(*ids)) : NULL;

    if (n && !ids)
        x->nomem = true;
    for (size_t i = 0; ids && i < n; i++) {
        const char *id = conf_string(v[i]);
        bool dup = false;

        for (size_t j = 0; j < k && !dup; j++)
            dup = strcmp(ids[j], id) == 0;
        if (dup)
            conf_err_at(x, v[i], NULL, "\"%s\" is already in the list", id);
        else if (!id_valid(id, strlen(id)))
            conf_err_at(x, v[i], NULL, "\"%s\" is not a valid id (1 to 64 of A-Z a-z 0-9 _ . -)",
                        id);
        else if ((ids[k] = conf_xstrdup(x, id)))
            k++;
    }
    c->gateway.halls = ids;
    c->gateway.n_halls = k;
    free(v);
}

#define K CONF_KEY

static const struct conf_key gateway_keys[] = {
    K("id", CONF_ID, struct config, gateway.id),
    K("timezone", CONF_STR, struct config, gateway.timezone, .check = check_timezone),
    K("state_dir", CONF_STR, struct config, gateway.state_dir),
    K("stats_interval", CONF_DUR, struct config, gateway.stats_interval_ms, .min = 1000,
      .max = DAY_MS),
    {.name = "halls", .t = CONF_CUSTOM, .off = 0, .fn = parse_gateway_halls},
    {0},
};

static const struct conf_key tls_keys[] = {
    K("ca_file", CONF_FILE, struct config_tls, ca_file),
    K("cert_file", CONF_FILE, struct config_tls, cert_file),
    K("key_file", CONF_SECRET_FILE, struct config_tls, key_file),
    K("verify", CONF_BOOL, struct config_tls, verify),
    {0},
};

static const char *const durability_names[] = {"process", "machine", NULL};

static const struct conf_key mqtt_keys[] = {
    K("uri", CONF_STR, struct config_mqtt, uri, .required = true, .check = check_mqtt_uri),
    K("client_id", CONF_STR, struct config_mqtt, client_id),
    K("username", CONF_STR, struct config_mqtt, username),
    K("password_file", CONF_SECRET, struct config_mqtt, password),
    K("prefix", CONF_STR, struct config_mqtt, prefix, .check = check_prefix),
    K("qos", CONF_INT, struct config_mqtt, qos, .min = 0, .max = 1),
    K("keepalive", CONF_DUR_S, struct config_mqtt, keepalive_s, .min = 1000, .max = 65535000),
    K("command_key_file", CONF_SECRET_FILE, struct config_mqtt, command_key_file),
    K("shared_group", CONF_ID, struct config_mqtt, shared_group),
    K("tls", CONF_GROUP, struct config_mqtt, tls, .sub = tls_keys),
    K("durability", CONF_ENUM, struct config_mqtt, durability, .names = durability_names),
    K("sync_interval", CONF_DUR, struct config_mqtt, sync_interval_ms, .min = 0, .max = 10000),
    {0},
};

static const char *const api_names[] = {"v1", "v2", NULL};
static const char *const unknown_names[] = {"accept", "ignore", NULL};
static const char *const v1_only[] = {"database",      "retention_policy", "username",
                                      "password_file", "create_database",  NULL};
static const char *const v2_only[] = {"org", "bucket", "token_file", NULL};

static const struct conf_key spool_keys[] = {
    K("dir", CONF_STR, struct config_influx, spool_dir),
    K("max_size_mb", CONF_MB, struct config_influx, spool_max_bytes, .min = 1, .max = 1048576),
    {0},
};

static const struct conf_key influx_keys[] = {
    K("enabled", CONF_BOOL, struct config_influx, enabled),
    K("url", CONF_STR, struct config_influx, url, .check = check_http_url),
    K("api", CONF_ENUM, struct config_influx, api, .names = api_names, .min = INFLUX_V1),
    K("database", CONF_STR, struct config_influx, database),
    K("retention_policy", CONF_STR, struct config_influx, retention_policy),
    K("username", CONF_STR, struct config_influx, username),
    K("password_file", CONF_SECRET, struct config_influx, password),
    K("create_database", CONF_BOOL, struct config_influx, create_database),
    K("org", CONF_STR, struct config_influx, org),
    K("bucket", CONF_STR, struct config_influx, bucket),
    K("token_file", CONF_SECRET, struct config_influx, token),
    K("batch_size", CONF_INT, struct config_influx, batch_size, .min = 1, .max = 100000),
    K("flush_interval", CONF_DUR, struct config_influx, flush_interval_ms, .min = 1,
      .max = 3600000),
    K("timeout", CONF_DUR, struct config_influx, timeout_ms, .min = 1, .max = 3600000),
    K("gzip", CONF_BOOL, struct config_influx, gzip),
    {.name = "spool", .t = CONF_GROUP, .off = 0, .sub = spool_keys},
    {0},
};

bool config_listen_is_loopback(const char *listen)
{
    const char *colon = strrchr(listen, ':');
    size_t n = colon ? (size_t)(colon - listen) : strlen(listen);
    return (n == 9 && strncmp(listen, "localhost", 9) == 0) ||
           (n >= 4 && strncmp(listen, "127.", 4) == 0) ||
           (n == 5 && strncmp(listen, "[::1]", 5) == 0);
}

static bool check_listen(struct conf_ctx *x, const conf_node *s, const char *v)
{
    const char *colon = strrchr(v, ':');
    char *end;
    long port = colon ? strtol(colon + 1, &end, 10) : 0;
    if (!colon || colon == v || !colon[1] || *end || port < 1 || port > 65535) {
        conf_err_at(x, s, NULL, "expected HOST:PORT, e.g. \"127.0.0.1:8080\"");
        return false;
    }
    return true;
}

/* http.hosts: DNS names, as a browser sends them in Host (no port). */
static void parse_http_hosts(struct conf_ctx *x, const conf_node *s, void *dst)
{
    struct config_http *h = dst;
    size_t n, k = 0;
    const conf_node **v = conf_str_elems(x, s, &n);
    char **names = n ? calloc(n, sizeof(*names)) : NULL;

    if (n && !names)
        x->nomem = true;
    for (size_t i = 0; names && i < n; i++) {
        const char *name = conf_string(v[i]);
        size_t len = strlen(name);
        bool ok = len > 0 && len <= 253;
        for (size_t j = 0; ok && j < len; j++)
            ok = isalnum((unsigned char)name[j]) || name[j] == '-' || name[j] == '.';
        if (!ok)
            conf_err_at(x, v[i], NULL, "\"%s\" is not a host name (letters, digits, - and .)",
                        name);
        else if ((names[k] = conf_xstrdup(x, name)))
            k++;
    }
    h->hosts = names;
    h->n_hosts = k;
    free(v);
}

/* http.public_url: the page as people open it, for links in messages. */
static bool check_public_url(struct conf_ctx *x, const conf_node *s, const char *v)
{
    static const char *const schemes[] = {"http://", "https://", NULL};
    bool ok = false;

    for (int i = 0; schemes[i] && !ok; i++)
        ok = strncmp(v, schemes[i], strlen(schemes[i])) == 0 && v[strlen(schemes[i])] &&
             v[strlen(schemes[i])] != '/';
    for (const char *p = v; ok && *p; p++)
        ok = (unsigned char)*p > ' ' && *p != 0x7f && *p != '"' && *p != '<' && *p != '>';
    if (!ok)
        conf_err_at(x, s, NULL, "must be an http:// or https:// address without spaces");
    return ok;
}

static const struct conf_key http_keys[] = {
    K("enabled", CONF_BOOL, struct config_http, enabled),
    K("listen", CONF_STR, struct config_http, listen, .check = check_listen),
    K("token_file", CONF_SECRET, struct config_http, token),
    K("web_dir", CONF_DIR, struct config_http, web_dir),
    K("cert_file", CONF_FILE, struct config_http, cert_file),
    K("key_file", CONF_SECRET_FILE, struct config_http, key_file),
    K("max_body_bytes", CONF_SIZE, struct config_http, max_body_bytes, .min = 1024, .max = 1048576),
    K("open_reads", CONF_BOOL, struct config_http, open_reads),
    {.name = "hosts", .t = CONF_CUSTOM, .off = 0, .fn = parse_http_hosts},
    K("session_lifetime", CONF_DUR, struct config_http, session_ms, .min = 60000,
      .max = 31 * DAY_MS),
    K("max_connections_per_address", CONF_INT, struct config_http, max_connections_per_address,
      .min = 1, .max = 64),
    K("public_url", CONF_STR, struct config_http, public_url, .check = check_public_url),
    {0},
};

/* A discovery prefix: levels of id characters, not the native prefix (its
 * configs would be read as the gateway's own topics). */
static bool check_discovery_prefix(struct conf_ctx *x, const conf_node *s, const char *v)
{
    size_t len = strlen(v);
    bool ok = len > 0 && len <= 128;
    for (const char *l = v; ok; l = strchr(l, '/') + 1) {
        const char *end = strchr(l, '/');
        ok = id_valid(l, end ? (size_t)(end - l) : strlen(l));
        if (!end)
            break;
    }
    if (!ok)
        conf_err_at(x, s, NULL,
                    "\"%s\" is not a valid discovery prefix (levels of A-Z a-z 0-9 _ . - "
                    "separated by /, at most 128 bytes)",
                    v);
    return ok;
}

static const struct conf_key homeassistant_keys[] = {
    K("enabled", CONF_BOOL, struct config_homeassistant, enabled),
    K("discovery_prefix", CONF_STR, struct config_homeassistant, discovery_prefix,
      .check = check_discovery_prefix),
    {0},
};

static const struct conf_key limits_keys[] = {
    K("payload_max_bytes", CONF_SIZE, struct config_limits, payload_max_bytes, .min = 256,
      .max = 268435456),
    K("json_max_depth", CONF_INT, struct config_limits, json_max_depth, .min = 1, .max = 64),
    K("max_devices", CONF_SIZE, struct config_limits, max_devices, .min = 1, .max = 1000000),
    K("queue_capacity", CONF_SIZE, struct config_limits, queue_capacity, .min = 16, .max = 1048576),
    K("queue_wait", CONF_DUR, struct config_limits, queue_wait_ms, .min = 0, .max = 60000),
    {0},
};

static const struct conf_key discovery_keys[] = {
    K("enabled", CONF_BOOL, struct config_discovery, enabled),
    K("unbound_max", CONF_SIZE, struct config_discovery, unbound_max, .min = 0, .max = 4096),
    {0},
};

static const struct conf_key root_keys[] = {
    {.name = "gateway", .t = CONF_GROUP, .off = 0, .sub = gateway_keys},
    K("mqtt", CONF_GROUP, struct config, mqtt, .required = true, .sub = mqtt_keys),
    K("influx", CONF_GROUP, struct config, influx, .sub = influx_keys),
    K("http", CONF_GROUP, struct config, http, .sub = http_keys),
    K("limits", CONF_GROUP, struct config, limits, .sub = limits_keys),
    K("unknown_devices", CONF_ENUM, struct config, unknown_devices, .names = unknown_names),
    K("discovery", CONF_GROUP, struct config, discovery, .sub = discovery_keys),
    {.name = "halls", .t = CONF_CUSTOM, .fn = config_parse_halls},
    {.name = "devices", .t = CONF_CUSTOM, .fn = config_parse_devices},
    {.name = "schedule", .t = CONF_CUSTOM, .fn = config_parse_schedule},
    {.name = "default_rules", .t = CONF_CUSTOM, .fn = config_parse_default_rules},
    {.name = "rules", .t = CONF_CUSTOM, .fn = config_parse_rules},
    {.name = "notify", .t = CONF_CUSTOM, .fn = config_parse_notify},
    {.name = "alerts", .t = CONF_CUSTOM, .fn = config_parse_alerts},
    {.name = "poweroff", .t = CONF_CUSTOM, .fn = config_parse_poweroff},
    {.name = "scans", .t = CONF_CUSTOM, .fn = config_parse_scans},
    K("homeassistant", CONF_GROUP, struct config, homeassistant, .sub = homeassistant_keys),
    {.name = "reports", .t = CONF_CUSTOM, .fn = config_parse_reports},
    {.name = "sources", .t = CONF_CUSTOM, .fn = config_parse_sources},
    {0},
};

#undef K

/* Defaults of everything that is not a string (strings: finish_blocks()). */
static void set_defaults(struct config *c)
{
    c->gateway.stats_interval_ms = 10000;
    c->mqtt.qos = 1;
    c->mqtt.keepalive_s = 30;
    c->mqtt.tls.verify = true;
    c->influx.api = INFLUX_V1;
    c->influx.create_database = true;
    c->influx.batch_size = 5000;
    c->influx.flush_interval_ms = 1000;
    c->influx.timeout_ms = 10000;
    c->influx.gzip = true;
    c->influx.spool_max_bytes = UINT64_C(512) * 1024 * 1024;
    c->http.max_body_bytes = 16384;
    c->http.session_ms = 12 * 3600000;
    c->http.max_connections_per_address = 16;
    c->limits.payload_max_bytes = 65536;
    c->limits.json_max_depth = 8;
    c->limits.max_devices = 20000;
    c->limits.queue_capacity = 8192;
    c->limits.queue_wait_ms = 2000;
    c->unknown_devices = UNKNOWN_IGNORE;
    c->discovery.enabled = true;
    c->discovery.unbound_max = 256;
    c->schedule.weekdays = 0x3e; /* mon-fri: bits 1 to 5 (tm_wday) */
    c->schedule.open_s = 9 * 3600;
    c->schedule.close_s = 17 * 3600;
    c->schedule.poweroff_s = -1;
    c->schedule.poweron_s = -1;
    c->alerts.renotify_ms = 3600000;
    c->alerts.silence_max_ms = 7 * DAY_MS;
}

static void default_str(struct conf_ctx *x, char **field, const char *v)
{
    if (!*field)
        *field = conf_xstrdup(x, v);
}

/* Checks between keys of one block, then string defaults. */
static void finish_blocks(struct conf_ctx *x, const conf_node *root)
{
    struct config *c = config_of(x);
    const conf_node *mqtt = conf_member(root, "mqtt");
    const conf_node *influx = conf_member(root, "influx");
    const conf_node *s;
    const char *const *wrong = c->influx.api == INFLUX_V2 ? v1_only : v2_only;

    default_str(x, &c->gateway.id, "gw-1");
    default_str(x, &c->gateway.timezone, "UTC");
    default_str(x, &c->gateway.state_dir, "/var/lib/hallgw");
    if (mqtt && conf_is_group(mqtt)) {
        if (c->mqtt.uri && strncmp(c->mqtt.uri, "mqtt", 4) == 0) {
            char *u = conf_xprintf("%s%s", c->mqtt.uri[4] == 's' ? "ssl" : "tcp",
                                   strstr(c->mqtt.uri, "://"));
            free(c->mqtt.uri);
            c->mqtt.uri = u;
            x->nomem |= !u;
        }
        s = conf_member(mqtt, "tls");
        if (s && c->mqtt.uri && strncmp(c->mqtt.uri, "tcp://", 6) == 0)
            conf_err_at(x, s, NULL, "needs an ssl:// or mqtts:// uri");
        s = conf_member(mqtt, "password_file");
        if (s && !conf_member(mqtt, "username"))
            conf_err_at(x, s, NULL, "needs mqtt.username");
    }
    if (!c->mqtt.client_id && c->gateway.id &&
        !(c->mqtt.client_id = conf_xprintf("hallgw-%s", c->gateway.id)))
        x->nomem = true;
    default_str(x, &c->mqtt.prefix, "hall");
    default_str(x, &c->homeassistant.discovery_prefix, "homeassistant");
    s = conf_member(root, "homeassistant");
    if (s && conf_is_group(s) && c->mqtt.prefix && c->homeassistant.discovery_prefix) {
        const conf_node *dp = conf_member(s, "discovery_prefix");
        size_t n = strlen(c->mqtt.prefix);
        const char *d = c->homeassistant.discovery_prefix;
        if ((dp || c->homeassistant.enabled) && strncmp(d, c->mqtt.prefix, n) == 0 &&
            (d[n] == '\0' || d[n] == '/'))
            conf_err_at(x, dp ? dp : s, dp ? NULL : "discovery_prefix",
                        "must not be under mqtt.prefix \"%s\"", c->mqtt.prefix);
    }
    if (influx && conf_is_group(influx)) {
        for (int i = 0; wrong[i]; i++)
            if ((s = conf_member(influx, wrong[i])))
                conf_err_at(x, s, NULL, "only for api = \"%s\"",
                            c->influx.api == INFLUX_V2 ? "v1" : "v2");
        for (int i = 0; c->influx.api == INFLUX_V2 && v2_only[i]; i++)
            if (!conf_member(influx, v2_only[i]))
                conf_err_at(x, influx, v2_only[i], "required with api = \"v2\"");
        s = conf_member(influx, "password_file");
        if (s && !conf_member(influx, "username"))
            conf_err_at(x, s, NULL, "needs influx.username");
    }
    const conf_node *http = conf_member(root, "http");
    if (http && conf_is_group(http)) {
        /* Written, not loaded: a file refused already has its error. */
        bool cert = conf_member(http, "cert_file"), key = conf_member(http, "key_file");
        if (cert != key)
            conf_err_at(x, http, cert ? "key_file" : "cert_file",
                        "HTTPS needs both cert_file and key_file");
    }
    default_str(x, &c->http.listen, "127.0.0.1:8080");
    /* Reads need an account beyond loopback unless open_reads says so. */
    if (!(http && conf_is_group(http) && conf_member(http, "open_reads")))
        c->http.open_reads = c->http.listen && config_listen_is_loopback(c->http.listen);
    default_str(x, &c->influx.url, "http://127.0.0.1:8086");
    if (c->influx.api == INFLUX_V1)
        default_str(x, &c->influx.database, "hallgw");
    if (!c->influx.spool_dir && c->gateway.state_dir &&
        !(c->influx.spool_dir = conf_xprintf("%s/spool", c->gateway.state_dir)))
        x->nomem = true;
}

/* Each id of gateway.halls must be a hall of halls (after config_check_model()
 * has indexed them). */
static void check_gateway_halls(struct conf_ctx *x, const conf_node *root)
{
    const conf_node *g = conf_member(root, "gateway");
    const conf_node *s = g && conf_is_group(g) ? conf_member(g, "halls") : NULL;

    for (int i = 0; s && i < conf_str_count(s); i++) {
        const conf_node *e = conf_str_elem(s, i);
        const char *h = conf_string(e);

        if (h && id_valid(h, strlen(h)) && !config_find_hall(config_of(x), h))
            conf_err_at(x, e, NULL, "no hall \"%s\" in halls", h);
    }
}

static bool owned_hall(const struct config *c, const char *id)
{
    for (size_t i = 0; i < c->gateway.n_halls; i++)
        if (strcmp(c->gateway.halls[i], id) == 0)
            return true;
    return false;
}

/* Index v (*n pointers into the old array base, in order) rewritten to point
 * into the new array nbase, without the dropped elements (map[i] < 0). */
static void remap_halls(const struct config_hall **v, size_t *n, const struct config_hall *base,
                        const long *map, const struct config_hall *nbase)
{
    size_t k = 0;

    for (size_t i = 0; i < *n; i++)
        if (map[v[i] - base] >= 0)
            v[k++] = &nbase[map[v[i] - base]];
    *n = k;
}

static void remap_devices(const struct config_device **v, size_t *n,
                          const struct config_device *base, const long *map,
                          const struct config_device *nbase)
{
    size_t k = 0;

    for (size_t i = 0; i < *n; i++)
        if (map[v[i] - base] >= 0)
            v[k++] = &nbase[map[v[i] - base]];
    *n = k;
}

/* With gateway.halls set, keeps only the owned halls and their devices in the
 * loaded (already validated) config, so that every module (ingest, alerting,
 * windows, enforcement, reports) sees just this instance's share. The dropped
 * entries are released through config_free_model() on a scratch config. */
static bool keep_owned_halls(struct config_priv *p)
{
    struct config *c = &p->pub;
    struct config_priv gone = {0};
    struct config_hall *kh = calloc(c->n_halls + 1, sizeof(*kh));
    struct config_hall *dh = calloc(c->n_halls + 1, sizeof(*dh));
    struct config_device *kd = calloc(c->n_devices + 1, sizeof(*kd));
    struct config_device *dd = calloc(c->n_devices + 1, sizeof(*dd));
    long *hmap = calloc(c->n_halls + 1, sizeof(*hmap));
    long *dmap = calloc(c->n_devices + 1, sizeof(*dmap));
    size_t nkh = 0, ndh = 0, nkd = 0, ndd = 0;
    bool ok = kh && dh && kd && dd && hmap && dmap;

    if (!ok)
        goto out;
    for (size_t i = 0; i < c->n_halls; i++) {
        if (owned_hall(c, c->halls[i].id)) {
            hmap[i] = (long)nkh;
            kh[nkh++] = c->halls[i];
        } else {
            hmap[i] = -1;
            dh[ndh++] = c->halls[i];
        }
    }
    for (size_t i = 0; i < c->n_devices; i++) {
        if (owned_hall(c, c->devices[i].hall)) {
            dmap[i] = (long)nkd;
            kd[nkd++] = c->devices[i];
        } else {
            dmap[i] = -1;
            dd[ndd++] = c->devices[i];
        }
    }
    remap_halls(p->halls_by_id, &p->n_halls_by_id, c->halls, hmap, kh);
    remap_devices(p->by_id, &p->n_by_id, c->devices, dmap, kd);
    remap_devices(p->by_source, &p->n_by_source, c->devices, dmap, kd);
    free(c->halls);
    free(c->devices);
    c->halls = kh;
    c->n_halls = nkh;
    c->devices = kd;
    c->n_devices = nkd;
    kh = NULL;
    kd = NULL;
    gone.pub.halls = dh;
    gone.pub.n_halls = ndh;
    gone.pub.devices = dd;
    gone.pub.n_devices = ndd;
    config_free_model(&gone); /* frees dh and dd */
    dh = NULL;
    dd = NULL;
out:
    free(kh);
    free(dh);
    free(kd);
    free(dd);
    free(hmap);
    free(dmap);
    return ok;
}

int config_load(const char *path, struct config **out, struct conf_errors *errs)
{
    struct conf_ctx x;
    struct config_priv *p = calloc(1, sizeof(*p));
    const conf_node *root;
    int rc;

    *out = NULL;
    if (!p) {
        *errs = (struct conf_errors){0};
        return -ENOMEM;
    }
    root = conf_open(&x, path, errs, &p->pub);
    set_defaults(&p->pub);
    p->pub.path = conf_xstrdup(&x, path);
    if (root) {
        const conf_node *influx = conf_member(root, "influx");
        const conf_node *http = conf_member(root, "http");
        p->pub.influx.enabled = influx && conf_is_group(influx);
        p->pub.http.enabled = http && conf_is_group(http);
        conf_parse_group(&x, root, root_keys, &p->pub);
        finish_blocks(&x, root);
        config_check_model(&x, root);
        config_check_sources(&x, root);
        check_gateway_halls(&x, root);
        config_check_rules(&x, root);
        config_check_notify(&x, root);
        config_check_enforce(&x, root);
        config_check_reports(&x, root);
        if (errs->n == 0 && !x.nomem && p->pub.gateway.n_halls > 0 && !keep_owned_halls(p))
            x.nomem = true;
    }
    rc = conf_close(&x);
    if (rc == 0) {
        *out = &p->pub;
        return 0;
    }
    config_free(&p->pub);
    return rc;
}

static void free_tls(struct config_tls *t)
{
    free(t->ca_file);
    free(t->cert_file);
    free(t->key_file);
}

void config_free(struct config *c)
{
    if (!c)
        return;
    free(c->path);
    free(c->gateway.id);
    free(c->gateway.timezone);
    free(c->gateway.state_dir);
    for (size_t i = 0; i < c->gateway.n_halls; i++)
        free(c->gateway.halls[i]);
    free(c->gateway.halls);
    free(c->mqtt.uri);
    free(c->mqtt.client_id);
    free(c->mqtt.username);
    crypto_free_secret(c->mqtt.password);
    free(c->mqtt.prefix);
    free(c->mqtt.command_key_file);
    free(c->mqtt.shared_group);
    free_tls(&c->mqtt.tls);
    free(c->influx.url);
    free(c->influx.database);
    free(c->influx.retention_policy);
    free(c->influx.username);
    crypto_free_secret(c->influx.password);
    free(c->influx.org);
    free(c->influx.bucket);
    crypto_free_secret(c->influx.token);
    free(c->influx.spool_dir);
    free(c->homeassistant.discovery_prefix);
    free(c->http.listen);
    crypto_free_secret(c->http.token);
    free(c->http.web_dir);
    free(c->http.cert_file);
    free(c->http.key_file);
    for (size_t i = 0; i < c->http.n_hosts; i++)
        free(c->http.hosts[i]);
    free(c->http.hosts);
    free(c->http.public_url);
    config_free_model((struct config_priv *)c);
    config_free_rules((struct config_priv *)c);
    config_free_notify(c);
    config_free_enforce(c);
    config_free_reports(c);
    config_free_sources(c);
    free(c);
}
