"""Webhook delivery, end to end against a real HTTP receiver on 127.0.0.1: the body and the
signature a receiver checks, retries with growing waits up to a cap and a number of attempts,
endpoints that keep failing disabled with a notice to the channel admins, the outbox (an event
exists only if its change committed, and is delivered even when the task queue was down),
redelivery, and two workers never sending the same delivery."""

import json
import socket
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from integrations import services, tasks
from integrations.choices import DeliveryStatus, EventType
from integrations.events import event_record, event_record_many
from integrations.models import WebhookDelivery, WebhookEvent
from integrations.signature import HEADER, sign, verify
from prm.models import Notification
from tests.factories import AnalystFactory

from .webhooks_world import Receiver, endpoint_make

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def loopback_allowed(settings):
    settings.PRM_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.PRM_WEBHOOK_RETRY_BASE_SECONDS = 60
    settings.PRM_WEBHOOK_RETRY_CAP_SECONDS = 6 * 60 * 60


@pytest.fixture(autouse=True)
def no_jitter(monkeypatch):
    monkeypatch.setattr(services.random, "uniform", lambda low, high: 0)


@pytest.fixture
def tasks_inline(monkeypatch):
    """The task a committed event queues runs at once, in this thread."""
    monkeypatch.setattr(tasks.delivery_send, "delay", lambda delivery_id: tasks.delivery_send(delivery_id))


class Clock:
    def __init__(self, monkeypatch):
        self.now = timezone.now()
        monkeypatch.setattr(timezone, "now", lambda: self.now)

    def advance(self, **delta):
        self.now += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch)


def partner_created(number=1):
    return event_record(
        EventType.PARTNER_CREATED, data={"id": number, "code": f"P-{number}", "name": "华东渠道"}, object_id=number
    )


def test_a_committed_event_reaches_the_receiver_signed_and_the_signature_verifies(
    django_capture_on_commit_callbacks, tasks_inline
):
    with Receiver() as receiver:
        endpoint = endpoint_make(receiver.url, events=["partner.created", "agreement.activated"])
        with django_capture_on_commit_callbacks(execute=True):
            event = partner_created()

    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    headers, body = request["headers"], request["body"]
    assert request["path"] == "/prm-hooks"
    assert headers["Content-Type"] == "application/json"
    assert headers["PRM-Event-Id"] == str(event.pk)
    assert headers["PRM-Event-Type"] == "partner.created"
    payload = json.loads(body)
    assert payload["id"] == str(event.pk)
    assert payload["type"] == "partner.created"
    assert payload["data"] == {"id": 1, "code": "P-1", "name": "华东渠道"}
    assert payload["occurred_at"].startswith(str(timezone.localtime(event.occurred_at).date()))

    signature = headers[HEADER]
    assert signature.startswith("t=") and ",v1=" in signature
    assert verify(endpoint.secret, signature, body)
    assert not verify(endpoint.secret, signature, body.replace("华东".encode(), "华南".encode()))
    assert not verify("whsec_another", signature, body)
    timestamp = int(signature.split(",")[0][2:])
    assert not verify(endpoint.secret, signature, body, now=timestamp + 301)
    assert verify(endpoint.secret, signature, body, now=timestamp + 299)
    assert not verify(endpoint.secret, sign(endpoint.secret, body, timestamp=timestamp - 3600), body)

    delivery = WebhookDelivery.objects.get(event=event, endpoint=endpoint)
    assert delivery.status == DeliveryStatus.DELIVERED
    assert delivery.attempts == 1 and delivery.last_status_code == 200 and delivery.delivered_at is not None
    attempt = delivery.attempts_log.get()
    assert (attempt.number, attempt.status_code, attempt.succeeded) == (1, 200, True)
    assert attempt.response_excerpt == "answer 200"


def test_only_active_endpoints_subscribed_to_the_type_get_a_delivery():
    wanted = endpoint_make("http://127.0.0.1:9/a", events=["partner.created"])
    endpoint_make("http://127.0.0.1:9/b", events=["agreement.activated"])
    endpoint_make("http://127.0.0.1:9/c", events=["partner.created"], is_active=False)
    endpoint_make("http://127.0.0.1:9/d", events=[])

    event = partner_created()
    many = event_record_many(
        [{"event_type": EventType.PARTNER_CREATED, "data": {"id": n}, "object_id": n} for n in (2, 3)]
    )

    assert list(WebhookDelivery.objects.filter(event=event).values_list("endpoint", flat=True)) == [wanted.pk]
    assert WebhookDelivery.objects.filter(event__in=many, endpoint=wanted).count() == 2
    assert WebhookDelivery.objects.count() == 3
    assert all(d.status == DeliveryStatus.PENDING for d in WebhookDelivery.objects.all())


