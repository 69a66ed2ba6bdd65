"""Agreements in a real browser: a channel manager drafts an agreement with an exclusive territory
from the partner's page and submits it, a channel admin approves it, and a second exclusive
agreement on the same product line and region is refused with the first one named. Then the
pages in Chinese and on a phone."""

from datetime import date
from types import SimpleNamespace

import pytest
from playwright.sync_api import expect

from agreements.models import Agreement
from partners.choices import RegionKind
from tests.factories import (
    ChannelAdminFactory,
    ChannelManagerFactory,
    DistributorFactory,
    PartnerFactory,
    ProductLineFactory,
    RegionFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)

YEAR = date.today().year + 1


@pytest.fixture
def channel(roles):
    manager = ChannelManagerFactory(username="wanglei", display_name="Wang Lei")
    admin = ChannelAdminFactory(username="chenjing", display_name="Chen Jing")
    china = RegionFactory(code="CN", name="China", kind=RegionKind.COUNTRY)
    east = RegionFactory(code="EAST", name="East China", kind=RegionKind.AREA, parent=china)
    shanghai = RegionFactory(code="SH", name="Shanghai", parent=east)
    pudong = RegionFactory(code="SH-PD", name="Pudong", kind=RegionKind.CITY, parent=shanghai)
    sensors = ProductLineFactory(code="SENS", name="Industrial sensors")
    ProductLineFactory(code="VALV", name="Control valves")
    first = DistributorFactory(code="D-EAST-1", name="Xinghe Distribution Co., Ltd.", region=shanghai, owner=manager)
    second = PartnerFactory(code="R-EAST-2", name="Jinpeng Technology Co., Ltd.", region=pudong, owner=manager)
    return SimpleNamespace(
        manager=manager, admin=admin, shanghai=shanghai, pudong=pudong, sensors=sensors, first=first, second=second
    )


def fill_agreement(page, channel, *, region, agreement_type):
    page.get_by_label("Type").select_option(label=agreement_type)
    page.get_by_label("Start date").fill(f"{YEAR}-01-01")
    page.get_by_label("End date").fill(f"{YEAR}-12-31")
    page.get_by_label("Industrial sensors (SENS)").check()
    page.locator("#id_territories-0-region").select_option(str(region.pk))
    page.locator("#id_territories-0-exclusive").check()
    page.get_by_label("Discount %").fill("18")
    page.get_by_label("Payment terms").fill("Net 30 days after delivery")


def test_exclusive_agreement_drafted_submitted_approved_and_a_clash_refused(
    page, new_context, live_server, channel, login, screenshot
):
    login(page.context, channel.manager)
    page.goto(channel.first.get_absolute_url())
    section = page.locator("#agreements")
    expect(section).to_contain_text("No agreements yet.")
    section.get_by_role("link", name="New agreement").click()

    expect(page.get_by_role("heading", name="New agreement")).to_be_visible()
    expect(page.get_by_label("Partner code")).to_have_value("D-EAST-1")
    fill_agreement(page, channel, region=channel.shanghai, agreement_type="Distribution")
    # A second territory row, added in the browser.
    page.get_by_role("button", name="Add a row").first.click()
    page.get_by_role("button", name="Add a row").first.click()
    expect(page.locator("#id_territories-3-region")).to_be_visible()
    page.locator("#id_territories-3-region").select_option(str(channel.pudong.pk))
    screenshot(step="form")
    page.get_by_role("button", name="Save draft").click()

    expect(page.get_by_text("Agreement drafted.")).to_be_visible()
    first = Agreement.objects.get(partner=channel.first)
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text(first.number)
    expect(heading).to_contain_text("Draft")
    territories = page.get_by_test_id("territories")
    expect(territories).to_contain_text("Shanghai")
    expect(territories).to_contain_text("Pudong")
    expect(territories.locator(".badge")).to_have_text(["Exclusive"])
    page.get_by_role("button", name="Submit for approval").click()
    expect(page.get_by_text(f"{first.number} was submitted for approval.")).to_be_visible()
    expect(heading).to_contain_text("Pending approval")
    expect(page.get_by_role("button", name="Approve")).to_have_count(0)  # a manager does not approve

    approver = new_context().new_page()
    login(approver.context, channel.admin)
    approver.goto("/")
    approver.get_by_role("link", name=first.number).click()
    approver.get_by_role("button", name="Approve").click()
    expect(approver.get_by_text(f"{first.number} is approved and active.")).to_be_visible()
    expect(approver.get_by_role("heading", level=1)).to_contain_text("Active")
    screenshot(approver, step="approved")

    # A second exclusive agreement on the same line, in Pudong (inside Shanghai), same year.
    page.goto(f"/agreements/new/?partner={channel.second.pk}")
    fill_agreement(page, channel, region=channel.pudong, agreement_type="Reseller")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("Agreement drafted.")).to_be_visible()
    page.get_by_role("button", name="Submit for approval").click()
    # One refusal per clash: Shanghai (exclusive) and Pudong (granted to the first partner too).
    refusals = page.locator(".alert-danger")
    expect(refusals).to_have_count(2)
    for region, refusal in zip(("Shanghai", "Pudong"), refusals.all(), strict=True):
        expect(refusal).to_contain_text("Not submitted: Exclusivity conflict")
        expect(refusal).to_contain_text(f"{first.number} of Xinghe Distribution Co., Ltd.")
        expect(refusal).to_contain_text(f"Industrial sensors in {region}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Draft")
    screenshot(step="conflict")

    page.get_by_role("combobox", name="Language").select_option("zh-hans")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    screenshot(step="detail-zh-hans")
    page.goto("/agreements/")
    expect(page.locator("tbody tr")).to_have_count(2)
    screenshot(step="list-zh-hans")


