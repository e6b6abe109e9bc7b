/* The HTTP client's e-mail built with curl_mime: what an SMTP server
 * receives from http_client_smtp_mime (a server on loopback, in a thread of
 * this test, that keeps the message). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buf.h"
#include "httpclient.h"
#include "notify_message.h"

struct sink {
    int listen_fd;
    int port;
    int data_reply; /* the reply to the end of DATA */
    char data[65536];
    size_t len;
    char mail_from[256], rcpt[256];
};

static void say(int fd, const char *s)
{
    ssize_t n = write(fd, s, strlen(s));
    (void)n;
}

/* One line (CRLF kept) into line; false at the end. */
static bool read_line(int fd, char *line, size_t size)
{
    size_t n = 0;
    while (n + 1 < size) {
        char c;
        if (read(fd, &c, 1) != 1)
            return false;
        line[n++] = c;
        if (c == '\n')
            break;
    }
    line[n] = '\0';
    return true;
}

static void *sink_main(void *arg)
{
    struct sink *s = arg;
    int fd = accept(s->listen_fd, NULL, NULL);
    char line[2048];
    if (fd < 0)
        return NULL;
    say(fd, "220 sink ESMTP\r\n");
    while (read_line(fd, line, sizeof(line))) {
        if (strncasecmp(line, "EHLO", 4) == 0 || strncasecmp(line, "HELO", 4) == 0) {
            say(fd, "250 sink\r\n");
        } else if (strncasecmp(line, "MAIL FROM:", 10) == 0) {
            snprintf(s->mail_from, sizeof(s->mail_from), "%.*s", (int)strcspn(line + 10, "\r\n"),
                     line + 10);
            say(fd, "250 OK\r\n");
        } else if (strncasecmp(line, "RCPT TO:", 8) == 0) {
            snprintf(s->rcpt, sizeof(s->rcpt), "%.*s", (int)strcspn(line + 8, "\r\n"), line + 8);
            say(fd, "250 OK\r\n");
        } else if (strncasecmp(line, "DATA", 4) == 0) {
            say(fd, "354 go on\r\n");
            while (read_line(fd, line, sizeof(line)) && strcmp(line, ".\r\n") != 0) {
                size_t l = strlen(line);
                if (s->len + l < sizeof(s->data)) {
                    memcpy(s->data + s->len, line, l);
                    s->len += l;
                }
            }
            s->data[s->len] = '\0';
            say(fd, s->data_reply == 250 ? "250 OK queued\r\n" : "550 no such user\r\n");
        } else if (strncasecmp(line, "QUIT", 4) == 0) {
            say(fd, "221 bye\r\n");
            break;
        } else {
            say(fd, "250 OK\r\n");
        }
    }
    close(fd);
    return NULL;
}

static void sink_start(struct sink *s, pthread_t *t)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof(a);
    s->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(s->listen_fd >= 0);
    assert_int_equal(bind(s->listen_fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(s->listen_fd, 1), 0);
    assert_int_equal(getsockname(s->listen_fd, (struct sockaddr *)&a, &al), 0);
    s->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(t, NULL, sink_main, s), 0);
}

