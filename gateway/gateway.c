#include "gateway.h"

#include <errno.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "alerting.h"
#include "api.h"
#include "clock.h"
#include "config.h"
#include "ha_publish.h"
#include "delivery.h"
#include "enforce.h"
#include "hallmodel.h"
#include "httpclient.h"
#include "httpapi.h"
#include "influx.h"
#include "ingest.h"
#include "json.h"
#include "lineproto.h"
#include "log.h"
#include "metrics.h"
#include "mqtt.h"
#include "notifier.h"
#include "overview.h"
#include "points.h"
#include "queue.h"
#include "sdnotify.h"
#include "snapshot.h"
#include "roles.h"
#include "store.h"
#include "subscriptions.h"
#include "threads.h"
#include "unbound_feed.h"
#include "utf8.h"

#define CORE_BATCH 256
#define BATCH_MAX_BYTES (64u << 20)
#define BATCH_FLUSH_BYTES (8u << 20)
#define SUBMIT_WAIT_MS 5000
#define MQTT_STOP_MS 2000
#define WRITER_DRAIN_MS 10000
#define NOTIFIER_DRAIN_MS 3000
#define TICK_MS 1000
#define UNBOUND_WRITE_MS 5000    /* the unbound devices' file: a device came or went */
#define UNBOUND_REFRESH_MS 60000 /* devices only seen again */

struct gateway {
    struct config *cfg;
    struct queue *inbox;
    struct mqtt *mqtt;
    struct influx_writer *writer;
    struct hallmodel *hm;
    struct store *store;
    struct store_writer *store_writer; /* alert transitions, off the core thread */
    bool heap_trimmed;
    struct notifier *notifier;
    struct delivery *delivery; /* the daily record sent by itself */
    struct alerting *alerting;
    struct enforce *enforce;
    struct ha_publish *discovery; /* Home Assistant discovery */
    struct api *api;
    struct httpapi *http;
    mono_ms snapshot_at;
    struct ingest ingest;
    struct unbound *unbound;
    uint64_t unbound_published, unbound_written; /* unbound_version() + 1; 0: never */
    uint64_t unbound_members_written;            /* unbound_members_version() + 1 */
    mono_ms unbound_write_at;
    struct log_ratelimit rl_unbound;
    struct buf batch;
    size_t batch_points;
    /* The inbox journal: the largest journal id processed, and the largest
     * handed on with a batch (the writer reports it done). */
    uint64_t journal_seen, journal_marked;
    _Atomic(struct mqtt *) mqtt_for_writer; /* set once the client exists */
    mono_ms batch_started;
    mono_ms next_stats, next_tick;
    struct log_ratelimit rl_ack;
    char **subs;
    size_t n_subs;
    char status_topic[256];

    sigset_t sigs;
    pthread_t sig_thread;
    atomic_bool want_stop, want_reload;
};

/* ---- MQTT and InfluxDB lifetimes -------------------------------------- */

/* The MQTT client's events, from its threads, into the counters. */
static void count_mqtt(void *ctx, enum mqtt_event ev)
{
    (void)ctx;
    switch (ev) {
    case MQTT_EV_INBOX_WAIT:
        metrics_inc(MET_QUEUE_WAITS);
        break;
    case MQTT_EV_INBOX_DROP:
        metrics_inc(MET_QUEUE_DROPS);
        break;
    case MQTT_EV_CONNECTED:
        metrics_inc(MET_MQTT_CONNECTS);
        metrics_set(MET_G_MQTT_CONNECTED, 1);
        break;
    case MQTT_EV_CONNECTION_LOST:
        metrics_inc(MET_MQTT_CONNECTION_LOST);
        metrics_set(MET_G_MQTT_CONNECTED, 0);
        break;
    case MQTT_EV_CONNECT_FAILURE:
        metrics_inc(MET_MQTT_CONNECT_FAILURES);
        break;
    case MQTT_EV_DISCONNECTED:
        metrics_set(MET_G_MQTT_CONNECTED, 0);
        break;
    case MQTT_EV_PUBLISHED:
        metrics_inc(MET_MQTT_PUBLISHED);
        break;
    case MQTT_EV_PUBLISH_FAILURE:
        metrics_inc(MET_MQTT_PUBLISH_FAILURES);
        break;
    case MQTT_EV_PERSIST_ERROR:
        metrics_inc(MET_MQTT_PERSIST_ERRORS);
        break;
    }
}

static void process(struct gateway *g, struct mqtt_msg *m, mono_ms now);
static void flush_batch(struct gateway *g);
static void mark_journal(struct gateway *g);

static int replay_one(void *ctx, struct mqtt_msg *msg)
{
    struct gateway *g = ctx;
    process(g, msg, clock_mono_ms());
    free(msg);
    return 0;
}

/* What the last run took and did not finish (a crash): processed before
 * anything new, as old readings. */
