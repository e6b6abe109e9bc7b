"""The gateway itself dies without warning (SIGKILL) mid-burst, with
InfluxDB away so that its batches sit in the spool, and with an alert
firing. After a restart: the spool is replayed, what the broker kept for the
persistent session arrives, what was in memory is replayed from the inbox
journal (nothing is lost), and the alert is the same alert (still active, not raised twice). A spool
whose last record was torn by the crash is cut at start, counted, and the
records before it are replayed.

SIGTERM mid-burst (everything kept) is in tests/integration/test_reliability.py;
the torn tail at unit level in tests/unit/test_spool.c."""

import glob
import json
import os
import struct
import subprocess
import time

import faultlib
from faultlib import (Publisher, Stack, Subscriber, burst, burst_in_background, harness, seq_stats, seqs,
                      spool_drained, wait_for)

RULES = """rules = (
  { name = "co2-high"; type = "threshold"; kind = "env"; metric = "co2"; above = 1000.0;
    clear_at = 900.0; for = "0s"; severity = "warning"; }
);
"""
DEVICES = [faultlib.ENV_DEVICE, {"id": "env-2", "hall": "h1", "kind": "env"}]
QUEUE_CAPACITY = 1024
BATCH_SIZE = 500  # harness default


def alert_transitions(sub, alert_id):
    return [m["state"] for m in sub.json_on("hall/h1/alerts") if m.get("id") == alert_id]


def settle(influx, at_least, timeout=90):
    """The distinct points once at least at_least landed and the count held
    still for a second (how many the broker still had is not known)."""
    deadline, seen = time.time() + timeout, []
    while time.time() < deadline:
        a = seq_stats(influx)[1]
        time.sleep(1)
        b = seq_stats(influx)[1]
        seen.append(b)
        if a == b and b >= at_least:
            return b
    raise AssertionError("points did not settle at %d or more: %r" % (at_least, seen[-10:]))


def active_alerts(gw):
    status, body = gw.http_get("/api/v1/alerts")
    assert status == 200, status
    return [a["id"] for a in json.loads(body)["active"]]


def test_sigkill_mid_burst_then_restart_replays_the_spool():
    n = 6000
    # InfluxDB is killed: an influxd of its own.
    with Stack("gw-sigkill", private=("influx",)) as st:
        gw = st.hallgw(devices=DEVICES, http=True,
                       # A small inbox bounds what a SIGKILL can take with it; a long
                       # wait keeps a slow start from dropping at a full inbox.
                       extra='limits = { queue_capacity = %d; queue_wait = "30s"; };\n' % QUEUE_CAPACITY,
                       influx_extra='spool = { dir = "%s/spool"; };' % st.dir)
        gw.start()
        pub = Publisher(st.mqtt)
        st.influx.kill()
        t = burst_in_background(pub, n)
        wait_for("batches in the spool",
                 lambda: gw.metric("hallgw_points_total", 'outcome="spooled"') >= 1000, timeout=30)
        spooled = gw.metric("hallgw_points_total", 'outcome="spooled"')
        assert gw.kill() == -9
        faultlib.log("killed with %d points spooled, burst still running: %s" % (spooled, t.is_alive()))
        t.join(120)
        assert not t.is_alive()

        st.influx.start()
        gw.start()
        wait_for("the spool replayed",
                 lambda: gw.metric("hallgw_points_total", 'outcome="replayed"') >= spooled, timeout=60)
        assert "spooled batches to replay" in gw.log_text(gw.log_mark)

        landed = settle(st.influx, n)
        missing = sorted(set(range(n)) - seqs(st.influx))
        faultlib.log("%d of %d points landed; %d replayed from the journal"
                     % (landed, n, gw.metric("hallgw_journal_replayed_total")))
        # What was in memory at the kill (the inbox and the batch being
        # filled) is replayed from the journal: nothing is lost.
        assert missing == [], missing[:20]
        assert seq_stats(st.influx)[0] == landed, "points written twice"
        assert not gw.dead()
        pub.close()
        assert gw.stop() == 0


