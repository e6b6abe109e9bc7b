"""The shipped default rule set (config/rules.default.conf) encodes every row
of the hall regulations: each of its rules is shown firing here, on the
thresholds, metrics and scopes as shipped. Only the waiting times (`for`) are
shortened, so the test does not wait ten real minutes.

  regulation (docs/rules.md)                   default rules
  不得擅离岗位 / 不准擅自离岗、缺岗              unstaffed
  不准以下班时间为由拒绝办事                     unstaffed (sooner while people wait)
  限时办结                                       wait-time
  整洁、舒适、安全, 通风良好                     co2-high, temperature-high/-low, humidity-high,
                                                 pm25-high, noise-high, illuminance-low
  设施完好, 定期检查保养                         equipment-fault, maintenance-due, sensor-stale, pc-stale
  定期进行病毒检测                               av-scan-overdue, av-signatures-old, threat-detected
  禁止擅自修改网络设置                           netcfg-changed
  禁止泄露、外借专业数据信息                     usb-storage
"""

import json
import os
import re
import time

import harness
from harness import SOURCE_DIR, Publisher, Stack, Subscriber, noon_zone, schedule_around_now, wait_for

DEVICES = [
    {"id": "env-1", "hall": "h1", "kind": "env"},
    {"id": "env-2", "hall": "h1", "kind": "env"},
    {"id": "seat-w01", "hall": "h1", "kind": "seat"},
    {"id": "queue", "hall": "h1", "kind": "queue"},
    {"id": "pc-w01", "hall": "h1", "kind": "pc"},
    {"id": "pc-w02", "hall": "h1", "kind": "pc"},
    {"id": "printer-1", "hall": "h1", "kind": "equipment", "type": "printer",
     "service_interval": "90d", "last_service": "2026-01-01"},
    {"id": "plug-1", "hall": "h1", "kind": "plug"},
]
HALLS = [{"id": "h1", "name": "大厅", "windows": [{"id": "w01", "seat": "seat-w01", "pc": "pc-w01"}]}]


def shipped_rules_with_short_waits():
    with open(os.path.join(SOURCE_DIR, "config", "rules.default.conf"), encoding="utf-8") as f:
        text = f.read()
    text = re.sub(r'\bfor = "[^"]*"', 'for = "2s"', text)
    text = re.sub(r'\bfor_when_waiting = "[^"]*"', 'for_when_waiting = "1s"', text)
    names = re.findall(r'name = "([^"]+)"', re.sub(r"#.*", "", text))
    return text, names


def test_every_default_rule_fires():
    rules_text, names = shipped_rules_with_short_waits()
    assert len(names) == 18, names
    zone, offset = noon_zone()
    with Stack("default-rules") as st:
        gw = st.hallgw(devices=DEVICES, halls=HALLS,
                       extra=schedule_around_now(offset) + rules_text)
        gw.timezone = zone
        gw.write_config()
        gw.start()
        sub = Subscriber(st.mqtt, "hall/h1/alerts")
        pub = Publisher(st.mqtt)
        now = time.time()
        send = lambda dev, obj: pub.publish("hall/h1/%s/telemetry" % dev, json.dumps(obj))
        send("env-1", {"co2": 1500, "temperature": 30.5, "humidity": 80, "pm25": 120,
                       "noise_db": 76, "illuminance": 120})
        send("env-2", {"temperature": 15.5})
        send("queue", {"waiting": 6, "longest_wait_s": 2400})
        send("seat-w01", {"presence": False})
        send("pc-w01", {"power": "on", "av_last_scan": now - 10 * 86400,
                        "av_sig_updated": now - 5 * 86400, "net_fp": "fp-approved"})
        send("printer-1", {"status": "paper_out"})
        # The first fingerprint is learnt as the baseline as it is judged,
        # before its point is written; then it changes.
        wait_for("the first fingerprint", lambda: st.influx.rows(
            "SELECT * FROM pc WHERE net_fp = 'fp-approved'"))
        send("pc-w01", {"net_fp": "fp-changed"})
        pub.publish("hall/h1/pc-w01/event", json.dumps(
            {"type": "threat_detected", "signature": "Eicar-Test-Signature", "path": "/tmp/e"}))
        pub.publish("hall/h1/pc-w01/event", json.dumps(
            {"type": "usb_storage_inserted", "vendor": "Kingston", "model": "DT", "serial": "1"}))
        # plug-1 and pc-w02 stay silent.

        def fired():
            got = {m["rule"] for m in sub.json_on("hall/h1/alerts") if m["state"] == "firing"}
            return got if got >= set(names) else None
        try:
            wait_for("every default rule firing", fired, timeout=30)
        except AssertionError:
            got = {m["rule"] for m in sub.json_on("hall/h1/alerts")}
            raise AssertionError("never fired: %s" % sorted(set(names) - got))
        by_rule = {m["rule"]: m for m in sub.json_on("hall/h1/alerts") if m["state"] == "firing"}
        assert by_rule["threat-detected"]["severity"] == "critical"
        assert by_rule["unstaffed"]["window"] == "w01"
        # pc-w01 goes silent too, after its last report: pc-w02 is the one
        # that never reported.
        assert "pc-w02" in [m["device"] for m in sub.json_on("hall/h1/alerts") if m["rule"] == "pc-stale"]
        assert by_rule["sensor-stale"]["device"] == "plug-1" or any(
            m["device"] == "plug-1" for m in sub.json_on("hall/h1/alerts") if m["rule"] == "sensor-stale")
        assert by_rule["temperature-low"]["device"] == "env-2"
        sub.close()
        pub.close()


if __name__ == "__main__":
    harness.run([test_every_default_rule_fires])