static void replay_journal(struct gateway *g)
{
    struct journal_stats st;
    if (!mqtt_journal_stats(g->mqtt, &st))
        return;
    metrics_add(MET_JOURNAL_TORN, st.torn);
    long n = mqtt_replay(g->mqtt, replay_one, g);
    if (n < 0)
        log_err("journal: replay stopped: %s", strerror((int)-n));
    else if (n > 0)
        log_notice("journal: %ld messages of the last run replayed", n);
    flush_batch(g);
    mark_journal(g);
}

static int start_mqtt(struct gateway *g)
{
    const struct config_mqtt *mc = &g->cfg->mqtt;
    snprintf(g->status_topic, sizeof(g->status_topic), "%s/_gateway/%s/status", mc->prefix,
             g->cfg->gateway.id);
    char persist[1024];
    snprintf(persist, sizeof(persist), "%s/mqtt", g->cfg->gateway.state_dir);
    if (mkdir(persist, 0700) < 0 && errno != EEXIST)
        log_warn("cannot create %s: %s", persist, strerror(errno));
    struct mqtt_options o = {
        .persistence_dir = persist,
        .uri = mc->uri,
        .client_id = mc->client_id,
        .username = mc->username,
        .password = mc->password,
        .keepalive_s = mc->keepalive_s,
        .clean_session = false,
        .ca_file = mc->tls.ca_file,
        .cert_file = mc->tls.cert_file,
        .key_file = mc->tls.key_file,
        .verify = mc->tls.verify,
        .will_topic = g->status_topic,
        .online_payload = "online",
        .will_payload = "offline",
        .subscriptions = (const char *const *)g->subs,
        .n_subscriptions = g->n_subs,
        .qos = mc->qos,
        .inbox = g->inbox,
        .inbox_wait_ms = g->cfg->limits.queue_wait_ms,
        /* Oversize payloads are counted by ingest, not copied. */
        .max_payload = g->cfg->limits.payload_max_bytes,
        .on_event = count_mqtt,
        .journal = true,
        .durability = mc->durability == DURABILITY_MACHINE ? JOURNAL_MACHINE : JOURNAL_PROCESS,
        .sync_interval_ms = mc->sync_interval_ms,
    };
    int r = mqtt_new(&o, &g->mqtt);
    if (r < 0)
        return r;
    atomic_store(&g->mqtt_for_writer, g->mqtt);
    replay_journal(g);
    return mqtt_start(g->mqtt);
}

/* The writer's thread: a batch and everything processed before it are
 * written or spooled. */
static void batch_done(void *ctx, uint64_t mark)
{
    struct gateway *g = ctx;
    mqtt_journal_done(atomic_load(&g->mqtt_for_writer), mark);
}

static int start_writer(struct gateway *g)
{
    if (!g->cfg->influx.enabled)
        return 0;
    return influx_writer_start(&g->cfg->influx, batch_done, g, &g->writer);
}

/* ---- the batch ---------------------------------------------------------- */

static void flush_batch(struct gateway *g)
{
    if (g->batch_points == 0)
        return;
    if (g->writer) {
        struct influx_batch b = {.data = g->batch.data,
                                 .len = g->batch.len,
                                 .points = g->batch_points,
                                 .mark = g->journal_seen};
        influx_writer_submit(g->writer, &b, SUBMIT_WAIT_MS);
        /* The writer owns the buffer now. */
        buf_init(&g->batch, BATCH_MAX_BYTES);
    } else {
        buf_reset(&g->batch);
        mqtt_journal_done(g->mqtt, g->journal_seen);
    }
    g->journal_marked = g->journal_seen;
    g->batch_points = 0;
}

/* Messages processed since the last batch left no point waiting: they are
 * done once what went before them is (the writer keeps the order). */
static void mark_journal(struct gateway *g)
{
    if (g->batch_points || g->journal_seen <= g->journal_marked)
        return;
    if (g->writer) {
        struct influx_batch b = {.mark = g->journal_seen};
        if (influx_writer_submit(g->writer, &b, 0) < 0)
            return; /* the next batch carries it */
    } else {
        mqtt_journal_done(g->mqtt, g->journal_seen);
    }
    g->journal_marked = g->journal_seen;
}

/* The alert id of an ack topic as a log line may show it: the hall is a
 * valid id, the alert id is only what the topic held. */
static const char *ack_id_shown(const char *id)
{
    return utf8_plain_text(id, strlen(id)) ? id : "(an id that is not plain text)";
}

/* An ack whose by or note is not plain text: counted, and logged without the
 * text. */
static void refuse_ack_text(struct gateway *g, const char *hall, const char *id)
{
    metrics_inc(MET_ACKS_REFUSED);
    if (log_ratelimit_ok(&g->rl_ack, "acks refused"))
        log_warn("ack of %s/%s refused: by and note must be plain text (no control characters, "
                 "no bidirectional controls, valid UTF-8)",
                 hall, ack_id_shown(id));
}

/* An ack over MQTT on the audit log: from "mqtt", by the account of its
 * topic (or, for one without, the name it claimed, refused). */
