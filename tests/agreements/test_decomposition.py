"""Splitting a region's target across its partners (目标分解): who qualifies, the weights (last
year's sales in the same period, else even), exact sums by largest remainder, and re-splitting."""

import random
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agreements import services
from agreements.choices import AgreementStatus
from agreements.models import AgreementTarget
from tests.factories import (
    AgreementFactory,
    ChannelManagerFactory,
    ManagerRegionFactory,
    PartnerFactory,
    ProductLineFactory,
    SalesLineFactory,
)

from .domain_world import END, NEXT_YEAR, START, admin, region_tree

pytestmark = pytest.mark.django_db

PERIOD = f"{NEXT_YEAR}-Q2"
LAST_YEAR_DAY = date(NEXT_YEAR - 1, 5, 15)  # inside the same quarter a year before


@pytest.fixture
def by():
    return admin()


@pytest.fixture
def tree():
    return region_tree()


@pytest.fixture
def line():
    return ProductLineFactory(name="Sensors")


def partner_with_agreement(region, line, code, **agreement):
    partner = PartnerFactory(region=region, code=code)
    agreement.setdefault("start_date", START)
    agreement.setdefault("end_date", END)
    AgreementFactory(partner=partner, product_lines=[line], **agreement)
    return partner


def region_target(by, region, **amounts):
    return services.region_target_set(region=region, period=PERIOD, by=by, **amounts)


def split(by, target):
    return {t.agreement.partner.code: t for t in services.region_target_decompose(region_target=target, by=by)}


def test_evenly_without_sales_to_the_cent(by, tree, line):
    for code in ("A", "B", "C"):
        partner_with_agreement(tree.shanghai, line, code)
    target = region_target(by, tree.east, revenue=Decimal("100000.00"))

    rows = services.region_target_preview(region_target=target)

    assert [row["basis"] for row in rows] == ["even"] * 3
    assert [row["revenue"] for row in rows] == [Decimal("33333.34"), Decimal("33333.33"), Decimal("33333.33")]
    assert sum(row["revenue"] for row in rows) == Decimal("100000.00")


def test_equal_sales_weigh_the_same_as_even(by, tree, line):
    for code in ("A", "B", "C"):
        partner = partner_with_agreement(tree.shanghai, line, code)
        SalesLineFactory(partner=partner, product_line=line, sold_on=LAST_YEAR_DAY, quantity=1, unit_price=500)
    target = region_target(by, tree.east, revenue=Decimal("100000.00"))

    rows = services.region_target_preview(region_target=target)

    assert {row["basis"] for row in rows} == {"sales"}
    assert sum(row["revenue"] for row in rows) == Decimal("100000.00")
    assert sorted(row["revenue"] for row in rows) == [Decimal("33333.33"), Decimal("33333.33"), Decimal("33333.34")]


def test_weighted_by_last_years_sales_in_the_same_period(by, tree, line):
    a = partner_with_agreement(tree.shanghai, line, "A")
    b = partner_with_agreement(tree.pudong, line, "B")
    c = partner_with_agreement(tree.jiangsu, line, "C")
    SalesLineFactory(partner=a, product_line=line, sold_on=LAST_YEAR_DAY, quantity=1, unit_price="100.00")
    SalesLineFactory(partner=b, product_line=line, sold_on=LAST_YEAR_DAY, quantity=1, unit_price="200.00")
    SalesLineFactory(partner=c, product_line=line, sold_on=LAST_YEAR_DAY, quantity=1, unit_price="400.00")
    # Outside the same period last year, and so not counted.
    SalesLineFactory(partner=a, product_line=line, sold_on=date(NEXT_YEAR - 1, 1, 15), quantity=1, unit_price=9999)
    SalesLineFactory(partner=a, product_line=line, sold_on=date(NEXT_YEAR, 5, 15), quantity=1, unit_price=9999)
    target = region_target(by, tree.east, revenue=Decimal("100000.00"), units=Decimal("10"))

    result = split(by, target)

    assert {code: t.revenue for code, t in result.items()} == {
        "A": Decimal("14285.71"),
        "B": Decimal("28571.43"),
        "C": Decimal("57142.86"),
    }
    assert {code: t.units for code, t in result.items()} == {"A": Decimal("1"), "B": Decimal("3"), "C": Decimal("6")}
    assert all(t.region_target == target and t.period == PERIOD and t.product_line is None for t in result.values())


def test_fractional_units_split_to_the_thousandth(by, tree, line):
    for code in ("A", "B", "C"):
        partner_with_agreement(tree.shanghai, line, code)
    target = region_target(by, tree.east, units=Decimal("10.5"))

    rows = services.region_target_preview(region_target=target)

    assert [row["units"] for row in rows] == [Decimal("3.500")] * 3
    assert all(row["revenue"] is None for row in rows)


def test_who_qualifies(by, tree, line):
    partner_with_agreement(tree.pudong, line, "IN-SUBTREE")
    partner_with_agreement(tree.china, line, "ABOVE-REGION")
    partner_with_agreement(tree.shanghai, line, "DRAFT", status=AgreementStatus.DRAFT)
    partner_with_agreement(tree.shanghai, line, "ENDS-EARLY", end_date=date(NEXT_YEAR, 5, 31))
    partner_with_agreement(tree.shanghai, ProductLineFactory(), "OTHER-LINE")
    target = services.region_target_set(region=tree.east, period=PERIOD, by=by, revenue=10, product_line=line)

    rows = services.region_target_preview(region_target=target)

    assert [row["partner"].code for row in rows] == ["IN-SUBTREE"]


