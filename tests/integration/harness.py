"""Integration test harness: a real mosquitto, a real influxd and hallgw.

Under ctest the servers are shared: the `servers` fixture (servers.py) starts
one mosquitto and one influxd for the whole run on free loopback ports and
writes where they listen to the file named by $HALLGW_TEST_SERVERS. Each
Stack then gets a namespace of its own on them: an MQTT topic prefix (the
gateway's mqtt.prefix), an InfluxDB database and MQTT client ids, all derived
from the test file's name and a counter. Run directly (python3 test_x.py,
without $HALLGW_TEST_SERVERS), a Stack starts private servers, as does a
test that must kill, pause or specially configure one (Stack(private=...)).

Tests write native topics as a hall sees them with the default prefix,
"hall/<hall>/<device>/...": Publisher and Subscriber put the namespace's
prefix in place of that first level on the way out and back on the way in.
Foreign topics (zigbee2mqtt/, tele/, stat/, cmnd/, Shelly ids) are global on
a shared broker: a test that uses them names its devices uniquely, or starts
a private broker.

Only the standard library and Debian's python3-paho-mqtt are used."""

import itertools
import json
import os
import random
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
# Written by the ctest fixture (servers.py start): where the shared servers listen.
SERVERS_FILE = os.environ.get("HALLGW_TEST_SERVERS")
DEFAULT_PREFIX = "hall"


def log(*args):
    print("[%s]" % time.strftime("%H:%M:%S"), *args, flush=True)


# Ports handed out below the kernel's ephemeral range (32768 and up by
# default): a port the kernel gives to 0 can be taken again by any outgoing
# connection of the tests running beside this one before the server binds
# it; a port below that range is taken only by a server that chose it. Tests
# run in parallel processes, so each port is also claimed by a file in a
# directory they share (O_EXCL): two tests never pick the same one. A claim
# older than half an hour is from a run long gone and is taken over.
_PORTS_GIVEN = set()
_PORT_CLAIMS = os.path.join(tempfile.gettempdir(), "hallgw-test-ports")


def _claim_port(port):
    path = os.path.join(_PORT_CLAIMS, str(port))
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
        return True
    except FileExistsError:
        try:
            if time.time() - os.path.getmtime(path) > 1800:
                os.unlink(path)
        except OSError:
            pass
        return False


def free_port():
    os.makedirs(_PORT_CLAIMS, exist_ok=True)
    rnd = random.Random(os.getpid() ^ int(time.time() * 1000))
    for _ in range(500):
        port = rnd.randrange(20000, 32768)
        if port in _PORTS_GIVEN or not _claim_port(port):
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _PORTS_GIVEN.add(port)
        return port
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


# ---- namespaces: what keeps tests apart on shared servers

_stack_counter = itertools.count(1)
_client_counter = itertools.count(1)


def test_stem():
    """The running test file's name without test_ and .py: "alerts"."""
    name = os.path.splitext(os.path.basename(sys.argv[0] or "test"))[0]
    name = name[5:] if name.startswith("test_") else name
    return "".join(c if c.isalnum() or c in "_-" else "_" for c in name)[:24] or "test"


def namespace():
    """A topic prefix and a database name of their own: the test file's name,
    a counter and the process id (so a repeated run never meets the retained
    messages or the points of an earlier one)."""
    n = next(_stack_counter)
    prefix = "%s-%d-%d" % (test_stem(), n, os.getpid())
    return prefix, prefix.replace("-", "_")


def unique_client_id(what):
    """An MQTT client id no other test (nor this one) uses."""
    return "%s-%s-%d-%d" % (what, test_stem(), os.getpid(), next(_client_counter))


def topic_out(prefix, topic):
    """A topic or filter as the test writes it ("hall/h1/...") on the broker."""
    if prefix != DEFAULT_PREFIX and (topic == DEFAULT_PREFIX or topic.startswith(DEFAULT_PREFIX + "/")):
        return prefix + topic[len(DEFAULT_PREFIX):]
    return topic


def topic_in(prefix, topic):
    """A topic from the broker as the test writes it."""
    if prefix != DEFAULT_PREFIX and (topic == prefix or topic.startswith(prefix + "/")):
        return DEFAULT_PREFIX + topic[len(prefix):]
    return topic


