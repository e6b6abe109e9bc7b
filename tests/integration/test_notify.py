"""Where an alert's news goes besides MQTT (docs/alerts.md): a webhook route
that gets the alert and retries while its listener is down, and the alert
policy: an unacknowledged alert escalated once to another route and
renotified after `renotify`, an acknowledged one neither. The hall, devices
and rules are test_alerts.py's."""

import json
import os
import time

import harness
from harness import Publisher, Stack, Subscriber, noon_zone, schedule_around_now, wait_for
from test_alerts import DEVICES, HALLS, RULES, start, transitions


def test_webhook_route_gets_the_alert_and_retries_while_the_listener_is_down():
    from influx_stub import InfluxStub  # a recording HTTP listener
    hook = InfluxStub()
    state = {"down": True}
    hook.answer = lambda req: (503, b"down") if state["down"] else (200, b"ok")
    try:
        with Stack("alert-webhook") as st:
            notify = ('notify = ( { name = "it"; type = "webhook"; url = "%s/hook"; '
                      'severity = ["warning", "critical"]; retries = 10; timeout = "2s"; } );\n' % hook.url)
            gw, _ = start(st, extra=notify)
            pub = Publisher(st.mqtt)
            pub.publish("hall/h1/env-1/telemetry", json.dumps({"co2": 1500}))
            wait_for("a first (failing) attempt", lambda: hook.requests, timeout=15)
            # The gateway keeps working while the route fails.
            pub.publish("hall/h1/env-1/telemetry", json.dumps({"co2": 1501, "temperature": 22.5}))
            wait_for("telemetry still written",
                     lambda: st.influx.rows("SELECT * FROM env WHERE temperature = 22.5"), timeout=10)
            state["down"] = False
            ok = wait_for("the webhook delivered", lambda: [r for r in hook.requests if r.path == "/hook"
                          and hook.accepted] and hook.accepted, timeout=30)
            body = json.loads(b"\n".join(l.encode() for l in ok))
            assert body["id"] == "co2-high:env-1" and body["state"] == "firing", body
            wait_for("retries counted", lambda: (gw.counter("notify_retries") or 0) >= 1, timeout=10)
            pub.close()
    finally:
        hook.stop()


def test_an_unacknowledged_alert_is_escalated_once_and_renotified_an_acknowledged_one_is_not():
    from influx_stub import InfluxStub  # a recording HTTP listener
    hook = InfluxStub()
    hook.answer = lambda req: (200, b"ok")

    def bodies(path, alert_id):
        with hook.lock:
            reqs = [r for r in hook.requests if r.path == path]
        out = [json.loads(r.body) for r in reqs]
        return [b for b in out if b["id"] == alert_id]

    try:
        with Stack("alert-policy") as st:
            zone, offset = noon_zone()
            # "it" takes every warning; "duty" only critical ones, so it hears
            # of a warning only when one is escalated to it.
            policy = ('notify = ( { name = "it"; type = "webhook"; url = "%s/it"; '
                      'severity = ["warning", "critical"]; },\n'
                      '           { name = "duty"; type = "webhook"; url = "%s/duty"; '
                      'severity = ["critical"]; } );\n'
                      'alerts = { renotify = "1m"; escalate_after = "4s"; escalate_to = "duty"; };\n'
                      % (hook.url, hook.url))
            gw = st.hallgw(devices=DEVICES + [{"id": "env-2", "hall": "h1", "kind": "env"}],
                           halls=HALLS, extra=schedule_around_now(offset) + RULES + policy)
            gw.timezone = zone
            gw.write_config()
            gw.start()
            sub = Subscriber(st.mqtt, "hall/h1/alerts")
            pub = Publisher(st.mqtt)

            def high():
                for d in ("env-1", "env-2"):
                    pub.publish("hall/h1/%s/telemetry" % d, json.dumps({"co2": 1500}))

            high()
            for d in ("env-1", "env-2"):
                wait_for("co2-high:%s firing" % d, lambda: transitions(sub, "co2-high:" + d), timeout=15)
            t_fired = time.time()
            # One of the two is acknowledged at once: nothing more is sent for it.
            gw.add_account("wang", "operator")
            pub.publish("hall/h1/alerts/co2-high:env-2/ack/wang", json.dumps({"note": "已处理"}))
            wait_for("env-2 acknowledged", lambda: [s for s, _ in transitions(sub, "co2-high:env-2")]
                     [-1] == "acknowledged", timeout=10)
            esc = wait_for("the escalation to duty", lambda: bodies("/duty", "co2-high:env-1"), timeout=20)
            assert esc[0]["state"] == "firing" and esc[0]["severity"] == "warning", esc
            assert time.time() - t_fired >= 3, "escalated before escalate_after"
            # Readings keep coming (the alert stays firing); after renotify (1m,
            # its least), a second firing notification to "it" for env-1 only.
            def renotified():
                high()
                return len(bodies("/it", "co2-high:env-1")) >= 2
            wait_for("the renotification", renotified, timeout=90, interval=2)
            again = bodies("/it", "co2-high:env-1")
            assert [b["transition"] for b in again] == ["firing", "firing"], again
            assert time.time() - t_fired >= 55, "renotified before renotify"
            assert len(bodies("/duty", "co2-high:env-1")) == 1, "escalated more than once"
            assert bodies("/duty", "co2-high:env-2") == [], "an acknowledged alert was escalated"
            assert [b["transition"] for b in bodies("/it", "co2-high:env-2")] == \
                ["firing", "acknowledged"], bodies("/it", "co2-high:env-2")
            sub.close()
            pub.close()
    finally:
        hook.stop()


