"""Writes by external ID: PUT /api/v1/partners/by-external-id/{id}/ and
/api/v1/partner-contacts/by-external-id/{id}/ create the object a CRM knows by that ID, or bring
it up to date; sending the same body again writes nothing. The answer says which: 201 or 200, and
`X-Upsert-Result: created | updated | unchanged`."""

from urllib.parse import quote

import pytest
from rest_framework.test import APIClient

from integrations.models import WebhookEvent
from partners.choices import PartnerStatus, PartnerType
from partners.models import Partner, PartnerContact
from prm.models import AuditEntry
from tests.factories import (
    ChannelManagerFactory,
    PartnerContactFactory,
    PartnerFactory,
    PartnerTierFactory,
    RegionFactory,
)

pytestmark = pytest.mark.django_db


def partner_url(external_id):
    return f"/api/v1/partners/by-external-id/{quote(external_id, safe='')}/"


def contact_url(external_id):
    return f"/api/v1/partner-contacts/by-external-id/{quote(external_id, safe='')}/"


def field_errors(response):
    body = response.json()
    return body.get("errors", body)


def rows(model):
    return list(model.objects.order_by("pk").values())


@pytest.fixture
def region(db):
    return RegionFactory(code="GD", name="Guangdong")


def partner_body(region, **overrides):
    return {"code": "SZ-01", "name": "Shenzhen Xinghe", "partner_type": PartnerType.RESELLER, "region": region.pk} | (
        overrides
    )


# Partners ----------------------------------------------------------------------------------------


def test_partner_upsert_creates_then_updates_then_changes_nothing(api_client, region):
    created = api_client.put(partner_url("crm:4711"), partner_body(region))
    assert created.status_code == 201
    assert created["X-Upsert-Result"] == "created"
    partner = Partner.objects.get(external_id="crm:4711")
    assert created.json()["id"] == partner.pk
    assert created.json()["code"] == "SZ-01"
    assert partner.status == PartnerStatus.PROSPECT

    updated = api_client.put(partner_url("crm:4711"), partner_body(region, name="Shenzhen Xinghe Group"))
    assert (updated.status_code, updated["X-Upsert-Result"]) == (200, "updated")
    assert Partner.objects.get(pk=partner.pk).name == "Shenzhen Xinghe Group"

    stamp = Partner.objects.get(pk=partner.pk).updated_at
    history, events = AuditEntry.objects.count(), WebhookEvent.objects.count()
    again = api_client.put(partner_url("crm:4711"), partner_body(region, name="Shenzhen Xinghe Group", code="sz-01"))
    assert (again.status_code, again["X-Upsert-Result"]) == (200, "unchanged")
    assert again.json() == updated.json()
    assert Partner.objects.get(pk=partner.pk).updated_at == stamp
    assert (AuditEntry.objects.count(), WebhookEvent.objects.count()) == (history, events)
    assert Partner.objects.count() == 1


def test_partner_upsert_takes_the_external_id_from_the_url_with_its_special_characters(api_client, region):
    external_id = "sf.com:001-xyz@eu_1"
    response = api_client.put(partner_url(external_id), partner_body(region, external_id=external_id))
    assert response.status_code == 201
    assert response.json()["external_id"] == external_id


def test_partner_upsert_refuses_another_external_id_in_the_body(api_client, region):
    response = api_client.put(partner_url("crm-1"), partner_body(region, external_id="crm-2"))
    assert response.status_code == 400
    assert "external_id" in field_errors(response)
    assert Partner.objects.count() == 0


@pytest.mark.parametrize("external_id", ["x" * 101, "bad\x00id", "tab\tid", " "])
def test_partner_upsert_refuses_an_external_id_it_cannot_keep(api_client, region, external_id):
    response = api_client.put(partner_url(external_id), partner_body(region))
    assert response.status_code == 400
    assert "external_id" in field_errors(response)
    assert not Partner.objects.exists()


def test_partner_upsert_bad_input_changes_nothing(api_client, region):
    partner = PartnerFactory(external_id="crm-1", region=region, name="Before")
    before = rows(Partner)
    response = api_client.put(partner_url("crm-1"), partner_body(region, name="", partner_type="wholesaler"))
    assert response.status_code == 400
    assert {"name", "partner_type"} <= set(field_errors(response))
    missing = api_client.put(partner_url("crm-new"), {"name": "No code"})
    assert missing.status_code == 400
    assert "code" in field_errors(missing)
    assert rows(Partner) == before
    assert Partner.objects.get(pk=partner.pk).name == "Before"


def test_partner_upsert_of_an_existing_partner_keeps_status_and_position_to_their_actions(api_client, region):
    PartnerFactory(external_id="crm-1", region=region, code="SZ-01", status=PartnerStatus.ACTIVE)
    response = api_client.put(partner_url("crm-1"), partner_body(region, status=PartnerStatus.SUSPENDED))
    assert response.status_code == 400
    assert "status" in field_errors(response)
    same = api_client.put(partner_url("crm-1"), partner_body(region, status=PartnerStatus.ACTIVE))
    assert (same.status_code, same["X-Upsert-Result"]) == (200, "updated")


def test_partner_upsert_changes_the_tier_and_reports_it(api_client, region):
    gold = PartnerTierFactory(name="Gold")
    partner = PartnerFactory(external_id="crm-1", region=region, code="SZ-01", name="Shenzhen Xinghe")
    response = api_client.put(partner_url("crm-1"), partner_body(region, tier=gold.pk))
    assert response["X-Upsert-Result"] == "updated"
    assert Partner.objects.get(pk=partner.pk).tier == gold
    assert api_client.put(partner_url("crm-1"), partner_body(region, tier=gold.pk))["X-Upsert-Result"] == "unchanged"


