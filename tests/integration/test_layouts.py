"""Topic layouts as sites configure them, end to end with the real broker
and InfluxDB: Zigbee2MQTT on two base topics ("zigbee2mqtt" and "zigbee"),
with friendly names holding '/' and spaces (a leading one too) and an
attribute output, and Tasmota with FullTopic "tasmota/%topic%/%prefix%/".
What a user sees is asserted: the points in InfluxDB, the nightly power-off
commands on each plug's own topics and the plugs verified off, and one
bridge-offline alert (not a stale alert per device) while the "zigbee"
coordinator is offline, resolved when it is back.

Foreign topics are global on a shared broker: every friendly name and
Tasmota topic carries this process's id, and nothing is retained."""

import json
import os
import signal
import threading
import time

import harness
from harness import Publisher, Stack, Subscriber, wait_for
from test_enforcement import Gateway, alert_states

U = "lay%d" % os.getpid()
AIR_Z = "%s/1F air" % U            # base zigbee2mqtt: '/' and a space
SEAT_Z = " %s seat" % U            # base zigbee: a leading space
PLUG_Z = "%s plug" % U             # base zigbee
AIR_T = "%s.air" % U               # Tasmota topics may hold dots
PLUG_T = "%s.plug" % U
LEAD_S = 30  # poweroff_at this far ahead: the bridge is checked before

DEVICES = [
    {"id": "air-z", "hall": "h1", "kind": "env", "source": "zigbee2mqtt:zigbee2mqtt/" + AIR_Z},
    {"id": "seat-z", "hall": "h1", "kind": "seat", "source": "zigbee2mqtt:zigbee/" + SEAT_Z},
    {"id": "plug-z", "hall": "h1", "kind": "plug", "source": "zigbee2mqtt:zigbee/" + PLUG_Z},
    {"id": "air-t", "hall": "h1", "kind": "env", "source": "tasmota:" + AIR_T},
    {"id": "plug-t", "hall": "h1", "kind": "plug", "source": "tasmota:" + PLUG_T},
]
HALLS = [{"id": "h1", "windows": [{"id": "w01", "plug": "plug-z"}, {"id": "w02", "plug": "plug-t"}]}]
EXTRA = """sources = {
  zigbee2mqtt = { base_topics = ["zigbee2mqtt", "zigbee"]; };
  tasmota = { full_topics = ["tasmota/%topic%/%prefix%/"]; };
};
rules = ( { name = "silent"; type = "stale"; for = "6s"; when = "always"; } );
"""


class FakePlug:
    """A plug that answers its command topic with its new state."""

    def __init__(self, mqtt, command_topic, answer):
        import paho.mqtt.client as paho
        self.received = []
        self.answer = answer
        self.client = paho.Client(client_id=harness.unique_client_id("plug"))
        self.client.on_message = self._on_message
        subscribed = threading.Event()
        self.client.on_subscribe = lambda *a: subscribed.set()
        self.client.connect("127.0.0.1", mqtt.port, keepalive=30)
        self.client.loop_start()
        self.client.subscribe(command_topic, qos=1)
        assert subscribed.wait(10)

    def _on_message(self, client, userdata, msg):
        payload = msg.payload.decode()
        self.received.append((msg.topic, payload))
        topic, reply = self.answer(payload)
        client.publish(topic, reply, qos=1)

    def close(self):
        self.client.disconnect()
        self.client.loop_stop()


def z2m_answer(payload):
    return "zigbee/" + PLUG_Z, json.dumps({"state": json.loads(payload)["state"], "power": 0})


def tasmota_answer(payload):
    return "tasmota/%s/stat/POWER" % PLUG_T, payload


def firing(sub, alert_id):
    return alert_states(sub, alert_id).count("firing")


