/* The config's notification routes and alert policy: the root keys "notify"
 * (webhook and e-mail routes, each matching on severity, kind and hall) and
 * "alerts" (re-notification and escalation), the checks against the halls
 * and between the two, and their release. Part of the config module.
 *
 * URLs are never repeated in error messages: a robot's webhook URL usually
 * carries its access key. */
#include "config.h"
#include "config_internal.h"

#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "id.h"

#define K CONF_KEY
#define MIN_MS INT64_C(60000)
#define DAY_MS (1440 * MIN_MS)

static const char *const notify_type_names[] = {"webhook", "email", "wecom", NULL};
static const char *const webhook_only[] = {"url",  "template_file", "content_type",
                                           "sign", "secret_file",   NULL};
static const char *const sign_names[] = {"none", "dingtalk", "feishu", NULL};
static const char *const email_only[] = {"smtp_url",      "from",     "to", "username",
                                         "password_file", "starttls", NULL};
static const char *const wecom_only[] = {"corp_id", "agent_id", "to_users",
                                         "api_url", "msgtype",  NULL};
static const char *const msgtype_names[] = {"markdown", "text", NULL};
static const char *const webhook_needs[] = {"url", NULL};
static const char *const email_needs[] = {"smtp_url", "from", "to", NULL};
static const char *const wecom_needs[] = {"corp_id", "agent_id", "secret_file", "to_users", NULL};

static const conf_node *member(const conf_node *g, const char *name)
{
    return g && conf_is_group(g) ? conf_member(g, name) : NULL;
}

static bool has_ctl(const char *v, bool space_too)
{
    for (; *v; v++)
        if ((unsigned char)*v < ' ' || *v == 0x7f || (space_too && *v == ' '))
            return true;
    return false;
}

/* scheme://host[:port][/path]: no white space, no user:password@. */
static bool check_url(struct conf_ctx *x, const conf_node *s, const char *v,
                      const char *const schemes[2])
{
    const char *h = NULL, *end, *colon, *p;
    long port = 0;

    for (int i = 0; i < 2 && !h; i++)
        if (strncmp(v, schemes[i], strlen(schemes[i])) == 0)
            h = v + strlen(schemes[i]);
    if (!h) {
        conf_err_at(x, s, NULL, "must start with %s or %s", schemes[0], schemes[1]);
        return false;
    }
    if (has_ctl(v, true)) {
        conf_err_at(x, s, NULL, "contains white space or a control character");
        return false;
    }
    end = h + strcspn(h, "/?#");
    if (memchr(h, '@', (size_t)(end - h))) {
        conf_err_at(x, s, NULL, "must not hold a user name or password");
        return false;
    }
    if (*h == '[') {
        colon = memchr(h, ']', (size_t)(end - h));
        colon = colon && colon > h + 1 ? colon + 1 : h;
    } else {
        colon = h + strcspn(h, ":/?#");
    }
    if (colon == h || (colon < end && *colon != ':')) {
        conf_err_at(x, s, NULL, "has no host");
        return false;
    }
    if (colon == end)
        return true;
    for (p = colon + 1; p < end && *p >= '0' && *p <= '9' && port <= 65535; p++)
        port = port * 10 + (*p - '0');
    if (p != end || port < 1 || port > 65535) {
        conf_err_at(x, s, NULL, "has a bad port");
        return false;
    }
    return true;
}

static bool check_webhook_url(struct conf_ctx *x, const conf_node *s, const char *v)
{
    static const char *const schemes[2] = {"http://", "https://"};

    return check_url(x, s, v, schemes);
}

static bool check_smtp_url(struct conf_ctx *x, const conf_node *s, const char *v)
{
    static const char *const schemes[2] = {"smtp://", "smtps://"};

    return check_url(x, s, v, schemes);
}

/* A plain address, local@domain: goes into SMTP commands and headers. */
static bool check_address(struct conf_ctx *x, const conf_node *s, const char *v)
{
    const char *at = strchr(v, '@');

    if (has_ctl(v, false)) {
        conf_err_at(x, s, NULL, "contains a line break or a control character");
        return false;
    }
    if (!at || at == v || !at[1] || strchr(at + 1, '@') || strpbrk(v, " <>,;\"")) {
        conf_err_at(x, s, NULL, "\"%s\" is not an e-mail address like \"duty@example.org\"", v);
        return false;
    }
    return true;
}

