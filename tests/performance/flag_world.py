"""A small hand-made world for the region-flag tests: the month's KPI snapshots and scorecards are
stored directly, as a computation would leave them, so that each rule can be put exactly at, just
below or just above its threshold.

Regions: country C → provinces P and Q; P → cities X and Y; Q → city Z; W (under P) has nothing.
Partners are made in the test with `partner(region, code)`.
"""

from decimal import Decimal

from django.utils import timezone

from partners.choices import RegionKind
from performance import scoring
from performance.models import (
    KpiSnapshot,
    PeriodComputation,
    RegionScorecard,
    Scorecard,
    ScorecardTemplate,
    SnapshotRun,
)
from prm.periods import Period
from tests.factories import PartnerFactory, RegionFactory

MONTH = "2026-03"


def D(value):
    return Decimal(str(value))


def tree():
    """{code: Region} of the tree above (codes prefixed with "F" to stay unique)."""
    c = RegionFactory(code="FC", name="Country", kind=RegionKind.COUNTRY)
    p = RegionFactory(code="FP", name="Province P", parent=c)
    q = RegionFactory(code="FQ", name="Province Q", parent=c)
    regions = {
        "C": c,
        "P": p,
        "Q": q,
        "X": RegionFactory(code="FX", name="City X", parent=p, kind=RegionKind.CITY),
        "Y": RegionFactory(code="FY", name="City Y", parent=p, kind=RegionKind.CITY),
        "W": RegionFactory(code="FW", name="City W", parent=p, kind=RegionKind.CITY),
        "Z": RegionFactory(code="FZ", name="City Z", parent=q, kind=RegionKind.CITY),
    }
    for region in regions.values():
        region.refresh_from_db()
    return regions


def partner(region, code):
    return PartnerFactory(region=region, code=code, name=f"{code} Trading Co.")


def given(period=MONTH, *, kpis=None, scores=None):
    """Store a month's snapshots {Region or Partner: {kpi: value}} and scorecards {Region or
    Partner: score}, adding to what the month has (a subject's KPI given twice: the last wins)."""
    month = Period.parse(period)
    run = SnapshotRun.objects.create(period=month.code, rows=0, finished_at=timezone.now())
    PeriodComputation.objects.update_or_create(
        period=month.code, defaults={"current_run": run, "period_start": month.start}
    )
    now = timezone.now()
    template = ScorecardTemplate.objects.get(is_default=True)
    for subject, values in (kpis or {}).items():
        field = "region" if subject._meta.model_name == "region" else "partner"
        for kpi, value in values.items():
            KpiSnapshot.objects.update_or_create(
                **{field: subject},
                period=month.code,
                kpi=kpi,
                defaults={"period_start": month.start, "value": D(value), "computed_at": now, "run": run},
            )
    for subject, score in (scores or {}).items():
        common = {"period_start": month.start, "template": template, "computed_at": now}
        score = D(score)
        if subject._meta.model_name == "region":
            RegionScorecard.objects.update_or_create(
                region=subject,
                period=month.code,
                defaults={"score": score, "grade": scoring.grade(score), "partners": 1, "revenue": 0, **common},
            )
        else:
            Scorecard.objects.update_or_create(
                partner=subject, period=month.code, defaults={"score": score, "grade": scoring.grade(score), **common}
            )


def revenue_by_month(subject, *values, last=MONTH):
    """Store revenue snapshots of consecutive months ending with `last`: values oldest first;
    None leaves that month without a snapshot."""
    months = [Period.parse(last)]
    for _value in values[1:]:
        months.append(months[-1].previous())
    for month, value in zip(reversed(months), values, strict=True):
        if value is not None:
            given(month.code, kpis={subject: {"revenue": value}})
