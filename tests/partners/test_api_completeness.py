"""What the partner portal and the admin do to partners' people and managers' regions, a CRM can do
or read over the API: invite a contact to the portal, send the invitation again, deactivate and
reactivate the login (the same services as the portal's users page), and read which channel
manager looks after which region. Partner-bound keys never do any of it."""

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from partners.models import PartnerContact
from prm.models import AuditEntry
from tests.factories import (
    AnalystFactory,
    ChannelManagerFactory,
    ManagerRegionFactory,
    PartnerAdminUserFactory,
    PartnerContactFactory,
    PartnerFactory,
    PartnerUserFactory,
    RegionFactory,
    key_client,
)

pytestmark = pytest.mark.django_db

CONTACTS = "/api/v1/partner-contacts/"
INVITE = "/api/v1/partner-contacts/invite/"
MANAGER_REGIONS = "/api/v1/manager-regions/"


def contact_action(contact, name):
    return f"{CONTACTS}{contact.pk}/{name}/"


def field_errors(response):
    """The messages by field of a 400 (under `errors` in the API's error format)."""
    body = response.json()
    return body.get("errors", body)


@pytest.fixture
def partner(db):
    return PartnerFactory(name="Hangzhou Yunfan Trading")


@pytest.fixture
def other_partner(db):
    return PartnerFactory(name="Suzhou Lianhe Electronics")


@pytest.fixture
def crm(staff_user):
    return key_client(staff_user, ["partners:write"])


def invite_payload(partner, **overrides):
    return {"partner": partner.pk, "name": "Chen Jing", "email": "Chen.Jing@yunfan.example.cn", **overrides}


# Inviting -----------------------------------------------------------------------------------


def test_a_vendor_key_invites_a_person_who_gets_an_email_to_choose_a_password(
    crm, partner, settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.PRM_SITE_URL = "https://prm.example.com"
    with django_capture_on_commit_callbacks(execute=True):
        response = crm.post(INVITE, invite_payload(partner, is_admin=True, language="zh-hans"), format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["partner"] == partner.pk
    assert body["email"] == "chen.jing@yunfan.example.cn"
    assert body["has_portal_login"] is True
    assert body["portal_login"] == "invited"
    contact = PartnerContact.objects.get(pk=body["id"])
    assert contact.is_partner_admin and contact.user.email == "chen.jing@yunfan.example.cn"
    assert not contact.user.has_usable_password()
    assert [message.to for message in mailoutbox] == [["chen.jing@yunfan.example.cn"]]
    assert "https://prm.example.com/portal/invitation/" in mailoutbox[0].body
    entry = AuditEntry.objects.filter(object_type="partners.partner", object_id=str(partner.pk)).latest("id")
    assert "api_key" in entry.changes


def test_inviting_an_existing_contact_gives_that_contact_the_login(crm, partner):
    contact = PartnerContactFactory(partner=partner, name="Chen Jing", email="chen.jing@yunfan.example.cn")

    response = crm.post(INVITE, invite_payload(partner), format="json")

    assert response.status_code == 201, response.content
    assert response.json()["id"] == contact.pk
    assert PartnerContact.objects.filter(partner=partner).count() == 1


def test_an_email_a_login_already_uses_is_refused_and_nothing_is_written(crm, partner, mailoutbox):
    PartnerUserFactory(partner=partner, email="chen.jing@yunfan.example.cn")
    users, contacts = get_user_model().objects.count(), PartnerContact.objects.count()

    response = crm.post(INVITE, invite_payload(partner), format="json")

    assert response.status_code == 400
    assert "email" in field_errors(response)
    assert (get_user_model().objects.count(), PartnerContact.objects.count()) == (users, contacts)
    assert mailoutbox == []


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"name": "Chen Jing", "email": "chen.jing@yunfan.example.cn"}, "partner"),
        ({"partner": 999999, "name": "Chen Jing", "email": "chen.jing@yunfan.example.cn"}, "partner"),
        ({"name": "Chen Jing", "email": "not an address"}, "email"),
        ({"name": "Chen Jing", "email": "chen.jing@yunfan.example.cn", "job_role": "astronaut"}, "job_role"),
        ({"name": "Chen Jing", "email": "chen.jing@yunfan.example.cn", "language": "fr"}, "language"),
    ],
)
def test_bad_invitations_answer_400_naming_the_field(crm, partner, payload, field):
    payload = {"partner": partner.pk, **payload} if "partner" not in payload and field != "partner" else payload

    response = crm.post(INVITE, payload, format="json")

    assert response.status_code == 400
    assert field in field_errors(response)
    assert not get_user_model().objects.filter(email="chen.jing@yunfan.example.cn").exists()


