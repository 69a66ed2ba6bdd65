"""The webhook events of incentives (rebate_statement.approved, mdf_request.approved), recorded
by its services inside their transaction: `data` is the statement or the request as its API
detail endpoint shows it to vendor staff."""

from django.conf import settings
from django.utils import translation

from integrations.choices import EventType
from integrations.events import api_data, event_record
from prm.roles import VENDOR_READER


def _record(event_type, serializer_class, row):
    # A statement line's explanation is composed in the active language: an event reads the
    # same whoever made the change, in the site's language.
    with translation.override(settings.LANGUAGE_CODE):
        data = api_data(serializer_class(row))
    return event_record(event_type, data=data, object_id=row.pk, partner=row.partner)


def statement_approved(statement):
    """rebate_statement.approved: the statement with its lines, as GET
    /api/v1/rebate-statements/{id}/ reads it."""
    from .api.serializers import RebateStatementSerializer
    from .api.views import statement_queryset

    row = statement_queryset(VENDOR_READER).get(pk=statement.pk)
    return _record(EventType.REBATE_STATEMENT_APPROVED, RebateStatementSerializer, row)


def mdf_request_approved(request):
    """mdf_request.approved: the request with its proofs, as GET /api/v1/mdf-requests/{id}/ reads
    it."""
    from .api.serializers import MdfRequestSerializer
    from .api.views import request_queryset

    row = request_queryset(VENDOR_READER).get(pk=request.pk)
    return _record(EventType.MDF_REQUEST_APPROVED, MdfRequestSerializer, row)
