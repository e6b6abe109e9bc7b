"""hallgw-agent end to end, against a real mosquitto on loopback: telemetry
and status, signed commands (accepted, refused, replayed, refused while the
replay cache cannot be saved), dry-run poweroff,
programs run without a shell, and scan log events.

Commands are signed here with hmac/hashlib from the canonical string of
docs/agents.md, independently of the C implementation."""

import hashlib
import hmac
import json
import os
import signal
import stat
import subprocess
import sys
import time

import harness
from harness import BUILD_DIR, Publisher, Stack, Subscriber, log, wait_for

KEY = b"hallgw-test-key-0123456789abcdef"  # raw key bytes, as written in the key file
HALL, DEVICE = "h1", "pc-w01"
BASE = "hall/%s/%s" % (HALL, DEVICE)
TELEMETRY_KEYS = {
    "power": str, "cpu_pct": (int, float), "mem_pct": (int, float), "disk_free_pct": (int, float),
    "uptime_s": int, "users": int, "av_engine": str, "av_realtime": bool, "av_sig_updated": int,
    "av_last_scan": int, "av_last_scan_type": str, "av_threats": int, "net_fp": str,
    "usb_storage": int,
}
DAILY_HEADER = "ClamAV-VDB:14 Mar 2023 07-25 -0400:26843:2025640:90:X:X:raynman:1678793134"
SCAN_LOG = ("/home/staff/old.exe: Win.Trojan.Old-1 FOUND\n\n"
            "----------- SCAN SUMMARY -----------\n"
            "Known viruses: 8693007\nEngine version: 0.103.8\nInfected files: 1\n"
            "Start Date: 2023:03:14 10:21:05\nEnd Date:   2023:03:14 10:21:22\n")


# ---- signing, as a gateway (or a PowerShell agent) would ----

def canonical(cmd):
    def text(v):
        if isinstance(v, bool):
            return "true" if v else "false"
        return str(v)
    args = cmd.get("args", {})
    return ("v1\n%s\n%s\n%s\n%s\n%d\n%d\n%s\n" % (cmd["id"], cmd["action"], cmd["hall"],
                                                  cmd["device"], cmd["issued"], cmd["expires"],
                                                  cmd["nonce"])
            + "\n".join("%s=%s" % (k, text(args[k])) for k in sorted(args)))


_ids = iter(range(1, 1000000))


def command(action, args=None, key=KEY, issued=None, lifetime=300, device=DEVICE, sign=True):
    now = int(time.time())
    issued = now if issued is None else issued
    cmd = {"id": "t-%d" % next(_ids), "action": action, "hall": HALL, "device": device,
           "issued": issued, "expires": issued + lifetime, "nonce": os.urandom(16).hex()}
    if args:
        cmd["args"] = args
    if sign:
        cmd["sig"] = hmac.new(key, canonical(cmd).encode("utf-8"), hashlib.sha256).hexdigest()
    return cmd


# ---- the agent under test ----

def script(path, body):
    with open(path, "w") as f:
        f.write("#!/bin/sh\n" + body)
    os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR)
    return path


