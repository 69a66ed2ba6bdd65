"""Registries built for the API and page tests: a small named one to read, a large one to count
queries, and a snapshot of every table to prove a refused write changed nothing."""

from partners.choices import PartnerStatus, PartnerType, RegionKind
from partners.models import Partner, PartnerContact, PartnerTier, Region
from partners.services import partner_update
from prm.models import AuditEntry
from tests.factories import (
    DistributorFactory,
    PartnerContactFactory,
    PartnerFactory,
    PartnerTierFactory,
    RegionFactory,
    StaffFactory,
    UserFactory,
)


def build_world(manager):
    """China → North (Beijing) / South (Guangdong); tiers Gold (rank 3) and Silver (rank 2); the
    network D-BJ (distributor) → S-BJ (sub-distributor) → R-BJ (reseller), and R-GD on its own.
    `manager` owns D-BJ and S-BJ; "other-manager" owns R-BJ."""
    china = RegionFactory(code="CN", name="China", kind=RegionKind.COUNTRY)
    north = RegionFactory(code="NORTH", name="North", kind=RegionKind.AREA, parent=china)
    beijing = RegionFactory(code="BJ", name="Beijing", kind=RegionKind.PROVINCE, parent=north)
    south = RegionFactory(code="SOUTH", name="South", kind=RegionKind.AREA, parent=china)
    guangdong = RegionFactory(code="GD", name="Guangdong", kind=RegionKind.PROVINCE, parent=south)
    gold = PartnerTierFactory(name="Gold", rank=3)
    silver = PartnerTierFactory(name="Silver", rank=2)
    other_manager = StaffFactory(username="other-manager", display_name="Zhou Qiang")
    d_bj = DistributorFactory(
        code="D-BJ",
        name="Beijing Huaxin Distribution",
        legal_name="北京华信分销有限公司",
        region=north,
        tier=gold,
        owner=manager,
        external_id="CRM-1",
        email="info@huaxin.example.cn",
    )
    s_bj = DistributorFactory(
        code="S-BJ", name="Beijing Tianyu Sub-distribution", region=beijing, tier=silver, parent=d_bj, owner=manager
    )
    r_bj = PartnerFactory(
        code="R-BJ", name="Beijing Zhongke Reseller", region=beijing, parent=s_bj, owner=other_manager
    )
    r_gd = PartnerFactory(
        code="R-GD",
        name="Guangdong Jinpeng Reseller",
        region=guangdong,
        tier=silver,
        status=PartnerStatus.PROSPECT,
        partner_type=PartnerType.RETAILER,
        email="sales@jinpeng.example.cn",
        external_id="CRM-2",
    )
    return {
        "china": china,
        "north": north,
        "beijing": beijing,
        "south": south,
        "guangdong": guangdong,
        "gold": gold,
        "silver": silver,
        "manager": manager,
        "other_manager": other_manager,
        "d_bj": d_bj,
        "s_bj": s_bj,
        "r_bj": r_bj,
        "r_gd": r_gd,
    }


def build_registry(size):
    """`size` of everything a list shows, each row with its own related objects so that one
    query per row would show: `size` regions (under a root), tiers and channel managers; under
    one top distributor `size` sub-distributors, each with a reseller below it; two contacts
    per sub-distributor (half with a portal login); `size` history entries on the top one.
    Returns the top distributor."""
    root = RegionFactory(code="ROOT", kind=RegionKind.COUNTRY)
    top = DistributorFactory(code="TOP", region=root, tier=PartnerTierFactory(), owner=StaffFactory())
    for n in range(size):
        region = RegionFactory(parent=root)
        tier = PartnerTierFactory()
        owner = StaffFactory()
        sub = DistributorFactory(parent=top, region=region, tier=tier, owner=owner)
        PartnerFactory(parent=sub, region=region, tier=tier, owner=owner)
        PartnerContactFactory(partner=sub, user=UserFactory())
        PartnerContactFactory(partner=top, user=UserFactory() if n % 2 else None)
        partner_update(partner=top, notes=f"Reviewed {n}", by=owner)
    return top


SIGN_IN_ACTIONS = [
    AuditEntry.Action.LOGIN,
    AuditEntry.Action.LOGOUT,
    AuditEntry.Action.LOGIN_FAILED,
    AuditEntry.Action.LOCKED_OUT,
]


def db_snapshot():
    """Every table an API call or a staff page could write."""
    return {
        "regions": list(Region.objects.order_by("pk").values()),
        "tiers": list(PartnerTier.objects.order_by("pk").values()),
        "partners": list(Partner.objects.order_by("pk").values()),
        "contacts": list(PartnerContact.objects.order_by("pk").values()),
        # Signing in is recorded too (the security log); only changes to data count here.
        "history": AuditEntry.objects.exclude(action__in=SIGN_IN_ACTIONS).count(),
    }
