"""Power-off enforcement end to end, with a real broker, InfluxDB, the gateway
and the real PC agent (hallgw-agent --dry-run): the nightly run at
schedule.poweroff_at a few seconds ahead, the signed command, the replies,
the PC going offline, the Tasmota plug switched off and verified; a PC that
never goes off keeps its plug and raises an alert for IT; an override keeps a
PC on until it expires and the closed-hall rule takes it; overrides through
the HTTP API and the CLI. What is asserted is what a user sees: the command
on the broker, the plug command, the alert, the rows of the power-off log,
the points in InfluxDB, the state snapshot."""

import json
import os
import sqlite3
import subprocess
import threading
import time
import urllib.error
import urllib.request

import harness
from harness import (BUILD_DIR, Publisher, Stack, Subscriber, free_port, local_hms, noon_zone,
                     wait_for)

KEY_HEX = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
TOKEN = "t0ken-for-enforcement"
AGENT = os.path.join(BUILD_DIR, "hallgw-agent")
LEAD_S = 6  # poweroff_at this far ahead of the gateway's start (whole seconds)
# The plugs' Tasmota topics: global on a shared broker, so names of this test's own.
PLUG = "enforce_plug_w%02d"


def http(method, url, body=None, token=None):
    data = json.dumps(body).encode() if body is not None else None
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


class Gateway:
    """hallgw with a schedule closed just before now and poweroff_at LEAD_S
    ahead, every day a working day; a command key; the HTTP API."""

    def __init__(self, st, devices, halls, poweroff, extra="", lead_s=LEAD_S, schedule=None):
        self.st = st
        self.key = os.path.join(st.dir, "command.key")
        harness.write_secret(self.key, KEY_HEX + "\n")
        token_file = os.path.join(st.dir, "http.token")
        harness.write_secret(token_file, TOKEN + "\n")
        self.port = free_port()
        zone, self.offset = noon_zone()
        self.poweroff_at = time.time() + lead_s
        schedule = schedule or ('schedule = { weekdays = ["mon","tue","wed","thu","fri","sat","sun"]; '
                    'open = "%s"; close = "%s"; poweroff_at = "%s"; };\n'
                    % (local_hms(self.offset, -7200), local_hms(self.offset, -60),
                       local_hms(self.offset, lead_s)))
        http_block = ('http = { listen = "127.0.0.1:%d"; token_file = %s; };\n'
                      % (self.port, harness.conf_str(token_file)))
        self.gw = st.hallgw(devices=devices, halls=halls,
                            extra=schedule + http_block + extra +
                            ("poweroff = { %s };\n" % poweroff if poweroff is not None else ""),
                            mqtt_extra="command_key_file = %s;" % harness.conf_str(self.key))
        self.gw.timezone = zone
        self.gw.write_config()
        self.gw.start()

    @property
    def api(self):
        return "http://127.0.0.1:%d/api/v1" % self.port

    def steps(self, device=None):
        """The power-off log, as the report would read it."""
        db = sqlite3.connect(os.path.join(self.gw.state_dir, "hallgw.db"), timeout=10)
        try:
            q = "SELECT date, device, kind, step, ok, detail FROM poweroff_log"
            rows = db.execute(q + (" WHERE device = ?" if device else "") + " ORDER BY seq",
                              (device,) if device else ()).fetchall()
        finally:
            db.close()
        return [{"date": r[0], "device": r[1], "kind": r[2], "step": r[3], "ok": bool(r[4]),
                 "detail": r[5]} for r in rows]

    def step_names(self, device):
        return [s["step"] for s in self.steps(device)]

    def state(self):
        code, body = http("GET", self.api + "/state")
        assert code == 200, (code, body)
        return body

    def cli(self, *args):
        return self.gw.cli(*args)


