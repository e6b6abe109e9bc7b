/* hallgw-agent: the PC health agent. Publishes the PC's telemetry and events
 * over MQTT and carries out signed commands (poweroff, scan, notify). */
#include "agent.h"

#include <errno.h>
#include <math.h>
#include <getopt.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent_clamav.h"
#include "agent_probe.h"
#include "mqtt.h"
#include "queue.h"

#define INBOX_CAPACITY 64
#define CONNECT_WAIT_MS 15000
#define STOP_MS 5000
#define EXIT_FLUSH_MS 10000
#define FOLLOW_BYTES (1u << 20)

static atomic_bool stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    atomic_store(&stop_requested, true);
}

static void usage(FILE *f)
{
    fputs("Usage: hallgw-agent [-c FILE] [--dry-run] [--once] [-v]\n"
          "       hallgw-agent --check-config FILE\n"
          "\n"
          "The hallgw PC agent. It reports this PC's health to the hall gateway over MQTT\n"
          "and carries out the gateway's signed commands:\n"
          "\n"
          "  telemetry  every interval on <prefix>/<hall>/<device>/telemetry: power, cpu_pct,\n"
          "             mem_pct, disk_free_pct, uptime_s, users, av_engine, av_realtime,\n"
          "             av_sig_updated, av_sig_version, av_last_scan, av_last_scan_type,\n"
          "             av_threats, net_fp, usb_storage\n"
          "  events     on .../event: threat_detected (a new FOUND line in the ClamAV scan\n"
          "             log), usb_storage_inserted, netcfg_changed, scan_finished, shutdown\n"
          "  status     \"online\" retained on .../status; \"offline\" as its last will\n"
          "  commands   on .../cmd: poweroff (warn the users, wait the grace, shut down),\n"
          "             scan (quick or full, with the configured scanner), notify (show a\n"
          "             message). A command must carry a valid HMAC-SHA256 signature made\n"
          "             with command_key_file, be addressed to this hall and device, be\n"
          "             unexpired and unused, and its nonce must be saved in state_dir\n"
          "             first; anything else is refused and nothing runs.\n"
          "             Every command is answered on .../cmd/reply. Programs are run from\n"
          "             the config's argv lists, never through a shell.\n"
          "\n"
          "Options:\n"
          "  -c, --config FILE        configuration file (default " AGENTCONF_DEFAULT_PATH ")\n"
          "      --check-config FILE  validate FILE, print every error as\n"
          "                           FILE:LINE: key: message, and exit\n"
          "  -n, --dry-run            do everything except act on the machine: scans and\n"
          "                           messages are only logged; a poweroff is reported\n"
          "                           (accepted, shutdown event, done), then the agent\n"
          "                           publishes \"offline\", disconnects and exits 0 as if the\n"
          "                           PC had gone down\n"
          "  -1, --once               publish one telemetry message and exit (no status,\n"
          "                           no commands)\n"
          "  -v, --verbose            log debug messages too\n"
          "  -V, --version            print the version and exit\n"
          "  -h, --help               print this help and exit\n"
          "\n"
          "Files:\n"
          "  " AGENTCONF_DEFAULT_PATH "     the configuration (see config/agent.conf)\n"
          "  <state_dir>/state         scan log position, last scan, network fingerprint and\n"
          "                            USB devices seen, so a restart repeats no event\n"
          "  <state_dir>/nonces        nonces of accepted commands until they expire\n"
          "  <state_dir>/mqtt/         MQTT session persistence\n"
          "\n"
          "Signals: SIGTERM and SIGINT publish \"offline\", disconnect and exit.\n"
          "\n"
          "Exit status: 0 on a clean stop (and after a dry-run poweroff), 1 on a runtime\n"
          "failure (e.g. the broker is unreachable with --once), 2 on an invalid\n"
          "configuration or usage.\n"
          "\n"
          "Documentation: docs/agents.md (topics, every key, the signature, a worked example).\n",
          f);
}

/* ---- publishing --------------------------------------------------------- */

