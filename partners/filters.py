"""FilterSets shared by the staff lists and the API, so a filter has the same name in both."""

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from .choices import ContactRole, CreditRating, PartnerStatus, PartnerType, RegionKind
from .models import ManagerRegion, Partner, PartnerContact, PartnerTier, Region

ALL = _("All")


def _visible_partners(request):
    user = getattr(request, "user", None)
    return Partner.objects.visible_to(user) if user is not None else Partner.objects.none()


def _visible_distributors(request):
    return _visible_partners(request).filter(partner_type="distributor")


def _staff_users(request):
    return get_user_model().objects.filter(is_staff=True, is_active=True).order_by("username")


class PartnerFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="filter_q")
    region = django_filters.ModelChoiceFilter(
        label=_("Region (with sub-regions)"),
        queryset=Region.objects.order_by("path"),
        method="filter_region",
        empty_label=ALL,
    )
    tier = django_filters.ModelChoiceFilter(label=_("Tier"), queryset=PartnerTier.objects.all(), empty_label=ALL)
    partner_type = django_filters.ChoiceFilter(label=_("Type"), choices=PartnerType.choices, empty_label=ALL)
    status = django_filters.ChoiceFilter(label=_("Status"), choices=PartnerStatus.choices, empty_label=ALL)
    owner = django_filters.ModelChoiceFilter(label=_("Channel manager"), queryset=_staff_users, empty_label=ALL)
    # By id for the API and for links from the partner page; a hidden field in the list form so a
    # network with thousands of distributors never renders them all into a select.
    parent = django_filters.ModelChoiceFilter(
        label=_("Parent partner"), queryset=_visible_distributors, widget=forms.HiddenInput
    )
    parent_code = django_filters.CharFilter(label=_("Parent code"), field_name="parent__code", lookup_expr="iexact")
    level = django_filters.NumberFilter(label=_("Network level"), field_name="depth", min_value=1)
    credit_rating = django_filters.ChoiceFilter(label=_("Credit rating"), choices=CreditRating.choices, empty_label=ALL)
    external_id = django_filters.CharFilter(label=_("External ID"))

    class Meta:
        model = Partner
        fields = [
            "q",
            "region",
            "tier",
            "partner_type",
            "status",
            "owner",
            "parent",
            "parent_code",
            "level",
            "credit_rating",
            "external_id",
        ]

    def filter_q(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(name__icontains=value)
            | Q(code__icontains=value)
            | Q(legal_name__icontains=value)
            | Q(external_id__iexact=value)
            | Q(email__icontains=value)
        )

    def filter_region(self, queryset, name, value):
        return queryset.in_region(value) if value else queryset


class RegionFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="filter_q")
    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=RegionKind.choices, empty_label=ALL)
    parent = django_filters.ModelChoiceFilter(label=_("Parent"), queryset=Region.objects.all())
    within = django_filters.ModelChoiceFilter(
        label=_("Within (with sub-regions)"), queryset=Region.objects.all(), method="filter_within"
    )

    class Meta:
        model = Region
        fields = ["q", "kind", "parent", "within", "code"]

    def filter_q(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(code__icontains=value)) if value.strip() else queryset

    @extend_schema_field(OpenApiTypes.INT)
    def filter_within(self, queryset, name, value):
        return queryset.subtree_of(value) if value else queryset


class PartnerTierFilterSet(django_filters.FilterSet):
    class Meta:
        model = PartnerTier
        fields = ["name", "rank"]


class PartnerContactFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="filter_q")
    partner = django_filters.ModelChoiceFilter(label=_("Partner"), queryset=_visible_partners)
    job_role = django_filters.ChoiceFilter(label=_("Job role"), choices=ContactRole.choices, empty_label=ALL)
    has_login = django_filters.BooleanFilter(
        label=_("Has portal login"), field_name="user", lookup_expr="isnull", exclude=True
    )

    class Meta:
        model = PartnerContact
        fields = ["q", "partner", "job_role", "is_primary", "has_login"]

    def filter_q(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(email__icontains=value) | Q(phone__icontains=value))


class ManagerRegionFilterSet(django_filters.FilterSet):
    manager = django_filters.ModelChoiceFilter(label=_("Channel manager"), queryset=_staff_users)
    region = django_filters.ModelChoiceFilter(label=_("Region"), queryset=Region.objects.all())
    within = django_filters.ModelChoiceFilter(
        label=_("Within (with sub-regions)"), queryset=Region.objects.all(), method="filter_within"
    )

    class Meta:
        model = ManagerRegion
        fields = ["manager", "region", "within"]

    @extend_schema_field(OpenApiTypes.INT)
    def filter_within(self, queryset, name, value):
        return queryset.filter(region__path__startswith=value.path) if value else queryset