class Agent:
    """The real hallgw-agent, in a dry run: it verifies the command, answers,
    publishes "offline" and exits as if the PC had gone down."""

    def __init__(self, st, mqtt, device, key):
        self.dir = os.path.join(st.dir, "agent-" + device)
        os.makedirs(os.path.join(self.dir, "clamav"), exist_ok=True)
        self.conf = os.path.join(self.dir, "agent.conf")
        with open(self.conf, "w") as f:
            f.write('mqtt = { uri = "%s"; prefix = "%s"; client_id = "%s"; };\n'
                    'hall = "h1"; device = "%s"; command_key_file = %s; interval = "1s";\n'
                    'state_dir = %s;\n'
                    'clamav = { db_dir = %s; scan_log = %s; };\n'
                    'poweroff = { argv = ["false"]; grace = "1m"; };\n'
                    'notify = { argv = ["false"]; };\n'
                    'scan = { quick_argv = ["false"]; full_argv = ["false"]; };\n'
                    % (mqtt.uri, mqtt.prefix, harness.unique_client_id("agent-" + device), device,
                       harness.conf_str(key),
                       harness.conf_str(os.path.join(self.dir, "state")),
                       harness.conf_str(os.path.join(self.dir, "clamav")),
                       harness.conf_str(os.path.join(self.dir, "scan.log"))))
        self.log_path = os.path.join(self.dir, "agent.log")
        self.logf = open(self.log_path, "ab")
        self.proc = subprocess.Popen([AGENT, "--dry-run", "-c", self.conf],
                                     stdout=self.logf, stderr=self.logf)

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.logf.close()


class FakePC:
    """A PC whose agent says accepted and done, then keeps running: telemetry
    every half second, never offline (a shutdown that hangs, a "done" that
    lies)."""

    def __init__(self, mqtt, device, telemetry=None):
        import paho.mqtt.client as paho
        self.device = device
        self.telemetry = telemetry or {"power": "on", "cpu_pct": 3.0}
        self.commands = []
        self.stop_flag = threading.Event()
        self.mqtt = mqtt
        self.client = paho.Client(client_id=harness.unique_client_id("fake-" + device))
        self.client.will_set(mqtt.topic("hall/h1/%s/status" % device), "offline", qos=1, retain=True)
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", mqtt.port, keepalive=30)
        self.client.loop_start()
        self.client.subscribe(mqtt.topic("hall/h1/%s/cmd" % device), qos=1)
        self.client.publish(mqtt.topic("hall/h1/%s/status" % device), "online", qos=1, retain=True)
        self.thread = threading.Thread(target=self._telemetry, daemon=True)
        self.thread.start()

    def _on_message(self, client, userdata, msg):
        cmd = json.loads(msg.payload)
        self.commands.append(cmd)
        reply = self.mqtt.topic("hall/h1/%s/cmd/reply" % self.device)
        client.publish(reply, json.dumps({"id": cmd["id"], "result": "accepted", "detail": "ok"}), qos=1)
        client.publish(reply, json.dumps({"id": cmd["id"], "result": "done", "detail": "bye"}), qos=1)

    def _telemetry(self):
        while not self.stop_flag.wait(0.5):
            self.client.publish(self.mqtt.topic("hall/h1/%s/telemetry" % self.device),
                                json.dumps(self.telemetry), qos=1)

    def go_offline(self):
        self.stop_flag.set()
        self.thread.join(5)
        self.client.publish(self.mqtt.topic("hall/h1/%s/status" % self.device), "offline", qos=1,
                            retain=True).wait_for_publish(5)

    def close(self):
        self.stop_flag.set()
        self.client.disconnect()
        self.client.loop_stop()


class TasmotaPlug:
    """A Tasmota plug: answers cmnd/<t>/POWER with stat/<t>/POWER."""

    def __init__(self, mqtt, topic):
        import paho.mqtt.client as paho
        self.topic = topic
        self.received = []
        self.client = paho.Client(client_id=harness.unique_client_id("plug"))
        self.client.on_message = self._on_message
        subscribed = threading.Event()
        self.client.on_subscribe = lambda *a: subscribed.set()
        self.client.connect("127.0.0.1", mqtt.port, keepalive=30)
        self.client.loop_start()
        self.client.subscribe("cmnd/%s/POWER" % topic, qos=1)
        subscribed.wait(10)
        self.client.publish("stat/%s/POWER" % topic, "ON", qos=1)

    def _on_message(self, client, userdata, msg):
        state = msg.payload.decode().upper()
        self.received.append((time.time(), state))
        if state in ("ON", "OFF"):
            client.publish("stat/%s/POWER" % self.topic, state, qos=1)

    def close(self):
        self.client.disconnect()
        self.client.loop_stop()