def test_a_channel_manager_invites_only_for_the_partners_they_manage(partner):
    manager = ChannelManagerFactory()
    own = PartnerFactory(owner=manager)
    api = APIClient()
    api.force_authenticate(manager)

    refused = api.post(INVITE, invite_payload(partner), format="json")
    allowed = api.post(INVITE, invite_payload(own), format="json")

    assert refused.status_code == 403
    assert allowed.status_code == 201, allowed.content


@pytest.mark.parametrize("scopes", [["partners:read"], ["sales:write"]])
def test_a_key_without_partners_write_cannot_invite(staff_user, partner, scopes):
    response = key_client(staff_user, scopes).post(INVITE, invite_payload(partner), format="json")

    assert response.status_code == 403
    assert not PartnerContact.objects.exists()


def test_an_analyst_cannot_invite(partner):
    api = APIClient()
    api.force_authenticate(AnalystFactory())

    assert api.post(INVITE, invite_payload(partner), format="json").status_code == 403


def test_a_partner_bound_key_manages_no_portal_logins_not_even_its_own_partners(staff_user, partner, other_partner):
    own_login = PartnerUserFactory(partner=partner).partner_contact
    foreign_login = PartnerUserFactory(partner=other_partner).partner_contact
    bound = key_client(staff_user, ["partners:write"], partner=partner)

    assert bound.post(INVITE, invite_payload(partner), format="json").status_code == 403
    for contact in (own_login, foreign_login):
        for name in ("resend-invitation", "deactivate-login", "reactivate-login"):
            assert bound.post(contact_action(contact, name)).status_code == 403
    assert get_user_model().objects.get(pk=foreign_login.user_id).is_active


# Resending, deactivating, reactivating -------------------------------------------------------


