"""What the fault tests share: the integration harness (real mosquitto,
influxd and hallgw: the run's shared servers, or servers of a test's own
where it breaks them), numbered bursts whose arrival can be counted exactly
in InfluxDB, and the guards for faults that need root."""

import json
import os
import subprocess
import sys
import threading
import time

SOURCE_DIR = os.environ.get("HALLGW_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "../.."))
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "integration"))

import harness  # noqa: E402
from harness import Publisher, Stack, Subscriber, log, wait_for  # noqa: E402,F401

ENV_DEVICE = {"id": "env-1", "hall": "h1", "kind": "env"}


class Skip(Exception):
    """A test that cannot run here (says why); counted as passed by run()."""


def need_root(what):
    if os.geteuid() != 0:
        raise Skip("%s needs root (mount); skipped" % what)


def burst(pub, n, start_seq=0, device="env-1", pad=0, base=None, ts=True):
    """Publishes n QoS 1 readings numbered start_seq.. with distinct
    timestamps (ts=False: none, the gateway stamps their arrival), and waits
    until the broker has taken them all. pad adds a string field of that
    many incompressible characters."""
    base = base if base is not None else time.time()
    infos = []
    for i in range(start_seq, start_seq + n):
        reading = {"seq": i, "temperature": 20 + (i % 100) / 10}
        if ts:
            reading["ts"] = base + i * 1e-4
        if pad:
            reading["pad"] = os.urandom(pad // 2).hex()
        infos.append(pub.publish("hall/h1/%s/telemetry" % device, json.dumps(reading), wait=False))
    deadline = time.time() + 120
    for info in infos:
        info.wait_for_publish(max(0.1, deadline - time.time()))
        if not info.is_published():
            raise AssertionError("the broker did not take message %d in time" % info.mid)


def burst_in_background(pub, n, start_seq=0, **kw):
    t = threading.Thread(target=burst, args=(pub, n, start_seq), kwargs=kw, daemon=True)
    t.start()
    return t


def seq_stats(influx, device="env-1"):
    """(points, distinct seq values) of a device in InfluxDB."""
    rows = influx.rows('SELECT count("seq"), count(distinct("seq")) FROM "env" WHERE "device" = \'%s\''
                       % device)
    if not rows:
        return 0, 0
    # A query that meets points being written may answer null for a count.
    return rows[0].get("count") or 0, rows[0].get("count_1") or 0


def seqs(influx, device="env-1"):
    """The set of seq values of a device in InfluxDB."""
    return {int(r["seq"]) for r in influx.rows('SELECT "seq" FROM "env" WHERE "device" = \'%s\'' % device)}


def spool_drained(gw):
    """The gateway's spool is empty, everything spooled replayed or dropped
    (its /metrics: http=True). Nothing older is left to land."""
    m = gw.metrics()
    return (m.get(("hallgw_spool_records", ""), 0) == 0 and
            m.get(("hallgw_points_total", 'outcome="replayed"'), 0) +
            m.get(("hallgw_points_total", 'outcome="spool_dropped"'), 0) >=
            m.get(("hallgw_points_total", 'outcome="spooled"'), 0))


def mount_tmpfs(path, size):
    os.makedirs(path, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s,mode=0700" % size, "tmpfs", path], check=True)


def remount(path, opts):
    subprocess.run(["mount", "-o", "remount,%s" % opts, path], check=True)


def umount(path):
    subprocess.run(["umount", "-l", path], check=False)


def run(tests):
    """harness.run, with Skip counted as a pass that says it was skipped."""
    wrapped = []
    for t in tests:
        def w(t=t):
            try:
                t()
            except Skip as e:
                log("SKIP", t.__name__, e)
        w.__name__ = t.__name__
        wrapped.append(w)
    harness.run(wrapped)