static void audit_ack(struct gateway *g, const char *account, const char *action, const char *id,
                      const char *detail, bool ok, wall_s at)
{
    if (!g->store)
        return;
    if (store_audit_note(g->store, account, "mqtt", action, id, detail, ok, at) < 0 &&
        log_ratelimit_ok(&g->rl_ack, "acks refused"))
        log_warn("audit: cannot record an ack: %s", store_last_error(g->store));
}

/* Why account may not handle alert id of hall, or NULL when it may. */
static const char *ack_refusal(struct gateway *g, const char *account, const char *hall,
                               const char *id)
{
    if (!account[0])
        return "an ack names nobody unless it is published on .../ack/<account> by that "
               "account (docs/topics.md)";
    struct record_account acc;
    int rc = g->store ? store_account_get(g->store, account, &acc) : -ENOENT;
    if (rc == -ENOENT)
        return "no such account (hallgw user add)";
    if (rc < 0)
        return "the accounts cannot be read";
    enum role role = role_parse(acc.role);
    if (acc.disabled || !roles_may(role, ACTION_HANDLE_ALERT))
        return "the account is disabled, or its role may not handle alerts";
    const struct alert *a = alerting_find(g->alerting, hall, id);
    if (a && !roles_may_handle(role, a->kind))
        return "this alert is not for the account's role";
    return NULL;
}

/* hall/<hall>/alerts/<id>/ack/<account> with {"note": "...", "resolve": true}:
 * the account is the broker user that published it (the ACL's %u); a "by"
 * in the payload is not believed. */
static void process_ack(struct gateway *g, struct mqtt_msg *m, const char *hall, const char *id,
                        const char *account)
{
    struct json_flat f;
    struct json_limits lim = {.max_bytes = 4096, .max_depth = 1, .max_fields = 16};
    enum json_reject jr = JSON_SYNTAX;
    if (!m->retained && !m->oversize)
        jr = json_flatten(m->payload, m->payload_len, &lim, &f);
    if (jr == JSON_NUL || jr == JSON_BAD_UTF8) {
        refuse_ack_text(g, hall, id);
        return;
    }
    if (jr != JSON_OK) {
        metrics_inc(MET_ACKS_REJECTED);
        return;
    }
    const struct json_field *by = json_flat_get(&f, "by");
    const struct json_field *note = json_flat_get(&f, "note");
    const struct json_field *resolve = json_flat_get(&f, "resolve");
    /* A line break, a NUL or a bidirectional control in the record would
     * break the alert's InfluxDB points, forge log lines or disguise it. */
    if ((by && by->type == JSON_T_STRING && !utf8_plain_text(by->str, by->str_len)) ||
        (note && note->type == JSON_T_STRING && !utf8_plain_text(note->str, note->str_len))) {
        refuse_ack_text(g, hall, id);
        json_flat_free(&f);
        return;
    }
    bool res = resolve && resolve->type == JSON_T_BOOL && resolve->b;
    const char *action = res ? "resolve" : "ack";
    const char *why = ack_refusal(g, account, hall, id);
    if (why) {
        metrics_inc(MET_ACKS_REFUSED);
        if (log_ratelimit_ok(&g->rl_ack, "acks refused"))
            log_warn("ack of %s/%s refused: %s", hall, ack_id_shown(id), why);
        char claimed[80];
        snprintf(claimed, sizeof(claimed), "%s",
                 account[0]                        ? account
                 : by && by->type == JSON_T_STRING ? by->str
                                                   : "");
        audit_ack(g, claimed, action, id, why, false, m->arrival);
        json_flat_free(&f);
        return;
    }
    int r = -EINVAL;
    if (f.dropped == 0 && (!note || note->type == JSON_T_STRING) &&
        (!resolve || resolve->type == JSON_T_BOOL))
        r = alerting_ack(g->alerting, hall, id, account, note ? note->str : "", res, m->arrival);
    if (r != -ENOENT) /* another instance's alert is its business */
        audit_ack(g, account, action, id, note && note->type == JSON_T_STRING ? note->str : "",
                  r == 0, m->arrival);
    if (r < 0) {
        metrics_inc(MET_ACKS_REJECTED);
        if (log_ratelimit_ok(&g->rl_ack, "acks refused"))
            log_warn("ack of %s/%s refused: %s", hall, ack_id_shown(id),
                     r == -ENOENT ? "no such active alert"
                                  : "expected {\"note\": text} (resolve only for alerts that "
                                    "need it)");
    }
    json_flat_free(&f);
}

static void process_one(struct gateway *g, struct mqtt_msg *m, mono_ms now);

static void process(struct gateway *g, struct mqtt_msg *m, mono_ms now)
{
    process_one(g, m, now);
    if (m->journal_id > g->journal_seen)
        g->journal_seen = m->journal_id;
}

