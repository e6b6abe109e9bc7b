"""Rules and alerts end to end, with a real broker and InfluxDB: what a hall
supervisor sees on hall/<hall>/alerts, in InfluxDB and in `hallgw alerts`.
Where the news goes besides (webhooks, escalation, renotification) is in
test_notify.py."""

import json
import os
import subprocess
import time

import harness
from harness import (BUILD_DIR, Publisher, Stack, Subscriber, local_hms, noon_zone,
                     schedule_around_now, wait_for)

DEVICES = [
    {"id": "env-1", "hall": "h1", "kind": "env"},
    {"id": "seat-w01", "hall": "h1", "kind": "seat", "source": "zigbee2mqtt:alerts_seat_w01"},
    {"id": "seat-w02", "hall": "h1", "kind": "seat"},
    {"id": "queue", "hall": "h1", "kind": "queue"},
    {"id": "pc-w01", "hall": "h1", "kind": "pc"},
]
# Foreign topics are global on a shared broker: a name no other test uses.
SEAT_W01 = "zigbee2mqtt/alerts_seat_w01"
HALLS = [{"id": "h1", "name": "政务服务大厅", "windows": [
    {"id": "w01", "name": "综合受理 1", "seat": "seat-w01", "pc": "pc-w01"},
    {"id": "w02", "name": "综合受理 2", "seat": "seat-w02", "lunch_duty": True}]}]
RULES = """
rules = (
  { name = "co2-high"; type = "threshold"; kind = "env"; metric = "co2"; above = 1000.0;
    clear_at = 900.0; for = "2s"; severity = "warning"; when = "open"; },
  { name = "unstaffed"; type = "unstaffed"; for = "4s"; for_when_waiting = "1s"; severity = "warning"; },
  { name = "av-scan-overdue"; type = "max_age"; kind = "pc"; metric = "av_last_scan"; max_age = "7d";
    severity = "major"; },
  { name = "threat-detected"; type = "event"; kind = "pc"; event = "threat_detected"; severity = "critical"; }
);
"""


def start(st, extra_schedule=None, extra="", http=False):
    zone, offset = noon_zone()
    gw = st.hallgw(devices=DEVICES, halls=HALLS, http=http,
                   extra=(extra_schedule or schedule_around_now(offset)) + RULES + extra)
    gw.timezone = zone
    gw.write_config()
    gw.start()
    return gw, offset


def transitions(sub, alert_id):
    return [(m["state"], m) for m in sub.json_on("hall/h1/alerts") if m["id"] == alert_id]


def cli(gw, *args):
    return subprocess.run([os.path.join(BUILD_DIR, "hallgw")] + list(args) + ["-c", gw.conf],
                          capture_output=True, text=True, timeout=30)


def test_co2_fires_after_for_and_resolves_with_hysteresis():
    with Stack("alert-co2") as st:
        gw, _ = start(st)
        sub = Subscriber(st.mqtt, "hall/h1/alerts", "hall/h1/alerts/+")
        pub = Publisher(st.mqtt)
        t0 = time.time()
        pub.publish("hall/h1/env-1/telemetry", json.dumps({"co2": 1500}))
        wait_for("co2-high firing", lambda: transitions(sub, "co2-high:env-1"), timeout=10)
        assert time.time() - t0 >= 1.5, "fired before its 2s"
        (state, msg), = transitions(sub, "co2-high:env-1")
        assert state == "firing" and msg["severity"] == "warning" and msg["device"] == "env-1"
        assert msg["value"] == 1500
        assert msg["firing_since"] - msg["pending_since"] >= 2, msg
        # Retained current state for late subscribers.
        late = Subscriber(st.mqtt, "hall/h1/alerts/co2-high:env-1")
        wait_for("retained alert", lambda: late.payloads("hall/h1/alerts/co2-high:env-1"))
        assert json.loads(late.payloads("hall/h1/alerts/co2-high:env-1")[0][0])["state"] == "firing"
        late.close()
        # 950 is under 1000 but over clear_at 900: still firing (hysteresis).
        # A reading is judged as it arrives, before its point is written: once
        # the point is in InfluxDB, a resolve would have been published.
        pub.publish("hall/h1/env-1/telemetry", json.dumps({"co2": 950}))
        wait_for("the 950 ppm point", lambda: st.influx.rows("SELECT * FROM env WHERE co2 = 950"))
        assert [s for s, _ in transitions(sub, "co2-high:env-1")] == ["firing"]
        pub.publish("hall/h1/env-1/telemetry", json.dumps({"co2": 800}))
        wait_for("co2-high resolved",
                 lambda: [s for s, _ in transitions(sub, "co2-high:env-1")] == ["firing", "resolved"])
        # The retained state is cleared with an empty retained message.
        wait_for("retained state cleared",
                 lambda: (b"", True) in sub.payloads("hall/h1/alerts/co2-high:env-1")
                 or (b"", False) in sub.payloads("hall/h1/alerts/co2-high:env-1"))
        rows = wait_for("alert points", lambda: len(st.influx.rows(
            "SELECT * FROM alert WHERE alert_id = 'co2-high:env-1'")) >= 2 and st.influx.rows(
            "SELECT * FROM alert WHERE alert_id = 'co2-high:env-1'"))
        assert [r["state"] for r in rows] == ["firing", "resolved"]
        assert rows[0]["rule"] == "co2-high" and rows[0]["severity"] == "warning"
        sub.close()
        pub.close()