def require_agent():
    assert os.access(AGENT, os.X_OK), "%s is not built" % AGENT


def alert_states(sub, alert_id):
    return [m["state"] for m in sub.json_on("hall/h1/alerts") if m["id"] == alert_id]


def test_agent_powers_off_then_the_plug_is_cut_and_the_night_is_compliant():
    require_agent()
    devices = [{"id": "pc-w01", "hall": "h1", "kind": "pc"},
               {"id": "plug-w01", "hall": "h1", "kind": "plug", "source": "tasmota:" + PLUG % 1}]
    halls = [{"id": "h1", "windows": [{"id": "w01", "pc": "pc-w01", "plug": "plug-w01"}]}]
    with Stack("enforce-agent") as st:
        sub = Subscriber(st.mqtt, "hall/h1/pc-w01/cmd", "hall/h1/pc-w01/cmd/reply",
                         "hall/h1/pc-w01/status", "hall/h1/alerts")
        plug = TasmotaPlug(st.mqtt, PLUG % 1)
        g = Gateway(st, devices, halls, 'grace = "2s"; verify_within = "20s"; plug_delay = "1s"; '
                                        'closed_grace = "10m";')
        agent = Agent(st, st.mqtt, "pc-w01", g.key)
        try:
            wait_for("the agent online", lambda: (b"online", True) in sub.payloads("hall/h1/pc-w01/status")
                     or (b"online", False) in sub.payloads("hall/h1/pc-w01/status"), timeout=15)
            assert not sub.json_on("hall/h1/pc-w01/cmd"), "a command before poweroff_at"
            cmds = wait_for("the poweroff command", lambda: sub.json_on("hall/h1/pc-w01/cmd"),
                            timeout=LEAD_S + 15)
            cmd = cmds[0]
            assert time.time() >= g.poweroff_at - 1.5, "sent before poweroff_at"
            assert cmd["action"] == "poweroff" and cmd["hall"] == "h1" and cmd["device"] == "pc-w01"
            assert cmd["args"]["grace_s"] == 2 and len(cmd["sig"]) == 64
            assert cmd["expires"] - cmd["issued"] == 20
            # Never retained.
            assert all(not r for p, r in sub.payloads("hall/h1/pc-w01/cmd"))
            replies = wait_for("accepted and done", lambda: [r["result"] for r in
                               sub.json_on("hall/h1/pc-w01/cmd/reply")
                               if r["id"] == cmd["id"]] == ["accepted", "done"] and
                               sub.json_on("hall/h1/pc-w01/cmd/reply"), timeout=15)
            assert all(r["id"] == cmd["id"] for r in replies)
            # The agent acted as if the PC went down.
            wait_for("the agent to exit", lambda: agent.proc.poll() is not None, timeout=15)
            assert agent.proc.returncode == 0, agent.log()
            # Then the plug: cmnd/<its topic>/POWER OFF, answered OFF.
            wait_for("the plug command", lambda: [s for t, s in plug.received if s == "OFF"], timeout=15)
            off_at = [t for t, s in plug.received if s == "OFF"][0]
            wait_for("the plug verified off", lambda: "plug_off" in g.step_names("plug-w01"), timeout=15)
            # The record: every step ok, in order.
            pc_steps = g.steps("pc-w01")
            assert [s["step"] for s in pc_steps] == ["command", "reply", "reply", "verified_off"], pc_steps
            assert all(s["ok"] for s in pc_steps), pc_steps
            assert pc_steps[1]["detail"].startswith("accepted") and pc_steps[2]["detail"].startswith("done")
            plug_steps = g.steps("plug-w01")
            assert [s["step"] for s in plug_steps] == ["plug_command", "plug_off"], plug_steps
            assert all(s["ok"] for s in plug_steps)
            assert plug_steps[0]["detail"] == "cmnd/%s/POWER OFF" % (PLUG % 1)
            assert len({s["date"] for s in pc_steps + plug_steps}) == 1
            # The same steps in InfluxDB, measurement "poweroff".
            rows = wait_for("poweroff points", lambda: len(st.influx.rows(
                "SELECT * FROM poweroff WHERE device = 'pc-w01' OR device = 'plug-w01'")) >= 6 and
                st.influx.rows("SELECT * FROM poweroff WHERE device = 'pc-w01' OR device = 'plug-w01'"),
                timeout=15)
            got = sorted((r["device"], r["step"], r["ok"]) for r in rows)
            assert got == sorted([("pc-w01", "command", True), ("pc-w01", "reply", True),
                                  ("pc-w01", "reply", True), ("pc-w01", "verified_off", True),
                                  ("plug-w01", "plug_command", True),
                                  ("plug-w01", "plug_off", True)]), got
            assert all(r["hall"] == "h1" and r["window"] == "w01" for r in rows)
            assert {r["kind"] for r in rows} == {"pc", "plug"}
            # The state snapshot shows the night.
            po = g.state()["poweroff"]
            assert po["running"] is False and po["trigger"] == "nightly", po
            (pc,), (pl,) = po["pcs"], po["plugs"]
            assert (pc["device"], pc["state"], pc["ok"]) == ("pc-w01", "off", True), pc
            assert (pl["device"], pl["state"], pl["ok"], pl["window"]) == ("plug-w01", "off", True, "w01")
            # Nothing for IT, and the counters moved.
            assert not [m for m in sub.json_on("hall/h1/alerts") if m["rule"] == "poweroff-failed"]
            code, _ = http("GET", g.api + "/state")
            with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % g.port, timeout=10) as r:
                metrics = r.read().decode()
            assert 'hallgw_poweroff_verified_total{kind="pc"} 1' in metrics, metrics
            assert 'hallgw_poweroff_verified_total{kind="plug"} 1' in metrics
            assert "hallgw_commands_sent_total 2" in metrics
            assert off_at >= g.poweroff_at
        finally:
            agent.stop()
            plug.close()
            sub.close()


