"""The partner portal in a real browser: a partner admin signs in, sees only their own
organisation, invites a colleague by email, and the colleague takes the link from the email,
chooses a password and signs in."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from partners.choices import RegionKind
from tests.factories import (
    DistributorFactory,
    PartnerAdminUserFactory,
    PartnerContactFactory,
    PartnerFactory,
    PartnerTierFactory,
    RegionFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)

ADMIN_EMAIL = "zhou.min@huaxin.example.cn"
ADMIN_PASSWORD = "Portal-admin-2026"
INVITEE_EMAIL = "li.hua@huaxin.example.cn"
INVITEE_PASSWORD = "Harbour-lantern-47"
# Whatever of the other partner could leak onto a page: its name, its code, its people.
FOREIGN = ("Ruida Distribution", "D-SOUTH-1", "Chen Jing", "ruida.example.cn")


@pytest.fixture
def partners(roles):
    """Our distributor with a sub-partner and its partner admin; another distributor, with a
    contact and a partner admin of its own, that our users must never see."""
    china = RegionFactory(code="CN", name="China", kind=RegionKind.COUNTRY)
    shanghai = RegionFactory(code="SH", name="Shanghai", parent=china)
    guangdong = RegionFactory(code="GD", name="Guangdong", parent=china)
    gold = PartnerTierFactory(name="Gold", rank=3, min_annual_revenue=Decimal("8000000"))
    own = DistributorFactory(code="D-EAST-1", name="Huaxin Distribution Co., Ltd.", region=shanghai, tier=gold)
    PartnerFactory(code="R-EAST-11", name="Jinpeng Technology Co., Ltd.", region=shanghai, parent=own)
    admin = PartnerAdminUserFactory(
        username="zhoumin", email=ADMIN_EMAIL, display_name="Zhou Min", password=ADMIN_PASSWORD, partner=own
    )
    foreign = DistributorFactory(code="D-SOUTH-1", name="Ruida Distribution Co., Ltd.", region=guangdong, tier=gold)
    PartnerContactFactory(partner=foreign, name="Chen Jing", email="chen.jing@ruida.example.cn")
    PartnerAdminUserFactory(username="ruida-admin", email="admin@ruida.example.cn", partner=foreign)
    return {"own": own, "admin": admin, "foreign": foreign}


def sign_in(page, email, password):
    page.goto("/")
    page.get_by_label("Username or email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def expect_nothing_foreign(page):
    body = page.locator("body")
    for marker in FOREIGN:
        expect(body).not_to_contain_text(marker)


def test_partner_admin_invites_a_colleague_who_sets_a_password_and_signs_in(
    page, new_context, live_server, partners, mailoutbox, screenshot
):
    sign_in(page, ADMIN_EMAIL, ADMIN_PASSWORD)
    # Partner users sign in on the staff sign-in page and land on their portal.
    expect(page).to_have_url(re.compile(r"/portal/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Huaxin Distribution Co., Ltd.")
    expect(page.get_by_text("Jinpeng Technology Co., Ltd.")).to_be_visible()  # its own sub-partner
    expect_nothing_foreign(page)
    nav = page.locator("nav.navbar")
    expect(nav.get_by_role("link", name="Partners", exact=True)).to_have_count(0)  # no staff pages for partners
    screenshot(step="dashboard")

    nav.get_by_role("link", name="Users").click()
    expect(page.get_by_role("heading", name="Portal users")).to_be_visible()
    expect(page.get_by_role("row", name=re.compile("Zhou Min"))).to_contain_text("You")
    expect_nothing_foreign(page)
    page.get_by_role("link", name="Invite a user").click()

    page.get_by_label("Name").fill("Li Hua")
    page.get_by_label("Email").fill(INVITEE_EMAIL)
    page.get_by_label("Job role").select_option(label="Sales")
    page.get_by_role("button", name="Send invitation").click()

    expect(page.get_by_role("alert")).to_contain_text(f"Invitation sent to {INVITEE_EMAIL}.")
    invited = page.get_by_role("row", name=re.compile("Li Hua"))
    expect(invited).to_contain_text("Invited, no password yet")
    expect(invited).to_contain_text("Partner user")
    screenshot(step="user-invited")

    # The live server runs in this process with the test email backend, so the mail lands here.
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == [INVITEE_EMAIL]
    assert "Huaxin Distribution Co., Ltd." in mail.subject
    link = re.search(r"https?://\S+/portal/invitation/\S+/", mail.body)[0]
    assert link.startswith(live_server.url)

    # The colleague opens the link in their own browser.
    invitee = new_context().new_page()
    invitee.goto(link)
    expect(invitee.get_by_role("heading", name="Choose your password")).to_be_visible()
    # The token leaves the address bar at once, so it never leaks through the Referer header.
    expect(invitee).to_have_url(re.compile(r"/portal/invitation/[^/]+/set-password/$"))
    expect(invitee.get_by_text(INVITEE_EMAIL)).to_be_visible()
    invitee.get_by_label(re.compile(r"^New password(?! confirmation)")).fill(INVITEE_PASSWORD)
    invitee.get_by_label("New password confirmation").fill(INVITEE_PASSWORD)
    screenshot(invitee, step="set-password")
    invitee.get_by_role("button", name="Set password and sign in").click()

    expect(invitee).to_have_url(re.compile(r"/portal/$"))
    expect(invitee.get_by_role("alert")).to_contain_text("Your password is set and you are signed in.")
    expect(invitee.get_by_role("heading", level=1)).to_contain_text("Huaxin Distribution Co., Ltd.")
    invitee_nav = invitee.locator("nav.navbar")
    expect(invitee_nav).to_contain_text("Li Hua")
    expect(invitee_nav.get_by_role("link", name="Users")).to_have_count(0)  # not a partner admin
    expect_nothing_foreign(invitee)
    screenshot(invitee, step="invitee-signed-in")

    invitee_nav.get_by_role("button", name="Sign out").click()
    expect(invitee.get_by_role("heading", name="Sign in to the partner platform")).to_be_visible()
    # The link worked once.
    invitee.goto(link)
    expect(invitee.get_by_role("heading", name="This invitation link cannot be used")).to_be_visible()

    sign_in(invitee, INVITEE_EMAIL, INVITEE_PASSWORD)
    expect(invitee).to_have_url(re.compile(r"/portal/$"))
    expect(invitee.locator("nav.navbar")).to_contain_text("Li Hua")
    expect(invitee.get_by_role("heading", level=1)).to_contain_text("Huaxin Distribution Co., Ltd.")

    # The partner admin now sees the colleague as an active user.
    page.reload()
    expect(page.get_by_role("row", name=re.compile("Li Hua"))).to_contain_text("Active")
    expect(page.get_by_role("row", name=re.compile("Li Hua"))).not_to_contain_text("Invited")
