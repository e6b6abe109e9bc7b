#include "channels.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const channel_bases[] = {
    "on",
    "overpower",
    "power_w",
    "energy_kwh",
    "voltage",
    "current",
    "power_factor",
    "reactive_power_var",
    "returned_energy_kwh",
    "total_kwh",
    "total_returned_kwh",
    NULL,
};

static bool is_base(const char *s, size_t len)
{
    for (const char *const *b = channel_bases; *b; b++) {
        if (strlen(*b) == len && memcmp(*b, s, len) == 0)
            return true;
    }
    return false;
}

/* 1..999 without a leading zero, s[0..len) all digits; else -1. */
static int channel_number(const char *s, size_t len)
{
    if (len == 0 || len > 3 || s[0] == '0' || strspn(s, "0123456789") < len)
        return -1;
    return atoi(s);
}

static void set_plain(char *plain, size_t cap, const char *s, size_t len)
{
    if (plain && cap > 0)
        (void)snprintf(plain, cap, "%.*s", (int)len, s);
}

int channels_of_key(const char *key, char *plain, size_t cap)
{
    size_t len = strlen(key);
    if (strncmp(key, "switch:", 7) == 0) {
        size_t digits = strspn(key + 7, "0123456789");
        set_plain(plain, cap, key, len);
        if (digits == 0 || key[7 + digits] != '_')
            return -1;
        if (digits == 1 && key[7] == '0')
            return 0;
        return channel_number(key + 7, digits);
    }
    if (is_base(key, len)) {
        set_plain(plain, cap, key, len);
        return 0;
    }
    const char *us = strrchr(key, '_');
    int n = us ? channel_number(us + 1, len - (size_t)(us + 1 - key)) : -1;
    if (n > 0 && is_base(key, (size_t)(us - key))) {
        set_plain(plain, cap, key, (size_t)(us - key));
        return n;
    }
    set_plain(plain, cap, key, len);
    return -1;
}

static bool in_list(int ch, const int *bound, size_t n_bound)
{
    for (size_t i = 0; i < n_bound; i++) {
        if (bound[i] == ch)
            return true;
    }
    return false;
}

static void copy_metric(struct reading *out, const char *key, const struct metric *m)
{
    switch (m->type) {
    case METRIC_NUMBER:
        reading_add_number(out, key, m->v.num);
        break;
    case METRIC_BOOL:
        reading_add_bool(out, key, m->v.b);
        break;
    case METRIC_STRING:
        reading_add_string(out, key, m->v.str, strlen(m->v.str));
        break;
    }
}

unsigned channels_select(const struct reading *all, int ch, const int *bound, size_t n_bound,
                         struct reading *out)
{
    reading_reset(out, all->cls);
    out->status = all->status;
    out->ts = all->ts;
    for (unsigned i = 0; i < all->n_metrics; i++) {
        const struct metric *m = &all->metrics[i];
        char plain[READING_KEY_MAX + 1];
        int of = channels_of_key(m->key, plain, sizeof(plain));
        if (ch > 0 && of == ch)
            copy_metric(out, plain, m);
        else if (ch == 0 && (of <= 0 || !in_list(of, bound, n_bound)))
            copy_metric(out, m->key, m);
    }
    return out->n_metrics;
}
