"""What the contract run (bin/contract-test) found in incentives: a CRM's key approves and adjusts
rebate statements like staff do; the statement then names no person, and its history names the
key. A PATCH replaces a policy's tier multipliers whole, so a row without its tier is a 400."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from incentives.choices import LineKind, StatementStatus
from partners.services import api_key_create
from prm.models import AuditEntry
from tests.factories import RebatePolicyFactory, StatementLineFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def crm(staff_user):
    key, plaintext = api_key_create(name="CRM", scopes=["incentives:write"], by=staff_user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {plaintext}")
    client.key = key
    return client


@pytest.fixture
def statement():
    return StatementLineFactory().statement


def test_a_key_approves_a_statement(crm, statement):
    response = crm.post(f"/api/v1/rebate-statements/{statement.pk}/approve/")

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "approved"
    assert response.json()["approved_by"] is None and response.json()["approved_at"]
    statement.refresh_from_db()
    assert statement.status == StatementStatus.APPROVED and statement.approved_by is None
    entry = AuditEntry.objects.get(object_type="incentives.rebatestatement", action=AuditEntry.Action.STATUS)
    assert entry.changes["api_key"] == [None, str(crm.key)]


def test_a_key_adjusts_a_statement(crm, statement):
    response = crm.post(
        f"/api/v1/rebate-statements/{statement.pk}/adjust/",
        {"amount": "-10.00", "reason": "Returned goods"},
        format="json",
    )

    assert response.status_code == 200, response.content
    adjustment = statement.lines.get(kind=LineKind.ADJUSTMENT)
    assert adjustment.amount == Decimal("-10.00") and adjustment.created_by is None


def test_a_patched_multiplier_without_its_tier_is_a_400_on_the_row(api_client):
    policy = RebatePolicyFactory()

    response = api_client.patch(
        f"/api/v1/rebate-policies/{policy.pk}/", {"tier_multipliers": [{"multiplier": "1.500"}]}, format="json"
    )

    assert response.status_code == 400, response.content
    assert response.json()["errors"]["tier_multipliers"] == {"0": {"tier": ["This field is required."]}}
    assert not policy.tier_multipliers.exists()
