"""Schemathesis hooks for bin/contract-test (loaded through SCHEMATHESIS_HOOKS, not by pytest).

The fuzzer draws `Idempotency-Key` values from a small set, so most of its writes would reuse a
key with another body and stop at the 422 that refuses it, never reaching the endpoint. A write
that sends a valid key gets a key of its own instead; an invalid key is sent as drawn, to check
its 400.
"""

import uuid

import schemathesis

HEADER = "idempotency-key"


def _valid(key):
    return isinstance(key, str) and 1 <= len(key) <= 255 and all(" " <= char <= "~" for char in key)


@schemathesis.hook
def before_call(context, case, **kwargs):
    for name, value in list((case.headers or {}).items()):
        if name.lower() == HEADER and _valid(value):
            case.headers[name] = str(uuid.uuid4())