static void flush_outbox(struct agent *a)
{
    while (a->out_n > 0 && mqtt_is_connected(a->mqtt)) {
        struct agent_out *o = &a->outbox[a->out_head];
        if (mqtt_publish(a->mqtt, o->topic, o->payload, strlen(o->payload), 1, o->retained) < 0)
            break;
        free(o->topic);
        free(o->payload);
        a->out_head = (a->out_head + 1) % AGENT_OUTBOX_MAX;
        a->out_n--;
    }
}

void agent_publish(struct agent *a, const char *topic, const char *payload, bool retained)
{
    struct agent_out *o;

    if (a->out_n == AGENT_OUTBOX_MAX) {
        o = &a->outbox[a->out_head];
        free(o->topic);
        free(o->payload);
        a->out_head = (a->out_head + 1) % AGENT_OUTBOX_MAX;
        a->out_n--;
        if (a->out_dropped++ % 100 == 0)
            log_warn("broker unreachable: %llu queued messages dropped so far",
                     (unsigned long long)a->out_dropped);
    }
    o = &a->outbox[(a->out_head + a->out_n) % AGENT_OUTBOX_MAX];
    o->topic = strdup(topic);
    o->payload = strdup(payload);
    o->retained = retained;
    if (!o->topic || !o->payload) {
        free(o->topic);
        free(o->payload);
        log_err("out of memory: message to %s dropped", topic);
        return;
    }
    a->out_n++;
    log_debug("queued on %s: %s", topic, payload);
    flush_outbox(a);
}

void agent_event(struct agent *a, const char *payload)
{
    log_notice("event: %s", payload);
    agent_publish(a, a->t_event, payload, false);
}

void agent_save_state(struct agent *a)
{
    int rc;
    if (!a->state_ok)
        return;
    if ((rc = agent_state_save(a->cfg->state_dir, &a->st)) < 0 &&
        log_ratelimit_ok(&a->rl_probe, "state file"))
        log_warn("cannot save %s/state: %s", a->cfg->state_dir, strerror(-rc));
}

/* ---- telemetry ---------------------------------------------------------- */

static int net_fingerprint(const struct agent *a, char fp[65])
{
    char **addrs = NULL, *text;
    size_t n = 0;

    if (agent_probe_ifaddrs(a->cfg->network.ipv6, &addrs, &n) < 0)
        n = 0;
    text = agent_probe_net_text(a->cfg->probe_root, addrs, n, a->cfg->network.proxy_env);
    agent_probe_lines_free(addrs, n);
    if (!text)
        return -ENOMEM;
    log_debug("network fingerprint text:\n%s", text);
    cmdsign_sha256_hex(text, strlen(text), fp);
    free(text);
    return 0;
}

static void add_av(struct agent *a, struct buf *j)
{
    static const char *const realtime[] = {"clamd", "clamonacc", NULL};
    struct agent_clamav_db db = {0};
    struct agent_scan_summary sum;
    const char *type = "unknown";

    jsonw_member_str(j, "av_engine", "clamav");
    jsonw_member_bool(j, "av_realtime", agent_probe_process_running(a->cfg->probe_root, realtime));
    (void)agent_clamav_db_read(a->cfg->clamav.db_dir, &db);
    jsonw_member_int(j, "av_sig_updated", (long long)db.build_time);
    jsonw_member_int(j, "av_sig_version", db.version);
    if (agent_clamav_last_summary(a->cfg->clamav.scan_log, 0, &sum) != 0)
        sum = (struct agent_scan_summary){.threats = 0};
    if (a->st.have_scan && sum.inode == a->st.last_scan_inode &&
        sum.offset == a->st.last_scan_summary)
        type = a->st.last_scan_type;
    jsonw_member_int(j, "av_last_scan", (long long)(sum.start ? sum.start : sum.end));
    jsonw_member_str(j, "av_last_scan_type", type);
    jsonw_member_int(j, "av_threats", sum.threats > 0 ? sum.threats : 0);
}