class Agent:
    def __init__(self, st, name="agent", dry_run=False, poweroff_argv=None, extra=""):
        self.dir = os.path.join(st.dir, name)
        os.makedirs(os.path.join(self.dir, "clamav"), exist_ok=True)
        self.key_file = os.path.join(self.dir, "command.key")
        harness.write_secret(self.key_file, KEY + b"\n")
        with open(os.path.join(self.dir, "clamav", "daily.cld"), "wb") as f:
            f.write(DAILY_HEADER.encode().ljust(512, b" ") + b"\x1f\x8b...")
        self.scan_log = os.path.join(self.dir, "scan.log")
        with open(self.scan_log, "w") as f:
            f.write(SCAN_LOG)
        self.conf = os.path.join(self.dir, "agent.conf")
        self.log_path = os.path.join(self.dir, "agent.log")
        self.dry_run = dry_run
        poweroff_argv = poweroff_argv or ["/bin/false"]
        with open(self.conf, "w") as f:
            f.write('mqtt = { uri = "%s"; prefix = "%s"; client_id = "%s"; };\n'
                    % (st.mqtt.uri, st.mqtt.prefix, harness.unique_client_id("agent")))
            f.write('hall = "%s"; device = "%s";\n' % (HALL, DEVICE))
            f.write('command_key_file = "command.key";\n')
            f.write('interval = "1s"; watch_interval = "200ms";\n')
            f.write('state_dir = "%s";\n' % os.path.join(self.dir, "state"))
            f.write('clamav = { db_dir = "%s"; scan_log = "%s"; };\n'
                    % (os.path.join(self.dir, "clamav"), self.scan_log))
            f.write('poweroff = { argv = %s; grace = "1h"; };\n' % json.dumps(poweroff_argv))
            f.write(extra)
        self.proc = None

    def start(self, *extra_args):
        self.logf = open(self.log_path, "ab")
        self.mark = self.logf.tell()
        args = [os.path.join(BUILD_DIR, "hallgw-agent"), "-c", self.conf, "-v"]
        args += ["--dry-run"] if self.dry_run else []
        self.proc = subprocess.Popen(args + list(extra_args), stdout=self.logf, stderr=self.logf,
                                     env=dict(os.environ, TZ="UTC"))
        return self

    def wait_connected(self):
        wait_for("the agent to connect",
                 lambda: "mqtt: connected to" in self.log_text(self.mark) or self.proc.poll() is not None,
                 timeout=20)
        if self.proc.poll() is not None:
            raise AssertionError("hallgw-agent exited with %s:\n%s" % (self.proc.returncode, self.log_text()))

    def log_text(self, since=0):
        with open(self.log_path, "rb") as f:
            f.seek(since)
            return f.read().decode("utf-8", "replace")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
                raise AssertionError("hallgw-agent did not stop on SIGTERM")
        if self.proc:
            self.logf.close()
        return self.proc.returncode if self.proc else None


class Run:
    """A Stack with agents, a subscriber on the device's topics and a publisher."""

    def __init__(self, name):
        self.stack = Stack(name, influx=False)
        self.agents = []

    def __enter__(self):
        self.st = self.stack.__enter__()
        self.sub = Subscriber(self.st.mqtt, BASE + "/#")
        self.pub = Publisher(self.st.mqtt)
        return self

    def agent(self, **kw):
        a = Agent(self.st, name="agent%d" % len(self.agents), **kw)
        self.agents.append(a)
        return a

    def send(self, cmd, raw=None):
        self.pub.publish(BASE + "/cmd", raw if raw is not None else json.dumps(cmd))

    def replies(self, cmd_id):
        return [m for m in self.sub.json_on(BASE + "/cmd/reply") if m.get("id") == cmd_id]

    def results(self, cmd_id):
        return [m["result"] for m in self.replies(cmd_id)]

    def events(self, kind):
        return [m for m in self.sub.json_on(BASE + "/event") if m.get("type") == kind]

    def __exit__(self, et, ev, tb):
        for a in self.agents:
            try:
                a.stop()
            except Exception:  # noqa: BLE001 - the test's own failure matters more
                if a.proc and a.proc.poll() is None:
                    a.proc.kill()
            if et is not None:
                sys.stdout.write("---- %s log ----\n%s\n" % (a.dir, a.log_text()[-6000:]))
        self.sub.close()
        self.pub.close()
        return self.stack.__exit__(et, ev, tb)


def online(r):
    return (b"online", False) in r.sub.payloads(BASE + "/status") or \
        (b"online", True) in r.sub.payloads(BASE + "/status")


# ---- the tests ----

