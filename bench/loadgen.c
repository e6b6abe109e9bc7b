/* bench-loadgen: publishes realistic hall telemetry to a loopback MQTT broker
 * as fast as it can or at a fixed rate, for the benchmarks in bench/.
 *
 * It speaks MQTT 3.1.1 itself over one TCP socket (CONNECT, PUBLISH QoS 0/1,
 * PUBACK, PINGREQ, DISCONNECT) instead of going through Paho: messages are
 * packed into one buffer and written with one write() for many of them, TCP
 * is the only flow control, and nothing is buffered without bound. A load
 * generator that costs little CPU leaves the cores to what is measured.
 *
 * Device i (0-based) of --devices N is dev-<i+1, 5 digits>; its kind and
 * format go round eight kinds (see struct kind_info): native env, seat and pc,
 * Zigbee2MQTT seat and env, Tasmota env and plug SENSOR, Shelly NotifyStatus.
 * Every payload carries the send time in "ts" (unix seconds, microseconds). */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "duration.h"

#define OUT_CAP (256 * 1024)
#define OUT_FLUSH (64 * 1024)
#define MSG_MAX 1024
#define ID_LEN 24
#define LAT_DEVICE "lat-co2"
#define LAT_FIRE_BASE 1000.0 /* fire value k is LAT_FIRE_BASE + k */
#define LAT_CLEAR_VALUE 800.0

enum kind {
    K_NATIVE_ENV,
    K_NATIVE_SEAT,
    K_NATIVE_PC,
    K_Z2M_SEAT,
    K_Z2M_ENV,
    K_TASMOTA_ENV,
    K_TASMOTA_PLUG,
    K_SHELLY_PLUG,
    K_COUNT
};

struct kind_info {
    const char *kind;   /* hallgw device kind */
    const char *format; /* source format, NULL for native */
};

static const struct kind_info kinds[K_COUNT] = {
    [K_NATIVE_ENV] = {"env", NULL},         [K_NATIVE_SEAT] = {"seat", NULL},
    [K_NATIVE_PC] = {"pc", NULL},           [K_Z2M_SEAT] = {"seat", "zigbee2mqtt"},
    [K_Z2M_ENV] = {"env", "zigbee2mqtt"},   [K_TASMOTA_ENV] = {"env", "tasmota"},
    [K_TASMOTA_PLUG] = {"plug", "tasmota"}, [K_SHELLY_PLUG] = {"plug", "shelly"},
};

struct opts {
    const char *host, *port;
    const char *hall, *prefix, *client_id;
    long devices;
    int qos;
    double rate; /* 0: full speed */
    long long count;
    double duration_s;
    long alert_every;
    const char *alert_log;
    bool print_config, unknown;
    unsigned long long unknown_first;
    long inflight;
};

struct out {
    int fd;
    char *buf;
    size_t len;
};

struct gen {
    const struct opts *o;
    char (*topics)[192]; /* per device */
    char (*sources)[96]; /* per device, foreign name or "" */
    uint64_t rng;
    uint64_t n_alert;
    FILE *alert_log;
    char lat_topic[192];
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- payload building, without printf in the hot path ------------------- */

struct sb {
    char *p, *end;
};

static void sb_str(struct sb *b, const char *s)
{
    while (*s && b->p < b->end)
        *b->p++ = *s++;
}

static void sb_u64(struct sb *b, uint64_t v)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n > 0 && b->p < b->end)
        *b->p++ = tmp[--n];
}

/* v with `decimals` digits after the point (v >= 0). */
static void sb_fixed(struct sb *b, double v, int decimals)
{
    static const uint64_t pow10[] = {1, 10, 100, 1000, 10000, 100000, 1000000};
    uint64_t scale = pow10[decimals];
    uint64_t x = (uint64_t)(v * (double)scale + 0.5);
    sb_u64(b, x / scale);
    if (decimals == 0)
        return;
    if (b->p < b->end)
        *b->p++ = '.';
    uint64_t frac = x % scale;
    for (int d = decimals - 1; d >= 0; d--) {
        if (b->p < b->end)
            *b->p++ = (char)('0' + frac / pow10[d] % 10);
    }
}

