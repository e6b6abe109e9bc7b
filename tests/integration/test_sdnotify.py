"""systemd's notify protocol, as hallgw speaks it under Type=notify: READY
once connected, STATUS lines, WATCHDOG pings from the core loop while MQTT is
connected, RELOADING/READY around SIGHUP and STOPPING on SIGTERM."""

import os
import signal
import socket
import time

import harness
from harness import Stack, wait_for


def test_ready_status_watchdog_reload_and_stopping():
    # The broker is killed below: a mosquitto of its own.
    with Stack("sdnotify", private=("mqtt",)) as st:
        path = os.path.join(st.dir, "notify.sock")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(path)
        sock.settimeout(0.2)
        got = []

        def drain():
            while True:
                try:
                    got.append(sock.recv(4096).decode())
                except socket.timeout:
                    return got

        gw = st.hallgw(devices=[{"id": "env-1", "hall": "h1", "kind": "env"}])
        gw.start(env={"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "2000000"})
        wait_for("READY=1", lambda: any("READY=1" in m for m in drain()), timeout=10)
        wait_for("two watchdog pings", lambda: sum("WATCHDOG=1" in m for m in drain()) >= 2, timeout=10)
        wait_for("a STATUS line", lambda: any("STATUS=" in m and "points written" in m for m in drain()),
                 timeout=15)
        got.clear()
        gw.signal(signal.SIGHUP)
        wait_for("RELOADING then READY", lambda: drain() and any("RELOADING=1" in m for m in got)
                 and any("READY=1" in m for m in got), timeout=10)
        # No broker, no watchdog: systemd would restart a gateway cut off for WatchdogSec.
        st.mqtt.kill()
        wait_for("the gateway to see the broker gone", lambda: "lost" in gw.log_text(gw.log_mark), timeout=15)
        drain()
        got.clear()
        # Pings come every second (half of WATCHDOG_USEC) while connected: none
        # may come in 3 s without the broker.
        time.sleep(3)
        assert not any("WATCHDOG=1" in m for m in drain()), got
        st.mqtt.start()
        gw.signal(signal.SIGTERM)
        gw.proc.wait(30)
        assert any("STOPPING=1" in m for m in drain()), got
        sock.close()


if __name__ == "__main__":
    harness.run([test_ready_status_watchdog_reload_and_stopping])