static int send_telemetry(struct agent *a, struct agent_cpu_sample *prev)
{
    const char *root = a->cfg->probe_root, *payload;
    struct agent_cpu_sample cur;
    struct agent_usb_dev usb[AGENT_USB_MAX];
    char jtext[AGENT_PAYLOAD_MAX];
    struct buf j;
    double pct;
    int64_t up;
    int users;
    size_t n_usb;
    char fp[65];

    buf_init_fixed(&j, jtext, sizeof(jtext));

    buf_putc(&j, '{');
    jsonw_member_int(&j, "ts", (long long)wall_whole(clock_wall()));
    jsonw_member_str(&j, "power", "on");
    if (agent_probe_cpu_sample(root, &cur) == 0) {
        jsonw_member_number(&j, "cpu_pct", round(agent_probe_cpu_pct(prev, &cur) * 10) / 10);
        *prev = cur;
    }
    if (agent_probe_mem_pct(root, &pct) == 0)
        jsonw_member_number(&j, "mem_pct", round(pct * 10) / 10);
    if (agent_probe_disk_free_pct(root, &pct) == 0)
        jsonw_member_number(&j, "disk_free_pct", round(pct * 10) / 10);
    if (agent_probe_uptime_s(root, &up) == 0)
        jsonw_member_int(&j, "uptime_s", (long long)up);
    if (agent_probe_users(root, &users) == 0)
        jsonw_member_int(&j, "users", users);
    add_av(a, &j);
    if (net_fingerprint(a, fp) == 0)
        jsonw_member_str(&j, "net_fp", fp);
    if (agent_probe_usb_storage(root, usb, AGENT_USB_MAX, &n_usb) == 0)
        jsonw_member_int(&j, "usb_storage", (long long)n_usb);
    if (!(payload = (buf_putc(&j, '}') == 0 ? j.data : NULL)))
        return -ENOSPC;
    log_debug("telemetry: %s", payload);
    /* A snapshot: not queued while the broker is away, the next one replaces it. */
    return mqtt_publish(a->mqtt, a->t_telemetry, payload, strlen(payload), 1, false);
}

/* ---- watchers: scan log, USB storage, network ------------------------ */

static void on_found(void *ctx, const char *path, const char *sig)
{
    struct agent *a = ctx;
    char jtext[AGENT_PAYLOAD_MAX];
    struct buf j;
    const char *payload;

    buf_init_fixed(&j, jtext, sizeof(jtext));

    buf_putc(&j, '{');
    jsonw_member_str(&j, "type", "threat_detected");
    jsonw_member_str(&j, "signature", sig);
    jsonw_member_str(&j, "path", path);
    jsonw_member_int(&j, "ts", (long long)wall_whole(clock_wall()));
    if ((payload = (buf_putc(&j, '}') == 0 ? j.data : NULL)))
        agent_event(a, payload);
}

static bool watch_scan_log(struct agent *a)
{
    struct agent_scanlog_pos before = a->st.scanlog;

    if (!a->st.have_scanlog) {
        (void)agent_clamav_log_end(a->cfg->clamav.scan_log, &a->st.scanlog);
        a->st.have_scanlog = true;
        return true;
    }
    (void)agent_clamav_follow(a->cfg->clamav.scan_log, &a->st.scanlog, FOLLOW_BYTES, on_found, a);
    return before.inode != a->st.scanlog.inode || before.offset != a->st.scanlog.offset;
}

static bool usb_known(const struct agent_state *st, const char *key)
{
    for (size_t i = 0; i < st->n_usb; i++)
        if (strcmp(st->usb[i], key) == 0)
            return true;
    return false;
}

