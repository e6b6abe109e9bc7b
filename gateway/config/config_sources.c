/* The config's "sources" block: where foreign devices publish. Zigbee2MQTT
 * base topics (its base_topic setting; several coordinators, several bases)
 * and Tasmota FullTopic patterns (Tasmota's own syntax, "%prefix%/%topic%/")
 * with the cmnd, stat and tele prefixes. Also the check that ties each
 * Zigbee2MQTT device to its base. Part of the config module. */
#include "config.h"
#include "config_internal.h"
#include "id.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

#define K CONF_KEY
#define PATTERN_LEVELS_MAX 8

static const char *const prefix_names[] = {"cmnd", "stat", "tele", NULL};

/* Why a topic (a base topic, a FullTopic without its tokens) is unusable, or
 * NULL: wildcards, control bytes, bad UTF-8, empty levels, too long. */
static const char *topic_problem(const char *v, size_t max)
{
    size_t len = strlen(v);

    if (len == 0 || len > max)
        return max == CONFIG_BASE_MAX ? "is empty or longer than 64 bytes"
                                      : "is empty or longer than 32 bytes";
    if (!utf8_valid(v, len))
        return "is not UTF-8";
    for (const char *p = v; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == '+' || *p == '#')
            return "has '+', '#' or a control character";
    if (v[0] == '/' || v[len - 1] == '/' || strstr(v, "//"))
        return "has an empty topic level";
    return NULL;
}

/* True when a is b or a topic under b (or the other way round). */
static bool topics_overlap(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), n = la < lb ? la : lb;

    return strncmp(a, b, n) == 0 && (la == lb || (la > lb ? a[n] : b[n]) == '/');
}

void config_z2m_base_subject(const char *base, char *buf, size_t size)
{
    size_t n = 0;
    for (; base[n] && n + 1 < size && n < ID_MAX; n++) {
        char c = base[n];
        buf[n] = id_valid(&c, 1) ? c : '_';
    }
    buf[n] = '\0';
}

/* True when bases a and b would name the same bridge-offline alert. */
static bool subjects_collide(const char *a, const char *b)
{
    char sa[ID_MAX + 1], sb[ID_MAX + 1];
    config_z2m_base_subject(a, sa, sizeof(sa));
    config_z2m_base_subject(b, sb, sizeof(sb));
    return strcmp(sa, sb) == 0;
}

static void parse_bases(struct conf_ctx *x, const conf_node *s, void *dst)
{
    struct config_sources *src = dst;
    size_t n, k = 0;
    const conf_node **v = conf_str_elems(x, s, &n);
    char **bases = n ? calloc(n, sizeof(*bases)) : NULL;

    if (n && !bases)
        x->nomem = true;
    for (size_t i = 0; bases && i < n; i++) {
        const char *b = conf_string(v[i]), *why = topic_problem(b, CONFIG_BASE_MAX);
        size_t j = 0, c = 0;

        while (j < k && !topics_overlap(bases[j], b))
            j++;
        while (c < k && !subjects_collide(bases[c], b))
            c++;
        if (why)
            conf_err_at(x, v[i], NULL, "base topic \"%s\" %s", b, why);
        else if (k >= CONFIG_BASES_MAX)
            conf_err_at(x, v[i], NULL, "at most %d base topics", CONFIG_BASES_MAX);
        else if (j < k)
            conf_err_at(x, v[i], NULL, "base topic \"%s\" overlaps \"%s\"", b, bases[j]);
        else if (c < k)
            conf_err_at(x, v[i], NULL,
                        "base topic \"%s\" and \"%s\" would name the same bridge-offline alert "
                        "(characters outside A-Z a-z 0-9 _ . - become _)",
                        b, bases[c]);
        else if ((bases[k] = conf_xstrdup(x, b)))
            k++;
    }
    src->z2m_bases = bases;
    src->n_z2m_bases = k;
    free(v);
}

/* A FullTopic: levels of text and the whole-level tokens %prefix% and
 * %topic%, each exactly once; the trailing '/' is optional, as in Tasmota.
 * Returns the pattern with its trailing '/' (malloc'd), or NULL after
 * recording why not. */
