"""Quarters and years derived from the stored months (performance.kpis.derive)."""

from datetime import date

import pytest

from agreements.models import AgreementTarget
from performance import kpis, services
from performance.choices import Kpi
from performance.models import CustomerSatisfaction
from tests.factories import AgreementFactory, PartnerFactory, RegionFactory

from .world import D, sell

pytestmark = pytest.mark.django_db


@pytest.fixture
def quarter():
    """January 100.00 inside, February 200.00 outside the territory, March 300.00 inside to two
    customers; a Q1 target of 1,200.00; satisfaction 80 in January and 90 in March; Q4 2025:
    October 150.00 only; Q1 2025 not computed."""
    top = RegionFactory()
    home, away = RegionFactory(parent=top), RegionFactory()
    partner = PartnerFactory(region=home)
    agreement = AgreementFactory(
        partner=partner, start_date=date(2025, 1, 1), end_date=date(2026, 12, 31), territories=[home]
    )
    AgreementTarget.objects.create(agreement=agreement, period="2026-Q1", revenue=D("1200.00"))
    sell(partner, date(2026, 1, 5), 1, "100.00", customer="a", region=home)
    sell(partner, date(2026, 2, 5), 2, "100.00", customer="a", region=away)
    sell(partner, date(2026, 3, 5), 1, "100.00", customer="a", region=home)
    sell(partner, date(2026, 3, 6), 2, "100.00", customer="b", region=home)
    sell(partner, date(2025, 10, 6), 1, "150.00", customer="a", region=home)
    CustomerSatisfaction.objects.create(partner=partner, period="2026-01", score=D("80"))
    CustomerSatisfaction.objects.create(partner=partner, period="2026-03", score=D("90"))
    for month in ("2025-10", "2025-11", "2025-12", "2026-01", "2026-02", "2026-03"):
        services.snapshots_compute(period=month)
    return partner, top


def test_a_quarter_is_derived_from_its_months(quarter):
    partner, _top = quarter
    figures = kpis.derive("2026-Q1", partner_ids=[partner.pk])[("partner", partner.pk)]
    assert figures == {
        Kpi.REVENUE: D("600.00"),
        Kpi.UNITS: D("6"),
        Kpi.REVENUE_TARGET: D("1200.00"),
        Kpi.TARGET_ATTAINMENT: D("0.5"),
        Kpi.GROWTH_POP: D("3"),  # 600 vs 150 in Q4 2025
        Kpi.ACTIVE_CUSTOMERS: D("1.333333"),  # 1, 1, 2 per month
        Kpi.CROSS_TERRITORY_SHARE: D("0.333333"),  # 200 of 600
        Kpi.PRICE_COMPLIANCE: D("1"),
        Kpi.CERTIFIED_STAFF: D("0"),
        Kpi.INCENTIVE_SPEND: D("0"),
        Kpi.CUSTOMER_SATISFACTION: D("85.00"),  # mean of the months with a score
        # no Q1 2025 months stored: no growth year over year; nothing paid: no return
    }


def test_a_region_quarter_and_a_year_follow_the_same_rules(quarter):
    partner, top = quarter
    region = kpis.derive("2026-Q1", region_ids=[top.pk])
    assert list(region) == [("region", top.pk)]
    assert region[("region", top.pk)][Kpi.REVENUE] == D("600.00")
    assert region[("region", top.pk)][Kpi.TARGET_ATTAINMENT] == D("0.5")
    year = kpis.derive("2025", partner_ids=[partner.pk])[("partner", partner.pk)]
    assert year[Kpi.REVENUE] == D("150.00")
    assert Kpi.GROWTH_POP not in year  # 2024 was never computed


def test_a_month_derives_to_its_stored_values(quarter):
    partner, _top = quarter
    march = kpis.derive("2026-03", partner_ids=[partner.pk])[("partner", partner.pk)]
    assert march[Kpi.REVENUE] == D("300.00")
    assert march[Kpi.GROWTH_POP] == D("0.5")  # 300 vs 200 stored for February
    assert march[Kpi.CROSS_TERRITORY_SHARE] == D("0")


def test_a_period_with_no_stored_month_derives_to_nothing():
    assert kpis.derive("2019-Q2") == {}
