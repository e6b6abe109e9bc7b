"""Nothing accepted is lost: an InfluxDB outage, a broker restart and a
SIGTERM during a burst, each against the real servers."""

import json
import os
import re
import signal
import struct
import threading
import time
import zlib

import harness
from harness import Stack, Publisher, Subscriber, wait_for

DEVICES = [{"id": "env-1", "hall": "h1", "kind": "env"}]


def burst(pub, n, start_seq=0, qos=1, device="env-1"):
    """Publishes n readings with distinct sequence numbers and timestamps."""
    base = time.time()
    infos = []
    for i in range(start_seq, start_seq + n):
        payload = json.dumps({"ts": base + i * 1e-4, "seq": i, "temperature": 20 + (i % 100) / 10})
        infos.append(pub.publish("hall/h1/%s/telemetry" % device, payload, qos=qos, wait=False))
    deadline = time.time() + 120
    for info in infos:
        info.wait_for_publish(max(0.1, deadline - time.time()))
        if not info.is_published():
            raise AssertionError("the broker did not take message %d in time" % info.mid)


def seq_stats(influx):
    rows = influx.rows('SELECT count("seq"), count(distinct("seq")) FROM "env" WHERE "device" = \'env-1\'')
    if not rows:
        return 0, 0
    # A query that meets points being written may answer null for a count.
    return rows[0].get("count") or 0, rows[0].get("count_1") or 0


def spool_empty(gw):
    """Nothing is left in the spool to be sent (again)."""
    m = gw.metrics()
    return m.get(("hallgw_spool_records", ""), 0) == 0 and \
        m.get(("hallgw_points_total", 'outcome="replayed"'), 0) >= \
        m.get(("hallgw_points_total", 'outcome="spooled"'), 0)


def test_influx_outage_loses_nothing_and_writes_nothing_twice():
    # InfluxDB is killed and restarted: an influxd of its own.
    with Stack("outage", private=("influx",)) as st:
        gw = st.hallgw(devices=DEVICES, http=True)
        gw.start()
        pub = Publisher(st.mqtt)
        burst(pub, 100, 0)
        wait_for("the first 100 points", lambda: seq_stats(st.influx)[0] == 100, timeout=20)

        st.influx.kill()
        burst(pub, 5000, 100)
        wait_for("the gateway to spool", lambda: "will retry" in gw.log_text(), timeout=20)
        # InfluxDB stays away until the burst is in the spool and the writer
        # has retried in vain a few times, its backoff growing (0.5 s, 1 s, 2 s...).
        wait_for("the burst spooled",
                 lambda: gw.metric("hallgw_points_total", 'outcome="spooled"') >= 5000, timeout=60)
        wait_for("four failed writes", lambda: gw.metric("hallgw_influx_failures_total") >= 4, timeout=30)
        st.influx.start()

        wait_for("all 5,100 points after the outage",
                 lambda: seq_stats(st.influx)[0] >= 5100, timeout=90, interval=0.5)
        wait_for("the spool replayed", lambda: spool_empty(gw), timeout=30)
        total, distinct = seq_stats(st.influx)
        assert (total, distinct) == (5100, 5100), (total, distinct)
        pub.close()
        assert gw.stop() == 0


def test_broker_restart_reconnects_by_itself_and_qos1_messages_land():
    # The broker is killed and restarted: a mosquitto of its own.
    with Stack("broker-restart", private=("mqtt",)) as st:
        gw = st.hallgw(devices=DEVICES, http=True)
        gw.start()
        pub = Publisher(st.mqtt)
        burst(pub, 10, 0)
        wait_for("10 points", lambda: seq_stats(st.influx)[0] == 10, timeout=20)
        pub.close()

        st.mqtt.kill()
        wait_for("the gateway to see the broker gone", lambda: "lost" in gw.log_text(), timeout=30)
        # The broker stays away until the gateway has tried it again in vain.
        wait_for("a failed reconnect", lambda: gw.metric("hallgw_mqtt_connect_failures_total") >= 1,
                 timeout=30)
        st.mqtt.start()
        # The gateway announces itself again on its status topic when back,
        # after subscribing (the restarted broker holds nothing retained from
        # before, so any "online" is the new connection's).
        status = Subscriber(st.mqtt, gw.status_topic)
        wait_for("the gateway to reconnect",
                 lambda: gw.log_text().count("connected to") >= 2, timeout=60)
        wait_for("the gateway online again",
                 lambda: [p for p, _ in status.payloads(gw.status_topic) if p == b"online"], timeout=30)
        status.close()
        pub = Publisher(st.mqtt)
        burst(pub, 200, 10)
        wait_for("210 points", lambda: seq_stats(st.influx)[0] == 210, timeout=30)
        assert seq_stats(st.influx) == (210, 210)
        pub.close()
        assert not gw.dead()


