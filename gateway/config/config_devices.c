/* The config's site model: halls, their windows and the devices, the checks
 * across them (ids unique, references resolved, one device per source) and
 * the sorted indexes that the lookups use. Part of the config module. */
#include "config.h"
#include "config_internal.h"

#include <stdlib.h>
#include <string.h>

#include "id.h"

#define K CONF_KEY
#define TEN_YEARS_MS (INT64_C(3652) * 86400000)

const char *const config_kind_names[KIND_COUNT + 1] = {
    "seat", "people", "queue", "env", "equipment", "plug", "pc", "unknown", NULL};
/* A configured device may not be of kind "unknown". */
static const char *const device_kind_names[KIND_COUNT] = {"seat",      "people", "queue", "env",
                                                          "equipment", "plug",   "pc",    NULL};
static const char *const reserved_halls[] = {"_gateway", NULL};
static const char *const reserved_devices[] = {"alerts", "windows", "state", NULL};

static const struct conf_key window_keys[] = {
    K("id", CONF_ID, struct config_window, id, .required = true),
    K("name", CONF_STR, struct config_window, name),
    K("seat", CONF_ID, struct config_window, seat),
    K("pc", CONF_ID, struct config_window, pc),
    K("plug", CONF_ID, struct config_window, plug),
    K("queue", CONF_ID, struct config_window, queue),
    K("lunch_duty", CONF_BOOL, struct config_window, lunch_duty),
    {0},
};

static void parse_windows(struct conf_ctx *x, const conf_node *s, void *dst)
{
    struct config_hall *h = dst;

    h->windows = conf_parse_list(x, s, window_keys, sizeof(*h->windows), &h->n_windows, NULL);
}

static const struct conf_key hall_keys[] = {
    K("id", CONF_ID, struct config_hall, id, .required = true, .names = reserved_halls),
    K("name", CONF_STR, struct config_hall, name),
    {.name = "windows", .t = CONF_CUSTOM, .fn = parse_windows},
    {0},
};

/* Why a foreign source name is unusable, or NULL. */
static const char *source_name_problem(enum source_format f, const char *name)
{
    static const char level_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                      "0123456789_.:-";
    size_t len = strlen(name);
    const char *last = strrchr(name, '/');

    if (len == 0)
        return "has an empty name after the format";
    if (len > CONFIG_SOURCE_NAME_MAX)
        return "has a name longer than 192 bytes";
    if (f != FORMAT_ZIGBEE2MQTT && strspn(name, level_chars) != len)
        return "has a name that is not one topic level of A-Z a-z 0-9 _ . : -";
    if (f != FORMAT_ZIGBEE2MQTT)
        return NULL;
    for (const char *p = name; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == '+' || *p == '#')
            return "has '+', '#' or a control character in its name";
    if (name[0] == '/' || name[len - 1] == '/' || strstr(name, "//"))
        return "has an empty topic level in its name";
    if (strcmp(name, "bridge") == 0 || strncmp(name, "bridge/", 7) == 0)
        return "names Zigbee2MQTT's own bridge topics";
    last = last ? last + 1 : name;
    if (strcmp(last, "availability") == 0 || strcmp(last, "set") == 0 || strcmp(last, "get") == 0)
        return "has a name ending in /availability, /set or /get";
    return NULL;
}

const char *config_source_name_problem(enum source_format f, const char *name)
{
    return source_name_problem(f, name);
}

/* "shelly:<id>#<n>": one channel of a multi-channel Shelly. "#0" is the
 * device itself, stored as "<id>". */
static void parse_shelly_channel(struct conf_ctx *x, const conf_node *s, struct config_device *d,
                                 const char *v, const char *name)
{
    const char *hash = strchr(name, '#'), *n = hash + 1, *why;
    size_t digits = strspn(n, "0123456789");
    char *id;

    if (digits == 0 || digits > 3 || n[digits] != '\0' || (n[0] == '0' && digits > 1)) {
        conf_err_at(x, s, NULL, "\"%s\": expected a channel number 0..999 after '#'", v);
        return;
    }
    if (strlen(name) > CONFIG_SOURCE_NAME_MAX) {
        conf_err_at(x, s, NULL, "\"%s\" is longer than %d bytes", v, CONFIG_SOURCE_NAME_MAX);
        return;
    }
    id = conf_xstrdup(x, name);
    if (!id)
        return;
    id[hash - name] = '\0';
    if ((why = source_name_problem(FORMAT_SHELLY, id))) {
        conf_err_at(x, s, NULL, "\"%s\" %s", v, why);
        free(id);
        return;
    }
    d->format = FORMAT_SHELLY;
    if (strcmp(n, "0") == 0) {
        d->source_name = id;
        return;
    }
    free(id);
    d->source_name = conf_xstrdup(x, name);
}

