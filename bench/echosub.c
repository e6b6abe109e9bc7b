/* bench-echosub: the latency limit. The smallest alert rule a gateway on the
 * same MQTT library as hallgw (Paho MQTTAsync) can run: it takes the same
 * load as hallgw (every message of the hall, QoS 1 subscription), and for the
 * trigger device's readings it publishes the transition at once, from Paho's
 * receive thread, at QoS 1 to <prefix>/<hall>/alerts:
 *
 *   co2 > 1000            {"value":<co2>,"state":"firing"}
 *   otherwise             {"value":<the last firing co2>,"state":"resolved"}
 *
 * which is what bench-latsub matches (see latsub.c). No decoding beyond that
 * one number, no state, no store, no InfluxDB: what bench-latsub measures
 * through it is the broker's trip twice plus Paho's receive and send threads,
 * the floor of any Paho-based gateway on this machine at this load. */
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "benchsub.h"

#define FIRE_ABOVE 1000.0 /* as loadgen's LAT_FIRE_BASE: the k-th fire is 1000 + k */

struct echo {
    _Atomic(struct benchsub *) sub; /* NULL until benchsub_start() returned */
    char trigger[192], alerts[192];
    size_t trigger_len;
    double last_fire;
    int qos;
    atomic_ullong triggers, published, failed;
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void echo(void *arg, const char *topic, size_t topic_len, const void *payload,
                 size_t payload_len)
{
    struct echo *e = arg;
    if (topic_len != e->trigger_len || memcmp(topic, e->trigger, topic_len) != 0)
        return;
    char buf[512];
    size_t n = payload_len < sizeof(buf) - 1 ? payload_len : sizeof(buf) - 1;
    memcpy(buf, payload, n);
    buf[n] = '\0';
    const char *co2 = strstr(buf, "\"co2\":");
    struct benchsub *sub = atomic_load(&e->sub);
    if (!co2 || !sub)
        return;
    atomic_fetch_add(&e->triggers, 1);
    double v = strtod(co2 + 6, NULL);
    bool fire = v > FIRE_ABOVE;
    if (fire)
        e->last_fire = v;
    char out[96];
    int len = snprintf(out, sizeof(out), "{\"value\":%.0f,\"state\":\"%s\"}",
                       fire ? v : e->last_fire, fire ? "firing" : "resolved");
    if (benchsub_publish(sub, e->alerts, out, (size_t)len, e->qos) == 0)
        atomic_fetch_add(&e->published, 1);
    else
        atomic_fetch_add(&e->failed, 1);
}

static void usage(FILE *f)
{
    fputs("Usage: bench-echosub [--uri URI] [--prefix P] [--hall H] [--device D] [--qos Q]\n"
          "                     [--idle S] [--timeout S]\n"
          "\n"
          "Subscribes to everything (#, QoS 1, as hallgw takes its hall's load) and answers\n"
          "each reading of <prefix>/<hall>/<device>/telemetry at once with an alert\n"
          "transition on <prefix>/<hall>/alerts: firing when its co2 is above 1000, else\n"
          "resolved, carrying the co2 of the last firing reading as \"value\". Prints\n"
          "\"ready\" once subscribed, then at the end one line:\n"
          "  triggers=N published=P failed=F cpu_s=C\n"
          "\n"
          "  -u, --uri URI     broker (default tcp://127.0.0.1:1883)\n"
          "  -p, --prefix P    topic prefix (default hall)\n"
          "  -H, --hall H      hall id (default bench)\n"
          "  -d, --device D    trigger device (default lat-co2, as bench-loadgen)\n"
          "  -q, --qos Q       QoS of the subscription and of the alerts (default 1)\n"
          "  -i, --idle S      stop S seconds after the last trigger (default 60)\n"
          "  -T, --timeout S   stop after S seconds in all (default 300)\n"
          "  -V, --version     print the version and exit\n"
          "  -h, --help        this help\n",
          f);
}

int main(int argc, char **argv)
{
    static const struct option lopts[] = {
        {"uri", required_argument, NULL, 'u'},     {"prefix", required_argument, NULL, 'p'},
        {"hall", required_argument, NULL, 'H'},    {"device", required_argument, NULL, 'd'},
        {"qos", required_argument, NULL, 'q'},     {"idle", required_argument, NULL, 'i'},
        {"timeout", required_argument, NULL, 'T'}, {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},       {NULL, 0, NULL, 0},
    };
    const char *uri = "tcp://127.0.0.1:1883", *prefix = "hall", *hall = "bench";
    const char *device = "lat-co2";
    static struct echo e = {.qos = 1};
    double idle_s = 60, timeout_s = 300;
    int c;
    while ((c = getopt_long(argc, argv, "u:p:H:d:q:i:T:Vh", lopts, NULL)) != -1) {
        switch (c) {
        case 'u':
            uri = optarg;
            break;
        case 'p':
            prefix = optarg;
            break;
        case 'H':
            hall = optarg;
            break;
        case 'd':
            device = optarg;
            break;
        case 'q':
            e.qos = atoi(optarg);
            break;
        case 'i':
            idle_s = strtod(optarg, NULL);
            break;
        case 'T':
            timeout_s = strtod(optarg, NULL);
            break;
        case 'V':
            printf("bench-echosub %s\n", HALLGW_VERSION);
            return 0;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (e.qos < 0 || e.qos > 2) {
        fprintf(stderr, "bench-echosub: --qos: expected 0, 1 or 2\n");
        return 2;
    }
    int tl = snprintf(e.trigger, sizeof(e.trigger), "%s/%s/%s/telemetry", prefix, hall, device);
    int al = snprintf(e.alerts, sizeof(e.alerts), "%s/%s/alerts", prefix, hall);
    if (tl < 0 || (size_t)tl >= sizeof(e.trigger) || al < 0 || (size_t)al >= sizeof(e.alerts)) {
        fprintf(stderr, "bench-echosub: --prefix, --hall or --device too long\n");
        return 2;
    }
    e.trigger_len = (size_t)tl;
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);

    char cid[64];
    snprintf(cid, sizeof(cid), "bench-echosub-%d", (int)getpid());
    static const char *const filters[] = {"#"};
    double t_start = benchsub_mono();
    struct benchsub *s = benchsub_start("bench-echosub", uri, cid, filters, 1, e.qos, echo, &e, 15);
    if (!s)
        return 1;
    atomic_store(&e.sub, s);
    double cpu_ready = benchsub_cpu_s();
    printf("ready\n");
    fflush(stdout);

    unsigned long long seen = 0;
    double t_seen = benchsub_mono();
    while (!stop_requested && !benchsub_lost(s)) {
        usleep(20000);
        double now = benchsub_mono();
        unsigned long long n = atomic_load(&e.triggers);
        if (n != seen) {
            seen = n;
            t_seen = now;
        }
        if ((n > 0 && now - t_seen >= idle_s) || now - t_start >= timeout_s)
            break;
    }
    double cpu = benchsub_cpu_s() - cpu_ready;
    benchsub_stop(s);
    printf("triggers=%llu published=%llu failed=%llu cpu_s=%.3f\n",
           (unsigned long long)atomic_load(&e.triggers),
           (unsigned long long)atomic_load(&e.published),
           (unsigned long long)atomic_load(&e.failed), cpu);
    return 0;
}
