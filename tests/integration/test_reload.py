"""SIGHUP reloads the config: a bad new config keeps the old one running and
says why; a good one takes effect (new bindings are subscribed)."""

import json
import signal

import harness
from harness import Stack, Publisher, Subscriber, wait_for


def test_sighup_with_a_bad_config_keeps_the_old_one_and_a_good_one_takes_effect():
    with Stack("reload") as st:
        gw = st.hallgw(devices=[{"id": "env-1", "hall": "h1", "kind": "env"}])
        gw.start()
        pub = Publisher(st.mqtt)
        sensor = '{"Time":"2026-11-26T10:00:00","SCD40":{"CarbonDioxide":777,"Temperature":22.5,"Humidity":40}}'

        # Not bound yet: the Tasmota sensor's topic is not even subscribed.
        pub.publish("tele/reload_air_9/SENSOR", sensor)
        pub.publish("hall/h1/env-1/telemetry", json.dumps({"temperature": 20.0}))
        wait_for("env-1", lambda: st.influx.rows("SELECT * FROM env WHERE device = 'env-1'"))
        assert not st.influx.rows("SELECT * FROM env WHERE co2 = 777")

        # A broken file: refused with file, line and key; the old config runs on.
        gw.extra = "mqtt_typo = 1;\n"
        gw.write_config()
        gw.signal(signal.SIGHUP)
        wait_for("the refusal in the log", lambda: "reload refused" in gw.log_text(), timeout=10)
        line = [l for l in gw.log_text().splitlines() if "reload refused" in l][0]
        assert "hallgw.conf:" in line and "mqtt_typo" in line, line
        pub.publish("hall/h1/env-1/telemetry", json.dumps({"temperature": 20.5}))
        wait_for("env-1 after the refused reload",
                 lambda: st.influx.rows("SELECT * FROM env WHERE temperature = 20.5"))
        assert not gw.dead()

        # A good file that binds the Tasmota sensor: it is subscribed and decoded.
        gw.extra = ""
        gw.devices.append({"id": "env-9", "hall": "h1", "kind": "env", "source": "tasmota:reload_air_9"})
        gw.write_config()
        status = Subscriber(st.mqtt, gw.status_topic)
        gw.signal(signal.SIGHUP)
        wait_for("the reload", lambda: "reloaded" in gw.log_text(), timeout=10)
        wait_for("the reconnect", lambda: gw.log_text().count("connected to") >= 2, timeout=20)
        # After subscribing again, the gateway says it is online (live, not
        # the retained copy of its first connect).
        gw.wait_online(status)
        status.close()
        pub.publish("tele/reload_air_9/SENSOR", sensor)
        rows = wait_for("env-9", lambda: st.influx.rows("SELECT * FROM env WHERE device = 'env-9'"))
        assert rows[-1]["co2"] == 777 and rows[-1]["temperature"] == 22.5
        pub.close()
        assert gw.stop() == 0


if __name__ == "__main__":
    harness.run([test_sighup_with_a_bad_config_keeps_the_old_one_and_a_good_one_takes_effect])
