/* hallgw-agent's configuration: a table of keys per block, walked over the
 * libconfig settings, every error recorded with its file, line and key. */
#include "agentconf.h"

#include <errno.h>
#include <libconfig.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmdsign.h"
#include "duration.h"
#include "topic.h"

#define DAY_MS INT64_C(86400000)
#define SECRET_MAX_BYTES 4096

struct ctx {
    struct agentconf *c;
    struct config_errors *errs;
    const char *path;
    char *dir; /* the config file's directory, for relative *_file paths; NULL for "." */
    bool nomem;
};

enum vtype {
    T_STR,
    T_ID,
    T_DUR,
    T_DUR_S,
    T_BOOL,
    T_ARGV,
    T_URI,
    T_PREFIX,
    T_FILE,
    T_SECRET,
    T_KEY,
    T_GROUP
};

struct key {
    const char *name;
    enum vtype t;
    size_t off;
    int64_t min, max; /* T_DUR */
    const struct key *sub;
};

/* ---- errors ------------------------------------------------------------- */

static char *xvprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

static char *xvprintf(const char *fmt, va_list ap)
{
    char *s;
    return vasprintf(&s, fmt, ap) < 0 ? NULL : s;
}

static char *xprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *xprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = xvprintf(fmt, ap);
    va_end(ap);
    return s;
}

static void add_error(struct ctx *x, const char *file, int line, const char *key, const char *fmt,
                      ...) __attribute__((format(printf, 5, 6)));

static void add_error(struct ctx *x, const char *file, int line, const char *key, const char *fmt,
                      ...)
{
    struct config_errors *e = x->errs;
    struct config_error *v = realloc(e->v, (e->n + 1) * sizeof(*v));
    va_list ap;

    if (!v) {
        x->nomem = true;
        return;
    }
    e->v = v;
    va_start(ap, fmt);
    char *msg = xvprintf(fmt, ap);
    va_end(ap);
    char *f = strdup(file), *k = strdup(key);
    if (!msg || !f || !k) {
        free(msg);
        free(f);
        free(k);
        x->nomem = true;
        return;
    }
    v[e->n++] = (struct config_error){.file = f, .line = line, .key = k, .msg = msg};
}

/* "mqtt.tls.ca_file", "poweroff.argv[1]": the dotted path of a setting. */
static void setting_path(const config_setting_t *s, char *buf, size_t n)
{
    const config_setting_t *p = config_setting_parent(s);
    size_t len;

    buf[0] = '\0';
    if (!p)
        return;
    setting_path(p, buf, n);
    len = strlen(buf);
    if (config_setting_name(s))
        (void)snprintf(buf + len, n - len, "%s%s", len ? "." : "", config_setting_name(s));
    else
        (void)snprintf(buf + len, n - len, "[%d]", config_setting_index(s));
}

static void err_at(struct ctx *x, const config_setting_t *s, const char *child, const char *fmt,
                   ...) __attribute__((format(printf, 4, 5)));

static void err_at(struct ctx *x, const config_setting_t *s, const char *child, const char *fmt,
                   ...)
{
    char key[256];
    const char *file = config_setting_source_file(s);
    va_list ap;

    setting_path(s, key, sizeof(key));
    if (child) {
        size_t len = strlen(key);
        (void)snprintf(key + len, sizeof(key) - len, "%s%s", len ? "." : "", child);
    }
    va_start(ap, fmt);
    char *msg = xvprintf(fmt, ap);
    va_end(ap);
    if (!msg) {
        x->nomem = true;
        return;
    }
    add_error(x, file ? file : x->path, (int)config_setting_source_line(s), key, "%s", msg);
    free(msg);
}

/* ---- values ------------------------------------------------------------- */

static char *xstrdup(struct ctx *x, const char *s)
{
    char *d = strdup(s);
    x->nomem |= !d;
    return d;
}

static char *resolve(struct ctx *x, const char *p)
{
    char *r = (p[0] == '/' || !x->dir) ? strdup(p) : xprintf("%s/%s", x->dir, p);
    x->nomem |= !r;
    return r;
}