def http(method, url, body=None, token=None):
    import urllib.error
    import urllib.request
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def test_a_silence_holds_back_notifications_during_its_window_and_not_after():
    from influx_stub import InfluxStub  # a recording HTTP listener
    hook = InfluxStub()

    def answer(req):
        req.at = time.time()
        return 200, b"ok"
    hook.answer = answer

    def delivered():
        with hook.lock:
            return [(r, json.loads(r.body)) for r in hook.requests if r.path == "/hook"]

    try:
        with Stack("alert-silence") as st:
            notify = ('notify = ( { name = "it"; type = "webhook"; url = "%s/hook"; '
                      'severity = ["warning", "critical"]; } );\n' % hook.url)
            gw, _ = start(st, extra=notify, http=True)
            api = "http://127.0.0.1:%d/api/v1" % gw.http_port
            operator = gw.add_account("wang", "operator")
            viewer = gw.add_account("zhao", "viewer")
            sub = Subscriber(st.mqtt, "hall/h1/alerts")
            pub = Publisher(st.mqtt)

            # The sensor is being repaired for the next few seconds.
            want = {"device": "env-1", "for": "8s", "comment": "传感器维修中 sensor under repair",
                    "maintenance": True}
            assert http("POST", api + "/silences", want, token=viewer)[0] == 403
            assert http("POST", api + "/silences", dict(want, device="env 1"), token=operator)[0] == 400
            assert http("POST", api + "/silences", {"for": "8s", "comment": "x"}, token=operator)[0] == 400
            assert http("POST", api + "/silences", dict(want, comment=""), token=operator)[0] == 400
            assert http("POST", api + "/silences", dict(want, **{"for": "30d"}), token=operator)[0] == 400
            code, silence = http("POST", api + "/silences", want, token=operator)
            assert code == 201 and silence["created_by"] == "wang" and silence["maintenance"], silence
            ends = silence["ends"]
            code, listed = http("GET", api + "/silences")
            assert [x["id"] for x in listed["silences"]] == [silence["id"]], listed

            # The alert fires, is published and stored as silenced, and no
            # notification goes out while the silence lasts.
            pub.publish("hall/h1/env-1/telemetry", json.dumps({"co2": 1500}))
            fired = wait_for("co2-high firing", lambda: [m for m in sub.json_on("hall/h1/alerts")
                                                          if m["id"] == "co2-high:env-1"], timeout=15)[0]
            assert fired["state"] == "firing" and fired["silenced_by"] == silence["id"], fired
            active = wait_for("the alert in /api/v1/alerts", lambda: http("GET", api + "/alerts")[1]["active"],
                              timeout=10)
            assert active[0]["silenced_by"] == silence["id"], active
            # ...and when it ends, the firing alert is notified at once.
            got = wait_for("the webhook after the silence", delivered, timeout=30)
            assert time.time() >= ends - 0.5
            (req, body), = got
            assert body["id"] == "co2-high:env-1" and body["state"] == "firing", body
            with hook.lock:
                early = [r for r in hook.requests if r.path == "/hook" and r.at < ends]
            assert not early, "notified during the silence"

            # Extended and expired through the API, by the operator; all on
            # the audit log.
            code, other = http("POST", api + "/silences",
                               {"rule": "unstaffed", "for": "1h", "comment": "午休调整"}, token=operator)
            assert code == 201, other
            code, longer = http("POST", api + "/silences/" + other["id"], {"for": "2h"}, token=operator)
            assert code == 200 and longer["ends"] > other["ends"] + 3000, longer
            assert http("DELETE", api + "/silences/" + other["id"], token=viewer)[0] == 403
            code, gone = http("DELETE", api + "/silences/" + other["id"], token=operator)
            assert code == 200 and gone["ended_by"] == "wang", gone
            assert http("DELETE", api + "/silences/" + other["id"], token=operator)[0] == 404
            assert http("GET", api + "/silences")[1]["silences"] == []
            audit = gw.cli("audit").stdout
            for action in ("silence-add", "silence-extend", "silence-expire"):
                assert any(l.split()[2:5:2] == ["wang", action] for l in audit.splitlines()), (action, audit)
            sub.close()
            pub.close()
    finally:
        hook.stop()


