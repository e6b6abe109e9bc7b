"""Every good fixture published to a real mosquitto lands in a real InfluxDB
with the right measurement, tags and fields; every bad fixture lands nowhere,
is counted, and the gateway keeps running."""

import json
import math

import harness
from harness import Stack, Publisher, fixtures, wait_for

# Hall devices for the fixtures' topics: native ids as in the topics, and a
# binding for each foreign device.
DEVICES = [
    {"id": "seat-w01", "hall": "h1", "kind": "seat"},
    {"id": "queue", "hall": "h1", "kind": "queue"},
    {"id": "env-1", "hall": "h1", "kind": "env"},
    {"id": "printer-1", "hall": "h1", "kind": "equipment", "type": "printer"},
    {"id": "pc-w01", "hall": "h1", "kind": "pc"},
    {"id": "seat-z01", "hall": "h1", "kind": "seat", "source": "zigbee2mqtt:seat_w01"},
    {"id": "env-z1", "hall": "h1", "kind": "env", "source": "zigbee2mqtt:1F/hall/air_1"},
    {"id": "env-z2", "hall": "h1", "kind": "env", "source": "zigbee2mqtt:co2_hall"},
    {"id": "seat-z02", "hall": "h1", "kind": "seat", "source": "zigbee2mqtt:fp1_w02"},
    {"id": "plug-z1", "hall": "h1", "kind": "plug", "source": "zigbee2mqtt:plug_printer"},
    {"id": "env-t1", "hall": "h1", "kind": "env", "source": "tasmota:air_1"},
    {"id": "plug-t1", "hall": "h1", "kind": "plug", "source": "tasmota:plug_w01"},
    {"id": "env-t2", "hall": "h1", "kind": "env", "source": "tasmota:lux_1"},
    {"id": "plug-s1", "hall": "h1", "kind": "plug", "source": "shelly:shellyplusplugs-a8032ab1"},
    {"id": "plug-s2", "hall": "h1", "kind": "plug", "source": "shelly:shellyplug-s-7C87CE"},
    {"id": "plug-s3", "hall": "h1", "kind": "plug", "source": "shelly:shellyswitch25-C45BBE6B2E"},
    {"id": "env-s1", "hall": "h1", "kind": "env", "source": "shelly:shellyht-C6E2F1"},
    {"id": "env-s2", "hall": "h1", "kind": "env", "source": "shelly:shellydw2-58B2A0"},
    {"id": "env-s3", "hall": "h1", "kind": "env", "source": "shelly:shellyflood-3C6105"},
    {"id": "equip-s4", "hall": "h1", "kind": "equipment", "source": "shelly:shellyem-B9F1A3"},
    {"id": "env-s5", "hall": "h1", "kind": "env", "source": "shelly:shelly1-98CDAC1F03"},
    {"id": "door-t1", "hall": "h1", "kind": "equipment", "source": "tasmota:door_1"},
    {"id": "plug-t2", "hall": "h1", "kind": "plug", "source": "tasmota:plug_dual"},
    {"id": "radar-t1", "hall": "h1", "kind": "people", "source": "tasmota:radar_1"},
    {"id": "env-t3", "hall": "h1", "kind": "env", "source": "tasmota:air_f"},
    {"id": "plug-t3", "hall": "h1", "kind": "plug", "source": "tasmota:plug_w02"},
    {"id": "plug-z2", "hall": "h1", "kind": "plug", "source": "zigbee2mqtt:plug_strings"},
    {"id": "env-z3", "hall": "h1", "kind": "env", "source": "zigbee2mqtt:temp_iso"},
    {"id": "plug-s6", "hall": "h1", "kind": "plug", "source": "shelly:shellyproem50-08f9e0e5c3a4"},
    {"id": "plug-s7", "hall": "h1", "kind": "plug", "source": "shelly:shellypro3em-c8f09e8a0b1c"},
    {"id": "env-s6", "hall": "h1", "kind": "env", "source": "shelly:shellyhtg3-84fce63ad204"},
    {"id": "plug-s8", "hall": "h1", "kind": "plug", "source": "shelly:shelly1minig3-54320464a1b2"},
]
HALLS = [{"id": "h1", "name": "政务服务大厅一楼",
          "windows": [{"id": "w01", "name": "综合受理 1", "seat": "seat-w01", "pc": "pc-w01"}]}]
