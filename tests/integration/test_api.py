"""The HTTP API over real HTTP: state, alerts, acknowledgements with and
without the token, bad and oversized bodies, /metrics in the Prometheus text
format with counters that move, /healthz, and the page's files."""

import json
import os
import re
import socket
import time
import urllib.error
import urllib.request

import harness
from harness import Publisher, Stack, free_port, noon_zone, schedule_around_now, wait_for

TOKEN = "t0ken-for-tests"
DEVICES = [{"id": "env-1", "hall": "h1", "kind": "env"},
           {"id": "seat-w01", "hall": "h1", "kind": "seat"}]
HALLS = [{"id": "h1", "name": "政务服务大厅", "windows": [{"id": "w01", "name": "综合受理 1", "seat": "seat-w01"}]}]
RULES = """rules = (
  { name = "co2-high"; type = "threshold"; kind = "env"; metric = "co2"; above = 1000.0;
    clear_at = 900.0; for = "0s"; severity = "warning"; },
  { name = "threat"; type = "event"; event = "threat_detected"; severity = "critical"; }
);
"""


def http(method, url, body=None, token=None, raw=None, headers=None):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if token:
        req.add_header("Authorization", "Bearer " + token)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def parse_prometheus(text):
    """A strict reader of the text exposition format: every sample belongs to a
    family declared with HELP and TYPE before it; names and labels are valid;
    values are numbers. Returns {(name, labels): value}."""
    declared, samples = {}, {}
    name_re = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
    for line in text.splitlines():
        if not line:
            continue
        if line.startswith("# HELP "):
            m = re.match(r"# HELP (%s) (.+)$" % name_re, line)
            assert m, line
            declared.setdefault(m.group(1), {})["help"] = m.group(2)
            continue
        if line.startswith("# TYPE "):
            m = re.match(r"# TYPE (%s) (counter|gauge|histogram|summary|untyped)$" % name_re, line)
            assert m, line
            assert "type" not in declared.get(m.group(1), {}), "TYPE twice for " + m.group(1)
            declared.setdefault(m.group(1), {})["type"] = m.group(2)
            continue
        assert not line.startswith("#"), line
        m = re.match(r'(%s)(\{([a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*"(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*")*)\})? ([-+0-9.eE]+|NaN|\+Inf|-Inf)$' % name_re, line)
        assert m, "bad sample line: %r" % line
        assert m.group(1) in declared and "type" in declared[m.group(1)], "undeclared " + m.group(1)
        key = (m.group(1), m.group(3) or "")
        assert key not in samples, "duplicate series %r" % (key,)
        samples[key] = float(m.group(4))
    return samples


def start(st, web_dir=True, http_extra=""):
    """The gateway with its HTTP server; web_dir=True: a customised page in
    <test dir>/web (an index.html only); False: the built-in page."""
    zone, offset = noon_zone()
    port = free_port()
    token_file = os.path.join(st.dir, "http.token")
    harness.write_secret(token_file, TOKEN + "\n")
    web = ""
    if web_dir:
        os.makedirs(os.path.join(st.dir, "web"))
        with open(os.path.join(st.dir, "web", "index.html"), "w") as f:
            f.write("<!doctype html><title>hall</title>")
        web = 'web_dir = "%s"; ' % os.path.join(st.dir, "web")
    gw = st.hallgw(devices=DEVICES, halls=HALLS, extra=schedule_around_now(offset) + RULES +
                   'http = { listen = "127.0.0.1:%d"; token_file = "%s"; %s'
                   'max_body_bytes = 2048; %s};\n' % (port, token_file, web, http_extra))
    gw.timezone = zone
    gw.write_config()
    gw.start()
    return gw, "http://127.0.0.1:%d" % port


