#include "hallmodel.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INTERN_MAX 4096 /* distinct metric keys kept as last values */

struct hallmodel {
    struct hm_device **slots; /* open addressing, linear probing */
    size_t n_slots, count, max_devices;
    enum unknown_policy policy;
    const struct config *cfg; /* for foreign bindings; replaced on reload */
    char **interned;          /* sorted, for bsearch */
    size_t n_interned;
    struct bridges bridges; /* Zigbee2MQTT coordinators */
};

static uint64_t hash_key(const char *hall, const char *id)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (const char *p = hall; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    h = (h ^ '/') * 1099511628211ULL;
    for (const char *p = id; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    return h;
}

static struct hm_device **find_slot(struct hallmodel *hm, const char *hall, const char *id)
{
    size_t mask = hm->n_slots - 1;
    for (size_t i = hash_key(hall, id) & mask;; i = (i + 1) & mask) {
        struct hm_device *d = hm->slots[i];
        if (!d || (strcmp(d->id, id) == 0 && strcmp(d->hall, hall) == 0))
            return &hm->slots[i];
    }
}

static struct hm_device *add_device(struct hallmodel *hm, const char *hall, const char *id)
{
    struct hm_device **slot = find_slot(hm, hall, id);
    if (*slot)
        return *slot;
    struct hm_device *d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    snprintf(d->id, sizeof(d->id), "%s", id);
    snprintf(d->hall, sizeof(d->hall), "%s", hall);
    d->kind = KIND_UNKNOWN;
    *slot = d;
    hm->count++;
    return d;
}

int hallmodel_new(const struct config *cfg, struct hallmodel **out)
{
    struct hallmodel *hm = calloc(1, sizeof(*hm));
    if (!hm)
        return -ENOMEM;
    int r = hallmodel_apply_config(hm, cfg);
    if (r < 0) {
        hallmodel_free(hm);
        return r;
    }
    *out = hm;
    return 0;
}

static int grow_table(struct hallmodel *hm, size_t want_devices)
{
    size_t need = 16;
    while (need < want_devices * 2)
        need *= 2;
    if (need <= hm->n_slots)
        return 0;
    struct hm_device **old = hm->slots;
    size_t old_n = hm->n_slots;
    hm->slots = calloc(need, sizeof(*hm->slots));
    if (!hm->slots) {
        hm->slots = old;
        return -ENOMEM;
    }
    hm->n_slots = need;
    for (size_t i = 0; i < old_n; i++) {
        if (old[i])
            *find_slot(hm, old[i]->hall, old[i]->id) = old[i];
    }
    free(old);
    return 0;
}

void hallmodel_forget_tags(struct hm_device *d)
{
    free(d->lp_tags);
    d->lp_tags = NULL;
    d->lp_tags_len = 0;
}

static void demote(struct hm_device *d, void *arg)
{
    (void)arg;
    d->registered = false;
    d->kind = KIND_UNKNOWN;
    d->window[0] = '\0';
    hallmodel_forget_tags(d);
}

int hallmodel_apply_config(struct hallmodel *hm, const struct config *cfg)
{
    size_t max = cfg->limits.max_devices;
    if (max < cfg->n_devices)
        max = cfg->n_devices;
    int r = grow_table(hm, max + 1);
    if (r < 0)
        return r;
    hm->max_devices = max;
    hm->policy = cfg->unknown_devices;
    hm->cfg = cfg;
    if (hm->count)
        hallmodel_foreach(hm, demote, NULL);
    for (size_t i = 0; i < cfg->n_devices; i++) {
        const struct config_device *cd = &cfg->devices[i];
        struct hm_device *d = add_device(hm, cd->hall, cd->id);
        if (!d)
            return -ENOMEM;
        d->registered = true;
        d->kind = cd->kind;
        d->format = cd->format;
        snprintf(d->window, sizeof(d->window), "%s", cd->window ? cd->window : "");
        hallmodel_forget_tags(d);
    }
    return 0;
}

static void free_device(struct hm_device *d)
{
    for (unsigned i = 0; i < d->n_values; i++)
        free(d->values[i].str);
    free(d->values);
    free(d->lp_tags);
    free(d);
}

void hallmodel_free(struct hallmodel *hm)
{
    if (!hm)
        return;
    for (size_t i = 0; i < hm->n_slots; i++) {
        if (hm->slots[i])
            free_device(hm->slots[i]);
    }
    free(hm->slots);
    for (size_t i = 0; i < hm->n_interned; i++)
        free(hm->interned[i]);
    free(hm->interned);
    free(hm);
}

struct hm_device *hallmodel_resolve(struct hallmodel *hm, const struct route *r,
                                    enum hm_resolve *why)
{
    struct hm_device *found = hallmodel_lookup(hm, r);
    if (found || r->format != FORMAT_NATIVE) {
        /* A foreign device is known only through its binding in the config. */
        *why = found ? HM_FOUND : HM_UNBOUND;
        return found;
    }
    if (hm->policy == UNKNOWN_IGNORE) {
        *why = HM_UNKNOWN_IGNORED;
        return NULL;
    }
    if (hm->count >= hm->max_devices) {
        *why = HM_FULL;
        return NULL;
    }
    struct hm_device *d = add_device(hm, r->hall, r->device);
    if (!d) {
        *why = HM_FULL;
        return NULL;
    }
    d->format = FORMAT_NATIVE;
    *why = HM_FOUND;
    return d;
}

/* The interned copy of key, adding it while there is room; NULL when full. */
static const char *intern(struct hallmodel *hm, const char *key)
{
    size_t lo = 0, hi = hm->n_interned; /* lower bound of key */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(hm->interned[mid], key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < hm->n_interned && strcmp(hm->interned[lo], key) == 0)
        return hm->interned[lo];
    if (hm->n_interned >= INTERN_MAX)
        return NULL;
    if (hm->n_interned % 64 == 0) {
        char **nv = realloc(hm->interned, (hm->n_interned + 64) * sizeof(char *));
        if (!nv)
            return NULL;
        hm->interned = nv;
    }
    char *copy = strdup(key);
    if (!copy)
        return NULL;
    memmove(&hm->interned[lo + 1], &hm->interned[lo], (hm->n_interned - lo) * sizeof(char *));
    hm->interned[lo] = copy;
    hm->n_interned++;
    return copy;
}

/* The value of key in d, added when new; NULL when d has HM_MAX_VALUES or
 * out of memory. */
static struct hm_value *value_slot_find(struct hallmodel *hm, struct hm_device *d, const char *key)
{
    for (unsigned i = 0; i < d->n_values; i++) {
        if (strcmp(d->values[i].key, key) == 0)
            return &d->values[i];
    }
    if (d->n_values >= HM_MAX_VALUES)
        return NULL;
    const char *ik = intern(hm, key);
    if (!ik)
        return NULL;
    if (d->n_values == d->cap_values) {
        unsigned cap = d->cap_values ? d->cap_values * 2 : 8;
        if (cap > HM_MAX_VALUES)
            cap = HM_MAX_VALUES;
        struct hm_value *nv = realloc(d->values, cap * sizeof(*nv));
        if (!nv)
            return NULL;
        d->values = nv;
        d->cap_values = cap;
    }
    struct hm_value *v = &d->values[d->n_values++];
    memset(v, 0, sizeof(*v));
    v->key = ik;
    return v;
}

/* The value of key, tried first at *hint (a device reports its keys in the
 * same order each time, so the next key usually sits right after the last
 * one); *hint moves past the slot found. */
static struct hm_value *value_slot(struct hallmodel *hm, struct hm_device *d, const char *key,
                                   unsigned *hint)
{
    if (*hint < d->n_values && strcmp(d->values[*hint].key, key) == 0)
        return &d->values[(*hint)++];
    struct hm_value *v = value_slot_find(hm, d, key);
    if (v)
        *hint = (unsigned)(v - d->values) + 1;
    return v;
}

void hallmodel_update(struct hallmodel *hm, struct hm_device *d, const struct reading *rd,
                      mono_ms now, wall_s wall)
{
    d->last_seen = now;
    d->last_wall = wall;
    d->messages++;
    if (rd->cls == MSG_STATUS) {
        d->avail = rd->status;
        return;
    }
    /* Hearing from a device is proof it is up, whatever its LWT said. */
    d->avail = AVAIL_ONLINE;
    if (rd->cls != MSG_TELEMETRY)
        return;
    unsigned hint = 0;
    for (unsigned i = 0; i < rd->n_metrics; i++) {
        const struct metric *m = &rd->metrics[i];
        struct hm_value *v = value_slot(hm, d, m->key, &hint);
        if (!v)
            continue;
        free(v->str);
        v->str = NULL;
        v->type = m->type;
        v->retained = rd->retained;
        if (m->type == METRIC_NUMBER)
            v->num = m->v.num;
        else if (m->type == METRIC_BOOL)
            v->b = m->v.b;
        else
            v->str = strdup(m->v.str);
    }
}

struct hm_device *hallmodel_lookup(struct hallmodel *hm, const struct route *r)
{
    if (r->format != FORMAT_NATIVE) {
        const struct config_device *cd = config_find_source(hm->cfg, r->format, r->name);
        return cd ? *find_slot(hm, cd->hall, cd->id) : NULL;
    }
    return *find_slot(hm, r->hall, r->device);
}

const struct hm_value *hallmodel_value(const struct hm_device *d, const char *key)
{
    for (unsigned i = 0; i < d->n_values; i++) {
        if (strcmp(d->values[i].key, key) == 0)
            return &d->values[i];
    }
    return NULL;
}

size_t hallmodel_count(const struct hallmodel *hm)
{
    return hm->count;
}

struct bridges *hallmodel_bridges(struct hallmodel *hm)
{
    return &hm->bridges;
}

void hallmodel_foreach(struct hallmodel *hm, void (*fn)(struct hm_device *d, void *arg), void *arg)
{
    for (size_t i = 0; i < hm->n_slots; i++) {
        if (hm->slots[i])
            fn(hm->slots[i], arg);
    }
}
