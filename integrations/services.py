"""Webhook endpoints and the delivery of events to them.

An event recorded by a business service (integrations.events) gets one pending delivery per
active endpoint subscribed to its type, in the same transaction; once it commits, a task sends
each one. Whatever the broker did, the sweep (`deliveries_send_due`, every minute) sends every
delivery that is due, so nothing recorded is lost. A delivery is claimed before it is sent (a
conditional update), so two workers never send the same one at once.

A 2xx answer delivers it; anything else, a timeout or a refused connection is a failed attempt,
retried after min(cap, base × 2^(attempt − 1)) until `PRM_WEBHOOK_MAX_ATTEMPTS` attempts, then
the delivery has failed. `PRM_WEBHOOK_DISABLE_AFTER` failed attempts in a row to one endpoint
disable it and tell the channel admins; enabling it again sends what waited."""

import json
import logging
import random
import time
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework.fields import DateTimeField

from prm.api.scopes import scope_grants
from prm.audit import acting_user
from prm.notifications import notify, page_url
from prm.roles import Role, is_channel_admin, is_integration

from . import sending
from .choices import PING, DeliveryStatus, EventType
from .models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent, secret_generate
from .signature import HEADER, sign
from .targets import target_check

logger = logging.getLogger(__name__)

# How long a claimed delivery is left to its worker before the sweep may try it again (a worker
# that died mid-send): the timeout plus a margin.
CLAIM_MARGIN = timedelta(seconds=60)
# How many due deliveries one sweep sends, and for how long at most; the next sweep takes the rest.
SWEEP_BATCH = 500
SWEEP_SECONDS = 50
# A commit that queues more deliveries than this (a month's scorecards) queues them in chunks,
# one task per chunk, rather than one task each.
QUEUE_ONE_BY_ONE = 20
QUEUE_CHUNK = 100


def can_manage_webhooks(user):
    """Channel admins (and vendor keys with `webhooks:write`, checked by the API first) manage
    endpoints; the rest of the channel team reads them."""
    return is_channel_admin(user) or is_integration(user)


def secret_visible(user):
    """Who may read an endpoint's signing secret: channel admins, and API keys that may change
    webhooks (`webhooks:write`); not the rest of the team, nor read-only keys."""
    scopes = getattr(user, "scopes", None)
    if scopes is not None:
        return is_integration(user) and scope_grants(scopes, "webhooks", write=True)
    return is_channel_admin(user)


def require_manage(user):
    """Refuse (PermissionDenied) whoever may only read webhooks: the one check of pages and services."""
    if not can_manage_webhooks(user):
        raise PermissionDenied(_("Only a channel admin can manage webhooks."))


def retry_delay(attempt):
    """The wait after failed attempt number `attempt` (1-based): base × 2^(attempt − 1), at most
    the cap."""
    base, cap = settings.PRM_WEBHOOK_RETRY_BASE_SECONDS, settings.PRM_WEBHOOK_RETRY_CAP_SECONDS
    return timedelta(seconds=min(cap, base * 2 ** (attempt - 1)))


# Endpoints -------------------------------------------------------------------------------------


def _events_clean(events):
    if isinstance(events, str):
        events = events.replace(",", " ").split()
    wanted = {str(value).strip() for value in events or ()}
    unknown = sorted(wanted - set(EventType.values))
    if unknown:
        raise ValidationError(
            {
                "events": [
                    _("“%(event)s” is not an event type; choose from: %(types)s.")
                    % {"event": value, "types": ", ".join(EventType.values)}
                    for value in unknown
                ]
            }
        )
    return [value for value in EventType.values if value in wanted]


def _endpoint_fields_clean(*, name, url, events):
    errors = {}
    name = (name or "").strip()
    url = (url or "").strip()
    if not name:
        errors["name"] = [_("Give the endpoint a name that says which system receives it.")]
    try:
        URLValidator(schemes=["http", "https"])(url)
        if len(url) > WebhookEndpoint._meta.get_field("url").max_length:
            raise ValidationError(_("The URL is too long: 500 characters at most."))
        target_check(url, resolve_required=False)
    except ValidationError as error:
        errors["url"] = error.messages
    try:
        events = _events_clean(events)
    except ValidationError as error:
        errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    return name, url, events