def test_state_alerts_and_acks_over_http():
    with Stack("api") as st:
        gw, base = start(st)
        pub = Publisher(st.mqtt)
        pub.publish("hall/h1/env-1/telemetry", json.dumps({"co2": 1450, "temperature": 24.5}))
        pub.publish("hall/h1/seat-w01/telemetry", json.dumps({"presence": True}))

        def env_values():
            code, _, body = http("GET", base + "/api/v1/state")
            assert code == 200
            state = json.loads(body)
            devs = {d["id"]: d for d in state["halls"][0]["devices"]}
            staffed = state["halls"][0]["windows"][0]["staffed"]
            return devs.get("env-1", {}).get("values", {}).get("co2") == 1450 and staffed is True and state
        state = wait_for("the state to show the telemetry", env_values, timeout=10)
        assert state["halls"][0]["name"] == "政务服务大厅"
        w = state["halls"][0]["windows"][0]
        assert w["name"] == "综合受理 1" and w["staffed"] is True and w["open"] is True
        assert any(t["rule"] == "co2-high" and t["above"] == 1000 for t in state["thresholds"])

        def active():
            code, _, body = http("GET", base + "/api/v1/alerts")
            return [a for a in json.loads(body)["active"] if a["id"] == "co2-high:env-1"]
        alert = wait_for("the alert over HTTP", active, timeout=10)[0]
        assert alert["state"] == "firing" and alert["severity"] == "warning"

        # Changes are made by accounts: the name recorded is the account's,
        # whatever the body says; a viewer may not change anything.
        operator = gw.add_account("zhangsan", "operator")
        viewer = gw.add_account("zhao", "viewer")
        it = gw.add_account("li", "it")
        url = base + "/api/v1/alerts/co2-high:env-1/ack"
        ack = {"by": "someone else", "note": "开窗通风"}
        assert http("POST", url, ack)[0] == 401, "an ack without a token must be refused"
        assert http("POST", url, ack, token="wrong")[0] == 401
        assert http("POST", url, ack, token=viewer)[0] == 403
        # The CO2 sensor is the hall's: not for IT.
        assert http("POST", url, ack, token=it)[0] == 403
        assert http("POST", url, raw=b"{not json", token=operator)[0] == 400
        assert http("POST", url, raw=b'{"by":"x","note":"' + b"a" * 4096 + b'"}', token=operator)[0] == 413
        assert http("POST", base + "/api/v1/alerts/nope:env-1/ack", ack, token=operator)[0] == 404
        code, _, body = http("POST", url, ack, token=operator)
        assert code == 200, body
        assert json.loads(body) == {"id": "co2-high:env-1", "state": "acknowledged", "by": "zhangsan"}
        a = wait_for("acknowledged in /api/v1/alerts", lambda: [x for x in active() if x["state"] == "acknowledged"])[0]
        assert a["acked_by"] == "zhangsan" and a["note"] == "开窗通风"
        # A resolve of an alert that clears by itself: conflict.
        assert http("POST", url, dict(ack, resolve=True), token=operator)[0] == 409
        # Events need the resolve; http.token_file's token acts as an admin.
        pub.publish("hall/h1/env-1/event", json.dumps({"type": "threat_detected", "signature": "X"}))
        wait_for("the event alert", lambda: [x for x in json.loads(http("GET", base + "/api/v1/alerts")[2])["active"]
                                             if x["id"] == "threat:env-1"])
        code, _, body = http("POST", base + "/api/v1/alerts/threat:env-1/ack",
                             {"by": "李四", "note": "已处理", "resolve": True}, token=TOKEN)
        assert code == 200 and json.loads(body)["state"] == "resolved", body
        # The history holds who and the note.
        code, _, body = http("GET", base + "/api/v1/alerts?history=1&hall=h1")
        hist = json.loads(body)["history"]
        assert any(h["alert_id"] == "threat:env-1" and h["transition"] == "resolved" and h["by"] == "token_file"
                   and h["note"] == "已处理" for h in hist), hist
        # Every change, refused or done, is in the audit log: for admins only.
        assert http("GET", base + "/api/v1/audit", token=operator)[0] == 403
        code, _, body = http("GET", base + "/api/v1/audit", token=TOKEN)
        assert code == 200, body
        audit = [(e["account"], e["action"], e["target"], e["ok"]) for e in json.loads(body)]
        assert ("zhangsan", "ack", "co2-high:env-1", True) in audit, audit
        assert ("li", "ack", "co2-high:env-1", False) in audit, audit
        assert ("token_file", "resolve", "threat:env-1", True) in audit, audit
        assert ("zhao", "ack", "co2-high:env-1", False) in audit, audit
        assert http("GET", base + "/api/v1/alerts?history=1&from=abc")[0] == 400
        assert http("GET", base + "/api/v1/nothing")[0] == 404
        assert http("DELETE", base + "/api/v1/state")[0] == 405
        pub.close()