def test_failed_attempts_are_retried_with_doubling_waits_and_a_success_resets_the_count(clock):
    with Receiver(answers=[500, 502, 200]) as receiver:
        endpoint = endpoint_make(receiver.url)
        delivery = WebhookDelivery.objects.get(event=partner_created())
        start = clock.now

        assert services.deliveries_send_due() == 1
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, 500)
        assert delivery.next_attempt_at == start + timedelta(seconds=60)
        endpoint.refresh_from_db()
        assert endpoint.failure_count == 1

        clock.advance(seconds=59)
        assert services.deliveries_send_due() == 0, "not due before its wait is over"
        clock.advance(seconds=1)
        assert services.deliveries_send_due() == 1
        delivery.refresh_from_db()
        assert (delivery.attempts, delivery.last_status_code) == (2, 502)
        assert delivery.next_attempt_at == clock.now + timedelta(seconds=120)

        clock.advance(seconds=120)
        assert services.deliveries_send_due() == 1

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED and delivery.attempts == 3
    assert list(delivery.attempts_log.order_by("number").values_list("status_code", "succeeded")) == [
        (500, False),
        (502, False),
        (200, True),
    ]
    assert len(receiver.requests) == 3
    assert len({r["headers"]["PRM-Event-Id"] for r in receiver.requests}) == 1, "the same event each time"
    endpoint.refresh_from_db()
    assert endpoint.failure_count == 0


def test_the_wait_doubles_up_to_the_cap_and_a_delivery_fails_after_the_last_attempt(settings, clock):
    assert [services.retry_delay(n).total_seconds() for n in (1, 2, 3, 8, 9, 10, 20)] == [
        60,
        120,
        240,
        7680,
        15360,
        21600,
        21600,
    ]
    settings.PRM_WEBHOOK_MAX_ATTEMPTS = 3
    with Receiver(answers=[503]) as receiver:
        endpoint_make(receiver.url)
        delivery = WebhookDelivery.objects.get(event=partner_created())
        for _attempt in range(5):
            services.deliveries_send_due()
            clock.advance(hours=6)

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.attempts == 3 and delivery.next_attempt_at is None
    assert len(receiver.requests) == 3


def test_no_answer_a_refused_connection_and_a_redirect_are_failed_attempts(settings):
    settings.PRM_WEBHOOK_TIMEOUT_SECONDS = 0.3
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    refused = endpoint_make(f"http://127.0.0.1:{closed_port}/hooks", name="Closed")
    with Receiver(answers=[302]) as redirecting, Receiver(delay=1) as slow:
        moved = endpoint_make(redirecting.url, name="Moved")
        silent = endpoint_make(slow.url, name="Slow")
        partner_created()
        services.deliveries_send_due()

    by_endpoint = {d.endpoint_id: d for d in WebhookDelivery.objects.all()}
    assert by_endpoint[refused.pk].last_status_code is None
    assert "ConnectionRefused" in by_endpoint[refused.pk].last_error
    assert by_endpoint[moved.pk].last_status_code == 302, "a redirect is not followed"
    assert len(redirecting.requests) == 1
    assert by_endpoint[silent.pk].last_status_code is None
    assert "timed out" in by_endpoint[silent.pk].last_error.lower()
    assert all(d.status == DeliveryStatus.PENDING and d.attempts == 1 for d in by_endpoint.values())


def test_an_endpoint_that_keeps_failing_is_disabled_the_admins_told_and_enabling_sends_what_waited(
    settings, staff_user, django_capture_on_commit_callbacks, tasks_inline
):
    settings.PRM_WEBHOOK_DISABLE_AFTER = 3
    analyst = AnalystFactory()
    with Receiver(answers=[500, 500, 500, 200]) as receiver:
        endpoint = endpoint_make(receiver.url)
        for number in range(4):
            partner_created(number)
        services.deliveries_send_due()

        endpoint.refresh_from_db()
        assert not endpoint.is_active
        assert endpoint.failure_count == 3
        assert "3 delivery attempts in a row failed" in endpoint.disabled_reason
        assert len(receiver.requests) == 3, "nothing is sent once the endpoint is disabled"
        notice = Notification.objects.get(recipient=staff_user)
        assert notice.subject == "Webhook endpoint CRM disabled"
        assert notice.url == endpoint.get_absolute_url()
        assert not Notification.objects.filter(recipient=analyst).exists()

        partner_created(9)
        assert WebhookDelivery.objects.filter(event__object_id="9").count() == 0, "not queued while disabled"
        assert services.deliveries_send_due() == 0

        with django_capture_on_commit_callbacks(execute=True):
            services.endpoint_enable(endpoint=endpoint, by=staff_user)

    endpoint.refresh_from_db()
    assert endpoint.is_active and endpoint.failure_count == 0 and endpoint.disabled_reason == ""
    assert len(receiver.requests) == 7
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {DeliveryStatus.DELIVERED}
    assert Notification.objects.filter(recipient=staff_user).count() == 1


