"""The change history over the API (/api/v1/history/): a CRM reads who changed which object, when
and what, as the staff pages' History panels show it. Read-only, vendor only; the security log
(sign-ins, passwords, permissions) is not in it; a key reads the history of its scopes' areas."""

import pytest
from django.contrib.auth.signals import user_logged_in
from django.test import RequestFactory
from rest_framework.test import APIClient

from partners.services import partner_update
from prm.models import AuditEntry
from tests.factories import AnalystFactory, PartnerFactory, PartnerUserFactory, ProductLineFactory, key_client

pytestmark = pytest.mark.django_db

HISTORY = "/api/v1/history/"


@pytest.fixture
def partner(db):
    return PartnerFactory(name="Ningbo Haitian Trading")


@pytest.fixture
def changed(staff_user, partner):
    """A partner renamed by a channel admin, and an entry of another area (a product line)."""
    partner_update(partner=partner, by=staff_user, name="Ningbo Haitian Trading Group")
    line = ProductLineFactory(code="NET", name="Networking")
    AuditEntry.objects.create(
        object_type="sales.productline", object_id=str(line.pk), object_repr=str(line), action="create"
    )
    return partner


def test_staff_read_one_objects_history_with_who_and_what(api_client, staff_user, changed):
    response = api_client.get(HISTORY, {"object_type": "partners.partner", "object_id": changed.pk})

    assert response.status_code == 200
    [entry] = response.json()["results"]
    assert entry["action"] == "update"
    assert entry["actor"] == staff_user.pk and entry["actor_name"] == str(staff_user)
    assert entry["object_repr"].startswith("Ningbo Haitian Trading Group")
    assert entry["changes"]["name"] == ["Ningbo Haitian Trading", "Ningbo Haitian Trading Group"]
    assert api_client.get(f"{HISTORY}{entry['id']}/").json() == entry


def test_a_change_made_with_a_key_names_the_key(staff_user, partner):
    crm = key_client(staff_user, ["partners:write"])
    crm.patch(f"/api/v1/partners/{partner.pk}/", {"name": "Ningbo Haitian"}, format="json")

    [entry] = crm.get(HISTORY, {"object_id": partner.pk, "object_type": "partners.partner"}).json()["results"]

    assert entry["actor"] is None and entry["actor_name"] == ""
    assert "CRM" in entry["changes"]["api_key"][1]


def test_the_security_log_is_not_in_the_history(api_client, staff_user, changed):
    user_logged_in.send(sender=type(staff_user), request=RequestFactory().get("/"), user=staff_user)
    assert AuditEntry.objects.filter(object_type="prm.user").exists()

    body = api_client.get(HISTORY, {"page_size": 500}).json()

    assert {row["object_type"] for row in body["results"]} == {"partners.partner", "sales.productline"}
    assert api_client.get(HISTORY, {"action": "login"}).status_code == 400
    security = AuditEntry.objects.filter(object_type="prm.user").first()
    assert api_client.get(f"{HISTORY}{security.pk}/").status_code == 404


def test_a_key_reads_the_history_of_its_areas_only(staff_user, changed):
    sales = key_client(staff_user, ["sales:read"]).get(HISTORY).json()["results"]
    both = key_client(staff_user, ["sales:read", "partners:read"]).get(HISTORY).json()["results"]

    assert {row["object_type"] for row in sales} == {"sales.productline"}
    assert {row["object_type"] for row in both} == {"sales.productline", "partners.partner"}
    hidden = AuditEntry.objects.get(object_type="partners.partner")
    assert key_client(staff_user, ["sales:read"]).get(f"{HISTORY}{hidden.pk}/").status_code == 404


def test_partners_never_read_the_history(staff_user, changed):
    bound = key_client(staff_user, ["partners:read"], partner=changed)
    portal = APIClient()
    portal.force_authenticate(PartnerUserFactory(partner=changed))

    assert bound.get(HISTORY).status_code == 403
    assert portal.get(HISTORY).status_code == 403
    assert APIClient().get(HISTORY).status_code == 401


def test_every_staff_member_reads_it_and_nobody_writes_it(changed):
    analyst = APIClient()
    analyst.force_authenticate(AnalystFactory())
    entry = AuditEntry.objects.first()

    assert analyst.get(HISTORY).status_code == 200
    assert analyst.post(HISTORY, {}, format="json").status_code in (403, 405)
    assert analyst.delete(f"{HISTORY}{entry.pk}/").status_code in (403, 405)


def test_bad_filters_answer_400(api_client, changed):
    assert api_client.get(HISTORY, {"since": "yesterday"}).status_code == 400
    assert api_client.get(HISTORY, {"actor": "someone"}).status_code == 400


def test_the_history_lists_in_a_fixed_number_of_queries(api_client, staff_user, changed, django_assert_max_num_queries):
    with django_assert_max_num_queries(2) as few:
        api_client.get(HISTORY)
    for index in range(30):
        partner_update(partner=changed, by=staff_user, name=f"Ningbo Haitian {index}")

    with django_assert_max_num_queries(len(few.captured_queries)):
        response = api_client.get(HISTORY)

    assert response.json()["count"] == 32


def test_the_history_syncs_by_the_time_entries_were_written(api_client, staff_user, changed):
    first = api_client.get(HISTORY, {"cursor": "", "page_size": 1}).json()
    assert len(first["results"]) == 1 and first["next"] and "count" not in first
    second = api_client.get(first["next"]).json()
    assert {first["results"][0]["id"], second["results"][0]["id"]} == set(
        AuditEntry.objects.exclude(object_type__in=["prm.user", "partners.apikey"]).values_list("id", flat=True)
    )

    later = api_client.get(HISTORY, {"updated_since": "2999-01-01T00:00:00Z"}).json()
    assert later["results"] == []
    since = api_client.get(HISTORY, {"updated_since": first["next_updated_since"]}).json()
    assert len(since["results"]) == 2
