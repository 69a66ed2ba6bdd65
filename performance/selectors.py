"""Reads of the staff performance pages (the channel dashboard, the region page, the scorecard
list), the partner 360° section and the home panel. Each reads a fixed number of queries,
whatever the numbers of partners, regions and months; none computes a KPI again: they read the
stored snapshots and scorecards (performance.kpis, performance.services).

The channel's figures are the snapshots of the top-level regions (regions without a parent)
combined: every computed partner has a primary region, so the top-level regions hold all of the
channel's revenue once, and their revenue targets already apply each region's own target where
one is set (which the partners' targets summed would miss). Combining them follows the rules of
performance.kpis.derive: revenue and targets summed, attainment = the revenue of the regions
with a target ÷ those targets, growth year over year against the channel's revenue twelve months
earlier, cross-territory share and price compliance weighted by revenue.
"""

from collections import defaultdict
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import Avg, Case, Count, IntegerField, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from partners.models import Region
from prm.periods import Period, PeriodKind

from .choices import FlagStatus, Grade, Kpi
from .kpis import derive, growth, ratio
from .models import KpiSnapshot, PeriodComputation, RegionFlag, RegionScorecard, Scorecard

ZERO = Decimal("0")
TREND_MONTHS = 24
SECTION_MONTHS = 12
RANKING_SIZE = 10
# Partners listed on a region page before linking to the whole scorecard list.
REGION_PARTNERS = 50
HOME_PANEL_FLAGS = 5
CHANNEL_KPIS = (Kpi.REVENUE, Kpi.REVENUE_TARGET, Kpi.CROSS_TERRITORY_SHARE, Kpi.PRICE_COMPLIANCE)
UNRESOLVED = (FlagStatus.OPEN, FlagStatus.ACKNOWLEDGED, FlagStatus.ACTION_PLAN)


def computed_months():
    """The codes of the months whose snapshots have been computed (a PeriodComputation with a
    current run), newest first: one query."""
    return list(
        PeriodComputation.objects.filter(current_run__isnull=False)
        .order_by("-period_start")
        .values_list("period", flat=True)
    )


def as_month(code):
    """A month Period from a code; a ValidationError for anything else (a quarter, a year, junk)."""
    period = Period.parse(code)
    if period.kind != PeriodKind.MONTH:
        raise ValidationError(_("Choose a month, such as 2026-03."), code="not_a_month")
    return period


def _snapshot(kpi, **outer):
    """A subquery of one stored KPI value for the outer row (`region` or `partner`)."""
    return Subquery(
        KpiSnapshot.objects.filter(period=OuterRef("period"), kpi=kpi, **outer).order_by().values("value")[:1]
    )


# The channel --------------------------------------------------------------------------------------


def _combine(regions):
    """The channel's figures from the top-level regions' {kpi: value} of one month (see the module)."""
    if not regions:
        return {}
    revenues = [values[Kpi.REVENUE] for values in regions if Kpi.REVENUE in values]
    targeted = [values for values in regions if Kpi.REVENUE_TARGET in values]
    figures = {
        Kpi.REVENUE: sum(revenues, ZERO) if revenues else None,
        Kpi.REVENUE_TARGET: sum((values[Kpi.REVENUE_TARGET] for values in targeted), ZERO) if targeted else None,
    }
    figures[Kpi.TARGET_ATTAINMENT] = (
        ratio(sum((values.get(Kpi.REVENUE, ZERO) for values in targeted), ZERO), figures[Kpi.REVENUE_TARGET])
        if targeted
        else None
    )
    for kpi in (Kpi.CROSS_TERRITORY_SHARE, Kpi.PRICE_COMPLIANCE):
        pairs = [(values[kpi], values.get(Kpi.REVENUE, ZERO)) for values in regions if kpi in values]
        figures[kpi] = (
            ratio(sum((share * revenue for share, revenue in pairs), ZERO), sum((r for _s, r in pairs), ZERO))
            if pairs
            else None
        )
    return figures


