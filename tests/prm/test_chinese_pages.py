"""Every page renders fully in Simplified Chinese: walking every page route (discovered from the
URLconf, as the isolation harness does), as the role that may open it, with the user's language
set to zh-Hans, no English word is left in what the page shows, apart from the data itself
(names and codes people typed) and a few words that are the same in both languages."""

import re
from html.parser import HTMLParser

import pytest
from django.apps import apps
from django.db import models
from django.urls import reverse

from agreements.models import Agreement
from partners.models import Partner, PartnerContact
from tests.security.test_isolation import PK_MODELS, PLAIN_ROUTES, World, discover_routes, route_params
from training.models import Course

pytestmark = pytest.mark.django_db

# Words that stay as they are in a Chinese interface: product and standard names, credit ratings,
# and the literal forms integrators type (the API key header and the key's own prefix).
SAME_IN_BOTH = {
    "ERP",
    "SKU",
    "PDF",
    "PNG",
    "JPEG",
    "Word",
    "docx",
    "PowerPoint",
    "pptx",
    "xlsx",
    "PRM",
    "API",
    "CSV",
    "Excel",
    "URL",
    "IP",
    "ID",
    "English",
    "CNY",
    "USD",
    "EUR",
    "MDF",
    "KPI",
    "Webhook",  # the standard name in Chinese interfaces too (Webhook 端点, Webhook 投递)
    "JSON",
    "POST",
    "HTTP",
    "HMAC-SHA",
    "PRM-Signature",
    "Unix",
    "http",
    "https",
    "MDF-",  # an MDF request's reference (MDF-00042), the same in both languages
    "CRM",
    "AAA",
    "Salesforce",
    "HubSpot",
    "Dynamics",
    "Authorization",
    "Api-Key",
    "prm",
    "key",
}

# Routes that render no page of ours (machine endpoints, redirects, library pages).
NOT_PAGES = {
    "healthz",
    "logout",
    "set_language",
    "api-root",
    "api-schema",
    "api-docs",
    "api-redoc",
    # Progress of a background run, as JSON for the page's progress bar.
    "job-run-status",
    "portal-sales:run-status",
}

# Shown to screen readers and as tooltips, so they must be translated as well.
TEXT_ATTRIBUTES = {"title", "placeholder", "aria-label", "alt"}


class VisibleText(HTMLParser):
    """The text a person reads, without scripts and styles, nor `<code>`/`<pre>`: literal machine
    values (an event type, a request body) are the same in both languages."""

    SKIPPED = ("script", "style", "code", "pre")

    def __init__(self):
        super().__init__()
        self.parts, self._skip = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIPPED:
            self._skip += 1
        for name, value in attrs:
            if name in TEXT_ATTRIBUTES and value:
                self.parts.append(value)
        if tag == "input":
            attributes = dict(attrs)
            if attributes.get("type") in ("submit", "button") and attributes.get("value"):
                self.parts.append(attributes["value"])

    def handle_endtag(self, tag):
        if tag in self.SKIPPED:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def data_strings():
    """Every text value stored in the product's tables, longest first: what people typed."""
    values = set()
    for model in apps.get_models():
        if model._meta.app_label in ("admin", "sessions", "contenttypes", "axes", "django_celery_beat"):
            continue
        fields = [f.name for f in model._meta.concrete_fields if isinstance(f, models.CharField | models.TextField)]
        for row in model._default_manager.values_list(*fields) if fields else ():
            values.update(value for value in row if isinstance(value, str) and value.strip())
        if model in (Partner, PartnerContact) or model._meta.label == "prm.User":
            values.update(str(obj) for obj in model._default_manager.all())
    return sorted(values, key=len, reverse=True)


def english_words(html, data):
    parser = VisibleText()
    parser.feed(html)
    text = "\n".join(parser.parts)
    for value in data:
        text = text.replace(value, " ")
    words = re.findall(r"[A-Za-z][A-Za-z'’-]{2,}", text)
    return sorted({word for word in words if word not in SAME_IN_BOTH})


def page_routes():
    for route in discover_routes():
        name = route.name
        if not name or name in NOT_PAGES or name.startswith("admin:"):
            continue
        if ":" not in name and name not in PLAIN_ROUTES:
            continue  # API routes answer JSON, translated separately
        yield route


def staff_url(route, world):
    kwargs = {}
    for param in route_params(route):
        if param != "pk":
            return None
        kwargs["pk"] = world.foreign_pk(PK_MODELS[route.name])
    return reverse(route.name, kwargs=kwargs)


def portal_url(route, world):
    kwargs = {}
    for param in route_params(route):
        if param == "pk":
            model = PK_MODELS[route.name]
            # The own side's objects; the training catalogue's course is everyone's (portal-training).
            own = {Partner: world.own, Agreement: world.own_agreement, Course: world.course}.get(model)
            kwargs["pk"] = (own or world.users["own_user"].partner_contact).pk
        elif param in ("uidb64", "token"):
            kwargs[param] = world.foreign_token(param)  # an invalid link: its page must be Chinese too
        else:
            return None
    return reverse(route.name, kwargs=kwargs)


def test_every_page_shows_no_english_in_chinese(client):
    from tests.factories import ChannelAdminFactory

    world = World()
    admin = ChannelAdminFactory(username="zh-admin", preferred_language="zh-hans")
    partner_admin = world.users["own_admin"]
    partner_admin.preferred_language = "zh-hans"
    partner_admin.save()
    data = data_strings()

    untranslated, checked, portal_checked = [], 0, 0
    for route in page_routes():
        portal = route.name.startswith(("portal:", "portal-"))  # the portal and its sections (portal-agreements)
        url = portal_url(route, world) if portal else staff_url(route, world)
        if url is None:
            continue
        client.force_login(partner_admin if portal else admin)
        response = client.get(url, follow=True)
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        checked += 1
        portal_checked += portal
        assert 'lang="zh-hans"' in response.content.decode()
        words = english_words(response.content.decode(), data)
        if words:
            untranslated.append(f"{url}: {', '.join(words[:15])}")
    client.logout()
    response = client.get("/login/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    words = english_words(response.content.decode(), data)
    if words:
        untranslated.append(f"/login/: {', '.join(words)}")
    assert checked >= 20 and portal_checked >= 5, f"only {checked} pages ({portal_checked} portal) were checked"
    assert not untranslated, "English left on Chinese pages:\n" + "\n".join(untranslated)
