"""Home Assistant MQTT discovery over a real mosquitto: with the
homeassistant block on, the retained discovery configs appear under the
discovery prefix, and their state topics carry what a Home Assistant user
would see (read as Home Assistant reads them: the config first, then its
state_topic through its value_template); the gateway's stop makes every
entity unavailable; off by default nothing is published under the prefix;
and a discovery config someone else publishes is no error of the gateway's."""

import json
import os
import re
import time

import harness
from harness import (FIXTURES_DIR, Publisher, Stack, Subscriber, noon_zone, schedule_around_now,
                     topic_in, wait_for)

DEVICES = [
    {"id": "seat-w01", "hall": "h1", "kind": "seat"},
    {"id": "env-1", "hall": "h1", "kind": "env"},
    {"id": "pc-01", "hall": "h1", "kind": "pc"},
]
HALLS = [{"id": "h1", "name": "政务服务大厅", "windows": [
    {"id": "w01", "name": "综合受理 1", "seat": "seat-w01", "pc": "pc-01"},
    {"id": "w02", "name": "综合受理 2"}]}]
RULES = """
rules = (
  { name = "co2-high"; type = "threshold"; kind = "env"; metric = "co2"; above = 1000.0;
    clear_at = 900.0; for = "1s"; severity = "warning"; },
  { name = "av-scan-overdue"; type = "max_age"; kind = "pc"; metric = "av_last_scan"; max_age = "7d";
    severity = "major"; },
  { name = "av-signatures-old"; type = "max_age"; kind = "pc"; metric = "av_sig_updated";
    max_age = "3d"; severity = "major"; }
);
"""


def gateway(st, ha_block, http=False):
    zone, offset = noon_zone()
    gw = st.hallgw(devices=DEVICES, halls=HALLS, http=http,
                   extra=schedule_around_now(offset) + RULES + ha_block)
    gw.timezone = zone
    # Its own id: node ids and unique ids are made of it, and the shared
    # broker keeps retained configs across tests.
    gw.gateway_id = "gw-" + st.prefix
    gw.write_config()
    return gw


class HomeAssistant:
    """Reads discovery the way Home Assistant does: every retained config
    under the prefix, then the state and availability topics they name."""

    def __init__(self, mqtt, discovery_prefix):
        self.mqtt = mqtt
        self.discovery = Subscriber(mqtt, discovery_prefix + "/#")
        self.prefix = discovery_prefix
        self.states = None

    def configs(self):
        """{topic: config} of the configs seen (an empty one removes it)."""
        out = {}
        for t, p, r in list(self.discovery.messages):
            if t.endswith("/config"):
                out[t] = json.loads(p) if p else None
        return {t: c for t, c in out.items() if c is not None}

    def follow(self, configs):
        """Subscribes to every state and availability topic of configs."""
        topics = set()
        for c in configs.values():
            topics.add(c["state_topic"])
            topics.add(c["availability_topic"])
            if "json_attributes_topic" in c:
                topics.add(c["json_attributes_topic"])
        # The harness writes native topics as under "hall/".
        self.states = Subscriber(self.mqtt, *sorted(topic_in(self.mqtt.prefix, t) for t in topics))

    def last(self, topic):
        got = self.states.payloads(topic_in(self.mqtt.prefix, topic))
        return got[-1][0].decode() if got else None

    def state(self, c):
        """The entity's state as Home Assistant shows it: its state topic's
        last payload through the value_template's meaning, "ON"/"OFF" (or
        None, unknown) for a binary sensor, the value for a sensor;
        "unavailable" when the availability topic says so."""
        if self.last(c["availability_topic"]) == c["payload_not_available"]:
            return "unavailable"
        raw = self.last(c["state_topic"])
        if raw is None:
            return None
        v = json.loads(raw)
        t = c["value_template"]
        if "value_json.staffed" in t:
            return None if v["staffed"] is None else "ON" if v["staffed"] else "OFF"
        if "value_json.open" in t:
            return "ON" if v["open"] else "OFF"
        if "value_json.active_alerts" in t:
            return str(v["active_alerts"])
        m = re.search(r"value_json\.pcs\.get\('([^']+)'\)", t)
        if m:
            pc = v["pcs"].get(m.group(1))
            if pc is None or pc["compliant"] is None:
                return None
            return "OFF" if pc["compliant"] else "ON"  # device_class problem: ON is a problem
        raise AssertionError("a value_template this test does not read: " + t)

    def attributes(self, c):
        raw = self.last(c["json_attributes_topic"])
        m = re.search(r"value_json\.pcs\.get\('([^']+)'", c["json_attributes_template"])
        return json.loads(raw)["pcs"].get(m.group(1)) if raw else None

    def close(self):
        self.discovery.close()
        if self.states:
            self.states.close()


def clear(mqtt, topics):
    """Removes retained configs from the shared broker, as a user would."""
    pub = Publisher(mqtt)
    for t in topics:
        pub.publish(t, b"", retain=True)
    pub.close()


