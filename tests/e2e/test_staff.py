"""The staff UI in a real browser: sign in, find partners, read a partner's 360° page, switch
the language, and use the partner list on a phone."""

import re
from datetime import datetime
from decimal import Decimal
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from partners.choices import RegionKind
from partners.models import Partner
from tests.factories import (
    ChannelManagerFactory,
    DistributorFactory,
    PartnerContactFactory,
    PartnerFactory,
    PartnerTierFactory,
    RegionFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "Channel-2026!"
CREATED = datetime(2026, 3, 5, 10, 30, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture
def channel(roles):
    """Two sales areas with a three-level network in East China and two partners in the south.
    Names sort differently from codes, so a sorted list shows which column it was sorted by."""
    manager = ChannelManagerFactory(username="wanglei", display_name="Wang Lei", password=PASSWORD)
    china = RegionFactory(code="CN", name="China", kind=RegionKind.COUNTRY)
    east = RegionFactory(code="EAST", name="East China", kind=RegionKind.AREA, parent=china)
    south = RegionFactory(code="SOUTH", name="South China", kind=RegionKind.AREA, parent=china)
    shanghai = RegionFactory(code="SH", name="Shanghai", parent=east)
    jiangsu = RegionFactory(code="JS", name="Jiangsu", parent=east)
    guangdong = RegionFactory(code="GD", name="Guangdong", parent=south)
    gold = PartnerTierFactory(name="Gold", rank=3, min_annual_revenue=Decimal("8000000"))
    silver = PartnerTierFactory(name="Silver", rank=2, min_annual_revenue=Decimal("2000000"))

    distributor = DistributorFactory(
        code="D-EAST-1", name="Xinghe Distribution Co., Ltd.", region=shanghai, tier=gold, owner=manager
    )
    sub = DistributorFactory(
        code="S-EAST-11",
        name="Tianyu Supply Chain Co., Ltd.",
        legal_name="Jiangsu Tianyu Supply Chain Co., Ltd.",
        region=jiangsu,
        tier=silver,
        owner=manager,
        parent=distributor,
        email="info@tianyu.example.cn",
    )
    reseller = PartnerFactory(
        code="R-EAST-111", name="Jinpeng Technology Co., Ltd.", region=jiangsu, tier=silver, parent=sub
    )
    south_partners = [
        DistributorFactory(code="D-SOUTH-1", name="Ruida Distribution Co., Ltd.", region=guangdong, tier=gold),
        PartnerFactory(code="R-SOUTH-1", name="Boyuan Technology Co., Ltd.", region=guangdong),
    ]
    PartnerContactFactory(partner=sub, name="Zhang Wei", job_role="sales", is_primary=True)
    PartnerContactFactory(partner=sub, name="Li Na", job_role="finance", email="li.na@tianyu.example.cn")
    Partner.objects.filter(pk=sub.pk).update(created_at=CREATED)
    return SimpleNamespace(
        manager=manager, distributor=distributor, sub=sub, reseller=reseller, south=south_partners, silver=silver
    )


def partner_rows(page):
    return page.get_by_role("table").locator("tbody tr")


def codes_column(page):
    return partner_rows(page).locator("td:first-child")


def card(page, title):
    return page.locator(".card").filter(has=page.locator(".card-header", has_text=title))


def test_channel_manager_finds_a_partner_and_reads_its_360_page(page, live_server, channel, screenshot):
    page.goto("/")
    expect(page.get_by_role("heading", name="Sign in to the partner platform")).to_be_visible()
    page.get_by_label("Username or email").fill("wanglei")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("heading", name="Welcome, Wang Lei")).to_be_visible()
    page.locator("nav.navbar").get_by_role("link", name="Partners").click()
    expect(page.get_by_role("heading", name="Partners", exact=True)).to_be_visible()
    expect(partner_rows(page)).to_have_count(5)
    # Sorted by name by default.
    expect(codes_column(page)).to_have_text(["R-SOUTH-1", "R-EAST-111", "D-SOUTH-1", "S-EAST-11", "D-EAST-1"])

    # Sub-regions count: East China holds the Shanghai and Jiangsu partners.
    page.get_by_label("Region (with sub-regions)").select_option(label="East China")
    page.get_by_role("button", name="Filter").click()
    expect(codes_column(page)).to_have_text(["R-EAST-111", "S-EAST-11", "D-EAST-1"])
    expect(page.get_by_text("Showing 1–3 of 3")).to_be_visible()
    expect(page.get_by_label("Region (with sub-regions)")).to_have_value(str(channel.distributor.region.parent_id))

    code_header = page.get_by_role("link", name="Code")
    code_header.click()
    expect(page.get_by_role("link", name="Code ▲")).to_have_attribute("aria-sort", "ascending")
    expect(codes_column(page)).to_have_text(["D-EAST-1", "R-EAST-111", "S-EAST-11"])
    page.get_by_role("link", name="Code ▲").click()
    expect(page.get_by_role("link", name="Code ▼")).to_have_attribute("aria-sort", "descending")
    expect(codes_column(page)).to_have_text(["S-EAST-11", "R-EAST-111", "D-EAST-1"])

    # Free text narrows within the region; the region and the sort stay.
    page.get_by_label("Search").fill("supply chain")
    page.get_by_role("button", name="Filter").click()
    expect(codes_column(page)).to_have_text(["S-EAST-11"])
    expect(page.get_by_role("link", name="Code ▼")).to_be_visible()
    expect(page.get_by_label("Search")).to_have_value("supply chain")
    screenshot(step="list-filtered")

    page.get_by_role("link", name="Tianyu Supply Chain Co., Ltd.").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Tianyu Supply Chain Co., Ltd.")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Active")
    breadcrumb = page.get_by_role("navigation", name="breadcrumb")
    expect(breadcrumb.get_by_role("link")).to_have_text(["Partners", "Xinghe Distribution Co., Ltd."])

    profile = card(page, "Profile")
    for term, value in [
        ("Legal name", "Jiangsu Tianyu Supply Chain Co., Ltd."),
        ("Type", "Distributor"),
        ("Tier", "Silver"),
        ("Primary region", "Jiangsu (JS)"),
        ("Channel manager", "Wang Lei"),
        ("Email", "info@tianyu.example.cn"),
        ("Created on", "03/05/2026"),
    ]:
        expect(profile.locator("dt", has_text=term).first.locator("+ dd")).to_have_text(value)
    expect(card(page, "Tier: Silver")).to_contain_text("Annual revenue ≥ CNY 2,000,000.00")

    network = card(page, "Network")
    expect(network.locator(".card-header")).to_contain_text("Level 2 of 3 · 1 partner below")
    expect(network.get_by_role("link")).to_have_text(["Xinghe Distribution Co., Ltd.", "Jinpeng Technology Co., Ltd."])
    expect(network.locator("strong")).to_have_text("Tianyu Supply Chain Co., Ltd.")

    contacts = card(page, "Contacts").locator("tbody tr")
    expect(contacts).to_have_count(2)
    expect(contacts.filter(has_text="Zhang Wei")).to_contain_text("Primary")
    expect(contacts.filter(has_text="Li Na")).to_contain_text("li.na@tianyu.example.cn")
    for other in channel.south:
        expect(page.get_by_text(other.name)).to_have_count(0)
    screenshot(step="partner-360")

    # The network links lead on: the parent's page lists this partner as its child.
    network.get_by_role("link", name="Xinghe Distribution Co., Ltd.").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Xinghe Distribution Co., Ltd.")
    expect(card(page, "Network").get_by_role("link", name="Tianyu Supply Chain Co., Ltd.")).to_be_visible()


