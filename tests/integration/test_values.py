"""Values as devices send them, end to end (docs/topics.md "Values",
docs/rules.md `is`): a threshold rule with `is = false` raises its alert on
the alerts topic while a PC's av_realtime is false and resolves it when it
is true again, a printer's string status is judged by `is = "paper_out"`,
and a Zigbee2MQTT plug's power written as a string ("100.00") lands in
InfluxDB as the number 100, while its last_seen lands nowhere."""

import json
import os

import harness
from harness import Publisher, Stack, Subscriber, wait_for

RULES = """rules = (
  { name = "av-realtime-off"; type = "threshold"; kind = "pc"; metric = "av_realtime";
    is = false; severity = "major"; },
  { name = "paper-out"; type = "threshold"; kind = "equipment"; metric = "status";
    is = "paper_out"; }
);
"""


def transitions(sub, alert_id):
    return [m for m in sub.json_on("hall/h1/alerts") if m["id"] == alert_id]


def states(sub, alert_id):
    return [m["state"] for m in transitions(sub, alert_id)]


def test_an_is_false_rule_fires_while_false_and_resolves_when_true():
    devices = [{"id": "pc-1", "hall": "h1", "kind": "pc"},
               {"id": "printer-1", "hall": "h1", "kind": "equipment"}]
    with Stack("values-is") as st:
        gw = st.hallgw(devices=devices, extra=RULES)
        gw.start()
        sub = Subscriber(st.mqtt, "hall/h1/alerts")
        pub = Publisher(st.mqtt)

        pub.publish("hall/h1/pc-1/telemetry", json.dumps({"av_realtime": True, "cpu_pct": 5}))
        wait_for("the first reading", lambda: st.influx.rows(
            "SELECT * FROM pc WHERE device = 'pc-1'"))
        assert states(sub, "av-realtime-off:pc-1") == []

        pub.publish("hall/h1/pc-1/telemetry", json.dumps({"av_realtime": False, "cpu_pct": 6}))
        (fired,) = wait_for("av-realtime-off:pc-1 firing",
                            lambda: transitions(sub, "av-realtime-off:pc-1"), timeout=15)
        assert fired["state"] == "firing", fired
        assert fired["severity"] == "major", fired
        assert fired["summary"] == "av_realtime is false", fired

        pub.publish("hall/h1/pc-1/telemetry", json.dumps({"av_realtime": True, "cpu_pct": 7}))
        wait_for("av-realtime-off:pc-1 resolved",
                 lambda: states(sub, "av-realtime-off:pc-1") == ["firing", "resolved"], timeout=15)

        # A string status of a native device is judged as it is.
        pub.publish("hall/h1/printer-1/telemetry", json.dumps({"status": "ok"}))
        pub.publish("hall/h1/printer-1/telemetry", json.dumps({"status": "paper_out"}))
        (paper,) = wait_for("paper-out:printer-1 firing",
                            lambda: transitions(sub, "paper-out:printer-1"), timeout=15)
        assert paper["summary"] == "status is paper_out", paper
        pub.publish("hall/h1/printer-1/telemetry", json.dumps({"status": "ok"}))
        wait_for("paper-out:printer-1 resolved",
                 lambda: states(sub, "paper-out:printer-1") == ["firing", "resolved"], timeout=15)
        assert not gw.dead()


def test_a_power_written_as_a_string_lands_in_influxdb_as_a_number():
    # Foreign topics carry the device's own name: one of this run's own.
    name = "values_plug_%d" % os.getpid()
    devices = [{"id": "plug-z9", "hall": "h1", "kind": "plug", "source": "zigbee2mqtt:" + name}]
    with Stack("values-string") as st:
        gw = st.hallgw(devices=devices)
        gw.start()
        pub = Publisher(st.mqtt)
        pub.publish("zigbee2mqtt/" + name, json.dumps(
            {"state": "ON", "power": "100.00", "energy": "12.5", "linkquality": None,
             "last_seen": 1764150000123}))
        (row,) = wait_for("the plug's point", lambda: st.influx.rows(
            "SELECT * FROM plug WHERE device = 'plug-z9'"))
        assert row["power_w"] == 100 and not isinstance(row["power_w"], str), row
        assert row["energy_kwh"] == 12.5, row
        assert row["on"] is True, row
        assert row.get("last_seen") is None and row.get("linkquality") is None, row
        fields = {v[0]: v[1] for s in st.influx.query("SHOW FIELD KEYS FROM plug")
                  for v in s["values"]}
        assert fields["power_w"] == "float", fields
        assert "last_seen" not in fields, fields
        assert not gw.dead()


if __name__ == "__main__":
    harness.run([test_an_is_false_rule_fires_while_false_and_resolves_when_true,
                 test_a_power_written_as_a_string_lands_in_influxdb_as_a_number])