def test_discovered_entities_show_the_halls_windows_and_pcs_and_go_unavailable_at_stop():
    with Stack("ha-on") as st:
        dp = "ha-" + st.prefix
        gw = gateway(st, 'homeassistant = { enabled = true; discovery_prefix = "%s"; };\n' % dp)
        ha = HomeAssistant(st.mqtt, dp)
        gw.start()
        node = "hallgw-" + gw.gateway_id.replace("_", "__").replace(".", "_d").replace("-", "_h")
        want = {
            "%s/binary_sensor/%s/h1-open/config" % (dp, node),
            "%s/sensor/%s/h1-alerts/config" % (dp, node),
            "%s/binary_sensor/%s/h1-window-w01/config" % (dp, node),
            "%s/binary_sensor/%s/h1-window-w02/config" % (dp, node),
            "%s/binary_sensor/%s/h1-pc-pc_h01/config" % (dp, node),
        }
        configs = wait_for("the discovery configs", lambda: want <= set(ha.configs()) and ha.configs())
        assert set(configs) == want, sorted(configs)
        # Retained: a Home Assistant started later finds them.
        late = Subscriber(st.mqtt, dp + "/#")
        wait_for("the retained configs", lambda: want <= {t for t, p, r in late.messages if r})
        late.close()
        # One device for the hall, available with the gateway's LWT.
        assert {json.dumps(c["device"]["identifiers"]) for c in configs.values()} == \
            {json.dumps(["%s-h1" % node])}
        for c in configs.values():
            assert c["availability_topic"] == harness.topic_out(st.mqtt.prefix, gw.status_topic)
        assert len({c["unique_id"] for c in configs.values()}) == len(configs)

        ha.follow(configs)
        c_w01 = configs["%s/binary_sensor/%s/h1-window-w01/config" % (dp, node)]
        c_open = configs["%s/binary_sensor/%s/h1-open/config" % (dp, node)]
        c_alerts = configs["%s/sensor/%s/h1-alerts/config" % (dp, node)]
        c_pc = configs["%s/binary_sensor/%s/h1-pc-pc_h01/config" % (dp, node)]

        # The hall is open (the schedule is around now), nobody at w01 yet.
        wait_for("the hall open", lambda: ha.state(c_open) == "ON")
        assert ha.state(c_alerts) == "0"
        assert ha.state(c_pc) is None  # nothing reported: unknown

        pub = Publisher(st.mqtt)
        pub.publish("hall/h1/seat-w01/telemetry", json.dumps({"presence": True}))
        wait_for("w01 staffed", lambda: ha.state(c_w01) == "ON")
        pub.publish("hall/h1/seat-w01/telemetry", json.dumps({"presence": False}))
        wait_for("w01 unstaffed", lambda: ha.state(c_w01) == "OFF")

        pub.publish("hall/h1/env-1/telemetry", json.dumps({"co2": 1500}))
        wait_for("one active alert", lambda: ha.state(c_alerts) == "1", timeout=15)

        now = time.time()
        pub.publish("hall/h1/pc-01/telemetry", json.dumps({
            "power": "on", "av_engine": "clamav", "av_realtime": True, "av_sig_updated": int(now - 3600),
            "av_last_scan": int(now - 86400), "av_threats": 0}))
        wait_for("pc-01 compliant", lambda: ha.state(c_pc) == "OFF")
        pub.publish("hall/h1/pc-01/telemetry", json.dumps({"av_realtime": False}))
        wait_for("pc-01 not compliant", lambda: ha.state(c_pc) == "ON")
        attrs = ha.attributes(c_pc)
        assert attrs["problems"] == ["realtime_off"] and attrs["av_realtime"] is False, attrs
        assert attrs["window"] == "w01"
        pub.close()

        # The gateway stops: every entity unavailable.
        assert gw.stop() == 0
        wait_for("entities unavailable", lambda: all(ha.state(c) == "unavailable" for c in configs.values()))
        ha.close()
        clear(st.mqtt, want)


def test_a_reload_removes_the_entities_of_a_removed_window_and_hall():
    with Stack("ha-reload") as st:
        import signal
        dp = "ha-" + st.prefix
        gw = gateway(st, 'homeassistant = { enabled = true; discovery_prefix = "%s"; };\n' % dp)
        gw.halls = HALLS + [{"id": "h2", "windows": [{"id": "x1"}]}]
        gw.write_config()
        ha = HomeAssistant(st.mqtt, dp)
        gw.start()
        wait_for("h2's configs", lambda: any("/h2-window-x1/" in t for t in ha.configs()))
        before = set(ha.configs())
        state_h2 = Subscriber(st.mqtt, "hall/h2/state")
        wait_for("h2's state", lambda: state_h2.payloads("hall/h2/state"))

        gw.halls = [{"id": "h1", "name": "政务服务大厅", "windows": [HALLS[0]["windows"][0]]}]
        gw.write_config()
        gw.signal(signal.SIGHUP)
        removed = {t for t in before if "/h2-" in t or "/h1-window-w02/" in t}
        assert len(removed) == 4, removed  # h2 open, alerts, x1; h1's w02
        wait_for("the removed entities' empty configs",
                 lambda: removed.isdisjoint(ha.configs()))
        assert set(ha.configs()) == before - removed
        # Their state topic is emptied too.
        wait_for("h2's state removed", lambda: state_h2.payloads("hall/h2/state")[-1][0] == b"")
        state_h2.close()
        ha.close()
        assert gw.stop() == 0
        clear(st.mqtt, before)