static bool check_content_type(struct conf_ctx *x, const conf_node *s, const char *v)
{
    if (has_ctl(v, false) || !strchr(v, '/')) {
        conf_err_at(x, s, NULL, "is not a media type like \"application/json\"");
        return false;
    }
    return true;
}

static void parse_severities(struct conf_ctx *x, const conf_node *s, void *dst)
{
    conf_parse_name_set(x, s, config_severity_names, 0, dst);
}

static void parse_kinds(struct conf_ctx *x, const conf_node *s, void *dst)
{
    conf_parse_name_set(x, s, config_kind_names, 0, dst);
}

/* A list of strings, each passing check, without repeats, into a calloc'd
 * array of copies. */
static void parse_strings(struct conf_ctx *x, const conf_node *s, char ***out, size_t *n_out,
                          bool (*check)(struct conf_ctx *, const conf_node *, const char *))
{
    size_t n, k = 0;
    const conf_node **v = conf_str_elems(x, s, &n);
    char **strs = calloc(n + 1, sizeof(*strs));

    if (!strs) {
        x->nomem = true;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        const char *str = conf_string(v[i]);
        bool dup = false;

        for (size_t j = 0; j < k && !dup; j++)
            dup = strcmp(strs[j], str) == 0;
        if (dup)
            conf_err_at(x, v[i], NULL, "\"%s\" is already in the list", str);
        else if (check(x, v[i], str) && (strs[k] = conf_xstrdup(x, str)))
            k++;
    }
    *out = strs;
    *n_out = k;
out:
    free(v);
}

static bool check_hall_id(struct conf_ctx *x, const conf_node *s, const char *v)
{
    if (id_valid(v, strlen(v)))
        return true;
    conf_err_at(x, s, NULL, "\"%s\" is not a valid id (1 to 64 of A-Z a-z 0-9 _ . -)", v);
    return false;
}

static void parse_halls(struct conf_ctx *x, const conf_node *s, void *dst)
{
    struct config_notify *r = dst;

    parse_strings(x, s, &r->halls, &r->n_halls, check_hall_id);
}

/* A WeCom user id (成员UserID): letters, digits and _ - . @, at most 64
 * bytes; "@all" alone means everyone the application reaches. */
static bool check_wecom_user(struct conf_ctx *x, const conf_node *s, const char *v)
{
    size_t n = strlen(v);
    bool ok = n > 0 && n <= 64;

    for (size_t i = 0; ok && i < n; i++)
        ok = (v[i] >= 'a' && v[i] <= 'z') || (v[i] >= 'A' && v[i] <= 'Z') ||
             (v[i] >= '0' && v[i] <= '9') || strchr("_-.@", v[i]);
    if (!ok)
        conf_err_at(x, s, NULL, "\"%s\" is not a WeCom user id (1 to 64 of A-Z a-z 0-9 _ - . @)",
                    v);
    return ok;
}