static bool check_uri(struct ctx *x, const config_setting_t *s, const char *v)
{
    static const char *const schemes[] = {"tcp://", "ssl://", "mqtt://", "mqtts://", NULL};
    const char *rest = NULL;

    for (int i = 0; schemes[i] && !rest; i++)
        if (strncmp(v, schemes[i], strlen(schemes[i])) == 0)
            rest = v + strlen(schemes[i]);
    if (!rest) {
        err_at(x, s, NULL, "\"%s\" must start with tcp://, ssl://, mqtt:// or mqtts://", v);
        return false;
    }
    const char *colon = strrchr(rest, ':');
    if (!*rest || strpbrk(rest, " \t/?#") || !colon || colon == rest || !colon[1] ||
        strspn(colon + 1, "0123456789") != strlen(colon + 1) || atoi(colon + 1) < 1 ||
        atoi(colon + 1) > 65535) {
        err_at(x, s, NULL, "\"%s\" must be scheme://host:port", v);
        return false;
    }
    return true;
}

/* A readable, non-empty secret file; its content without one trailing newline. */
static char *read_secret(struct ctx *x, const config_setting_t *s, const char *path)
{
    char buf[SECRET_MAX_BYTES + 1];
    FILE *f = fopen(path, "re");
    size_t n;

    if (!f) {
        err_at(x, s, NULL, "cannot read %s: %s", path, strerror(errno));
        return NULL;
    }
    n = fread(buf, 1, sizeof(buf), f);
    (void)fclose(f);
    if (n > SECRET_MAX_BYTES) {
        err_at(x, s, NULL, "%s is larger than %d bytes", path, SECRET_MAX_BYTES);
        return NULL;
    }
    if (n > 0 && buf[n - 1] == '\n')
        n--;
    if (n > 0 && buf[n - 1] == '\r')
        n--;
    buf[n] = '\0';
    if (n == 0 || strlen(buf) != n) {
        err_at(x, s, NULL, "%s is empty or holds a NUL byte", path);
        return NULL;
    }
    return xstrdup(x, buf);
}

static void parse_key_file(struct ctx *x, const config_setting_t *s, const char *path)
{
    uint8_t key[CMDSIGN_KEY_MAX];
    size_t len = 0;
    int rc = cmdsign_key_load(path, key, &len);

    if (rc == -EINVAL)
        err_at(x, s, NULL, "%s: the key is shorter than %d bytes", path, CMDSIGN_KEY_MIN);
    else if (rc == -EFBIG)
        err_at(x, s, NULL, "%s: the key is longer than %d bytes", path, CMDSIGN_KEY_MAX);
    else if (rc < 0)
        err_at(x, s, NULL, "cannot read %s: %s", path, strerror(-rc));
    if (rc < 0)
        return;
    x->c->command_key = malloc(len);
    if (!x->c->command_key) {
        x->nomem = true;
        return;
    }
    memcpy(x->c->command_key, key, len);
    x->c->command_key_len = len;
    memset(key, 0, sizeof(key));
}

static void argv_free(struct agentconf_argv *a)
{
    for (size_t i = 0; a->v && i < a->n; i++)
        free(a->v[i]);
    free(a->v);
    *a = (struct agentconf_argv){0};
}

