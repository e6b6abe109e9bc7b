#include "notifier.h"

#include <errno.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "httpclient.h"
#include "json.h"
#include "log.h"
#include "metrics.h"
#include "queue.h"

#define NOTIFIER_QUEUE_CAP 256 /* notifications waiting for the thread */
#define RETRY_MAX 64           /* notifications waiting for a retry */
#define POP_MAX 16
#define IDLE_WAIT_MS 1000
#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS 60000
#define DEFAULT_TIMEOUT_MS 10000
#define EMAIL_MAX 65536
#define NAME_MAX_LEN 64    /* of a template field name */
#define EWORD_MAX_BYTES 39 /* UTF-8 bytes per RFC 2047 encoded word: lines stay <= 76 */

/* ---- growing, bounded output buffer --------------------------------------- */

struct buf {
    char *p;
    size_t len, cap, max; /* max: bytes, the NUL not counted */
    int err;              /* 0, -ENOMEM or -EMSGSIZE; once set, appends do nothing */
};

static void buf_init(struct buf *b, size_t max)
{
    *b = (struct buf){.max = max};
}

static void buf_put(struct buf *b, const void *s, size_t n)
{
    if (b->err)
        return;
    if (n > b->max - b->len) {
        b->err = -EMSGSIZE;
        return;
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        if (cap > b->max + 1)
            cap = b->max + 1;
        char *np = realloc(b->p, cap);
        if (!np) {
            b->err = -ENOMEM;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void buf_puts(struct buf *b, const char *s)
{
    buf_put(b, s, strlen(s));
}

__attribute__((format(printf, 2, 3))) static void buf_printf(struct buf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(tmp)) {
        if (!b->err)
            b->err = -EMSGSIZE; /* only short, bounded pieces are formatted */
        return;
    }
    buf_put(b, tmp, (size_t)n);
}

/* Returns the string (malloc'd) and its length, or NULL with errno set. */
static char *buf_finish(struct buf *b, size_t *len)
{
    if (!b->err && !b->p)
        buf_put(b, "", 0);
    if (b->err) {
        free(b->p);
        errno = -b->err;
        return NULL;
    }
    if (len)
        *len = b->len;
    return b->p;
}

/* ---- text ----------------------------------------------------------------- */

/* The length of the valid UTF-8 sequence at s (n bytes available), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if (len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff)))
        return 0;
    if (len == 4 && (cp < 0x10000 || cp > 0x10ffff))
        return 0;
    return len;
}

enum text_mode {
    TEXT_JSON,   /* inside a JSON string */
    TEXT_HEADER, /* a mail header value: no control characters at all */
    TEXT_BODY,   /* a mail body: line breaks become CRLF plus an indent */
};

/* Appends s made safe for mode; bytes that are not UTF-8 become U+FFFD. */
static void put_text(struct buf *b, const char *s, enum text_mode mode)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s), i = 0;
    while (i < n && !b->err) {
        unsigned c = p[i];
        if (c >= 0x80) {
            size_t l = utf8_len(p + i, n - i);
            if (l == 0) {
                buf_puts(b, mode == TEXT_JSON ? "\\ufffd" : "\xef\xbf\xbd");
                i++;
            } else {
                buf_put(b, p + i, l);
                i += l;
            }
            continue;
        }
        i++;
        if (mode == TEXT_JSON) {
            static const char esc[] = {
                ['\b'] = 'b', ['\t'] = 't', ['\n'] = 'n', ['\f'] = 'f', ['\r'] = 'r'};
            if (c == '"' || c == '\\') {
                char e[2] = {'\\', (char)c};
                buf_put(b, e, 2);
            } else if (c < sizeof(esc) && esc[c]) {
                char e[2] = {'\\', esc[c]};
                buf_put(b, e, 2);
            } else if (c < 0x20) {
                buf_printf(b, "\\u%04x", c);
            } else {
                buf_put(b, p + i - 1, 1);
            }
        } else if (mode == TEXT_BODY && (c == '\r' || c == '\n')) {
            if (c == '\r' && i < n && p[i] == '\n')
                i++;
            buf_puts(b, "\r\n    ");
        } else if (c < 0x20 || c == 0x7f) {
            buf_puts(b, mode == TEXT_BODY && c == '\t' ? "\t" : " ");
        } else {
            buf_put(b, p + i - 1, 1);
        }
    }
}

static const char *nz(const char *s)
{
    return s ? s : "";
}

/* t (unix seconds) as RFC 3339 in the local zone: 2026-10-01T09:30:00+08:00;
 * "" when t is unset. */
