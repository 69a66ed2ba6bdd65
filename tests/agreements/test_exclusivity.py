"""Exclusive territories: no two in-force agreements grant exclusivity on the same product line in
overlapping regions (the region, an ancestor or a descendant) for overlapping dates, and an
exclusive grant also keeps every other partner out."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agreements import services
from agreements.choices import AgreementStatus
from tests.factories import AgreementFactory, PartnerFactory, ProductLineFactory, RegionFactory

from .domain_world import END, START, active, admin, draft, region_tree

pytestmark = pytest.mark.django_db


@pytest.fixture
def by():
    return admin()


@pytest.fixture
def tree():
    return region_tree()


@pytest.fixture
def line():
    return ProductLineFactory(code="SENSORS", name="Sensors")


@pytest.fixture
def holder(by, tree, line):
    """Shanghai exclusively, for sensors, next year, held by Huaxin."""
    partner = PartnerFactory(code="HUAXIN", name="Huaxin", region=tree.shanghai)
    return active(by=by, partner=partner, lines=[line], territories=[(tree.shanghai, True)])


def submit(by, **kwargs):
    agreement = draft(by=by, **kwargs)
    return services.agreement_submit(agreement=agreement, by=by)


def refused(by, **kwargs):
    with pytest.raises(ValidationError) as excinfo:
        submit(by, **kwargs)
    return excinfo.value.message_dict["territories"]


@pytest.mark.parametrize("where", ["shanghai", "east", "china", "pudong"])
def test_exclusive_in_the_same_an_ancestor_or_a_descendant_region_clashes(by, tree, line, holder, where):
    errors = refused(by, lines=[line], territories=[(getattr(tree, where), True)])

    assert len(errors) == 1
    assert holder.number in errors[0] and "Huaxin" in errors[0]
    assert "Shanghai" in errors[0] and "Sensors" in errors[0]


@pytest.mark.parametrize("where", ["shanghai", "east", "pudong"])
def test_another_partners_non_exclusive_territory_clashes_too(by, tree, line, holder, where):
    errors = refused(by, lines=[line], territories=[(getattr(tree, where), False)])

    assert holder.number in errors[0]


def test_a_new_exclusive_grant_clashes_with_another_partners_non_exclusive_one(by, tree, line):
    seller = active(by=by, lines=[line], territories=[(tree.pudong, False)])

    errors = refused(by, lines=[line], territories=[(tree.shanghai, True)])

    assert seller.number in errors[0] and "Pudong" in errors[0]


def test_a_sibling_region_does_not_clash(by, tree, line, holder):
    agreement = submit(by, lines=[line], territories=[(tree.jiangsu, True)])

    assert agreement.status == AgreementStatus.PENDING_APPROVAL


def test_another_product_line_does_not_clash(by, tree, holder):
    agreement = submit(by, lines=[ProductLineFactory()], territories=[(tree.shanghai, True)])

    assert agreement.status == AgreementStatus.PENDING_APPROVAL


def test_non_exclusive_territories_of_two_partners_do_not_clash(by, tree, line):
    active(by=by, lines=[line], territories=[(tree.shanghai, False)])

    assert submit(by, lines=[line], territories=[(tree.shanghai, False)]).status == AgreementStatus.PENDING_APPROVAL


def test_dates_that_do_not_overlap_do_not_clash(by, tree, line, holder):
    later = submit(
        by,
        lines=[line],
        territories=[(tree.shanghai, True)],
        start=END + timedelta(days=1),
        end=END + timedelta(days=365),
    )

    assert later.status == AgreementStatus.PENDING_APPROVAL


def test_touching_dates_clash_the_last_day_counts(by, tree, line, holder):
    errors = refused(by, lines=[line], territories=[(tree.shanghai, True)], start=END, end=END + timedelta(days=365))

    assert holder.number in errors[0]


def test_the_same_partner_non_exclusive_beside_its_own_exclusive_grant_is_fine(by, tree, line, holder):
    agreement = submit(by, partner=holder.partner, lines=[line], territories=[(tree.pudong, False)])

    assert agreement.status == AgreementStatus.PENDING_APPROVAL


def test_two_exclusive_grants_to_the_same_partner_clash(by, tree, line, holder):
    errors = refused(by, partner=holder.partner, lines=[line], territories=[(tree.pudong, True)])

    assert holder.number in errors[0]


def test_a_renewal_starting_the_day_after_does_not_clash_with_its_predecessor(by, holder):
    renewal = services.agreement_renew(agreement=holder, by=by)

    assert services.agreement_submit(agreement=renewal, by=by).status == AgreementStatus.PENDING_APPROVAL


def test_an_amendment_does_not_clash_with_the_agreement_it_supersedes(by, holder):
    amendment = services.agreement_amend(agreement=holder, by=by, start_date=START + timedelta(days=90))

    services.agreement_submit(agreement=amendment, by=by)
    services.agreement_approve(agreement=amendment, by=by)

    holder.refresh_from_db()
    assert holder.status == AgreementStatus.TERMINATED


@pytest.mark.parametrize(
    ("status", "clashes"),
    [
        (AgreementStatus.PENDING_APPROVAL, True),
        (AgreementStatus.ACTIVE, True),
        (AgreementStatus.DRAFT, False),
        (AgreementStatus.EXPIRED, False),
        (AgreementStatus.TERMINATED, False),
    ],
)
def test_only_agreements_in_force_clash(by, tree, line, status, clashes):
    AgreementFactory(
        status=status, start_date=START, end_date=END, product_lines=[line], territories=[(tree.shanghai, True)]
    )

    conflicts = services.exclusivity_conflicts(
        partner=PartnerFactory(),
        start_date=START,
        end_date=END,
        territories=[{"region": tree.shanghai, "exclusive": True}],
        product_lines=[line],
    )

    assert bool(conflicts) is clashes


def test_approval_checks_again(by, tree, line):
    """A clash that appeared after submission (an agreement loaded by an import, say) stops the
    approval."""
    pending = submit(by, lines=[line], territories=[(tree.shanghai, True)])
    other = AgreementFactory(
        status=AgreementStatus.ACTIVE,
        start_date=START,
        end_date=END,
        product_lines=[line],
        territories=[(tree.east, True)],
    )

    with pytest.raises(ValidationError) as excinfo:
        services.agreement_approve(agreement=pending, by=by)

    assert other.number in excinfo.value.message_dict["territories"][0]
    pending.refresh_from_db()
    assert pending.status == AgreementStatus.PENDING_APPROVAL


def test_every_clash_is_named(by, tree, line):
    second_line = ProductLineFactory(name="Controllers")
    first = active(by=by, lines=[line, second_line], territories=[(tree.shanghai, True)])
    second = active(by=by, lines=[line], territories=[(tree.jiangsu, True)])

    conflicts = services.exclusivity_conflicts(
        partner=PartnerFactory(),
        start_date=START,
        end_date=END,
        territories=[{"region": tree.east, "exclusive": True}],
        product_lines=[line, second_line],
    )

    assert {(a.number, region.code, pl.name) for a, region, pl in conflicts} == {
        (first.number, "SH", "Sensors"),
        (first.number, "SH", "Controllers"),
        (second.number, "JS", "Sensors"),
    }


def _conflict_queries(territories, line, partner):
    with CaptureQueriesContext(connection) as queries:
        services.exclusivity_conflicts(
            partner=partner,
            start_date=START,
            end_date=END,
            territories=[{"region": region, "exclusive": True} for region in territories],
            product_lines=[line],
        )
    return len(queries)


def test_the_check_is_set_based(by, tree, line):
    """A few queries however many territories are checked and however many clash."""
    regions = [RegionFactory(parent=tree.east) for _ in range(12)]
    for region in regions:
        AgreementFactory(start_date=START, end_date=END, product_lines=[line], territories=[(region, True)])
    partner = PartnerFactory()

    few = _conflict_queries(regions[:1], line, partner)
    many = _conflict_queries(regions, line, partner)

    assert few == many <= 3