def endpoint_create(*, name, url, events, by):
    """A new endpoint, active, with a new signing secret. The URL must be one webhooks may go to
    (integrations.targets); every event type must be one of EventType."""
    require_manage(by)
    name, url, events = _endpoint_fields_clean(name=name, url=url, events=events)
    return WebhookEndpoint.objects.create(name=name, url=url, events=events, created_by=acting_user(by))


def endpoint_update(*, endpoint, by, name=None, url=None, events=None):
    """Change an endpoint's name, URL or events (those given); checked as on create. Deliveries
    already pending go to the new URL."""
    require_manage(by)
    name, url, events = _endpoint_fields_clean(
        name=endpoint.name if name is None else name,
        url=endpoint.url if url is None else url,
        events=endpoint.events if events is None else events,
    )
    endpoint.name, endpoint.url, endpoint.events = name, url, events
    endpoint.save(update_fields=["name", "url", "events", "updated_at"])
    return endpoint


def endpoint_secret_rotate(*, endpoint, by):
    """A new signing secret, used from the next attempt on; the old one stops working at once."""
    require_manage(by)
    endpoint.secret = secret_generate()
    endpoint.save(update_fields=["secret", "updated_at"])
    return endpoint


def endpoint_disable(*, endpoint, by, reason=""):
    """Stop sending to the endpoint. Its deliveries wait (pending) until it is enabled again;
    events recorded meanwhile are not queued for it."""
    require_manage(by)
    if not endpoint.is_active:
        return endpoint
    endpoint.is_active = False
    endpoint.disabled_at = timezone.now()
    endpoint.disabled_reason = (reason or _("Disabled by %(user)s.") % {"user": by})[:300]
    endpoint.save(update_fields=["is_active", "disabled_at", "disabled_reason", "updated_at"])
    return endpoint


def endpoint_enable(*, endpoint, by):
    """Send to the endpoint again: the failure count starts over and its pending deliveries are
    sent now."""
    require_manage(by)
    now = timezone.now()
    with transaction.atomic():
        endpoint.is_active = True
        endpoint.disabled_at = None
        endpoint.disabled_reason = ""
        endpoint.failure_count = 0
        endpoint.save(update_fields=["is_active", "disabled_at", "disabled_reason", "failure_count", "updated_at"])
        pending = WebhookDelivery.objects.filter(endpoint=endpoint, status=DeliveryStatus.PENDING)
        ids = list(pending.values_list("pk", flat=True))
        pending.update(next_attempt_at=now, updated_at=now)
        _queue(ids)
    return endpoint


def endpoint_delete(*, endpoint, by):
    """Delete the endpoint with its deliveries and their log."""
    require_manage(by)
    endpoint.delete()


def endpoint_test(*, endpoint, by):
    """Send the endpoint a test event (`ping`) now, whatever it subscribes to; the answer shows in
    the delivery log like any other."""
    require_manage(by)
    if not endpoint.is_active:
        raise ValidationError(_("The endpoint is disabled; enable it before sending a test event."))
    with transaction.atomic():
        event = WebhookEvent.objects.create(
            type=PING,
            object_id=str(endpoint.pk),
            data={"endpoint": endpoint.pk, "name": endpoint.name, "message": "Test event from PRM."},
        )
        delivery = WebhookDelivery.objects.create(event=event, endpoint=endpoint, next_attempt_at=timezone.now())
        _queue([delivery.pk])
    return delivery


# Deliveries ------------------------------------------------------------------------------------


