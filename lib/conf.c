#include "conf.h"

#include <errno.h>
#include <libconfig.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "duration.h"
#include "id.h"
#include "utf8.h"

#define SECRET_MAX_BYTES 65536
#define DAY_MS INT64_C(86400000)

/* ---- errors ---- */

char *conf_xstrdup(struct conf_ctx *x, const char *s)
{
    char *d = s ? strdup(s) : NULL;

    if (s && !d)
        x->nomem = true;
    return d;
}

static char *xvprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

static char *xvprintf(const char *fmt, va_list ap)
{
    char *s;
    return vasprintf(&s, fmt, ap) < 0 ? NULL : s;
}

char *conf_xprintf(const char *fmt, ...)
{
    va_list ap;
    char *s;

    va_start(ap, fmt);
    s = xvprintf(fmt, ap);
    va_end(ap);
    return s;
}

static void add_error_v(struct conf_ctx *x, const char *file, int line, char *key, const char *fmt,
                        va_list ap) __attribute__((format(printf, 5, 0)));

static void add_error_v(struct conf_ctx *x, const char *file, int line, char *key, const char *fmt,
                        va_list ap)
{
    struct conf_errors *e = x->errs;
    /* Grows to the next power of two: a generated file can make many errors. */
    struct conf_error *v =
        (e->n & (e->n - 1)) == 0 ? realloc(e->v, (e->n ? 2 * e->n : 1) * sizeof(*v)) : e->v;
    char *f = conf_xstrdup(x, file), *msg = xvprintf(fmt, ap);

    if (!v || !f || !key || !msg) {
        x->nomem = true;
        if (v)
            e->v = v;
        free(f);
        free(key);
        free(msg);
        return;
    }
    e->v = v;
    v[e->n++] = (struct conf_error){.file = f, .line = line, .key = key, .msg = msg};
}

void conf_add_error(struct conf_ctx *x, const char *file, int line, const char *key,
                    const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    add_error_v(x, file, line, conf_xstrdup(x, key), fmt, ap);
    va_end(ap);
}

/* The file a setting comes from, as a path usable from the current directory. */
static char *setting_file(struct conf_ctx *x, const conf_node *s)
{
    const char *f = s ? config_setting_source_file(s) : NULL;

    if (!f || strcmp(f, x->main_file) == 0)
        return conf_xstrdup(x, x->main_file);
    /* libconfig 1.5 records an included file's name as written. */
    if (f[0] == '/' || !x->dir)
        return conf_xstrdup(x, f);
    return conf_xprintf("%s/%s", x->dir, f);
}

/* "devices[3].source": the dotted path of a setting, with list indices. */
static void path_append(struct buf *b, const conf_node *s)
{
    const conf_node *p = config_setting_parent(s);

    if (!p)
        return;
    path_append(b, p);
    if (config_setting_name(s))
        buf_printf(b, "%s%s", b->len ? "." : "", config_setting_name(s));
    else
        buf_printf(b, "[%d]", config_setting_index(s));
}

static char *setting_path(const conf_node *s, const char *child)
{
    struct buf b;

    buf_init(&b, 0);
    path_append(&b, s);
    if (child)
        buf_printf(&b, "%s%s", b.len ? "." : "", child);
    return buf_steal(&b, NULL);
}

/* An error about setting s (about its member named child when that is absent). */
void conf_err_at(struct conf_ctx *x, const conf_node *s, const char *child, const char *fmt, ...)
{
    va_list ap;
    char *file = setting_file(x, s);

    va_start(ap, fmt);
    add_error_v(x, file ? file : x->main_file, (int)config_setting_source_line(s),
                setting_path(s, child), fmt, ap);
    va_end(ap);
    free(file);
}

/* "line 12", or "other.conf:12" when first is in another file than s. */
void conf_where(struct conf_ctx *x, const conf_node *first, const conf_node *s, char *buf, size_t n)
{
    char *f1 = setting_file(x, first), *f2 = setting_file(x, s);

    if (f1 && f2 && strcmp(f1, f2) != 0)
        (void)snprintf(buf, n, "%s:%u", f1, config_setting_source_line(first));
    else
        (void)snprintf(buf, n, "line %u", config_setting_source_line(first));
    free(f1);
    free(f2);
}