def test_metrics_parse_and_move_and_health_and_files():
    # The broker is killed below: a private one.
    with Stack("api-metrics", private=("mqtt",)) as st:
        gw, base = start(st)
        code, headers, body = http("GET", base + "/metrics")
        assert code == 200 and headers["Content-Type"].startswith("text/plain; version=0.0.4")
        before = parse_prometheus(body.decode())
        key = ("hallgw_messages_received_total", 'format="native"')
        assert key in before
        pub = Publisher(st.mqtt)
        for i in range(25):
            pub.publish("hall/h1/env-1/telemetry", json.dumps({"temperature": 20 + i / 10}))
        pub.publish("hall/h1/env-1/telemetry", "{bad json")
        pub.close()

        def moved():
            after = parse_prometheus(http("GET", base + "/metrics")[2].decode())
            return (after[key] - before[key] >= 26 and
                    after[("hallgw_messages_rejected_total", 'reason="syntax"')] >= 1 and after)
        after = wait_for("counters to move", moved, timeout=10)
        assert after[("hallgw_mqtt_connected", "")] == 1
        code, _, body = http("GET", base + "/healthz")
        assert code == 200 and json.loads(body)["ok"] is True
        # The customised page of web_dir, revalidated with its ETag until it changes.
        code, headers, body = http("GET", base + "/")
        assert code == 200 and b"<title>hall</title>" in body and headers["Content-Type"].startswith("text/html")
        etag = headers["ETag"]
        assert etag and headers["Cache-Control"] == "no-cache", dict(headers)
        assert http("GET", base + "/", headers={"If-None-Match": etag})[0] == 304
        with open(os.path.join(st.dir, "web", "index.html"), "w") as f:
            f.write("<!doctype html><title>hall, edited</title>")
        code, headers, body = http("GET", base + "/", headers={"If-None-Match": etag})
        assert code == 200 and b"hall, edited" in body and headers["ETag"] != etag
        # Only the directory's files: the built-in app.js is not mixed in.
        for bad in ("/../hallgw.conf", "/..%2fhallgw.conf", "/.hidden", "/missing.js", "/app.js"):
            assert http("GET", base + bad)[0] == 404, bad
        # MQTT gone: /healthz says so.
        st.mqtt.kill()
        wait_for("unhealthy without the broker", lambda: http("GET", base + "/healthz")[0] == 503, timeout=15)
        st.mqtt.start()
        wait_for("healthy again", lambda: http("GET", base + "/healthz")[0] == 200, timeout=60)


def test_the_page_is_built_in_with_etags():
    with Stack("api-page") as st:
        gw, base = start(st, web_dir=False)
        assert "the live page from the built-in files" in gw.log_text()
        for name, ctype in (("index.html", "text/html"), ("app.js", "text/javascript"),
                            ("session.js", "text/javascript"), ("render.js", "text/javascript"),
                            ("actions.js", "text/javascript"), ("i18n.js", "text/javascript"),
                            ("style.css", "text/css")):
            with open(os.path.join(harness.SOURCE_DIR, "dashboards", "web", name), "rb") as f:
                want = f.read()
            code, headers, body = http("GET", base + ("/" if name == "index.html" else "/" + name))
            assert code == 200 and body == want, name
            assert headers["Content-Type"].startswith(ctype), (name, headers["Content-Type"])
            etag = headers["ETag"]
            assert re.fullmatch(r'"[0-9a-f]{16}"', etag), etag
            code, headers, body = http("GET", base + "/" + name, headers={"If-None-Match": etag})
            assert code == 304 and body == b"" and headers["ETag"] == etag, name
            code, _, body = http("GET", base + "/" + name, headers={"If-None-Match": '"other"'})
            assert code == 200 and body == want, name
        for bad in ("/../hallgw.conf", "/.hidden", "/missing.js", "/index.html/x"):
            assert http("GET", base + bad)[0] == 404, bad


