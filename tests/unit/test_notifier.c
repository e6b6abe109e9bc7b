/* Notification routes: body templates (JSON escaping whatever the alert
 * holds, raw and json fields, unknown names, unterminated braces, the output
 * bound), route matching, the e-mail message (headers, RFC 2047 subject,
 * CRLF), and the sending thread against real loopback sockets: a tiny HTTP
 * server answering 503 then 200, nothing listening at all, a server that
 * never answers, a tiny SMTP server, and aiosmtpd (a real SMTP server). */
#include "notifier.h"
#include "notify_message.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "clock.h"
#include "httpclient.h"
#include "json.h"
#include "metrics.h"
#include "utf8.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))
#define ALL_SEVERITIES ((1u << SEV_COUNT) - 1)
#define ALL_KINDS ((1u << KIND_COUNT) - 1)
#define WECOM_TEMPLATE "{\"msgtype\":\"text\",\"text\":{\"content\":\"{{severity}} {{summary}}\"}}"
#define T0 1790000000 /* 2026-09-21 22:13:20 +08:00, a Monday */

/* ---- helpers ---------------------------------------------------------------- */

static void make_alert(struct alert *a)
{
    memset(a, 0, sizeof(*a));
    snprintf(a->id, sizeof(a->id), "threat:pc-w03");
    snprintf(a->rule, sizeof(a->rule), "threat");
    snprintf(a->subject, sizeof(a->subject), "pc-w03");
    snprintf(a->hall, sizeof(a->hall), "h1");
    snprintf(a->device, sizeof(a->device), "pc-w03");
    snprintf(a->window, sizeof(a->window), "w03");
    a->kind = KIND_PC;
    a->severity = SEV_CRITICAL;
    a->type = RULE_EVENT;
    a->state = ALERT_FIRING;
    a->manual_resolve = true;
    a->pending_since = T0;
    a->firing_since = T0;
    a->changed_at = T0;
    snprintf(a->summary, sizeof(a->summary), "threat_detected: Trojan.Win32.Agent");
}

static char *expand(const char *tmpl, const struct alert *a, enum alert_transition t)
{
    return notify_message_expand(tmpl, a, t, "gw-1");
}

/* The string field key of a JSON object text, or NULL (the text must parse). */
static char *json_string_of(const char *text, const char *key)
{
    struct json_flat f;
    assert_int_equal(json_flatten(text, strlen(text), NULL, &f), JSON_OK);
    const struct json_field *fl = json_flat_get(&f, key);
    char *v = fl && fl->type == JSON_T_STRING ? strndup(fl->str, fl->str_len) : NULL;
    json_flat_free(&f);
    return v;
}

static struct config_notify webhook_route(const char *name, const char *url, const char *tmpl,
                                          int retries, int64_t timeout_ms)
{
    return (struct config_notify){.name = (char *)name,
                                  .type = NOTIFY_WEBHOOK,
                                  .severities = ALL_SEVERITIES,
                                  .kinds = ALL_KINDS,
                                  .url = (char *)url,
                                  .template_text = (char *)tmpl,
                                  .timeout_ms = timeout_ms,
                                  .retries = retries};
}

static struct notifier *start(struct config_notify *routes, size_t n)
{
    struct config cfg = {0};
    cfg.notify = routes;
    cfg.n_notify = n;
    struct notifier *nt = NULL;
    assert_int_equal(notifier_start(&cfg, &nt), 0);
    assert_non_null(nt);
    return nt;
}

static void sleep_ms(int64_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Waits up to timeout_ms for metric id to reach want. */
static bool wait_metric(enum metric_id id, uint64_t want, int64_t timeout_ms)
{
    mono_ms end = clock_mono_ms() + timeout_ms;
    while (metrics_get(id) < want && clock_mono_ms() < end)
        sleep_ms(10);
    return metrics_get(id) >= want;
}

static int listen_loopback(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(fd, 16), 0);
    socklen_t sl = sizeof(sa);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
    *port = ntohs(sa.sin_port);
    return fd;
}

/* A loopback port where nothing listens. */
static int closed_port(void)
{
    int port;
    close(listen_loopback(&port));
    return port;
}

/* Accepts one connection, waiting up to 100 ms; -1 when none came. */
static int accept_some(int lfd)
{
    struct pollfd p = {.fd = lfd, .events = POLLIN};
    if (poll(&p, 1, 100) <= 0)
        return -1;
    int fd = accept(lfd, NULL, NULL);
    if (fd >= 0) {
        struct timeval tv = {5, 0};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    }
    return fd;
}

static void send_all(int fd, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
        if (w <= 0)
            return;
        s += w;
        n -= (size_t)w;
    }
}

/* ---- a tiny HTTP server: answers from a script, records the requests --------- */

#define STUB_MAX_REQ 8

struct http_answer {
    int status;
    const char *body;
};

struct http_stub {
    int lfd, port;
    pthread_t thread;
    atomic_bool stop;
    const struct http_answer *script; /* request i gets script[min(i, n_script - 1)] */
    size_t n_script;
    pthread_mutex_t lock;
    size_t n_requests;
    char line[STUB_MAX_REQ][256]; /* request lines */
    char head[STUB_MAX_REQ][2048];
    char *body[STUB_MAX_REQ];
};

