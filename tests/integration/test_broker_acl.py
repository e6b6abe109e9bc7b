"""The hall broker's security as shipped: scripts/hall-provision makes a CA,
certificate, accounts and keys; the install commands it prints put them in
place; a real mosquitto runs config/mosquitto/hallgw-hall.conf with
config/mosquitto/acl, changed only in its paths, its port (a free loopback
one) and debug logging (to see "Denied PUBLISH"); real MQTT clients over TLS
then try what each account may and may not do: logins, publishing and
reading, session takeover, last wills, revoking a device with a reload. When
the build has them, hallgw-agent and hallgw run with their provisioned files.

Mosquitto 2.0 drops a refused PUBLISH silently (the publisher still gets its
PUBACK), so a refusal is asserted by absence: a subscriber that may read the
topic receives nothing, checked after a barrier (a message the same publisher
may send, published after the refused ones, has arrived) and a bounded wait,
and the broker's log has the "Denied PUBLISH" line.

As root, the files get their production owners and mosquitto drops to user
mosquitto, so the modes are tested too."""

import hashlib
import hmac
import json
import grp
import os
import pwd
import re
import shlex
import shutil
import signal
import subprocess
import tempfile
import threading
import time

import harness
from harness import BUILD_DIR, SOURCE_DIR, free_port, log, wait_for, wait_port

PROVISION = os.path.join(SOURCE_DIR, "scripts", "hall-provision")
SHIPPED_CONF = os.path.join(SOURCE_DIR, "config", "mosquitto", "hallgw-hall.conf")
SHIPPED_ACL = os.path.join(SOURCE_DIR, "config", "mosquitto", "acl")
SHELLY = "shellyplusplugs-a8032ab1"
SHELLY1 = "shellyplug-s-7C87CE"  # a Gen1 Shelly: shellies/<id>/...
QUIET_S = 1.0  # after the barrier, how long a refused message gets to show up anyway

CONNACK_NOT_AUTHORIZED = 5


class Client:
    """One paho-mqtt connection over TLS with the hall CA, collecting what it
    receives; connect() returns the CONNACK code."""

    def __init__(self, name, ca, port, user, password, client_id=None, will=None):
        import paho.mqtt.client as paho
        self.name = name
        self.port = port
        self.lock = threading.Lock()
        self.messages = []
        self.rc = None
        self.disconnects = 0
        self.connack = threading.Event()
        self.suback = threading.Event()
        self.c = paho.Client(client_id=client_id or "test-%s-%d" % (name, os.getpid()), clean_session=True)
        self.c.tls_set(ca_certs=ca)
        if user is not None:
            self.c.username_pw_set(user, password)
        self.c.reconnect_delay_set(1, 1)
        self.c.on_connect = self._on_connect
        self.c.on_disconnect = self._on_disconnect
        self.c.on_message = self._on_message
        self.c.on_subscribe = lambda *a: self.suback.set()
        if will:
            self.c.will_set(will[0], will[1], qos=1, retain=True)

    def _on_connect(self, client, userdata, flags, rc):
        if self.rc is None:
            self.rc = rc
        self.connack.set()

    def _on_disconnect(self, client, userdata, rc):
        with self.lock:
            self.disconnects += 1

    def _on_message(self, client, userdata, msg):
        with self.lock:
            self.messages.append((msg.topic, bytes(msg.payload), msg.retain))

    def connect(self, timeout=10):
        self.c.connect("127.0.0.1", self.port, keepalive=30)
        self.c.loop_start()
        if not self.connack.wait(timeout):
            raise AssertionError("%s: no CONNACK within %ds" % (self.name, timeout))
        return self.rc

    def subscribe(self, *filters):
        self.suback.clear()
        self.c.subscribe([(f, 1) for f in filters])
        if not self.suback.wait(10):
            raise AssertionError("%s: no SUBACK for %s" % (self.name, filters))

    def publish(self, topic, payload, retain=False):
        """QoS 1; returns once the broker acknowledged it (it does so for a
        refused publish too)."""
        if isinstance(payload, str):
            payload = payload.encode("utf-8")
        info = self.c.publish(topic, payload, qos=1, retain=retain)
        info.wait_for_publish(10)
        if not info.is_published():
            raise AssertionError("%s: no PUBACK for %s" % (self.name, topic))

    def got(self, topic=None, payload=None, since=0):
        """Messages received (after the first since), on topic, with payload."""
        with self.lock:
            return [m for m in self.messages[since:]
                    if (topic is None or m[0] == topic) and (payload is None or m[1] == payload.encode())]

    def mark(self):
        with self.lock:
            return len(self.messages)

    def close(self):
        self.c.disconnect()
        self.c.loop_stop()

    def drop(self):
        """Goes away without a DISCONNECT, as a device losing power: the
        broker sends its will."""
        self.c.loop_stop()
        self.c.socket().close()