static bool watch_usb(struct agent *a)
{
    struct agent_usb_dev devs[AGENT_USB_MAX];
    size_t n;
    bool changed = !a->st.have_usb;

    if (agent_probe_usb_storage(a->cfg->probe_root, devs, AGENT_USB_MAX, &n) < 0)
        return false;
    if (n > AGENT_USB_MAX)
        n = AGENT_USB_MAX;
    for (size_t i = 0; i < n; i++) {
        if (usb_known(&a->st, devs[i].key))
            continue;
        changed = true;
        if (!a->st.have_usb)
            continue; /* the first run: what is plugged in now is the baseline */
        char jtext[AGENT_PAYLOAD_MAX];
        struct buf j;
        const char *payload;
        buf_init_fixed(&j, jtext, sizeof(jtext));
        buf_putc(&j, '{');
        jsonw_member_str(&j, "type", "usb_storage_inserted");
        jsonw_member_str(&j, "vendor", devs[i].vendor[0] ? devs[i].vendor : devs[i].vendor_id);
        jsonw_member_str(&j, "model", devs[i].model[0] ? devs[i].model : devs[i].product_id);
        jsonw_member_str(&j, "serial", devs[i].serial);
        jsonw_member_str(&j, "vendor_id", devs[i].vendor_id);
        jsonw_member_str(&j, "product_id", devs[i].product_id);
        jsonw_member_int(&j, "ts", (long long)wall_whole(clock_wall()));
        if ((payload = (buf_putc(&j, '}') == 0 ? j.data : NULL)))
            agent_event(a, payload);
    }
    changed |= n != a->st.n_usb;
    if (changed) {
        for (size_t i = 0; i < n; i++)
            snprintf(a->st.usb[i], AGENT_USB_KEY_MAX, "%s", devs[i].key);
        a->st.n_usb = n;
        a->st.have_usb = true;
    }
    return changed;
}

static bool watch_net(struct agent *a)
{
    char fp[65];

    if (net_fingerprint(a, fp) < 0 || (a->st.have_net_fp && strcmp(fp, a->st.net_fp) == 0))
        return false;
    if (a->st.have_net_fp) {
        char jtext[AGENT_PAYLOAD_MAX];
        struct buf j;
        const char *payload;
        buf_init_fixed(&j, jtext, sizeof(jtext));
        buf_putc(&j, '{');
        jsonw_member_str(&j, "type", "netcfg_changed");
        jsonw_member_str(&j, "old", a->st.net_fp);
        jsonw_member_str(&j, "new", fp);
        jsonw_member_int(&j, "ts", (long long)wall_whole(clock_wall()));
        if ((payload = (buf_putc(&j, '}') == 0 ? j.data : NULL)))
            agent_event(a, payload);
    }
    memcpy(a->st.net_fp, fp, sizeof(fp));
    a->st.have_net_fp = true;
    return true;
}

static void watch(struct agent *a)
{
    bool changed = watch_scan_log(a);
    changed |= watch_usb(a);
    changed |= watch_net(a);
    if (changed)
        agent_save_state(a);
}

/* ---- setup and the loop ------------------------------------------------- */

static int parse_args(int argc, char **argv, const char **config, bool *dry_run, bool *once)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'}, {"check-config", required_argument, NULL, 'C'},
        {"dry-run", no_argument, NULL, 'n'},      {"once", no_argument, NULL, '1'},
        {"verbose", no_argument, NULL, 'v'},      {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    int c;

    while ((c = getopt_long(argc, argv, "c:n1vVh", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            *config = optarg;
            break;
        case 'C': {
            struct agentconf *cfg;
            struct conf_errors errs;
            if (agentconf_load(optarg, &cfg, &errs) < 0) {
                conf_errors_print(&errs, stderr);
                fprintf(stderr, "%s: %zu error%s\n", optarg, errs.n, errs.n == 1 ? "" : "s");
                conf_errors_free(&errs);
                exit(2);
            }
            printf("%s: OK (hall %s, device %s)\n", optarg, cfg->hall, cfg->device);
            agentconf_free(cfg);
            exit(0);
        }
        case 'n':
            *dry_run = true;
            break;
        case '1':
            *once = true;
            break;
        case 'v':
            log_set_level(LOG_DEBUG);
            break;
        case 'V':
            printf("hallgw-agent %s\n", HALLGW_VERSION);
            exit(0);
        case 'h':
            usage(stdout);
            exit(0);
        default:
            usage(stderr);
            return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "hallgw-agent: unexpected argument '%s'\n", argv[optind]);
        return -1;
    }
    return 0;
}

static void setup_state(struct agent *a, bool once)
{
    const char *dir = a->cfg->state_dir;
    char path[4096];
    int rc;

    const char *cmds = once ? "" : ", and commands are refused until it can be written";

    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
        log_warn("cannot create the state directory %s: %s; state is kept in memory only%s", dir,
                 strerror(errno), cmds);
    } else if (access(dir, W_OK) < 0) {
        log_warn("cannot write to %s: %s; state is kept in memory only%s", dir, strerror(errno),
                 cmds);
    } else {
        a->state_ok = !once;
        snprintf(path, sizeof(path), "%s/mqtt", dir);
        if (!once && mkdir(path, 0700) < 0 && errno != EEXIST)
            log_warn("cannot create %s: %s", path, strerror(errno));
    }
    if ((rc = agent_state_load(dir, &a->st)) < 0 && rc != -ENOENT)
        log_warn("cannot read %s/state: %s", dir, strerror(-rc));
    rc = agent_state_load_nonces(dir, a->replay, wall_whole(clock_wall()));
    if (rc > 0)
        log_info("%d unexpired command nonces restored", rc);
}