def test_sigkill_keeps_a_firing_alert_the_same_alert():
    with Stack("gw-sigkill-alert") as st:
        gw = st.hallgw(devices=DEVICES, extra=RULES, http=True)
        gw.start()
        sub = Subscriber(st.mqtt, "hall/h1/alerts", "hall/h1/alerts/+")
        pub = Publisher(st.mqtt)
        pub.publish("hall/h1/env-2/telemetry", json.dumps({"co2": 1500}))
        wait_for("co2-high firing", lambda: alert_transitions(sub, "co2-high:env-2") == ["firing"], timeout=10)
        wait_for("the alert in the API", lambda: "co2-high:env-2" in active_alerts(gw), timeout=10)
        # The transition reaches the state store a moment after it is published.
        wait_for("the alert in the store", lambda: "co2-high:env-2" in subprocess.run(
            [os.path.join(harness.BUILD_DIR, "hallgw"), "alerts", "--active", "-c", gw.conf],
            capture_output=True, text=True, timeout=30).stdout, timeout=10)
        assert gw.kill() == -9

        gw.start()
        assert "1 active alerts restored" in gw.log_text(gw.log_mark)
        time.sleep(2.2)  # on purpose: two alerting ticks (one a second) before env-2 reports again
        assert alert_transitions(sub, "co2-high:env-2") == ["firing"], \
            "after the restart: %r" % alert_transitions(sub, "co2-high:env-2")
        assert "co2-high:env-2" in active_alerts(gw)
        # Still high: the same alert goes on, it is not raised a second time.
        # Judged as it arrives: once its point is written, a second firing
        # would have been published.
        pub.publish("hall/h1/env-2/telemetry", json.dumps({"co2": 1600}))
        wait_for("the 1600 ppm point", lambda: st.influx.rows("SELECT * FROM env WHERE co2 = 1600"))
        assert alert_transitions(sub, "co2-high:env-2") == ["firing"], alert_transitions(sub, "co2-high:env-2")
        pub.publish("hall/h1/env-2/telemetry", json.dumps({"co2": 800}))
        wait_for("co2-high resolved",
                 lambda: alert_transitions(sub, "co2-high:env-2") == ["firing", "resolved"], timeout=10)
        # The API's snapshot is renewed once a second.
        wait_for("the alert gone from the API", lambda: "co2-high:env-2" not in active_alerts(gw), timeout=5)
        sub.close()
        pub.close()
        assert gw.stop() == 0


def spool_records(path):
    """(offset, payload) of each well-formed record of a spool segment."""
    with open(path, "rb") as f:
        data = f.read()
    out, off = [], 0
    while off + 16 <= len(data):
        magic, length, _crc, zero = struct.unpack_from("<IIII", data, off)
        if magic != 0x52534748 or zero != 0 or off + 16 + length > len(data):
            break
        out.append((off, data[off + 16:off + 16 + length]))
        off += 16 + length
    return out


def test_torn_spool_tail_is_cut_counted_and_the_rest_replayed():
    n = 3000
    # InfluxDB is killed: an influxd of its own.
    with Stack("gw-torn", private=("influx",)) as st:
        spool = os.path.join(st.dir, "spool")
        gw = st.hallgw(devices=DEVICES, http=True, influx_extra='spool = { dir = "%s"; };' % spool)
        gw.start()
        st.influx.kill()
        pub = Publisher(st.mqtt)
        burst(pub, n)
        # SIGTERM: everything taken is spooled (the crash is made below).
        assert gw.stop() == 0

        segments = sorted(glob.glob(os.path.join(spool, "*.spool")))
        assert segments, os.listdir(spool)
        records = spool_records(segments[-1])
        assert len(records) >= 2, "expected several batches in %s" % segments[-1]
        # The last record with readings in it is torn; those after it go too.
        while b"seq=" not in records[-1][1]:
            records.pop()
        off, payload = records[-1]
        torn_seqs = {int(float(line.split(b"seq=")[1].split(b",")[0].split(b" ")[0]))
                     for line in payload.split(b"\n") if b"seq=" in line}
        # A crash mid-append: the last record cut in the middle of its payload.
        with open(segments[-1], "r+b") as f:
            f.truncate(off + 16 + len(payload) // 2)

        st.influx.start()
        gw.start()
        wait_for("the torn record counted", lambda: gw.metric("hallgw_spool_torn_total") >= 1, timeout=20)
        want = n - len(torn_seqs)
        wait_for("the %d points before the torn record" % want,
                 lambda: seq_stats(st.influx)[1] >= want, timeout=60, interval=0.5)
        wait_for("the spool drained", lambda: spool_drained(gw), timeout=30)
        landed = seqs(st.influx)
        assert landed == set(range(n)) - torn_seqs, \
            "landed %d, expected all but the %d of the torn record" % (len(landed), len(torn_seqs))
        assert not gw.dead()
        # The spool works on: a new outage spools and replays again.
        st.influx.kill()
        burst(pub, 100, n)
        wait_for("spooled again",
                 lambda: gw.metric("hallgw_points_total", 'outcome="spooled"') >= 100, timeout=30)
        st.influx.start()
        wait_for("replayed again", lambda: set(range(n, n + 100)) <= seqs(st.influx), timeout=60, interval=1)
        pub.close()
        assert gw.stop() == 0


if __name__ == "__main__":
    faultlib.run([test_sigkill_mid_burst_then_restart_replays_the_spool,
                  test_sigkill_keeps_a_firing_alert_the_same_alert,
                  test_torn_spool_tail_is_cut_counted_and_the_rest_replayed])
