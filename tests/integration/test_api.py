"""The HTTP API over real HTTP: state, alerts, acknowledgements with and
without the token, bad and oversized bodies, /metrics in the Prometheus text
format with counters that move, /healthz, and the page's files."""

import json
import os
import re
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


def start(st, web_dir=True):
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
                   'max_body_bytes = 2048; };\n' % (port, token_file, web))
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

        url = base + "/api/v1/alerts/co2-high:env-1/ack"
        ack = {"by": "张三", "note": "开窗通风"}
        assert http("POST", url, ack)[0] == 401, "an ack without a token must be refused"
        assert http("POST", url, ack, token="wrong")[0] == 401
        assert http("POST", url, raw=b"{not json", token=TOKEN)[0] == 400
        assert http("POST", url, {"note": "no by"}, token=TOKEN)[0] == 400
        assert http("POST", url, raw=b'{"by":"x","note":"' + b"a" * 4096 + b'"}', token=TOKEN)[0] == 413
        assert http("POST", base + "/api/v1/alerts/nope:env-1/ack", ack, token=TOKEN)[0] == 404
        code, _, body = http("POST", url, ack, token=TOKEN)
        assert code == 200, body
        assert json.loads(body) == {"id": "co2-high:env-1", "state": "acknowledged"}
        a = wait_for("acknowledged in /api/v1/alerts", lambda: [x for x in active() if x["state"] == "acknowledged"])[0]
        assert a["acked_by"] == "张三" and a["note"] == "开窗通风"
        # A resolve of an alert that clears by itself: conflict.
        assert http("POST", url, dict(ack, resolve=True), token=TOKEN)[0] == 409
        # Events need the resolve.
        pub.publish("hall/h1/env-1/event", json.dumps({"type": "threat_detected", "signature": "X"}))
        wait_for("the event alert", lambda: [x for x in json.loads(http("GET", base + "/api/v1/alerts")[2])["active"]
                                             if x["id"] == "threat:env-1"])
        code, _, body = http("POST", base + "/api/v1/alerts/threat:env-1/ack",
                             {"by": "李四", "note": "已处理", "resolve": True}, token=TOKEN)
        assert code == 200 and json.loads(body)["state"] == "resolved", body
        # The history holds who and the note.
        code, _, body = http("GET", base + "/api/v1/alerts?history=1&hall=h1")
        hist = json.loads(body)["history"]
        assert any(h["alert_id"] == "threat:env-1" and h["transition"] == "resolved" and h["by"] == "李四"
                   and h["note"] == "已处理" for h in hist), hist
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
                            ("i18n.js", "text/javascript"), ("style.css", "text/css")):
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


if __name__ == "__main__":
    harness.run([test_state_alerts_and_acks_over_http,
                 test_metrics_parse_and_move_and_health_and_files,
                 test_the_page_is_built_in_with_etags])
