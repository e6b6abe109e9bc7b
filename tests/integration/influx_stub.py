"""A stub InfluxDB write endpoint, for the answers a real influxd can not be
made to give on demand (413, 429, 503). Records every request; the answers
come from a script the test sets."""

import gzip
import http.server
import threading
import urllib.parse

from harness import free_port


class Request:
    def __init__(self, path, query, headers, body):
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.lines = [l for l in body.decode("utf-8").split("\n") if l]
        self.status = None  # the answer given


class InfluxStub:
    db = "hallgw"

    def __init__(self):
        self.port = free_port()
        self.requests = []
        self.accepted = []  # lines of the requests answered 204
        self.lock = threading.Lock()
        # answer(request) -> (status, body); default: 204
        self.answer = lambda req: (204, b"")
        stub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                u = urllib.parse.urlsplit(self.path)
                req = Request(u.path, dict(urllib.parse.parse_qsl(u.query)), dict(self.headers), body)
                with stub.lock:
                    stub.requests.append(req)
                    status, reply = stub.answer(req)
                    req.status = status
                    if 200 <= status < 300:
                        stub.accepted.extend(req.lines)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def accepted_lines(self, measurement):
        with self.lock:
            return [l for l in self.accepted if l.startswith(measurement + ",") or l.startswith(measurement + " ")]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