static void process_one(struct gateway *g, struct mqtt_msg *m, mono_ms now)
{
    char hall[ID_MAX + 1], id[ALERT_ID_MAX + 1], account[ID_MAX + 1];
    if (m->replayed)
        metrics_inc(MET_JOURNAL_REPLAYED);
    else if (m->retained)
        metrics_inc(MET_RETAINED);
    if (alerting_parse_ack_topic(g->cfg->mqtt.prefix, m->topic, m->topic_len, hall, sizeof(hall),
                                 id, sizeof(id), account, sizeof(account))) {
        process_ack(g, m, hall, id, account);
        return;
    }
    if (g->batch_points == 0)
        g->batch_started = now;
    struct hm_device *dev = NULL;
    /* A retained message is state: its values are marked so in the hall
     * model, and no rule judges them (rules.h). So is a replayed one: an
     * old reading the last run took but did not finish. */
    bool as_state = m->retained || m->replayed;
    enum ingest_outcome o =
        as_state
            ? ingest_retained_message(&g->ingest, m->topic, m->topic_len, m->payload,
                                      m->payload_len, m->oversize, now, m->arrival, &g->batch, &dev)
            : ingest_message(&g->ingest, m->topic, m->topic_len, m->payload, m->payload_len,
                             m->oversize, now, m->arrival, &g->batch, &dev);
    /* One message may be about several devices (a Shelly's channels). */
    for (; o == INGEST_WRITTEN; o = ingest_next(&g->ingest, &g->batch, &dev)) {
        g->batch_points++;
        wall_s wall = m->arrival;
        /* Before alerting: a scan ordered holds the scan alert. Enforcement
         * sees retained messages as state, never as a trigger. */
        enforce_on_reading(g->enforce, dev, &g->ingest.rd, as_state, wall, now);
        /* Retained messages never trigger anything by themselves. */
        if (!as_state)
            alerting_on_reading(g->alerting, dev, &g->ingest.rd, wall, now);
    }
    if (g->batch_points >= (size_t)g->cfg->influx.batch_size || g->batch.len >= BATCH_FLUSH_BYTES)
        flush_batch(g);
}

/* Counts a point into the batch after a points_* encoder appended it. */
static void add_point(struct gateway *g, int r)
{
    if (g->batch_points == 0)
        g->batch_started = clock_mono_ms();
    if (r == 0)
        g->batch_points++;
    else
        metrics_inc(MET_REJECT_ENCODE);
}

static void add_point_cb(void *g, int r)
{
    add_point(g, r);
}

static void write_stats(struct gateway *g)
{
    wall_s wall = clock_wall();
    metrics_set(MET_G_QUEUE_DEPTH, queue_depth(g->inbox));
    add_point(g, metrics_points(&g->batch, g->cfg->gateway.id, wall));
    overview_points(&g->batch, g->cfg, g->hm, g->enforce, g->alerting, wall, add_point_cb, g);
}

/* ---- what alerting does to the outside ---------------------------------- */

static void io_publish(void *ctx, const char *topic, const char *payload, size_t len, bool retained)
{
    struct gateway *g = ctx;
    if (g->mqtt)
        mqtt_publish(g->mqtt, topic, payload, len, 1, retained);
}

static void io_alert_point(void *ctx, const struct alert *a, enum alert_transition t, wall_s wall)
{
    struct gateway *g = ctx;
    add_point(g, points_alert(&g->batch, a, t, wall));
}

static void io_window_point(void *ctx, const struct config_hall *h, const struct config_window *w,
                            bool open, int presence, double waiting, wall_s wall)
{
    struct gateway *g = ctx;
    add_point(g, points_window(&g->batch, h, w, open, presence, waiting, wall));
}

/* ---- what enforcement does to the outside ---------------------------------- */

static int io_command(void *ctx, const char *topic, const char *payload, size_t len, bool retained)
{
    struct gateway *g = ctx;
    if (!g->mqtt || !mqtt_is_connected(g->mqtt))
        return -ENOTCONN;
    return mqtt_publish(g->mqtt, topic, payload, len, 1, retained);
}

static void io_step_point(void *ctx, const struct record_poweroff_step *s, int64_t ts_ns)
{
    struct gateway *g = ctx;
    add_point(g, points_poweroff(&g->batch, s->hall, s->window, s->device, s->kind, s->step, s->ok,
                                 s->detail, ts_ns));
}

static int start_enforce(struct gateway *g)
{
    struct enforce_io io = {.ctx = g,
                            .publish = io_command,
                            .step_point = io_step_point,
                            .store = g->store,
                            .alerting = g->alerting};
    return enforce_new(g->cfg, g->hm, &io, clock_wall(), &g->enforce);
}

static int start_discovery(struct gateway *g)
{
    struct ha_publish_io io = {.ctx = g, .publish = io_command};
    return ha_publish_new(g->cfg, g->hm, g->alerting, &io, &g->discovery);
}