def test_dry_run_publishes_telemetry_with_every_key_and_online_status():
    with Run("agent-telemetry") as r:
        a = r.agent(dry_run=True).start()
        a.wait_connected()
        wait_for("online status", lambda: online(r), timeout=10)
        tel = wait_for("two telemetry messages", lambda: r.sub.json_on(BASE + "/telemetry")[1:], timeout=15)[0]
        for k, t in TELEMETRY_KEYS.items():
            assert k in tel, "telemetry lacks %s: %s" % (k, tel)
            assert isinstance(tel[k], t) and not (t is int and isinstance(tel[k], bool)), \
                "%s has the wrong type: %r" % (k, tel[k])
        assert tel["power"] == "on" and tel["av_engine"] == "clamav"
        assert 0 <= tel["cpu_pct"] <= 100 and 0 < tel["mem_pct"] <= 100
        assert 0 <= tel["disk_free_pct"] <= 100 and tel["uptime_s"] > 0
        assert tel["av_sig_updated"] == 1678793100, tel  # 14 Mar 2023 07:25 -0400
        assert tel["av_sig_version"] == 26843
        assert tel["av_last_scan"] == 1678789265, tel  # Start Date 2023:03:14 10:21:05 (TZ=UTC)
        assert tel["av_threats"] == 1 and tel["av_last_scan_type"] == "unknown"
        assert len(tel["net_fp"]) == 64 and int(tel["net_fp"], 16) >= 0
        assert abs(tel["ts"] - time.time()) < 30
        # The status is retained: a late subscriber sees "online".
        late = Subscriber(r.st.mqtt, BASE + "/status")
        wait_for("retained online", lambda: (b"online", True) in late.payloads(BASE + "/status"), timeout=10)
        late.close()
        # SIGTERM: "offline" replaces it.
        assert a.stop() == 0
        wait_for("offline status", lambda: (b"offline", False) in r.sub.payloads(BASE + "/status"), timeout=10)

        # --once: one telemetry message, exit 0, no status.
        before = len(r.sub.json_on(BASE + "/telemetry"))
        status_before = len(r.sub.payloads(BASE + "/status"))
        rc = subprocess.run([os.path.join(BUILD_DIR, "hallgw-agent"), "-c", a.conf, "--once"],
                            capture_output=True, timeout=30).returncode
        assert rc == 0
        wait_for("the --once telemetry", lambda: len(r.sub.json_on(BASE + "/telemetry")) == before + 1, timeout=10)
        # A status would have come before the telemetry; a moment more for
        # one sent after it.
        time.sleep(0.3)
        assert len(r.sub.payloads(BASE + "/status")) == status_before


def test_signed_poweroff_in_dry_run_reports_goes_offline_and_exits():
    with Run("agent-poweroff-dry") as r:
        marker = os.path.join(r.st.dir, "powered-off")
        a = r.agent(dry_run=True, poweroff_argv=[script(os.path.join(r.st.dir, "off.sh"),
                                                        'echo off > "$1"\n'), marker]).start()
        a.wait_connected()
        wait_for("online status", lambda: online(r), timeout=10)
        cmd = command("poweroff", {"grace_s": 1, "reason": "after-hours"})
        r.send(cmd)
        wait_for("accepted then done", lambda: r.results(cmd["id"]) == ["accepted", "done"], timeout=15)
        (ev,) = r.events("shutdown")
        assert ev["reason"] == "after-hours" and ev["command_id"] == cmd["id"] and ev["dry_run"] is True
        assert a.proc.wait(15) == 0, "the agent should exit 0 after a dry-run poweroff"
        wait_for("offline status", lambda: r.sub.payloads(BASE + "/status")[-1][0] == b"offline", timeout=10)
        late = Subscriber(r.st.mqtt, BASE + "/status")
        wait_for("retained offline", lambda: (b"offline", True) in late.payloads(BASE + "/status"), timeout=10)
        late.close()
        assert not os.path.exists(marker), "a dry run must not run the poweroff program"
        # The order on the wire: accepted, the shutdown event, done, offline.
        order = [t for t, p, _ in r.sub.messages if t != BASE + "/telemetry"]
        assert order[-4:] == [BASE + "/cmd/reply", BASE + "/event", BASE + "/cmd/reply",
                              BASE + "/status"], order