def test_a_pc_that_never_goes_off_keeps_its_plug_and_alerts_it():
    devices = [{"id": "pc-w02", "hall": "h1", "kind": "pc"},
               {"id": "plug-w02", "hall": "h1", "kind": "plug", "source": "tasmota:" + PLUG % 2}]
    halls = [{"id": "h1", "windows": [{"id": "w02", "pc": "pc-w02", "plug": "plug-w02"}]}]
    with Stack("enforce-stuck") as st:
        sub = Subscriber(st.mqtt, "hall/h1/alerts", "hall/h1/pc-w02/cmd")
        plug = TasmotaPlug(st.mqtt, PLUG % 2)
        pc = FakePC(st.mqtt, "pc-w02")
        g = Gateway(st, devices, halls, 'grace = "1s"; verify_within = "3s"; plug_delay = "0s";')
        try:
            wait_for("the command", lambda: pc.commands, timeout=LEAD_S + 15)
            t_cmd = time.time()
            alert = wait_for("poweroff-failed:pc-w02", lambda: [m for m in sub.json_on("hall/h1/alerts")
                             if m["id"] == "poweroff-failed:pc-w02"], timeout=15)[0]
            assert time.time() - t_cmd >= 2.5, "alerted before verify_within"
            assert alert["state"] == "firing" and alert["severity"] == "major", alert
            assert alert["device"] == "pc-w02" and alert["window"] == "w02" and alert["kind"] == "pc"
            assert "still on" in alert["summary"], alert
            # The plug of a PC that is still on is never cut: held, and recorded so.
            wait_for("the plug held", lambda: [s for s in g.steps() if s["device"] == "plug-w02"],
                     timeout=10)
            assert plug.received == [], plug.received
            steps = g.steps()
            assert ("pc-w02", "failure", False) in [(s["device"], s["step"], s["ok"]) for s in steps], steps
            held = [s for s in steps if s["device"] == "plug-w02"]
            assert [(s["step"], s["ok"]) for s in held] == [("skipped", False)], held
            assert "not cut: pc-w02 did not go off" in held[0]["detail"]
            po = g.state()["poweroff"]
            assert (po["pcs"][0]["state"], po["pcs"][0]["ok"]) == ("failed", False), po
            assert (po["plugs"][0]["state"], po["plugs"][0]["ok"]) == ("held", False), po
            # IT sees it in the active alerts, the CLI too.
            code, body = http("GET", g.api + "/alerts")
            assert "poweroff-failed:pc-w02" in [a["id"] for a in body["active"]], body
            active = g.cli("alerts", "--active")
            assert "poweroff-failed:pc-w02" in active.stdout, active.stdout
            # It goes off at last: the alert resolves itself, then the plug follows.
            pc.go_offline()
            wait_for("resolved", lambda: alert_states(sub, "poweroff-failed:pc-w02")[-1] == "resolved",
                     timeout=15)
            wait_for("the plug cut after all", lambda: [s for t, s in plug.received if s == "OFF"],
                     timeout=15)
            wait_for("plug_off", lambda: "plug_off" in g.step_names("plug-w02"), timeout=15)
            failures = wait_for("failure points", lambda: st.influx.rows(
                "SELECT * FROM poweroff WHERE device = 'pc-w02' AND step = 'failure'"), timeout=15)
            assert failures[0]["ok"] is False
        finally:
            pc.close()
            plug.close()
            sub.close()