/* ---- values ---- */

const char *conf_str_value(struct conf_ctx *x, const conf_node *s)
{
    if (config_setting_type(s) != CONFIG_TYPE_STRING) {
        conf_err_at(x, s, NULL, "expected a string");
        return NULL;
    }
    return config_setting_get_string(s);
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

char *conf_path(struct conf_ctx *x, const char *path)
{
    char *p = path[0] == '/' || !x->dir ? strdup(path) : conf_xprintf("%s/%s", x->dir, path);
    x->nomem |= !p;
    return p;
}

/* Opens a readable, non-empty regular file, or reports why not and returns -1. */
static int open_file(struct conf_ctx *x, const conf_node *s, const char *path, off_t *size)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0 || fstat(fd, &st) < 0) {
        conf_err_at(x, s, NULL, "cannot read %s: %s", path, strerror(errno));
    } else if (!S_ISREG(st.st_mode)) {
        conf_err_at(x, s, NULL, "%s is not a regular file", path);
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
    int fd = open_file(x, s, path, &size);

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
    free(buf);
out_close:
    close(fd);
    return NULL;
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

    if (config_setting_type(s) != CONFIG_TYPE_INT && config_setting_type(s) != CONFIG_TYPE_INT64) {
        conf_err_at(x, s, NULL, "expected an integer");
        return;
    }
    v = config_setting_get_int64(s);
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

    switch (config_setting_type(s)) {
    case CONFIG_TYPE_INT:
    case CONFIG_TYPE_INT64:
        v = (double)config_setting_get_int64(s);
        break;
    case CONFIG_TYPE_FLOAT:
        v = config_setting_get_float(s);
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
        if (config_setting_type(s) != CONFIG_TYPE_BOOL)
            conf_err_at(x, s, NULL, "expected true or false");
        else
            *(bool *)dst = config_setting_get_bool(s);
        return;
    case CONF_GROUP:
        if (!config_setting_is_group(s))
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
    if (config_setting_type(s) != CONFIG_TYPE_STRING && (k->t == CONF_DUR || k->t == CONF_DUR_S)) {
        conf_err_at(x, s, NULL, "expected a duration string such as \"30s\" or \"1h30m\"");
        return;
    }
    if (config_setting_type(s) != CONFIG_TYPE_STRING && k->t == CONF_DATE) {
        conf_err_at(x, s, NULL, "expected a date string \"YYYY-MM-DD\"");
        return;
    }
    if (config_setting_type(s) != CONFIG_TYPE_STRING && k->t == CONF_TOD) {
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
    case CONF_TEXT:
        if (!(path = conf_path(x, v)))
            return;
        if (k->t != CONF_FILE) {
            *(char **)dst = read_content(x, s, path, k->t == CONF_SECRET);
            free(path);
        } else if ((i = open_file(x, s, path, NULL)) >= 0) {
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
    int n = config_setting_length(g);

    for (int i = 0; i < n; i++) {
        const conf_node *s = config_setting_get_elem(g, (unsigned)i);
        const struct conf_key *k = find_key(keys, config_setting_name(s));

        if (!k)
            conf_err_at(x, s, NULL, "unknown key");
        else
            parse_value(x, s, k, (char *)base + k->off);
    }
    for (const struct conf_key *k = keys; k->name; k++)
        if (k->required && !config_setting_get_member(g, k->name))
            conf_err_at(x, g, k->name, "missing required key");
}

/* A list of groups, or an empty array; its length, or -1 after an error. */
static int list_length(struct conf_ctx *x, const conf_node *s)
{
    if (config_setting_is_list(s) || (config_setting_is_array(s) && !config_setting_length(s)))
        return config_setting_length(s);
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
        const conf_node *e = config_setting_get_elem(s, (unsigned)i);

        if (init)
            init(v + (size_t)i * sz);
        if (!config_setting_is_group(e))
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
    if (config_setting_type(s) == CONFIG_TYPE_STRING) {
        len = 1;
    } else if (config_setting_is_array(s) || config_setting_is_list(s)) {
        len = config_setting_length(s);
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
        const conf_node *e = config_setting_type(s) == CONFIG_TYPE_STRING
                                 ? s
                                 : config_setting_get_elem(s, (unsigned)i);
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
    if (config_setting_type(s) == CONFIG_TYPE_STRING)
        return 1;
    return config_setting_is_array(s) || config_setting_is_list(s) ? config_setting_length(s) : 0;
}

const conf_node *conf_str_elem(const conf_node *s, int i)
{
    return config_setting_type(s) == CONFIG_TYPE_STRING ? s
                                                        : config_setting_get_elem(s, (unsigned)i);
}

void conf_parse_name_set(struct conf_ctx *x, const conf_node *s, const char *const *names, int fold,
                         unsigned *mask)
{
    size_t n;
    const conf_node **v = conf_str_elems(x, s, &n);
    unsigned m = 0;

    for (size_t i = 0; i < n; i++) {
        const char *name = config_setting_get_string(v[i]);
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

/* Orders errors by file (in order of first appearance) and line, keeping the
 * order of errors on one line. */
struct sorted_error {
    struct conf_error e;
    size_t file_rank, seq;
};

static int cmp_errors(const void *a, const void *b)
{
    const struct sorted_error *x = a, *y = b;

    if (x->file_rank != y->file_rank)
        return x->file_rank < y->file_rank ? -1 : 1;
    if (x->e.line != y->e.line)
        return x->e.line < y->e.line ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void conf_errors_sort(struct conf_errors *errs)
{
    struct sorted_error *v = calloc(errs->n + 1, sizeof(*v));
    size_t *firsts = calloc(errs->n + 1, sizeof(*firsts)); /* first error of each file */
    size_t n_files = 0;

    if (!v || !firsts)
        goto out; /* unsorted, still complete */
    for (size_t i = 0; i < errs->n; i++) {
        size_t f = 0;

        while (f < n_files && strcmp(errs->v[firsts[f]].file, errs->v[i].file) != 0)
            f++;
        if (f == n_files)
            firsts[n_files++] = i;
        v[i] = (struct sorted_error){.e = errs->v[i], .file_rank = f, .seq = i};
    }
    qsort(v, errs->n, sizeof(*v), cmp_errors);
    for (size_t i = 0; i < errs->n; i++)
        errs->v[i] = v[i].e;
out:
    free(v);
    free(firsts);
}

void conf_errors_print(const struct conf_errors *errs, FILE *f)
{
    for (size_t i = 0; i < errs->n; i++) {
        const struct conf_error *e = &errs->v[i];

        if (e->line > 0)
            (void)fprintf(f, "%s:%d: %s: %s\n", e->file, e->line, e->key, e->msg);
        else
            (void)fprintf(f, "%s: %s: %s\n", e->file, e->key, e->msg);
    }
}

void conf_errors_free(struct conf_errors *errs)
{
    if (!errs)
        return;
    for (size_t i = 0; i < errs->n; i++) {
        free(errs->v[i].file);
        free(errs->v[i].key);
        free(errs->v[i].msg);
    }
    free(errs->v);
    errs->v = NULL;
    errs->n = 0;
}

void conf_free_secret(char *s)
{
    if (s) {
        volatile char *v = s;
        while (*v)
            *v++ = '\0';
    }
    free(s);
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

/* ---- settings ---- */

_Static_assert(CONF_TYPE_GROUP == CONFIG_TYPE_GROUP && CONF_TYPE_INT == CONFIG_TYPE_INT &&
                   CONF_TYPE_INT64 == CONFIG_TYPE_INT64 && CONF_TYPE_FLOAT == CONFIG_TYPE_FLOAT &&
                   CONF_TYPE_STRING == CONFIG_TYPE_STRING && CONF_TYPE_BOOL == CONFIG_TYPE_BOOL &&
                   CONF_TYPE_ARRAY == CONFIG_TYPE_ARRAY && CONF_TYPE_LIST == CONFIG_TYPE_LIST,
               "enum conf_type follows libconfig's numbers");

enum conf_type conf_type(const conf_node *s)
{
    return (enum conf_type)config_setting_type(s);
}

bool conf_is_group(const conf_node *s)
{
    return config_setting_is_group(s);
}

bool conf_is_list(const conf_node *s)
{
    return config_setting_is_list(s);
}

bool conf_is_array(const conf_node *s)
{
    return config_setting_is_array(s);
}

int conf_length(const conf_node *s)
{
    return config_setting_length(s);
}

const conf_node *conf_elem(const conf_node *s, int i)
{
    return i < 0 ? NULL : config_setting_get_elem(s, (unsigned)i);
}

const conf_node *conf_member(const conf_node *g, const char *name)
{
    return config_setting_get_member(g, name);
}

const char *conf_name(const conf_node *s)
{
    return config_setting_name(s);
}

int conf_index(const conf_node *s)
{
    return config_setting_index(s);
}

const conf_node *conf_parent(const conf_node *s)
{
    return config_setting_parent(s);
}

int conf_line(const conf_node *s)
{
    return (int)config_setting_source_line(s);
}

const char *conf_string(const conf_node *s)
{
    return config_setting_get_string(s);
}

long long conf_int(const conf_node *s)
{
    return config_setting_get_int64(s);
}

double conf_float(const conf_node *s)
{
    return config_setting_get_float(s);
}

bool conf_bool(const conf_node *s)
{
    return config_setting_get_bool(s);
}

/* ---- reading a file ---- */

const conf_node *conf_open(struct conf_ctx *x, const char *path, struct conf_errors *errs,
                           void *target)
{
    const char *slash = strrchr(path, '/');
    config_t *cfg;
    FILE *f;

    *x = (struct conf_ctx){.errs = errs, .main_file = path, .target = target};
    *errs = (struct conf_errors){0};
    if (slash) {
        x->dir = slash == path ? strdup("/") : strndup(path, (size_t)(slash - path));
        x->nomem |= !x->dir;
    }
    if (!(f = fopen(path, "re"))) {
        x->open_err = errno;
        conf_add_error(x, path, 0, "(file)", "cannot open: %s", strerror(errno));
        return NULL;
    }
    (void)fclose(f);
    if (!(cfg = malloc(sizeof(*cfg)))) {
        x->nomem = true;
        return NULL;
    }
    config_init(cfg);
    x->handle = cfg;
    if (x->dir)
        config_set_include_dir(cfg, x->dir);
    if (!config_read_file(cfg, path)) {
        /* libconfig 1.5 names an included file as written. */
        const char *ef = config_error_file(cfg);
        char *file = !ef || strcmp(ef, path) == 0 || ef[0] == '/' || !x->dir
                         ? conf_xstrdup(x, ef ? ef : path)
                         : conf_xprintf("%s/%s", x->dir, ef);

        conf_add_error(x, file ? file : path, config_error_line(cfg),
                       config_error_type(cfg) == CONFIG_ERR_PARSE ? "(syntax)" : "(file)", "%s",
                       config_error_text(cfg));
        free(file);
        return NULL;
    }
    return config_root_setting(cfg);
}

int conf_close(struct conf_ctx *x)
{
    int rc = x->open_err ? -x->open_err : 0;

    if (x->handle) {
        config_destroy(x->handle);
        free(x->handle);
        x->handle = NULL;
    }
    if (x->nomem) {
        conf_add_error(x, x->main_file, 0, "(memory)", "out of memory");
        rc = -ENOMEM;
    }
    free(x->dir);
    x->dir = NULL;
    conf_errors_sort(x->errs);
    return rc < 0 ? rc : x->errs->n ? -EINVAL : 0;
}