static int start_alerting(struct gateway *g)
{
    if (g->cfg->n_notify > 0 && notifier_start(g->cfg, &g->notifier) < 0)
        log_err("cannot start the notification routes");
    struct alerting_io io = {.ctx = g,
                             .publish = io_publish,
                             .alert_point = io_alert_point,
                             .window_point = io_window_point,
                             .store = g->store,
                             .writer = g->store_writer,
                             .notifier = g->notifier};
    return alerting_new(g->cfg, g->hm, &io, clock_wall(), clock_mono_ms(), &g->alerting);
}

/* ---- the HTTP API's view of the core --------------------------------------- */

static int start_http(struct gateway *g)
{
    if (!g->cfg->http.enabled)
        return 0;
    if (!g->api && !(g->api = api_new(g->inbox)))
        return -ENOMEM;
    return httpapi_start(g->cfg, g->api, &g->http);
}

static void publish_snapshots(struct gateway *g, wall_s wall, mono_ms now, bool alerts_only)
{
    char *state = alerts_only ? NULL
                              : snapshot_state(g->cfg, g->hm, g->enforce, wall, now,
                                               g->mqtt && mqtt_is_connected(g->mqtt));
    api_publish(g->api, state, snapshot_alerts(g->cfg, g->alerting));
    api_publish_overview(g->api, overview_json(g->cfg, g->hm, g->enforce, g->alerting, wall,
                                               g->mqtt && mqtt_is_connected(g->mqtt)));
    if (!alerts_only)
        g->snapshot_at = now;
    if (!alerts_only && g->unbound_published != unbound_version(g->unbound) + 1) {
        char *unbound = unbound_feed_json(g->unbound, g->cfg);
        if (unbound) { /* else tried again at the next snapshot */
            api_publish_unbound(g->api, unbound);
            g->unbound_published = unbound_version(g->unbound) + 1;
        }
    }
}

/* The unbound devices for hallgw devices --unbound: rewritten at most
 * every UNBOUND_WRITE_MS when a device came or went, and at most every
 * UNBOUND_REFRESH_MS when devices were only seen again (last_seen, sample):
 * a chatty unbound device does not rewrite the file all day. */
static void write_unbound(struct gateway *g, mono_ms now)
{
    uint64_t v = unbound_version(g->unbound) + 1;
    uint64_t members = unbound_members_version(g->unbound) + 1;
    int64_t since = now - g->unbound_write_at;
    bool came_or_went = members != g->unbound_members_written;
    if (v == g->unbound_written ||
        (g->unbound_written && since < (came_or_went ? UNBOUND_WRITE_MS : UNBOUND_REFRESH_MS)))
        return;
    char *json = unbound_feed_json(g->unbound, g->cfg);
    int rc = json ? unbound_feed_write(g->cfg->gateway.state_dir, json) : -ENOMEM;
    free(json);
    if (rc < 0 && log_ratelimit_ok(&g->rl_unbound, "unbound devices' file"))
        log_warn("cannot write %s/%s: %s", g->cfg->gateway.state_dir, UNBOUND_FILE, strerror(-rc));
    g->unbound_written = v;
    g->unbound_members_written = members;
    g->unbound_write_at = now;
}

/* POST and DELETE /api/v1/overrides: the store and enforcement's view of it
 * change together, and the device is checked against the running config. */
static void serve_override(struct gateway *g, struct api_request *r, wall_s wall)
{
    const char *why = "";
    if (r->kind == API_OVERRIDE_ADD)
        r->result = enforce_override_add(g->enforce, r->id, r->until, r->note, r->by, wall, &why);
    else
        r->result = enforce_override_remove(g->enforce, r->id, r->by, wall);
    snprintf(r->why, sizeof(r->why), "%s", why);
    api_complete(g->api, r);
}

/* POST and DELETE /api/v1/silences: the store and alerting's view of it. */
static void serve_silence(struct gateway *g, struct api_request *r, wall_s wall)
{
    const char *why = "";
    if (r->kind == API_SILENCE_ADD)
        r->result = alerting_silence_put(g->alerting, &r->silence, wall, &why);
    else
        r->result =
            alerting_silence_end(g->alerting, r->id, r->until, r->by, wall, &r->silence, &why);
    snprintf(r->why, sizeof(r->why), "%s", why);
    api_complete(g->api, r);
}

