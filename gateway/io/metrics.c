#include "metrics.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lineproto.h"

static _Atomic uint64_t values[MET__COUNT];

#define C(id, fam, lab, fld, hlp) [id] = {fam, lab, fld, hlp, 0}
#define G(id, fam, lab, fld, hlp) [id] = {fam, lab, fld, hlp, 1}

static const struct metric_desc descs[MET__COUNT] = {
    C(MET_RECV_NATIVE, "hallgw_messages_received_total", "format=\"native\"", "received_native",
      "MQTT messages received, by source format."),
    C(MET_RECV_ZIGBEE2MQTT, "hallgw_messages_received_total", "format=\"zigbee2mqtt\"",
      "received_zigbee2mqtt", "MQTT messages received, by source format."),
    C(MET_RECV_TASMOTA, "hallgw_messages_received_total", "format=\"tasmota\"", "received_tasmota",
      "MQTT messages received, by source format."),
    C(MET_RECV_SHELLY, "hallgw_messages_received_total", "format=\"shelly\"", "received_shelly",
      "MQTT messages received, by source format."),
    C(MET_DECODED, "hallgw_messages_decoded_total", "", "decoded",
      "Messages decoded and applied to the hall model."),
    C(MET_IGNORED, "hallgw_messages_ignored_total", "reason=\"not_for_us\"", "ignored",
      "Messages accepted but not used, by reason."),
    C(MET_UNKNOWN_IGNORED, "hallgw_messages_ignored_total", "reason=\"unknown_device\"",
      "ignored_unknown_device", "Messages accepted but not used, by reason."),
    C(MET_UNBOUND_FOREIGN, "hallgw_messages_ignored_total", "reason=\"unbound_foreign\"",
      "ignored_unbound_foreign", "Messages accepted but not used, by reason."),
    C(MET_DEVICE_TABLE_FULL, "hallgw_messages_ignored_total", "reason=\"device_table_full\"",
      "ignored_device_table_full", "Messages accepted but not used, by reason."),
    C(MET_RETAINED, "hallgw_messages_retained_total", "", "retained",
      "Retained messages received (never trigger actions by themselves)."),
    C(MET_KEYS_DROPPED, "hallgw_keys_dropped_total", "", "keys_dropped",
      "Keys refused inside otherwise good messages."),
    C(MET_REJECT_BAD_TOPIC, "hallgw_messages_rejected_total", "reason=\"bad_topic\"",
      "rejected_bad_topic", "Messages refused, by reason."),
    C(MET_REJECT_BAD_ID, "hallgw_messages_rejected_total", "reason=\"bad_id\"", "rejected_bad_id",
      "Messages refused, by reason."),
    C(MET_REJECT_TOO_LARGE, "hallgw_messages_rejected_total", "reason=\"too_large\"",
      "rejected_too_large", "Messages refused, by reason."),
    C(MET_REJECT_BAD_UTF8, "hallgw_messages_rejected_total", "reason=\"bad_utf8\"",
      "rejected_bad_utf8", "Messages refused, by reason."),
    C(MET_REJECT_NUL, "hallgw_messages_rejected_total", "reason=\"nul\"", "rejected_nul",
      "Messages refused, by reason."),
    C(MET_REJECT_SYNTAX, "hallgw_messages_rejected_total", "reason=\"syntax\"", "rejected_syntax",
      "Messages refused, by reason."),
    C(MET_REJECT_NON_FINITE, "hallgw_messages_rejected_total", "reason=\"non_finite\"",
      "rejected_non_finite", "Messages refused, by reason."),
    C(MET_REJECT_TOO_DEEP, "hallgw_messages_rejected_total", "reason=\"too_deep\"",
      "rejected_too_deep", "Messages refused, by reason."),
    C(MET_REJECT_NOT_OBJECT, "hallgw_messages_rejected_total", "reason=\"not_object\"",
      "rejected_not_object", "Messages refused, by reason."),
    C(MET_REJECT_TOO_MANY_FIELDS, "hallgw_messages_rejected_total", "reason=\"too_many_fields\"",
      "rejected_too_many_fields", "Messages refused, by reason."),
    C(MET_REJECT_BAD_STATUS, "hallgw_messages_rejected_total", "reason=\"bad_status\"",
      "rejected_bad_status", "Messages refused, by reason."),
    C(MET_REJECT_BAD_EVENT, "hallgw_messages_rejected_total", "reason=\"bad_event\"",
      "rejected_bad_event", "Messages refused, by reason."),
    C(MET_REJECT_BAD_VALUE, "hallgw_messages_rejected_total", "reason=\"bad_value\"",
      "rejected_bad_value", "Messages refused, by reason."),
    C(MET_REJECT_ENCODE, "hallgw_messages_rejected_total", "reason=\"encode\"", "rejected_encode",
      "Messages refused, by reason."),
    C(MET_QUEUE_WAITS, "hallgw_queue_backpressure_total", "", "queue_waits",
      "Times the MQTT callback had to wait for room in the core queue."),
    C(MET_QUEUE_DROPS, "hallgw_queue_dropped_total", "", "queue_drops",
      "Messages dropped because the core queue stayed full for queue_wait."),
    C(MET_POINTS_QUEUED, "hallgw_points_total", "outcome=\"queued\"", "points_queued",
      "Points handed to the InfluxDB writer, and what became of them."),
    C(MET_POINTS_WRITTEN, "hallgw_points_total", "outcome=\"written\"", "points_written",
      "Points handed to the InfluxDB writer, and what became of them."),
    C(MET_POINTS_SPOOLED, "hallgw_points_total", "outcome=\"spooled\"", "points_spooled",
      "Points handed to the InfluxDB writer, and what became of them."),
    C(MET_POINTS_REPLAYED, "hallgw_points_total", "outcome=\"replayed\"", "points_replayed",
      "Points handed to the InfluxDB writer, and what became of them."),
    C(MET_POINTS_REJECTED, "hallgw_points_total", "outcome=\"rejected\"", "points_rejected",
      "Points handed to the InfluxDB writer, and what became of them."),
    C(MET_POINTS_SPOOL_DROPPED, "hallgw_points_total", "outcome=\"spool_dropped\"",
      "points_spool_dropped", "Points handed to the InfluxDB writer, and what became of them."),
    C(MET_POINTS_LOST, "hallgw_points_total", "outcome=\"lost\"", "points_lost",
      "Points handed to the InfluxDB writer, and what became of them."),
    C(MET_WRITE_REQUESTS, "hallgw_influx_requests_total", "", "write_requests",
      "HTTP write requests sent to InfluxDB."),
    C(MET_WRITE_FAILURES, "hallgw_influx_failures_total", "", "write_failures",
      "Write requests that failed and will be retried (429, 5xx, network)."),
    C(MET_WRITE_SPLITS, "hallgw_influx_splits_total", "", "write_splits",
      "Batches split in two after 413 Request Entity Too Large."),
    C(MET_SPOOL_TORN, "hallgw_spool_torn_total", "", "spool_torn",
      "Torn or corrupt spool records detected and skipped."),
    C(MET_MQTT_CONNECTS, "hallgw_mqtt_connects_total", "", "mqtt_connects",
      "Successful MQTT (re)connections."),
    C(MET_MQTT_CONNECTION_LOST, "hallgw_mqtt_connection_lost_total", "", "mqtt_connection_lost",
      "MQTT connections lost."),
    C(MET_MQTT_CONNECT_FAILURES, "hallgw_mqtt_connect_failures_total", "", "mqtt_connect_failures",
      "MQTT connection attempts that failed."),
    C(MET_MQTT_PUBLISHED, "hallgw_mqtt_published_total", "", "mqtt_published",
      "Messages the gateway published."),
    C(MET_MQTT_PUBLISH_FAILURES, "hallgw_mqtt_publish_failures_total", "", "mqtt_publish_failures",
      "Publishes refused by the MQTT client."),
    C(MET_MQTT_PERSIST_ERRORS, "hallgw_mqtt_persist_errors_total", "", "mqtt_persist_errors",
      "MQTT in-flight messages that could not be written to state_dir (kept in memory)."),
    C(MET_JOURNAL_REPLAYED, "hallgw_journal_replayed_total", "", "journal_replayed",
      "Messages the last run took and did not finish, replayed from the inbox journal."),
    C(MET_JOURNAL_TORN, "hallgw_journal_torn_total", "", "journal_torn",
      "Torn records at the end of the inbox journal, cut off at start (a crash while writing)."),
    C(MET_ALERTS_FIRED, "hallgw_alert_transitions_total", "to=\"firing\"", "alerts_fired",
      "Alert transitions, by the state entered."),
    C(MET_ALERTS_ACKNOWLEDGED, "hallgw_alert_transitions_total", "to=\"acknowledged\"",
      "alerts_acknowledged", "Alert transitions, by the state entered."),
    C(MET_ALERTS_RESOLVED, "hallgw_alert_transitions_total", "to=\"resolved\"", "alerts_resolved",
      "Alert transitions, by the state entered."),
    C(MET_ACKS_REJECTED, "hallgw_acks_rejected_total", "", "acks_rejected",
      "Acknowledgements refused: unknown alert, or not {\"by\",\"note\"}."),
    C(MET_ACKS_REFUSED, "hallgw_acks_refused_total", "", "acks_refused",
      "Acknowledgements over MQTT refused because by or note is not plain text: control "
      "characters, bidirectional controls, NUL or invalid UTF-8."),
    C(MET_NOTIFY_SENT, "hallgw_notifications_total", "outcome=\"sent\"", "notify_sent",
      "Notifications to webhook and e-mail routes, by outcome."),
    C(MET_NOTIFY_RETRIES, "hallgw_notifications_total", "outcome=\"retried\"", "notify_retries",
      "Notifications to webhook and e-mail routes, by outcome."),
    C(MET_NOTIFY_FAILED, "hallgw_notifications_total", "outcome=\"failed\"", "notify_failed",
      "Notifications to webhook and e-mail routes, by outcome."),
    C(MET_NOTIFY_DROPPED, "hallgw_notifications_total", "outcome=\"dropped\"", "notify_dropped",
      "Notifications to webhook and e-mail routes, by outcome."),
    C(MET_REPORTS_SENT, "hallgw_report_deliveries_total", "outcome=\"sent\"", "reports_sent",
      "The daily record sent by itself to its notify routes, by outcome."),
    C(MET_REPORTS_RETRIES, "hallgw_report_deliveries_total", "outcome=\"retried\"",
      "reports_retries", "The daily record sent by itself to its notify routes, by outcome."),
    C(MET_REPORTS_FAILED, "hallgw_report_deliveries_total", "outcome=\"failed\"", "reports_failed",
      "The daily record sent by itself to its notify routes, by outcome."),
    C(MET_STORE_ERRORS, "hallgw_store_errors_total", "", "store_errors",
      "SQLite state store operations that failed."),
    C(MET_CONFIG_RELOADS, "hallgw_config_reloads_total", "outcome=\"ok\"", "config_reloads",
      "Configuration reloads (SIGHUP)."),
    C(MET_CONFIG_RELOAD_FAILURES, "hallgw_config_reloads_total", "outcome=\"failed\"",
      "config_reload_failures", "Configuration reloads (SIGHUP)."),
    C(MET_COMMANDS_SENT, "hallgw_commands_sent_total", "", "commands_sent",
      "Commands published: signed power-off, scan and plug commands, and foreign plug "
      "commands."),
    C(MET_COMMAND_REPLIES, "hallgw_command_replies_total", "", "command_replies",
      "Replies to the gateway's commands received on .../cmd/reply."),
    C(MET_PCS_VERIFIED_OFF, "hallgw_poweroff_verified_total", "kind=\"pc\"", "pcs_verified_off",
      "PCs and plugs verified off by power-off enforcement."),
    C(MET_PLUGS_OFF, "hallgw_poweroff_verified_total", "kind=\"plug\"", "plugs_off",
      "PCs and plugs verified off by power-off enforcement."),
    C(MET_POWEROFF_FAILURES, "hallgw_poweroff_failures_total", "", "poweroff_failures",
      "PCs and plugs that refused, did not answer or were still on after verify_within."),
    C(MET_DISCOVERY_READ, "hallgw_discovery_messages_total", "outcome=\"read\"", "discovery_read",
      "Discovery messages of Zigbee2MQTT, Tasmota and Shelly, by outcome."),
    C(MET_DISCOVERY_REJECTED, "hallgw_discovery_messages_total", "outcome=\"rejected\"",
      "discovery_rejected", "Discovery messages of Zigbee2MQTT, Tasmota and Shelly, by outcome."),
    C(MET_UNBOUND_ADDED, "hallgw_unbound_devices_total", "event=\"added\"", "unbound_added",
      "Devices not bound by the config, listed as unbound: added, evicted from the full list, "
      "refused."),
    C(MET_UNBOUND_EVICTED, "hallgw_unbound_devices_total", "event=\"evicted\"", "unbound_evicted",
      "Devices not bound by the config, listed as unbound: added, evicted from the full list, "
      "refused."),
    C(MET_UNBOUND_REFUSED, "hallgw_unbound_devices_total", "event=\"refused\"", "unbound_refused",
      "Devices not bound by the config, listed as unbound: added, evicted from the full list, "
      "refused."),
    G(MET_G_QUEUE_DEPTH, "hallgw_queue_depth", "", "queue_depth",
      "Messages waiting in the core queue."),
    G(MET_G_DEVICES, "hallgw_devices", "", "devices", "Devices in the hall model."),
    G(MET_G_ALERTS_ACTIVE, "hallgw_alerts_active", "", "alerts_active",
      "Alerts firing or acknowledged."),
    G(MET_G_SPOOL_BYTES, "hallgw_spool_bytes", "", "spool_bytes", "Bytes in the on-disk spool."),
    G(MET_G_SPOOL_RECORDS, "hallgw_spool_records", "", "spool_records",
      "Batches waiting in the on-disk spool."),
    G(MET_G_MQTT_CONNECTED, "hallgw_mqtt_connected", "", "mqtt_connected",
      "1 while connected to the MQTT broker."),
    G(MET_G_UNBOUND, "hallgw_unbound_listed", "", "unbound_listed",
      "Devices in the unbound list (not bound by the config)."),
};