def deliveries_for_events(events):
    """One pending delivery per event and active endpoint subscribed to its type (called by
    integrations.events in the transaction that records the events); queued once it commits."""
    events = [event for event in events if event.type != PING]
    if not events:
        return []
    endpoints = [endpoint for endpoint in WebhookEndpoint.objects.filter(is_active=True) if endpoint.events]
    now = timezone.now()
    rows = [
        WebhookDelivery(event=event, endpoint=endpoint, next_attempt_at=now, created_at=now)
        for event in events
        for endpoint in endpoints
        if endpoint.subscribes_to(event.type)
    ]
    if not rows:
        return []
    created = WebhookDelivery.objects.bulk_create(rows)
    if all(row.pk is not None for row in created):
        _queue([row.pk for row in created])
    return created


def delivery_redeliver(*, delivery, by):
    """Send the delivery again now, whatever its status (a failed one gets one more attempt; a
    delivered one is sent once more). Its endpoint must be enabled."""
    require_manage(by)
    if not delivery.endpoint.is_active:
        raise ValidationError(_("The endpoint is disabled; enable it before redelivering."))
    now = timezone.now()
    with transaction.atomic():
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.PENDING, next_attempt_at=now, updated_at=now
        )
        _queue([delivery.pk])
    delivery.refresh_from_db()
    return delivery


def _queue(delivery_ids):
    """Start sending once the transaction commits. A broker that cannot take the task changes
    nothing: the sweep sends every due delivery within a minute."""
    if not delivery_ids:
        return

    def send():
        from .tasks import deliveries_send, delivery_send

        try:
            if len(delivery_ids) <= QUEUE_ONE_BY_ONE:
                for delivery_id in delivery_ids:
                    delivery_send.delay(delivery_id)
            else:
                for start in range(0, len(delivery_ids), QUEUE_CHUNK):
                    deliveries_send.delay(delivery_ids[start : start + QUEUE_CHUNK])
        except Exception:
            logger.warning("Queueing webhook deliveries failed; the sweep will send them", exc_info=True)

    transaction.on_commit(send)


def delivery_body(event):
    """The JSON body of a delivery, as bytes: what the signature covers."""
    payload = {
        "id": str(event.pk),
        "type": event.type,
        "occurred_at": DateTimeField().to_representation(event.occurred_at),
        "data": event.data,
    }
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def _claim(delivery_id, now):
    """Take a due delivery for this worker: a conditional update on the row's own columns, which
    the database checks again under the row lock, so of two workers exactly one wins."""
    lease = now + timedelta(seconds=settings.PRM_WEBHOOK_TIMEOUT_SECONDS) + CLAIM_MARGIN
    return WebhookDelivery.objects.filter(
        pk=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now
    ).update(next_attempt_at=lease, updated_at=now)


def delivery_attempt(*, delivery_id):
    """One attempt at a delivery, if it is due and no other worker has it: sign, POST, log the
    attempt and decide what follows. Returns the attempt, or None when there was nothing to do."""
    now = timezone.now()
    if not _claim(delivery_id, now):
        return None
    delivery = WebhookDelivery.objects.select_related("event", "endpoint").get(pk=delivery_id)
    endpoint, event = delivery.endpoint, delivery.event
    if not endpoint.is_active:
        # It waits, due, until the endpoint is enabled again.
        WebhookDelivery.objects.filter(pk=delivery_id).update(next_attempt_at=now)
        return None
    body = delivery_body(event)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "PRM-Webhooks/1.0",
        "PRM-Event-Id": str(event.pk),
        "PRM-Event-Type": event.type,
        "PRM-Delivery-Id": str(delivery.pk),
        HEADER: sign(endpoint.secret, body),
    }
    outcome = sending.post(endpoint.url, body=body, headers=headers, timeout=settings.PRM_WEBHOOK_TIMEOUT_SECONDS)
    return _attempt_record(delivery, outcome)


