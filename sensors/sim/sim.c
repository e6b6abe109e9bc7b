/* hallgw-sim: simulates a whole service hall over MQTT, at real time or
 * accelerated, or as a load generator. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "cmdsign.h"
#include "config.h"
#include "crypto.h"
#include "duration.h"
#include "httpclient.h"
#include "log.h"
#include "json.h"
#include "mqtt.h"
#include "queue.h"
#include "simhall.h"
#include "simmonth.h"

static atomic_bool stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    atomic_store(&stop_requested, true);
}

struct sim_opts {
    const char *config_path;
    const char *uri, *username, *password, *prefix;
    const char *hall, *hall_name;
    int windows, qos;
    int halls; /* --halls: h1..hN on one gateway */
    double speed, rate;
    long long count;
    double duration_s;
    uint64_t seed;
    const char *start; /* HH:MM[:SS] simulated time of day to start at */
    int print_config;
    int incidents;
    const char *refuse; /* a PC id whose user refuses power-off */
    const char *month;  /* YYYY-MM: write that month into InfluxDB, exit */
};

struct publisher {
    struct mqtt *mqtt;
    int qos;
    unsigned long long sent, failed;
};

/* Opening hours when there is no config: Monday to Friday, 09:00-17:00,
 * lunch 12:00-13:00. */
static struct config_break default_lunch = {12 * 3600, 13 * 3600};
static const struct config_schedule default_schedule = {
    .weekdays = 0x3e,
    .open_s = 9 * 3600,
    .close_s = 17 * 3600,
    .breaks = &default_lunch,
    .n_breaks = 1,
    .poweroff_s = -1,
    .poweron_s = -1,
};

static void usage(FILE *f)
{
    fputs("Usage: hallgw-sim [-c FILE] [--uri URI] [--username NAME] [--prefix P] [--hall ID]\n"
          "                  [--windows N] [--speed X] [--start HH:MM] [--rate N] [--count N]\n"
          "                  [--duration D] [--seed S] [--qos Q] [--incidents] [--refuse PC]\n"
          "                  [--halls N]\n"
          "       hallgw-sim [--hall ID | --halls N] [--windows N] [--hall-name NAME] "
          "--print-config\n"
          "       hallgw-sim -c FILE --month YYYY-MM [--hall ID] [--windows N] [--seed S]\n"
          "\n"
          "Simulates a public service hall of N windows over MQTT: per window a seat\n"
          "sensor, a PC and a peripheral smart plug; per hall a queue system, a people\n"
          "counter, two air sensors and a printer, in the native, Zigbee2MQTT, Tasmota\n"
          "and Shelly formats. Seats are staffed through opening hours (the config's\n"
          "schedule with -c, else 09:00-17:00 Monday to Friday with lunch 12:00-13:00,\n"
          "in simulated local time); the queue and CO2 follow the day. It obeys the\n"
          "gateway's commands as the real devices would: signed power-off and scan\n"
          "commands to its PCs (verified with mqtt.command_key_file of the -c config),\n"
          "Tasmota and Shelly relay commands to its plugs.\n"
          "\n"
          "Options:\n"
          "  -c, --config FILE     take the broker URI, credentials, topic prefix, schedule\n"
          "                        and command key from a hallgw config file (they\n"
          "                        replace --uri, --username and --prefix)\n"
          "  -u, --uri URI         broker (default tcp://127.0.0.1:1883)\n"
          "      --username NAME   broker user name; the password is read from the\n"
          "                        HALLGW_SIM_PASSWORD environment variable\n"
          "      --prefix P        native topic prefix (default hall)\n"
          "      --hall ID         hall id (default h1)\n"
          "      --hall-name NAME  hall name for --print-config (default 政务服务大厅)\n"
          "      --halls N         simulate N halls, 1-9, on one gateway: h1 ... hN, named\n"
          "                        NAME 1 ... NAME N, device ids prefixed with the hall\n"
          "                        id (h2-seat-w01); the incidents play in h1 only\n"
          "  -w, --windows N       number of service windows, 1-99 (default 12)\n"
          "  -s, --speed X         simulated seconds per real second (default 1)\n"
          "      --start HH:MM     simulated local time of day to start at (default now)\n"
          "  -r, --rate N          load mode: N reports per second round-robin over the\n"
          "                        devices, ignoring their intervals (0 = as fast as possible)\n"
          "  -n, --count N         stop after N messages\n"
          "  -d, --duration D      stop after D (e.g. 30s, 5m)\n"
          "      --seed S          random seed, for repeatable runs (default 1)\n"
          "      --qos Q           publish QoS, 0 or 1 (default 1)\n"
          "      --print-config    print the halls and devices config for this hall, exit\n"
          "      --incidents       play scripted incidents: window w07 unstaffed for 15 min\n"
          "                        after 1 min, a threat on pc-w03 after 2 min, the printer\n"
          "                        out of paper from 5 to 12 min, pc-w05's scan 9 days old\n"
          "      --refuse PC       the PC's user refuses the nightly power-off\n"
          "      --month YYYY-MM   write that whole month of readings (window state, queue,\n"
          "                        air, PC antivirus state and events, power-off steps)\n"
          "                        straight into the InfluxDB of the -c config, following\n"
          "                        its schedule, as fast as InfluxDB takes them; no MQTT\n"
          "  -V, --version         print the version and exit\n"
          "  -h, --help            print this help and exit\n"
          "\n"
          "A progress line goes to stderr every 10 seconds; SIGINT or SIGTERM stops.\n"
          "Exit status: 0 after a clean stop, 1 when the broker cannot be reached,\n"
          "2 on a usage or configuration error. See hallgw-sim(1).\n",
          f);
}

