/* What a reload changes (config.h): the settings behind each long-lived
 * connection, compared between the running config and the new one. Part of
 * the config module. */
#include <string.h>

#include "config.h"

static bool str_differ(const char *a, const char *b)
{
    return (a == NULL) != (b == NULL) || (a && strcmp(a, b) != 0);
}

#define DIFF(x) str_differ(a->x, b->x)

bool config_mqtt_changed(const struct config *a, const struct config *b)
{
    return DIFF(mqtt.uri) || DIFF(mqtt.client_id) || DIFF(mqtt.username) || DIFF(mqtt.password) ||
           DIFF(mqtt.prefix) || DIFF(mqtt.tls.ca_file) || DIFF(mqtt.tls.cert_file) ||
           DIFF(mqtt.tls.key_file) || DIFF(gateway.id) || a->mqtt.qos != b->mqtt.qos ||
           a->mqtt.keepalive_s != b->mqtt.keepalive_s || a->mqtt.tls.verify != b->mqtt.tls.verify;
}

bool config_influx_changed(const struct config *a, const struct config *b)
{
    return DIFF(influx.url) || DIFF(influx.database) || DIFF(influx.retention_policy) ||
           DIFF(influx.username) || DIFF(influx.password) || DIFF(influx.org) ||
           DIFF(influx.bucket) || DIFF(influx.token) || DIFF(influx.spool_dir) ||
           a->influx.enabled != b->influx.enabled || a->influx.api != b->influx.api ||
           a->influx.create_database != b->influx.create_database ||
           a->influx.gzip != b->influx.gzip || a->influx.timeout_ms != b->influx.timeout_ms ||
           a->influx.spool_max_bytes != b->influx.spool_max_bytes;
}

static bool lists_differ(char *const *a, size_t na, char *const *b, size_t nb)
{
    if (na != nb)
        return true;
    for (size_t i = 0; i < na; i++)
        if (strcmp(a[i], b[i]) != 0)
            return true;
    return false;
}

bool config_http_changed(const struct config *a, const struct config *b)
{
    return a->http.enabled != b->http.enabled || DIFF(http.listen) || DIFF(http.token) ||
           DIFF(http.web_dir) || DIFF(http.cert_file) || DIFF(http.key_file) ||
           a->http.max_body_bytes != b->http.max_body_bytes ||
           a->http.open_reads != b->http.open_reads || a->http.session_ms != b->http.session_ms ||
           a->http.max_connections_per_address != b->http.max_connections_per_address ||
           lists_differ(a->http.hosts, a->http.n_hosts, b->http.hosts, b->http.n_hosts) ||
           DIFF(gateway.state_dir);
}
