"""Outbound webhooks: the events this product records (the outbox), the endpoints that receive
them, each delivery of an event to an endpoint and the log of its attempts."""

import secrets
import uuid

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .choices import EVENT_TYPE_CHOICES, DeliveryStatus

# Of a response body, this many characters are kept in the delivery log.
RESPONSE_EXCERPT_MAX = 2048


def secret_generate():
    """A new signing secret: 32 random bytes, URL-safe."""
    return "whsec_" + secrets.token_urlsafe(32)


class WebhookEvent(models.Model):
    """One thing that happened, recorded in the same transaction as the change itself, so that no
    event is lost when the worker or the broker is down. `data` is the object as the API shows it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    type = models.CharField(_("type"), max_length=40, choices=EVENT_TYPE_CHOICES, db_index=True)
    occurred_at = models.DateTimeField(_("occurred at"), default=timezone.now, db_index=True)
    object_id = models.CharField(_("object ID"), max_length=64, blank=True)
    partner = models.ForeignKey(
        "partners.Partner",
        verbose_name=_("partner"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The partner the object belongs to, if any."),
    )
    data = models.JSONField(_("data"), default=dict)
    # An event never changes: this is when it was written, for `updated_since` syncs of the event log.
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, db_index=True)

    class Meta:
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")
        ordering = ["-occurred_at"]

    def __str__(self):
        return f"{self.type} {self.object_id}"


class WebhookEndpoint(models.Model):
    """A URL of the vendor's CRM (or another system) that receives the events it subscribes to,
    signed with its secret. An endpoint whose deliveries keep failing is disabled, with the reason."""

    name = models.CharField(_("name"), max_length=100)
    url = models.URLField(_("URL"), max_length=500)
    secret = models.CharField(_("signing secret"), max_length=100, default=secret_generate, editable=False)
    events = models.JSONField(
        _("events"), default=list, blank=True, help_text=_("The event types sent here; none means none.")
    )
    is_active = models.BooleanField(_("active"), default=True)
    disabled_at = models.DateTimeField(_("disabled at"), null=True, blank=True)
    disabled_reason = models.CharField(_("why disabled"), max_length=300, blank=True)
    failure_count = models.PositiveIntegerField(
        _("failed attempts in a row"), default=0, help_text=_("Reset by any successful delivery.")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, db_index=True)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["name", "pk"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("integrations:endpoint-detail", args=[self.pk])

    def subscribes_to(self, event_type):
        return event_type in self.events


class WebhookDelivery(models.Model):
    """One event on its way to one endpoint: pending until the endpoint answers 2xx (delivered)
    or every attempt is used up (failed). Each attempt is in the log (`attempts_log`)."""

    event = models.ForeignKey(
        WebhookEvent, verbose_name=_("event"), on_delete=models.CASCADE, related_name="deliveries"
    )
    endpoint = models.ForeignKey(
        WebhookEndpoint, verbose_name=_("endpoint"), on_delete=models.CASCADE, related_name="deliveries"
    )
    status = models.CharField(
        _("status"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING, db_index=True
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    last_attempt_at = models.DateTimeField(_("last attempt at"), null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(_("last HTTP status"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, db_index=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["event", "endpoint"], name="integrations_delivery_once_per_endpoint")
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="integrations_delivery_due")]

    def __str__(self):
        return f"{self.event.type} → {self.endpoint}"

    def get_absolute_url(self):
        return reverse("integrations:delivery-detail", args=[self.pk])


class WebhookAttempt(models.Model):
    """One try at a delivery (the delivery log): when, the HTTP status the endpoint answered (none
    when it could not be reached), how long it took, the start of its answer and the error."""

    delivery = models.ForeignKey(
        WebhookDelivery, verbose_name=_("webhook delivery"), on_delete=models.CASCADE, related_name="attempts_log"
    )
    number = models.PositiveIntegerField(_("attempt"))
    attempted_at = models.DateTimeField(_("attempted at"), default=timezone.now)
    status_code = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)
    response_excerpt = models.TextField(_("response excerpt"), blank=True)
    error = models.TextField(_("error"), blank=True)
    succeeded = models.BooleanField(_("succeeded"), default=False)

    class Meta:
        verbose_name = _("webhook delivery attempt")
        verbose_name_plural = _("webhook delivery attempts")
        ordering = ["-attempted_at", "-pk"]

    def __str__(self):
        return f"{self.delivery_id} #{self.number}"