static char *full_topic(struct conf_ctx *x, const conf_node *s, const char *v)
{
    size_t len = strlen(v);
    char *p = conf_xprintf("%s%s", v, len && v[len - 1] == '/' ? "" : "/");
    char *copy = p ? strdup(p) : NULL, *save = NULL;
    int prefix = 0, topic = 0, levels = 0;
    const char *why = NULL;

    if (!p || !copy) {
        x->nomem = true;
        goto out_fail;
    }
    copy[strlen(copy) - 1] = '\0';
    if ((why = topic_problem(copy, CONFIG_BASE_MAX))) {
        conf_err_at(x, s, NULL, "FullTopic \"%s\" %s", v, why);
        goto out_fail;
    }
    for (char *lv = strtok_r(copy, "/", &save); lv; lv = strtok_r(NULL, "/", &save)) {
        const char *pct = strchr(lv, '%');
        levels++;
        if (!pct)
            continue;
        if (strcmp(lv, "%prefix%") == 0) {
            prefix++;
        } else if (strcmp(lv, "%topic%") == 0) {
            topic++;
        } else {
            const char *end = strchr(pct + 1, '%');
            int n = end ? (int)(end - pct + 1) : (int)strlen(pct);
            bool known = (n == 8 && strncmp(pct, "%prefix%", 8) == 0) ||
                         (n == 7 && strncmp(pct, "%topic%", 7) == 0);
            if (known)
                conf_err_at(x, s, NULL, "FullTopic \"%s\": %.*s must be a whole topic level", v, n,
                            pct);
            else
                conf_err_at(x, s, NULL,
                            "FullTopic \"%s\": unknown token %.*s (only %%prefix%% and %%topic%%)",
                            v, n, pct);
            goto out_fail;
        }
    }
    if (prefix != 1 || topic != 1) {
        conf_err_at(x, s, NULL, "FullTopic \"%s\" needs %%prefix%% and %%topic%%, each once", v);
        goto out_fail;
    }
    if (levels > PATTERN_LEVELS_MAX) {
        conf_err_at(x, s, NULL, "FullTopic \"%s\" has more than %d levels", v, PATTERN_LEVELS_MAX);
        goto out_fail;
    }
    free(copy);
    return p;
out_fail:
    free(copy);
    free(p);
    return NULL;
}

static void parse_full_topics(struct conf_ctx *x, const conf_node *s, void *dst)
{
    struct config_sources *src = dst;
    size_t n, k = 0;
    const conf_node **v = conf_str_elems(x, s, &n);
    char **pats = n ? calloc(n, sizeof(*pats)) : NULL;

    if (n && !pats)
        x->nomem = true;
    for (size_t i = 0; pats && i < n; i++) {
        char *p = full_topic(x, v[i], conf_string(v[i]));
        bool dup = false;

        for (size_t j = 0; p && j < k && !dup; j++)
            dup = strcmp(pats[j], p) == 0;
        if (dup)
            conf_err_at(x, v[i], NULL, "\"%s\" is already in the list", conf_string(v[i]));
        if (p && (dup || k >= CONFIG_BASES_MAX)) {
            if (!dup)
                conf_err_at(x, v[i], NULL, "at most %d FullTopic patterns", CONFIG_BASES_MAX);
            free(p);
        } else if (p) {
            pats[k++] = p;
        }
    }
    src->tasmota_full_topics = pats;
    src->n_tasmota_full_topics = k;
    free(v);
}

static bool check_prefix_level(struct conf_ctx *x, const conf_node *s, const char *v)
{
    const char *why = topic_problem(v, CONFIG_TASMOTA_PREFIX_MAX);

    if (!why && strchr(v, '/'))
        why = "is more than one topic level";
    if (why)
        conf_err_at(x, s, NULL, "prefix \"%s\" %s", v, why);
    return !why;
}