static void http_stub_serve(struct http_stub *s, int fd)
{
    char buf[65536 + 4096];
    size_t len = 0;
    char *end = NULL;
    while (!end && len < sizeof(buf) - 1) {
        ssize_t r = recv(fd, buf + len, sizeof(buf) - 1 - len, 0);
        if (r <= 0)
            return;
        len += (size_t)r;
        buf[len] = '\0';
        end = strstr(buf, "\r\n\r\n");
    }
    if (!end)
        return;
    size_t head_len = (size_t)(end - buf) + 4, clen = 0;
    for (char *p = buf; p && p < end; p = strstr(p, "\r\n") ? strstr(p, "\r\n") + 2 : NULL)
        if (strncasecmp(p, "Content-Length:", 15) == 0)
            clen = strtoul(p + 15, NULL, 10);
    while (len < head_len + clen && len < sizeof(buf) - 1) {
        ssize_t r = recv(fd, buf + len, sizeof(buf) - 1 - len, 0);
        if (r <= 0)
            return;
        len += (size_t)r;
    }
    buf[head_len + clen < len ? head_len + clen : len] = '\0';

    pthread_mutex_lock(&s->lock);
    size_t i = s->n_requests++;
    const struct http_answer *a = &s->script[i < s->n_script ? i : s->n_script - 1];
    if (i < STUB_MAX_REQ) {
        snprintf(s->line[i], sizeof(s->line[i]), "%.*s", (int)strcspn(buf, "\r\n"), buf);
        snprintf(s->head[i], sizeof(s->head[i]), "%.*s", (int)(end - buf), buf);
        s->body[i] = strdup(buf + head_len);
    }
    pthread_mutex_unlock(&s->lock);

    const char *body = a->body ? a->body : "";
    char resp[1024];
    int n = snprintf(resp, sizeof(resp),
                     "HTTP/1.1 %d Stub\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                     a->status, strlen(body), body);
    send_all(fd, resp, (size_t)n);
}

static void *http_stub_main(void *arg)
{
    struct http_stub *s = arg;
    while (!atomic_load(&s->stop)) {
        int fd = accept_some(s->lfd);
        if (fd < 0)
            continue;
        http_stub_serve(s, fd);
        close(fd);
    }
    return NULL;
}

static struct http_stub *http_stub_start(const struct http_answer *script, size_t n_script)
{
    struct http_stub *s = calloc(1, sizeof(*s));
    assert_non_null(s);
    s->script = script;
    s->n_script = n_script;
    pthread_mutex_init(&s->lock, NULL);
    s->lfd = listen_loopback(&s->port);
    assert_int_equal(pthread_create(&s->thread, NULL, http_stub_main, s), 0);
    return s;
}

static size_t http_stub_requests(struct http_stub *s)
{
    pthread_mutex_lock(&s->lock);
    size_t n = s->n_requests;
    pthread_mutex_unlock(&s->lock);
    return n;
}

static void http_stub_stop(struct http_stub *s)
{
    atomic_store(&s->stop, true);
    pthread_join(s->thread, NULL);
    close(s->lfd);
    for (size_t i = 0; i < STUB_MAX_REQ; i++)
        free(s->body[i]);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

static void stub_url(char *url, size_t size, int port, const char *path)
{
    snprintf(url, size, "http://127.0.0.1:%d%s", port, path);
}

static int reset_metrics(void **state)
{
    (void)state;
    metrics_reset();
    return 0;
}

/* ---- templates ---------------------------------------------------------------- */

static void test_template_escapes_quotes_backslashes_and_control_chars(void **state)
{
    (void)state;
    struct alert a;
    make_alert(&a);
    snprintf(a.summary, sizeof(a.summary), "say \"hi\" C:\\temp\nnext\ttab\r\x01\x1f\b\f end");
    char *out = expand(WECOM_TEMPLATE, &a, AT_FIRING);
    assert_non_null(out);
    assert_string_equal(out,
                        "{\"msgtype\":\"text\",\"text\":{\"content\":\"critical say \\\"hi\\\" "
                        "C:\\\\temp\\nnext\\ttab\\r\\u0001\\u001f\\b\\f end\"}}");
    /* Whatever the summary holds, the body stays JSON and carries it intact. */
    char *content = json_string_of(out, "text_content");
    assert_non_null(content);
    char want[300];
    snprintf(want, sizeof(want), "critical %s", a.summary);
    assert_string_equal(content, want);
    free(content);
    free(out);
}

static void test_template_keeps_chinese_text_and_replaces_bad_utf8(void **state)
{
    (void)state;
    struct alert a;
    make_alert(&a);
    snprintf(a.summary, sizeof(a.summary), "二氧化碳浓度过高 1350 ppm（政务服务大厅）");
    char *out = expand("{\"content\":\"{{summary}}\"}", &a, AT_FIRING);
    assert_string_equal(out, "{\"content\":\"二氧化碳浓度过高 1350 ppm（政务服务大厅）\"}");
    free(out);

    /* A stray byte and a sequence cut short become U+FFFD, each byte once. */
    snprintf(a.summary, sizeof(a.summary),
             "a\xff"
             "b\xe4\xb8");
    out = expand("\"{{summary}}\"", &a, AT_FIRING);
    assert_string_equal(out, "\"a\\ufffdb\\ufffd\\ufffd\"");
    free(out);
    /* An overlong encoding and a surrogate are not UTF-8 either. */
    snprintf(a.summary, sizeof(a.summary), "\xc0\xaf|\xed\xa0\x80");
    out = expand("{{summary}}", &a, AT_FIRING);
    assert_string_equal(out, "\\ufffd\\ufffd|\\ufffd\\ufffd\\ufffd");
    free(out);
}

static void test_template_raw_fields_are_not_escaped(void **state)
{
    (void)state;
    struct alert a;
    make_alert(&a);
    snprintf(a.summary, sizeof(a.summary), "a\"b\\c\nd");
    char *out =
        expand("{{raw:summary}}|{{ raw: severity }}|{{ severity }}|{{summary}}", &a, AT_FIRING);
    assert_string_equal(out, "a\"b\\c\nd|critical|critical|a\\\"b\\\\c\\nd");
    free(out);
}

static void test_template_fills_every_field(void **state)
{
    (void)state;
    struct alert a;
    make_alert(&a);
    a.state = ALERT_ACKNOWLEDGED;
    a.acked_at = T0 + 60;
    a.changed_at = T0 + 60;
    a.has_value = true;
    a.value = 1350.5;
    snprintf(a.acked_by, sizeof(a.acked_by), "张三");
    snprintf(a.note, sizeof(a.note), "已隔离");
    char *out = expand("{{id}}|{{rule}}|{{subject}}|{{hall}}|{{device}}|{{window}}|{{kind}}|"
                       "{{severity}}|{{state}}|{{transition}}|{{summary}}|{{value}}|{{by}}|"
                       "{{note}}|{{at}}|{{gateway}}",
                       &a, AT_ACKNOWLEDGED);
    assert_string_equal(out, "threat:pc-w03|threat|pc-w03|h1|pc-w03|w03|pc|critical|"
                             "acknowledged|acknowledged|threat_detected: Trojan.Win32.Agent|"
                             "1350.5|张三|已隔离|2026-09-21T22:14:20+08:00|gw-1");
    free(out);

    /* Resolved: "by" is who resolved it ("" when it cleared by itself), "at"
     * the resolve time; no value, no value text. */
    a.state = ALERT_RESOLVED;
    a.resolved_at = T0 + 3600;
    a.has_value = false;
    out = expand("[{{by}}][{{at}}][{{value}}][{{transition}}]", &a, AT_RESOLVED);
    assert_string_equal(out, "[][2026-09-21T23:13:20+08:00][][resolved]");
    free(out);
}

static void test_template_json_is_the_alert_with_its_transition(void **state)
{
    (void)state;
    struct alert a;
    make_alert(&a);
    snprintf(a.summary, sizeof(a.summary), "quote \" and 中文");
    char *out = expand("{\"alert\":{{json}},\"raw\":{{raw:json}}}", &a, AT_FIRING);
    assert_non_null(out);
    char *v = json_string_of(out, "alert_transition");
    assert_string_equal(v, "firing");
    free(v);
    v = json_string_of(out, "alert_summary");
    assert_string_equal(v, a.summary);
    free(v);
    v = json_string_of(out, "raw_id");
    assert_string_equal(v, "threat:pc-w03");
    free(v);
    v = json_string_of(out, "alert_gateway");
    assert_string_equal(v, "gw-1");
    free(v);
    free(out);
}

static void test_template_unknown_names_expand_to_nothing(void **state)
{
    (void)state;
    struct alert a;
    make_alert(&a);
    char *out =
        expand("[{{nope}}][{{}}][{{ }}][{{raw:nope}}][{{raw:}}][{{Severity}}]", &a, AT_FIRING);
    assert_string_equal(out, "[][][][][][]");
    free(out);
    /* A name longer than any field is unknown too. */
    char tmpl[300];
    snprintf(tmpl, sizeof(tmpl), "<{{%0200d}}>", 0);
    out = expand(tmpl, &a, AT_FIRING);
    assert_string_equal(out, "<>");
    free(out);
}

static void test_template_unterminated_braces_are_copied(void **state)
{
    (void)state;
    struct alert a;
    make_alert(&a);
    static const struct {
        const char *tmpl, *want;
    } cases[] = {
        {"x {{severity}} {{summary", "x critical {{summary"},
        {"}} { } {x}", "}} { } {x}"},
        {"{", "{"},
        {"{{", "{{"},
        {"a{{}", "a{{}"},
        {"{{severity}", "{{severity}"},
        {"{{{severity}}}", "}"}, /* the name is "{severity": unknown */
        {"", ""},
    };
    for (size_t i = 0; i < N_ELEMS(cases); i++) {
        /* An exact-size heap copy, so that a read past the end is caught. */
        size_t n = strlen(cases[i].tmpl) + 1;
        char *tmpl = malloc(n);
        memcpy(tmpl, cases[i].tmpl, n);
        char *out = expand(tmpl, &a, AT_FIRING);
        assert_non_null(out);
        assert_string_equal(out, cases[i].want);
        free(out);
        free(tmpl);
    }
}

static void test_template_output_is_bounded(void **state)
{
    (void)state;
    struct alert a;
    make_alert(&a);
    char *tmpl = malloc(NOTIFY_MESSAGE_BODY_MAX + 64);

    memset(tmpl, 'x', NOTIFY_MESSAGE_BODY_MAX);
    tmpl[NOTIFY_MESSAGE_BODY_MAX] = '\0';
    char *out = expand(tmpl, &a, AT_FIRING);
    assert_non_null(out);
    assert_int_equal(strlen(out), NOTIFY_MESSAGE_BODY_MAX);
    free(out);

    tmpl[NOTIFY_MESSAGE_BODY_MAX] = 'x';
    tmpl[NOTIFY_MESSAGE_BODY_MAX + 1] = '\0';
    errno = 0;
    assert_null(expand(tmpl, &a, AT_FIRING));
    assert_int_equal(errno, EMSGSIZE);

    /* The expansion, not only the template, is bounded: "critical" is 8. */
    memset(tmpl, 'x', NOTIFY_MESSAGE_BODY_MAX - 8);
    strcpy(tmpl + NOTIFY_MESSAGE_BODY_MAX - 8, "{{severity}}");
    out = expand(tmpl, &a, AT_FIRING);
    assert_non_null(out);
    assert_int_equal(strlen(out), NOTIFY_MESSAGE_BODY_MAX);
    assert_string_equal(out + NOTIFY_MESSAGE_BODY_MAX - 8, "critical");
    free(out);
    memset(tmpl, 'x', NOTIFY_MESSAGE_BODY_MAX - 7);
    strcpy(tmpl + NOTIFY_MESSAGE_BODY_MAX - 7, "{{severity}}");
    assert_null(expand(tmpl, &a, AT_FIRING));
    free(tmpl);

    /* A short template that grows: 200 copies of the alert JSON. */
    size_t n = 0;
    tmpl = malloc(200 * 8 + 1);
    for (int i = 0; i < 200; i++)
        n += (size_t)sprintf(tmpl + n, "{{json}}");
    errno = 0;
    assert_null(expand(tmpl, &a, AT_FIRING));
    assert_int_equal(errno, EMSGSIZE);
    free(tmpl);
}

/* ---- route matching ----------------------------------------------------------- */

static void test_route_matches_severity_kind_and_hall(void **state)
{
    (void)state;
    char *halls_h1_h3[] = {"h1", "h3"};
    char *no_halls[1] = {NULL};
    static const unsigned major_critical = 1u << SEV_MAJOR | 1u << SEV_CRITICAL;
    static const unsigned pc_equipment = 1u << KIND_PC | 1u << KIND_EQUIPMENT;
    const struct {
        unsigned severities, kinds;
        char **halls;
        size_t n_halls;
        enum severity sev;
        enum device_kind kind;
        const char *hall;
        bool want;
    } cases[] = {
        {ALL_SEVERITIES, ALL_KINDS, NULL, 0, SEV_INFO, KIND_ENV, "h9", true},
        {major_critical, ALL_KINDS, NULL, 0, SEV_CRITICAL, KIND_ENV, "h1", true},
        {major_critical, ALL_KINDS, NULL, 0, SEV_MAJOR, KIND_ENV, "h1", true},
        {major_critical, ALL_KINDS, NULL, 0, SEV_WARNING, KIND_ENV, "h1", false},
        {major_critical, ALL_KINDS, NULL, 0, SEV_INFO, KIND_ENV, "h1", false},
        {ALL_SEVERITIES, pc_equipment, NULL, 0, SEV_WARNING, KIND_PC, "h1", true},
        {ALL_SEVERITIES, pc_equipment, NULL, 0, SEV_WARNING, KIND_EQUIPMENT, "h1", true},
        {ALL_SEVERITIES, pc_equipment, NULL, 0, SEV_WARNING, KIND_SEAT, "h1", false},
        {ALL_SEVERITIES, pc_equipment, NULL, 0, SEV_WARNING, KIND_UNKNOWN, "h1", false},
        {ALL_SEVERITIES, ALL_KINDS, halls_h1_h3, 2, SEV_INFO, KIND_ENV, "h1", true},
        {ALL_SEVERITIES, ALL_KINDS, halls_h1_h3, 2, SEV_INFO, KIND_ENV, "h3", true},
        {ALL_SEVERITIES, ALL_KINDS, halls_h1_h3, 2, SEV_INFO, KIND_ENV, "h2", false},
        {ALL_SEVERITIES, ALL_KINDS, halls_h1_h3, 2, SEV_INFO, KIND_ENV, "h", false},
        {ALL_SEVERITIES, ALL_KINDS, halls_h1_h3, 2, SEV_INFO, KIND_ENV, "", false},
        {ALL_SEVERITIES, ALL_KINDS, no_halls, 0, SEV_INFO, KIND_ENV, "h1", false},
        /* every condition at once */
        {major_critical, pc_equipment, halls_h1_h3, 2, SEV_CRITICAL, KIND_PC, "h3", true},
        {major_critical, pc_equipment, halls_h1_h3, 2, SEV_CRITICAL, KIND_PC, "h2", false},
        {major_critical, pc_equipment, halls_h1_h3, 2, SEV_WARNING, KIND_PC, "h3", false},
        {major_critical, pc_equipment, halls_h1_h3, 2, SEV_CRITICAL, KIND_ENV, "h3", false},
    };
    for (size_t i = 0; i < N_ELEMS(cases); i++) {
        struct config_notify r = {.name = "r",
                                  .severities = cases[i].severities,
                                  .kinds = cases[i].kinds,
                                  .halls = cases[i].halls,
                                  .n_halls = cases[i].n_halls};
        struct alert a;
        make_alert(&a);
        a.severity = cases[i].sev;
        a.kind = cases[i].kind;
        snprintf(a.hall, sizeof(a.hall), "%s", cases[i].hall);
        if (notifier_route_matches(&r, &a) != cases[i].want)
            fail_msg("case %zu: want %d", i, cases[i].want);
    }
}

/* ---- e-mail --------------------------------------------------------------------- */

static struct config_notify email_route(char **to, size_t n_to)
{
    return (struct config_notify){.name = "duty",
                                  .type = NOTIFY_EMAIL,
                                  .severities = ALL_SEVERITIES,
                                  .kinds = ALL_KINDS,
                                  .smtp_url = "smtp://127.0.0.1:25",
                                  .from = "Hall GW <hallgw@example.org>",
                                  .to = to,
                                  .n_to = n_to,
                                  .timeout_ms = 5000,
                                  .retries = 2};
}

/* Every LF comes after a CR and every CR before an LF. */
static void assert_crlf_only(const char *m, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (m[i] == '\n' && (i == 0 || m[i - 1] != '\r'))
            fail_msg("bare LF at %zu", i);
        if (m[i] == '\r' && (i + 1 == len || m[i + 1] != '\n'))
            fail_msg("bare CR at %zu", i);
    }
}

/* The unfolded value of header name (malloc'd), or NULL. */
static char *header_of(const char *m, const char *name)
{
    size_t nl = strlen(name);
    const char *body = strstr(m, "\r\n\r\n");
    for (const char *p = m; p && p < body; p = strstr(p, "\r\n") + 2) {
        if (strncmp(p, name, nl) != 0 || p[nl] != ':')
            continue;
        const char *v = p + nl + 1;
        while (*v == ' ')
            v++;
        char *out = calloc(1, 4096);
        size_t n = 0;
        for (;;) {
            const char *eol = strstr(v, "\r\n");
            memcpy(out + n, v, (size_t)(eol - v));
            n += (size_t)(eol - v);
            if (eol[2] != ' ' && eol[2] != '\t')
                break;
            v = eol + 2; /* unfold: the CRLF goes, the space stays */
        }
        return out;
    }
    return NULL;
}

static void test_email_has_the_headers_and_crlf_lines(void **state)
{
    (void)state;
    char *to[] = {"duty@example.org", "IT Desk <it@example.org>"};
    struct config_notify r = email_route(to, 2);
    struct alert a;
    make_alert(&a);
    a.has_value = true;
    a.value = 3;
    snprintf(a.note, sizeof(a.note), "line1\nline2\r\nline3\rline4");
    size_t len = 0;
    char *m = notify_message_email(&r, &a, AT_FIRING, "gw-1", T0, 0x2a, &len);
    assert_non_null(m);
    assert_int_equal(len, strlen(m));
    assert_crlf_only(m, len);

    assert_true(strncmp(m, "From: Hall GW <hallgw@example.org>\r\n", 36) == 0);
    static const char *const lines[] = {
        "\r\nTo: duty@example.org,\r\n IT Desk <it@example.org>\r\n",
        "\r\nSubject: [hallgw] critical firing: threat pc-w03\r\n",
        "\r\nDate: Mon, 21 Sep 2026 22:13:20 +0800\r\n",
        "\r\nMessage-ID: <1790000000.2a.gw-1@example.org>\r\n",
        "\r\nMIME-Version: 1.0\r\n",
        "\r\nContent-Type: text/plain; charset=utf-8\r\n",
        "\r\nContent-Transfer-Encoding: 8bit\r\n",
        "\r\nX-Hallgw-Alert: threat:pc-w03\r\n",
    };
    const char *sep = strstr(m, "\r\n\r\n");
    assert_non_null(sep);
    for (size_t i = 0; i < N_ELEMS(lines); i++) {
        const char *p = strstr(m, lines[i]);
        if (!p || p > sep)
            fail_msg("header missing: %s", lines[i] + 2);
    }
    const char *body = sep + 4;
    assert_true(strncmp(body, "threat_detected: Trojan.Win32.Agent\r\n\r\n", 39) == 0);
    static const char *const fields[] = {
        "Alert:           threat:pc-w03\r\n",
        "Transition:      firing\r\n",
        "State:           firing\r\n",
        "Severity:        critical\r\n",
        "Hall:            h1\r\n",
        "Window:          w03\r\n",
        "Device:          pc-w03\r\n",
        "Kind:            pc\r\n",
        "Value:           3\r\n",
        "At:              2026-09-21T22:13:20+08:00\r\n",
        "Note:            line1\r\n    line2\r\n    line3\r\n    line4\r\n",
        "Gateway:         gw-1\r\n",
    };
    for (size_t i = 0; i < N_ELEMS(fields); i++)
        if (!strstr(body, fields[i]))
            fail_msg("body line missing: %s", fields[i]);
    assert_null(strstr(body, "Acknowledged by:")); /* unset fields are left out */
    free(m);
}

/* Decodes the RFC 2047 words of an unfolded Subject; checks their form. */
static void decode_encoded_words(const char *v, char *out, size_t size)
{
    size_t n = 0;
    while (*v) {
        assert_true(strncmp(v, "=?UTF-8?B?", 10) == 0);
        const char *end = strstr(v + 10, "?=");
        assert_non_null(end);
        assert_true(end + 2 - v <= 75); /* RFC 2047: an encoded word is at most 75 */
        size_t b64 = (size_t)(end - (v + 10));
        unsigned char chunk[128];
        int k = EVP_DecodeBlock(chunk, (const unsigned char *)v + 10, (int)b64);
        assert_true(k >= 0);
        if (b64 >= 1 && v[10 + b64 - 1] == '=')
            k--;
        if (b64 >= 2 && v[10 + b64 - 2] == '=')
            k--;
        /* Each word holds whole UTF-8 characters. */
        assert_true(utf8_valid((const char *)chunk, (size_t)k));
        assert_true(n + (size_t)k < size);
        memcpy(out + n, chunk, (size_t)k);
        n += (size_t)k;
        v = end + 2;
        if (*v == ' ')
            v++;
    }
    out[n] = '\0';
}

static void test_email_utf8_subject_is_rfc2047_encoded(void **state)
{
    (void)state;
    char *to[] = {"duty@example.org"};
    struct config_notify r = email_route(to, 1);
    struct alert a;
    make_alert(&a);
    snprintf(a.subject, sizeof(a.subject), "综合受理窗口一号二号三号四号五号");
    snprintf(a.id, sizeof(a.id), "threat:%s", a.subject);
    size_t len;
    char *m = notify_message_email(&r, &a, AT_FIRING, "gw-1", T0, 1, &len);
    assert_non_null(m);
    assert_crlf_only(m, len);
    /* Header lines stay within 76 characters. */
    const char *sep = strstr(m, "\r\n\r\n");
    for (const char *p = strstr(m, "\r\nSubject:") + 2;;) {
        const char *eol = strstr(p, "\r\n");
        assert_true(eol - p <= 76);
        if (eol[2] != ' ')
            break;
        p = eol + 2;
    }
    char *v = header_of(m, "Subject");
    assert_non_null(v);
    char decoded[512];
    decode_encoded_words(v, decoded, sizeof(decoded));
    assert_string_equal(decoded,
                        "[hallgw] critical firing: threat 综合受理窗口一号二号三号四号五号");
    assert_non_null(strstr(v, "?= =?UTF-8?B?")); /* long enough to take several words */
    free(v);
    /* The body is 8bit UTF-8 as it is. */
    assert_non_null(strstr(sep, "综合受理窗口一号二号三号四号五号"));
    free(m);
}

static void test_email_headers_never_take_line_breaks_from_the_alert(void **state)
{
    (void)state;
    char *to[] = {"duty@example.org"};
    struct config_notify r = email_route(to, 1);
    struct alert a;
    make_alert(&a);
    snprintf(a.subject, sizeof(a.subject), "x\r\nBcc: evil@example.org");
    snprintf(a.id, sizeof(a.id), "threat:x\nBcc: evil2@example.org");
    size_t len;
    char *m = notify_message_email(&r, &a, AT_FIRING, "gw-1", T0, 1, &len);
    assert_non_null(m);
    assert_crlf_only(m, len);
    assert_null(strstr(m, "\r\nBcc:"));
    char *v = header_of(m, "Subject");
    assert_string_equal(v, "[hallgw] critical firing: threat x  Bcc: evil@example.org");
    free(v);
    free(m);
}

/* ---- the thread, against a real HTTP server ------------------------------------ */

static void test_webhook_is_delivered_after_one_retry(void **state)
{
    (void)state;
    static const struct http_answer script[] = {{503, "busy"}, {200, "{\"errcode\":0}"}};
    struct http_stub *s = http_stub_start(script, N_ELEMS(script));
    char url[64];
    stub_url(url, sizeof(url), s->port, "/robot/send?key=k1");
    struct config_notify routes[] = {webhook_route("it", url, WECOM_TEMPLATE, 3, 5000)};
    struct notifier *nt = start(routes, 1);

    struct alert a;
    make_alert(&a);
    snprintf(a.summary, sizeof(a.summary), "病毒 \"Trojan\" 已发现");
    notifier_send(nt, &a, AT_FIRING, "gw-1", NULL);
    assert_true(wait_metric(MET_NOTIFY_SENT, 1, 10000));
    notifier_stop(nt, 1000);

    assert_int_equal(metrics_get(MET_NOTIFY_RETRIES), 1);
    assert_int_equal(metrics_get(MET_NOTIFY_SENT), 1);
    assert_int_equal(metrics_get(MET_NOTIFY_FAILED), 0);
    assert_int_equal(http_stub_requests(s), 2);
    assert_string_equal(s->line[1], "POST /robot/send?key=k1 HTTP/1.1");
    assert_non_null(strcasestr(s->head[1], "\r\nContent-Type: application/json"));
    assert_string_equal(s->body[0], s->body[1]);
    char *content = json_string_of(s->body[1], "text_content");
    assert_string_equal(content, "critical 病毒 \"Trojan\" 已发现");
    free(content);
    http_stub_stop(s);
}

static void test_webhook_default_body_is_the_alert_json(void **state)
{
    (void)state;
    static const struct http_answer script[] = {{204, NULL}};
    struct http_stub *s = http_stub_start(script, N_ELEMS(script));
    char url[64];
    stub_url(url, sizeof(url), s->port, "/hook");
    struct config_notify routes[] = {webhook_route("it", url, NULL, 3, 5000)};
    routes[0].content_type = "application/json; charset=utf-8";
    struct notifier *nt = start(routes, 1);

    struct alert a;
    make_alert(&a);
    /* Pending is not announced: had it been queued, it would arrive first. */
    notifier_send(nt, &a, AT_PENDING, "gw-1", NULL);
    notifier_send(nt, &a, AT_CANCELLED, "gw-1", NULL);
    a.state = ALERT_RESOLVED;
    a.resolved_at = T0 + 10;
    notifier_send(nt, &a, AT_RESOLVED, "gw-1", NULL);
    assert_true(wait_metric(MET_NOTIFY_SENT, 1, 10000));
    notifier_stop(nt, 1000);

    assert_int_equal(http_stub_requests(s), 1);
    assert_non_null(
        strcasestr(s->head[0], "\r\nContent-Type: application/json; charset=utf-8\r\n"));
    char *v = json_string_of(s->body[0], "transition");
    assert_string_equal(v, "resolved");
    free(v);
    v = json_string_of(s->body[0], "state");
    assert_string_equal(v, "resolved");
    free(v);
    v = json_string_of(s->body[0], "id");
    assert_string_equal(v, "threat:pc-w03");
    free(v);
    http_stub_stop(s);
}

static void test_webhook_client_error_is_final(void **state)
{
    (void)state;
    static const struct http_answer script[] = {{400, "{\"error\":\"bad\"}"}};
    struct http_stub *s = http_stub_start(script, N_ELEMS(script));
    char url[64];
    stub_url(url, sizeof(url), s->port, "/hook");
    struct config_notify routes[] = {webhook_route("it", url, NULL, 3, 5000)};
    struct notifier *nt = start(routes, 1);
    struct alert a;
    make_alert(&a);
    notifier_send(nt, &a, AT_FIRING, "gw-1", NULL);
    assert_true(wait_metric(MET_NOTIFY_FAILED, 1, 10000));
    notifier_stop(nt, 1000);
    assert_int_equal(metrics_get(MET_NOTIFY_RETRIES), 0);
    assert_int_equal(metrics_get(MET_NOTIFY_SENT), 0);
    assert_int_equal(http_stub_requests(s), 1);
    http_stub_stop(s);
}

static void test_robot_rate_limit_errcode_is_retried_other_errcodes_are_final(void **state)
{
    (void)state;
    /* WeCom answers 200 with errcode 45009 when over its rate limit. */
    static const struct http_answer script[] = {
        {200, "{\"errcode\":45009,\"errmsg\":\"api freq out of limit\"}"},
        {200, "{\"errcode\":0,\"errmsg\":\"ok\"}"},
        {200, "{\"errcode\":93000,\"errmsg\":\"invalid webhook url\"}"},
    };
    struct http_stub *s = http_stub_start(script, N_ELEMS(script));
    char url[64];
    stub_url(url, sizeof(url), s->port, "/cgi-bin/webhook/send");
    struct config_notify routes[] = {webhook_route("wecom", url, WECOM_TEMPLATE, 3, 5000)};
    struct notifier *nt = start(routes, 1);
    struct alert a;
    make_alert(&a);
    notifier_send(nt, &a, AT_FIRING, "gw-1", NULL);
    assert_true(wait_metric(MET_NOTIFY_SENT, 1, 10000));
    assert_int_equal(metrics_get(MET_NOTIFY_RETRIES), 1);
    notifier_send(nt, &a, AT_FIRING, "gw-1", NULL);
    assert_true(wait_metric(MET_NOTIFY_FAILED, 1, 10000));
    notifier_stop(nt, 1000);
    assert_int_equal(metrics_get(MET_NOTIFY_RETRIES), 1);
    assert_int_equal(http_stub_requests(s), 3);
    http_stub_stop(s);
}

static void test_escalation_goes_to_the_named_route_only(void **state)
{
    (void)state;
    static const struct http_answer script[] = {{200, NULL}};
    struct http_stub *s = http_stub_start(script, N_ELEMS(script));
    char url_it[64], url_duty[64];
    stub_url(url_it, sizeof(url_it), s->port, "/it");
    stub_url(url_duty, sizeof(url_duty), s->port, "/duty");
    struct config_notify routes[] = {webhook_route("it", url_it, NULL, 0, 5000),
                                     webhook_route("duty", url_duty, NULL, 0, 5000)};
    routes[1].severities = 1u << SEV_INFO; /* would not match the alert */
    struct notifier *nt = start(routes, 2);
    struct alert a;
    make_alert(&a);
    notifier_send(nt, &a, AT_FIRING, "gw-1", "duty");
    notifier_send(nt, &a, AT_FIRING, "gw-1", "no-such-route");
    assert_true(wait_metric(MET_NOTIFY_SENT, 1, 10000));
    notifier_stop(nt, 1000);
    assert_int_equal(http_stub_requests(s), 1);
    assert_string_equal(s->line[0], "POST /duty HTTP/1.1");
    http_stub_stop(s);
}

static void test_gives_up_after_the_retries_when_nothing_listens(void **state)
{
    (void)state;
    char url[64];
    stub_url(url, sizeof(url), closed_port(), "/hook");
    struct config_notify routes[] = {webhook_route("it", url, NULL, 1, 500)};
    struct notifier *nt = start(routes, 1);
    struct alert a;
    make_alert(&a);
    notifier_send(nt, &a, AT_FIRING, "gw-1", NULL);
    /* The send only queued: the retry is at least a second away. */
    assert_int_equal(metrics_get(MET_NOTIFY_FAILED), 0);
    assert_int_equal(metrics_get(MET_NOTIFY_RETRIES), 0);
    assert_true(wait_metric(MET_NOTIFY_FAILED, 1, 10000));
    notifier_stop(nt, 1000);
    assert_int_equal(metrics_get(MET_NOTIFY_RETRIES), 1);
    assert_int_equal(metrics_get(MET_NOTIFY_FAILED), 1);
    assert_int_equal(metrics_get(MET_NOTIFY_SENT), 0);
}

static void test_stop_drops_a_retry_due_after_the_drain_time(void **state)
{
    (void)state;
    static const struct http_answer script[] = {{503, NULL}};
    struct http_stub *s = http_stub_start(script, N_ELEMS(script));
    char url[64];
    stub_url(url, sizeof(url), s->port, "/hook");
    struct config_notify routes[] = {webhook_route("it", url, NULL, 5, 5000)};
    struct notifier *nt = start(routes, 1);
    struct alert a;
    make_alert(&a);
    notifier_send(nt, &a, AT_FIRING, "gw-1", NULL);
    mono_ms end = clock_mono_ms() + 10000;
    while (http_stub_requests(s) < 1 && clock_mono_ms() < end)
        sleep_ms(5);
    assert_int_equal(http_stub_requests(s), 1);
    notifier_stop(nt, 100); /* the retry is due in 1 s */
    assert_int_equal(metrics_get(MET_NOTIFY_FAILED), 1);
    assert_int_equal(metrics_get(MET_NOTIFY_RETRIES), 0);
    assert_int_equal(metrics_get(MET_NOTIFY_SENT), 0);
    assert_int_equal(http_stub_requests(s), 1);
    http_stub_stop(s);
}

static void test_full_queue_drops_without_blocking_and_stop_is_bounded(void **state)
{
    (void)state;
    /* A server that accepts connections (the kernel does) but never answers. */
    int port;
    int lfd = listen_loopback(&port);
    char url[64];
    stub_url(url, sizeof(url), port, "/hook");
    struct config_notify routes[] = {webhook_route("it", url, NULL, 5, 60000)};
    struct notifier *nt = start(routes, 1);
    struct alert a;
    make_alert(&a);
    enum { N = 400 };
    for (int i = 0; i < N; i++)
        notifier_send(nt, &a, AT_FIRING, "gw-1", NULL);
    /* 256 queued at most, plus what the thread took before it hung. */
    assert_true(metrics_get(MET_NOTIFY_DROPPED) >= N - 256 - 16);
    mono_ms t0 = clock_mono_ms();
    notifier_stop(nt, 200);
    /* The hung request was abandoned at the drain deadline, not after 60 s. */
    assert_true(clock_mono_ms() - t0 < 30000);
    assert_int_equal(metrics_get(MET_NOTIFY_SENT), 0);
    assert_int_equal(metrics_get(MET_NOTIFY_DROPPED) + metrics_get(MET_NOTIFY_FAILED), N);
    close(lfd);
}

/* ---- e-mail end to end -------------------------------------------------------------- */

/* A tiny SMTP server: the first MAIL FROM gets 451 (try later), then it
 * takes one message and records the envelope and the DATA as sent. */
struct smtp_stub {
    int lfd, port;
    pthread_t thread;
    atomic_bool stop;
    pthread_mutex_t lock;
    int n_mail, n_delivered;
    char mail_from[256];
    char rcpt[4][256];
    int n_rcpt;
    char data[32768];
};

struct line_reader {
    int fd;
    char buf[4096];
    size_t len;
};

/* One line without its CRLF; -1 at the end. */
static int read_line(struct line_reader *r, char *out, size_t size)
{
    for (;;) {
        char *eol = memchr(r->buf, '\n', r->len);
        if (eol) {
            size_t n = (size_t)(eol - r->buf) + 1, k = n;
            while (k > 0 && (r->buf[k - 1] == '\n' || r->buf[k - 1] == '\r'))
                k--;
            snprintf(out, size, "%.*s", (int)k, r->buf);
            memmove(r->buf, r->buf + n, r->len - n);
            r->len -= n;
            return (int)k;
        }
        if (r->len == sizeof(r->buf))
            return -1;
        ssize_t got = recv(r->fd, r->buf + r->len, sizeof(r->buf) - r->len, 0);
        if (got <= 0)
            return -1;
        r->len += (size_t)got;
    }
}

static void smtp_reply(int fd, const char *s)
{
    send_all(fd, s, strlen(s));
}

static void smtp_stub_serve(struct smtp_stub *s, int fd)
{
    struct line_reader r = {.fd = fd};
    char line[2048];
    smtp_reply(fd, "220 stub ESMTP\r\n");
    while (read_line(&r, line, sizeof(line)) >= 0) {
        pthread_mutex_lock(&s->lock);
        if (strncasecmp(line, "EHLO", 4) == 0 || strncasecmp(line, "HELO", 4) == 0) {
            smtp_reply(fd, "250-stub\r\n250 HELP\r\n");
        } else if (strncasecmp(line, "MAIL FROM:", 10) == 0) {
            if (s->n_mail++ == 0) {
                smtp_reply(fd, "451 4.3.0 try again later\r\n");
            } else {
                snprintf(s->mail_from, sizeof(s->mail_from), "%.255s", line + 10);
                s->n_rcpt = 0;
                smtp_reply(fd, "250 OK\r\n");
            }
        } else if (strncasecmp(line, "RCPT TO:", 8) == 0) {
            if (s->n_rcpt < 4)
                snprintf(s->rcpt[s->n_rcpt++], sizeof(s->rcpt[0]), "%.255s", line + 8);
            smtp_reply(fd, "250 OK\r\n");
        } else if (strncasecmp(line, "DATA", 4) == 0) {
            smtp_reply(fd, "354 go ahead\r\n");
            size_t n = 0;
            s->data[0] = '\0';
            while (read_line(&r, line, sizeof(line)) >= 0 && strcmp(line, ".") != 0)
                n += (size_t)snprintf(s->data + n, sizeof(s->data) - n, "%s\r\n", line);
            s->n_delivered++;
            smtp_reply(fd, "250 OK queued\r\n");
        } else if (strncasecmp(line, "QUIT", 4) == 0) {
            smtp_reply(fd, "221 bye\r\n");
            pthread_mutex_unlock(&s->lock);
            return;
        } else if (strncasecmp(line, "RSET", 4) == 0 || strncasecmp(line, "NOOP", 4) == 0) {
            smtp_reply(fd, "250 OK\r\n");
        } else {
            smtp_reply(fd, "502 not implemented\r\n");
        }
        pthread_mutex_unlock(&s->lock);
    }
}

static void *smtp_stub_main(void *arg)
{
    struct smtp_stub *s = arg;
    while (!atomic_load(&s->stop)) {
        int fd = accept_some(s->lfd);
        if (fd < 0)
            continue;
        smtp_stub_serve(s, fd);
        close(fd);
    }
    return NULL;
}

static void test_email_is_sent_over_smtp_after_a_temporary_failure(void **state)
{
    (void)state;
    struct smtp_stub *s = calloc(1, sizeof(*s));
    pthread_mutex_init(&s->lock, NULL);
    s->lfd = listen_loopback(&s->port);
    assert_int_equal(pthread_create(&s->thread, NULL, smtp_stub_main, s), 0);

    char url[64];
    snprintf(url, sizeof(url), "smtp://127.0.0.1:%d", s->port);
    char *to[] = {"duty@example.org", "IT Desk <it@example.org>"};
    struct config_notify routes[] = {email_route(to, 2)};
    routes[0].smtp_url = url;
    struct notifier *nt = start(routes, 1);
    struct alert a;
    make_alert(&a);
    snprintf(a.summary, sizeof(a.summary), ".hidden starts with a dot");
    notifier_send(nt, &a, AT_FIRING, "gw-1", NULL);
    assert_true(wait_metric(MET_NOTIFY_SENT, 1, 10000));
    notifier_stop(nt, 1000);
    atomic_store(&s->stop, true);
    pthread_join(s->thread, NULL);
    close(s->lfd);

    assert_int_equal(metrics_get(MET_NOTIFY_RETRIES), 1);
    assert_int_equal(metrics_get(MET_NOTIFY_FAILED), 0);
    assert_int_equal(s->n_delivered, 1);
    assert_string_equal(s->mail_from, "<hallgw@example.org>");
    assert_int_equal(s->n_rcpt, 2);
    assert_string_equal(s->rcpt[0], "<duty@example.org>");
    assert_string_equal(s->rcpt[1], "<it@example.org>");
    assert_non_null(strstr(s->data, "\r\nSubject: [hallgw] critical firing: threat pc-w03\r\n"));
    assert_non_null(strstr(s->data, "\r\n\r\n..hidden starts with a dot\r\n")); /* dot-stuffed */
    pthread_mutex_destroy(&s->lock);
    free(s);
}

static const char aiosmtpd_script[] =
    "import sys, time\n"
    "from aiosmtpd.controller import Controller\n"
    "class H:\n"
    "    async def handle_DATA(self, server, session, envelope):\n"
    "        with open(sys.argv[1] + '.tmp', 'wb') as f:\n"
    "            f.write(('MAIL FROM:<%s>\\r\\n' % envelope.mail_from).encode())\n"
    "            for r in envelope.rcpt_tos:\n"
    "                f.write(('RCPT TO:<%s>\\r\\n' % r).encode())\n"
    "            f.write(b'\\r\\n')\n"
    "            f.write(envelope.original_content or envelope.content)\n"
    "        import os; os.rename(sys.argv[1] + '.tmp', sys.argv[1])\n"
    "        return '250 OK'\n"
    "c = Controller(H(), hostname='127.0.0.1', port=int(sys.argv[2]))\n"
    "c.start()\n"
    "open(sys.argv[1] + '.ready', 'w').close()\n"
    "time.sleep(60)\n";

static void test_email_reaches_aiosmtpd(void **state)
{
    (void)state;
    if (system("/usr/bin/python3 -c 'import aiosmtpd' >/dev/null 2>&1") != 0)
        fail_msg("aiosmtpd is not installed (python3-aiosmtpd; scripts/deps.sh test installs it)");
    char dir[] = "/tmp/hallgw-smtp-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char out[256], ready[300], port_s[16];
    snprintf(out, sizeof(out), "%s/message", dir);
    snprintf(ready, sizeof(ready), "%s.ready", out);
    int port = closed_port();
    snprintf(port_s, sizeof(port_s), "%d", port);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        execl("/usr/bin/python3", "python3", "-c", aiosmtpd_script, out, port_s, (char *)NULL);
        _exit(127);
    }
    struct stat st;
    mono_ms end = clock_mono_ms() + 10000;
    while (stat(ready, &st) != 0 && clock_mono_ms() < end)
        sleep_ms(20);
    bool up = stat(ready, &st) == 0;
    if (up) {
        char url[64];
        snprintf(url, sizeof(url), "smtp://127.0.0.1:%d", port);
        char *to[] = {"duty@example.org"};
        struct config_notify routes[] = {email_route(to, 1)};
        routes[0].smtp_url = url;
        routes[0].starttls = false;
        struct notifier *nt = start(routes, 1);
        struct alert a;
        make_alert(&a);
        snprintf(a.subject, sizeof(a.subject), "窗口三");
        notifier_send(nt, &a, AT_FIRING, "gw-1", NULL);
        assert_true(wait_metric(MET_NOTIFY_SENT, 1, 10000));
        notifier_stop(nt, 1000);
    }
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    if (!up) {
        rmdir(dir);
        fail_msg("aiosmtpd did not start within 10 s");
    }
    size_t len;
    char *m = NULL;
    FILE *f = fopen(out, "rb");
    assert_non_null(f);
    m = calloc(1, 65536);
    len = fread(m, 1, 65535, f);
    fclose(f);
    assert_true(len > 0);
    assert_non_null(strstr(m, "MAIL FROM:<hallgw@example.org>\r\n"));
    assert_non_null(strstr(m, "RCPT TO:<duty@example.org>\r\n"));
    char *v = header_of(strstr(m, "\r\n\r\n") + 4, "Subject");
    assert_non_null(v);
    char decoded[256];
    decode_encoded_words(v, decoded, sizeof(decoded));
    assert_string_equal(decoded, "[hallgw] critical firing: threat 窗口三");
    free(v);
    free(m);
    unlink(out);
    unlink(ready);
    rmdir(dir);
}