@pytest.mark.browser_context_args(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
def test_agreement_pages_on_a_phone(page, live_server, channel, login, screenshot):
    from agreements import services

    agreement = services.agreement_create(
        partner=channel.first,
        agreement_type="distribution",
        start_date=date(YEAR, 1, 1),
        end_date=date(YEAR, 12, 31),
        by=channel.admin,
        product_lines=[channel.sensors],
        territories=[{"region": channel.shanghai, "exclusive": True}],
    )
    login(page.context, channel.manager)
    for url, step in [("/agreements/", "list"), (agreement.get_absolute_url(), "detail")]:
        page.goto(url)
        expect(page.get_by_text(agreement.number).first).to_be_visible()
        # The page itself never scrolls sideways; wide tables scroll inside their own box.
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), step
        screenshot(step=step)


def test_targets_grid_and_region_target_split(page, live_server, channel, login, screenshot):
    from decimal import Decimal

    from agreements import services
    from tests.factories import SalesLineFactory

    this_year = date.today().year
    for partner, sold in ((channel.first, "300"), (channel.second, "100")):
        agreement = services.agreement_create(
            partner=partner,
            agreement_type="reseller",
            start_date=date(this_year, 1, 1),
            end_date=date(this_year, 12, 31),
            by=channel.admin,
            product_lines=[channel.sensors],
        )
        services.agreement_submit(agreement=agreement, by=channel.admin)
        services.agreement_approve(agreement=agreement, by=channel.admin)
        SalesLineFactory(
            partner=partner, product_line=channel.sensors, sold_on=date(this_year - 1, 2, 1), unit_price=Decimal(sold)
        )
    login(page.context, channel.admin)

    page.goto(f"/agreements/{agreement.pk}/targets/?kind=quarter")
    grid = page.get_by_test_id("target-grid")
    expect(grid.locator("tbody tr")).to_have_count(4)
    page.locator(f"#id_revenue_{this_year}-Q1").fill("120000")
    page.locator(f"#id_units_{this_year}-Q2").fill("-4")
    page.get_by_role("button", name="Save targets").click()
    expect(page.get_by_text("Must not be negative.")).to_be_visible()
    page.locator(f"#id_units_{this_year}-Q2").fill("40")
    page.get_by_role("button", name="Save targets").click()
    expect(page.get_by_text("Targets saved.")).to_be_visible()
    expect(grid.locator("tfoot")).to_contain_text("CNY 120,000.00")
    screenshot(step="targets")

    page.goto("/agreements/region-targets/")
    page.get_by_label("Region").select_option(str(channel.shanghai.pk))
    page.get_by_label("Period").fill(f"{this_year}-Q1")
    page.get_by_label("Revenue").fill("1000.01")
    page.get_by_role("button", name="Save and preview the split").click()
    preview = page.get_by_test_id("split-preview")
    expect(preview.locator("tbody tr")).to_have_count(2)
    expect(page.get_by_test_id("total-revenue")).to_have_text("CNY 1,000.01")
    expect(preview.locator("tbody tr").first).to_contain_text("75.00%")
    screenshot(step="split-preview")
    page.get_by_role("button", name="Apply split").click()
    expect(page.get_by_text("Split applied: 2 partner targets set.")).to_be_visible()
    screenshot(step="split-applied")
