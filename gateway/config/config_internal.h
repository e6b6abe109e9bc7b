/* Private to the config module (config.c, config_devices.c, config_rules.c,
 * config_notify.c, config_enforce.c): the parts of a loaded config that are
 * not public, and the blocks' parsers. The files are read and walked with
 * lib/conf.h, which keeps libconfig to itself. */
#ifndef HALLGW_CONFIG_INTERNAL_H
#define HALLGW_CONFIG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
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

/* The config being loaded: the conf_ctx's target (lib/conf.h). */
static inline struct config *config_of(struct conf_ctx *x)
{
    return x->target;
}

/* config_devices.c: the "halls" and "devices" root keys, the checks across
 * them (run after the whole file is parsed) and their release. */
void config_parse_halls(struct conf_ctx *x, const conf_node *s, void *dst);
void config_parse_devices(struct conf_ctx *x, const conf_node *s, void *dst);
void config_check_model(struct conf_ctx *x, const conf_node *root);
void config_free_model(struct config_priv *p);
/* "seat", ..., "pc", "unknown", NULL: indexed by enum device_kind. */
extern const char *const config_kind_names[KIND_COUNT + 1];

/* Reports each element of v (n structs of size sz, from the groups of list)
 * whose char * at off repeats an earlier one's: "duplicate <what> name"
 * (config_rules.c). */
void config_check_unique_names(struct conf_ctx *x, const conf_node *list, const void *v, size_t n,
                               size_t sz, size_t off, const char *what);

/* "info", ..., "critical", NULL: indexed by enum severity (config_rules.c). */
extern const char *const config_severity_names[SEV_COUNT + 1];

/* config_rules.c: the "schedule", "default_rules" and "rules" root keys, the
 * merge of the two rule lists (after the whole file is parsed) and their
 * release. */
void config_parse_schedule(struct conf_ctx *x, const conf_node *s, void *dst);
void config_parse_default_rules(struct conf_ctx *x, const conf_node *s, void *dst);
void config_parse_rules(struct conf_ctx *x, const conf_node *s, void *dst);
void config_check_rules(struct conf_ctx *x, const conf_node *root);
void config_free_rules(struct config_priv *p);

/* config_notify.c: the "notify" and "alerts" root keys, the checks against
 * the halls and between them (after config_check_model(), which indexes the
 * halls) and their release. */
void config_parse_notify(struct conf_ctx *x, const conf_node *s, void *dst);
void config_parse_alerts(struct conf_ctx *x, const conf_node *s, void *dst);
void config_check_notify(struct conf_ctx *x, const conf_node *root);
void config_free_notify(struct config *c);
/* reports (config_reports.c) */
void config_parse_reports(struct conf_ctx *x, const conf_node *s, void *dst);
void config_check_reports(struct conf_ctx *x, const conf_node *root);
void config_free_reports(struct config *c);

/* config_enforce.c: the "poweroff" and "scans" root keys, the checks against
 * mqtt, schedule and rules (after config_check_rules()) and their release. */
void config_parse_poweroff(struct conf_ctx *x, const conf_node *s, void *dst);
void config_parse_scans(struct conf_ctx *x, const conf_node *s, void *dst);
void config_check_enforce(struct conf_ctx *x, const conf_node *root);
void config_free_enforce(struct config *c);

#endif