def test_sign_in_sessions_csrf_hosts_and_closed_reads():
    """Reads need an account when open_reads is off; a browser session is a
    cookie that changes need a CSRF token with; a foreign Host is refused;
    the history comes in pages."""
    with Stack("api-session") as st:
        port = free_port()
        base = "http://127.0.0.1:%d" % port
        gw = st.hallgw(devices=DEVICES, halls=HALLS, extra=RULES +
                       'http = { listen = "127.0.0.1:%d"; open_reads = false; '
                       'hosts = ["hall-gw.example.org"]; session_lifetime = "1h"; };\n' % port)
        gw.start()
        viewer = gw.add_account("zhao", "viewer")
        gw.add_account("wang", "operator", password="correct horse battery")

        # Reads: closed without an account, open to any role; /healthz and
        # the page stay open.
        for path in ("/api/v1/state", "/api/v1/alerts", "/api/v1/overrides", "/metrics"):
            code, _, body = http("GET", base + path)
            assert code == 401 and json.loads(body)["error"], (path, code, body)
            assert http("GET", base + path, token=viewer)[0] == 200, path
        assert http("GET", base + "/healthz")[0] in (200, 503)
        assert http("GET", base + "/")[0] == 200
        code, _, body = http("GET", base + "/api/v1/session")
        assert code == 200 and json.loads(body) == {"signed_in": False, "open_reads": False}, body

        # Host: the configured name, localhost and IP literals pass.
        assert http("GET", base + "/api/v1/state", token=viewer,
                    headers={"Host": "rebound.attacker.example"})[0] == 421
        for host in ("hall-gw.example.org:%d" % port, "localhost:%d" % port, "127.0.0.1"):
            assert http("GET", base + "/api/v1/state", token=viewer, headers={"Host": host})[0] == 200, host

        # Sign in: a wrong password, then the right one.
        code, _, body = http("POST", base + "/api/v1/session", {"name": "wang", "password": "wrong one!"})
        assert code == 401, body
        code, headers, body = http("POST", base + "/api/v1/session",
                                   {"name": "wang", "password": "correct horse battery"})
        assert code == 200, body
        me = json.loads(body)
        assert me["signed_in"] and me["name"] == "wang" and me["role"] == "operator", me
        cookie = headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Max-Age=3600" in cookie, cookie
        session = cookie.split(";")[0]
        code, _, body = http("GET", base + "/api/v1/state", headers={"Cookie": session})
        assert code == 200, body
        code, _, body = http("GET", base + "/api/v1/session", headers={"Cookie": session})
        assert json.loads(body)["csrf"] == me["csrf"], body

        # A change with the cookie alone (what a forged cross-site form
        # sends) is refused; with the CSRF token it reaches the core.
        url = base + "/api/v1/alerts/co2-high:env-1/ack"
        code, _, body = http("POST", url, {"note": "x"}, headers={"Cookie": session})
        assert code == 403 and "CSRF" in json.loads(body)["error"], body
        code, _, body = http("POST", url, {"note": "x"},
                             headers={"Cookie": session, "X-CSRF-Token": "0" * 64})
        assert code == 403, body
        pub = Publisher(st.mqtt)
        pub.publish("hall/h1/env-1/telemetry", json.dumps({"co2": 1450}))
        wait_for("the alert", lambda: json.loads(http("GET", base + "/api/v1/alerts", token=viewer)[2])["active"],
                 timeout=10)
        code, _, body = http("POST", url, {"note": "开窗"},
                             headers={"Cookie": session, "X-CSRF-Token": me["csrf"]})
        assert code == 200 and json.loads(body)["by"] == "wang", body

        # The history in pages of at most 1000 rows.
        for i in range(3):
            pub.publish("hall/h1/env-1/telemetry", json.dumps({"co2": 800}))
            wait_for("resolved", lambda: not json.loads(http("GET", base + "/api/v1/alerts", token=viewer)[2])["active"],
                     timeout=10)
            pub.publish("hall/h1/env-1/telemetry", json.dumps({"co2": 1450}))
            wait_for("firing", lambda: json.loads(http("GET", base + "/api/v1/alerts", token=viewer)[2])["active"],
                     timeout=10)
        code, _, body = http("GET", base + "/api/v1/alerts?history=1", token=viewer)
        everything = json.loads(body)["history"]
        assert len(everything) >= 8, everything
        assert http("GET", base + "/api/v1/alerts?history=1&limit=1001", token=viewer)[0] == 400
        pages, offset = [], 0
        while True:
            code, headers, body = http("GET", base + "/api/v1/alerts?history=1&limit=3&offset=%d" % offset,
                                       token=viewer)
            assert code == 200, body
            pages += json.loads(body)["history"]
            if not headers.get("X-Next-Offset"):
                break
            offset = int(headers["X-Next-Offset"])
        assert pages == everything, (pages, everything)
        pub.close()

        # Signing out ends the session: the same cookie reads nothing.
        code, headers, body = http("DELETE", base + "/api/v1/session",
                                   headers={"Cookie": session, "X-CSRF-Token": me["csrf"]})
        assert code == 200 and "Max-Age=0" in headers["Set-Cookie"], body
        assert http("GET", base + "/api/v1/state", headers={"Cookie": session})[0] == 401
        # Recorded: the sign-ins, the refused changes, the ack, the sign-out.
        code, _, body = http("GET", base + "/api/v1/audit", token=viewer)
        assert code == 403, body
        out = gw.cli("audit")
        assert out.returncode == 0, out.stderr
        lines = [l.split() for l in out.stdout.splitlines()[1:]]
        seen = [(l[2], l[4], l[6]) for l in lines]
        for want in (("wang", "sign-in", "no"), ("wang", "sign-in", "yes"), ("wang", "ack", "no"),
                     ("wang", "ack", "yes"), ("wang", "sign-out", "yes")):
            assert want in seen, (want, out.stdout)

