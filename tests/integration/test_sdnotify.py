"""systemd's notify protocol, as hallgw speaks it under Type=notify: READY
once connected, STATUS lines, WATCHDOG pings from the core loop while it
turns (with or without the broker: a broker outage must not make systemd
restart the gateway), RELOADING/READY around SIGHUP and STOPPING on
SIGTERM."""

import os
import signal
import socket

import harness
from harness import Stack, free_port, wait_for


def notify_socket(st):
    """A NOTIFY_SOCKET in the test directory: (path, socket, got, drain),
    drain() adding what arrived to got and returning got."""
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
    return path, sock, got, drain


def test_ready_status_watchdog_reload_and_stopping():
    # The broker is killed below: a mosquitto of its own.
    with Stack("sdnotify", private=("mqtt",)) as st:
        path, sock, got, drain = notify_socket(st)

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
        # The broker gone, the core still turns: the pings go on, so systemd
        # does not restart a gateway that is waiting for its broker.
        st.mqtt.kill()
        wait_for("the gateway to see the broker gone", lambda: "lost" in gw.log_text(gw.log_mark), timeout=15)
        drain()
        got.clear()
        wait_for("three watchdog pings without the broker",
                 lambda: sum("WATCHDOG=1" in m for m in drain()) >= 3, timeout=10)
        st.mqtt.start()
        gw.signal(signal.SIGTERM)
        gw.proc.wait(30)
        assert any("STOPPING=1" in m for m in drain()), got
        sock.close()


class ClosedBroker:
    """An MQTT address nothing listens on."""

    shared = False
    prefix = harness.DEFAULT_PREFIX

    def __init__(self):
        self.port = free_port()

    @property
    def uri(self):
        return "tcp://127.0.0.1:%d" % self.port

    def stop(self):
        pass


def test_watchdog_is_fed_while_the_broker_is_unreachable():
    with Stack("sdnotify-nobroker") as st:
        path, sock, got, drain = notify_socket(st)
        gw = st.hallgw(devices=[{"id": "env-1", "hall": "h1", "kind": "env"}], http=True)
        gw.mqtt = ClosedBroker()
        gw.write_config()
        gw.start(wait_online=False, env={"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "1000000"})
        wait_for("READY=1", lambda: any("READY=1" in m for m in drain()), timeout=10)
        # Pings every half second; ten of them span several reconnect attempts.
        wait_for("ten watchdog pings", lambda: sum("WATCHDOG=1" in m for m in drain()) >= 10, timeout=20)
        assert not gw.dead()
        # Never connected, and /healthz says so.
        status, body = gw.http_get("/healthz")
        assert status == 503 and b'"mqtt_connected":false' in body, (status, body)
        assert gw.metric("hallgw_mqtt_connects_total") == 0
        gw.signal(signal.SIGTERM)
        gw.proc.wait(30)
        assert any("STOPPING=1" in m for m in drain()), got
        sock.close()


if __name__ == "__main__":
    harness.run([test_ready_status_watchdog_reload_and_stopping,
                 test_watchdog_is_fed_while_the_broker_is_unreachable])
