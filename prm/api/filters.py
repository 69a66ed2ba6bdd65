"""`updated_since`: the rows of a list changed (or created) at or after a moment, for incremental
sync. Applies to every list whose model has `updated_at` (or whose viewset names another time in
`sync_field`, like `deleted_at` for deletions); a list without such a time refuses it with 400.
Paging such a list goes by cursor (prm.api.pagination)."""

from datetime import UTC

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from drf_spectacular.plumbing import get_view_model
from rest_framework.exceptions import ValidationError
from rest_framework.filters import BaseFilterBackend

UPDATED_SINCE = "updated_since"
# Set on the request once the list has applied `updated_since` (prm.api.pagination checks it).
APPLIED = "prm_updated_since_applied"


def sync_field(view, model):
    """The time a row of this list last changed, or None when the list cannot be synced."""
    name = getattr(view, "sync_field", None)
    if name:
        return name
    if model is not None and any(field.name == "updated_at" for field in model._meta.concrete_fields):
        return "updated_at"
    return None


def updated_since_parse(raw):
    """The aware datetime `raw` names (ISO 8601; UTC when it has no offset), or a 400 naming
    `updated_since`. A "+" left unencoded in a query string arrives as a space: read back as "+"."""
    value = raw.strip()
    for candidate in (value, value.replace(" ", "+")):
        try:
            parsed = parse_datetime(candidate)
            if parsed is not None:
                if timezone.is_naive(parsed):
                    parsed = parsed.replace(tzinfo=UTC)
                return parsed.astimezone(UTC)
        except (ValueError, OverflowError):
            continue
    raise ValidationError({UPDATED_SINCE: [_("Enter a date and time in ISO 8601, such as 2026-10-01T08:00:00Z.")]})


class UpdatedSinceFilter(BaseFilterBackend):
    """`?updated_since=<ISO 8601 date-time>`: only rows whose time of change is at or after it.
    An empty value filters nothing (a full pass, paged by cursor)."""

    def filter_queryset(self, request, queryset, view):
        raw = request.query_params.get(UPDATED_SINCE)
        if raw is None or getattr(view, "action", "list") != "list":
            return queryset
        field = sync_field(view, queryset.model)
        if field is None:
            raise ValidationError(
                {UPDATED_SINCE: [_("This list cannot be synced by time of change: read it whole instead.")]}
            )
        setattr(request, APPLIED, True)
        if not raw.strip():
            return queryset
        return queryset.filter(**{f"{field}__gte": updated_since_parse(raw)})

    def get_schema_operation_parameters(self, view):
        if sync_field(view, get_view_model(view)) is None:
            return []
        return [
            {
                "name": UPDATED_SINCE,
                "required": False,
                "in": "query",
                "description": (
                    "Incremental sync: only rows created or changed at or after this moment (ISO 8601 "
                    "date-time; UTC when it has no offset). The list is then paged by cursor: pass the "
                    "`next_updated_since` of your previous round's last page. Empty: every row, paged by "
                    "cursor."
                ),
                "schema": {"type": "string", "format": "date-time"},
            }
        ]
