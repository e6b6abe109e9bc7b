"""hallgw-sim and hallgw together: the config the simulator prints is the one
the gateway runs, and every simulated device of every format lands."""

import os
import subprocess

import harness
from harness import BUILD_DIR, Stack, wait_for

SIM = os.path.join(BUILD_DIR, "hallgw-sim")


def test_every_simulated_device_lands_with_the_printed_config():
    with Stack("sim") as st:
        hall_conf = subprocess.run([SIM, "--hall", "h7", "--windows", "4", "--print-config"],
                                   check=True, capture_output=True, text=True).stdout
        gw = st.hallgw(halls=[{"id": "unused"}])
        gw.halls = []
        gw.write_config()
        # Replace the harness's halls/devices with the simulator's.
        with open(gw.conf, encoding="utf-8") as f:
            base = f.read()
        base = base[:base.index("halls = (")]
        with open(gw.conf, "w", encoding="utf-8") as f:
            f.write(base + hall_conf)
        check = subprocess.run([os.path.join(BUILD_DIR, "hallgw"), "--check-config", gw.conf],
                               capture_output=True, text=True)
        assert check.returncode == 0, check.stderr
        gw.start()

        n = 600
        sim = subprocess.run([SIM, "--uri", st.mqtt.uri, "--prefix", st.mqtt.prefix, "--hall", "h7",
                              "--windows", "4",
                              "--rate", "300", "--count", str(n), "--seed", "7"],
                             capture_output=True, text=True, timeout=120)
        assert sim.returncode == 0, sim.stderr
        assert "%d messages published" % n in sim.stderr, sim.stderr

        devices = [line.split('"')[1] for line in hall_conf.splitlines() if line.strip().startswith("{ id =")
                   and "kind =" in line]
        assert len(devices) == 4 * 3 + 5, devices

        def landed():
            got = set()
            for m in ("occupancy", "queue", "env", "equipment", "plug", "pc"):
                got |= {r["value"] for r in st.influx.rows('SHOW TAG VALUES FROM "%s" WITH KEY = "device"' % m)}
            return got if got >= set(devices) else None
        wait_for("a point from every simulated device", landed, timeout=30)

        # Seats are bound to their windows; both seat formats carry presence.
        rows = st.influx.rows("SELECT presence, \"window\" FROM occupancy WHERE device = 'seat-w01' OR device = 'seat-w02'")
        assert {r["window"] for r in rows} == {"w01", "w02"}
        assert all(isinstance(r["presence"], bool) for r in rows)
        # Plugs of both formats carry on and power_w.
        for dev in ("plug-w01", "plug-w02"):
            rows = st.influx.rows("SELECT \"on\", power_w FROM plug WHERE device = '%s'" % dev)
            assert any(isinstance(r["on"], bool) for r in rows), dev
            assert any(r["power_w"] is not None and r["power_w"] >= 0 for r in rows), dev
        # Nothing the simulator sends is refused.
        rejected = [f for f in ("rejected_bad_topic", "rejected_bad_id", "rejected_syntax", "rejected_bad_value")
                    if gw.counter(f)]
        assert not rejected, rejected
        assert gw.stop() == 0


def test_three_halls_on_one_gateway():
    """--halls 3: one config of three halls the gateway accepts, and every
    device of each hall lands under its own hall."""
    with Stack("sim-halls") as st:
        hall_conf = subprocess.run([SIM, "--halls", "3", "--windows", "2", "--hall-name", "中心",
                                    "--print-config"], check=True, capture_output=True, text=True).stdout
        gw = st.hallgw(halls=[{"id": "unused"}])
        with open(gw.conf, encoding="utf-8") as f:
            base = f.read()
        with open(gw.conf, "w", encoding="utf-8") as f:
            f.write(base[:base.index("halls = (")] + hall_conf)
        check = subprocess.run([os.path.join(BUILD_DIR, "hallgw"), "--check-config", gw.conf],
                               capture_output=True, text=True)
        assert check.returncode == 0, check.stderr
        assert "3 halls, %d devices" % (3 * (2 * 3 + 5)) in check.stdout, check.stdout
        gw.start()
        sim = subprocess.run([SIM, "--uri", st.mqtt.uri, "--prefix", st.mqtt.prefix, "--halls", "3",
                              "--windows", "2", "--rate", "300", "--count", "400", "--seed", "3"],
                             capture_output=True, text=True, timeout=120)
        assert sim.returncode == 0, sim.stderr

        def landed():
            rows = st.influx.rows('SELECT last("presence") FROM "occupancy" GROUP BY "hall", "device"')
            got = {(r["hall"], r["device"]) for r in rows} if rows and "hall" in rows[0] else set()
            want = {("h%d" % h, "h%d-seat-w0%d" % (h, w)) for h in (1, 2, 3) for w in (1, 2)}
            return got if got >= want else None
        got = wait_for("every hall's seats under their hall", landed, timeout=30)
        assert {d.split("-")[0] for _, d in got} == {"h1", "h2", "h3"}, got
        rejected = [f for f in ("rejected_bad_topic", "rejected_bad_id", "rejected_syntax", "rejected_bad_value",
                                "unknown_devices") if gw.counter(f)]
        assert not rejected, rejected
        assert gw.stop() == 0


if __name__ == "__main__":
    harness.run([test_every_simulated_device_lands_with_the_printed_config,
                 test_three_halls_on_one_gateway])