/* v in exactly `width` digits, zero-padded. */
static void sb_u64_pad(struct sb *b, uint64_t v, int width)
{
    for (int d = width - 1; d >= 0; d--) {
        if (b->p + d < b->end)
            b->p[d] = (char)('0' + v % 10);
        v /= 10;
    }
    b->p = b->p + width < b->end ? b->p + width : b->end;
}

/* The send time, unix seconds with microseconds. */
static void sb_ts(struct sb *b)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    sb_u64(b, (uint64_t)ts.tv_sec);
    sb_str(b, ".");
    sb_u64_pad(b, (uint64_t)ts.tv_nsec / 1000, 6);
}

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

/* Uniform in [lo, hi). */
static double rnd(struct gen *g, double lo, double hi)
{
    return lo + (hi - lo) * (double)(rng_next(&g->rng) >> 11) / 9007199254740992.0;
}

static void device_id(char *buf, size_t size, long i)
{
    snprintf(buf, size, "dev-%05ld", i + 1);
}

static enum kind kind_of(long i)
{
    return (enum kind)(i % K_COUNT);
}

/* The payload of one report of device i into b. */
static void payload_of(struct gen *g, long i, struct sb *b)
{
    switch (kind_of(i)) {
    case K_NATIVE_ENV:
        sb_str(b, "{\"ts\":");
        sb_ts(b);
        sb_str(b, ",\"temperature\":");
        sb_fixed(b, rnd(g, 21, 26), 2);
        sb_str(b, ",\"humidity\":");
        sb_fixed(b, rnd(g, 40, 60), 1);
        sb_str(b, ",\"co2\":");
        sb_u64(b, (uint64_t)rnd(g, 450, 850));
        sb_str(b, ",\"pm25\":");
        sb_u64(b, (uint64_t)rnd(g, 5, 30));
        sb_str(b, ",\"noise_db\":");
        sb_fixed(b, rnd(g, 35, 55), 1);
        sb_str(b, "}");
        break;
    case K_NATIVE_SEAT:
        sb_str(b, "{\"ts\":");
        sb_ts(b);
        sb_str(b, rnd(g, 0, 1) < 0.9 ? ",\"presence\":true" : ",\"presence\":false");
        sb_str(b, ",\"battery\":");
        sb_u64(b, (uint64_t)rnd(g, 60, 100));
        sb_str(b, ",\"linkquality\":");
        sb_u64(b, (uint64_t)rnd(g, 60, 200));
        sb_str(b, ",\"voltage\":");
        sb_u64(b, (uint64_t)rnd(g, 2900, 3100));
        sb_str(b, "}");
        break;
    case K_NATIVE_PC:
        sb_str(b, "{\"ts\":");
        sb_ts(b);
        sb_str(b, ",\"power\":\"on\",\"cpu_pct\":");
        sb_fixed(b, rnd(g, 2, 60), 1);
        sb_str(b, ",\"mem_pct\":");
        sb_fixed(b, rnd(g, 20, 80), 1);
        sb_str(b, ",\"disk_free_pct\":");
        sb_u64(b, (uint64_t)rnd(g, 20, 90));
        sb_str(b, ",\"uptime_s\":");
        sb_u64(b, (uint64_t)rnd(g, 3600, 86400));
        sb_str(b, ",\"users\":1,\"av_threats\":0}");
        break;
    case K_Z2M_SEAT:
        sb_str(b, rnd(g, 0, 1) < 0.9 ? "{\"occupancy\":true" : "{\"occupancy\":false");
        sb_str(b, ",\"battery\":");
        sb_u64(b, (uint64_t)rnd(g, 60, 100));
        sb_str(b, ",\"linkquality\":");
        sb_u64(b, (uint64_t)rnd(g, 60, 200));
        sb_str(b, ",\"voltage\":");
        sb_u64(b, (uint64_t)rnd(g, 2900, 3100));
        sb_str(b, ",\"ts\":");
        sb_ts(b);
        sb_str(b, "}");
        break;
    case K_Z2M_ENV:
        sb_str(b, "{\"co2\":");
        sb_u64(b, (uint64_t)rnd(g, 450, 850));
        sb_str(b, ",\"temperature\":");
        sb_fixed(b, rnd(g, 21, 26), 2);
        sb_str(b, ",\"humidity\":");
        sb_fixed(b, rnd(g, 40, 60), 1);
        sb_str(b, ",\"pm25\":");
        sb_u64(b, (uint64_t)rnd(g, 5, 30));
        sb_str(b, ",\"linkquality\":");
        sb_u64(b, (uint64_t)rnd(g, 60, 200));
        sb_str(b, ",\"ts\":");
        sb_ts(b);
        sb_str(b, "}");
        break;
    case K_TASMOTA_ENV:
        sb_str(b, "{\"Time\":\"2026-11-26T10:00:00\",\"SCD40\":{\"CarbonDioxide\":");
        sb_u64(b, (uint64_t)rnd(g, 450, 850));
        sb_str(b, ",\"Temperature\":");
        sb_fixed(b, rnd(g, 21, 26), 1);
        sb_str(b, ",\"Humidity\":");
        sb_fixed(b, rnd(g, 40, 60), 1);
        sb_str(b, "},\"TempUnit\":\"C\",\"ts\":");
        sb_ts(b);
        sb_str(b, "}");
        break;
    case K_TASMOTA_PLUG: {
        double w = rnd(g, 20, 60);
        sb_str(b, "{\"Time\":\"2026-11-26T10:00:00\",\"ENERGY\":{\"Total\":");
        sb_fixed(b, rnd(g, 10, 40), 3);
        sb_str(b, ",\"Power\":");
        sb_u64(b, (uint64_t)w);
        sb_str(b, ",\"Voltage\":229,\"Current\":");
        sb_fixed(b, w / 229.0, 3);
        sb_str(b, "},\"ts\":");
        sb_ts(b);
        sb_str(b, "}");
        break;
    }
    case K_SHELLY_PLUG:
        sb_str(b, "{\"src\":\"");
        sb_str(b, g->sources[i]);
        sb_str(b, "\",\"method\":\"NotifyStatus\",\"params\":{\"ts\":");
        sb_ts(b);
        sb_str(b, ",\"switch:0\":{\"id\":0,\"output\":true,\"apower\":");
        sb_fixed(b, rnd(g, 20, 60), 1);
        sb_str(b, "}}}");
        break;
    case K_COUNT:
        break;
    }
}

