"""The webhook events of training (certification.expiring), recorded by its services inside
their transaction: `data` is the training record as GET /api/v1/training-records/{id}/ shows it
to vendor staff."""

from integrations.choices import EventType
from integrations.events import api_data, event_record_many
from prm.roles import VENDOR_READER


def certifications_expiring(records):
    """certification.expiring once for each of `records` (passed records whose certification
    entered a reminder window), read again as the API reads them: a fixed number of queries however
    many."""
    from .api.serializers import TrainingRecordSerializer
    from .api.views import record_queryset

    rows = list(
        record_queryset(VENDOR_READER)
        .filter(pk__in=[record.pk for record in records])
        .select_related("contact__partner")
        .order_by("pk")
    )
    data = api_data(TrainingRecordSerializer(rows, many=True))
    return event_record_many(
        {
            "event_type": EventType.CERTIFICATION_EXPIRING,
            "data": item,
            "object_id": row.pk,
            "partner": row.contact.partner,
        }
        for row, item in zip(rows, data, strict=True)
    )
