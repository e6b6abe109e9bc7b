"""The daily record sent by itself (docs/report.md, "Sent by itself"): at
reports.daily.at (a few seconds ahead, in a zone where it is about noon) the
record arrives at a local SMTP sink — HTML body, plain-text alternative, CSV
attachment, a Chinese and English subject — and at a webhook, once: a
restart and a reload send nothing more. A failing route is retried and its
outcome is in `hallgw report --deliveries` and /metrics. WeCom application
messages against a loopback stand-in for qyapi.weixin.qq.com: the token is
fetched once and reused, a rejected token is fetched again once, an errcode
answer is a failure that `hallgw notify test` shows."""

import http.server
import json
import os
import signal
import threading
import time
import urllib.parse

import harness
from harness import Publisher, Stack, free_port, local_hms, noon_zone, schedule_around_now, wait_for
from influx_stub import InfluxStub  # a recording HTTP listener
from smtp_sink import SmtpSink

HALLS = [{"id": "h1", "name": "政务服务大厅", "windows": [
    {"id": "w01", "name": "综合受理 1", "seat": "seat-w01"}]}]
DEVICES = [{"id": "seat-w01", "hall": "h1", "kind": "seat"},
           {"id": "env-1", "hall": "h1", "kind": "env"},
           {"id": "env-2", "hall": "h1", "kind": "env"}]
PUBLIC = "https://hall.example.org/"
LEAD_S = 5


def local_date(offset):
    return time.strftime("%Y-%m-%d", time.gmtime(time.time() + offset * 3600))


def start(st, routes, daily, at_s=LEAD_S):
    """A gateway whose daily record is due at_s from now; (gw, offset)."""
    zone, offset = noon_zone()
    port = free_port()
    extra = (schedule_around_now(offset) + routes +
             'reports = { daily = { at = "%s"; %s }; };\n' % (local_hms(offset, at_s), daily) +
             'http = { listen = "127.0.0.1:%d"; public_url = "%s"; };\n' % (port, PUBLIC))
    gw = st.hallgw(devices=DEVICES, halls=HALLS, extra=extra)
    gw.timezone = zone
    gw.write_config()
    gw.http_port = port  # the block is in extra, with public_url
    gw.start()
    return gw, offset


def deliveries(gw):
    r = gw.cli("report", "--deliveries")
    assert r.returncode == 0, (r.returncode, r.stdout, r.stderr)
    rows = {}
    for line in r.stdout.splitlines()[1:]:
        f = line.split(None, 6)
        if len(f) >= 7:
            rows[f[2]] = {"state": f[3], "attempts": int(f[4]), "error": f[6]}
    return rows


def posts(hook, path):
    with hook.lock:
        return [r for r in hook.requests if r.path == path]


