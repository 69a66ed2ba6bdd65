"""FilterSets of the performance API. A value that does not parse (a period that is not one, an
unknown KPI, grade or status, an id that does not exist or that the caller may not see) is a 400
naming the filter and the reason, never an empty list.

Periods: snapshots, scorecards, flags and satisfaction scores are monthly rows. `?period=` takes a
month ("2026-10"), a quarter ("2026-Q4") or a year ("2026") and returns the months inside it;
`?period_from=` and `?period_to=` bound a range the same way (from the first month of the one,
to the last month of the other)."""

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from partners.forms import RegionChoiceField
from partners.models import Partner, PartnerTier, Region
from prm.filters import YesNoFilter
from prm.models import JobRun
from prm.periods import Period
from prm.tree import path_ids

from ..choices import FlagRuleCode, FlagStatus, Grade, Kpi
from ..models import CustomerSatisfaction, KpiSnapshot, RegionFlag, RegionScorecard, Scorecard

PERIOD_HELP = _("2026-10 for a month, 2026-Q4 for a quarter, 2026 for a year: the months inside it.")


def _visible_partners(request):
    user = getattr(request, "user", None)
    if user is None:
        return Partner.objects.none()
    return Partner.objects.visible_to(user).select_related("region")


class PeriodCodeField(forms.CharField):
    """A period code as a Period; a wrong one is an error on the field."""

    def clean(self, value):
        value = super().clean(value)
        return Period.parse(value) if value else None


@extend_schema_field(OpenApiTypes.STR)
class PeriodFilter(django_filters.Filter):
    """The months of the period (`bound`: "in", "from" or "to"), on `period_start`."""

    field_class = PeriodCodeField

    def __init__(self, *args, bound="in", **kwargs):
        self.bound = bound
        kwargs.setdefault("field_name", "period_start")
        super().__init__(*args, **kwargs)

    def filter(self, queryset, value):
        if not value:
            return queryset
        lookups = {
            "in": {"gte": value.start, "lte": value.end},
            "from": {"gte": value.start},
            "to": {"lte": value.end},
        }[self.bound]
        return queryset.filter(**{f"{self.field_name}__{lookup}": day for lookup, day in lookups.items()})


@extend_schema_field(OpenApiTypes.INT)
class RegionFilter(django_filters.ModelChoiceFilter):
    """A region by id; `subtree_lookup` set: rows whose region path starts with the region's."""

    field_class = RegionChoiceField

    def __init__(self, *args, subtree_lookup=None, **kwargs):
        self.subtree_lookup = subtree_lookup
        kwargs.setdefault("queryset", Region.objects.all())
        super().__init__(*args, **kwargs)

    def filter(self, queryset, value):
        if not value:
            return queryset
        if self.subtree_lookup:
            return queryset.filter(**{f"{self.subtree_lookup}__startswith": value.path})
        return queryset.filter(**{self.field_name: value})


class _Periods(django_filters.FilterSet):
    period = PeriodFilter(label=_("Period"), help_text=PERIOD_HELP)
    period_from = PeriodFilter(
        label=_("From period"), bound="from", help_text=_("From the first month of this period on.")
    )
    period_to = PeriodFilter(label=_("To period"), bound="to", help_text=_("Up to the last month of this period."))


def _partner_filter(**kwargs):
    return django_filters.ModelChoiceFilter(label=_("Partner"), queryset=_visible_partners, **kwargs)


class KpiSnapshotFilterSet(_Periods):
    SUBJECTS = (("partner", _("Partners")), ("region", _("Regions")))

    kpi = django_filters.MultipleChoiceFilter(
        label=_("KPI"), choices=Kpi.choices, help_text=_("Repeat for several: ?kpi=revenue&kpi=units.")
    )
    partner = _partner_filter(help_text=_("The partner's own rows."))
    region = RegionFilter(label=_("Region"), help_text=_("The region's own rows (not its partners')."))
    subject = django_filters.ChoiceFilter(
        label=_("Subject"), choices=SUBJECTS, method="filter_subject", help_text=_("Partner rows or region rows.")
    )

    class Meta:
        model = KpiSnapshot
        fields = ["period", "period_from", "period_to", "kpi", "partner", "region", "subject"]

    def filter_subject(self, queryset, name, value):
        if value == "partner":
            return queryset.for_partners()
        if value == "region":
            return queryset.for_regions()
        return queryset


