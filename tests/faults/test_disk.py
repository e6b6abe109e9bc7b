"""The disk under the gateway fails: the spool's file system fills up while
InfluxDB is away (the oldest batches give way, counted), the state store is
locked by another process, and the state directory is read-only. Each is a
clear error or a counted drop, never a crash.

Mounting needs root (CI runs as root); without it these tests say so and are
skipped. The spool's own cap (max_size_mb) and a locked or read-only store at
unit level are in tests/unit/test_spool.c and tests/unit/test_store.c."""

import glob
import json
import os
import sqlite3
import subprocess

import faultlib
from faultlib import (Publisher, Stack, Subscriber, burst, mount_tmpfs, need_root, remount, seqs,
                      spool_drained, umount, wait_for)

RULES = """rules = (
  { name = "co2-high"; type = "threshold"; kind = "env"; metric = "co2"; above = 1000.0;
    clear_at = 900.0; for = "0s"; severity = "warning"; }
);
"""
DEVICES = [faultlib.ENV_DEVICE, {"id": "env-2", "hall": "h1", "kind": "env"}]


def alert_transitions(sub, alert_id):
    return [m["state"] for m in sub.json_on("hall/h1/alerts") if m.get("id") == alert_id]


def fill_the_spool(st, spool, max_size_mb, n=6000):
    """InfluxDB away, n points of ~250 bytes (1.5 MB) spooled into a spool
    that cannot hold them; then InfluxDB back. Asserts drop-oldest: every
    point is in InfluxDB or counted as dropped, and the kept ones are the
    newest."""
    gw = st.hallgw(devices=DEVICES, http=True,
                   influx_extra='spool = { dir = "%s"; max_size_mb = %d; };' % (spool, max_size_mb))
    gw.start()
    st.influx.kill()
    pub = Publisher(st.mqtt)
    burst(pub, n, pad=160)
    wait_for("every point spooled or dropped",
             lambda: gw.metric("hallgw_points_total", 'outcome="spooled"') >= n, timeout=60)
    dropped = gw.metric("hallgw_points_total", 'outcome="spool_dropped"')
    lost = gw.metric("hallgw_points_total", 'outcome="lost"')
    faultlib.log("spool full: %d points dropped, %d lost" % (dropped, lost))
    assert dropped > 0, "a full spool must drop the oldest batches, counted"
    assert lost == 0, "%d points lost instead of the oldest dropped" % lost
    assert "spool full" in gw.log_text(), gw.log_text()[-2000:]
    assert not gw.dead()

    st.influx.start()
    wait_for("the kept points replayed", lambda: len(seqs(st.influx)) >= n - dropped,
             timeout=90, interval=0.5)
    wait_for("the spool drained", lambda: spool_drained(gw), timeout=30)
    landed = seqs(st.influx)
    # The gateway's own points (its `gateway` measurement every
    # stats_interval) share the spool: a dropped batch may hold some.
    own = gw.metric("hallgw_points_total", 'outcome="spooled"') - n
    assert n - len(landed) <= dropped <= n - len(landed) + own, (len(landed), dropped, own, n)
    assert landed == set(range(n - len(landed), n)), \
        "kept %d points, not the newest (first kept %d)" % (len(landed), min(landed))
    pub.close()
    assert gw.stop() == 0


def test_spool_at_its_cap_drops_the_oldest_and_counts_them():
    # InfluxDB is killed: an influxd of its own.
    with Stack("spool-cap", private=("influx",)) as st:
        fill_the_spool(st, os.path.join(st.dir, "spool"), max_size_mb=1)


def test_spool_on_a_full_disk_drops_the_oldest_and_counts_them():
    need_root("a tiny tmpfs for the spool")
    with Stack("disk-full", private=("influx",)) as st:
        spool = os.path.join(st.dir, "spool")
        mount_tmpfs(spool, "1m")
        try:
            # The spool's own cap is far above the disk: the disk fills first.
            fill_the_spool(st, spool, max_size_mb=64)
        finally:
            for g in st.gateways:
                if g.proc and g.proc.poll() is None:
                    g.proc.kill()
                    g.proc.wait()
            umount(spool)