/* ---- devices and the config block ------------------------------------- */

static int gen_init(struct gen *g, const struct opts *o)
{
    memset(g, 0, sizeof(*g));
    g->o = o;
    g->rng = 0x9E3779B97F4A7C15ULL;
    g->topics = calloc((size_t)o->devices, sizeof(*g->topics));
    g->sources = calloc((size_t)o->devices, sizeof(*g->sources));
    if (!g->topics || !g->sources)
        return -ENOMEM;
    for (long i = 0; i < o->devices; i++) {
        char id[ID_LEN];
        device_id(id, sizeof(id), i);
        const struct kind_info *k = &kinds[kind_of(i)];
        if (!k->format) {
            g->sources[i][0] = '\0';
            snprintf(g->topics[i], sizeof(g->topics[i]), "%s/%s/%s/telemetry", o->prefix, o->hall,
                     id);
        } else if (strcmp(k->format, "zigbee2mqtt") == 0) {
            snprintf(g->sources[i], sizeof(g->sources[i]), "%s_%s", o->hall, id);
            snprintf(g->topics[i], sizeof(g->topics[i]), "zigbee2mqtt/%s", g->sources[i]);
        } else if (strcmp(k->format, "tasmota") == 0) {
            snprintf(g->sources[i], sizeof(g->sources[i]), "%s_%s", o->hall, id);
            snprintf(g->topics[i], sizeof(g->topics[i]), "tele/%s/SENSOR", g->sources[i]);
        } else {
            snprintf(g->sources[i], sizeof(g->sources[i]), "shellyplusplugs-%s-%s", o->hall, id);
            snprintf(g->topics[i], sizeof(g->topics[i]), "%s/events/rpc", g->sources[i]);
        }
    }
    snprintf(g->lat_topic, sizeof(g->lat_topic), "%s/%s/%s/telemetry", o->prefix, o->hall,
             LAT_DEVICE);
    return 0;
}

static void gen_free(struct gen *g)
{
    free(g->topics);
    free(g->sources);
}

