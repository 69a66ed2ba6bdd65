"""FilterSets of incentives, shared by the staff lists and the API, so a filter has the same name
in both (`?status=approved&period=2026-03` on the statement list is the same on
/api/v1/rebate-statements/)."""

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from partners.forms import RegionChoiceField
from partners.models import Partner, PartnerTier, Region
from prm.filters import ALL, YesNoFilter
from prm.periods import Period, PeriodKind

from .choices import BudgetSource, MdfActivity, MdfStatus, RebateBasis, RebateMethod, StatementStatus
from .models import MdfBudget, MdfRequest, OverridePolicy, RebatePolicy, RebateStatement

PERIOD_HELP = _("2026-03 for a month, 2026-Q1 for a quarter, 2026 for a year.")


def _visible_partners(request):
    user = getattr(request, "user", None)
    return Partner.objects.visible_to(user) if user is not None else Partner.objects.none()


class PeriodCodeField(forms.CharField):
    """A period code, normalised ("2026-q1" → "2026-Q1"); a wrong one is an error on the field."""

    def clean(self, value):
        value = super().clean(value)
        return Period.parse(value).code if value else value


class PeriodFilter(django_filters.CharFilter):
    field_class = PeriodCodeField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label", _("Period"))
        kwargs.setdefault("widget", forms.TextInput(attrs={"placeholder": "2026-03", "maxlength": 7}))
        super().__init__(*args, **kwargs)


class RegionFilter(django_filters.ModelChoiceFilter):
    """Regions in tree order, indented by level, as in every region select."""

    field_class = RegionChoiceField


class _PartnerFilters(django_filters.FilterSet):
    """By partner id (the API, and links from the partner page: a hidden field in the list form so
    a network of thousands never renders into a select) or by code or name."""

    partner = django_filters.ModelChoiceFilter(label=_("Partner"), queryset=_visible_partners, widget=forms.HiddenInput)
    partner_q = django_filters.CharFilter(label=_("Partner code or name"), method="filter_partner_q")

    def filter_partner_q(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(partner__code__icontains=value) | Q(partner__name__icontains=value))


class RebatePolicyFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), field_name="name", lookup_expr="icontains")
    method = django_filters.ChoiceFilter(label=_("Method"), choices=RebateMethod.choices, empty_label=ALL)
    basis = django_filters.ChoiceFilter(label=_("Basis"), choices=RebateBasis.choices, empty_label=ALL)
    period = django_filters.ChoiceFilter(label=_("Period"), choices=PeriodKind.choices, empty_label=ALL)
    is_active = YesNoFilter(label=pgettext_lazy("policy", "Active"))

    class Meta:
        model = RebatePolicy
        fields = ["q", "method", "basis", "period", "is_active"]


class OverridePolicyFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), field_name="name", lookup_expr="icontains")
    period = django_filters.ChoiceFilter(label=_("Period"), choices=PeriodKind.choices, empty_label=ALL)
    is_active = YesNoFilter(label=pgettext_lazy("policy", "Active"))

    class Meta:
        model = OverridePolicy
        fields = ["q", "period", "is_active"]


class RebateStatementFilterSet(_PartnerFilters):
    period = PeriodFilter(help_text=PERIOD_HELP)
    status = django_filters.ChoiceFilter(label=_("Status"), choices=StatementStatus.choices, empty_label=ALL)
    tier = django_filters.ModelChoiceFilter(
        label=_("Tier"), field_name="partner__tier", queryset=PartnerTier.objects.order_by("rank"), empty_label=ALL
    )

    class Meta:
        model = RebateStatement
        fields = ["period", "status", "partner", "partner_q", "tier"]


class MdfBudgetFilterSet(_PartnerFilters):
    period = PeriodFilter(help_text=PERIOD_HELP)
    region = RegionFilter(
        label=_("Region"),
        queryset=Region.objects.order_by("path"),
        method="filter_region",
        empty_label=ALL,
    )
    source = django_filters.ChoiceFilter(label=_("Set by"), choices=BudgetSource.choices, empty_label=ALL)

    class Meta:
        model = MdfBudget
        fields = ["period", "partner", "partner_q", "region", "source"]

    @extend_schema_field(OpenApiTypes.INT)
    def filter_region(self, queryset, name, value):
        """Budgets of partners whose primary region is the region or below it."""
        if not value:
            return queryset
        return queryset.filter(partner__region__path__startswith=value.path)


class MdfRequestFilterSet(_PartnerFilters):
    status = django_filters.ChoiceFilter(label=_("Status"), choices=MdfStatus.choices, empty_label=ALL)
    activity_type = django_filters.ChoiceFilter(label=_("Activity type"), choices=MdfActivity.choices, empty_label=ALL)
    period = PeriodFilter(field_name="budget__period", help_text=_("The period of the request's budget."))

    class Meta:
        model = MdfRequest
        fields = ["status", "activity_type", "partner", "partner_q", "period"]