const struct metric_desc *metrics_desc(enum metric_id id)
{
    return &descs[id];
}

void metrics_add(enum metric_id id, uint64_t n)
{
    atomic_fetch_add_explicit(&values[id], n, memory_order_relaxed);
}

void metrics_set(enum metric_id id, uint64_t v)
{
    atomic_store_explicit(&values[id], v, memory_order_relaxed);
}

uint64_t metrics_get(enum metric_id id)
{
    return atomic_load_explicit(&values[id], memory_order_relaxed);
}

void metrics_reset(void)
{
    for (int i = 0; i < MET__COUNT; i++)
        atomic_store_explicit(&values[i], 0, memory_order_relaxed);
}

char *metrics_prometheus(void)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    if (!f)
        return NULL;
    for (int i = 0; i < MET__COUNT; i++) {
        const struct metric_desc *d = &descs[i];
        bool first = true;
        for (int j = 0; j < i; j++) {
            if (strcmp(descs[j].family, d->family) == 0)
                first = false;
        }
        if (first)
            fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", d->family, d->help, d->family,
                    d->gauge ? "gauge" : "counter");
        /* Every series of a family, right after its header. */
        for (int j = i; first && j < MET__COUNT; j++) {
            const struct metric_desc *e = &descs[j];
            if (strcmp(e->family, d->family) != 0)
                continue;
            fprintf(f, "%s%s%s%s %llu\n", e->family, e->labels[0] ? "{" : "", e->labels,
                    e->labels[0] ? "}" : "", (unsigned long long)metrics_get(j));
        }
    }
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

int metrics_points(struct buf *b, const char *gateway_id, wall_s wall)
{
    struct lp_field fields[MET__COUNT];
    for (int i = 0; i < MET__COUNT; i++)
        fields[i] = (struct lp_field){
            .key = metrics_desc(i)->field, .type = LP_FLOAT, .f = (double)metrics_get(i)};
    struct lp_tag tag = {"gateway", gateway_id};
    return lineproto_append(b, "gateway", &tag, 1, fields, MET__COUNT, wall_ns(wall));
}
