/* The config's hall schedule and rules: the root keys "schedule",
 * "default_rules" and "rules", the merge of the two rule lists and their
 * release. Part of the config module (routes and alert policy:
 * config_notify.c).
 *
 * The rules in effect (config->rules) are default_rules, each one replaced by
 * the "rules" entry of the same name, followed by the rules only "rules" has.
 * A "rules" entry { name = "x"; enabled = false; } with no type turns the
 * default rule "x" off and keeps its definition. */
#include "config.h"
#include "config_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "duration.h"
#include "id.h"
#include "utf8.h"

#define K CONF_KEY
#define MIN_MS INT64_C(60000)
#define HOUR_MS (60 * MIN_MS)
#define DAY_MS (24 * HOUR_MS)
#define TYPE_BIT(t) (1u << (t))

const char *const config_severity_names[SEV_COUNT + 1] = {"info", "warning", "major", "critical",
                                                          NULL};
static const char *const rule_type_names[RULE_TYPE_COUNT + 1] = {
    "threshold", "stale",    "unstaffed",   "wait_time",        "max_age",
    "event",     "baseline", "maintenance", "equipment_status", NULL};
static const char *const when_names[] = {"always", "open", "closed", NULL};
/* Index % 7 is tm_wday. */
static const char *const day_names[] = {"sun",       "mon",      "tue",    "wed",      "thu",
                                        "fri",       "sat",      "sunday", "monday",   "tuesday",
                                        "wednesday", "thursday", "friday", "saturday", NULL};

static const conf_node *member(const conf_node *g, const char *name)
{
    return g && conf_is_group(g) ? conf_member(g, name) : NULL;
}

/* ---- names unique within a list ---- */

/* The member name of element i of list, if that is a group. */
static const conf_node *elem_member(const conf_node *list, size_t i, const char *name)
{
    return list ? member(conf_elem(list, (unsigned)i), name) : NULL;
}

void config_check_unique_names(struct conf_ctx *x, const conf_node *list, const void *v, size_t n,
                               size_t sz, size_t off, const char *what)
{
    char where[300];

    for (size_t i = 1; i < n; i++) {
        const char *a = *(char *const *)((const char *)v + i * sz + off);

        for (size_t j = 0; a && j < i; j++) {
            const char *b = *(char *const *)((const char *)v + j * sz + off);
            const conf_node *first = elem_member(list, j, "name");
            const conf_node *s = elem_member(list, i, "name");

            if (!b || strcmp(a, b) != 0 || !first || !s)
                continue;
            conf_where(x, first, s, where, sizeof(where));
            conf_err_at(x, s, NULL, "duplicate %s name \"%s\" (first at %s)", what, a, where);
            break;
        }
    }
}

/* ---- schedule ---- */

static void fmt_tod(int32_t s, char *buf, size_t n)
{
    if (s % 60)
        (void)snprintf(buf, n, "%02d:%02d:%02d", (int)(s / 3600), (int)(s / 60 % 60),
                       (int)(s % 60));
    else
        (void)snprintf(buf, n, "%02d:%02d", (int)(s / 3600), (int)(s / 60 % 60));
}

static void parse_weekdays(struct conf_ctx *x, const conf_node *s, void *dst)
{
    struct config_schedule *sc = dst;
    unsigned m = sc->weekdays;

    conf_parse_name_set(x, s, day_names, 7, &m);
    sc->weekdays = (uint8_t)m;
}

static const struct conf_key break_keys[] = {
    K("from", CONF_TOD, struct config_break, from_s, .required = true),
    K("to", CONF_TOD, struct config_break, to_s, .required = true),
    {0},
};

static void break_init(void *elem)
{
    struct config_break *b = elem;

    b->from_s = b->to_s = -1;
}

static void parse_breaks(struct conf_ctx *x, const conf_node *s, void *dst)
{
    struct config_schedule *sc = dst;

    sc->breaks = conf_parse_list(x, s, break_keys, sizeof(*sc->breaks), &sc->n_breaks, break_init);
}

struct dated {
    int32_t day;
    int index;
    const conf_node *s;
};

static int cmp_dated(const void *a, const void *b)
{
    const struct dated *x = a, *y = b;

    if (x->day != y->day)
        return x->day < y->day ? -1 : 1;
    return x->index - y->index;
}