static void serve_api(struct gateway *g, wall_s wall, mono_ms now)
{
    if (!g->api)
        return;
    api_heartbeat(g->api, now, g->mqtt && mqtt_is_connected(g->mqtt));
    struct api_request *r;
    bool changed = false, overrides = false;
    while ((r = api_next_request(g->api))) {
        if (r->kind == API_SILENCE_ADD || r->kind == API_SILENCE_END) {
            serve_silence(g, r, wall);
            changed = true;
            continue;
        }
        if (r->kind == API_OVERRIDE_ADD || r->kind == API_OVERRIDE_REMOVE) {
            serve_override(g, r, wall);
            overrides = true;
            continue;
        }
        const struct alert *a = alerting_find(g->alerting, r->hall[0] ? r->hall : NULL, r->id);
        if (!a)
            r->result = -ENOENT;
        else if (!roles_may_handle(r->role, a->kind))
            r->result = -EACCES;
        else if (r->kind == API_APPROVE)
            r->result = alerting_approve(g->alerting, a->hall, r->id, r->by, r->note, wall);
        else
            r->result = alerting_ack(g->alerting, a->hall, r->id, r->by, r->note, r->resolve, wall);
        if (r->result == 0) {
            a = alerting_find(g->alerting, r->hall[0] ? r->hall : NULL, r->id);
            snprintf(r->state, sizeof(r->state), "%s", a ? alert_state_name(a->state) : "resolved");
            changed = true;
            /* Answered once stored: a history read after the answer sees it.
             * One commit per acknowledgement, at the pace of people. */
            if (g->store_writer)
                store_writer_flush(g->store_writer);
        }
        api_complete(g->api, r);
    }
    if (overrides || (api_wanted(g->api, now) && now - g->snapshot_at >= TICK_MS))
        publish_snapshots(g, wall, now, false);
    else if (changed)
        publish_snapshots(g, wall, now, true);
}

static void set_timezone(const char *tz)
{
    /* The schedule is wall-clock time in the hall's zone. */
    setenv("TZ", tz, 1);
    tzset();
}

/* ---- reload -------------------------------------------------------------- */

static void reload(struct gateway *g)
{
    sdnotify_reloading();
    struct config *nc = NULL;
    struct conf_errors errs = {0};
    log_notice("reloading %s", g->cfg->path);
    if (config_load(g->cfg->path, &nc, &errs) < 0) {
        for (size_t i = 0; i < errs.n; i++) {
            char where[64] = "";
            if (errs.v[i].line > 0)
                snprintf(where, sizeof(where), "%d:", errs.v[i].line);
            log_err("reload refused, keeping the running config: %s:%s %s: %s", errs.v[i].file,
                    where, errs.v[i].key, errs.v[i].msg);
        }
        conf_errors_free(&errs);
        metrics_inc(MET_CONFIG_RELOAD_FAILURES);
        sdnotify_ready("reload refused: the running config is kept");
        return;
    }
    char **subs;
    size_t n_subs;
    if (subscriptions_build(nc, &subs, &n_subs) < 0 || hallmodel_apply_config(g->hm, nc) < 0) {
        log_err("reload refused: out of memory");
        config_free(nc);
        metrics_inc(MET_CONFIG_RELOAD_FAILURES);
        sdnotify_ready("reload refused: out of memory");
        return;
    }
    bool new_mqtt =
        config_mqtt_changed(g->cfg, nc) || !subscriptions_equal(g->subs, g->n_subs, subs, n_subs);
    bool new_writer = config_influx_changed(g->cfg, nc);
    bool new_http = config_http_changed(g->cfg, nc);
    struct config *old = g->cfg;

    if (new_writer) {
        flush_batch(g);
        influx_writer_stop(g->writer, WRITER_DRAIN_MS);
        g->writer = NULL;
    }
    if (new_http) {
        httpapi_stop(g->http);
        g->http = NULL;
    }
    if (new_mqtt) {
        mqtt_stop(g->mqtt, MQTT_STOP_MS);
        mqtt_free(g->mqtt);
        g->mqtt = NULL;
    }
    subscriptions_free(g->subs, g->n_subs);
    g->subs = subs;
    g->n_subs = n_subs;
    g->cfg = nc;
    set_timezone(nc->gateway.timezone);
    ingest_set_config(&g->ingest, nc);
    unbound_feed_config(g->unbound, nc);
    g->unbound_published = g->unbound_written = 0; /* "enabled" and "max" may have changed */
    notifier_stop(g->notifier, NOTIFIER_DRAIN_MS);
    g->notifier = NULL;
    if (nc->n_notify > 0 && notifier_start(nc, &g->notifier) < 0)
        log_err("reload: cannot start the notification routes");
    alerting_set_config(g->alerting, nc, g->notifier, clock_wall());
    enforce_set_config(g->enforce, nc);
    if (ha_publish_set_config(g->discovery, nc) < 0)
        log_err("reload: out of memory for the Home Assistant discovery configs");
    if (new_writer && start_writer(g) < 0)
        log_err("reload: cannot start the InfluxDB writer");
    if (new_mqtt && start_mqtt(g) < 0)
        log_err("reload: cannot start the MQTT client");
    if (new_http && start_http(g) < 0)
        log_err("reload: cannot start the HTTP server");
    config_free(old);
    metrics_inc(MET_CONFIG_RELOADS);
    log_notice("reloaded %s: %zu halls, %zu devices%s%s", nc->path, nc->n_halls, nc->n_devices,
               new_mqtt ? ", MQTT reconnected" : "",
               new_writer ? ", InfluxDB writer restarted" : "");
    sdnotify_ready("running, config reloaded");
}

/* ---- signals ------------------------------------------------------------- */