static void parse_source(struct conf_ctx *x, const conf_node *s, void *dst)
{
    struct config_device *d = dst;
    const char *v = conf_str_value(x, s), *colon, *why;
    int f;

    if (!v)
        return;
    colon = strchr(v, ':');
    f = config_format_parse(v, colon ? (size_t)(colon - v) : strlen(v));
    if (f < 0) {
        conf_err_at(x, s, NULL, "\"%s\": unknown format (native, zigbee2mqtt, tasmota or shelly)",
                    v);
    } else if (f == FORMAT_NATIVE && colon) {
        conf_err_at(x, s, NULL, "\"%s\": a native device has no name, it uses its id", v);
    } else if (f != FORMAT_NATIVE && !colon) {
        conf_err_at(x, s, NULL, "\"%s\": expected \"%s:<name>\"", v, v);
    } else if (f == FORMAT_SHELLY && strchr(colon + 1, '#')) {
        parse_shelly_channel(x, s, d, v, colon + 1);
    } else if (f != FORMAT_NATIVE) {
        if ((why = source_name_problem((enum source_format)f, colon + 1))) {
            conf_err_at(x, s, NULL, "\"%s\" %s", v, why);
            return;
        }
        d->format = (enum source_format)f;
        d->source_name = conf_xstrdup(x, colon + 1);
    }
}

static const struct conf_key device_keys[] = {
    K("id", CONF_ID, struct config_device, id, .required = true, .names = reserved_devices),
    K("hall", CONF_ID, struct config_device, hall, .required = true),
    K("kind", CONF_ENUM, struct config_device, kind, .required = true, .names = device_kind_names),
    {.name = "source", .t = CONF_CUSTOM, .fn = parse_source},
    K("window", CONF_ID, struct config_device, window),
    K("type", CONF_STR, struct config_device, type),
    K("service_interval", CONF_DUR, struct config_device, service_interval_ms, .min = 1,
      .max = TEN_YEARS_MS),
    K("last_service", CONF_DATE, struct config_device, last_service_days),
    {0},
};

static void device_init(void *elem)
{
    struct config_device *d = elem;

    d->format = FORMAT_NATIVE;
    d->last_service_days = -1;
}

void config_parse_halls(struct conf_ctx *x, const conf_node *s, void *dst)
{
    struct config *c = dst;

    c->halls = conf_parse_list(x, s, hall_keys, sizeof(*c->halls), &c->n_halls, NULL);
}

void config_parse_devices(struct conf_ctx *x, const conf_node *s, void *dst)
{
    struct config *c = dst;

    c->devices =
        conf_parse_list(x, s, device_keys, sizeof(*c->devices), &c->n_devices, device_init);
    for (size_t i = 0; i < c->n_devices; i++)
        c->devices[i].line = (int)conf_line(conf_elem(s, (unsigned)i));
}

/* ---- indexes: arrays of pointers sorted by key, then by position ---- */

static int cmp_ptr(const void *a, const void *b)
{
    return (a > b) - (a < b);
}

static int cmp_device_id(const void *a, const void *b)
{
    const struct config_device *x = *(const struct config_device *const *)a;
    const struct config_device *y = *(const struct config_device *const *)b;
    int r = strcmp(x->id, y->id);

    return r ? r : cmp_ptr(x, y);
}

static int cmp_device_source(const void *a, const void *b)
{
    const struct config_device *x = *(const struct config_device *const *)a;
    const struct config_device *y = *(const struct config_device *const *)b;
    int r = (int)x->format - (int)y->format;

    if (!r)
        r = strcmp(x->source_name, y->source_name);
    return r ? r : cmp_ptr(x, y);
}

static int cmp_hall_id(const void *a, const void *b)
{
    const struct config_hall *x = *(const struct config_hall *const *)a;
    const struct config_hall *y = *(const struct config_hall *const *)b;
    int r = strcmp(x->id, y->id);

    return r ? r : cmp_ptr(x, y);
}

