#!/usr/bin/env python3
"""A fast InfluxDB 1.x write sink for the benchmarks: answers every /write
with 204 at once and counts requests, points (lines) and bytes, so hallgw's
writer is never the bottleneck. GET /stats returns the counts as JSON;
/ping answers 204 and /query an empty result, as influxd would.

Usage: sink.py PORT   (listens on 127.0.0.1; prints "ready" when listening)
Standard library only."""

import gzip
import http.server
import json
import sys
import threading
import time
import zlib


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.requests = 0
        self.points = 0
        self.bytes = 0
        self.raw_bytes = 0
        self.first = None
        self.last = None

    def add(self, n_points, n_bytes, n_raw):
        now = time.monotonic()
        with self.lock:
            self.requests += 1
            self.points += n_points
            self.bytes += n_bytes
            self.raw_bytes += n_raw
            if self.first is None:
                self.first = now
            self.last = now

    def snapshot(self):
        with self.lock:
            return {"requests": self.requests, "points": self.points, "bytes": self.bytes,
                    "raw_bytes": self.raw_bytes,
                    "seconds": (self.last - self.first) if self.first is not None else 0.0,
                    "cpu_s": time.process_time()}


STATS = Stats()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body=b"", ctype="application/json"):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        if self.path.startswith("/write"):
            raw = body
            if self.headers.get("Content-Encoding") == "gzip":
                try:
                    raw = gzip.decompress(body)
                except (OSError, EOFError, zlib.error):
                    self.reply(400, b'{"error":"bad gzip"}')
                    return
            STATS.add(raw.count(b"\n") + (1 if raw and not raw.endswith(b"\n") else 0), n, len(raw))
            self.reply(204)
        elif self.path.startswith("/query"):
            self.reply(200, b'{"results":[{"statement_id":0}]}')
        else:
            self.reply(404, b'{"error":"not found"}')

    def do_GET(self):
        if self.path.startswith("/ping"):
            self.reply(204)
        elif self.path.startswith("/stats"):
            self.reply(200, json.dumps(STATS.snapshot()).encode())
        elif self.path.startswith("/query"):
            self.reply(200, b'{"results":[{"statement_id":0}]}')
        else:
            self.reply(404, b'{"error":"not found"}')


def main():
    port = int(sys.argv[1])
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    print("ready", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
