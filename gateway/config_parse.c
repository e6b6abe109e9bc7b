/* The config module's walker: checks libconfig settings against tables of
 * keys (unknown keys, types, ranges, durations, ids, secret files) and
 * records every error with its file, line and dotted key path. */
#include "config_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "duration.h"
#include "json.h"
#include "topic.h"

#define SECRET_MAX_BYTES 65536
#define DAY_MS INT64_C(86400000)

/* ---- errors ---- */

char *config_xstrdup(struct config_ctx *x, const char *s)
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

char *config_xprintf(const char *fmt, ...)
{
    va_list ap;
    char *s;

    va_start(ap, fmt);
    s = xvprintf(fmt, ap);
    va_end(ap);
    return s;
}

static void add_error_v(struct config_ctx *x, const char *file, int line, char *key,
                        const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));

static void add_error_v(struct config_ctx *x, const char *file, int line, char *key,
                        const char *fmt, va_list ap)
{
    struct config_errors *e = x->errs;
    /* Grows to the next power of two: a generated file can make many errors. */
    struct config_error *v =
        (e->n & (e->n - 1)) == 0 ? realloc(e->v, (e->n ? 2 * e->n : 1) * sizeof(*v)) : e->v;
    char *f = config_xstrdup(x, file), *msg = xvprintf(fmt, ap);

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
    v[e->n++] = (struct config_error){.file = f, .line = line, .key = key, .msg = msg};
}

void config_add_error(struct config_ctx *x, const char *file, int line, const char *key,
                      const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    add_error_v(x, file, line, config_xstrdup(x, key), fmt, ap);
    va_end(ap);
}

/* The file a setting comes from, as a path usable from the current directory. */
static char *setting_file(struct config_ctx *x, const config_setting_t *s)
{
    const char *f = s ? config_setting_source_file(s) : NULL;

    if (!f || strcmp(f, x->main_file) == 0)
        return config_xstrdup(x, x->main_file);
    /* libconfig 1.5 records an included file's name as written. */
    if (f[0] == '/' || !x->dir)
        return config_xstrdup(x, f);
    return config_xprintf("%s/%s", x->dir, f);
}

/* "devices[3].source": the dotted path of a setting, with list indices. */
static void path_append(char **buf, size_t *len, const config_setting_t *s)
{
    const config_setting_t *p = config_setting_parent(s);
    char part[80];

    if (!p)
        return;
    path_append(buf, len, p);
    if (config_setting_name(s))
        (void)snprintf(part, sizeof(part), "%s%s", *len ? "." : "", config_setting_name(s));
    else
        (void)snprintf(part, sizeof(part), "[%d]", config_setting_index(s));
    size_t n = strlen(part);
    char *b = realloc(*buf, *len + n + 1);
    if (!b)
        return;
    memcpy(b + *len, part, n + 1);
    *buf = b;
    *len += n;
}

static char *setting_path(const config_setting_t *s, const char *child)
{
    char *buf = calloc(1, 1);
    size_t len = 0;

    if (!buf)
        return NULL;
    path_append(&buf, &len, s);
    if (child) {
        char *b = len ? config_xprintf("%s.%s", buf, child) : strdup(child);
        free(buf);
        buf = b;
    }
    return buf;
}

/* An error about setting s (about its member named child when that is absent). */
void config_err_at(struct config_ctx *x, const config_setting_t *s, const char *child,
                   const char *fmt, ...)
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
void config_where(struct config_ctx *x, const config_setting_t *first, const config_setting_t *s,
                  char *buf, size_t n)
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

