from django.db import models
from django.utils.translation import gettext_lazy as _


class EventType(models.TextChoices):
    """What a webhook endpoint can subscribe to. The value is the `type` of the event's body."""

    PARTNER_CREATED = "partner.created", _("Partner created")
    PARTNER_UPDATED = "partner.updated", _("Partner updated")
    AGREEMENT_ACTIVATED = "agreement.activated", _("Agreement activated")
    AGREEMENT_EXPIRING = "agreement.expiring", _("Agreement expiring")
    REBATE_STATEMENT_APPROVED = "rebate_statement.approved", _("Rebate statement approved")
    MDF_REQUEST_APPROVED = "mdf_request.approved", _("MDF request approved")
    CERTIFICATION_EXPIRING = "certification.expiring", _("Certification expiring")
    SCORECARD_PUBLISHED = "scorecard.published", _("Scorecard published")
    REGION_FLAGGED = "region.flagged", _("Region flagged")


# The test event staff send to one endpoint ("Send test event"); no endpoint subscribes to it.
PING = "ping"
EVENT_TYPE_CHOICES = [*EventType.choices, (PING, _("Test event (ping)"))]


class DeliveryStatus(models.TextChoices):
    """Where the delivery of one event to one endpoint stands: pending (waiting for its next
    attempt), delivered (the endpoint answered 2xx) or failed (every attempt used up)."""

    PENDING = "pending", _("Pending")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")
