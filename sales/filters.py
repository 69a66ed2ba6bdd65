"""FilterSets of the product catalogue, shared by the staff lists and the API."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from prm.filters import ALL, YesNoFilter

from .models import Product, ProductLine


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
