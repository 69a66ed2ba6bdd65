"""`manage.py seed_demo`: a believable channel to click through, and safe to run again."""

import pytest
from django.contrib.auth import authenticate
from django.test import RequestFactory

from partners.choices import PartnerType, RegionKind
from partners.models import Partner, PartnerContact, PartnerTier, Region
from tests.demo import row_counts, seed

pytestmark = pytest.mark.django_db

DEMO_USERS = ["admin", "manager", "analyst", "partner", "partner-user"]
PASSWORD = "demo12345"


def test_builds_regions_tiers_and_a_three_level_network(demo):
    assert Region.objects.filter(kind=RegionKind.AREA).count() >= 4
    assert Region.objects.filter(kind=RegionKind.PROVINCE).count() >= 12
    assert PartnerTier.objects.count() == 4
    assert Partner.objects.count() >= 60
    level3 = Partner.objects.filter(depth=3)
    assert level3.exists()
    # Level 3 hangs under a level-2 distributor that hangs under a top-level distributor.
    leaf = level3.select_related("parent__parent").first()
    assert leaf.parent.depth == 2 and leaf.parent.partner_type == PartnerType.DISTRIBUTOR
    assert leaf.parent.parent.depth == 1 and leaf.parent.parent.parent_id is None
    assert not Partner.objects.filter(depth__gt=3).exists()


def test_every_partner_has_one_primary_contact(demo):
    partners = Partner.objects.count()

    assert PartnerContact.objects.filter(is_primary=True).values("partner").distinct().count() == partners
    assert PartnerContact.objects.filter(is_primary=True).count() == partners


@pytest.mark.parametrize("username", DEMO_USERS)
def test_demo_users_sign_in_by_username_and_by_email(demo, username):
    by_name = authenticate(RequestFactory().post("/login/"), username=username, password=PASSWORD)

    assert by_name is not None and by_name.username == username
    assert by_name.email
    assert authenticate(RequestFactory().post("/login/"), username=by_name.email, password=PASSWORD) == by_name
    assert authenticate(RequestFactory().post("/login/"), username=by_name.email.upper(), password=PASSWORD) == by_name
    assert authenticate(RequestFactory().post("/login/"), username=username, password="wrong-password") is None


def test_staff_roles_are_set_up(demo):
    admin = authenticate(RequestFactory().post("/login/"), username="admin", password=PASSWORD)
    manager = authenticate(RequestFactory().post("/login/"), username="manager", password=PASSWORD)
    partner_user = authenticate(RequestFactory().post("/login/"), username="partner", password=PASSWORD)

    assert admin.is_superuser and admin.is_staff
    assert manager.is_staff and not manager.is_superuser
    assert not partner_user.is_staff


def test_partner_user_is_partner_admin_of_a_distributor_with_sub_partners(demo):
    contact = PartnerContact.objects.select_related("partner").get(user__username="partner")

    assert contact.is_partner_admin
    assert contact.partner.partner_type == PartnerType.DISTRIBUTOR
    assert contact.partner.children.exists()
    assert list(Partner.objects.visible_to(contact.user)) == [contact.partner]


def test_the_distributor_has_a_portal_user_besides_its_admin(demo):
    contact = PartnerContact.objects.select_related("partner", "user").get(user__username="partner-user")

    assert contact.partner.code == "D-EAST-1" and not contact.is_partner_admin
    assert list(contact.user.groups.values_list("name", flat=True)) == ["partner_user"]


def test_running_it_twice_creates_nothing_new(demo):
    first = row_counts()

    seed()

    assert row_counts() == first


def test_demo_users_have_their_roles_and_managers_their_regions(demo):
    from django.contrib.auth import get_user_model

    from partners.access import partners_managed_by
    from prm.roles import Role, user_roles

    users = {user.username: user for user in get_user_model().objects.all()}
    assert Role.CHANNEL_ADMIN in user_roles(users["admin"])
    assert Role.CHANNEL_MANAGER in user_roles(users["manager"])
    assert Role.ANALYST in user_roles(users["analyst"])
    assert Role.PARTNER_ADMIN in user_roles(users["partner"])
    managed = partners_managed_by(users["manager"])
    assert managed.filter(code="D-EAST-1").exists()
    assert not managed.filter(code="D-SOUTH-1", owner__isnull=False).exclude(owner=users["manager"]).exists()
    assert not partners_managed_by(users["analyst"]).exists()