/* Sends the record-like message to s; the client's return code. */
static int send_record(struct sink *s, struct http_response *resp, size_t n_alt)
{
    char url[64];
    snprintf(url, sizeof(url), "smtp://127.0.0.1:%d", s->port);
    struct buf subject;
    buf_init(&subject, 0);
    buf_puts(&subject, "Subject: ");
    notify_message_header_text(&subject, "巡查记录 Daily inspection record: 一楼大厅 2026-12-04");
    const char *hdrs[] = {"From: hallgw@example.org", "To: boss@example.org", subject.data};
    const char *to[] = {"boss@example.org"};
    static const char html[] = "<!DOCTYPE html><html><body><h1>巡查记录</h1></body></html>";
    static const char text[] = "**巡查记录 Daily inspection record**\n- 告警 Alerts: 0";
    static const char csv[] = "section,hall,hall_name\r\nheader,h1,一楼大厅\r\n";
    struct smtp_part alt[] = {{"text/plain; charset=utf-8", text, strlen(text), NULL},
                              {"text/html; charset=utf-8", html, strlen(html), NULL}};
    struct smtp_part att[] = {
        {"text/csv; charset=utf-8", csv, strlen(csv), "hallgw-2026-12-04.csv"}};
    struct smtp_mime mime = {hdrs, 3, n_alt == 1 ? alt + 1 : alt, n_alt, att, 1};
    struct smtp_message m = {
        .url = url, .from = "hallgw@example.org", .to = to, .n_to = 1, .timeout_ms = 10000};
    struct http_client *c;
    assert_int_equal(http_client_new(&c), 0);
    int rc = http_client_smtp_mime(c, &m, &mime, resp);
    http_client_free(c);
    buf_free(&subject);
    return rc;
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

static void test_the_record_mail_is_mixed_with_an_alternative_and_a_csv_attachment(void **state)
{
    (void)state;
    struct sink s = {.data_reply = 250};
    pthread_t t;
    struct http_response resp;
    sink_start(&s, &t);
    assert_int_equal(send_record(&s, &resp, 2), 0);
    pthread_join(t, NULL);
    close(s.listen_fd);

    assert_string_equal(s.mail_from, "<hallgw@example.org>");
    assert_string_equal(s.rcpt, "<boss@example.org>");
    const char *d = s.data;
    /* The caller's headers, the subject in encoded words. */
    assert_non_null(strstr(d, "From: hallgw@example.org\r\n"));
    assert_non_null(strstr(d, "Subject: =?UTF-8?B?"));
    /* mixed { alternative { plain, html }, csv attachment } */
    assert_non_null(strstr(d, "Content-Type: multipart/mixed; boundary="));
    assert_non_null(strstr(d, "Content-Type: multipart/alternative; boundary="));
    assert_true(strstr(d, "Content-Type: text/plain; charset=utf-8") <
                strstr(d, "Content-Type: text/html; charset=utf-8"));
    assert_int_equal(count(d, "Content-Transfer-Encoding: quoted-printable"), 2);
    assert_non_null(
        strstr(d, "Content-Disposition: attachment; filename=\"hallgw-2026-12-04.csv\""));
    assert_non_null(strstr(d, "Content-Type: text/csv; charset=utf-8"));
    assert_int_equal(count(d, "Content-Transfer-Encoding: base64"), 1);
    /* base64 of "section,hall,hall_name\r\n..." */
    assert_non_null(strstr(d, "c2VjdGlvbixoYWxsLGhhbGxfbmFtZQ0K"));
    /* No 8-bit byte goes on the wire. */
    for (const unsigned char *p = (const unsigned char *)d; *p; p++)
        assert_true(*p < 0x80);
}

static void test_one_body_part_goes_without_an_alternative_and_a_5xx_is_reported(void **state)
{
    (void)state;
    struct sink s = {.data_reply = 550};
    pthread_t t;
    struct http_response resp;
    sink_start(&s, &t);
    assert_int_equal(send_record(&s, &resp, 1), -EIO);
    pthread_join(t, NULL);
    close(s.listen_fd);
    assert_int_equal(resp.status, 550);
    assert_null(strstr(s.data, "multipart/alternative"));
    assert_non_null(strstr(s.data, "Content-Type: text/html; charset=utf-8"));
}

static int setup(void **state)
{
    (void)state;
    return http_global_init();
}

static int teardown(void **state)
{
    (void)state;
    http_global_cleanup();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_record_mail_is_mixed_with_an_alternative_and_a_csv_attachment),
        cmocka_unit_test(test_one_body_part_goes_without_an_alternative_and_a_5xx_is_reported),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
