/* The config's enforcement blocks: the root keys "poweroff" (the nightly
 * power-off run, docs/enforcement.md) and "scans" (virus scans ordered when
 * a max_age rule with action = "scan" is overdue), the checks against mqtt,
 * schedule and rules, and their release. Part of the config module.
 *
 * A block that is absent leaves its feature off; a block that is present
 * turns it on unless it says enabled = false. */
#include "config.h"
#include "config_internal.h"

#include <stdlib.h>
#include <string.h>

#define K CONF_KEY
#define MIN_MS INT64_C(60000)
#define HOUR_MS (60 * MIN_MS)
#define DAY_MS (24 * HOUR_MS)

/* The alert rule names enforcement raises itself (alerting.h). */
static const char *const reserved_rules[] = {"poweroff-failed", "bridge-offline", NULL};

static const char *const when_names[] = {"break", "before_poweroff", NULL};
static const char *const type_names[] = {"quick", "full", NULL};

static const conf_node *member(const conf_node *g, const char *name)
{
    return g && conf_is_group(g) ? conf_member(g, name) : NULL;
}

/* ---- poweroff ---- */

static bool check_glob(struct conf_ctx *x, const conf_node *s, const char *v)
{
    static const char ok[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
                             "_.-*?[]!";

    if (strlen(v) > 255 || strspn(v, ok) != strlen(v)) {
        conf_err_at(x, s, NULL,
                    "\"%s\" is not a pattern of device ids (A-Z a-z 0-9 _ . - and * ? [...])", v);
        return false;
    }
    return true;
}

static void parse_exempt(struct conf_ctx *x, const conf_node *s, void *dst)
{
    struct config_poweroff *p = dst;
    size_t n, k = 0;
    const conf_node **v = conf_str_elems(x, s, &n);
    char **globs = calloc(n + 1, sizeof(*globs));

    if (!globs) {
        x->nomem = true;
        free(v);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const char *g = conf_string(v[i]);
        bool dup = false;

        for (size_t j = 0; j < k && !dup; j++)
            dup = strcmp(globs[j], g) == 0;
        if (dup)
            conf_err_at(x, v[i], NULL, "\"%s\" is already in the list", g);
        else if (check_glob(x, v[i], g) && (globs[k] = conf_xstrdup(x, g)))
            k++;
    }
    free(v);
    p->exempt = globs;
    p->n_exempt = k;
}

static const struct conf_key poweroff_keys[] = {
    K("enabled", CONF_BOOL, struct config_poweroff, enabled),
    K("grace", CONF_DUR, struct config_poweroff, grace_ms, .min = 0, .max = 12 * HOUR_MS),
    K("verify_within", CONF_DUR, struct config_poweroff, verify_within_ms, .min = 1000,
      .max = DAY_MS),
    K("closed_grace", CONF_DUR, struct config_poweroff, closed_grace_ms, .min = 0, .max = DAY_MS),
    K("plug_delay", CONF_DUR, struct config_poweroff, plug_delay_ms, .min = 0, .max = HOUR_MS),
    K("plugs_after_pcs", CONF_BOOL, struct config_poweroff, plugs_after_pcs),
    K("dry_run", CONF_BOOL, struct config_poweroff, dry_run),
    {.name = "exempt", .t = CONF_CUSTOM, .fn = parse_exempt},
    {0},
};

void config_parse_poweroff(struct conf_ctx *x, const conf_node *s, void *dst)
{
    struct config_poweroff *p = &((struct config *)dst)->poweroff;
    const conf_node *grace = member(s, "grace"), *verify = member(s, "verify_within");

    if (!conf_is_group(s)) {
        conf_err_at(x, s, NULL, "expected a group { ... }");
        return;
    }
    p->enabled = true;
    p->grace_ms = 5 * MIN_MS;
    p->verify_within_ms = 15 * MIN_MS;
    p->closed_grace_ms = 10 * MIN_MS;
    p->plug_delay_ms = MIN_MS;
    p->plugs_after_pcs = true;
    conf_parse_group(x, s, poweroff_keys, p);
    /* The PC waits grace before it shuts down: it must have time to. Only
     * values that were stored are compared (a bad one is reported already). */
    if ((grace || verify) && p->verify_within_ms <= p->grace_ms &&
        (!grace || conf_type(grace) == CONF_TYPE_STRING) &&
        (!verify || conf_type(verify) == CONF_TYPE_STRING))
        conf_err_at(x, verify ? verify : grace, NULL,
                    "verify_within (%llds) must be longer than grace (%llds): the PC waits "
                    "grace before it shuts down",
                    (long long)(p->verify_within_ms / 1000), (long long)(p->grace_ms / 1000));
}

/* ---- scans ---- */

static const struct conf_key scans_keys[] = {
    K("enabled", CONF_BOOL, struct config_scans, enabled),
    K("when", CONF_ENUM, struct config_scans, when, .names = when_names),
    K("type", CONF_ENUM, struct config_scans, type, .names = type_names),
    K("before_poweroff", CONF_DUR, struct config_scans, before_poweroff_ms, .min = MIN_MS,
      .max = 12 * HOUR_MS),
    K("still_overdue_after", CONF_DUR, struct config_scans, still_overdue_after_ms, .min = 10000,
      .max = 7 * DAY_MS),
    {0},
};

void config_parse_scans(struct conf_ctx *x, const conf_node *s, void *dst)
{
    struct config_scans *sc = &((struct config *)dst)->scans;

    if (!conf_is_group(s)) {
        conf_err_at(x, s, NULL, "expected a group { ... }");
        return;
    }
    sc->enabled = true;
    sc->when = SCANS_BREAK;
    sc->type = SCANS_QUICK;
    sc->before_poweroff_ms = 30 * MIN_MS;
    sc->still_overdue_after_ms = 2 * HOUR_MS;
    conf_parse_group(x, s, scans_keys, sc);
    if (member(s, "before_poweroff") && sc->when != SCANS_BEFORE_POWEROFF)
        conf_err_at(x, member(s, "before_poweroff"), NULL,
                    "only used with when = \"before_poweroff\"");
}

/* ---- checks across blocks ---- */

/* Commands are signed: the key must be there. */
static void need_key(struct conf_ctx *x, const conf_node *root, const char *what)
{
    const conf_node *mqtt = conf_member(root, "mqtt");

    if (config_of(x)->mqtt.command_key_file || !mqtt || !conf_is_group(mqtt) ||
        conf_member(mqtt, "command_key_file"))
        return; /* set, or its problem is reported already */
    conf_err_at(x, mqtt, "command_key_file", "required when %s is enabled (it signs the %s)", what,
                strcmp(what, "poweroff") == 0 ? "power-off commands" : "scan commands");
}

/* schedule.poweroff_at must be set for what (block s). */
static void need_poweroff_at(struct conf_ctx *x, const conf_node *root, const conf_node *s,
                             const char *what)
{
    const conf_node *sched = conf_member(root, "schedule");

    if (config_of(x)->schedule.poweroff_s >= 0 || member(sched, "poweroff_at"))
        return;
    if (sched && conf_is_group(sched))
        conf_err_at(x, sched, "poweroff_at", "required by %s", what);
    else
        conf_err_at(x, s, NULL, "%s needs schedule.poweroff_at", what);
}

/* The rule names enforcement uses for its own alerts are not for rules. */
static void check_reserved(struct conf_ctx *x, const conf_node *root)
{
    static const char *const lists[] = {"default_rules", "rules"};

    for (size_t l = 0; l < 2; l++) {
        const conf_node *list = conf_member(root, lists[l]);
        int n = list && conf_is_list(list) ? conf_length(list) : 0;

        for (int i = 0; i < n; i++) {
            const conf_node *name = member(conf_elem(list, (unsigned)i), "name");
            const char *v = name ? conf_string(name) : NULL;

            if (v && conf_name_index(reserved_rules, v) >= 0)
                conf_err_at(x, name, NULL,
                            "\"%s\" is reserved for the alerts of power-off enforcement", v);
        }
    }
}

void config_check_enforce(struct conf_ctx *x, const conf_node *root)
{
    const struct config *c = config_of(x);
    const conf_node *po = conf_member(root, "poweroff");
    const conf_node *sc = conf_member(root, "scans");

    check_reserved(x, root);
    if (c->poweroff.enabled) {
        need_key(x, root, "poweroff");
        need_poweroff_at(x, root, po, "poweroff");
    }
    if (!c->scans.enabled)
        return;
    need_key(x, root, "scans");
    if (c->scans.when == SCANS_BEFORE_POWEROFF) {
        need_poweroff_at(x, root, sc, "scans.when = \"before_poweroff\"");
    } else if (c->schedule.n_breaks == 0) {
        const conf_node *when = member(sc, "when");

        if (when)
            conf_err_at(x, when, NULL,
                        "\"break\" needs schedule.breaks (or use "
                        "\"before_poweroff\")");
        else
            conf_err_at(x, sc, "when",
                        "defaults to \"break\", which needs schedule.breaks "
                        "(or set when = \"before_poweroff\")");
    }
}

void config_free_enforce(struct config *c)
{
    for (size_t i = 0; i < c->poweroff.n_exempt; i++)
        free(c->poweroff.exempt[i]);
    free(c->poweroff.exempt);
}

const char *config_scans_when_name(enum scans_when w)
{
    return (unsigned)w < 2 ? when_names[w] : "unknown";
}

const char *config_scans_type_name(enum scans_type t)
{
    return (unsigned)t < 2 ? type_names[t] : "unknown";
}