def shared_servers():
    """The shared servers' ports, {"mqtt": port, "influx": port}, or None when
    this run has none (no $HALLGW_TEST_SERVERS)."""
    if not SERVERS_FILE:
        return None
    try:
        with open(SERVERS_FILE) as f:
            state = json.load(f)
    except OSError as e:
        raise AssertionError("HALLGW_TEST_SERVERS is set but %s cannot be read (%s): the servers "
                             "fixture did not run (ctest runs it; unset HALLGW_TEST_SERVERS to "
                             "start private servers)" % (SERVERS_FILE, e))
    ports = {"mqtt": state["mqtt"]["port"], "influx": state["influx"]["port"]}
    for what, port in ports.items():
        try:
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
        except OSError as e:
            raise AssertionError("the shared %s of %s does not answer on port %d: %s"
                                 % (what, SERVERS_FILE, port, e))
    return ports


# ---- servers

class Mosquitto:
    """A private mosquitto. prefix: the topic prefix its tests use."""

    shared = False

    def __init__(self, workdir, port=None, extra="", prelude="", prefix=DEFAULT_PREFIX, detach=False):
        self.dir = os.path.join(workdir, "mosquitto")
        os.makedirs(self.dir, exist_ok=True)
        self.port = port or free_port()
        self.prefix = prefix
        self.detach = detach
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
        # detach: a server that outlives this process (the shared one).
        self.proc = subprocess.Popen(["mosquitto", "-c", self.conf], stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=self.log, start_new_session=self.detach)
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

    def topic(self, t):
        """t ("hall/...") as it is on this broker."""
        return topic_out(self.prefix, t)

    @property
    def uri(self):
        return "tcp://127.0.0.1:%d" % self.port


class SharedMosquitto:
    """The run's shared mosquitto, seen through one test's prefix. It cannot
    be stopped or killed: a test that must do that asks for a private one."""

    shared = True
    proc = None

    def __init__(self, port, prefix):
        self.port = port
        self.prefix = prefix

    def topic(self, t):
        return topic_out(self.prefix, t)

    @property
    def uri(self):
        return "tcp://127.0.0.1:%d" % self.port

    def stop(self):
        pass

    def kill(self, *a):
        raise AssertionError("the shared mosquitto cannot be killed: use Stack(private=(\"mqtt\",))")

    start = kill


class InfluxQueries:
    """InfluxQL over HTTP, on the database db by default."""

    db = "hallgw"

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def query(self, q, db=None):
        """Runs an InfluxQL query; returns the list of series of the first result."""
        url = "%s/query?%s" % (self.url, urllib.parse.urlencode({"db": db or self.db, "q": q, "epoch": "ns"}))
        with urllib.request.urlopen(url, timeout=10) as r:
            body = json.load(r)
        res = body["results"][0]
        if "error" in res:
            raise RuntimeError("query %r: %s" % (q, res["error"]))
        return res.get("series", [])

    def rows(self, q, db=None):
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
        return (rows[0]["count"] or 0) if rows else 0

    def ping(self):
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/ping" % self.port, timeout=2) as r:
                return r.status == 204
        except OSError:
            return False

    def drop(self):
        """Drops the database (the gateway creates it at start)."""
        data = urllib.parse.urlencode({"q": 'DROP DATABASE "%s"' % self.db}).encode()
        with urllib.request.urlopen(self.url + "/query", data=data, timeout=30) as r:
            r.read()


class Influxd(InfluxQueries):
    """A private influxd."""

    shared = False

    def __init__(self, workdir, db="hallgw", detach=False):
        self.dir = os.path.join(workdir, "influxd")
        os.makedirs(self.dir, exist_ok=True)
        self.db = db
        self.detach = detach
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
        self.proc = subprocess.Popen(["influxd", "-config", self.conf], stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=self.log, start_new_session=self.detach)
        wait_port(self.port, proc=self.proc)
        wait_for("influxd /ping", self.ping, timeout=30, interval=0.05)

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


class SharedInfluxd(InfluxQueries):
    """The run's shared influxd, seen through one test's database. It cannot
    be stopped or killed: a test that must do that asks for a private one."""

    shared = True
    proc = None

    def __init__(self, port, db):
        self.port = port
        self.db = db

    def stop(self):
        pass

    def kill(self, *a):
        raise AssertionError("the shared influxd cannot be killed: use Stack(private=(\"influx\",))")

    start = kill


def mosquitto(workdir, prefix=None, private=False):
    """A broker for a test, under a topic prefix of its own: the shared one,
    or (private, or no shared servers) one of its own."""
    prefix = prefix or namespace()[0]
    shared = None if private else shared_servers()
    if shared:
        return SharedMosquitto(shared["mqtt"], prefix)
    return Mosquitto(workdir, prefix=prefix)


def influxd(workdir, db=None, private=False):
    """An InfluxDB for a test, with a database of its own: on the shared
    influxd, or (private, or no shared servers) on an influxd of its own."""
    db = db or namespace()[1]
    shared = None if private else shared_servers()
    if shared:
        return SharedInfluxd(shared["influx"], db)
    return Influxd(workdir, db=db)