static void *signal_main(void *arg)
{
    struct gateway *g = arg;
    threads_name_self("hallgw-signals");
    for (;;) {
        int sig;
        if (sigwait(&g->sigs, &sig) != 0)
            continue;
        if (sig == SIGHUP) {
            atomic_store(&g->want_reload, true);
        } else {
            atomic_store(&g->want_stop, true);
        }
        queue_wake(g->inbox);
        if (sig != SIGHUP)
            return NULL;
    }
}

/* ---- the core loop --------------------------------------------------------- */

/* Takes what is in the inbox (waiting up to wait_ms for the first message)
 * and processes it. Returns how many messages it took. */
static size_t take(struct gateway *g, int64_t wait_ms)
{
    void *items[CORE_BATCH];
    size_t n = queue_pop_batch(g->inbox, items, CORE_BATCH, wait_ms > 0 ? wait_ms : 0);
    mono_ms now = clock_mono_ms();
    for (size_t i = 0; i < n; i++) {
        process(g, items[i], now);
        free(items[i]);
    }
    return n;
}

/* Gives back to the system the heap that start-up left free: parsing a large
 * config and building, sending and acknowledging thousands of subscriptions
 * (on Paho's threads, in their own arenas) leave megabytes of free pages
 * that glibc would otherwise keep. Once, after the first subscribe. */
static void trim_heap(struct gateway *g)
{
    if (!mqtt_take_subscribed(g->mqtt) || g->heap_trimmed)
        return;
    g->heap_trimmed = true;
#ifdef __GLIBC__
    malloc_trim(0);
#endif
}

static void core_loop(struct gateway *g)
{
    g->next_stats = clock_mono_ms() + g->cfg->gateway.stats_interval_ms;
    g->next_tick = clock_mono_ms() + TICK_MS;
    while (!atomic_load(&g->want_stop)) {
        mono_ms now = clock_mono_ms();
        int64_t wait = mqtt_tick(g->mqtt, now);
        if (g->batch_points) {
            int64_t until_flush = g->batch_started + g->cfg->influx.flush_interval_ms - now;
            if (until_flush < wait)
                wait = until_flush;
        }
        if (g->next_stats - now < wait)
            wait = g->next_stats - now;
        if (g->next_tick - now < wait)
            wait = g->next_tick - now;

        take(g, wait);
        mark_journal(g);
        trim_heap(g);
        now = clock_mono_ms();
        wall_s wall = clock_wall(); /* the one reading of the wall clock per turn */
        serve_api(g, wall, now);
        ha_publish_tick(g->discovery, g->mqtt && mqtt_is_connected(g->mqtt), wall, now);
        /* The watchdog hears from a core that turns, with or without its
         * broker: a restart does not bring a broker back, it only loses the
         * state. A broker outage shows in /healthz and the metrics. */
        sdnotify_watchdog(now);
        if (now >= g->next_tick) {
            enforce_tick(g->enforce, wall, now);
            alerting_tick(g->alerting, wall, now);
            delivery_tick(g->delivery, g->cfg, wall);
            mqtt_journal_tick(g->mqtt);
            write_unbound(g, now);
            g->next_tick = now + TICK_MS;
        }
        if (now >= g->next_stats) {
            write_stats(g);
            char status[160];
            snprintf(
                status, sizeof(status), "%llu messages, %llu points written, %zu alerts active%s",
                (unsigned long long)(metrics_get(MET_RECV_NATIVE) +
                                     metrics_get(MET_RECV_ZIGBEE2MQTT) +
                                     metrics_get(MET_RECV_TASMOTA) + metrics_get(MET_RECV_SHELLY)),
                (unsigned long long)metrics_get(MET_POINTS_WRITTEN),
                alerting_active_count(g->alerting),
                g->mqtt && mqtt_is_connected(g->mqtt) ? "" : ", MQTT disconnected");
            sdnotify_status(status);
            g->next_stats = now + g->cfg->gateway.stats_interval_ms;
        }
        if (g->batch_points && now - g->batch_started >= g->cfg->influx.flush_interval_ms)
            flush_batch(g);
        if (atomic_exchange(&g->want_reload, false))
            reload(g);
    }
}

static void shutdown_all(struct gateway *g)
{
    sdnotify_stopping();
    log_notice("stopping: disconnecting from MQTT and flushing");
    /* Keep emptying the inbox while disconnecting, so the callback never
     * waits on a full queue; after the disconnect no message is taken, so
     * what was acknowledged to the broker is all in the inbox (or kept by
     * Paho's persistence for the next start). */
    mqtt_stop_begin(g->mqtt, MQTT_STOP_MS);
    while (!mqtt_stop_done(g->mqtt))
        take(g, 10);
    while (take(g, 0) > 0)
        ;
    write_stats(g);
    flush_batch(g);
    influx_writer_stop(g->writer, WRITER_DRAIN_MS);
    g->writer = NULL;
    notifier_stop(g->notifier, NOTIFIER_DRAIN_MS);
    g->notifier = NULL;
    delivery_stop(g->delivery, NOTIFIER_DRAIN_MS);
    g->delivery = NULL;
    store_writer_flush(g->store_writer); /* every transition taken is stored */
    log_notice("stopped: %llu messages dropped at a full queue, %llu points written, "
               "%llu spooled, %llu lost",
               (unsigned long long)metrics_get(MET_QUEUE_DROPS),
               (unsigned long long)metrics_get(MET_POINTS_WRITTEN),
               (unsigned long long)metrics_get(MET_POINTS_SPOOLED),
               (unsigned long long)metrics_get(MET_POINTS_LOST));
}

