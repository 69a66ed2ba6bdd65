from django.contrib import admin

from .models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    list_display = ["occurred_at", "type", "object_id", "partner"]
    list_filter = ["type"]
    search_fields = ["object_id"]
    raw_id_fields = ["partner"]
    readonly_fields = ["id", "type", "occurred_at", "object_id", "partner", "data"]


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ["name", "url", "is_active", "failure_count", "disabled_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "url"]
    readonly_fields = ["secret", "created_by", "created_at", "updated_at"]


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    readonly_fields = ["number", "attempted_at", "status_code", "duration_ms", "succeeded", "error", "response_excerpt"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["created_at", "event", "endpoint", "status", "attempts", "last_status_code", "next_attempt_at"]
    list_filter = ["status", "endpoint"]
    raw_id_fields = ["event", "endpoint"]
    inlines = [WebhookAttemptInline]


@admin.register(WebhookAttempt)
class WebhookAttemptAdmin(admin.ModelAdmin):
    list_display = ["attempted_at", "delivery", "number", "status_code", "succeeded", "duration_ms"]
    list_filter = ["succeeded"]
    raw_id_fields = ["delivery"]