static void print_config(const struct gen *g, FILE *f)
{
    const struct opts *o = g->o;
    fprintf(f, "# Generated by bench-loadgen --print-config: hall %s, %ld devices and %s.\n",
            o->hall, o->devices, LAT_DEVICE);
    fprintf(f, "halls = ( { id = \"%s\"; name = \"bench hall\"; } );\n\ndevices = (\n", o->hall);
    for (long i = 0; i < o->devices; i++) {
        char id[ID_LEN];
        device_id(id, sizeof(id), i);
        const struct kind_info *k = &kinds[kind_of(i)];
        fprintf(f, "  { id = \"%s\"; hall = \"%s\"; kind = \"%s\";", id, o->hall, k->kind);
        if (k->format)
            fprintf(f, " source = \"%s:%s\";", k->format, g->sources[i]);
        fprintf(f, " },\n");
    }
    fprintf(f, "  { id = \"%s\"; hall = \"%s\"; kind = \"env\"; }\n);\n", LAT_DEVICE, o->hall);
}

/* ---- MQTT over a plain socket -------------------------------------------- */

static int out_write(struct out *w)
{
    size_t off = 0;
    while (off < w->len) {
        ssize_t n = write(w->fd, w->buf + off, w->len - off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "bench-loadgen: write: %s\n", strerror(errno));
            return -errno;
        }
        off += (size_t)n;
    }
    w->len = 0;
    return 0;
}

static size_t put_remaining_length(unsigned char *p, size_t v)
{
    size_t n = 0;
    do {
        unsigned char byte = v % 128;
        v /= 128;
        if (v)
            byte |= 0x80;
        p[n++] = byte;
    } while (v);
    return n;
}

/* Appends a PUBLISH; flushes first when the buffer is full. */
static int out_publish(struct out *w, const char *topic, size_t tlen, const char *payload,
                       size_t plen, int qos, uint16_t id)
{
    size_t rem = 2 + tlen + (qos ? 2 : 0) + plen;
    if (w->len + rem + 5 > OUT_CAP && out_write(w) < 0)
        return -EIO;
    unsigned char *p = (unsigned char *)w->buf + w->len;
    *p++ = (unsigned char)(0x30 | (qos << 1));
    p += put_remaining_length(p, rem);
    *p++ = (unsigned char)(tlen >> 8);
    *p++ = (unsigned char)(tlen & 0xff);
    memcpy(p, topic, tlen);
    p += tlen;
    if (qos) {
        *p++ = (unsigned char)(id >> 8);
        *p++ = (unsigned char)(id & 0xff);
    }
    memcpy(p, payload, plen);
    p += plen;
    w->len = (size_t)((char *)p - w->buf);
    return 0;
}

struct in {
    int fd;
    unsigned char buf[4096];
    size_t len;
    unsigned long long pubacks;
    bool connack, pingresp;
    int connack_rc;
};

/* Reads what the broker sent (blocking or not) and handles whole packets. */
static int in_read(struct in *r, bool block)
{
    ssize_t n = recv(r->fd, r->buf + r->len, sizeof(r->buf) - r->len, block ? 0 : MSG_DONTWAIT);
    if (n == 0) {
        fprintf(stderr, "bench-loadgen: the broker closed the connection\n");
        return -EPIPE;
    }
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            return 0;
        fprintf(stderr, "bench-loadgen: recv: %s\n", strerror(errno));
        return -errno;
    }
    r->len += (size_t)n;
    size_t off = 0;
    while (r->len - off >= 2) {
        unsigned char type = r->buf[off] >> 4;
        size_t rem = 0, mult = 1, hdr = 1;
        while (off + hdr < r->len) {
            unsigned char byte = r->buf[off + hdr++];
            rem += (byte & 0x7f) * mult;
            mult *= 128;
            if (!(byte & 0x80))
                break;
        }
        if (off + hdr + rem > r->len)
            break;
        if (type == 2 && rem >= 2) {
            r->connack = true;
            r->connack_rc = r->buf[off + hdr + 1];
        } else if (type == 4) {
            r->pubacks++;
        } else if (type == 13) {
            r->pingresp = true;
        }
        off += hdr + rem;
    }
    memmove(r->buf, r->buf + off, r->len - off);
    r->len -= off;
    return 0;
}