def forget_session(mqtt, cid):
    """Ends a persistent session a stopped gateway left on a shared broker
    (a clean-session connect with its client id discards it), so that it
    does not queue messages for the rest of the run."""
    import paho.mqtt.client as paho
    c = paho.Client(client_id=cid, clean_session=True)
    try:
        c.connect("127.0.0.1", mqtt.port, keepalive=10)
        c.loop_start()
        c.disconnect()
        c.loop_stop()
    except OSError:
        pass


def conf_str(s):
    return json.dumps(s, ensure_ascii=False)


def write_secret(path, data, mode=0o600):
    """Writes a password, token or key file the way the programs accept it:
    mode 0600 (group and others may not read it). data is str or bytes."""
    if isinstance(data, str):
        data = data.encode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.fchmod(fd, mode)
        os.write(fd, data)
    finally:
        os.close(fd)


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


def add_account(conf, name, role, password=None):
    """Adds an account to the state store of the gateway configured in conf
    (hallgw user add; the password, at least 10 characters, on standard
    input) and returns a new API token of it (hallgw token add)."""
    hallgw = os.path.join(BUILD_DIR, "hallgw")
    password = password or "pw-of-" + name + "-123"
    p = subprocess.run([hallgw, "user", "add", name, "--role", role, "-c", conf],
                       input=(password + "\n").encode(), capture_output=True, timeout=60)
    assert p.returncode == 0, "hallgw user add %s: %s" % (name, p.stderr.decode())
    p = subprocess.run([hallgw, "token", "add", name, "--label", "test", "-c", conf],
                       capture_output=True, timeout=60)
    assert p.returncode == 0, "hallgw token add %s: %s" % (name, p.stderr.decode())
    return p.stdout.decode().strip()


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
        # The broker's prefix for this test, and a client id of its own: its
        # persistent session is this gateway's alone, across its restarts.
        self.prefix = getattr(mqtt, "prefix", DEFAULT_PREFIX)
        self.client_id = unique_client_id("hallgw")
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
            f.write('mqtt = { uri = "%s"; client_id = "%s"; prefix = "%s"; qos = 1; %s};\n'
                    % (self.mqtt.uri, self.client_id, self.prefix,
                       self.mqtt_extra + " " if self.mqtt_extra else ""))
            api = "" if "api =" in self.influx_extra else \
                'api = "v1"; database = "%s"; ' % getattr(self.influx, "db", "hallgw")
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
        """Starts the gateway; wait_online: until it is connected and
        subscribed (its "online" on its status topic, which it publishes
        after subscribing, has arrived)."""
        watch = self.status_watch() if wait_online else None
        self.logf = open(self.log_path, "ab")
        self.log_mark = self.logf.tell()
        self.proc = subprocess.Popen([os.path.join(BUILD_DIR, "hallgw"), "-c", self.conf],
                                     stdout=self.logf, stderr=self.logf,
                                     env=dict(os.environ, **env) if env else None)
        if wait_online:
            try:
                wait_for("hallgw to connect", lambda: "connected to" in self.log_text(self.log_mark) or self.dead(),
                         timeout=20, interval=0.05)
                if self.dead():
                    raise AssertionError("hallgw exited with %s:\n%s" % (self.proc.returncode, self.log_text()))
                if watch:
                    self.wait_online(watch)
            finally:
                if watch:
                    watch.close()

    @property
    def status_topic(self):
        """The gateway's status topic, as the test writes topics."""
        return "%s/_gateway/%s/status" % (DEFAULT_PREFIX, self.gateway_id)

    def status_watch(self):
        """A Subscriber on the gateway's status topic, or None when the test
        cannot reach the gateway's broker in plain MQTT."""
        if not isinstance(getattr(self.mqtt, "port", None), int) or not self.mqtt.uri.startswith("tcp://"):
            return None
        return Subscriber(self.mqtt, self.status_topic)

    def wait_online(self, watch, timeout=20):
        """Waits for a live (not retained) "online" on the status topic: the
        gateway subscribes first and then says it is online, over one
        connection, so its subscriptions are in place at the broker."""
        wait_for("hallgw online on %s" % self.status_topic,
                 lambda: (b"online", False) in watch.payloads(self.status_topic) or self.dead(),
                 timeout=timeout, interval=0.05)
        if self.dead():
            raise AssertionError("hallgw exited with %s:\n%s" % (self.proc.returncode, self.log_text()))

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

    def add_account(self, name, role, password=None):
        """Adds an account (hallgw user add, the password on standard input)
        and returns an API token of it (hallgw token add)."""
        return add_account(self.conf, name, role, password)

    def cli(self, *args):
        """Runs a hallgw command on this gateway's config (text output)."""
        return subprocess.run([os.path.join(BUILD_DIR, "hallgw")] + list(args) + ["-c", self.conf],
                              capture_output=True, text=True, timeout=30)

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
    """A paho-mqtt client for publishing test traffic. Topics are written as
    under the default prefix ("hall/h1/env-1/telemetry"); they go out under
    the broker's prefix for the test."""

    def __init__(self, mqtt, client_id=None):
        import paho.mqtt.client as paho
        self.prefix = getattr(mqtt, "prefix", DEFAULT_PREFIX)
        self.client = paho.Client(client_id=client_id or unique_client_id("test-pub"),
                                  clean_session=True)
        self.client.connect("127.0.0.1", mqtt.port, keepalive=30)
        self.client.loop_start()

    def publish(self, topic, payload, qos=1, retain=False, wait=True):
        if isinstance(payload, str):
            payload = payload.encode("utf-8")
        info = self.client.publish(topic_out(self.prefix, topic), payload, qos=qos, retain=retain)
        if wait and qos > 0:
            info.wait_for_publish(10)
        return info

    def close(self):
        # DISCONNECT first: the network thread then ends at once, not at its
        # next one-second select.
        self.client.disconnect()
        self.client.loop_stop()


