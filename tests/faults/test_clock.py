"""The wall clock jumps forward and back under a running gateway (an
operator or NTP setting the clock), while the monotonic clock runs on as on
a real machine. Durations (`for`, stale) are on the monotonic clock: no storm
of stale alerts. The schedule is on the wall clock: a jump forward across
`poweroff_at` starts the night's power-off run, once; a jump back and
forward again does not start it twice.

The machine's clock is not touched: walljump.c, preloaded into the gateway
only, shifts CLOCK_REALTIME as the gateway's own code reads it by an offset
read from a file the test writes."""

import json
import os
import subprocess
import time

import faultlib
from faultlib import Publisher, Stack, Subscriber, harness, wait_for

HERE = os.path.dirname(os.path.abspath(__file__))
KEY_HEX = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
HALLS = [{"id": "h1", "name": "测试大厅", "windows": [
    {"id": "w01", "name": "综合受理 1", "seat": "seat-w01", "pc": "pc-w01"},
    {"id": "w02", "name": "综合受理 2", "seat": "seat-w02", "pc": "pc-w02"}]}]
DEVICES = ([{"id": "env-%d" % i, "hall": "h1", "kind": "env"} for i in range(1, 4)] +
           [{"id": "seat-w0%d" % i, "hall": "h1", "kind": "seat"} for i in (1, 2)] +
           [{"id": "pc-w0%d" % i, "hall": "h1", "kind": "pc"} for i in (1, 2)])
CLOSE_IN_S = 20 * 60      # the hall closes 20 minutes from now (local)
POWEROFF_IN_S = 40 * 60   # and powers off at 40 minutes
JUMP_S = 45 * 60          # past both


def build_shim(d):
    so = os.path.join(d, "walljump.so")
    subprocess.run(["cc", "-shared", "-fPIC", "-O2", "-Wall", "-o", so, os.path.join(HERE, "walljump.c"),
                    "-ldl"], check=True)
    return so


def set_offset(path, seconds, gw=None):
    """Shifts the gateway's wall clock by seconds; with gw, waits until the
    gateway's own time (its state API) shows it."""
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % seconds)
    os.rename(tmp, path)
    if gw is not None:
        def shifted():
            status, body = gw.http_get("/api/v1/state")
            return status == 200 and abs(json.loads(body)["time"] - (time.time() + seconds)) < 30
        wait_for("the gateway's clock %+d s" % seconds, shifted, timeout=10, interval=0.05)


def env_points(st):
    rows = st.influx.rows("SELECT count(co2) FROM env")
    return (rows[0]["count"] or 0) if rows else 0


def live_traffic(pub):
    """Every device reports, live (not retained): the PCs are on."""
    for i in range(1, 4):
        pub.publish("hall/h1/env-%d/telemetry" % i, json.dumps({"co2": 1500, "temperature": 22.5}))
    for i in (1, 2):
        pub.publish("hall/h1/seat-w0%d/telemetry" % i, json.dumps({"presence": True}))
        pub.publish("hall/h1/pc-w0%d/status" % i, "online")
        pub.publish("hall/h1/pc-w0%d/telemetry" % i, json.dumps({"cpu": 5.0}))


def firing(sub):
    return [m["id"] for m in sub.json_on("hall/h1/alerts") if m.get("state") == "firing"]


def poweroff_commands(sub):
    out = []
    for i in (1, 2):
        for m in sub.json_on("hall/h1/pc-w0%d/cmd" % i):
            if m.get("action") == "poweroff":
                out.append((m["device"], m["id"]))
    return out


def test_wall_clock_jumps_start_the_poweroff_once_and_raise_no_stale_alerts():
    with Stack("clock") as st:
        so = build_shim(st.dir)
        offset_file = os.path.join(st.dir, "wall-offset")
        set_offset(offset_file, 0)
        key = os.path.join(st.dir, "command.key")
        harness.write_secret(key, KEY_HEX + "\n")
        zone, off = harness.noon_zone()
        schedule = ('schedule = { weekdays = ["mon","tue","wed","thu","fri","sat","sun"]; '
                    'open = "%s"; close = "%s"; poweroff_at = "%s"; };\n'
                    % (harness.local_hms(off, -3 * 3600), harness.local_hms(off, CLOSE_IN_S),
                       harness.local_hms(off, POWEROFF_IN_S)))
        gw = st.hallgw(devices=DEVICES, halls=HALLS, http=True,
                       extra=schedule + 'poweroff = { grace = "1m"; verify_within = "15m"; };\n',
                       mqtt_extra="command_key_file = %s;" % harness.conf_str(key))
        gw.timezone = zone
        gw.write_config()
        env = {"LD_PRELOAD": so, "WALLJUMP_FILE": offset_file,
               # the shim is not built with the sanitizer: it is preloaded before it
               "ASAN_OPTIONS": "verify_asan_link_order=0:" + os.environ.get("ASAN_OPTIONS", "")}
        gw.start(env=env)
        sub = Subscriber(st.mqtt, "hall/h1/alerts", "hall/h1/+/cmd")
        pub = Publisher(st.mqtt)
        live_traffic(pub)
        # Judged as they arrive: once their points are written, an alert
        # would have been published.
        wait_for("the readings written", lambda: env_points(st) >= 3)
        assert firing(sub) == [], "alerts before any jump: %r" % firing(sub)
        assert poweroff_commands(sub) == []

        # Forward past close and poweroff_at: the run starts, nothing is stale.
        set_offset(offset_file, JUMP_S, gw)
        sent = wait_for("the power-off run after the jump forward",
                        lambda: len(poweroff_commands(sub)) == 2 and poweroff_commands(sub), timeout=15)
        assert sorted(d for d, _ in sent) == ["pc-w01", "pc-w02"], sent
        # The gateway's own timestamps follow the new wall clock.
        status, body = gw.http_get("/api/v1/state")
        assert status == 200 and json.loads(body)["time"] > time.time() + JUMP_S - 60
        # On purpose: a few alerting ticks (one a second) on the new clock.
        time.sleep(2.2)
        assert firing(sub) == [], "alerts after the jump forward: %r" % firing(sub)

        # Back before close (the clock was wrong), then forward again: the
        # night's run is not started a second time, still nothing is stale.
        set_offset(offset_file, 0, gw)
        time.sleep(1.2)  # on purpose: an alerting tick with the clock back
        set_offset(offset_file, JUMP_S + 60, gw)
        # On purpose: the first run started within a tick of its jump; give
        # a second one three.
        time.sleep(3)
        assert poweroff_commands(sub) == sent, "commands after the second jump: %r" % poweroff_commands(sub)
        # Far back (a clock reset to an hour ago), then the devices report again.
        set_offset(offset_file, -3600, gw)
        live_traffic(pub)
        wait_for("the readings written again", lambda: env_points(st) >= 6)
        assert firing(sub) == [], "alerts after the jumps: %r" % firing(sub)
        assert not gw.dead()
        rows = st.influx.rows("SELECT count(*) FROM env")
        assert rows, "no env points written"
        sub.close()
        pub.close()
        assert gw.stop() == 0


if __name__ == "__main__":
    faultlib.run([test_wall_clock_jumps_start_the_poweroff_once_and_raise_no_stale_alerts])
