"""The Django admin covers every model and keeps the registry's rules."""

import pytest
from django.contrib import admin
from django.urls import reverse

from partners.choices import PartnerStatus
from partners.models import Partner
from tests.factories import DistributorFactory, PartnerFactory

pytestmark = pytest.mark.django_db

# Tables that belong to installed libraries, not to this product.
LIBRARY_APPS = {"auth", "authtoken", "django_celery_beat", "sessions", "contenttypes", "admin", "axes"}


def test_every_product_model_is_registered_in_the_admin():
    from django.apps import apps

    product_models = [
        model
        for model in apps.get_models()
        if model._meta.app_label not in LIBRARY_APPS and not model._meta.auto_created
    ]
    assert product_models, "no product models found"
    missing = [model._meta.label for model in product_models if model not in admin.site._registry]
    assert not missing, f"not in the admin: {missing}"


@pytest.mark.parametrize("model", list(admin.site._registry), ids=lambda m: m._meta.label)
def test_admin_lists_and_add_forms_render(client, admin_user, model):
    PartnerFactory()
    client.force_login(admin_user)
    opts = model._meta
    changelist = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
    assert changelist.status_code == 200
    model_admin = admin.site._registry[model]
    request = changelist.wsgi_request
    if model_admin.has_add_permission(request):
        assert client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_add")).status_code == 200


def _partner_admin_post(partner, **changes):
    data = {
        "code": partner.code,
        "name": partner.name,
        "legal_name": partner.legal_name,
        "partner_type": partner.partner_type,
        "status": partner.status,
        "tier": "",
        "region": partner.region_id,
        "parent": partner.parent_id or "",
        "owner": "",
        "external_id": partner.external_id,
        "email": "",
        "phone": "",
        "website": "",
        "address": "",
        "credit_rating": "",
        "notes": "",
        "contacts-TOTAL_FORMS": "0",
        "contacts-INITIAL_FORMS": "0",
        "contacts-MIN_NUM_FORMS": "0",
        "contacts-MAX_NUM_FORMS": "1000",
    }
    data.update(changes)
    return data


def test_admin_refuses_an_illegal_status_move(client, admin_user):
    partner = PartnerFactory(status=PartnerStatus.ACTIVE)
    client.force_login(admin_user)
    url = reverse("admin:partners_partner_change", args=[partner.pk])
    response = client.post(url, _partner_admin_post(partner, status=PartnerStatus.PROSPECT))
    assert response.status_code == 200
    assert "cannot go from Active to Prospect" in response.content.decode()
    partner.refresh_from_db()
    assert partner.status == PartnerStatus.ACTIVE


def test_admin_refuses_a_cycle_in_the_network(client, admin_user):
    top = DistributorFactory()
    middle = DistributorFactory(parent=top)
    client.force_login(admin_user)
    url = reverse("admin:partners_partner_change", args=[top.pk])
    response = client.post(url, _partner_admin_post(top, parent=middle.pk))
    assert response.status_code == 200
    assert "cycle" in response.content.decode()
    top.refresh_from_db()
    assert top.parent_id is None
    assert Partner.objects.get(pk=middle.pk).path == f"/{top.pk}/{middle.pk}/"


def test_unknown_api_addresses_answer_json_404(client, admin_user):
    client.force_login(admin_user)
    response = client.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response.json()["message"]
