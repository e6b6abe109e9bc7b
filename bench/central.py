#!/usr/bin/env python3
"""bench/central.py — what a central influxd takes for N gateways of halls of
12 windows (docs/scaling.md, "One central store for many gateways").

Starts a private influxd on free loopback ports and writes, as hallgw does,
what N gateways (one hall of 12 windows each, the devices of hallgw-sim's
hall) send it: the points of each device at its report interval, the window
points every minute, the overview point of each hall and the gateway's
counters every 10 s (gateway.stats_interval's default). Then prints:

  1  points/s a central store receives (counted from one generated day);
  2  disk per day per hall: one day of everything written, compacted, the
     data directory (TSM files, not the WAL) divided by the halls;
  3  the query time of dashboards/grafana/dashboards/all-sites.json: every
     panel's query, as Grafana sends it with every gateway and hall chosen,
     over a month (the month panels, now/M) of the measurements they read,
     the faster of 2 runs.

Numbers are written with the time shifted back: "now" is the end of the
generated data. Standard library only; the default N=2 took 2½ minutes on 2
cores at a load average of 11, most of it writing the month. Prints figures,
asserts nothing about time.

  bench/central.py [--gateways N] [--days D] [--keep]
"""

import argparse
import json
import os
import random
import re
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request

SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DASHBOARD = os.path.join(SRC, "dashboards", "grafana", "dashboards", "all-sites.json")
WINDOWS = 12
DAY = 86400


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Influxd:
    def __init__(self, workdir):
        self.dir = workdir
        self.port, rpc = free_port(), free_port()
        conf = os.path.join(workdir, "influxdb.conf")
        with open(conf, "w") as f:
            f.write("""reporting-disabled = true
bind-address = "127.0.0.1:%d"
[meta]
  dir = "%s/meta"
[data]
  dir = "%s/data"
  wal-dir = "%s/wal"
  query-log-enabled = false
  cache-snapshot-write-cold-duration = "1s"
  compact-full-write-cold-duration = "2s"
[http]
  bind-address = "127.0.0.1:%d"
  log-enabled = false
  max-body-size = 0
[monitor]
  store-enabled = false
[logging]
  level = "error"
""" % (rpc, workdir, workdir, workdir, self.port))
        self.log = open(os.path.join(workdir, "influxd.log"), "wb")
        self.proc = subprocess.Popen(["influxd", "-config", conf], stdout=self.log, stderr=self.log)
        for _ in range(150):
            try:
                urllib.request.urlopen("http://127.0.0.1:%d/ping" % self.port, timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        self.query("CREATE DATABASE hallgw", post=True)

    def query(self, q, post=False):
        data = urllib.parse.urlencode({"db": "hallgw", "q": q, "epoch": "ms"})
        url = "http://127.0.0.1:%d/query" % self.port
        req = urllib.request.Request(url, data=data.encode(), method="POST") if post else \
            urllib.request.Request(url + "?" + data)
        with urllib.request.urlopen(req, timeout=120) as r:
            body = json.load(r)
        for res in body.get("results", []):
            if "error" in res:
                raise RuntimeError("%s: %s" % (q[:80], res["error"]))
        return body

    def write(self, lines):
        req = urllib.request.Request("http://127.0.0.1:%d/write?db=hallgw&precision=s" % self.port,
                                     data="\n".join(lines).encode(), method="POST")
        urllib.request.urlopen(req, timeout=120).read()

    def stop(self):
        self.proc.terminate()
        self.proc.wait(30)
        self.log.close()


def day_of_hall(gw, hall, t0, t1, everything, rng):
    """The points of one hall (and its gateway's counters) from t0 to t1, as
    hallgw writes them; everything=False: only what the month panels read
    (window, queue, env)."""
    out = []
    staffed = [True] * WINDOWS
    for t in range(t0, t1, 10):
        tod = (t % DAY) / 3600.0
        open_ = 9 <= tod < 17
        waiting = int(max(0, 8 * (1 - abs(tod - 11) / 3))) if open_ else 0
        served = int(max(0.0, min(tod, 17) - 9) * 30)
        out.append('queue,hall=%s,device=queue,kind=queue waiting=%d,longest_wait_s=%d,served_today=%d %d'
                   % (hall, waiting, waiting * 60, served, t))
        if t % 30 == 0:
            co2 = 600 + (500 * waiting / 8.0) + rng.random() * 50
            out.append('env,hall=%s,device=env-1,kind=env temperature=%.1f,humidity=%.1f,pm25=%.1f %d'
                       % (hall, 22 + rng.random() * 4, 45 + rng.random() * 10, 10 + rng.random() * 20, t))
            out.append('env,hall=%s,device=env-2,kind=env co2=%.0f %d' % (hall, co2, t))
        if t % 60 == 0:
            for w in range(1, WINDOWS + 1):
                if open_ and rng.random() < 0.02:
                    staffed[w - 1] = not staffed[w - 1]
                f = "open=%s" % ("true" if open_ else "false")
                f += ",staffed=%s" % ("true" if staffed[w - 1] else "false")
                if open_:
                    f += ",staffed_open=%d" % staffed[w - 1]
                out.append('window,hall=%s,window=w%02d %s,waiting=%d %d' % (hall, w, f, waiting, t))
        if not everything:
            continue
        if t % 60 == 0:
            for w in range(1, WINDOWS + 1):
                out.append('occupancy,hall=%s,window=w%02d,device=seat-w%02d,kind=seat presence=%s %d'
                           % (hall, w, w, "true" if staffed[w - 1] else "false", t))
                out.append('pc,hall=%s,window=w%02d,device=pc-w%02d,kind=pc power="on",av_realtime=true,'
                           'av_threats=0,usb_storage=false,av_last_scan=%d,av_sig_updated=%d %d'
                           % (hall, w, w, t - 3600, t - 7200, t))
            out.append('equipment,hall=%s,device=printer-1,kind=equipment status="ok" %d' % (hall, t))
        if t % 30 == 0:
            for w in range(1, WINDOWS + 1):
                out.append('plug,hall=%s,window=w%02d,device=plug-w%02d,kind=plug on=true,power_w=%.1f %d'
                           % (hall, w, w, 30 + rng.random() * 20, t))
            out.append('occupancy,hall=%s,device=people-1,kind=people people=%d %d' % (hall, waiting + 12, t))
        n_open = WINDOWS if open_ else 0
        n_staffed = sum(staffed) if open_ else 0
        out.append('overview,gateway=%s,hall=%s open=%s,windows=12,windows_open=%d,staffed=%d,unstaffed=%d,'
                   'waiting=%d,alerts=0,alerts_unacknowledged=0,alerts_critical=0,alerts_major=0,'
                   'alerts_warning=0,alerts_info=0 %d'
                   % (gw, hall, "true" if open_ else "false", n_open, n_staffed, n_open - n_staffed,
                      waiting, t))
        out.append('gateway,gateway=%s devices=41,queue_depth=0,mqtt_connected=true,points_written=%d,'
                   'received_native=%d,alerts_active=0 %d' % (gw, t - t0, t - t0, t))
    return out


def du(path, suffix=""):
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            if f.endswith(suffix):
                total += os.path.getsize(os.path.join(root, f))
    return total


def substitute(q, range_s):
    q = q.replace("$timeFilter", "time > now() - %ds" % range_s).replace("$__interval", "1m")
    return q.replace("/^$gateway$/", "/^.*$/").replace("$hall", ".*")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--gateways", type=int, default=2, help="gateways of one 12-window hall each (2)")
    ap.add_argument("--days", type=int, default=30, help="days of the month panels' data (30)")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="hallgw-central-")
    influx = Influxd(work)
    rng = random.Random(1)
    now = int(time.time()) // 60 * 60
    halls = [("gw-%d" % (i + 1), "h%d" % (i + 1)) for i in range(a.gateways)]
    print("load average before: %s" % " ".join("%.2f" % x for x in os.getloadavg()))
    try:
        # 1 and 2: the last day, everything.
        started = time.time()
        n_day = 0
        for gw, hall in halls:
            lines = day_of_hall(gw, hall, now - DAY, now, True, rng)
            n_day += len(lines)
            for i in range(0, len(lines), 20000):
                influx.write(lines[i:i + 20000])
        wrote_s = time.time() - started
        per_s = n_day / float(DAY)
        print("central store, %d gateways x 1 hall x %d windows" % (a.gateways, WINDOWS))
        print("  points/s received:            %.1f (%.2f per hall; %d points a day)"
              % (per_s, per_s / a.gateways, n_day))
        print("  influxd wrote one day in:      %.1f s (%.0f points/s)" % (wrote_s, n_day / wrote_s))
        # Let the cache snapshot and the compactions run, then measure the TSM files.
        time.sleep(8)
        tsm = du(os.path.join(work, "data"), ".tsm")
        print("  disk per day per hall:        %.2f MB (TSM files, compacted; beside them the series"
              % (tsm / 1e6 / a.gateways))
        print("                                file's preallocated %.0f MB, once per database, and WAL %.2f MB)"
              % ((du(os.path.join(work, "data")) - tsm) / 1e6, du(os.path.join(work, "wal")) / 1e6))
        # 3: the rest of the month, what the month panels read.
        started = time.time()
        n_month = 0
        for gw, hall in halls:
            batch = []
            for d in range(1, a.days):
                batch += day_of_hall(gw, hall, now - (d + 1) * DAY, now - d * DAY, False, rng)
                if len(batch) >= 100000 or d == a.days - 1:
                    n_month += len(batch)
                    influx.write(batch)
                    batch = []
        print("  month of window/queue/env:     %d more points written in %.1f s"
              % (n_month, time.time() - started))
        with open(DASHBOARD, encoding="utf-8") as f:
            d = json.load(f)
        total = 0.0
        for p in d["panels"]:
            span = {"2m": 120, "24h": DAY, "now/M": a.days * DAY}.get(p.get("timeFrom"), DAY)
            for t in p["targets"]:
                q = substitute(t["query"], span)
                times = []
                for _ in range(2):
                    t0 = time.time()
                    influx.query(q)
                    times.append(time.time() - t0)
                med = min(times)
                total += med
                print("  query %-55s %6.0f ms  (%s)" % (p["title"][:55], med * 1000,
                                                       "%dd" % (span // DAY) if span >= DAY else "%ds" % span))
        print("  all-sites dashboard, every panel: %.2f s (the faster of 2 runs per query, one after another)"
              % total)
        print("load average after: %s" % " ".join("%.2f" % x for x in os.getloadavg()))
    finally:
        influx.stop()
        if a.keep:
            print("work directory kept:", work)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