def assert_json_error(code, headers, body, want, what):
    assert code == want, (what, code, body)
    assert headers["Content-Type"].startswith("application/json"), (what, headers["Content-Type"])
    try:
        doc = json.loads(body)
    except ValueError as e:
        raise AssertionError("%s: the %d answer is not JSON (%s): %r" % (what, code, e, body))
    assert isinstance(doc, dict) and isinstance(doc.get("error"), str) and doc["error"], (what, doc)
    return doc["error"]


def test_every_error_answer_is_json():
    with Stack("api-errors", influx=True) as st:
        gw, base = start(st)
        ack = base + "/api/v1/alerts/co2-high:env-1/ack"
        cases = [
            ("bad JSON ack", 400, http("POST", ack, raw=b"{not json", token=TOKEN)),
            ("ack of an alert that is not active", 404, http("POST", ack, {"note": "no by"}, token=TOKEN)),
            ("ack with by not a string", 400, http("POST", ack, {"by": 7}, token=TOKEN)),
            ("ack without a token", 401, http("POST", ack, {"by": "x"})),
            ("oversized body", 413, http("POST", ack, raw=b'{"by":"x","note":"' + b"a" * 4096 + b'"}',
                                         token=TOKEN)),
            ("unknown endpoint", 404, http("GET", base + "/api/v1/nothing")),
            ("missing file", 404, http("GET", base + "/missing.js")),
            ("wrong method on the API", 405, http("DELETE", base + "/api/v1/state")),
            ("GET of an ack", 405, http("GET", ack)),
            ("PUT of the page", 405, http("PUT", base + "/", raw=b"x")),
            ("POST of the state", 405, http("POST", base + "/api/v1/state", {"x": 1})),
            ("bad limit", 400, http("GET", base + "/api/v1/alerts?history=1&limit=0")),
            ("bad from", 400, http("GET", base + "/api/v1/alerts?history=1&from=abc")),
            ("bad date", 400, http("GET", base + "/api/v1/alerts?history=1&date=2026-13-01")),
            ("override without a reason", 400, http("POST", base + "/api/v1/overrides",
                                                   {"device": "env-1", "until": "21:00", "by": "x"},
                                                   token=TOKEN)),
            ("override with a bad until", 400, http("POST", base + "/api/v1/overrides",
                                                   {"device": "env-1", "until": "soon", "reason": "r",
                                                    "by": "x"}, token=TOKEN)),
            ("removal of an override that is not there", 404,
             http("DELETE", base + "/api/v1/overrides/env-1", token=TOKEN)),
            ("sign-in without a password", 400, http("POST", base + "/api/v1/session", {"name": "x"})),
            ("a foreign Host", 421, http("GET", base + "/api/v1/state", headers={"Host": "evil.example"})),
        ]
        for what, want, (code, headers, body) in cases:
            assert_json_error(code, headers, body, want, what)
        # The messages that show the expected body quote it as JSON would.
        msg = json.loads(cases[2][2][2])["error"]
        assert '{"note": text' in msg and "\\" not in msg, msg