class ScorecardFilterSet(_Periods):
    partner = _partner_filter()
    region = RegionFilter(
        label=_("Region"),
        subtree_lookup="partner__region__path",
        help_text=_("Partners whose primary region is this region or below it."),
    )
    tier = django_filters.ModelChoiceFilter(
        label=_("Tier"), field_name="partner__tier", queryset=PartnerTier.objects.all()
    )
    grade = django_filters.MultipleChoiceFilter(label=_("Grade"), choices=Grade.choices)

    class Meta:
        model = Scorecard
        fields = ["period", "period_from", "period_to", "partner", "region", "tier", "grade"]


class RegionScorecardFilterSet(_Periods):
    region = RegionFilter(
        label=_("Region"), subtree_lookup="region__path", help_text=_("This region and the regions below it.")
    )
    grade = django_filters.MultipleChoiceFilter(label=_("Grade"), choices=Grade.choices)

    class Meta:
        model = RegionScorecard
        fields = ["period", "period_from", "period_to", "region", "grade"]


class RegionFlagFilterSet(_Periods):
    region = RegionFilter(
        label=_("Region"), subtree_lookup="region__path", help_text=_("This region and the regions below it.")
    )
    status = django_filters.MultipleChoiceFilter(label=_("Status"), choices=FlagStatus.choices)
    rule = django_filters.ChoiceFilter(
        label=_("Rule fired"), choices=FlagRuleCode.choices, method="filter_rule", help_text=_("Flags this rule fired.")
    )
    is_firing = YesNoFilter(label=_("Rules still fire"), help_text=_("true or false."))
    partner = _partner_filter(
        method="filter_partner", help_text=_("Flags whose findings name this partner as a contributor.")
    )

    class Meta:
        model = RegionFlag
        fields = ["period", "period_from", "period_to", "region", "status", "rule", "is_firing", "partner"]

    def filter_rule(self, queryset, name, value):
        # `rules` is a JSON list of codes; its text holds each code in quotes, and no code is
        # part of another, so this works alike on SQLite and PostgreSQL.
        return queryset.filter(rules__icontains=f'"{value}"') if value else queryset

    @extend_schema_field(OpenApiTypes.INT)
    def filter_partner(self, queryset, name, partner):
        """A partner contributes only to flags of its primary region and the regions above it:
        those few flags are read (one query) and their findings searched here."""
        if not partner:
            return queryset
        candidates = queryset.filter(region_id__in=path_ids(partner.region.path)).values_list("pk", "findings")
        wanted = [
            pk
            for pk, findings in candidates
            if any(named.get("id") == partner.pk for finding in findings for named in finding.get("partners", ()))
        ]
        return queryset.filter(pk__in=wanted)


class ScorecardRunFilterSet(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(label=_("Status"), choices=JobRun.Status.choices)
    period = PeriodFilter(
        label=_("Period"), method="filter_period", help_text=_("The month the run computes, such as 2026-10.")
    )

    class Meta:
        model = JobRun
        fields = ["status", "period"]

    def filter_period(self, queryset, name, value):
        return queryset.filter(params__period=value.code) if value else queryset


class CustomerSatisfactionFilterSet(_Periods):
    partner = _partner_filter()
    region = RegionFilter(
        label=_("Region"),
        subtree_lookup="partner__region__path",
        help_text=_("Partners whose primary region is this region or below it."),
    )

    class Meta:
        model = CustomerSatisfaction
        fields = ["period", "period_from", "period_to", "partner", "region"]
