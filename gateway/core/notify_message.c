#include "notify_message.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "crypto.h"
#include "jsonw.h"
#include "utf8.h"

#define EMAIL_MAX 65536
#define NAME_MAX_LEN 64    /* of a template field name */
#define EWORD_MAX_BYTES 39 /* UTF-8 bytes per RFC 2047 encoded word: lines stay <= 76 */

/* ---- text -------------------------------------------------------------------- */

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
    if (mode == TEXT_JSON) {
        jsonw_escape(b, s, n);
        return;
    }
    while (i < n && !b->err) {
        unsigned c = p[i];
        if (c >= 0x80) {
            size_t l = utf8_decode(s + i, n - i, NULL);
            if (l == 0) {
                buf_puts(b, "\xef\xbf\xbd");
                i++;
            } else {
                buf_put(b, p + i, l);
                i += l;
            }
            continue;
        }
        i++;
        if (mode == TEXT_BODY && (c == '\r' || c == '\n')) {
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

/* The text made, or NULL with errno EMSGSIZE (it would pass its cap) or
 * ENOMEM. */
static char *finish(struct buf *b, size_t *len)
{
    if (b->err == -ENOSPC)
        b->err = -EMSGSIZE;
    return buf_steal(b, len);
}

static const char *nz(const char *s)
{
    return s ? s : "";
}

/* t (unix seconds) as RFC 3339 in the local zone: 2026-10-01T09:30:00+08:00;
 * "" when t is unset. */
static void format_rfc3339(wall_s t, char *out, size_t size)
{
    out[0] = '\0';
    if (!(t > 0 && t < 1e11))
        return;
    time_t s = (time_t)wall_whole(t);
    struct tm tm;
    if (!localtime_r(&s, &tm))
        return;
    char date[32];
    strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
    long off = tm.tm_gmtoff / 60;
    char sign = off < 0 ? '-' : '+';
    if (off < 0)
        off = -off;
    int n = snprintf(out, size, "%s%c%02ld:%02ld", date, sign, off / 60, off % 60);
    if (n < 0 || (size_t)n >= size)
        out[0] = '\0'; /* never half a time */
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

char *notify_message_expand(const char *tmpl, const struct alert *a, enum alert_transition t,
                            const char *gateway_id)
{
    struct buf b;
    buf_init(&b, NOTIFY_MESSAGE_BODY_MAX);
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
    return finish(&b, NULL);
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
            size_t l = utf8_decode((const char *)s + i + take, n - i - take, NULL);
            if (l == 0)
                l = 1;
            if (take + l > EWORD_MAX_BYTES)
                break;
            take += l;
        }
        char enc[CRYPTO_BASE64_LEN(EWORD_MAX_BYTES) + 1];
        crypto_base64(s + i, take, enc);
        buf_printf(b, "%s=?UTF-8?B?%s?=", i ? "\r\n " : "", enc);
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

void notify_message_header_text(struct buf *b, const char *text)
{
    struct buf one;
    buf_init(&one, 4096);
    put_text(&one, text, TEXT_HEADER);
    if (one.err)
        b->err = b->err ? b->err : one.err;
    else if (needs_encoding(one.data ? one.data : ""))
        put_encoded_words(b, one.data);
    else
        buf_puts(b, one.data ? one.data : "");
    buf_free(&one);
}

char *notify_message_address(const char *s)
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

static void put_date(struct buf *b, wall_s now)
{
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t s = (time_t)wall_whole(now);
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

char *notify_message_email(const struct config_notify *r, const struct alert *a,
                           enum alert_transition t, const char *gateway_id, wall_s now,
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
        if (needs_encoding(subj.data))
            put_encoded_words(&b, subj.data);
        else
            buf_puts(&b, subj.data);
        buf_puts(&b, "\r\n");
    }
    buf_free(&subj);

    put_date(&b, now);
    const char *at = r->from ? strrchr(r->from, '@') : NULL;
    char domain[256] = "";
    if (at) {
        size_t dl = strcspn(at + 1, "> \t");
        snprintf(domain, sizeof(domain), "%.*s", (int)(dl < 255 ? dl : 255), at + 1);
    }
    buf_printf(&b, "Message-ID: <%lld.%llx.", (long long)wall_whole(now), (unsigned long long)seq);
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
    return finish(&b, len);
}
