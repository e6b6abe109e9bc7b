/* Configuration files (conf.h): reading one with libconfig, its settings,
 * and the errors found in it. The key-table walker is conf_keys.c. */
#include "conf.h"

#include <errno.h>
#include <libconfig.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

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
char *conf_path(struct conf_ctx *x, const char *path)
{
    char *p = path[0] == '/' || !x->dir ? strdup(path) : conf_xprintf("%s/%s", x->dir, path);
    x->nomem |= !p;
    return p;
}

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