static bool host_is_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in4 = (const struct sockaddr_in *)sa;
        return (ntohl(in4->sin_addr.s_addr) >> 24) == 127;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        return IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
    }
    return false;
}

static int connect_broker(const struct opts *o)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res, *ai;
    int rc = getaddrinfo(o->host, o->port, &hints, &res);
    if (rc != 0) {
        fprintf(stderr, "bench-loadgen: %s:%s: %s\n", o->host, o->port, gai_strerror(rc));
        return -1;
    }
    int fd = -1;
    for (ai = res; ai; ai = ai->ai_next) {
        if (!host_is_loopback(ai->ai_addr)) {
            fprintf(stderr, "bench-loadgen: %s is not a loopback address; refusing\n", o->host);
            continue;
        }
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0)
            continue;
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
            break;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        fprintf(stderr, "bench-loadgen: cannot connect to %s:%s\n", o->host, o->port);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

static int mqtt_handshake(struct out *w, struct in *r, const char *client_id)
{
    size_t idlen = strlen(client_id);
    unsigned char *p = (unsigned char *)w->buf;
    size_t rem = 10 + 2 + idlen;
    *p++ = 0x10;
    p += put_remaining_length(p, rem);
    static const unsigned char vh[] = {0, 4, 'M', 'Q', 'T', 'T', 4, 0x02, 0, 0};
    memcpy(p, vh, sizeof(vh)); /* clean session, keepalive off */
    p += sizeof(vh);
    *p++ = (unsigned char)(idlen >> 8);
    *p++ = (unsigned char)(idlen & 0xff);
    memcpy(p, client_id, idlen);
    p += idlen;
    w->len = (size_t)((char *)p - w->buf);
    if (out_write(w) < 0)
        return -1;
    while (!r->connack) {
        if (in_read(r, true) < 0)
            return -1;
    }
    if (r->connack_rc != 0) {
        fprintf(stderr, "bench-loadgen: the broker refused the connection (code %d)\n",
                r->connack_rc);
        return -1;
    }
    return 0;
}

/* PINGREQ and wait for PINGRESP: the broker has handled everything before. */
static int mqtt_sync(struct out *w, struct in *r, double timeout_s)
{
    static const char ping[] = {(char)0xc0, 0};
    if (w->len + 2 > OUT_CAP && out_write(w) < 0)
        return -1;
    memcpy(w->buf + w->len, ping, 2);
    w->len += 2;
    if (out_write(w) < 0)
        return -1;
    double deadline = mono_now() + timeout_s;
    r->pingresp = false;
    while (!r->pingresp && mono_now() < deadline) {
        if (in_read(r, true) < 0)
            return -1;
    }
    return r->pingresp ? 0 : -1;
}

/* ---- the load ------------------------------------------------------------ */

/* Appends message number n (1-based) to the buffer. Returns 1 when it was an
 * alert-triggering message (to be flushed at once), 0, or -1. */
static int next_message(struct gen *g, struct out *w, unsigned long long n, long *rr, uint16_t id)
{
    const struct opts *o = g->o;
    char payload[MSG_MAX];
    struct sb b = {payload, payload + sizeof(payload) - 1};
    if (o->alert_every > 0 && n % (unsigned long long)o->alert_every == 0) {
        /* Odd alert messages fire with a value that names them, even ones
         * clear: each pair is two alert transitions. */
        g->n_alert++;
        unsigned long long k = (g->n_alert + 1) / 2;
        bool fire = g->n_alert % 2 == 1;
        double value = fire ? LAT_FIRE_BASE + (double)k : LAT_CLEAR_VALUE;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        int len = snprintf(payload, sizeof(payload),
                           "{\"ts\":%lld.%06ld,\"co2\":%.0f,\"temperature\":22.5,"
                           "\"humidity\":45.0}",
                           (long long)ts.tv_sec, ts.tv_nsec / 1000, value);
        if (out_publish(w, g->lat_topic, strlen(g->lat_topic), payload, (size_t)len, o->qos, id) <
            0)
            return -1;
        if (g->alert_log)
            fprintf(g->alert_log, "%llu %c %lld.%06ld\n", k, fire ? 'F' : 'R', (long long)ts.tv_sec,
                    ts.tv_nsec / 1000);
        return 1;
    }
    if (o->unknown) {
        /* Every message from a device never seen before. */
        char topic[192];
        int tl = snprintf(topic, sizeof(topic), "%s/%s/unk-%07llu/telemetry", o->prefix, o->hall,
                          o->unknown_first + n - 1);
        payload_of(g, 0, &b); /* device 0's kind: native env */
        return out_publish(w, topic, (size_t)tl, payload, (size_t)(b.p - payload), o->qos, id);
    }
    long i = *rr;
    *rr = (i + 1) % o->devices;
    payload_of(g, i, &b);
    return out_publish(w, g->topics[i], strlen(g->topics[i]), payload, (size_t)(b.p - payload),
                       o->qos, id);
}

