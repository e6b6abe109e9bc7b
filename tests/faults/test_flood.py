"""Floods and hostile input: 100,000 unknown device topics (memory stays
bounded, every message past the device table is counted), 10,000 retained
messages waiting at the broker when the gateway subscribes (state, never a
trigger: no alert, no command), and payloads far over the caps (a 4 MiB
payload, 200,000 levels of nesting).

Injection in topics and keys and the small hostile payloads of the
fixtures are in tests/integration/test_fixtures.py."""

import json
import os
import time

import faultlib
from faultlib import Publisher, Stack, Subscriber, harness, wait_for

KEY_HEX = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"


def publish_many(pub, items, retain=False):
    """Publishes (topic, payload) pairs at QoS 1 and waits for the broker."""
    infos = [pub.publish(t, p, retain=retain, wait=False) for t, p in items]
    deadline = time.time() + 120
    for info in infos:
        info.wait_for_publish(max(0.1, deadline - time.time()))
        assert info.is_published(), "the broker did not take message %d" % info.mid


def test_100000_unknown_devices_keep_memory_bounded_and_are_counted():
    n, max_devices = 100000, 5000
    with Stack("flood-unknown") as st:
        gw = st.hallgw(devices=[faultlib.ENV_DEVICE], http=True,
                       extra='unknown_devices = "accept";\nlimits = { max_devices = %d; };\n' % max_devices)
        # Under AddressSanitizer, freed memory is held in a quarantine (256 MB)
        # that would read as growth: keep it small.
        gw.start(env={"ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "") + ":quarantine_size_mb=1"})
        pub = Publisher(st.mqtt)
        rss = [gw.rss_kb()]
        received = 0
        for chunk in range(4):
            publish_many(pub, [("hall/h1/dev-%06d/telemetry" % i, '{"temperature":21.5}')
                               for i in range(chunk * n // 4, (chunk + 1) * n // 4)])
            received = (chunk + 1) * n // 4
            wait_for("%d messages taken" % received,
                     lambda: gw.metric("hallgw_messages_received_total", 'format="native"') >= received,
                     timeout=60)
            rss.append(gw.rss_kb())
        faultlib.log("VmRSS (KiB) at 0, 25k, 50k, 75k, 100k unknown devices: %s" % rss)
        accepted = max_devices - 1  # the configured device takes one place
        wait_for("the messages past the device table counted",
                 lambda: gw.metric("hallgw_messages_ignored_total", 'reason="device_table_full"')
                 == n - accepted, timeout=30)
        assert gw.metric("hallgw_devices") == max_devices
        # Past the table's cap (reached in the first quarter), 75,000 more
        # devices do not grow the gateway.
        assert rss[4] - rss[1] < 16 * 1024, "VmRSS grew by %d KiB after the table was full" % (rss[4] - rss[1])
        wait_for("the accepted unknown devices in InfluxDB",
                 lambda: st.influx.count("unknown", "temperature") == accepted, timeout=60)
        pub.publish("hall/h1/env-1/telemetry", json.dumps({"temperature": 20.5, "sentinel": 1}))
        wait_for("a known device still lands", lambda: st.influx.rows('SELECT * FROM env WHERE sentinel = 1'))
        assert not gw.dead()
        pub.close()
        assert gw.stop() == 0


# 10,000 retained messages: for configured PCs, seats, air sensors and
# plugs, the kinds of message that would trigger an alert or a command when
# live, and many unknown devices.
N_PCS = 40
HALLS = [{"id": "h1", "name": "测试大厅", "windows": [
    {"id": "w%02d" % i, "name": "窗口 %d" % i, "seat": "seat-w%02d" % i, "pc": "pc-w%02d" % i}
    for i in range(N_PCS)]}]
DEVICES = ([{"id": "pc-w%02d" % i, "hall": "h1", "kind": "pc"} for i in range(N_PCS)] +
           [{"id": "seat-w%02d" % i, "hall": "h1", "kind": "seat"} for i in range(N_PCS)] +
           [{"id": "env-%d" % i, "hall": "h1", "kind": "env"} for i in range(N_PCS)] +
           [{"id": "queue", "hall": "h1", "kind": "queue"}])
RULES = """rules = (
  { name = "co2-now"; type = "threshold"; kind = "env"; metric = "co2"; above = 1000.0;
    clear_at = 900.0; for = "0s"; severity = "warning"; }
);
"""


def retained_items():
    items = []
    for i in range(N_PCS):
        pc, seat, env = "pc-w%02d" % i, "seat-w%02d" % i, "env-%d" % i
        items += [("hall/h1/%s/status" % pc, "online"),
                  ("hall/h1/%s/telemetry" % pc, json.dumps({"cpu": 50.0, "av_last_scan": 1000000000})),
                  ("hall/h1/%s/event" % pc, json.dumps({"type": "threat_detected", "name": "EICAR"})),
                  ("hall/h1/%s/cmd/reply" % pc, json.dumps({"id": "po-1-1", "result": "done"})),
                  ("hall/h1/%s/telemetry" % seat, json.dumps({"presence": False})),
                  ("hall/h1/%s/telemetry" % env, json.dumps({"co2": 5000, "temperature": 35.0})),
                  ("hall/h1/alerts/co2-now:%s/ack" % env, json.dumps({"by": "x", "resolve": True}))]
    items.append(("hall/h1/queue/telemetry", json.dumps({"waiting": 40, "longest_wait_s": 7200})))
    items += [("hall/h1/dev-%05d/telemetry" % i, json.dumps({"temperature": 21.0}))
              for i in range(10000 - len(items))]
    return items


def retained_stack(st):
    """A gateway (not started) for a hall closed and powered off an hour
    ago: a PC seen on now would be powered off after closed_grace, were it a
    live message. The 10,000 retained messages wait at the broker."""
    key = os.path.join(st.dir, "command.key")
    harness.write_secret(key, KEY_HEX + "\n")
    zone, off = harness.noon_zone()
    schedule = ('schedule = { weekdays = ["mon","tue","wed","thu","fri","sat","sun"]; '
                'open = "%s"; close = "%s"; poweroff_at = "%s"; };\n'
                % (harness.local_hms(off, -4 * 3600), harness.local_hms(off, -2 * 3600),
                   harness.local_hms(off, -3600)))
    gw = st.hallgw(devices=DEVICES, halls=HALLS, http=True,
                   extra=schedule + RULES + 'poweroff = { closed_grace = "1s"; };\n'
                   'unknown_devices = "accept";\n',
                   mqtt_extra="command_key_file = %s;" % harness.conf_str(key))
    gw.timezone = zone
    gw.write_config()
    pub = Publisher(st.mqtt)
    items = retained_items()
    assert len({t for t, _ in items}) == 10000
    publish_many(pub, items, retain=True)
    return gw, pub


def published_on_retained_alone(st, gw, filters, what):
    """Starts the gateway twice (the first subscribe, and again after a
    restart); returns the subscriber, what the gateway published on the
    filters meanwhile, and its last /metrics."""
    sub = Subscriber(st.mqtt, *filters)
    metrics = {}
    for start in (1, 2):
        gw.start()
        wait_for("the retained messages taken (start %d)" % start,
                 lambda: gw.metric("hallgw_messages_retained_total") >= 10000, timeout=60)
        # Let time pass on purpose: past closed_grace (1 s) and a few alerting
        # ticks (one a second), in which nothing may be published.
        time.sleep(3)
        assert not gw.dead()
        metrics = gw.metrics()
        with sub.lock:
            acted = [(t, p[:80]) for t, p, r in sub.messages]
        if acted:
            faultlib.log("%s published on retained data alone (start %d): %d messages, e.g. %r"
                         % (what, start, len(acted), acted[:3]))
            return sub, acted, metrics
        assert gw.stop() == 0
    return sub, [], metrics


def test_10000_retained_messages_on_subscribe_send_no_command():
    # Commands to foreign devices (cmnd/#, zigbee2mqtt/+/set) are global
    # topics, on which other tests' gateways publish: a broker of its own.
    with Stack("flood-retained-cmd", private=("mqtt",)) as st:
        gw, pub = retained_stack(st)
        sub, acted, metrics = published_on_retained_alone(
            st, gw, ("hall/+/+/cmd", "cmnd/#", "zigbee2mqtt/+/set"), "commands")
        assert acted == [], acted[:10]
        assert metrics.get(("hallgw_commands_sent_total", ""), 0) == 0
        # Retained data is state: it was stored.
        wait_for("retained readings in InfluxDB", lambda: st.influx.count("env", "co2") >= N_PCS, timeout=30)
        # The same data live does act: the closed-hall rule works.
        gw.start()
        pub.publish("hall/h1/pc-w00/status", "online")
        wait_for("the power-off of a PC seen on live at night",
                 lambda: [m for m in sub.json_on("hall/h1/pc-w00/cmd") if m.get("action") == "poweroff"],
                 timeout=20)
        sub.close()
        pub.close()
        assert gw.stop() == 0


def test_10000_retained_messages_on_subscribe_raise_no_alert():
    # 10,000 retained messages stay at a broker: one of its own.
    with Stack("flood-retained-alert", private=("mqtt",)) as st:
        gw, pub = retained_stack(st)
        sub, acted, metrics = published_on_retained_alone(st, gw, ("hall/+/alerts",), "alerts")
        assert acted == [], "%d alert transitions, e.g. %r" % (len(acted), acted[:3])
        assert metrics.get(("hallgw_alert_transitions_total", 'to="firing"'), 0) == 0
        # The same data live does act.
        gw.start()
        pub.publish("hall/h1/env-0/telemetry", json.dumps({"co2": 5000}))
        wait_for("the alert from a live reading",
                 lambda: [m for m in sub.json_on("hall/h1/alerts") if m.get("id") == "co2-now:env-0"],
                 timeout=15)
        sub.close()
        pub.close()
        assert gw.stop() == 0


def test_oversized_and_deeply_nested_payloads_are_refused_and_counted():
    with Stack("flood-hostile") as st:
        gw = st.hallgw(devices=[faultlib.ENV_DEVICE], http=True)
        gw.start()
        rss0 = gw.rss_kb()
        pub = Publisher(st.mqtt)
        hostile = [
            b'{"temperature":' + b"1" * (4 << 20) + b"}",            # 4 MiB, over payload_max_bytes
            b"[" * 200000 + b"]" * 200000,                              # 200,000 levels, 400 kB
            b"[" * 30000 + b"]" * 30000,                                # under the size cap, 30,000 levels
            b'{"a":' * 10000 + b"1" + b"}" * 10000,                     # 10,000 nested objects
            json.dumps({"k%d" % i: i for i in range(3000)}).encode(),   # 3,000 keys
            json.dumps({"temperature": 21, "x" * 60000: 1}).encode(),  # one key of 60,000 bytes
        ]
        publish_many(pub, [("hall/h1/env-1/telemetry", p) for p in hostile for _ in range(5)])
        pub.publish("hall/h1/env-1/telemetry", json.dumps({"temperature": 20.5, "sentinel": 1}))
        wait_for("the sentinel after the hostile payloads",
                 lambda: st.influx.rows("SELECT * FROM env WHERE sentinel = 1"), timeout=30)
        assert not gw.dead()
        m = gw.metrics()
        refused = {k[1]: v for k, v in m.items() if k[0] == "hallgw_messages_rejected_total" and v}
        faultlib.log("refused: %s; dropped keys: %d" % (refused, m.get(("hallgw_keys_dropped_total", ""), 0)))
        assert refused.get('reason="too_large"', 0) >= 10, refused
        assert refused.get('reason="too_deep"', 0) + refused.get('reason="not_object"', 0) >= 10, refused
        # The many keys: refused or cut to the cap; the long key: dropped, its message kept.
        assert (refused.get('reason="too_many_fields"', 0) >= 5 or
                m.get(("hallgw_keys_dropped_total", ""), 0) >= 5), m
        rows = st.influx.rows("SELECT * FROM env WHERE device = 'env-1'")
        assert all(len(str(k)) < 1000 for r in rows for k in r), "a huge key was written"
        assert gw.rss_kb() - rss0 < 64 * 1024, "VmRSS grew by %d KiB" % (gw.rss_kb() - rss0)
        pub.close()
        assert gw.stop() == 0


if __name__ == "__main__":
    faultlib.run([test_100000_unknown_devices_keep_memory_bounded_and_are_counted,
                  test_10000_retained_messages_on_subscribe_send_no_command,
                  test_10000_retained_messages_on_subscribe_raise_no_alert,
                  test_oversized_and_deeply_nested_payloads_are_refused_and_counted])
