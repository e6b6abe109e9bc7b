"""A `stale` rule fires when a device says it is offline (docs/rules.md: "its
status or MQTT last will says it is offline"), at once and not after its
`for` of silence, and resolves when the device is back online and reports:
once with the retained "offline" a device's last will leaves on
hall/<hall>/<device>/status, published by hand, and once through a real last
will, a device whose connection drops without a DISCONNECT."""

import json
import time

import harness
from harness import Publisher, Stack, Subscriber, wait_for

DEVICES = [{"id": "env-1", "hall": "h1", "kind": "env"},
           {"id": "env-2", "hall": "h1", "kind": "env"}]
# Ten minutes of silence: no device here is silent that long, so an alert is
# the offline status's.
RULES = """rules = (
  { name = "sensor-stale"; type = "stale"; kind = "env"; for = "10m"; severity = "warning";
    when = "always"; }
);
"""


def transitions(sub, alert_id):
    return [m for m in sub.json_on("hall/h1/alerts") if m["id"] == alert_id]


def states(sub, alert_id):
    return [m["state"] for m in transitions(sub, alert_id)]


class Device:
    """A device's own MQTT connection with its last will, as firmware has:
    "offline", retained, on its status topic."""

    def __init__(self, mqtt, device):
        import paho.mqtt.client as paho
        self.mqtt = mqtt
        self.status = mqtt.topic("hall/h1/%s/status" % device)
        self.telemetry = mqtt.topic("hall/h1/%s/telemetry" % device)
        self.client = paho.Client(client_id=harness.unique_client_id(device), clean_session=True)
        self.client.will_set(self.status, "offline", qos=1, retain=True)
        self.client.connect("127.0.0.1", mqtt.port, keepalive=30)
        self.client.loop_start()
        self.client.publish(self.status, "online", qos=1, retain=True).wait_for_publish(10)

    def report(self, reading):
        self.client.publish(self.telemetry, json.dumps(reading), qos=1).wait_for_publish(10)

    def drop(self):
        """The connection goes without a DISCONNECT (power lost, cable
        pulled): the broker publishes the will."""
        self.client.loop_stop()
        self.client.socket().close()


def test_an_offline_status_fires_the_stale_alert_at_once_and_online_resolves_it():
    with Stack("stale-status") as st:
        gw = st.hallgw(devices=DEVICES, extra=RULES)
        gw.start()
        sub = Subscriber(st.mqtt, "hall/h1/alerts")
        pub = Publisher(st.mqtt)
        pub.publish("hall/h1/env-1/status", "online", retain=True)
        pub.publish("hall/h1/env-1/telemetry", json.dumps({"temperature": 21.5}))
        wait_for("the reading", lambda: st.influx.rows("SELECT * FROM env WHERE device = 'env-1'"))
        assert states(sub, "sensor-stale:env-1") == []

        # What the device's last will leaves: "offline", retained.
        t0 = time.time()
        pub.publish("hall/h1/env-1/status", "offline", retain=True)
        (fired,) = wait_for("sensor-stale:env-1 firing at the offline status (not after for = 10m)",
                            lambda: transitions(sub, "sensor-stale:env-1"), timeout=10)
        harness.log("fired %.1f s after the offline status" % (time.time() - t0))
        assert fired["state"] == "firing" and fired["device"] == "env-1", fired
        assert "offline" in fired["summary"], fired
        # The status is stored too, as the device's online field.
        wait_for("the offline status point", lambda: st.influx.rows(
            "SELECT * FROM env WHERE device = 'env-1' AND online = false"))
        rows = wait_for("the alert point", lambda: st.influx.rows(
            "SELECT * FROM alert WHERE alert_id = 'sensor-stale:env-1'"))
        assert rows[0]["state"] == "firing", rows

        # Back: online, and reporting.
        pub.publish("hall/h1/env-1/status", "online", retain=True)
        pub.publish("hall/h1/env-1/telemetry", json.dumps({"temperature": 21.6}))
        wait_for("sensor-stale:env-1 resolved",
                 lambda: states(sub, "sensor-stale:env-1") == ["firing", "resolved"], timeout=10)
        # The other sensor was never offline, nor silent for 10 minutes.
        assert states(sub, "sensor-stale:env-2") == []
        sub.close()
        pub.close()


def test_a_real_last_will_fires_the_stale_alert_and_the_device_back_resolves_it():
    with Stack("stale-will") as st:
        gw = st.hallgw(devices=DEVICES, extra=RULES)
        gw.start()
        sub = Subscriber(st.mqtt, "hall/h1/alerts", "hall/h1/env-2/status")
        dev = Device(st.mqtt, "env-2")
        dev.report({"temperature": 22.5})
        wait_for("the reading", lambda: st.influx.rows("SELECT * FROM env WHERE device = 'env-2'"))

        t0 = time.time()
        dev.drop()
        wait_for("the will, published by the broker",
                 lambda: (b"offline", False) in sub.payloads("hall/h1/env-2/status"), timeout=10)
        (fired,) = wait_for("sensor-stale:env-2 firing at the will (not after for = 10m)",
                            lambda: transitions(sub, "sensor-stale:env-2"), timeout=10)
        harness.log("fired %.1f s after the connection dropped" % (time.time() - t0))
        assert fired["state"] == "firing" and "offline" in fired["summary"], fired

        # The device comes back: a new connection says online and reports.
        dev = Device(st.mqtt, "env-2")
        dev.report({"temperature": 22.6})
        wait_for("sensor-stale:env-2 resolved",
                 lambda: states(sub, "sensor-stale:env-2") == ["firing", "resolved"], timeout=10)
        dev.client.disconnect()
        dev.client.loop_stop()
        assert states(sub, "sensor-stale:env-1") == []
        sub.close()


if __name__ == "__main__":
    harness.run([test_an_offline_status_fires_the_stale_alert_at_once_and_online_resolves_it,
                 test_a_real_last_will_fires_the_stale_alert_and_the_device_back_resolves_it])