/* A window in the index of all windows, sorted by (hall, id, position). */
struct window_ref {
    const struct config_hall *h;
    const struct config_window *w;
};

static int cmp_window(const void *a, const void *b)
{
    const struct window_ref *x = a, *y = b;
    int r = x->h != y->h ? cmp_ptr(x->h, y->h) : strcmp(x->w->id, y->w->id);

    return r ? r : cmp_ptr(x->w, y->w);
}

/* bsearch keys: compare only the key, so any of equal entries matches. */
static int key_device_id(const void *key, const void *elem)
{
    return strcmp(key, (*(const struct config_device *const *)elem)->id);
}

struct source_key {
    enum source_format f;
    const char *name;
};

static int key_device_source(const void *key, const void *elem)
{
    const struct source_key *k = key;
    const struct config_device *d = *(const struct config_device *const *)elem;
    int r = (int)k->f - (int)d->format;

    return r ? r : strcmp(k->name, d->source_name);
}

static int key_hall_id(const void *key, const void *elem)
{
    return strcmp(key, (*(const struct config_hall *const *)elem)->id);
}

static int key_window(const void *key, const void *elem)
{
    const struct window_ref *k = key, *e = elem;

    return k->h != e->h ? cmp_ptr(k->h, e->h) : strcmp(k->w->id, e->w->id);
}

/* ---- checks across halls, windows and devices ---- */

static const conf_node *member(const conf_node *list, size_t i, const char *name)
{
    const conf_node *e = list ? conf_elem(list, (unsigned)i) : NULL;

    return e && conf_is_group(e) ? conf_member(e, name) : NULL;
}

static void err_duplicate(struct conf_ctx *x, const conf_node *first, const conf_node *s,
                          const char *what, const char *id)
{
    char where[300];

    if (!first || !s)
        return;
    conf_where(x, first, s, where, sizeof(where));
    conf_err_at(x, s, NULL, "duplicate %s id \"%s\" (first at %s)", what, id, where);
}

struct model_check {
    struct conf_ctx *x;
    struct config_priv *p;
    const conf_node *halls, *devices;
    struct window_ref *windows;
    size_t n_windows;
    const conf_node **win_src; /* per device: the setting that put it in a window */
};

static const conf_node *window_setting(const struct model_check *m, size_t hi, size_t wj,
                                       const char *name)
{
    const conf_node *ws = member(m->halls, hi, "windows");

    return member(ws, wj, name);
}

static bool build_indexes(struct model_check *m)
{
    struct config *c = &m->p->pub;
    struct config_priv *p = m->p;
    size_t nw = 0;

    p->halls_by_id = calloc(c->n_halls + 1, sizeof(*p->halls_by_id));
    p->by_id = calloc(c->n_devices + 1, sizeof(*p->by_id));
    p->by_source = calloc(c->n_devices + 1, sizeof(*p->by_source));
    for (size_t i = 0; i < c->n_halls; i++)
        nw += c->halls[i].n_windows;
    m->windows = calloc(nw + 1, sizeof(*m->windows));
    m->win_src = calloc(c->n_devices + 1, sizeof(*m->win_src));
    if (!p->halls_by_id || !p->by_id || !p->by_source || !m->windows || !m->win_src)
        return false;
    for (size_t i = 0; i < c->n_halls; i++) {
        const struct config_hall *h = &c->halls[i];

        if (h->id)
            p->halls_by_id[p->n_halls_by_id++] = h;
        for (size_t j = 0; h->id && j < h->n_windows; j++)
            if (h->windows[j].id)
                m->windows[m->n_windows++] = (struct window_ref){h, &h->windows[j]};
    }
    for (size_t i = 0; i < c->n_devices; i++) {
        const struct config_device *d = &c->devices[i];

        if (d->id)
            p->by_id[p->n_by_id++] = d;
        if (d->source_name)
            p->by_source[p->n_by_source++] = d;
    }
    qsort(p->halls_by_id, p->n_halls_by_id, sizeof(*p->halls_by_id), cmp_hall_id);
    qsort(p->by_id, p->n_by_id, sizeof(*p->by_id), cmp_device_id);
    qsort(p->by_source, p->n_by_source, sizeof(*p->by_source), cmp_device_source);
    qsort(m->windows, m->n_windows, sizeof(*m->windows), cmp_window);
    return true;
}

