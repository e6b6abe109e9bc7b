/* bench-latsub: alert latency. Subscribes to <prefix>/<hall>/alerts and notes
 * when each alert transition arrives; at the end it reads the send times that
 * bench-loadgen --alert-every K --alert-log FILE wrote for the messages that
 * triggered them and prints the percentiles of arrival - send.
 *
 * The loadgen's k-th firing message carries co2 = 1000 + k; the alert JSON
 * carries that "value" while firing and still on the resolve that follows
 * (the clearing reading does not replace it), so the pair (k, state) names
 * the triggering message: "firing" the k-th fire, "resolved" the clear sent
 * after it. */
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "benchsub.h"

#define FIRE_BASE 1000.0
#define LAT_DEVICE "lat-co2" /* as in loadgen.c */

struct arrival {
    double wall;
    double value; /* alerts: "value"; 'T': the telemetry's "ts" */
    char state;   /* 'F' firing, 'R' resolved, 'T' the trigger itself, '?' other */
};

struct recorder {
    pthread_mutex_t lock;
    struct arrival *v;
    size_t n, cap;
    unsigned long long dropped, unparsed;
    _Atomic double t_last; /* CLOCK_MONOTONIC */
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* The value of "key": in a small JSON object we know the shape of (the
 * alert JSON); NULL when absent. */
static const char *find_member(const char *json, size_t len, const char *key)
{
    size_t kl = strlen(key);
    for (const char *p = json; p + kl + 3 <= json + len; p++) {
        if (p[0] == '"' && memcmp(p + 1, key, kl) == 0 && p[kl + 1] == '"' && p[kl + 2] == ':')
            return p + kl + 3;
    }
    return NULL;
}

static void record(void *arg, const char *topic, size_t topic_len, const void *payload,
                   size_t payload_len)
{
    struct recorder *r = arg;
    double wall = benchsub_wall();
    char buf[4096];
    size_t n = payload_len < sizeof(buf) - 1 ? payload_len : sizeof(buf) - 1;
    memcpy(buf, payload, n);
    buf[n] = '\0';
    struct arrival a = {.wall = wall, .state = '?'};
    static const char tele[] = "/telemetry";
    if (topic_len > sizeof(tele) - 1 &&
        memcmp(topic + topic_len - (sizeof(tele) - 1), tele, sizeof(tele) - 1) == 0) {
        /* The triggering message itself, straight from the broker. */
        const char *ts = find_member(buf, n, "ts");
        if (ts) {
            a.state = 'T';
            a.value = strtod(ts, NULL);
            pthread_mutex_lock(&r->lock);
            if (r->n < r->cap)
                r->v[r->n++] = a;
            else
                r->dropped++;
            pthread_mutex_unlock(&r->lock);
        }
        return;
    }
    const char *v = find_member(buf, n, "value");
    const char *st = find_member(buf, n, "state");
    if (!v || !st) {
        pthread_mutex_lock(&r->lock);
        r->unparsed++;
        pthread_mutex_unlock(&r->lock);
        return;
    }
    a.value = strtod(v, NULL);
    if (strncmp(st, "\"firing\"", 8) == 0)
        a.state = 'F';
    else if (strncmp(st, "\"resolved\"", 10) == 0)
        a.state = 'R';
    pthread_mutex_lock(&r->lock);
    if (r->n < r->cap)
        r->v[r->n++] = a;
    else
        r->dropped++;
    pthread_mutex_unlock(&r->lock);
    atomic_store(&r->t_last, benchsub_mono());
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted v. */
static double pct(const double *v, size_t n, double p)
{
    if (n == 0)
        return NAN;
    size_t i = (size_t)ceil(p * (double)n);
    return v[i > 0 ? i - 1 : 0];
}

struct sent {
    double *fire, *clear; /* by k; 0 when not sent */
    size_t cap;
    unsigned long long n;
};

static int read_log(const char *path, struct sent *s)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        return -1;
    }
    unsigned long long k;
    char what;
    double ts;
    while (fscanf(f, "%llu %c %lf", &k, &what, &ts) == 3) {
        if (k >= s->cap) {
            size_t cap = s->cap ? s->cap : 1024;
            while (cap <= k)
                cap *= 2;
            double *nf = realloc(s->fire, cap * sizeof(double));
            double *nc = nf ? realloc(s->clear, cap * sizeof(double)) : NULL;
            if (!nf || !nc) {
                fclose(f);
                return -1;
            }
            memset(nf + s->cap, 0, (cap - s->cap) * sizeof(double));
            memset(nc + s->cap, 0, (cap - s->cap) * sizeof(double));
            s->fire = nf;
            s->clear = nc;
            s->cap = cap;
        }
        if (what == 'F')
            s->fire[k] = ts;
        else
            s->clear[k] = ts;
        s->n++;
    }
    fclose(f);
    return 0;
}

static void print_stats(const char *name, double *v, size_t n)
{
    qsort(v, n, sizeof(double), cmp_double);
    printf(" %s_n=%zu %s_p50_ms=%.3f %s_p90_ms=%.3f %s_p99_ms=%.3f %s_max_ms=%.3f", name, n, name,
           pct(v, n, 0.50) * 1e3, name, pct(v, n, 0.90) * 1e3, name, pct(v, n, 0.99) * 1e3, name,
           n ? v[n - 1] * 1e3 : NAN);
}