const char *config_str_value(struct config_ctx *x, const config_setting_t *s)
{
    if (config_setting_type(s) != CONFIG_TYPE_STRING) {
        config_err_at(x, s, NULL, "expected a string");
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

static char *resolve_path(struct config_ctx *x, const char *path)
{
    if (path[0] == '/' || !x->dir)
        return config_xstrdup(x, path);
    return config_xprintf("%s/%s", x->dir, path);
}

/* Opens a readable, non-empty regular file, or reports why not and returns -1. */
static int open_file(struct config_ctx *x, const config_setting_t *s, const char *path, off_t *size)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0 || fstat(fd, &st) < 0) {
        config_err_at(x, s, NULL, "cannot read %s: %s", path, strerror(errno));
    } else if (!S_ISREG(st.st_mode)) {
        config_err_at(x, s, NULL, "%s is not a regular file", path);
    } else if (st.st_size == 0) {
        config_err_at(x, s, NULL, "%s is empty", path);
    } else if (st.st_size > SECRET_MAX_BYTES && size) {
        config_err_at(x, s, NULL, "%s is larger than %d bytes", path, SECRET_MAX_BYTES);
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
static char *read_content(struct config_ctx *x, const config_setting_t *s, const char *path,
                          bool secret)
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
        config_err_at(x, s, NULL, "cannot read %s: %s", path, strerror(errno));
        goto out_free;
    }
    buf[n] = '\0';
    if (secret && n > 0 && buf[n - 1] == '\n')
        buf[--n] = '\0';
    if (secret && n > 0 && buf[n - 1] == '\r')
        buf[--n] = '\0';
    if (n == 0) {
        config_err_at(x, s, NULL, "%s is empty", path);
        goto out_free;
    }
    if (strlen(buf) != (size_t)n) {
        config_err_at(x, s, NULL, "%s contains a NUL byte", path);
        goto out_free;
    }
    if (!secret && !json_utf8_valid(buf, (size_t)n)) {
        config_err_at(x, s, NULL, "%s is not valid UTF-8", path);
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

int config_name_index(const char *const *names, const char *v)
{
    for (int i = 0; names[i]; i++)
        if (strcmp(names[i], v) == 0)
            return i;
    return -1;
}

/* "v" is not one of the first max names (all when max is 0). */
static void err_enum(struct config_ctx *x, const config_setting_t *s, const char *const *names,
                     int max, const char *v)
{
    char list[256];
    size_t len = 0;

    list[0] = '\0';
    for (int i = 0; names[i] && (max <= 0 || i < max) && len < sizeof(list); i++)
        len +=
            (size_t)snprintf(list + len, sizeof(list) - len, "%s\"%s\"", i ? ", " : "", names[i]);
    config_err_at(x, s, NULL, "\"%s\" is not one of %s", v, list);
}

static void parse_int(struct config_ctx *x, const config_setting_t *s, const struct config_key *k,
                      void *dst)
{
    long long v;

    if (config_setting_type(s) != CONFIG_TYPE_INT && config_setting_type(s) != CONFIG_TYPE_INT64) {
        config_err_at(x, s, NULL, "expected an integer");
        return;
    }
    v = config_setting_get_int64(s);
    if (v < k->min || v > k->max) {
        config_err_at(x, s, NULL, "must be between %lld and %lld, not %lld", (long long)k->min,
                      (long long)k->max, v);
        return;
    }
    if (k->t == V_INT)
        *(int *)dst = (int)v;
    else if (k->t == V_SIZE)
        *(size_t *)dst = (size_t)v;
    else
        *(uint64_t *)dst = (uint64_t)v * 1024 * 1024;
}

static void parse_duration(struct config_ctx *x, const config_setting_t *s,
                           const struct config_key *k, const char *v, void *dst)
{
    char lo[32], hi[32];
    int64_t ms;
    int rc = duration_parse_ms(v, &ms);

    if (rc == -ERANGE) {
        config_err_at(x, s, NULL, "\"%s\" is too long (at most 10 years)", v);
        return;
    }
    if (rc < 0) {
        config_err_at(x, s, NULL,
                      "\"%s\" is not a duration (e.g. \"250ms\", \"30s\", \"1h30m\", \"7d\")", v);
        return;
    }
    if (ms < k->min || ms > k->max) {
        fmt_ms(k->min, lo, sizeof(lo));
        fmt_ms(k->max, hi, sizeof(hi));
        config_err_at(x, s, NULL, "must be between %s and %s, not \"%s\"", lo, hi, v);
    } else if (k->t == V_DUR_S && ms % 1000 != 0) {
        config_err_at(x, s, NULL, "must be whole seconds, not \"%s\"", v);
    } else if (k->t == V_DUR_S) {
        *(int *)dst = (int)(ms / 1000);
    } else {
        *(int64_t *)dst = ms;
    }
}

static void parse_float(struct config_ctx *x, const config_setting_t *s, void *dst)
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
        config_err_at(x, s, NULL, "expected a number");
        return;
    }
    if (!isfinite(v))
        config_err_at(x, s, NULL, "must be a finite number");
    else
        *(double *)dst = v;
}

