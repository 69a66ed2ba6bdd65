"""FilterSets of training, shared by the staff lists and the API, so a filter has the same name in
both (`?type=sales` in the course list is `?type=sales` on /api/v1/courses/)."""

import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from partners.models import Partner, PartnerContact, PartnerTier, Region
from prm.filters import ALL, YesNoFilter
from sales.models import ProductLine

from .choices import CourseLevel, CourseType, Delivery, RecordStatus
from .models import Course, TrainingRecord, TrainingSession

DATE_INPUT = forms.DateInput(attrs={"type": "date"})


def _visible_partners(request):
    user = getattr(request, "user", None)
    return Partner.objects.visible_to(user) if user is not None else Partner.objects.none()


def _visible_contacts(request):
    user = getattr(request, "user", None)
    return PartnerContact.objects.visible_to(user) if user is not None else PartnerContact.objects.none()


def _courses(request):
    return Course.objects.order_by("code")


class CourseFilterSet(django_filters.FilterSet):
    # `search` in the API (as the issue names it); the staff list's search box sends the same name.
    search = django_filters.CharFilter(label=_("Search"), method="filter_search")
    type = django_filters.ChoiceFilter(
        label=_("Type"), field_name="course_type", choices=CourseType.choices, empty_label=ALL
    )
    delivery = django_filters.ChoiceFilter(label=_("Delivery"), choices=Delivery.choices, empty_label=ALL)
    level = django_filters.ChoiceFilter(label=_("Course level"), choices=CourseLevel.choices, empty_label=ALL)
    product_line = django_filters.ModelChoiceFilter(
        label=_("Product line"), queryset=ProductLine.objects.order_by("name"), empty_label=ALL
    )
    required_by_tier = django_filters.ModelChoiceFilter(
        label=_("Required by tier"),
        queryset=PartnerTier.objects.all(),
        field_name="requirements__tier",
        distinct=True,
        empty_label=ALL,
    )
    is_active = YesNoFilter(label=_("Offered"))

    class Meta:
        model = Course
        fields = ["search", "type", "delivery", "level", "product_line", "required_by_tier", "is_active"]

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(code__icontains=value) | Q(title__icontains=value) | Q(description__icontains=value))


class SessionFilterSet(django_filters.FilterSet):
    course = django_filters.ModelChoiceFilter(label=_("Course"), queryset=_courses, empty_label=ALL)
    starts_after = django_filters.DateFilter(
        label=_("Starts on or after"), field_name="starts_at", lookup_expr="date__gte", widget=DATE_INPUT
    )
    starts_before = django_filters.DateFilter(
        label=_("Starts on or before"), field_name="starts_at", lookup_expr="date__lte", widget=DATE_INPUT
    )
    upcoming = YesNoFilter(label=_("Upcoming"), method="filter_upcoming")
    is_cancelled = YesNoFilter(label=_("Cancelled"))

    class Meta:
        model = TrainingSession
        fields = ["course", "starts_after", "starts_before", "upcoming", "is_cancelled"]

    @extend_schema_field(OpenApiTypes.BOOL)
    def filter_upcoming(self, queryset, name, value):
        """Sessions that have not started yet (or, with false, that have)."""
        now = timezone.now()
        return queryset.filter(starts_at__gt=now) if value else queryset.filter(starts_at__lte=now)


class TrainingRecordFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="filter_q")
    # By id for the API and for links from the partner page; hidden in the list form so thousands of
    # partners and people never render into a select.
    partner = django_filters.ModelChoiceFilter(
        label=_("Partner"), field_name="contact__partner", queryset=_visible_partners, widget=forms.HiddenInput
    )
    contact = django_filters.ModelChoiceFilter(label=_("Person"), queryset=_visible_contacts, widget=forms.HiddenInput)
    region = django_filters.ModelChoiceFilter(
        label=_("Partner in region"),
        queryset=Region.objects.order_by("path"),
        method="filter_region",
        empty_label=ALL,
    )
    course = django_filters.ModelChoiceFilter(label=_("Course"), queryset=_courses, empty_label=ALL)
    session = django_filters.ModelChoiceFilter(
        label=_("Session"), queryset=TrainingSession.objects.all(), widget=forms.HiddenInput
    )
    status = django_filters.ChoiceFilter(label=_("Status"), choices=RecordStatus.choices, empty_label=ALL)
    expiring_before = django_filters.DateFilter(
        label=_("Certification expires before"), method="filter_expiring_before", widget=DATE_INPUT
    )
    completed_after = django_filters.DateFilter(
        label=_("Completed on or after"), field_name="completed_on", lookup_expr="gte", widget=DATE_INPUT
    )
    completed_before = django_filters.DateFilter(
        label=_("Completed on or before"), field_name="completed_on", lookup_expr="lte", widget=DATE_INPUT
    )

    class Meta:
        model = TrainingRecord
        fields = [
            "q",
            "partner",
            "contact",
            "region",
            "course",
            "session",
            "status",
            "expiring_before",
            "completed_after",
            "completed_before",
        ]

    def filter_q(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(contact__name__icontains=value)
            | Q(contact__email__icontains=value)
            | Q(contact__partner__code__icontains=value)
            | Q(contact__partner__name__icontains=value)
            | Q(course__code__icontains=value)
            | Q(certificate_number__iexact=value)
        )

    @extend_schema_field(OpenApiTypes.INT)
    def filter_region(self, queryset, name, value):
        """Records of people whose partner's primary region is the region or below it."""
        return queryset.filter(contact__partner__region__path__startswith=value.path) if value else queryset

    @extend_schema_field(OpenApiTypes.DATE)
    def filter_expiring_before(self, queryset, name, value):
        """Passed records whose certification expires before the date: the ones to renew. Records
        already marked expired and certifications that never expire do not match."""
        if value is None:
            return queryset
        return queryset.filter(status=RecordStatus.PASSED, expires_on__isnull=False, expires_on__lt=value)