def test_partner_upsert_with_a_vendor_key_and_never_with_a_partner_key(make_key, region):
    vendor = make_key(["partners:read", "partners:write"])
    assert vendor.put(partner_url("crm-1"), partner_body(region)).status_code == 201
    reader = make_key(["partners:read"])
    assert reader.put(partner_url("crm-1"), partner_body(region, name="Other")).status_code == 403
    own = PartnerFactory(region=region)
    partner_key = make_key(["partners:read", "partners:write"], partner=own)
    assert partner_key.put(partner_url("crm-1"), partner_body(region, name="Other")).status_code == 403
    assert partner_key.put(partner_url("crm-9"), partner_body(region, code="X-9")).status_code == 403
    assert Partner.objects.get(external_id="crm-1").name == "Shenzhen Xinghe"
    assert not Partner.objects.filter(external_id="crm-9").exists()


def test_partner_upsert_by_a_channel_manager_only_for_their_partners(region):
    manager = ChannelManagerFactory()
    other = PartnerFactory(external_id="crm-1", region=region, code="SZ-01", owner=None)
    api = APIClient()
    api.force_authenticate(manager)
    response = api.put(partner_url("crm-1"), partner_body(region, name="Taken over"))
    assert response.status_code == 403
    assert Partner.objects.get(pk=other.pk).name != "Taken over"
    mine = api.put(partner_url("crm-2"), partner_body(region, code="SZ-02", owner=manager.pk))
    assert mine.status_code == 201


def test_sync_simulation_1000_partners_twice_gives_1000_partners_and_a_second_pass_unchanged(api_client, region):
    """A CRM sends its whole partner list twice: the first pass creates every partner, the
    second writes nothing and creates no duplicate."""
    results = {"created": 0, "updated": 0, "unchanged": 0}
    events = []
    for _round in range(2):
        events.append(WebhookEvent.objects.count())
        for number in range(1000):
            body = partner_body(region, code=f"CRM-{number:04d}", name=f"Partner {number}")
            response = api_client.put(partner_url(f"acct:{number:04d}"), body)
            assert response.status_code in (200, 201), response.content
            results[response["X-Upsert-Result"]] += 1
    assert results == {"created": 1000, "updated": 0, "unchanged": 1000}
    assert WebhookEvent.objects.count() == events[1]
    assert Partner.objects.count() == 1000
    assert Partner.objects.values("external_id").distinct().count() == 1000


# Contacts ----------------------------------------------------------------------------------------


def test_contact_upsert_creates_then_updates_then_changes_nothing(api_client, region):
    partner = PartnerFactory(region=region)
    body = {"partner": partner.pk, "name": "Li Wei", "email": "li.wei@xinghe.cn"}
    created = api_client.put(contact_url("c-1"), body)
    assert (created.status_code, created["X-Upsert-Result"]) == (201, "created")
    contact = PartnerContact.objects.get(external_id="c-1")
    assert created.json()["external_id"] == "c-1"
    assert contact.partner == partner

    updated = api_client.put(contact_url("c-1"), body | {"title": "Sales director"})
    assert (updated.status_code, updated["X-Upsert-Result"]) == (200, "updated")
    assert PartnerContact.objects.get(pk=contact.pk).title == "Sales director"

    stamp = PartnerContact.objects.get(pk=contact.pk).updated_at
    history = AuditEntry.objects.count()
    again = api_client.put(contact_url("c-1"), body | {"title": "Sales director", "email": "Li.Wei@Xinghe.cn"})
    assert (again.status_code, again["X-Upsert-Result"]) == (200, "unchanged")
    assert PartnerContact.objects.get(pk=contact.pk).updated_at == stamp
    assert AuditEntry.objects.count() == history
    assert PartnerContact.objects.count() == 1


def test_contact_upsert_never_moves_a_contact_to_another_partner(api_client, region):
    contact = PartnerContactFactory(external_id="c-1", partner=PartnerFactory(region=region))
    other = PartnerFactory(region=region)
    before = rows(PartnerContact)
    response = api_client.put(contact_url("c-1"), {"partner": other.pk, "name": "Li Wei"})
    assert response.status_code == 400
    assert "partner" in field_errors(response)
    assert rows(PartnerContact) == before
    assert PartnerContact.objects.get(pk=contact.pk).partner != other


def test_contact_upsert_bad_input_changes_nothing(api_client, region):
    partner = PartnerFactory(region=region)
    response = api_client.put(contact_url("c-1"), {"partner": partner.pk, "name": "", "email": "not-an-email"})
    assert response.status_code == 400
    assert {"name", "email"} <= set(field_errors(response))
    assert not PartnerContact.objects.exists()


def test_contact_external_id_is_one_contact_only(api_client, region):
    PartnerContactFactory(external_id="c-1", partner=PartnerFactory(region=region))
    other = PartnerContactFactory(partner=PartnerFactory(region=region))
    response = api_client.patch(f"/api/v1/partner-contacts/{other.pk}/", {"external_id": "c-1"})
    assert response.status_code == 400
    assert "external_id" in field_errors(response)


def test_contact_upsert_refused_to_partner_keys(make_key, region):
    own = PartnerFactory(region=region)
    partner_key = make_key(["partners:read", "partners:write"], partner=own)
    response = partner_key.put(contact_url("c-1"), {"partner": own.pk, "name": "Li Wei"})
    assert response.status_code == 403
    assert not PartnerContact.objects.exists()
