/* bench-countsub: the limit. A plain subscriber on the same MQTT library as
 * hallgw (Paho MQTTAsync) that only counts: no decoding, no output, nothing
 * written. What it reaches with bench-loadgen on the same broker is the most
 * any subscriber can take from that broker on this machine; hallgw is
 * measured against it. */
#include <getopt.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "benchsub.h"

struct counter {
    atomic_ullong n;
    atomic_ullong bytes;
    _Atomic double t_first, t_last; /* CLOCK_MONOTONIC */
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void count(void *arg, const char *topic, size_t topic_len, const void *payload,
                  size_t payload_len)
{
    (void)topic;
    (void)topic_len;
    (void)payload;
    struct counter *c = arg;
    double now = benchsub_mono();
    if (atomic_fetch_add_explicit(&c->n, 1, memory_order_relaxed) == 0)
        atomic_store(&c->t_first, now);
    atomic_fetch_add_explicit(&c->bytes, payload_len, memory_order_relaxed);
    atomic_store_explicit(&c->t_last, now, memory_order_relaxed);
}

static void usage(FILE *f)
{
    fputs("Usage: bench-countsub [--uri URI] [--topic FILTER]... [--qos Q] [--count N]\n"
          "                      [--idle S] [--timeout S]\n"
          "\n"
          "Subscribes (clean session) and counts messages, nothing else. Prints \"ready\"\n"
          "once subscribed, then at the end one line:\n"
          "  received=N seconds=T rate=R bytes=B cpu_s=C\n"
          "T runs from the first message to the last; C is this process's user+system\n"
          "CPU (getrusage) from \"ready\" to the end.\n"
          "\n"
          "  -u, --uri URI     broker (default tcp://127.0.0.1:1883)\n"
          "  -t, --topic F     topic filter, repeatable (default #)\n"
          "  -q, --qos Q       subscription QoS (default 1, as hallgw)\n"
          "  -n, --count N     stop after N messages\n"
          "  -i, --idle S      stop S seconds after the last message (default 3)\n"
          "  -T, --timeout S   stop after S seconds in all (default 300)\n"
          "  -V, --version     print the version and exit\n"
          "  -h, --help        this help\n",
          f);
}

int main(int argc, char **argv)
{
    static const struct option lopts[] = {
        {"uri", required_argument, NULL, 'u'},
        {"topic", required_argument, NULL, 't'},
        {"qos", required_argument, NULL, 'q'},
        {"count", required_argument, NULL, 'n'},
        {"idle", required_argument, NULL, 'i'},
        {"timeout", required_argument, NULL, 'T'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    const char *uri = "tcp://127.0.0.1:1883";
    const char *filters[16];
    size_t n_filters = 0;
    int qos = 1;
    unsigned long long want = 0;
    double idle_s = 3, timeout_s = 300;
    int c;
    while ((c = getopt_long(argc, argv, "u:t:q:n:i:T:Vh", lopts, NULL)) != -1) {
        switch (c) {
        case 'u':
            uri = optarg;
            break;
        case 't':
            if (n_filters == sizeof(filters) / sizeof(filters[0])) {
                fprintf(stderr, "bench-countsub: too many --topic\n");
                return 2;
            }
            filters[n_filters++] = optarg;
            break;
        case 'q':
            qos = atoi(optarg);
            break;
        case 'n':
            want = strtoull(optarg, NULL, 10);
            break;
        case 'i':
            idle_s = strtod(optarg, NULL);
            break;
        case 'T':
            timeout_s = strtod(optarg, NULL);
            break;
        case 'V':
            printf("bench-countsub %s\n", HALLGW_VERSION);
            return 0;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (n_filters == 0)
        filters[n_filters++] = "#";
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);

    static struct counter ctr;
    char cid[64];
    snprintf(cid, sizeof(cid), "bench-countsub-%d", (int)getpid());
    double t_start = benchsub_mono();
    struct benchsub *s =
        benchsub_start("bench-countsub", uri, cid, filters, n_filters, qos, count, &ctr, 15);
    if (!s)
        return 1;
    double cpu_ready = benchsub_cpu_s();
    printf("ready\n");
    fflush(stdout);

    while (!stop_requested) {
        usleep(2000);
        double now = benchsub_mono();
        unsigned long long n = atomic_load(&ctr.n);
        if (want && n >= want)
            break;
        if (n > 0 && now - atomic_load(&ctr.t_last) >= idle_s)
            break;
        if (now - t_start >= timeout_s || benchsub_lost(s))
            break;
    }
    unsigned long long n = atomic_load(&ctr.n);
    double secs = n > 1 ? atomic_load(&ctr.t_last) - atomic_load(&ctr.t_first) : 0;
    double cpu = benchsub_cpu_s() - cpu_ready;
    benchsub_stop(s);
    printf("received=%llu seconds=%.3f rate=%.0f bytes=%llu cpu_s=%.3f\n", n, secs,
           secs > 0 ? (double)(n - 1) / secs : 0.0, (unsigned long long)atomic_load(&ctr.bytes),
           cpu);
    return 0;
}