def test_the_daily_record_arrives_by_itself_once_by_mail_and_webhook():
    sink = SmtpSink()
    hook = InfluxStub()
    hook.answer = lambda req: (200, b"ok")
    try:
        with Stack("delivery") as st:
            routes = ('notify = (\n'
                      ' { name = "manager-mail"; type = "email"; smtp_url = "%s"; starttls = false;'
                      ' from = "hallgw@example.org"; to = ["boss@example.org"];'
                      ' severity = ["critical"]; },\n'
                      ' { name = "robot"; type = "webhook"; url = "%s/robot"; severity = ["critical"]; }\n'
                      ');\n' % (sink.url, hook.url))
            gw, offset = start(st, routes, 'routes = ["manager-mail", "robot"]; '
                                           'formats = ["html", "csv"];')
            date = local_date(offset)
            wait_for("the record by mail", lambda: sink.messages, timeout=LEAD_S + 30)
            wait_for("the record at the webhook", lambda: posts(hook, "/robot"), timeout=20)

            (msg,) = sink.messages
            assert sink.envelopes[0] == ("<hallgw@example.org>", ["<boss@example.org>"]), sink.envelopes
            subject = str(msg["Subject"])
            assert "巡查记录" in subject and "Daily inspection record" in subject, subject
            assert "政务服务大厅" in subject and date in subject, subject
            assert msg.get_content_type() == "multipart/mixed", msg.get_content_type()
            html = msg.get_body(preferencelist=("html",)).get_content()
            assert "<html" in html and "巡查告警记录" in html and date in html, html[:300]
            plain = msg.get_body(preferencelist=("plain",)).get_content()
            assert "Daily inspection record" in plain and PUBLIC + "api/v1/reports/daily?date=" + date in plain, plain
            (att,) = list(msg.iter_attachments())
            assert att.get_filename() == "hallgw-%s.csv" % date, att.get_filename()
            assert att.get_content_type() == "text/csv", att.get_content_type()
            csv = att.get_content()
            csv = csv.decode() if isinstance(csv, bytes) else csv
            assert "\r\nheader,h1,政务服务大厅,%s," % date in "\r\n" + csv, csv[:300]

            (req,) = posts(hook, "/robot")
            body = json.loads(req.body)
            assert body["type"] == "daily_record" and body["date"] == date and body["halls"] == "h1", body
            assert "窗口在岗 Windows" in body["text"] and "下班断电 Power-off" in body["text"], body
            assert body["url"] == PUBLIC + "api/v1/reports/daily?date=%s&format=html" % date, body

            wait_for("both recorded as sent", lambda: {k: v["state"] for k, v in deliveries(gw).items()}
                     == {"manager-mail": "sent", "robot": "sent"}, timeout=10)
            assert gw.metric("hallgw_report_deliveries_total", 'outcome="sent"') == 2

            # A restart (the day is still today, the time is past) and a
            # reload send nothing more.
            gw.stop()
            gw.start()
            wait_for("the restarted gateway to look at the day",
                     lambda: "sent already" in gw.log_text(gw.log_mark), timeout=15)
            mark = len(gw.log_text())
            gw.signal(signal.SIGHUP)
            wait_for("the reload", lambda: "reloaded" in gw.log_text(mark), timeout=15)
            assert len(sink.messages) == 1 and sink.attempts == 1, sink.attempts
            assert len(posts(hook, "/robot")) == 1
            assert gw.metric("hallgw_report_deliveries_total", 'outcome="sent"') == 0
    finally:
        sink.stop()
        hook.stop()


def test_a_failing_route_is_retried_and_its_outcome_recorded():
    sink = SmtpSink()
    sink.answer = lambda n: (451, "try again later") if n == 1 else (250, "OK")
    hook = InfluxStub()

    def answer(req):
        if req.path == "/broken":
            return 400, b'{"error":"no such robot"}'
        return (503, b"busy") if len(posts_unlocked(hook, "/flaky")) <= 2 else (200, b"ok")

    def posts_unlocked(h, path):
        return [r for r in h.requests if r.path == path]
    hook.answer = answer
    try:
        with Stack("delivery-retry") as st:
            routes = ('notify = (\n'
                      ' { name = "mail"; type = "email"; smtp_url = "%s"; starttls = false;'
                      ' from = "hallgw@example.org"; to = ["boss@example.org"]; severity = ["critical"]; },\n'
                      ' { name = "flaky"; type = "webhook"; url = "%s/flaky"; severity = ["critical"]; },\n'
                      ' { name = "broken"; type = "webhook"; url = "%s/broken"; severity = ["critical"]; }\n'
                      ');\n' % (sink.url, hook.url, hook.url))
            gw, _ = start(st, routes, 'routes = ["mail", "flaky", "broken"]; formats = "csv";')
            want = {"mail": ("sent", 2), "flaky": ("sent", 3), "broken": ("failed", 1)}
            wait_for("every outcome recorded",
                     lambda: {k: (v["state"], v["attempts"]) for k, v in deliveries(gw).items()} == want,
                     timeout=LEAD_S + 40)
            rows = deliveries(gw)
            assert "HTTP 400" in rows["broken"]["error"] and "no such robot" in rows["broken"]["error"], rows
            assert rows["flaky"]["error"] == "-", rows
            assert len(sink.messages) == 1 and sink.attempts == 2
            # Only the CSV: the body is the plain-text summary.
            msg = sink.messages[0]
            assert msg.get_body(preferencelist=("html",)) is None
            assert "Daily inspection record" in msg.get_body(preferencelist=("plain",)).get_content()
            assert [a.get_filename() for a in msg.iter_attachments()] == [
                "hallgw-%s.csv" % local_date(noon_zone()[1])]
            m = gw.metrics()
            assert m.get(("hallgw_report_deliveries_total", 'outcome="sent"')) == 2, m
            assert m.get(("hallgw_report_deliveries_total", 'outcome="failed"')) == 1, m
            assert m.get(("hallgw_report_deliveries_total", 'outcome="retried"')) == 3, m
    finally:
        sink.stop()
        hook.stop()