def test_unstaffed_window_alerts_sooner_with_people_waiting_and_not_at_lunch():
    with Stack("alert-unstaffed") as st:
        zone, offset = noon_zone()
        gw, _ = start(st)
        sub = Subscriber(st.mqtt, "hall/h1/alerts", "hall/h1/windows/+")
        pub = Publisher(st.mqtt)
        pub.publish("hall/h1/queue/telemetry", json.dumps({"waiting": 0, "longest_wait_s": 0}))
        pub.publish(SEAT_W01, json.dumps({"occupancy": False, "battery": 90}))
        # No one waits: 4s.
        t0 = time.time()
        wait_for("unstaffed:w01", lambda: transitions(sub, "unstaffed:w01"), timeout=15)
        assert time.time() - t0 >= 3.5
        state, msg = transitions(sub, "unstaffed:w01")[0]
        assert state == "firing" and msg["window"] == "w01"
        # The window state is published, retained.
        ws = wait_for("window state", lambda: sub.json_on("hall/h1/windows/w01"))
        assert ws[-1]["open"] is True and ws[-1]["staffed"] is False
        # Staff back: resolved.
        pub.publish(SEAT_W01, json.dumps({"occupancy": True}))
        wait_for("resolved", lambda: [s for s, _ in transitions(sub, "unstaffed:w01")][-1] == "resolved")
        # People waiting: the shorter delay.
        pub.publish("hall/h1/queue/telemetry", json.dumps({"waiting": 5, "longest_wait_s": 300}))
        wait_for("the queue on the window", lambda: [m for m in sub.json_on("hall/h1/windows/w01")
                                                     if m["waiting"] == 5])
        t0 = time.time()
        pub.publish(SEAT_W01, json.dumps({"occupancy": False}))
        wait_for("unstaffed again", lambda: [s for s, _ in transitions(sub, "unstaffed:w01")].count("firing") == 2,
                 timeout=10)
        assert time.time() - t0 < 3.0, "did not fire sooner with people waiting"
        # "since" is when the seat emptied; a new queue count is published
        # with the same "since".
        empty = wait_for("window unstaffed", lambda: [m for m in sub.json_on("hall/h1/windows/w01")
                                                      if m["staffed"] is False and m["waiting"] == 5])
        pub.publish("hall/h1/queue/telemetry", json.dumps({"waiting": 7, "longest_wait_s": 320}))
        more = wait_for("queue count republished", lambda: [m for m in sub.json_on("hall/h1/windows/w01")
                                                            if m["waiting"] == 7])
        assert more[-1]["staffed"] is False
        assert more[-1]["since"] == empty[-1]["since"], (empty[-1], more[-1])
        assert abs(empty[-1]["since"] - t0) < 5
        # Window points for the staffed-ratio charts.
        wait_for("window points", lambda: st.influx.rows("SELECT * FROM \"window\" WHERE \"window\" = 'w01'"))
        sub.close()
        pub.close()

    # During the lunch break: no alert, unless the window has lunch duty.
    with Stack("alert-lunch") as st:
        zone, offset = noon_zone()
        gw, _ = start(st, schedule_around_now(offset, breaks=[(-60, 600)]))
        sub = Subscriber(st.mqtt, "hall/h1/alerts")
        pub = Publisher(st.mqtt)
        pub.publish("hall/h1/queue/telemetry", json.dumps({"waiting": 3}))
        pub.publish(SEAT_W01, json.dumps({"occupancy": False}))
        pub.publish("hall/h1/seat-w02/telemetry", json.dumps({"presence": False}))
        wait_for("w02 (lunch duty) unstaffed", lambda: transitions(sub, "unstaffed:w02"), timeout=10)
        # w01 has the same delay and queue: it would fire on the same tick
        # (once a second). Let one more tick pass.
        time.sleep(1.2)
        assert transitions(sub, "unstaffed:w01") == [], "alerted during the lunch break"
        sub.close()
        pub.close()


