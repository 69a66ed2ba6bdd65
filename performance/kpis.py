"""The KPIs of one month for every partner and every region, computed set-based: a fixed number
of queries whatever the number of partners (the sales are aggregated in SQL, never loaded row by
row), then the region roll-up in memory over one small row per partner. And the rule that
derives quarters and years from the stored monthly snapshots.

The rules (a KPI with no value has no snapshot: "empty", never a made-up 0):

Who is computed: every partner that is onboarding, active or suspended, and any other partner
with a sale in the month. Every region that has one of them at or below it, or a target of its
own for the month.

Agreements *in force* in a month: active or expired, with a term overlapping the month (as for
rebates, incentives.services). Money is rounded half-up to the cent, units to 3 decimals,
ratios to 6 decimals (0.852 means 85.2 %).

Partner KPIs for month M:
- revenue: sum of the amounts of its sales lines sold in M; units: sum of their quantities.
- revenue_target (supporting figure): the revenue target of M from the targets of its agreements
  in force. Per agreement, the finest period that covers M wins (a month target, else its
  quarter's ÷ 3, else its year's ÷ 12); within that period the all-product-lines target wins
  over per-line targets, which are otherwise summed. The agreements' figures are summed.
  Units targets are not used. Empty when no agreement has a revenue target covering M.
- target_attainment: revenue ÷ revenue_target (all the partner's revenue, every product line);
  empty when there is no target or it is 0.
- growth_pop / growth_yoy: (revenue − base) ÷ base, the base being the revenue of M − 1 / of M
  one year earlier, read from the sales lines at the time of the computation; empty when the
  base is 0 or less.
- active_customers: distinct non-empty customer IDs among its lines of M (lines without a
  customer ID are not counted).
- cross_territory_share (窜货): revenue of lines whose customer region lies outside every
  territory (the region itself or any region below it) of its agreements in force in M, ÷
  revenue. Lines without a customer region count as inside (nothing shows a breach). Empty
  when the partner has no territory in force or its revenue is 0 or less.
- price_compliance: 1 − (revenue of lines whose unit price is below the minimum resale price
  of their product line in one of its agreements in force, the highest minimum deciding) ÷
  revenue. Lines with no minimum are compliant. Empty when revenue is 0 or less.
- certified_staff: distinct people of the partner holding a valid certification on the last
  day of M (today while M is not over).
- training_completion: passed ÷ (passed + failed + withdrawn + overdue) of the attempts
  belonging to M, as training.selectors.completion_rates counts them; empty when none.
- incentive_spend (supporting figure): rebate statements and MDF requests marked paid during M
  (their `paid_at`, in the project's time zone): the cash paid in the month.
- incentive_return: revenue ÷ incentive_spend; empty when nothing was paid.
- customer_satisfaction: the score (0–100) entered for M; empty when none.

Region KPIs aggregate the partners computed whose primary region is the region or below it:
sums for revenue, units, supporting figures, certified staff and active customers (a sum of
the partners' counts: a customer of two partners counts twice); ratios are recomputed from the
sums (cross-territory: outside revenue of the partners that have territories ÷ all the
region's revenue, partners without territories counting as inside); revenue_target is the
region's own target (same period rule, from RegionTarget) when set, else the sum of its
partners' targets; customer_satisfaction is the plain mean of its partners' scores.

Quarters and years (`derive`), from the stored months of the period (a month without a
snapshot contributes nothing):
- revenue, units, incentive_spend: sums of the months;
- revenue_target: sum over the months that have one; target_attainment: revenue of those
  months ÷ that sum;
- growth_pop / growth_yoy: the period's revenue against the previous period's / the same
  period last year's (sums of their stored months); empty when that base is 0 or less;
- active_customers: mean per month (a customer returning every month counts once a month);
- cross_territory_share, price_compliance: means of the months weighted by their revenue;
- certified_staff: the last month's figure (people at the end of the period);
- training_completion, customer_satisfaction: plain means of the months that have one;
- incentive_return: the period's revenue ÷ its incentive_spend.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, time
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.utils import timezone

from agreements.choices import AgreementStatus
from agreements.models import AgreementTarget, AgreementTerritory, MinimumPrice, RegionTarget
from incentives.choices import MdfStatus, StatementStatus
from incentives.models import MdfRequest, RebateStatement
from partners.choices import PartnerStatus
from partners.models import Partner
from prm.money import round_cents
from prm.periods import Period, PeriodKind
from prm.tree import path_ids
from sales.models import SalesLine
from training.models import TrainingRecord
from training.selectors import completion_rates

from .choices import Kpi
from .models import CustomerSatisfaction, KpiSnapshot

ZERO = Decimal("0")
RATIO = Decimal("0.000001")
UNITS = Decimal("0.001")
SCORE = Decimal("0.01")
# Agreements whose targets, territories and minimum prices apply to a month they overlap.
IN_FORCE_STATUSES = (AgreementStatus.ACTIVE, AgreementStatus.EXPIRED)
COMPUTED_STATUSES = (PartnerStatus.ONBOARDING, PartnerStatus.ACTIVE, PartnerStatus.SUSPENDED)
_FINENESS = {PeriodKind.MONTH: 0, PeriodKind.QUARTER: 1, PeriodKind.YEAR: 2}
_MONTHS_IN = {PeriodKind.MONTH: 1, PeriodKind.QUARTER: 3, PeriodKind.YEAR: 12}


def as_month(period):
    """A Period for a month from a Period or its code; ValueError for a quarter or a year."""
    period = period if isinstance(period, Period) else Period.parse(period)
    if period.kind != PeriodKind.MONTH:
        raise ValueError("KPI snapshots are computed per month")
    return period


def ratio(numerator, denominator):
    """numerator ÷ denominator to 6 decimals, or None when the denominator is missing or ≤ 0."""
    if numerator is None or denominator is None or denominator <= 0:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(RATIO, rounding=ROUND_HALF_UP)


def growth(value, base):
    if value is None or base is None or base <= 0:
        return None
    return ((value - base) / base).quantize(RATIO, rounding=ROUND_HALF_UP)


def mean(values, quantum=RATIO):
    values = [value for value in values if value is not None]
    if not values:
        return None
    return (sum(values, ZERO) / len(values)).quantize(quantum, rounding=ROUND_HALF_UP)


@dataclass
class Figures:
    """What one partner (or one region, summed) did in a month: the inputs of its KPIs."""

    revenue: Decimal = ZERO
    units: Decimal = ZERO
    revenue_prev: Decimal = ZERO
    revenue_ly: Decimal = ZERO
    customers: int = 0
    outside: Decimal = ZERO
    below_minimum: Decimal = ZERO
    has_territory: bool = False
    target: Decimal | None = None
    certified: int = 0
    passed: int = 0
    finished: int = 0
    spend: Decimal = ZERO
    scores: list = field(default_factory=list)

    SUMMED = (
        "revenue",
        "units",
        "revenue_prev",
        "revenue_ly",
        "customers",
        "outside",
        "below_minimum",
        "certified",
        "passed",
        "finished",
        "spend",
    )

    COUNTS = ("customers", "certified", "passed", "finished")

    def add(self, other):
        for name in self.SUMMED:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        if other.target is not None:
            self.target = (self.target or ZERO) + other.target
        self.scores.extend(other.scores)

    def kpis(self, *, region=False):
        """{Kpi: value} without the empty ones."""
        has_revenue = self.revenue > 0
        values = {
            Kpi.REVENUE: self.revenue,
            Kpi.UNITS: self.units,
            Kpi.REVENUE_TARGET: self.target,
            Kpi.TARGET_ATTAINMENT: ratio(self.revenue, self.target),
            Kpi.GROWTH_POP: growth(self.revenue, self.revenue_prev),
            Kpi.GROWTH_YOY: growth(self.revenue, self.revenue_ly),
            Kpi.ACTIVE_CUSTOMERS: Decimal(self.customers),
            Kpi.CROSS_TERRITORY_SHARE: (
                ratio(self.outside, self.revenue) if has_revenue and (region or self.has_territory) else None
            ),
            Kpi.PRICE_COMPLIANCE: 1 - ratio(self.below_minimum, self.revenue) if has_revenue else None,
            Kpi.CERTIFIED_STAFF: Decimal(self.certified),
            Kpi.TRAINING_COMPLETION: ratio(self.passed, self.finished),
            Kpi.INCENTIVE_SPEND: self.spend,
            Kpi.INCENTIVE_RETURN: ratio(self.revenue, self.spend),
            Kpi.CUSTOMER_SATISFACTION: mean(self.scores, SCORE),
        }
        return {kpi: value for kpi, value in values.items() if value is not None}


# Reading the sources (one query each) ----------------------------------------------------------


def _in_force(month, prefix="agreement__"):
    return {
        f"{prefix}status__in": IN_FORCE_STATUSES,
        f"{prefix}start_date__lte": month.end,
        f"{prefix}end_date__gte": month.start,
    }


def _dates(period):
    return Q(sold_on__gte=period.start, sold_on__lte=period.end)


def area_scope(path, others=()):
    """The partners of one area, for computing a month in parts (performance.tasks): those whose
    primary region is at or below `path`, or, with `path` None, those under none of `others`
    (the areas' paths) and those without a region. A Q over Partner."""
    if path is not None:
        return Q(region__path__startswith=path)
    scope = Q()
    for other in others:
        scope &= ~Q(region__path__startswith=other)
    return Q(region__isnull=True) | scope


def _partners(month, scope=None):
    """{partner_id: region path} of the partners computed for the month (of `scope` only)."""
    sold = SalesLine.objects.filter(_dates(month), partner_id=OuterRef("pk"))
    partners = Partner.objects.filter(Q(status__in=COMPUTED_STATUSES) | Q(Exists(sold)))
    if scope is not None:
        partners = partners.filter(scope)
    return dict(partners.order_by().values_list("pk", "region__path"))


def _sales(month, scope=None):
    """One aggregate over the sales lines of the month, the month before and the same month last
    year, per partner (of `scope` only)."""
    in_month, prev, last_year = _dates(month), _dates(month.previous()), _dates(month.same_period_last_year())
    below = MinimumPrice.objects.filter(
        agreement__partner_id=OuterRef("partner_id"),
        product_line_id=OuterRef("product_line_id"),
        min_unit_price__gt=OuterRef("unit_price"),
        **_in_force(month),
    )
    lines = SalesLine.objects.filter(in_month | prev | last_year)
    if scope is not None:
        lines = lines.filter(partner__in=Partner.objects.filter(scope))
    return (
        lines.order_by()
        .values("partner_id")
        .annotate(
            revenue=Sum("amount", filter=in_month),
            units=Sum("quantity", filter=in_month),
            customers=Count("customer_id", distinct=True, filter=in_month & ~Q(customer_id="")),
            below_minimum=Sum("amount", filter=in_month & Q(Exists(below))),
            revenue_prev=Sum("amount", filter=prev),
            revenue_ly=Sum("amount", filter=last_year),
        )
    )


def _territories(month):
    """{partner_id: [region path]} of the territories of its agreements in force in the month."""
    territories = defaultdict(list)
    for partner_id, path in (
        AgreementTerritory.objects.filter(**_in_force(month))
        .order_by()
        .values_list("agreement__partner_id", "region__path")
    ):
        territories[partner_id].append(path)
    return territories


def _outside(month, territories, scope=None):
    """{partner_id: revenue of the month sold to customer regions outside every territory of its
    agreements in force} for the partners with territories: the month's lines summed per
    (partner, customer region) in SQL, then each group checked against the territories (a
    region is inside a territory when the territory's path starts its path). One query; the check
    runs on the groups, a few per partner, never line by line."""
    with_territory = AgreementTerritory.objects.filter(**_in_force(month)).values("agreement__partner_id")
    lines = SalesLine.objects.filter(_dates(month), customer_region__isnull=False, partner_id__in=with_territory)
    if scope is not None:
        lines = lines.filter(partner__in=Partner.objects.filter(scope))
    groups = (
        lines.order_by()
        .values("partner_id", "customer_region__path")
        .annotate(total=Sum("amount"))
        .values_list("partner_id", "customer_region__path", "total")
    )
    outside = defaultdict(lambda: ZERO)
    for partner_id, path, total in groups:
        if not any(path.startswith(territory) for territory in territories[partner_id]):
            outside[partner_id] += total or ZERO
    return outside


def _monthly_targets(rows):
    """Revenue targets of a month from rows (group, owner, period code, product line, revenue)
    covering it: per group (an agreement, a region) the finest period wins, the all-lines target
    wins over per-line ones, and a quarter's or year's target is split evenly over its months.
    {owner: Decimal to the cent}."""
    chosen = {}
    for group, owner, code, line_id, revenue in rows:
        kind = Period.parse(code).kind
        current = chosen.get(group)
        if current is None or _FINENESS[kind] < _FINENESS[current["kind"]]:
            current = chosen[group] = {"kind": kind, "owner": owner, "all": None, "lines": ZERO}
        elif kind != current["kind"]:
            continue
        if line_id is None:
            current["all"] = revenue
        else:
            current["lines"] += revenue
    totals = defaultdict(lambda: ZERO)
    for target in chosen.values():
        amount = target["all"] if target["all"] is not None else target["lines"]
        totals[target["owner"]] += amount / _MONTHS_IN[target["kind"]]
    return {owner: round_cents(total) for owner, total in totals.items()}


def _covering(month):
    return {"period_start__lte": month.start, "period_end__gte": month.end, "revenue__isnull": False}


def _partner_targets(month):
    rows = (
        AgreementTarget.objects.filter(**_covering(month), **_in_force(month))
        .order_by()
        .values_list("agreement_id", "agreement__partner_id", "period", "product_line_id", "revenue")
    )
    return _monthly_targets(rows)


def _region_targets(month):
    rows = (
        RegionTarget.objects.filter(**_covering(month))
        .order_by()
        .values_list("region_id", "region_id", "period", "product_line_id", "revenue")
    )
    return _monthly_targets(rows)


def _certified(month):
    on = min(month.end, timezone.localdate())
    return dict(
        TrainingRecord.objects.certified(on)
        .order_by()
        .values("contact__partner_id")
        .annotate(people=Count("contact_id", distinct=True))
        .values_list("contact__partner_id", "people")
    )


def _completion(month):
    """{partner_id: (passed, finished)} (two queries, training.selectors)."""
    return {
        row["partner"].pk: (row["passed"], row["passed"] + row["failed"] + row["withdrawn"] + row["overdue"])
        for row in completion_rates(by="partner", since=month.start, until=month.end)
    }


def _paid(month):
    """{partner_id: rebates + MDF paid during the month} (two queries)."""
    start = timezone.make_aware(datetime.combine(month.start, time.min))
    end = timezone.make_aware(datetime.combine(month.next().start, time.min))
    during = {"paid_at__gte": start, "paid_at__lt": end}
    paid = defaultdict(lambda: ZERO)
    rebates = RebateStatement.objects.filter(status=StatementStatus.PAID, **during)
    mdf = MdfRequest.objects.filter(status=MdfStatus.PAID, **during)
    for queryset, amount in ((rebates, "total"), (mdf, "actual_amount")):
        for partner_id, total in (
            queryset.order_by().values("partner_id").annotate(total=Sum(amount)).values_list("partner_id", "total")
        ):
            paid[partner_id] += round_cents(total or ZERO)
    return paid


def _scores(month):
    return dict(CustomerSatisfaction.objects.filter(period=month.code).values_list("partner_id", "score"))


# Computing a month ----------------------------------------------------------------------------


def partner_figures(month, scope=None):
    """{partner_id: Figures} and {partner_id: region path} for the month (the partners of
    `scope`, an area_scope, or all): twelve queries."""
    paths = _partners(month, scope)
    figures = {pk: Figures() for pk in paths}
    territories = _territories(month)
    for row in _sales(month, scope):
        figure = figures.get(row["partner_id"])
        if figure is None:
            continue
        money = {name: round_cents(row[name] or ZERO) for name in ("revenue", "revenue_prev", "revenue_ly")}
        figure.revenue, figure.revenue_prev, figure.revenue_ly = (
            money["revenue"],
            money["revenue_prev"],
            money["revenue_ly"],
        )
        figure.units = (row["units"] or ZERO).quantize(UNITS, rounding=ROUND_HALF_UP)
        figure.customers = row["customers"]
        figure.below_minimum = round_cents(row["below_minimum"] or ZERO)
    # Without a territory nothing is outside one: its share stays empty, its region sees 0.
    for pk in territories.keys() & figures.keys():
        figures[pk].has_territory = True
    for pk, amount in _outside(month, territories, scope).items():
        if pk in figures:
            figures[pk].outside = round_cents(amount)
    for pk, target in _partner_targets(month).items():
        if pk in figures:
            figures[pk].target = target
    for pk, people in _certified(month).items():
        if pk in figures:
            figures[pk].certified = people
    for pk, (passed, finished) in _completion(month).items():
        if pk in figures:
            figures[pk].passed, figures[pk].finished = passed, finished
    for pk, paid in _paid(month).items():
        if pk in figures:
            figures[pk].spend = paid
    for pk, score in _scores(month).items():
        if pk in figures:
            figures[pk].scores = [score]
    return figures, paths


def region_figures(month, figures, paths):
    """{region_id: Figures}: each region sums the partners whose primary region is the region or
    below it (read from the region's materialised path); its own target, when set, replaces the
    sum of its partners'. One query."""
    regions = defaultdict(Figures)
    for pk, figure in figures.items():
        for region_id in path_ids(paths[pk]):
            regions[region_id].add(figure)
    for region_id, target in _region_targets(month).items():
        regions[region_id].target = target
    return dict(regions)


def figures_to_json(figures, paths):
    """The partner figures of a month (or of one area of it) as JSON-safe data, for a Celery
    task to hand to the one that finishes the month; exact decimals as strings."""
    rows = []
    for pk, figure in figures.items():
        row = {name: str(getattr(figure, name)) for name in Figures.SUMMED}
        row.update(
            id=pk,
            path=paths.get(pk),
            has_territory=figure.has_territory,
            target=None if figure.target is None else str(figure.target),
            scores=[str(score) for score in figure.scores],
        )
        rows.append(row)
    return rows


def figures_from_json(parts):
    """({partner_id: Figures}, {partner_id: path}) from the parts figures_to_json made."""
    figures, paths = {}, {}
    for rows in parts:
        for row in rows:
            figure = Figures(has_territory=row["has_territory"], scores=[Decimal(s) for s in row["scores"]])
            for name in Figures.SUMMED:
                setattr(
                    figure,
                    name,
                    int(row[name]) if name in ("customers", "certified", "passed", "finished") else Decimal(row[name]),
                )
            figure.target = None if row["target"] is None else Decimal(row["target"])
            figures[row["id"]], paths[row["id"]] = figure, row["path"]
    return figures, paths


def compute_month(period, figures=None):
    """[(partner_id, region_id, kpi, value)] for every partner and region computed in the month
    (see the module's rules), empty KPIs left out. Thirteen queries whatever the numbers of
    partners, regions and sales lines. `figures`, when given, are the month's partner figures
    already read (per area, by performance.tasks), as ({partner_id: Figures}, {id: path})."""
    month = as_month(period)
    figures, paths = figures if figures is not None else partner_figures(month)
    rows = []
    for pk, figure in sorted(figures.items()):
        rows.extend((pk, None, kpi, value) for kpi, value in figure.kpis().items())
    for pk, figure in sorted(region_figures(month, figures, paths).items()):
        rows.extend((None, pk, kpi, value) for kpi, value in figure.kpis(region=True).items())
    return rows


# Quarters and years -----------------------------------------------------------------------------


def _total(months, kpi):
    values = [month[kpi] for month in months if kpi in month]
    return sum(values, ZERO) if values else None


def _weighted(months, kpi):
    pairs = [(month[kpi], month.get(Kpi.REVENUE, ZERO)) for month in months if kpi in month]
    return ratio(sum((share * revenue for share, revenue in pairs), ZERO), sum((r for _s, r in pairs), ZERO))


def _derive_one(current, previous, last_year):
    revenue = _total(current, Kpi.REVENUE)
    spend = _total(current, Kpi.INCENTIVE_SPEND)
    targeted = [month for month in current if Kpi.REVENUE_TARGET in month]
    target = _total(targeted, Kpi.REVENUE_TARGET)
    certified = [month[Kpi.CERTIFIED_STAFF] for month in current if Kpi.CERTIFIED_STAFF in month]
    values = {
        Kpi.REVENUE: revenue,
        Kpi.UNITS: _total(current, Kpi.UNITS),
        Kpi.REVENUE_TARGET: target,
        Kpi.TARGET_ATTAINMENT: ratio(_total(targeted, Kpi.REVENUE) or ZERO, target) if targeted else None,
        Kpi.GROWTH_POP: growth(revenue, _total(previous, Kpi.REVENUE)),
        Kpi.GROWTH_YOY: growth(revenue, _total(last_year, Kpi.REVENUE)),
        Kpi.ACTIVE_CUSTOMERS: mean([month.get(Kpi.ACTIVE_CUSTOMERS) for month in current]),
        Kpi.CROSS_TERRITORY_SHARE: _weighted(current, Kpi.CROSS_TERRITORY_SHARE),
        Kpi.PRICE_COMPLIANCE: _weighted(current, Kpi.PRICE_COMPLIANCE),
        Kpi.CERTIFIED_STAFF: certified[-1] if certified else None,
        Kpi.TRAINING_COMPLETION: mean([month.get(Kpi.TRAINING_COMPLETION) for month in current]),
        Kpi.INCENTIVE_SPEND: spend,
        Kpi.INCENTIVE_RETURN: ratio(revenue, spend),
        Kpi.CUSTOMER_SATISFACTION: mean([month.get(Kpi.CUSTOMER_SATISFACTION) for month in current], SCORE),
    }
    return {kpi: value for kpi, value in values.items() if value is not None}


def derive(period, *, partner_ids=None, region_ids=None):
    """{("partner", id) or ("region", id): {Kpi: value}} for a month, quarter or year, from the
    stored monthly snapshots (see the module's rules), for the given partners and regions (all
    when both are None). One query."""
    period = period if isinstance(period, Period) else Period.parse(period)
    groups = {
        "current": period.months(),
        "previous": period.previous().months(),
        "last_year": period.same_period_last_year().months(),
    }
    codes = {month.code: name for name, months in groups.items() for month in months}
    snapshots = KpiSnapshot.objects.filter(period__in=list(codes))
    if partner_ids is not None or region_ids is not None:
        snapshots = snapshots.filter(Q(partner_id__in=partner_ids or []) | Q(region_id__in=region_ids or []))
    data = defaultdict(lambda: defaultdict(dict))
    for partner_id, region_id, code, kpi, value in snapshots.order_by().values_list(
        "partner_id", "region_id", "period", "kpi", "value"
    ):
        subject = ("partner", partner_id) if partner_id else ("region", region_id)
        data[subject][code][kpi] = value
    result = {}
    for subject, months in data.items():
        current, previous, last_year = (
            [months[month.code] for month in groups[name] if month.code in months]
            for name in ("current", "previous", "last_year")
        )
        if current:
            result[subject] = _derive_one(current, previous, last_year)
    return result