def test_a_stopping_gateway_makes_no_new_attempt_and_leaves_the_record_unsent():
    hook = InfluxStub()
    hook.answer = lambda req: (503, b"busy")
    try:
        with Stack("delivery-stop") as st:
            routes = ('notify = ( { name = "flaky"; type = "webhook"; url = "%s/flaky";'
                      ' severity = ["critical"]; retries = 20; } );\n' % hook.url)
            gw, _ = start(st, routes, 'routes = ["flaky"];')
            # Attempts at 0, 1 and 3 s: stopped in the 4 s pause after the third.
            wait_for("three attempts", lambda: len(posts(hook, "/flaky")) >= 3, timeout=LEAD_S + 20)
            gw.stop()
            assert gw.proc.returncode == 0, gw.proc.returncode
            time.sleep(0.5)
            assert len(posts(hook, "/flaky")) == 3
            rows = deliveries(gw)
            assert rows["flaky"]["state"] == "sending" and rows["flaky"]["attempts"] == 3, rows
    finally:
        hook.stop()


def test_a_stopping_gateway_cuts_a_hanging_webhook_short():
    hook = InfluxStub()
    release = threading.Event()
    hook.answer = lambda req: (release.wait(40), (200, b"ok"))[1]
    try:
        with Stack("delivery-hang") as st:
            routes = ('notify = ( { name = "slow"; type = "webhook"; url = "%s/slow";'
                      ' severity = ["critical"]; timeout = "60s"; retries = 0; } );\n' % hook.url)
            gw, _ = start(st, routes, 'routes = ["slow"];')
            wait_for("the request", lambda: len(hook.requests) >= 1, timeout=LEAD_S + 20)
            t0 = time.time()
            gw.stop()
            took = time.time() - t0
            assert gw.proc.returncode == 0 and took < 8, (gw.proc.returncode, took)
            rows = deliveries(gw)
            assert rows["slow"]["state"] == "sending", rows
    finally:
        release.set()
        hook.stop()


def test_a_record_not_sent_for_an_unreadable_configuration_is_counted():
    hook = InfluxStub()
    try:
        with Stack("delivery-noconf") as st:
            routes = ('notify = ( { name = "a"; type = "webhook"; url = "%s/a"; severity = ["critical"]; },\n'
                      ' { name = "b"; type = "webhook"; url = "%s/b"; severity = ["critical"]; } );\n'
                      % (hook.url, hook.url))
            gw, _ = start(st, routes, 'routes = ["a", "b"];')
            wait_for("the gateway up", lambda: gw.metrics())
            with open(gw.conf, "w") as f:  # broken after the start, before the record is due
                f.write("gateway = {\n")
            wait_for("both routes counted as failed",
                     lambda: gw.metrics().get(("hallgw_report_deliveries_total", 'outcome="failed"')) == 2,
                     timeout=LEAD_S + 20)
            assert hook.requests == []
    finally:
        hook.stop()


