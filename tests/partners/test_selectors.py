"""Reads of the partner registry: right numbers, and a fixed number of queries at any size."""

import pytest

from partners import selectors, services
from partners.choices import PartnerStatus
from partners.models import Partner, Region
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

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff():
    return StaffFactory()


@pytest.fixture
def regions():
    """country → area → province → city, plus a second area."""
    country = RegionFactory(code="CN")
    east = RegionFactory(code="EAST", parent=country)
    shanghai = RegionFactory(code="SH", parent=east)
    pudong = RegionFactory(code="SH-PD", parent=shanghai)
    south = RegionFactory(code="SOUTH", parent=country)
    return {"CN": country, "EAST": east, "SH": shanghai, "SH-PD": pudong, "SOUTH": south}


# partner_list ---------------------------------------------------------------------------------


def test_partner_list_counts_direct_sub_partners(staff):
    top = DistributorFactory(code="TOP")
    middle = DistributorFactory(code="MID", parent=top)
    PartnerFactory(parent=top)
    PartnerFactory(parent=top, status=PartnerStatus.TERMINATED)
    PartnerFactory(parent=middle)
    PartnerFactory(code="ALONE")

    counts = dict(selectors.partner_list(user=staff).values_list("code", "sub_partner_count"))

    assert counts["TOP"] == 3  # direct children only: the grandchild counts for MID
    assert counts["MID"] == 1
    assert counts["ALONE"] == 0
    assert len(counts) == 6


def test_partner_list_shows_a_partner_user_only_their_own_partner(staff):
    mine, other = DistributorFactory(code="MINE"), DistributorFactory(code="OTHER")
    PartnerFactory(parent=mine)
    user = UserFactory()
    PartnerContactFactory(partner=mine, user=user)

    rows = list(selectors.partner_list(user=user))

    assert [(p.code, p.sub_partner_count) for p in rows] == [("MINE", 1)]
    assert other.code in {p.code for p in selectors.partner_list(user=staff)}


def _partners_in_network(count):
    """`count` partners in a network, with regions, tiers and channel managers to show."""
    tiers, owners = PartnerTierFactory.create_batch(2), StaffFactory.create_batch(2)
    top = DistributorFactory(tier=tiers[0], owner=owners[0])
    for index in range(count - 1):
        PartnerFactory(parent=top, tier=tiers[index % 2], owner=owners[index % 2])


@pytest.mark.parametrize("rows", [3, 40])
def test_partner_list_iteration_is_one_query_at_any_size(staff, django_assert_max_num_queries, rows):
    _partners_in_network(rows)

    with django_assert_max_num_queries(1):
        shown = [
            (p.tier.name, p.region.name, p.owner.username, p.parent and p.parent.name, p.sub_partner_count)
            for p in selectors.partner_list(user=staff)
        ]

    assert len(shown) == rows


# regions --------------------------------------------------------------------------------------


def test_in_region_includes_every_sub_region_and_nothing_else(regions):
    in_shanghai = PartnerFactory(region=regions["SH"])
    in_pudong = PartnerFactory(region=regions["SH-PD"])
    in_east = PartnerFactory(region=regions["EAST"])
    in_south = PartnerFactory(region=regions["SOUTH"])

    def codes(region):
        return set(Partner.objects.in_region(region).values_list("pk", flat=True))

    assert codes(regions["SH"]) == {in_shanghai.pk, in_pudong.pk}
    assert codes(regions["EAST"]) == {in_shanghai.pk, in_pudong.pk, in_east.pk}
    assert codes(regions["SOUTH"]) == {in_south.pk}
    assert codes(regions["CN"]) == {in_shanghai.pk, in_pudong.pk, in_east.pk, in_south.pk}


def test_in_region_does_not_confuse_regions_whose_ids_share_a_prefix():
    region = RegionFactory(id=7001)
    lookalike = RegionFactory(id=70011)
    inside = PartnerFactory(region=region)
    PartnerFactory(region=lookalike)

    assert list(Partner.objects.in_region(region)) == [inside]


def test_in_region_follows_a_region_that_moved(regions):
    partner = PartnerFactory(region=regions["SH-PD"])

    services.region_update(region=regions["SH"], parent=regions["SOUTH"])

    assert list(Partner.objects.in_region(regions["SOUTH"])) == [partner]
    assert not Partner.objects.in_region(regions["EAST"]).exists()


