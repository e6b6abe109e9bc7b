"""mqtt.shared_group (docs/configuration.md, docs/scaling.md) on a real
mosquitto: two gateways in one group subscribe with $share/<group>/...
(Mosquitto 2 honours it for their MQTT 3.1.1 connections), and the broker
deals each message to one of them. Every reading lands in InfluxDB exactly
once across the pair, none is lost, and both take a share. Alert acks are
not shared: the ack of an alert raised by one gateway reaches it, and the
other counts it as refused."""

import json

import harness
from harness import Publisher, Stack, Subscriber, wait_for

N = 400  # readings
GROUP = "hallgw"
DEVICES = [{"id": "env-1", "hall": "h1", "kind": "env"},
           {"id": "pc-w01", "hall": "h1", "kind": "pc"}]
RULES = """rules = (
  { name = "threat-detected"; type = "event"; kind = "pc"; event = "threat_detected";
    severity = "critical"; }
);
"""


def counter(st, gateway_id, field):
    """A gateway's latest self-counter (measurement gateway, tag gateway)."""
    rows = st.influx.rows("SELECT last(\"%s\") FROM \"gateway\" WHERE \"gateway\" = '%s'"
                          % (field, gateway_id))
    return rows[0]["last"] if rows else None


def readings(st):
    """(points, distinct seq values) of env-1."""
    rows = st.influx.rows("SELECT count(\"seq\"), count(distinct(\"seq\")) FROM \"env\" "
                          "WHERE \"device\" = 'env-1'")
    return (rows[0]["count"] or 0, rows[0]["count_1"] or 0) if rows else (0, 0)


def test_two_gateways_in_a_group_share_the_readings_and_an_ack_reaches_the_holder():
    with Stack("shared-group") as st:
        gws = []
        for n in (1, 2):
            gw = st.hallgw(devices=DEVICES, extra=RULES, name="gw-%d" % n,
                           mqtt_extra='shared_group = "%s";' % GROUP)
            gw.gateway_id = "gw-%d" % n
            gw.write_config()
            gws.append(gw)
        for gw in gws:
            gw.start()
            gw.add_account("wanggong", "it")  # each gateway keeps its own accounts
        sub = Subscriber(st.mqtt, "hall/h1/alerts")
        pub = Publisher(st.mqtt)

        # Readings without a device timestamp: each gateway stamps what it
        # takes with its arrival time, so a reading taken by both would be
        # two points.
        infos = [pub.publish("hall/h1/env-1/telemetry", json.dumps({"seq": i, "temperature": 21.5}),
                             wait=False) for i in range(N)]
        for info in infos:
            info.wait_for_publish(30)
            assert info.is_published()
        wait_for("%d readings in InfluxDB" % N, lambda: readings(st)[0] >= N, timeout=30)

        # Both took a share, and together exactly the N readings: the gateways'
        # own count of what they decoded (written every second).
        def shares():
            got = [counter(st, gw.gateway_id, "decoded") for gw in gws]
            return None not in got and sum(got) >= N and got
        got = wait_for("both gateways' counts of what they decoded", shares, timeout=15)
        harness.log("decoded: gw-1 %d, gw-2 %d" % tuple(got))
        assert all(g > 0 for g in got), "a gateway got no share: %r" % got
        assert sum(got) == N, "decoded %r, %d in all, for %d readings" % (got, sum(got), N)
        # In InfluxDB: every reading once, none lost.
        assert readings(st) == (N, N), readings(st)

        # An event goes to one of them: that one raises the alert.
        pub.publish("hall/h1/pc-w01/event", json.dumps({"type": "threat_detected", "signature": "EICAR"}))
        fired = wait_for("the threat alert", lambda: [m for m in sub.json_on("hall/h1/alerts")
                                                       if m["id"] == "threat-detected:pc-w01"], timeout=15)
        holder = fired[0]["gateway"]
        other = "gw-2" if holder == "gw-1" else "gw-1"
        assert holder in ("gw-1", "gw-2") and fired[0]["state"] == "firing", fired
        harness.log("the alert is held by %s" % holder)

        # The ack is not shared: both gateways receive it, the holder applies
        # it, the other refuses it (it knows no such alert) and counts that.
        pub.publish("hall/h1/alerts/threat-detected:pc-w01/ack/wanggong",
                    json.dumps({"note": "隔离文件，全盘扫描中"}, ensure_ascii=False))
        acked = wait_for("the acknowledgement", lambda: [m for m in sub.json_on("hall/h1/alerts")
                                                          if m["id"] == "threat-detected:pc-w01"
                                                          and m["state"] == "acknowledged"], timeout=15)
        assert acked[0]["gateway"] == holder and acked[0]["acked_by"] == "wanggong", acked
        wait_for("the refusal counted by %s" % other,
                 lambda: (counter(st, other, "acks_rejected") or 0) >= 1, timeout=15)
        # A resolve likewise.
        pub.publish("hall/h1/alerts/threat-detected:pc-w01/ack/wanggong",
                    json.dumps({"note": "已清除", "resolve": True}, ensure_ascii=False))
        resolved = wait_for("the resolve", lambda: [m for m in sub.json_on("hall/h1/alerts")
                                                     if m["id"] == "threat-detected:pc-w01"
                                                     and m["state"] == "resolved"], timeout=15)
        assert resolved[0]["gateway"] == holder, resolved
        wait_for("the second refusal counted by %s" % other,
                 lambda: (counter(st, other, "acks_rejected") or 0) >= 2, timeout=15)
        assert (counter(st, holder, "acks_rejected") or 0) == 0
        transitions = [m["state"] for m in sub.json_on("hall/h1/alerts") if m["id"] == "threat-detected:pc-w01"]
        assert transitions == ["firing", "acknowledged", "resolved"], transitions
        sub.close()
        pub.close()
        for gw in gws:
            assert gw.stop() == 0


if __name__ == "__main__":
    harness.run([test_two_gateways_in_a_group_share_the_readings_and_an_ack_reaches_the_holder])