static void check_duplicates(struct model_check *m)
{
    struct config *c = &m->p->pub;
    struct config_priv *p = m->p;
    const struct config_hall *const *hv = p->halls_by_id;
    const struct config_device *const *dv = p->by_id, *const *sv = p->by_source;
    const struct window_ref *wv = m->windows;
    char where[300];
    size_t f = 0;

    for (size_t i = 1; i < p->n_halls_by_id; i++) {
        if (strcmp(hv[f]->id, hv[i]->id) != 0)
            f = i;
        else
            err_duplicate(m->x, member(m->halls, (size_t)(hv[f] - c->halls), "id"),
                          member(m->halls, (size_t)(hv[i] - c->halls), "id"), "hall", hv[i]->id);
    }
    f = 0;
    for (size_t i = 1; i < p->n_by_id; i++) {
        if (strcmp(dv[f]->id, dv[i]->id) != 0)
            f = i;
        else
            err_duplicate(m->x, member(m->devices, (size_t)(dv[f] - c->devices), "id"),
                          member(m->devices, (size_t)(dv[i] - c->devices), "id"), "device",
                          dv[i]->id);
    }
    f = 0;
    for (size_t i = 1; i < m->n_windows; i++) {
        size_t hi = (size_t)(wv[i].h - c->halls);

        if (key_window(&wv[f], &wv[i]) != 0)
            f = i;
        else
            err_duplicate(m->x, window_setting(m, hi, (size_t)(wv[f].w - wv[f].h->windows), "id"),
                          window_setting(m, hi, (size_t)(wv[i].w - wv[i].h->windows), "id"),
                          "window", wv[i].w->id);
    }
    f = 0;
    for (size_t i = 1; i < p->n_by_source; i++) {
        const conf_node *s1, *s2;

        if (sv[f]->format != sv[i]->format || strcmp(sv[f]->source_name, sv[i]->source_name) != 0) {
            f = i;
            continue;
        }
        s1 = member(m->devices, (size_t)(sv[f] - c->devices), "source");
        s2 = member(m->devices, (size_t)(sv[i] - c->devices), "source");
        if (!s1 || !s2)
            continue;
        conf_where(m->x, s1, s2, where, sizeof(where));
        conf_err_at(m->x, s2, NULL, "\"%s\" is already the source of device \"%s\" (%s)",
                    conf_string(s2), sv[f]->id, where);
    }
}

static const struct config_window *find_window(const struct model_check *m,
                                               const struct config_hall *h, const char *id)
{
    struct config_window w = {.id = (char *)id};
    struct window_ref key = {h, &w};
    const struct window_ref *r =
        m->n_windows ? bsearch(&key, m->windows, m->n_windows, sizeof(*m->windows), key_window)
                     : NULL;

    return r ? r->w : NULL;
}

/* A native device's id is the device level of its topics and the name of its
 * broker account, which the ACL lets publish under <name>/online and
 * <name>/status/... (lib/id.h): not the prefix, nor the first level of
 * another topic tree. */
static void check_native_id(struct model_check *m, const struct config_device *d, size_t i)
{
    const char *prefix = m->p->pub.mqtt.prefix;

    if (!d->id || d->format != FORMAT_NATIVE)
        return;
    if (id_is_topic_level(d->id) || (prefix && strcmp(d->id, prefix) == 0))
        conf_err_at(m->x, member(m->devices, i, "id"), NULL,
                    "\"%s\" is reserved: %s/ is another topic tree, and a native device's id "
                    "is also its broker account",
                    d->id, d->id);
}

/* Each device's hall exists; its own window key names a window of that hall. */
static void check_devices(struct model_check *m)
{
    struct config *c = &m->p->pub;

    for (size_t i = 0; i < c->n_devices; i++) {
        const struct config_device *d = &c->devices[i];
        const struct config_hall *h = d->hall ? config_find_hall(c, d->hall) : NULL;
        const conf_node *ws = member(m->devices, i, "window");

        check_native_id(m, d, i);
        if (d->hall && !h && (!m->halls || conf_is_list(m->halls))) {
            conf_err_at(m->x, member(m->devices, i, "hall"), NULL, "no hall \"%s\" in halls",
                        d->hall);
        } else if (h && d->window && ws) {
            if (find_window(m, h, d->window))
                m->win_src[i] = ws;
            else
                conf_err_at(m->x, ws, NULL, "no window \"%s\" in hall \"%s\"", d->window, h->id);
        }
    }
    if (m->devices && c->n_devices > c->limits.max_devices)
        conf_err_at(m->x, m->devices, NULL, "%zu devices, more than limits.max_devices (%zu)",
                    c->n_devices, c->limits.max_devices);
}

