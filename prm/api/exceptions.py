"""Every API error answers one JSON shape, in the caller's language; bad input is never a 500.

    {"code": "invalid", "message": "Check the fields marked.", "errors": {"name": ["This field is required."]}}

- `code` is stable, for programs: `invalid` (400, a field or a rule), `parse_error` (400, a body
  that is not JSON), `not_authenticated` / `authentication_failed` (401), `permission_denied`
  (403), `not_found` (404), `method_not_allowed` (405), `not_acceptable` (406), `conflict` (409),
  `unsupported_media_type` (415), `throttled` (429, with Retry-After), or the `default_code` of
  the APIException a view raises for a case of its own (e.g. `idempotency_key_reused`).
- `message` is for people: the one error when there is only one, else a summary.
- `errors` holds the messages by field, as the request names the field (`non_field_errors` for a
  rule across fields); nested rows stay nested under their field. It is `{}` when no field is
  involved.

A view that must say more than this (the per-row results of a refused bulk write) answers
`error_body(...)` with its extra keys, so the three keys are always there.
"""

from contextlib import contextmanager

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import ProtectedError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import OpenApiResponse, extend_schema_field
from rest_framework import exceptions, serializers, status
from rest_framework.views import exception_handler as drf_exception_handler

from .authentication import ApiKeyAuthenticationFailed

NON_FIELD_ERRORS = "non_field_errors"


class Conflict(exceptions.APIException):
    """The object is still in use (rows that point at it), so it cannot be deleted."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"
    default_detail = gettext_lazy("This object is still in use and cannot be deleted.")


def validation_error_detail(error):
    """A Django ValidationError as DRF detail: {field: [messages]}, non-field under `non_field_errors`."""
    if hasattr(error, "error_dict"):
        return {
            (NON_FIELD_ERRORS if field == "__all__" else field): list(messages)
            for field, messages in error.message_dict.items()
        }
    return {NON_FIELD_ERRORS: list(error.messages)}


def _messages(detail):
    """Every message in an error detail, however deeply nested (rows of a list, fields of a row)."""
    if isinstance(detail, dict):
        return [message for value in detail.values() for message in _messages(value)]
    if isinstance(detail, list):
        return [message for value in detail for message in _messages(value)]
    return [str(detail)]


def error_body(code, message, errors=None, **extra):
    """The body of an API error; `extra` adds keys beside the three every error has."""
    return {"code": str(code), "message": str(message), "errors": errors or {}, **extra}


def _validation_body(exc):
    errors = exc.detail if isinstance(exc.detail, dict) else {NON_FIELD_ERRORS: exc.detail}
    messages = _messages(errors)
    message = messages[0] if len(messages) == 1 else _("Check the fields marked.")
    return error_body(exc.default_code, message, errors)


def _body(exc):
    if isinstance(exc, exceptions.ValidationError):
        return _validation_body(exc)
    codes = exc.get_codes()
    code = codes if isinstance(codes, str) else exc.default_code
    if isinstance(exc.detail, (dict, list)):
        messages = _messages(exc.detail)
        return error_body(code, messages[0] if len(messages) == 1 else exc.default_detail)
    return error_body(code, exc.detail)


def _as_api_exception(exc):
    """Django's own errors, as the API exception that answers them."""
    if isinstance(exc, DjangoValidationError):
        return exceptions.ValidationError(validation_error_detail(exc))
    if isinstance(exc, Http404):
        # Django's "No Partner matches the given query." is English only and names the model;
        # a foreign object and a missing one must read the same, in the caller's language.
        return exceptions.NotFound(_("No object with this id, or you may not see it."))
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied(str(exc) or None)
    if isinstance(exc, ProtectedError):
        return Conflict()
    return exc


def exception_handler(exc, context):
    """DRF's handler (status, WWW-Authenticate, Retry-After, rollback) with the body above."""
    if isinstance(exc, ApiKeyAuthenticationFailed):
        # DRF challenges with the first authentication method (Token); a refused API key is
        # told how to authenticate with a key instead.
        exc.auth_header = exc.challenge
    exc = _as_api_exception(exc)
    response = drf_exception_handler(exc, context)
    if response is not None:
        response.data = _body(exc)
    return response


@csrf_exempt
def api_not_found(request, *args, **kwargs):
    """Unknown API addresses answer JSON like the rest of the API, not an HTML page; a write too,
    rather than Django's CSRF page, since API clients send no CSRF token."""
    return JsonResponse(
        error_body("not_found", _("No API endpoint at this address.")),
        status=status.HTTP_404_NOT_FOUND,
        json_dumps_params={"ensure_ascii": False},
    )


@contextmanager
def service_errors(field_names=None):
    """Around a service call in a viewset: its ValidationError becomes the API's 400, with the
    fields named as the API spells them (`field_names`: {service name: API name})."""
    field_names = field_names or {}
    try:
        yield
    except DjangoValidationError as error:
        detail = validation_error_detail(error)
        renamed = {field_names.get(name, name): messages for name, messages in detail.items()}
        raise exceptions.ValidationError(renamed) from error


# The error body as the OpenAPI schema describes it (the `Error` component, shared by every operation).
@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {
            "oneOf": [
                {"type": "array", "items": {"oneOf": [{"type": "string"}, {"type": "object"}]}},
                {"type": "object"},
            ]
        },
        "example": {"name": ["This field is required."], NON_FIELD_ERRORS: ["The end date is before the start date."]},
    }
)
class FieldErrorsField(serializers.DictField):
    pass


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField(
        help_text="A stable code for programs: invalid, parse_error, not_authenticated, authentication_failed, "
        "permission_denied, not_found, method_not_allowed, not_acceptable, conflict, unsupported_media_type, "
        "throttled, or a code of the operation's own (its description names it)."
    )
    message = serializers.CharField(
        help_text="For people, in the language of Accept-Language (en or zh-hans): the error when there is one, "
        "else a summary."
    )
    errors = FieldErrorsField(
        help_text="Messages by field, as the request names the field; `non_field_errors` for a rule across "
        "fields. Errors in rows of a list stay nested under the list's field. Empty when no field is involved."
    )

    class Meta:
        ref_name = "Error"


FIELD_ERRORS = ErrorSerializer
BAD_INPUT = OpenApiResponse(
    ErrorSerializer,
    description="Bad input or a rule broken (`invalid`), or a body that is not JSON (`parse_error`): messages by "
    "field, as the request names it, or under non_field_errors. Nothing is changed.",
)
REFUSED = OpenApiResponse(
    ErrorSerializer, description="Your role or your API key's scopes do not allow this (`permission_denied`)."
)
NOT_FOUND = OpenApiResponse(ErrorSerializer, description="No such object, or you may not see it (`not_found`).")