def channel_figures(month, months=TREND_MONTHS):
    """{month code: {kpi: value}} for the whole channel over the `months` months ending at
    `month` (a Period), oldest first, with growth year over year where the month twelve months
    earlier lies in the window: one query."""
    window = month.trailing(max(months, 13))
    rows = (
        KpiSnapshot.objects.filter(
            region__isnull=False, region__parent__isnull=True, period__in=[m.code for m in window], kpi__in=CHANNEL_KPIS
        )
        .order_by()
        .values_list("period", "region_id", "kpi", "value")
    )
    data = defaultdict(lambda: defaultdict(dict))
    for code, region_id, kpi, value in rows:
        data[code][region_id][kpi] = value
    figures = {m.code: _combine(list(data[m.code].values())) for m in window}
    for m in window:
        last_year = figures.get(m.same_period_last_year().code, {})
        figures[m.code][Kpi.GROWTH_YOY] = growth(figures[m.code].get(Kpi.REVENUE), last_year.get(Kpi.REVENUE))
    return {m.code: figures[m.code] for m in window[-months:]}


def channel_summary(month):
    """The dashboard's tiles for a month: the channel's KPIs, the mean partner score and the
    number of scorecards, the number of unresolved region flags; and the 24-month trends of
    revenue and target attainment. Three queries."""
    figures = channel_figures(month)
    scores = Scorecard.objects.filter(period=month.code).aggregate(mean=Avg("score"), count=Count("pk"))
    return {
        "kpis": figures[month.code],
        "mean_score": scores["mean"],
        "scorecards": scores["count"],
        "unresolved_flags": RegionFlag.objects.filter(period=month.code, status__in=UNRESOLVED).count(),
        "revenue_trend": [(code, values.get(Kpi.REVENUE)) for code, values in figures.items()],
        "attainment_trend": [(code, values.get(Kpi.TARGET_ATTAINMENT)) for code, values in figures.items()],
    }


def region_scorecards(month_code):
    """The region scorecards of a month, each with the region's revenue, target attainment and
    cross-territory share from its snapshots and its flag of the month (id and status): one
    query, usable for export."""
    flags = RegionFlag.objects.filter(region=OuterRef("region"), period=OuterRef("period")).order_by()
    return (
        RegionScorecard.objects.filter(period=month_code)
        .select_related("region")
        .annotate(
            revenue_kpi=_snapshot(Kpi.REVENUE, region=OuterRef("region")),
            attainment=_snapshot(Kpi.TARGET_ATTAINMENT, region=OuterRef("region")),
            cross_territory=_snapshot(Kpi.CROSS_TERRITORY_SHARE, region=OuterRef("region")),
            flag_id=Subquery(flags.values("pk")[:1]),
            flag_status=Subquery(flags.values("status")[:1]),
        )
    )


def ranking(month_code, size=RANKING_SIZE):
    """The `size` best and the `size` worst partner scorecards of a month (the worst first; a
    card never in both lists): two queries."""
    cards = Scorecard.objects.filter(period=month_code).select_related("partner", "partner__region")
    top = list(cards.order_by("-score", "partner__code")[:size])
    bottom = [card for card in cards.order_by("score", "-partner__code")[:size] if card not in top]
    return top, bottom


# Partners' scorecards ---------------------------------------------------------------------------


def partner_scorecards(month_code=None):
    """Partner scorecards (of one month when given) with the partner, its region and tier, its
    revenue and target attainment from the snapshots, and how many partners were ranked in its
    region and in its tier that month ("2 of 9"): one query whatever the number of rows."""
    cards = Scorecard.objects.all()
    if month_code:
        cards = cards.filter(period=month_code)

    def _ranked(**same):
        return Coalesce(
            Subquery(
                Scorecard.objects.filter(period=OuterRef("period"), **same)
                .order_by()
                .values("period")
                .annotate(n=Count("pk"))
                .values("n")[:1],
                output_field=IntegerField(),
            ),
            0,
        )

    return cards.select_related("partner", "partner__region", "partner__tier").annotate(
        revenue=_snapshot(Kpi.REVENUE, partner=OuterRef("partner")),
        attainment=_snapshot(Kpi.TARGET_ATTAINMENT, partner=OuterRef("partner")),
        ranked_in_region=_ranked(partner__region=OuterRef("partner__region")),
        ranked_in_tier=_ranked(partner__tier=OuterRef("partner__tier")),
    )


# One region -----------------------------------------------------------------------------------