def test_refused_commands_run_nothing_and_an_accepted_one_runs():
    with Run("agent-refusals") as r:
        marker = os.path.join(r.st.dir, "powered-off")
        off = script(os.path.join(r.st.dir, "off.sh"), 'echo "off $*" > "$1"\n')
        a = r.agent(poweroff_argv=[off, marker]).start()  # not a dry run: an accepted poweroff would run
        a.wait_connected()
        wait_for("online status", lambda: online(r), timeout=10)

        unsigned = command("poweroff", {"grace_s": 0}, sign=False)
        bad_sig = command("poweroff", {"grace_s": 0}, key=b"another-key-0123456789abcdef")
        tampered = command("poweroff", {"grace_s": 3600})
        tampered["args"]["grace_s"] = 0
        now = int(time.time())
        expired = command("poweroff", {"grace_s": 0}, issued=now - 600, lifetime=300)
        future = command("poweroff", {"grace_s": 0}, issued=now + 600)
        other = command("poweroff", {"grace_s": 0}, device="pc-w02")
        unknown = command("reboot")
        non_hex = command("poweroff", {"grace_s": 0})
        non_hex["sig"] = "z" * 64
        cases = [(unsigned, "unsigned"), (bad_sig, "bad signature"), (tampered, "bad signature"),
                 (expired, "expired"), (future, "not yet valid"), (other, "wrong device"),
                 (unknown, "unknown action"), (non_hex, "bad signature")]
        for cmd, _ in cases:
            r.send(cmd)
        r.send(None, raw="not json at all")
        r.send(None, raw="x" * 20000)
        for cmd, why in cases:
            (rep,) = wait_for("refusal of %s" % why, lambda c=cmd: r.replies(c["id"]), timeout=10)
            assert rep["result"] == "refused" and why in rep["detail"], (why, rep)
        wait_for("refusals of garbage", lambda: len(r.replies("")) == 2, timeout=10)
        assert all(m["result"] == "refused" and m["detail"] for m in r.replies(""))

        # A valid poweroff with a long grace is accepted (and waits); its replay is refused.
        pending = command("poweroff", {"grace_s": 3600})
        r.send(pending)
        wait_for("accepted", lambda: r.results(pending["id"]) == ["accepted"], timeout=10)
        r.send(pending)
        wait_for("replay refused", lambda: len(r.replies(pending["id"])) == 2, timeout=10)
        rep = r.replies(pending["id"])[1]
        assert rep["result"] == "refused" and "replayed" in rep["detail"], rep
        # Time for a refused command's program to run, had it been started.
        time.sleep(1)
        assert not os.path.exists(marker), "a refused command ran the poweroff program"
        assert r.events("shutdown") == []
        assert a.stop() == 0  # SIGTERM cancels the pending poweroff

        # The replay cache survives a restart: the same command is still refused.
        a.start()
        a.wait_connected()
        r.send(pending)
        wait_for("replay refused after a restart", lambda: len(r.replies(pending["id"])) == 3, timeout=10)
        assert r.replies(pending["id"])[2]["result"] == "refused"

        # The test can see execution: an accepted poweroff with no grace runs the program.
        go = command("poweroff", {"grace_s": 0})
        r.send(go)
        wait_for("accepted then done", lambda: r.results(go["id"]) == ["accepted", "done"], timeout=10)
        wait_for("the poweroff program to run", lambda: os.path.exists(marker), timeout=10)
        with open(marker) as f:
            assert f.read().strip() == "off " + marker
        assert len(r.events("shutdown")) == 1


