"""A hall as sites really wire it, end to end with the real broker, InfluxDB
and the gateway: Zigbee2MQTT on a second base topic ("zigbee"), Tasmota with
the FullTopic "tasmota/%topic%/%prefix%/" reporting in Fahrenheit, a Shelly
Plug S (first generation, energy in watt-minutes) and a Shelly Plus 1PM
(Gen2, energy in Wh), each bound in the config. Their readings land in
InfluxDB in the units of docs/topics.md (°C, kWh), every plug is switched
off at the nightly power-off on its own layout and verified off, and a
device named only in its coordinator's device list is listed as unbound.

Foreign topics are global on a shared broker: every name carries this
process's id, and nothing is retained."""

import json
import os

import harness
from harness import Publisher, Stack, Subscriber, wait_for
from test_enforcement import Gateway, http
from test_layouts import FakePlug
from test_shelly import FakeShelly

U = "site%d" % os.getpid()
PLUG_Z = "%s desk plug" % U           # on base "zigbee"
SEAT_Z = "%s/seat 1" % U              # on base "zigbee", a '/' in its name
PLUG_T = "%s.plug" % U                # Tasmota topic with a dot
AIR_T = "%s.air" % U
GEN1 = "shellyplug-s-%X" % (os.getpid() & 0xFFFFFF)
GEN2 = "shellyplus1pm-%x" % (os.getpid() & 0xFFFFFF)
NEW_Z = "%s new seat" % U             # known only from the bridge's device list
LEAD_S = 15

DEVICES = [
    {"id": "seat-w01", "hall": "h1", "kind": "seat", "source": "zigbee2mqtt:zigbee/" + SEAT_Z},
    {"id": "plug-w01", "hall": "h1", "kind": "plug", "source": "zigbee2mqtt:zigbee/" + PLUG_Z},
    {"id": "plug-w02", "hall": "h1", "kind": "plug", "source": "tasmota:" + PLUG_T},
    {"id": "env-1", "hall": "h1", "kind": "env", "source": "tasmota:" + AIR_T},
    {"id": "plug-w03", "hall": "h1", "kind": "plug", "source": "shelly:" + GEN1},
    {"id": "plug-w04", "hall": "h1", "kind": "plug", "source": "shelly:" + GEN2},
]
HALLS = [{"id": "h1", "windows": [{"id": "w01", "seat": "seat-w01", "plug": "plug-w01"},
                                  {"id": "w02", "plug": "plug-w02"},
                                  {"id": "w03", "plug": "plug-w03"},
                                  {"id": "w04", "plug": "plug-w04"}]}]
EXTRA = """sources = {
  zigbee2mqtt = { base_topics = ["zigbee2mqtt", "zigbee"]; };
  tasmota = { full_topics = ["tasmota/%topic%/%prefix%/"]; };
};
"""


def z2m_answer(payload):
    return "zigbee/" + PLUG_Z, json.dumps({"state": json.loads(payload)["state"], "power": "0"})


def tasmota_answer(payload):
    return "tasmota/%s/stat/POWER" % PLUG_T, payload


