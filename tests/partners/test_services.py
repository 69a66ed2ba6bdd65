"""Every rule of the partner registry's services, and proof that refused input changes nothing."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from partners import services
from partners.choices import PARTNER_STATUS_TRANSITIONS, PartnerStatus, PartnerType, RegionKind
from partners.models import Partner, PartnerContact, PartnerTier, Region
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

LEGAL_TRANSITIONS = [(current, new) for current, targets in PARTNER_STATUS_TRANSITIONS.items() for new in targets]
ILLEGAL_TRANSITIONS = [
    (current, new)
    for current in PartnerStatus
    for new in PartnerStatus
    if new not in PARTNER_STATUS_TRANSITIONS[current]
]


def errors_of(excinfo):
    return excinfo.value.message_dict


def history(instance, action=None):
    entries = AuditEntry.objects.filter(object_type=instance._meta.label_lower, object_id=str(instance.pk))
    return entries.filter(action=action) if action else entries


def db_state(partner):
    """What the database holds for a partner, to compare before and after a refused change."""
    return Partner.objects.filter(pk=partner.pk).values().get()


def network(depth):
    """A chain of distributors `depth` levels deep: [level 1, level 2, ...]."""
    nodes = [DistributorFactory()]
    for _ in range(depth - 1):
        nodes.append(DistributorFactory(parent=nodes[-1]))
    return nodes


@pytest.fixture
def region():
    return RegionFactory()


@pytest.fixture
def manager():
    return StaffFactory()


def create_partner(region, **data):
    data.setdefault("code", "NEW-1")
    data.setdefault("name", "New Partner Co., Ltd.")
    data.setdefault("partner_type", PartnerType.RESELLER)
    return services.partner_create(region=region, **data)


# partner_create -------------------------------------------------------------------------------


class TestPartnerCreate:
    def test_creates_a_prospect_with_upper_case_code_and_records_who_did_it(self, region, manager):
        partner = create_partner(region, code="  sh-acme_1 ", by=manager)

        partner.refresh_from_db()
        assert partner.code == "SH-ACME_1"
        assert partner.status == PartnerStatus.PROSPECT
        assert partner.status_changed_at is not None
        assert partner.parent is None
        assert (partner.depth, partner.path) == (1, f"/{partner.pk}/")
        entry = history(partner).get()
        assert entry.action == AuditEntry.Action.CREATE
        assert entry.actor == manager

    def test_duplicate_code_is_refused_on_code_even_in_another_case(self, region):
        PartnerFactory(code="ACME")

        with pytest.raises(ValidationError) as excinfo:
            create_partner(region, code="acme")

        assert "code" in errors_of(excinfo)
        assert Partner.objects.count() == 1
        assert not AuditEntry.objects.exists()

    def test_duplicate_external_id_is_refused_on_external_id(self, region):
        PartnerFactory(external_id="CRM-42")

        with pytest.raises(ValidationError) as excinfo:
            create_partner(region, external_id=" CRM-42 ")

        assert list(errors_of(excinfo)) == ["external_id"]
        assert Partner.objects.count() == 1

    def test_two_partners_without_external_id_are_allowed(self, region):
        first = create_partner(region, code="A1", external_id="")
        second = create_partner(region, code="A2")

        assert first.external_id == second.external_id == ""
        assert Partner.objects.count() == 2

    @pytest.mark.parametrize("status", [PartnerStatus.PROSPECT, PartnerStatus.ONBOARDING, PartnerStatus.ACTIVE])
    def test_may_start_as_prospect_onboarding_or_active(self, region, status):
        partner = create_partner(region, status=status)

        assert Partner.objects.get(pk=partner.pk).status == status

    @pytest.mark.parametrize("status", [PartnerStatus.SUSPENDED, PartnerStatus.TERMINATED, "bogus"])
    def test_may_not_start_suspended_terminated_or_unknown(self, region, status):
        with pytest.raises(ValidationError) as excinfo:
            create_partner(region, status=status)

        assert list(errors_of(excinfo)) == ["status"]
        assert not Partner.objects.exists()
        assert not AuditEntry.objects.exists()

    def test_status_and_path_cannot_be_smuggled_in_as_fields(self, region):
        with pytest.raises(ValidationError) as excinfo:
            create_partner(region, path="/1/", status_changed_at=None)

        assert set(errors_of(excinfo)) == {"path", "status_changed_at"}
        assert not Partner.objects.exists()

    def test_missing_name_and_invalid_email_are_field_errors(self, region):
        with pytest.raises(ValidationError) as excinfo:
            create_partner(region, name="", email="not-an-email")

        assert {"name", "email"} <= set(errors_of(excinfo))
        assert not Partner.objects.exists()

    def test_creates_under_a_distributor_one_level_down(self, region):
        distributor = DistributorFactory()

        partner = create_partner(region, parent=distributor)

        partner.refresh_from_db()
        assert partner.parent == distributor
        assert partner.depth == 2
        assert partner.path == f"{distributor.path}{partner.pk}/"

    def test_parent_that_is_not_a_distributor_is_refused(self, region):
        reseller = PartnerFactory(partner_type=PartnerType.RESELLER)

        with pytest.raises(ValidationError) as excinfo:
            create_partner(region, parent=reseller)

        assert list(errors_of(excinfo)) == ["parent"]
        assert Partner.objects.count() == 1

    def test_terminated_parent_is_refused(self, region):
        distributor = DistributorFactory(status=PartnerStatus.TERMINATED)

        with pytest.raises(ValidationError) as excinfo:
            create_partner(region, parent=distributor)

        assert list(errors_of(excinfo)) == ["parent"]
        assert Partner.objects.count() == 1

    def test_a_fourth_network_level_is_refused(self, region):
        *_, level3 = network(3)

        with pytest.raises(ValidationError) as excinfo:
            create_partner(region, parent=level3)

        assert list(errors_of(excinfo)) == ["parent"]
        assert Partner.objects.count() == 3


# partner_change_status ------------------------------------------------------------------------


class TestPartnerChangeStatus:
    @pytest.mark.parametrize(("current", "new"), LEGAL_TRANSITIONS)
    def test_every_legal_transition_is_made_and_recorded(self, manager, current, new):
        partner = PartnerFactory(status=current, status_changed_at=None)

        returned = services.partner_change_status(partner=partner, status=new, by=manager, reason="Quarterly review")

        partner.refresh_from_db()
        assert partner.status == returned.status == new
        assert partner.status_changed_at is not None
        entry = history(partner, AuditEntry.Action.STATUS).get()
        assert entry.actor == manager
        assert entry.changes == {"status": [current, new], "reason": [None, "Quarterly review"]}

    def test_the_whole_lifecycle_can_be_walked(self):
        partner = PartnerFactory(status=PartnerStatus.PROSPECT)
        path = [
            PartnerStatus.ONBOARDING,
            PartnerStatus.ACTIVE,
            PartnerStatus.SUSPENDED,
            PartnerStatus.ACTIVE,
            PartnerStatus.SUSPENDED,
            PartnerStatus.TERMINATED,
        ]

        for status in path:
            services.partner_change_status(partner=partner, status=status)

        assert Partner.objects.get(pk=partner.pk).status == PartnerStatus.TERMINATED
        recorded = [entry.changes["status"][1] for entry in history(partner).order_by("id")]
        assert recorded == path

    @pytest.mark.parametrize(("current", "new"), ILLEGAL_TRANSITIONS)
    def test_every_illegal_transition_is_refused_and_changes_nothing(self, current, new):
        partner = PartnerFactory(status=current)
        before = db_state(partner)

        with pytest.raises(ValidationError) as excinfo:
            services.partner_change_status(partner=partner, status=new)

        assert list(errors_of(excinfo)) == ["status"]
        assert db_state(partner) == before
        assert not AuditEntry.objects.exists()

    def test_an_unknown_status_is_refused(self):
        partner = PartnerFactory(status=PartnerStatus.ACTIVE)
        before = db_state(partner)

        with pytest.raises(ValidationError) as excinfo:
            services.partner_change_status(partner=partner, status="closed")

        assert list(errors_of(excinfo)) == ["status"]
        assert db_state(partner) == before

    def test_a_stale_instance_cannot_skip_the_state_machine(self):
        partner = PartnerFactory(status=PartnerStatus.SUSPENDED)
        stale = Partner.objects.get(pk=partner.pk)
        services.partner_change_status(partner=partner, status=PartnerStatus.TERMINATED)

        # The stale copy still says "suspended", but the database says terminated: refused.
        with pytest.raises(ValidationError) as excinfo:
            services.partner_change_status(partner=stale, status=PartnerStatus.ACTIVE)

        assert list(errors_of(excinfo)) == ["status"]
        assert Partner.objects.get(pk=partner.pk).status == PartnerStatus.TERMINATED

    def test_terminating_a_distributor_with_open_sub_partners_is_refused(self):
        distributor = DistributorFactory(status=PartnerStatus.SUSPENDED)
        PartnerFactory(parent=distributor, code="OPEN-1", status=PartnerStatus.ACTIVE)
        PartnerFactory(parent=distributor, status=PartnerStatus.TERMINATED)
        before = db_state(distributor)

        with pytest.raises(ValidationError) as excinfo:
            services.partner_change_status(partner=distributor, status=PartnerStatus.TERMINATED)

        assert list(errors_of(excinfo)) == ["status"]
        assert "OPEN-1" in errors_of(excinfo)["status"][0]
        assert db_state(distributor) == before
        assert not AuditEntry.objects.exists()

    def test_terminating_is_allowed_once_every_sub_partner_is_terminated(self):
        distributor = DistributorFactory(status=PartnerStatus.SUSPENDED)
        child = PartnerFactory(parent=distributor, status=PartnerStatus.SUSPENDED)
        services.partner_change_status(partner=child, status=PartnerStatus.TERMINATED)

        services.partner_change_status(partner=distributor, status=PartnerStatus.TERMINATED)

        assert Partner.objects.get(pk=distributor.pk).status == PartnerStatus.TERMINATED


# partner_move and the network parent rules ----------------------------------------------------


class TestPartnerMove:
    def test_moving_re_roots_the_whole_subtree(self, manager):
        old_top, new_top = DistributorFactory(), DistributorFactory()
        moved = DistributorFactory(parent=old_top)
        leaf = PartnerFactory(parent=moved)

        services.partner_move(partner=moved, parent=new_top, by=manager)

        moved.refresh_from_db()
        leaf.refresh_from_db()
        assert moved.parent == new_top
        assert (moved.path, moved.depth) == (f"/{new_top.pk}/{moved.pk}/", 2)
        assert (leaf.path, leaf.depth) == (f"/{new_top.pk}/{moved.pk}/{leaf.pk}/", 3)
        entry = history(moved, AuditEntry.Action.MOVE).get()
        assert entry.actor == manager
        assert entry.changes == {"parent": [str(old_top), str(new_top)]}

    def test_moving_to_the_top_makes_the_subtree_shallower(self):
        top = DistributorFactory()
        moved = DistributorFactory(parent=top)
        leaf = PartnerFactory(parent=moved)

        services.partner_move(partner=moved, parent=None)

        moved.refresh_from_db()
        leaf.refresh_from_db()
        assert (moved.parent, moved.path, moved.depth) == (None, f"/{moved.pk}/", 1)
        assert (leaf.path, leaf.depth) == (f"/{moved.pk}/{leaf.pk}/", 2)

    def test_moving_to_the_same_parent_records_nothing(self):
        top = DistributorFactory()
        child = PartnerFactory(parent=top)

        services.partner_move(partner=child, parent=top)

        assert not AuditEntry.objects.exists()

    @pytest.mark.parametrize("target", ["self", "child", "grandchild"])
    def test_moving_a_partner_into_its_own_subtree_is_refused(self, target):
        top, child, grandchild = network(3)
        parent = {"self": top, "child": child, "grandchild": grandchild}[target]
        before = {p.pk: db_state(p) for p in (top, child, grandchild)}

        with pytest.raises(ValidationError) as excinfo:
            services.partner_move(partner=top, parent=parent)

        assert list(errors_of(excinfo)) == ["parent"]
        assert "cycle" in errors_of(excinfo)["parent"][0]
        assert {p.pk: db_state(p) for p in (top, child, grandchild)} == before
        assert not AuditEntry.objects.exists()

    def test_moving_a_leaf_below_level_three_is_refused(self):
        *_, level3 = network(3)
        leaf = PartnerFactory()
        before = db_state(leaf)

        with pytest.raises(ValidationError) as excinfo:
            services.partner_move(partner=leaf, parent=level3)

        assert list(errors_of(excinfo)) == ["parent"]
        assert db_state(leaf) == before

    def test_moving_a_partner_with_children_under_a_level_two_partner_is_refused(self):
        _, level2 = network(2)
        moved = DistributorFactory()
        child = PartnerFactory(parent=moved)
        before = [db_state(moved), db_state(child)]

        with pytest.raises(ValidationError) as excinfo:
            services.partner_move(partner=moved, parent=level2)

        assert list(errors_of(excinfo)) == ["parent"]
        assert [db_state(moved), db_state(child)] == before

    def test_moving_a_partner_with_children_under_a_level_one_partner_fills_three_levels(self):
        top = DistributorFactory()
        moved = DistributorFactory()
        child = PartnerFactory(parent=moved)

        services.partner_move(partner=moved, parent=top)

        child.refresh_from_db()
        assert child.depth == 3

    @pytest.mark.parametrize("partner_type", [t for t in PartnerType if t != PartnerType.DISTRIBUTOR])
    def test_parent_must_be_a_distributor(self, partner_type):
        parent = PartnerFactory(partner_type=partner_type)
        partner = PartnerFactory()
        before = db_state(partner)

        with pytest.raises(ValidationError) as excinfo:
            services.partner_move(partner=partner, parent=parent)

        assert list(errors_of(excinfo)) == ["parent"]
        assert db_state(partner) == before

    def test_terminated_parent_is_refused(self):
        parent = DistributorFactory(status=PartnerStatus.TERMINATED)
        partner = PartnerFactory()
        before = db_state(partner)

        with pytest.raises(ValidationError) as excinfo:
            services.partner_move(partner=partner, parent=parent)

        assert list(errors_of(excinfo)) == ["parent"]
        assert db_state(partner) == before

    def test_rules_read_the_database_not_a_stale_parent(self):
        parent = DistributorFactory()
        stale = Partner.objects.get(pk=parent.pk)
        Partner.objects.filter(pk=parent.pk).update(status=PartnerStatus.TERMINATED)
        partner = PartnerFactory()

        with pytest.raises(ValidationError):
            services.partner_move(partner=partner, parent=stale)

        assert Partner.objects.get(pk=partner.pk).parent_id is None


# partner_update -------------------------------------------------------------------------------


class TestPartnerUpdate:
    @pytest.mark.parametrize("field", ["status", "parent"])
    def test_status_and_parent_cannot_be_changed_here(self, field):
        distributor = DistributorFactory()
        partner = PartnerFactory(status=PartnerStatus.ACTIVE)
        before = db_state(partner)
        value = {"status": PartnerStatus.TERMINATED, "parent": distributor}[field]

        with pytest.raises(ValidationError) as excinfo:
            services.partner_update(partner=partner, name="Renamed", **{field: value})

        assert list(errors_of(excinfo)) == [field]
        assert db_state(partner) == before
        assert not AuditEntry.objects.exists()

    def test_records_a_diff_of_what_changed(self, manager):
        gold = PartnerTierFactory(name="Gold")
        partner = PartnerFactory(name="Old Name", tier=None, notes="same")

        services.partner_update(partner=partner, by=manager, name="New Name", tier=gold, notes="same")

        partner.refresh_from_db()
        assert (partner.name, partner.tier) == ("New Name", gold)
        entry = history(partner, AuditEntry.Action.UPDATE).get()
        assert entry.actor == manager
        assert entry.changes == {"name": ["Old Name", "New Name"], "tier": [None, "Gold"]}

    def test_an_update_that_changes_nothing_records_nothing(self):
        partner = PartnerFactory(name="Same")

        services.partner_update(partner=partner, name="Same")

        assert not AuditEntry.objects.exists()

    def test_code_is_normalised_and_must_stay_unique(self):
        PartnerFactory(code="TAKEN")
        partner = PartnerFactory(code="MINE")

        services.partner_update(partner=partner, code=" mine-2 ")
        assert Partner.objects.get(pk=partner.pk).code == "MINE-2"

        before = db_state(partner)
        with pytest.raises(ValidationError) as excinfo:
            services.partner_update(partner=partner, code="taken")
        assert list(errors_of(excinfo)) == ["code"]
        assert db_state(partner) == before

    def test_external_id_taken_by_another_partner_is_refused(self):
        PartnerFactory(external_id="CRM-1")
        partner = PartnerFactory(external_id="CRM-2")
        before = db_state(partner)

        with pytest.raises(ValidationError) as excinfo:
            services.partner_update(partner=partner, external_id="CRM-1")

        assert list(errors_of(excinfo)) == ["external_id"]
        assert db_state(partner) == before

    def test_keeping_its_own_external_id_is_fine(self):
        partner = PartnerFactory(external_id="CRM-2")

        services.partner_update(partner=partner, external_id="CRM-2", name="Renamed")

        assert Partner.objects.get(pk=partner.pk).name == "Renamed"

    def test_a_distributor_with_sub_partners_must_stay_a_distributor(self):
        distributor = DistributorFactory()
        PartnerFactory(parent=distributor)
        before = db_state(distributor)

        with pytest.raises(ValidationError) as excinfo:
            services.partner_update(partner=distributor, partner_type=PartnerType.RESELLER)

        assert list(errors_of(excinfo)) == ["partner_type"]
        assert db_state(distributor) == before
        assert not AuditEntry.objects.exists()

    def test_a_distributor_without_sub_partners_may_change_type(self):
        distributor = DistributorFactory()

        services.partner_update(partner=distributor, partner_type=PartnerType.AGENT)

        assert Partner.objects.get(pk=distributor.pk).partner_type == PartnerType.AGENT
        assert history(distributor).get().changes == {"partner_type": ["distributor", "agent"]}


# Regions --------------------------------------------------------------------------------------


class TestRegions:
    def test_region_create_normalises_code_and_places_it_in_the_tree(self, manager):
        country = services.region_create(code="cn", name=" China ", kind=RegionKind.COUNTRY, by=manager)
        area = services.region_create(code="east", name="East", kind=RegionKind.AREA, parent=country)

        area.refresh_from_db()
        assert (country.code, country.name, area.code) == ("CN", "China", "EAST")
        assert (area.path, area.depth) == (f"/{country.pk}/{area.pk}/", 2)
        assert history(country).get().actor == manager

    def test_region_create_refuses_a_duplicate_code(self):
        RegionFactory(code="CN")

        with pytest.raises(ValidationError) as excinfo:
            services.region_create(code="cn", name="China again", kind=RegionKind.COUNTRY)

        assert list(errors_of(excinfo)) == ["code"]
        assert Region.objects.count() == 1

    @pytest.mark.parametrize("name", ["", "   ", None])
    def test_region_create_refuses_a_missing_name(self, name):
        with pytest.raises(ValidationError) as excinfo:
            services.region_create(code="CN", name=name, kind=RegionKind.COUNTRY)

        assert list(errors_of(excinfo)) == ["name"]
        assert not Region.objects.exists()

    def test_region_create_refuses_an_unknown_kind_and_a_bad_code(self):
        with pytest.raises(ValidationError) as excinfo:
            services.region_create(code="no spaces!", name="Somewhere", kind="planet")

        assert set(errors_of(excinfo)) == {"code", "kind"}
        assert not Region.objects.exists()

    @pytest.mark.parametrize("target", ["self", "child", "grandchild"])
    def test_moving_a_region_into_its_own_subtree_is_refused(self, target):
        top = RegionFactory()
        child = RegionFactory(parent=top)
        grandchild = RegionFactory(parent=child)
        parent = {"self": top, "child": child, "grandchild": grandchild}[target]
        before = list(Region.objects.order_by("pk").values())

        with pytest.raises(ValidationError) as excinfo:
            services.region_update(region=top, parent=parent)

        assert list(errors_of(excinfo)) == ["parent"]
        assert list(Region.objects.order_by("pk").values()) == before
        assert not AuditEntry.objects.exists()

    def test_moving_a_region_re_roots_every_descendant(self, manager):
        north, east = RegionFactory(code="NORTH", name="North"), RegionFactory(code="EAST", name="East")
        province = RegionFactory(parent=north)
        city = RegionFactory(parent=province)
        district = RegionFactory(parent=city)

        services.region_update(region=province, parent=east, by=manager)

        rows = {r.pk: (r.path, r.depth) for r in Region.objects.all()}
        assert rows[province.pk] == (f"/{east.pk}/{province.pk}/", 2)
        assert rows[city.pk] == (f"/{east.pk}/{province.pk}/{city.pk}/", 3)
        assert rows[district.pk] == (f"/{east.pk}/{province.pk}/{city.pk}/{district.pk}/", 4)
        assert rows[north.pk] == (f"/{north.pk}/", 1)
        assert history(province, AuditEntry.Action.UPDATE).get().changes == {"parent": ["North", "East"]}

    @staticmethod
    def _updates_when_moving(descendants):
        old, new = RegionFactory(), RegionFactory()
        moved = RegionFactory(parent=old)
        for _ in range(descendants):
            RegionFactory(parent=moved)
        moved = Region.objects.get(pk=moved.pk)
        with CaptureQueriesContext(connection) as queries:
            services.region_update(region=moved, parent=new)
        assert Region.objects.filter(path__startswith=f"/{new.pk}/{moved.pk}/").count() == descendants + 1
        return [q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE")]

    def test_moving_a_region_re_roots_descendants_in_one_statement(self):
        few = self._updates_when_moving(1)
        many = self._updates_when_moving(25)

        assert len(many) == len(few)
        # The region's own row, its path, and one statement for all its descendants.
        assert len(many) <= 3

    def test_region_update_refuses_a_code_taken_by_another_region(self):
        RegionFactory(code="TAKEN")
        region = RegionFactory(code="MINE")

        with pytest.raises(ValidationError) as excinfo:
            services.region_update(region=region, code="taken")

        assert list(errors_of(excinfo)) == ["code"]
        assert Region.objects.get(pk=region.pk).code == "MINE"

    def test_region_update_refuses_unknown_fields(self):
        region = RegionFactory()
        before = list(Region.objects.filter(pk=region.pk).values())

        with pytest.raises(ValidationError) as excinfo:
            services.region_update(region=region, path="/999/")

        assert list(errors_of(excinfo)) == ["path"]
        assert list(Region.objects.filter(pk=region.pk).values()) == before


# Tiers ----------------------------------------------------------------------------------------


class TestTiers:
    def test_tier_create_records_the_tier(self, manager):
        tier = services.tier_create(by=manager, name="Gold", rank=3, discount_percent=Decimal("15"))

        tier.refresh_from_db()
        assert (tier.name, tier.rank, tier.discount_percent) == ("Gold", 3, Decimal("15.00"))
        assert history(tier).get().actor == manager

    @pytest.mark.parametrize(
        ("field", "data"), [("name", {"name": "Gold", "rank": 9}), ("rank", {"name": "X", "rank": 3})]
    )
    def test_tier_create_refuses_a_duplicate_name_or_rank(self, field, data):
        PartnerTierFactory(name="Gold", rank=3)

        with pytest.raises(ValidationError) as excinfo:
            services.tier_create(**data)

        assert list(errors_of(excinfo)) == [field]
        assert PartnerTier.objects.count() == 1

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("discount_percent", Decimal("-0.01")),
            ("discount_percent", Decimal("100.01")),
            ("mdf_allowance_percent", Decimal("-1")),
            ("mdf_allowance_percent", Decimal("101")),
            ("min_scorecard_score", Decimal("-1")),
            ("min_scorecard_score", Decimal("100.5")),
            ("min_annual_revenue", Decimal("-1")),
            ("rebate_multiplier", Decimal("-0.5")),
        ],
    )
    def test_tier_create_refuses_negative_or_over_100_percentages(self, field, value):
        with pytest.raises(ValidationError) as excinfo:
            services.tier_create(name="Odd", rank=7, **{field: value})

        assert list(errors_of(excinfo)) == [field]
        assert not PartnerTier.objects.exists()
        assert not AuditEntry.objects.exists()

    def test_tier_create_accepts_the_bounds_0_and_100(self):
        tier = services.tier_create(
            name="Edge", rank=1, discount_percent=Decimal("0"), mdf_allowance_percent=Decimal("100")
        )

        assert PartnerTier.objects.get(pk=tier.pk).mdf_allowance_percent == Decimal("100")

    def test_tier_update_records_the_change(self, manager):
        tier = PartnerTierFactory(discount_percent=Decimal("10.00"))

        services.tier_update(tier=tier, by=manager, discount_percent=Decimal("12.50"))

        assert PartnerTier.objects.get(pk=tier.pk).discount_percent == Decimal("12.50")
        entry = history(tier, AuditEntry.Action.UPDATE).get()
        assert entry.actor == manager
        assert entry.changes == {"discount_percent": ["10.00", "12.50"]}

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("rank", 3),
            ("name", "Gold"),
            ("discount_percent", Decimal("-5")),
            ("mdf_allowance_percent", Decimal("150")),
            ("min_scorecard_score", Decimal("100.5")),
        ],
    )
    def test_tier_update_refuses_bad_values_and_changes_nothing(self, field, value):
        PartnerTierFactory(name="Gold", rank=3)
        tier = PartnerTierFactory(name="Silver", rank=2)
        before = PartnerTier.objects.filter(pk=tier.pk).values().get()

        with pytest.raises(ValidationError) as excinfo:
            services.tier_update(tier=tier, **{field: value})

        assert list(errors_of(excinfo)) == [field]
        assert PartnerTier.objects.filter(pk=tier.pk).values().get() == before
        assert not AuditEntry.objects.exists()


# Contacts -------------------------------------------------------------------------------------


class TestContacts:
    def primaries(self, partner):
        return list(PartnerContact.objects.filter(partner=partner, is_primary=True).values_list("name", flat=True))

    def test_a_new_primary_contact_demotes_the_old_one(self):
        partner = PartnerFactory()
        PartnerContactFactory(partner=partner, name="Old Boss", is_primary=True)

        services.contact_create(partner=partner, name="New Boss", email=" NEW@Example.CN ", is_primary=True)

        assert self.primaries(partner) == ["New Boss"]
        assert PartnerContact.objects.get(name="New Boss").email == "new@example.cn"
        assert PartnerContact.objects.filter(partner=partner).count() == 2

    def test_a_new_primary_contact_leaves_other_partners_alone(self):
        partner, other = PartnerFactory(), PartnerFactory()
        PartnerContactFactory(partner=other, name="Elsewhere", is_primary=True)

        services.contact_create(partner=partner, name="Boss", is_primary=True)

        assert self.primaries(other) == ["Elsewhere"]
        assert self.primaries(partner) == ["Boss"]

    def test_a_non_primary_contact_keeps_the_current_primary(self):
        partner = PartnerFactory()
        PartnerContactFactory(partner=partner, name="Boss", is_primary=True)

        services.contact_create(partner=partner, name="Helper")

        assert self.primaries(partner) == ["Boss"]

    def test_making_a_contact_primary_demotes_the_old_one_and_is_recorded(self, manager):
        partner = PartnerFactory()
        PartnerContactFactory(partner=partner, name="Old Boss", is_primary=True)
        contact = PartnerContactFactory(partner=partner, name="Deputy")

        services.contact_update(contact=contact, by=manager, is_primary=True)

        assert self.primaries(partner) == ["Deputy"]
        entry = history(partner, AuditEntry.Action.UPDATE).get()
        assert entry.changes == {"contact": ["Deputy", "Deputy"], "partners.partnercontact:is_primary": [False, True]}
        readable = [(str(label), before, after) for label, before, after in entry.readable_changes()]
        assert readable == [("contact", "Deputy", "Deputy"), ("partner contact: primary contact", False, True)]

    def test_a_refused_new_contact_does_not_demote_the_primary(self):
        partner = PartnerFactory()
        PartnerContactFactory(partner=partner, name="Boss", is_primary=True)

        with pytest.raises(ValidationError) as excinfo:
            services.contact_create(partner=partner, name="Bad", email="not-an-email", is_primary=True)

        assert list(errors_of(excinfo)) == ["email"]
        assert self.primaries(partner) == ["Boss"]
        assert PartnerContact.objects.filter(partner=partner).count() == 1

    def test_the_portal_login_cannot_be_set_through_contact_create(self):
        partner = PartnerFactory()

        with pytest.raises(ValidationError) as excinfo:
            services.contact_create(partner=partner, name="Sneaky", user=UserFactory(), is_partner_admin=True)

        assert set(errors_of(excinfo)) == {"user", "is_partner_admin"}
        assert not PartnerContact.objects.exists()

    def test_deleting_a_contact_with_an_active_portal_login_is_refused(self):
        contact = PartnerContactFactory(user=UserFactory(is_active=True))

        with pytest.raises(ValidationError):
            services.contact_delete(contact=contact)

        assert PartnerContact.objects.filter(pk=contact.pk, user__isnull=False).exists()
        assert not AuditEntry.objects.filter(object_type="partners.partnercontact").exists()

    def test_deleting_a_contact_whose_login_is_deactivated_is_allowed(self):
        user = UserFactory(is_active=False)
        contact = PartnerContactFactory(user=user)

        services.contact_delete(contact=contact)

        assert not PartnerContact.objects.filter(pk=contact.pk).exists()
        assert type(user).objects.filter(pk=user.pk).exists()  # the login itself stays

    def test_deleting_a_contact_without_login_is_recorded_on_the_partner(self, manager):
        contact = PartnerContactFactory(name="Gone Soon")
        partner = contact.partner

        services.contact_delete(contact=contact, by=manager)

        assert not PartnerContact.objects.filter(pk=contact.pk).exists()
        entry = history(partner).get()
        assert (entry.actor, entry.changes) == (manager, {"contact": ["Gone Soon", None]})


class TestCodesAndDeletes:
    def test_lower_case_codes_are_accepted_and_stored_in_capitals_by_forms_and_api(self, db):
        region = services.region_create(code="sh-pd", name="Pudong", kind="city")
        assert region.code == "SH-PD"
        form_partner = PartnerFactory.build(code="d-east-9", region=region)
        form_partner.full_clean()
        assert form_partner.code == "D-EAST-9"

    def test_a_lower_case_duplicate_code_is_refused_on_the_code_field(self, db):
        PartnerFactory(code="D-EAST-1")
        region = RegionFactory()
        with pytest.raises(ValidationError) as excinfo:
            services.partner_create(code="d-east-1", name="Copy", partner_type="reseller", region=region)
        assert "code" in excinfo.value.message_dict
        assert Partner.objects.filter(code="D-EAST-1").count() == 1

    def test_a_region_with_sub_regions_or_partners_is_not_deleted(self, db):
        parent = RegionFactory()
        child = RegionFactory(parent=parent)
        PartnerFactory(region=child)
        with pytest.raises(ValidationError, match="sub-regions"):
            services.region_delete(region=parent)
        with pytest.raises(ValidationError, match="primary region"):
            services.region_delete(region=child)
        assert Region.objects.filter(pk__in=[parent.pk, child.pk]).count() == 2

    def test_deleting_an_unused_region_or_tier_is_recorded(self, db):
        region = RegionFactory(code="GONE")
        tier = PartnerTierFactory(name="Old tier")
        services.region_delete(region=region)
        services.tier_delete(tier=tier)
        assert not Region.objects.filter(code="GONE").exists()
        assert set(
            AuditEntry.objects.filter(action=AuditEntry.Action.DELETE).values_list("object_repr", flat=True)
        ) == {
            str(region),
            "Old tier",
        }

    def test_a_tier_with_partners_is_not_deleted(self, db):
        tier = PartnerTierFactory()
        PartnerFactory(tier=tier)
        with pytest.raises(ValidationError, match="move them to another tier"):
            services.tier_delete(tier=tier)
        assert PartnerTier.objects.filter(pk=tier.pk).exists()