def test_commands_are_refused_while_the_nonces_cannot_be_saved():
    """The replay cache is saved before a command runs: were it not, the
    command could be replayed after a restart. While the state directory
    cannot be written, a correctly signed command is refused, saying why,
    and runs nothing; once it can, commands are accepted again."""
    with Run("agent-nonce-store") as r:
        shown = os.path.join(r.st.dir, "shown")
        show = script(os.path.join(r.st.dir, "show.sh"), 'echo "$2" >> "$1"\n')
        # Not a dry run: an accepted notify runs the program, which the test sees.
        a = r.agent(extra='notify = { argv = ["%s", "%s"]; };\n' % (show, shown)).start()
        a.wait_connected()
        wait_for("online status", lambda: online(r), timeout=10)
        state = os.path.join(a.dir, "state")
        nonces = os.path.join(state, "nonces")
        # Unwritable: a read-only directory (enough for a user), and the
        # nonces file's path taken by a directory (enough for root too).
        if os.path.exists(nonces):
            os.unlink(nonces)
        os.mkdir(nonces)
        os.chmod(state, 0o500)
        try:
            cmd = command("notify", {"message": "first"})
            r.send(cmd)
            rep = wait_for("the answer", lambda: r.replies(cmd["id"]), timeout=10)[0]
            assert rep["result"] == "refused", rep
            assert "no replay protection: cannot save %s" % nonces in rep["detail"], rep
            wait_for("the refusal in the log",
                     lambda: "command %s refused: no replay protection" % cmd["id"] in a.log_text(a.mark),
                     timeout=10)
            time.sleep(1)  # time for the program to run, had it been started
            assert not os.path.exists(shown), "a refused command ran the notify program"
        finally:
            os.chmod(state, 0o700)
        os.rmdir(nonces)

        again = command("notify", {"message": "second"})
        r.send(again)
        wait_for("accepted then done", lambda: r.results(again["id"]) == ["accepted", "done"], timeout=10)
        with open(shown) as f:
            assert f.read() == "second\n"
        with open(nonces) as f:
            assert again["nonce"] in f.read()
        assert "nonces can be written again" in a.log_text(a.mark)


def test_notify_message_is_one_argument_never_a_shell():
    with Run("agent-notify") as r:
        out = os.path.join(r.st.dir, "shown")
        pwned = os.path.join(r.st.dir, "pwned")
        show = script(os.path.join(r.st.dir, "show.sh"), 'printf "%s|%s" "$#" "$2" > "$1"\n')
        a = r.agent(extra='notify = { argv = ["%s", "%s"]; };\n' % (show, out)).start()
        a.wait_connected()
        wait_for("online status", lambda: online(r), timeout=10)
        msg = "请保存工作; touch %s $(touch %s) `touch %s` ' \" -- --help" % (pwned, pwned, pwned)
        cmd = command("notify", {"message": msg})
        r.send(cmd)
        wait_for("accepted then done", lambda: r.results(cmd["id"]) == ["accepted", "done"], timeout=10)
        with open(out, encoding="utf-8") as f:
            assert f.read() == "2|" + msg  # the message is one argument, unchanged
        assert not os.path.exists(pwned)
        bad = command("notify", {"message": ""})
        r.send(bad)
        wait_for("refused", lambda: r.results(bad["id"]) == ["refused"], timeout=10)


def test_scan_runs_the_scanner_and_reports_threats():
    with Run("agent-scan") as r:
        fake = script(os.path.join(r.st.dir, "clamscan.sh"),
                      'echo "/home/staff/Downloads/eicar.com: Eicar-Test-Signature FOUND"\n'
                      'echo\necho "----------- SCAN SUMMARY -----------"\n'
                      'echo "Infected files: 1"\necho "Start Date: $(date -u +%Y:%m:%d\\ %H:%M:%S)"\n'
                      'exit 1\n')
        a = r.agent(extra='scan = { quick_argv = ["%s", "quick"]; full_argv = ["/nonexistent/clamscan"]; };\n'
                    % fake).start()
        a.wait_connected()
        wait_for("online status", lambda: online(r), timeout=10)
        cmd = command("scan", {"type": "quick"})
        r.send(cmd)
        wait_for("accepted then done", lambda: r.results(cmd["id"]) == ["accepted", "done"], timeout=15)
        assert r.replies(cmd["id"])[1]["threats"] == 1
        (fin,) = wait_for("scan_finished", lambda: r.events("scan_finished"), timeout=10)
        assert fin["scan_type"] == "quick" and fin["threats"] == 1
        (thr,) = wait_for("threat_detected", lambda: r.events("threat_detected"), timeout=10)
        assert thr["signature"] == "Eicar-Test-Signature"
        assert thr["path"] == "/home/staff/Downloads/eicar.com"

        def scanned():
            t = r.sub.json_on(BASE + "/telemetry")
            return t and t[-1]["av_last_scan_type"] == "quick" and abs(t[-1]["av_last_scan"] - time.time()) < 60
        wait_for("telemetry of the agent's own scan", scanned, timeout=10)

        full = command("scan", {"type": "full"})
        r.send(full)
        wait_for("failed", lambda: r.results(full["id"]) == ["failed"], timeout=10)
        assert "No such file" in r.replies(full["id"])[0]["detail"]
        bad = command("scan", {"type": "deep"})
        r.send(bad)
        wait_for("refused", lambda: r.results(bad["id"]) == ["refused"], timeout=10)


