"""`Idempotency-Key`: a CRM that retries a write after a timeout gets the first answer back
instead of writing twice.

Any unsafe API request (POST, PUT, PATCH, DELETE) may send `Idempotency-Key: <1 to 255 printable
ASCII characters>`. The key belongs to the caller (the API key's prefix, or the signed-in user),
so two callers never see each other's answers. The request's fingerprint is the SHA-256 of its
method, its full path with the query string and its raw body.

- The first request claims the key, runs, and keeps its status, its JSON body and the headers the
  view set (`response_body` = {"body": its JSON text, "headers": {...}}; every answer below 500), in the
  same transaction as its writes: a crash leaves neither a write without its record nor a record
  without its write. A 5xx or an exception rolls both back, so a retry runs again; a handler that
  raises (a 4xx) has its own writes undone, and its answer is kept.
- A retry with the same key and the same fingerprint gets the kept answer, with
  `Idempotent-Replayed: true`, and writes nothing.
- The same key with another request: 422 `idempotency_key_reused`.
- The same key while the first request still runs: 409 `idempotency_key_in_progress`, with
  `Retry-After: 1` (PostgreSQL; SQLite runs one writer at a time, so there the retry waits for
  the first and gets its answer).
- Records older than `PRM_IDEMPOTENCY_TTL_HOURS` no longer replay, and the beat task
  `prm.tasks.idempotency_records_purge` deletes them.

How it hooks in: DRF authenticates inside the view, so a Django middleware would not know the
caller without running the authenticators a second time. `IdempotentWritesMixin` sits under the
base viewsets of `prm.api.viewsets`, which every app's viewsets use: its `dispatch` is DRF's,
with the handler run through `idempotent_run` once `initial` has authenticated, checked
permissions and throttled (refusals there are never kept). The view's own `transaction.atomic`
blocks nest inside the claim's transaction, and so does the whole thing inside `ATOMIC_REQUESTS`.
"""

import hashlib
import json
import tempfile
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.permissions import SAFE_METHODS
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from ..models import IdempotencyRecord
from .authentication import ApiKeyPrincipal

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_MAX_LENGTH = 255
# Headers the response gets from rendering, not from the view: never kept.
RENDERED_HEADERS = {"content-type", "content-length", "vary", "allow", "content-language"}


class IdempotencyKeyInvalid(exceptions.ValidationError):
    default_code = "idempotency_key_invalid"

    def __init__(self):
        message = _("The Idempotency-Key header must be 1 to 255 printable ASCII characters.")
        super().__init__({HEADER: [message]}, code=self.default_code)


