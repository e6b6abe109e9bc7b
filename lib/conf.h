/* Configuration files (libconfig is included here only): reading a file and
 * walking its settings against tables of keys, for hallgw.conf
 * (gateway/config/) and agent.conf (sensors/agent/).
 *
 * The walker checks each setting against its key: unknown keys, types,
 * ranges, durations ("30s", "1h30m"), times of day, dates, ids, enums, files,
 * directories and secrets read from files. A secret file (a password, a
 * token, a private key) must not be accessible by group or others, as ssh
 * asks of a private key: the mode of the file opened is checked, and any
 * permission bit for group or others (0640, 0604) is refused with the path,
 * the mode and how to fix it (chmod 600). Every problem is recorded, not
 * only the first, as "FILE:LINE: key: message" (the key is the dotted path
 * of the setting, "devices[3].source"), and the walk goes on. Relative paths
 * are relative to the main file's directory.
 *
 * A setting is a conf_node; the accessors below read it without libconfig's
 * header. */
#ifndef HALLGW_CONF_H
#define HALLGW_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct config_setting_t conf_node;

/* A setting's type; the numbers are libconfig's. */
enum conf_type {
    CONF_TYPE_NONE = 0,
    CONF_TYPE_GROUP = 1,
    CONF_TYPE_INT = 2,
    CONF_TYPE_INT64 = 3,
    CONF_TYPE_FLOAT = 4,
    CONF_TYPE_STRING = 5,
    CONF_TYPE_BOOL = 6,
    CONF_TYPE_ARRAY = 7,
    CONF_TYPE_LIST = 8,
};

/* ---- errors ---------------------------------------------------------------- */

struct conf_error {
    char *file;
    int line; /* 0 when unknown (e.g. a missing key: the line of its block) */
    char *key;
    char *msg;
};

struct conf_errors {
    struct conf_error *v;
    size_t n;
};

/* Prints each as "FILE:LINE: key: message" ("FILE: key: message" without a
 * line). */
void conf_errors_print(const struct conf_errors *errs, FILE *f);
void conf_errors_free(struct conf_errors *errs); /* leaves it empty */

/* ---- one reading of a file ------------------------------------------------------ */

struct conf_ctx {
    struct conf_errors *errs;
    const char *main_file;
    char *dir;    /* the main file's directory (@include, relative paths); NULL for "." */
    bool nomem;   /* out of memory somewhere: conf_close() records it */
    void *target; /* the struct the tables fill */
    void *handle; /* private: libconfig's */
    int open_err; /* private: why the file could not be opened */
};

/* Reads path into x (errs emptied first; target is what the key tables'
 * offsets point into). Returns the root group, or NULL when the file cannot
 * be opened or parsed (recorded as key "(file)" or "(syntax)"). Call
 * conf_close() in either case. */
const conf_node *conf_open(struct conf_ctx *x, const char *path, struct conf_errors *errs,
                           void *target);

/* Releases the reading; records "(memory)" when anything ran out of memory,
 * and orders the errors by file and line. Returns 0 when no error was
 * recorded, -ENOMEM, -ENOENT (and other errnos: the file could not be
 * opened) or -EINVAL. */
int conf_close(struct conf_ctx *x);

/* ---- settings ------------------------------------------------------------------ */

enum conf_type conf_type(const conf_node *s);
bool conf_is_group(const conf_node *s);
bool conf_is_list(const conf_node *s);
bool conf_is_array(const conf_node *s);
int conf_length(const conf_node *s); /* elements of a group, list or array */
const conf_node *conf_elem(const conf_node *s, int i);
const conf_node *conf_member(const conf_node *g, const char *name); /* NULL when absent */
const char *conf_name(const conf_node *s);                          /* NULL for list elements */
int conf_index(const conf_node *s);
const conf_node *conf_parent(const conf_node *s);
int conf_line(const conf_node *s);
const char *conf_string(const conf_node *s); /* NULL when not a string */
long long conf_int(const conf_node *s);
double conf_float(const conf_node *s);
bool conf_bool(const conf_node *s);

/* ---- the walker ------------------------------------------------------------------ */