def test_language_switch_renders_the_page_in_chinese_and_back(page, live_server, channel, login, screenshot):
    login(page.context, channel.manager)
    page.goto(f"/partners/{channel.sub.pk}/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    profile = card(page, "Profile")
    expect(profile.locator("dt", has_text="Created on").locator("+ dd")).to_have_text("03/05/2026")
    screenshot(step="en")

    page.get_by_role("combobox", name="Language").select_option("zh-hans")

    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    nav = page.locator("nav.navbar")
    expect(nav.get_by_role("link", name="合作伙伴")).to_be_visible()  # Partners
    expect(nav.get_by_role("button", name="退出登录")).to_be_visible()  # Sign out
    expect(page).to_have_title("Tianyu Supply Chain Co., Ltd. · PRM")
    expect(page.get_by_role("heading", level=1)).to_contain_text("合作中")  # Active
    profile = card(page, "基本信息")  # Profile
    expect(profile.locator("dt", has_text="创建日期").locator("+ dd")).to_have_text("2026年3月5日")
    expect(profile.locator("dt", has_text="类型").first.locator("+ dd")).to_have_text("分销商")  # Distributor
    # Amounts keep thousands separators in Chinese too.
    expect(card(page, "等级：Silver")).to_contain_text("CNY 2,000,000.00")
    expect(card(page, "渠道网络").locator(".card-header")).to_contain_text("第 2 级（共 3 级）")
    expect(page.get_by_role("combobox", name="语言")).to_have_value("zh-hans")
    screenshot(step="zh-hans")

    # The choice sticks on the next page.
    nav.get_by_role("link", name="合作伙伴").click()
    expect(page.get_by_role("heading", name="合作伙伴", exact=True)).to_be_visible()
    expect(page.get_by_text("显示第 1–5 条，共 5 条")).to_be_visible()
    screenshot(step="zh-hans-list")

    page.get_by_role("combobox", name="语言").select_option("en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="Partners", exact=True)).to_be_visible()
    expect(page.get_by_text("Showing 1–5 of 5")).to_be_visible()


@pytest.mark.browser_context_args(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
def test_partner_list_on_a_phone(page, live_server, channel, login, screenshot):
    login(page.context, channel.manager)
    page.goto("/partners/")
    expect(codes_column(page)).to_have_count(5)

    # The navigation folds behind a toggler.
    toggler = page.get_by_role("button", name="Menu")
    nav_link = page.locator("#mainnav").get_by_role("link", name="Partners")
    expect(toggler).to_be_visible()
    expect(nav_link).to_be_hidden()
    # The page itself never scrolls sideways; the wide table scrolls inside its own box.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(step="list")

    toggler.click()
    expect(page.locator("#mainnav")).to_have_class(re.compile(r"\bshow\b"))  # fully open
    expect(nav_link).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(step="menu-open")

    nav_link.click()
    page.get_by_label("Type").select_option(label="Distributor")
    page.get_by_role("button", name="Filter").click()
    expect(codes_column(page)).to_have_text(["D-SOUTH-1", "S-EAST-11", "D-EAST-1"])
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