def test_sigterm_during_a_burst_keeps_everything_acknowledged():
    n = 20000
    # InfluxDB is killed: an influxd of its own.
    with Stack("sigterm", private=("influx",)) as st:
        gw = st.hallgw(devices=DEVICES, http=True)
        gw.start()
        # InfluxDB away: whatever the gateway took must reach the spool.
        st.influx.kill()
        pub = Publisher(st.mqtt)
        t = threading.Thread(target=burst, args=(pub, n, 0))
        t.start()
        wait_for("the burst under way", lambda: gw.metric(
            "hallgw_messages_received_total", 'format="native"') >= 1000, timeout=30, interval=0.05)
        gw.signal(signal.SIGTERM)
        rc = gw.proc.wait(60)
        assert rc == 0, "hallgw exited with %d" % rc
        t.join(120)
        assert not t.is_alive()
        log = gw.log_text()
        stopped = [line for line in log.splitlines() if "stopped:" in line]
        assert stopped and stopped[-1].endswith(" 0 lost"), log[-2000:]
        # The messages it did not take wait at the broker in its persistent session.
        st.influx.start()
        gw.start()
        wait_for("all %d points after the restart" % n,
                 lambda: seq_stats(st.influx)[0] >= n, timeout=120, interval=0.5)
        wait_for("the spool replayed", lambda: spool_empty(gw), timeout=30)
        assert seq_stats(st.influx) == (n, n)
        pub.close()
        assert gw.stop() == 0


def kept_record(key, data):
    """One record of the MQTT persistence log (gateway/mqtt_persist.h)."""
    k = key.encode()
    lengths = struct.pack("<II", len(k), len(data))
    crc = zlib.crc32(lengths + k + data) & 0xffffffff
    return struct.pack("<I", 0x504d4748) + lengths + struct.pack("<I", crc) + k + data


def kept_message(topic, payload, msgid):
    """A QoS 1 message the MQTT library read but did not hand over before a
    stop, as the library keeps it ("q-<n>": payload length, payload, qos,
    retained, dup, message id, topic with its NUL, topic length)."""
    t = topic.encode() + b"\0"
    return (struct.pack("<i", len(payload)) + payload + struct.pack("<iiii", 1, 0, 0, msgid) + t
            + struct.pack("<i", 0))


def test_messages_kept_by_an_earlier_version_are_replayed_at_full_speed():
    n = 300
    with Stack("kept") as st:
        # Queue entries the MQTT library kept in the log of an earlier
        # version (no inbox journal). A keepalive of 300 s and no other
        # traffic: left to the library, they would be handed over one per
        # packet read from the broker, five minutes apart. They are moved
        # into the journal and replayed before the gateway connects.
        gw = st.hallgw(devices=DEVICES, http=True, mqtt_extra='keepalive = "300s";')
        client_id = gw.client_id
        os.makedirs(os.path.join(gw.state_dir, "mqtt"), exist_ok=True)
        base = time.time() - 60
        with open(os.path.join(gw.state_dir, "mqtt", client_id + ".log"), "wb") as f:
            for i in range(n):
                payload = json.dumps({"ts": base + i * 0.01, "seq": i, "temperature": 21.5}).encode()
                f.write(kept_record("q-%d" % (i + 1),
                                    kept_message(st.mqtt.topic("hall/h1/env-1/telemetry"), payload, i + 1)))
        gw.start()
        wait_for("all %d kept messages in InfluxDB" % n, lambda: seq_stats(st.influx)[0] >= n,
                 timeout=30, interval=0.5)
        assert seq_stats(st.influx) == (n, n)
        assert "journal: %d messages of the last run replayed" % n in gw.log_text(), gw.log_text()[-2000:]
        assert gw.metric("hallgw_journal_replayed_total") == n
        assert os.path.getsize(os.path.join(gw.state_dir, "mqtt", client_id + ".log")) == 0
        assert gw.stop() == 0


if __name__ == "__main__":
    harness.run([test_influx_outage_loses_nothing_and_writes_nothing_twice,
                 test_broker_restart_reconnects_by_itself_and_qos1_messages_land,
                 test_sigterm_during_a_burst_keeps_everything_acknowledged,
                 test_messages_kept_by_an_earlier_version_are_replayed_at_full_speed])