def region_page(region, month):
    """Everything the region page shows for a month (a Period): its KPIs, its scorecard, its
    24-month trends of revenue and score, its child regions with their scores, the best-scored
    partners at or below it (REGION_PARTNERS of `partner_count`), its flag. Eight queries."""
    codes = [m.code for m in month.trailing(TREND_MONTHS)]
    revenue, kpis = {}, {}
    for code, kpi, value in (
        KpiSnapshot.objects.filter(region=region)
        .filter(Q(period=month.code) | Q(period__in=codes, kpi=Kpi.REVENUE))
        .order_by()
        .values_list("period", "kpi", "value")
    ):
        if code == month.code:
            kpis[kpi] = value
        if kpi == Kpi.REVENUE:
            revenue[code] = value
    scores = dict(
        RegionScorecard.objects.filter(region=region, period__in=codes).order_by().values_list("period", "score")
    )
    scorecard = RegionScorecard.objects.filter(region=region, period=month.code).select_related("template").first()
    children = list(
        Region.objects.filter(parent=region)
        .annotate(
            score=Subquery(
                RegionScorecard.objects.filter(region=OuterRef("pk"), period=month.code).values("score")[:1]
            ),
            grade=Subquery(
                RegionScorecard.objects.filter(region=OuterRef("pk"), period=month.code).values("grade")[:1]
            ),
            revenue=Subquery(
                KpiSnapshot.objects.filter(region=OuterRef("pk"), period=month.code, kpi=Kpi.REVENUE).values("value")[
                    :1
                ]
            ),
        )
        .order_by("name", "pk")
    )
    partners = partner_scorecards(month.code).filter(partner__region__path__startswith=region.path)
    listed = list(partners.order_by("-score", "partner__code")[:REGION_PARTNERS])
    return {
        "kpis": [(kpi, kpis[kpi]) for kpi in Kpi.values if kpi in kpis],
        "scorecard": scorecard,
        "revenue_trend": [(code, revenue.get(code)) for code in codes],
        "score_trend": [(code, scores.get(code)) for code in codes],
        "children": children,
        "partners": listed,
        "partner_count": len(listed) if len(listed) < REGION_PARTNERS else partners.count(),
        "flag": RegionFlag.objects.filter(region=region, period=month.code).select_related("owner").first(),
    }


def region_derived(region, period):
    """The region's {kpi: value} for a quarter or a year, from its months computed so far
    (performance.kpis.derive): one query."""
    return derive(period, region_ids=[region.pk]).get(("region", region.pk), {})


# The partner 360° section and the home panel ------------------------------------------------------


def partner_performance(partner):
    """The partner's latest scorecard (with how many partners were ranked in its region and its
    tier), its scores of the 12 months ending at that card's month, and its KPI values of the
    latest month it has snapshots for: two queries."""
    cards = list(partner_scorecards().filter(partner=partner).order_by("-period_start")[:SECTION_MONTHS])
    latest = cards[0] if cards else None
    trend = []
    if latest is not None:
        scores = {card.period: card.score for card in cards}
        trend = [(m.code, scores.get(m.code)) for m in Period.parse(latest.period).trailing(SECTION_MONTHS)]
    rows = list(
        KpiSnapshot.objects.filter(
            partner=partner,
            period=Subquery(KpiSnapshot.objects.filter(partner=partner).order_by("-period_start").values("period")[:1]),
        )
        .order_by()
        .values_list("period", "kpi", "value")
    )
    kpis = {kpi: value for _code, kpi, value in rows}
    return {
        "scorecard": latest,
        "score_trend": trend,
        "kpi_period": rows[0][0] if rows else None,
        "kpis": [(kpi, kpis[kpi]) for kpi in Kpi.values if kpi in kpis],
    }


def flags_overview():
    """Unresolved region flags of every month (their number and the first few: the latest
    month's first, open before acknowledged before planned, in tree order) and
    the latest computed month with its scorecards' grade distribution: four queries."""
    flags = RegionFlag.objects.filter(status__in=UNRESOLVED)
    count = flags.count()
    urgency = Case(
        When(status=FlagStatus.OPEN, then=Value(0)),
        When(status=FlagStatus.ACKNOWLEDGED, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    worst = (
        list(flags.select_related("region").order_by("-period_start", urgency, "region__path")[:HOME_PANEL_FLAGS])
        if count
        else []
    )
    month = computed_months()[:1]
    grades = {}
    if month:
        grades = dict(
            Scorecard.objects.filter(period=month[0])
            .order_by()
            .values("grade")
            .annotate(n=Count("pk"))
            .values_list("grade", "n")
        )
    return {
        "flag_count": count,
        "flags": worst,
        "month": month[0] if month else None,
        "grades": [(grade, grades.get(grade, 0)) for grade in Grade.values],
        "scorecards": sum(grades.values()),
    }
