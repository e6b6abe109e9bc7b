"""A new network baseline approved by IT (docs/rules.md `baseline`,
docs/alerts.md): a PC's first network fingerprint is learnt as its baseline;
a changed one raises netcfg-changed. Approving the new fingerprint is an
action of its own (POST /api/v1/alerts/<id>/approve) for an account with
the role it: an operator is refused, and a resolve (over HTTP or MQTT)
approves nothing. Once approved: no alert while the PC reports it, also
after a gateway restart, and a later change fires again. The patrol record
and the audit log keep who approved it and the note."""

import json
import os
import urllib.error
import urllib.request

import harness
from harness import Publisher, Stack, Subscriber, free_port, wait_for

TOKEN = "baseline-test-token"
DEVICES = [{"id": "pc-w01", "hall": "h1", "kind": "pc"}]
HALLS = [{"id": "h1", "name": "大厅", "windows": [{"id": "w01", "pc": "pc-w01"}]}]
RULES = """rules = (
  { name = "netcfg-changed"; type = "baseline"; kind = "pc"; metric = "net_fp"; severity = "major"; }
);
"""
ALERT = "netcfg-changed:pc-w01"
FP_A, FP_B, FP_C = "fp-a-" + "a" * 59, "fp-b-" + "b" * 59, "fp-c-" + "c" * 59


def http(method, url, body=None, token=None):
    data = json.dumps(body, ensure_ascii=False).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def states(sub):
    return [m["state"] for m in sub.json_on("hall/h1/alerts") if m["id"] == ALERT]


class Pc:
    """The PC's agent, as far as the rule sees it: telemetry with net_fp.
    Each report carries a distinct uptime_s, so its point can be found."""

    def __init__(self, st, pub):
        self.st, self.pub, self.n = st, pub, 0

    def report(self, fp):
        """Reports fp and waits for its point: the reading has been judged
        (as it arrives, before its point is written)."""
        self.n += 1
        self.pub.publish("hall/h1/pc-w01/telemetry", json.dumps({"power": "on", "net_fp": fp,
                                                                  "uptime_s": self.n}))
        wait_for("report %d (%s...) written" % (self.n, fp[:6]), lambda: self.st.influx.rows(
            "SELECT * FROM pc WHERE device = 'pc-w01' AND uptime_s = %d" % self.n))