def test_region_tree_counts_own_and_including_sub_regions_without_terminated(staff, regions):
    PartnerFactory(region=regions["SH"])
    PartnerFactory(region=regions["SH"], status=PartnerStatus.SUSPENDED)
    PartnerFactory(region=regions["SH"], status=PartnerStatus.TERMINATED)
    PartnerFactory(region=regions["SH-PD"])
    PartnerFactory(region=regions["SH-PD"], status=PartnerStatus.PROSPECT)
    PartnerFactory(region=regions["EAST"])
    PartnerFactory(region=regions["SOUTH"], status=PartnerStatus.TERMINATED)

    tree = {r.code: (r.partner_count, r.partner_total) for r in selectors.region_tree(user=staff)}

    assert tree == {
        "CN": (0, 5),
        "EAST": (1, 5),
        "SH": (2, 4),
        "SH-PD": (2, 2),
        "SOUTH": (0, 0),
    }


def test_region_tree_is_in_tree_order(staff, regions):
    codes = [r.code for r in selectors.region_tree(user=staff)]

    assert codes.index("CN") < codes.index("EAST") < codes.index("SH") < codes.index("SH-PD")
    assert codes.index("SH-PD") < codes.index("SOUTH")


def _regions_with_partners(count):
    """`count` regions under one root, each with a partner; returns the root."""
    root = RegionFactory()
    parent = root
    for index in range(count - 1):
        region = RegionFactory(parent=parent if index % 3 else root)
        PartnerFactory(region=region)
        parent = region
    return root


@pytest.mark.parametrize("rows", [3, 40])
def test_region_subtree_queries_are_one_query_each_at_any_size(django_assert_max_num_queries, rows):
    root = _regions_with_partners(rows)

    with django_assert_max_num_queries(2):
        subtree = list(Region.objects.subtree_of(root))
        partners = list(Partner.objects.in_region(root))

    assert len(subtree) == rows
    assert len(partners) == rows - 1


@pytest.mark.parametrize("rows", [3, 40])
def test_region_tree_is_two_queries_at_any_size(staff, django_assert_max_num_queries, rows):
    root = _regions_with_partners(rows)

    with django_assert_max_num_queries(2):
        tree = selectors.region_tree(user=staff)
        totals = {r.pk: r.partner_total for r in tree}

    assert len(tree) == rows
    assert totals[root.pk] == rows - 1


# partner_360 ----------------------------------------------------------------------------------


def test_partner_360_shows_upline_sub_network_contacts_and_history(staff):
    top = DistributorFactory(code="TOP")
    partner = DistributorFactory(code="MID", parent=top)
    sub_a = DistributorFactory(code="SUB-A", parent=partner)
    sub_b = PartnerFactory(code="SUB-B", parent=partner, status=PartnerStatus.SUSPENDED)
    leaf = PartnerFactory(code="LEAF", parent=sub_a)
    DistributorFactory(code="ELSEWHERE", parent=top)
    boss = PartnerContactFactory(partner=partner, name="Boss", is_primary=True)
    helper = PartnerContactFactory(partner=partner, name="Helper")
    services.partner_update(partner=partner, by=staff, name="Renamed")

    view = selectors.partner_360(partner=partner, user=staff)

    assert view["partner"] == partner
    assert view["ancestors"] == [top]
    assert {p.code for p in view["network"]} == {"SUB-A", "SUB-B", "LEAF"}
    assert set(partner.sub_partners) == {sub_a, sub_b}
    by_code = {p.code: p for p in view["network"]}
    assert by_code["SUB-A"].sub_partners == [leaf]
    assert by_code["SUB-B"].sub_partners == []
    assert by_code["LEAF"].sub_partners == []
    assert view["network_by_status"] == {"Active": 2, "Suspended": 1}
    assert view["contacts"] == [boss, helper]
    assert [(e.action, e.actor) for e in view["history"]] == [(AuditEntry.Action.UPDATE, staff)]


def test_partner_360_of_a_top_level_partner_has_no_upline():
    staff = StaffFactory()
    top = DistributorFactory()

    view = selectors.partner_360(partner=top, user=staff)

    assert view["ancestors"] == []
    assert view["network"] == []
    assert top.sub_partners == []