/* to_users: the list, kept as WeCom's touser "a|b". */
static void parse_to_users(struct conf_ctx *x, const conf_node *s, void *dst)
{
    struct config_notify *r = dst;
    char **v = NULL;
    size_t n = 0, len = 1;

    parse_strings(x, s, &v, &n, check_wecom_user);
    for (size_t i = 0; i < n; i++)
        len += strlen(v[i]) + 1;
    if (n > 1000)
        conf_err_at(x, s, NULL, "WeCom takes at most 1000 users in one message");
    if (n > 0 && (r->to_users = calloc(1, len))) {
        for (size_t i = 0; i < n; i++) {
            if (i)
                strcat(r->to_users, "|");
            strcat(r->to_users, v[i]);
        }
    } else if (n > 0) {
        x->nomem = true;
    }
    for (size_t i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

static void parse_to(struct conf_ctx *x, const conf_node *s, void *dst)
{
    struct config_notify *r = dst;

    parse_strings(x, s, &r->to, &r->n_to, check_address);
}

/* 企业ID: "ww" and hex digits in practice; letters and digits. */
static bool check_corp_id(struct conf_ctx *x, const conf_node *s, const char *v)
{
    size_t n = strlen(v);
    bool ok = n > 0 && n <= 64;

    for (size_t i = 0; ok && i < n; i++)
        ok = (v[i] >= 'a' && v[i] <= 'z') || (v[i] >= 'A' && v[i] <= 'Z') ||
             (v[i] >= '0' && v[i] <= '9');
    if (!ok)
        conf_err_at(x, s, NULL, "is not a WeCom corp id (letters and digits, like \"ww1234abcd\")");
    return ok;
}

static const struct conf_key notify_keys[] = {
    K("name", CONF_ID, struct config_notify, name, .required = true),
    K("type", CONF_ENUM, struct config_notify, type, .required = true, .names = notify_type_names),
    K("severity", CONF_CUSTOM, struct config_notify, severities, .fn = parse_severities),
    K("kinds", CONF_CUSTOM, struct config_notify, kinds, .fn = parse_kinds),
    {.name = "halls", .t = CONF_CUSTOM, .fn = parse_halls},
    K("url", CONF_STR, struct config_notify, url, .check = check_webhook_url),
    K("template_file", CONF_TEXT, struct config_notify, template_text),
    K("content_type", CONF_STR, struct config_notify, content_type, .check = check_content_type),
    K("sign", CONF_ENUM, struct config_notify, sign, .names = sign_names),
    K("secret_file", CONF_SECRET, struct config_notify, secret),
    K("smtp_url", CONF_STR, struct config_notify, smtp_url, .check = check_smtp_url),
    K("from", CONF_STR, struct config_notify, from, .check = check_address),
    {.name = "to", .t = CONF_CUSTOM, .fn = parse_to},
    K("username", CONF_STR, struct config_notify, username),
    K("password_file", CONF_SECRET, struct config_notify, password),
    K("starttls", CONF_BOOL, struct config_notify, starttls),
    K("timeout", CONF_DUR, struct config_notify, timeout_ms, .min = 1000, .max = 5 * MIN_MS),
    K("retries", CONF_INT, struct config_notify, retries, .min = 0, .max = 100),
    K("corp_id", CONF_STR, struct config_notify, corp_id, .check = check_corp_id),
    K("agent_id", CONF_INT, struct config_notify, agent_id, .min = 0, .max = 2147483647),
    {.name = "to_users", .t = CONF_CUSTOM, .fn = parse_to_users},
    K("api_url", CONF_STR, struct config_notify, api_url, .check = check_webhook_url),
    K("msgtype", CONF_ENUM, struct config_notify, msgtype, .names = msgtype_names),
    {0},
};

static void notify_init(void *elem)
{
    struct config_notify *r = elem;

    r->severities = (1u << SEV_COUNT) - 1;
    r->kinds = (1u << KIND_COUNT) - 1;
    r->starttls = true;
    r->timeout_ms = 10000;
    r->retries = 5;
}

/* The keys of the route's type: present when needed, absent when of another
 * type. */
static void check_route(struct conf_ctx *x, const conf_node *g, struct config_notify *r)
{
    static const char *const *const only[] = {webhook_only, email_only, wecom_only};
    static const char *const *const needs_of[] = {webhook_needs, email_needs, wecom_needs};
    const conf_node *t = member(g, "type"), *s;
    const char *tname = notify_type_names[r->type];

    if (!t || conf_type(t) != CONF_TYPE_STRING ||
        conf_name_index(notify_type_names, conf_string(t)) < 0)
        return; /* reported */
    for (int k = 0; k < 3; k++) {
        if (k == (int)r->type)
            continue;
        for (int i = 0; only[k][i]; i++) {
            if (!(s = member(g, only[k][i])))
                continue;
            if (r->type == NOTIFY_WECOM && strcmp(only[k][i], "secret_file") == 0)
                continue; /* the application's secret */
            conf_err_at(x, s, NULL, "only for type = \"%s\"", notify_type_names[k]);
        }
    }
    for (int i = 0; needs_of[r->type][i]; i++)
        if (!member(g, needs_of[r->type][i]))
            conf_err_at(x, g, needs_of[r->type][i], "required with type = \"%s\"", tname);
    if ((s = member(g, "password_file")) && !member(g, "username"))
        conf_err_at(x, s, NULL, "needs username");
    if (r->type != NOTIFY_WECOM) {
        if ((s = member(g, "sign")) && r->sign != SIGN_NONE && !member(g, "secret_file"))
            conf_err_at(x, s, NULL, "needs secret_file (the robot's signing secret)");
        if ((s = member(g, "secret_file")) && r->sign == SIGN_NONE)
            conf_err_at(x, s, NULL, "needs sign = \"dingtalk\" or \"feishu\"");
    }
    if (r->type == NOTIFY_WEBHOOK && !r->content_type)
        r->content_type = conf_xstrdup(x, "application/json");
    if (r->type == NOTIFY_WECOM && !r->api_url)
        r->api_url = conf_xstrdup(x, "https://qyapi.weixin.qq.com");
}

void config_parse_notify(struct conf_ctx *x, const conf_node *s, void *dst)
{
    struct config *c = dst;

    c->notify = conf_parse_list(x, s, notify_keys, sizeof(*c->notify), &c->n_notify, notify_init);
    for (size_t i = 0; i < c->n_notify; i++) {
        const conf_node *e = conf_elem(s, (unsigned)i);

        c->notify[i].line = (int)conf_line(e);
        if (conf_is_group(e))
            check_route(x, e, &c->notify[i]);
    }
    config_check_unique_names(x, s, c->notify, c->n_notify, sizeof(*c->notify),
                              offsetof(struct config_notify, name), "notify route");
}

/* ---- alerts ---- */

static const struct conf_key alerts_keys[] = {
    K("renotify", CONF_DUR, struct config_alert_policy, renotify_ms, .min = 0, .max = 7 * DAY_MS),
    K("escalate_after", CONF_DUR, struct config_alert_policy, escalate_after_ms, .min = 0,
      .max = 7 * DAY_MS),
    K("escalate_to", CONF_ID, struct config_alert_policy, escalate_to),
    K("silence_max", CONF_DUR, struct config_alert_policy, silence_max_ms, .min = MIN_MS,
      .max = 31 * DAY_MS),
    {0},
};

void config_parse_alerts(struct conf_ctx *x, const conf_node *s, void *dst)
{
    struct config_alert_policy *a = &((struct config *)dst)->alerts;
    const conf_node *after = member(s, "escalate_after"), *to = member(s, "escalate_to");
    const conf_node *re = member(s, "renotify");

    if (!conf_is_group(s)) {
        conf_err_at(x, s, NULL, "expected a group { ... }");
        return;
    }
    conf_parse_group(x, s, alerts_keys, a);
    if (re && a->renotify_ms > 0 && a->renotify_ms < MIN_MS)
        conf_err_at(x, re, NULL, "must be 0s (never) or at least 1m");
    if (after && !to)
        conf_err_at(x, after, NULL, "needs alerts.escalate_to");
    if (to && a->escalate_after_ms == 0)
        conf_err_at(x, to, NULL, "needs alerts.escalate_after (escalation is off without it)");
}

/* ---- checks against halls, between routes and policy ---- */

void config_check_notify(struct conf_ctx *x, const conf_node *root)
{
    const struct config *c = config_of(x);
    const conf_node *list = conf_member(root, "notify");
    const conf_node *halls = conf_member(root, "halls");
    const conf_node *alerts = conf_member(root, "alerts");
    const conf_node *to = member(alerts, "escalate_to");

    for (size_t i = 0; list && i < c->n_notify && (!halls || conf_is_list(halls)); i++) {
        const conf_node *s = member(conf_elem(list, (unsigned)i), "halls");

        for (int j = 0; s && j < conf_str_count(s); j++) {
            const char *h = conf_string(conf_str_elem(s, j));

            if (h && id_valid(h, strlen(h)) && !config_find_hall(c, h))
                conf_err_at(x, conf_str_elem(s, j), NULL, "no hall \"%s\" in halls", h);
        }
    }
    if (to && c->alerts.escalate_to && !config_find_notify(c, c->alerts.escalate_to))
        conf_err_at(x, to, NULL, "no notify route \"%s\"", c->alerts.escalate_to);
}

void config_free_notify(struct config *c)
{
    for (size_t i = 0; i < c->n_notify; i++) {
        struct config_notify *r = &c->notify[i];

        free(r->name);
        for (size_t j = 0; j < r->n_halls; j++)
            free(r->halls[j]);
        free(r->halls);
        crypto_free_secret(r->url); /* a webhook URL often carries an access key */
        free(r->template_text);
        free(r->content_type);
        free(r->smtp_url);
        free(r->from);
        for (size_t j = 0; j < r->n_to; j++)
            free(r->to[j]);
        free(r->to);
        free(r->username);
        crypto_free_secret(r->password);
        crypto_free_secret(r->secret);
        free(r->corp_id);
        free(r->to_users);
        free(r->api_url);
    }
    free(c->notify);
    free(c->alerts.escalate_to);
}

const struct config_notify *config_find_notify(const struct config *c, const char *name)
{
    for (size_t i = 0; c && name && i < c->n_notify; i++)
        if (c->notify[i].name && strcmp(c->notify[i].name, name) == 0)
            return &c->notify[i];
    return NULL;
}
