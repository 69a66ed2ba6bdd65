"""The training section of the staff partner 360° page and the training panel of the staff home
page, each read in a fixed number of queries."""

from datetime import timedelta

from django.utils import timezone

from partners.choices import PartnerStatus
from partners.models import Partner

from . import selectors
from .rules import OPEN_STATUSES

# Certifications the home panel lists before linking to the whole list.
HOME_PANEL_ROWS = 5
EXPIRY_HORIZON_DAYS = selectors.EXPIRY_WINDOW_DAYS


def partner_training_section(user, partner):
    """Tier requirements met or missing, the people certified with their expiry, and the attempts
    still open (selectors.partner_training: six queries)."""
    training = selectors.partner_training(partner, user)
    return {
        "template": "training/_partner_section.html",
        "partner": partner,
        "requirements": training["requirements"],
        "certified": training["certifications"],
        "in_progress": training["counts"]["open"] or 0,
        # The open attempts among the most recent ones: who is in training for what.
        "open_records": [record for record in training["records"] if record.status in OPEN_STATUSES],
        "soon": timezone.localdate() + timedelta(days=EXPIRY_HORIZON_DAYS),
    }


def training_home_panel(user):
    """Certifications expiring within 60 days (a count and the first few) and the active partners
    whose tier requirements are not met (a count): five queries."""
    expiring = selectors.expiring_certifications(user, within_days=EXPIRY_HORIZON_DAYS)
    partners = Partner.objects.visible_to(user).filter(status=PartnerStatus.ACTIVE, tier__isnull=False)
    status = selectors.tier_requirement_status(partners)
    return {
        "template": "training/_home_panel.html",
        "expiring": list(expiring[:HOME_PANEL_ROWS]),
        "expiring_count": expiring.count(),
        "missing_count": sum(1 for rows in status.values() if any(not row["met"] for row in rows)),
        "horizon": EXPIRY_HORIZON_DAYS,
    }
