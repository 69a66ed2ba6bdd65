"""Roles decide who may change what: channel admins everything, channel managers their own
partners and regions, analysts nothing; everyone on staff reads everything."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from rest_framework.test import APIClient

from partners.access import can_manage_partner, partners_managed_by
from partners.choices import PartnerStatus
from partners.models import Partner, Region
from prm.roles import Role, user_roles
from tests.factories import (
    AdminFactory,
    AnalystFactory,
    ChannelAdminFactory,
    ChannelManagerFactory,
    ManagerRegionFactory,
    PartnerFactory,
    PartnerTierFactory,
    RegionFactory,
    StaffFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def map_(db):
    """East China (with Shanghai below it) is Wang's; South China is not."""
    east = RegionFactory(code="EAST", name="East China")
    shanghai = RegionFactory(code="SH", name="Shanghai", parent=east)
    south = RegionFactory(code="SOUTH", name="South China")
    wang = ChannelManagerFactory(username="wang")
    ManagerRegionFactory(manager=wang, region=east)
    return {
        "wang": wang,
        "east": east,
        "shanghai": shanghai,
        "south": south,
        "in_region": PartnerFactory(name="Shanghai Reseller", region=shanghai),
        "owned_elsewhere": PartnerFactory(name="Owned In South", region=south, owner=wang),
        "foreign": PartnerFactory(name="Guangzhou Reseller", region=south),
    }


def test_the_five_roles_exist_as_groups_with_staff_permissions():
    names = set(Group.objects.values_list("name", flat=True))
    assert set(Role.values) <= names
    admin_perms = set(Group.objects.get(name=Role.CHANNEL_ADMIN).permissions.values_list("codename", flat=True))
    analyst_perms = set(Group.objects.get(name=Role.ANALYST).permissions.values_list("codename", flat=True))
    manager_perms = set(Group.objects.get(name=Role.CHANNEL_MANAGER).permissions.values_list("codename", flat=True))
    assert {"change_partner", "delete_partnertier", "view_partner"} <= admin_perms
    assert "view_partner" in analyst_perms and not any(p.startswith("change_") for p in analyst_perms)
    assert "change_partner" in manager_perms and "change_user" not in manager_perms
    assert not Group.objects.get(name=Role.PARTNER_USER).permissions.exists()


def test_a_superuser_counts_as_channel_admin():
    assert Role.CHANNEL_ADMIN in user_roles(AdminFactory())


def test_a_manager_may_change_partners_in_assigned_regions_and_those_they_own(map_):
    wang = map_["wang"]
    assert can_manage_partner(wang, map_["in_region"])
    assert can_manage_partner(wang, map_["owned_elsewhere"])
    assert not can_manage_partner(wang, map_["foreign"])
    assert set(partners_managed_by(wang)) == {map_["in_region"], map_["owned_elsewhere"]}


def test_analysts_and_role_less_staff_change_nothing(map_):
    for user in (AnalystFactory(), StaffFactory()):
        assert not can_manage_partner(user, map_["in_region"])
        assert not partners_managed_by(user).exists()


def test_a_manager_can_edit_an_own_partner_page_but_gets_403_on_a_foreign_one(client, map_):
    client.force_login(map_["wang"])
    assert client.get(reverse("partners:partner-edit", args=[map_["in_region"].pk])).status_code == 200
    response = client.get(reverse("partners:partner-edit", args=[map_["foreign"].pk]))
    assert response.status_code == 403
    assert "your regions" in response.content.decode()
    # Reading the foreign partner is fine.
    page = client.get(map_["foreign"].get_absolute_url())
    assert page.status_code == 200
    assert reverse("partners:partner-edit", args=[map_["foreign"].pk]) not in page.content.decode()


def test_a_manager_cannot_change_the_status_of_a_foreign_partner(client, map_):
    client.force_login(map_["wang"])
    response = client.post(reverse("partners:partner-status", args=[map_["foreign"].pk]), {"status": "suspended"})
    assert response.status_code == 403
    assert Partner.objects.get(pk=map_["foreign"].pk).status == PartnerStatus.ACTIVE


def test_a_manager_cannot_create_a_partner_outside_their_regions_for_someone_else(client, map_):
    client.force_login(map_["wang"])
    data = {
        "code": "NEW-1",
        "name": "New Co",
        "partner_type": "reseller",
        "region": map_["south"].pk,
        "status": "prospect",
    }
    response = client.post(reverse("partners:partner-create"), data)
    assert response.status_code == 200
    assert "your regions" in response.content.decode()
    assert not Partner.objects.filter(code="NEW-1").exists()
    data["owner"] = map_["wang"].pk
    assert client.post(reverse("partners:partner-create"), data).status_code == 302
    assert Partner.objects.get(code="NEW-1").owner == map_["wang"]


def test_an_analyst_reads_every_page_and_exports_but_cannot_open_any_form(client, map_):
    client.force_login(AnalystFactory())
    partner = map_["in_region"]
    for url in (
        "/",
        "/partners/",
        partner.get_absolute_url(),
        "/partners/regions/",
        "/partners/tiers/",
        "/partners/?export=csv",
    ):
        assert client.get(url).status_code == 200, url
    for url in (
        reverse("partners:partner-create"),
        reverse("partners:partner-edit", args=[partner.pk]),
        reverse("partners:region-create"),
        reverse("partners:tier-create"),
    ):
        assert client.get(url).status_code == 403, url
    assert "New partner" not in client.get("/partners/").content.decode()


def test_only_a_channel_admin_changes_regions_and_tiers(client, map_):
    client.force_login(map_["wang"])
    assert client.get(reverse("partners:region-create")).status_code == 403
    assert client.get(reverse("partners:tier-create")).status_code == 403
    client.force_login(ChannelAdminFactory())
    assert client.get(reverse("partners:region-create")).status_code == 200
    assert client.get(reverse("partners:tier-create")).status_code == 200


def test_api_writes_follow_the_same_scopes(map_):
    api = APIClient()
    api.force_authenticate(map_["wang"])
    own = api.patch(f"/api/v1/partners/{map_['in_region'].pk}/", {"phone": "+86 21 1234 5678"}, format="json")
    assert own.status_code == 200
    foreign = api.patch(f"/api/v1/partners/{map_['foreign'].pk}/", {"phone": "1"}, format="json")
    assert foreign.status_code == 403
    assert Partner.objects.get(pk=map_["foreign"].pk).phone == ""
    assert api.post(f"/api/v1/partners/{map_['foreign'].pk}/transition/", {"status": "suspended"}).status_code == 403
    assert api.post("/api/v1/regions/", {"code": "X", "name": "X", "kind": "city"}).status_code == 403
    assert not Region.objects.filter(code="X").exists()
    assert api.get("/api/v1/partners/").json()["count"] == 3


def test_api_analyst_reads_but_every_write_is_403(map_):
    api = APIClient()
    api.force_authenticate(AnalystFactory())
    assert api.get("/api/v1/partners/").status_code == 200
    tier = PartnerTierFactory()
    assert api.patch(f"/api/v1/tiers/{tier.pk}/", {"name": "Renamed"}, format="json").status_code == 403
    assert api.patch(f"/api/v1/partners/{map_['in_region'].pk}/", {"phone": "1"}, format="json").status_code == 403
