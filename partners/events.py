"""The webhook events of the partner registry (partner.created, partner.updated), recorded by its
services inside their transaction: `data` is the partner as GET /api/v1/partners/{id}/ shows it
to vendor staff."""

from integrations.events import api_data, event_record
from prm.roles import VENDOR_READER

from . import selectors


def partner_event(event_type, partner):
    """Record `event_type` for `partner`, read again as the API reads it (with its sub-partner
    count), after the change."""
    from .api.serializers import PartnerSerializer

    row = selectors.partner_list(user=VENDOR_READER).get(pk=partner.pk)
    return event_record(event_type, data=api_data(PartnerSerializer(row)), object_id=row.pk, partner=row)