def test_two_bases_and_a_fulltopic_read_switch_off_and_say_a_bridge_is_down_once():
    with Stack("layouts") as st:
        sub = Subscriber(st.mqtt, "hall/h1/alerts")
        plug_z = FakePlug(st.mqtt, "zigbee/%s/set" % PLUG_Z, z2m_answer)
        plug_t = FakePlug(st.mqtt, "tasmota/%s/cmnd/POWER" % PLUG_T, tasmota_answer)
        g = Gateway(st, DEVICES, HALLS, 'grace = "1s"; verify_within = "20s"; plug_delay = "0s";',
                    extra=EXTRA, lead_s=LEAD_S)
        pub = Publisher(st.mqtt)
        try:
            pub.publish("zigbee/bridge/state", json.dumps({"state": "online"}))
            pub.publish("zigbee2mqtt/" + AIR_Z, json.dumps({"temperature": 22.5, "humidity": 41}))
            pub.publish("zigbee/%s/occupancy" % SEAT_Z, "true")
            pub.publish("zigbee/" + PLUG_Z, json.dumps({"state": "ON", "power": 41.5}))
            pub.publish("tasmota/%s/tele/SENSOR" % AIR_T,
                        json.dumps({"Time": "2026-12-04T20:00:00",
                                    "SCD40": {"CarbonDioxide": 618, "Temperature": 23.8}}))
            pub.publish("tasmota/%s/stat/POWER" % PLUG_T, "ON")

            # Every reading lands in InfluxDB under its hall device.
            def point(q):
                return wait_for(q, lambda: st.influx.rows(q), timeout=20)[0]

            assert point("SELECT temperature FROM env WHERE device = 'air-z'")["temperature"] == 22.5
            assert point("SELECT presence FROM occupancy WHERE device = 'seat-z'")["presence"] is True
            assert point("SELECT power_w FROM plug WHERE device = 'plug-z'")["power_w"] == 41.5
            assert point("SELECT co2 FROM env WHERE device = 'air-t'")["co2"] == 618
            assert point("SELECT \"on\" FROM plug WHERE device = 'plug-t'")["on"] is True

            # The "zigbee" coordinator goes offline: one alert for the base.
            pub.publish("zigbee/bridge/state", "offline")
            alert = wait_for("bridge-offline:zigbee", lambda: [
                m for m in sub.json_on("hall/h1/alerts") if m["id"] == "bridge-offline:zigbee"],
                timeout=15)[0]
            assert alert["state"] == "firing" and alert["kind"] == "equipment", alert
            wait_for("the bridge offline in the state", lambda: {
                b["base"]: b["state"] for b in g.state()["bridges"]} == {
                "zigbee2mqtt": "unknown", "zigbee": "offline"}, timeout=5)
            # The other base's device goes stale as usual; those behind the
            # offline bridge do not, however long they are silent.
            wait_for("silent:air-z", lambda: firing(sub, "silent:air-z") == 1, timeout=20)
            wait_for("silent:plug-t", lambda: firing(sub, "silent:plug-t") == 1, timeout=10)
            time.sleep(2)  # two more evaluations: nothing must come
            ids = [m["id"] for m in sub.json_on("hall/h1/alerts")]
            assert "silent:seat-z" not in ids and "silent:plug-z" not in ids, ids
            assert firing(sub, "bridge-offline:zigbee") == 1, alert_states(sub, "bridge-offline:zigbee")

            # Back online: the alert resolves.
            pub.publish("zigbee/bridge/state", json.dumps({"state": "online"}))
            wait_for("bridge resolved",
                     lambda: alert_states(sub, "bridge-offline:zigbee")[-1] == "resolved", timeout=10)
            # The state answer is a snapshot made every second or so.
            wait_for("the bridge online in the state", lambda: {
                b["base"]: b["state"] for b in g.state()["bridges"]}["zigbee"] == "online", timeout=5)

            # The nightly power-off: each plug on its own layout.
            wait_for("both plugs commanded", lambda: plug_z.received and plug_t.received,
                     timeout=LEAD_S + 20)
            assert plug_z.received[0] == ("zigbee/%s/set" % PLUG_Z, '{"state":"OFF"}'), plug_z.received
            assert plug_t.received[0] == ("tasmota/%s/cmnd/POWER" % PLUG_T, "OFF"), plug_t.received
            for dev in ("plug-z", "plug-t"):
                wait_for(dev + " verified off", lambda: "plug_off" in g.step_names(dev), timeout=20)
                assert all(s["ok"] for s in g.steps(dev)), g.steps(dev)
        finally:
            pub.close()
            sub.close()
            plug_z.close()
            plug_t.close()


def test_a_bridge_alert_resolves_where_it_was_raised_after_a_reload():
    """The alert goes to the hall of the base's first device; a reload that
    makes a device of another hall the first must not leave it firing."""
    base = "zb%d" % os.getpid()
    seat_1 = {"id": "seat-1", "hall": "h1", "kind": "seat", "source": "zigbee2mqtt:%s/seat 1" % base}
    seat_2 = {"id": "seat-2", "hall": "h2", "kind": "seat", "source": "zigbee2mqtt:%s/seat 2" % base}
    extra = 'sources = { zigbee2mqtt = { base_topics = ["zigbee2mqtt", "%s"]; }; };\n' % base
    with Stack("bridge-reload") as st:
        sub = Subscriber(st.mqtt, "hall/h1/alerts", "hall/h2/alerts")
        gw = st.hallgw(devices=[seat_1, seat_2], halls=[{"id": "h1"}, {"id": "h2"}], extra=extra)
        gw.start()
        pub = Publisher(st.mqtt)
        try:
            alert_id = "bridge-offline:" + base
            pub.publish(base + "/bridge/state", "offline")
            wait_for("the bridge alert in h1", lambda: "firing" in alert_states(sub, alert_id),
                     timeout=15)
            assert [m for m in sub.json_on("hall/h1/alerts") if m["id"] == alert_id]
            # The base's first device is now in h2.
            gw.devices = [seat_2, seat_1]
            gw.write_config()
            gw.signal(signal.SIGHUP)
            time.sleep(2)
            pub.publish(base + "/bridge/state", json.dumps({"state": "online"}))
            wait_for("the bridge alert resolved in h1",
                     lambda: [m for m in sub.json_on("hall/h1/alerts")
                              if m["id"] == alert_id and m["state"] == "resolved"], timeout=15)
            assert not [m for m in sub.json_on("hall/h2/alerts") if m["id"] == alert_id]
        finally:
            pub.close()
            sub.close()


if __name__ == "__main__":
    harness.run([test_two_bases_and_a_fulltopic_read_switch_off_and_say_a_bridge_is_down_once,
                 test_a_bridge_alert_resolves_where_it_was_raised_after_a_reload])