class Subscriber:
    """Collects the messages of some topic filters, with a condition wait.
    Filters and the topics of what arrives are written as under the default
    prefix, as for Publisher."""

    def __init__(self, mqtt, *filters):
        import paho.mqtt.client as paho
        import threading
        self.prefix = getattr(mqtt, "prefix", DEFAULT_PREFIX)
        self.messages = []
        self.lock = threading.Lock()
        self.client = paho.Client(client_id=unique_client_id("test-sub"))
        self.client.on_message = self._on_message
        subscribed = threading.Event()
        self.client.on_subscribe = lambda *a: subscribed.set()
        self.client.connect("127.0.0.1", mqtt.port, keepalive=30)
        self.client.loop_start()
        self.client.subscribe([(topic_out(self.prefix, f), 1) for f in filters])
        if not subscribed.wait(10):
            raise AssertionError("no SUBACK for %s" % (filters,))

    def _on_message(self, client, userdata, msg):
        with self.lock:
            self.messages.append((topic_in(self.prefix, msg.topic), msg.payload, msg.retain))

    def json_on(self, topic):
        """Decoded JSON payloads received on exactly this topic."""
        with self.lock:
            return [json.loads(p) for t, p, r in self.messages if t == topic and p]

    def payloads(self, topic):
        with self.lock:
            return [(p, r) for t, p, r in self.messages if t == topic]

    def close(self):
        # DISCONNECT first: the network thread then ends at once, not at its
        # next one-second select.
        self.client.disconnect()
        self.client.loop_stop()


class Stack:
    """Context manager: a temp dir, a broker and an InfluxDB for one test, and
    the gateways it starts; keeps the directory and prints the logs when the
    test fails.

    The broker and the InfluxDB are the run's shared servers, under a topic
    prefix and a database of the stack's own, unless there are none (a test
    file run by itself) or the test names them in private: "mqtt" and/or
    "influx", for a test that kills, pauses or reconfigures that server."""

    def __init__(self, name, influx=True, private=()):
        assert set(private) <= {"mqtt", "influx"}, private
        self.name = name
        self.want_influx = influx
        self.private = set(private)
        self.ok = False

    def __enter__(self):
        self.dir = tempfile.mkdtemp(prefix="hallgw-%s-" % self.name)
        self.prefix, self.db = namespace()
        self.gateways = []
        self.mqtt = mosquitto(self.dir, self.prefix, private="mqtt" in self.private)
        try:
            self.influx = (influxd(self.dir, self.db, private="influx" in self.private)
                           if self.want_influx else None)
        except BaseException:
            self.mqtt.stop()
            raise
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
        if self.mqtt.shared:
            for g in self.gateways:
                forget_session(self.mqtt, g.client_id)
        if self.influx:
            if self.influx.shared and et is None:
                try:
                    self.influx.drop()
                except OSError:
                    pass
            self.influx.stop()
        self.mqtt.stop()
        if et is None:
            shutil.rmtree(self.dir, ignore_errors=True)
        else:
            print("test directory kept: %s (topic prefix %s, database %s)"
                  % (self.dir, self.prefix, self.influx.db if self.influx else "-"))
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