def test_a_broker_that_lost_everything_gets_the_configs_again_at_the_reconnect():
    with Stack("ha-reconnect", private=("mqtt",)) as st:
        dp = "ha-" + st.prefix
        gw = gateway(st, 'homeassistant = { enabled = true; discovery_prefix = "%s"; };\n' % dp)
        ha = HomeAssistant(st.mqtt, dp)
        gw.start()
        n = len(wait_for("the configs", lambda: len(ha.configs()) == 5 and ha.configs()))
        ha.close()
        # The broker keeps nothing across this restart (no persistence).
        st.mqtt.kill()
        st.mqtt.start()
        wait_for("the reconnect", lambda: gw.log_text().count("connected to") >= 2, timeout=30)
        ha = HomeAssistant(st.mqtt, dp)
        configs = wait_for("the configs again", lambda: len(ha.configs()) == n and ha.configs())
        assert all(r for t, p, r in ha.discovery.messages), "not retained"
        ha.follow(configs)
        c_open = [c for t, c in configs.items() if t.endswith("/h1-open/config")][0]
        wait_for("the hall state again", lambda: ha.state(c_open) == "ON")
        ha.close()
        assert gw.stop() == 0


def test_off_by_default_nothing_is_published_under_the_prefix():
    with Stack("ha-off") as st:
        gw = gateway(st, "")
        ha = Subscriber(st.mqtt, "homeassistant/#")
        windows = Subscriber(st.mqtt, "hall/h1/windows/+", "hall/h1/state")
        gw.start()
        pub = Publisher(st.mqtt)
        pub.publish("hall/h1/seat-w01/telemetry", json.dumps({"presence": True}))
        # The gateway publishes its state (a window staffed) ...
        wait_for("w01 staffed", lambda: any(m.get("staffed") for m in windows.json_on("hall/h1/windows/w01")))
        pub.close()
        assert gw.stop() == 0
        # ... and nothing of its own for Home Assistant, nor a hall state topic.
        mine = [t for t, p, r in ha.messages if gw.gateway_id.replace("-", "_h") in t or
                st.prefix.encode() in p]
        assert mine == [], mine
        assert windows.payloads("hall/h1/state") == []
        ha.close()
        windows.close()


def test_a_foreign_discovery_config_is_not_an_error():
    with open(os.path.join(FIXTURES_DIR, "homeassistant_discovery.json"), encoding="utf-8") as f:
        z2m = json.load(f)
    with Stack("ha-foreign") as st:
        # The default prefix, the one Zigbee2MQTT publishes under too.
        gw = gateway(st, "homeassistant = { enabled = true; };\n", http=True)
        gw.start()
        ha = HomeAssistant(st.mqtt, "homeassistant")
        mine = wait_for("the gateway's configs", lambda: [
            t for t, c in ha.configs().items() if c["device"]["identifiers"][0].startswith(
                "hallgw-" + gw.gateway_id.replace("-", "_h"))])

        def errors():
            return sum(v for (name, labels), v in gw.metrics().items()
                       if name == "hallgw_messages_rejected_total")

        def received():
            return sum(v for (name, labels), v in gw.metrics().items()
                       if name == "hallgw_messages_received_total")

        before_errors, before_received = errors(), received()
        pub = Publisher(st.mqtt)
        # Zigbee2MQTT's discovery config of one of its sensors, and Home
        # Assistant's own status.
        pub.publish(z2m["topic"], json.dumps(z2m["payload"]))
        pub.publish("homeassistant/status", "online")
        # Then a reading of the gateway's own: once it is counted, the
        # messages before it were taken, if they came at all.
        pub.publish("hall/h1/env-1/telemetry", json.dumps({"temperature": 21.5}))
        wait_for("the reading", lambda: received() > before_received)
        assert received() == before_received + 1, "the gateway took Home Assistant traffic"
        assert errors() == before_errors, {k: v for k, v in gw.metrics().items()
                                           if k[0] == "hallgw_messages_rejected_total" and v}
        pub.close()
        ha.close()
        assert gw.stop() == 0
        clear(st.mqtt, mine)


if __name__ == "__main__":
    harness.run([
        test_discovered_entities_show_the_halls_windows_and_pcs_and_go_unavailable_at_stop,
        test_a_reload_removes_the_entities_of_a_removed_window_and_hall,
        test_a_broker_that_lost_everything_gets_the_configs_again_at_the_reconnect,
        test_off_by_default_nothing_is_published_under_the_prefix,
        test_a_foreign_discovery_config_is_not_an_error,
    ])
