"""The webhooks API: endpoints CRUD with their actions (rotate the secret, enable, disable, send
a test event), the delivery log with redelivery, and the event log a CRM catches up from. Vendor
only: a key bound to a partner is refused everywhere; a read-only key reads without seeing
secrets; a channel manager reads but does not change. Lists cost the same few queries for few
and many rows."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from integrations import services
from integrations.choices import DeliveryStatus, EventType
from integrations.events import event_record
from integrations.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent
from tests.factories import AnalystFactory, ChannelManagerFactory, PartnerFactory, key_client

from .webhooks_world import endpoint_make

pytestmark = pytest.mark.django_db

ENDPOINTS = "/api/v1/webhook-endpoints/"
DELIVERIES = "/api/v1/webhook-deliveries/"
EVENTS = "/api/v1/webhook-events/"
PUBLIC_URL = "https://93.184.216.34/prm-hooks"


def field_errors(response):
    """Messages by field, whichever error body the API answers with ({"errors": {...}} or flat)."""
    body = response.json()
    return body.get("errors", body)


@pytest.fixture
def writer(staff_user):
    return key_client(staff_user, ["webhooks:write"])


@pytest.fixture
def reader(staff_user):
    return key_client(staff_user, ["webhooks:read"])


@pytest.fixture
def partner_key(staff_user):
    return key_client(staff_user, ["webhooks:read"], partner=PartnerFactory())


@pytest.fixture(autouse=True)
def queue_nothing(monkeypatch):
    """Deliveries stay pending: these tests look at the API, not at sending."""
    monkeypatch.setattr(services, "_queue", lambda ids: None)


def test_a_key_with_webhooks_write_registers_changes_and_deletes_an_endpoint(writer):
    created = writer.post(ENDPOINTS, {"name": "Salesforce", "url": PUBLIC_URL, "events": ["partner.created"]})
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["name"] == "Salesforce" and body["url"] == PUBLIC_URL and body["events"] == ["partner.created"]
    assert body["is_active"] is True and body["failure_count"] == 0
    assert body["secret"].startswith("whsec_") and body["created_by"] is None
    detail = f"{ENDPOINTS}{body['id']}/"

    changed = writer.patch(detail, {"events": ["region.flagged", "partner.created", "partner.created"]})
    assert changed.status_code == 200
    assert changed.json()["events"] == ["partner.created", "region.flagged"], "deduplicated, in the documented order"

    rotated = writer.post(f"{detail}rotate-secret/")
    assert rotated.status_code == 200 and rotated.json()["secret"] != body["secret"]
    assert WebhookEndpoint.objects.get().secret == rotated.json()["secret"]

    disabled = writer.post(f"{detail}disable/", {"reason": "CRM maintenance"})
    assert disabled.status_code == 200
    assert disabled.json()["is_active"] is False and disabled.json()["disabled_reason"] == "CRM maintenance"
    assert writer.post(f"{detail}test/").status_code == 400
    enabled = writer.post(f"{detail}enable/")
    assert enabled.json()["is_active"] is True and enabled.json()["disabled_reason"] == ""

    tested = writer.post(f"{detail}test/")
    assert tested.status_code == 202
    assert tested.json()["event_type"] == "ping" and tested.json()["status"] == "pending"

    delivery_id = WebhookDelivery.objects.get().pk
    assert writer.delete(detail).status_code == 204
    assert not WebhookEndpoint.objects.exists() and not WebhookDelivery.objects.exists()

    # A CRM syncing the endpoints learns of the deletion, and of the deliveries that went with it.
    gone = writer.get("/api/v1/deletions/", {"updated_since": "2000-01-01T00:00:00Z"}).json()["results"]
    assert {(row["type"], row["object_id"]) for row in gone} == {
        ("integrations.webhookendpoint", str(body["id"])),
        ("integrations.webhookdelivery", str(delivery_id)),
    }


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"name": "CRM", "url": "http://127.0.0.1:8000/hooks", "events": []}, "url"),
        ({"name": "CRM", "url": "http://169.254.169.254/latest", "events": []}, "url"),
        ({"name": "CRM", "url": "https://user:pw@93.184.216.34/", "events": []}, "url"),
        ({"name": "CRM", "url": "ftp://93.184.216.34/", "events": []}, "url"),
        ({"name": "CRM", "url": PUBLIC_URL, "events": ["partner.deleted"]}, "events"),
        ({"name": "CRM", "url": PUBLIC_URL, "events": ["ping"]}, "events"),
        ({"name": "CRM", "url": PUBLIC_URL, "events": "partner.created"}, "events"),
        ({"name": "", "url": PUBLIC_URL, "events": []}, "name"),
        ({"name": "CRM", "events": []}, "url"),
    ],
)
def test_bad_endpoints_are_refused_by_field_and_nothing_is_saved(settings, writer, payload, field):
    settings.PRM_WEBHOOK_ALLOWED_HOSTS = []
    response = writer.post(ENDPOINTS, payload, format="json")
    assert response.status_code == 400
    assert field in field_errors(response)
    assert not WebhookEndpoint.objects.exists()


def test_a_read_only_key_and_other_staff_read_without_the_secret_and_change_nothing(
    reader, staff_user, django_user_model
):
    endpoint = endpoint_make(PUBLIC_URL)
    listed = reader.get(ENDPOINTS)
    assert listed.status_code == 200
    assert [row["id"] for row in listed.json()["results"]] == [endpoint.pk]
    assert listed.json()["results"][0]["secret"] is None
    assert reader.post(ENDPOINTS, {"name": "X", "url": PUBLIC_URL, "events": []}).status_code == 403
    assert reader.post(f"{ENDPOINTS}{endpoint.pk}/rotate-secret/").status_code == 403

    for user in (ChannelManagerFactory(), AnalystFactory()):
        api = APIClient()
        api.force_authenticate(user)
        assert api.get(f"{ENDPOINTS}{endpoint.pk}/").json()["secret"] is None
        assert api.post(f"{ENDPOINTS}{endpoint.pk}/disable/").status_code == 403
    WebhookEndpoint.objects.get(pk=endpoint.pk, is_active=True)

    admin = APIClient()
    admin.force_authenticate(staff_user)
    assert admin.get(f"{ENDPOINTS}{endpoint.pk}/").json()["secret"] == endpoint.secret


def test_a_key_bound_to_a_partner_is_refused_on_every_webhook_route(partner_key):
    endpoint = endpoint_make(PUBLIC_URL)
    event = event_record(EventType.PARTNER_CREATED, data={"id": 1}, object_id=1)
    delivery = WebhookDelivery.objects.get(event=event)
    requests = [
        ("get", ENDPOINTS),
        ("get", f"{ENDPOINTS}{endpoint.pk}/"),
        ("post", ENDPOINTS),
        ("patch", f"{ENDPOINTS}{endpoint.pk}/"),
        ("delete", f"{ENDPOINTS}{endpoint.pk}/"),
        ("post", f"{ENDPOINTS}{endpoint.pk}/rotate-secret/"),
        ("post", f"{ENDPOINTS}{endpoint.pk}/test/"),
        ("get", DELIVERIES),
        ("get", f"{DELIVERIES}{delivery.pk}/"),
        ("post", f"{DELIVERIES}{delivery.pk}/redeliver/"),
        ("get", EVENTS),
        ("get", f"{EVENTS}{event.pk}/"),
    ]
    for method, url in requests:
        response = getattr(partner_key, method)(url)
        assert response.status_code == 403, (method, url)
        assert endpoint.secret not in response.content.decode()
    assert WebhookEndpoint.objects.filter(pk=endpoint.pk, secret=endpoint.secret).exists()


def test_the_delivery_log_lists_attempts_filters_and_redelivers(writer):
    crm = endpoint_make(PUBLIC_URL, events=["partner.created", "region.flagged"], name="CRM")
    erp = endpoint_make(PUBLIC_URL, events=["region.flagged"], name="ERP")
    created = event_record(EventType.PARTNER_CREATED, data={"id": 1}, object_id=1)
    flagged = event_record(EventType.REGION_FLAGGED, data={"id": 2}, object_id=2)
    failed = WebhookDelivery.objects.get(event=created)
    WebhookDelivery.objects.filter(pk=failed.pk).update(status=DeliveryStatus.FAILED, attempts=1, last_status_code=500)
    WebhookAttempt.objects.create(delivery=failed, number=1, status_code=500, response_excerpt="Internal error")

    everything = writer.get(DELIVERIES).json()
    assert everything["count"] == 3
    row = writer.get(f"{DELIVERIES}{failed.pk}/").json()
    assert row["event"] == str(created.pk) and row["event_type"] == "partner.created" and row["endpoint"] == crm.pk
    assert row["status"] == "failed" and row["last_status_code"] == 500
    assert [(a["number"], a["status_code"], a["response_excerpt"]) for a in row["attempts_log"]] == [
        (1, 500, "Internal error")
    ]

    def ids(query):
        response = writer.get(f"{DELIVERIES}?{query}")
        assert response.status_code == 200, response.content
        return {row["id"] for row in response.json()["results"]}

    assert ids("status=failed") == {failed.pk}
    assert ids("event_type=region.flagged") == set(
        WebhookDelivery.objects.filter(event=flagged).values_list("pk", flat=True)
    )
    assert ids(f"endpoint={erp.pk}") == {WebhookDelivery.objects.get(endpoint=erp).pk}
    assert ids(f"event={created.pk}") == {failed.pk}
    for bad in ("status=lost", "event_type=partner.deleted", "endpoint=999999", "event=not-a-uuid"):
        response = writer.get(f"{DELIVERIES}?{bad}")
        assert response.status_code == 400
        assert bad.split("=")[0] in field_errors(response)

    redelivered = writer.post(f"{DELIVERIES}{failed.pk}/redeliver/")
    assert redelivered.status_code == 202
    assert redelivered.json()["status"] == "pending"
    failed.refresh_from_db()
    assert failed.status == DeliveryStatus.PENDING and failed.next_attempt_at <= timezone.now()


def test_the_event_log_lets_a_crm_catch_up_and_hides_test_events(writer, staff_user):
    endpoint = endpoint_make(PUBLIC_URL)
    first = event_record(EventType.PARTNER_CREATED, data={"id": 1, "name": "A"}, object_id=1)
    later = event_record(EventType.AGREEMENT_ACTIVATED, data={"id": 7}, object_id=7)
    WebhookEvent.objects.filter(pk=later.pk).update(occurred_at=first.occurred_at + timedelta(minutes=5))
    services.endpoint_test(endpoint=endpoint, by=staff_user)

    listed = writer.get(EVENTS).json()
    assert [row["id"] for row in listed["results"]] == [str(first.pk), str(later.pk)], "oldest first, no ping"
    assert listed["results"][0]["data"] == {"id": 1, "name": "A"}
    assert listed["results"][0]["type"] == "partner.created"

    after = writer.get(EVENTS, {"occurred_after": listed["results"][0]["occurred_at"]}).json()
    assert [row["id"] for row in after["results"]] == [str(later.pk)]
    assert [row["id"] for row in writer.get(EVENTS, {"type": "agreement.activated"}).json()["results"]] == [
        str(later.pk)
    ]
    assert writer.get(f"{EVENTS}{later.pk}/").json()["object_id"] == "7"
    assert writer.get(EVENTS, {"occurred_after": "yesterday"}).status_code == 400
    assert writer.get(f"{EVENTS}not-a-uuid/").status_code == 404


LIST_QUERIES = {ENDPOINTS: 4, DELIVERIES: 5, EVENTS: 4}


@pytest.mark.parametrize("size", [2, 20])
@pytest.mark.parametrize("base", list(LIST_QUERIES))
def test_lists_issue_the_same_few_queries_for_few_and_many_rows(writer, django_assert_max_num_queries, size, base):
    endpoints = [endpoint_make(PUBLIC_URL, name=f"CRM {n}") for n in range(size)]
    for number in range(size):
        event = event_record(EventType.PARTNER_CREATED, data={"id": number}, object_id=number)
        delivery = WebhookDelivery.objects.filter(event=event).first()
        WebhookAttempt.objects.create(delivery=delivery, number=1, status_code=500)
    assert len(endpoints) == size
    with django_assert_max_num_queries(LIST_QUERIES[base]):
        response = writer.get(f"{base}?page_size=500")
    assert response.status_code == 200
    assert response.json()["count"] >= size


def test_the_schema_documents_the_webhook_routes(api_client):
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    paths = schema["paths"]
    assert set(paths[ENDPOINTS]) >= {"get", "post"}
    assert set(paths[ENDPOINTS + "{id}/"]) >= {"get", "put", "patch", "delete"}
    for action in ("rotate-secret", "enable", "disable", "test"):
        assert "post" in paths[f"{ENDPOINTS}{{id}}/{action}/"]
    assert "post" in paths[f"{DELIVERIES}{{id}}/redeliver/"]
    assert set(paths[EVENTS]) == {"get"}
    assert schema["components"]["schemas"]["EventTypeEnum"]["enum"] == list(EventType.values)


@pytest.mark.parametrize("base", [ENDPOINTS, DELIVERIES, EVENTS])
def test_every_webhook_list_syncs_with_updated_since(writer, base):
    endpoint_make(PUBLIC_URL)
    event_record(EventType.PARTNER_CREATED, data={"id": 1}, object_id=1)
    past = (timezone.now() - timedelta(hours=1)).isoformat()
    future = (timezone.now() + timedelta(hours=1)).isoformat()
    assert len(writer.get(base, {"updated_since": past}).json()["results"]) == 1
    assert writer.get(base, {"updated_since": future}).json()["results"] == []
    assert writer.get(base, {"updated_since": "last week"}).status_code == 400