static int start_mqtt(struct agent *a, bool once)
{
    const struct agentconf *c = a->cfg;
    const char *subs[] = {a->t_cmd};
    char persist[4096];

    snprintf(persist, sizeof(persist), "%s/mqtt", c->state_dir);
    struct mqtt_options o = {
        .uri = c->mqtt.uri,
        .client_id = c->mqtt.client_id,
        .username = c->mqtt.username,
        .password = c->mqtt.password,
        .keepalive_s = c->mqtt.keepalive_s,
        .clean_session = once,
        .ca_file = c->mqtt.ca_file,
        .cert_file = c->mqtt.cert_file,
        .key_file = c->mqtt.key_file,
        .verify = c->mqtt.verify,
        .will_topic = once ? NULL : a->t_status,
        .online_payload = "online",
        .will_payload = "offline",
        .subscriptions = once ? NULL : subs,
        .n_subscriptions = once ? 0 : 1,
        .qos = 1,
        .inbox = once ? NULL : a->inbox,
        .inbox_wait_ms = 1000,
        .max_payload = CMDSIGN_PAYLOAD_MAX,
        .persistence_dir = a->state_ok ? persist : NULL,
    };
    int rc = mqtt_new(&o, &a->mqtt);
    return rc < 0 ? rc : mqtt_start(a->mqtt);
}

static bool wait_connected(struct agent *a)
{
    mono_ms deadline = clock_mono_ms() + CONNECT_WAIT_MS;
    while (!mqtt_is_connected(a->mqtt) && clock_mono_ms() < deadline &&
           !atomic_load(&stop_requested)) {
        mqtt_tick(a->mqtt, clock_mono_ms());
        usleep(20000);
    }
    mqtt_tick(a->mqtt, clock_mono_ms());
    return mqtt_is_connected(a->mqtt);
}

static int run_once(struct agent *a)
{
    struct agent_cpu_sample prev;
    bool have = agent_probe_cpu_sample(a->cfg->probe_root, &prev) == 0;
    mono_ms t0 = clock_mono_ms();

    if (!wait_connected(a)) {
        log_err("cannot connect to %s", a->cfg->mqtt.uri);
        return 1;
    }
    if (clock_mono_ms() - t0 < 500) /* a CPU interval worth measuring */
        usleep((useconds_t)(500 - (clock_mono_ms() - t0)) * 1000);
    if (send_telemetry(a, have ? &prev : NULL) < 0) {
        log_err("cannot publish the telemetry on %s", a->t_telemetry);
        return 1;
    }
    return 0;
}