def test_an_override_keeps_a_pc_on_until_it_expires_then_the_closed_hall_rule_takes_it():
    require_agent()
    devices = [{"id": "pc-w03", "hall": "h1", "kind": "pc"},
               {"id": "plug-w03", "hall": "h1", "kind": "plug", "source": "tasmota:" + PLUG % 3}]
    halls = [{"id": "h1", "windows": [{"id": "w03", "pc": "pc-w03", "plug": "plug-w03"}]}]
    with Stack("enforce-override") as st:
        sub = Subscriber(st.mqtt, "hall/h1/pc-w03/cmd", "hall/h1/pc-w03/cmd/reply")
        plug = TasmotaPlug(st.mqtt, PLUG % 3)
        g = Gateway(st, devices, halls, 'grace = "1s"; verify_within = "20s"; plug_delay = "0s"; '
                                        'closed_grace = "2s";')
        until = int(g.poweroff_at) + 4
        # Kept on by an operator: the run names the account, not the body's "by".
        operator = g.gw.add_account("wang", "operator")
        code, body = http("POST", g.api + "/overrides", {"device": "pc-w03", "until": until,
                          "reason": "加班 overtime", "by": "someone"}, token=operator)
        assert code == 201, (code, body)
        assert body["overrides"][0]["device"] == "pc-w03" and body["overrides"][0]["until"] == until
        agent = Agent(st, st.mqtt, "pc-w03", g.key)
        try:
            wait_for("the run with pc-w03 skipped", lambda: "skipped" in g.step_names("pc-w03"),
                     timeout=LEAD_S + 15)
            skipped = g.steps("pc-w03")[0]
            assert skipped["ok"] and skipped["detail"].startswith("override until"), skipped
            assert "wang" in skipped["detail"] and "加班 overtime" in skipped["detail"], skipped
            assert [s["step"] for s in g.steps("plug-w03")] == ["skipped"]
            # Kept on while the override holds.
            while time.time() < until - 0.5:
                assert not sub.json_on("hall/h1/pc-w03/cmd"), "commanded under an override"
                time.sleep(0.2)
            # Expired: seen on while closed for closed_grace, powered off.
            cmd = wait_for("the poweroff after expiry", lambda: sub.json_on("hall/h1/pc-w03/cmd"),
                           timeout=20)[0]
            assert time.time() >= until, "commanded before the override ended"
            assert cmd["action"] == "poweroff"
            wait_for("the agent to exit", lambda: agent.proc.poll() is not None, timeout=15)
            wait_for("the plug cut", lambda: [s for t, s in plug.received if s == "OFF"], timeout=15)
            wait_for("plug_off", lambda: "plug_off" in g.step_names("plug-w03"), timeout=15)
            assert g.step_names("pc-w03") == ["skipped", "command", "reply", "reply", "verified_off"], \
                g.steps("pc-w03")
            assert g.step_names("plug-w03") == ["skipped", "plug_command", "plug_off"]
            # The override log: added, then expired by itself.
            log = wait_for("the expiry logged", lambda: [e["action"] for e in
                           http("GET", g.api + "/overrides?log=1")[1]["log"]] == ["add", "expire"] and
                           http("GET", g.api + "/overrides?log=1")[1], timeout=10)
            assert log["overrides"] == [] and log["log"][1]["until"] == until
            points = st.influx.rows("SELECT * FROM poweroff WHERE device = 'pc-w03'")
            assert ("skipped", True) in [(p["step"], p["ok"]) for p in points], points
        finally:
            agent.stop()
            plug.close()
            sub.close()