int main(void)
{
    /* UTC+8 without needing tzdata: the Date and "at" tests expect +08:00. */
    setenv("TZ", "CST-8", 1);
    tzset();
    if (http_global_init() < 0)
        return 1;
#define T(f) cmocka_unit_test_setup(f, reset_metrics)
    const struct CMUnitTest tests[] = {
        T(test_template_escapes_quotes_backslashes_and_control_chars),
        T(test_template_keeps_chinese_text_and_replaces_bad_utf8),
        T(test_template_raw_fields_are_not_escaped),
        T(test_template_fills_every_field),
        T(test_template_json_is_the_alert_with_its_transition),
        T(test_template_unknown_names_expand_to_nothing),
        T(test_template_unterminated_braces_are_copied),
        T(test_template_output_is_bounded),
        T(test_route_matches_severity_kind_and_hall),
        T(test_email_has_the_headers_and_crlf_lines),
        T(test_email_utf8_subject_is_rfc2047_encoded),
        T(test_email_headers_never_take_line_breaks_from_the_alert),
        T(test_webhook_is_delivered_after_one_retry),
        T(test_webhook_default_body_is_the_alert_json),
        T(test_webhook_client_error_is_final),
        T(test_robot_rate_limit_errcode_is_retried_other_errcodes_are_final),
        T(test_escalation_goes_to_the_named_route_only),
        T(test_gives_up_after_the_retries_when_nothing_listens),
        T(test_stop_drops_a_retry_due_after_the_drain_time),
        T(test_full_queue_drops_without_blocking_and_stop_is_bounded),
        T(test_email_is_sent_over_smtp_after_a_temporary_failure),
        T(test_email_reaches_aiosmtpd),
    };
    int r = cmocka_run_group_tests(tests, NULL, NULL);
    http_global_cleanup();
    return r;
}