MEASUREMENT = {"seat": "occupancy", "people": "occupancy", "queue": "queue", "env": "env", "equipment": "equipment",
               "plug": "plug", "pc": "pc"}
WINDOW = {"seat-w01": "w01", "pc-w01": "w01"}


def device_of(fx):
    """The hall device a fixture's topic is about."""
    t = fx["topic"]
    if fx["format"] == "native":
        return t.split("/")[2]
    for d in DEVICES:
        src = d.get("source", "")
        if not src:
            continue
        fmt, name = src.split(":", 1)
        if fmt != fx["format"]:
            continue
        if fmt == "zigbee2mqtt" and (t == "zigbee2mqtt/" + name or t == "zigbee2mqtt/%s/availability" % name):
            return d["id"]
        if fmt == "tasmota" and t.split("/")[1] == name:
            return d["id"]
        if fmt == "shelly" and t == "shellies/announce" and json.loads(fx["payload"])["id"] == name:
            return d["id"]
        if fmt == "shelly" and (t.split("/")[0] == name or t.startswith("shellies/%s/" % name)):
            return d["id"]
    raise AssertionError("no device for %s" % fx["_where"])


def kind_of(dev):
    return next(d["kind"] for d in DEVICES if d["id"] == dev)


def matches(row, expect_fields):
    for k, v in expect_fields.items():
        got = row.get(k)
        if isinstance(v, bool):
            if got is not v:
                return False
        elif isinstance(v, (int, float)):
            if not isinstance(got, (int, float)) or isinstance(got, bool) or not math.isclose(got, v, rel_tol=1e-9):
                return False
        elif got != v:
            return False
    return True


def expected_point(fx):
    """(measurement, tags, fields) the fixture must produce."""
    e = fx["expect"]
    dev = device_of(fx)
    kind = kind_of(dev)
    tags = {"hall": "h1", "device": dev, "kind": kind}
    if dev in WINDOW:
        tags["window"] = WINDOW[dev]
    if "status" in e:
        return MEASUREMENT[kind], tags, {"online": e["status"] == "online"}
    if "event" in e:
        return "event", tags, {"type": e["event"]}
    return MEASUREMENT[kind], tags, dict(e["metrics"])


def test_good_fixtures_land_with_measurement_tags_and_fields():
    good = [fx for fx in fixtures() if not fx["expect"].get("reject")]
    assert len(good) >= 25, "expected the fixtures of tests/fixtures, found %d good lines" % len(good)
    # The fixtures' foreign topics (zigbee2mqtt/seat_w01, tele/air_1/...) are
    # the devices' own names: on a shared broker another test could use them.
    with Stack("fixtures", private=("mqtt",)) as st:
        gw = st.hallgw(devices=DEVICES, halls=HALLS)
        gw.start()
        pub = Publisher(st.mqtt)
        for fx in good:
            pub.publish(fx["topic"], fx["payload_bytes"])
        pub.close()
        for fx in good:
            meas, tags, fields = expected_point(fx)
            where = " AND ".join("\"%s\" = '%s'" % (k, v) for k, v in tags.items())
            q = 'SELECT * FROM "%s" WHERE %s' % (meas, where)

            def found():
                return any(matches(r, fields) for r in st.influx.rows(q))
            wait_for("%s in %s with %s" % (fx["_where"], meas, fields), found, timeout=15)
            for absent in fx["expect"].get("absent", []):
                rows = st.influx.rows(q)
                assert all(r.get(absent) is None for r in rows), \
                    "%s: field %r must not be written" % (fx["_where"], absent)
        # Points of devices outside a window carry no window tag.
        rows = st.influx.rows("SELECT * FROM \"env\" WHERE \"device\" = 'env-t1'")
        assert rows and all(r.get("window") in (None, "") for r in rows)
        assert not gw.dead()


