"""FilterSets of agreements, shared by the staff list and the API, so a filter has the same name
in both."""

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from partners.models import Partner, Region
from prm.filters import ALL, YesNoFilter
from sales.models import ProductLine

from .choices import AgreementStatus, AgreementType
from .models import Agreement, AgreementTerritory

# The longest look-ahead the "expiring within" filter accepts (ten years), so a typo never
# builds a date past the calendar's end.
MAX_EXPIRY_DAYS = 3650


def _visible_partners(request):
    user = getattr(request, "user", None)
    return Partner.objects.visible_to(user) if user is not None else Partner.objects.none()


def _staff_users(request):
    return get_user_model().objects.filter(is_staff=True, is_active=True).order_by("username")


class AgreementFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="filter_q")
    status = django_filters.ChoiceFilter(label=_("Status"), choices=AgreementStatus.choices, empty_label=ALL)
    agreement_type = django_filters.ChoiceFilter(label=_("Type"), choices=AgreementType.choices, empty_label=ALL)
    # By id for the API and for links from the partner page; a hidden field in the list form so a
    # network with thousands of partners never renders them all into a select.
    partner = django_filters.ModelChoiceFilter(label=_("Partner"), queryset=_visible_partners, widget=forms.HiddenInput)
    partner_q = django_filters.CharFilter(label=_("Partner code or name"), method="filter_partner_q")
    region = django_filters.ModelChoiceFilter(
        label=_("Territory in region"),
        queryset=Region.objects.order_by("path"),
        method="filter_region",
        empty_label=ALL,
    )
    product_line = django_filters.ModelChoiceFilter(
        label=_("Product line"),
        queryset=ProductLine.objects.order_by("name"),
        method="filter_product_line",
        empty_label=ALL,
    )
    expiring_within = django_filters.NumberFilter(
        label=_("Expiring within (days)"),
        method="filter_expiring_within",
        min_value=0,
        max_value=MAX_EXPIRY_DAYS,
        widget=forms.NumberInput(attrs={"min": 0, "max": MAX_EXPIRY_DAYS, "step": 1}),
    )
    exclusive = YesNoFilter(label=_("Exclusive territory"), method="filter_exclusive")
    owner = django_filters.ModelChoiceFilter(label=_("Channel manager"), queryset=_staff_users, empty_label=ALL)

    class Meta:
        model = Agreement
        fields = [
            "q",
            "status",
            "agreement_type",
            "partner",
            "partner_q",
            "region",
            "product_line",
            "expiring_within",
            "exclusive",
            "owner",
        ]

    def filter_q(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(number__icontains=value)
            | Q(partner__code__icontains=value)
            | Q(partner__name__icontains=value)
            | Q(price_list__icontains=value)
        )

    def filter_partner_q(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(partner__code__icontains=value) | Q(partner__name__icontains=value))

    @extend_schema_field(OpenApiTypes.INT)
    def filter_region(self, queryset, name, value):
        """Agreements with a territory in the region or below it."""
        if not value:
            return queryset
        territories = AgreementTerritory.objects.filter(agreement=OuterRef("pk"), region__path__startswith=value.path)
        return queryset.filter(Exists(territories))

    @extend_schema_field(OpenApiTypes.INT)
    def filter_product_line(self, queryset, name, value):
        if not value:
            return queryset
        lines = Agreement.product_lines.through.objects.filter(agreement=OuterRef("pk"), productline=value)
        return queryset.filter(Exists(lines))

    @extend_schema_field(OpenApiTypes.INT)
    def filter_expiring_within(self, queryset, name, value):
        """Active agreements whose term ends between today and `value` days from now."""
        if value is None:
            return queryset
        return queryset.expiring_within(int(value), today=timezone.localdate())

    @extend_schema_field(OpenApiTypes.BOOL)
    def filter_exclusive(self, queryset, name, value):
        """Agreements that grant (or do not grant) at least one territory exclusively."""
        exclusive = Exists(AgreementTerritory.objects.filter(agreement=OuterRef("pk"), exclusive=True))
        return queryset.filter(exclusive) if value else queryset.exclude(exclusive)