def test_a_line_target_weighs_that_lines_sales_only(by, tree, line):
    other_line = ProductLineFactory()
    a = partner_with_agreement(tree.shanghai, line, "A")
    b = partner_with_agreement(tree.shanghai, line, "B")
    a.agreements.get().product_lines.add(other_line)
    SalesLineFactory(partner=a, product_line=line, sold_on=LAST_YEAR_DAY, quantity=1, unit_price=100)
    SalesLineFactory(partner=b, product_line=line, sold_on=LAST_YEAR_DAY, quantity=1, unit_price=300)
    SalesLineFactory(partner=a, product_line=other_line, sold_on=LAST_YEAR_DAY, quantity=1, unit_price=10000)
    target = services.region_target_set(region=tree.east, period=PERIOD, by=by, revenue=1000, product_line=line)

    result = split(by, target)

    assert {code: t.revenue for code, t in result.items()} == {"A": Decimal("250.00"), "B": Decimal("750.00")}
    assert {t.product_line for t in result.values()} == {line}


def test_awkward_amounts_always_add_up(by, tree, line):
    rng = random.Random(7)
    partners = [partner_with_agreement(tree.shanghai, line, f"P{i}") for i in range(7)]
    for partner in partners[:5]:
        SalesLineFactory(
            partner=partner, product_line=line, sold_on=LAST_YEAR_DAY, quantity=1, unit_price=rng.randint(1, 99999)
        )
    for amount in ("0.01", "0.07", "99999.99", "1234567.89", "100000.00"):
        target = region_target(by, tree.east, revenue=Decimal(amount), units=Decimal("7"))
        rows = services.region_target_preview(region_target=target)
        assert sum(row["revenue"] for row in rows) == Decimal(amount)
        assert sum(row["units"] for row in rows) == Decimal("7")
        assert all(row["revenue"] >= 0 for row in rows)


def test_largest_remainder_is_exact_for_many_random_splits():
    rng = random.Random(11)
    for _ in range(300):
        weights = [Decimal(rng.randint(0, 10**6)) / 100 for _ in range(rng.randint(1, 9))]
        if not sum(weights):
            continue
        total = Decimal(rng.randint(0, 10**9)) / 100
        shares = services.largest_remainder(total, weights, Decimal("0.01"))
        assert sum(shares) == total
        assert all(share >= 0 for share in shares)


def test_splitting_again_replaces_the_previous_split(by, tree, line):
    partners = [partner_with_agreement(tree.shanghai, line, code) for code in ("A", "B", "C")]
    target = region_target(by, tree.east, revenue=Decimal("90000.00"))
    split(by, target)
    # B's agreement ends; the target grows.
    partners[1].agreements.update(status=AgreementStatus.TERMINATED)
    target = region_target(by, tree.east, revenue=Decimal("100000.00"))

    result = split(by, target)

    assert {code: t.revenue for code, t in result.items()} == {"A": Decimal("50000.00"), "C": Decimal("50000.00")}
    assert AgreementTarget.objects.filter(region_target=target).count() == 2
    assert not AgreementTarget.objects.filter(agreement__partner=partners[1]).exists()


def test_a_split_overwrites_a_partners_own_target_for_that_period(by, tree, line):
    partner_with_agreement(tree.shanghai, line, "A")
    agreement = partner_with_agreement(tree.shanghai, line, "B").agreements.get()
    services.target_set(agreement=agreement, period=PERIOD, by=by, revenue=Decimal("1"))

    split(by, region_target(by, tree.east, revenue=Decimal("10.00")))

    assert AgreementTarget.objects.get(agreement=agreement).revenue == Decimal("5.00")


def test_no_qualifying_partner_is_a_clear_error(by, tree, line):
    partner_with_agreement(tree.jiangsu, line, "ELSEWHERE")
    target = region_target(by, tree.shanghai, revenue=Decimal("1000"))

    with pytest.raises(ValidationError) as excinfo:
        services.region_target_decompose(region_target=target, by=by)

    assert "No partner in Shanghai" in excinfo.value.messages[0] and PERIOD in excinfo.value.messages[0]
    target.refresh_from_db()
    assert target.decomposed_at is None


def test_the_preview_writes_nothing(by, tree, line):
    partner_with_agreement(tree.shanghai, line, "A")
    target = region_target(by, tree.east, revenue=Decimal("1000"))

    services.region_target_preview(region_target=target)

    assert not AgreementTarget.objects.exists()


def test_region_targets_are_set_by_an_admin_or_the_regions_manager(by, tree, line):
    manager, stranger = ChannelManagerFactory(), ChannelManagerFactory()
    ManagerRegionFactory(manager=manager, region=tree.east)
    partner_with_agreement(tree.shanghai, line, "A")

    target = services.region_target_set(region=tree.shanghai, period=PERIOD, by=manager, revenue=Decimal("5"))
    services.region_target_decompose(region_target=target, by=manager)
    with pytest.raises(PermissionDenied):
        services.region_target_set(region=tree.shanghai, period=PERIOD, by=stranger, revenue=Decimal("6"))
    with pytest.raises(PermissionDenied):
        services.region_target_decompose(region_target=target, by=stranger)


def _decompose_queries(by, region, count, line):
    for index in range(count):
        partner = partner_with_agreement(region, line, f"{region.code}-{index}")
        SalesLineFactory(partner=partner, product_line=line, sold_on=LAST_YEAR_DAY, quantity=1, unit_price=100 + index)
    target = services.region_target_set(region=region, period=PERIOD, by=by, revenue=Decimal("1000"))
    with CaptureQueriesContext(connection) as queries:
        services.region_target_decompose(region_target=target, by=by)
    return len(queries)


def test_the_split_takes_the_same_queries_for_two_or_twenty_partners(by, tree, line):
    assert _decompose_queries(by, tree.pudong, 2, line) == _decompose_queries(by, tree.jiangsu, 20, line)
