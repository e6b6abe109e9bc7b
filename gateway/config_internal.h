/* Private to the config module (config.c, config_parse.c, config_devices.c,
 * config_rules.c, config_notify.c, config_enforce.c):
 * the key-table walker over libconfig settings and the parts of a loaded
 * config that are not public. Nothing else may include this header: it is how
 * the config module keeps libconfig to itself. */
#ifndef HALLGW_CONFIG_INTERNAL_H
#define HALLGW_CONFIG_INTERNAL_H

#include <libconfig.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

/* A loaded config: the public part first, then the lookup indexes. */
struct config_priv {
    struct config pub;
    const struct config_device **by_id; /* sorted by id */
    size_t n_by_id;
    const struct config_device **by_source; /* foreign devices, by (format, name) */
    size_t n_by_source;
    const struct config_hall **halls_by_id; /* sorted by id */
    size_t n_halls_by_id;
    /* default_rules [0] and rules [1] as parsed, until config_check_rules()
     * merges them into pub.rules (and leaves these empty). */
    struct config_rule *rule_lists[2];
    size_t n_rule_lists[2];
};

/* One config_load() in progress. */
struct config_ctx {
    struct config *c;
    struct config_errors *errs;
    const char *main_file;
    char *dir; /* the main file's directory (@include, relative *_file); NULL for "." */
    bool nomem;
};

enum config_vtype {
    V_STR,    /* char *, not empty; .check validates it */
    V_ID,     /* char *, [A-Za-z0-9_.-]{1,64}, not one of .names (reserved) */
    V_INT,    /* int in [min, max] */
    V_SIZE,   /* size_t in [min, max] */
    V_MB,     /* uint64_t bytes, written as MiB in [min, max] */
    V_BOOL,   /* bool */
    V_DUR,    /* int64_t ms in [min, max] */
    V_DUR_S,  /* int s, whole seconds in [min, max] ms */
    V_DATE,   /* int32_t days since the epoch */
    V_TOD,    /* int32_t seconds since midnight, "HH:MM" or "HH:MM:SS" ("24:00" is 86400) */
    V_FLOAT,  /* double, written as an integer or a float; finite */
    V_ENUM,   /* int: index in .names + min */
    V_SECRET, /* char *, the content of the named file */
    V_FILE,   /* char *, the path of a readable, non-empty file */
    V_DIR,    /* char *, the path of a directory (relative: to the config file's) */
    V_TEXT,   /* char *, the content of the named file: at most 64 KiB of UTF-8, no NUL */
    V_GROUP,  /* a nested group of .sub keys stored from off */
    V_CUSTOM, /* .fn parses the setting; dst is base + off */
};

/* One allowed key of a group; a table ends with {0}. */
struct config_key {
    const char *name;
    enum config_vtype t;
    size_t off;
    bool required;
    int64_t min, max;
    const struct config_key *sub;
    const char *const *names;
    bool (*check)(struct config_ctx *x, const config_setting_t *s, const char *v);
    void (*fn)(struct config_ctx *x, const config_setting_t *s, void *dst);
};

#define CONFIG_KEY(n, type, st, member, ...)                                                       \
    {                                                                                              \
        .name = n, .t = type, .off = offsetof(st, member), __VA_ARGS__                             \
    }

/* config_parse.c */

/* strdup that sets x->nomem on failure (NULL stays NULL). */
char *config_xstrdup(struct config_ctx *x, const char *s);
/* A malloc'd formatted string, or NULL. */
char *config_xprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The index of v in the NULL-terminated names, or -1. */
int config_name_index(const char *const *names, const char *v);