def test_pc_scan_overdue_and_threat_needs_a_manual_resolve():
    with Stack("alert-pc") as st:
        gw, _ = start(st, http=True)
        sub = Subscriber(st.mqtt, "hall/h1/alerts")
        pub = Publisher(st.mqtt)
        now = time.time()
        pub.publish("hall/h1/pc-w01/telemetry", json.dumps(
            {"power": "on", "av_last_scan": now - 10 * 86400, "av_sig_updated": now - 3600}))
        wait_for("av-scan-overdue", lambda: transitions(sub, "av-scan-overdue:pc-w01"), timeout=10)
        assert transitions(sub, "av-scan-overdue:pc-w01")[0][1]["severity"] == "major"
        pub.publish("hall/h1/pc-w01/event", json.dumps(
            {"type": "threat_detected", "signature": "Eicar-Test-Signature", "path": "/tmp/eicar.com"}))
        wait_for("threat", lambda: transitions(sub, "threat-detected:pc-w01"), timeout=10)
        state, msg = transitions(sub, "threat-detected:pc-w01")[0]
        assert state == "firing" and msg["severity"] == "critical"
        assert "Eicar-Test-Signature" in msg["summary"]
        # Nothing clears it by itself: let two alerting ticks (one a second) pass.
        time.sleep(2.2)
        assert [s for s, _ in transitions(sub, "threat-detected:pc-w01")] == ["firing"]
        # An ack is not a resolve. The command acts as an account whose role
        # may handle a PC's alert.
        gw.add_account("wanggong", "it")
        gw.add_account("zhang", "operator")
        r = cli(gw, "ack", "threat-detected:pc-w01", "--by", "nobody", "--note", "x")
        assert r.returncode == 2 and "not an account" in r.stderr, r.stderr
        r = cli(gw, "ack", "threat-detected:pc-w01", "--by", "wanggong", "--note", "隔离文件，全盘扫描中")
        assert r.returncode == 0, r.stderr
        wait_for("acknowledged", lambda: [s for s, _ in transitions(sub, "threat-detected:pc-w01")][-1]
                 == "acknowledged")
        # ...the handling note resolves it.
        r = cli(gw, "ack", "threat-detected:pc-w01", "--by", "wanggong", "--note", "已清除，扫描无威胁",
                "--resolve")
        assert r.returncode == 0, r.stderr
        wait_for("resolved", lambda: [s for s, _ in transitions(sub, "threat-detected:pc-w01")][-1]
                 == "resolved")
        hist = cli(gw, "alerts")
        assert "threat-detected:pc-w01" in hist.stdout and "已清除，扫描无威胁" in hist.stdout, hist.stdout
        assert "wanggong" in hist.stdout, hist.stdout
        # A resolve of an alert that clears by itself is refused; so is an
        # operator's ack of a PC's alert.
        pub.publish("hall/h1/alerts/av-scan-overdue:pc-w01/ack/wanggong",
                    json.dumps({"note": "y", "resolve": True}))
        wait_for("the refusal counted", lambda: (gw.counter("acks_rejected") or 0) >= 1, timeout=10)
        pub.publish("hall/h1/alerts/av-scan-overdue:pc-w01/ack/zhang", json.dumps({"note": "y"}))
        wait_for("the role's refusal counted", lambda: gw.metric("hallgw_acks_refused_total") >= 1,
                 timeout=10)
        assert [s for s, _ in transitions(sub, "av-scan-overdue:pc-w01")] == ["firing"]
        sub.close()
        pub.close()


