"""MQTT over TLS with a user name and password file, against a real mosquitto
with a TLS listener: the gateway verifies the broker with the CA, logs in,
and what is published lands. A wrong password is a clear error, retried with
backoff, not a tight loop."""

import json
import os
import subprocess
import time

import harness
from harness import Hallgw, Mosquitto, Publisher, free_port, wait_for


def make_pki(d):
    def run(*args):
        subprocess.run(args, check=True, capture_output=True, cwd=d)
    run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
        "/CN=hallgw test CA", "-keyout", "ca.key", "-out", "ca.crt")
    run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
        "-keyout", "server.key", "-out", "server.csr")
    with open(os.path.join(d, "ext.cnf"), "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    run("openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
        "-CAcreateserial", "-days", "2", "-extfile", "ext.cnf", "-out", "server.crt")
    for f in ("ca.crt", "server.crt", "server.key"):
        os.chmod(os.path.join(d, f), 0o644)


def test_tls_with_password_lands_and_a_wrong_password_backs_off():
    import tempfile
    import shutil
    d = tempfile.mkdtemp(prefix="hallgw-tls-")
    os.chmod(d, 0o755)  # mosquitto reads the certificates as its own user
    ok = False
    try:
        make_pki(d)
        pwfile = os.path.join(d, "passwd")
        subprocess.run(["mosquitto_passwd", "-c", "-b", pwfile, "hallgw", "s3cret pass"], check=True)
        os.chmod(pwfile, 0o644)
        tls_port = free_port()
        extra = ("listener %d 127.0.0.1\n"
                 "cafile %s/ca.crt\ncertfile %s/server.crt\nkeyfile %s/server.key\n"
                 "allow_anonymous false\npassword_file %s\n" % (tls_port, d, d, d, pwfile))
        # A broker of its own (TLS, passwords); the run's shared influxd.
        mqtt = Mosquitto(d, extra=extra, prelude="per_listener_settings true\n")
        influx = harness.influxd(d)
        try:
            secret = os.path.join(d, "mqtt.secret")
            harness.write_secret(secret, "s3cret pass\n")
            gw = Hallgw(d, mqtt, influx, devices=[{"id": "env-1", "hall": "h1", "kind": "env"}])
            gw.write_config()
            with open(gw.conf, encoding="utf-8") as f:
                conf = f.read()
            conf = conf.replace('mqtt = { uri = "%s";' % mqtt.uri,
                                'mqtt = { uri = "ssl://127.0.0.1:%d"; username = "hallgw"; '
                                'password_file = "%s"; tls = { ca_file = "%s/ca.crt"; };'
                                % (tls_port, secret, d))
            assert "ssl://" in conf
            with open(gw.conf, "w", encoding="utf-8") as f:
                f.write(conf)
            gw.start()
            pub = Publisher(mqtt)  # the plain listener, for the test's own traffic
            pub.publish("hall/h1/env-1/telemetry", json.dumps({"temperature": 21.25}))
            wait_for("the point over TLS", lambda: influx.rows("SELECT * FROM env WHERE temperature = 21.25"))
            pub.close()
            assert gw.stop() == 0

            # A wrong password: a clear error, and attempts spaced out by the backoff.
            with open(secret, "w") as f:
                f.write("wrong\n")
            gw.start(wait_online=False)
            t0 = time.time()
            wait_for("the refusal in the log", lambda: "cannot connect" in gw.log_text(gw.log_mark), timeout=10)
            log = gw.log_text(gw.log_mark)
            assert "cannot connect" in log and ("not authorized" in log.lower() or "bad user" in log.lower()
                                                 or "code 5" in log or "code 4" in log), log
            # Attempts 0.5 s, 1 s, 2 s apart: the fourth failure comes after
            # 3.5 s (a tight loop would have hundreds by the first count).
            attempts = wait_for("four failed attempts", lambda: (lambda n: n if n and n >= 4 else None)(
                gw.counter("mqtt_connect_failures")), timeout=20, interval=0.1)
            elapsed = time.time() - t0
            assert attempts <= 5 and elapsed >= 3, "%r attempts in %.1f s" % (attempts, elapsed)
            assert not gw.dead()
            gw.stop()
            ok = True
        finally:
            influx.stop()
            mqtt.stop()
    finally:
        if ok:
            shutil.rmtree(d, ignore_errors=True)
        else:
            print("test directory kept: " + d)


if __name__ == "__main__":
    harness.run([test_tls_with_password_lands_and_a_wrong_password_backs_off])
