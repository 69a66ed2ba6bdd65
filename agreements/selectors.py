"""Reads of agreements: the lists, the detail page, the partner 360° section and the agreements
about to expire, each in a fixed number of queries however many rows there are. Every read
starts from `visible_to(user)`.

Attainment of targets is not here: it comes with the performance work (KPI snapshots), and a
page shows no figure until then rather than a made-up one.
"""

from django.db.models import Count, Prefetch, Q
from django.utils import timezone

from prm.audit import history_for

from .choices import AgreementStatus, ExpiryWindow
from .models import Agreement, AgreementDocument, AgreementTarget, AgreementTerritory, MinimumPrice
from .services import agreement_allowed_actions


def agreement_list(user):
    """Agreements the user may see, with what a list shows (partner, its region, owner, product
    lines, territories with their regions, the number of exclusive territories)."""
    return (
        Agreement.objects.visible_to(user)
        .select_related("partner", "partner__region", "owner")
        .prefetch_related(
            "product_lines",
            Prefetch("territories", queryset=AgreementTerritory.objects.select_related("region")),
        )
        .annotate(exclusive_count=Count("territories", filter=Q(territories__exclusive=True), distinct=True))
    )


def agreement_detail(agreement, user):
    """Everything the agreement page shows: the agreement, its product lines, territories,
    minimum prices, targets (no attainment yet), documents (a partner's user sees the shared
    ones only), history, predecessor and successors, expiry reminders sent, and the actions the
    user may take now."""
    agreement = (
        Agreement.objects.visible_to(user)
        .select_related(
            "partner",
            "partner__region",
            "partner__owner",
            "owner",
            "predecessor",
            "approved_by",
            "acknowledged_by",
            "created_by",
        )
        .prefetch_related(Prefetch("successors", queryset=Agreement.objects.order_by("start_date", "pk")))
        .get(pk=agreement.pk)
    )
    documents = agreement.documents.select_related("uploaded_by")
    if not user.is_staff:
        documents = documents.filter(visible_to_partner=True)
    return {
        "agreement": agreement,
        "product_lines": list(agreement.product_lines.order_by("name")),
        "territories": list(agreement.territories.select_related("region").order_by("region__path")),
        "minimum_prices": list(
            MinimumPrice.objects.filter(agreement=agreement)
            .select_related("product_line")
            .order_by("product_line__name")
        ),
        "targets": list(
            AgreementTarget.objects.filter(agreement=agreement)
            .select_related("product_line", "region_target", "region_target__region")
            .order_by("period_start", "period_end", "product_line__name")
        ),
        "documents": list(documents),
        "history": list(history_for(agreement)[:50]),
        "predecessor": agreement.predecessor,
        "successors": list(agreement.successors.all()),
        "expiry_notices": list(agreement.expiry_notices.order_by("window_days")),
        "allowed_actions": agreement_allowed_actions(agreement, user),
    }


def partner_agreements(partner, user):
    """The partner's agreements for its 360° page, newest first, with their product lines and
    territories: three queries."""
    return list(
        Agreement.objects.visible_to(user)
        .filter(partner=partner)
        .select_related("owner")
        .prefetch_related(
            "product_lines",
            Prefetch("territories", queryset=AgreementTerritory.objects.select_related("region")),
        )
        .order_by("-start_date", "-pk")
    )


LONGEST_WINDOW = max(ExpiryWindow.values)


def expiring(user, days=LONGEST_WINDOW):
    """Active agreements the user may see that end within `days` (today included), soonest first."""
    return (
        Agreement.objects.visible_to(user)
        .expiring_within(days, today=timezone.localdate())
        .select_related("partner", "owner")
        .order_by("end_date", "pk")
    )


def agreement_documents(agreement, user):
    """The agreement's documents the user may see (a partner's user: the shared ones)."""
    documents = AgreementDocument.objects.visible_to(user).filter(agreement=agreement)
    return documents if user.is_staff else documents.filter(visible_to_partner=True)


def pending_approval(user):
    """Agreements waiting for approval, oldest submission first: the approval queue."""
    return (
        Agreement.objects.visible_to(user)
        .filter(status=AgreementStatus.PENDING_APPROVAL)
        .select_related("partner", "owner")
        .order_by("submitted_at", "pk")
    )
