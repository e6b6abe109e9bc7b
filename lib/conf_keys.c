/* Configuration files: the key-table walker (conf.h). It reads settings
 * through conf.h's accessors only; libconfig itself is conf.c's. */
#include "conf.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto.h"
#include "duration.h"
#include "id.h"
#include "utf8.h"

#define SECRET_MAX_BYTES 65536
#define DAY_MS INT64_C(86400000)

/* ---- values ---- */

const char *conf_str_value(struct conf_ctx *x, const conf_node *s)
{
    if (conf_type(s) != CONF_TYPE_STRING) {
        conf_err_at(x, s, NULL, "expected a string");
        return NULL;
    }
    return conf_string(s);
}

static void fmt_ms(int64_t ms, char *buf, size_t n)
{
    static const struct {
        const char *u;
        int64_t ms;
    } units[] = {{"d", DAY_MS}, {"h", 3600000}, {"m", 60000}, {"s", 1000}, {"ms", 1}};
    size_t len = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]) && len < n; i++) {
        if (ms >= units[i].ms || (len == 0 && ms == 0 && units[i].ms == 1000)) {
            len += (size_t)snprintf(buf + len, n - len, "%lld%s", (long long)(ms / units[i].ms),
                                    units[i].u);
            ms %= units[i].ms;
        }
    }
}

/* Opens a readable, non-empty regular file, or reports why not and returns -1.
 * A secret file must also keep group and others out: its mode is that of the
 * file opened (fstat), not of whatever the path names a moment later. */
static int open_file(struct conf_ctx *x, const conf_node *s, const char *path, off_t *size,
                     bool secret)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0 || fstat(fd, &st) < 0) {
        conf_err_at(x, s, NULL, "cannot read %s: %s", path, strerror(errno));
    } else if (!S_ISREG(st.st_mode)) {
        conf_err_at(x, s, NULL, "%s is not a regular file", path);
    } else if (secret && (st.st_mode & (S_IRWXG | S_IRWXO))) {
        conf_err_at(x, s, NULL,
                    "%s has mode %04o: a secret file must not be accessible by group or others "
                    "(chmod 600 %s)",
                    path, (unsigned)(st.st_mode & 07777), path);
    } else if (st.st_size == 0) {
        conf_err_at(x, s, NULL, "%s is empty", path);
    } else if (st.st_size > SECRET_MAX_BYTES && size) {
        conf_err_at(x, s, NULL, "%s is larger than %d bytes", path, SECRET_MAX_BYTES);
    } else {
        if (size)
            *size = st.st_size;
        return fd;
    }
    if (fd >= 0)
        close(fd);
    return -1;
}

/* The content of a file: a secret (one trailing newline, "\n" or "\r\n",
 * removed; then not empty) or a text (UTF-8, kept as it is). Neither may hold
 * a NUL byte. */
static char *read_content(struct conf_ctx *x, const conf_node *s, const char *path, bool secret)
{
    off_t size;
    ssize_t n = 0;
    char *buf = NULL;
    int fd = open_file(x, s, path, &size, secret);

    if (fd < 0)
        return NULL;
    buf = malloc((size_t)size + 1);
    if (!buf) {
        x->nomem = true;
        goto out_close;
    }
    n = read(fd, buf, (size_t)size);
    if (n < 0) {
        conf_err_at(x, s, NULL, "cannot read %s: %s", path, strerror(errno));
        goto out_free;
    }
    buf[n] = '\0';
    if (secret && n > 0 && buf[n - 1] == '\n')
        buf[--n] = '\0';
    if (secret && n > 0 && buf[n - 1] == '\r')
        buf[--n] = '\0';
    if (n == 0) {
        conf_err_at(x, s, NULL, "%s is empty", path);
        goto out_free;
    }
    if (strlen(buf) != (size_t)n) {
        conf_err_at(x, s, NULL, "%s contains a NUL byte", path);
        goto out_free;
    }
    if (!secret && !utf8_valid(buf, (size_t)n)) {
        conf_err_at(x, s, NULL, "%s is not valid UTF-8", path);
        goto out_free;
    }
    close(fd);
    return buf;
out_free:
    if (secret)
        crypto_wipe(buf, (size_t)size + 1);
    free(buf);
out_close:
    close(fd);
    return NULL;
}

int conf_open_secret(struct conf_ctx *x, const conf_node *s, const char *path)
{
    return open_file(x, s, path, NULL, true);
}

int conf_name_index(const char *const *names, const char *v)
{
    for (int i = 0; names[i]; i++)
        if (strcmp(names[i], v) == 0)
            return i;
    return -1;
}