def test_a_site_binds_reads_in_normal_units_and_switches_every_family_off():
    with Stack("site") as st:
        sub = Subscriber(st.mqtt, "zigbee/%s/set" % PLUG_Z, "tasmota/%s/cmnd/POWER" % PLUG_T,
                         "shellies/%s/relay/0/command" % GEN1, "%s/rpc" % GEN2)
        plug_z = FakePlug(st.mqtt, "zigbee/%s/set" % PLUG_Z, z2m_answer)
        plug_t = FakePlug(st.mqtt, "tasmota/%s/cmnd/POWER" % PLUG_T, tasmota_answer)
        g = Gateway(st, DEVICES, HALLS, 'grace = "1s"; verify_within = "20s"; plug_delay = "0s";',
                    extra=EXTRA, lead_s=LEAD_S)
        # 120000 Wmin = 2 kWh; 3250 Wh = 3.25 kWh.
        gen1 = FakeShelly(st.mqtt, GEN1, 1, power_w=40.0, energy=120000)
        gen2 = FakeShelly(st.mqtt, GEN2, 2, power_w=35.5, energy=3250)
        pub = Publisher(st.mqtt)
        try:
            # Zigbee2MQTT writes numbers as strings on some devices, and its
            # attribute output sends one plain value per topic.
            pub.publish("zigbee/" + PLUG_Z, json.dumps({"state": "ON", "power": "41.50",
                                                         "last_seen": 1764878400000}))
            pub.publish("zigbee/%s/occupancy" % SEAT_Z, "true")
            pub.publish("tasmota/%s/tele/SENSOR" % AIR_T, json.dumps(
                {"Time": "2026-12-04T20:00:00", "SHT3X": {"Temperature": 77.0, "Humidity": 40.0},
                 "TempUnit": "F"}))
            pub.publish("tasmota/%s/tele/SENSOR" % PLUG_T, json.dumps(
                {"Time": "2026-12-04T20:00:00", "ENERGY": {"Total": 1.25, "Power": 20}}))
            pub.publish("tasmota/%s/stat/POWER" % PLUG_T, "ON")
            # The "zigbee" coordinator's device list names one device more.
            pub.publish("zigbee/bridge/devices", json.dumps([
                {"friendly_name": "Coordinator", "type": "Coordinator"},
                {"friendly_name": SEAT_Z, "type": "EndDevice"},
                {"friendly_name": PLUG_Z, "type": "Router"},
                {"friendly_name": NEW_Z, "type": "EndDevice",
                 "definition": {"model": "RTCGQ11LM", "vendor": "Aqara",
                                "description": "Motion sensor"}}]))

            def point(measurement, device, **fields):
                rows = st.influx.rows("SELECT * FROM %s WHERE device = '%s'" % (measurement, device))
                return all(any(r.get(k) == v for r in rows) for k, v in fields.items())

            checks = [
                ("the Zigbee2MQTT plug, its string number a number",
                 lambda: point("plug", "plug-w01", on=True, power_w=41.5)),
                ("the Zigbee2MQTT seat's attribute output",
                 lambda: point("occupancy", "seat-w01", presence=True)),
                ("the Tasmota sensor in °C", lambda: point("env", "env-1", temperature=25.0,
                                                            humidity=40.0)),
                ("the Tasmota plug", lambda: point("plug", "plug-w02", power_w=20, energy_kwh=1.25)),
                ("the Gen1 plug in kWh", lambda: point("plug", "plug-w03", on=True, power_w=40.0,
                                                        energy_kwh=2.0)),
                ("the Gen2 plug in kWh", lambda: point("plug", "plug-w04", on=True, power_w=35.5,
                                                        energy_kwh=3.25)),
            ]
            for what, check in checks:
                wait_for(what, check, timeout=LEAD_S)
            rows = st.influx.rows("SELECT * FROM plug WHERE device = 'plug-w01'")
            assert all(r.get("last_seen") is None for r in rows), rows
            assert not sub.messages, "a command before poweroff_at: %r" % sub.messages

            # The device nobody has bound yet is listed, with its source to
            # paste (under its base); the bound ones are not.
            def unbound():
                code, body = http("GET", g.api + "/devices/unbound")
                assert code == 200, (code, body)
                return [d["source"] for d in body["devices"]]
            wait_for("the unbound seat listed",
                     lambda: "zigbee2mqtt:zigbee/" + NEW_Z in unbound(), timeout=10)
            listed = unbound()
            assert "zigbee2mqtt:zigbee/" + SEAT_Z not in listed, listed
            assert "zigbee2mqtt:zigbee/" + PLUG_Z not in listed, listed

            # The night: every plug off on its own layout, and verified.
            for dev in ("plug-w01", "plug-w02", "plug-w03", "plug-w04"):
                wait_for("%s verified off" % dev, lambda: "plug_off" in g.step_names(dev),
                         timeout=LEAD_S + 25)
                assert all(s["ok"] for s in g.steps(dev)), g.steps(dev)
            assert sub.payloads("zigbee/%s/set" % PLUG_Z) == [(b'{"state":"OFF"}', False)]
            assert sub.payloads("tasmota/%s/cmnd/POWER" % PLUG_T) == [(b"OFF", False)]
            assert sub.payloads("shellies/%s/relay/0/command" % GEN1) == [(b"off", False)]
            assert [m["params"] for m in sub.json_on("%s/rpc" % GEN2)] == [{"id": 0, "on": False}]
            wait_for("the Gen1 plug off in InfluxDB",
                     lambda: point("plug", "plug-w03", on=False), timeout=10)
            assert not g.gw.dead()
        finally:
            pub.close()
            sub.close()
            plug_z.close()
            plug_t.close()
            gen1.close()
            gen2.close()


if __name__ == "__main__":
    harness.run([test_a_site_binds_reads_in_normal_units_and_switches_every_family_off])