def test_ack_and_override_with_control_characters_get_400():
    with Stack("api-ack-text") as st:
        gw, base = start(st)
        pub = Publisher(st.mqtt)
        pub.publish("hall/h1/env-1/telemetry", json.dumps({"co2": 1450}))

        def state():
            body = http("GET", base + "/api/v1/alerts")[2]
            return [a["state"] for a in json.loads(body)["active"] if a["id"] == "co2-high:env-1"]
        wait_for("the alert over HTTP", state, timeout=10)
        url = base + "/api/v1/alerts/co2-high:env-1/ack"
        bad = ["交接\n[notice] forged line", "a\rb", "a\tb", "a\u0000b", "abc\u202egnp.exe",
               "\u2066x\u2069", "a\u0085b", "esc\u001b[2J"]
        for text in bad:
            for ack in ({"by": text, "note": "ok"}, {"by": "张三", "note": text}):
                for ascii_only in (True, False):
                    raw = json.dumps(ack, ensure_ascii=ascii_only).encode()
                    code, headers, body = http("POST", url, raw=raw, token=TOKEN)
                    err = assert_json_error(code, headers, body, 400, repr(ack))
                    assert "plain text" in err, err
        # Bytes that are not UTF-8 at all.
        code, headers, body = http("POST", url, raw=b'{"by":"\xff\xfe","note":"x"}', token=TOKEN)
        assert_json_error(code, headers, body, 400, "invalid UTF-8")
        assert state() == ["firing"], "a refused ack changed the alert"
        assert "forged" not in gw.log_text()
        # An override's reason too (refused before the device is looked up).
        for text in ("加班\n完成", "x\u202ey"):
            code, headers, body = http("POST", base + "/api/v1/overrides",
                                       {"device": "env-1", "until": "21:00", "reason": text, "by": "王工"},
                                       token=TOKEN)
            err = assert_json_error(code, headers, body, 400, repr(text))
            assert "plain text" in err, err
        # Plain text, Chinese and all, still acknowledges.
        code, _, body = http("POST", url, {"by": "张三", "note": "开窗通风 (CO2 1450 ppm), \"已处理\""},
                             token=TOKEN)
        assert code == 200 and json.loads(body)["state"] == "acknowledged", body
        pub.close()


