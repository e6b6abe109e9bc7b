/* The config's "reports" block: the daily record that the gateway sends by
 * itself (reports.daily: when, to which notify routes, in which formats).
 * Part of the config module. */
#include "config.h"
#include "config_internal.h"

#include <stdlib.h>
#include <string.h>

#include "duration.h"

static const char *const format_names[] = {"md", "html", "csv", NULL};

static const conf_node *member(const conf_node *g, const char *name)
{
    return g && conf_is_group(g) ? conf_member(g, name) : NULL;
}

/* "HH:MM[:SS]", or "after close" with an optional " + DURATION". */
static void parse_at(struct conf_ctx *x, const conf_node *s, void *dst)
{
    struct config_report_daily *d = dst;
    const char *v = conf_str_value(x, s);
    const char *p;

    if (!v)
        return;
    if (strncmp(v, "after close", 11) == 0) {
        d->after_close = true;
        for (p = v + 11; *p == ' '; p++)
            ;
        if (!*p)
            return;
        if (*p != '+') {
            conf_err_at(x, s, NULL, "expected \"after close\" or \"after close + 30m\"");
            return;
        }
        for (p++; *p == ' '; p++)
            ;
        int64_t ms;
        if (duration_parse_ms(p, &ms) < 0 || ms < 0 || ms > 12 * 3600000LL) {
            conf_err_at(x, s, NULL, "\"%s\" is not a duration from 0s to 12h, like \"30m\"", p);
            return;
        }
        d->after_ms = ms;
        return;
    }
    if (timeofday_parse(v, &d->at_s) == 0)
        return;
    conf_err_at(x, s, NULL, "expected a time of day \"HH:MM\" or \"after close + 30m\", not \"%s\"",
                v);
}

static void parse_routes(struct conf_ctx *x, const conf_node *s, void *dst)
{
    struct config_report_daily *d = dst;
    size_t n, k = 0;
    const conf_node **v = conf_str_elems(x, s, &n);

    if (n && !(d->routes = calloc(n, sizeof(*d->routes))))
        x->nomem = true;
    for (size_t i = 0; d->routes && i < n; i++) {
        const char *name = conf_string(v[i]);
        bool dup = false;
        for (size_t j = 0; j < k && !dup; j++)
            dup = strcmp(d->routes[j], name) == 0;
        if (dup)
            conf_err_at(x, v[i], NULL, "\"%s\" is already in the list", name);
        else if ((d->routes[k] = conf_xstrdup(x, name)))
            k++;
    }
    d->n_routes = k;
    free(v);
}

static void parse_formats(struct conf_ctx *x, const conf_node *s, void *dst)
{
    conf_parse_name_set(x, s, format_names, 0, dst);
}

#define K CONF_KEY
static const struct conf_key daily_keys[] = {
    {.name = "at", .t = CONF_CUSTOM, .fn = parse_at, .required = true},
    {.name = "routes", .t = CONF_CUSTOM, .fn = parse_routes, .required = true},
    K("formats", CONF_CUSTOM, struct config_report_daily, formats, .fn = parse_formats),
    {0},
};
#undef K

void config_parse_reports(struct conf_ctx *x, const conf_node *s, void *dst)
{
    struct config *c = dst;
    const conf_node *daily = member(s, "daily");

    if (!conf_is_group(s)) {
        conf_err_at(x, s, NULL, "expected a group { ... }");
        return;
    }
    for (int i = 0; i < conf_length(s); i++) {
        const conf_node *e = conf_elem(s, i);
        if (strcmp(conf_name(e), "daily") != 0)
            conf_err_at(x, e, NULL, "unknown key (reports holds daily)");
    }
    if (!daily)
        return;
    if (!conf_is_group(daily)) {
        conf_err_at(x, daily, NULL, "expected a group { ... }");
        return;
    }
    c->report_daily.enabled = true;
    c->report_daily.line = conf_line(daily);
    c->report_daily.formats = REPORT_FMT_HTML | REPORT_FMT_CSV;
    conf_parse_group(x, daily, daily_keys, &c->report_daily);
}

/* Every route named must be a notify route. */
void config_check_reports(struct conf_ctx *x, const conf_node *root)
{
    const struct config *c = config_of(x);
    const conf_node *routes = member(member(conf_member(root, "reports"), "daily"), "routes");

    for (int j = 0; routes && j < conf_str_count(routes); j++) {
        const char *name = conf_string(conf_str_elem(routes, j));
        if (name && *name && !config_find_notify(c, name))
            conf_err_at(x, conf_str_elem(routes, j), NULL, "no notify route \"%s\"", name);
    }
}

void config_free_reports(struct config *c)
{
    for (size_t i = 0; i < c->report_daily.n_routes; i++)
        free(c->report_daily.routes[i]);
    free(c->report_daily.routes);
}