static const struct conf_key prefix_keys[] = {
    K("cmnd", CONF_STR, struct config_sources, tasmota_prefixes[TASMOTA_CMND],
      .check = check_prefix_level),
    K("stat", CONF_STR, struct config_sources, tasmota_prefixes[TASMOTA_STAT],
      .check = check_prefix_level),
    K("tele", CONF_STR, struct config_sources, tasmota_prefixes[TASMOTA_TELE],
      .check = check_prefix_level),
    {0},
};

static const struct conf_key z2m_keys[] = {
    {.name = "base_topics", .t = CONF_CUSTOM, .fn = parse_bases},
    {0},
};

static const struct conf_key tasmota_keys[] = {
    {.name = "full_topics", .t = CONF_CUSTOM, .fn = parse_full_topics},
    {.name = "prefixes", .t = CONF_GROUP, .sub = prefix_keys},
    {0},
};

static const struct conf_key sources_keys[] = {
    {.name = "zigbee2mqtt", .t = CONF_GROUP, .sub = z2m_keys},
    {.name = "tasmota", .t = CONF_GROUP, .sub = tasmota_keys},
    {0},
};

void config_parse_sources(struct conf_ctx *x, const conf_node *s, void *dst)
{
    if (!conf_is_group(s)) {
        conf_err_at(x, s, NULL, "expected a group { ... }");
        return;
    }
    conf_parse_group(x, s, sources_keys, &((struct config *)dst)->sources);
}

static char **one(struct conf_ctx *x, const char *v, size_t *n)
{
    char **list = calloc(1, sizeof(*list));

    if (!list || !(list[0] = conf_xstrdup(x, v))) {
        free(list);
        x->nomem = true;
        return NULL;
    }
    *n = 1;
    return list;
}

static const conf_node *member(const conf_node *g, const char *name)
{
    return g && conf_is_group(g) ? conf_member(g, name) : NULL;
}

/* The base of a Zigbee2MQTT source name with several bases, or NULL. */
static const char *base_of(const struct config_sources *src, const char *name)
{
    for (size_t i = 0; i < src->n_z2m_bases; i++) {
        size_t n = strlen(src->z2m_bases[i]);
        if (strncmp(name, src->z2m_bases[i], n) == 0 && name[n] == '/')
            return src->z2m_bases[i];
    }
    return NULL;
}

static void check_devices(struct conf_ctx *x, const conf_node *root)
{
    struct config *c = config_of(x);
    const struct config_sources *src = &c->sources;
    const conf_node *list = conf_member(root, "devices");

    for (size_t i = 0; src->n_z2m_bases > 0 && i < c->n_devices; i++) {
        struct config_device *d = &c->devices[i];
        const conf_node *e = list ? conf_elem(list, (int)i) : NULL;
        const conf_node *s = e && conf_is_group(e) ? conf_member(e, "source") : NULL;
        const char *b, *f;

        if (d->format != FORMAT_ZIGBEE2MQTT || !d->source_name)
            continue;
        if (src->n_z2m_bases == 1) {
            d->source_base = src->z2m_bases[0];
            d->source_friendly = d->source_name;
            continue;
        }
        if (!(b = base_of(src, d->source_name))) {
            char bases[CONFIG_BASES_MAX * (CONFIG_BASE_MAX + 2)] = "";
            for (size_t j = 0; j < src->n_z2m_bases; j++)
                (void)snprintf(bases + strlen(bases), sizeof(bases) - strlen(bases), "%s%s",
                               j ? ", " : "", src->z2m_bases[j]);
            conf_err_at(x, s ? s : e, s ? NULL : "source",
                        "\"zigbee2mqtt:%s\" does not name its base topic: with several bases "
                        "write \"zigbee2mqtt:<base>/<friendly name>\" (bases: %s)",
                        d->source_name, bases);
            continue;
        }
        f = d->source_name + strlen(b) + 1;
        if (strcmp(f, "bridge") == 0 || strncmp(f, "bridge/", 7) == 0) {
            conf_err_at(x, s ? s : e, s ? NULL : "source",
                        "\"zigbee2mqtt:%s\" names Zigbee2MQTT's own bridge topics", d->source_name);
            continue;
        }
        d->source_base = b;
        d->source_friendly = f;
    }
}

