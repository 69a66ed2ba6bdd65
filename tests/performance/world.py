"""A small hand-computed world for the KPI tests (March 2026).

Regions: country C → provinces P and Q; P → cities X, Y (and W, with nobody in it); Q → city Z.

Partner A (city X) holds an agreement in force with territory P, a minimum resale price of
90.00 on line L1, a Q1 target of 7,500.00 (a per-line Q1 target and a year target that must not
count), and in March sells:
  L1 to c1 in X: 10 × 100.00 = 1,000.00 (inside, compliant)
  L1 to c2 in Z:  5 ×  80.00 =   400.00 (outside P, below the minimum)
  L2 to c1, no region: 2 × 300.00 = 600.00 (inside: no region; L2 has no minimum)
→ revenue 2,000.00, units 17, 2 customers, cross-territory 0.2, price compliance 0.8, target of
the month 2,500.00 → attainment 0.8; February 1,600.00 → growth 0.25; March 2025 2,500.00 →
growth year over year −0.2; two people certified at the end of March; March attempts 2 passed of
3 finished; paid in March: rebates 150.00 + MDF 250.00 → return 5; satisfaction 86.50.

Partner B (city Y), no agreement: March 10 × 100.00 to b1 in Z = 1,000.00; nothing before.
Partner D (city Z): no sale in March, 500.00 in February; satisfaction 70.00.
Region P has its own March target of 5,000.00.
A terminated partner and a prospect without sales are not computed.
"""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.utils import timezone

from agreements.models import AgreementTarget, MinimumPrice, RegionTarget
from incentives.choices import MdfStatus, StatementStatus
from partners.choices import PartnerStatus, RegionKind
from tests.factories import (
    AgreementFactory,
    CourseFactory,
    MdfBudgetFactory,
    MdfRequestFactory,
    PartnerContactFactory,
    PartnerFactory,
    ProductLineFactory,
    RebateStatementFactory,
    RegionFactory,
    SalesLineFactory,
    TrainingRecordFactory,
)

MONTH = "2026-03"


def D(value):
    return Decimal(value)


def aware(*args):
    return timezone.make_aware(datetime(*args))


def sell(partner, day, quantity, price, *, line=None, customer="", region=None):
    return SalesLineFactory(
        partner=partner,
        product_line=line or ProductLineFactory(),
        sold_on=day,
        quantity=D(quantity),
        unit_price=D(price),
        customer_id=customer,
        customer_region=region,
    )


@dataclass
class World:
    regions: dict
    a: object
    b: object
    d: object
    l1: object
    l2: object
    agreement: object


