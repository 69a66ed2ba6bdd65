"""Reads of the partner registry: the lists and the partner 360 view, each in a fixed number of
queries however many rows there are."""

from collections import Counter

from django.db.models import Count, OuterRef, Prefetch, Q, Subquery
from django.db.models.functions import Coalesce

from prm.audit import history_for

from .choices import MAX_NETWORK_DEPTH, PartnerStatus
from .models import Partner, PartnerContact, PartnerTier, Region


def partner_list(*, user):
    """Partners the user may see, with what the list shows (tier, region, owner, parent) and the
    number of direct sub-partners, joined in one query."""
    children = (
        Partner.objects.filter(parent=OuterRef("pk")).order_by().values("parent").annotate(n=Count("pk")).values("n")
    )
    return (
        Partner.objects.visible_to(user)
        .select_related("tier", "region", "owner", "parent")
        .annotate(sub_partner_count=Coalesce(Subquery(children), 0))
    )


def partner_360(*, partner, user):
    """Everything the partner page shows: profile, upline, sub-network, contacts, history."""
    subtree = list(
        Partner.objects.visible_to(user)
        .subtree_of(partner, include_self=False)
        .select_related("tier", "region")
        .order_by("path")
    )
    by_parent = {}
    for node in subtree:
        by_parent.setdefault(node.parent_id, []).append(node)
    for node in [partner, *subtree]:
        node.sub_partners = by_parent.get(node.pk, [])
    return {
        "partner": partner,
        "ancestors": partner.ancestors(),
        "network": subtree,
        "network_by_status": Counter(node.get_status_display() for node in subtree),
        "contacts": list(partner.contacts.select_related("user")),
        "history": list(history_for(partner)[:20]),
        "max_depth": MAX_NETWORK_DEPTH,
    }


def region_tree(*, user):
    """Every region in tree order with its own partners and its partners including sub-regions,
    from two queries."""
    regions = list(Region.objects.visible_to(user).order_by("path"))
    direct = dict(
        Partner.objects.visible_to(user)
        .exclude(status=PartnerStatus.TERMINATED)
        .order_by()
        .values_list("region")
        .annotate(n=Count("pk"))
    )
    totals = Counter()
    for region in regions:
        for ancestor_id in [*region.ancestor_ids(), region.pk]:
            totals[ancestor_id] += direct.get(region.pk, 0)
    for region in regions:
        region.partner_count = direct.get(region.pk, 0)
        region.partner_total = totals[region.pk]
    return regions


def region_list(*, user):
    return Region.objects.visible_to(user).select_related("parent")


def tier_list(*, user):
    """Tiers with the number of partners (not terminated) in each."""
    return (
        PartnerTier.objects.visible_to(user)
        .annotate(partner_count=Count("partners", filter=~Q(partners__status=PartnerStatus.TERMINATED)))
        .order_by("rank")
    )


def contact_list(*, user):
    return PartnerContact.objects.visible_to(user).select_related("partner", "user")


def partner_with_contacts(*, user):
    return Partner.objects.visible_to(user).prefetch_related(
        Prefetch("contacts", queryset=PartnerContact.objects.order_by("-is_primary", "name"))
    )
