"""Which regions underperform in a month, and why: the flag rules evaluated over the stored KPI
snapshots and scorecards, set-based (a fixed number of queries whatever the numbers of partners
and regions). Writing the flags and their workflow is performance.services' job.

The rules (thresholds in FlagRule, editable; a rule without a row uses its default below):
- `attainment_below`: the region's `target_attainment` of the month is below the threshold
  (0.80). Contributors: its partners with the largest shortfall (target − revenue > 0).
- `score_below`: the region's score is below the threshold (60). Contributors: its partners
  scored below the threshold, the heaviest drag first (revenue × (threshold − score); a partner
  without revenue weighs nothing in the region's score, so it is not listed).
- `revenue_decline`: the region's revenue fell month over month for the threshold's number of
  consecutive months (3: M < M−1 < M−2 < M−3). Needs a revenue snapshot for each of those
  months; a month never computed does not count as a fall. Contributors: its partners whose
  revenue fell the most from the first of those months to M.
- `cross_territory_above`: the region's `cross_territory_share` is above the threshold (0.15).
  Contributors: its partners with the most revenue sold outside their territories.

A region is evaluated when it has KPI snapshots or a scorecard for the month. A finding lists,
per rule fired, the threshold, the region's figures and up to five contributing partners with
the figure that ranks them; numbers are strings (exact decimals in JSON).
"""

import heapq
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Q

from partners.models import Partner
from prm.tree import path_ids

from .choices import FlagRuleCode, Kpi
from .models import FlagRule, KpiSnapshot, RegionScorecard, Scorecard

ZERO = Decimal("0")
CENT = Decimal("0.01")
TOP_PARTNERS = 5
DEFAULT_THRESHOLDS = {
    FlagRuleCode.ATTAINMENT: Decimal("0.80"),
    FlagRuleCode.SCORE: Decimal("60"),
    FlagRuleCode.DECLINE: Decimal("3"),
    FlagRuleCode.CROSS_TERRITORY: Decimal("0.15"),
}
FLAG_KPIS = (Kpi.REVENUE, Kpi.REVENUE_TARGET, Kpi.TARGET_ATTAINMENT, Kpi.CROSS_TERRITORY_SHARE)


def active_rules():
    """{code: threshold} of the rules in force: the stored ones that are active, and the
    default of any rule without a row. One query."""
    rules = dict(DEFAULT_THRESHOLDS)
    for code, threshold, is_active in FlagRule.objects.values_list("code", "threshold", "is_active"):
        if is_active:
            rules[code] = threshold
        else:
            rules.pop(code, None)
    return rules


def decline_months(rules):
    threshold = rules.get(FlagRuleCode.DECLINE)
    return int(threshold) if threshold is not None else 0


def _text(value):
    """An exact decimal without trailing zeros or an exponent: 0.8000 → "0.8", 60.00 → "60"
    (str(Decimal("60").normalize()) would be "6E+1")."""
    return format(value.normalize(), "f")


def _cents(value):
    return str(value.quantize(CENT, rounding=ROUND_HALF_UP))


@dataclass
class _Subject:
    """What the rules read about one partner or region."""

    kpis: dict
    revenue_by_month: dict
    score: Decimal | None = None
    path: str = ""


def _read(month, months_back):
    """Region and partner subjects of the month from its snapshots and scorecards, with the
    revenue of the `months_back` months before it: four queries."""
    codes = [m.code for m in reversed(month.trailing(months_back + 1))]  # M, M−1, ...
    regions, partners = {}, {}
    rows = (
        KpiSnapshot.objects.filter(period__in=codes)
        .filter(Q(kpi__in=FLAG_KPIS, period=month.code) | Q(kpi=Kpi.REVENUE))
        .order_by()
        .values_list("partner_id", "partner__region__path", "region_id", "period", "kpi", "value")
    )
    for partner_id, path, region_id, code, kpi, value in rows:
        if partner_id:
            subject = partners.setdefault(partner_id, _Subject({}, {}, path=path or ""))
        else:
            subject = regions.setdefault(region_id, _Subject({}, {}))
        if code == month.code:
            subject.kpis[kpi] = value
        if kpi == Kpi.REVENUE:
            subject.revenue_by_month[code] = value
    for region_id, score in RegionScorecard.objects.filter(period=month.code).values_list("region_id", "score"):
        regions.setdefault(region_id, _Subject({}, {})).score = score
    for partner_id, path, score in Scorecard.objects.filter(period=month.code).values_list(
        "partner_id", "partner__region__path", "score"
    ):
        partners.setdefault(partner_id, _Subject({}, {}, path=path or "")).score = score
    # Only regions with something this month are evaluated.
    regions = {pk: s for pk, s in regions.items() if s.kpis or s.score is not None}
    return regions, partners, codes


