"""Staff pages of performance for the channel team: the channel dashboard, the partner
scorecards of a month, and a region's page. Read-only: computing a month happens on the runs
page (performance:runs), flags are worked on their own pages (performance.flag_views).

Every page shows one month, `?period=YYYY-MM`, by default the latest month computed; a month
never computed shows an empty state pointing to the runs page. Thin: parse, call
performance.selectors, render; a fixed number of queries whatever the numbers of partners and
regions."""

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView

from partners.models import Region
from prm.periods import Period, PeriodKind
from prm.views import ObjectListView, StaffRequiredMixin

from . import selectors
from .api.filters import ScorecardFilterSet
from .choices import FlagStatus
from .findings import present_findings
from .models import RegionScorecard, Scorecard


class TabsMixin:
    """The performance sub-navigation (templates/performance/_tabs.html) names the current tab."""

    tab = None

    def get_context_data(self, **kwargs):
        return super().get_context_data(tab=self.tab, **kwargs)


class MonthMixin:
    """The month a page shows: `?period=YYYY-MM`, else the latest computed month. A period that
    is not a month is an error shown beside the selector (the latest month is shown instead);
    `computed` says whether the month has snapshots."""

    def select_month(self):
        self.months = selectors.computed_months()
        self.period_error = None
        raw = self.request.GET.get("period", "").strip()
        month = None
        if raw:
            try:
                month = selectors.as_month(raw)
            except ValidationError as error:
                self.period_error = error.messages[0]
        if month is None and self.months:
            month = selectors.as_month(self.months[0])
        self.month = month
        self.computed = month is not None and month.code in self.months
        return month

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            month=self.month,
            months=self.months,
            computed=self.computed,
            period_error=self.period_error,
            **kwargs,
        )


def region_columns():
    """The region table's export columns."""
    return [
        (_("Region code"), lambda row: row.region.code),
        (_("Region"), lambda row: row.region.name),
        (_("Period"), lambda row: row.period),
        (_("Score"), lambda row: row.score),
        (_("Grade"), lambda row: row.grade),
        (_("Partners scored"), lambda row: row.partners),
        (_("Revenue"), lambda row: row.revenue_kpi),
        (_("Target attainment"), lambda row: row.attainment),
        (_("Cross-territory sales share"), lambda row: row.cross_territory),
        (_("Flag"), lambda row: FlagStatus(row.flag_status).label if row.flag_status else ""),
    ]


class DashboardView(TabsMixin, MonthMixin, ObjectListView):
    """The channel in a month: KPI tiles, 24-month trends, the region table (sortable, exported
    with `?export=csv|xlsx`) and the partner ranking (top and bottom ten)."""

    template_name = "performance/dashboard.html"
    model = RegionScorecard
    tab = "dashboard"
    paginate_by = 100
    page_size_choices = (100, 500)
    ordering_fields = {"score": "score", "region": "region__path", "revenue": "revenue_kpi"}
    default_ordering = ["region__path", "pk"]
    export_filename = "regions"

    def load_objects(self, **kwargs):
        self.select_month()

    def get_base_queryset(self):
        if not self.computed:
            return RegionScorecard.objects.none()
        return selectors.region_scorecards(self.month.code)

    def get_export_columns(self):
        return region_columns()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if self.computed:
            top, bottom = selectors.ranking(self.month.code)
            context.update(summary=selectors.channel_summary(self.month), top=top, bottom=bottom)
        return context


class ScorecardListFilterSet(ScorecardFilterSet):
    """The API's scorecard filters, but one period at a time (period, region subtree, tier, grade)."""

    partner = None
    period_from = None
    period_to = None

    class Meta(ScorecardFilterSet.Meta):
        fields = ["period", "region", "tier", "grade"]


class ScorecardListView(TabsMixin, MonthMixin, ObjectListView):
    """The partner scorecards of a month (the latest computed one unless `?period=` names
    another) with their ranks, revenue and attainment; filters, sorting, CSV/Excel export."""

    template_name = "performance/scorecard_list.html"
    model = Scorecard
    tab = "scorecards"
    filterset_class = ScorecardListFilterSet
    ordering_fields = {
        "partner": "partner__code",
        "score": "score",
        "rank_in_region": "rank_in_region",
        "rank_in_tier": "rank_in_tier",
        "revenue": "revenue",
        "attainment": "attainment",
        "period": "period_start",
    }
    default_ordering = ["-period_start", "-score", "partner__code"]
    export_filename = "scorecards"

    def load_objects(self, **kwargs):
        self.select_month()

    def get_base_queryset(self):
        # A period in the query is the filter's to apply; without one, the latest computed month.
        if self.request.GET.get("period", "").strip():
            return selectors.partner_scorecards()
        if self.month is None:
            return Scorecard.objects.none()
        return selectors.partner_scorecards(self.month.code)

    def get_export_columns(self):
        return [
            (_("Partner code"), lambda row: row.partner.code),
            (_("Partner"), lambda row: row.partner.name),
            (_("Primary region"), lambda row: row.partner.region.name),
            (_("Tier"), lambda row: row.partner.tier.name if row.partner.tier_id else ""),
            (_("Period"), lambda row: row.period),
            (_("Score"), lambda row: row.score),
            (_("Grade"), lambda row: row.grade),
            (_("Rank in region"), lambda row: row.rank_in_region),
            (_("Partners ranked in region"), lambda row: row.ranked_in_region),
            (_("Rank in tier"), lambda row: row.rank_in_tier),
            (_("Partners ranked in tier"), lambda row: row.ranked_in_tier),
            (_("Revenue"), lambda row: row.revenue),
            (_("Target attainment"), lambda row: row.attainment),
        ]


class RegionDetailView(TabsMixin, MonthMixin, StaffRequiredMixin, TemplateView):
    """A region in a month: its KPIs (with its quarter and year from the months computed so
    far), scorecard, trends, child regions, partners and flag."""

    template_name = "performance/region_detail.html"
    tab = "dashboard"

    def load_objects(self, **kwargs):
        self.region = get_object_or_404(
            Region.objects.visible_to(self.request.user).select_related("parent"), pk=kwargs["pk"]
        )
        self.select_month()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(region=self.region, **kwargs)
        if not self.computed:
            return context
        page = selectors.region_page(self.region, self.month)
        quarter = Period.containing(self.month.start, PeriodKind.QUARTER)
        year = Period.containing(self.month.start, PeriodKind.YEAR)
        derived = {period.code: selectors.region_derived(self.region, period) for period in (quarter, year)}
        context.update(
            page=page,
            quarter=quarter,
            year=year,
            kpi_rows=[
                (kpi, value, derived[quarter.code].get(kpi), derived[year.code].get(kpi)) for kpi, value in page["kpis"]
            ],
            findings=present_findings(page["flag"]) if page["flag"] else [],
        )
        return context
