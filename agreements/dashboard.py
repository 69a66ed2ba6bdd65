"""The agreements section of the staff partner 360° page and the agreements panel of the staff
home page, each read in a fixed number of queries."""

from django.conf import settings
from django.db.models import Q

from partners.access import can_manage_partner
from prm.roles import can_write_as_staff, is_channel_admin, is_channel_manager, is_integration

from . import selectors
from .choices import AgreementStatus, ExpiryWindow

# Agreements each list of the home panel shows before linking to the whole list.
HOME_PANEL_ROWS = 5
EXPIRY_HORIZON_DAYS = max(ExpiryWindow.values)


def partner_agreements_section(user, partner):
    """The partner's agreements, newest first, with their territories (selectors.partner_agreements:
    three queries)."""
    agreements = selectors.partner_agreements(partner, user)
    for agreement in agreements:
        agreement.exclusive_regions = [t.region for t in agreement.territories.all() if t.exclusive]
    return {
        "template": "agreements/_partner_section.html",
        "agreements": agreements,
        "can_create": can_write_as_staff(user) and can_manage_partner(user, partner),
        "partner": partner,
    }


def agreements_home_panel(user):
    """Agreements waiting for approval (for those who approve) and active agreements ending
    within 90 days: each a count and the first few, four queries at most."""
    pending = _approvable_by(user, selectors.pending_approval(user))
    expiring = selectors.expiring(user, EXPIRY_HORIZON_DAYS)
    return {
        "template": "agreements/_home_panel.html",
        "approver": pending is not None,
        "pending": list(pending[:HOME_PANEL_ROWS]) if pending is not None else [],
        "pending_count": pending.count() if pending is not None else 0,
        "expiring": list(expiring[:HOME_PANEL_ROWS]),
        "expiring_count": expiring.count(),
        "horizon": EXPIRY_HORIZON_DAYS,
        "pending_status": AgreementStatus.PENDING_APPROVAL,
    }


def _approvable_by(user, agreements):
    """The agreements among `agreements` this user approves (agreements.access.can_approve_agreement
    as a query), or None for someone who approves none."""
    if is_channel_admin(user) or is_integration(user):
        return agreements
    if settings.PRM_AGREEMENT_OWNER_MAY_APPROVE and is_channel_manager(user):
        return agreements.filter(Q(owner=user) | Q(owner__isnull=True, partner__owner=user))
    return None
