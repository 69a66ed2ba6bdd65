"""Webhooks in a real browser: a channel admin registers the CRM's endpoint (a private address is
refused on its field first), reads the signing secret, sends a test event and sees it delivered
in the log with the status code the CRM answered; the CRM checks the signature with the secret
the page showed. Then the same pages in Chinese."""

import json

import pytest
from playwright.sync_api import expect

from integrations.models import WebhookEndpoint
from integrations.signature import verify
from prm.celery import app as celery_app
from tests.factories import ChannelAdminFactory
from tests.integrations.webhooks_world import Receiver

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sent_at_once():
    """Deliveries are sent in the request that queues them, as a worker would send them."""
    before = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = before


def test_an_admin_registers_an_endpoint_and_a_test_event_reaches_the_crm_signed(
    page, live_server, roles, login, screenshot, settings, sent_at_once
):
    settings.PRM_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    admin = ChannelAdminFactory(username="chenjing", display_name="Chen Jing")
    login(page.context, admin)

    with Receiver(answers=(200,)) as crm:
        page.goto("/integrations/webhooks/")
        page.get_by_role("link", name="New endpoint").click()
        page.get_by_label("Name").fill("Salesforce")
        page.get_by_label("URL").fill("http://10.1.2.3/prm-hooks")
        page.get_by_label("Partner created").check()
        page.get_by_label("Region flagged").check()
        page.get_by_role("button", name="Save").click()
        expect(page.locator(".invalid-feedback")).to_contain_text("private")
        assert not WebhookEndpoint.objects.exists()
        screenshot(step="refused")

        page.get_by_label("URL").fill(crm.url)
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_role("heading", name="Salesforce")).to_be_visible()
        page.get_by_text("Show the secret").click()
        secret = page.get_by_test_id("endpoint-secret").inner_text().strip()
        assert secret.startswith("whsec_") and secret == WebhookEndpoint.objects.get().secret
        screenshot(step="endpoint")

        page.get_by_role("button", name="Send test event").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("Delivered")
        expect(page.locator("table")).to_contain_text("200")
        screenshot(step="delivered")

        (received,) = crm.requests
        headers = {name.lower(): value for name, value in received["headers"].items()}
        assert verify(secret, headers["prm-signature"], received["body"])
        body = json.loads(received["body"])
        assert body["type"] == "ping" and headers["prm-event-type"] == "ping"
        assert headers["prm-event-id"] == body["id"]

    page.goto("/integrations/webhooks/")
    expect(page.get_by_role("row", name="Salesforce")).to_contain_text("partner.created")


@pytest.mark.browser_context_args(locale="zh-CN")
def test_the_webhook_pages_read_in_chinese(page, live_server, roles, login, screenshot):
    admin = ChannelAdminFactory(username="chenjing", display_name="陈静", preferred_language="zh-hans")
    WebhookEndpoint.objects.create(name="CRM", url="https://crm.example.com/hooks", events=["partner.created"])
    login(page.context, admin)
    page.goto("/integrations/webhooks/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Webhook")
    expect(page.get_by_role("link", name="新建端点")).to_be_visible()
    screenshot(step="list-zh")
