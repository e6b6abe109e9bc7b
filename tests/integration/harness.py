"""Integration test harness: a real mosquitto, a real influxd and hallgw,
each started on free loopback ports in a private temporary directory, and
stopped at the end.

Only the standard library and Debian's python3-paho-mqtt are used."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

BUILD_DIR = os.environ.get("HALLGW_BUILD_DIR", os.path.join(os.path.dirname(__file__), "../../build"))
FIXTURES_DIR = os.environ.get(
    "HALLGW_FIXTURES_DIR", os.path.join(os.path.dirname(__file__), "../fixtures"))
SOURCE_DIR = os.environ.get("HALLGW_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "../.."))


def log(*args):
    print("[%s]" % time.strftime("%H:%M:%S"), *args, flush=True)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=20.0, proc=None):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError("process exited with %s before opening port %d" % (proc.returncode, port))
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("port %d did not open within %.0fs" % (port, timeout))


def wait_for(what, fn, timeout=30.0, interval=0.2):
    """Polls fn until it returns a true value; returns it, or fails the test."""
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError("timed out after %.0fs waiting for %s (last: %r)" % (timeout, what, last))


def resume(proc):
    """SIGCONT, so that a process a test stopped (SIGSTOP) can take SIGTERM."""
    try:
        proc.send_signal(signal.SIGCONT)
    except OSError:
        pass


def pause(proc, sig=signal.SIGSTOP):
    """Stops a process (SIGSTOP): it keeps its sockets open and answers nothing."""
    proc.send_signal(sig)


def rss_kb(pid):
    """The resident set size of a process, in KiB (VmRSS of /proc)."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for pid %d" % pid)