static void parse_argv(struct ctx *x, const config_setting_t *s, struct agentconf_argv *a)
{
    int n = config_setting_length(s);
    char **v;

    if (!config_setting_is_aggregate(s) || config_setting_is_group(s)) {
        err_at(x, s, NULL, "expected a list of strings, e.g. [\"systemctl\", \"poweroff\"]");
        return;
    }
    if (n == 0) {
        err_at(x, s, NULL, "must name a program");
        return;
    }
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        if (config_setting_type(e) != CONFIG_TYPE_STRING) {
            err_at(x, e, NULL, "expected a string");
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
        v[i] = xstrdup(x, config_setting_get_string(config_setting_get_elem(s, (unsigned)i)));
    if (!v[0] || !v[0][0])
        err_at(x, s, NULL, "the program name is empty");
}

static void set_str(char **dst, char *v)
{
    free(*dst);
    *dst = v;
}

static void parse_group(struct ctx *x, const config_setting_t *g, const struct key *keys,
                        void *base);

static void parse_value(struct ctx *x, const config_setting_t *s, const struct key *k, void *dst)
{
    const char *v;
    int64_t ms;
    int rc;

    if (k->t == T_GROUP) {
        if (!config_setting_is_group(s))
            err_at(x, s, NULL, "expected a group { ... }");
        else
            parse_group(x, s, k->sub, dst);
        return;
    }
    if (k->t == T_BOOL) {
        if (config_setting_type(s) != CONFIG_TYPE_BOOL)
            err_at(x, s, NULL, "expected true or false");
        else
            *(bool *)dst = config_setting_get_bool(s);
        return;
    }
    if (k->t == T_ARGV) {
        parse_argv(x, s, dst);
        return;
    }
    if (config_setting_type(s) != CONFIG_TYPE_STRING) {
        err_at(x, s, NULL,
               k->t == T_DUR || k->t == T_DUR_S ? "expected a duration string such as \"30s\""
                                                : "expected a string");
        return;
    }
    v = config_setting_get_string(s);
    if (!v[0]) {
        err_at(x, s, NULL, "must not be empty");
        return;
    }
    switch (k->t) {
    case T_STR:
        set_str(dst, xstrdup(x, v));
        return;
    case T_ID:
        if (!topic_id_valid(v, strlen(v)))
            err_at(x, s, NULL, "\"%s\" is not a valid id (1 to 64 of A-Z a-z 0-9 _ . -)", v);
        else
            set_str(dst, xstrdup(x, v));
        return;
    case T_PREFIX:
        if (!topic_id_valid(v, strlen(v)))
            err_at(x, s, NULL, "\"%s\" is not a valid prefix (1 to 64 of A-Z a-z 0-9 _ . -)", v);
        else
            set_str(dst, xstrdup(x, v));
        return;
    case T_URI:
        if (check_uri(x, s, v))
            set_str(dst, xstrdup(x, v));
        return;
    case T_DUR:
    case T_DUR_S:
        rc = duration_parse_ms(v, &ms);
        if (rc < 0)
            err_at(x, s, NULL, "\"%s\" is not a duration (e.g. \"500ms\", \"30s\", \"5m\", \"1h\")",
                   v);
        else if (ms < k->min || ms > k->max)
            err_at(x, s, NULL, "\"%s\" is out of range (%lld ms to %lld ms)", v, (long long)k->min,
                   (long long)k->max);
        else if (k->t == T_DUR_S && ms % 1000 != 0)
            err_at(x, s, NULL, "\"%s\" must be whole seconds", v);
        else if (k->t == T_DUR_S)
            *(int *)dst = (int)(ms / 1000);
        else
            *(int64_t *)dst = ms;
        return;
    case T_FILE: {
        char *p = resolve(x, v);
        if (p && access(p, R_OK) < 0)
            err_at(x, s, NULL, "cannot read %s: %s", p, strerror(errno));
        set_str(dst, p);
        return;
    }
    case T_SECRET: {
        char *p = resolve(x, v);
        if (p)
            set_str(dst, read_secret(x, s, p));
        free(p);
        return;
    }
    case T_KEY: {
        char *p = resolve(x, v);
        if (p)
            parse_key_file(x, s, p);
        set_str(dst, p);
        return;
    }
    default:
        return;
    }
}

static void parse_group(struct ctx *x, const config_setting_t *g, const struct key *keys,
                        void *base)
{
    int n = config_setting_length(g);

    for (int i = 0; i < n; i++) {
        const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
        const char *name = config_setting_name(s);
        const struct key *k = keys;
        while (k->name && strcmp(k->name, name) != 0)
            k++;
        if (!k->name) {
            err_at(x, s, NULL, "unknown key");
            continue;
        }
        parse_value(x, s, k, (char *)base + k->off);
    }
}

/* ---- the tables --------------------------------------------------------- */

#define K(n, type, member, ...)                                                                    \
    {                                                                                              \
        .name = n, .t = type, .off = offsetof(struct agentconf, member), __VA_ARGS__               \
    }

static const struct key tls_keys[] = {
    K("ca_file", T_FILE, mqtt.ca_file),
    K("cert_file", T_FILE, mqtt.cert_file),
    K("key_file", T_FILE, mqtt.key_file),
    K("verify", T_BOOL, mqtt.verify),
    {0},
};

static const struct key mqtt_keys[] = {
    K("uri", T_URI, mqtt.uri),
    K("client_id", T_STR, mqtt.client_id),
    K("username", T_STR, mqtt.username),
    K("password_file", T_SECRET, mqtt.password),
    K("prefix", T_PREFIX, mqtt.prefix),
    K("keepalive", T_DUR_S, mqtt.keepalive_s, .min = 1000, .max = 65535000),
    {.name = "tls", .t = T_GROUP, .off = 0, .sub = tls_keys},
    {0},
};

static const struct key clamav_keys[] = {
    K("db_dir", T_STR, clamav.db_dir),
    K("scan_log", T_STR, clamav.scan_log),
    {0},
};

static const struct key poweroff_keys[] = {
    K("argv", T_ARGV, poweroff.argv),
    K("grace", T_DUR, poweroff.grace_ms, .min = 0, .max = DAY_MS),
    {0},
};

static const struct key scan_keys[] = {
    K("quick_argv", T_ARGV, scan.quick_argv),
    K("full_argv", T_ARGV, scan.full_argv),
    K("log", T_STR, scan.log),
    K("timeout", T_DUR, scan.timeout_ms, .min = 1000, .max = 7 * DAY_MS),
    {0},
};

static const struct key notify_keys[] = {
    K("argv", T_ARGV, notify.argv),
    K("timeout", T_DUR, notify.timeout_ms, .min = 100, .max = 3600000),
    {0},
};

static const struct key network_keys[] = {
    K("proxy_env", T_BOOL, network.proxy_env),
    K("ipv6", T_BOOL, network.ipv6),
    {0},
};

static const struct key root_keys[] = {
    {.name = "mqtt", .t = T_GROUP, .off = 0, .sub = mqtt_keys},
    K("hall", T_ID, hall),
    K("device", T_ID, device),
    K("command_key_file", T_KEY, command_key_file),
    K("interval", T_DUR, interval_ms, .min = 1000, .max = DAY_MS),
    K("watch_interval", T_DUR, watch_interval_ms, .min = 100, .max = 3600000),
    K("state_dir", T_STR, state_dir),
    K("probe_root", T_STR, probe_root),
    {.name = "clamav", .t = T_GROUP, .off = 0, .sub = clamav_keys},
    {.name = "poweroff", .t = T_GROUP, .off = 0, .sub = poweroff_keys},
    {.name = "scan", .t = T_GROUP, .off = 0, .sub = scan_keys},
    {.name = "notify", .t = T_GROUP, .off = 0, .sub = notify_keys},
    {.name = "network", .t = T_GROUP, .off = 0, .sub = network_keys},
    {0},
};

#undef K

/* ---- load --------------------------------------------------------------- */

static void default_argv(struct ctx *x, struct agentconf_argv *a, const char *const *v)
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
        a->v[i] = xstrdup(x, v[i]);
}