static void publish(void *arg, const char *topic, const char *payload, bool retained)
{
    struct publisher *p = arg;
    if (mqtt_publish(p->mqtt, topic, payload, strlen(payload), p->qos, retained) == 0)
        p->sent++;
    else
        p->failed++;
}

static int parse_args(int argc, char **argv, struct sim_opts *o)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},   {"uri", required_argument, NULL, 'u'},
        {"username", required_argument, NULL, 'U'}, {"prefix", required_argument, NULL, 'P'},
        {"hall", required_argument, NULL, 'H'},     {"hall-name", required_argument, NULL, 'N'},
        {"windows", required_argument, NULL, 'w'},  {"speed", required_argument, NULL, 's'},
        {"start", required_argument, NULL, 'T'},    {"rate", required_argument, NULL, 'r'},
        {"count", required_argument, NULL, 'n'},    {"duration", required_argument, NULL, 'd'},
        {"seed", required_argument, NULL, 'S'},     {"qos", required_argument, NULL, 'q'},
        {"print-config", no_argument, NULL, 'p'},   {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},        {"incidents", no_argument, NULL, 'I'},
        {"refuse", required_argument, NULL, 'R'},   {"month", required_argument, NULL, 'M'},
        {"halls", required_argument, NULL, 'A'},    {NULL, 0, NULL, 0},
    };
    int c;
    char *end;
    while ((c = getopt_long(argc, argv, "c:u:w:s:r:n:d:Vh", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            o->config_path = optarg;
            break;
        case 'u':
            o->uri = optarg;
            break;
        case 'U':
            o->username = optarg;
            break;
        case 'P':
            o->prefix = optarg;
            break;
        case 'H':
            o->hall = optarg;
            break;
        case 'N':
            o->hall_name = optarg;
            break;
        case 'w':
            o->windows = (int)strtol(optarg, &end, 10);
            if (*end || o->windows < 1 || o->windows > SIM_MAX_WINDOWS) {
                fprintf(stderr, "hallgw-sim: --windows: expected 1 to %d, got '%s'\n",
                        SIM_MAX_WINDOWS, optarg);
                return -1;
            }
            break;
        case 's':
            o->speed = strtod(optarg, &end);
            if (*end || !(o->speed > 0) || o->speed > 100000) {
                fprintf(stderr, "hallgw-sim: --speed: expected a number > 0, got '%s'\n", optarg);
                return -1;
            }
            break;
        case 'T':
            o->start = optarg;
            break;
        case 'r':
            o->rate = strtod(optarg, &end);
            if (*end || o->rate < 0) {
                fprintf(stderr, "hallgw-sim: --rate: expected a number >= 0, got '%s'\n", optarg);
                return -1;
            }
            break;
        case 'n':
            o->count = strtoll(optarg, &end, 10);
            if (*end || o->count < 1) {
                fprintf(stderr, "hallgw-sim: --count: expected a positive integer\n");
                return -1;
            }
            break;
        case 'd': {
            int64_t ms;
            if (duration_parse_ms(optarg, &ms) < 0) {
                fprintf(stderr, "hallgw-sim: --duration: not a duration: '%s'\n", optarg);
                return -1;
            }
            o->duration_s = (double)ms / 1000.0;
            break;
        }
        case 'S':
            o->seed = strtoull(optarg, &end, 10);
            break;
        case 'q':
            o->qos = (int)strtol(optarg, &end, 10);
            if (*end || o->qos < 0 || o->qos > 1) {
                fprintf(stderr, "hallgw-sim: --qos: expected 0 or 1\n");
                return -1;
            }
            break;
        case 'p':
            o->print_config = 1;
            break;
        case 'I':
            o->incidents = 1;
            break;
        case 'R':
            o->refuse = optarg;
            break;
        case 'M':
            o->month = optarg;
            break;
        case 'A':
            o->halls = (int)strtol(optarg, &end, 10);
            if (*end || o->halls < 1 || o->halls > SIM_MAX_HALLS) {
                fprintf(stderr, "hallgw-sim: --halls: expected 1 to %d, got '%s'\n", SIM_MAX_HALLS,
                        optarg);
                return -1;
            }
            break;
        case 'V':
            printf("hallgw-sim %s\n", HALLGW_VERSION);
            exit(0);
        case 'h':
            usage(stdout);
            exit(0);
        default:
            fputs("Try 'hallgw-sim --help' for more information.\n", stderr);
            return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "hallgw-sim: unexpected argument '%s'\n", argv[optind]);
        return -1;
    }
    return 0;
}