def test_the_invitation_is_sent_again_while_no_password_was_chosen(
    crm, partner, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        contact_id = crm.post(INVITE, invite_payload(partner), format="json").json()["id"]
    contact = PartnerContact.objects.get(pk=contact_id)

    with django_capture_on_commit_callbacks(execute=True):
        response = crm.post(contact_action(contact, "resend-invitation"))

    assert response.status_code == 200, response.content
    assert response.json()["portal_login"] == "invited"
    assert len(mailoutbox) == 2


def test_no_invitation_is_resent_to_someone_who_chose_a_password(crm, partner, mailoutbox):
    contact = PartnerUserFactory(partner=partner).partner_contact

    response = crm.post(contact_action(contact, "resend-invitation"))

    assert response.status_code == 400
    assert "already chosen a password" in str(response.json())
    assert mailoutbox == []


def test_deactivating_and_reactivating_a_login(crm, partner):
    contact = PartnerUserFactory(partner=partner).partner_contact

    deactivated = crm.post(contact_action(contact, "deactivate-login"))
    contact.user.refresh_from_db()
    assert deactivated.status_code == 200, deactivated.content
    assert deactivated.json()["portal_login"] == "deactivated"
    assert not contact.user.is_active

    reactivated = crm.post(contact_action(contact, "reactivate-login"))
    contact.user.refresh_from_db()
    assert reactivated.status_code == 200
    assert reactivated.json()["portal_login"] == "active"
    assert contact.user.is_active
    assert crm.get(f"{CONTACTS}{contact.pk}/").json()["portal_login"] == "active"


def test_a_deactivated_login_lets_the_contact_be_deleted(crm, partner):
    contact = PartnerUserFactory(partner=partner).partner_contact
    assert crm.delete(f"{CONTACTS}{contact.pk}/").status_code == 400

    crm.post(contact_action(contact, "deactivate-login"))

    assert crm.delete(f"{CONTACTS}{contact.pk}/").status_code == 204


@pytest.mark.parametrize("name", ["deactivate-login", "reactivate-login", "resend-invitation"])
def test_a_contact_without_a_login_is_refused_with_the_reason(crm, partner, name):
    contact = PartnerContactFactory(partner=partner, name="Li Lei")

    response = crm.post(contact_action(contact, name))

    assert response.status_code == 400
    assert "Li Lei has no" in str(response.json())


def test_the_partners_channel_manager_closes_a_partner_admins_login(partner):
    admin = PartnerAdminUserFactory(partner=partner)
    staff = ChannelManagerFactory()
    partner.owner = staff
    partner.save()
    api = APIClient()
    api.force_authenticate(staff)

    response = api.post(contact_action(admin.partner_contact, "deactivate-login"))

    assert response.status_code == 200
    admin.refresh_from_db()
    assert not admin.is_active


def test_contacts_list_shows_each_login_state_in_a_fixed_number_of_queries(crm, partner, django_assert_max_num_queries):
    PartnerUserFactory(partner=partner)
    crm.get(CONTACTS)  # the key's last-used time is written on its first request
    with django_assert_max_num_queries(4) as few:
        crm.get(CONTACTS)
    for index in range(15):
        PartnerContactFactory(partner=partner)
        PartnerUserFactory(partner=partner, username=f"login{index}")

    with django_assert_max_num_queries(len(few.captured_queries)):
        response = crm.get(CONTACTS)

    states = {row["portal_login"] for row in response.json()["results"]}
    assert states == {"none", "active"}


# Managers' regions ---------------------------------------------------------------------------


@pytest.fixture
def assignments(db):
    east = RegionFactory(code="EAST", name="East China")
    zhejiang = RegionFactory(code="ZJ", name="Zhejiang", parent=east)
    south = RegionFactory(code="SOUTH", name="South China")
    wang = ChannelManagerFactory(username="wang", display_name="Wang Wei")
    zhao = ChannelManagerFactory(username="zhao", display_name="Zhao Min")
    return {
        "wang_east": ManagerRegionFactory(manager=wang, region=east),
        "wang_zj": ManagerRegionFactory(manager=wang, region=zhejiang),
        "zhao_south": ManagerRegionFactory(manager=zhao, region=south),
        "east": east,
        "wang": wang,
    }


def test_a_vendor_key_reads_which_manager_looks_after_which_region(staff_user, assignments):
    api = key_client(staff_user, ["partners:read"])

    response = api.get(MANAGER_REGIONS)

    assert response.status_code == 200
    rows = [(row["manager_name"], row["region_code"]) for row in response.json()["results"]]
    assert rows == [("Wang Wei", "EAST"), ("Wang Wei", "ZJ"), ("Zhao Min", "SOUTH")]
    one = api.get(f"{MANAGER_REGIONS}{assignments['zhao_south'].pk}/").json()
    assert one["manager"] == assignments["zhao_south"].manager_id and one["region_code"] == "SOUTH"


def test_manager_regions_filter_by_manager_and_within_a_region(api_client, assignments):
    by_manager = api_client.get(MANAGER_REGIONS, {"manager": assignments["wang"].pk}).json()["results"]
    within = api_client.get(MANAGER_REGIONS, {"within": assignments["east"].pk}).json()["results"]

    assert {row["region_code"] for row in by_manager} == {"EAST", "ZJ"}
    assert {row["region_code"] for row in within} == {"EAST", "ZJ"}
    assert api_client.get(MANAGER_REGIONS, {"within": "nowhere"}).status_code == 400


def test_manager_regions_are_read_only(api_client, assignments):
    assert api_client.post(MANAGER_REGIONS, {}, format="json").status_code == 405
    assert api_client.delete(f"{MANAGER_REGIONS}{assignments['wang_east'].pk}/").status_code == 405


def test_partners_never_see_who_manages_what(staff_user, partner, assignments):
    bound = key_client(staff_user, ["partners:read"], partner=partner)
    portal = APIClient()
    portal.force_authenticate(PartnerAdminUserFactory(partner=partner))

    assert bound.get(MANAGER_REGIONS).status_code == 403
    assert bound.get(f"{MANAGER_REGIONS}{assignments['wang_east'].pk}/").status_code == 403
    assert portal.get(MANAGER_REGIONS).status_code == 403
    assert key_client(staff_user, ["sales:read"]).get(MANAGER_REGIONS).status_code == 403


def test_manager_regions_list_in_a_fixed_number_of_queries(api_client, assignments, django_assert_max_num_queries):
    with django_assert_max_num_queries(2) as few:
        api_client.get(MANAGER_REGIONS)
    for _index in range(20):
        ManagerRegionFactory()

    with django_assert_max_num_queries(len(few.captured_queries)):
        response = api_client.get(MANAGER_REGIONS)

    assert response.json()["count"] == 23


def test_manager_regions_sync_and_a_removed_assignment_leaves_a_tombstone(staff_user, partner, assignments):
    crm = key_client(staff_user, ["partners:read"])
    synced = crm.get(MANAGER_REGIONS, {"updated_since": "2000-01-01T00:00:00Z"}).json()
    assert len(synced["results"]) == 3 and "next_updated_since" in synced

    removed = assignments["zhao_south"].pk
    assignments["zhao_south"].delete()

    deletions = crm.get("/api/v1/deletions/", {"type": "partners.managerregion"}).json()["results"]
    assert [row["object_id"] for row in deletions] == [str(removed)]
    bound = key_client(staff_user, ["partners:read"], partner=partner)
    assert bound.get("/api/v1/deletions/", {"type": "partners.managerregion"}).json()["results"] == []
