"""Staff pages of the webhooks: the endpoints (with their secret and actions) and the delivery
log with each attempt. Everyone on the channel team reads them; channel admins change them, and
integrations.services checks it again."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Max, Q
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView

from prm.views import ObjectListView, ServiceFormView, StaffRequiredMixin

from . import services
from .choices import DeliveryStatus
from .filters import DeliveryFilterSet, EndpointFilterSet
from .forms import DisableForm, EndpointForm
from .models import WebhookDelivery, WebhookEndpoint

RECENT_DELIVERIES = 20


class TabsMixin:
    """The webhooks sub-navigation (templates/integrations/_tabs.html) names the current tab."""

    tab = None

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            tab=self.tab, can_manage=services.can_manage_webhooks(self.request.user), **kwargs
        )


class EndpointListView(TabsMixin, ObjectListView):
    """Every endpoint: its state, events, failures in a row, pending deliveries and last attempt."""

    tab = "endpoints"
    model = WebhookEndpoint
    template_name = "integrations/endpoint_list.html"
    filterset_class = EndpointFilterSet
    ordering_fields = {"name": "name", "failures": "failure_count", "last": "last_attempt_at", "created": "created_at"}
    default_ordering = ["name", "pk"]

    def get_base_queryset(self):
        return WebhookEndpoint.objects.annotate(
            last_attempt_at=Max("deliveries__last_attempt_at"),
            pending_count=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.PENDING)),
        )


class EndpointCreateView(TabsMixin, ServiceFormView):
    tab = "endpoints"
    form_class = EndpointForm
    template_name = "integrations/endpoint_form.html"
    success_message = gettext_lazy("Webhook endpoint created. Give its signing secret to the receiving system.")

    def load_objects(self, **kwargs):
        services.require_manage(self.request.user)

    def perform(self, form):
        return services.endpoint_create(by=self.request.user, **form.cleaned_data)


class EndpointEditView(TabsMixin, ServiceFormView):
    tab = "endpoints"
    form_class = EndpointForm
    template_name = "integrations/endpoint_form.html"
    success_message = gettext_lazy("Webhook endpoint saved.")

    def load_objects(self, pk):
        services.require_manage(self.request.user)
        self.endpoint = get_object_or_404(WebhookEndpoint, pk=pk)

    def get_initial(self):
        return {"name": self.endpoint.name, "url": self.endpoint.url, "events": self.endpoint.events}

    def get_context_data(self, **kwargs):
        return super().get_context_data(endpoint=self.endpoint, **kwargs)

    def perform(self, form):
        return services.endpoint_update(endpoint=self.endpoint, by=self.request.user, **form.cleaned_data)


class EndpointDetailView(TabsMixin, StaffRequiredMixin, TemplateView):
    """One endpoint: its settings, secret (for channel admins), actions and latest deliveries."""

    tab = "endpoints"
    template_name = "integrations/endpoint_detail.html"

    def load_objects(self, pk):
        self.endpoint = get_object_or_404(WebhookEndpoint.objects.select_related("created_by"), pk=pk)

    def get_context_data(self, **kwargs):
        deliveries = self.endpoint.deliveries.select_related("event").order_by("-created_at", "-pk")
        return super().get_context_data(
            endpoint=self.endpoint,
            show_secret=services.secret_visible(self.request.user),
            deliveries=deliveries[:RECENT_DELIVERIES],
            disable_form=DisableForm(),
            **kwargs,
        )


class EndpointActionView(StaffRequiredMixin, TemplateView):
    """POST: enable, disable, rotate the secret or send a test event; back to the endpoint."""

    action = None
    http_method_names = ["post"]

    def load_objects(self, pk):
        services.require_manage(self.request.user)
        self.endpoint = get_object_or_404(WebhookEndpoint, pk=pk)

    def post(self, request, pk):
        endpoint, by = self.endpoint, request.user
        try:
            if self.action == "enable":
                services.endpoint_enable(endpoint=endpoint, by=by)
                messages.success(request, _("Endpoint enabled: the deliveries that waited are being sent."))
            elif self.action == "disable":
                form = DisableForm(request.POST)
                reason = form.cleaned_data["reason"] if form.is_valid() else ""
                services.endpoint_disable(endpoint=endpoint, reason=reason, by=by)
                messages.success(request, _("Endpoint disabled: nothing is sent to it until it is enabled."))
            elif self.action == "rotate-secret":
                services.endpoint_secret_rotate(endpoint=endpoint, by=by)
                messages.success(request, _("New signing secret made; the old one no longer signs deliveries."))
            elif self.action == "test":
                delivery = services.endpoint_test(endpoint=endpoint, by=by)
                messages.success(request, _("Test event queued; this page shows its attempts."))
                return redirect(delivery.get_absolute_url())
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        return redirect(endpoint.get_absolute_url())


class EndpointDeleteView(StaffRequiredMixin, TemplateView):
    """GET asks to confirm; POST deletes the endpoint with its deliveries and their log."""

    template_name = "integrations/endpoint_delete.html"

    def load_objects(self, pk):
        services.require_manage(self.request.user)
        self.endpoint = get_object_or_404(WebhookEndpoint, pk=pk)

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            endpoint=self.endpoint, delivery_count=self.endpoint.deliveries.count(), **kwargs
        )

    def post(self, request, pk):
        services.endpoint_delete(endpoint=self.endpoint, by=request.user)
        messages.success(request, _("Webhook endpoint %(name)s deleted.") % {"name": self.endpoint.name})
        return redirect("integrations:endpoint-list")


class DeliveryListView(TabsMixin, ObjectListView):
    """The delivery log: each event sent to each endpoint, filtered by status, event type and
    endpoint."""

    tab = "deliveries"
    model = WebhookDelivery
    template_name = "integrations/delivery_list.html"
    filterset_class = DeliveryFilterSet
    ordering_fields = {"created": "created_at", "attempts": "attempts", "next": "next_attempt_at"}
    default_ordering = ["-created_at", "-pk"]

    def get_base_queryset(self):
        return WebhookDelivery.objects.select_related("event", "endpoint")


class DeliveryDetailView(TabsMixin, StaffRequiredMixin, TemplateView):
    """One delivery: the event's body and every attempt with its status code and answer."""

    tab = "deliveries"
    template_name = "integrations/delivery_detail.html"

    def load_objects(self, pk):
        self.delivery = get_object_or_404(WebhookDelivery.objects.select_related("event", "endpoint"), pk=pk)

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            delivery=self.delivery,
            attempts=self.delivery.attempts_log.all(),
            body=services.delivery_body(self.delivery.event).decode(),
            **kwargs,
        )


class DeliveryRedeliverView(StaffRequiredMixin, TemplateView):
    """POST: send the delivery again now."""

    http_method_names = ["post"]

    def load_objects(self, pk):
        services.require_manage(self.request.user)
        self.delivery = get_object_or_404(WebhookDelivery.objects.select_related("endpoint"), pk=pk)

    def post(self, request, pk):
        try:
            services.delivery_redeliver(delivery=self.delivery, by=request.user)
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("Redelivery queued: a new attempt is made now."))
        return redirect(self.delivery.get_absolute_url())