/* Parses one setting s described by k into dst. */
static void parse_value(struct config_ctx *x, const config_setting_t *s, const struct config_key *k,
                        void *dst)
{
    const char *v = NULL;
    char *path;
    struct stat st;
    int i;

    switch (k->t) {
    case V_INT:
    case V_SIZE:
    case V_MB:
        parse_int(x, s, k, dst);
        return;
    case V_BOOL:
        if (config_setting_type(s) != CONFIG_TYPE_BOOL)
            config_err_at(x, s, NULL, "expected true or false");
        else
            *(bool *)dst = config_setting_get_bool(s);
        return;
    case V_GROUP:
        if (!config_setting_is_group(s))
            config_err_at(x, s, NULL, "expected a group { ... }");
        else
            config_parse_group(x, s, k->sub, dst);
        return;
    case V_CUSTOM:
        k->fn(x, s, dst);
        return;
    case V_FLOAT:
        parse_float(x, s, dst);
        return;
    default:
        break;
    }
    if (config_setting_type(s) != CONFIG_TYPE_STRING && (k->t == V_DUR || k->t == V_DUR_S)) {
        config_err_at(x, s, NULL, "expected a duration string such as \"30s\" or \"1h30m\"");
        return;
    }
    if (config_setting_type(s) != CONFIG_TYPE_STRING && k->t == V_DATE) {
        config_err_at(x, s, NULL, "expected a date string \"YYYY-MM-DD\"");
        return;
    }
    if (config_setting_type(s) != CONFIG_TYPE_STRING && k->t == V_TOD) {
        config_err_at(x, s, NULL, "expected a time of day string \"HH:MM\"");
        return;
    }
    if (!(v = config_str_value(x, s)))
        return;
    if (*v == '\0' && k->t != V_ENUM) {
        config_err_at(x, s, NULL, "must not be empty");
        return;
    }
    switch (k->t) {
    case V_DUR:
    case V_DUR_S:
        parse_duration(x, s, k, v, dst);
        break;
    case V_DATE:
        if (date_parse(v, dst) < 0)
            config_err_at(x, s, NULL, "\"%s\" is not a date (YYYY-MM-DD, 1970 or later)", v);
        break;
    case V_TOD:
        if (timeofday_parse(v, dst) < 0)
            config_err_at(x, s, NULL,
                          "\"%s\" is not a time of day (HH:MM or HH:MM:SS, 00:00 to 24:00)", v);
        break;
    case V_ENUM:
        if ((i = config_name_index(k->names, v)) < 0)
            err_enum(x, s, k->names, 0, v);
        else
            *(int *)dst = i + (int)k->min;
        break;
    case V_ID:
        if (!topic_id_valid(v, strlen(v)))
            config_err_at(x, s, NULL, "\"%s\" is not a valid id (1 to 64 of A-Z a-z 0-9 _ . -)", v);
        else if (k->names && config_name_index(k->names, v) >= 0)
            config_err_at(x, s, NULL, "\"%s\" is reserved", v);
        else
            *(char **)dst = config_xstrdup(x, v);
        break;
    case V_DIR:
        if (!(path = resolve_path(x, v)))
            return;
        if (stat(path, &st) < 0) {
            config_err_at(x, s, NULL, "cannot use %s: %s", path, strerror(errno));
            free(path);
        } else if (!S_ISDIR(st.st_mode)) {
            config_err_at(x, s, NULL, "%s is not a directory", path);
            free(path);
        } else {
            *(char **)dst = path;
        }
        break;
    case V_SECRET:
    case V_FILE:
    case V_TEXT:
        if (!(path = resolve_path(x, v)))
            return;
        if (k->t != V_FILE) {
            *(char **)dst = read_content(x, s, path, k->t == V_SECRET);
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
            *(char **)dst = config_xstrdup(x, v);
        break;
    }
}

static const struct config_key *find_key(const struct config_key *keys, const char *name)
{
    for (; keys->name; keys++)
        if (strcmp(keys->name, name) == 0)
            return keys;
    return NULL;
}

void config_parse_group(struct config_ctx *x, const config_setting_t *g,
                        const struct config_key *keys, void *base)
{
    int n = config_setting_length(g);

    for (int i = 0; i < n; i++) {
        const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
        const struct config_key *k = find_key(keys, config_setting_name(s));

        if (!k)
            config_err_at(x, s, NULL, "unknown key");
        else
            parse_value(x, s, k, (char *)base + k->off);
    }
    for (const struct config_key *k = keys; k->name; k++)
        if (k->required && !config_setting_get_member(g, k->name))
            config_err_at(x, g, k->name, "missing required key");
}

/* A list of groups, or an empty array; its length, or -1 after an error. */
static int list_length(struct config_ctx *x, const config_setting_t *s)
{
    if (config_setting_is_list(s) || (config_setting_is_array(s) && !config_setting_length(s)))
        return config_setting_length(s);
    config_err_at(x, s, NULL, "expected a list ( { ... }, ... )");
    return -1;
}

/* Parses the groups of list s into a calloc'd array of n elements of size sz
 * (element i of the array is element i of the list, zeroed if not a group). */
void *config_parse_list(struct config_ctx *x, const config_setting_t *s,
                        const struct config_key *keys, size_t sz, size_t *n_out,
                        void (*init)(void *elem))
{
    int n = list_length(x, s);
    char *v;

    if (n <= 0 || !(v = calloc((size_t)n, sz))) {
        x->nomem |= n > 0;
        return NULL;
    }
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);

        if (init)
            init(v + (size_t)i * sz);
        if (!config_setting_is_group(e))
            config_err_at(x, e, NULL, "expected a group { ... }");
        else
            config_parse_group(x, e, keys, v + (size_t)i * sz);
    }
    *n_out = (size_t)n;
    return v;
}

