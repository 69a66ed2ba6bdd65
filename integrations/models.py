"""Outbound webhooks: the events this product records (the outbox), the endpoints that receive
them and each delivery of an event to an endpoint."""

import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .choices import EventType


class WebhookEvent(models.Model):
    """One thing that happened, recorded in the same transaction as the change itself, so that no
    event is lost when the worker or the broker is down. `data` is the object as the API shows it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    type = models.CharField(_("type"), max_length=40, choices=EventType.choices, db_index=True)
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

    class Meta:
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")
        ordering = ["-occurred_at"]

    def __str__(self):
        return f"{self.type} {self.object_id}"