int gateway_run(const char *config_path)
{
    struct gateway g = {0};
    struct conf_errors errs = {0};
    int rc = 1;

    if (config_load(config_path, &g.cfg, &errs) < 0) {
        conf_errors_print(&errs, stderr);
        conf_errors_free(&errs);
        return 2;
    }
    sigemptyset(&g.sigs);
    sigaddset(&g.sigs, SIGTERM);
    sigaddset(&g.sigs, SIGINT);
    sigaddset(&g.sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &g.sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (mkdir(g.cfg->gateway.state_dir, 0750) < 0 && errno != EEXIST)
        log_warn("cannot create state directory %s: %s", g.cfg->gateway.state_dir, strerror(errno));
    if (http_global_init() < 0) {
        log_err("cannot initialise libcurl");
        goto out_free_config;
    }
    g.inbox = queue_new(g.cfg->limits.queue_capacity);
    buf_init(&g.batch, BATCH_MAX_BYTES);
    if (!g.inbox || hallmodel_new(g.cfg, &g.hm) < 0 ||
        subscriptions_build(g.cfg, &g.subs, &g.n_subs) < 0 ||
        !(g.unbound = unbound_new(UNBOUND_MAX_LIMIT))) {
        log_err("out of memory");
        goto out_free;
    }
    ingest_init(&g.ingest, g.cfg, g.hm);
    unbound_feed_config(g.unbound, g.cfg);
    g.ingest.unbound = g.unbound;
    set_timezone(g.cfg->gateway.timezone);
    g.rl_ack = (struct log_ratelimit)LOG_RATELIMIT_INIT(60000, 5);
    g.rl_unbound = (struct log_ratelimit)LOG_RATELIMIT_INIT(3600000, 1);
    char db[1024];
    const char *why = NULL;
    snprintf(db, sizeof(db), "%s/hallgw.db", g.cfg->gateway.state_dir);
    if (store_open(db, false, &g.store, &why) < 0) {
        log_err("cannot open the state store %s: %s", db, why ? why : "unknown error");
        goto out_free;
    }
    if (store_writer_start(db, &g.store_writer, &why) < 0) {
        log_err("cannot open the state store %s: %s", db, why ? why : "unknown error");
        goto out_free;
    }
    if (start_alerting(&g) < 0) {
        log_err("cannot start alerting");
        goto out_free;
    }
    if (start_enforce(&g) < 0) {
        log_err("cannot start enforcement");
        goto out_free;
    }
    if (start_discovery(&g) < 0) {
        log_err("out of memory");
        goto out_free;
    }
    if (delivery_start(config_path, g.cfg->gateway.id, &g.delivery) < 0)
        log_err("cannot start the daily record's sender; it is not sent by itself");
    if (pthread_create(&g.sig_thread, NULL, signal_main, &g) != 0) {
        log_err("cannot start the signal thread");
        goto out_free;
    }
    if (start_writer(&g) < 0) {
        log_err("cannot start the InfluxDB writer");
        goto out_stop_signals;
    }
    if (start_mqtt(&g) < 0)
        goto out_stop_writer;
    if (start_http(&g) < 0)
        log_err("cannot start the HTTP server; running without it");
    sdnotify_ready("running");
    log_notice("hallgw %s running: %zu halls, %zu devices, %zu subscriptions", g.cfg->gateway.id,
               g.cfg->n_halls, g.cfg->n_devices, g.n_subs);

    core_loop(&g);
    shutdown_all(&g);
    rc = 0;
    goto out_stop_signals;

out_stop_writer:
    influx_writer_stop(g.writer, WRITER_DRAIN_MS);
out_stop_signals:
    if (!atomic_load(&g.want_stop))
        pthread_kill(g.sig_thread, SIGTERM);
    pthread_join(g.sig_thread, NULL);
out_free:
    httpapi_stop(g.http);
    api_free(g.api);
    mqtt_free(g.mqtt);
    notifier_stop(g.notifier, 0);
    ha_publish_free(g.discovery);
    delivery_stop(g.delivery, 0);
    enforce_free(g.enforce);
    alerting_free(g.alerting);
    store_writer_stop(g.store_writer); /* commits every transition still queued */
    store_close(g.store);
    subscriptions_free(g.subs, g.n_subs);
    hallmodel_free(g.hm);
    unbound_free(g.unbound);
    buf_free(&g.batch);
    queue_free(g.inbox);
    http_global_cleanup();
out_free_config:
    config_free(g.cfg);
    return rc;
}