def test_overrides_through_the_http_api_and_the_cli():
    devices = [{"id": "pc-w01", "hall": "h1", "kind": "pc"},
               {"id": "env-1", "hall": "h1", "kind": "env"}]
    halls = [{"id": "h1", "windows": [{"id": "w01", "pc": "pc-w01"}]}]
    with Stack("enforce-api", influx=True) as st:
        sub = Subscriber(st.mqtt, "hall/h1/pc-w01/cmd")
        pub = Publisher(st.mqtt)
        g = Gateway(st, devices, halls, 'dry_run = true;', lead_s=4)
        pub.publish("hall/h1/pc-w01/status", "online")
        # The dry run records what it would do, and sends nothing.
        wait_for("the dry run", lambda: g.step_names("pc-w01"), timeout=20)
        (s,) = g.steps("pc-w01")
        assert s["step"] == "skipped" and s["ok"], s
        assert s["detail"] == "dry run: would send poweroff (online)", s
        # A command sent with the record would be here within a moment.
        time.sleep(0.5)
        assert sub.json_on("hall/h1/pc-w01/cmd") == []
        assert g.state()["poweroff"]["dry_run"] is True

        body = {"device": "pc-w01", "until": "23:59", "reason": "maintenance"}
        viewer = g.gw.add_account("zhao", "viewer")
        assert http("POST", g.api + "/overrides", body)[0] == 401
        assert http("POST", g.api + "/overrides", body, token=viewer)[0] == 403
        assert http("POST", g.api + "/overrides", body, token="wrong")[0] == 401
        code, err = http("POST", g.api + "/overrides", dict(body, device="pc-w9"), token=TOKEN)
        assert code == 404 and "no such" in err["error"], err
        code, err = http("POST", g.api + "/overrides", dict(body, device="env-1"), token=TOKEN)
        assert code == 400, err
        code, err = http("POST", g.api + "/overrides", dict(body, until=int(time.time()) - 5), token=TOKEN)
        assert code == 400 and "future" in err["error"], err
        code, err = http("POST", g.api + "/overrides", dict(body, until="9pm"), token=TOKEN)
        assert code == 400, err
        code, err = http("POST", g.api + "/overrides", {"device": "pc-w01", "until": "23:59"}, token=TOKEN)
        assert code == 400, err
        code, ok = http("POST", g.api + "/overrides", body, token=TOKEN)
        assert code == 201 and ok["overrides"][0]["reason"] == "maintenance", ok
        code, got = http("GET", g.api + "/overrides")
        assert code == 200 and [o["device"] for o in got["overrides"]] == ["pc-w01"], got
        assert got["overrides"][0]["by"] == "token_file" and got["overrides"][0]["until"] > time.time()
        # The state snapshot shows it at once.
        assert [o["device"] for o in g.state()["overrides"]] == ["pc-w01"]
        listing = g.cli("override", "list")
        assert listing.returncode == 0 and "pc-w01" in listing.stdout and "maintenance" in listing.stdout, \
            listing.stdout + listing.stderr
        assert http("DELETE", g.api + "/overrides/pc-w01")[0] == 401
        assert http("DELETE", g.api + "/overrides/pc-w01", token=viewer)[0] == 403
        code, gone = http("DELETE", g.api + "/overrides/pc-w01", token=TOKEN)
        assert code == 200 and gone == {"device": "pc-w01", "removed": True}, gone
        assert http("DELETE", g.api + "/overrides/pc-w01", token=TOKEN)[0] == 404
        assert http("GET", g.api + "/overrides")[1]["overrides"] == []
        # The CLI writes the store directly; the gateway and the API see it.
        r = g.cli("override", "add", "pc-w01", "--until", "23:58", "--reason", "加班", "--by", "王工")
        assert r.returncode == 0, r.stderr
        r = g.cli("override", "add", "printer-9", "--until", "23:58", "--reason", "x", "--by", "y")
        assert r.returncode == 2 and "no such device" in r.stderr, r.stderr
        r = g.cli("override", "add", "pc-w01", "--until", "25:00", "--reason", "x", "--by", "y")
        assert r.returncode == 2, r.stderr
        r = g.cli("override", "add", "pc-w01", "--until", "23:58", "--by", "y")
        assert r.returncode == 2, r.stderr
        assert [o["reason"] for o in http("GET", g.api + "/overrides")[1]["overrides"]] == ["加班"]
        wait_for("the gateway reading it", lambda: [o["reason"] for o in g.state()["overrides"]] == ["加班"],
                 timeout=10)
        r = g.cli("override", "remove", "pc-w01", "--by", "王工")
        assert r.returncode == 0, r.stderr
        r = g.cli("override", "remove", "pc-w01", "--by", "王工")
        assert r.returncode == 2
        r = g.cli("override", "list", "--log")
        lines = r.stdout.splitlines()
        assert sum(1 for l in lines if " add " in l) == 2 and sum(1 for l in lines if " remove " in l) == 2, \
            r.stdout
        sub.close()
        pub.close()


