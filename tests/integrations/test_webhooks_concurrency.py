"""Workers racing for the same delivery (a queued task and the sweep, or two sweeps): each opens
its own database connection, and exactly one sends it."""

import threading

import pytest
from django.db import connection

from integrations import services
from integrations.choices import DeliveryStatus, EventType
from integrations.events import event_record
from integrations.models import WebhookDelivery

from .webhooks_world import Receiver, endpoint_make

pytestmark = pytest.mark.django_db(transaction=True)

WORKERS = 4


def test_workers_racing_for_one_delivery_send_it_once(settings, monkeypatch):
    settings.PRM_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    monkeypatch.setattr(services, "_queue", lambda ids: None)
    with Receiver() as receiver:
        endpoint_make(receiver.url)
        delivery = WebhookDelivery.objects.get(
            event=event_record(EventType.PARTNER_CREATED, data={"id": 1}, object_id=1)
        )
        start = threading.Barrier(WORKERS)
        results = []

        def work():
            try:
                start.wait()
                results.append(services.delivery_attempt(delivery_id=delivery.pk))
            finally:
                connection.close()

        threads = [threading.Thread(target=work) for _ in range(WORKERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert len(results) == WORKERS
    assert sum(result is not None for result in results) == 1
    assert len(receiver.requests) == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED and delivery.attempts == 1