def test_it_approves_a_new_network_baseline_and_nobody_else_does():
    with Stack("baseline") as st:
        token_file = os.path.join(st.dir, "http.token")
        harness.write_secret(token_file, TOKEN + "\n")
        port = free_port()
        api = "http://127.0.0.1:%d/api/v1" % port
        gw = st.hallgw(devices=DEVICES, halls=HALLS, extra=RULES + 'http = { listen = "127.0.0.1:%d"; '
                       'token_file = %s; };\n' % (port, harness.conf_str(token_file)))
        gw.start()
        sub = Subscriber(st.mqtt, "hall/h1/alerts")
        pub = Publisher(st.mqtt)
        pc = Pc(st, pub)

        # The first fingerprint is learnt as the baseline: nothing fires.
        pc.report(FP_A)
        pc.report(FP_A)
        assert states(sub) == [], sub.json_on("hall/h1/alerts")
        assert "baseline net_fp of pc-w01 learnt" in gw.log_text(), gw.log_text()[-2000:]

        # The network settings change: the alert fires.
        pc.report(FP_B)
        fired = wait_for("netcfg-changed firing", lambda: [m for m in sub.json_on("hall/h1/alerts")
                                                          if m["id"] == ALERT], timeout=10)[0]
        assert fired["state"] == "firing" and fired["severity"] == "major", fired
        assert FP_A in fired["summary"] and FP_B in fired["summary"], fired
        code, body = http("GET", api + "/alerts")
        assert code == 200 and [a["id"] for a in body["active"]] == [ALERT], body

        # A resolve is not an approval: refused over HTTP, ignored over MQTT.
        it = gw.add_account("wang", "it")
        operator = gw.add_account("zhang", "operator")
        resolve = {"by": "王工", "note": "更换交换机，已核实", "resolve": True}
        assert http("POST", api + "/alerts/%s/ack" % ALERT, resolve, token=it)[0] == 409
        pub.publish("hall/h1/alerts/%s/ack" % ALERT,
                    json.dumps({"by": "李工", "note": "新网段", "resolve": True}, ensure_ascii=False))
        # Approval is for IT: without an account, or as an operator, refused.
        note = {"note": "更换交换机，已核实"}
        assert http("POST", api + "/alerts/%s/approve" % ALERT, note)[0] == 401
        assert http("POST", api + "/alerts/%s/approve" % ALERT, note, token=operator)[0] == 403
        pc.report(FP_B)
        assert states(sub) == ["firing"], states(sub)
        code, body = http("GET", api + "/alerts")
        assert [a["id"] for a in body["active"]] == [ALERT], body
        # IT approves it.
        code, body = http("POST", api + "/alerts/%s/approve" % ALERT, note, token=it)
        assert code == 200 and body == {"id": ALERT, "state": "resolved", "by": "wang"}, (code, body)
        wait_for("resolved on the alerts topic", lambda: states(sub) == ["firing", "resolved"], timeout=10)
        resolved = [m for m in sub.json_on("hall/h1/alerts") if m["id"] == ALERT][-1]
        assert resolved["resolved_by"] == "wang" and resolved["note"] == "更换交换机，已核实", resolved
        assert "approved by wang: %s" % FP_B in gw.log_text(), gw.log_text()[-2000:]

        # B is the baseline now: reported again, nothing fires...
        pc.report(FP_B)
        pc.report(FP_B)
        assert states(sub) == ["firing", "resolved"], states(sub)
        code, body = http("GET", api + "/alerts")
        assert code == 200 and body["active"] == [], body
        # ...also after a restart.
        assert gw.stop() == 0
        gw.start()
        pc.report(FP_B)
        assert states(sub) == ["firing", "resolved"], states(sub)

        # The patrol record: who approved it, and the note.
        code, body = http("GET", api + "/alerts?history=1")
        assert code == 200, (code, body)
        hist = [h for h in body["history"] if h["alert_id"] == ALERT]
        assert [h["transition"] for h in hist if h["transition"] in ("firing", "resolved")] == \
            ["firing", "resolved"], hist
        (res,) = [h for h in hist if h["transition"] == "resolved"]
        assert res["by"] == "wang" and res["note"] == "更换交换机，已核实", res
        code, body = http("GET", api + "/audit", token=TOKEN)
        assert code == 200, (code, body)
        audit = [(e["account"], e["action"], e["ok"]) for e in body if e["target"] == ALERT]
        # The ack over MQTT named no account: refused, on the record under
        # the name it claimed.
        assert audit == [("wang", "resolve", False), ("李工", "resolve", False),
                         ("zhang", "approve", False), ("wang", "approve", True)], audit
        assert [e["addr"] for e in body if e["target"] == ALERT] == \
            ["127.0.0.1", "mqtt", "127.0.0.1", "127.0.0.1"], body

        # A later change fires again, against the approved B...
        pc.report(FP_C)
        wait_for("netcfg-changed firing again",
                 lambda: states(sub) == ["firing", "resolved", "firing"], timeout=10)
        again = [m for m in sub.json_on("hall/h1/alerts") if m["id"] == ALERT][-1]
        assert FP_B in again["summary"] and FP_C in again["summary"], again
        # ...and is approved by IT again.
        code, body = http("POST", api + "/alerts/%s/approve" % ALERT, {"note": "新网段"}, token=it)
        assert code == 200, (code, body)
        wait_for("approved", lambda: states(sub) == ["firing", "resolved", "firing", "resolved"],
                 timeout=10)
        pc.report(FP_C)
        assert states(sub) == ["firing", "resolved", "firing", "resolved"], states(sub)
        # Going back to B is a change too: B is no longer the approved one.
        pc.report(FP_B)
        wait_for("netcfg-changed firing for B", lambda: states(sub)[-1:] == ["firing"], timeout=10)
        sub.close()
        pub.close()


if __name__ == "__main__":
    harness.run([test_it_approves_a_new_network_baseline_and_nobody_else_does])