def test_an_overdue_scan_is_ordered_at_the_break_and_alerts_only_when_still_overdue():
    devices = [{"id": "pc-w05", "hall": "h1", "kind": "pc"}]
    halls = [{"id": "h1", "windows": [{"id": "w05", "pc": "pc-w05"}]}]
    rules = ('rules = ( { name = "av-scan-overdue"; type = "max_age"; kind = "pc"; '
             'metric = "av_last_scan"; max_age = "7d"; action = "scan"; severity = "major"; } );\n')
    with Stack("enforce-scan") as st:
        zone, offset = noon_zone()
        # Open around now, in the lunch break now.
        schedule = ('schedule = { weekdays = ["mon","tue","wed","thu","fri","sat","sun"]; '
                    'open = "%s"; close = "%s"; breaks = ( { from = "%s"; to = "%s"; } ); };\n'
                    % (local_hms(offset, -7200), local_hms(offset, 7200), local_hms(offset, -60),
                       local_hms(offset, 900)))
        sub = Subscriber(st.mqtt, "hall/h1/alerts", "hall/h1/pc-w05/cmd")
        g = Gateway(st, devices, halls, None, schedule=schedule,
                    extra=rules + 'scans = { when = "break"; type = "full"; '
                                  'still_overdue_after = "10s"; };\n')
        overdue = {"power": "on", "av_last_scan": time.time() - 10 * 86400}
        pc = FakePC(st.mqtt, "pc-w05", telemetry=overdue)
        try:
            cmd = wait_for("the scan command", lambda: sub.json_on("hall/h1/pc-w05/cmd"), timeout=10)[0]
            t_cmd = time.time()
            assert cmd["action"] == "scan" and cmd["args"] == {"type": "full"}, cmd
            assert cmd["device"] == "pc-w05" and len(cmd["sig"]) == 64
            # Quiet while the scan has time to finish...
            while time.time() < t_cmd + 7:
                assert alert_states(sub, "av-scan-overdue:pc-w05") == [], "fired while the scan runs"
                time.sleep(0.2)
            # ...and an alert when it is still overdue after still_overdue_after.
            wait_for("still overdue", lambda: alert_states(sub, "av-scan-overdue:pc-w05") == ["firing"],
                     timeout=10)
            assert time.time() >= t_cmd + 9
            # The scan finished after all: the alert resolves.
            pc.telemetry = {"power": "on", "av_last_scan": time.time()}
            wait_for("resolved", lambda: alert_states(sub, "av-scan-overdue:pc-w05") == ["firing", "resolved"],
                     timeout=10)
            # One scan a day.
            assert len(sub.json_on("hall/h1/pc-w05/cmd")) == 1
            assert len(pc.commands) == 1
        finally:
            pc.close()
            sub.close()


if __name__ == "__main__":
    harness.run([test_agent_powers_off_then_the_plug_is_cut_and_the_night_is_compliant,
                 test_a_pc_that_never_goes_off_keeps_its_plug_and_alerts_it,
                 test_an_override_keeps_a_pc_on_until_it_expires_then_the_closed_hall_rule_takes_it,
                 test_overrides_through_the_http_api_and_the_cli,
                 test_an_overdue_scan_is_ordered_at_the_break_and_alerts_only_when_still_overdue])