static void format_rfc3339(double t, char *out, size_t size)
{
    out[0] = '\0';
    if (!(t > 0 && t < 1e11))
        return;
    time_t s = (time_t)t;
    struct tm tm;
    if (!localtime_r(&s, &tm))
        return;
    char date[32];
    strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
    long off = tm.tm_gmtoff / 60;
    char sign = off < 0 ? '-' : '+';
    if (off < 0)
        off = -off;
    snprintf(out, size, "%s%c%02ld:%02ld", date, sign, off / 60, off % 60);
}

/* When the alert entered the state of transition t. */
static double transition_time(const struct alert *a, enum alert_transition t)
{
    double w = 0;
    switch (t) {
    case AT_FIRING:
        w = a->firing_since;
        break;
    case AT_ACKNOWLEDGED:
        w = a->acked_at;
        break;
    case AT_RESOLVED:
        w = a->resolved_at;
        break;
    default:
        break;
    }
    return w > 0 ? w : a->changed_at;
}

/* ---- alert JSON and template expansion ------------------------------------ */

/* Appends alert_to_json with a "transition" member added. */
static void put_alert_json(struct buf *b, const struct alert *a, enum alert_transition t,
                           const char *gateway_id)
{
    char *js = malloc(ALERT_JSON_MAX);
    if (!js) {
        if (!b->err)
            b->err = -ENOMEM;
        return;
    }
    int n = alert_to_json(a, nz(gateway_id), js, ALERT_JSON_MAX);
    size_t len = n > 0 ? (size_t)n : 0;
    while (len > 0 && (js[len - 1] == '\n' || js[len - 1] == ' '))
        len--;
    if (len < 2 || js[0] != '{' || js[len - 1] != '}') {
        if (!b->err)
            b->err = n == -ENOSPC ? -EMSGSIZE : -EINVAL;
        free(js);
        return;
    }
    len--; /* the closing brace */
    bool empty = len == 1;
    buf_put(b, js, len);
    buf_printf(b, "%s\"transition\":\"%s\"}", empty ? "" : ",", nz(alert_transition_name(t)));
    free(js);
}

/* The value of template field name[0..len), or NULL when there is no such
 * field. tmp holds formatted values. */
static const char *field_value(const struct alert *a, enum alert_transition t,
                               const char *gateway_id, const char *name, size_t len, char *tmp,
                               size_t tmp_size)
{
#define IS(s) (len == sizeof(s) - 1 && memcmp(name, s, len) == 0)
    if (IS("id"))
        return a->id;
    if (IS("rule"))
        return a->rule;
    if (IS("subject"))
        return a->subject;
    if (IS("hall"))
        return a->hall;
    if (IS("device"))
        return a->device;
    if (IS("window"))
        return a->window;
    if (IS("kind"))
        return nz(config_kind_name(a->kind));
    if (IS("severity"))
        return nz(config_severity_name(a->severity));
    if (IS("state"))
        return nz(alert_state_name(a->state));
    if (IS("transition"))
        return nz(alert_transition_name(t));
    if (IS("summary"))
        return a->summary;
    if (IS("value")) {
        tmp[0] = '\0';
        if (a->has_value)
            snprintf(tmp, tmp_size, "%.10g", a->value);
        return tmp;
    }
    if (IS("by"))
        return t == AT_RESOLVED ? a->resolved_by : a->acked_by;
    if (IS("note"))
        return a->note;
    if (IS("at")) {
        format_rfc3339(transition_time(a, t), tmp, tmp_size);
        return tmp;
    }
    if (IS("gateway"))
        return nz(gateway_id);
    return NULL;
#undef IS
}

/* Expands the placeholder between "{{" and "}}": name[0..len). */
static void expand_one(struct buf *b, const char *name, size_t len, const struct alert *a,
                       enum alert_transition t, const char *gateway_id)
{
    while (len > 0 && *name == ' ') {
        name++;
        len--;
    }
    while (len > 0 && name[len - 1] == ' ')
        len--;
    bool raw = len >= 4 && memcmp(name, "raw:", 4) == 0;
    if (raw) {
        name += 4;
        len -= 4;
        while (len > 0 && *name == ' ') {
            name++;
            len--;
        }
    }
    if (len == 0 || len > NAME_MAX_LEN)
        return;
    if (len == 4 && memcmp(name, "json", 4) == 0) {
        put_alert_json(b, a, t, gateway_id);
        return;
    }
    char tmp[64];
    const char *v = field_value(a, t, gateway_id, name, len, tmp, sizeof(tmp));
    if (!v)
        return;
    if (raw)
        buf_puts(b, v);
    else
        put_text(b, v, TEXT_JSON);
}