/* Records an error with an explicit place ((syntax), (file) errors). */
void config_add_error(struct config_ctx *x, const char *file, int line, const char *key,
                      const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Reports an error at setting s, or about its absent member child (then the
 * line is s's and the key s's path + "." + child). */
void config_err_at(struct config_ctx *x, const config_setting_t *s, const char *child,
                   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* "line 12", or "other.conf:12" when first is in another file than s. */
void config_where(struct config_ctx *x, const config_setting_t *first, const config_setting_t *s,
                  char *buf, size_t n);

/* The string value of s, or NULL after reporting "expected a string". */
const char *config_str_value(struct config_ctx *x, const config_setting_t *s);

/* Walks group g against keys, storing into base. */
void config_parse_group(struct config_ctx *x, const config_setting_t *g,
                        const struct config_key *keys, void *base);

/* Parses list s of groups into a calloc'd array of elements of size sz;
 * element i is list element i (init'ed and left so if it is not a group). */
void *config_parse_list(struct config_ctx *x, const config_setting_t *s,
                        const struct config_key *keys, size_t sz, size_t *n_out,
                        void (*init)(void *elem));

/* Orders errors by file (in order of first appearance), then by line. */
void config_sort_errors(struct config_errors *errs);

/* The elements of s, a string or an array or list of strings, as a malloc'd
 * array of *n settings (s itself for a single string). Reports elements that
 * are not strings or are empty (and leaves them out) and an empty list.
 * NULL when there is none. */
const config_setting_t **config_str_elems(struct config_ctx *x, const config_setting_t *s,
                                          size_t *n);

/* For s as config_str_elems() takes it, after that has reported its
 * problems: the number of elements (0 when s is neither a string, an array
 * nor a list) and element i (s itself for a string; may not be a string). */
int config_str_count(const config_setting_t *s);
const config_setting_t *config_str_elem(const config_setting_t *s, int i);

/* s is a name or a list of names, each one of the NULL-terminated names:
 * sets *mask to the bits (1 << (index % fold)) (fold 0: no folding, for
 * tables with aliases). Reports unknown names, a name already listed and an
 * empty list; only the first fold names (all when 0) are shown in errors. */
void config_parse_name_set(struct config_ctx *x, const config_setting_t *s,
                           const char *const *names, int fold, unsigned *mask);

/* config.c */

/* Overwrites a secret before freeing it; NULL does nothing. */
void config_free_secret(char *s);

/* config_devices.c: the "halls" and "devices" root keys, the checks across
 * them (run after the whole file is parsed) and their release. */
void config_parse_halls(struct config_ctx *x, const config_setting_t *s, void *dst);
void config_parse_devices(struct config_ctx *x, const config_setting_t *s, void *dst);
void config_check_model(struct config_ctx *x, const config_setting_t *root);
void config_free_model(struct config_priv *p);
/* "seat", ..., "pc", "unknown", NULL: indexed by enum device_kind. */
extern const char *const config_kind_names[KIND_COUNT + 1];

/* Reports each element of v (n structs of size sz, from the groups of list)
 * whose char * at off repeats an earlier one's: "duplicate <what> name"
 * (config_rules.c). */
void config_check_unique_names(struct config_ctx *x, const config_setting_t *list, const void *v,
                               size_t n, size_t sz, size_t off, const char *what);

/* "info", ..., "critical", NULL: indexed by enum severity (config_rules.c). */
extern const char *const config_severity_names[SEV_COUNT + 1];

/* config_rules.c: the "schedule", "default_rules" and "rules" root keys, the
 * merge of the two rule lists (after the whole file is parsed) and their
 * release. */
void config_parse_schedule(struct config_ctx *x, const config_setting_t *s, void *dst);
void config_parse_default_rules(struct config_ctx *x, const config_setting_t *s, void *dst);
void config_parse_rules(struct config_ctx *x, const config_setting_t *s, void *dst);
void config_check_rules(struct config_ctx *x, const config_setting_t *root);
void config_free_rules(struct config_priv *p);

/* config_notify.c: the "notify" and "alerts" root keys, the checks against
 * the halls and between them (after config_check_model(), which indexes the
 * halls) and their release. */
void config_parse_notify(struct config_ctx *x, const config_setting_t *s, void *dst);
void config_parse_alerts(struct config_ctx *x, const config_setting_t *s, void *dst);
void config_check_notify(struct config_ctx *x, const config_setting_t *root);
void config_free_notify(struct config *c);

/* config_enforce.c: the "poweroff" and "scans" root keys, the checks against
 * mqtt, schedule and rules (after config_check_rules()) and their release. */
void config_parse_poweroff(struct config_ctx *x, const config_setting_t *s, void *dst);
void config_parse_scans(struct config_ctx *x, const config_setting_t *s, void *dst);
void config_check_enforce(struct config_ctx *x, const config_setting_t *root);
void config_free_enforce(struct config *c);

#endif