static int cmp_int32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;

    return (x > y) - (x < y);
}

/* A list of dates into a sorted array without repeats. */
static void parse_dates(struct conf_ctx *x, const conf_node *s, int32_t **out, size_t *n_out)
{
    size_t n, k = 0, m = 0;
    const conf_node **v = conf_str_elems(x, s, &n), *first = NULL;
    struct dated *d = calloc(n + 1, sizeof(*d));
    int32_t *days = calloc(n + 1, sizeof(*days));
    char where[300];

    if (!d || !days) {
        x->nomem = true;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        const char *str = conf_string(v[i]);

        if (date_parse(str, &d[k].day) < 0) {
            conf_err_at(x, v[i], NULL, "\"%s\" is not a date (YYYY-MM-DD, 1970 or later)", str);
            continue;
        }
        d[k].index = (int)i;
        d[k++].s = v[i];
    }
    qsort(d, k, sizeof(*d), cmp_dated);
    for (size_t i = 0; i < k; i++) {
        if (m && d[i].day == days[m - 1]) {
            conf_where(x, first, d[i].s, where, sizeof(where));
            conf_err_at(x, d[i].s, NULL, "\"%s\" is already in the list (%s)", conf_string(d[i].s),
                        where);
            continue;
        }
        days[m++] = d[i].day;
        first = d[i].s;
    }
    if (m) {
        *out = days;
        *n_out = m;
        days = NULL;
    }
out:
    free(v);
    free(d);
    free(days);
}

static void parse_holidays(struct conf_ctx *x, const conf_node *s, void *dst)
{
    struct config_schedule *sc = dst;

    parse_dates(x, s, &sc->holidays, &sc->n_holidays);
}

static void parse_workdays(struct conf_ctx *x, const conf_node *s, void *dst)
{
    struct config_schedule *sc = dst;

    parse_dates(x, s, &sc->workdays, &sc->n_workdays);
}

static const struct conf_key schedule_keys[] = {
    {.name = "weekdays", .t = CONF_CUSTOM, .fn = parse_weekdays},
    K("open", CONF_TOD, struct config_schedule, open_s),
    K("close", CONF_TOD, struct config_schedule, close_s),
    {.name = "breaks", .t = CONF_CUSTOM, .fn = parse_breaks},
    {.name = "holidays", .t = CONF_CUSTOM, .fn = parse_holidays},
    {.name = "workdays", .t = CONF_CUSTOM, .fn = parse_workdays},
    K("poweroff_at", CONF_TOD, struct config_schedule, poweroff_s),
    K("poweron_at", CONF_TOD, struct config_schedule, poweron_s),
    {0},
};

struct break_ref {
    struct config_break b;
    int index;
    const conf_node *s;
};

static int cmp_break(const void *a, const void *b)
{
    const struct break_ref *x = a, *y = b;

    if (x->b.from_s != y->b.from_s)
        return x->b.from_s < y->b.from_s ? -1 : 1;
    return x->index - y->index;
}

/* Each break inside the opening hours, from < to; sorted, none overlapping. */
static void check_breaks(struct conf_ctx *x, const conf_node *g, struct config_schedule *sc)
{
    const conf_node *list = conf_member(g, "breaks");
    struct break_ref *v = calloc(sc->n_breaks + 1, sizeof(*v));
    char a[32], b[32], c[32], d[32], where[300];
    size_t k = 0, m = 0;

    if (!v) {
        x->nomem = true;
        return;
    }
    fmt_tod(sc->open_s, c, sizeof(c));
    fmt_tod(sc->close_s, d, sizeof(d));
    for (size_t i = 0; i < sc->n_breaks; i++) {
        const conf_node *e = conf_elem(list, (unsigned)i);
        struct config_break br = sc->breaks[i];

        if (br.from_s < 0 || br.to_s < 0)
            continue; /* reported */
        fmt_tod(br.from_s, a, sizeof(a));
        fmt_tod(br.to_s, b, sizeof(b));
        if (br.from_s >= br.to_s)
            conf_err_at(x, member(e, "to"), NULL, "must be after from (%s)", a);
        else if (br.from_s < sc->open_s || br.to_s > sc->close_s)
            conf_err_at(x, e, NULL, "%s-%s is not within the opening hours %s-%s", a, b, c, d);
        else
            v[k++] = (struct break_ref){br, (int)i, e};
    }
    qsort(v, k, sizeof(*v), cmp_break);
    for (size_t i = 0; i < k; i++) {
        if (m && v[i].b.from_s < sc->breaks[m - 1].to_s) {
            fmt_tod(v[i].b.from_s, a, sizeof(a));
            fmt_tod(v[i].b.to_s, b, sizeof(b));
            fmt_tod(sc->breaks[m - 1].from_s, c, sizeof(c));
            fmt_tod(sc->breaks[m - 1].to_s, d, sizeof(d));
            conf_where(x, v[m - 1].s, v[i].s, where, sizeof(where));
            conf_err_at(x, v[i].s, NULL, "%s-%s overlaps the break %s-%s (%s)", a, b, c, d, where);
            continue;
        }
        v[m] = v[i]; /* v[m - 1] stays the last kept break */
        sc->breaks[m++] = v[i].b;
    }
    sc->n_breaks = m;
    free(v);
}