char *notifier_expand(const char *tmpl, const struct alert *a, enum alert_transition t,
                      const char *gateway_id)
{
    struct buf b;
    buf_init(&b, NOTIFIER_BODY_MAX);
    const char *p = tmpl ? tmpl : "";
    while (*p && !b.err) {
        const char *open = strstr(p, "{{");
        if (!open) {
            buf_puts(&b, p);
            break;
        }
        buf_put(&b, p, (size_t)(open - p));
        const char *close = strstr(open + 2, "}}");
        if (!close) {
            buf_puts(&b, open); /* unterminated: as written */
            break;
        }
        expand_one(&b, open + 2, (size_t)(close - open - 2), a, t, gateway_id);
        p = close + 2;
    }
    return buf_finish(&b, NULL);
}

/* ---- e-mail ---------------------------------------------------------------- */

/* Appends text (one line, no control characters) as RFC 2047 base64 encoded
 * words, each on its own folded line, never splitting a UTF-8 sequence. */
static void put_encoded_words(struct buf *b, const char *text)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t n = strlen(text), i = 0;
    while (i < n) {
        size_t take = 0;
        while (i + take < n) {
            size_t l = utf8_len(s + i + take, n - i - take);
            if (l == 0)
                l = 1;
            if (take + l > EWORD_MAX_BYTES)
                break;
            take += l;
        }
        unsigned char enc[4 * ((EWORD_MAX_BYTES + 2) / 3) + 1];
        EVP_EncodeBlock(enc, s + i, (int)take);
        buf_printf(b, "%s=?UTF-8?B?%s?=", i ? "\r\n " : "", (const char *)enc);
        i += take;
    }
}

static bool needs_encoding(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p >= 0x80)
            return true;
    return strstr(s, "=?") != NULL;
}

/* The address in "Name <a@b>", or s itself, trimmed; malloc'd. */
static char *mail_address(const char *s)
{
    const char *lt = strrchr(s, '<');
    const char *gt = lt ? strchr(lt, '>') : NULL;
    const char *from = s, *to = s + strlen(s);
    if (lt && gt) {
        from = lt + 1;
        to = gt;
    }
    while (from < to && (*from == ' ' || *from == '\t'))
        from++;
    while (to > from && (to[-1] == ' ' || to[-1] == '\t'))
        to--;
    return strndup(from, (size_t)(to - from));
}

/* s with every character outside [A-Za-z0-9_-] (and '.' when dots) made
 * '-', for a Message-ID. */
static void put_atext(struct buf *b, const char *s, const char *fallback, bool dots)
{
    if (!s || !*s)
        s = fallback;
    for (; *s; s++) {
        char c = *s;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_' || (dots && c == '.');
        buf_put(b, ok ? s : "-", 1);
    }
}

static void put_date(struct buf *b, int64_t now_s)
{
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t s = (time_t)now_s;
    struct tm tm;
    if (!localtime_r(&s, &tm))
        gmtime_r(&s, &tm);
    long off = tm.tm_gmtoff / 60;
    char sign = off < 0 ? '-' : '+';
    if (off < 0)
        off = -off;
    buf_printf(b, "Date: %s, %02d %s %04d %02d:%02d:%02d %c%02ld%02ld\r\n", days[tm.tm_wday % 7],
               tm.tm_mday, months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
               tm.tm_sec, sign, off / 60, off % 60);
}

static void put_body_line(struct buf *b, const char *label, const char *value)
{
    if (!value || !*value)
        return;
    buf_printf(b, "%-17s", label);
    put_text(b, value, TEXT_BODY);
    buf_puts(b, "\r\n");
}

