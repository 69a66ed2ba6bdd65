"""Every KPI on a small hand-computed world (see world.py), for partners and for regions through
a three-level hierarchy, and the rules for empty values and zero bases."""

from datetime import date
from decimal import Decimal

import pytest

from performance import kpis, services
from performance.choices import Kpi
from performance.models import KpiSnapshot
from tests.factories import AgreementFactory, PartnerFactory, RegionFactory

from .world import D, build, sell, values

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    world = build()
    services.snapshots_compute(period="2026-03")
    return world


def test_partner_kpis_match_the_hand_computed_figures(world):
    assert values(partner=world.a) == {
        Kpi.REVENUE: D("2000.00"),
        Kpi.UNITS: D("17"),
        Kpi.REVENUE_TARGET: D("2500.00"),  # the Q1 all-lines target ÷ 3; the line and year targets do not count
        Kpi.TARGET_ATTAINMENT: D("0.8"),
        Kpi.GROWTH_POP: D("0.25"),  # vs 1,600.00 in February
        Kpi.GROWTH_YOY: D("-0.2"),  # vs 2,500.00 in March 2025
        Kpi.ACTIVE_CUSTOMERS: D("2"),
        Kpi.CROSS_TERRITORY_SHARE: D("0.2"),  # 400.00 sold into Z, outside P
        Kpi.PRICE_COMPLIANCE: D("0.8"),  # 400.00 below the minimum of 90.00
        # on 31 March: person 0 (three passes, counted once) and person 1 (passed on 20 March);
        # person 2's certification lapsed and person 1's April pass is later
        Kpi.CERTIFIED_STAFF: D("2"),
        Kpi.TRAINING_COMPLETION: D("0.666667"),  # 2 passed of 3 finished in March
        Kpi.INCENTIVE_SPEND: D("400.00"),  # 150.00 rebate + 250.00 MDF paid in March
        Kpi.INCENTIVE_RETURN: D("5"),
        Kpi.CUSTOMER_SATISFACTION: D("86.50"),
    }


def test_without_agreement_target_base_or_spend_those_kpis_are_empty(world):
    assert values(partner=world.b) == {
        Kpi.REVENUE: D("1000.00"),
        Kpi.UNITS: D("10"),
        Kpi.ACTIVE_CUSTOMERS: D("1"),
        Kpi.PRICE_COMPLIANCE: D("1"),  # no minimum price: compliant
        Kpi.CERTIFIED_STAFF: D("0"),
        Kpi.INCENTIVE_SPEND: D("0"),
        # no target, no February or last-year sales, no territory, no training, nothing paid,
        # no score for March (February's does not count): all empty, not 0
    }


def test_a_partner_without_sales_has_zero_revenue_and_no_shares(world):
    assert values(partner=world.d) == {
        Kpi.REVENUE: D("0"),
        Kpi.UNITS: D("0"),
        Kpi.GROWTH_POP: D("-1"),  # 500.00 in February, nothing in March
        Kpi.ACTIVE_CUSTOMERS: D("0"),
        Kpi.CERTIFIED_STAFF: D("0"),
        Kpi.INCENTIVE_SPEND: D("0"),
        Kpi.CUSTOMER_SATISFACTION: D("70.00"),
    }


def test_terminated_and_prospect_partners_without_sales_are_not_computed(world):
    computed = set(KpiSnapshot.objects.for_partners().values_list("partner_id", flat=True))
    assert computed == {world.a.pk, world.b.pk, world.d.pk}


