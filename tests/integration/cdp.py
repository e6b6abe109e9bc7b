"""A small Chrome DevTools Protocol client on the standard library only: starts
a headless Chromium, opens a page target over a minimal RFC 6455 WebSocket,
sends commands and collects events (console errors, exceptions, log entries).

    with Browser() as b:
        page = b.page()
        page.navigate("http://127.0.0.1:8080/")
        page.evaluate("document.title")
        page.screenshot("/tmp/x.png")
        assert not page.errors()

No third-party packages: CI has no npm or pip access, only Debian's chromium."""

import base64
import hashlib
import json
import os
import shutil
import socket
import struct
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request

CHROMIUM = os.environ.get("HALLGW_CHROMIUM", "/usr/bin/chromium")
WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class CDPError(RuntimeError):
    pass


class WebSocket:
    """Client side of RFC 6455: handshake, masked text frames out, frames in
    (with continuation, ping/pong and close). Enough for DevTools."""

    def __init__(self, url, timeout=30.0):
        u = urllib.parse.urlparse(url)
        if u.scheme != "ws":
            raise CDPError("only ws:// URLs: %s" % url)
        self.sock = socket.create_connection((u.hostname, u.port or 80), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        path = u.path + ("?" + u.query if u.query else "")
        req = ("GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n"
               % (path, u.hostname, u.port or 80, key))
        self.sock.sendall(req.encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise CDPError("WebSocket handshake: connection closed")
            head += chunk
        head, rest = head.split(b"\r\n\r\n", 1)
        self.buf = bytearray(rest)
        self.parts = []
        lines = head.decode("latin-1").split("\r\n")
        if " 101 " not in lines[0] + " ":
            raise CDPError("WebSocket handshake refused: %s" % lines[0])
        headers = {k.strip().lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:] if ":" in l)}
        want = base64.b64encode(hashlib.sha1(key.encode() + WS_GUID).digest()).decode()
        if headers.get("sec-websocket-accept") != want:
            raise CDPError("WebSocket handshake: bad Sec-WebSocket-Accept")

    def _send_frame(self, opcode, payload):
        head = bytes([0x80 | opcode])
        n = len(payload)
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 65536:
            head += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack("!Q", n)
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(head + mask + masked)

    def send(self, text):
        self._send_frame(0x1, text.encode("utf-8"))

    def _frame(self):
        """Takes one whole frame off the buffer: (fin, opcode, data), or None
        when the buffer does not hold a whole frame yet."""
        b = self.buf
        if len(b) < 2:
            return None
        b0 = b[0]
        n, at = b[1] & 0x7F, 2
        if n == 126:
            if len(b) < 4:
                return None
            n, at = struct.unpack("!H", b[2:4])[0], 4
        elif n == 127:
            if len(b) < 10:
                return None
            n, at = struct.unpack("!Q", b[2:10])[0], 10
        mask = None
        if b[1] & 0x80:
            if len(b) < at + 4:
                return None
            mask, at = bytes(b[at:at + 4]), at + 4
        if len(b) < at + n:
            return None
        data = bytes(b[at:at + n])
        del b[:at + n]
        if mask:
            data = bytes(x ^ mask[i % 4] for i, x in enumerate(data))
        return bool(b0 & 0x80), b0 & 0x0F, data

    def recv(self, timeout):
        """The next text message, or None when none is complete within timeout."""
        deadline = time.time() + timeout
        while True:
            f = self._frame()
            if f is None:
                left = deadline - time.time()
                if left <= 0:
                    return None
                self.sock.settimeout(left)
                try:
                    chunk = self.sock.recv(1 << 20)
                except socket.timeout:
                    return None
                if not chunk:
                    raise CDPError("WebSocket closed by the browser")
                self.buf += chunk
                continue
            fin, opcode, data = f
            if opcode == 0x9:  # ping
                self._send_frame(0xA, data)
            elif opcode == 0x8:
                raise CDPError("WebSocket closed by the browser")
            elif opcode in (0x0, 0x1, 0x2):
                self.parts.append(data)
                if fin:
                    msg, self.parts = b"".join(self.parts), []
                    return msg.decode("utf-8")

    def close(self):
        try:
            self._send_frame(0x8, b"")
        except OSError:
            pass
        self.sock.close()


