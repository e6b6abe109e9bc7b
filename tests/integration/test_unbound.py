"""Unbound devices: Zigbee2MQTT, Tasmota and Shelly devices that publish only
on their discovery topics, and one that publishes readings on a topic the
gateway reads but that no device's source names, are listed by GET
/api/v1/devices/unbound and hallgw devices --unbound, with the source to
paste; after the config binds them and a SIGHUP they leave the list (and
the bound one's readings are written). Also the live page's panel, in a
headless Chromium (cdp.py): it lists a device seen only on its discovery
topic and gives the config line to add."""

import json
import os
import signal

import cdp
import harness
from harness import SOURCE_DIR, Publisher, Stack, Subscriber, wait_for, wait_port

FIXTURES = os.path.join(SOURCE_DIR, "tests", "fixtures", "discovery")


def fixture(name):
    with open(os.path.join(FIXTURES, name), encoding="utf-8") as f:
        return f.read()


def unbound(gw):
    status, body = gw.http_get("/api/v1/devices/unbound")
    assert status == 200, (status, body)
    return {d["source"]: d for d in json.loads(body)["devices"]}


def discovery_payloads(tag):
    """The fixtures with names of this run's own (the discovery topics are
    not under the test's prefix, and other tests share the broker)."""
    z2m = json.loads(fixture("zigbee2mqtt_bridge_devices.json"))
    for d in z2m:
        if d["type"] != "Coordinator":
            d["friendly_name"] += " " + tag
    tas = json.loads(fixture("tasmota_config.json"))
    tas["t"] = "plug_w07_" + tag
    ann = json.loads(fixture("shelly_announce.json"))
    ann["id"] = "shellyplug-s-" + tag
    return z2m, tas, ann


def clear(pub, *topics):
    for t in topics:
        pub.publish(t, b"", retain=True)


def test_devices_seen_on_discovery_or_unbound_traffic_are_listed_until_bound():
    with Stack("unbound") as st:
        tag = "%s" % st.db[-12:].replace("_", "")
        mac = ("AB" + tag)[-12:].upper()
        gw = st.hallgw(http=True, devices=[{"id": "env-1", "hall": "h1", "kind": "env"}])
        gw.start()
        wait_port(gw.http_port, proc=gw.proc)
        pub = Publisher(st.mqtt)
        z2m, tas, ann = discovery_payloads(tag)
        gen2 = "shellyplus1pm-" + tag
        tas_topic = "tasmota/discovery/%s/config" % mac
        try:
            pub.publish("zigbee2mqtt/bridge/devices", json.dumps(z2m), retain=True)
            pub.publish(tas_topic, json.dumps(tas), retain=True)
            pub.publish("tasmota/discovery/%s/sensors" % mac, fixture("tasmota_sensors.json"),
                        retain=True)
            pub.publish("shellies/announce", json.dumps(ann))
            # Readings on a known layout (Shelly Gen2+ NotifyStatus), bound by no device.
            notify = {"src": gen2, "dst": gen2 + "/events", "method": "NotifyStatus",
                      "params": {"ts": 1764843302.11, "switch:0": {"id": 0, "output": True, "apower": 12.5}}}
            pub.publish(gen2 + "/events/rpc", json.dumps(notify))

            seat = "zigbee2mqtt:seat w13 " + tag
            env = 'zigbee2mqtt:hall1/env "north" ' + tag
            want = [seat, env, "tasmota:plug_w07_" + tag, "shelly:shellyplug-s-" + tag, "shelly:" + gen2]
            devs = wait_for("every device in the unbound list",
                            lambda: (lambda d: d if all(w in d for w in want) else None)(unbound(gw)))
            assert devs[seat]["family"] == "zigbee2mqtt"
            assert devs[seat]["model"] == "RTCGQ11LM" and devs[seat]["description"] == "Aqara Motion sensor"
            assert devs[seat]["via"] == "zigbee2mqtt/bridge/devices"
            assert devs[env]["source_literal"] == '"zigbee2mqtt:hall1/env \\"north\\" %s"' % tag
            assert not [s for s in devs if s.startswith("zigbee2mqtt:Coordinator")]
            t = devs["tasmota:plug_w07_" + tag]
            assert t["model"] == "Sonoff S26" and t["mac"] == mac
            wait_for("the Tasmota sensors' reading as its sample",
                     lambda: "Power=36" in unbound(gw)["tasmota:plug_w07_" + tag]["sample"])
            assert devs["shelly:shellyplug-s-" + tag]["model"] == "SHPLG-S"
            g = devs["shelly:" + gen2]
            assert g["model"] == "shellyplus1pm" and g["via"] == "events/rpc"
            assert "power_w=12.5" in g["sample"], g["sample"]
            m = gw.metrics()
            assert m[("hallgw_unbound_devices_total", 'event="added"')] >= 5
            assert m[("hallgw_discovery_messages_total", 'outcome="read"')] >= 4
            assert m[("hallgw_unbound_listed", "")] >= 5

            # The command line reads what the gateway wrote to its state directory.
            out = wait_for("hallgw devices --unbound",
                           lambda: (lambda p: p if "shelly:" + gen2 in p.stdout else None)(
                               gw.cli("devices", "--unbound")))
            assert out.returncode == 0, out.stderr
            assert seat in out.stdout and "RTCGQ11LM" in out.stdout, out.stdout
            js = gw.cli("devices", "--unbound", "--json")
            assert js.returncode == 0 and "shelly:" + gen2 in [d["source"] for d in json.loads(js.stdout)["devices"]]

            # Bound by the config and a SIGHUP: they leave the list, the
            # Gen2 plug's readings are written.
            gw.devices += [
                {"id": "seat-w13", "hall": "h1", "kind": "seat", "source": seat},
                {"id": "plug-9", "hall": "h1", "kind": "plug", "source": "shelly:" + gen2},
            ]
            gw.write_config()
            status = Subscriber(st.mqtt, gw.status_topic)
            gw.signal(signal.SIGHUP)
            wait_for("the reload", lambda: "reloaded" in gw.log_text(), timeout=10)
            gw.wait_online(status)
            status.close()
            devs = wait_for("the bound devices out of the list",
                            lambda: (lambda d: d if seat not in d and "shelly:" + gen2 not in d else None)(unbound(gw)))
            assert env in devs and "tasmota:plug_w07_" + tag in devs
            notify["params"]["switch:0"]["apower"] = 33.25
            pub.publish(gen2 + "/events/rpc", json.dumps(notify))
            wait_for("plug-9's reading", lambda: st.influx.rows("SELECT * FROM plug WHERE device = 'plug-9'"))
            assert "shelly:" + gen2 not in unbound(gw)
        finally:
            clear(pub, "zigbee2mqtt/bridge/devices", tas_topic, "tasmota/discovery/%s/sensors" % mac)
            pub.close()
        assert gw.stop() == 0