class HallBroker:
    """scripts/hall-provision's output installed by the commands it prints,
    and mosquitto running the shipped configuration."""

    def __init__(self, d, devices, extra_args=()):
        self.dir = d
        self.prov = os.path.join(d, "provision")
        self.etc = os.path.join(d, "etc-mosquitto-hallgw")
        self.conf = os.path.join(d, "mosquitto.conf")
        self.logfile = os.path.join(d, "log", "mosquitto.log")
        self.port = free_port()
        self.proc = None
        self.accounts = {}
        self.provision("--hall", "h1", "--ip", "127.0.0.1", "--zigbee2mqtt", *extra_args, *devices)
        self.ca = os.path.join(self.prov, "ca", "ca.crt")
        self.install()
        self.adapt_config()

    def provision(self, *args):
        """Runs hall-provision on the test's directory; keeps its summary and
        the passwords of earlier accounts (a revoked one stays known here)."""
        r = subprocess.run([PROVISION, "--out", self.prov] + list(args),
                           capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            raise AssertionError("hall-provision failed (%d):\n%s%s" % (r.returncode, r.stdout, r.stderr))
        self.summary = r.stdout
        with open(os.path.join(self.prov, "accounts")) as f:
            for line in f:
                if line.strip() and not line.startswith("#"):
                    name, kind, password = line.split()
                    self.accounts[name] = (kind, password)

    def install(self, only=None):
        """Runs the broker install commands of the summary (only: those
        naming that file), with the test's paths. As root they set the
        production owners, and mosquitto, dropping to user mosquitto, must
        be able to read what it needs."""
        section = self.summary.split("1. The broker", 1)[1].split("\n2. ", 1)[0]
        lines = [l.strip() for l in section.splitlines() if l.strip().startswith("install ")]
        assert len(lines) == 5, "the summary's broker install commands:\n" + section
        if only:
            lines = [l for l in lines if "/broker/%s " % only in l]
            assert lines, "no install command for %s in the summary" % only
        as_root = os.geteuid() == 0
        try:
            self.owner = pwd.getpwnam("mosquitto")
            grp.getgrnam("mosquitto")
        except KeyError:
            self.owner = None
        for line in lines:
            line = line.replace("/etc/mosquitto/mosquitto.conf", self.conf)
            line = line.replace("/etc/mosquitto/hallgw", self.etc)
            args = shlex.split(line)
            if not (as_root and self.owner):  # install -o/-g need root and the mosquitto group
                args = [a for i, a in enumerate(args)
                        if a not in ("-o", "-g") and (i == 0 or args[i - 1] not in ("-o", "-g"))]
            subprocess.run(args, check=True, timeout=30)
        if only:
            return
        for name, mode, owner in (("server.key", 0o640, "root"), ("passwd", 0o600, "mosquitto"),
                                  ("acl", 0o600, "mosquitto"), ("ca.crt", 0o644, "root"),
                                  ("server.crt", 0o644, "root")):
            st = os.stat(os.path.join(self.etc, name))
            assert st.st_mode & 0o777 == mode, "%s: mode %o" % (name, st.st_mode & 0o777)
            if as_root and self.owner:
                assert pwd.getpwuid(st.st_uid).pw_name == owner, "%s: owner %d" % (name, st.st_uid)
        with open(os.path.join(self.etc, "acl"), encoding="utf-8") as a, \
                open(SHIPPED_ACL, encoding="utf-8") as b:
            installed, shipped = a.read(), b.read()
        assert installed.startswith(shipped), "the installed acl does not start with config/mosquitto/acl"
        # ...then a block per person and per device account, binding it to
        # the hall (a device) or to acks in its own name (a person).
        blocks = re.findall(r"(?m)^user (\S+)$", installed[len(shipped):])
        named = [n for n, (kind, _) in self.accounts.items() if kind in ("pc", "device", "person")]
        assert sorted(blocks) == sorted(named), "blocks %s, accounts %s" % (blocks, named)
        with open(self.conf, "rb") as a, open(SHIPPED_CONF, "rb") as b:
            assert a.read() == b.read(), "the installed mosquitto.conf is not config/mosquitto/hallgw-hall.conf"
        # What the broker writes: its own directories, as Debian's unit makes them.
        for sub in ("lib", "log", "run"):
            p = os.path.join(self.dir, sub)
            os.makedirs(p, mode=0o750)
            if as_root and self.owner:
                os.chown(p, self.owner.pw_uid, self.owner.pw_gid)
        os.chmod(self.dir, 0o755)  # the broker's user must reach etc-mosquitto-hallgw/ and lib/

    def adapt_config(self):
        with open(self.conf) as f:
            text = f.read()
        subs = [("/etc/mosquitto/hallgw/", self.etc + "/"),
                ("/run/mosquitto/mosquitto.pid", os.path.join(self.dir, "run", "mosquitto.pid")),
                ("/var/lib/mosquitto/", os.path.join(self.dir, "lib") + "/"),
                ("/var/log/mosquitto/mosquitto.log", self.logfile)]
        for old, new in subs:
            assert old in text, "the shipped config no longer has %s" % old
            text = text.replace(old, new)
        text, n = re.subn(r"(?m)^listener 8883$", "listener %d 127.0.0.1" % self.port, text)
        assert n == 1, "the shipped config's TLS listener is not 'listener 8883'"
        for line in text.splitlines():
            if line.startswith("#"):
                continue
            for word in line.split()[1:]:
                assert not word.startswith("/") or word.startswith(self.dir + "/"), \
                    "a path the test did not move: %s" % line
        if os.geteuid() == 0 and not self.owner:
            text = text.replace("\nuser mosquitto\n", "\nuser root\n")
        # "Denied PUBLISH" is logged at debug level.
        text += "\n# test: see refused publishes\nlog_type debug\n"
        with open(self.conf, "w") as f:
            f.write(text)
        os.chmod(self.conf, 0o644)

    def start(self):
        self.out = open(os.path.join(self.dir, "mosquitto.out"), "ab")
        self.proc = subprocess.Popen(["mosquitto", "-c", self.conf], stdout=self.out, stderr=self.out)
        wait_port(self.port, proc=self.proc)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def log_text(self):
        try:
            with open(self.logfile, encoding="utf-8", errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def denied(self, client_id, topic):
        """The broker's log line for a refused publish."""
        pat = "Denied PUBLISH from %s (" % client_id
        return any(pat in l and "'%s'" % topic in l for l in self.log_text().splitlines())

    def client(self, name, user=None, password=None, client_id=None, will=None, connect=True):
        if user is None and name in self.accounts:
            user = name
        if password is None and user in self.accounts:
            password = self.accounts[user][1]
        c = Client(name, self.ca, self.port, user, password, client_id, will)
        if connect:
            rc = c.connect()
            if rc != 0:
                raise AssertionError("%s: CONNACK %d, expected 0\n%s" % (name, rc, self.log_text()[-3000:]))
        return c


def refused(broker, publisher, attempts, readers, barrier=None):
    """publisher's publishes in attempts [(topic, payload)] must reach none of
    readers [Client]. barrier: (topic, payload, reader) that publisher may
    send; it is sent after the attempts and must arrive, so anything the
    broker passed on would have arrived before it."""
    marks = {r: r.mark() for r in readers}
    for topic, payload in attempts:
        publisher.publish(topic, payload)
    if barrier:
        topic, payload, reader = barrier
        publisher.publish(topic, payload)
        wait_for("%s's barrier %s at %s" % (publisher.name, topic, reader.name),
                 lambda: reader.got(topic, payload), timeout=10, interval=0.02)
        time.sleep(QUIET_S)
    else:
        time.sleep(2 * QUIET_S)
    for topic, payload in attempts:
        for r in readers:
            assert not r.got(topic, since=marks[r]), \
                "%s published %s and %s received it" % (publisher.name, topic, r.name)
        # With use_username_as_clientid the log names the account.
        wait_for("'Denied PUBLISH from %s' for %s in the broker log" % (publisher.name, topic),
                 lambda: broker.denied(publisher.name, topic), timeout=5, interval=0.1)


def sign(key, cmd):
    """docs/agents.md: the signature of a command."""
    def text(v):
        return ("true" if v else "false") if isinstance(v, bool) else str(v)
    a = cmd.get("args", {})
    canon = ("v1\n%s\n%s\n%s\n%s\n%d\n%d\n%s\n" % (cmd["id"], cmd["action"], cmd["hall"], cmd["device"],
                                                   cmd["issued"], cmd["expires"], cmd["nonce"])
             + "\n".join("%s=%s" % (k, text(a[k])) for k in sorted(a)))
    return hmac.new(key, canon.encode("utf-8"), hashlib.sha256).hexdigest()


def test_broker_acl_as_shipped():
    d = tempfile.mkdtemp(prefix="hallgw-acl-")
    ok = False
    broker = None
    clients = []
    agent = None
    gateway = None
    try:
        broker = HallBroker(d, ["pc-w01:pc", "pc-w02:pc", "seat-w01", "plug_w01", SHELLY, SHELLY1, "wang:person"])
        broker.start()

        def client(*a, **kw):
            c = broker.client(*a, **kw)
            clients.append(c)
            return c

        # ---- who may connect ------------------------------------------------
        for name, user, password in (("anonymous", None, None),
                                     ("wrong-password", "pc-w01", "not-the-password"),
                                     ("unknown-user", "pc-w99", broker.accounts["pc-w01"][1])):
            c = client(name, user=user, password=password, connect=False)
            rc = c.connect()
            c.close()
            assert rc == CONNACK_NOT_AUTHORIZED, "%s: CONNACK %r, expected %d (not authorized)" % (
                name, rc, CONNACK_NOT_AUTHORIZED)
        log("anonymous, a wrong password and an unknown user: CONNACK 5 (not authorized)")

        gw = client("hallgw")
        gw.subscribe("hall/#", "zigbee2mqtt/#", "tele/#", "stat/#", "+/online", "+/events/rpc", "+/status/#",
                     "shellies/#")
        pc1 = client("pc-w01")
        pc1.subscribe("hall/h1/pc-w01/cmd", "hall/h1/pc-w02/cmd", "hall/+/+/cmd", "hall/#")
        pc2 = client("pc-w02")
        pc2.subscribe("hall/h1/pc-w02/cmd")
        plug = client("plug_w01")
        plug.subscribe("cmnd/plug_w01/#")
        shelly = client(SHELLY)
        shelly.subscribe(SHELLY + "/rpc")
        shelly1 = client(SHELLY1)
        shelly1.subscribe("shellies/#")
        z2m = client("zigbee2mqtt")
        z2m.subscribe("zigbee2mqtt/#")
        dash = client("dashboard")
        dash.subscribe("hall/#", "homeassistant/#")
        op = client("operator")

        # ---- a device: its own topics only -----------------------------------------
        tel = json.dumps({"cpu_pct": 12.5, "power": "on"})
        pc1.publish("hall/h1/pc-w01/telemetry", tel)
        wait_for("pc-w01's telemetry at the gateway", lambda: gw.got("hall/h1/pc-w01/telemetry", tel), timeout=10)
        wait_for("pc-w01's telemetry at the dashboard", lambda: dash.got("hall/h1/pc-w01/telemetry", tel), timeout=10)
        pc1.publish("hall/h1/pc-w01/status", "online", retain=True)
        pc1.publish("hall/h1/pc-w01/event", json.dumps({"type": "usb_storage_inserted"}))
        pc1.publish("hall/h1/pc-w01/cmd/reply", json.dumps({"id": "c-1", "result": "done"}))
        for t in ("status", "event", "cmd/reply"):
            wait_for("pc-w01's %s at the gateway" % t, lambda t=t: gw.got("hall/h1/pc-w01/" + t), timeout=10)
        log("a device publishes its own telemetry, status, event and cmd/reply")

        forged = json.dumps({"id": "x", "action": "poweroff", "hall": "h1", "device": "pc-w02"})
        refused(broker, pc1,
                [("hall/h1/pc-w02/cmd", forged),                     # another device's commands
                 ("hall/h1/pc-w01/cmd", forged),                     # its own commands
                 ("hall/h1/pc-w02/telemetry", '{"cpu_pct": 99}'),     # speaking for another device
                 ("hall/h1/pc-w02/status", "offline"),
                 ("hall/h1/alerts/a-1/ack", '{"by": "pc"}'),          # staff's acknowledgements
                 ("hall/h1/alerts/a-1/ack/pc-w01", '{"note": "pc"}'),
                 ("hall/h1/alerts", '{"id": "fake"}'),                # the gateway's outputs
                 ("hall/h1/windows/w01", '{"staffed": false}'),
                 ("hall/_gateway/pc-w01/status", "offline"),          # _gateway is reserved
                 ("cmnd/plug_w01/POWER", "OFF"),                      # foreign devices' commands
                 (SHELLY + "/rpc", '{"method":"Switch.Set"}'),
                 ("zigbee2mqtt/seat_w01/set", '{"state":"OFF"}'),
                 ("zigbee2mqtt/seat_w01", '{"occupancy": false}')],
                [gw, pc1, pc2, plug, shelly, z2m, dash],
                barrier=("hall/h1/pc-w01/telemetry", '{"barrier": 1}', gw))
        log("a device can not publish commands (another's, its own, Tasmota, Shelly, Zigbee2MQTT), "
            "for another device, acks, alerts, windows or under _gateway")

        # ---- a device account is bound to its hall --------------------------------
        # A stolen device password must not speak under other hall ids: each
        # would be a new device there (or fill limits.max_devices of a gateway
        # that accepts unknown devices). The same device under its own hall,
        # sent after, is the barrier: it is seen.
        refused(broker, pc1,
                [("hall/h2/pc-w01/telemetry", '{"cpu_pct": 99}'),
                 ("hall/h2/pc-w01/status", "online"),
                 ("hall/h2/pc-w01/event", '{"type": "usb_storage_inserted"}'),
                 ("hall/h2/pc-w01/cmd/reply", '{"id": "c-1", "result": "done"}')]
                + [("hall/made-up-%d/pc-w01/telemetry" % i, '{"cpu_pct": 1}') for i in range(3)],
                [gw, dash],
                barrier=("hall/h1/pc-w01/telemetry", '{"hall": "h1"}', gw))
        assert gw.got("hall/h1/pc-w01/telemetry", '{"hall": "h1"}')
        assert not [t for t, _, _ in gw.got() if not t.startswith("hall/h1/") and "/pc-w01/" in t], \
            "the gateway saw pc-w01 under another hall: %s" % [t for t, _, _ in gw.got()]
        cmd_h2 = json.dumps({"id": "c-h2", "action": "scan", "hall": "h2", "device": "pc-w01"})
        gw.publish("hall/h2/pc-w01/cmd", cmd_h2)
        gw.publish("hall/h1/pc-w01/cmd", cmd_h2.replace("h2", "h1"))
        wait_for("pc-w01's command in its own hall", lambda: pc1.got("hall/h1/pc-w01/cmd"), timeout=10)
        time.sleep(QUIET_S)  # on purpose: after the barrier, the bounded wait for what must not come
        assert not pc1.got("hall/h2/pc-w01/cmd"), "pc-w01 read a command of another hall"
        with pc1.lock:
            pc1.messages.clear()
        log("a device account publishes under its own hall only, and reads its commands there only")

        # ---- the gateway: commands reach their device, and only it ------------------
        # pc-w01 subscribed to pc-w02's commands (and hall/#): the broker
        # accepts the subscription and delivers nothing of it. pc-w01's own
        # command, sent after, is the barrier.
        cmd = json.dumps({"id": "c-2", "action": "scan", "hall": "h1", "device": "pc-w02"})
        gw.publish("hall/h1/pc-w02/cmd", cmd)
        gw.publish("hall/h1/pc-w01/cmd", cmd.replace("pc-w02", "pc-w01"))
        wait_for("the gateway's command at pc-w02", lambda: pc2.got("hall/h1/pc-w02/cmd", cmd), timeout=10)
        wait_for("the gateway's command at pc-w01", lambda: pc1.got("hall/h1/pc-w01/cmd"), timeout=10)
        time.sleep(QUIET_S)  # on purpose: after the barrier, the bounded wait for what must not come
        assert not pc1.got("hall/h1/pc-w02/cmd"), "pc-w01 read pc-w02's command"
        assert [t for t, _, _ in pc1.got()] == ["hall/h1/pc-w01/cmd"], \
            "pc-w01 read more than its own command: %s" % [t for t, _, _ in pc1.got()]
        log("the gateway's command reaches its device; another device subscribed to it reads nothing")

        gw.publish("cmnd/plug_w01/POWER", "OFF")
        wait_for("cmnd/plug_w01/POWER at the Tasmota plug", lambda: plug.got("cmnd/plug_w01/POWER", "OFF"))
        rpc = '{"id":1,"src":"hallgw","method":"Switch.Set","params":{"id":0,"on":false}}'
        gw.publish(SHELLY + "/rpc", rpc)
        wait_for("the RPC at the Shelly", lambda: shelly.got(SHELLY + "/rpc", rpc))
        gw.publish("zigbee2mqtt/1F/plug_w02/set", '{"state":"OFF"}')
        wait_for("the set at Zigbee2MQTT", lambda: z2m.got("zigbee2mqtt/1F/plug_w02/set"))
        for t in ("hall/h1/alerts", "hall/h1/alerts/a-1", "hall/h1/windows/w01", "hall/h1/state",
                  "hall/_gateway/gw-1/status", "homeassistant/binary_sensor/hallgw-gw_h1/h1-open/config"):
            gw.publish(t, '{"test": 1}')
            wait_for("the gateway's %s at the dashboard" % t, lambda t=t: dash.got(t))
        log("the gateway commands Tasmota, Shelly and Zigbee2MQTT and publishes alerts, windows, "
            "hall states, its status and Home Assistant discovery configs")

        # ---- foreign devices: their own trees ----------------------------------------
        plug.publish("tele/plug_w01/SENSOR", '{"ENERGY":{"Power":41}}')
        plug.publish("stat/plug_w01/POWER", "ON")
        wait_for("the plug's tele and stat at the gateway",
                 lambda: gw.got("tele/plug_w01/SENSOR") and gw.got("stat/plug_w01/POWER"))
        refused(broker, plug,
                [("tele/air_1/SENSOR", '{"SCD40":{"CarbonDioxide":5000}}'),
                 ("cmnd/plug_w01/POWER", "ON"),
                 ("hall/h1/plug-w01/telemetry", '{"on": true}')],
                [gw, plug, dash],
                barrier=("tele/plug_w01/STATE", '{"POWER":"ON"}', gw))
        shelly.publish(SHELLY + "/online", "true")
        shelly.publish(SHELLY + "/events/rpc", '{"method":"NotifyStatus"}')
        wait_for("the Shelly's online and events at the gateway",
                 lambda: gw.got(SHELLY + "/online") and gw.got(SHELLY + "/events/rpc"))
        refused(broker, shelly,
                [("shellyplusplugs-other/events/rpc", '{"method":"NotifyStatus"}'),
                 (SHELLY + "/rpc", rpc),
                 ("hallgw/rpc", '{"id":1,"result":{}}')],
                [gw, shelly],
                barrier=(SHELLY + "/status/switch:0", '{"output":true}', gw))
        # A Gen1 Shelly: its own shellies/<id>/ values, and the gateway's
        # relay command; never a command, nor another device's tree.
        gw.publish("shellies/%s/relay/0/command" % SHELLY1, "off")
        wait_for("the relay command at the Gen1 Shelly",
                 lambda: shelly1.got("shellies/%s/relay/0/command" % SHELLY1, "off"))
        for path, value in (("relay/0", "off"), ("relay/0/power", "0"), ("relay/0/energy", "91200"),
                            ("online", "true"), ("announce", '{"id":"%s"}' % SHELLY1)):
            shelly1.publish("shellies/%s/%s" % (SHELLY1, path), value)
            wait_for("the Gen1 Shelly's %s at the gateway" % path,
                     lambda path=path: gw.got("shellies/%s/%s" % (SHELLY1, path)))
        refused(broker, shelly1,
                [("shellies/%s/relay/0/command" % SHELLY1, "on"),
                 ("shellies/shellyplug-s-other/relay/0", "on"),
                 ("shellies/announce", '{"id":"shellyplug-s-other"}'),
                 (SHELLY + "/rpc", rpc)],
                [gw, shelly1, shelly],
                barrier=("shellies/%s/relay/0/power" % SHELLY1, "1.5", gw))
        z2m.publish("zigbee2mqtt/1F/hall/air_2", '{"co2": 650}')
        wait_for("Zigbee2MQTT state at the gateway", lambda: gw.got("zigbee2mqtt/1F/hall/air_2"))
        refused(broker, z2m,
                [("hall/h1/zigbee2mqtt/telemetry", '{"co2": 5000}'),
                 ("hall/h1/pc-w01/cmd", forged),
                 ("tele/zigbee2mqtt/SENSOR", "{}")],
                [gw, pc1, dash],
                barrier=("zigbee2mqtt/bridge/state", "online", gw))
        log("Tasmota, Shelly and Zigbee2MQTT accounts publish their own trees only")

        # ---- viewers ------------------------------------------------------------------
        refused(broker, dash,
                [("hall/h1/dashboard/telemetry", '{"x": 1}'),    # what the device patterns would give it
                 ("hall/h1/dashboard/status", "online"),
                 ("dashboard/online", "true"),
                 ("shellies/dashboard/relay/0", "on"),
                 ("tele/dashboard/SENSOR", "{}"),
                 ("hall/h1/alerts/a-1/ack", '{"by": "dash"}'),
                 ("hall/h1/pc-w01/cmd", forged),
                 ("hall/h1/pc-w01/telemetry", tel)],
                [gw, pc1, dash])
        log("the dashboard reads hall/# and publishes nothing")
        op.publish("hall/h1/alerts/a-1/ack/operator", '{"note": "checked"}')
        wait_for("the operator's ack at the gateway", lambda: gw.got("hall/h1/alerts/a-1/ack/operator"))
        refused(broker, op,
                [("hall/h1/alerts/a-1", '{"state": "resolved"}'),
                 ("hall/h1/alerts/a-1/ack", '{"by": "王工"}'),         # naming nobody
                 ("hall/h1/alerts/a-1/ack/wang", '{"note": "as wang"}'),  # in another's name
                 ("hall/h1/pc-w01/cmd", forged),
                 ("hall/h1/operator/telemetry", "{}")],
                [gw, pc1, dash],
                barrier=("hall/h1/alerts/a-2/ack/operator", '{"note": "x"}', gw))
        log("the operator publishes acknowledgements in its own name only")
        wang = client("wang")
        wang.publish("hall/h1/alerts/a-3/ack/wang", '{"note": "checked"}')
        wait_for("a person's ack at the gateway", lambda: gw.got("hall/h1/alerts/a-3/ack/wang"))
        refused(broker, wang,
                [("hall/h1/alerts/a-3/ack/operator", '{"note": "as the operator"}'),
                 ("hall/h1/alerts/a-3/ack", '{"by": "wang"}'),
                 ("hall/h1/wang/telemetry", "{}"),
                 ("hall/h1/pc-w01/cmd", forged)],
                [gw, pc1, dash],
                barrier=("hall/h1/alerts/a-4/ack/wang", '{"note": "x"}', gw))
        log("a person publishes acknowledgements in their own name only")

        # ---- one connection per account: no session takeover across accounts ------------
        gw_disconnects = gw.disconnects
        thief = client("seat-w01", client_id="hallgw", will=("hall/h1/pc-w01/status", "offline"))
        thief.publish("hall/h1/seat-w01/telemetry", '{"presence": true}')
        wait_for("seat-w01's telemetry at the gateway", lambda: gw.got("hall/h1/seat-w01/telemetry"))
        time.sleep(QUIET_S)  # on purpose: time for a takeover's disconnect to show
        assert gw.disconnects == gw_disconnects, "a device with the gateway's client id disconnected the gateway"
        log("a device connecting with the gateway's client id does not take its session")

        # ---- last wills: only on the device's own topics ----------------------------------
        # The thief's will speaks for pc-w01; the next seat-w01 connection's
        # will is its own, and shows wills are delivered at all.
        marks = {r: r.mark() for r in (gw, dash)}
        thief.drop()
        clients.remove(thief)
        honest = client("seat-w01", will=("hall/h1/seat-w01/status", "offline"))
        honest.drop()
        clients.remove(honest)
        wait_for("seat-w01's own will at the gateway", lambda: gw.got("hall/h1/seat-w01/status", "offline"))
        time.sleep(QUIET_S)  # on purpose: after the barrier, the bounded wait for what must not come
        for r in (gw, dash):
            assert not r.got("hall/h1/pc-w01/status", since=marks[r]), \
                "seat-w01's last will on pc-w01's status reached %s" % r.name
        log("a last will on another device's status is dropped; a device's own is delivered")

        # ---- revoking a device: hall-provision --revoke, install passwd, reload ---------------
        plug_disconnects, dash_disconnects = plug.disconnects, dash.disconnects
        broker.provision("--revoke", "plug_w01")
        broker.install(only="passwd")
        broker.proc.send_signal(signal.SIGHUP)
        wait_for("the revoked plug's connection to end", lambda: plug.disconnects > plug_disconnects, timeout=10)
        plug.close()
        clients.remove(plug)
        again = client("plug-again", user="plug_w01", password=broker.accounts["plug_w01"][1], connect=False)
        rc = again.connect()
        assert rc == CONNACK_NOT_AUTHORIZED, "the revoked plug reconnected: CONNACK %r" % rc
        assert dash.disconnects == dash_disconnects, "the reload disconnected the dashboard"
        log("a revoked device is disconnected at the reload and can not log in again; others stay")

        # ---- the real agent with its provisioned bundle ---------------------------------
        agent_bin = os.path.join(BUILD_DIR, "hallgw-agent")
        if os.path.exists(agent_bin):
            pc2.close()
            clients.remove(pc2)
            agent = run_agent(broker, d, agent_bin)
            wait_for("the agent's retained online status", lambda: gw.got("hall/h1/pc-w02/status", "online")
                     or agent.poll() is not None, timeout=15)
            assert agent.poll() is None, "hallgw-agent exited:\n" + open(os.path.join(d, "agent.log")).read()
            key = bytes.fromhex(open(os.path.join(broker.prov, "gateway", "command.key")).read().strip())
            now = int(time.time())
            c = {"id": "c-3", "action": "notify", "hall": "h1", "device": "pc-w02", "issued": now,
                 "expires": now + 300, "nonce": os.urandom(16).hex(), "args": {"message": "test"}}
            c["sig"] = sign(key, c)
            gw.publish("hall/h1/pc-w02/cmd", json.dumps(c))
            wait_for("the agent's 'done' for the signed command", lambda: any(
                json.loads(p).get("id") == "c-3" and json.loads(p).get("result") == "done"
                for _, p, _ in gw.got("hall/h1/pc-w02/cmd/reply")), timeout=15)
            log("hallgw-agent with its bundle: online over TLS, and a command signed with the "
                "provisioned key is done")
        else:
            log("note: %s not built; the agent part is left out" % agent_bin)

        # ---- the real gateway with its provisioned files ------------------------------------
        gw_bin = os.path.join(BUILD_DIR, "hallgw")
        if os.path.exists(gw_bin):
            gw.close()  # one connection per account
            clients.remove(gw)
            gateway = start_gateway(broker, d)
            wait_for("the gateway's retained online status at the dashboard",
                     lambda: dash.got("hall/_gateway/gw-test/status", "online"), timeout=20)
            assert gateway.stop() == 0
            wait_for("the gateway's offline status at the dashboard",
                     lambda: dash.got("hall/_gateway/gw-test/status", "offline"), timeout=10)
            log("hallgw with its provisioned password and CA: online, and offline when it stops")
        else:
            log("note: %s not built; the gateway part is left out" % gw_bin)
        ok = True
    finally:
        if gateway is not None and gateway.proc is not None and gateway.proc.poll() is None:
            gateway.proc.kill()
            gateway.proc.wait(10)
        if agent is not None and agent.poll() is None:
            agent.terminate()
            try:
                agent.wait(10)
            except subprocess.TimeoutExpired:
                agent.kill()
        for c in clients:
            try:
                c.close()
            except Exception:  # noqa: BLE001 - best effort
                pass
        if broker:
            broker.stop()
        if ok:
            shutil.rmtree(d, ignore_errors=True)
        else:
            if broker:
                print("---- mosquitto log (end) ----\n" + broker.log_text()[-6000:])
            if gateway is not None:
                print("---- hallgw log ----\n" + gateway.log_text()[-3000:])
            print("test directory kept: " + d)


# Names that would put a device account into another topic tree (the ACL
# lets an account publish under <name>/online, <name>/status/..., tele/<name>/
# ...), with the word the refusal must name.
RESERVED_NAMES = [(n, n) for n in ("hall", "cmnd", "tele", "stat", "tasmota", "tasmotas", "shellies",
                                   "homeassistant", "zigbee2mqtt", "hallgw", "alerts", "windows",
                                   "state")] + [
    ("$SYS", "$SYS"), ("$share", "'$'"), ("a+b", "'+'"), ("+", "'+'"), ("#", "'#'"), ("pc/w01", "'/'")]


def test_provision_refuses_reserved_device_names():
    """hall-provision refuses a device named like a reserved topic level, on
    the command line and in a --devices file, with exit status 2, a message
    naming the word, and nothing made."""
    d = tempfile.mkdtemp(prefix="hallgw-provision-")
    try:
        out = os.path.join(d, "out")
        devices = os.path.join(d, "devices.txt")

        def provision(*args):
            r = subprocess.run([PROVISION, "--out", out, "--hall", "h1", "--ip", "127.0.0.1"] + list(args),
                               capture_output=True, text=True, timeout=60)
            assert not os.path.exists(out), "%s: hall-provision made %s" % (args, out)
            return r

        for name, word in RESERVED_NAMES:
            r = provision("pc-w01:pc", name)
            assert r.returncode == 2 and r.stdout == "", "%s: exit %d, %r" % (name, r.returncode, r.stdout)
            assert "'%s'" % name in r.stderr and word in r.stderr, "%s: %r" % (name, r.stderr)
            if name.isalnum():
                assert re.search(r"reserved|service account", r.stderr), "%s: %r" % (name, r.stderr)
            if name == "#":
                continue  # in a --devices file, "#" starts a comment
            with open(devices, "w") as f:
                f.write("pc-w01 pc\n%s device\n" % name)
            r = provision("--devices", devices)
            assert r.returncode == 2 and ("%s:2:" % devices) in r.stderr and word in r.stderr, \
                "%s in a file: exit %d, %r" % (name, r.returncode, r.stderr)
        log("hall-provision refuses %s as device names" % " ".join(n for n, _ in RESERVED_NAMES))

        # The prefix of the run is a topic tree too.
        r = provision("--prefix", "site1", "site1")
        assert r.returncode == 2 and "'site1' is reserved: site1/" in r.stderr, r.stderr
        # A NUL byte would be dropped by the shell's read: refused, with its line.
        with open(devices, "wb") as f:
            f.write(b"pc-w01 pc\nseat\0-w01\n")
        r = provision("--devices", devices)
        assert r.returncode == 2 and "%s:2: holds a NUL byte" % devices in r.stderr, r.stderr
        # Names that only look alike are devices.
        r = subprocess.run([PROVISION, "--out", out, "--hall", "h1", "--ip", "127.0.0.1",
                            "pc-w01:pc", "tele-1", "Cmnd", "hall2"], capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        log("the run's prefix and a NUL byte are refused; tele-1, Cmnd, hall2 are device names")
    finally:
        shutil.rmtree(d, ignore_errors=True)


def start_gateway(broker, d):
    """hallgw with the gateway bundle's password and CA (InfluxDB is not
    needed: points wait in the spool)."""
    class Mqtt:
        uri = "tcp://unused"

    class Influx:
        url = "http://127.0.0.1:%d" % free_port()

    g = harness.Hallgw(d, Mqtt, Influx, devices=[{"id": "pc-w01", "hall": "h1", "kind": "pc"}])
    bundle = os.path.join(broker.prov, "gateway")
    with open(g.conf, encoding="utf-8") as f:
        conf = f.read()
    conf = conf.replace('mqtt = { uri = "tcp://unused";',
                        'mqtt = { uri = "ssl://127.0.0.1:%d"; username = "hallgw"; password_file = "%s"; '
                        'tls = { ca_file = "%s"; };'
                        % (broker.port, os.path.join(bundle, "mqtt.secret"), os.path.join(bundle, "tls", "ca.crt")))
    assert "ssl://" in conf
    with open(g.conf, "w", encoding="utf-8") as f:
        f.write(conf)
    g.start()
    return g


def run_agent(broker, d, agent_bin):
    """hallgw-agent --dry-run with pc-w02's bundle, its /etc/hallgw/ paths
    pointed at the bundle."""
    bundle = os.path.join(broker.prov, "pc", "pc-w02")
    with open(os.path.join(bundle, "agent.conf.mqtt")) as f:
        conf = f.read()
    conf = conf.replace("/etc/hallgw/tls/ca.crt", os.path.join(bundle, "tls", "ca.crt"))
    conf = conf.replace("/etc/hallgw/", bundle + "/")
    conf = conf.replace("ssl://127.0.0.1:8883", "ssl://127.0.0.1:%d" % broker.port)
    assert "ssl://127.0.0.1:%d" % broker.port in conf, conf
    state = os.path.join(d, "agent-state")
    conf += ('state_dir = "%s";\ninterval = "1h";\n'
             'notify = { argv = ["true"]; };\n' % state)
    path = os.path.join(d, "agent.conf")
    with open(path, "w") as f:
        f.write(conf)
    r = subprocess.run([agent_bin, "--check-config", path], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, "the provisioned agent.conf lines do not check:\n" + r.stdout + r.stderr
    logf = open(os.path.join(d, "agent.log"), "ab")
    p = subprocess.Popen([agent_bin, "-c", path, "--dry-run"], stdout=logf, stderr=logf)
    return p


if __name__ == "__main__":
    harness.run([test_provision_refuses_reserved_device_names, test_broker_acl_as_shipped])
