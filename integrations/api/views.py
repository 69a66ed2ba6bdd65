"""The webhooks API: endpoints (with their secret, enable/disable, rotate and test actions), the
deliveries with their attempt log (and redelivery), and the event log a CRM catches up from.

Vendor only: API keys need `webhooks:read` or `webhooks:write`; a key bound to a partner is
refused (403). Staff read; channel admins (and keys with `webhooks:write`) change. Writes go
through integrations.services."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from prm.api.exceptions import BAD_INPUT, NOT_FOUND, REFUSED, service_errors
from prm.api.viewsets import GenericViewSet, ReadOnlyModelViewSet, ServiceModelViewSet

from .. import services
from ..choices import PING
from ..filters import DeliveryFilterSet, EndpointFilterSet, EventFilterSet
from ..models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from .serializers import (
    WebhookDeliverySerializer,
    WebhookEndpointDisableSerializer,
    WebhookEndpointSerializer,
    WebhookEventSerializer,
)


class WebhooksApi:
    api_area = "webhooks"
    partner_readable = False
    partner_writable_actions = ()


ENDPOINT_RULES = (
    "`url`: http or https, no user name or password in it, and a public host: a host that is or resolves to a "
    "loopback, private, link-local, multicast, reserved or unspecified address is refused under `url` unless the "
    "setting PRM_WEBHOOK_ALLOWED_HOSTS names it. `events`: event types from the list (an empty list sends nothing)."
)


@extend_schema_view(
    list=extend_schema(
        summary="List webhook endpoints",
        description="By name. `secret` is shown to channel admins and keys with webhooks:write, null to others.",
        responses={200: WebhookEndpointSerializer(many=True), 400: BAD_INPUT, 403: REFUSED},
    ),
    retrieve=extend_schema(
        summary="Read one webhook endpoint",
        responses={200: WebhookEndpointSerializer, 403: REFUSED, 404: NOT_FOUND},
    ),
    create=extend_schema(
        summary="Register a webhook endpoint",
        description='`{"name": "CRM", "url": "https://crm.example.com/prm-hooks", "events": ["partner.created", '
        '"agreement.activated"]}`. The answer carries the generated `secret` the receiver checks signatures with. '
        + ENDPOINT_RULES,
        responses={201: WebhookEndpointSerializer, 400: BAD_INPUT, 403: REFUSED},
    ),
    update=extend_schema(
        summary="Change a webhook endpoint",
        description=ENDPOINT_RULES,
        responses={200: WebhookEndpointSerializer, 400: BAD_INPUT, 403: REFUSED, 404: NOT_FOUND},
    ),
    partial_update=extend_schema(
        summary="Change some fields of a webhook endpoint",
        description=ENDPOINT_RULES,
        responses={200: WebhookEndpointSerializer, 400: BAD_INPUT, 403: REFUSED, 404: NOT_FOUND},
    ),
    destroy=extend_schema(
        summary="Delete a webhook endpoint",
        description="With its deliveries and their log.",
        responses={204: None, 403: REFUSED, 404: NOT_FOUND},
    ),
)
class WebhookEndpointViewSet(WebhooksApi, ServiceModelViewSet):
    """Where events are sent: a URL, the event types it wants and the secret deliveries are signed
    with. Endpoints that keep failing are disabled with a reason."""

    serializer_class = WebhookEndpointSerializer
    filterset_class = EndpointFilterSet
    ordering_fields = ["name", "created_at", "updated_at", "failure_count"]
    ordering = ["name", "id"]

    def get_queryset(self):
        return WebhookEndpoint.objects.all()

    def create_object(self, data):
        with service_errors():
            return services.endpoint_create(
                name=data.get("name", ""), url=data.get("url", ""), events=data.get("events", []), by=self.request.user
            )

    def update_object(self, instance, data):
        with service_errors():
            return services.endpoint_update(
                endpoint=instance,
                name=data.get("name"),
                url=data.get("url"),
                events=data.get("events"),
                by=self.request.user,
            )

    def delete_object(self, instance):
        services.endpoint_delete(endpoint=instance, by=self.request.user)

    def _answer(self, endpoint, code=status.HTTP_200_OK):
        return Response(self.get_serializer(self.get_queryset().get(pk=endpoint.pk)).data, status=code)

    @extend_schema(
        summary="Rotate the signing secret",
        request=None,
        description="A new `secret`, used from the next delivery attempt on; the old one stops working at once.",
        responses={200: WebhookEndpointSerializer, 403: REFUSED, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"], url_path="rotate-secret", filter_backends=[])
    def rotate_secret(self, request, pk=None):
        endpoint = self.get_object()
        services.endpoint_secret_rotate(endpoint=endpoint, by=request.user)
        return self._answer(endpoint)

    @extend_schema(
        summary="Enable an endpoint",
        request=None,
        description="Sending starts again: the failure count is reset and the deliveries that waited are sent now.",
        responses={200: WebhookEndpointSerializer, 403: REFUSED, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def enable(self, request, pk=None):
        endpoint = self.get_object()
        services.endpoint_enable(endpoint=endpoint, by=request.user)
        return self._answer(endpoint)

    @extend_schema(
        summary="Disable an endpoint",
        request=WebhookEndpointDisableSerializer,
        description='`{"reason": "CRM maintenance"}` (optional). Nothing is sent until it is enabled; its pending '
        "deliveries wait, and events recorded meanwhile are not queued for it.",
        responses={200: WebhookEndpointSerializer, 400: BAD_INPUT, 403: REFUSED, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def disable(self, request, pk=None):
        endpoint = self.get_object()
        payload = WebhookEndpointDisableSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.endpoint_disable(endpoint=endpoint, reason=payload.validated_data.get("reason", ""), by=request.user)
        return self._answer(endpoint)

    @extend_schema(
        summary="Send a test event",
        request=None,
        description=f"Queues a `{PING}` event to this endpoint only and answers 202 with its delivery; follow it "
        "under webhook-deliveries. A disabled endpoint answers 400.",
        responses={202: WebhookDeliverySerializer, 400: BAD_INPUT, 403: REFUSED, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def test(self, request, pk=None):
        endpoint = self.get_object()
        with service_errors():
            delivery = services.endpoint_test(endpoint=endpoint, by=request.user)
        return Response(
            WebhookDeliverySerializer(WebhookDelivery.objects.select_related("event").get(pk=delivery.pk)).data,
            status=status.HTTP_202_ACCEPTED,
        )


@extend_schema_view(
    list=extend_schema(
        summary="List webhook deliveries",
        description="One row per event and endpoint, newest first, each with its attempts (status code, duration, "
        "the start of the answer, the error). `status`: pending (waiting for its next attempt at "
        "`next_attempt_at`), delivered (answered 2xx) or failed (every attempt used up).",
        responses={200: WebhookDeliverySerializer(many=True), 400: BAD_INPUT, 403: REFUSED},
    ),
    retrieve=extend_schema(
        summary="Read one webhook delivery",
        responses={200: WebhookDeliverySerializer, 403: REFUSED, 404: NOT_FOUND},
    ),
)
class WebhookDeliveryViewSet(WebhooksApi, ReadOnlyModelViewSet):
    """The delivery log."""

    serializer_class = WebhookDeliverySerializer
    filterset_class = DeliveryFilterSet
    ordering_fields = ["created_at", "updated_at", "next_attempt_at", "attempts"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self):
        return WebhookDelivery.objects.select_related("event").prefetch_related("attempts_log")

    @extend_schema(
        summary="Redeliver",
        request=None,
        description="Sends the delivery again now, whatever its status: a failed delivery gets one more attempt, a "
        "delivered one is sent once more (receivers deduplicate by `PRM-Event-Id`). Answers 202. A delivery to a "
        "disabled endpoint answers 400.",
        responses={202: WebhookDeliverySerializer, 400: BAD_INPUT, 403: REFUSED, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def redeliver(self, request, pk=None):
        delivery = self.get_object()
        with service_errors():
            services.delivery_redeliver(delivery=delivery, by=request.user)
        return Response(self.get_serializer(self.get_queryset().get(pk=delivery.pk)).data, status=202)


@extend_schema_view(
    list=extend_schema(
        summary="List events (the event log)",
        description="Every event recorded, oldest first, with the object as it was then: a CRM that missed "
        "deliveries catches up with `?occurred_after=<occurred_at of the last event it has>` (allow some overlap "
        "and skip event ids it already has). Test events (ping) are not listed.",
        responses={200: WebhookEventSerializer(many=True), 400: BAD_INPUT, 403: REFUSED},
    ),
    retrieve=extend_schema(
        summary="Read one event", responses={200: WebhookEventSerializer, 403: REFUSED, 404: NOT_FOUND}
    ),
)
class WebhookEventViewSet(WebhooksApi, mixins.ListModelMixin, mixins.RetrieveModelMixin, GenericViewSet):
    """Events as they were recorded with the change that made them (the outbox)."""

    serializer_class = WebhookEventSerializer
    filterset_class = EventFilterSet
    ordering_fields = ["occurred_at"]
    ordering = ["occurred_at", "id"]

    def get_queryset(self):
        return WebhookEvent.objects.exclude(type=PING)