def test_discovery_off_lists_nothing():
    with Stack("unbound-off") as st:
        tag = st.db[-10:].replace("_", "")
        gw = st.hallgw(http=True, extra="discovery = { enabled = false; };\n")
        gw.start()
        wait_port(gw.http_port, proc=gw.proc)
        pub = Publisher(st.mqtt)
        ann = {"id": "shellyplug-s-off" + tag, "model": "SHPLG-S"}
        pub.publish("shellies/announce", json.dumps(ann))
        pub.publish("hall/h1/env-x/telemetry", json.dumps({"temperature": 1.0}))
        wait_for("the native message counted",
                 lambda: gw.metric("hallgw_messages_ignored_total", 'reason="unknown_device"') >= 1)
        status, body = gw.http_get("/api/v1/devices/unbound")
        got = json.loads(body)
        assert status == 200 and got["enabled"] is False and got["devices"] == [], got
        pub.close()
        assert gw.stop() == 0


def test_the_live_page_lists_a_discovered_device_and_gives_its_config_line():
    if not os.path.exists(cdp.CHROMIUM):
        raise AssertionError("%s is missing: install Debian's chromium package" % cdp.CHROMIUM)
    with Stack("unbound-web") as st:
        tag = st.db[-10:].replace("_", "")
        halls = [{"id": "h1", "name": "大厅", "windows": [{"id": "w13", "name": "窗口 13"}]}]
        gw = st.hallgw(http=True, halls=halls, devices=[{"id": "env-1", "hall": "h1", "kind": "env"}])
        gw.start()
        wait_port(gw.http_port, proc=gw.proc)
        pub = Publisher(st.mqtt)
        name = 'seat "w13" ' + tag
        z2m = [{"ieee_address": "0x00158d0008a1c3d4", "type": "EndDevice", "friendly_name": name,
                "definition": {"model": "RTCGQ11LM", "vendor": "Aqara", "description": "Motion sensor"}}]
        try:
            pub.publish("zigbee2mqtt/bridge/devices", json.dumps(z2m), retain=True)
            with cdp.Browser(lang="en-US") as browser:
                page = browser.page()
                page.viewport(1600, 1000)
                page.navigate("http://127.0.0.1:%d/" % gw.http_port)
                sel = "#unbound tr[data-source=%s]" % json.dumps("zigbee2mqtt:" + name)
                page.wait_js("the device in the unbound panel",
                             "!!document.querySelector(%s)" % json.dumps(sel), timeout=20)
                text = page.evaluate("document.querySelector(%s).textContent" % json.dumps(sel))
                assert "RTCGQ11LM" in text and name in text, text
                page.evaluate("document.querySelector(%s + ' button.ub-pick').click()" % json.dumps(sel))
                page.evaluate("(() => { const f = (id, v) => { const e = document.getElementById(id); "
                              "e.value = v; e.dispatchEvent(new Event('change', {bubbles: true})); }; "
                              "f('ub-kind', 'seat'); f('ub-hall', 'h1'); f('ub-window', 'w13'); })()")
                want = ('{ id = "seat-w13"; hall = "h1"; kind = "seat"; window = "w13"; '
                        'source = "zigbee2mqtt:seat \\"w13\\" %s"; },' % tag)
                page.wait_js("the config line", "document.getElementById('ub-line').textContent === %s"
                             % json.dumps(want), timeout=10)
                assert page.evaluate("!!document.getElementById('ub-copy')")
                assert "SIGHUP" in page.evaluate("document.getElementById('p-unbound').textContent")
                assert not page.errors(), page.errors()
        finally:
            clear(pub, "zigbee2mqtt/bridge/devices")
            pub.close()
        assert gw.stop() == 0


if __name__ == "__main__":
    harness.run([test_devices_seen_on_discovery_or_unbound_traffic_are_listed_until_bound,
                 test_discovery_off_lists_nothing,
                 test_the_live_page_lists_a_discovered_device_and_gives_its_config_line])
