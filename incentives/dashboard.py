"""The incentives section of the staff partner 360° page and the incentives panel of the staff
home page, each read in a fixed number of queries."""

from django.db.models import Count, Q

from partners.access import partners_managed_by
from prm.roles import is_channel_admin, is_integration

from .access import can_decide_mdf, can_manage_incentives
from .choices import MdfStatus, StatementStatus
from .models import MdfBudget, MdfRequest, RebateStatement
from .selectors import with_usage

# Rows each list of the section and of the panel shows before linking to the whole list.
SECTION_STATEMENTS = 6
SECTION_BUDGETS = 4
SECTION_REQUESTS = 10
HOME_PANEL_ROWS = 5
OPEN_REQUESTS = (MdfStatus.SUBMITTED, MdfStatus.APPROVED, MdfStatus.CLAIMED)


def partner_incentives_section(user, partner):
    """The partner's recent rebate statements, its latest MDF budgets with their figures, and its
    open MDF requests (submitted, approved, claimed): three queries."""
    return {
        "template": "incentives/_partner_section.html",
        "partner": partner,
        "statements": list(
            RebateStatement.objects.visible_to(user)
            .filter(partner=partner)
            .order_by("-period_start", "-pk")[:SECTION_STATEMENTS]
        ),
        "budgets": list(
            with_usage(MdfBudget.objects.visible_to(user).filter(partner=partner)).order_by("-period_start", "-pk")[
                :SECTION_BUDGETS
            ]
        ),
        "requests": list(
            MdfRequest.objects.visible_to(user)
            .filter(partner=partner, status__in=OPEN_REQUESTS)
            .order_by("-created_at", "-pk")[:SECTION_REQUESTS]
        ),
        "can_set_budget": can_decide_mdf(user, partner),
    }


def _decided_by(user):
    """The MDF requests this user decides on (incentives.access.can_decide_mdf as a query), or
    None for someone who decides none."""
    requests = MdfRequest.objects.visible_to(user).select_related("partner")
    if is_channel_admin(user) or is_integration(user):
        return requests
    managed = partners_managed_by(user)
    if not managed.query.is_empty():
        return requests.filter(partner__in=managed)
    return None


def incentives_home_panel(user):
    """MDF requests waiting for the user's decision and claims to review (of the partners the
    user decides on), and rebate statements waiting for approval (for those who approve them):
    each a count and the first few, five queries at most. Hidden for who decides nothing."""
    requests = _decided_by(user)
    approves = can_manage_incentives(user)
    if requests is None and not approves:
        return None
    panel = {"template": "incentives/_home_panel.html", "decides": requests is not None, "approves": approves}
    if requests is not None:
        counts = requests.aggregate(
            submitted=Count("pk", filter=Q(status=MdfStatus.SUBMITTED)),
            claimed=Count("pk", filter=Q(status=MdfStatus.CLAIMED)),
        )
        panel.update(
            submitted_count=counts["submitted"],
            claimed_count=counts["claimed"],
            submitted=list(requests.filter(status=MdfStatus.SUBMITTED).order_by("submitted_at", "pk")[:HOME_PANEL_ROWS])
            if counts["submitted"]
            else [],
            claimed=list(requests.filter(status=MdfStatus.CLAIMED).order_by("claimed_at", "pk")[:HOME_PANEL_ROWS])
            if counts["claimed"]
            else [],
        )
    if approves:
        statements = (
            RebateStatement.objects.visible_to(user)
            .filter(status=StatementStatus.CALCULATED)
            .select_related("partner")
            .order_by("period_start", "partner__code", "pk")
        )
        panel["statements"] = list(statements[:HOME_PANEL_ROWS])
        panel["statements_count"] = (
            len(panel["statements"]) if len(panel["statements"]) < HOME_PANEL_ROWS else statements.count()
        )
    return panel
