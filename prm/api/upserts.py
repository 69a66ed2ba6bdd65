"""Writes by external ID: `PUT /api/v1/<objects>/by-external-id/{external_id}/` creates the object
the CRM knows by that ID or brings it up to date, so a sync can send every object every time.

The answer tells what happened: 201 when the object was created, 200 otherwise, and the header
`X-Upsert-Result: created | updated | unchanged`. When nothing differs, nothing is written: no
`updated_at` change, no history entry, no webhook event."""

from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.response import Response

UPSERT_URL_PATH = r"by-external-id/(?P<external_id>[^/]+)"
UPSERT_URL_NAME = "by-external-id"
UPSERT_HEADER = "X-Upsert-Result"


class UpsertResult(models.TextChoices):
    CREATED = "created", gettext_lazy("created")
    UPDATED = "updated", gettext_lazy("updated")
    UNCHANGED = "unchanged", gettext_lazy("unchanged")


EXTERNAL_ID_MAX_LENGTH = 100


def upsert_external_id(value, body=None):
    """The external ID of an upsert's URL, checked: present, at most 100 characters, no control
    characters (a database refuses some); and the body's, if it names one, must be the same."""
    value = (value or "").strip()
    if not value:
        message = _("Enter an external ID.")
    elif len(value) > EXTERNAL_ID_MAX_LENGTH:
        message = _("At most %(length)s characters.") % {"length": EXTERNAL_ID_MAX_LENGTH}
    elif any(ord(character) < 32 or ord(character) == 127 for character in value):
        message = _("An external ID cannot contain control characters.")
    elif (body or {}).get("external_id") not in (None, "", value):
        message = _("The external ID in the body differs from the URL's.")
    else:
        return value
    raise exceptions.ValidationError({"external_id": [message]})


def upsert_response(data, result):
    """The object as the API shows it, with 201 for a new one and the result in the header."""
    code = status.HTTP_201_CREATED if result == UpsertResult.CREATED else status.HTTP_200_OK
    return Response(data, status=code, headers={UPSERT_HEADER: str(result)})


def upsert_schema(*, request, response, summary, description=""):
    """The OpenAPI description of an upsert action: the path's external ID, 200 and 201, and the
    header that says which of created, updated or unchanged happened."""
    header = OpenApiParameter(
        UPSERT_HEADER,
        OpenApiTypes.STR,
        location=OpenApiParameter.HEADER,
        enum=UpsertResult.values,
        description="created (201), updated or unchanged (200; nothing was written).",
        response=True,
    )
    return extend_schema(
        summary=summary,
        description=description
        or "Create the object with this external ID (201) or bring it up to date (200). Sending the same body "
        "again changes nothing: 200 with X-Upsert-Result: unchanged, no updated_at change, no history entry, "
        "no webhook event. Optional fields left out keep their values.",
        request=request,
        parameters=[
            OpenApiParameter(
                "external_id",
                OpenApiTypes.STR,
                location=OpenApiParameter.PATH,
                description="The object's ID in the CRM, URL-encoded (letters, digits and characters such as "
                ". - _ : @; not /), at most 100 characters.",
            ),
            header,
        ],
        responses={
            200: OpenApiResponse(response, description="Updated, or unchanged (nothing written)."),
            201: OpenApiResponse(response, description="Created."),
        },
    )
