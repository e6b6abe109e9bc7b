"""A server that stops answering but keeps its sockets open (SIGSTOP): the
broker mid-burst, and InfluxDB as a black hole. The gateway's timeouts fire,
its core keeps running (the HTTP server answers, messages keep being taken),
and once the server is back nothing is lost.

SIGKILL of either server is in tests/integration/test_reliability.py."""

import signal
import time

import faultlib
from faultlib import Publisher, Stack, burst, burst_in_background, harness, seq_stats, wait_for

PAUSE_S = 6  # how long a server stays stopped (SIGSTOP)


def test_broker_stopped_mid_burst_loses_nothing():
    n = 10000
    # The broker is paused: a mosquitto of its own.
    with Stack("mqtt-sigstop", private=("mqtt",)) as st:
        # A short keepalive, so the gateway notices the silent broker while it is stopped.
        gw = st.hallgw(devices=[faultlib.ENV_DEVICE], http=True, mqtt_extra='keepalive = "2s";')
        gw.start()
        pub = Publisher(st.mqtt)
        t = burst_in_background(pub, n)
        wait_for("the first points", lambda: seq_stats(st.influx)[0] > 0, timeout=20)
        harness.pause(st.mqtt.proc)
        stopped_at = time.time()
        faultlib.log("broker stopped with %d of %d points in InfluxDB" % (seq_stats(st.influx)[1], n))
        # The core does not wait on the broker: the HTTP server answers at once.
        wait_for("the gateway to notice the silent broker",
                 lambda: gw.metric("hallgw_mqtt_connection_lost_total") >= 1, timeout=PAUSE_S)
        # /healthz says so from the core's next turn (at most a second).
        wait_for("/healthz 503 with the broker gone", lambda: gw.http_get("/healthz", timeout=2)[0] == 503,
                 timeout=5, interval=0.2)
        # Stopped on purpose for PAUSE_S in all, noticed or not.
        time.sleep(max(0.0, PAUSE_S - (time.time() - stopped_at)))
        assert not gw.dead()
        harness.resume(st.mqtt.proc)

        t.join(120)
        assert not t.is_alive(), "the publisher did not finish"
        wait_for("all %d points" % n, lambda: seq_stats(st.influx)[1] >= n, timeout=60, interval=1)
        assert seq_stats(st.influx)[1] == n
        assert gw.metric("hallgw_mqtt_connects_total") >= 2
        wait_for("/healthz healthy again", lambda: gw.http_get("/healthz")[0] == 200, timeout=30)
        pub.close()
        assert gw.stop() == 0


def test_influxdb_black_hole_times_out_and_the_core_keeps_running():
    # InfluxDB is paused: an influxd of its own.
    with Stack("influx-sigstop", private=("influx",)) as st:
        gw = st.hallgw(devices=[faultlib.ENV_DEVICE], http=True)  # influx.timeout = 2s
        gw.start()
        pub = Publisher(st.mqtt)
        burst(pub, 100, 0)
        wait_for("the first 100 points", lambda: seq_stats(st.influx)[0] == 100, timeout=20)

        harness.pause(st.influx.proc)
        received = gw.metric("hallgw_messages_received_total", 'format="native"')
        burst(pub, 1000, 100)
        # Every message is taken while InfluxDB hangs: the core does not wait on it.
        wait_for("the core to take 1,000 messages while InfluxDB hangs",
                 lambda: gw.metric("hallgw_messages_received_total", 'format="native"') >= received + 1000,
                 timeout=20)
        wait_for("the write timeout to fire",
                 lambda: gw.metric("hallgw_influx_failures_total") >= 1, timeout=20)
        wait_for("batches to be spooled",
                 lambda: gw.metric("hallgw_points_total", 'outcome="spooled"') > 0, timeout=20)
        status, _ = gw.http_get("/healthz", timeout=2)
        assert status in (200, 503), status
        burst(pub, 1000, 1100)
        assert not gw.dead()
        log = gw.log_text()
        assert "timeout" in log.lower() or "timed out" in log.lower(), log[-2000:]

        harness.resume(st.influx.proc)
        wait_for("all 2,100 points after the black hole",
                 lambda: seq_stats(st.influx)[1] >= 2100, timeout=90, interval=0.5)
        wait_for("the spool drained", lambda: faultlib.spool_drained(gw), timeout=30)
        # A write that timed out may have landed and be sent again: the same
        # timestamps, so InfluxDB keeps one point each.
        assert seq_stats(st.influx) == (2100, 2100), seq_stats(st.influx)
        assert gw.metric("hallgw_points_total", 'outcome="lost"') == 0
        pub.close()
        assert gw.stop() == 0


if __name__ == "__main__":
    faultlib.run([test_broker_stopped_mid_burst_loses_nothing,
                  test_influxdb_black_hole_times_out_and_the_core_keeps_running])