def test_restart_keeps_active_alerts_without_a_second_firing():
    with Stack("alert-restart") as st:
        gw, _ = start(st)
        sub = Subscriber(st.mqtt, "hall/h1/alerts")
        pub = Publisher(st.mqtt)
        pub.publish("hall/h1/env-1/telemetry", json.dumps({"co2": 1600}))
        pub.publish("hall/h1/pc-w01/event", json.dumps({"type": "threat_detected", "signature": "X"}))
        wait_for("two alerts firing", lambda: transitions(sub, "co2-high:env-1")
                 and transitions(sub, "threat-detected:pc-w01"), timeout=10)
        assert gw.stop() == 0
        gw.start()
        # Judged as it arrives: once its point is written, a second firing
        # would have been published.
        pub.publish("hall/h1/env-1/telemetry", json.dumps({"co2": 1700}))
        wait_for("the 1700 ppm point", lambda: st.influx.rows("SELECT * FROM env WHERE co2 = 1700"))
        assert [s for s, _ in transitions(sub, "co2-high:env-1")] == ["firing"]
        assert [s for s, _ in transitions(sub, "threat-detected:pc-w01")] == ["firing"]
        active = cli(gw, "alerts", "--active")
        assert "co2-high:env-1" in active.stdout and "threat-detected:pc-w01" in active.stdout, active.stdout
        # And it still resolves normally afterwards.
        pub.publish("hall/h1/env-1/telemetry", json.dumps({"co2": 700}))
        wait_for("resolved after restart",
                 lambda: [s for s, _ in transitions(sub, "co2-high:env-1")] == ["firing", "resolved"])
        sub.close()
        pub.close()


def test_ack_over_mqtt_records_the_account_of_its_topic():
    with Stack("alert-ack") as st:
        gw, _ = start(st, http=True)
        gw.add_account("li", "operator")
        gw.add_account("zhao", "viewer")
        sub = Subscriber(st.mqtt, "hall/h1/alerts")
        pub = Publisher(st.mqtt)
        pub.publish("hall/h1/env-1/telemetry", json.dumps({"co2": 1500}))
        wait_for("firing", lambda: transitions(sub, "co2-high:env-1"), timeout=10)
        # Who acknowledges is the account of the topic (the broker's ACL lets
        # a user publish only under its own name); a name in the payload, an
        # ack that names no account, an unknown account and a viewer are
        # refused and counted.
        refused = [("hall/h1/alerts/co2-high:env-1/ack", {"by": "李师傅", "note": "已开窗通风"}),
                   ("hall/h1/alerts/co2-high:env-1/ack/ghost", {"note": "x"}),
                   ("hall/h1/alerts/co2-high:env-1/ack/zhao", {"note": "x"})]
        for topic, ack in refused:
            pub.publish(topic, json.dumps(ack, ensure_ascii=False))
        wait_for("the refusals counted", lambda: gw.metric("hallgw_acks_refused_total") >= 3, timeout=10)
        assert [s for s, _ in transitions(sub, "co2-high:env-1")] == ["firing"]
        pub.publish("hall/h1/alerts/co2-high:env-1/ack/li",
                    json.dumps({"by": "someone else", "note": "已开窗通风"}, ensure_ascii=False))
        wait_for("acknowledged", lambda: [s for s, _ in transitions(sub, "co2-high:env-1")][-1]
                 == "acknowledged")
        msg = transitions(sub, "co2-high:env-1")[-1][1]
        assert msg["acked_by"] == "li" and msg["note"] == "已开窗通风"
        # The store is written by its own thread, just after the transition
        # is published.
        active = wait_for("the ack in the store", lambda: (lambda p: p if "acknowledged" in p.stdout
                                                           else None)(cli(gw, "alerts", "--active")),
                          timeout=10)
        assert "acknowledged" in active.stdout and "li" in active.stdout, active.stdout
        hist = cli(gw, "alerts")
        assert "已开窗通风" in hist.stdout, hist.stdout
        # An ack for an alert that does not exist is counted, nothing else.
        pub.publish("hall/h1/alerts/nope:env-1/ack/li", json.dumps({"note": "y"}))
        wait_for("refused ack counted", lambda: (gw.counter("acks_rejected") or 0) >= 1, timeout=10)
        # All of it on the audit log, from "mqtt".
        audit = [l.split() for l in cli(gw, "audit").stdout.splitlines()[1:]]
        seen = [(l[2], l[3], l[4], l[6]) for l in audit]
        for want in (("李师傅", "mqtt", "ack", "no"), ("ghost", "mqtt", "ack", "no"),
                     ("zhao", "mqtt", "ack", "no"), ("li", "mqtt", "ack", "yes")):
            assert want in seen, (want, seen)
        sub.close()
        pub.close()