def _top(items):
    """The TOP_PARTNERS (partner_id, weight, figure) with the largest positive weight."""
    return heapq.nlargest(TOP_PARTNERS, (item for item in items if item[1] > 0), key=lambda item: (item[1], -item[0]))


def evaluate(month):
    """{region_id: [finding]} for the regions where at least one active rule fires in `month`
    (a Period), each finding {"rule", "threshold", "figures", "partners"} (see the module's
    rules). Six queries whatever the numbers of partners and regions."""
    rules = active_rules()
    back = decline_months(rules)
    regions, partners, codes = _read(month, back)
    # The partners below each region, once: {region_id: [partner_id]}.
    members = defaultdict(list)
    for partner_id, subject in partners.items():
        for region_id in path_ids(subject.path):
            members[region_id].append(partner_id)

    findings = {}
    for region_id, region in regions.items():
        fired = []
        below = members.get(region_id, [])
        threshold = rules.get(FlagRuleCode.ATTAINMENT)
        attainment = region.kpis.get(Kpi.TARGET_ATTAINMENT)
        if threshold is not None and attainment is not None and attainment < threshold:
            shortfalls = []
            for pk in below:
                kpis = partners[pk].kpis
                if Kpi.REVENUE_TARGET in kpis:
                    gap = kpis[Kpi.REVENUE_TARGET] - kpis.get(Kpi.REVENUE, ZERO)
                    shortfalls.append((pk, gap, _cents(gap)))
            fired.append(
                {
                    "rule": FlagRuleCode.ATTAINMENT.value,
                    "threshold": _text(threshold),
                    "figures": {
                        "target_attainment": _text(attainment),
                        "revenue": _cents(region.kpis.get(Kpi.REVENUE, ZERO)),
                        "revenue_target": _cents(region.kpis.get(Kpi.REVENUE_TARGET, ZERO)),
                    },
                    "partners": _top(shortfalls),
                }
            )
        threshold = rules.get(FlagRuleCode.SCORE)
        if threshold is not None and region.score is not None and region.score < threshold:
            drags = []
            for pk in below:
                score = partners[pk].score
                if score is not None and score < threshold:
                    revenue = max(partners[pk].kpis.get(Kpi.REVENUE, ZERO), ZERO)
                    drags.append((pk, revenue * (threshold - score), _text(score)))
            fired.append(
                {
                    "rule": FlagRuleCode.SCORE.value,
                    "threshold": _text(threshold),
                    "figures": {"score": _text(region.score)},
                    "partners": _top(drags),
                }
            )
        if back and all(code in region.revenue_by_month for code in codes):
            series = [region.revenue_by_month[code] for code in codes]  # M, M−1, ..., M−back
            if all(series[i] < series[i + 1] for i in range(back)):
                first = codes[-1]
                drops = []
                for pk in below:
                    revenue = partners[pk].revenue_by_month
                    drop = revenue.get(first, ZERO) - revenue.get(month.code, ZERO)
                    drops.append((pk, drop, _cents(drop)))
                fired.append(
                    {
                        "rule": FlagRuleCode.DECLINE.value,
                        "threshold": str(back),
                        "figures": {
                            "revenue": {code: _cents(value) for code, value in zip(codes, series, strict=True)}
                        },
                        "partners": _top(drops),
                    }
                )
        threshold = rules.get(FlagRuleCode.CROSS_TERRITORY)
        share = region.kpis.get(Kpi.CROSS_TERRITORY_SHARE)
        if threshold is not None and share is not None and share > threshold:
            outside = []
            for pk in below:
                kpis = partners[pk].kpis
                if Kpi.CROSS_TERRITORY_SHARE in kpis:
                    amount = kpis[Kpi.CROSS_TERRITORY_SHARE] * kpis.get(Kpi.REVENUE, ZERO)
                    outside.append((pk, amount, _cents(amount)))
            fired.append(
                {
                    "rule": FlagRuleCode.CROSS_TERRITORY.value,
                    "threshold": _text(threshold),
                    "figures": {
                        "cross_territory_share": _text(share),
                        "outside_revenue": _cents(share * region.kpis.get(Kpi.REVENUE, ZERO)),
                        "revenue": _cents(region.kpis.get(Kpi.REVENUE, ZERO)),
                    },
                    "partners": _top(outside),
                }
            )
        if fired:
            findings[region_id] = fired

    # Name the contributing partners: one query.
    named = {pk for fired in findings.values() for finding in fired for pk, *_rest in finding["partners"]}
    names = {
        pk: (code, name) for pk, code, name in Partner.objects.filter(pk__in=named).values_list("pk", "code", "name")
    }
    for fired in findings.values():
        for finding in fired:
            finding["partners"] = [
                {"id": pk, "code": names[pk][0], "name": names[pk][1], "figure": figure}
                for pk, _weight, figure in finding["partners"]
                if pk in names
            ]
    return findings
