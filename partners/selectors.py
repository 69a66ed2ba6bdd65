"""Reads of the partner registry: the lists and the partner 360 view, each in a fixed number of
queries however many rows there are."""

from collections import Counter

from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, Subquery
from django.db.models.functions import Coalesce

from prm.audit import history_for
from prm.roles import Role
from prm.tenancy import partner_of

from .choices import MAX_NETWORK_DEPTH, PartnerStatus
from .models import ApiKey, ManagerRegion, Partner, PartnerContact, PartnerTier, Region


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


def manager_region_list():
    """Every channel manager's region assignments with the manager and the region, in one query.
    Vendor staff only: partners never see who manages what."""
    return ManagerRegion.objects.select_related("manager", "region")


def partner_with_contacts(*, user):
    return Partner.objects.visible_to(user).prefetch_related(
        Prefetch("contacts", queryset=PartnerContact.objects.order_by("-is_primary", "name"))
    )


# Portal ---------------------------------------------------------------------------------------

# Sub-partners the portal's dashboard lists before linking to the whole network.
PORTAL_DASHBOARD_SUB_PARTNERS = 10


def portal_partner(*, user):
    """The signed-in partner user's own partner with its tier and region, in one query."""
    own = partner_of(user)
    return Partner.objects.visible_to(user).select_related("tier", "region").get(pk=own.pk if own else None)


def portal_sub_partners(*, user, partner):
    """The partners below `partner` in the network (its sub-partners and theirs), in tree order,
    with tier, region and parent, in one query. A partner that is not a distributor has none."""
    return (
        Partner.objects.visible_to(user, sub_partners=True)
        .subtree_of(partner, include_self=False)
        .select_related("tier", "region", "parent")
        .order_by("path")
    )


def portal_dashboard(*, user):
    """What the portal's dashboard shows: the partner's profile, tier and requirements, its
    contacts and the top of its network, in a fixed number of queries."""
    partner = portal_partner(user=user)
    sub_partners = portal_sub_partners(user=user, partner=partner)
    return {
        "partner": partner,
        "contacts": list(
            PartnerContact.objects.visible_to(user).filter(partner=partner).order_by("-is_primary", "name")
        ),
        "sub_partners": list(sub_partners[:PORTAL_DASHBOARD_SUB_PARTNERS]),
        "sub_partner_count": sub_partners.count(),
    }


def portal_users(*, user):
    """The own partner's contacts that have a portal login, with the login (its state) and whether
    it has the partner admin role, in one query."""
    admin_role = get_user_model().groups.through.objects.filter(
        user_id=OuterRef("user_id"), group__name=Role.PARTNER_ADMIN
    )
    return (
        PartnerContact.objects.visible_to(user)
        .filter(user__isnull=False)
        .select_related("user")
        .annotate(has_admin_role=Exists(admin_role))
        .order_by("name", "pk")
    )


# API keys -----------------------------------------------------------------------------------


def api_key_list():
    """Every API key with its partner and the people who created and revoked it, in one query.
    Only channel admins see this list (partners.access.can_manage_api_keys)."""
    return ApiKey.objects.select_related("partner", "created_by", "revoked_by")


def partner_admin_users(partner):
    """The active portal users of the partner who hold the partner admin role (who get its
    notifications), in one query."""
    return [
        contact.user
        for contact in PartnerContact.objects.filter(
            partner=partner, user__is_active=True, user__groups__name=Role.PARTNER_ADMIN
        ).select_related("user")
    ]
