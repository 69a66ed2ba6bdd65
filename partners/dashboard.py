"""The partner panel of the staff home page: the network at a glance."""

from django.db.models import Count

from .choices import PartnerStatus
from .models import Partner


def partner_overview_panel(user):
    partners = Partner.objects.visible_to(user)
    by_status = dict(partners.order_by().values_list("status").annotate(n=Count("pk")))
    by_tier = list(
        partners.filter(status=PartnerStatus.ACTIVE)
        .order_by("-tier__rank")
        .values("tier__name")
        .annotate(n=Count("pk"))
    )
    by_type = list(
        partners.filter(status=PartnerStatus.ACTIVE)
        .order_by("partner_type")
        .values("partner_type")
        .annotate(n=Count("pk"))
    )
    labels = dict(PartnerStatus.choices)
    type_labels = dict(Partner._meta.get_field("partner_type").choices)
    mine = partners.filter(owner=user).exclude(status=PartnerStatus.TERMINATED).count()
    return {
        "template": "partners/_home_panel.html",
        "statuses": [(value, labels[value], by_status.get(value, 0)) for value in PartnerStatus.values],
        "total": sum(by_status.values()),
        "by_tier": by_tier,
        "by_type": [(type_labels.get(row["partner_type"]), row["n"]) for row in by_type],
        "mine": mine,
    }