def parse_metrics(text):
    """The samples of a Prometheus text page: {(name, labels): value}."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        head, _, value = line.rpartition(" ")
        name, _, labels = head.partition("{")
        out[(name, labels.rstrip("}"))] = float(value)
    return out


def fixtures(name=None):
    """Every fixture line (dicts), from one file or all of them."""
    names = [name] if name else sorted(f for f in os.listdir(FIXTURES_DIR) if f.endswith(".jsonl"))
    out = []
    for n in names:
        with open(os.path.join(FIXTURES_DIR, n), encoding="utf-8") as f:
            for i, line in enumerate(f, 1):
                if line.strip():
                    fx = json.loads(line)
                    fx["_where"] = "%s:%d" % (n, i)
                    if "payload_hex" in fx:
                        fx["payload_bytes"] = bytes.fromhex(fx["payload_hex"])
                    else:
                        fx["payload_bytes"] = fx["payload"].encode("utf-8")
                    out.append(fx)
    return out


class Mosquitto:
    def __init__(self, workdir, port=None, extra="", prelude=""):
        self.dir = os.path.join(workdir, "mosquitto")
        os.makedirs(self.dir, exist_ok=True)
        self.port = port or free_port()
        self.conf = os.path.join(self.dir, "mosquitto.conf")
        with open(self.conf, "w") as f:
            f.write(prelude + "listener %d 127.0.0.1\n"
                    "allow_anonymous true\n"
                    "persistence false\n"
                    "max_queued_messages 200000\n"
                    "max_inflight_messages 100\n"
                    "set_tcp_nodelay true\n"
                    "log_dest stderr\n"
                    "%s\n" % (self.port, extra))
        self.proc = None
        self.start()

    def start(self):
        self.log = open(os.path.join(self.dir, "mosquitto.log"), "ab")
        self.proc = subprocess.Popen(["mosquitto", "-c", self.conf],
                                     stdout=self.log, stderr=self.log)
        wait_port(self.port, proc=self.proc)

    def kill(self, sig=signal.SIGKILL):
        self.proc.send_signal(sig)
        self.proc.wait(10)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            resume(self.proc)
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    @property
    def uri(self):
        return "tcp://127.0.0.1:%d" % self.port


class Influxd:
    def __init__(self, workdir):
        self.dir = os.path.join(workdir, "influxd")
        os.makedirs(self.dir, exist_ok=True)
        self.port = free_port()
        self.rpc_port = free_port()
        self.conf = os.path.join(self.dir, "influxdb.conf")
        with open(self.conf, "w") as f:
            f.write('reporting-disabled = true\n'
                    'bind-address = "127.0.0.1:%d"\n'
                    '[meta]\n  dir = "%s/meta"\n'
                    '[data]\n  dir = "%s/data"\n  wal-dir = "%s/wal"\n  query-log-enabled = false\n'
                    '[http]\n  bind-address = "127.0.0.1:%d"\n  log-enabled = false\n'
                    '[monitor]\n  store-enabled = false\n'
                    '[subscriber]\n  enabled = false\n'
                    '[continuous_queries]\n  enabled = false\n'
                    '[logging]\n  level = "warn"\n'
                    % (self.rpc_port, self.dir, self.dir, self.dir, self.port))
        self.proc = None
        self.start()

    def start(self):
        self.log = open(os.path.join(self.dir, "influxd.log"), "ab")
        self.proc = subprocess.Popen(["influxd", "-config", self.conf],
                                     stdout=self.log, stderr=self.log)
        wait_port(self.port, proc=self.proc)
        wait_for("influxd /ping", self.ping, timeout=30)

    def ping(self):
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/ping" % self.port, timeout=2) as r:
                return r.status == 204
        except OSError:
            return False

    def kill(self, sig=signal.SIGKILL):
        self.proc.send_signal(sig)
        self.proc.wait(20)
        self.log.close()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            resume(self.proc)
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def query(self, q, db="hallgw"):
        """Runs an InfluxQL query; returns the list of series of the first result."""
        url = "%s/query?%s" % (self.url, urllib.parse.urlencode({"db": db, "q": q, "epoch": "ns"}))
        with urllib.request.urlopen(url, timeout=10) as r:
            body = json.load(r)
        res = body["results"][0]
        if "error" in res:
            raise RuntimeError("query %r: %s" % (q, res["error"]))
        return res.get("series", [])

    def rows(self, q, db="hallgw"):
        """Rows of a query as dicts, with the series tags merged in."""
        try:
            series = self.query(q, db)
        except RuntimeError as e:
            if "database not found" in str(e):
                return []
            raise
        out = []
        for s in series:
            for v in s.get("values", []):
                row = dict(zip(s["columns"], v))
                row.update(s.get("tags", {}))
                row["_measurement"] = s.get("name")
                out.append(row)
        return out

    def count(self, measurement, field, where=""):
        rows = self.rows('SELECT count("%s") FROM "%s" %s' % (field, measurement, where))
        return rows[0]["count"] if rows else 0


def conf_str(s):
    return json.dumps(s, ensure_ascii=False)


def noon_zone():
    """An Etc/GMT zone in which it is now between 11:00 and 13:00, so a test
    can put opening hours around now without crossing midnight."""
    h = time.gmtime().tm_hour
    offset = (12 - h + 12) % 24 - 12  # local = UTC + offset, in -12..11
    if offset == 0:
        return "Etc/UTC", 0
    # Etc/GMT-8 is UTC+8: the sign is inverted.
    return "Etc/GMT%+d" % (-offset), offset


def local_hms(offset_h, delta_s=0):
    """HH:MM:SS in a zone offset_h hours from UTC, delta_s from now."""
    t = time.gmtime(time.time() + offset_h * 3600 + delta_s)
    return "%02d:%02d:%02d" % (t.tm_hour, t.tm_min, t.tm_sec)


def schedule_around_now(offset_h, open_s=-3600, close_s=3600, breaks=(), lunch=None):
    """A schedule block open every day from now+open_s to now+close_s (local)."""
    parts = ['weekdays = ["mon","tue","wed","thu","fri","sat","sun"];',
             'open = "%s";' % local_hms(offset_h, open_s),
             'close = "%s";' % local_hms(offset_h, close_s)]
    if breaks:
        parts.append("breaks = (%s);" % ", ".join(
            '{ from = "%s"; to = "%s"; }' % (local_hms(offset_h, a), local_hms(offset_h, b))
            for a, b in breaks))
    return "schedule = { %s };\n" % " ".join(parts)


class Hallgw:
    """The gateway under test, with a config written from parts."""

    def __init__(self, workdir, mqtt, influx, devices=(), halls=(), extra="", influx_extra="",
                 gateway_extra="", name="hallgw", http=False, mqtt_extra=""):
        self.dir = os.path.join(workdir, name)
        os.makedirs(self.dir, exist_ok=True)
        self.state_dir = os.path.join(self.dir, "state")
        self.conf = os.path.join(self.dir, "hallgw.conf")
        self.log_path = os.path.join(self.dir, "hallgw.log")
        self.gateway_id = "gw-test"
        self.timezone = "Asia/Shanghai"
        self.mqtt = mqtt
        self.influx = influx
        self.devices = list(devices)
        self.halls = list(halls)
        self.extra = extra
        self.influx_extra = influx_extra
        self.gateway_extra = gateway_extra
        self.mqtt_extra = mqtt_extra
        # http=True: the HTTP server on a free port, for /metrics and /healthz
        # (which answer while InfluxDB is away).
        self.http_port = free_port() if http else None
        self.proc = None
        self.write_config()

    def write_config(self):
        halls = self.halls or [{"id": "h1", "name": "测试大厅", "windows": []}]
        with open(self.conf, "w", encoding="utf-8") as f:
            f.write('gateway = { id = "%s"; timezone = "%s"; state_dir = %s; '
                    'stats_interval = "1s"; %s };\n'
                    % (self.gateway_id, self.timezone, conf_str(self.state_dir), self.gateway_extra))
            f.write('mqtt = { uri = "%s"; client_id = "hallgw-test-%d"; prefix = "hall"; qos = 1; %s};\n'
                    % (self.mqtt.uri, os.getpid(), self.mqtt_extra + " " if self.mqtt_extra else ""))
            api = "" if "api =" in self.influx_extra else 'api = "v1"; database = "hallgw"; '
            f.write('influx = { url = "%s"; %sbatch_size = 500; '
                    'flush_interval = "200ms"; timeout = "2s"; %s };\n'
                    % (self.influx.url, api, self.influx_extra))
            f.write("halls = (\n")
            for i, h in enumerate(halls):
                f.write('  { id = "%s"; name = %s; windows = (' % (h["id"], conf_str(h.get("name", h["id"]))))
                f.write(", ".join(
                    "{ %s }" % " ".join("%s = %s;" % (k, conf_str(v) if isinstance(v, str) else str(v).lower())
                                        for k, v in w.items()) for w in h.get("windows", [])))
                f.write(") }%s\n" % ("," if i + 1 < len(halls) else ""))
            f.write(");\n")
            f.write("devices = (\n")
            for i, d in enumerate(self.devices):
                f.write("  { %s }%s\n" % (" ".join("%s = %s;" % (k, conf_str(v)) for k, v in d.items()),
                                          "," if i + 1 < len(self.devices) else ""))
            f.write(");\n")
            f.write(self.extra)
            if self.http_port:
                f.write('\nhttp = { listen = "127.0.0.1:%d"; };\n' % self.http_port)

    def start(self, wait_online=True, env=None):
        self.logf = open(self.log_path, "ab")
        self.log_mark = self.logf.tell()
        self.proc = subprocess.Popen([os.path.join(BUILD_DIR, "hallgw"), "-c", self.conf],
                                     stdout=self.logf, stderr=self.logf,
                                     env=dict(os.environ, **env) if env else None)
        if wait_online:
            wait_for("hallgw to connect", lambda: "connected to" in self.log_text(self.log_mark) or self.dead(),
                     timeout=20)
            if self.dead():
                raise AssertionError("hallgw exited with %s:\n%s" % (self.proc.returncode, self.log_text()))
            time.sleep(0.3)  # subscriptions complete

    def dead(self):
        return self.proc.poll() is not None

    def log_text(self, since=0):
        with open(self.log_path, "rb") as f:
            f.seek(since)
            return f.read().decode("utf-8", "replace")

    def signal(self, sig):
        self.proc.send_signal(sig)

    def kill(self, sig=None):
        """Kills the gateway (SIGKILL: it cannot flush); returns the exit status."""
        self.proc.send_signal(sig or signal.SIGKILL)
        rc = self.proc.wait(20)
        self.logf.close()
        return rc

    def http_get(self, path, timeout=5):
        """(status, body) of a GET on the gateway's HTTP server (http=True)."""
        import urllib.error
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d%s" % (self.http_port, path),
                                        timeout=timeout) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def metrics(self):
        """Every sample of /metrics: {(name, labels): value} (http=True)."""
        status, body = self.http_get("/metrics")
        assert status == 200, "/metrics answered %d" % status
        return parse_metrics(body.decode())

    def metric(self, name, labels=""):
        """One sample of /metrics, 0 when absent (http=True)."""
        return self.metrics().get((name, labels), 0)

    def rss_kb(self):
        return rss_kb(self.proc.pid)

    def stop(self, timeout=30):
        """SIGTERM and wait; returns the exit code."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        resume(self.proc)
        self.proc.terminate()
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise AssertionError("hallgw did not stop within %ds" % timeout)
        self.logf.close()
        return rc

    def counter(self, field):
        """The latest value of a self-counter in the gateway measurement."""
        rows = self.influx.rows('SELECT last("%s") FROM "gateway"' % field)
        return rows[0]["last"] if rows else None


class Publisher:
    """A paho-mqtt client for publishing test traffic."""

    def __init__(self, mqtt, client_id=None):
        import paho.mqtt.client as paho
        self.client = paho.Client(client_id=client_id or "test-pub-%d-%f" % (os.getpid(), time.time()),
                                  clean_session=True)
        self.client.connect("127.0.0.1", mqtt.port, keepalive=30)
        self.client.loop_start()

    def publish(self, topic, payload, qos=1, retain=False, wait=True):
        if isinstance(payload, str):
            payload = payload.encode("utf-8")
        info = self.client.publish(topic, payload, qos=qos, retain=retain)
        if wait and qos > 0:
            info.wait_for_publish(10)
        return info

    def close(self):
        self.client.loop_stop()
        self.client.disconnect()


class Subscriber:
    """Collects the messages of some topic filters, with a condition wait."""

    def __init__(self, mqtt, *filters):
        import paho.mqtt.client as paho
        import threading
        self.messages = []
        self.lock = threading.Lock()
        self.client = paho.Client(client_id="test-sub-%d-%f" % (os.getpid(), time.time()))
        self.client.on_message = self._on_message
        subscribed = threading.Event()
        self.client.on_subscribe = lambda *a: subscribed.set()
        self.client.connect("127.0.0.1", mqtt.port, keepalive=30)
        self.client.loop_start()
        self.client.subscribe([(f, 1) for f in filters])
        subscribed.wait(10)

    def _on_message(self, client, userdata, msg):
        with self.lock:
            self.messages.append((msg.topic, msg.payload, msg.retain))

    def json_on(self, topic):
        """Decoded JSON payloads received on exactly this topic."""
        with self.lock:
            return [json.loads(p) for t, p, r in self.messages if t == topic and p]

    def payloads(self, topic):
        with self.lock:
            return [(p, r) for t, p, r in self.messages if t == topic]

    def close(self):
        self.client.loop_stop()
        self.client.disconnect()


class Stack:
    """Context manager: a temp dir with mosquitto and influxd; keeps the
    directory and prints the logs when the test fails."""

    def __init__(self, name, influx=True):
        self.name = name
        self.want_influx = influx
        self.ok = False

    def __enter__(self):
        self.dir = tempfile.mkdtemp(prefix="hallgw-%s-" % self.name)
        self.mqtt = Mosquitto(self.dir)
        self.influx = Influxd(self.dir) if self.want_influx else None
        self.gateways = []
        return self

    def hallgw(self, **kw):
        g = Hallgw(self.dir, self.mqtt, self.influx, **kw)
        self.gateways.append(g)
        return g

    def __exit__(self, et, ev, tb):
        for g in self.gateways:
            try:
                g.stop()
            except Exception:
                if g.proc:
                    g.proc.kill()
            if et is not None:
                sys.stdout.write("---- %s log ----\n%s\n" % (g.dir, g.log_text()[-6000:]))
        if self.influx:
            self.influx.stop()
        self.mqtt.stop()
        if et is None:
            shutil.rmtree(self.dir, ignore_errors=True)
        else:
            print("test directory kept: %s" % self.dir)
        return False


def run(tests):
    """Runs test functions in order; exits non-zero when any fails."""
    failed = 0
    for t in tests:
        log("RUN ", t.__name__)
        start = time.time()
        try:
            t()
            log("PASS", t.__name__, "(%.1fs)" % (time.time() - start))
        except Exception as e:  # noqa: BLE001 - report any failure
            failed += 1
            import traceback
            traceback.print_exc()
            log("FAIL", t.__name__, e)
    print("%d passed, %d failed" % (len(tests) - failed, failed))
    sys.exit(1 if failed else 0)