class Page:
    """One page target: commands, events, and the helpers the tests use."""

    def __init__(self, ws_url):
        self.ws = WebSocket(ws_url)
        self.next_id = 0
        self.events = []
        self.send("Page.enable")
        self.send("Runtime.enable")
        self.send("Log.enable")

    def send(self, method, params=None, timeout=30.0):
        self.next_id += 1
        mid = self.next_id
        self.ws.send(json.dumps({"id": mid, "method": method, "params": params or {}}))
        deadline = time.time() + timeout
        while True:
            left = deadline - time.time()
            if left <= 0:
                raise CDPError("%s: no answer within %.0fs" % (method, timeout))
            msg = self.ws.recv(left)
            if msg is None:
                continue
            m = json.loads(msg)
            if m.get("id") == mid:
                if "error" in m:
                    raise CDPError("%s: %s" % (method, m["error"].get("message")))
                return m.get("result", {})
            if "method" in m:
                self.events.append(m)

    def pump(self, seconds):
        """Reads events for a while (console output arrives as events)."""
        deadline = time.time() + seconds
        while True:
            left = deadline - time.time()
            if left <= 0:
                return
            msg = self.ws.recv(left)
            if msg:
                m = json.loads(msg)
                if "method" in m:
                    self.events.append(m)

    def wait_event(self, method, timeout=30.0, since=0):
        deadline = time.time() + timeout
        while True:
            for e in self.events[since:]:
                if e["method"] == method:
                    return e
            left = deadline - time.time()
            if left <= 0:
                raise CDPError("no %s within %.0fs" % (method, timeout))
            msg = self.ws.recv(min(left, 1.0))
            if msg:
                m = json.loads(msg)
                if "method" in m:
                    self.events.append(m)

    def navigate(self, url, timeout=30.0):
        mark = len(self.events)
        r = self.send("Page.navigate", {"url": url})
        if r.get("errorText"):
            raise CDPError("navigate %s: %s" % (url, r["errorText"]))
        self.wait_event("Page.loadEventFired", timeout, since=mark)

    def evaluate(self, expression, await_promise=False):
        """The JSON value of a JavaScript expression; raises on an exception."""
        r = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                           "awaitPromise": await_promise})
        if "exceptionDetails" in r:
            d = r["exceptionDetails"]
            raise CDPError("evaluate %r: %s" % (expression[:80], d.get("exception", {}).get("description")
                                                or d.get("text")))
        return r.get("result", {}).get("value")

    def wait_js(self, what, expression, timeout=15.0, interval=0.2):
        """Polls a JavaScript expression until it is truthy; returns its value."""
        deadline = time.time() + timeout
        last = None
        while time.time() < deadline:
            last = self.evaluate(expression)
            if last:
                return last
            self.pump(interval)
        raise AssertionError("timed out after %.0fs waiting for %s (last: %r)" % (timeout, what, last))

    def viewport(self, width, height, mobile=False, scale=1):
        self.send("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": height, "deviceScaleFactor": scale, "mobile": mobile})

    def screenshot(self, path, full_page=False):
        params = {"format": "png"}
        if full_page:
            m = self.send("Page.getLayoutMetrics")
            size = m.get("cssContentSize") or m["contentSize"]
            params.update(captureBeyondViewport=True,
                          clip={"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1})
        data = self.send("Page.captureScreenshot", params)["data"]
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))
        return path

    def errors(self, ignore=()):
        """Console errors, uncaught exceptions and error log entries so far,
        as text; ignore holds substrings of expected ones."""
        out = []
        for e in self.events:
            p = e.get("params", {})
            if e["method"] == "Runtime.exceptionThrown":
                d = p.get("exceptionDetails", {})
                out.append("exception: %s" % (d.get("exception", {}).get("description") or d.get("text")))
            elif e["method"] == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                out.append("console.%s: %s" % (p["type"], " ".join(
                    str(a.get("value", a.get("description", ""))) for a in p.get("args", []))))
            elif e["method"] == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
                en = p["entry"]
                out.append("log: %s %s" % (en.get("text"), en.get("url", "")))
        return [x for x in out if not any(i in x for i in ignore)]

    def close(self):
        self.ws.close()


class Browser:
    """A headless Chromium in a private profile, stopped on exit."""

    def __init__(self, extra_args=(), lang="zh-CN"):
        if not os.path.exists(CHROMIUM):
            raise AssertionError(
                "%s is missing: the live page test needs Debian's chromium "
                "(apt-get install chromium; scripts/deps.sh test installs it)" % CHROMIUM)
        self.dir = tempfile.mkdtemp(prefix="hallgw-chromium-")
        self.log_path = os.path.join(self.dir, "chromium.log")
        self.log = open(self.log_path, "wb")
        args = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--no-default-browser-check", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-extensions",
                "--disable-dev-shm-usage", "--hide-scrollbars", "--mute-audio",
                "--lang=" + lang, "--accept-lang=" + lang,
                "--window-size=1920,1080", "--user-data-dir=" + os.path.join(self.dir, "profile"),
                "--remote-debugging-port=0", "about:blank"] + list(extra_args)
        # Its own session, so stopping it stops its helper processes too.
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=self.log, start_new_session=True)
        self.port = self._devtools_port()
        self.pages = []

    def _devtools_port(self, timeout=30.0):
        active = os.path.join(self.dir, "profile", "DevToolsActivePort")
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("chromium exited with %s:\n%s" % (self.proc.returncode, self.log_text()))
            try:
                with open(active) as f:
                    first = f.readline().strip()
                if first.isdigit():
                    return int(first)
            except OSError:
                pass
            for line in self.log_text().splitlines():
                if "DevTools listening on ws://" in line:
                    return urllib.parse.urlparse(line.split("listening on ", 1)[1].strip()).port
            time.sleep(0.1)
        raise AssertionError("chromium did not open its DevTools port:\n%s" % self.log_text())

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")[-4000:]
        except OSError:
            return ""

    def _json(self, path, method="GET"):
        req = urllib.request.Request("http://127.0.0.1:%d%s" % (self.port, path), method=method)
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.load(r)

    def page(self):
        """A new page target (tab)."""
        t = self._json("/json/new?about:blank", method="PUT")
        p = Page(t["webSocketDebuggerUrl"])
        self.pages.append(p)
        return p

    def close(self):
        for p in self.pages:
            try:
                p.close()
            except OSError:
                pass
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, 15)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, 9)
                self.proc.wait(10)
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
