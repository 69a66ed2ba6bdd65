"""The channel team's performance pages in a real browser: a channel manager opens the channel
dashboard, reads the tiles, sorts the region table by score, opens a flagged region from it,
follows a contributing partner to its 360° page, and finds the performance panel on the home
page. Screenshots of each page, in English and in Chinese."""

import importlib
from datetime import date
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.apps import apps
from playwright.sync_api import expect

from agreements.models import AgreementTarget
from partners.choices import RegionKind
from performance import services
from performance.models import RegionFlag
from tests.factories import (
    AgreementFactory,
    ChannelManagerFactory,
    PartnerFactory,
    PartnerTierFactory,
    RegionFactory,
    SalesLineFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)

MONTHS = [f"2025-{m:02d}" for m in range(6, 13)] + [f"2026-{m:02d}" for m in range(1, 6)]
LAST = MONTHS[-1]


@pytest.fixture
def channel(roles):
    """China → East China (Shanghai, Hangzhou) and North China (Beijing): five partners with a
    monthly target of 10,000.00 each, selling a year of months; North China's partners sell
    less and less from February, so North China is flagged in May."""
    # A transactional test empties the tables, the default template of the data migration too.
    importlib.import_module("performance.migrations.0004_default_scorecard_template").create(apps, None)
    manager = ChannelManagerFactory(username="wanglei", display_name="Wang Lei")
    china = RegionFactory(code="CN", name="China", kind=RegionKind.COUNTRY)
    east = RegionFactory(code="EAST", name="East China", kind=RegionKind.AREA, parent=china)
    north = RegionFactory(code="NORTH", name="North China", kind=RegionKind.AREA, parent=china)
    shanghai = RegionFactory(code="SH", name="Shanghai", parent=east)
    hangzhou = RegionFactory(code="HZ", name="Hangzhou", parent=east)
    beijing = RegionFactory(code="BJ", name="Beijing", parent=north)
    gold = PartnerTierFactory(name="Gold")
    partners = {}
    for code, name, region, base in [
        ("XINGHE", "Xinghe Distribution", shanghai, 12000),
        ("JINPENG", "Jinpeng Technology", shanghai, 9000),
        ("HUIDA", "Huida Systems", hangzhou, 10500),
        ("BEICHEN", "Beichen Trading", beijing, 8000),
        ("YANJING", "Yanjing Solutions", beijing, 7000),
    ]:
        partner = PartnerFactory(code=code, name=name, region=region, tier=gold)
        agreement = AgreementFactory(
            partner=partner, start_date=date(2025, 1, 1), end_date=date(2026, 12, 31), territories=[region]
        )
        for year in (2025, 2026):
            AgreementTarget.objects.create(agreement=agreement, period=str(year), revenue=Decimal("120000.00"))
        partners[code] = partner
        for index, month in enumerate(MONTHS):
            year, number = (int(part) for part in month.split("-"))
            amount = base + 150 * index
            if region == beijing and month >= "2026-02":
                amount = base - 1500 * (int(month[-2:]) - 1)  # falling since February
            SalesLineFactory(
                partner=partner,
                sold_on=date(year, number, 10),
                quantity=Decimal("1"),
                unit_price=Decimal(amount),
                customer_id=f"{code}-c{index % 3}",
                customer_region=region if index % 5 else beijing if region != beijing else shanghai,
            )
    for month in MONTHS:
        services.month_compute(period=month)
    return SimpleNamespace(manager=manager, north=north, partners=partners)


def test_a_manager_reads_the_dashboard_and_a_flagged_region(page, live_server, channel, login, screenshot):
    flag = RegionFlag.objects.get(region=channel.north, period=LAST)
    login(page.context, channel.manager)
    page.goto("/performance/")
    expect(page.get_by_role("heading", level=1)).to_contain_text(LAST)
    expect(page.get_by_test_id("tile-attainment")).to_contain_text("%")
    expect(page.get_by_test_id("region-table").locator("tbody tr")).to_have_count(6)
    expect(page.locator("figure.trend-chart svg")).to_have_count(2)
    expect(page.get_by_test_id("ranking-top").locator("tbody tr")).to_have_count(5)
    screenshot(step="dashboard")

    page.get_by_test_id("region-table").get_by_role("link", name="Score").click()
    first = page.get_by_test_id("region-table").locator("tbody tr").first
    expect(first).to_contain_text("North China")  # the lowest score first
    page.get_by_test_id("region-table").get_by_role("link", name="North China").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("North China")
    expect(page.get_by_test_id("region-flag")).to_contain_text(flag.get_status_display())
    expect(page.get_by_test_id("finding").first).to_be_visible()
    expect(page.get_by_test_id("region-partners").locator("tbody tr")).to_have_count(2)
    expect(page.get_by_test_id("child-regions")).to_contain_text("Beijing")
    screenshot(step="region")

    page.get_by_test_id("finding").first.get_by_role("link").first.click()
    expect(page.get_by_test_id("partner-scorecard")).to_be_visible()
    expect(page.get_by_test_id("rank-in-region")).to_contain_text(" of 2")
    screenshot(step="partner")

    page.goto("/")
    expect(page.get_by_test_id("flag-count")).not_to_have_text("0")
    expect(page.get_by_test_id("grade-distribution")).to_be_visible()
    screenshot(step="home")


def test_the_scorecards_and_the_empty_month(page, live_server, channel, login, screenshot):
    login(page.context, channel.manager)
    page.goto("/performance/scorecards/")
    expect(page.get_by_test_id("scorecard-table").locator("tbody tr")).to_have_count(5)
    screenshot(step="list")
    page.goto("/performance/?period=2024-01")
    expect(page.get_by_test_id("not-computed")).to_contain_text("2024-01")
    screenshot(step="not-computed")


@pytest.mark.browser_context_args(locale="zh-CN")
def test_the_dashboard_in_chinese(page, live_server, channel, login, screenshot):
    channel.manager.preferred_language = "zh-hans"
    channel.manager.save()
    login(page.context, channel.manager)
    page.goto("/performance/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.get_by_test_id("region-table")).to_be_visible()
    screenshot(step="dashboard-zh")
    page.goto(f"/performance/regions/{channel.north.pk}/")
    expect(page.get_by_test_id("region-kpis")).to_be_visible()
    screenshot(step="region-zh")