static int run(struct gen *g)
{
    const struct opts *o = g->o;
    int fd = connect_broker(o);
    if (fd < 0)
        return 1;
    struct out w = {.fd = fd, .buf = malloc(OUT_CAP)};
    struct in *r = calloc(1, sizeof(*r));
    if (!w.buf || !r)
        return 1;
    r->fd = fd;
    char cid[64];
    if (o->client_id)
        snprintf(cid, sizeof(cid), "%s", o->client_id);
    else
        snprintf(cid, sizeof(cid), "bench-loadgen-%d", (int)getpid());
    if (mqtt_handshake(&w, r, cid) < 0)
        return 1;

    unsigned long long sent = 0;
    long rr = 0;
    uint16_t pid = 0;
    int rc = 0;
    double t0 = mono_now(), wall0 = wall_now();
    long window = o->inflight;
    while (!stop_requested) {
        double now = mono_now();
        if (o->duration_s > 0 && now - t0 >= o->duration_s)
            break;
        if (o->count > 0 && sent >= (unsigned long long)o->count)
            break;
        /* How many messages are due: at a rate, those whose time has come;
         * at full speed, a buffer's worth. */
        unsigned long long due;
        if (o->rate > 0)
            due = (unsigned long long)((now - t0) * o->rate) + 1;
        else
            due = sent + 512;
        if (o->count > 0 && due > (unsigned long long)o->count)
            due = (unsigned long long)o->count;
        while (sent < due && !stop_requested) {
            if (o->qos) {
                while ((long long)(sent - r->pubacks) >= window) {
                    if (out_write(&w) < 0 || in_read(r, true) < 0)
                        goto out_fail;
                }
                if (++pid == 0)
                    pid = 1;
            }
            int m = next_message(g, &w, sent + 1, &rr, pid);
            if (m < 0)
                goto out_fail;
            sent++;
            if (m == 1 && out_write(&w) < 0) /* alert messages leave at once */
                goto out_fail;
            if (w.len >= OUT_FLUSH && out_write(&w) < 0)
                goto out_fail;
        }
        if (o->rate > 0) {
            /* Caught up: send what is buffered, sleep until the next is due. */
            if (out_write(&w) < 0)
                goto out_fail;
            double next = t0 + (double)sent / o->rate;
            double wait = next - mono_now();
            if (wait > 0) {
                struct timespec ts = {(time_t)wait, (long)((wait - (double)(time_t)wait) * 1e9)};
                nanosleep(&ts, NULL);
            }
        }
        if (o->qos && in_read(r, false) < 0)
            goto out_fail;
    }
    if (out_write(&w) < 0)
        goto out_fail;
    double t_sent = mono_now();
    if (o->qos) {
        double deadline = mono_now() + 60;
        while (r->pubacks < sent && mono_now() < deadline)
            if (in_read(r, true) < 0)
                goto out_fail;
    }
    if (mqtt_sync(&w, r, 60) < 0) {
        fprintf(stderr, "bench-loadgen: no PINGRESP from the broker\n");
        rc = 1;
    }
    double t1 = mono_now();
    static const char disconnect[] = {(char)0xe0, 0};
    memcpy(w.buf, disconnect, 2);
    w.len = 2;
    out_write(&w);
    double secs = t_sent - t0;
    printf("sent=%llu seconds=%.3f rate=%.0f synced_seconds=%.3f start_wall=%.6f "
           "alert_messages=%llu qos=%d\n",
           sent, secs, secs > 0 ? (double)sent / secs : 0.0, t1 - t0, wall0,
           (unsigned long long)g->n_alert, o->qos);
    fflush(stdout);
    goto out;
out_fail:
    rc = 1;
    printf("sent=%llu failed=1\n", sent);
out:
    close(fd);
    free(w.buf);
    free(r);
    return rc;
}