/* "v" is not one of the first max names (all when max is 0). */
static void err_enum(struct conf_ctx *x, const conf_node *s, const char *const *names, int max,
                     const char *v)
{
    char list[256];
    size_t len = 0;

    list[0] = '\0';
    for (int i = 0; names[i] && (max <= 0 || i < max) && len < sizeof(list); i++)
        len +=
            (size_t)snprintf(list + len, sizeof(list) - len, "%s\"%s\"", i ? ", " : "", names[i]);
    conf_err_at(x, s, NULL, "\"%s\" is not one of %s", v, list);
}

static void parse_int(struct conf_ctx *x, const conf_node *s, const struct conf_key *k, void *dst)
{
    long long v;

    if (conf_type(s) != CONF_TYPE_INT && conf_type(s) != CONF_TYPE_INT64) {
        conf_err_at(x, s, NULL, "expected an integer");
        return;
    }
    v = conf_int(s);
    if (v < k->min || v > k->max) {
        conf_err_at(x, s, NULL, "must be between %lld and %lld, not %lld", (long long)k->min,
                    (long long)k->max, v);
        return;
    }
    if (k->t == CONF_INT)
        *(int *)dst = (int)v;
    else if (k->t == CONF_SIZE)
        *(size_t *)dst = (size_t)v;
    else
        *(uint64_t *)dst = (uint64_t)v * 1024 * 1024;
}

static void parse_duration(struct conf_ctx *x, const conf_node *s, const struct conf_key *k,
                           const char *v, void *dst)
{
    char lo[32], hi[32];
    int64_t ms;
    int rc = duration_parse_ms(v, &ms);

    if (rc == -ERANGE) {
        conf_err_at(x, s, NULL, "\"%s\" is too long (at most 10 years)", v);
        return;
    }
    if (rc < 0) {
        conf_err_at(x, s, NULL,
                    "\"%s\" is not a duration (e.g. \"250ms\", \"30s\", \"1h30m\", \"7d\")", v);
        return;
    }
    if (ms < k->min || ms > k->max) {
        fmt_ms(k->min, lo, sizeof(lo));
        fmt_ms(k->max, hi, sizeof(hi));
        conf_err_at(x, s, NULL, "must be between %s and %s, not \"%s\"", lo, hi, v);
    } else if (k->t == CONF_DUR_S && ms % 1000 != 0) {
        conf_err_at(x, s, NULL, "must be whole seconds, not \"%s\"", v);
    } else if (k->t == CONF_DUR_S) {
        *(int *)dst = (int)(ms / 1000);
    } else {
        *(int64_t *)dst = ms;
    }
}

static void parse_float(struct conf_ctx *x, const conf_node *s, void *dst)
{
    double v;

    switch (conf_type(s)) {
    case CONF_TYPE_INT:
    case CONF_TYPE_INT64:
        v = (double)conf_int(s);
        break;
    case CONF_TYPE_FLOAT:
        v = conf_float(s);
        break;
    default:
        conf_err_at(x, s, NULL, "expected a number");
        return;
    }
    if (!isfinite(v))
        conf_err_at(x, s, NULL, "must be a finite number");
    else
        *(double *)dst = v;
}