def _attempt_record(delivery, outcome):
    now = timezone.now()
    number = delivery.attempts + 1
    with transaction.atomic():
        attempt = WebhookAttempt.objects.create(
            delivery=delivery,
            number=number,
            attempted_at=now,
            status_code=outcome.status_code,
            duration_ms=outcome.duration_ms,
            response_excerpt=outcome.excerpt,
            error=outcome.error,
            succeeded=outcome.succeeded,
        )
        changes = {
            "attempts": number,
            "last_attempt_at": now,
            "last_status_code": outcome.status_code,
            "last_error": outcome.error,
            "updated_at": now,
        }
        endpoints = WebhookEndpoint.objects.filter(pk=delivery.endpoint_id)
        if outcome.succeeded:
            changes.update(status=DeliveryStatus.DELIVERED, delivered_at=now, next_attempt_at=None)
            endpoints.filter(failure_count__gt=0).update(failure_count=0, updated_at=now)
        else:
            if number >= settings.PRM_WEBHOOK_MAX_ATTEMPTS:
                changes.update(status=DeliveryStatus.FAILED, next_attempt_at=None)
            else:
                jitter = timedelta(seconds=random.uniform(0, 5))
                changes.update(next_attempt_at=now + retry_delay(number) + jitter)
            endpoints.update(failure_count=F("failure_count") + 1, updated_at=now)
            _disable_if_failing(delivery.endpoint_id, outcome)
        WebhookDelivery.objects.filter(pk=delivery.pk).update(**changes)
    return attempt


DISABLED_SUBJECT = gettext_lazy("Webhook endpoint %(name)s disabled")
DISABLED_REASON = gettext_lazy("%(count)s delivery attempts in a row failed; the last: %(last)s")


def _disable_if_failing(endpoint_id, outcome):
    """An endpoint that failed `PRM_WEBHOOK_DISABLE_AFTER` attempts in a row is disabled (once:
    a conditional update) and the channel admins are told."""
    limit = settings.PRM_WEBHOOK_DISABLE_AFTER
    endpoint = WebhookEndpoint.objects.get(pk=endpoint_id)
    if not endpoint.is_active or endpoint.failure_count < limit:
        return
    last = f"HTTP {outcome.status_code}" if outcome.status_code is not None else outcome.error
    now = timezone.now()
    reason = str(DISABLED_REASON % {"count": endpoint.failure_count, "last": last})[:300]
    disabled = WebhookEndpoint.objects.filter(pk=endpoint_id, is_active=True).update(
        is_active=False, disabled_at=now, disabled_reason=reason, updated_at=now
    )
    if not disabled:
        return
    admins = (
        get_user_model()
        .objects.filter(is_active=True, is_staff=True)
        .filter(Q(is_superuser=True) | Q(groups__name=Role.CHANNEL_ADMIN))
        .distinct()
    )
    params = {"name": endpoint.name, "url": endpoint.url, "count": endpoint.failure_count, "last": last}
    notify(
        recipients=list(admins),
        subject=lambda: DISABLED_SUBJECT % params,
        message=lambda: (
            _(
                "Webhooks to %(name)s (%(url)s) are stopped: %(count)s delivery attempts in a row failed (the last: "
                "%(last)s). Events wait as pending deliveries; fix the receiver and enable the endpoint to send them."
            )
            % params
        ),
        url=page_url("integrations:endpoint-detail", endpoint.pk),
        dedupe_key=f"webhook-disabled-{endpoint.pk}-{now:%Y%m%d%H%M%S}",
    )


def deliveries_due(now=None):
    """The ids of the deliveries waiting to be sent (pending, due, to an enabled endpoint), oldest first."""
    now = now or timezone.now()
    return list(
        WebhookDelivery.objects.filter(
            status=DeliveryStatus.PENDING, next_attempt_at__lte=now, endpoint__is_active=True
        )
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )


def deliveries_send(delivery_ids, *, seconds=None):
    """One attempt at each of these deliveries that is due (a chunk queued together, or the
    sweep's), for at most `seconds`. Returns how many were attempted."""
    deadline = time.monotonic() + seconds if seconds else None
    sent = 0
    for delivery_id in delivery_ids:
        if deadline is not None and time.monotonic() > deadline:
            break
        if delivery_attempt(delivery_id=delivery_id) is not None:
            sent += 1
    return sent


def deliveries_send_due():
    """The sweep: one attempt at every due delivery (up to a batch and a time budget). Returns
    how many were attempted."""
    return deliveries_send(deliveries_due(), seconds=SWEEP_SECONDS)
