"""Shelly plugs of both generations end to end, with a real broker, InfluxDB
and the gateway: a Plug S (Gen1, shellies/<id>/relay/0...) and a Plus 1PM
(Gen2, <id>/status/switch:0), each bound in the config by "shelly:<id>".
Their readings land in InfluxDB with energy in kWh; at the nightly power-off
each gets the command of its own generation (relay/0/command "off", or
Switch.Set over <id>/rpc), reports off, and the power-off log records it
verified. A Shelly never heard from gets both commands. The second relay of
a Plus 2PM, bound as "shelly:<id>#1", is a plug of its own: its metrics
under the plain names, Switch.Set with id 1. What is asserted is
what a user sees: the points in InfluxDB, the commands on the broker, the
rows of the power-off log."""

import json
import threading

import harness
from harness import Stack, Subscriber, wait_for
from test_enforcement import Gateway

# Shelly ids: global topics on a shared broker, so names of this test's own.
GEN1 = "shellyplug-s-HGWT01"
GEN2 = "shellyplus1pm-hgwt02"
SILENT = "shellyplus1pm-hgwt03"
TWO_PM = "shellyplus2pm-hgwt04"  # two relays; its second one bound as a device
LEAD_S = 10


class FakeShelly:
    """A Shelly plug: reports its relay every half second in its
    generation's topics and obeys its generation's command topic."""

    def __init__(self, mqtt, device_id, gen, report=True, power_w=0.0, energy=0.0, channel=0):
        import paho.mqtt.client as paho
        self.id = device_id
        self.gen = gen
        self.channel = channel
        self.on = True
        self.power_w = power_w
        self.energy = energy  # Gen1: watt-minutes; Gen2: Wh
        self.commands = []
        self.reporting = threading.Event()
        if report:
            self.reporting.set()
        self.stop_flag = threading.Event()
        self.client = paho.Client(client_id=harness.unique_client_id("shelly-" + device_id))
        self.client.on_message = self._on_message
        subscribed = threading.Event()
        self.client.on_subscribe = lambda *a: subscribed.set()
        self.client.connect("127.0.0.1", mqtt.port, keepalive=30)
        self.client.loop_start()
        cmd = ("shellies/%s/relay/%d/command" % (device_id, channel) if gen == 1
               else "%s/rpc" % device_id)
        self.client.subscribe(cmd, qos=1)
        if not subscribed.wait(10):
            raise AssertionError("no SUBACK for " + cmd)
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _on_message(self, client, userdata, msg):
        self.commands.append((msg.topic, msg.payload.decode()))
        if self.gen == 1:
            if msg.payload in (b"on", b"off"):
                self.on = msg.payload == b"on"
        else:
            req = json.loads(msg.payload)
            if req.get("method") == "Switch.Set" and req["params"]["id"] == self.channel:
                self.on = bool(req["params"]["on"])
                client.publish("%s/rpc/response" % self.id,
                               json.dumps({"id": req["id"], "src": self.id, "result": {}}), qos=1)
        if not self.on:
            self.power_w = 0.0
        self.reporting.set()
        self.report()

    def report(self):
        if self.gen == 1:
            base = "shellies/%s/relay/%d" % (self.id, self.channel)
            self.client.publish(base, "on" if self.on else "off", qos=1)
            self.client.publish(base + "/power", "%g" % self.power_w, qos=1)
            self.client.publish(base + "/energy", "%d" % self.energy, qos=1)
        else:
            self.client.publish("%s/status/switch:%d" % (self.id, self.channel), json.dumps({
                "id": self.channel, "source": "init", "output": self.on, "apower": self.power_w,
                "voltage": 229.4, "current": 0.2, "aenergy": {"total": self.energy}}), qos=1)

    def _loop(self):
        while not self.stop_flag.wait(0.5):
            if self.reporting.is_set():
                self.report()

    def close(self):
        self.stop_flag.set()
        self.thread.join(5)
        self.client.disconnect()
        self.client.loop_stop()