def test_new_found_line_in_scan_log_is_a_threat_event_once():
    with Run("agent-threat") as r:
        a = r.agent(dry_run=True).start()
        a.wait_connected()
        wait_for("online status", lambda: online(r), timeout=10)
        time.sleep(0.6)  # a few watch rounds: the lines already there are history
        assert r.events("threat_detected") == []
        with open(a.scan_log, "a") as f:
            f.write("/home/staff/Downloads/eicar.com: Eicar-Test-Signature FOUND\n"
                    "/home/staff/ok.txt: OK\n")
        (ev,) = wait_for("threat_detected", lambda: r.events("threat_detected"), timeout=10)
        assert ev["signature"] == "Eicar-Test-Signature"
        assert ev["path"] == "/home/staff/Downloads/eicar.com"

        # A restart repeats nothing, and picks up what was written meanwhile.
        assert a.stop() == 0
        with open(a.scan_log, "a") as f:
            f.write("Tue Mar 14 10:00:00 2023 -> /srv/share/invoice.doc: Doc.Dropper.Agent-1 FOUND\n")
        a.start()
        a.wait_connected()
        wait_for("the second threat", lambda: len(r.events("threat_detected")) == 2, timeout=10)
        # A few more watch rounds (200 ms), in which nothing may be repeated.
        time.sleep(0.6)
        evs = r.events("threat_detected")
        assert len(evs) == 2, evs
        assert evs[1]["path"] == "/srv/share/invoice.doc" and evs[1]["signature"] == "Doc.Dropper.Agent-1"


def fake_root(base):
    """A probe_root tree: snapshots of /proc files, resolv.conf, no USB yet."""
    root = os.path.join(base, "root")
    for d in ("proc/net", "etc", "sys/bus/usb/devices"):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    for name in ("stat", "meminfo", "uptime"):
        with open("/proc/" + name) as src, open(os.path.join(root, "proc", name), "w") as dst:
            dst.write(src.read())
    with open(os.path.join(root, "proc/net/route"), "w") as f:
        f.write("Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
                "eth0\t00000000\t0101A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n")
    with open(os.path.join(root, "etc/resolv.conf"), "w") as f:
        f.write("nameserver 192.168.1.1\n")
    return root


def plug_usb(root, port, vendor, model, serial):
    dev = os.path.join(root, "sys/bus/usb/devices", port)
    intf = dev + ":1.0"
    os.makedirs(dev, exist_ok=True)
    os.makedirs(intf, exist_ok=True)
    for name, value in (("idVendor", "0951"), ("idProduct", "1666"), ("manufacturer", vendor),
                        ("product", model), ("serial", serial)):
        with open(os.path.join(dev, name), "w") as f:
            f.write(value + "\n")
    with open(os.path.join(intf, "bInterfaceClass"), "w") as f:
        f.write("08\n")