def test_signed_robots_and_notify_test_as_dingtalk_and_feishu_document_it():
    """DingTalk's and Feishu's signed robots, checked by a listener that
    computes each signature with its robot's documented algorithm (Python's
    hmac here, not hallgw's code): hallgw notify test sends and shows the
    answer, a wrong secret is refused with Feishu's code, and an alert goes
    out signed."""
    import base64
    import hashlib
    import hmac
    from influx_stub import InfluxStub  # a recording HTTP listener
    secret = "SEC0123456789abcdef-robot-secret"

    def dingtalk_ok(req):
        ts, sign = req.query.get("timestamp", ""), req.query.get("sign", "")
        want = base64.b64encode(hmac.new(secret.encode(), ("%s\n%s" % (ts, secret)).encode(),
                                         hashlib.sha256).digest()).decode()
        return ts.isdigit() and abs(int(ts) / 1000 - time.time()) < 3600 and sign == want

    def feishu_ok(req):
        body = json.loads(req.body)
        ts, sign = body.get("timestamp", ""), body.get("sign", "")
        want = base64.b64encode(hmac.new(("%s\n%s" % (ts, secret)).encode(), b"",
                                         hashlib.sha256).digest()).decode()
        return ts.isdigit() and abs(int(ts) - time.time()) < 3600 and sign == want

    def answer(req):
        if req.path == "/ding":
            ok = dingtalk_ok(req)
            req.valid = ok
            return 200, json.dumps({"errcode": 0 if ok else 310000,
                                    "errmsg": "ok" if ok else "sign not match"}).encode()
        ok = feishu_ok(req)
        req.valid = ok
        return 200, json.dumps({"code": 0 if ok else 19021,
                                "msg": "success" if ok else "sign match fail"}).encode()
    hook = InfluxStub()
    hook.answer = answer
    try:
        with Stack("alert-robots") as st:
            right = os.path.join(st.dir, "robot.secret")
            wrong = os.path.join(st.dir, "wrong.secret")
            harness.write_secret(right, secret + "\n")
            harness.write_secret(wrong, "SECnot-the-secret\n")
            notify = ('notify = (\n'
                      ' { name = "ding"; type = "webhook"; url = "%s/ding?access_token=t0k"; '
                      'sign = "dingtalk"; secret_file = "%s"; severity = ["warning"]; },\n'
                      ' { name = "feishu"; type = "webhook"; url = "%s/feishu"; sign = "feishu"; '
                      'secret_file = "%s"; severity = ["critical"]; },\n'
                      ' { name = "feishu-wrong"; type = "webhook"; url = "%s/feishu"; sign = "feishu"; '
                      'secret_file = "%s"; severity = ["critical"]; retries = 0; }\n);\n'
                      % (hook.url, right, hook.url, right, hook.url, wrong))
            gw, _ = start(st, extra=notify)
            for route in ("ding", "feishu"):
                r = gw.cli("notify", "test", route)
                assert r.returncode == 0 and "sent" in r.stdout, (route, r.returncode, r.stdout, r.stderr)
            assert "errcode" in gw.cli("notify", "test", "ding").stdout
            r = gw.cli("notify", "test", "feishu-wrong")
            assert r.returncode == 1 and "code 19021" in r.stderr and "sign match fail" in r.stderr, \
                (r.returncode, r.stderr)
            r = gw.cli("notify", "test", "nope")
            assert r.returncode == 2 and "no route" in r.stderr, r.stderr
            with hook.lock:
                tests = [(q.path, q.valid) for q in hook.requests]
            assert tests == [("/ding", True), ("/feishu", True), ("/ding", True), ("/feishu", False)], tests
            assert all(q.query.get("access_token") == "t0k" for q in hook.requests if q.path == "/ding")
            # An alert goes out signed on the route that matches it.
            pub = Publisher(st.mqtt)
            pub.publish("hall/h1/env-1/telemetry", json.dumps({"co2": 1500}))
            wait_for("the alert at the DingTalk robot",
                     lambda: len([q for q in hook.requests if q.path == "/ding"]) >= 3, timeout=20)
            with hook.lock:
                (alert,) = [q for q in hook.requests if q.path == "/ding"][2:]
            assert alert.valid and json.loads(alert.body)["id"] == "co2-high:env-1", alert.body
            pub.close()
    finally:
        hook.stop()


if __name__ == "__main__":
    harness.run([test_webhook_route_gets_the_alert_and_retries_while_the_listener_is_down,
                 test_an_unacknowledged_alert_is_escalated_once_and_renotified_an_acknowledged_one_is_not,
                 test_a_silence_holds_back_notifications_during_its_window_and_not_after,
                 test_signed_robots_and_notify_test_as_dingtalk_and_feishu_document_it])