def test_both_generations_land_in_kwh_and_switch_off_at_night():
    devices = [{"id": "plug-g1", "hall": "h1", "kind": "plug", "source": "shelly:" + GEN1},
               {"id": "plug-g2", "hall": "h1", "kind": "plug", "source": "shelly:" + GEN2},
               {"id": "plug-g3", "hall": "h1", "kind": "plug", "source": "shelly:" + SILENT},
               {"id": "plug-g4", "hall": "h1", "kind": "plug", "source": "shelly:%s#1" % TWO_PM}]
    halls = [{"id": "h1", "windows": [{"id": "w01", "plug": "plug-g1"},
                                      {"id": "w02", "plug": "plug-g2"},
                                      {"id": "w03", "plug": "plug-g3"},
                                      {"id": "w04", "plug": "plug-g4"}]}]
    with Stack("shelly") as st:
        sub = Subscriber(st.mqtt, "shellies/%s/relay/0/command" % GEN1, "%s/rpc" % GEN1,
                         "shellies/%s/relay/0/command" % GEN2, "%s/rpc" % GEN2,
                         "shellies/%s/relay/0/command" % SILENT, "%s/rpc" % SILENT,
                         "%s/rpc" % TWO_PM, "shellies/%s/relay/+/command" % TWO_PM)
        g = Gateway(st, devices, halls, 'grace = "1s"; verify_within = "20s"; plug_delay = "0s";',
                    lead_s=LEAD_S)
        # 90000 Wmin = 1.5 kWh; 2500 Wh = 2.5 kWh.
        gen1 = FakeShelly(st.mqtt, GEN1, 1, power_w=42.5, energy=90000)
        gen2 = FakeShelly(st.mqtt, GEN2, 2, power_w=37.5, energy=2500)
        # Never heard from before the night: its generation is not known.
        silent = FakeShelly(st.mqtt, SILENT, 2, report=False)
        # The second relay of a Plus 2PM (switch:1), a device of its own.
        two_pm = FakeShelly(st.mqtt, TWO_PM, 2, power_w=12.25, energy=750, channel=1)
        try:
            def point(device, **fields):
                """Each field with its value in some point of the device (a
                Gen1 plug sends one value per topic, so one per point)."""
                rows = st.influx.rows("SELECT * FROM plug WHERE device = '%s'" % device)
                return all(any(r.get(k) == v for r in rows) for k, v in fields.items())

            # The readings, before the power-off: energy in kWh.
            wait_for("the Gen1 plug's point", lambda: point("plug-g1", on=True, power_w=42.5,
                                                            energy_kwh=1.5), timeout=LEAD_S)
            wait_for("the Gen2 plug's point", lambda: point("plug-g2", on=True, power_w=37.5,
                                                            energy_kwh=2.5), timeout=LEAD_S)
            # The channel's device has its metrics under the plain names.
            wait_for("the Plus 2PM channel's point", lambda: point("plug-g4", on=True,
                                                                   power_w=12.25,
                                                                   energy_kwh=0.75),
                     timeout=LEAD_S)
            assert not sub.messages, "a command before poweroff_at: %r" % sub.messages

            # The night: each plug switched off and verified.
            for dev in ("plug-g1", "plug-g2", "plug-g3", "plug-g4"):
                wait_for("%s verified off" % dev, lambda: "plug_off" in g.step_names(dev),
                         timeout=LEAD_S + 25)
                assert g.step_names(dev) == ["plug_command", "plug_off"], g.steps(dev)
                assert all(s["ok"] for s in g.steps(dev)), g.steps(dev)

            # Each on its generation's topic only.
            assert sub.payloads("shellies/%s/relay/0/command" % GEN1) == [(b"off", False)]
            assert sub.payloads("%s/rpc" % GEN1) == []
            assert sub.payloads("shellies/%s/relay/0/command" % GEN2) == []
            rpc = sub.json_on("%s/rpc" % GEN2)
            assert len(rpc) == 1 and rpc[0]["method"] == "Switch.Set", rpc
            assert rpc[0]["params"] == {"id": 0, "on": False}, rpc
            # The one never heard from: both.
            assert sub.payloads("shellies/%s/relay/0/command" % SILENT) == [(b"off", False)]
            assert [m["params"] for m in sub.json_on("%s/rpc" % SILENT)] == [{"id": 0, "on": False}]
            # The channel: Switch.Set with its id.
            assert [m["params"] for m in sub.json_on("%s/rpc" % TWO_PM)] == [{"id": 1, "on": False}]
            assert not [t for t, _, _ in sub.messages if t.startswith("shellies/%s/" % TWO_PM)]
            detail = g.steps("plug-g1")[0]["detail"]
            assert detail == "shellies/%s/relay/0/command off" % GEN1, detail

            # What they reported is in InfluxDB too.
            wait_for("the Gen1 plug off", lambda: point("plug-g1", on=False, power_w=0),
                     timeout=10)
            wait_for("the Gen2 plug off", lambda: point("plug-g2", on=False), timeout=10)
            wait_for("the Plus 2PM channel off", lambda: point("plug-g4", on=False), timeout=10)
            assert not g.gw.dead()
        finally:
            gen1.close()
            gen2.close()
            silent.close()
            two_pm.close()
            sub.close()


if __name__ == "__main__":
    harness.run([test_both_generations_land_in_kwh_and_switch_off_at_night])
