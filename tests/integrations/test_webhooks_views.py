"""The webhook pages: channel admins register endpoints (the URL checked, events as checkboxes),
see and rotate the secret, disable, enable, send a test event and redeliver; the rest of the
channel team reads the lists and the log without the secret; partner users are refused. Every
page renders in English and Simplified Chinese, and the lists cost the same queries for few and
many rows."""

import pytest
from django.urls import reverse

from integrations import services
from integrations.choices import DeliveryStatus, EventType
from integrations.events import event_record
from integrations.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from tests.factories import AnalystFactory, PartnerUserFactory

from .webhooks_world import endpoint_make

pytestmark = pytest.mark.django_db

PUBLIC_URL = "https://93.184.216.34/prm-hooks"


@pytest.fixture(autouse=True)
def queue_nothing(monkeypatch):
    monkeypatch.setattr(services, "_queue", lambda ids: None)


@pytest.fixture
def world():
    endpoint = endpoint_make(PUBLIC_URL, events=["partner.created", "region.flagged"], name="Salesforce")
    event = event_record(EventType.PARTNER_CREATED, data={"id": 1, "name": "华东渠道"}, object_id=1)
    delivery = WebhookDelivery.objects.get(event=event)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.FAILED, attempts=1, last_status_code=503
    )
    WebhookAttempt.objects.create(delivery=delivery, number=1, status_code=503, response_excerpt="Service Unavailable")
    return {"endpoint": endpoint, "delivery": delivery}


def pages(world):
    endpoint, delivery = world["endpoint"], world["delivery"]
    return [
        reverse("integrations:endpoint-list"),
        reverse("integrations:endpoint-create"),
        reverse("integrations:endpoint-detail", args=[endpoint.pk]),
        reverse("integrations:endpoint-edit", args=[endpoint.pk]),
        reverse("integrations:endpoint-delete", args=[endpoint.pk]),
        reverse("integrations:delivery-list"),
        reverse("integrations:delivery-detail", args=[delivery.pk]),
    ]


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_every_page_renders_in_both_languages(client, staff_user, world, language):
    staff_user.preferred_language = language
    staff_user.save()
    client.force_login(staff_user)
    for url in pages(world):
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert f'<html lang="{language}">' in html
        assert ("退出登录" if language == "zh-hans" else "Sign out") in html
    detail = client.get(reverse("integrations:delivery-detail", args=[world["delivery"].pk])).content.decode()
    assert "Service Unavailable" in detail and "503" in detail and "华东渠道" in detail


def test_the_nav_links_the_webhook_pages_for_staff(staff_client):
    assert reverse("integrations:endpoint-list") in staff_client.get(reverse("home")).content.decode()


def test_a_channel_admin_registers_an_endpoint_and_a_private_url_is_refused_on_the_field(staff_client, settings):
    settings.PRM_WEBHOOK_ALLOWED_HOSTS = []
    url = reverse("integrations:endpoint-create")
    refused = staff_client.post(url, {"name": "CRM", "url": "http://192.168.1.5/hooks", "events": ["partner.created"]})
    assert refused.status_code == 200
    assert "private, loopback or otherwise internal" in " ".join(refused.context["form"].errors["url"])
    assert not WebhookEndpoint.objects.exists()

    saved = staff_client.post(url, {"name": "CRM", "url": PUBLIC_URL, "events": ["partner.created", "region.flagged"]})
    endpoint = WebhookEndpoint.objects.get()
    assert saved.status_code == 302 and saved["Location"] == endpoint.get_absolute_url()
    assert endpoint.events == ["partner.created", "region.flagged"]
    page = staff_client.get(endpoint.get_absolute_url()).content.decode()
    assert endpoint.secret in page

    staff_client.post(reverse("integrations:endpoint-edit", args=[endpoint.pk]), {"name": "CRM 2", "url": PUBLIC_URL})
    endpoint.refresh_from_db()
    assert endpoint.name == "CRM 2" and endpoint.events == [], "no box checked: no events"


