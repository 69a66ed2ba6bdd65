"""The admin shows the MDF tables read-only: budgets with their figures, requests with their
proof of performance, and nothing in it can change a budget or move a request."""

from decimal import Decimal

import pytest
from django.urls import reverse

from incentives.choices import MdfStatus
from incentives.models import MdfBudget, MdfProof, MdfRequest
from tests.factories import MdfBudgetFactory, MdfProofFactory, MdfRequestFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def mdf():
    budget = MdfBudgetFactory(allocated=Decimal("5000.00"))
    request = MdfRequestFactory(
        budget=budget,
        title="华东经销商大会",
        status=MdfStatus.CLAIMED,
        requested_amount=Decimal("1200.00"),
        approved_amount=Decimal("1000.00"),
        actual_amount=Decimal("987.65"),
    )
    proof = MdfProofFactory(request=request, original_name="大会照片.pdf")
    return budget, request, proof


def test_budgets_list_with_their_figures(admin_client, mdf):
    budget, _request, _proof = mdf
    response = admin_client.get(reverse("admin:incentives_mdfbudget_changelist"))
    assert response.status_code == 200
    text = response.content.decode()
    assert budget.partner.name in text and "987.65" in text and "4012.35" in text


def test_a_request_shows_its_proof_and_changes_nothing(admin_client, mdf):
    budget, request, proof = mdf
    url = reverse("admin:incentives_mdfrequest_change", args=[request.pk])
    page = admin_client.get(url)
    assert page.status_code == 200
    text = page.content.decode()
    assert (
        "大会照片.pdf" in text
        and request.reference in admin_client.get(reverse("admin:incentives_mdfrequest_changelist")).content.decode()
    )
    assert 'name="_save"' not in text

    admin_client.post(url, {"status": MdfStatus.PAID, "title": "changed"})
    request.refresh_from_db()
    assert (request.status, request.title) == (MdfStatus.CLAIMED, "华东经销商大会")


@pytest.mark.parametrize("model", [MdfBudget, MdfRequest, MdfProof])
def test_nothing_is_added_or_deleted_here(admin_client, mdf, model):
    opts = model._meta
    assert admin_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_add")).status_code == 403
    obj = model.objects.first()
    admin_client.post(reverse(f"admin:{opts.app_label}_{opts.model_name}_delete", args=[obj.pk]), {"post": "yes"})
    assert model.objects.filter(pk=obj.pk).exists()
    detail = admin_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]))
    assert detail.status_code == 200