/* Parses one setting s described by k into dst. */
static void parse_value(struct conf_ctx *x, const conf_node *s, const struct conf_key *k, void *dst)
{
    const char *v = NULL;
    char *path;
    struct stat st;
    int i;

    switch (k->t) {
    case CONF_INT:
    case CONF_SIZE:
    case CONF_MB:
        parse_int(x, s, k, dst);
        return;
    case CONF_BOOL:
        if (conf_type(s) != CONF_TYPE_BOOL)
            conf_err_at(x, s, NULL, "expected true or false");
        else
            *(bool *)dst = conf_bool(s);
        return;
    case CONF_GROUP:
        if (!conf_is_group(s))
            conf_err_at(x, s, NULL, "expected a group { ... }");
        else
            conf_parse_group(x, s, k->sub, dst);
        return;
    case CONF_CUSTOM:
        k->fn(x, s, dst);
        return;
    case CONF_FLOAT:
        parse_float(x, s, dst);
        return;
    default:
        break;
    }
    if (conf_type(s) != CONF_TYPE_STRING && (k->t == CONF_DUR || k->t == CONF_DUR_S)) {
        conf_err_at(x, s, NULL, "expected a duration string such as \"30s\" or \"1h30m\"");
        return;
    }
    if (conf_type(s) != CONF_TYPE_STRING && k->t == CONF_DATE) {
        conf_err_at(x, s, NULL, "expected a date string \"YYYY-MM-DD\"");
        return;
    }
    if (conf_type(s) != CONF_TYPE_STRING && k->t == CONF_TOD) {
        conf_err_at(x, s, NULL, "expected a time of day string \"HH:MM\"");
        return;
    }
    if (!(v = conf_str_value(x, s)))
        return;
    if (*v == '\0' && k->t != CONF_ENUM) {
        conf_err_at(x, s, NULL, "must not be empty");
        return;
    }
    switch (k->t) {
    case CONF_DUR:
    case CONF_DUR_S:
        parse_duration(x, s, k, v, dst);
        break;
    case CONF_DATE:
        if (date_parse(v, dst) < 0)
            conf_err_at(x, s, NULL, "\"%s\" is not a date (YYYY-MM-DD, 1970 or later)", v);
        break;
    case CONF_TOD:
        if (timeofday_parse(v, dst) < 0)
            conf_err_at(x, s, NULL,
                        "\"%s\" is not a time of day (HH:MM or HH:MM:SS, 00:00 to 24:00)", v);
        break;
    case CONF_ENUM:
        if ((i = conf_name_index(k->names, v)) < 0)
            err_enum(x, s, k->names, 0, v);
        else
            *(int *)dst = i + (int)k->min;
        break;
    case CONF_ID:
        if (!id_valid(v, strlen(v)))
            conf_err_at(x, s, NULL, "\"%s\" is not a valid id (1 to 64 of A-Z a-z 0-9 _ . -)", v);
        else if (k->names && conf_name_index(k->names, v) >= 0)
            conf_err_at(x, s, NULL, "\"%s\" is reserved", v);
        else
            *(char **)dst = conf_xstrdup(x, v);
        break;
    case CONF_DIR:
        if (!(path = conf_path(x, v)))
            return;
        if (stat(path, &st) < 0) {
            conf_err_at(x, s, NULL, "cannot use %s: %s", path, strerror(errno));
            free(path);
        } else if (!S_ISDIR(st.st_mode)) {
            conf_err_at(x, s, NULL, "%s is not a directory", path);
            free(path);
        } else {
            *(char **)dst = path;
        }
        break;
    case CONF_SECRET:
    case CONF_FILE:
    case CONF_SECRET_FILE:
    case CONF_TEXT:
        if (!(path = conf_path(x, v)))
            return;
        if (k->t == CONF_SECRET || k->t == CONF_TEXT) {
            *(char **)dst = read_content(x, s, path, k->t == CONF_SECRET);
            free(path);
        } else if ((i = open_file(x, s, path, NULL, k->t == CONF_SECRET_FILE)) >= 0) {
            close(i);
            *(char **)dst = path;
        } else {
            free(path);
        }
        break;
    default:
        if (!k->check || k->check(x, s, v))
            *(char **)dst = conf_xstrdup(x, v);
        break;
    }
}

static const struct conf_key *find_key(const struct conf_key *keys, const char *name)
{
    for (; keys->name; keys++)
        if (strcmp(keys->name, name) == 0)
            return keys;
    return NULL;
}

void conf_parse_group(struct conf_ctx *x, const conf_node *g, const struct conf_key *keys,
                      void *base)
{
    int n = conf_length(g);

    for (int i = 0; i < n; i++) {
        const conf_node *s = conf_elem(g, i);
        const struct conf_key *k = find_key(keys, conf_name(s));

        if (!k)
            conf_err_at(x, s, NULL, "unknown key");
        else
            parse_value(x, s, k, (char *)base + k->off);
    }
    for (const struct conf_key *k = keys; k->name; k++)
        if (k->required && !conf_member(g, k->name))
            conf_err_at(x, g, k->name, "missing required key");
}

/* A list of groups, or an empty array; its length, or -1 after an error. */
static int list_length(struct conf_ctx *x, const conf_node *s)
{
    if (conf_is_list(s) || (conf_is_array(s) && !conf_length(s)))
        return conf_length(s);
    conf_err_at(x, s, NULL, "expected a list ( { ... }, ... )");
    return -1;
}

/* Parses the groups of list s into a calloc'd array of n elements of size sz
 * (element i of the array is element i of the list, zeroed if not a group). */
void *conf_parse_list(struct conf_ctx *x, const conf_node *s, const struct conf_key *keys,
                      size_t sz, size_t *n_out, void (*init)(void *elem))
{
    int n = list_length(x, s);
    char *v;

    if (n <= 0 || !(v = calloc((size_t)n, sz))) {
        x->nomem |= n > 0;
        return NULL;
    }
    for (int i = 0; i < n; i++) {
        const conf_node *e = conf_elem(s, i);

        if (init)
            init(v + (size_t)i * sz);
        if (!conf_is_group(e))
            conf_err_at(x, e, NULL, "expected a group { ... }");
        else
            conf_parse_group(x, e, keys, v + (size_t)i * sz);
    }
    *n_out = (size_t)n;
    return v;
}

