#include "notifier.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "crypto.h"
#include "httpclient.h"
#include "json.h"
#include "log.h"
#include "metrics.h"
#include "notify_message.h"
#include "notify_sign.h"
#include "queue.h"
#include "threads.h"
#include "wecom.h"

#define NOTIFIER_QUEUE_CAP 256 /* notifications waiting for the thread */
#define RETRY_MAX 64           /* notifications waiting for a retry */
#define POP_MAX 16
#define IDLE_WAIT_MS 1000
#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS 60000
#define DEFAULT_TIMEOUT_MS 10000

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
    struct wecom_token token; /* wecom: the application's access token, the thread's */
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
    crypto_free_secret(r->c.url); /* a webhook URL often carries an access key */
    free(r->c.template_text);
    free(r->c.content_type);
    free(r->c.smtp_url);
    free(r->c.from);
    free_strv(r->c.to, r->c.n_to);
    free(r->c.username);
    crypto_free_secret(r->c.password);
    crypto_free_secret(r->c.secret);
    free(r->c.corp_id);
    free(r->c.to_users);
    free(r->c.api_url);
    wecom_token_forget(&r->token);
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
    d->c.sign = s->sign;
    d->c.secret = dup_str(s->secret, &ok);
    d->c.corp_id = dup_str(s->corp_id, &ok);
    d->c.agent_id = s->agent_id;
    d->c.to_users = dup_str(s->to_users, &ok);
    d->c.api_url = dup_str(s->api_url, &ok);
    d->c.msgtype = s->msgtype;
    if (!ok)
        return -ENOMEM;
    if (s->type == NOTIFY_WECOM)
        return s->corp_id && s->secret && s->to_users ? 0 : -EINVAL;
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
    d->from_addr = notify_message_address(s->from);
    d->to_addrs = calloc(d->c.n_to, sizeof(*d->to_addrs));
    if (!d->from_addr || !d->to_addrs)
        return -ENOMEM;
    for (size_t i = 0; i < d->c.n_to; i++)
        if (!(d->to_addrs[i] = notify_message_address(d->c.to[i])))
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
    _Atomic int64_t drain_deadline;  /* mono ms; 0 until notifier_stop */
    const _Atomic int64_t *abort_at; /* a sender's own deadline; NULL: drain_deadline */

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

/* A Feishu or Lark robot: its answer carries "code" (0: sent). */
static bool feishu_robot(const struct notify_route *r)
{
    return r->c.sign == SIGN_FEISHU || strstr(r->c.url, "open.feishu.cn/") ||
           strstr(r->c.url, "open.larksuite.com/");
}

/* A 2xx answer of a chat robot may still carry an error: WeCom and DingTalk
 * answer {"errcode":N,"errmsg":"..."}, Feishu {"code":N,"msg":"..."}, N != 0
 * on failure. Their "busy" and "too fast" codes are retried, the others are
 * final. */
static enum send_result robot_answer(const struct notify_route *rt,
                                     const struct http_response *resp, char *reason, size_t size)
{
    struct json_flat f;
    if (resp->body_len == 0 || json_flatten(resp->body, resp->body_len, NULL, &f) != JSON_OK)
        return SEND_OK;
    bool feishu = feishu_robot(rt);
    const char *code_key = feishu ? "code" : "errcode", *msg_key = feishu ? "msg" : "errmsg";
    const struct json_field *code = json_flat_get(&f, code_key);
    enum send_result r = SEND_OK;
    if (code && code->type == JSON_T_NUMBER && code->num != 0) {
        const struct json_field *msg = json_flat_get(&f, msg_key);
        int ml =
            msg && msg->type == JSON_T_STRING ? (int)(msg->str_len < 200 ? msg->str_len : 200) : 0;
        snprintf(reason, size, "HTTP %ld, %s %.0f: %.*s", resp->status, code_key, code->num, ml,
                 ml ? msg->str : "");
        /* Over the rate limit or busy: WeCom -1 and 45009, DingTalk 130101,
         * Feishu 11232. */
        double n = code->num;
        bool again = feishu ? n == 11232 : n == -1 || n == 45009 || n == 130101;
        r = again ? SEND_RETRY : SEND_FINAL;
    }
    json_flat_free(&f);
    return r;
}

