"""The partner portal's performance page: a partner's users see their own scorecard, KPIs,
attainment and trends, and the portal dashboard shows a panel with the latest of them.

Who sees it: every portal user of the partner, its partner admin and its plain partner users
alike (the two partner roles, prm.roles). A scorecard is the partner's own result, like its
agreements and rebate statements, which both roles read; there is nothing on it to change, so no
role is kept out. Vendor staff are pointed to the staff pages (PortalRequiredMixin).

What it reads: the partner's own scorecards and KPI snapshots through `visible_to(user)` (never
a region's snapshot, never another partner's row, and not a sub-partner's either), and the
quarter and year figures through performance.kpis.derive for the partner's own id only. The one
read across partners is a count: how many partners were ranked in the partner's tier (and in its
primary region) that month, so that its rank reads "3 of 17"; no other partner's name, code or
figure leaves the database.

The rules it shows:
- The month is `?period=YYYY-MM`, by default the latest month that has a scorecard for the
  partner; anything that is not a month is refused with a message and the default month shown.
- Each template item's score is recomputed from the stored KPI value with performance.scoring
  (0 at the floor, 100 at the target, linear between), with its weight and the share of the score
  it carries once the weights of missing KPIs are shared among the others (the scorecard's rule):
  the partner sees why it got its score. When the template changed after the month was scored,
  the page says so (the stored score stands).
- Target attainment for the month, and for its quarter and its year as performance.kpis.derive
  rebuilds them from the stored months (revenue of the months with a target ÷ those targets),
  over every month of the quarter and year computed so far.
- Trends: the 24 months ending with the selected one, revenue and score, gaps where nothing was
  computed.
A fixed number of queries, whatever the number of partners and months.
"""

from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from partners.portal import PortalPage
from prm.periods import Period, PeriodKind
from prm.tenancy import is_portal_user

from . import kpis, scoring
from .choices import Kpi
from .models import KpiSnapshot, Scorecard

TREND_MONTHS = 24
CENT = Decimal("0.01")
HUNDRED = Decimal("100")
# The order KPI values are listed in: the order Kpi declares them.
KPI_ORDER = tuple(Kpi)
# The earliest month the page shows: its trends and last-year comparisons reach two years back,
# and a Period starts in 1900.
FIRST_YEAR = 1902


def own_scorecards(user):
    """The partner's own scorecards, newest month first, each with its template."""
    return Scorecard.objects.visible_to(user).select_related("template").order_by("-period_start")


def own_snapshots(user, partner, first, last):
    """(period, kpi, value) of the partner's own KPI snapshots from month `first` to `last`."""
    return (
        KpiSnapshot.objects.visible_to(user)
        .filter(partner=partner, period_start__gte=first.start, period_start__lte=last.start)
        .order_by()
        .values_list("period", "kpi", "value")
    )


def rank_counts(period, partner):
    """How many partners were ranked in the partner's tier and in its primary region in the month
    `period` (their scorecards counted in one query, nothing else read). The tier count is None
    when the partner has no tier (it then has no rank in a tier)."""
    counts = Scorecard.objects.filter(period=period).aggregate(
        tier=Count("pk", filter=Q(partner__tier_id=partner.tier_id)),
        region=Count("pk", filter=Q(partner__region_id=partner.region_id)),
    )
    return (counts["tier"] if partner.tier_id else None), counts["region"]


def parse_month(raw):
    """A month from `?period=`, or a ValidationError saying what is accepted."""
    try:
        period = Period.parse(raw)
    except ValidationError:
        period = None
    if period is None or period.kind != PeriodKind.MONTH:
        raise ValidationError(
            _("“%(value)s” is not a month: choose one in the list or use the form 2026-10.") % {"value": raw}
        )
    if period.year < FIRST_YEAR:
        raise ValidationError(_("There are no figures for %(value)s: choose a month in the list.") % {"value": raw})
    return period


def item_rows(items, values):
    """One row per template item: its KPI, weight, floor and target, the partner's value, the
    item's score (None when the partner has no value for the KPI), the share of the total score
    its weight carries once missing KPIs' weights are shared among the others (a percentage), and
    the points it contributes (score × share)."""
    present = sum((item.weight for item in items if item.kpi in values), Decimal("0"))
    rows = []
    for item in items:
        value = values.get(item.kpi)
        row = {"item": item, "kpi": item.kpi, "value": value, "score": None, "share": None, "points": None}
        if value is not None and present > 0:
            row["score"] = scoring.item_score(value, item.floor, item.target)
            share = item.weight / present
            row["share"] = (share * HUNDRED).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
            row["points"] = (row["score"] * share).quantize(CENT, rounding=ROUND_HALF_UP)
        rows.append(row)
    return rows