def test_usb_storage_and_network_changes_are_events():
    with Run("agent-usb-net") as r:
        root = fake_root(r.st.dir)
        a = r.agent(dry_run=True, extra='probe_root = "%s";\n' % root).start()
        a.wait_connected()
        wait_for("online status", lambda: online(r), timeout=10)
        first = wait_for("telemetry", lambda: r.sub.json_on(BASE + "/telemetry"), timeout=10)[0]
        assert first["usb_storage"] == 0
        plug_usb(root, "1-1", "Kingston", "DataTraveler 3.0", "E0D55EA5")
        (ev,) = wait_for("usb_storage_inserted", lambda: r.events("usb_storage_inserted"), timeout=10)
        assert (ev["vendor"], ev["model"], ev["serial"]) == ("Kingston", "DataTraveler 3.0", "E0D55EA5")
        wait_for("usb_storage 1", lambda: r.sub.json_on(BASE + "/telemetry")[-1]["usb_storage"] == 1,
                 timeout=10)

        with open(os.path.join(root, "etc/resolv.conf"), "w") as f:
            f.write("nameserver 8.8.8.8\n")
        (ch,) = wait_for("netcfg_changed", lambda: r.events("netcfg_changed"), timeout=10)
        assert ch["old"] == first["net_fp"] and ch["new"] != ch["old"] and len(ch["new"]) == 64
        wait_for("the new net_fp in telemetry",
                 lambda: r.sub.json_on(BASE + "/telemetry")[-1]["net_fp"] == ch["new"], timeout=10)

        # Changes while the agent is down are reported at its start; nothing is repeated.
        assert a.stop() == 0
        plug_usb(root, "2-1", "SanDisk", "Ultra", "4C53")
        with open(os.path.join(root, "etc/resolv.conf"), "w") as f:
            f.write("nameserver 8.8.8.8\nnameserver 1.1.1.1\n")
        a.start()
        a.wait_connected()
        wait_for("the second USB event", lambda: len(r.events("usb_storage_inserted")) == 2, timeout=10)
        wait_for("the second network event", lambda: len(r.events("netcfg_changed")) == 2, timeout=10)
        # A few more watch rounds (200 ms), in which nothing may be repeated.
        time.sleep(0.6)
        assert [e["serial"] for e in r.events("usb_storage_inserted")] == ["E0D55EA5", "4C53"]
        assert r.events("netcfg_changed")[1]["old"] == ch["new"]
        assert len(r.events("netcfg_changed")) == 2


def test_bad_config_is_reported_with_its_line():
    with Run("agent-config") as r:
        conf = os.path.join(r.st.dir, "bad.conf")
        with open(conf, "w") as f:
            f.write('mqtt = { uri = "tcp://127.0.0.1:1"; };\nhall = "h1";\ndevice = "pc w01";\n'
                    'interval = "often";\n')
        p = subprocess.run([os.path.join(BUILD_DIR, "hallgw-agent"), "--check-config", conf],
                           capture_output=True, text=True, timeout=30)
        assert p.returncode == 2
        assert "%s:3: device: " % conf in p.stderr and "%s:4: interval: " % conf in p.stderr, p.stderr
        p = subprocess.run([os.path.join(BUILD_DIR, "hallgw-agent"), "-c", conf],
                           capture_output=True, text=True, timeout=30)
        assert p.returncode == 2 and "%s:3: device: " % conf in p.stderr
        p = subprocess.run([os.path.join(BUILD_DIR, "hallgw-agent"), "--help"],
                           capture_output=True, text=True, timeout=30)
        assert p.returncode == 0 and "--dry-run" in p.stdout and "--once" in p.stdout


if __name__ == "__main__":
    harness.run([
        test_dry_run_publishes_telemetry_with_every_key_and_online_status,
        test_signed_poweroff_in_dry_run_reports_goes_offline_and_exits,
        test_refused_commands_run_nothing_and_an_accepted_one_runs,
        test_commands_are_refused_while_the_nonces_cannot_be_saved,
        test_notify_message_is_one_argument_never_a_shell,
        test_scan_runs_the_scanner_and_reports_threats,
        test_new_found_line_in_scan_log_is_a_threat_event_once,
        test_usb_storage_and_network_changes_are_events,
        test_bad_config_is_reported_with_its_line,
    ])