static const struct {
    const char *key;
    size_t off;
    unsigned kinds;
    const char *what;
} roles[] = {
    {"seat", offsetof(struct config_window, seat), 1u << KIND_SEAT | 1u << KIND_PEOPLE,
     "seat or people"},
    {"pc", offsetof(struct config_window, pc), 1u << KIND_PC, "pc"},
    {"plug", offsetof(struct config_window, plug), 1u << KIND_PLUG, "plug"},
    {"queue", offsetof(struct config_window, queue), 1u << KIND_QUEUE, "queue"},
};

/* A window's seat/pc/plug/queue names a device of the right kind in the same
 * hall, which then belongs to that window (and to no other). */
static void check_window_role(struct model_check *m, const struct config_hall *h,
                              const struct config_window *w, const conf_node *s, int r)
{
    struct config *c = &m->p->pub;
    const char *id = *(char *const *)((const char *)w + roles[r].off);
    struct config_device *d = (struct config_device *)config_find_device(c, id);
    size_t di;
    char where[300];

    if (!d) {
        conf_err_at(m->x, s, NULL, "no device \"%s\" in devices", id);
        return;
    }
    di = (size_t)(d - c->devices);
    if (d->hall && strcmp(d->hall, h->id) != 0) {
        conf_err_at(m->x, s, NULL, "device \"%s\" is in hall \"%s\", not \"%s\"", id, d->hall,
                    h->id);
    } else if (!(roles[r].kinds & (1u << d->kind))) {
        conf_err_at(m->x, s, NULL, "device \"%s\" is of kind \"%s\", expected %s", id,
                    config_kind_name(d->kind), roles[r].what);
    } else if (!m->win_src[di]) {
        free(d->window);
        d->window = conf_xstrdup(m->x, w->id);
        m->win_src[di] = s;
    } else if (d->window && strcmp(d->window, w->id) != 0) {
        conf_where(m->x, m->win_src[di], s, where, sizeof(where));
        conf_err_at(m->x, s, NULL, "device \"%s\" is already in window \"%s\" (%s)", id, d->window,
                    where);
    }
}

void config_check_model(struct conf_ctx *x, const conf_node *root)
{
    struct config_priv *p = (struct config_priv *)config_of(x);
    struct config *c = config_of(x);
    struct model_check m = {.x = x, .p = p};

    m.halls = conf_member(root, "halls");
    m.devices = conf_member(root, "devices");
    for (size_t i = 0; i < c->n_halls; i++) {
        if (!c->halls[i].name)
            c->halls[i].name = conf_xstrdup(x, c->halls[i].id);
        for (size_t j = 0; j < c->halls[i].n_windows; j++)
            if (!c->halls[i].windows[j].name)
                c->halls[i].windows[j].name = conf_xstrdup(x, c->halls[i].windows[j].id);
    }
    if (!build_indexes(&m)) {
        x->nomem = true;
        goto out;
    }
    check_duplicates(&m);
    check_devices(&m);
    for (size_t i = 0; i < c->n_halls; i++) {
        const struct config_hall *h = &c->halls[i];

        for (size_t j = 0; h->id && j < h->n_windows; j++) {
            for (int r = 0; h->windows[j].id && r < (int)(sizeof(roles) / sizeof(roles[0])); r++) {
                const conf_node *s = window_setting(&m, i, j, roles[r].key);

                /* A role whose value was refused (not a valid id) is NULL. */
                if (s && *(char *const *)((const char *)&h->windows[j] + roles[r].off))
                    check_window_role(&m, h, &h->windows[j], s, r);
            }
        }
    }
out:
    free(m.windows);
    free(m.win_src);
}

void config_free_model(struct config_priv *p)
{
    struct config *c = &p->pub;

    for (size_t i = 0; i < c->n_halls; i++) {
        for (size_t j = 0; j < c->halls[i].n_windows; j++) {
            struct config_window *w = &c->halls[i].windows[j];

            free(w->id);
            free(w->name);
            free(w->seat);
            free(w->pc);
            free(w->plug);
            free(w->queue);
        }
        free(c->halls[i].windows);
        free(c->halls[i].id);
        free(c->halls[i].name);
    }
    free(c->halls);
    for (size_t i = 0; i < c->n_devices; i++) {
        free(c->devices[i].id);
        free(c->devices[i].hall);
        free(c->devices[i].window);
        free(c->devices[i].source_name);
        free(c->devices[i].type);
    }
    free(c->devices);
    free(p->by_id);
    free(p->by_source);
    free(p->halls_by_id);
}