char *notifier_build_email(const struct config_notify *r, const struct alert *a,
                           enum alert_transition t, const char *gateway_id, int64_t now_s,
                           uint64_t seq, size_t *len)
{
    struct buf b, subj;
    buf_init(&b, EMAIL_MAX);
    buf_init(&subj, 1024);

    buf_puts(&b, "From: ");
    put_text(&b, nz(r->from), TEXT_HEADER);
    buf_puts(&b, "\r\nTo: ");
    for (size_t i = 0; i < r->n_to; i++) {
        if (i)
            buf_puts(&b, ",\r\n ");
        put_text(&b, r->to[i], TEXT_HEADER);
    }
    buf_puts(&b, "\r\n");

    buf_puts(&subj, "[hallgw] ");
    put_text(&subj, nz(config_severity_name(a->severity)), TEXT_HEADER);
    buf_puts(&subj, " ");
    put_text(&subj, nz(alert_state_name(a->state)), TEXT_HEADER);
    buf_puts(&subj, ": ");
    put_text(&subj, a->rule, TEXT_HEADER);
    buf_puts(&subj, " ");
    put_text(&subj, a->subject, TEXT_HEADER);
    if (subj.err) {
        if (!b.err)
            b.err = subj.err;
    } else {
        buf_puts(&b, "Subject: ");
        if (needs_encoding(subj.p))
            put_encoded_words(&b, subj.p);
        else
            buf_puts(&b, subj.p);
        buf_puts(&b, "\r\n");
    }
    free(subj.p);

    put_date(&b, now_s);
    const char *at = r->from ? strrchr(r->from, '@') : NULL;
    char domain[256] = "";
    if (at) {
        size_t dl = strcspn(at + 1, "> \t");
        snprintf(domain, sizeof(domain), "%.*s", (int)(dl < 255 ? dl : 255), at + 1);
    }
    buf_printf(&b, "Message-ID: <%lld.%llx.", (long long)now_s, (unsigned long long)seq);
    put_atext(&b, gateway_id, "hallgw", false);
    buf_puts(&b, "@");
    put_atext(&b, domain, "hallgw.invalid", true);
    buf_puts(&b, ">\r\n"
                 "MIME-Version: 1.0\r\n"
                 "Content-Type: text/plain; charset=utf-8\r\n"
                 "Content-Transfer-Encoding: 8bit\r\n"
                 "Auto-Submitted: auto-generated\r\n"
                 "X-Hallgw-Alert: ");
    put_text(&b, a->id, TEXT_HEADER);
    buf_puts(&b, "\r\n\r\n");

    char value[64] = "", when[48];
    if (a->has_value)
        snprintf(value, sizeof(value), "%.10g", a->value);
    format_rfc3339(transition_time(a, t), when, sizeof(when));
    if (a->summary[0]) {
        put_text(&b, a->summary, TEXT_BODY);
        buf_puts(&b, "\r\n\r\n");
    }
    put_body_line(&b, "Alert:", a->id);
    put_body_line(&b, "Transition:", alert_transition_name(t));
    put_body_line(&b, "State:", alert_state_name(a->state));
    put_body_line(&b, "Severity:", config_severity_name(a->severity));
    put_body_line(&b, "Rule:", a->rule);
    put_body_line(&b, "Hall:", a->hall);
    put_body_line(&b, "Window:", a->window);
    put_body_line(&b, "Device:", a->device);
    put_body_line(&b, "Kind:", config_kind_name(a->kind));
    put_body_line(&b, "Value:", value);
    put_body_line(&b, "At:", when);
    put_body_line(&b, "Acknowledged by:", a->acked_by);
    put_body_line(&b, "Resolved by:", a->resolved_by);
    put_body_line(&b, "Note:", a->note);
    put_body_line(&b, "Gateway:", gateway_id);
    return buf_finish(&b, len);
}

/* ---- routes ----------------------------------------------------------------- */

bool notifier_route_matches(const struct config_notify *r, const struct alert *a)
{
    if ((unsigned)a->severity >= SEV_COUNT || !(r->severities & (1u << a->severity)))
        return false;
    if ((unsigned)a->kind >= KIND_COUNT || !(r->kinds & (1u << a->kind)))
        return false;
    if (!r->halls)
        return true;
    for (size_t i = 0; i < r->n_halls; i++)
        if (r->halls[i] && strcmp(r->halls[i], a->hall) == 0)
            return true;
    return false;
}

/* A route as the thread needs it: a deep copy of the config, plus what is
 * derived from it once. */
struct notify_route {
    struct config_notify c;
    char *content_type_header; /* webhook: "Content-Type: ..." */
    char *from_addr;           /* e-mail: envelope addresses */
    char **to_addrs;
};

static char *dup_str(const char *s, bool *ok)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        *ok = false;
    return d;
}