def raw_get(port, path="/healthz", source="127.0.0.1", timeout=5):
    """A keep-alive GET on a socket of its own from the source address:
    (socket, status) with the socket left open, or (None, None) when the
    server closed the connection without an answer."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout, source_address=(source, 0))
    try:
        s.sendall(b"GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n" % path.encode())
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    except (ConnectionResetError, BrokenPipeError):
        data = b""
    if not data:
        s.close()
        return None, None
    head, _, rest = data.partition(b"\r\n\r\n")
    length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))
    while len(rest) < length:
        rest += s.recv(4096)
    return s, int(head.split()[1])


def test_connections_per_address_are_capped():
    with Stack("api-conns", influx=True) as st:
        gw, base = start(st, http_extra="max_connections_per_address = 3; ")
        port = int(base.rsplit(":", 1)[1])
        held = []
        for _ in range(3):
            s, status = raw_get(port)
            assert status in (200, 503), status
            held.append(s)
        # Three idle keep-alive connections from 127.0.0.1: a fourth is
        # closed without an answer...
        s, status = raw_get(port)
        assert s is None, "a fourth connection from one address was answered %s" % status
        # ... while another address is served,
        s, status = raw_get(port, source="127.0.0.2")
        assert s is not None, "another address was refused"
        s.close()
        # and once one of the three is closed, the address is served again.
        held.pop().close()

        def served():
            s, _ = raw_get(port)
            if s:
                held.append(s)
            return s is not None
        wait_for("a connection once one is closed", served, timeout=10)
        for s in held:
            s.close()


def test_each_role_may_do_exactly_what_its_description_says():
    """Every changing endpoint (and the reads), tried by no account, a
    viewer, an operator, IT and an admin: the answer each gets."""
    devices = DEVICES + [{"id": "pc-w01", "hall": "h1", "kind": "pc"}]
    halls = [{"id": "h1", "name": "大厅", "windows": [{"id": "w01", "seat": "seat-w01", "pc": "pc-w01"}]}]
    with Stack("api-roles") as st:
        port = free_port()
        base = "http://127.0.0.1:%d/api/v1" % port
        gw = st.hallgw(devices=devices, halls=halls, extra=RULES +
                       'http = { listen = "127.0.0.1:%d"; open_reads = false; };\n' % port)
        gw.start()
        tokens = {None: None}
        for role in ("viewer", "operator", "it", "admin"):
            tokens[role] = gw.add_account("the-" + role, role)
        pub = Publisher(st.mqtt)
        pub.publish("hall/h1/env-1/telemetry", json.dumps({"co2": 1450}))
        pub.publish("hall/h1/pc-w01/event", json.dumps({"type": "threat_detected", "signature": "X"}))
        wait_for("both alerts", lambda: len(json.loads(http("GET", base + "/alerts",
                                                             token=tokens["viewer"])[2])["active"]) == 2,
                 timeout=15)
        pub.close()

        def silence_id():
            code, _, body = http("POST", base + "/silences", {"device": "env-1", "for": "1h", "comment": "x"},
                                 token=tokens["admin"])
            assert code == 201, body
            return json.loads(body)["id"]

        roles = (None, "viewer", "operator", "it", "admin")
        # (what, method, path or a function making it, body, answers by role)
        cases = [
            ("read the state", "GET", "/state", None, (401, 200, 200, 200, 200)),
            ("read the silences", "GET", "/silences", None, (401, 200, 200, 200, 200)),
            ("ack the hall's CO2 alert", "POST", "/alerts/co2-high:env-1/ack", {"note": "n"},
             (401, 403, 200, 403, 200)),
            ("ack the PC's alert", "POST", "/alerts/threat:pc-w01/ack", {"note": "n"},
             (401, 403, 403, 200, 200)),
            ("approve (not a baseline)", "POST", "/alerts/threat:pc-w01/approve", {"note": "n"},
             (401, 403, 403, 409, 409)),
            ("keep the PC on tonight", "POST", "/overrides",
             {"device": "pc-w01", "until": "23:59", "reason": "r"}, (401, 403, 201, 201, 201)),
            ("remove the override", "DELETE", "/overrides/pc-w01", None, (401, 403, 200, 404, 404)),
            ("silence", "POST", "/silences", {"rule": "co2-high", "for": "1h", "comment": "c"},
             (401, 403, 201, 201, 201)),
            ("extend a silence", "POST", lambda: "/silences/" + silence_id(), {"for": "2h"},
             (401, 403, 200, 200, 200)),
            ("expire a silence", "DELETE", lambda: "/silences/" + silence_id(), None,
             (401, 403, 200, 200, 200)),
            ("read the audit log", "GET", "/audit", None, (401, 403, 403, 403, 200)),
        ]
        wrong = []
        for what, method, path, body, want in cases:
            for role, code in zip(roles, want):
                p = path() if callable(path) else path
                got = http(method, base + p, body, token=tokens[role])[0]
                if got != code:
                    wrong.append("%s as %s: %d, want %d" % (what, role, got, code))
        assert not wrong, "\n".join(wrong)


if __name__ == "__main__":
    harness.run([test_state_alerts_and_acks_over_http,
                 test_metrics_parse_and_move_and_health_and_files,
                 test_the_page_is_built_in_with_etags,
                 test_sign_in_sessions_csrf_hosts_and_closed_reads,
                 test_every_error_answer_is_json,
                 test_ack_and_override_with_control_characters_get_400,
                 test_connections_per_address_are_capped,
                 test_each_role_may_do_exactly_what_its_description_says])