static void usage(FILE *f)
{
    fputs("Usage: bench-latsub --log FILE [--uri URI] [--hall ID] [--prefix P] [--idle S]\n"
          "                    [--timeout S] [--raw FILE]\n"
          "\n"
          "Subscribes to <prefix>/<hall>/alerts, prints \"ready\" once subscribed, and\n"
          "records when every alert transition arrives. It stops --idle seconds after\n"
          "the last one (default 3), on SIGTERM, or after --timeout (default 300), then\n"
          "reads the loadgen's --alert-log FILE and prints one line:\n"
          "  sent=N received=M matched=K all_p50_ms=... all_p99_ms=... fire_... resolve_...\n"
          "  broker_...\n"
          "with latency = arrival (CLOCK_REALTIME) - the triggering message's \"ts\". It also\n"
          "subscribes to the triggering messages themselves (<prefix>/<hall>/" LAT_DEVICE "/\n"
          "telemetry): broker_* is their own trip, loadgen -> broker -> subscriber, the\n"
          "part of the latency that is not hallgw's.\n"
          "--raw FILE also writes \"F|R latency_ms\" per matched transition.\n"
          "-V, --version prints the version, -h, --help this help.\n",
          f);
}

int main(int argc, char **argv)
{
    static const struct option lopts[] = {
        {"uri", required_argument, NULL, 'u'},    {"hall", required_argument, NULL, 'H'},
        {"prefix", required_argument, NULL, 'P'}, {"log", required_argument, NULL, 'l'},
        {"idle", required_argument, NULL, 'i'},   {"timeout", required_argument, NULL, 'T'},
        {"raw", required_argument, NULL, 'r'},    {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},      {NULL, 0, NULL, 0},
    };
    const char *uri = "tcp://127.0.0.1:1883", *hall = "bench", *prefix = "hall";
    const char *log_path = NULL, *raw_path = NULL;
    double idle_s = 3, timeout_s = 300;
    int c;
    while ((c = getopt_long(argc, argv, "u:i:T:Vh", lopts, NULL)) != -1) {
        switch (c) {
        case 'u':
            uri = optarg;
            break;
        case 'H':
            hall = optarg;
            break;
        case 'P':
            prefix = optarg;
            break;
        case 'l':
            log_path = optarg;
            break;
        case 'i':
            idle_s = strtod(optarg, NULL);
            break;
        case 'T':
            timeout_s = strtod(optarg, NULL);
            break;
        case 'r':
            raw_path = optarg;
            break;
        case 'V':
            printf("bench-latsub %s\n", HALLGW_VERSION);
            return 0;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (!log_path) {
        usage(stderr);
        return 2;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);

    static struct recorder rec = {.lock = PTHREAD_MUTEX_INITIALIZER};
    rec.cap = 1 << 20;
    rec.v = calloc(rec.cap, sizeof(*rec.v));
    if (!rec.v)
        return 1;
    char filter[256], trigger[256], cid[64];
    snprintf(filter, sizeof(filter), "%s/%s/alerts", prefix, hall);
    snprintf(trigger, sizeof(trigger), "%s/%s/%s/telemetry", prefix, hall, LAT_DEVICE);
    snprintf(cid, sizeof(cid), "bench-latsub-%d", (int)getpid());
    const char *filters[] = {filter, trigger};
    double t_start = benchsub_mono();
    struct benchsub *s = benchsub_start("bench-latsub", uri, cid, filters, 2, 1, record, &rec, 15);
    if (!s)
        return 1;
    printf("ready\n");
    fflush(stdout);
    while (!stop_requested) {
        usleep(10000);
        double now = benchsub_mono(), last = atomic_load(&rec.t_last);
        if (last > 0 && now - last >= idle_s)
            break;
        if (now - t_start >= timeout_s || benchsub_lost(s))
            break;
    }
    benchsub_stop(s);

    struct sent snt = {0};
    if (read_log(log_path, &snt) < 0)
        return 1;
    double *all = calloc(rec.n + 1, sizeof(double)), *fire = calloc(rec.n + 1, sizeof(double)),
           *clear = calloc(rec.n + 1, sizeof(double)), *broker = calloc(rec.n + 1, sizeof(double));
    if (!all || !fire || !clear || !broker)
        return 1;
    size_t n_all = 0, n_fire = 0, n_clear = 0, n_broker = 0, n_alerts = 0;
    unsigned long long unmatched = 0;
    FILE *raw = raw_path ? fopen(raw_path, "w") : NULL;
    for (size_t i = 0; i < rec.n; i++) {
        const struct arrival *a = &rec.v[i];
        if (a->state == 'T') {
            broker[n_broker++] = a->wall - a->value;
            continue;
        }
        n_alerts++;
        double kd = a->value - FIRE_BASE;
        size_t k = kd >= 1 ? (size_t)llround(kd) : 0;
        double sent_ts = 0;
        if (k > 0 && k < snt.cap)
            sent_ts = a->state == 'F' ? snt.fire[k] : a->state == 'R' ? snt.clear[k] : 0;
        if (sent_ts == 0) {
            unmatched++;
            continue;
        }
        double lat = a->wall - sent_ts;
        all[n_all++] = lat;
        if (a->state == 'F')
            fire[n_fire++] = lat;
        else
            clear[n_clear++] = lat;
        if (raw)
            fprintf(raw, "%c %.3f\n", a->state, lat * 1e3);
    }
    if (raw)
        fclose(raw);
    printf("sent=%llu received=%zu matched=%zu unmatched=%llu unparsed=%llu dropped=%llu", snt.n,
           n_alerts, n_all, unmatched, rec.unparsed, rec.dropped);
    print_stats("all", all, n_all);
    print_stats("fire", fire, n_fire);
    print_stats("resolve", clear, n_clear);
    print_stats("broker", broker, n_broker);
    printf("\n");
    free(broker);
    free(all);
    free(fire);
    free(clear);
    free(snt.fire);
    free(snt.clear);
    free(rec.v);
    return 0;
}