def test_an_event_of_a_rolled_back_change_is_gone_with_its_deliveries():
    endpoint_make("http://127.0.0.1:9/hooks")
    with pytest.raises(RuntimeError), transaction.atomic():
        partner_created()
        raise RuntimeError("the change failed")
    assert not WebhookEvent.objects.exists()
    assert not WebhookDelivery.objects.exists()


def test_an_event_recorded_while_the_task_queue_is_down_is_delivered_by_the_sweep(
    monkeypatch, django_capture_on_commit_callbacks
):
    def broker_down(delivery_id):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(tasks.delivery_send, "delay", broker_down)
    with Receiver() as receiver:
        endpoint_make(receiver.url)
        with django_capture_on_commit_callbacks(execute=True):
            event = partner_created()
        assert receiver.requests == []
        assert WebhookDelivery.objects.get(event=event).status == DeliveryStatus.PENDING

        assert tasks.deliveries_send_due() == 1

    assert [r["headers"]["PRM-Event-Id"] for r in receiver.requests] == [str(event.pk)]
    assert WebhookDelivery.objects.get(event=event).status == DeliveryStatus.DELIVERED


def test_a_delivery_another_worker_holds_is_not_sent_twice(clock):
    with Receiver() as receiver:
        endpoint_make(receiver.url)
        delivery = WebhookDelivery.objects.get(event=partner_created())
        assert services._claim(delivery.pk, clock.now) == 1, "worker A takes it"
        assert services.delivery_attempt(delivery_id=delivery.pk) is None, "worker B finds it taken"
        assert services.deliveries_send_due() == 0
        assert receiver.requests == []

        clock.advance(minutes=5)  # worker A died: its claim lapses and the sweep sends it
        assert services.deliveries_send_due() == 1
    assert len(receiver.requests) == 1


def test_redelivery_sends_a_failed_delivery_again_now(
    settings, staff_user, django_capture_on_commit_callbacks, tasks_inline
):
    settings.PRM_WEBHOOK_MAX_ATTEMPTS = 1
    with Receiver(answers=[500, 200]) as receiver:
        endpoint = endpoint_make(receiver.url)
        delivery = WebhookDelivery.objects.get(event=partner_created())
        services.deliveries_send_due()
        delivery.refresh_from_db()
        assert delivery.status == DeliveryStatus.FAILED

        with pytest.raises(PermissionDenied):
            services.delivery_redeliver(delivery=delivery, by=AnalystFactory())
        with django_capture_on_commit_callbacks(execute=True):
            services.delivery_redeliver(delivery=delivery, by=staff_user)

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED and delivery.attempts == 2
    assert len(receiver.requests) == 2

    services.endpoint_disable(endpoint=endpoint, by=staff_user, reason="CRM maintenance")
    with pytest.raises(ValidationError, match="enable it"):
        services.delivery_redeliver(delivery=delivery, by=staff_user)


def test_a_test_event_goes_to_that_endpoint_only_and_is_not_in_the_event_log(
    staff_user, django_capture_on_commit_callbacks, tasks_inline
):
    with Receiver() as receiver, Receiver() as other:
        endpoint = endpoint_make(receiver.url, events=["partner.created"])
        endpoint_make(other.url, events=list(EventType.values))
        with django_capture_on_commit_callbacks(execute=True):
            delivery = services.endpoint_test(endpoint=endpoint, by=staff_user)
    assert [json.loads(r["body"])["type"] for r in receiver.requests] == ["ping"]
    assert other.requests == []
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED


def test_a_url_that_now_resolves_to_an_internal_address_is_refused_at_send_time(settings):
    settings.PRM_WEBHOOK_ALLOWED_HOSTS = []
    endpoint_make("http://10.0.0.5/hooks")
    delivery = WebhookDelivery.objects.get(event=partner_created())
    services.deliveries_send_due()
    delivery.refresh_from_db()
    assert delivery.last_status_code is None
    assert "PRM_WEBHOOK_ALLOWED_HOSTS" in delivery.last_error


def test_many_events_committed_together_are_queued_in_chunks(monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr(services, "QUEUE_CHUNK", 10)
    single, chunks = [], []
    monkeypatch.setattr(tasks.delivery_send, "delay", single.append)
    monkeypatch.setattr(tasks.deliveries_send, "delay", chunks.append)
    endpoint_make("http://127.0.0.1:9/hooks", events=["scorecard.published"])
    with django_capture_on_commit_callbacks(execute=True):
        event_record_many(
            [{"event_type": EventType.SCORECARD_PUBLISHED, "data": {"id": n}, "object_id": n} for n in range(25)]
        )
    assert single == []
    assert [len(chunk) for chunk in chunks] == [10, 10, 5]
    assert sorted(pk for chunk in chunks for pk in chunk) == sorted(
        WebhookDelivery.objects.values_list("pk", flat=True)
    )
