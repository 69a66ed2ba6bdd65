"""FilterSets of the webhook pages and the API (the same names in both): endpoints by state,
deliveries by status, event type and endpoint, events by type, partner and time. A value that
does not parse is a 400 naming the filter."""

import django_filters
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from partners.models import Partner
from prm.filters import ALL, YesNoFilter

from .choices import DeliveryStatus, EventType
from .models import WebhookDelivery, WebhookEndpoint, WebhookEvent


class EndpointFilterSet(django_filters.FilterSet):
    is_active = YesNoFilter(label=pgettext_lazy("webhook endpoint", "Active"))
    event = django_filters.ChoiceFilter(
        label=_("Event type"),
        choices=EventType.choices,
        empty_label=ALL,
        method="filter_event",
        help_text=_("Endpoints subscribed to it."),
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["is_active", "event"]

    def filter_event(self, queryset, name, value):
        # Endpoints are few; a JSON "contains" lookup is not available on every database.
        ids = [endpoint.pk for endpoint in queryset.only("pk", "events") if value in endpoint.events]
        return queryset.filter(pk__in=ids)


class DeliveryFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(label=_("Status"), choices=DeliveryStatus.choices, empty_label=ALL)
    event_type = django_filters.ChoiceFilter(
        label=_("Event type"), field_name="event__type", choices=EventType.choices, empty_label=ALL
    )
    endpoint = django_filters.ModelChoiceFilter(
        label=_("Endpoint"), queryset=WebhookEndpoint.objects.all(), empty_label=ALL
    )
    event = django_filters.UUIDFilter(label=_("Event"), field_name="event_id", help_text=_("The event's id."))

    class Meta:
        model = WebhookDelivery
        fields = ["status", "event_type", "endpoint", "event"]


class EventFilterSet(django_filters.FilterSet):
    type = django_filters.MultipleChoiceFilter(
        label=_("Event type"), choices=EventType.choices, help_text=_("Repeat for several: ?type=a&type=b.")
    )
    partner = django_filters.ModelChoiceFilter(label=_("Partner"), queryset=Partner.objects.all())
    object_id = django_filters.CharFilter(label=_("Object ID"))
    occurred_after = django_filters.IsoDateTimeFilter(
        label=_("Occurred after"),
        field_name="occurred_at",
        lookup_expr="gt",
        help_text=_("ISO 8601 date-time: events that occurred after it (to catch up from the last one seen)."),
    )
    occurred_before = django_filters.IsoDateTimeFilter(
        label=_("Occurred before"), field_name="occurred_at", lookup_expr="lt"
    )

    class Meta:
        model = WebhookEvent
        fields = ["type", "partner", "object_id", "occurred_after", "occurred_before"]
