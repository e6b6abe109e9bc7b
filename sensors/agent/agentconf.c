/* hallgw-agent's configuration: a table of keys per block, walked by
 * lib/conf.h, every error recorded with its file, line and key. */
#include "agentconf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmdsign.h"
#include "crypto.h"

#define DAY_MS INT64_C(86400000)

static struct agentconf *conf_of(struct conf_ctx *x)
{
    return x->target;
}

static bool check_uri(struct conf_ctx *x, const conf_node *s, const char *v)
{
    static const char *const schemes[] = {"tcp://", "ssl://", "mqtt://", "mqtts://", NULL};
    return conf_check_hostport(x, s, v, schemes, true);
}

/* command_key_file: the path, and the key read from it, a secret file
 * (conf_open_secret, cmdsign_key_read). */
static void parse_key_file(struct conf_ctx *x, const conf_node *s, void *dst)
{
    struct agentconf *c = conf_of(x);
    uint8_t key[CMDSIGN_KEY_MAX];
    size_t len = 0;
    const char *v = conf_str_value(x, s);
    char *path;
    int fd, rc;

    if (!v)
        return;
    if (!*v) {
        conf_err_at(x, s, NULL, "must not be empty");
        return;
    }
    if (!(path = conf_path(x, v)))
        return;
    if ((fd = conf_open_secret(x, s, path)) < 0) {
        rc = -EACCES; /* recorded */
    } else {
        rc = cmdsign_key_read(fd, key, &len);
        close(fd);
        if (rc == -EINVAL)
            conf_err_at(x, s, NULL, "%s: the key is shorter than %d bytes", path, CMDSIGN_KEY_MIN);
        else if (rc == -EFBIG)
            conf_err_at(x, s, NULL, "%s: the key is longer than %d bytes", path, CMDSIGN_KEY_MAX);
        else if (rc < 0)
            conf_err_at(x, s, NULL, "cannot read %s: %s", path, strerror(-rc));
    }
    free(*(char **)dst);
    *(char **)dst = path;
    if (rc < 0)
        return;
    if (c->command_key)
        crypto_wipe(c->command_key, c->command_key_len);
    free(c->command_key);
    c->command_key = malloc(len);
    if (!c->command_key) {
        x->nomem = true;
    } else {
        memcpy(c->command_key, key, len);
        c->command_key_len = len;
    }
    crypto_wipe(key, sizeof(key));
}

static void argv_free(struct agentconf_argv *a)
{
    for (size_t i = 0; a->v && i < a->n; i++)
        free(a->v[i]);
    free(a->v);
    *a = (struct agentconf_argv){0};
}

/* A program and its arguments: a list of strings, the first not empty. */
static void parse_argv(struct conf_ctx *x, const conf_node *s, void *dst)
{
    struct agentconf_argv *a = dst;
    int n = conf_length(s);
    char **v;

    if (!conf_is_array(s) && !conf_is_list(s)) {
        conf_err_at(x, s, NULL, "expected a list of strings, e.g. [\"systemctl\", \"poweroff\"]");
        return;
    }
    if (n == 0) {
        conf_err_at(x, s, NULL, "must name a program");
        return;
    }
    for (int i = 0; i < n; i++) {
        const conf_node *e = conf_elem(s, i);
        if (conf_type(e) != CONF_TYPE_STRING) {
            conf_err_at(x, e, NULL, "expected a string");
            return;
        }
    }
    if (!(v = calloc((size_t)n + 1, sizeof(char *)))) {
        x->nomem = true;
        return;
    }
    argv_free(a);
    a->v = v;
    a->n = (size_t)n;
    for (int i = 0; i < n; i++)
        v[i] = conf_xstrdup(x, conf_string(conf_elem(s, i)));
    if (!v[0] || !v[0][0])
        conf_err_at(x, s, NULL, "the program name is empty");
}

/* ---- the tables --------------------------------------------------------- */

#define K(n, type, member, ...) CONF_KEY(n, type, struct agentconf, member, __VA_ARGS__)
#define GROUP(n, keys)                                                                             \
    {                                                                                              \
        .name = n, .t = CONF_GROUP, .off = 0, .sub = keys                                          \
    }

static const struct conf_key tls_keys[] = {
    K("ca_file", CONF_FILE, mqtt.ca_file),
    K("cert_file", CONF_FILE, mqtt.cert_file),
    K("key_file", CONF_SECRET_FILE, mqtt.key_file),
    K("verify", CONF_BOOL, mqtt.verify),
    {0},
};

