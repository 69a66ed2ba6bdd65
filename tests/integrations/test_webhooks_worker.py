"""A webhook delivery through a real Celery worker process: the task's arguments serialised as
JSON over the broker the settings name, the worker reading the committed delivery, signing it
and posting it to a receiver in this process, and the sweep finding what no task was queued for."""

import json

import pytest

from integrations import services, tasks
from integrations.choices import DeliveryStatus, EventType
from integrations.events import event_record
from integrations.models import WebhookDelivery
from integrations.signature import HEADER, verify
from tests.prm.test_worker import worker  # noqa: F401 - the fixture

from .webhooks_world import Receiver, endpoint_make

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker_env():
    return {"PRM_WEBHOOK_ALLOWED_HOSTS": "127.0.0.1"}


@pytest.fixture(autouse=True)
def queue_nothing(monkeypatch):
    """Nothing goes to the default queue: the test sends its tasks to the worker's own."""
    monkeypatch.setattr(services, "_queue", lambda ids: None)


def test_a_delivery_and_the_sweep_run_in_a_real_worker(worker):  # noqa: F811
    with Receiver() as receiver:
        endpoint = endpoint_make(receiver.url)
        first = event_record(EventType.PARTNER_CREATED, data={"id": 1, "name": "华东渠道"}, object_id=1)
        delivery = WebhookDelivery.objects.get(event=first)

        assert tasks.delivery_send.apply_async((delivery.pk,), queue=worker).get(timeout=120) is True

        assert len(receiver.requests) == 1
        request = receiver.requests[0]
        assert verify(endpoint.secret, request["headers"][HEADER], request["body"])
        assert json.loads(request["body"])["data"]["name"] == "华东渠道"
        delivery.refresh_from_db()
        assert delivery.status == DeliveryStatus.DELIVERED

        second = event_record(EventType.PARTNER_CREATED, data={"id": 2}, object_id=2)
        assert tasks.deliveries_send_due.apply_async(queue=worker).get(timeout=120) == 1

    assert [r["headers"]["PRM-Event-Id"] for r in receiver.requests] == [str(first.pk), str(second.pk)]
    assert WebhookDelivery.objects.get(event=second).status == DeliveryStatus.DELIVERED