/* ---- options ---------------------------------------------------------------- */

static void usage(FILE *f)
{
    fputs("Usage: bench-loadgen [--uri tcp://127.0.0.1:PORT] [--hall ID] [--devices N]\n"
          "                     [--qos 0|1] [--rate N] [--count N] [--duration D]\n"
          "                     [--alert-every K --alert-log FILE] [--unknown]\n"
          "       bench-loadgen --devices N --print-config\n"
          "\n"
          "Publishes hall telemetry to a loopback MQTT broker for the benchmarks: device\n"
          "i of N is dev-00001 ... and goes round eight kinds and formats (native env,\n"
          "seat and pc; Zigbee2MQTT seat and env; Tasmota env and plug SENSOR; Shelly\n"
          "NotifyStatus), round-robin, each payload 80-160 bytes with its send time in\n"
          "\"ts\" (unix seconds with microseconds).\n"
          "\n"
          "Options:\n"
          "  -u, --uri URI         broker, tcp://HOST:PORT with a loopback HOST\n"
          "                        (default tcp://127.0.0.1:1883)\n"
          "      --hall ID         hall id (default bench)\n"
          "      --prefix P        native topic prefix (default hall)\n"
          "  -D, --devices N       devices, 1-100000 (default 1000)\n"
          "  -q, --qos Q           publish QoS, 0 or 1 (default 0)\n"
          "      --inflight N      QoS 1: unacknowledged messages at most (default 1000)\n"
          "  -r, --rate N          messages per second (default 0: as fast as possible)\n"
          "  -n, --count N         stop after N messages\n"
          "  -d, --duration D      stop after D (30s, 2m, ...)\n"
          "      --alert-every K   every K-th message goes to device " LAT_DEVICE " (native\n"
          "                        env): co2 alternately 1000+k (the k-th fire) and 800\n"
          "                        (clear), so a co2 rule above 1000 / clear_at 900 with\n"
          "                        for = \"0s\" fires and resolves on every other one\n"
          "      --alert-log FILE  write \"k F|R send_ts\" for each of those messages\n"
          "      --unknown         every message from a new unknown device\n"
          "                        (<prefix>/<hall>/unk-NNNNNNN/telemetry)\n"
          "      --unknown-first N the first unknown device number (default 1)\n"
          "      --client-id ID    MQTT client id (default bench-loadgen-<pid>)\n"
          "      --print-config    print the halls and devices config, exit\n"
          "  -V, --version         print the version and exit\n"
          "  -h, --help            print this help and exit\n"
          "\n"
          "At the end it waits for the broker to have handled every message (PINGREQ),\n"
          "then prints one line: sent=N seconds=T rate=R ... (T up to the last write).\n",
          f);
}

static int parse_uri(const char *uri, struct opts *o)
{
    static char host[256], port[16];
    const char *p = uri;
    if (strncmp(p, "tcp://", 6) == 0)
        p += 6;
    else if (strncmp(p, "mqtt://", 7) == 0)
        p += 7;
    else
        return -1;
    const char *colon = strrchr(p, ':');
    if (!colon || colon == p || strlen(colon + 1) >= sizeof(port))
        return -1;
    size_t hl = (size_t)(colon - p);
    if (p[0] == '[' && hl >= 2 && p[hl - 1] == ']') {
        p++;
        hl -= 2;
    }
    if (hl >= sizeof(host))
        return -1;
    memcpy(host, p, hl);
    host[hl] = '\0';
    snprintf(port, sizeof(port), "%s", colon + 1);
    o->host = host;
    o->port = port;
    return 0;
}

