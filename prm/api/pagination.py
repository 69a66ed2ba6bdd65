"""How every list of the API is paged: by page number, or by cursor for incremental sync.

Page numbers (`?page=2&page_size=100`) by default: `count`, `next`, `previous`, `results`, in the
list's `ordering`.

With `updated_since` (prm.api.filters) or `cursor` (the opaque token of a `next` link; empty to
start a full pass), the list is a sync pass: rows in ascending id (`ordering` is ignored), pages of
`page_size` (at most 500) read by keyset (`id > last id`, no OFFSET, no COUNT). Within one pass
every row that exists for the whole pass, and matches the filters throughout, appears exactly once,
whatever is inserted, updated or deleted meanwhile. The body is `next`, `previous` (always null),
`results` and `next_updated_since`: when the pass started minus PRM_SYNC_OVERLAP_SECONDS, carried
in the cursor. The next round passes it as `updated_since` and so also catches rows written by
transactions that committed late; a row may come twice across rounds, never zero times.
"""

from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core import signing
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from .filters import APPLIED, UPDATED_SINCE

CURSOR = "cursor"
CURSOR_SALT = "prm.api.pagination.cursor"


def sync_requested(request):
    return CURSOR in request.query_params or UPDATED_SINCE in request.query_params


def _bad_cursor():
    return ValidationError(
        {CURSOR: [_("This cursor is not valid here: use the next link of the previous page, or start again.")]}
    )


class Pagination(PageNumberPagination):
    """Page numbers by default, a keyset cursor for incremental sync (see the module docstring)."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    cursor_query_param = CURSOR

    sync = False

    def paginate_queryset(self, queryset, request, view=None):
        if not sync_requested(request):
            return super().paginate_queryset(queryset, request, view)
        if not isinstance(queryset, QuerySet):
            raise ValidationError({CURSOR: [_("This list cannot be paged by cursor.")]})
        if UPDATED_SINCE in request.query_params and not getattr(request, APPLIED, False):
            raise ValidationError(
                {UPDATED_SINCE: [_("This list cannot be synced by time of change: read it whole instead.")]}
            )
        self.sync, self.request = True, request
        after, started = self.cursor_read(request)
        self.started = started
        if after is not None:
            queryset = queryset.filter(pk__gt=after)
        size = self.get_page_size(request)
        rows = list(queryset.order_by("pk")[: size + 1])
        self.next_after = rows[size - 1].pk if len(rows) > size else None
        return rows[:size]

    def cursor_read(self, request):
        """(last id read, when the pass started) from the cursor; (None, now) for a new pass."""
        token = request.query_params.get(CURSOR, "").strip()
        if not token:
            return None, timezone.now()
        try:
            state = signing.loads(token, salt=CURSOR_SALT)
            after, started, path = state["a"], datetime.fromisoformat(state["s"]), state["p"]
        except (signing.BadSignature, KeyError, TypeError, ValueError):
            raise _bad_cursor() from None
        if path != request.path or not isinstance(after, int | str):
            raise _bad_cursor()
        return after, started

    def cursor_link(self):
        if self.next_after is None:
            return None
        after = self.next_after if isinstance(self.next_after, int) else str(self.next_after)
        token = signing.dumps(
            {"a": after, "s": self.started.isoformat(), "p": self.request.path}, salt=CURSOR_SALT, compress=True
        )
        url = remove_query_param(self.request.build_absolute_uri(), self.page_query_param)
        return replace_query_param(url, CURSOR, token)

    def next_updated_since(self):
        overlap = timedelta(seconds=settings.PRM_SYNC_OVERLAP_SECONDS)
        return (self.started - overlap).astimezone(UTC).isoformat().replace("+00:00", "Z")

    def get_paginated_response(self, data):
        if not self.sync:
            return super().get_paginated_response(data)
        return Response(
            {
                "next": self.cursor_link(),
                "previous": None,
                "results": data,
                "next_updated_since": self.next_updated_since(),
            }
        )

    def get_schema_operation_parameters(self, view):
        return [
            *super().get_schema_operation_parameters(view),
            {
                "name": CURSOR,
                "required": False,
                "in": "query",
                "description": (
                    "Incremental sync: page by cursor instead of page number. Empty to start a full pass; "
                    "then the opaque token of the `next` link. Rows come in ascending id, `ordering` and "
                    "`page` are ignored, and every row that exists for the whole pass comes exactly once."
                ),
                "schema": {"type": "string"},
            },
        ]

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["next", "previous", "results"],
            "properties": {
                "count": {
                    "type": "integer",
                    "example": 123,
                    "description": "Page-number paging only: how many rows the list has.",
                },
                "next": {
                    "type": "string",
                    "nullable": True,
                    "format": "uri",
                    "description": "The next page; null on the last one.",
                },
                "previous": {
                    "type": "string",
                    "nullable": True,
                    "format": "uri",
                    "description": "The previous page (page-number paging); always null when paging by cursor.",
                },
                "next_updated_since": {
                    "type": "string",
                    "format": "date-time",
                    "description": "Cursor paging only: the `updated_since` of your next round (when this pass "
                    "started, minus a safety overlap).",
                },
                "results": schema,
            },
        }
