"""The inbox journal (docs/reliability.md): a QoS 1 message the gateway has
acknowledged to the broker is recorded before the acknowledgement and kept
until its points are written or spooled, so a SIGKILL loses nothing of what
the broker was told was received.

A flood of QoS 1 readings without device timestamps (each stamped on its
arrival, so one written twice would be two points) is interrupted by
several SIGKILLs of the gateway, each followed by a restart: every reading
lands exactly once, with InfluxDB up and with InfluxDB away (the replay goes
to the spool). A firing alert stays one alert, in the store as on its topic.
A record torn by a kill at the journal's end is cut off and counted."""

import glob
import json
import os
import subprocess
import time

import faultlib
from faultlib import (Publisher, Stack, Subscriber, burst_in_background, harness, seq_stats, seqs,
                      wait_for)

N = 20000
KILLS = 3
DEVICES = [faultlib.ENV_DEVICE, {"id": "env-2", "hall": "h1", "kind": "env"}]
RULES = """rules = (
  { name = "co2-high"; type = "threshold"; kind = "env"; metric = "co2"; above = 1000.0;
    clear_at = 900.0; for = "0s"; severity = "warning"; }
);
"""


def flood_with_kills(st, gw, pub):
    """Publishes N readings at QoS 1 in the background and kills the gateway
    KILLS times during it, starting it again each time."""
    t = burst_in_background(pub, N, ts=False)
    for k in range(KILLS):
        time.sleep(1.0)
        alive = t.is_alive()
        assert gw.kill() == -9
        faultlib.log("kill %d of %d, the flood %s" % (k + 1, KILLS, "still running" if alive else "over"))
        gw.start()
    t.join(180)
    assert not t.is_alive(), "the broker did not take the flood"


def journal_files(gw):
    return sorted(glob.glob(os.path.join(gw.state_dir, "mqtt", "*.journal", "*.log")))


def stored_active(gw):
    out = subprocess.run([os.path.join(harness.BUILD_DIR, "hallgw"), "alerts", "--active", "-c", gw.conf],
                         capture_output=True, text=True, timeout=30).stdout
    return out


def test_sigkill_during_a_qos1_flood_loses_no_reading_and_writes_none_twice():
    with Stack("journal-kill") as st:
        gw = st.hallgw(devices=DEVICES, extra=RULES, http=True)
        gw.start()
        sub = Subscriber(st.mqtt, "hall/h1/alerts")
        pub = Publisher(st.mqtt)
        pub.publish("hall/h1/env-2/telemetry", json.dumps({"co2": 1500}))
        wait_for("co2-high firing", lambda: [m for m in sub.json_on("hall/h1/alerts")
                                             if m["id"] == "co2-high:env-2"], timeout=10)
        wait_for("the alert in the store", lambda: "co2-high:env-2" in stored_active(gw), timeout=10)

        flood_with_kills(st, gw, pub)
        wait_for("all %d readings in InfluxDB" % N, lambda: seq_stats(st.influx)[1] >= N,
                 timeout=120, interval=1)
        time.sleep(2)  # anything written twice would land by now
        points, distinct = seq_stats(st.influx)
        faultlib.log("%d points, %d distinct readings, %d replayed after the last kill"
                     % (points, distinct, gw.metric("hallgw_journal_replayed_total")))
        assert distinct == N and points == N, (points, distinct)
        assert seqs(st.influx) == set(range(N))
        # The alert is one alert: fired once, active in the API and the store.
        states = [m["state"] for m in sub.json_on("hall/h1/alerts") if m["id"] == "co2-high:env-2"]
        assert states == ["firing"], states
        assert "co2-high:env-2" in stored_active(gw)
        # Everything done: the journal keeps nothing to replay.
        assert gw.stop() == 0
        assert journal_files(gw) == [], journal_files(gw)
        gw.start()
        assert "of the last run replayed" not in gw.log_text(gw.log_mark)
        sub.close()
        pub.close()
        assert gw.stop() == 0


def test_sigkill_during_a_flood_with_influxdb_away_replays_into_the_spool():
    with Stack("journal-kill-spool", private=("influx",)) as st:
        gw = st.hallgw(devices=DEVICES, http=True,
                       influx_extra='spool = { dir = "%s/spool"; };' % st.dir)
        gw.start()
        pub = Publisher(st.mqtt)
        st.influx.kill()
        flood_with_kills(st, gw, pub)
        wait_for("the flood taken and spooled",
                 lambda: gw.metric("hallgw_points_total", 'outcome="spooled"') > 0, timeout=60)
        st.influx.start()
        wait_for("all %d readings in InfluxDB" % N, lambda: seq_stats(st.influx)[1] >= N,
                 timeout=180, interval=1)
        time.sleep(2)
        points, distinct = seq_stats(st.influx)
        assert distinct == N and points == N, (points, distinct)
        pub.close()
        assert gw.stop() == 0


def test_a_torn_record_at_the_end_of_the_journal_is_cut_off_and_counted():
    n = 2000
    with Stack("journal-torn", private=("influx",)) as st:
        gw = st.hallgw(devices=DEVICES, http=True,
                       influx_extra='spool = { dir = "%s/spool"; };' % st.dir)
        gw.start()
        pub = Publisher(st.mqtt)
        # InfluxDB away and a kill: readings taken stay in the journal or the
        # spool; then a half-written record at the journal's end, as a kill
        # in the middle of a write leaves it.
        st.influx.kill()
        faultlib.burst(pub, n, ts=False)
        wait_for("every reading taken", lambda: gw.metric("hallgw_messages_decoded_total") >= n,
                 timeout=30)
        assert gw.kill() == -9
        last = journal_files(gw)[-1]
        with open(last, "ab") as f:
            f.write(b"HGJN" + (1000).to_bytes(4, "little") + b"\0" * 30)
        size_torn = os.path.getsize(last)
        st.influx.start()
        gw.start()
        assert gw.metric("hallgw_journal_torn_total") == 1
        assert "torn or corrupt record" in gw.log_text(gw.log_mark)
        assert not os.path.exists(last) or os.path.getsize(last) < size_torn
        wait_for("all %d readings in InfluxDB" % n, lambda: seq_stats(st.influx)[1] >= n,
                 timeout=60, interval=0.5)
        time.sleep(1)
        assert seq_stats(st.influx) == (n, n)
        # The gateway works on.
        faultlib.burst(pub, 10, start_seq=n, ts=False)
        wait_for("the readings after", lambda: seq_stats(st.influx)[1] >= n + 10, timeout=20)
        assert not gw.dead()
        pub.close()
        assert gw.stop() == 0


if __name__ == "__main__":
    harness.run([test_sigkill_during_a_qos1_flood_loses_no_reading_and_writes_none_twice,
                 test_sigkill_during_a_flood_with_influxdb_away_replays_into_the_spool,
                 test_a_torn_record_at_the_end_of_the_journal_is_cut_off_and_counted])