def attainment_to_date(month, partner):
    """Target attainment of the month's quarter and year, from the stored months
    (performance.kpis.derive, the partner's own id only): one query each."""
    figures = {}
    for kind in (PeriodKind.QUARTER, PeriodKind.YEAR):
        period = Period.containing(month.start, kind)
        derived = kpis.derive(period, partner_ids=[partner.pk]).get(("partner", partner.pk), {})
        figures[kind] = (period, derived.get(Kpi.TARGET_ATTAINMENT))
    return figures


def portal_performance(*, user, partner, month, cards):
    """Everything the page shows for the partner's month `month` (a Period), `cards` being the
    partner's own scorecards newest first (own_scorecards): see the module."""
    by_month = {card.period: card for card in cards}
    card = by_month.get(month.code)
    months = month.trailing(TREND_MONTHS)
    snapshots = {}
    for period, kpi, value in own_snapshots(user, partner, months[0], months[-1]):
        snapshots.setdefault(period, {})[kpi] = value
    values = snapshots.get(month.code, {})
    data = {
        "month": month,
        "scorecard": card,
        "months": [each.period for each in cards],
        "kpi_values": [(kpi, values.get(kpi)) for kpi in KPI_ORDER],
        "has_values": bool(values),
        "revenue_points": [(each.code, snapshots.get(each.code, {}).get(Kpi.REVENUE)) for each in months],
        "score_points": [(each.code, by_month[each.code].score if each.code in by_month else None) for each in months],
        "attainment": values.get(Kpi.TARGET_ATTAINMENT),
        "revenue": values.get(Kpi.REVENUE),
        "revenue_target": values.get(Kpi.REVENUE_TARGET),
    }
    if values:
        to_date = attainment_to_date(month, partner)
        data["quarter"], data["quarter_attainment"] = to_date[PeriodKind.QUARTER]
        data["year"], data["year_attainment"] = to_date[PeriodKind.YEAR]
    if card is not None:
        items = list(card.template.items.all())
        data["items"] = item_rows(items, values)
        recomputed = scoring.weighted_score(values, [(i.kpi, i.weight, i.floor, i.target) for i in items])
        data["template_changed"] = recomputed != card.score
        data["tier_count"], data["region_count"] = rank_counts(card.period, partner)
    return data


class PortalPerformanceView(PortalPage, TemplateView):
    """The partner's own performance in a month (`?period=YYYY-MM`): its scorecard (score, grade,
    each item's value, score and weight), its rank in its tier and region as "3 of 17", its target
    attainment for the month, quarter and year, every KPI of the month, and 24-month trends of
    revenue and score. Every portal user of the partner (partner admin and partner user) may see
    it: it is the partner's own result and there is nothing to change on it. An empty state
    when nothing has been computed for the partner yet. Rules: see the module."""

    template_name = "performance/portal/index.html"
    section = "performance"

    def get_context_data(self, **kwargs):
        user = self.request.user
        raw = self.request.GET.get("period", "").strip()
        error = None
        month = None
        if raw:
            try:
                month = parse_month(raw)
            except ValidationError as refusal:
                error = refusal.messages[0]
        cards = list(own_scorecards(user))
        if month is None and cards:
            month = Period.parse(cards[0].period)
        context = {"period_error": error}
        if month is not None:
            context.update(portal_performance(user=user, partner=self.partner, month=month, cards=cards))
        return super().get_context_data(**context, **kwargs)


# The dashboard panel ---------------------------------------------------------------------------


def portal_performance_panel(user):
    """The portal dashboard's panel: the partner's latest scorecard (month, score, grade), its
    rank in its tier as "3 of 17" and its target attainment that month. Hidden until the partner
    has a scorecard. Three queries."""
    if not is_portal_user(user):
        return None
    card = own_scorecards(user).select_related("partner__tier", "partner__region").first()
    if card is None:
        return None
    tier_count, region_count = rank_counts(card.period, card.partner)
    attainment = (
        KpiSnapshot.objects.visible_to(user)
        .filter(partner_id=card.partner_id, period=card.period, kpi=Kpi.TARGET_ATTAINMENT)
        .values_list("value", flat=True)
        .first()
    )
    return {
        "template": "performance/portal/_panel.html",
        "scorecard": card,
        "tier_count": tier_count,
        "region_count": region_count,
        "attainment": attainment,
    }
