"""A tiny SMTP server on a free loopback port (RFC 5321's plain commands, no
TLS, no AUTH) that keeps every message it accepts, parsed with the standard
library's email package. answer(n) -> (code, text) decides the reply to the
end of DATA of the n-th message (from 1): a test makes it fail on demand."""

import email
import email.policy
import socketserver
import threading

from harness import free_port


class SmtpSink:
    def __init__(self):
        self.port = free_port()
        self.messages = []   # email.message.EmailMessage, accepted ones
        self.envelopes = []  # (mail_from, [rcpt_to]) of accepted ones
        self.attempts = 0    # messages that reached the end of DATA
        self.lock = threading.Lock()
        self.answer = lambda n: (250, "OK queued")
        sink = self

        class Handler(socketserver.StreamRequestHandler):
            def reply(self, text):
                self.wfile.write((text + "\r\n").encode())
                self.wfile.flush()

            def handle(self):
                self.reply("220 sink.test ESMTP")
                mail_from, rcpt = None, []
                while True:
                    line = self.rfile.readline()
                    if not line:
                        return
                    cmd = line.decode("utf-8", "replace").strip()
                    verb = cmd.split(" ", 1)[0].upper()
                    if verb in ("EHLO", "HELO"):
                        self.reply("250 sink.test")
                    elif verb == "MAIL":
                        mail_from, rcpt = cmd[10:].strip(), []
                        self.reply("250 OK")
                    elif verb == "RCPT":
                        rcpt.append(cmd[8:].strip())
                        self.reply("250 OK")
                    elif verb == "DATA":
                        self.reply("354 end with .")
                        data = []
                        while True:
                            l = self.rfile.readline()
                            if not l or l in (b".\r\n", b".\n"):
                                break
                            data.append(l[1:] if l.startswith(b"..") else l)
                        with sink.lock:
                            sink.attempts += 1
                            code, text = sink.answer(sink.attempts)
                            if code == 250:
                                sink.messages.append(email.message_from_bytes(
                                    b"".join(data), policy=email.policy.default))
                                sink.envelopes.append((mail_from, rcpt))
                        self.reply("%d %s" % (code, text))
                    elif verb == "RSET" or verb == "NOOP":
                        self.reply("250 OK")
                    elif verb == "QUIT":
                        self.reply("221 bye")
                        return
                    else:
                        self.reply("502 not implemented")

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return "smtp://127.0.0.1:%d" % self.port

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