static const struct conf_key mqtt_keys[] = {
    K("uri", CONF_STR, mqtt.uri, .check = check_uri),
    K("client_id", CONF_STR, mqtt.client_id),
    K("username", CONF_STR, mqtt.username),
    K("password_file", CONF_SECRET, mqtt.password),
    K("prefix", CONF_ID, mqtt.prefix),
    K("keepalive", CONF_DUR_S, mqtt.keepalive_s, .min = 1000, .max = 65535000),
    GROUP("tls", tls_keys),
    {0},
};

static const struct conf_key clamav_keys[] = {
    K("db_dir", CONF_STR, clamav.db_dir),
    K("scan_log", CONF_STR, clamav.scan_log),
    {0},
};

static const struct conf_key poweroff_keys[] = {
    K("argv", CONF_CUSTOM, poweroff.argv, .fn = parse_argv),
    K("grace", CONF_DUR, poweroff.grace_ms, .min = 0, .max = DAY_MS),
    {0},
};

static const struct conf_key scan_keys[] = {
    K("quick_argv", CONF_CUSTOM, scan.quick_argv, .fn = parse_argv),
    K("full_argv", CONF_CUSTOM, scan.full_argv, .fn = parse_argv),
    K("log", CONF_STR, scan.log),
    K("timeout", CONF_DUR, scan.timeout_ms, .min = 1000, .max = 7 * DAY_MS),
    {0},
};

static const struct conf_key notify_keys[] = {
    K("argv", CONF_CUSTOM, notify.argv, .fn = parse_argv),
    K("timeout", CONF_DUR, notify.timeout_ms, .min = 100, .max = 3600000),
    {0},
};

static const struct conf_key network_keys[] = {
    K("proxy_env", CONF_BOOL, network.proxy_env),
    K("ipv6", CONF_BOOL, network.ipv6),
    {0},
};

static const struct conf_key root_keys[] = {
    GROUP("mqtt", mqtt_keys),
    K("hall", CONF_ID, hall),
    K("device", CONF_ID, device),
    K("command_key_file", CONF_CUSTOM, command_key_file, .fn = parse_key_file),
    K("interval", CONF_DUR, interval_ms, .min = 1000, .max = DAY_MS),
    K("watch_interval", CONF_DUR, watch_interval_ms, .min = 100, .max = 3600000),
    K("state_dir", CONF_STR, state_dir),
    K("probe_root", CONF_STR, probe_root),
    GROUP("clamav", clamav_keys),
    GROUP("poweroff", poweroff_keys),
    GROUP("scan", scan_keys),
    GROUP("notify", notify_keys),
    GROUP("network", network_keys),
    {0},
};

#undef K
#undef GROUP

/* ---- load --------------------------------------------------------------- */

static void default_argv(struct conf_ctx *x, struct agentconf_argv *a, const char *const *v)
{
    size_t n = 0;

    if (a->v)
        return;
    while (v[n])
        n++;
    if (!(a->v = calloc(n + 1, sizeof(char *)))) {
        x->nomem = true;
        return;
    }
    a->n = n;
    for (size_t i = 0; i < n; i++)
        a->v[i] = conf_xstrdup(x, v[i]);
}

static void default_str(struct conf_ctx *x, char **dst, const char *v)
{
    if (!*dst)
        *dst = conf_xstrdup(x, v);
}