# Text that must never reach the record: line breaks and tabs split the
# alert's line-protocol points and forge log lines, NUL cuts the text short,
# and a right-to-left override makes it read other than it is stored.
NOT_PLAIN = ["交接\n[notice] forged", "a\rb", "a\tb", "a\u0000b", "abc\u202egnp.exe"]


def test_ack_with_control_characters_is_refused_everywhere_and_the_record_stays_whole():
    with Stack("alert-ack-text") as st:
        gw, _ = start(st, http=True)
        sub = Subscriber(st.mqtt, "hall/h1/alerts")
        pub = Publisher(st.mqtt)
        pub.publish("hall/h1/env-1/telemetry", json.dumps({"co2": 1500}))
        wait_for("firing", lambda: transitions(sub, "co2-high:env-1"), timeout=10)
        acks = [{"by": bad, "note": "ok"} for bad in NOT_PLAIN] + \
               [{"by": "李师傅", "note": bad} for bad in NOT_PLAIN]
        for ack in acks:
            pub.publish("hall/h1/alerts/co2-high:env-1/ack", json.dumps(ack, ensure_ascii=False))
        wait_for("every refusal counted",
                 lambda: gw.metric("hallgw_acks_refused_total") >= len(acks), timeout=10)
        assert gw.metric("hallgw_acks_refused_total") == len(acks)
        # The command line refuses them before sending anything.
        for bad in NOT_PLAIN[:3] + ["abc\u202egnp.exe"]:
            r = cli(gw, "ack", "co2-high:env-1", "--by", "li", "--note", bad)
            assert r.returncode == 2 and "plain text" in r.stderr, (bad, r.returncode, r.stderr)
            r = cli(gw, "ack", "co2-high:env-1", "--by", bad)
            assert r.returncode == 2 and "names an account" in r.stderr, (bad, r.returncode, r.stderr)
        r = cli(gw, "override", "add", "pc-w01", "--until", "23:59", "--reason", "加班\n完成",
                "--by", "王工")
        assert r.returncode == 2 and "plain text" in r.stderr, (r.returncode, r.stderr)
        assert "pc-w01" not in cli(gw, "override", "list").stdout
        # Nothing was acknowledged, and the log holds no forged line.
        active = cli(gw, "alerts", "--active")
        assert "firing" in active.stdout and "李师傅" not in active.stdout, active.stdout
        assert "forged" not in gw.log_text()
        # The alert resolves, and both of its points are in InfluxDB.
        pub.publish("hall/h1/env-1/telemetry", json.dumps({"co2": 800}))
        wait_for("resolved", lambda: [s for s, _ in transitions(sub, "co2-high:env-1")][-1:] == ["resolved"],
                 timeout=10)
        assert [s for s, _ in transitions(sub, "co2-high:env-1")] == ["firing", "resolved"]
        rows = wait_for("alert points", lambda: len(st.influx.rows(
            "SELECT * FROM alert WHERE alert_id = 'co2-high:env-1'")) >= 2 and st.influx.rows(
            "SELECT * FROM alert WHERE alert_id = 'co2-high:env-1'"))
        assert [r["state"] for r in rows] == ["firing", "resolved"], rows
        assert gw.metric("hallgw_messages_rejected_total", 'reason="encode"') == 0
        sub.close()
        pub.close()


if __name__ == "__main__":
    harness.run([test_co2_fires_after_for_and_resolves_with_hysteresis,
                 test_unstaffed_window_alerts_sooner_with_people_waiting_and_not_at_lunch,
                 test_pc_scan_overdue_and_threat_needs_a_manual_resolve,
                 test_restart_keeps_active_alerts_without_a_second_firing,
                 test_ack_over_mqtt_records_the_account_of_its_topic,
                 test_ack_with_control_characters_is_refused_everywhere_and_the_record_stays_whole])
