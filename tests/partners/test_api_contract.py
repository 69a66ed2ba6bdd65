"""What the contract run (bin/contract-test) found in partners: a region created without a kind is a
province, as in the admin; the schema lets a partner's key get tiers without the vendor-only
partner count, as the API answers them; OPTIONS on an upsert address describes it (no 500)."""

import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from partners.choices import RegionKind
from partners.models import Region
from partners.services import api_key_create
from tests.factories import DistributorFactory, PartnerTierFactory

pytestmark = pytest.mark.django_db


def test_a_region_created_without_a_kind_is_a_province(api_client):
    response = api_client.post("/api/v1/regions/", {"code": "HN", "name": "Henan"}, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["kind"] == RegionKind.PROVINCE
    assert Region.objects.get(code="HN").kind == RegionKind.PROVINCE


def test_the_tier_schema_leaves_the_partner_count_optional_as_a_partner_key_gets_it(staff_user):
    PartnerTierFactory()
    _key, plaintext = api_key_create(
        name="Distributor ERP", scopes=["partners:read"], partner=DistributorFactory(), by=staff_user
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {plaintext}")

    tier = client.get("/api/v1/tiers/").json()["results"][0]
    schema = SchemaGenerator().get_schema(request=None, public=True)["components"]["schemas"]["PartnerTier"]

    assert "partner_count" not in tier
    assert "partner_count" not in schema["required"]
    assert set(schema["required"]) <= set(tier)
    assert "Left out for an API key bound to a partner." in schema["properties"]["partner_count"]["description"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/partners/by-external-id/CRM-1/",
        "/api/v1/partner-contacts/by-external-id/CRM-1/",
        "/api/v1/sales-lines/by-external-id/CRM-1/",
    ],
)
def test_options_on_an_upsert_address_describes_its_put(api_client, path):
    response = api_client.options(path)

    assert response.status_code == 200, response.content
    assert "external_id" in response.json()["actions"]["PUT"]