/* ---- lookups ---- */

const struct config_device *config_find_device(const struct config *c, const char *id)
{
    const struct config_priv *p = (const struct config_priv *)c;
    const struct config_device *const *d;

    if (!c || !id || !p->n_by_id)
        return NULL;
    d = bsearch(id, p->by_id, p->n_by_id, sizeof(*p->by_id), key_device_id);
    return d ? *d : NULL;
}

const struct config_device *config_find_source(const struct config *c, enum source_format f,
                                               const char *name)
{
    const struct config_priv *p = (const struct config_priv *)c;
    const struct config_device *const *d, *n;
    struct source_key key = {f, name};

    if (!c || !name)
        return NULL;
    if (f == FORMAT_NATIVE) {
        n = config_find_device(c, name);
        return n && n->format == FORMAT_NATIVE ? n : NULL;
    }
    if (!p->n_by_source)
        return NULL;
    d = bsearch(&key, p->by_source, p->n_by_source, sizeof(*p->by_source), key_device_source);
    return d ? *d : NULL;
}

int config_source_channel(const char *source_name, size_t *id_len)
{
    const char *hash = strchr(source_name, '#');

    *id_len = hash ? (size_t)(hash - source_name) : strlen(source_name);
    return hash ? atoi(hash + 1) : 0;
}

size_t config_find_channels(const struct config *c, const char *id,
                            const struct config_device **out, size_t max)
{
    const struct config_priv *p = (const struct config_priv *)c;
    size_t lo = 0, hi, n = 0, id_len;

    if (!c || !id)
        return 0;
    id_len = strlen(id);
    hi = p->n_by_source;
    /* The first entry at or after (shelly, "<id>#"): those with that prefix
     * follow it. */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct config_device *d = p->by_source[mid];
        int r = (int)d->format - (int)FORMAT_SHELLY;

        if (!r) {
            r = strncmp(d->source_name, id, id_len);
            if (!r)
                r = (unsigned char)d->source_name[id_len] < '#' ? -1 : 0;
        }
        if (r < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo; i < p->n_by_source; i++) {
        const struct config_device *d = p->by_source[i];

        if (d->format != FORMAT_SHELLY || strncmp(d->source_name, id, id_len) != 0 ||
            d->source_name[id_len] != '#')
            break;
        if (n < max)
            out[n] = d;
        n++;
    }
    return n;
}

bool config_source_bound(const struct config *c, enum source_format f, const char *name)
{
    return config_find_source(c, f, name) ||
           (f == FORMAT_SHELLY && config_find_channels(c, name, NULL, 0) > 0);
}

const struct config_hall *config_find_hall(const struct config *c, const char *id)
{
    const struct config_priv *p = (const struct config_priv *)c;
    const struct config_hall *const *h;

    if (!c || !id || !p->n_halls_by_id)
        return NULL;
    h = bsearch(id, p->halls_by_id, p->n_halls_by_id, sizeof(*p->halls_by_id), key_hall_id);
    return h ? *h : NULL;
}

static const char *const format_names[FORMAT_COUNT] = {"native", "zigbee2mqtt", "tasmota",
                                                       "shelly"};

const char *config_format_name(enum source_format f)
{
    return (unsigned)f < FORMAT_COUNT ? format_names[f] : "unknown";
}

int config_format_parse(const char *s, size_t len)
{
    if (!s)
        return -1;
    for (int i = 0; i < FORMAT_COUNT; i++) {
        if (strlen(format_names[i]) == len && memcmp(format_names[i], s, len) == 0)
            return i;
    }
    return -1;
}

const char *config_kind_name(enum device_kind k)
{
    return (unsigned)k < KIND_COUNT ? config_kind_names[k] : "unknown";
}

int config_kind_parse(const char *s)
{
    for (int i = 0; s && i < KIND_COUNT; i++)
        if (strcmp(config_kind_names[i], s) == 0)
            return i;
    return -1;
}

const char *config_kind_measurement(enum device_kind k)
{
    if (k == KIND_SEAT || k == KIND_PEOPLE)
        return "occupancy";
    return config_kind_name(k);
}