/* Simulated start time: now, or today at --start in local time. */
static int start_time(const struct sim_opts *o, wall_s now, int64_t tz_offset, wall_s *out)
{
    if (!o->start) {
        *out = now;
        return 0;
    }
    int32_t tod;
    if (timeofday_parse(o->start, &tod) < 0) {
        fprintf(stderr, "hallgw-sim: --start: expected HH:MM or HH:MM:SS, got '%s'\n", o->start);
        return -1;
    }
    double local = now + (double)tz_offset;
    *out = floor(local / 86400.0) * 86400.0 + tod - (double)tz_offset;
    return 0;
}

static void progress(const struct publisher *p, double elapsed_s, wall_s sim_t)
{
    char when[32] = "";
    time_t t = (time_t)wall_whole(sim_t);
    struct tm tm;
    if (sim_t > 0 && localtime_r(&t, &tm))
        strftime(when, sizeof(when), ", simulated %H:%M", &tm);
    fprintf(stderr, "hallgw-sim: %llu messages published (%.0f/s)%s%s\n", p->sent,
            elapsed_s > 0 ? (double)p->sent / elapsed_s : 0.0, when,
            p->failed ? ", some publishes failed (broker unreachable?)" : "");
}

struct commands {
    struct sim_hall *hall;
    struct publisher *pub;
    uint8_t key[CMDSIGN_KEY_MAX];
    size_t key_len;
    struct cmdsign_replay *replay;
};

static void reply(struct commands *c, const char *device, const char *id, const char *result,
                  const char *detail)
{
    char topic[256], p[512];
    snprintf(topic, sizeof(topic), "%s/%s/%s/cmd/reply", c->hall->prefix, c->hall->hall, device);
    snprintf(p, sizeof(p), "{\"id\":\"%s\",\"result\":\"%s\",\"detail\":\"%s\"}", id, result,
             detail);
    publish(c->pub, topic, p, false);
}

/* A signed command to one of the simulated PCs, obeyed as hallgw-agent
 * --dry-run would. */