def test_a_channel_admin_rotates_disables_enables_tests_and_redelivers(staff_client, world):
    endpoint, delivery = world["endpoint"], world["delivery"]
    old_secret = endpoint.secret
    staff_client.post(reverse("integrations:endpoint-rotate-secret", args=[endpoint.pk]))
    endpoint.refresh_from_db()
    assert endpoint.secret != old_secret

    staff_client.post(reverse("integrations:endpoint-disable", args=[endpoint.pk]), {"reason": "CRM maintenance"})
    endpoint.refresh_from_db()
    assert not endpoint.is_active and endpoint.disabled_reason == "CRM maintenance"
    answer = staff_client.post(reverse("integrations:delivery-redeliver", args=[delivery.pk]), follow=True)
    assert "enable it before redelivering" in answer.content.decode()

    staff_client.post(reverse("integrations:endpoint-enable", args=[endpoint.pk]))
    endpoint.refresh_from_db()
    assert endpoint.is_active

    tested = staff_client.post(reverse("integrations:endpoint-test", args=[endpoint.pk]))
    ping = WebhookDelivery.objects.get(event__type="ping")
    assert tested["Location"] == ping.get_absolute_url()

    staff_client.post(reverse("integrations:delivery-redeliver", args=[delivery.pk]))
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING

    asked = staff_client.get(reverse("integrations:endpoint-delete", args=[endpoint.pk]))
    assert "Its deliveries (2) and their log are deleted" in asked.content.decode()
    deleted = staff_client.post(reverse("integrations:endpoint-delete", args=[endpoint.pk]))
    assert deleted["Location"] == reverse("integrations:endpoint-list")
    assert not WebhookEndpoint.objects.exists() and not WebhookDelivery.objects.exists()


def test_other_staff_read_without_the_secret_and_cannot_change(client, world):
    client.force_login(AnalystFactory())
    endpoint, delivery = world["endpoint"], world["delivery"]
    detail = client.get(endpoint.get_absolute_url())
    assert detail.status_code == 200 and endpoint.secret not in detail.content.decode()
    assert client.get(reverse("integrations:endpoint-create")).status_code == 403
    assert client.get(reverse("integrations:endpoint-delete", args=[endpoint.pk])).status_code == 403
    for name in ("endpoint-rotate-secret", "endpoint-disable", "endpoint-test", "endpoint-delete"):
        assert client.post(reverse(f"integrations:{name}", args=[endpoint.pk])).status_code == 403
    assert client.post(reverse("integrations:delivery-redeliver", args=[delivery.pk])).status_code == 403
    assert WebhookEndpoint.objects.filter(pk=endpoint.pk, secret=endpoint.secret, is_active=True).exists()


def test_partner_users_are_refused(client, world):
    client.force_login(PartnerUserFactory())
    for url in pages(world):
        assert client.get(url).status_code == 403, url


def test_the_delivery_log_filters_by_status_event_type_and_endpoint(staff_client, world):
    other = endpoint_make(PUBLIC_URL, events=["region.flagged"], name="ERP")
    flagged = event_record(EventType.REGION_FLAGGED, data={"id": 5}, object_id=5)
    url = reverse("integrations:delivery-list")

    def listed(query):
        return {d.pk for d in staff_client.get(url, query).context["object_list"]}

    assert listed({"status": "failed"}) == {world["delivery"].pk}
    assert listed({"event_type": "region.flagged"}) == set(
        WebhookDelivery.objects.filter(event=flagged).values_list("pk", flat=True)
    )
    assert listed({"endpoint": other.pk}) == {WebhookDelivery.objects.get(endpoint=other).pk}
    assert listed({"status": "lost"}) == set(), "a wrong filter lists nothing and says why"


@pytest.mark.parametrize("size", [2, 20])
@pytest.mark.parametrize("name", ["integrations:endpoint-list", "integrations:delivery-list"])
def test_lists_cost_the_same_queries_for_few_and_many_rows(staff_client, django_assert_max_num_queries, size, name):
    for number in range(size):
        endpoint_make(PUBLIC_URL, name=f"CRM {number}")
        event_record(EventType.PARTNER_CREATED, data={"id": number}, object_id=number)
    with django_assert_max_num_queries(12):
        response = staff_client.get(reverse(name))
    assert response.status_code == 200 and len(response.context["object_list"]) >= size
