"""The writer's handling of InfluxDB answers a real server can not be made to
give on demand: 503 and 429 are retried (through the spool) until written
once, 413 splits the batch, 400 partial writes are final. And the v2 write
API's request form."""

import json
import os
import re
import shutil
import time

import harness
from harness import Hallgw, Publisher, wait_for
from influx_stub import InfluxStub

DEVICES = [{"id": "env-1", "hall": "h1", "kind": "env"}]


class Setup:
    def __init__(self, name, influx_extra=""):
        import tempfile
        self.dir = tempfile.mkdtemp(prefix="hallgw-%s-" % name)
        self.mqtt = harness.mosquitto(self.dir)
        self.stub = InfluxStub()
        self.gw = Hallgw(self.dir, self.mqtt, self.stub, devices=DEVICES, influx_extra=influx_extra)

    def close(self, ok):
        try:
            self.gw.stop()
        finally:
            self.stub.stop()
            self.mqtt.stop()
        if ok:
            shutil.rmtree(self.dir, ignore_errors=True)
        else:
            print(self.gw.log_text()[-4000:])
            print("test directory kept: %s" % self.dir)


def send(mqtt, start, n):
    pub = Publisher(mqtt)
    base = time.time()
    infos = [pub.publish("hall/h1/env-1/telemetry",
                         json.dumps({"ts": base + i * 1e-4, "seq": i, "temperature": 21.5}), wait=False)
             for i in range(start, start + n)]
    for info in infos:
        info.wait_for_publish(10)
    pub.close()


def seqs(stub):
    out = []
    for line in stub.accepted_lines("env"):
        m = re.search(r"[ ,]seq=([0-9.e+]+)", line)
        if m:
            out.append(int(float(m.group(1))))
    return out


def counter(stub, field):
    vals = []
    for line in stub.accepted_lines("gateway"):
        m = re.search(r"[ ,]%s=([0-9.e+]+)" % field, line)
        if m:
            vals.append(float(m.group(1)))
    return max(vals) if vals else 0


def run_case(name, answer, n, check, influx_extra=""):
    s = Setup(name, influx_extra)
    ok = False
    try:
        s.stub.answer = answer
        s.gw.start()
        send(s.mqtt, 0, n)
        check(s)
        ok = True
    finally:
        s.close(ok)


def test_503_and_429_are_retried_until_every_point_is_written_once():
    state = {"n": 0}

    # Two 503s, then a 429: three failed writes, retried 0.5 s, 1 s and 2 s apart.
    def answer(req):
        if req.lines and req.lines[0].startswith("env"):
            state["n"] += 1
            if state["n"] <= 2:
                return (503, b'{"error":"unavailable"}')
            if state["n"] <= 3:
                return (429, b'{"error":"too many requests"}')
        return (204, b"")

    def check(s):
        wait_for("300 points after 503 and 429", lambda: len(set(seqs(s.stub))) == 300, timeout=60)
        # The spool is replayed before anything newer is sent: once a later
        # write (the gateway's own counters, every second) is accepted,
        # nothing of the 300 is left to send again.
        with s.stub.lock:
            done = len(s.stub.requests)
        wait_for("a later write accepted", lambda: any(
            200 <= r.status < 300 for r in s.stub.requests[done:]), timeout=10)
        got = seqs(s.stub)
        assert len(got) == 300, "points written more than once: %d" % len(got)
        assert state["n"] > 3
        wait_for("write_failures counted", lambda: counter(s.stub, "write_failures") >= 3, timeout=10)

    run_case("retry", answer, 300, check)


def test_413_splits_the_batch_until_it_fits():
    def answer(req):
        if len(req.lines) > 40:
            return (413, b'{"error":"Request Entity Too Large"}')
        return (204, b"")

    def check(s):
        wait_for("500 points through 413 splits", lambda: len(set(seqs(s.stub))) == 500, timeout=30)
        assert len(seqs(s.stub)) == 500
        assert any(len(r.lines) > 40 for r in s.stub.requests), "the batch was never too large"
        wait_for("write_splits counted", lambda: counter(s.stub, "write_splits") >= 1, timeout=10)

    run_case("split", answer, 500, check)


def test_400_partial_write_is_final_and_counted_never_retried():
    refused = {"lines": None}

    def answer(req):
        if req.lines and req.lines[0].startswith("env") and refused["lines"] is None:
            refused["lines"] = req.lines
            return (400, b'{"error":"partial write: field type conflict: input field \\"seq\\" on '
                         b'measurement \\"env\\" is type string, already exists as type float dropped=1"}')
        return (204, b"")

    def check(s):
        wait_for("points_rejected counted", lambda: counter(s.stub, "points_rejected") >= 1, timeout=20)
        env_requests = [r for r in s.stub.requests if r.lines and r.lines[0].startswith("env")]
        first = refused["lines"]
        assert first is not None
        # The refused batch was never sent again.
        assert sum(1 for r in env_requests if r.lines == first) == 1
        assert counter(s.stub, "points_rejected") == 1
        assert counter(s.stub, "points_written") >= len(first) - 1

    run_case("partial", answer, 50, check)


def test_v2_write_api_with_org_bucket_and_token():
    import tempfile
    token_dir = tempfile.mkdtemp(prefix="hallgw-token-")
    token_file = os.path.join(token_dir, "influx.token")
    harness.write_secret(token_file, "s3cr3t-token\n")

    def check(s):
        wait_for("20 points over v2", lambda: len(set(seqs(s.stub))) == 20, timeout=20)
        env = [r for r in s.stub.requests if r.lines and r.lines[0].startswith("env")]
        r = env[0]
        assert r.path == "/api/v2/write", r.path
        assert r.query == {"org": "hall org", "bucket": "hallgw/autogen", "precision": "ns"}, r.query
        assert r.headers.get("Authorization") == "Token s3cr3t-token"
        assert r.headers.get("Content-Encoding") == "gzip"

    try:
        run_case("v2", lambda req: (204, b""), 20, check,
                 influx_extra='api = "v2"; org = "hall org"; bucket = "hallgw/autogen"; token_file = "%s";'
                 % token_file)
    finally:
        shutil.rmtree(token_dir, ignore_errors=True)


if __name__ == "__main__":
    harness.run([test_503_and_429_are_retried_until_every_point_is_written_once,
                 test_413_splits_the_batch_until_it_fits,
                 test_400_partial_write_is_final_and_counted_never_retried,
                 test_v2_write_api_with_org_bucket_and_token])