class IdempotencyKeyReused(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = "idempotency_key_reused"
    default_detail = _(
        "This Idempotency-Key was already used for a different request. Send a new key with a new request."
    )


class IdempotencyKeyInProgress(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "idempotency_key_in_progress"
    default_detail = _("A request with this Idempotency-Key is still being processed. Retry in a moment.")
    # DRF's exception handler answers it as `Retry-After: 1`.
    wait = 1


def idempotency_key(request):
    """The request's `Idempotency-Key`, or None when it sends none or is a safe method.
    Raises IdempotencyKeyInvalid when the header is there but empty, too long or not printable ASCII."""
    if request.method in SAFE_METHODS or HEADER not in request.headers:
        return None
    key = request.headers[HEADER]
    if not 1 <= len(key) <= KEY_MAX_LENGTH or not all(" " <= char <= "~" for char in key):
        raise IdempotencyKeyInvalid()
    return key


def idempotency_principal(user):
    """Whose keys these are: an API key (by its prefix) or a user (by id); None for anonymous
    callers, whose writes are not made idempotent."""
    if isinstance(user, ApiKeyPrincipal):
        return f"key:{user.api_key.prefix}"
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return None


def request_fingerprint(request):
    """SHA-256 of a Django request's method, full path with query and raw body, in hex.

    Read before DRF parses the body. A body larger than Django keeps in memory (an upload) is
    hashed while it is copied to a temporary file, which the parsers then read instead."""
    digest = hashlib.sha256(f"{request.method}\n{request.get_full_path()}\n".encode())
    try:
        digest.update(request.body)
    except RequestDataTooBig:
        copy = tempfile.SpooledTemporaryFile(max_size=settings.FILE_UPLOAD_MAX_MEMORY_SIZE)  # noqa: SIM115 - the request reads it after this returns
        for chunk in iter(lambda: request.read(64 * 1024), b""):
            digest.update(chunk)
            copy.write(chunk)
        copy.seek(0)
        request._stream = copy
        request._read_started = False
    return digest.hexdigest()


def _lock_or_refuse(principal, key):
    """On PostgreSQL, a transaction-scoped advisory lock on (principal, key): a second request with
    the key while the first runs is refused at once instead of waiting on the first's claim.
    Elsewhere the database runs one writer at a time, and the claim's unique key decides."""
    if connection.vendor != "postgresql":
        return
    lock_id = int.from_bytes(hashlib.sha256(f"{principal}\n{key}".encode()).digest()[:8], "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [lock_id])
        if not cursor.fetchone()[0]:
            raise IdempotencyKeyInProgress()


def _replay(record):
    kept = record.response_body or {}
    headers = {**kept.get("headers", {}), REPLAYED_HEADER: "true"}
    body = kept.get("body")
    return Response(None if body is None else json.loads(body), status=record.status_code, headers=headers)


def _kept_answer(response):
    """What a record keeps of an answer: its body as JSON text (PostgreSQL's jsonb refuses a NUL
    character in a string, which an answer may quote from bad input) and the headers the view set."""
    data = getattr(response, "data", None)
    return {
        "body": None if data is None else JSONRenderer().render(data).decode(),
        "headers": {name: value for name, value in response.items() if name.lower() not in RENDERED_HEADERS},
    }


def idempotent_run(*, principal, key, method, path, fingerprint, run):
    """Answer a write sent with an Idempotency-Key (see the module docstring): `run()` makes the
    write and returns its response; it is called at most once per (principal, key) while the
    record lasts. Raises IdempotencyKeyReused or IdempotencyKeyInProgress."""
    with transaction.atomic():
        _lock_or_refuse(principal, key)
        IdempotencyRecord.objects.filter(principal=principal, key=key, created_at__lt=idempotency_cutoff()).delete()
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    principal=principal, key=key, method=method, path=path[:500], request_hash=fingerprint
                )
        except IntegrityError:
            record = IdempotencyRecord.objects.filter(principal=principal, key=key).first()
            if record is None or record.status_code is None:
                raise IdempotencyKeyInProgress() from None
            if record.request_hash != fingerprint:
                raise IdempotencyKeyReused() from None
            return _replay(record)
        response = run()
        if response.status_code >= 500:
            transaction.set_rollback(True)
            return response
        record.status_code = response.status_code
        record.response_body = _kept_answer(response)
        record.save(update_fields=["status_code", "response_body"])
        return response


def idempotency_cutoff():
    """Records created before this no longer replay."""
    return timezone.now() - timedelta(hours=settings.PRM_IDEMPOTENCY_TTL_HOURS)


def idempotency_records_purge():
    """Delete the records older than `PRM_IDEMPOTENCY_TTL_HOURS`; returns how many went."""
    deleted, _by_model = IdempotencyRecord.objects.filter(created_at__lt=idempotency_cutoff()).delete()
    return deleted


class IdempotentWritesMixin:
    """Makes every unsafe request with an `Idempotency-Key` idempotent (see the module docstring).
    `dispatch` is DRF's APIView.dispatch with one change: the handler runs through `idempotent_run`."""

    def dispatch(self, request, *args, **kwargs):
        self.args = args
        self.kwargs = kwargs
        wants_key = request.method not in SAFE_METHODS and HEADER in request.headers
        fingerprint = request_fingerprint(request) if wants_key else None
        request = self.initialize_request(request, *args, **kwargs)
        self.request = request
        self.headers = self.default_response_headers
        try:
            self.initial(request, *args, **kwargs)
            if request.method.lower() in self.http_method_names:
                handler = getattr(self, request.method.lower(), self.http_method_not_allowed)
            else:
                handler = self.http_method_not_allowed
            key = idempotency_key(request)
            principal = idempotency_principal(request.user)
            if key is None or principal is None:
                response = handler(request, *args, **kwargs)
            else:
                response = idempotent_run(
                    principal=principal,
                    key=key,
                    method=request.method,
                    path=request.get_full_path(),
                    fingerprint=fingerprint,
                    run=lambda: self._handle_in_savepoint(handler, request, *args, **kwargs),
                )
        except Exception as exc:
            response = self.handle_exception(exc)
        self.response = self.finalize_response(request, response, *args, **kwargs)
        return self.response

    def _handle_in_savepoint(self, handler, request, *args, **kwargs):
        """The handler's answer, an error included, so that a 4xx is kept like any answer. A
        handler that raises has its writes undone: an error answer changes nothing."""
        try:
            with transaction.atomic():
                return handler(request, *args, **kwargs)
        except Exception as exc:
            # Under ATOMIC_REQUESTS, DRF's exception handler marks the innermost transaction for
            # rollback: this one, not the one holding the claim.
            with transaction.atomic():
                return self.handle_exception(exc)


UNSAFE_OPERATIONS = ("post", "put", "patch", "delete")
KEY_PARAMETER = {
    "in": "header",
    "name": HEADER,
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": KEY_MAX_LENGTH, "pattern": "^[ -~]+$"},
    "description": "Makes this write safe to retry: a retry with the same key and the same request gets the "
    "first answer back (with `Idempotent-Replayed: true`) and writes nothing. 1 to 255 printable ASCII "
    "characters, e.g. a UUID; keys are the caller's own and are kept for PRM_IDEMPOTENCY_TTL_HOURS (24 by "
    "default). The same key with a different request: 422; while the first request still runs: 409.",
}
REPLAYED_HEADER_SCHEMA = {
    "schema": {"type": "string", "enum": ["true"]},
    "description": "Present when this is the kept answer to an earlier request with the same Idempotency-Key.",
}
IN_PROGRESS = (
    "`idempotency_key_in_progress`: a request with this Idempotency-Key is still running; retry after "
    "Retry-After seconds."
)
REUSED = "`idempotency_key_reused`: this Idempotency-Key was already used for a different request."


def _error_content(result):
    if "Error" in result.get("components", {}).get("schemas", {}):
        schema = {"$ref": "#/components/schemas/Error"}
    else:
        schema = {"type": "object", "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}
    return {"application/json": {"schema": schema}}


def idempotency_schema_hook(result, generator, request, public):
    """drf-spectacular postprocessing hook: every write documents the `Idempotency-Key` header,
    the `Idempotent-Replayed` header of its successful answers, and its 409 and 422 answers."""
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in UNSAFE_OPERATIONS:
                continue
            parameters = operation.setdefault("parameters", [])
            if not any(parameter.get("name") == HEADER for parameter in parameters):
                parameters.append(dict(KEY_PARAMETER))
            responses = operation.setdefault("responses", {})
            for code, response in responses.items():
                if str(code).startswith("2"):
                    response.setdefault("headers", {})[REPLAYED_HEADER] = dict(REPLAYED_HEADER_SCHEMA)
            conflict = responses.setdefault("409", {"description": "", "content": _error_content(result)})
            conflict["description"] = " ".join(filter(None, [conflict.get("description"), IN_PROGRESS]))
            conflict.setdefault("headers", {})["Retry-After"] = {
                "schema": {"type": "integer"},
                "description": "Seconds to wait before retrying (with `idempotency_key_in_progress`).",
            }
            responses.setdefault("422", {"description": REUSED, "content": _error_content(result)})
    return result