/* The deadline a request under way is abandoned at (mono ms; 0: none yet). */
static const _Atomic int64_t *abort_of(const struct notifier *n)
{
    return n->abort_at ? n->abort_at : &n->drain_deadline;
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
                               .abort_at_ms = abort_of(n)};
    /* Signed robots: signed at each attempt, with the time of that attempt. */
    char *signed_url = NULL, *signed_body = NULL;
    wall_s now = clock_wall();
    if (r->c.sign == SIGN_DINGTALK && !(req.url = signed_url = notify_sign_dingtalk_url(
                                            r->c.url, r->c.secret, (int64_t)(now * 1000)))) {
        snprintf(reason, size, "cannot sign the request");
        return SEND_FINAL;
    }
    if (r->c.sign == SIGN_FEISHU &&
        !(req.body = signed_body = notify_sign_feishu_body(it->data, it->len, r->c.secret,
                                                           (int64_t)now, &req.body_len))) {
        snprintf(reason, size, "cannot sign the request: the body is not a JSON object");
        return SEND_FINAL;
    }
    struct http_response resp;
    int rc = http_client_do(n->http, &req, &resp);
    crypto_free_secret(signed_url);
    free(signed_body);
    if (rc < 0) {
        snprintf(reason, size, "%s", resp.error);
        return SEND_RETRY;
    }
    /* The far end's answer: the reason of a failure, what notify test shows. */
    snprintf(reason, size, "HTTP %ld: %.200s", resp.status, resp.body);
    if (resp.status >= 200 && resp.status < 300)
        return robot_answer(r, &resp, reason, size);
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
                             .abort_at_ms = abort_of(n)};
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

/* A WeCom application message: it->data is the message body. The route's
 * token is fetched on first use and kept (the thread's alone). */
static enum send_result send_wecom(struct notifier *n, struct notify_item *it, char *reason,
                                   size_t size)
{
    struct notify_route *r = (struct notify_route *)it->route;
    switch (wecom_send(n->http, &r->c, &r->token, it->data, it->len, abort_of(n), reason, size)) {
    case WECOM_OK:
        return SEND_OK;
    case WECOM_RETRY:
        return SEND_RETRY;
    default:
        return SEND_FINAL;
    }
}

/* One attempt on it's route, whatever its type. */
static enum send_result send_any(struct notifier *n, struct notify_item *it, char *reason,
                                 size_t size)
{
    switch (it->route->c.type) {
    case NOTIFY_EMAIL:
        return send_email(n, it, reason, size);
    case NOTIFY_WECOM:
        return send_wecom(n, it, reason, size);
    default:
        return send_webhook(n, it, reason, size);
    }
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
    enum send_result r = send_any(n, it, reason, sizeof(reason));
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
    threads_name_self("hallgw-notify");
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
    n->seq = (uint64_t)wall_ns(clock_wall()); /* Message-IDs unique across restarts */
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

/* The content of a WeCom application message about an alert. */
#define WECOM_ALERT_MARKDOWN                                                                       \
    "**[hallgw] {{raw:severity}} {{raw:transition}}**: {{raw:summary}}\n"                          \
    "> 规则 rule: {{raw:rule}}\n"                                                                \
    "> 地点 place: {{raw:hall}} {{raw:window}} {{raw:device}}\n"                                 \
    "> 时间 at: {{raw:at}}\n"                                                                    \
    "> 告警 alert: {{raw:id}}"
#define WECOM_ALERT_TEXT                                                                           \
    "[hallgw] {{raw:severity}} {{raw:transition}}: {{raw:summary}}\n"                              \
    "规则 rule: {{raw:rule}}\n"                                                                  \
    "地点 place: {{raw:hall}} {{raw:window}} {{raw:device}}\n"                                   \
    "时间 at: {{raw:at}}\n"                                                                      \
    "告警 alert: {{raw:id}}"

/* The request for a on route r, or NULL with errno set. */
static struct notify_item *build_item(struct notifier *n, const struct notify_route *r,
                                      const struct alert *a, enum alert_transition t,
                                      const char *gateway_id)
{
    struct notify_item *it = calloc(1, sizeof(*it));
    if (!it)
        return NULL;
    it->route = r;
    snprintf(it->what, sizeof(it->what), "%s %s", a->id, alert_transition_name(t));
    if (r->c.type == NOTIFY_EMAIL) {
        it->data = notify_message_email(&r->c, a, t, gateway_id, clock_wall(), n->seq++, &it->len);
    } else if (r->c.type == NOTIFY_WECOM) {
        char *text = notify_message_expand(r->c.msgtype == MSGTYPE_TEXT ? WECOM_ALERT_TEXT
                                                                        : WECOM_ALERT_MARKDOWN,
                                           a, t, gateway_id);
        it->data = text ? wecom_message_body(&r->c, text, &it->len) : NULL;
        free(text);
    } else {
        it->data = notify_message_expand(r->c.template_text ? r->c.template_text : "{{json}}", a, t,
                                         gateway_id);
        it->len = it->data ? strlen(it->data) : 0;
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
                         alert_transition_name(t), r->c.name);
            item_free(it);
        }
    }
    if (route && !named_found && log_ratelimit_ok(&n->rl_build, "notify: unknown routes"))
        log_err("notify: no route named \"%s\" (escalation of %s)", route, a->id);
}