static void pc_command(struct commands *c, struct sim_device *d, const struct mqtt_msg *m)
{
    struct cmdsign_cmd cmd;
    const char *why = NULL;
    int64_t now = wall_whole(clock_wall());
    if (!c->key_len) {
        fprintf(stderr,
                "hallgw-sim: a command for %s, but no command key (-c config with "
                "mqtt.command_key_file)\n",
                d->id);
        return;
    }
    int r = cmdsign_verify(c->key, c->key_len, m->payload, m->payload_len, now, c->hall->hall,
                           d->id, &cmd, &why);
    if (r == 0 && cmdsign_replay_check_and_add(c->replay, cmd.nonce, cmd.expires, now) < 0) {
        r = -EALREADY;
        why = "replayed command";
    }
    if (r < 0) {
        fprintf(stderr, "hallgw-sim: %s refused a command: %s\n", d->id, why ? why : strerror(-r));
        if (cmd.id[0])
            reply(c, d->id, cmd.id, "refused", why ? why : "refused");
        return;
    }
    switch (cmd.action_code) {
    case CMDSIGN_ACTION_POWEROFF:
        if (d->refuses) {
            reply(c, d->id, cmd.id, "refused", "the user is still working (simulated)");
            fprintf(stderr, "hallgw-sim: %s refused the power-off: the user is still working\n",
                    d->id);
            return;
        }
        reply(c, d->id, cmd.id, "accepted", "shutting down");
        reply(c, d->id, cmd.id, "done", "dry run: the PC went down");
        simhall_set_power(c->hall, d, false, publish, c->pub);
        fprintf(stderr, "hallgw-sim: %s powered off\n", d->id);
        break;
    case CMDSIGN_ACTION_SCAN: {
        char topic[256];
        reply(c, d->id, cmd.id, "accepted", "scanning");
        d->scanned_at = c->hall->wall_now;
        snprintf(topic, sizeof(topic), "%s/%s/%s/event", c->hall->prefix, c->hall->hall, d->id);
        publish(c->pub, topic, "{\"type\":\"scan_finished\",\"scan_type\":\"quick\",\"threats\":0}",
                false);
        reply(c, d->id, cmd.id, "done", "0 threats");
        break;
    }
    case CMDSIGN_ACTION_NOTIFY:
        reply(c, d->id, cmd.id, "done", "shown");
        break;
    case CMDSIGN_ACTION_OTHER:
        reply(c, d->id, cmd.id, "refused", "unknown action");
        fprintf(stderr, "hallgw-sim: %s refused a command: unknown action\n", d->id);
        break;
    }
}

static void handle_command(struct commands *c, const struct mqtt_msg *m)
{
    char a[128], b[128];
    struct sim_device *d;
    if (sscanf(m->topic, "cmnd/%127[^/]/%127s", a, b) == 2 && strcmp(b, "POWER") == 0) {
        d = simhall_find_source(c->hall, SIM_TASMOTA, a);
        if (d)
            simhall_set_power(c->hall, d, strcmp(m->payload, "ON") == 0, publish, c->pub);
        return;
    }
    if (sscanf(m->topic, "%127[^/]/%127s", a, b) == 2 && strcmp(b, "rpc") == 0) {
        d = simhall_find_source(c->hall, SIM_SHELLY, a);
        struct json_flat f;
        if (!d || json_flatten(m->payload, m->payload_len, NULL, &f) != JSON_OK)
            return;
        const struct json_field *method = json_flat_get(&f, "method");
        const struct json_field *on = json_flat_get(&f, "params_on");
        if (method && method->type == JSON_T_STRING && strcmp(method->str, "Switch.Set") == 0 &&
            on && on->type == JSON_T_BOOL)
            simhall_set_power(c->hall, d, on->b, publish, c->pub);
        json_flat_free(&f);
        return;
    }
    size_t pl = strlen(c->hall->prefix), hl = strlen(c->hall->hall);
    if (strncmp(m->topic, c->hall->prefix, pl) == 0 && m->topic[pl] == '/' &&
        strncmp(m->topic + pl + 1, c->hall->hall, hl) == 0 && m->topic[pl + 1 + hl] == '/' &&
        sscanf(m->topic + pl + hl + 2, "%127[^/]/%127s", a, b) == 2 && strcmp(b, "cmd") == 0 &&
        (d = simhall_find(c->hall, a)) && d->kind == SIM_PC)
        pc_command(c, d, m);
}

/* --month: the month's readings into the config's InfluxDB. */
static int month(const struct sim_opts *o, const struct config *cfg)
{
    if (!cfg || !cfg->influx.enabled) {
        fputs("hallgw-sim: --month needs -c with an influx block\n", stderr);
        return 2;
    }
    if (http_global_init() < 0)
        return 1;
    struct simmonth_opts mo = {.month = o->month,
                               .hall = o->hall,
                               .windows = o->windows,
                               .seed = o->seed,
                               .sched = &cfg->schedule,
                               .influx = &cfg->influx};
    int rc = simmonth_run(&mo);
    http_global_cleanup();
    return rc == 0 ? 0 : rc == -EINVAL ? 2 : 1;
}

