"""Serializers of the webhooks API. They parse and shape; the rules are integrations.services'."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..choices import EVENT_TYPE_CHOICES, EventType
from ..models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent
from ..services import secret_visible


class WebhookEndpointSerializer(serializers.ModelSerializer):
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=EventType.choices),
        allow_empty=True,
        help_text=_("The event types sent to this endpoint; an empty list sends none."),
    )
    secret = serializers.SerializerMethodField(
        help_text=_(
            "The signing secret (see PRM-Signature), for channel admins and keys with webhooks:write; null for "
            "other callers."
        )
    )

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "name",
            "url",
            "events",
            "is_active",
            "disabled_at",
            "disabled_reason",
            "failure_count",
            "secret",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "id",
            "is_active",
            "disabled_at",
            "disabled_reason",
            "failure_count",
            "created_by",
            "created_at",
            "updated_at",
        ]
        extra_kwargs = {
            "url": {"help_text": _("http or https; private and loopback hosts are refused unless allowed.")},
            "created_by": {"help_text": _("The id of the user who created it; null when an API key did.")},
        }

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_secret(self, endpoint):
        request = self.context.get("request")
        return endpoint.secret if request is not None and secret_visible(request.user) else None


class WebhookEndpointDisableSerializer(serializers.Serializer):
    reason = serializers.CharField(
        required=False, allow_blank=True, max_length=300, help_text=_("Why; shown on the endpoint.")
    )


class WebhookAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields = ["number", "attempted_at", "status_code", "duration_ms", "succeeded", "response_excerpt", "error"]
        read_only_fields = fields
        extra_kwargs = {
            "status_code": {"help_text": _("The HTTP status the endpoint answered; null when none came.")},
            "response_excerpt": {"help_text": _("The first 2,048 characters of the answer.")},
            "error": {"help_text": _("Why no answer came (timeout, connection refused, address refused).")},
        }


class WebhookDeliverySerializer(serializers.ModelSerializer):
    event_type = serializers.ChoiceField(source="event.type", choices=EVENT_TYPE_CHOICES, read_only=True)
    attempts_log = WebhookAttemptSerializer(many=True, read_only=True, help_text=_("Newest attempt first."))

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event",
            "event_type",
            "endpoint",
            "status",
            "attempts",
            "next_attempt_at",
            "delivered_at",
            "last_attempt_at",
            "last_status_code",
            "last_error",
            "created_at",
            "updated_at",
            "attempts_log",
        ]
        read_only_fields = fields


class WebhookEventSerializer(serializers.ModelSerializer):
    """An event exactly as deliveries carry it, plus its partner."""

    class Meta:
        model = WebhookEvent
        fields = ["id", "type", "occurred_at", "object_id", "partner", "data"]
        read_only_fields = fields
        extra_kwargs = {
            "data": {"help_text": _("The object as the API's detail endpoint showed it when the event occurred.")},
            "partner": {"help_text": _("The id of the partner the object belongs to, or null.")},
        }
