"""One HTTP POST of a delivery, with the standard library: to the address the target check
approved (so DNS cannot swap in an internal one between the check and the connection), with a
timeout, never following a redirect, keeping at most `RESPONSE_EXCERPT_MAX` characters of the
answer."""

import http.client
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from .models import RESPONSE_EXCERPT_MAX
from .targets import TargetRefused, target_check


@dataclass
class Outcome:
    """What one attempt got: the HTTP status (None when no answer came), its duration, the start
    of the answer and, for an attempt that got no answer, the error."""

    status_code: int | None = None
    duration_ms: int = 0
    excerpt: str = ""
    error: str = ""

    @property
    def succeeded(self):
        return self.status_code is not None and 200 <= self.status_code < 300


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host, port, address, timeout):
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self):
        self.sock = socket.create_connection((str(self.address), self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host, port, address, timeout):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self.address = address

    def connect(self):
        sock = socket.create_connection((str(self.address), self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def post(url, *, body, headers, timeout):
    """POST `body` (bytes) to `url`; never raises for a network problem, returns the Outcome."""
    started = time.monotonic()

    def done(**values):
        return Outcome(duration_ms=int((time.monotonic() - started) * 1000), **values)

    try:
        addresses = target_check(url, resolve_required=True)
    except TargetRefused as refused:
        return done(error=" ".join(refused.messages))
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    connection_class = _PinnedHTTPSConnection if parts.scheme == "https" else _PinnedHTTPConnection
    port = parts.port or (443 if parts.scheme == "https" else 80)
    error = ""
    for address in addresses:
        # The next address is tried only when this one refuses the connection: once the body is
        # sent, a second address would receive the event twice.
        connection = connection_class(parts.hostname, port, address, timeout)
        try:
            connection.connect()
        except OSError as problem:
            connection.close()
            error = _error_text(problem)
            continue
        try:
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            excerpt = response.read(RESPONSE_EXCERPT_MAX * 4).decode("utf-8", "replace")[:RESPONSE_EXCERPT_MAX]
            return done(status_code=response.status, excerpt=excerpt)
        except (OSError, http.client.HTTPException) as problem:
            return done(error=_error_text(problem))
        finally:
            connection.close()
    return done(error=error)


def _error_text(problem):
    return f"{type(problem).__name__}: {problem}"[:1000]