static void run_loop(struct agent *a)
{
    struct agent_cpu_sample prev = {0};
    mono_ms next_tel = 0, next_watch = 0, exit_deadline = 0;
    void *items[16];
    bool have_cpu = agent_probe_cpu_sample(a->cfg->probe_root, &prev) == 0;

    while (!atomic_load(&stop_requested)) {
        mono_ms now = clock_mono_ms();
        int64_t wait = mqtt_tick(a->mqtt, now);
        bool up = mqtt_is_connected(a->mqtt);

        if (up)
            flush_outbox(a);
        if (up && now >= next_tel && !a->exit_requested) {
            (void)send_telemetry(a, have_cpu ? &prev : NULL);
            have_cpu = true;
            next_tel = now + a->cfg->interval_ms;
        }
        if (now >= next_watch && !a->exit_requested) {
            watch(a);
            next_watch = now + a->cfg->watch_interval_ms;
        }
        agent_cmd_tick(a, now);
        if (a->exit_requested) {
            if (!exit_deadline)
                exit_deadline = now + EXIT_FLUSH_MS;
            if (a->out_n == 0 || now >= exit_deadline)
                break;
        }
        if (wait > 200)
            wait = 200;
        size_t n = queue_pop_batch(a->inbox, items, 16, wait > 0 ? wait : 1);
        for (size_t i = 0; i < n; i++) {
            agent_cmd_handle(a, items[i]);
            free(items[i]);
        }
    }
}

static void drain_inbox(struct agent *a)
{
    void *items[16];
    size_t n;
    while ((n = queue_pop_batch(a->inbox, items, 16, 0)) > 0)
        for (size_t i = 0; i < n; i++)
            free(items[i]);
}

int main(int argc, char **argv)
{
    const char *config_path = AGENTCONF_DEFAULT_PATH;
    struct conf_errors errs;
    struct agent a = {.rl_cmd = LOG_RATELIMIT_INIT(60000, 10),
                      .rl_probe = LOG_RATELIMIT_INIT(600000, 3)};
    bool once = false;
    int rc = 1;

    if (parse_args(argc, argv, &config_path, &a.dry_run, &once) < 0)
        return 2;
    if (agentconf_load(config_path, &a.cfg, &errs) < 0) {
        conf_errors_print(&errs, stderr);
        conf_errors_free(&errs);
        return 2;
    }
    const struct agentconf *c = a.cfg;
#define TOPIC(buf, sfx)                                                                            \
    snprintf(buf, sizeof(buf), "%s/%s/%s/" sfx, c->mqtt.prefix, c->hall, c->device)
    TOPIC(a.t_telemetry, "telemetry");
    TOPIC(a.t_event, "event");
    TOPIC(a.t_status, "status");
    TOPIC(a.t_cmd, "cmd");
    TOPIC(a.t_reply, "cmd/reply");
#undef TOPIC
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    if (!(a.replay = cmdsign_replay_new(AGENT_REPLAY_CAPACITY)) ||
        !(a.inbox = queue_new(INBOX_CAPACITY))) {
        log_err("out of memory");
        goto out;
    }
    setup_state(&a, once);
    if (!c->command_key && !once)
        log_warn("no command_key_file: every command will be refused");
    log_notice("hallgw-agent %s: hall %s, device %s, broker %s%s", HALLGW_VERSION, c->hall,
               c->device, c->mqtt.uri, a.dry_run ? " (dry run: nothing is done to this PC)" : "");
    if (start_mqtt(&a, once) < 0)
        goto out;
    if (once) {
        rc = run_once(&a);
    } else {
        run_loop(&a);
        rc = a.exit_requested ? a.exit_code : 0;
        agent_cmd_stop_children(&a);
        flush_outbox(&a);
    }
    mqtt_stop(a.mqtt, STOP_MS); /* publishes "offline" (retained) first */
    if (!once)
        drain_inbox(&a);
    log_notice("hallgw-agent stopped");
out:
    mqtt_free(a.mqtt);
    for (size_t i = 0; i < a.out_n; i++) {
        struct agent_out *o = &a.outbox[(a.out_head + i) % AGENT_OUTBOX_MAX];
        free(o->topic);
        free(o->payload);
    }
    queue_free(a.inbox);
    cmdsign_replay_free(a.replay);
    agentconf_free(a.cfg);
    return rc;
}