static void finish(struct conf_ctx *x, const conf_node *root)
{
    static const char *const poweroff_argv[] = {"systemctl", "poweroff", NULL};
    static const char *const quick_argv[] = {"clamscan", "-r", "--infected", "/home", NULL};
    static const char *const full_argv[] = {"clamscan", "-r", "--infected", "/", NULL};
    static const char *const notify_argv[] = {
        "notify-send", "--urgency=critical", "--app-name=hallgw", "--", "hallgw", NULL};
    struct agentconf *c = conf_of(x);
    const conf_node *mqtt = conf_member(root, "mqtt");
    const conf_node *s;

    if (!mqtt)
        conf_err_at(x, root, "mqtt", "required");
    else if (conf_is_group(mqtt) && !conf_member(mqtt, "uri"))
        conf_err_at(x, mqtt, "uri", "required");
    if (!conf_member(root, "hall"))
        conf_err_at(x, root, "hall", "required");
    if (!conf_member(root, "device"))
        conf_err_at(x, root, "device", "required");
    if (c->hall && strcmp(c->hall, "_gateway") == 0)
        conf_err_at(x, conf_member(root, "hall"), NULL, "\"_gateway\" is reserved");
    if (c->device && (strcmp(c->device, "alerts") == 0 || strcmp(c->device, "windows") == 0))
        conf_err_at(x, conf_member(root, "device"), NULL, "\"%s\" is reserved", c->device);
    if (mqtt && conf_is_group(mqtt)) {
        if ((s = conf_member(mqtt, "tls")) && c->mqtt.uri && strncmp(c->mqtt.uri, "tcp://", 6) == 0)
            conf_err_at(x, s, NULL, "needs an ssl:// or mqtts:// uri");
        if ((s = conf_member(mqtt, "password_file")) && !conf_member(mqtt, "username"))
            conf_err_at(x, s, NULL, "needs mqtt.username");
    }
    if (c->mqtt.uri && strncmp(c->mqtt.uri, "mqtt", 4) == 0) {
        char *u =
            conf_xprintf("%s%s", c->mqtt.uri[4] == 's' ? "ssl" : "tcp", strstr(c->mqtt.uri, "://"));
        x->nomem |= !u;
        free(c->mqtt.uri);
        c->mqtt.uri = u;
    }
    if (!c->mqtt.client_id && c->hall && c->device &&
        !(c->mqtt.client_id = conf_xprintf("hallgw-agent-%s-%s", c->hall, c->device)))
        x->nomem = true;
    default_str(x, &c->mqtt.prefix, "hall");
    default_str(x, &c->state_dir, "/var/lib/hallgw-agent");
    default_str(x, &c->probe_root, "/");
    default_str(x, &c->clamav.db_dir, "/var/lib/clamav");
    default_str(x, &c->clamav.scan_log, "/var/log/clamav/scan.log");
    default_str(x, &c->scan.log, c->clamav.scan_log ? c->clamav.scan_log : "");
    default_argv(x, &c->poweroff.argv, poweroff_argv);
    default_argv(x, &c->scan.quick_argv, quick_argv);
    default_argv(x, &c->scan.full_argv, full_argv);
    default_argv(x, &c->notify.argv, notify_argv);
}

int agentconf_load(const char *path, struct agentconf **out, struct conf_errors *errs)
{
    struct conf_ctx x;
    struct agentconf *c = calloc(1, sizeof(*c));
    const conf_node *root;
    int rc;

    *out = NULL;
    if (!c) {
        *errs = (struct conf_errors){0};
        return -ENOMEM;
    }
    c->mqtt.keepalive_s = 30;
    c->mqtt.verify = true;
    c->interval_ms = 60000;
    c->watch_interval_ms = 2000;
    c->poweroff.grace_ms = 5 * 60000;
    c->scan.timeout_ms = 12 * 3600000;
    c->notify.timeout_ms = 30000;
    c->network.proxy_env = true;
    c->network.ipv6 = true;
    root = conf_open(&x, path, errs, c);
    c->path = conf_xstrdup(&x, path);
    if (root) {
        conf_parse_group(&x, root, root_keys, c);
        finish(&x, root);
    }
    rc = conf_close(&x);
    if (rc == 0) {
        *out = c;
        return 0;
    }
    agentconf_free(c);
    return rc;
}

void agentconf_free(struct agentconf *c)
{
    if (!c)
        return;
    free(c->path);
    free(c->mqtt.uri);
    free(c->mqtt.client_id);
    free(c->mqtt.username);
    crypto_free_secret(c->mqtt.password);
    free(c->mqtt.prefix);
    free(c->mqtt.ca_file);
    free(c->mqtt.cert_file);
    free(c->mqtt.key_file);
    free(c->hall);
    free(c->device);
    free(c->command_key_file);
    if (c->command_key)
        crypto_wipe(c->command_key, c->command_key_len);
    free(c->command_key);
    free(c->state_dir);
    free(c->probe_root);
    free(c->clamav.db_dir);
    free(c->clamav.scan_log);
    argv_free(&c->poweroff.argv);
    argv_free(&c->scan.quick_argv);
    argv_free(&c->scan.full_argv);
    free(c->scan.log);
    argv_free(&c->notify.argv);
    free(c);
}
