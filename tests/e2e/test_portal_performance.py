"""A partner user in a real browser: the dashboard's performance panel shows the latest score,
grade, rank in the tier and attainment; the performance page (from the portal's menu) explains the
score item by item, ranks the partner "2 of 3" in its tier without naming anyone else, shows the
attainment of the month, quarter and year and the trend charts; another month is picked from the
list, a bad month in the address is a message; in Chinese the page still reads."""

import re

import pytest
from playwright.sync_api import expect

from tests.factories import PartnerUserFactory
from tests.performance.portal_world import FOREIGN_MARKERS, build

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def world(roles):
    return build()


def expect_nothing_foreign(page):
    body = page.locator("body")
    for marker in FOREIGN_MARKERS:
        expect(body).not_to_contain_text(marker)


def test_partner_reads_its_scorecard(page, world, login, screenshot):
    login(page.context, PartnerUserFactory(partner=world.own, display_name="Zhou Min"))
    page.goto("/portal/")
    panel = page.locator("#performance-panel")
    expect(panel).to_contain_text("Your scorecard for 2026-05")
    expect(panel).to_contain_text("87.88")
    expect(panel).to_contain_text("2 of 3")
    expect(panel).to_contain_text("120.0%")
    expect_nothing_foreign(page)

    page.locator("nav.navbar").get_by_role("link", name="Performance").click()
    expect(page).to_have_url(re.compile(r"/portal/performance/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Performance")
    expect(page.get_by_test_id("score")).to_have_text("87.88")
    expect(page.get_by_test_id("rank-in-tier")).to_have_text("2 of 3")
    expect(page.get_by_test_id("rank-in-region")).to_have_text("3 of 4")
    expect(page.get_by_test_id("attainment-month")).to_have_text("120.0%")
    expect(page.get_by_test_id("attainment-quarter")).to_have_text("100.0%")
    expect(page.get_by_test_id("attainment-year")).to_have_text("80.0%")
    items = page.locator("#scorecard-items")
    expect(items.get_by_role("row", name=re.compile("^Target attainment"))).to_contain_text("54.5%")
    expect(items.get_by_role("row", name=re.compile("^Cross-territory"))).to_contain_text("33.33")
    expect(page.locator("#revenue-trend svg")).to_be_visible()
    expect(page.locator("#score-trend svg")).to_be_visible()
    expect(page.locator("#kpi-values")).to_contain_text("3,000.00")
    expect_nothing_foreign(page)
    screenshot(step="page")

    page.get_by_label("Month", exact=True).select_option("2026-04")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"period=2026-04"))
    expect(page.get_by_test_id("attainment-month")).to_have_text("80.0%")
    screenshot(step="april")

    page.goto("/portal/performance/?period=2026-14")
    expect(page.get_by_role("alert")).to_contain_text("“2026-14” is not a month")
    expect(page.get_by_role("alert")).to_contain_text("Showing 2026-05 instead.")
    expect(page.get_by_test_id("score")).to_have_text("87.88")
    screenshot(step="bad-period")


@pytest.mark.browser_context_args(locale="zh-CN")
def test_the_page_reads_in_chinese(page, world, login, screenshot):
    login(page.context, PartnerUserFactory(partner=world.own, preferred_language="zh-hans"))
    page.goto("/portal/performance/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.get_by_role("heading", level=1)).to_have_text("绩效")
    expect(page.get_by_test_id("score")).to_have_text("87.88")
    expect_nothing_foreign(page)
    screenshot(step="zh")
