"""Helpers of the webhook tests: a real HTTP receiver on 127.0.0.1 that answers with the status
codes a test scripts and keeps every request it got, and endpoints made without the URL check
(the receiver is on loopback)."""

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from integrations.models import WebhookEndpoint


class Receiver:
    """`answers`: the status codes to answer in turn (the last one repeats)."""

    def __init__(self, answers=(200,), delay=0):
        self.answers = list(answers)
        self.delay = delay
        self.requests = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if receiver.delay:
                    time.sleep(receiver.delay)
                receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                code = receiver.answers.pop(0) if len(receiver.answers) > 1 else receiver.answers[0]
                payload = f"answer {code}".encode()
                try:
                    self.send_response(code)
                    if 300 <= code < 400:
                        self.send_header("Location", "http://127.0.0.1:9/elsewhere")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the sender gave up waiting (the timeout test)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}/prm-hooks"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def endpoint_make(url, events=("partner.created",), **fields):
    return WebhookEndpoint.objects.create(name=fields.pop("name", "CRM"), url=url, events=list(events), **fields)
