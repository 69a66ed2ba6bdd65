"""FilterSets of the product catalogue, shared by the staff lists and the API."""

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from partners.forms import RegionChoiceField
from partners.models import Partner, Region
from prm.filters import ALL, YesNoFilter
from prm.periods import Period

from .models import Product, ProductLine, SalesLine, SalesSource


class ProductLineFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="filter_q")
    is_active = YesNoFilter(label=_("On sale"))

    class Meta:
        model = ProductLine
        fields = ["q", "is_active", "code"]

    def filter_q(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(code__icontains=value))


class ProductFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="filter_q")
    product_line = django_filters.ModelChoiceFilter(
        label=_("Product line"), queryset=ProductLine.objects.order_by("name"), empty_label=ALL
    )
    is_active = YesNoFilter(label=_("On sale"))

    class Meta:
        model = Product
        fields = ["q", "product_line", "is_active", "sku"]

    def filter_q(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(sku__icontains=value))


def _visible_partners(request):
    user = getattr(request, "user", None)
    return Partner.objects.visible_to(user) if user is not None else Partner.objects.none()


class PeriodCodeField(forms.CharField):
    """A period code ("2026-03", "2026-Q1", "2026") as a Period; a wrong one is an error on the field."""

    def clean(self, value):
        value = super().clean(value)
        return Period.parse(value) if value else None


@extend_schema_field(OpenApiTypes.STR)
class PeriodFilter(django_filters.Filter):
    field_class = PeriodCodeField

    def filter(self, queryset, value):
        if not value:
            return queryset
        return queryset.filter(sold_on__gte=value.start, sold_on__lte=value.end)


@extend_schema_field(OpenApiTypes.INT)
class RegionSubtreeFilter(django_filters.ModelChoiceFilter):
    """A region and every region below it."""

    field_class = RegionChoiceField

    def filter(self, queryset, value):
        if not value:
            return queryset
        return queryset.filter(customer_region__path__startswith=value.path)


class SalesLineFilterSet(django_filters.FilterSet):
    """The same names on /sales/lines/ and /api/v1/sales-lines/: `?period=2026-03` (a month, a
    quarter 2026-Q1 or a year 2026), `?partner=<id>`, `?product_line=<id>`, `?region=<id>` (the
    customer's region and the regions below it), `?source=portal|import|api`."""

    q = django_filters.CharFilter(label=_("Customer or external ID"), method="filter_q")
    partner = django_filters.ModelChoiceFilter(label=_("Partner"), queryset=_visible_partners, widget=forms.HiddenInput)
    partner_q = django_filters.CharFilter(label=_("Partner code or name"), method="filter_partner_q")
    period = PeriodFilter(
        label=_("Period"),
        help_text=_("2026-03 for a month, 2026-Q1 for a quarter, 2026 for a year."),
        widget=forms.TextInput(attrs={"placeholder": "2026-03", "maxlength": 7}),
    )
    product_line = django_filters.ModelChoiceFilter(
        label=_("Product line"), queryset=ProductLine.objects.order_by("name"), empty_label=ALL
    )
    region = RegionSubtreeFilter(
        label=_("Customer region (with sub-regions)"), queryset=Region.objects.order_by("path"), empty_label=ALL
    )
    source = django_filters.ChoiceFilter(label=_("Source"), choices=SalesSource.choices, empty_label=ALL)

    class Meta:
        model = SalesLine
        fields = ["q", "partner", "partner_q", "period", "product_line", "region", "source"]

    def filter_q(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(customer_id__icontains=value) | Q(customer_name__icontains=value) | Q(external_id__icontains=value)
        )

    def filter_partner_q(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(partner__code__icontains=value) | Q(partner__name__icontains=value))
