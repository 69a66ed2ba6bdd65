"""Recording an event: the one call the business apps make (inside their service's transaction)."""

import json

from rest_framework.renderers import JSONRenderer

from .choices import EventType  # noqa: F401  (re-exported for the emitting apps)
from .models import WebhookEvent
from .services import deliveries_for_events


def api_data(serializer):
    """A DRF serializer's `.data` as plain JSON values (Decimals as strings, dates in ISO 8601),
    exactly as the API would answer it."""
    return json.loads(JSONRenderer().render(serializer.data))


def event_record(event_type, *, data, object_id="", partner=None):
    """Record that `event_type` happened to an object (`data`: its JSON, as the API shows it).

    Call it inside the transaction that makes the change: the event is written with the change
    or not at all (the outbox), and delivery to the subscribed endpoints starts once the
    transaction commits."""
    event = WebhookEvent.objects.create(type=event_type, data=data, object_id=str(object_id), partner=partner)
    deliveries_for_events([event])
    return event


def event_record_many(events):
    """Record many events at once (a month's scorecards): `events` is an iterable of dicts with the
    keyword arguments of `event_record` plus `event_type`. Same transaction rule as `event_record`."""
    rows = [
        WebhookEvent(
            type=event["event_type"],
            data=event["data"],
            object_id=str(event.get("object_id", "")),
            partner=event.get("partner"),
        )
        for event in events
    ]
    created = WebhookEvent.objects.bulk_create(rows)
    deliveries_for_events(created)
    return created
