"""Scale-out on loopback: a site Mosquitto bridged to a central Mosquitto with
the shipped config/mosquitto/bridge.conf, and two hallgw instances at the
centre partitioning the halls (gateway.halls = ["h1"] and ["h2"]) into one
InfluxDB (a database of the test's own on the run's shared influxd; the two
brokers are the test's own). Every reading published at the site lands
exactly once, and each hall's alert is raised once, by the instance that owns
the hall."""

import json
import os
import re
import shutil
import sys
import tempfile
import time

import harness
from harness import Hallgw, Mosquitto, Publisher, Subscriber, log, wait_for

N = 300  # readings per hall
HALLS = [{"id": "h1", "name": "一号大厅"}, {"id": "h2", "name": "二号大厅"}]
DEVICES = [{"id": "env-1", "hall": "h1", "kind": "env"},
           {"id": "env-2", "hall": "h2", "kind": "env"}]
RULES = """
rules = (
  { name = "co2-high"; type = "threshold"; kind = "env"; metric = "co2"; above = 1000.0;
    clear_at = 900.0; for = "1s"; severity = "warning"; when = "always"; }
);
"""


def bridge_conf(central_port):
    """The shipped bridge, pointed at the loopback centre (its TLS lines are
    comments already)."""
    with open(os.path.join(harness.SOURCE_DIR, "config/mosquitto/bridge.conf"), encoding="utf-8") as f:
        text = f.read()
    text, n = re.subn(r"(?m)^address .*$", "address 127.0.0.1:%d" % central_port, text)
    assert n == 1, "bridge.conf has no address line"
    assert not re.search(r"(?m)^bridge_(cafile|certfile|keyfile)", text), "TLS is on in bridge.conf"
    return text


def gateway(workdir, central, influx, hall):
    gw = Hallgw(workdir, central, influx, devices=DEVICES, halls=HALLS, extra=RULES,
                gateway_extra='halls = ["%s"];' % hall, name="gw-" + hall)
    gw.gateway_id = "gw-" + hall
    gw.write_config()
    return gw


def firing(sub, hall, alert_id):
    return [m for m in sub.json_on("hall/%s/alerts" % hall) if m["id"] == alert_id and m["state"] == "firing"]


def test_two_gateways_partition_the_halls_of_a_bridged_site():
    workdir = tempfile.mkdtemp(prefix="hallgw-scaleout-")
    procs, clients, gws = [], [], []
    ok = False
    try:
        central = Mosquitto(os.path.join(workdir, "central"))
        procs.append(central)
        site = Mosquitto(os.path.join(workdir, "site"), extra=bridge_conf(central.port))
        procs.append(site)
        influx = harness.influxd(workdir)
        procs.append(influx)

        # The bridge is up when a message published at the site reaches the
        # centre (hall/probe is no device topic).
        probe_sub = Subscriber(central, "hall/probe")
        clients.append(probe_sub)
        site_pub = Publisher(site)
        clients.append(site_pub)
        def bridged():
            site_pub.publish("hall/probe", "x")
            return probe_sub.payloads("hall/probe")
        wait_for("the site bridged to the centre", bridged, timeout=20, interval=0.5)

        central_sub = Subscriber(central, "hall/+/alerts")
        site_sub = Subscriber(site, "hall/+/alerts")
        clients += [central_sub, site_sub]
        for hall in ("h1", "h2"):
            gw = gateway(workdir, central, influx, hall)
            gws.append(gw)
            gw.start()

        t0 = time.time() - 120
        for i in range(N):
            for hall, dev in (("h1", "env-1"), ("h2", "env-2")):
                site_pub.publish("hall/%s/%s/telemetry" % (hall, dev),
                                 json.dumps({"seq": i, "ts": t0 + i * 0.1, "temperature": 20 + i % 5}),
                                 wait=False)
        for hall, dev in (("h1", "env-1"), ("h2", "env-2")):
            site_pub.publish("hall/%s/%s/telemetry" % (hall, dev), json.dumps({"co2": 1500}))
        log("published %d readings per hall at the site" % N)

        def landed(hall):
            rows = influx.rows("SELECT count(seq), count(distinct(seq)) FROM env WHERE hall = '%s'" % hall)
            return rows and (rows[0]["count"], rows[0]["count_1"])
        for hall in ("h1", "h2"):
            wait_for("%d readings of %s in InfluxDB" % (N, hall), lambda: landed(hall) == (N, N), timeout=60)
            devices = {r["value"] for r in influx.rows("SHOW TAG VALUES FROM env WITH KEY = device WHERE hall = '%s'"
                                                       % hall)}
            assert devices == {"env-1" if hall == "h1" else "env-2"}, devices

        for hall, dev in (("h1", "env-1"), ("h2", "env-2")):
            wait_for("co2-high:%s at the centre" % dev, lambda: firing(central_sub, hall, "co2-high:" + dev),
                     timeout=15)
            # Bridged back to the site's screens.
            wait_for("co2-high:%s at the site" % dev, lambda: firing(site_sub, hall, "co2-high:" + dev), timeout=10)

        # Each instance decoded only its own hall's messages (N readings + 1
        # CO2 each: nothing twice, nothing of the other hall)...
        for gw in gws:
            def decoded(gw=gw):
                rows = influx.rows("SELECT last(decoded) FROM gateway WHERE gateway = '%s'" % gw.gateway_id)
                return rows and rows[0]["last"] == N + 1 and rows[0]["last"]
            wait_for("%s decoded %d messages" % (gw.gateway_id, N + 1), decoded, timeout=15)
        # ...so every alert it would raise has been published: each hall's
        # alert fired once, at the centre and at the site (no bridge loop).
        # The bridge keeps the order: once a message published at the centre
        # after them has reached the site, so has every copy of an alert.
        central_pub = Publisher(central)
        clients.append(central_pub)
        central_pub.publish("hall/h9/alerts", "after the alerts")
        wait_for("the bridge drained", lambda: site_sub.payloads("hall/h9/alerts"), timeout=10)
        for hall, dev in (("h1", "env-1"), ("h2", "env-2")):
            assert len(firing(central_sub, hall, "co2-high:" + dev)) == 1, central_sub.json_on("hall/%s/alerts" % hall)
            assert len(firing(site_sub, hall, "co2-high:" + dev)) == 1, site_sub.json_on("hall/%s/alerts" % hall)
        # Each instance raised its own hall's alert only.
        for gw, mine, other in ((gws[0], "env-1", "env-2"), (gws[1], "env-2", "env-1")):
            text = gw.log_text()
            assert "alert co2-high:%s firing" % mine in text, text[-3000:]
            assert "co2-high:%s" % other not in text, text[-3000:]
        for gw in gws:
            assert gw.stop() == 0
        ok = True
    finally:
        for c in clients:
            try:
                c.close()
            except Exception:  # noqa: BLE001 - best-effort cleanup
                pass
        for gw in gws:
            try:
                gw.stop()
            except Exception:  # noqa: BLE001
                if gw.proc:
                    gw.proc.kill()
            if not ok:
                sys.stdout.write("---- %s log ----\n%s\n" % (gw.dir, gw.log_text()[-4000:]))
        for p in reversed(procs):
            p.stop()
        if ok:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print("test directory kept: %s" % workdir)


if __name__ == "__main__":
    harness.run([test_two_gateways_partition_the_halls_of_a_bridged_site])
