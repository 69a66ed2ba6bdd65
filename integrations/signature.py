"""The signature on every webhook delivery, and how a receiver checks it.

Header: `PRM-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`. The
receiver recomputes the HMAC over the raw body exactly as received (before parsing the JSON),
compares it in constant time, and refuses a timestamp further than `tolerance` seconds from its
own clock, so a captured delivery cannot be replayed later."""

import hashlib
import hmac
import time

HEADER = "PRM-Signature"
SCHEME = "v1"


def _digest(secret, timestamp, body):
    if isinstance(body, str):
        body = body.encode()
    message = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign(secret, body, timestamp=None):
    """The `PRM-Signature` header value for `body` (bytes) signed with `secret` at `timestamp`
    (unix seconds, now by default)."""
    timestamp = int(time.time() if timestamp is None else timestamp)
    return f"t={timestamp},{SCHEME}={_digest(secret, timestamp, body)}"


def verify(secret, header, body, tolerance=300, now=None):
    """Whether `header` is a valid signature of `body` with `secret`, made within `tolerance`
    seconds of `now`. Any `v1` entry may match (a header may carry several)."""
    timestamp, signatures = None, []
    for part in (header or "").split(","):
        name, _sep, value = part.strip().partition("=")
        if name == "t":
            timestamp = value
        elif name == SCHEME:
            signatures.append(value)
    try:
        timestamp = int(timestamp)
    except (TypeError, ValueError):
        return False
    now = time.time() if now is None else now
    if abs(now - timestamp) > tolerance:
        return False
    expected = _digest(secret, timestamp, body)
    return any(hmac.compare_digest(expected, candidate) for candidate in signatures)