def test_regions_roll_up_their_partners_through_three_levels(world):
    regions = world.regions
    x = values(region=regions["X"])
    assert x[Kpi.REVENUE] == D("2000.00")
    assert x[Kpi.REVENUE_TARGET] == D("2500.00")  # no target of its own: its partners'
    assert x[Kpi.TARGET_ATTAINMENT] == D("0.8")

    y = values(region=regions["Y"])
    assert y[Kpi.CROSS_TERRITORY_SHARE] == D("0")  # B has no territory: its sales count as inside
    assert Kpi.TARGET_ATTAINMENT not in y

    assert values(region=regions["P"]) == {
        Kpi.REVENUE: D("3000.00"),
        Kpi.UNITS: D("27"),
        Kpi.REVENUE_TARGET: D("5000.00"),  # its own target wins over its partners' 2,500.00
        Kpi.TARGET_ATTAINMENT: D("0.6"),
        Kpi.GROWTH_POP: D("0.875"),  # 3,000 vs 1,600
        Kpi.GROWTH_YOY: D("0.2"),  # 3,000 vs 2,500
        Kpi.ACTIVE_CUSTOMERS: D("3"),  # sum of the partners' counts
        Kpi.CROSS_TERRITORY_SHARE: D("0.133333"),  # 400 of 3,000
        Kpi.PRICE_COMPLIANCE: D("0.866667"),  # 1 − 400/3,000
        Kpi.CERTIFIED_STAFF: D("2"),
        Kpi.TRAINING_COMPLETION: D("0.666667"),
        Kpi.INCENTIVE_SPEND: D("400.00"),
        Kpi.INCENTIVE_RETURN: D("7.5"),
        Kpi.CUSTOMER_SATISFACTION: D("86.50"),
    }

    country = values(region=regions["C"])
    assert country[Kpi.REVENUE] == D("3000.00")
    assert country[Kpi.GROWTH_POP] == D("0.428571")  # 3,000 vs 1,600 + 500
    assert country[Kpi.REVENUE_TARGET] == D("2500.00")  # no target of its own: the sum of its partners'
    assert country[Kpi.TARGET_ATTAINMENT] == D("1.2")
    assert country[Kpi.CUSTOMER_SATISFACTION] == D("78.25")  # mean of 86.50 and 70.00

    z = values(region=regions["Z"])
    assert z[Kpi.REVENUE] == D("0") and z[Kpi.GROWTH_POP] == D("-1")
    assert values(region=regions["Q"]) == z
    assert values(region=regions["W"]) == {}  # nobody there, no target: nothing stored


def test_an_empty_month_stores_zeros_for_volumes_and_nothing_for_ratios():
    partner = PartnerFactory()
    run = services.snapshots_compute(period="2030-01")
    assert values(partner=partner, period="2030-01") == {
        Kpi.REVENUE: D("0"),
        Kpi.UNITS: D("0"),
        Kpi.ACTIVE_CUSTOMERS: D("0"),
        Kpi.CERTIFIED_STAFF: D("0"),
        Kpi.INCENTIVE_SPEND: D("0"),
    }
    assert run.rows == KpiSnapshot.objects.count() == 10  # 5 for the partner, 5 for its region


def test_a_month_with_no_partners_at_all_writes_nothing():
    run = services.snapshots_compute(period="2030-01")
    assert run.rows == 0
    assert not KpiSnapshot.objects.exists()


def test_a_territory_covers_its_sub_regions_and_only_agreements_in_force_count():
    top = RegionFactory()
    child = RegionFactory(parent=top)
    grandchild = RegionFactory(parent=child)
    elsewhere = RegionFactory()
    partner = PartnerFactory(region=child)
    AgreementFactory(partner=partner, start_date=date(2026, 1, 1), end_date=date(2026, 12, 31), territories=[child])
    # Expired agreements still count for the months of their term; one that ended before does not.
    AgreementFactory(
        partner=partner, status="expired", start_date=date(2025, 1, 1), end_date=date(2025, 12, 31), territories=[top]
    )
    sell(partner, date(2026, 5, 3), 1, "300.00", region=grandchild)
    sell(partner, date(2026, 5, 3), 1, "100.00", region=elsewhere)
    sell(partner, date(2026, 5, 3), 1, "600.00", region=top)  # only the expired agreement covered it
    services.snapshots_compute(period="2026-05")
    assert values(partner=partner, period="2026-05")[Kpi.CROSS_TERRITORY_SHARE] == D("0.7")


def test_monthly_targets_prefer_the_finest_period_and_sum_per_line_targets():
    from agreements.models import AgreementTarget

    line_a, line_b = (sell(PartnerFactory(), date(2020, 1, 1), 1, "1").product_line for _ in range(2))
    first, second = (AgreementFactory(start_date=date(2026, 1, 1), end_date=date(2026, 12, 31)) for _ in range(2))
    second.partner = first.partner
    second.save()
    AgreementTarget.objects.create(agreement=first, period="2026", revenue=D("1000.00"))  # 83.33 a month
    AgreementTarget.objects.create(agreement=second, period="2026-Q2", product_line=line_a, revenue=D("300.00"))
    AgreementTarget.objects.create(agreement=second, period="2026-Q2", product_line=line_b, revenue=D("600.00"))
    services.snapshots_compute(period="2026-05")
    assert values(partner=first.partner, period="2026-05")[Kpi.REVENUE_TARGET] == D("383.33")


def test_compute_month_refuses_a_quarter():
    with pytest.raises(ValueError):
        kpis.compute_month("2026-Q1")


def test_ratio_and_growth_are_empty_for_missing_or_zero_bases():
    assert kpis.ratio(D("5"), None) is None
    assert kpis.ratio(D("5"), D("0")) is None
    assert kpis.growth(D("5"), D("0")) is None
    assert kpis.growth(D("5"), D("-2")) is None
    assert kpis.ratio(D("1"), D("3")) == Decimal("0.333333")
