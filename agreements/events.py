"""The webhook events of agreements (agreement.activated, agreement.expiring), recorded by its
services inside their transaction: `data` is the agreement as GET /api/v1/agreements/{id}/ shows
it to vendor staff."""

from integrations.events import api_data, event_record_many
from prm.roles import VENDOR_READER


def agreement_events(event_type, agreements):
    """Record `event_type` once for each of `agreements`, read again as the API reads them (with
    product lines, territories and minimum prices): a fixed number of queries however many."""
    from .api.serializers import AgreementSerializer
    from .api.views import agreement_queryset

    rows = list(
        agreement_queryset(VENDOR_READER)
        .filter(pk__in=[agreement.pk for agreement in agreements])
        .select_related("partner")
        .order_by("pk")
    )
    data = api_data(AgreementSerializer(rows, many=True))
    return event_record_many(
        {"event_type": event_type, "data": item, "object_id": row.pk, "partner": row.partner}
        for row, item in zip(rows, data, strict=True)
    )