def lock_store(path):
    """Another process holding an exclusive lock on the SQLite store."""
    code = ("import sqlite3, sys, time\n"
            "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
            "c.execute('BEGIN EXCLUSIVE')\n"
            "print('locked', flush=True)\n"
            "sys.stdin.read()\n")
    p = subprocess.Popen(["/usr/bin/python3", "-c", code, path], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "locked"
    return p


def unlock_store(p):
    p.stdin.close()
    p.wait(10)


def test_store_locked_by_another_process_is_a_clear_error_not_a_crash():
    with Stack("store-locked") as st:
        gw = st.hallgw(devices=DEVICES, extra=RULES, http=True)
        db = os.path.join(gw.state_dir, "hallgw.db")
        # Locked at start: a clear error naming the file, a clean exit.
        os.makedirs(gw.state_dir, exist_ok=True)
        sqlite3.connect(db).close()
        holder = lock_store(db)
        try:
            gw.start(wait_online=False)
            rc = gw.proc.wait(60)
            log = gw.log_text(gw.log_mark)
            assert rc > 0, "hallgw ended with %d (a negative status is a signal)" % rc
            assert "hallgw.db" in log and "lock" in log.lower(), log[-2000:]
        finally:
            unlock_store(holder)

        # Locked while running: alerts still reach the hall, the failure is counted.
        gw.start()
        sub = Subscriber(st.mqtt, "hall/h1/alerts")
        pub = Publisher(st.mqtt)
        holder = lock_store(db)
        try:
            pub.publish("hall/h1/env-2/telemetry", json.dumps({"co2": 1500}))
            wait_for("the alert on its topic while the store is locked",
                     lambda: alert_transitions(sub, "co2-high:env-2") == ["firing"], timeout=15)
            wait_for("the store error counted",
                     lambda: gw.metric("hallgw_store_errors_total") >= 1, timeout=30)
            pub.publish("hall/h1/env-1/telemetry", json.dumps({"temperature": 21.5}))
            wait_for("telemetry still written",
                     lambda: st.influx.rows("SELECT * FROM env WHERE temperature = 21.5"), timeout=15)
            assert not gw.dead()
        finally:
            unlock_store(holder)
        pub.publish("hall/h1/env-2/telemetry", json.dumps({"co2": 800}))
        wait_for("the alert resolved once the store is free",
                 lambda: alert_transitions(sub, "co2-high:env-2") == ["firing", "resolved"], timeout=15)
        assert not gw.dead()
        sub.close()
        pub.close()
        assert gw.stop() == 0


def test_read_only_state_dir_is_a_clear_error_not_a_crash():
    need_root("a read-only mount for the state directory")
    with Stack("state-ro") as st:
        gw = st.hallgw(devices=DEVICES, extra=RULES, http=True)
        mount_tmpfs(gw.state_dir, "2m")
        try:
            remount(gw.state_dir, "ro")
            gw.start(wait_online=False)
            rc = gw.proc.wait(60)
            log = gw.log_text(gw.log_mark)
            assert rc > 0, "hallgw ended with %d (a negative status is a signal)" % rc
            assert "hallgw.db" in log and "read-only" in log.lower(), log[-2000:]
        finally:
            umount(gw.state_dir)


def test_full_state_disk_under_a_running_gateway_is_counted_not_a_crash():
    # A file system can not be made read-only under a process writing to it
    # (EBUSY); a full disk is the fault a running gateway meets. The store
    # cannot write the alert, nor the MQTT client its in-flight log
    # (state_dir/mqtt): both count it, the alert still reaches the hall.
    need_root("a tiny tmpfs for the state directory")
    with Stack("state-full") as st:
        gw = st.hallgw(devices=DEVICES, extra=RULES, http=True)
        mount_tmpfs(gw.state_dir, "2m")
        try:
            gw.start()
            sub = Subscriber(st.mqtt, "hall/h1/alerts")
            pub = Publisher(st.mqtt)
            filler = os.path.join(gw.state_dir, "filler")
            subprocess.run(["dd", "if=/dev/zero", "of=" + filler, "bs=64k"], capture_output=True)
            pub.publish("hall/h1/env-2/telemetry", json.dumps({"co2": 1500}))
            wait_for("the alert on its topic with the state disk full",
                     lambda: alert_transitions(sub, "co2-high:env-2") == ["firing"] or gw.dead(), timeout=15)
            assert not gw.dead(), "hallgw died with %d on a full state disk" % gw.proc.returncode
            wait_for("the store error counted",
                     lambda: gw.metric("hallgw_store_errors_total") >= 1, timeout=30)
            wait_for("the MQTT persistence error counted",
                     lambda: gw.metric("hallgw_mqtt_persist_errors_total") >= 1, timeout=15)
            os.unlink(filler)
            pub.publish("hall/h1/env-2/telemetry", json.dumps({"co2": 800}))
            wait_for("the alert resolved",
                     lambda: alert_transitions(sub, "co2-high:env-2") == ["firing", "resolved"], timeout=15)
            assert not gw.dead()
            # Space back: the in-flight log is written again, and emptied once
            # everything is acknowledged.
            logs = glob.glob(os.path.join(gw.state_dir, "mqtt", "*.log"))
            assert len(logs) == 1, logs
            wait_for("the in-flight log emptied", lambda: os.path.getsize(logs[0]) == 0, timeout=15)
            sub.close()
            pub.close()
            assert gw.stop() == 0
        finally:
            for g in st.gateways:
                if g.proc and g.proc.poll() is None:
                    g.proc.kill()
                    g.proc.wait()
            umount(gw.state_dir)


if __name__ == "__main__":
    faultlib.run([test_spool_at_its_cap_drops_the_oldest_and_counts_them,
                  test_spool_on_a_full_disk_drops_the_oldest_and_counts_them,
                  test_store_locked_by_another_process_is_a_clear_error_not_a_crash,
                  test_read_only_state_dir_is_a_clear_error_not_a_crash,
                  test_full_state_disk_under_a_running_gateway_is_counted_not_a_crash])