static int parse_long(const char *name, const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < lo || v > hi) {
        fprintf(stderr, "bench-loadgen: %s: expected %ld to %ld, got '%s'\n", name, lo, hi, s);
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
    static const struct option lopts[] = {
        {"uri", required_argument, NULL, 'u'},
        {"hall", required_argument, NULL, 'H'},
        {"prefix", required_argument, NULL, 'P'},
        {"devices", required_argument, NULL, 'D'},
        {"qos", required_argument, NULL, 'q'},
        {"inflight", required_argument, NULL, 'i'},
        {"rate", required_argument, NULL, 'r'},
        {"count", required_argument, NULL, 'n'},
        {"duration", required_argument, NULL, 'd'},
        {"alert-every", required_argument, NULL, 'A'},
        {"alert-log", required_argument, NULL, 'L'},
        {"unknown", no_argument, NULL, 'U'},
        {"unknown-first", required_argument, NULL, 'F'},
        {"client-id", required_argument, NULL, 'C'},
        {"print-config", no_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    int c;
    long v;
    char *end;
    while ((c = getopt_long(argc, argv, "u:D:q:r:n:d:Vh", lopts, NULL)) != -1) {
        switch (c) {
        case 'u':
            if (parse_uri(optarg, o) < 0) {
                fprintf(stderr, "bench-loadgen: --uri: expected tcp://HOST:PORT, got '%s'\n",
                        optarg);
                return -1;
            }
            break;
        case 'H':
            o->hall = optarg;
            break;
        case 'P':
            o->prefix = optarg;
            break;
        case 'D':
            if (parse_long("--devices", optarg, 1, 100000, &o->devices) < 0)
                return -1;
            break;
        case 'q':
            if (parse_long("--qos", optarg, 0, 1, &v) < 0)
                return -1;
            o->qos = (int)v;
            break;
        case 'i':
            if (parse_long("--inflight", optarg, 1, 30000, &o->inflight) < 0)
                return -1;
            break;
        case 'r':
            o->rate = strtod(optarg, &end);
            if (*end || !(o->rate >= 0)) {
                fprintf(stderr, "bench-loadgen: --rate: expected a number >= 0\n");
                return -1;
            }
            break;
        case 'n':
            o->count = strtoll(optarg, &end, 10);
            if (*end || o->count < 1) {
                fprintf(stderr, "bench-loadgen: --count: expected a positive integer\n");
                return -1;
            }
            break;
        case 'd': {
            int64_t ms;
            if (duration_parse_ms(optarg, &ms) < 0) {
                fprintf(stderr, "bench-loadgen: --duration: not a duration: '%s'\n", optarg);
                return -1;
            }
            o->duration_s = (double)ms / 1000.0;
            break;
        }
        case 'A':
            if (parse_long("--alert-every", optarg, 2, 1000000000, &o->alert_every) < 0)
                return -1;
            break;
        case 'L':
            o->alert_log = optarg;
            break;
        case 'U':
            o->unknown = true;
            break;
        case 'F':
            if (parse_long("--unknown-first", optarg, 1, 1000000000, &v) < 0)
                return -1;
            o->unknown_first = (unsigned long long)v;
            break;
        case 'C':
            o->client_id = optarg;
            break;
        case 'p':
            o->print_config = true;
            break;
        case 'V':
            printf("bench-loadgen %s\n", HALLGW_VERSION);
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
        fprintf(stderr, "bench-loadgen: unexpected argument '%s'\n", argv[optind]);
        return -1;
    }
    if (!o->print_config && o->count == 0 && o->duration_s == 0) {
        fprintf(stderr, "bench-loadgen: give --count or --duration (or both)\n");
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct opts o = {.host = "127.0.0.1",
                     .port = "1883",
                     .hall = "bench",
                     .prefix = "hall",
                     .devices = 1000,
                     .unknown_first = 1,
                     .inflight = 1000};
    if (parse_args(argc, argv, &o) < 0)
        return 2;
    struct gen g;
    if (gen_init(&g, &o) < 0) {
        fprintf(stderr, "bench-loadgen: out of memory\n");
        return 1;
    }
    if (o.print_config) {
        print_config(&g, stdout);
        gen_free(&g);
        return 0;
    }
    if (o.alert_log && !(g.alert_log = fopen(o.alert_log, "w"))) {
        fprintf(stderr, "bench-loadgen: %s: %s\n", o.alert_log, strerror(errno));
        gen_free(&g);
        return 1;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGPIPE, SIG_IGN);
    int rc = run(&g);
    if (g.alert_log && fclose(g.alert_log) != 0)
        rc = 1;
    gen_free(&g);
    return rc;
}