def build():
    c = RegionFactory(code="C", kind=RegionKind.COUNTRY)
    p = RegionFactory(code="P", parent=c)
    q = RegionFactory(code="Q", parent=c)
    x = RegionFactory(code="X", parent=p, kind=RegionKind.CITY)
    y = RegionFactory(code="Y", parent=p, kind=RegionKind.CITY)
    w = RegionFactory(code="W", parent=p, kind=RegionKind.CITY)
    z = RegionFactory(code="Z", parent=q, kind=RegionKind.CITY)
    regions = {"C": c, "P": p, "Q": q, "X": x, "Y": y, "W": w, "Z": z}
    for region in regions.values():
        region.refresh_from_db()
    l1, l2 = ProductLineFactory(code="L1"), ProductLineFactory(code="L2")
    a, b, d = PartnerFactory(region=x), PartnerFactory(region=y), PartnerFactory(region=z)
    PartnerFactory(region=x, status=PartnerStatus.TERMINATED)
    PartnerFactory(region=x, status=PartnerStatus.PROSPECT)

    agreement = AgreementFactory(
        partner=a, start_date=date(2026, 1, 1), end_date=date(2026, 12, 31), territories=[p], product_lines=[l1, l2]
    )
    MinimumPrice.objects.create(agreement=agreement, product_line=l1, min_unit_price=D("90.00"))
    AgreementTarget.objects.create(agreement=agreement, period="2026-Q1", revenue=D("7500.00"))
    AgreementTarget.objects.create(agreement=agreement, period="2026-Q1", product_line=l1, revenue=D("99999.00"))
    AgreementTarget.objects.create(agreement=agreement, period="2026", revenue=D("120000.00"))
    # A draft agreement's target and territory never count.
    AgreementFactory(
        partner=a, status="draft", start_date=date(2026, 1, 1), end_date=date(2026, 12, 31), territories=[z]
    )
    RegionTarget.objects.create(region=p, period=MONTH, revenue=D("5000.00"))

    sell(a, date(2026, 3, 2), 10, "100.00", line=l1, customer="c1", region=x)
    sell(a, date(2026, 3, 15), 5, "80.00", line=l1, customer="c2", region=z)
    sell(a, date(2026, 3, 31), 2, "300.00", line=l2, customer="c1")
    sell(a, date(2026, 2, 28), 16, "100.00", line=l1, customer="c1", region=x)
    sell(a, date(2025, 3, 10), 25, "100.00", line=l1, customer="c1", region=x)
    sell(a, date(2026, 4, 1), 99, "100.00", line=l1, customer="c9", region=x)  # April: not March
    sell(b, date(2026, 3, 20), 10, "100.00", customer="b1", region=z)
    sell(d, date(2026, 2, 5), 5, "100.00", customer="d1", region=z)

    people = [PartnerContactFactory(partner=a) for _ in range(3)]
    first, second, third = (CourseFactory() for _ in range(3))
    TrainingRecordFactory(contact=people[0], course=first, passed=True, completed_on=date(2026, 2, 10))
    TrainingRecordFactory(contact=people[0], course=second, passed=True, completed_on=date(2026, 2, 11))
    TrainingRecordFactory(contact=people[1], course=first, passed=True, completed_on=date(2026, 4, 1))
    TrainingRecordFactory(
        contact=people[2], course=first, passed=True, completed_on=date(2023, 1, 1), expires_on=date(2025, 12, 31)
    )
    # March attempts: two passes, one failure.
    TrainingRecordFactory(contact=people[0], course=third, passed=True, completed_on=date(2026, 3, 5))
    TrainingRecordFactory(contact=people[1], course=second, failed=True, completed_on=date(2026, 3, 10))
    TrainingRecordFactory(contact=people[1], course=third, passed=True, completed_on=date(2026, 3, 20))

    paid = StatementStatus.PAID
    RebateStatementFactory(partner=a, period="2026-02", status=paid, total=D("150.00"), paid_at=aware(2026, 3, 15, 10))
    RebateStatementFactory(partner=a, period="2026-03", status=paid, total=D("900.00"), paid_at=aware(2026, 4, 2, 10))
    RebateStatementFactory(partner=a, period="2026-01", status=StatementStatus.APPROVED, total=D("800.00"))
    budget = MdfBudgetFactory(partner=a, period="2026-Q1")
    MdfRequestFactory(
        budget=budget,
        status=MdfStatus.PAID,
        approved_amount=D("300.00"),
        actual_amount=D("250.00"),
        paid_at=aware(2026, 3, 20, 9),
    )

    from performance.models import CustomerSatisfaction

    CustomerSatisfaction.objects.create(partner=a, period=MONTH, score=D("86.50"))
    CustomerSatisfaction.objects.create(partner=d, period=MONTH, score=D("70.00"))
    CustomerSatisfaction.objects.create(partner=b, period="2026-02", score=D("10.00"))  # another month
    return World(regions=regions, a=a, b=b, d=d, l1=l1, l2=l2, agreement=agreement)


def values(*, partner=None, region=None, period=MONTH):
    """{kpi: value} stored for one subject and month."""
    from performance.models import KpiSnapshot

    rows = KpiSnapshot.objects.filter(period=period, partner=partner, region=region)
    return {row.kpi: row.value for row in rows}