void config_check_sources(struct conf_ctx *x, const conf_node *root)
{
    struct config_sources *src = &config_of(x)->sources;
    const char *prefix = config_of(x)->mqtt.prefix;
    const conf_node *g = conf_member(root, "sources");

    if (!src->z2m_bases && !member(member(g, "zigbee2mqtt"), "base_topics"))
        src->z2m_bases = one(x, "zigbee2mqtt", &src->n_z2m_bases);
    if (!src->tasmota_full_topics && !member(member(g, "tasmota"), "full_topics"))
        src->tasmota_full_topics = one(x, "%prefix%/%topic%/", &src->n_tasmota_full_topics);
    for (int i = 0; prefix_names[i]; i++)
        if (!src->tasmota_prefixes[i])
            src->tasmota_prefixes[i] = conf_xstrdup(x, prefix_names[i]);
    for (int i = 0; i < 3; i++)
        for (int j = i + 1; j < 3; j++)
            if (src->tasmota_prefixes[i] && src->tasmota_prefixes[j] &&
                strcmp(src->tasmota_prefixes[i], src->tasmota_prefixes[j]) == 0)
                conf_err_at(x, g, "tasmota.prefixes", "%s and %s are both \"%s\"", prefix_names[i],
                            prefix_names[j], src->tasmota_prefixes[j]);
    for (size_t i = 0; prefix && i < src->n_z2m_bases; i++)
        if (topics_overlap(src->z2m_bases[i], prefix))
            conf_err_at(x, g ? g : root, g ? "zigbee2mqtt.base_topics" : "sources",
                        "base topic \"%s\" overlaps the native prefix \"%s\"", src->z2m_bases[i],
                        prefix);
    /* A Tasmota topic whose first level is the native prefix would be read
     * as a native one (and refused). */
    for (size_t k = 0; prefix && k < src->n_tasmota_full_topics; k++) {
        for (int i = 0; i < 3; i++) {
            char t[512];
            if (!src->tasmota_prefixes[i] ||
                config_tasmota_topic(src->tasmota_full_topics[k], src->tasmota_prefixes[i], "x", t,
                                     sizeof(t)) < 0)
                continue;
            if (topics_overlap(t, prefix)) {
                conf_err_at(x, g ? g : root, g ? "tasmota" : "sources",
                            "FullTopic \"%s\" with prefix \"%s\" starts with the native prefix "
                            "\"%s\"",
                            src->tasmota_full_topics[k], src->tasmota_prefixes[i], prefix);
                break;
            }
        }
    }
    check_devices(x, root);
}

void config_free_sources(struct config *c)
{
    struct config_sources *src = &c->sources;

    for (size_t i = 0; i < src->n_z2m_bases; i++)
        free(src->z2m_bases[i]);
    free(src->z2m_bases);
    for (size_t i = 0; i < src->n_tasmota_full_topics; i++)
        free(src->tasmota_full_topics[i]);
    free(src->tasmota_full_topics);
    for (int i = 0; i < 3; i++)
        free(src->tasmota_prefixes[i]);
    memset(src, 0, sizeof(*src));
}

int config_tasmota_topic(const char *pattern, const char *prefix, const char *t, char *buf,
                         size_t n)
{
    size_t len = 0;

    for (const char *p = pattern; *p;) {
        const char *word = NULL;
        size_t skip = 1, wl = 1;
        if (strncmp(p, "%prefix%", 8) == 0) {
            word = prefix;
            skip = 8;
        } else if (strncmp(p, "%topic%", 7) == 0) {
            word = t;
            skip = 7;
        }
        wl = word ? strlen(word) : 1;
        if (len + wl >= n)
            return -ENAMETOOLONG;
        memcpy(buf + len, word ? word : p, wl);
        len += wl;
        p += skip;
    }
    if (n == 0)
        return -ENAMETOOLONG;
    buf[len] = '\0';
    return (int)len;
}