def test_bad_fixtures_land_nowhere_are_counted_and_the_gateway_keeps_running():
    bad = [fx for fx in fixtures("bad.jsonl")]
    rejects = [fx for fx in bad if fx["expect"].get("reject")]
    assert len(rejects) >= 8
    # The fixtures' foreign topics (zigbee2mqtt/seat_w01, tele/air_1/...) are
    # the devices' own names: on a shared broker another test could use them.
    with Stack("bad", private=("mqtt",)) as st:
        gw = st.hallgw(devices=DEVICES, halls=HALLS)
        gw.start()
        for fx in bad:
            # A fresh connection for each: a broker may close a connection
            # over a topic it refuses, and that must not hide the rest.
            pub = Publisher(st.mqtt)
            pub.publish(fx["topic"], fx["payload_bytes"], wait=False)
            try:
                pub.client.loop_stop()
                pub.client.loop(0.3)
            except Exception:
                pass
            pub.client.disconnect()
        # A sentinel after the hostile input: the gateway still works.
        pub = Publisher(st.mqtt)
        pub.publish("hall/h1/env-1/telemetry", json.dumps({"temperature": 20.5, "sentinel": 1}))
        pub.close()
        wait_for("the sentinel point",
                 lambda: st.influx.rows("SELECT * FROM \"env\" WHERE \"sentinel\" = 1"), timeout=15)
        assert not gw.dead(), "hallgw died on hostile input"

        # Only the good lines of bad.jsonl (those without reject) produced points for env-1.
        good_in_bad = [fx for fx in bad if not fx["expect"].get("reject")]
        rows = st.influx.rows("SELECT * FROM \"env\" WHERE \"device\" = 'env-1'")
        assert len(rows) == len(good_in_bad) + 1, \
            "expected %d env-1 points, found %d: %r" % (len(good_in_bad) + 1, len(rows), rows)
        for fx in good_in_bad:
            assert any(matches(r, fx["expect"]["metrics"]) for r in rows), fx["_where"]
        # Nothing was written under an injected measurement, tag or device.
        # (window: the derived state of the hall's window, written every minute;
        # overview: each hall's figures, with the gateway's counters)
        for m in st.influx.rows("SHOW MEASUREMENTS"):
            assert m["name"] in ("env", "gateway", "window", "overview"), "unexpected measurement %r" % m["name"]
        devices = {r["value"] for r in st.influx.rows('SHOW TAG VALUES FROM "env" WITH KEY = "device"')}
        assert devices == {"env-1"}, devices

        # Every refusal is counted (the gateway writes its counters every second).
        def rejected_total():
            fields = ["rejected_bad_topic", "rejected_bad_id", "rejected_too_large",
                      "rejected_bad_utf8", "rejected_nul", "rejected_syntax", "rejected_non_finite",
                      "rejected_too_deep", "rejected_not_object", "rejected_too_many_fields"]
            vals = [gw.counter(f) or 0 for f in fields]
            return sum(vals)
        # Topics with control characters may be refused by the broker itself
        # before they reach the gateway; everything that arrived is counted.
        # A command topic is output, not input: the gateway does not subscribe
        # to it, so it never arrives (and never lands).
        arrived = len([fx for fx in rejects
                       if not any(ord(c) < 32 for c in fx["topic"]) and not fx["topic"].endswith("/cmd")])
        wait_for("%d rejections counted" % arrived, lambda: rejected_total() >= arrived, timeout=15)
        wait_for("the dropped key counted", lambda: (gw.counter("keys_dropped") or 0) >= 1, timeout=10)
        assert gw.stop() == 0


if __name__ == "__main__":
    harness.run([test_good_fixtures_land_with_measurement_tags_and_fields,
                 test_bad_fixtures_land_nowhere_are_counted_and_the_gateway_keeps_running])