static void default_str(struct ctx *x, char **dst, const char *v)
{
    if (!*dst)
        *dst = xstrdup(x, v);
}

static void finish(struct ctx *x, const config_setting_t *root)
{
    static const char *const poweroff_argv[] = {"systemctl", "poweroff", NULL};
    static const char *const quick_argv[] = {"clamscan", "-r", "--infected", "/home", NULL};
    static const char *const full_argv[] = {"clamscan", "-r", "--infected", "/", NULL};
    static const char *const notify_argv[] = {
        "notify-send", "--urgency=critical", "--app-name=hallgw", "--", "hallgw", NULL};
    struct agentconf *c = x->c;
    const config_setting_t *mqtt = config_setting_get_member(root, "mqtt");
    const config_setting_t *s;

    if (!mqtt)
        err_at(x, root, "mqtt", "required");
    else if (config_setting_is_group(mqtt) && !config_setting_get_member(mqtt, "uri"))
        err_at(x, mqtt, "uri", "required");
    if (!config_setting_get_member(root, "hall"))
        err_at(x, root, "hall", "required");
    if (!config_setting_get_member(root, "device"))
        err_at(x, root, "device", "required");
    if (c->hall && strcmp(c->hall, "_gateway") == 0)
        err_at(x, config_setting_get_member(root, "hall"), NULL, "\"_gateway\" is reserved");
    if (c->device && (strcmp(c->device, "alerts") == 0 || strcmp(c->device, "windows") == 0))
        err_at(x, config_setting_get_member(root, "device"), NULL, "\"%s\" is reserved", c->device);
    if (mqtt && config_setting_is_group(mqtt)) {
        if ((s = config_setting_get_member(mqtt, "tls")) && c->mqtt.uri &&
            strncmp(c->mqtt.uri, "tcp://", 6) == 0)
            err_at(x, s, NULL, "needs an ssl:// or mqtts:// uri");
        if ((s = config_setting_get_member(mqtt, "password_file")) &&
            !config_setting_get_member(mqtt, "username"))
            err_at(x, s, NULL, "needs mqtt.username");
    }
    if (c->mqtt.uri && strncmp(c->mqtt.uri, "mqtt", 4) == 0) {
        char *u =
            xprintf("%s%s", c->mqtt.uri[4] == 's' ? "ssl" : "tcp", strstr(c->mqtt.uri, "://"));
        x->nomem |= !u;
        set_str(&c->mqtt.uri, u);
    }
    if (!c->mqtt.client_id && c->hall && c->device &&
        !(c->mqtt.client_id = xprintf("hallgw-agent-%s-%s", c->hall, c->device)))
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

int agentconf_load(const char *path, struct agentconf **out, struct config_errors *errs)
{
    struct ctx x = {.errs = errs, .path = path};
    const char *slash = strrchr(path, '/');
    config_t cfg;
    int rc = 0;

    *out = NULL;
    *errs = (struct config_errors){0};
    if (!(x.c = calloc(1, sizeof(*x.c))))
        return -ENOMEM;
    x.c->path = xstrdup(&x, path);
    x.c->mqtt.keepalive_s = 30;
    x.c->mqtt.verify = true;
    x.c->interval_ms = 60000;
    x.c->watch_interval_ms = 2000;
    x.c->poweroff.grace_ms = 5 * 60000;
    x.c->scan.timeout_ms = 12 * 3600000;
    x.c->notify.timeout_ms = 30000;
    x.c->network.proxy_env = true;
    x.c->network.ipv6 = true;
    if (slash) {
        x.dir = slash == path ? strdup("/") : strndup(path, (size_t)(slash - path));
        x.nomem |= !x.dir;
    }
    FILE *f = fopen(path, "re");
    if (!f) {
        rc = -errno;
        add_error(&x, path, 0, "(file)", "cannot open: %s", strerror(errno));
        goto out;
    }
    (void)fclose(f);
    config_init(&cfg);
    if (x.dir)
        config_set_include_dir(&cfg, x.dir);
    if (!config_read_file(&cfg, path)) {
        const char *ef = config_error_file(&cfg);
        add_error(&x, ef ? ef : path, config_error_line(&cfg),
                  config_error_type(&cfg) == CONFIG_ERR_PARSE ? "(syntax)" : "(file)", "%s",
                  config_error_text(&cfg));
    } else {
        const config_setting_t *root = config_root_setting(&cfg);
        parse_group(&x, root, root_keys, x.c);
        finish(&x, root);
    }
    config_destroy(&cfg);
out:
    if (x.nomem) {
        add_error(&x, path, 0, "(memory)", "out of memory");
        rc = -ENOMEM;
    }
    free(x.dir);
    if (rc == 0 && errs->n == 0) {
        *out = x.c;
        return 0;
    }
    agentconf_free(x.c);
    return rc < 0 ? rc : -EINVAL;
}

static void free_secret(char *s)
{
    if (s) {
        volatile char *v = s;
        while (*v)
            *v++ = '\0';
    }
    free(s);
}

void agentconf_free(struct agentconf *c)
{
    if (!c)
        return;
    free(c->path);
    free(c->mqtt.uri);
    free(c->mqtt.client_id);
    free(c->mqtt.username);
    free_secret(c->mqtt.password);
    free(c->mqtt.prefix);
    free(c->mqtt.ca_file);
    free(c->mqtt.cert_file);
    free(c->mqtt.key_file);
    free(c->hall);
    free(c->device);
    free(c->command_key_file);
    if (c->command_key) {
        volatile uint8_t *v = c->command_key;
        for (size_t i = 0; i < c->command_key_len; i++)
            v[i] = 0;
    }
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
