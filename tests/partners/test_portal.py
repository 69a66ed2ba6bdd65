"""The partner portal: partner users land on it, see only their own organisation (and, for a
distributor, its network), and their partner admin keeps the profile and the portal users.

Staff and partner users are each refused the other's pages with a message that links home;
invitations are single-use, expiring links; nothing a partner does reaches another partner."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from partners.choices import ContactRole, PartnerStatus
from partners.invitations import invitation_token_generator
from partners.models import Partner, PartnerContact
from partners.services import partner_update_profile, portal_user_deactivate
from prm.models import AuditEntry
from prm.roles import Role, user_roles
from tests.factories import (
    ChannelAdminFactory,
    DistributorFactory,
    PartnerAdminUserFactory,
    PartnerContactFactory,
    PartnerFactory,
    PartnerTierFactory,
    PartnerUserFactory,
    RegionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

User = get_user_model()
DASHBOARD = reverse("portal:dashboard")
PROFILE_EDIT = reverse("portal:profile-edit")
NETWORK = reverse("portal:network")
USERS = reverse("portal:user-list")
INVITE = reverse("portal:user-invite")
STRONG_PASSWORD = "Harbour-lantern-47"


def html(response):
    return response.content.decode()


def signs_in(username, password):
    """Whether these credentials sign in, as the login page checks them (with the request)."""
    return authenticate(RequestFactory().post(reverse("login")), username=username, password=password) is not None


def messages_of(response):
    return [str(message) for message in response.context["messages"]]


@pytest.fixture
def world(db):
    """Own distributor (Gold) → sub-distributor → reseller; a foreign distributor with its own
    sub-partner and contacts; a reseller on its own."""
    region = RegionFactory(code="EAST", name="East China")
    gold = PartnerTierFactory(name="Gold", rank=3, min_annual_revenue=Decimal("8000000"), min_certified_staff=5)
    silver = PartnerTierFactory(name="Silver", rank=2)
    own = DistributorFactory(
        code="D-OWN",
        name="Huaxin Distribution",
        legal_name="Huaxin Distribution Co., Ltd.",
        region=region,
        tier=gold,
        email="info@huaxin.example.cn",
        phone="+86 21 5555 0000",
        external_id="CRM-OWN",
        credit_rating="A",
    )
    own_sub = DistributorFactory(code="S-OWN", name="Tianyu Sub-distribution", parent=own, region=region, tier=silver)
    own_leaf = PartnerFactory(code="R-OWN", name="Jinpeng Reseller", parent=own_sub, region=region)
    foreign = DistributorFactory(code="D-FOREIGN", name="Zeta Secret Distribution", region=region, tier=gold)
    foreign_sub = PartnerFactory(code="R-FOREIGN", name="Zeta Hidden Reseller", parent=foreign, region=region)
    PartnerContactFactory(partner=foreign, name="Zeta Insider", email="insider@zeta.example")
    PartnerContactFactory(partner=own, name="Li Na", email="li.na@huaxin.example.cn", is_primary=True)
    reseller = PartnerFactory(code="R-ALONE", name="Standalone Reseller", region=region)
    return {
        "own": own,
        "own_sub": own_sub,
        "own_leaf": own_leaf,
        "foreign": foreign,
        "foreign_sub": foreign_sub,
        "reseller": reseller,
        "gold": gold,
        "admin": PartnerAdminUserFactory(username="zhou", display_name="Zhou Min", partner=own),
        "member": PartnerUserFactory(username="wu", display_name="Wu Jie", partner=own),
        "foreign_admin": PartnerAdminUserFactory(username="zeta-admin", display_name="Zeta Admin", partner=foreign),
    }


@pytest.fixture
def admin_client(client, world):
    client.force_login(world["admin"])
    return client


@pytest.fixture
def member_client(client, world):
    client.force_login(world["member"])
    return client


FOREIGN_MARKERS = ("Zeta", "D-FOREIGN", "R-FOREIGN", "zeta.example")


def assert_nothing_foreign(page):
    for marker in FOREIGN_MARKERS:
        assert marker not in page, marker


# Who lands where -------------------------------------------------------------------------------


def test_partner_users_landing_on_home_are_sent_to_the_portal(client, world):
    client.force_login(world["member"])
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response.url == DASHBOARD


def test_partner_users_sign_in_on_the_same_page_as_staff_and_land_on_the_portal(client, world):
    response = client.post(reverse("login"), {"username": "wu@example.com", "password": "pass12345"}, follow=True)
    assert response.redirect_chain[-1][0] == DASHBOARD
    assert response.status_code == 200
    assert "Huaxin Distribution" in html(response)


def test_staff_keep_their_home_page(client):
    client.force_login(ChannelAdminFactory())
    assert client.get(reverse("home")).status_code == 200


def test_staff_are_refused_the_portal_with_a_link_to_the_staff_home(client, world):
    client.force_login(ChannelAdminFactory())
    for url in (DASHBOARD, PROFILE_EDIT, NETWORK, USERS, INVITE):
        response = client.get(url)
        assert response.status_code == 403, url
        page = html(response)
        assert "The portal is for partner users" in page
        assert f'href="{reverse("home")}"' in page and "Go to the staff home page" in page


def test_partner_users_are_refused_staff_pages_with_a_link_to_their_portal(client, world):
    client.force_login(world["admin"])
    for url in (reverse("partners:partner-list"), reverse("partners:partner-detail", args=[world["own"].pk])):
        response = client.get(url)
        assert response.status_code == 403, url
        page = html(response)
        assert "This page is for vendor staff; your partner portal is here." in page
        assert f'href="{DASHBOARD}"' in page and "Go to your partner portal" in page


def test_anonymous_visitors_are_sent_to_sign_in_and_users_without_a_partner_are_refused(client, world):
    response = client.get(DASHBOARD)
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
    client.force_login(UserFactory(username="nobody"))
    response = client.get(DASHBOARD)
    assert response.status_code == 403
    assert "not linked to an active partner" in html(response)


def test_users_of_a_terminated_partner_no_longer_reach_the_portal(client, world):
    client.force_login(world["admin"])
    assert client.get(DASHBOARD).status_code == 200
    Partner.objects.filter(pk=world["own"].pk).update(status=PartnerStatus.TERMINATED)
    response = client.get(DASHBOARD)
    assert response.status_code == 403
    assert "not linked to an active partner" in html(response)
    assert world["own"].name not in html(response)


def test_a_login_in_a_partner_role_but_without_a_contact_is_not_a_portal_user(client, world):
    orphan = UserFactory(username="orphan")
    orphan.groups.add(*world["admin"].groups.all())
    client.force_login(orphan)
    assert client.get(reverse("home")).status_code == 403  # no redirect to a portal that is not theirs
    assert client.get(DASHBOARD).status_code == 403


# Dashboard and network ------------------------------------------------------------------------


def test_the_dashboard_shows_the_own_partner_its_tier_requirements_and_contacts(member_client, world):
    page = html(member_client.get(DASHBOARD))
    for text in (
        "D-OWN",
        "Huaxin Distribution Co., Ltd.",
        "Distributor",
        "Active",
        "East China",
        "info@huaxin.example.cn",
        "+86 21 5555 0000",
        "Tier: Gold",
        "CNY 8,000,000.00",
        "Certified staff",
        "Li Na",
        "Zhou Min",
    ):
        assert text in page, text
    assert "CRM-OWN" not in page  # the vendor's own references stay on the staff pages
    assert_nothing_foreign(page)


def test_a_distributor_sees_its_whole_sub_network_and_nothing_else(member_client, world):
    dashboard = html(member_client.get(DASHBOARD))
    network = html(member_client.get(NETWORK))
    for page in (dashboard, network):
        assert "Tianyu Sub-distribution" in page and "Jinpeng Reseller" in page
        assert "Silver" in page
        assert "Standalone Reseller" not in page
        assert_nothing_foreign(page)
    assert f'href="{NETWORK}"' in dashboard  # the menu links the network for a distributor


def test_a_reseller_has_no_network_page_in_its_menu_and_an_empty_state_on_it(client, world):
    client.force_login(PartnerUserFactory(username="alone", partner=world["reseller"]))
    dashboard = html(client.get(DASHBOARD))
    assert f'href="{NETWORK}"' not in dashboard
    assert "Tianyu" not in dashboard
    response = client.get(NETWORK)
    assert response.status_code == 200
    assert "Only distributors have sub-partners" in html(response)


def test_a_sub_distributor_sees_only_its_own_branch(client, world):
    client.force_login(PartnerUserFactory(username="sub-user", partner=world["own_sub"]))
    response = client.get(NETWORK)
    assert [partner.code for partner in response.context["sub_partners"]] == ["R-OWN"]
    assert "D-OWN" not in html(response)  # the distributor above is not its to see


def test_the_menu_shows_users_to_the_partner_admin_only(client, world):
    client.force_login(world["admin"])
    assert f'href="{USERS}"' in html(client.get(DASHBOARD))
    client.force_login(world["member"])
    assert f'href="{USERS}"' not in html(client.get(DASHBOARD))


def test_portal_panels_registered_by_other_modules_show_on_the_dashboard(member_client, world, monkeypatch):
    from prm import dashboard

    monkeypatch.setitem(dashboard._panels, "portal", [lambda user: {"template": "portal/_tier.html"}])
    response = member_client.get(DASHBOARD)
    assert html(response).count("Tier: Gold") == 2


def test_the_dashboard_and_users_page_take_a_fixed_number_of_queries(client, world):
    client.force_login(world["admin"])

    def count(url):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    few = {url: count(url) for url in (DASHBOARD, USERS, NETWORK)}
    for n in range(12):
        sub = PartnerFactory(parent=world["own"], region=world["own"].region, tier=world["gold"])
        PartnerFactory(parent=world["own_sub"], region=world["own"].region)
        PartnerContactFactory(partner=world["own"])
        PartnerUserFactory(username=f"extra-{n}", partner=world["own"])
        assert sub.depth == 2
    many = {url: count(url) for url in few}
    assert many == few


def test_query_count_ceiling(client, world, django_assert_max_num_queries):
    client.force_login(world["admin"])
    for n in range(20):
        PartnerFactory(parent=world["own"], region=world["own"].region)
        PartnerUserFactory(username=f"bulk-{n}", partner=world["own"])
    # 12, the training panel's three (expiring certifications, the tier, its requirements) and the
    # incentives panel's three (the latest statement, the budgets, the open MDF requests).
    with django_assert_max_num_queries(18):
        client.get(DASHBOARD)
    with django_assert_max_num_queries(12):
        client.get(USERS)


def test_the_dashboard_speaks_chinese_to_a_user_who_prefers_it(client, world):
    world["member"].preferred_language = "zh-hans"
    world["member"].save()
    client.force_login(world["member"])
    page = html(client.get(DASHBOARD))
    for heading in ("基本信息", "联系人", "下级伙伴", "准入要求", "等级权益", "退出登录"):
        assert heading in page, heading


def test_the_dashboard_follows_the_browser_language(member_client, world):
    page = html(member_client.get(DASHBOARD, HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9"))
    assert "联系人" in page and "分销商" in page


# Profile --------------------------------------------------------------------------------------


def profile_payload(**changes):
    data = {
        "legal_name": "Huaxin Distribution (Shanghai) Co., Ltd.",
        "email": "hello@huaxin.example.cn",
        "phone": "+86 21 6666 0000",
        "website": "https://huaxin.example.cn",
        "address": "88 Century Avenue, Pudong, Shanghai",
    }
    data.update(changes)
    return data


def test_the_partner_admin_saves_the_allowed_profile_fields_and_it_is_recorded(admin_client, world):
    response = admin_client.post(PROFILE_EDIT, profile_payload())
    assert response.status_code == 302 and response.url == reverse("portal:profile")
    own = Partner.objects.get(pk=world["own"].pk)
    assert own.legal_name == "Huaxin Distribution (Shanghai) Co., Ltd."
    assert own.email == "hello@huaxin.example.cn"
    assert own.address == "88 Century Avenue, Pudong, Shanghai"
    entry = AuditEntry.objects.filter(object_type="partners.partner", object_id=str(own.pk)).first()
    assert entry.actor == world["admin"] and "email" in entry.changes


def test_fields_the_vendor_keeps_are_ignored_when_posted_to_the_profile(admin_client, world):
    before = Partner.objects.filter(pk=world["own"].pk).values().get()
    foreign_tier = PartnerTierFactory(name="Platinum", rank=9)
    response = admin_client.post(
        PROFILE_EDIT,
        profile_payload(
            code="HACKED",
            name="HACKED",
            status=PartnerStatus.TERMINATED,
            tier=foreign_tier.pk,
            owner=world["admin"].pk,
            region=RegionFactory().pk,
            parent=world["foreign"].pk,
            external_id="HACKED",
            credit_rating="AAA",
            partner_type="reseller",
        ),
    )
    assert response.status_code == 302
    after = Partner.objects.filter(pk=world["own"].pk).values().get()
    for field in ("code", "name", "status", "tier_id", "owner_id", "region_id", "parent_id", "path"):
        assert after[field] == before[field], field
    assert after["external_id"] == "CRM-OWN" and after["credit_rating"] == "A"
    assert after["partner_type"] == "distributor"


def test_the_profile_service_refuses_fields_partners_may_not_set():
    partner = PartnerFactory()
    with pytest.raises(ValidationError) as error:
        partner_update_profile(partner=partner, by=None, email="a@b.example", tier=None, status="terminated")
    assert set(error.value.message_dict) == {"tier", "status"}
    assert Partner.objects.get(pk=partner.pk).email == ""


def test_bad_profile_input_shows_the_field_error_and_changes_nothing(admin_client, world):
    before = Partner.objects.filter(pk=world["own"].pk).values().get()
    response = admin_client.post(PROFILE_EDIT, profile_payload(email="not-an-email", legal_name="Changed"))
    assert response.status_code == 200
    assert response.context["form"].errors["email"]
    assert 'class="form-control is-invalid"' in html(response)
    assert Partner.objects.filter(pk=world["own"].pk).values().get() == before


def test_a_partner_user_who_is_not_admin_cannot_edit_the_profile(member_client, world):
    assert member_client.get(reverse("portal:profile")).status_code == 200
    for response in (member_client.get(PROFILE_EDIT), member_client.post(PROFILE_EDIT, profile_payload())):
        assert response.status_code == 403
        assert "partner admin can change its profile" in html(response)
    assert Partner.objects.get(pk=world["own"].pk).email == "info@huaxin.example.cn"


# Users: invite, set password, resend ----------------------------------------------------------


def invite(client, capture, **changes):
    data = {"name": "Sun Tao", "email": "Sun.Tao@Huaxin.example.cn", "job_role": ContactRole.SALES, "language": "en"}
    data.update(changes)
    with capture(execute=True):
        return client.post(INVITE, data)


def link_in(mail):
    match = re.search(r"https?://[^/\s]+(/portal/invitation/[^/\s]+/[^/\s]+/)", mail.body)
    assert match, mail.body
    return match[1]


def test_inviting_a_user_creates_the_login_and_sends_one_email_with_a_link(
    admin_client, world, mailoutbox, django_capture_on_commit_callbacks
):
    response = invite(admin_client, django_capture_on_commit_callbacks, is_admin="on")
    assert response.status_code == 302 and response.url == USERS
    user = User.objects.get(email="sun.tao@huaxin.example.cn")
    assert user.is_active and not user.has_usable_password()
    assert Role.PARTNER_ADMIN in user_roles(user)
    contact = PartnerContact.objects.get(user=user)
    assert contact.partner == world["own"] and contact.is_partner_admin and contact.name == "Sun Tao"
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["sun.tao@huaxin.example.cn"]
    assert "Huaxin Distribution" in mail.subject
    assert "Zhou Min has invited you" in mail.body
    link_in(mail)
    entry = AuditEntry.objects.filter(object_type="partners.partner", object_id=str(world["own"].pk)).first()
    assert entry.actor == world["admin"]
    assert entry.changes["partners.partnercontact:user"] == [None, "sun.tao@huaxin.example.cn"]
    users_page = html(admin_client.get(USERS))
    assert "Sun Tao" in users_page and "Invited, no password yet" in users_page


def test_the_invitation_link_sets_the_password_signs_in_and_works_once(
    client, world, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(world["admin"])
    invite(client, django_capture_on_commit_callbacks)
    link = link_in(mailoutbox[0])
    client.logout()

    opened = client.get(link)
    assert opened.status_code == 302 and "set-password" in opened.url  # the token leaves the URL
    form_page = client.get(opened.url)
    assert "sun.tao@huaxin.example.cn" in html(form_page) and form_page.context["validlink"]
    done = client.post(opened.url, {"new_password1": STRONG_PASSWORD, "new_password2": STRONG_PASSWORD})
    assert done.status_code == 302 and done.url == DASHBOARD
    assert client.get(DASHBOARD).status_code == 200  # signed in
    assert User.objects.get(email="sun.tao@huaxin.example.cn").check_password(STRONG_PASSWORD)

    client.logout()
    again = client.get(link, follow=True)
    assert not again.context["validlink"]
    assert "has expired, has already been used, or is incomplete" in html(again)
    assert signs_in("sun.tao@huaxin.example.cn", STRONG_PASSWORD)


def test_password_validators_apply_to_the_invitation(client, world, mailoutbox, django_capture_on_commit_callbacks):
    client.force_login(world["admin"])
    invite(client, django_capture_on_commit_callbacks)
    opened = client.get(link_in(mailoutbox[0]))
    response = client.post(opened.url, {"new_password1": "12345678", "new_password2": "12345678"})
    assert response.status_code == 200
    assert response.context["form"].errors
    assert not User.objects.get(email="sun.tao@huaxin.example.cn").has_usable_password()


def test_an_expired_invitation_is_refused_and_changes_nothing(
    client, world, mailoutbox, django_capture_on_commit_callbacks, settings, monkeypatch
):
    settings.PRM_INVITATION_TTL_HOURS = 2
    client.force_login(world["admin"])
    invite(client, django_capture_on_commit_callbacks)
    link = link_in(mailoutbox[0])
    client.logout()
    later = invitation_token_generator._now() + timedelta(hours=2, minutes=1)
    monkeypatch.setattr(invitation_token_generator, "_now", lambda: later)
    response = client.get(link)
    assert response.status_code == 200 and not response.context["validlink"]
    assert "This invitation link cannot be used" in html(response)
    response = client.post(link, {"new_password1": STRONG_PASSWORD, "new_password2": STRONG_PASSWORD})
    assert not response.context["validlink"]
    assert not User.objects.get(email="sun.tao@huaxin.example.cn").has_usable_password()


def test_an_invitation_within_its_lifetime_still_works(world, settings, monkeypatch):
    settings.PRM_INVITATION_TTL_HOURS = 2
    user = User.objects.create_user("pending@example.com", "pending@example.com", password=None)
    token = invitation_token_generator.make_token(user)
    later = invitation_token_generator._now() + timedelta(hours=1, minutes=59)
    monkeypatch.setattr(invitation_token_generator, "_now", lambda: later)
    assert invitation_token_generator.check_token(user, token)


def test_a_tampered_or_foreign_token_is_refused(client, world, mailoutbox, django_capture_on_commit_callbacks):
    client.force_login(world["admin"])
    invite(client, django_capture_on_commit_callbacks)
    link = link_in(mailoutbox[0])
    client.logout()
    prefix, uid, token, _end = link.rsplit("/", 3)
    tampered = f"{prefix}/{uid}/{token[:-1]}{'0' if token[-1] != '0' else '1'}/"
    # Another real user's id with this token (changing a character of the uid may decode to the
    # same id: base64's last character carries spare bits).
    other_uid = f"{prefix}/{urlsafe_base64_encode(force_bytes(world['admin'].pk))}/{token}/"
    from django.contrib.auth.tokens import default_token_generator

    user = User.objects.get(email="sun.tao@huaxin.example.cn")
    reset_token = f"{prefix}/{uid}/{default_token_generator.make_token(user)}/"  # a password-reset token
    for url in (tampered, other_uid, reset_token, f"{prefix}/{uid}/garbage/"):
        response = client.get(url)
        assert response.status_code == 200 and not response.context["validlink"], url
    assert not User.objects.get(pk=user.pk).has_usable_password()


def test_inviting_an_email_that_has_a_login_is_a_field_error(
    admin_client, world, mailoutbox, django_capture_on_commit_callbacks
):
    users_before = User.objects.count()
    contacts_before = PartnerContact.objects.count()
    response = invite(admin_client, django_capture_on_commit_callbacks, email="WU@example.com")
    assert response.status_code == 200
    assert response.context["form"].errors["email"] == ["A login with this email address already exists."]
    assert (User.objects.count(), PartnerContact.objects.count()) == (users_before, contacts_before)
    assert mailoutbox == []


def test_inviting_an_existing_contact_links_it_instead_of_duplicating(
    admin_client, world, mailoutbox, django_capture_on_commit_callbacks
):
    li_na = PartnerContact.objects.get(email="li.na@huaxin.example.cn")
    invite(admin_client, django_capture_on_commit_callbacks, name="Li Na", email="li.na@huaxin.example.cn")
    li_na.refresh_from_db()
    assert li_na.user is not None and li_na.user.email == "li.na@huaxin.example.cn"
    assert PartnerContact.objects.filter(email="li.na@huaxin.example.cn").count() == 1
    assert Role.PARTNER_USER in user_roles(li_na.user)


def test_the_invitation_goes_out_in_the_chosen_language(
    admin_client, world, mailoutbox, django_capture_on_commit_callbacks
):
    invite(admin_client, django_capture_on_commit_callbacks, language="zh-hans")
    assert User.objects.get(email="sun.tao@huaxin.example.cn").preferred_language == "zh-hans"
    assert len(mailoutbox) == 1


def test_the_invitation_can_be_sent_again_until_a_password_is_set(
    admin_client, world, mailoutbox, django_capture_on_commit_callbacks
):
    invite(admin_client, django_capture_on_commit_callbacks)
    contact = PartnerContact.objects.get(email="sun.tao@huaxin.example.cn")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("portal:user-resend", args=[contact.pk]), follow=True)
    assert "Invitation sent to sun.tao@huaxin.example.cn." in messages_of(response)
    assert len(mailoutbox) == 2 and link_in(mailoutbox[1])
    member_contact = PartnerContact.objects.get(user=world["member"])
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("portal:user-resend", args=[member_contact.pk]), follow=True)
    assert "Wu Jie has already chosen a password." in messages_of(response)
    assert len(mailoutbox) == 2


# Users: deactivate, reactivate, who may ------------------------------------------------------


def test_a_deactivated_user_can_no_longer_sign_in_and_can_be_reactivated(client, world):
    member_contact = PartnerContact.objects.get(user=world["member"])
    client.force_login(world["admin"])
    response = client.post(reverse("portal:user-deactivate", args=[member_contact.pk]), follow=True)
    assert "Wu Jie can no longer sign in." in messages_of(response)
    assert "Deactivated" in html(response)
    assert not User.objects.get(pk=world["member"].pk).is_active
    entry = AuditEntry.objects.filter(object_type="partners.partner", object_id=str(world["own"].pk)).first()
    assert entry.actor == world["admin"] and entry.changes["prm.user:is_active"] == [True, False]

    assert not signs_in("wu", "pass12345")
    client.post(reverse("portal:user-reactivate", args=[member_contact.pk]))
    assert signs_in("wu", "pass12345")


def test_a_deactivated_users_open_session_ends(client, world):
    client.force_login(world["member"])
    portal_user_deactivate(contact=PartnerContact.objects.get(user=world["member"]), by=world["admin"])
    response = client.get(DASHBOARD)
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_an_invitation_of_a_deactivated_user_stops_working(
    client, world, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(world["admin"])
    invite(client, django_capture_on_commit_callbacks)
    contact = PartnerContact.objects.get(email="sun.tao@huaxin.example.cn")
    client.post(reverse("portal:user-deactivate", args=[contact.pk]))
    client.logout()
    response = client.get(link_in(mailoutbox[0]))
    assert response.status_code == 200 and not response.context["validlink"]


def test_a_partner_admin_cannot_deactivate_themselves(admin_client, world):
    own_contact = PartnerContact.objects.get(user=world["admin"])
    response = admin_client.post(reverse("portal:user-deactivate", args=[own_contact.pk]), follow=True)
    assert "You cannot deactivate your own login." in messages_of(response)
    assert User.objects.get(pk=world["admin"].pk).is_active


def test_another_partners_user_is_not_found(admin_client, world):
    foreign_contact = PartnerContact.objects.get(user=world["foreign_admin"])
    for name in ("portal:user-deactivate", "portal:user-reactivate", "portal:user-resend"):
        assert admin_client.post(reverse(name, args=[foreign_contact.pk])).status_code == 404, name
    assert User.objects.get(pk=world["foreign_admin"].pk).is_active
    assert "Zeta" not in html(admin_client.get(USERS))


def test_a_partner_user_who_is_not_admin_cannot_manage_users(member_client, world, mailoutbox):
    admin_contact = PartnerContact.objects.get(user=world["admin"])
    refused = [
        member_client.get(USERS),
        member_client.get(INVITE),
        member_client.post(INVITE, {"name": "X", "email": "x@example.com", "job_role": "sales", "language": "en"}),
        member_client.post(reverse("portal:user-deactivate", args=[admin_contact.pk])),
    ]
    for response in refused:
        assert response.status_code == 403
        assert "Only your organisation&#x27;s partner admin can manage its portal users." in html(response)
    assert not User.objects.filter(email="x@example.com").exists()
    assert User.objects.get(pk=world["admin"].pk).is_active
    assert mailoutbox == []


def test_user_actions_are_post_only(admin_client, world):
    contact = PartnerContact.objects.get(user=world["member"])
    assert admin_client.get(reverse("portal:user-deactivate", args=[contact.pk])).status_code == 405
    assert User.objects.get(pk=world["member"].pk).is_active