static char **dup_strv(char *const *v, size_t n, bool *ok)
{
    if (!v)
        return NULL;
    char **d = calloc(n ? n : 1, sizeof(*d));
    if (!d) {
        *ok = false;
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        d[i] = dup_str(v[i], ok);
    return d;
}

static void free_strv(char **v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static void route_free(struct notify_route *r)
{
    free(r->c.name);
    free_strv(r->c.halls, r->c.n_halls);
    free(r->c.url);
    free(r->c.template_text);
    free(r->c.content_type);
    free(r->c.smtp_url);
    free(r->c.from);
    free_strv(r->c.to, r->c.n_to);
    free(r->c.username);
    free(r->c.password);
    free(r->content_type_header);
    free(r->from_addr);
    free_strv(r->to_addrs, r->c.n_to);
}

/* Copies s into d (zeroed). Returns 0, -ENOMEM, or -EINVAL for a route that
 * misses what its type needs (d is then to be freed all the same). */
static int route_copy(struct notify_route *d, const struct config_notify *s)
{
    bool ok = true;
    /* Scalars one by one: no pointer of the config must survive in d. */
    d->c.type = s->type;
    d->c.severities = s->severities;
    d->c.kinds = s->kinds;
    d->c.starttls = s->starttls;
    d->c.timeout_ms = s->timeout_ms > 0 ? s->timeout_ms : DEFAULT_TIMEOUT_MS;
    d->c.retries = s->retries > 0 ? s->retries : 0;
    d->c.line = s->line;
    d->c.name = dup_str(s->name ? s->name : "?", &ok);
    d->c.halls = dup_strv(s->halls, s->n_halls, &ok);
    d->c.n_halls = s->halls ? s->n_halls : 0;
    d->c.url = dup_str(s->url, &ok);
    d->c.template_text = dup_str(s->template_text, &ok);
    d->c.content_type = dup_str(s->content_type, &ok);
    d->c.smtp_url = dup_str(s->smtp_url, &ok);
    d->c.from = dup_str(s->from, &ok);
    d->c.to = dup_strv(s->to, s->n_to, &ok);
    d->c.n_to = s->to ? s->n_to : 0;
    d->c.username = dup_str(s->username, &ok);
    d->c.password = dup_str(s->password, &ok);
    if (!ok)
        return -ENOMEM;
    if (s->type == NOTIFY_WEBHOOK) {
        if (!s->url)
            return -EINVAL;
        const char *ct = s->content_type ? s->content_type : "application/json";
        size_t n = strlen(ct) + sizeof("Content-Type: ");
        d->content_type_header = malloc(n);
        if (!d->content_type_header)
            return -ENOMEM;
        snprintf(d->content_type_header, n, "Content-Type: %s", ct);
        return 0;
    }
    if (!s->smtp_url || !s->from || d->c.n_to == 0)
        return -EINVAL;
    d->from_addr = mail_address(s->from);
    d->to_addrs = calloc(d->c.n_to, sizeof(*d->to_addrs));
    if (!d->from_addr || !d->to_addrs)
        return -ENOMEM;
    for (size_t i = 0; i < d->c.n_to; i++)
        if (!(d->to_addrs[i] = mail_address(d->c.to[i])))
            return -ENOMEM;
    return 0;
}

/* ---- the notifier ------------------------------------------------------------ */

enum send_result { SEND_OK, SEND_FINAL, SEND_RETRY };

struct notify_item {
    const struct notify_route *route;
    char *data; /* webhook body, or the whole e-mail */
    size_t len;
    char what[ALERT_ID_MAX + 24]; /* "<alert id> <transition>", for logs */
    int retries_done;
    mono_ms due; /* of the next retry */
};

struct notifier {
    pthread_t thread;
    struct queue *q;
    struct notify_route *routes;
    size_t n_routes;
    atomic_bool stopping;
    _Atomic int64_t drain_deadline; /* mono ms; 0 until notifier_stop */

    /* the core's (notifier_send) */
    uint64_t seq; /* Message-ID uniqueness */
    struct log_ratelimit rl_drop, rl_build;

    /* the thread's */
    struct http_client *http;
    struct notify_item *retry[RETRY_MAX];
    size_t n_retry;
    size_t dropped_at_stop;
    struct log_ratelimit rl_fail;
};

static void item_free(struct notify_item *it)
{
    if (!it)
        return;
    free(it->data);
    free(it);
}

static int64_t backoff_ms(int retry)
{
    int64_t d = BACKOFF_MIN_MS;
    for (int i = 1; i < retry && d < BACKOFF_MAX_MS; i++)
        d *= 2;
    return d < BACKOFF_MAX_MS ? d : BACKOFF_MAX_MS;
}

/* Control characters of a server's answer made spaces, for one log line. */
static void flatten_reason(char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            *s = ' ';
}

/* A 2xx answer of a chat robot may still carry an error: WeCom and DingTalk
 * answer {"errcode":N,"errmsg":"..."}, N != 0 on failure. Their "busy" and
 * "too fast" codes are retried, the others are final. */
static enum send_result robot_answer(const struct http_response *resp, char *reason, size_t size)
{
    struct json_flat f;
    if (resp->body_len == 0 || json_flatten(resp->body, resp->body_len, NULL, &f) != JSON_OK)
        return SEND_OK;
    enum send_result r = SEND_OK;
    const struct json_field *code = json_flat_get(&f, "errcode");
    if (code && code->type == JSON_T_NUMBER && code->num != 0) {
        const struct json_field *msg = json_flat_get(&f, "errmsg");
        int ml =
            msg && msg->type == JSON_T_STRING ? (int)(msg->str_len < 200 ? msg->str_len : 200) : 0;
        snprintf(reason, size, "HTTP %ld, errcode %.0f: %.*s", resp->status, code->num, ml,
                 ml ? msg->str : "");
        /* WeCom -1 system busy, 45009 over the rate limit; DingTalk 130101
         * sending too fast. */
        r = code->num == -1 || code->num == 45009 || code->num == 130101 ? SEND_RETRY : SEND_FINAL;
    }
    json_flat_free(&f);
    return r;
}

static enum send_result send_webhook(struct notifier *n, const struct notify_item *it, char *reason,
                                     size_t size)
{
    const struct notify_route *r = it->route;
    const char *hdrs[1] = {r->content_type_header};
    struct http_request req = {.method = "POST",
                               .url = r->c.url,
                               .headers = hdrs,
                               .n_headers = 1,
                               .body = it->data,
                               .body_len = it->len,
                               .timeout_ms = r->c.timeout_ms,
                               .abort_at_ms = &n->drain_deadline};
    struct http_response resp;
    if (http_client_do(n->http, &req, &resp) < 0) {
        snprintf(reason, size, "%s", resp.error);
        return SEND_RETRY;
    }
    if (resp.status >= 200 && resp.status < 300)
        return robot_answer(&resp, reason, size);
    snprintf(reason, size, "HTTP %ld: %.200s", resp.status, resp.body);
    return resp.status == 429 || resp.status >= 500 ? SEND_RETRY : SEND_FINAL;
}

static enum send_result send_email(struct notifier *n, const struct notify_item *it, char *reason,
                                   size_t size)
{
    const struct notify_route *r = it->route;
    struct smtp_message m = {.url = r->c.smtp_url,
                             .from = r->from_addr,
                             .to = (const char *const *)r->to_addrs,
                             .n_to = r->c.n_to,
                             .username = r->c.username,
                             .password = r->c.password,
                             .require_tls = r->c.starttls,
                             .data = it->data,
                             .len = it->len,
                             .timeout_ms = r->c.timeout_ms,
                             .abort_at_ms = &n->drain_deadline};
    struct http_response resp;
    if (http_client_smtp(n->http, &m, &resp) == 0)
        return SEND_OK;
    if (resp.status)
        snprintf(reason, size, "SMTP %ld: %s", resp.status, resp.error);
    else
        snprintf(reason, size, "%s", resp.error);
    /* RFC 5321: 5yz is a permanent failure, 4yz and no answer are not. */
    return resp.status >= 500 && resp.status < 600 ? SEND_FINAL : SEND_RETRY;
}

static void give_up(struct notifier *n, struct notify_item *it, const char *reason)
{
    metrics_inc(MET_NOTIFY_FAILED);
    if (log_ratelimit_ok(&n->rl_fail, "notify: failures")) {
        if (it->retries_done)
            log_warn("notify: route \"%s\": %s not sent after %d retries: %s", it->route->c.name,
                     it->what, it->retries_done, reason);
        else
            log_warn("notify: route \"%s\": %s not sent: %s", it->route->c.name, it->what, reason);
    }
    item_free(it);
}

/* One attempt; then the item is sent, waiting in the retry list, or given up. */
static void attempt(struct notifier *n, struct notify_item *it)
{
    char reason[320] = "";
    enum send_result r = it->route->c.type == NOTIFY_EMAIL
                             ? send_email(n, it, reason, sizeof(reason))
                             : send_webhook(n, it, reason, sizeof(reason));
    flatten_reason(reason);
    if (r == SEND_OK) {
        metrics_inc(MET_NOTIFY_SENT);
        item_free(it);
        return;
    }
    if (r == SEND_RETRY && it->retries_done < it->route->c.retries && n->n_retry < RETRY_MAX) {
        int64_t delay = backoff_ms(it->retries_done + 1);
        it->due = clock_mono_ms() + delay;
        n->retry[n->n_retry++] = it;
        log_debug("notify: route \"%s\": %s: %s; retry in %lld ms", it->route->c.name, it->what,
                  reason, (long long)delay);
        return;
    }
    give_up(n, it, reason);
}

static struct notify_item *retry_take(struct notifier *n, size_t i)
{
    struct notify_item *it = n->retry[i];
    n->retry[i] = n->retry[--n->n_retry];
    return it;
}

/* The earliest due time in the retry list, or 0 when it is empty. */
static mono_ms next_due(const struct notifier *n)
{
    mono_ms next = 0;
    for (size_t i = 0; i < n->n_retry; i++)
        if (!next || n->retry[i]->due < next)
            next = n->retry[i]->due;
    return next;
}

/* Retries whatever is due, earliest first. */
static void run_due_retries(struct notifier *n)
{
    for (;;) {
        mono_ms now = clock_mono_ms();
        int64_t deadline = atomic_load(&n->drain_deadline);
        if (deadline && now >= deadline)
            return;
        size_t best = n->n_retry;
        for (size_t i = 0; i < n->n_retry; i++)
            if (n->retry[i]->due <= now &&
                (best == n->n_retry || n->retry[i]->due < n->retry[best]->due))
                best = i;
        if (best == n->n_retry)
            return;
        struct notify_item *it = retry_take(n, best);
        it->retries_done++;
        metrics_inc(MET_NOTIFY_RETRIES);
        attempt(n, it);
    }
}

/* Stopping: it will not be sent. Counted; logged once for all at the end. */
static void drop_at_stop(struct notifier *n, struct notify_item *it)
{
    metrics_inc(MET_NOTIFY_FAILED);
    n->dropped_at_stop++;
    item_free(it);
}

/* While stopping: retries due after the drain deadline will not happen. */
static void drop_late_retries(struct notifier *n, int64_t deadline)
{
    for (size_t i = 0; i < n->n_retry;) {
        if (n->retry[i]->due >= deadline)
            drop_at_stop(n, retry_take(n, i));
        else
            i++;
    }
}

static void sleep_ms(int64_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void *notifier_main(void *arg)
{
    struct notifier *n = arg;
    void *items[POP_MAX];
    for (;;) {
        bool stopping = atomic_load(&n->stopping);
        int64_t deadline = atomic_load(&n->drain_deadline);
        if (stopping) {
            if (clock_mono_ms() >= deadline)
                break;
            drop_late_retries(n, deadline);
        }
        run_due_retries(n);
        if (stopping && n->n_retry == 0 && queue_depth(n->q) == 0)
            break;

        int64_t wait = IDLE_WAIT_MS;
        mono_ms next = next_due(n);
        if (next) {
            int64_t until = next - clock_mono_ms();
            wait = until < 0 ? 0 : until < wait ? until : wait;
        }
        /* Take no more than can wait for a retry, so that a failed send
         * never holds up the ones behind it. */
        size_t room = RETRY_MAX - n->n_retry;
        if (room == 0) {
            sleep_ms(wait < 100 ? wait : 100);
            continue;
        }
        size_t got = queue_pop_batch(n->q, items, room < POP_MAX ? room : POP_MAX, wait);
        for (size_t i = 0; i < got; i++) {
            deadline = atomic_load(&n->drain_deadline);
            if (deadline && clock_mono_ms() >= deadline)
                drop_at_stop(n, items[i]);
            else
                attempt(n, items[i]);
        }
    }

    /* Out of drain time: what is left counts as failed. */
    size_t got;
    while (n->n_retry)
        drop_at_stop(n, retry_take(n, 0));
    while ((got = queue_pop_batch(n->q, items, POP_MAX, 0)) > 0)
        for (size_t i = 0; i < got; i++)
            drop_at_stop(n, items[i]);
    if (n->dropped_at_stop)
        log_warn("notify: stopping: %zu notifications not sent in the drain time",
                 n->dropped_at_stop);
    return NULL;
}

static void routes_free(struct notify_route *routes, size_t n)
{
    for (size_t i = 0; i < n; i++)
        route_free(&routes[i]);
    free(routes);
}

int notifier_start(const struct config *cfg, struct notifier **out)
{
    struct notifier *n = calloc(1, sizeof(*n));
    if (!n)
        return -ENOMEM;
    int r = -ENOMEM;
    n->routes = calloc(cfg->n_notify ? cfg->n_notify : 1, sizeof(*n->routes));
    if (!n->routes)
        goto out_free;
    for (size_t i = 0; i < cfg->n_notify; i++) {
        struct notify_route *rt = &n->routes[n->n_routes];
        int cr = route_copy(rt, &cfg->notify[i]);
        if (cr == -EINVAL) {
            log_err("notify: route \"%s\" lacks %s; not used", rt->c.name,
                    rt->c.type == NOTIFY_WEBHOOK ? "url" : "smtp_url, from or to");
            route_free(rt);
            memset(rt, 0, sizeof(*rt));
            continue;
        }
        n->n_routes++; /* freed with the others, also on failure */
        if (cr < 0)
            goto out_free;
    }
    n->q = queue_new(NOTIFIER_QUEUE_CAP);
    if (!n->q)
        goto out_free;
    if ((r = http_client_new(&n->http)) < 0)
        goto out_free;
    n->seq = (uint64_t)clock_wall_ns();
    n->rl_drop = (struct log_ratelimit)LOG_RATELIMIT_INIT(60000, 3);
    n->rl_build = (struct log_ratelimit)LOG_RATELIMIT_INIT(60000, 3);
    n->rl_fail = (struct log_ratelimit)LOG_RATELIMIT_INIT(60000, 20);
    if ((r = -pthread_create(&n->thread, NULL, notifier_main, n)) < 0)
        goto out_free;
    *out = n;
    return 0;

out_free:
    http_client_free(n->http);
    queue_free(n->q);
    routes_free(n->routes, n->n_routes);
    free(n);
    return r;
}

void notifier_stop(struct notifier *n, int64_t drain_ms)
{
    if (!n)
        return;
    int64_t deadline = clock_mono_ms() + (drain_ms > 0 ? drain_ms : 0);
    atomic_store(&n->drain_deadline, deadline ? deadline : 1);
    atomic_store(&n->stopping, true);
    queue_close(n->q);
    queue_wake(n->q);
    pthread_join(n->thread, NULL);
    http_client_free(n->http);
    queue_free(n->q);
    routes_free(n->routes, n->n_routes);
    free(n);
}

/* The request for a on route r, or NULL with errno set. */
static struct notify_item *build_item(struct notifier *n, const struct notify_route *r,
                                      const struct alert *a, enum alert_transition t,
                                      const char *gateway_id)
{
    struct notify_item *it = calloc(1, sizeof(*it));
    if (!it)
        return NULL;
    it->route = r;
    snprintf(it->what, sizeof(it->what), "%s %s", a->id, nz(alert_transition_name(t)));
    if (r->c.type == NOTIFY_EMAIL) {
        it->data = notifier_build_email(&r->c, a, t, gateway_id, clock_wall_ns() / 1000000000,
                                        n->seq++, &it->len);
    } else if (r->c.template_text) {
        it->data = notifier_expand(r->c.template_text, a, t, gateway_id);
        it->len = it->data ? strlen(it->data) : 0;
    } else {
        struct buf b;
        buf_init(&b, NOTIFIER_BODY_MAX);
        put_alert_json(&b, a, t, gateway_id);
        it->data = buf_finish(&b, &it->len);
    }
    if (!it->data) {
        int e = errno;
        free(it);
        errno = e;
        return NULL;
    }
    return it;
}

void notifier_send(struct notifier *n, const struct alert *a, enum alert_transition t,
                   const char *gateway_id, const char *route)
{
    if (!n || !a || (t != AT_FIRING && t != AT_ACKNOWLEDGED && t != AT_RESOLVED))
        return;
    bool named_found = false;
    for (size_t i = 0; i < n->n_routes; i++) {
        const struct notify_route *r = &n->routes[i];
        if (route ? strcmp(r->c.name, route) != 0 : !notifier_route_matches(&r->c, a))
            continue;
        named_found = true;
        struct notify_item *it = build_item(n, r, a, t, gateway_id);
        if (!it) {
            int e = errno;
            metrics_inc(MET_NOTIFY_FAILED);
            if (log_ratelimit_ok(&n->rl_build, "notify: cannot build requests"))
                log_err("notify: route \"%s\": cannot build the request for %s: %s", r->c.name,
                        a->id,
                        e == EMSGSIZE ? "over 64 KiB (template or alert too long)" : strerror(e));
            continue;
        }
        if (queue_push(n->q, it, 0, NULL) < 0) {
            metrics_inc(MET_NOTIFY_DROPPED);
            if (log_ratelimit_ok(&n->rl_drop, "notify: queue full"))
                log_warn("notify: queue full, %s %s for route \"%s\" dropped", a->id,
                         nz(alert_transition_name(t)), r->c.name);
            item_free(it);
        }
    }
    if (route && !named_found && log_ratelimit_ok(&n->rl_build, "notify: unknown routes"))
        log_err("notify: no route named \"%s\" (escalation of %s)", route, a->id);
}
