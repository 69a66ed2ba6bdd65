from .views import WebhookDeliveryViewSet, WebhookEndpointViewSet, WebhookEventViewSet


def register(router):
    """The webhook routes of /api/v1/."""
    router.register("webhook-endpoints", WebhookEndpointViewSet, basename="webhook-endpoint")
    router.register("webhook-deliveries", WebhookDeliveryViewSet, basename="webhook-delivery")
    router.register("webhook-events", WebhookEventViewSet, basename="webhook-event")