const config_setting_t **config_str_elems(struct config_ctx *x, const config_setting_t *s,
                                          size_t *n)
{
    const config_setting_t **v;
    int len;

    *n = 0;
    if (config_setting_type(s) == CONFIG_TYPE_STRING) {
        len = 1;
    } else if (config_setting_is_array(s) || config_setting_is_list(s)) {
        len = config_setting_length(s);
    } else {
        config_err_at(x, s, NULL, "expected a string or a list [ \"...\", ... ]");
        return NULL;
    }
    if (len == 0) {
        config_err_at(x, s, NULL, "must not be an empty list (leave the key out)");
        return NULL;
    }
    if (!(v = calloc((size_t)len, sizeof(*v)))) {
        x->nomem = true;
        return NULL;
    }
    for (int i = 0; i < len; i++) {
        const config_setting_t *e = config_setting_type(s) == CONFIG_TYPE_STRING
                                        ? s
                                        : config_setting_get_elem(s, (unsigned)i);
        const char *str = config_str_value(x, e);

        if (str && !*str)
            config_err_at(x, e, NULL, "must not be empty");
        else if (str)
            v[(*n)++] = e;
    }
    if (*n == 0) {
        free(v);
        return NULL;
    }
    return v;
}

int config_str_count(const config_setting_t *s)
{
    if (config_setting_type(s) == CONFIG_TYPE_STRING)
        return 1;
    return config_setting_is_array(s) || config_setting_is_list(s) ? config_setting_length(s) : 0;
}

const config_setting_t *config_str_elem(const config_setting_t *s, int i)
{
    return config_setting_type(s) == CONFIG_TYPE_STRING ? s
                                                        : config_setting_get_elem(s, (unsigned)i);
}

void config_parse_name_set(struct config_ctx *x, const config_setting_t *s,
                           const char *const *names, int fold, unsigned *mask)
{
    size_t n;
    const config_setting_t **v = config_str_elems(x, s, &n);
    unsigned m = 0;

    for (size_t i = 0; i < n; i++) {
        const char *name = config_setting_get_string(v[i]);
        int k = config_name_index(names, name);
        unsigned bit;

        if (k < 0) {
            err_enum(x, v[i], names, fold, name);
            continue;
        }
        bit = 1u << (fold > 0 ? k % fold : k);
        if (m & bit)
            config_err_at(x, v[i], NULL, "\"%s\" is already in the list", name);
        m |= bit;
    }
    if (v)
        *mask = m;
    free(v);
}

/* Orders errors by file (in order of first appearance) and line, keeping the
 * order of errors on one line. */
struct sorted_error {
    struct config_error e;
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

void config_sort_errors(struct config_errors *errs)
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

void config_errors_print(const struct config_errors *errs, FILE *f)
{
    for (size_t i = 0; i < errs->n; i++) {
        const struct config_error *e = &errs->v[i];

        if (e->line > 0)
            (void)fprintf(f, "%s:%d: %s: %s\n", e->file, e->line, e->key, e->msg);
        else
            (void)fprintf(f, "%s: %s: %s\n", e->file, e->key, e->msg);
    }
}

void config_errors_free(struct config_errors *errs)
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
