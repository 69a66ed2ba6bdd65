"""A small world for the portal's performance page, computed through the real monthly run
(services.month_compute) for March, April and May 2026.

Tier Gold, region Shanghai (SH); every agreement holds territory SH and a 2026 revenue target
(a month's target is the year's ÷ 12).
- Huaxin (HUAXIN, Gold, SH), the signed-in partner: target 30,000.00 (2,500.00 a month); sells
  1,000.00 in March, 2,000.00 in April and 3,000.00 in May (2,400.00 to a customer in SH and
  600.00 to one in Beijing, outside its territory). May: attainment 1.2 (scores 100, weight 30),
  price compliance 1 (100, weight 15), cross-territory share 0.2 (33.33, weight 10); no other KPI
  of the default template, so the 55 points of weight present are the whole: score
  (3000 + 1500 + 333.3) ÷ 55 = 87.88, grade A. Quarter Q2: 5,000.00 ÷ 5,000.00 = 100.0 %; year:
  6,000.00 ÷ 7,500.00 = 80.0 %.
- Zeta Secret Trading (ZETA, Gold, SH): target 24,000.00; sells 8,888.00 in May inside SH: score
  100, rank 1 in the tier, above Huaxin.
- Third Wheel Ltd (THIRD, Gold, SH): target 30,000.00; sells 1,500.00 in May: attainment 0.6
  (20), score 56.36, rank 3.
- Silverline (SILVER, tier Silver, SH), no agreement: 777.00 in May, scored on price compliance
  only (100): counted in the region (4 scorecards) but not in the Gold tier (3).
"""

import importlib
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.apps import apps

from agreements.models import AgreementTarget
from performance import services
from tests.factories import (
    AgreementFactory,
    PartnerFactory,
    PartnerTierFactory,
    ProductLineFactory,
    RegionFactory,
    SalesLineFactory,
)

MONTHS = ("2026-03", "2026-04", "2026-05")
MAY = "2026-05"
FOREIGN_MARKERS = ("Zeta", "ZETA", "8,888", "8888", "Third Wheel", "THIRD", "Silverline", "SILVER", "777")


@dataclass
class PortalWorld:
    own: object
    rival: object
    third: object
    silver: object
    gold: object
    shanghai: object


def _partner(code, name, tier, region, yearly=None):
    partner = PartnerFactory(code=code, name=name, tier=tier, region=region)
    if yearly is not None:
        agreement = AgreementFactory(
            partner=partner, start_date=date(2026, 1, 1), end_date=date(2026, 12, 31), territories=[region]
        )
        AgreementTarget.objects.create(agreement=agreement, period="2026", revenue=Decimal(yearly))
    return partner


def sell(partner, day, amount, *, region=None, customer="c1", line=None):
    return SalesLineFactory(
        partner=partner,
        product_line=line or ProductLineFactory(code="SEN"),
        sold_on=day,
        quantity=Decimal("1"),
        unit_price=Decimal(amount),
        customer_id=customer,
        customer_region=region,
    )


def build(*, extra_gold=0, compute=MONTHS):
    """The world above; `extra_gold` more Gold partners in SH selling 100.00 in May each (they
    rank below everybody else), for query counts."""
    # A browser test's transactional database is emptied after each test, data migrations' rows
    # too: put the default template back (the migration's own function does nothing when it is there).
    importlib.import_module("performance.migrations.0004_default_scorecard_template").create(apps, None)
    shanghai = RegionFactory(code="SH", name="Shanghai")
    beijing = RegionFactory(code="BJ", name="Beijing")
    gold = PartnerTierFactory(name="Gold")
    silver_tier = PartnerTierFactory(name="Silver")
    own = _partner("HUAXIN", "Huaxin Distribution", gold, shanghai, "30000.00")
    rival = _partner("ZETA", "Zeta Secret Trading", gold, shanghai, "24000.00")
    third = _partner("THIRD", "Third Wheel Ltd", gold, shanghai, "30000.00")
    silver = _partner("SILVER", "Silverline", silver_tier, shanghai)
    sell(own, date(2026, 3, 10), "1000.00", region=shanghai)
    sell(own, date(2026, 4, 10), "2000.00", region=shanghai)
    sell(own, date(2026, 5, 10), "2400.00", region=shanghai)
    sell(own, date(2026, 5, 11), "600.00", region=beijing, customer="c2")
    sell(rival, date(2026, 5, 12), "8888.00", region=shanghai, customer="z1")
    sell(third, date(2026, 5, 13), "1500.00", region=shanghai, customer="t1")
    sell(silver, date(2026, 5, 14), "777.00", customer="s1")
    for index in range(extra_gold):
        extra = _partner(f"EXTRA{index:03d}", f"Extra {index}", gold, shanghai, "30000.00")
        sell(extra, date(2026, 5, 15), "100.00", region=shanghai, customer=f"e{index}")
    for month in compute:
        services.month_compute(period=month)
    return PortalWorld(own=own, rival=rival, third=third, silver=silver, gold=gold, shanghai=shanghai)