static void check_schedule(struct conf_ctx *x, const conf_node *g, struct config_schedule *sc)
{
    const conf_node *s = member(g, "workdays");
    char a[32], b[32], c[32];
    int32_t day;

    fmt_tod(sc->open_s, a, sizeof(a));
    fmt_tod(sc->close_s, b, sizeof(b));
    if (sc->open_s >= sc->close_s) {
        s = member(g, "close") ? member(g, "close") : member(g, "open");
        conf_err_at(x, s, NULL, "close (%s) must be after open (%s)", b, a);
        return;
    }
    check_breaks(x, g, sc);
    for (int i = 0; s && i < conf_str_count(s); i++) {
        const conf_node *e = conf_str_elem(s, i);
        const char *v = conf_string(e);

        if (v && sc->n_holidays && date_parse(v, &day) == 0 &&
            bsearch(&day, sc->holidays, sc->n_holidays, sizeof(day), cmp_int32))
            conf_err_at(x, e, NULL, "\"%s\" is also in holidays", v);
    }
    s = member(g, "poweroff_at");
    if (s && sc->poweroff_s >= sc->open_s && sc->poweroff_s < sc->close_s) {
        fmt_tod(sc->poweroff_s, c, sizeof(c));
        conf_err_at(x, s, NULL, "%s is within the opening hours %s-%s", c, a, b);
    }
}

void config_parse_schedule(struct conf_ctx *x, const conf_node *s, void *dst)
{
    struct config *c = dst;

    if (!conf_is_group(s)) {
        conf_err_at(x, s, NULL, "expected a group { ... }");
        return;
    }
    conf_parse_group(x, s, schedule_keys, &c->schedule);
    check_schedule(x, s, &c->schedule);
}

/* ---- rules ---- */