/* ---- hallgw notify test ------------------------------------------------------- */

int notifier_test(const struct config *cfg, const char *route, char *answer, size_t size)
{
    const struct config_notify *c = NULL;
    for (size_t i = 0; i < cfg->n_notify && !c; i++)
        if (cfg->notify[i].name && strcmp(cfg->notify[i].name, route) == 0)
            c = &cfg->notify[i];
    answer[0] = '\0';
    if (!c)
        return -ENOENT;
    struct notify_route rt;
    memset(&rt, 0, sizeof(rt));
    int rc = route_copy(&rt, c);
    struct notifier n;
    memset(&n, 0, sizeof(n));
    if (rc == 0)
        rc = http_client_new(&n.http);
    struct notify_item *it = NULL;
    if (rc == 0) {
        wall_s now = clock_wall();
        struct alert a;
        memset(&a, 0, sizeof(a));
        snprintf(a.id, sizeof(a.id), "test:hallgw");
        snprintf(a.rule, sizeof(a.rule), "test");
        snprintf(a.subject, sizeof(a.subject), "hallgw");
        snprintf(a.hall, sizeof(a.hall), "%s", cfg->n_halls ? cfg->halls[0].id : "hall");
        snprintf(a.summary, sizeof(a.summary), "hallgw 测试消息 test message (route %s)", route);
        a.kind = KIND_UNKNOWN;
        a.severity = SEV_INFO;
        a.type = RULE_EVENT;
        a.state = ALERT_FIRING;
        a.manual_resolve = true;
        a.pending_since = a.firing_since = a.changed_at = now;
        n.seq = (uint64_t)wall_ns(now);
        it = build_item(&n, &rt, &a, AT_FIRING, cfg->gateway.id);
        rc = it ? 0 : -errno;
    }
    if (rc == 0) {
        enum send_result r = send_any(&n, it, answer, size);
        flatten_reason(answer);
        rc = r == SEND_OK ? 0 : -EIO;
    } else if (!answer[0]) {
        snprintf(answer, size, "%s",
                 rc == -EINVAL ? "the route lacks what its type needs" : strerror(-rc));
    }
    item_free(it);
    http_client_free(n.http);
    route_free(&rt);
    return rc;
}

/* ---- one route, for a sender of its own (the daily record) ---------------- */

struct notify_sender {
    struct notifier n; /* its http client and abort deadline only */
    struct notify_route rt;
};

int64_t notifier_backoff_ms(int retry)
{
    return backoff_ms(retry);
}

int notify_sender_new(const struct config_notify *c, const _Atomic int64_t *abort_at,
                      struct notify_sender **out)
{
    struct notify_sender *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->n.abort_at = abort_at;
    int rc = route_copy(&s->rt, c);
    if (rc == 0)
        rc = http_client_new(&s->n.http);
    if (rc < 0) {
        notify_sender_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

void notify_sender_free(struct notify_sender *s)
{
    if (!s)
        return;
    http_client_free(s->n.http);
    route_free(&s->rt);
    free(s);
}

const struct config_notify *notify_sender_route(const struct notify_sender *s)
{
    return &s->rt.c;
}

struct http_client *notify_sender_http(struct notify_sender *s)
{
    return s->n.http;
}

enum notify_outcome notify_sender_post(struct notify_sender *s, const char *data, size_t len,
                                       char *reason, size_t size)
{
    struct notify_item it = {.route = &s->rt};
    char *body = NULL;
    reason[0] = '\0';
    if (s->rt.c.type == NOTIFY_EMAIL) {
        snprintf(reason, size, "an e-mail route takes a whole message");
        return NOTIFY_FINAL;
    }
    if (s->rt.c.type == NOTIFY_WECOM) {
        if (!(body = wecom_message_body(&s->rt.c, data, &it.len))) {
            snprintf(reason, size, "out of memory");
            return NOTIFY_RETRY;
        }
        it.data = body;
    } else {
        it.data = (char *)data;
        it.len = len;
    }
    enum send_result r = send_any(&s->n, &it, reason, size);
    free(body);
    flatten_reason(reason);
    return r == SEND_OK ? NOTIFY_SENT : r == SEND_RETRY ? NOTIFY_RETRY : NOTIFY_FINAL;
}
