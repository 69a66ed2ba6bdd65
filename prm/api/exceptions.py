"""Every API error is JSON with field-level messages; bad input is never a 500."""

from contextlib import contextmanager

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import ProtectedError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .authentication import ApiKeyAuthenticationFailed


def validation_error_detail(error):
    """A Django ValidationError as DRF detail: {field: [messages]}, non-field under `non_field_errors`."""
    if hasattr(error, "error_dict"):
        return {
            ("non_field_errors" if field == "__all__" else field): list(messages)
            for field, messages in error.message_dict.items()
        }
    return {"non_field_errors": list(error.messages)}


def exception_handler(exc, context):
    if isinstance(exc, ApiKeyAuthenticationFailed):
        # DRF challenges with the first authentication method (Token); a refused API key is
        # told how to authenticate with a key instead.
        exc.auth_header = exc.challenge
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(validation_error_detail(exc))
    elif isinstance(exc, Http404):
        # Django's "No Partner matches the given query." is English only and names the model;
        # a foreign object and a missing one must read the same, in the caller's language.
        exc = exceptions.NotFound(_("No object with this id, or you may not see it."))
    elif isinstance(exc, ProtectedError):
        return Response(
            {"non_field_errors": [_("This object is still in use and cannot be deleted.")]},
            status=status.HTTP_409_CONFLICT,
        )
    return drf_exception_handler(exc, context)


def api_not_found(request, *args, **kwargs):
    """Unknown API addresses answer JSON like the rest of the API, not an HTML page."""
    return JsonResponse({"detail": _("No API endpoint at this address.")}, status=status.HTTP_404_NOT_FOUND)


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


# Error responses, as the OpenAPI schema describes them (shared by every app's viewsets).
FIELD_ERRORS = inline_serializer(
    "FieldErrors",
    {
        "non_field_errors": serializers.ListField(child=serializers.CharField(), required=False),
        "field_name": serializers.ListField(child=serializers.CharField(), required=False),
    },
)
DETAIL = inline_serializer("ErrorDetail", {"detail": serializers.CharField()})
BAD_INPUT = OpenApiResponse(
    FIELD_ERRORS,
    description="Bad input or a rule broken: messages by field (the field as the request names it), or under "
    "non_field_errors. Nothing is changed.",
)
REFUSED = OpenApiResponse(DETAIL, description="Your role or your API key's scopes do not allow this.")
NOT_FOUND = OpenApiResponse(DETAIL, description="No such object, or you may not see it.")