class WecomStub:
    """A loopback stand-in for qyapi.weixin.qq.com: /cgi-bin/gettoken hands
    out tok-1, tok-2, ...; /cgi-bin/message/send records the message and
    answers as the test says."""

    def __init__(self):
        self.port = free_port()
        self.tokens = []    # (corpid, corpsecret) of each gettoken
        self.messages = []  # (access_token, body)
        self.reject_next = 0  # answer this many sends with 42001 (token expired)
        self.errcode = 0      # answer the sends with this errcode
        self.lock = threading.Lock()
        stub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def reply(self, obj):
                data = json.dumps(obj).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                u = urllib.parse.urlsplit(self.path)
                q = dict(urllib.parse.parse_qsl(u.query))
                with stub.lock:
                    if u.path != "/cgi-bin/gettoken" or q.get("corpsecret") != "app-secret":
                        return self.reply({"errcode": 40001, "errmsg": "invalid credential"})
                    stub.tokens.append((q.get("corpid"), q.get("corpsecret")))
                    n = len(stub.tokens)
                self.reply({"errcode": 0, "errmsg": "ok", "access_token": "tok-%d" % n,
                            "expires_in": 7200})

            def do_POST(self):
                u = urllib.parse.urlsplit(self.path)
                q = dict(urllib.parse.parse_qsl(u.query))
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with stub.lock:
                    stub.messages.append((q.get("access_token"), json.loads(body)))
                    if stub.reject_next:
                        stub.reject_next -= 1
                        answer = {"errcode": 42001, "errmsg": "access_token expired"}
                    elif stub.errcode:
                        answer = {"errcode": stub.errcode,
                                  "errmsg": "user & party & tag all invalid", "invaliduser": "nobody"}
                    else:
                        answer = {"errcode": 0, "errmsg": "ok", "msgid": "m%d" % len(stub.messages)}
                self.reply(answer)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def test_wecom_application_messages_reuse_the_token_and_show_errcodes():
    wx = WecomStub()
    try:
        with Stack("delivery-wecom") as st:
            secret = os.path.join(st.dir, "wecom.secret")
            harness.write_secret(secret, "app-secret\n")
            routes = ('notify = ( { name = "wx"; type = "wecom"; api_url = "%s"; corp_id = "ww0123abcd";'
                      ' agent_id = 1000002; secret_file = "%s"; to_users = ["zhang.san", "li-si"];'
                      ' severity = ["warning"]; } );\n'
                      'rules = ( { name = "co2-high"; type = "threshold"; kind = "env"; metric = "co2";'
                      ' above = 1000.0; for = "1s"; severity = "warning"; } );\n' % (wx.url, secret))
            # The record is not due in this test (an hour ahead).
            gw, _ = start(st, routes, 'routes = "wx";', at_s=3600)
            pub = Publisher(st.mqtt)
            for d in ("env-1", "env-2"):
                pub.publish("hall/h1/%s/telemetry" % d, json.dumps({"co2": 1500}))
            wait_for("two alerts sent", lambda: len(wx.messages) >= 2, timeout=20)
            pub.close()
            with wx.lock:
                assert wx.tokens == [("ww0123abcd", "app-secret")], wx.tokens
                assert [t for t, _ in wx.messages] == ["tok-1", "tok-1"], wx.messages
                bodies = [b for _, b in wx.messages]
            assert {b["markdown"]["content"].split("\n")[0].split(": ", 1)[0] for b in bodies} == \
                {"**[hallgw] warning firing**"}, bodies
            assert all(b["touser"] == "zhang.san|li-si" and b["agentid"] == 1000002 and
                       b["msgtype"] == "markdown" for b in bodies), bodies
            assert sorted("co2-high:env-1" in b["markdown"]["content"] for b in bodies) == [False, True]

            # hallgw notify test: its own token; an expired one is fetched again, once.
            with wx.lock:
                wx.reject_next = 1
            r = gw.cli("notify", "test", "wx")
            assert r.returncode == 0 and '"errcode": 0' in r.stdout, (r.returncode, r.stdout, r.stderr)
            with wx.lock:
                assert len(wx.tokens) == 3 and [t for t, _ in wx.messages[2:]] == ["tok-2", "tok-3"], \
                    (wx.tokens, wx.messages[2:])
            # An errcode is a failure, with WeCom's errmsg.
            with wx.lock:
                wx.errcode = 81013
            r = gw.cli("notify", "test", "wx")
            assert r.returncode == 1 and "errcode 81013" in r.stderr and \
                "user & party & tag all invalid" in r.stderr, (r.returncode, r.stdout, r.stderr)
            # A token always refused: fetched again once, then given up.
            with wx.lock:
                wx.errcode, wx.reject_next = 0, 100
                before = len(wx.tokens)
            r = gw.cli("notify", "test", "wx")
            assert r.returncode == 1 and "errcode 42001" in r.stderr, (r.returncode, r.stderr)
            with wx.lock:
                assert len(wx.tokens) - before == 2, wx.tokens
    finally:
        wx.stop()


if __name__ == "__main__":
    harness.run([test_the_daily_record_arrives_by_itself_once_by_mail_and_webhook,
                 test_a_failing_route_is_retried_and_its_outcome_recorded,
                 test_a_stopping_gateway_makes_no_new_attempt_and_leaves_the_record_unsent,
                 test_a_stopping_gateway_cuts_a_hanging_webhook_short,
                 test_a_record_not_sent_for_an_unreadable_configuration_is_counted,
                 test_wecom_application_messages_reuse_the_token_and_show_errcodes])