int main(int argc, char **argv)
{
    struct sim_opts o = {.uri = "tcp://127.0.0.1:1883",
                         .prefix = "hall",
                         .hall = "h1",
                         .hall_name = "政务服务大厅",
                         .windows = 12,
                         .qos = 1,
                         .speed = 1,
                         .rate = -1,
                         .seed = 1,
                         .halls = 1};
    struct config *cfg = NULL;
    if (parse_args(argc, argv, &o) < 0)
        return 2;
    if (o.config_path) {
        struct conf_errors errs = {0};
        if (config_load(o.config_path, &cfg, &errs) < 0) {
            conf_errors_print(&errs, stderr);
            conf_errors_free(&errs);
            return 2;
        }
        o.uri = cfg->mqtt.uri;
        o.username = cfg->mqtt.username;
        o.password = cfg->mqtt.password;
        o.prefix = cfg->mqtt.prefix;
    }
    if (!o.password)
        o.password = getenv("HALLGW_SIM_PASSWORD");
    if (!id_valid(o.hall, strlen(o.hall))) {
        fprintf(stderr, "hallgw-sim: --hall: '%s' is not a valid id ([A-Za-z0-9_.-]{1,64})\n",
                o.hall);
        return 2;
    }

    if (cfg)
        setenv("TZ", cfg->gateway.timezone, 1);
    tzset();
    wall_s wall0 = clock_wall(), sim0;
    time_t now_t = (time_t)wall_whole(wall0);
    struct tm lt;
    localtime_r(&now_t, &lt);
    int64_t tz_offset = lt.tm_gmtoff;
    if (start_time(&o, wall0, tz_offset, &sim0) < 0)
        return 2;

    /* One hall, or --halls N: h1 ... hN, each named after --hall-name. */
    struct sim_hall halls[SIM_MAX_HALLS];
    char ids[SIM_MAX_HALLS][24], names_buf[SIM_MAX_HALLS][256];
    const char *names[SIM_MAX_HALLS];
    size_t n_halls = o.halls > 1 ? (size_t)o.halls : 1;
    for (size_t k = 0; k < n_halls; k++) {
        snprintf(ids[k], sizeof(ids[k]), "h%zu", k + 1);
        snprintf(names_buf[k], sizeof(names_buf[k]), "%s %zu", o.hall_name, k + 1);
        names[k] = n_halls > 1 ? names_buf[k] : o.hall_name;
        if (simhall_init(&halls[k], o.prefix, n_halls > 1 ? ids[k] : o.hall, o.windows, o.seed + k,
                         sim0, cfg ? &cfg->schedule : &default_schedule,
                         o.incidents && k == 0) < 0) {
            fprintf(stderr, "hallgw-sim: cannot set up the hall\n");
            return 1;
        }
        if (n_halls > 1)
            simhall_qualify_ids(&halls[k]);
        halls[k].started = wall0;
    }
    struct sim_hall *hall = &halls[0];
    if (o.print_config) {
        simhall_print_configs(halls, n_halls, names, stdout);
        for (size_t k = 0; k < n_halls; k++)
            simhall_free(&halls[k]);
        config_free(cfg);
        return 0;
    }
    if (o.month) {
        for (size_t k = 0; k < n_halls; k++)
            simhall_free(&halls[k]);
        if (n_halls > 1) {
            fputs("hallgw-sim: --month writes one hall (--hall), not --halls\n", stderr);
            config_free(cfg);
            return 2;
        }
        int rc = month(&o, cfg);
        config_free(cfg);
        return rc;
    }

    if (o.refuse) {
        struct sim_device *d = NULL;
        for (size_t k = 0; k < n_halls && !d; k++)
            d = simhall_find(&halls[k], o.refuse);
        if (!d || d->kind != SIM_PC) {
            fprintf(stderr, "hallgw-sim: --refuse: no simulated PC '%s'\n", o.refuse);
            for (size_t k = 0; k < n_halls; k++)
                simhall_free(&halls[k]);
            config_free(cfg);
            return 2;
        }
        d->refuses = true;
    }
    struct commands cmds = {.hall = hall, .replay = cmdsign_replay_new(1024)};
    if (cfg && cfg->mqtt.command_key_file &&
        cmdsign_key_load(cfg->mqtt.command_key_file, cmds.key, &cmds.key_len) < 0) {
        fprintf(stderr, "hallgw-sim: cannot read the command key %s\n", cfg->mqtt.command_key_file);
        return 2;
    }
    char cmd_filter[256];
    snprintf(cmd_filter, sizeof(cmd_filter), "%s/%s/+/cmd", o.prefix, n_halls > 1 ? "+" : o.hall);
    const char *subs[] = {cmd_filter, "cmnd/+/POWER", "+/rpc"};
    struct queue *inbox = queue_new(1024);

    char client_id[128];
    snprintf(client_id, sizeof(client_id), "hallgw-sim-%s-%d", o.hall, (int)getpid());
    struct mqtt_options mo = {.subscriptions = subs,
                              .n_subscriptions = 3,
                              .inbox = inbox,
                              .inbox_wait_ms = 1000,
                              .max_payload = CMDSIGN_PAYLOAD_MAX,
                              .uri = o.uri,
                              .client_id = client_id,
                              .username = o.username,
                              .password = o.password,
                              .keepalive_s = 30,
                              .clean_session = true,
                              .verify = true};
    struct publisher pub = {.qos = o.qos};
    cmds.pub = &pub;
    if (mqtt_new(&mo, &pub.mqtt) < 0 || mqtt_start(pub.mqtt) < 0)
        return 1;
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);

    mono_ms t0 = clock_mono_ms(), deadline = t0 + 15000;
    while (!mqtt_is_connected(pub.mqtt) && clock_mono_ms() < deadline &&
           !atomic_load(&stop_requested)) {
        mqtt_tick(pub.mqtt, clock_mono_ms());
        usleep(20000);
    }
    if (!mqtt_is_connected(pub.mqtt)) {
        fprintf(stderr, "hallgw-sim: cannot connect to %s\n", o.uri);
        mqtt_free(pub.mqtt);
        return 1;
    }
    mqtt_tick(pub.mqtt, clock_mono_ms());
    size_t n_devices = 0;
    for (size_t k = 0; k < n_halls; k++) {
        fprintf(stderr, "hallgw-sim: hall %s, %d windows, %zu devices, on %s%s\n", halls[k].hall,
                o.windows, halls[k].n, o.uri, o.rate >= 0 ? " (load mode)" : "");
        halls[k].wall_now = wall0;
        simhall_announce(&halls[k], publish, &pub);
        n_devices += halls[k].n;
    }

    mono_ms next_progress = clock_mono_ms() + 10000;
    size_t rr = 0;
    wall_s sim_t = sim0;
    t0 = clock_mono_ms();
    while (!atomic_load(&stop_requested)) {
        mono_ms now = clock_mono_ms();
        double elapsed = (double)(now - t0) / 1000.0;
        if (o.duration_s > 0 && elapsed >= o.duration_s)
            break;
        if (o.count > 0 && (long long)pub.sent >= o.count)
            break;
        for (size_t k = 0; k < n_halls; k++)
            halls[k].wall_now = clock_wall();
        if (o.rate >= 0) {
            /* Load mode: keep pace with rate (or none), in small bursts. */
            double target = o.rate > 0 ? elapsed * o.rate : (double)pub.sent + 1000;
            while ((double)pub.sent < target && (o.count <= 0 || (long long)pub.sent < o.count)) {
                /* Round-robin over the devices of every hall. */
                size_t k = 0, i = rr;
                while (i >= halls[k].n)
                    i -= halls[k++].n;
                simhall_report(&halls[k], i, sim0 + elapsed, publish, &pub);
                rr = (rr + 1) % n_devices;
                if (pub.failed > pub.sent + 1000)
                    break;
            }
            if (o.rate > 0)
                usleep(1000);
        } else {
            sim_t = sim0 + elapsed * o.speed;
            for (size_t k = 0; k < n_halls; k++)
                simhall_step(&halls[k], sim_t, publish, &pub);
            usleep(100000);
        }
        mqtt_tick(pub.mqtt, now);
        void *items[64];
        size_t n_cmd = queue_pop_batch(inbox, items, 64, 0);
        for (size_t i = 0; i < n_cmd; i++) {
            struct mqtt_msg *m = items[i];
            for (size_t k = 0; k < n_halls && !m->retained && !m->oversize; k++) {
                cmds.hall = &halls[k];
                handle_command(&cmds, m);
            }
            free(m);
        }
        if (now >= next_progress) {
            progress(&pub, elapsed, o.rate >= 0 ? 0 : sim_t);
            next_progress = now + 10000;
        }
    }
    progress(&pub, (double)(clock_mono_ms() - t0) / 1000.0, o.rate >= 0 ? 0 : sim_t);
    mqtt_stop(pub.mqtt, 5000);
    mqtt_free(pub.mqtt);
    void *rest;
    while (queue_pop_batch(inbox, &rest, 1, 0) == 1)
        free(rest);
    queue_free(inbox);
    cmdsign_replay_free(cmds.replay);
    crypto_wipe(cmds.key, sizeof(cmds.key));
    for (size_t k = 0; k < n_halls; k++)
        simhall_free(&halls[k]);
    config_free(cfg);
    return pub.failed && !pub.sent ? 1 : 0;
}