static bool check_glob(struct conf_ctx *x, const conf_node *s, const char *v)
{
    static const char ok[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
                             "_.-*?[]!";

    if (strlen(v) > 255 || strspn(v, ok) != strlen(v)) {
        conf_err_at(x, s, NULL, "\"%s\" is not a pattern of ids (A-Z a-z 0-9 _ . - and * ? [...])",
                    v);
        return false;
    }
    return true;
}

static bool check_action(struct conf_ctx *x, const conf_node *s, const char *v)
{
    if (strcmp(v, "scan") != 0) {
        conf_err_at(x, s, NULL, "\"%s\" is not one of \"scan\"", v);
        return false;
    }
    return true;
}

static void parse_kinds(struct conf_ctx *x, const conf_node *s, void *dst)
{
    conf_parse_name_set(x, s, config_kind_names, 0, dst);
}

/* `is`: true, false, a number or a string a device may send (a string
 * metric: 1..256 bytes, no control characters). */
static void parse_is(struct conf_ctx *x, const conf_node *s, void *dst)
{
    struct config_rule *r =
        (struct config_rule *)((char *)dst - offsetof(struct config_rule, is_type));
    const char *v;

    switch (conf_type(s)) {
    case CONF_TYPE_BOOL:
        r->is_type = CONFIG_IS_BOOL;
        r->is_b = conf_bool(s);
        return;
    case CONF_TYPE_INT:
    case CONF_TYPE_INT64:
        r->is_type = CONFIG_IS_NUMBER;
        r->is_num = (double)conf_int(s);
        return;
    case CONF_TYPE_FLOAT:
        r->is_type = CONFIG_IS_NUMBER;
        r->is_num = conf_float(s);
        return;
    case CONF_TYPE_STRING:
        v = conf_string(s);
        if (!*v || strlen(v) > 256 || !utf8_clean(v, strlen(v))) {
            conf_err_at(x, s, NULL, "must be 1 to 256 bytes of text without control characters");
            return;
        }
        r->is_str = strdup(v);
        if (!r->is_str) {
            x->nomem = true;
            return;
        }
        r->is_type = CONFIG_IS_STRING;
        return;
    default:
        conf_err_at(x, s, NULL, "expected true, false, a number or a string");
    }
}

static const struct conf_key rule_keys[] = {
    K("name", CONF_ID, struct config_rule, name, .required = true),
    K("type", CONF_ENUM, struct config_rule, type, .names = rule_type_names),
    K("severity", CONF_ENUM, struct config_rule, severity, .names = config_severity_names),
    K("when", CONF_ENUM, struct config_rule, when, .names = when_names),
    K("kind", CONF_CUSTOM, struct config_rule, kinds, .fn = parse_kinds),
    K("hall", CONF_STR, struct config_rule, hall, .check = check_glob),
    K("devices", CONF_STR, struct config_rule, devices, .check = check_glob),
    K("metric", CONF_ID, struct config_rule, metric),
    K("above", CONF_FLOAT, struct config_rule, above),
    K("below", CONF_FLOAT, struct config_rule, below),
    K("clear_at", CONF_FLOAT, struct config_rule, clear_at),
    K("is", CONF_CUSTOM, struct config_rule, is_type, .fn = parse_is),
    K("for", CONF_DUR, struct config_rule, for_ms, .min = 0, .max = 30 * DAY_MS),
    K("for_when_waiting", CONF_DUR, struct config_rule, for_when_waiting_ms, .min = 0,
      .max = 30 * DAY_MS),
    K("max", CONF_DUR, struct config_rule, max_ms, .min = 1000, .max = DAY_MS),
    K("max_age", CONF_DUR, struct config_rule, max_age_ms, .min = MIN_MS, .max = 365 * DAY_MS),
    K("action", CONF_STR, struct config_rule, action, .check = check_action),
    K("event", CONF_ID, struct config_rule, event),
    K("enabled", CONF_BOOL, struct config_rule, enabled),
    {0},
};

/* The keys only some types use, and the types that need them. */
static const struct {
    const char *key;
    unsigned used_by, needed_by;
} type_keys[] = {
    {"metric", TYPE_BIT(RULE_THRESHOLD) | TYPE_BIT(RULE_MAX_AGE) | TYPE_BIT(RULE_BASELINE),
     TYPE_BIT(RULE_THRESHOLD) | TYPE_BIT(RULE_MAX_AGE) | TYPE_BIT(RULE_BASELINE)},
    {"above", TYPE_BIT(RULE_THRESHOLD), 0},
    {"below", TYPE_BIT(RULE_THRESHOLD), 0},
    {"clear_at", TYPE_BIT(RULE_THRESHOLD), 0},
    {"is", TYPE_BIT(RULE_THRESHOLD), 0},
    {"for",
     TYPE_BIT(RULE_THRESHOLD) | TYPE_BIT(RULE_STALE) | TYPE_BIT(RULE_UNSTAFFED) |
         TYPE_BIT(RULE_EQUIPMENT_STATUS),
     TYPE_BIT(RULE_STALE)},
    {"for_when_waiting", TYPE_BIT(RULE_UNSTAFFED), 0},
    {"max", TYPE_BIT(RULE_WAIT_TIME), TYPE_BIT(RULE_WAIT_TIME)},
    {"max_age", TYPE_BIT(RULE_MAX_AGE), TYPE_BIT(RULE_MAX_AGE)},
    {"action", TYPE_BIT(RULE_MAX_AGE), 0},
    {"event", TYPE_BIT(RULE_EVENT), TYPE_BIT(RULE_EVENT)},
};

static void rule_init(void *elem)
{
    struct config_rule *r = elem;

    r->severity = SEV_WARNING;
    r->when = WHEN_ALWAYS;
    r->for_when_waiting_ms = -1;
    r->enabled = true;
}

/* { name = "x"; enabled = false; }: turns the default rule "x" off. */
static bool is_disable_entry(const conf_node *g, const struct config_rule *r)
{
    return g && conf_is_group(g) && !conf_member(g, "type") && r->name && !r->enabled &&
           conf_length(g) == 2;
}

static bool is_number(const conf_node *s)
{
    int t = conf_type(s);

    return t == CONF_TYPE_INT || t == CONF_TYPE_INT64 || t == CONF_TYPE_FLOAT;
}

static void check_threshold(struct conf_ctx *x, const conf_node *g, struct config_rule *r)
{
    const conf_node *above = member(g, "above"), *below = member(g, "below");
    const conf_node *clear = member(g, "clear_at"), *is = member(g, "is");

    if (is) {
        /* Equal or not: nothing to cross, nothing to clear at. */
        const conf_node *extra[] = {above, below, clear};
        for (size_t i = 0; i < sizeof(extra) / sizeof(extra[0]); i++)
            if (extra[i])
                conf_err_at(x, extra[i], NULL, "a threshold rule has is or above/below, not both");
        return;
    }
    r->has_above = above != NULL;
    r->has_below = below != NULL;
    r->has_clear_at = clear != NULL;
    if (above && below) {
        conf_err_at(x, below, NULL, "a threshold rule has above or below, not both");
    } else if (!above && !below) {
        conf_err_at(x, g, "above", "required by type \"threshold\" (or below, or is)");
    } else if (!clear) {
        r->clear_at = above ? r->above : r->below;
    } else if (!is_number(clear) || !is_number(above ? above : below)) {
        return; /* reported */
    } else if (above && r->clear_at > r->above) {
        conf_err_at(x, clear, NULL, "must be at most above (%g) for the alert to clear", r->above);
    } else if (below && r->clear_at < r->below) {
        conf_err_at(x, clear, NULL, "must be at least below (%g) for the alert to clear", r->below);
    }
}

/* The checks of one rule that depend on its type, and the defaults that do. */
static void check_rule(struct conf_ctx *x, const conf_node *g, struct config_rule *r, bool user)
{
    const conf_node *t = member(g, "type"), *s;
    const char *tname, *fs;
    unsigned bit;
    int64_t ms;

    if (!t) {
        if (!user || !is_disable_entry(g, r))
            conf_err_at(x, g, "type", "missing required key");
        return;
    }
    if (conf_type(t) != CONF_TYPE_STRING || conf_name_index(rule_type_names, conf_string(t)) < 0)
        return; /* reported */
    tname = rule_type_names[r->type];
    bit = TYPE_BIT(r->type);
    for (size_t i = 0; i < sizeof(type_keys) / sizeof(type_keys[0]); i++) {
        s = member(g, type_keys[i].key);
        if (s && !(type_keys[i].used_by & bit))
            conf_err_at(x, s, NULL, "not used by type \"%s\"", tname);
        else if (!s && (type_keys[i].needed_by & bit))
            conf_err_at(x, g, type_keys[i].key, "required by type \"%s\"", tname);
    }
    switch (r->type) {
    case RULE_THRESHOLD:
        check_threshold(x, g, r);
        break;
    case RULE_STALE:
        s = member(g, "for");
        fs = s ? conf_string(s) : NULL;
        if (fs && duration_parse_ms(fs, &ms) == 0 && ms == 0)
            conf_err_at(x, s, NULL, "must be more than 0s for type \"stale\"");
        break;
    case RULE_UNSTAFFED:
        if (!member(g, "for"))
            r->for_ms = 10 * MIN_MS;
        /* Compared only with a `for` that was stored (no error of its own). */
        fs = member(g, "for") ? conf_string(member(g, "for")) : "10m, the default";
        s = member(g, "for_when_waiting");
        if (s && fs && r->for_when_waiting_ms > r->for_ms &&
            (!member(g, "for") || (duration_parse_ms(fs, &ms) == 0 && ms == r->for_ms)))
            conf_err_at(x, s, NULL, "must not be longer than for (%s)", fs);
        break;
    default:
        break;
    }
    if (!member(g, "when") && (r->type == RULE_UNSTAFFED || r->type == RULE_WAIT_TIME))
        r->when = WHEN_OPEN;
}

/* which: 0 for default_rules, 1 for rules. */
static void parse_rule_list(struct conf_ctx *x, const conf_node *s, int which)
{
    struct config_priv *p = (struct config_priv *)config_of(x);
    size_t n = 0;
    struct config_rule *v = conf_parse_list(x, s, rule_keys, sizeof(*v), &n, rule_init);

    p->rule_lists[which] = v;
    p->n_rule_lists[which] = n;
    for (size_t i = 0; i < n; i++) {
        const conf_node *e = conf_elem(s, (unsigned)i);

        v[i].line = (int)conf_line(e);
        if (conf_is_group(e))
            check_rule(x, e, &v[i], which == 1);
    }
    config_check_unique_names(x, s, v, n, sizeof(*v), offsetof(struct config_rule, name), "rule");
}

void config_parse_default_rules(struct conf_ctx *x, const conf_node *s, void *dst)
{
    (void)dst;
    parse_rule_list(x, s, 0);
}

void config_parse_rules(struct conf_ctx *x, const conf_node *s, void *dst)
{
    (void)dst;
    parse_rule_list(x, s, 1);
}

static void free_rule(struct config_rule *r)
{
    free(r->name);
    free(r->hall);
    free(r->devices);
    free(r->metric);
    free(r->action);
    free(r->event);
    free(r->is_str);
}

static void free_rules(struct config_rule *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free_rule(&v[i]);
    free(v);
}

/* config->rules: the default rules, each replaced by the user's rule of the
 * same name, then the user's other rules. */
static void merge_rules(struct conf_ctx *x, const conf_node *root)
{
    struct config_priv *p = (struct config_priv *)config_of(x);
    struct config_rule *d = p->rule_lists[0], *u = p->rule_lists[1], *out;
    size_t nd = p->n_rule_lists[0], nu = p->n_rule_lists[1], n = 0, j;
    const conf_node *ulist = conf_member(root, "rules");
    bool *used;

    if (!nd && !nu)
        return;
    out = calloc(nd + nu, sizeof(*out));
    used = calloc(nu + 1, sizeof(*used));
    if (!out || !used) {
        x->nomem = true;
        free(out);
        free(used);
        return; /* the lists stay where config_free_rules() finds them */
    }
    for (size_t i = 0; i < nd; i++) {
        for (j = 0; j < nu; j++)
            if (!used[j] && d[i].name && u[j].name && strcmp(d[i].name, u[j].name) == 0)
                break;
        if (j == nu) {
            out[n] = d[i];
            out[n++].from_defaults = true;
            continue;
        }
        used[j] = true;
        if (is_disable_entry(conf_elem(ulist, (unsigned)j), &u[j])) {
            out[n] = d[i];
            out[n].enabled = false;
            out[n++].line = u[j].line;
            free_rule(&u[j]);
        } else {
            out[n++] = u[j];
            free_rule(&d[i]);
        }
    }
    for (j = 0; j < nu; j++) {
        const conf_node *e = ulist ? conf_elem(ulist, (unsigned)j) : NULL;

        if (used[j])
            continue;
        if (is_disable_entry(e, &u[j]))
            conf_err_at(x, e, "type", "missing required key (no default rule \"%s\" to turn off)",
                        u[j].name);
        out[n++] = u[j];
    }
    free(d);
    free(u);
    free(used);
    p->rule_lists[0] = p->rule_lists[1] = NULL;
    p->n_rule_lists[0] = p->n_rule_lists[1] = 0;
    config_of(x)->rules = out;
    config_of(x)->n_rules = n;
}

void config_check_rules(struct conf_ctx *x, const conf_node *root)
{
    merge_rules(x, root);
}

void config_free_rules(struct config_priv *p)
{
    struct config *c = &p->pub;

    free(c->schedule.breaks);
    free(c->schedule.holidays);
    free(c->schedule.workdays);
    free_rules(c->rules, c->n_rules);
    for (int i = 0; i < 2; i++)
        free_rules(p->rule_lists[i], p->n_rule_lists[i]);
}

/* ---- names ---- */

const char *config_severity_name(enum severity s)
{
    return (unsigned)s < SEV_COUNT ? config_severity_names[s] : "unknown";
}

int config_severity_parse(const char *s)
{
    return s ? conf_name_index(config_severity_names, s) : -1;
}

const char *config_rule_type_name(enum rule_type t)
{
    return (unsigned)t < RULE_TYPE_COUNT ? rule_type_names[t] : "unknown";
}