const conf_node **conf_str_elems(struct conf_ctx *x, const conf_node *s, size_t *n)
{
    const conf_node **v;
    int len;

    *n = 0;
    if (conf_type(s) == CONF_TYPE_STRING) {
        len = 1;
    } else if (conf_is_array(s) || conf_is_list(s)) {
        len = conf_length(s);
    } else {
        conf_err_at(x, s, NULL, "expected a string or a list [ \"...\", ... ]");
        return NULL;
    }
    if (len == 0) {
        conf_err_at(x, s, NULL, "must not be an empty list (leave the key out)");
        return NULL;
    }
    if (!(v = calloc((size_t)len, sizeof(*v)))) {
        x->nomem = true;
        return NULL;
    }
    for (int i = 0; i < len; i++) {
        const conf_node *e = conf_type(s) == CONF_TYPE_STRING ? s : conf_elem(s, i);
        const char *str = conf_str_value(x, e);

        if (str && !*str)
            conf_err_at(x, e, NULL, "must not be empty");
        else if (str)
            v[(*n)++] = e;
    }
    if (*n == 0) {
        free(v);
        return NULL;
    }
    return v;
}

int conf_str_count(const conf_node *s)
{
    if (conf_type(s) == CONF_TYPE_STRING)
        return 1;
    return conf_is_array(s) || conf_is_list(s) ? conf_length(s) : 0;
}

const conf_node *conf_str_elem(const conf_node *s, int i)
{
    return conf_type(s) == CONF_TYPE_STRING ? s : conf_elem(s, i);
}

void conf_parse_name_set(struct conf_ctx *x, const conf_node *s, const char *const *names, int fold,
                         unsigned *mask)
{
    size_t n;
    const conf_node **v = conf_str_elems(x, s, &n);
    unsigned m = 0;

    for (size_t i = 0; i < n; i++) {
        const char *name = conf_string(v[i]);
        int k = conf_name_index(names, name);
        unsigned bit;

        if (k < 0) {
            err_enum(x, v[i], names, fold, name);
            continue;
        }
        bit = 1u << (fold > 0 ? k % fold : k);
        if (m & bit)
            conf_err_at(x, v[i], NULL, "\"%s\" is already in the list", name);
        m |= bit;
    }
    if (v)
        *mask = m;
    free(v);
}

/* ---- hosts and ports ---- */

bool conf_check_hostport(struct conf_ctx *x, const conf_node *s, const char *v,
                         const char *const *schemes, bool port_required)
{
    const char *h = NULL, *colon, *end;
    char *endp;
    long port;

    for (int i = 0; schemes[i] && !h; i++)
        if (strncmp(v, schemes[i], strlen(schemes[i])) == 0)
            h = v + strlen(schemes[i]);
    if (!h) {
        char list[64] = "";

        for (int i = 0; schemes[i]; i++)
            (void)snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
                           i == 0           ? ""
                           : schemes[i + 1] ? ", "
                                            : " or ",
                           schemes[i]);
        conf_err_at(x, s, NULL, "\"%s\" must start with %s", v, list);
        return false;
    }
    if (v[strcspn(v, " \t\r\n")] != '\0') {
        conf_err_at(x, s, NULL, "\"%s\" contains white space", v);
        return false;
    }
    end = h + strcspn(h, "/?#");
    if (*end && (port_required || strcmp(end, "/") != 0)) {
        conf_err_at(x, s, NULL, "\"%s\" must be just %shost:port", v, schemes[0]);
        return false;
    }
    if (*h == '[') {
        colon = strchr(h, ']');
        colon = colon && colon > h + 1 ? colon + 1 : NULL;
    } else {
        colon = h + strcspn(h, ":/");
    }
    if (!colon || colon == h || colon > end || (colon < end && *colon != ':') ||
        (port_required && *colon != ':')) {
        conf_err_at(x, s, NULL, "\"%s\" has no host:port", v);
        return false;
    }
    if (colon < end) {
        port = strtol(colon + 1, &endp, 10);
        if (endp != end || colon[1] < '0' || colon[1] > '9' || port < 1 || port > 65535) {
            conf_err_at(x, s, NULL, "\"%s\" has a bad port", v);
            return false;
        }
    }
    return true;
}
