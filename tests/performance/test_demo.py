"""`manage.py seed_demo` for performance: 24 months computed from believable sales (seasons,
growth, regular customers), flags of different rules on the regions whose sales tell that story,
and nothing new the second time."""

from decimal import Decimal

import pytest
from django.db.models import Count
from django.utils import timezone

from partners.choices import RegionKind
from partners.models import Region
from performance.choices import FlagRuleCode, FlagStatus, Kpi
from performance.models import CustomerSatisfaction, KpiSnapshot, RegionFlag, RegionScorecard, Scorecard
from prm.periods import Period
from sales.models import SalesLine
from tests.demo import row_counts, seed

pytestmark = pytest.mark.django_db


def this_month():
    return Period.containing(timezone.localdate())


def region_revenue(code, period):
    return KpiSnapshot.objects.get(region__code=code, period=period.code, kpi=Kpi.REVENUE).value


def test_24_months_of_snapshots_and_scorecards_ending_with_the_current_month(demo):
    months = [this_month()]
    while len(months) < 24:
        months.append(months[-1].previous())
    periods = set(KpiSnapshot.objects.values_list("period", flat=True))
    assert periods == {month.code for month in months}
    assert set(Scorecard.objects.values_list("period", flat=True)) == periods
    assert set(RegionScorecard.objects.values_list("period", flat=True)) == periods
    # Every computed partner has its revenue each month; ratios the dashboard shows exist too.
    last = months[1].code
    kpis = set(KpiSnapshot.objects.filter(period=last, partner__isnull=False).values_list("kpi", flat=True))
    assert {Kpi.TARGET_ATTAINMENT, Kpi.GROWTH_YOY, Kpi.CROSS_TERRITORY_SHARE, Kpi.PRICE_COMPLIANCE} <= kpis
    assert Kpi.CUSTOMER_SATISFACTION in kpis and CustomerSatisfaction.objects.count() >= 60


def test_the_last_closed_month_flags_regions_for_different_rules(demo):
    last = this_month().previous()
    flags = {flag.region.code: set(flag.rules) for flag in RegionFlag.objects.filter(period=last.code)}
    assert FlagRuleCode.DECLINE in flags["HN"] and FlagRuleCode.DECLINE in flags["SN"]
    assert FlagRuleCode.CROSS_TERRITORY in flags["HB"]
    assert FlagRuleCode.ATTAINMENT in flags["SX"]
    # Most provinces are healthy.
    provinces = Region.objects.filter(kind=RegionKind.PROVINCE).values_list("code", flat=True)
    assert len(flags.keys() & set(provinces)) <= len(provinces) // 3
    # The declining provinces did sell less every month for four months.
    months = [last]
    for _i in range(3):
        months.append(months[-1].previous())
    revenue = [region_revenue("HN", month) for month in months]
    assert revenue == sorted(revenue)


def test_seasons_are_visible_for_the_whole_channel(demo):
    current = this_month()
    for year in (current.year - 1, current.year):
        november, february = Period.month(year, 11), Period.month(year, 2)
        if november.end < current.start:
            assert region_revenue("CN", november) > region_revenue("CN", february) * Decimal("1.4")
        june, may = Period.month(year, 6), Period.month(year, 5)
        if june.end < current.start:
            assert region_revenue("CN", june) > region_revenue("CN", may)
    # And the channel grows: the last closed month is above the same month a year earlier.
    last = current.previous()
    assert region_revenue("CN", last) > region_revenue("CN", last.same_period_last_year())


def test_customers_come_back_and_some_prices_are_below_the_minimum(demo):
    per_partner = SalesLine.objects.values("partner").annotate(customers=Count("customer_id", distinct=True))
    assert max(row["customers"] for row in per_partner) <= 12
    assert SalesLine.objects.count() > 3 * len(per_partner) * 12  # each customer buys many times
    last = this_month().previous().code
    compliance = KpiSnapshot.objects.filter(period=last, kpi=Kpi.PRICE_COMPLIANCE, region__isnull=False)
    assert compliance.get(region__code="FJ").value < 1
    assert compliance.filter(value=1).exists()


def test_old_flags_are_worked_through_and_the_new_ones_wait(demo):
    current, last = this_month(), this_month().previous()
    flags = RegionFlag.objects.all()
    assert flags.exists()
    old = flags.filter(period_start__lt=last.previous().previous().start)
    assert old.exists() and set(old.values_list("status", flat=True)) == {FlagStatus.RESOLVED}
    assert all(flag.resolution and flag.measures and flag.owner_id for flag in old)
    assert not flags.filter(resolved_at__gt=timezone.now()).exists()
    declining = flags.get(period=last.code, region__code="HN")
    assert declining.status == FlagStatus.ACTION_PLAN and declining.due_date > timezone.localdate()
    assert set(flags.filter(period=last.code).values_list("status", flat=True)) == {
        FlagStatus.ACKNOWLEDGED,
        FlagStatus.ACTION_PLAN,
    }
    assert set(flags.filter(period=current.code).values_list("status", flat=True)) <= {FlagStatus.OPEN}


def test_running_it_twice_creates_nothing_new(demo):
    first = row_counts()

    seed()

    assert row_counts() == first
