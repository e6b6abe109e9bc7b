#include "reading.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include "utf8.h"

void reading_reset(struct reading *r, enum msg_class cls)
{
    r->cls = cls;
    r->status = AVAIL_UNKNOWN;
    r->ts = 0;
    r->event[0] = '\0';
    r->n_metrics = 0;
    r->dropped_keys = 0;
    r->text_used = 0;
}

/* The bytes of a metric key: letters, digits, '_', '.', ':' and '-'. */
#define KEY_DIGITS                                                                                 \
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,        \
    ['8'] = 1, ['9'] = 1
#define KEY_LOWER                                                                                  \
    ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1,        \
    ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1,        \
    ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,        \
    ['y'] = 1, ['z'] = 1
#define KEY_UPPER                                                                                  \
    ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1,        \
    ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1,        \
    ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,        \
    ['Y'] = 1, ['Z'] = 1
static const unsigned char key_chars[256] = {
    KEY_DIGITS, KEY_LOWER, KEY_UPPER, ['_'] = 1, ['.'] = 1, [':'] = 1, ['-'] = 1,
};

bool reading_key_valid(const char *key, size_t len)
{
    if (!key || len == 0 || len > READING_KEY_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (!key_chars[(unsigned char)key[i]])
            return false;
    }
    /* Names InfluxDB keeps for itself: a point with one of them is refused
     * whole, so the key is dropped instead. */
    static const char *const reserved[] = {"time", "_field", "_measurement"};
    if (key[0] != 't' && key[0] != '_')
        return true; /* none of them starts otherwise */
    for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
        if (strlen(reserved[i]) == len && memcmp(key, reserved[i], len) == 0)
            return false;
    }
    return true;
}

bool reading_string_valid(const char *s, size_t len)
{
    if (len > READING_STRING_MAX || (!s && len))
        return false;
    return utf8_clean(s, len);
}

/* Copies len bytes and a NUL into the text buffer; NULL when it is full. */
static char *text_store(struct reading *r, const char *s, size_t len)
{
    if (len + 1 > sizeof(r->text) - r->text_used)
        return NULL;
    char *p = r->text + r->text_used;
    memcpy(p, s, len);
    p[len] = '\0';
    r->text_used += len + 1;
    return p;
}

static struct metric *find_mut(struct reading *r, const char *key)
{
    for (unsigned i = 0; i < r->n_metrics; i++) {
        if (strcmp(r->metrics[i].key, key) == 0)
            return &r->metrics[i];
    }
    return NULL;
}

/* Adds or replaces key with the value in val; for strings the value is s/len
 * (already checked). Space is checked before anything changes, so a refused
 * value leaves r as it was apart from dropped_keys. */
static int add_metric(struct reading *r, const char *key, const struct metric *val, const char *s,
                      size_t len)
{
    size_t klen = key ? strnlen(key, READING_KEY_MAX + 1) : 0;
    if (!key || !reading_key_valid(key, klen)) {
        r->dropped_keys++;
        return -EINVAL;
    }
    struct metric *m = find_mut(r, key);
    bool is_str = val->type == METRIC_STRING;
    /* Replacing a string with one no longer than it reuses its bytes. */
    bool in_place = m && is_str && m->type == METRIC_STRING && strlen(m->v.str) >= len;
    size_t need = (m ? 0 : klen + 1) + (is_str && !in_place ? len + 1 : 0);
    if ((!m && r->n_metrics >= READING_MAX_METRICS) || need > sizeof(r->text) - r->text_used) {
        r->dropped_keys++;
        return -ENOSPC;
    }
    if (!m) {
        m = &r->metrics[r->n_metrics++];
        m->key = text_store(r, key, klen);
    }
    m->type = val->type;
    if (!is_str) {
        m->v = val->v;
    } else if (in_place) {
        char *p = r->text + (m->v.str - r->text);
        memcpy(p, s, len);
        p[len] = '\0';
    } else {
        m->v.str = text_store(r, len ? s : "", len);
    }
    return 0;
}

int reading_add_number(struct reading *r, const char *key, double v)
{
    if (!isfinite(v)) {
        r->dropped_keys++;
        return -EINVAL;
    }
    struct metric val = {.type = METRIC_NUMBER, .v.num = v};
    return add_metric(r, key, &val, NULL, 0);
}

int reading_add_bool(struct reading *r, const char *key, bool v)
{
    struct metric val = {.type = METRIC_BOOL, .v.b = v};
    return add_metric(r, key, &val, NULL, 0);
}

int reading_add_string(struct reading *r, const char *key, const char *s, size_t len)
{
    if (!reading_string_valid(s, len)) {
        r->dropped_keys++;
        return -EINVAL;
    }
    struct metric val = {.type = METRIC_STRING};
    return add_metric(r, key, &val, s, len);
}

int reading_set_ts(struct reading *r, double ts)
{
    if (!isfinite(ts) || ts < READING_TS_MIN || ts >= READING_TS_MAX) {
        r->dropped_keys++;
        return -EINVAL;
    }
    r->ts = ts;
    return 0;
}

const struct metric *reading_find(const struct reading *r, const char *key)
{
    for (unsigned i = 0; i < r->n_metrics; i++) {
        if (strcmp(r->metrics[i].key, key) == 0)
            return &r->metrics[i];
    }
    return NULL;
}
