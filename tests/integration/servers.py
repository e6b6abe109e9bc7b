"""The servers a ctest run shares: one mosquitto and one influxd on free
loopback ports, for every integration and fault test (harness.py gives each
test a topic prefix and a database of its own on them).

    servers.py start STATE_FILE   starts both, detached, and writes where they
                                  listen to STATE_FILE (JSON); the ctest
                                  fixture's setup
    servers.py stop STATE_FILE    stops them and removes STATE_FILE; the
                                  fixture's cleanup

Their files go to <STATE_FILE without .json>/: configs, logs and the
influxd data, which stop removes (the logs stay until the next start).
A start first stops servers an interrupted run left behind."""

import json
import os
import shutil
import signal
import sys
import time

import harness


def read_state(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def still_ours(pid, conf):
    """The process pid is still the server started with config conf (and not
    a process that got its number since)."""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return conf.encode() in f.read().split(b"\0")
    except OSError:
        return False


def stop_one(what, pid, conf, timeout=20):
    if not still_ours(pid, conf):
        return
    for sig in (signal.SIGCONT, signal.SIGTERM):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
    deadline = time.time() + timeout
    while time.time() < deadline and still_ours(pid, conf):
        time.sleep(0.05)
    if still_ours(pid, conf):
        harness.log("%s (pid %d) did not stop on SIGTERM: SIGKILL" % (what, pid))
        os.kill(pid, signal.SIGKILL)


def stop(path):
    state = read_state(path)
    if state is None:
        harness.log("no shared servers to stop (%s)" % path)
        return
    for what in ("mqtt", "influx"):
        s = state[what]
        stop_one(what, s["pid"], s["conf"])
        harness.log("stopped the shared %s (pid %d, port %d)" % (what, s["pid"], s["port"]))
    for d in ("data", "wal", "meta"):
        shutil.rmtree(os.path.join(state["dir"], "influxd", d), ignore_errors=True)
    os.unlink(path)


def start(path):
    if read_state(path) is not None:
        harness.log("stopping the servers of an earlier run first")
        stop(path)
    d = os.path.splitext(os.path.abspath(path))[0]
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    mqtt = influx = None
    try:
        mqtt = harness.Mosquitto(d, detach=True)
        influx = harness.Influxd(d, detach=True)
    except BaseException:
        for s in (mqtt, influx):
            if s:
                s.stop()
        raise
    state = {"dir": d,
             "mqtt": {"port": mqtt.port, "pid": mqtt.proc.pid, "conf": mqtt.conf},
             "influx": {"port": influx.port, "pid": influx.proc.pid, "conf": influx.conf}}
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(state, f, indent=1)
    os.rename(tmp, path)
    harness.log("shared mosquitto on port %d (pid %d), influxd on port %d (pid %d); files in %s"
                % (mqtt.port, mqtt.proc.pid, influx.port, influx.proc.pid, d))


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("start", "stop"):
        sys.stderr.write("usage: servers.py start|stop STATE_FILE\n")
        sys.exit(2)
    (start if sys.argv[1] == "start" else stop)(sys.argv[2])