enum conf_vtype {
    CONF_STR,         /* char *, not empty; .check validates it */
    CONF_ID,          /* char *, an id (lib/id.h), not one of .names (reserved) */
    CONF_INT,         /* int in [min, max] */
    CONF_SIZE,        /* size_t in [min, max] */
    CONF_MB,          /* uint64_t bytes, written as MiB in [min, max] */
    CONF_BOOL,        /* bool */
    CONF_DUR,         /* int64_t ms in [min, max] */
    CONF_DUR_S,       /* int s, whole seconds in [min, max] ms */
    CONF_DATE,        /* int32_t days since the epoch */
    CONF_TOD,         /* int32_t seconds since midnight, "HH:MM" or "HH:MM:SS" ("24:00" is 86400) */
    CONF_FLOAT,       /* double, written as an integer or a float; finite */
    CONF_ENUM,        /* int: index in .names + min */
    CONF_SECRET,      /* char *, the content of a secret file (one trailing newline removed) */
    CONF_FILE,        /* char *, the path of a readable, non-empty regular file */
    CONF_SECRET_FILE, /* char *, the path of a secret file (a private key), read later */
    CONF_DIR,         /* char *, the path of a directory */
    CONF_TEXT,        /* char *, the content of the named file: at most 64 KiB of UTF-8, no NUL */
    CONF_GROUP,       /* a nested group of .sub keys stored from off */
    CONF_CUSTOM,      /* .fn parses the setting; dst is base + off */
};

/* One allowed key of a group; a table ends with {0}. */
struct conf_key {
    const char *name;
    enum conf_vtype t;
    size_t off;
    bool required;
    int64_t min, max;
    const struct conf_key *sub;
    const char *const *names;
    bool (*check)(struct conf_ctx *x, const conf_node *s, const char *v);
    void (*fn)(struct conf_ctx *x, const conf_node *s, void *dst);
};

#define CONF_KEY(n, type, st, member, ...)                                                         \
    {                                                                                              \
        .name = n, .t = type, .off = offsetof(st, member), __VA_ARGS__                             \
    }

/* Walks group g against keys, storing into base. */
void conf_parse_group(struct conf_ctx *x, const conf_node *g, const struct conf_key *keys,
                      void *base);

/* Parses list s of groups into a calloc'd array of elements of size sz;
 * element i is list element i (init'ed and left so if it is not a group). */
void *conf_parse_list(struct conf_ctx *x, const conf_node *s, const struct conf_key *keys,
                      size_t sz, size_t *n_out, void (*init)(void *elem));

/* Records an error with an explicit place ((syntax), (file) errors). */
void conf_add_error(struct conf_ctx *x, const char *file, int line, const char *key,
                    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Records an error at setting s, or about its absent member child (then the
 * line is s's and the key s's path + "." + child). */
void conf_err_at(struct conf_ctx *x, const conf_node *s, const char *child, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* "line 12", or "other.conf:12" when first is in another file than s. */
void conf_where(struct conf_ctx *x, const conf_node *first, const conf_node *s, char *buf,
                size_t n);

/* The string value of s, or NULL after recording "expected a string". */
const char *conf_str_value(struct conf_ctx *x, const conf_node *s);

/* The elements of s, a string or an array or list of strings, as a malloc'd
 * array of *n settings (s itself for a single string). Records elements that
 * are not strings or are empty (and leaves them out) and an empty list. NULL
 * when there is none. */
const conf_node **conf_str_elems(struct conf_ctx *x, const conf_node *s, size_t *n);

/* For s as conf_str_elems() takes it, after that has recorded its problems:
 * the number of elements (0 when s is neither a string, an array nor a
 * list) and element i (s itself for a string; may not be a string). */
int conf_str_count(const conf_node *s);
const conf_node *conf_str_elem(const conf_node *s, int i);

/* s is a name or a list of names, each one of the NULL-terminated names:
 * sets *mask to the bits (1 << (index % fold)) (fold 0: no folding, for
 * tables with aliases). Records unknown names, a name already listed and an
 * empty list; only the first fold names (all when 0) are shown in errors. */
void conf_parse_name_set(struct conf_ctx *x, const conf_node *s, const char *const *names, int fold,
                         unsigned *mask);

/* scheme://host:port ("[v6]" hosts too), one of the NULL-terminated schemes,
 * nothing after the port (but a "/" when the port is optional); records why
 * not. */
bool conf_check_hostport(struct conf_ctx *x, const conf_node *s, const char *v,
                         const char *const *schemes, bool port_required);

/* Opens path, a secret file for setting s: a readable, non-empty regular
 * file that group and others can neither read nor write. Returns the file
 * descriptor (the caller closes it), or -1 after recording why not. */
int conf_open_secret(struct conf_ctx *x, const conf_node *s, const char *path);

/* A path relative to the main file's directory, malloc'd (NULL: out of
 * memory, recorded). */
char *conf_path(struct conf_ctx *x, const char *path);

/* strdup that records running out of memory (NULL stays NULL). */
char *conf_xstrdup(struct conf_ctx *x, const char *s);
/* A malloc'd formatted string, or NULL. */
char *conf_xprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The index of v in the NULL-terminated names, or -1. */
int conf_name_index(const char *const *names, const char *v);

#endif
