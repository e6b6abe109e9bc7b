#include "subscriptions.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void subscriptions_free(char **subs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(subs[i]);
    free(subs);
}

static int subs_add(char ***subs, size_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int subs_add(char ***subs, size_t *n, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    char **nv = realloc(*subs, (*n + 1) * sizeof(char *));
    if (!nv)
        return -ENOMEM;
    *subs = nv;
    if (!(nv[*n] = strdup(buf)))
        return -ENOMEM;
    (*n)++;
    return 0;
}

int subscriptions_build(const struct config *c, char ***out, size_t *n_out)
{
    char **subs = NULL;
    size_t n = 0;
    int r = 0;
    const char *p = c->mqtt.prefix;
    r |= subs_add(&subs, &n, "%s/+/+/telemetry", p);
    r |= subs_add(&subs, &n, "%s/+/+/status", p);
    r |= subs_add(&subs, &n, "%s/+/+/event", p);
    r |= subs_add(&subs, &n, "%s/+/+/cmd/reply", p);
    r |= subs_add(&subs, &n, "%s/+/alerts/+/ack", p);
    for (size_t i = 0; i < c->n_devices && r == 0; i++) {
        const struct config_device *d = &c->devices[i];
        const char *name = d->source_name;
        switch (d->format) {
        case FORMAT_NATIVE:
            break;
        case FORMAT_ZIGBEE2MQTT:
            r |= subs_add(&subs, &n, "zigbee2mqtt/%s", name);
            r |= subs_add(&subs, &n, "zigbee2mqtt/%s/availability", name);
            break;
        case FORMAT_TASMOTA:
            r |= subs_add(&subs, &n, "tele/%s/+", name);
            r |= subs_add(&subs, &n, "stat/%s/+", name);
            break;
        case FORMAT_SHELLY:
            r |= subs_add(&subs, &n, "%s/events/rpc", name);
            r |= subs_add(&subs, &n, "%s/online", name);
            r |= subs_add(&subs, &n, "%s/status/+", name);
            break;
        }
    }
    if (r) {
        subscriptions_free(subs, n);
        return -ENOMEM;
    }
    *out = subs;
    *n_out = n;
    return 0;
}

bool subscriptions_equal(char **a, size_t na, char **b, size_t nb)
{
    if (na != nb)
        return false;
    for (size_t i = 0; i < na; i++) {
        if (strcmp(a[i], b[i]) != 0)
            return false;
    }
    return true;
}

