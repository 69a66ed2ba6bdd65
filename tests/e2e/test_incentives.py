"""Incentives in a real browser: a channel admin edits a rebate policy's brackets and watches the
live preview follow each change (and name a wrong bracket), approves a rebate statement from the
home page, and a channel manager approves an MDF request from the approval queue. Then every
incentives page in English and in Chinese, for the screenshots."""

from datetime import date
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core.files.base import ContentFile
from playwright.sync_api import expect

from incentives import services
from incentives.choices import MdfStatus, StatementStatus
from incentives.models import MdfProof, MdfRequest, RebateStatement, TierMultiplier
from partners.choices import RegionKind
from tests.factories import (
    PDF_BYTES,
    AgreementFactory,
    ChannelAdminFactory,
    ChannelManagerFactory,
    DistributorFactory,
    MdfBudgetFactory,
    MdfRequestFactory,
    OverridePolicyFactory,
    PartnerFactory,
    PartnerTierFactory,
    PolicyAssignmentFactory,
    RebatePolicyFactory,
    RegionFactory,
    SalesLineFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)

PERIOD = "2026-03"


@pytest.fixture
def channel(roles):
    admin = ChannelAdminFactory(username="chenjing", display_name="Chen Jing")
    manager = ChannelManagerFactory(username="wanglei", display_name="Wang Lei")
    china = RegionFactory(code="CN", name="China", kind=RegionKind.COUNTRY)
    east = RegionFactory(code="EAST", name="East China", kind=RegionKind.AREA, parent=china)
    shanghai = RegionFactory(code="SH", name="Shanghai", parent=east)
    gold = PartnerTierFactory(name="Gold", rank=1, mdf_allowance_percent=Decimal("2.00"))
    xinghe = DistributorFactory(
        code="D-EAST-1", name="Xinghe Distribution Co., Ltd.", region=shanghai, owner=manager, tier=gold
    )
    jinpeng = PartnerFactory(code="R-EAST-2", name="Jinpeng Technology Co., Ltd.", region=shanghai, parent=xinghe)
    policy = RebatePolicyFactory(name="Distributor volume rebate", brackets=[(0, 10), (1000, 20), (3000, 30)])
    TierMultiplier.objects.create(policy=policy, tier=gold, multiplier=Decimal("1.2"))
    OverridePolicyFactory(name="Network override", rates={1: 3, 2: 1})
    agreement = AgreementFactory(
        partner=xinghe, number="AG-2026-0001", start_date=date(2026, 1, 1), end_date=date(2026, 12, 31)
    )
    PolicyAssignmentFactory(agreement=agreement, policy=policy)
    SalesLineFactory(partner=xinghe, sold_on=date(2026, 3, 10), quantity=Decimal("1"), unit_price=Decimal("3800"))
    SalesLineFactory(partner=jinpeng, sold_on=date(2026, 3, 12), quantity=Decimal("1"), unit_price=Decimal("2000"))
    statement = services.statement_calculate(partner=xinghe, period=PERIOD, by=admin)
    budget = MdfBudgetFactory(partner=xinghe, period="2026-Q1", allocated=Decimal("10000.00"))
    request = MdfRequestFactory(
        budget=budget,
        title="Shanghai automation fair booth",
        status=MdfStatus.SUBMITTED,
        requested_amount=Decimal("4000.00"),
    )
    claimed = MdfRequestFactory(
        budget=budget,
        title="Trade magazine advertising",
        activity_type="advertising",
        status=MdfStatus.CLAIMED,
        requested_amount=Decimal("2500.00"),
        approved_amount=Decimal("2000.00"),
        actual_amount=Decimal("1800.00"),
    )
    MdfProof.objects.create(
        request=claimed,
        file=ContentFile(PDF_BYTES, name="invoice.pdf"),
        original_name="invoice.pdf",
        content_type="application/pdf",
        size=len(PDF_BYTES),
    )
    return SimpleNamespace(
        admin=admin,
        manager=manager,
        gold=gold,
        xinghe=xinghe,
        policy=policy,
        statement=statement,
        budget=budget,
        request=request,
        claimed=claimed,
    )


def test_editing_brackets_updates_the_live_preview(page, live_server, channel, login, screenshot):
    login(page.context, channel.admin)
    page.goto("/incentives/policies/")
    page.get_by_role("link", name="Distributor volume rebate").click()
    expect(page.get_by_test_id("brackets").locator("tbody tr")).to_have_count(3)
    page.get_by_role("link", name="Edit").click()

    amount = page.get_by_test_id("preview-amount")
    lines = page.get_by_test_id("preview-lines")
    expect(amount).to_have_text("—")
    page.get_by_label("Volume in the period").fill("3800")
    expect(amount).to_have_text("CNY 740.00")
    expect(lines.locator("tbody tr")).to_have_count(3)
    expect(lines.locator("tbody tr").nth(2)).to_contain_text("30%")
    expect(lines.locator("tbody tr").nth(2)).to_contain_text("CNY 240.00")
    screenshot(step="marginal")

    page.get_by_label("Method").select_option(label="Retroactive")
    expect(amount).to_have_text("CNY 1,140.00")
    expect(lines.locator("tbody tr")).to_have_count(1)

    page.locator("#id_brackets-2-rate").fill("25")
    expect(amount).to_have_text("CNY 950.00")
    page.get_by_role("button", name="Add a row").click()
    page.locator("#id_brackets-4-threshold").fill("3500")
    page.locator("#id_brackets-4-rate").fill("40")
    expect(amount).to_have_text("CNY 1,520.00")

    # A partner applies its tier's multiplier (Gold × 1.2 in the form) and the cap.
    page.get_by_label("Partner (optional)").fill("D-EAST-1")
    expect(amount).to_have_text("CNY 1,824.00")
    expect(page.locator("#preview-note")).to_contain_text("Xinghe Distribution Co., Ltd. (Gold)")
    page.get_by_label("Cap per period").fill("1500")
    expect(amount).to_have_text("CNY 1,500.00")
    expect(lines.locator("tbody tr.table-warning")).to_contain_text("Cap")
    screenshot(step="retroactive-capped")

    # A first bracket above 0 is named at once, next to the brackets; nothing is shown as earned.
    page.locator("#id_brackets-0-threshold").fill("100")
    expect(page.locator('[data-preview-error="brackets"]')).to_have_text("Row 1: the first threshold must be 0.")
    expect(amount).to_have_text("—")
    screenshot(step="invalid")
    page.locator("#id_brackets-0-threshold").fill("0")
    expect(amount).to_have_text("CNY 1,500.00")
    expect(page.locator('[data-preview-error="brackets"]')).to_have_text("")

    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Rebate policy Distributor volume rebate saved.")).to_be_visible()
    brackets = page.get_by_test_id("brackets").locator("tbody tr")
    expect(brackets).to_have_count(4)
    expect(brackets.nth(3)).to_contain_text("40%")
    # The saved policy previews on its own page too.
    page.get_by_label("Volume in the period").fill("3800")
    page.get_by_label("Partner (optional)").fill("D-EAST-1")
    expect(page.get_by_test_id("preview-amount")).to_have_text("CNY 1,500.00")
    screenshot(step="saved")


def test_a_statement_is_approved_from_the_home_page(page, live_server, channel, login, screenshot):
    login(page.context, channel.admin)
    page.goto("/")
    panel = page.get_by_text("Rebate statements waiting for approval").locator(
        "xpath=ancestor::div[contains(@class,'card')][1]"
    )
    expect(panel.get_by_test_id("statements-count")).to_have_text("1")
    screenshot(step="home")
    panel.get_by_role("link", name=PERIOD).click()

    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text("Calculated")
    lines = page.get_by_test_id("lines").locator("tbody tr")
    # Three slices of Xinghe's 3,800.00 (× 1.2 for Gold), and 3 % of its sub-partner Jinpeng's 2,000.00.
    expect(lines).to_have_count(4)
    expect(lines.nth(3)).to_contain_text("Jinpeng Technology Co., Ltd.")
    expect(page.get_by_test_id("total")).to_have_text("CNY 948.00")
    screenshot(step="statement")
    page.get_by_label("Amount").fill("-8.00")
    page.get_by_label("Reason").fill("Returned goods, credit note CN-17")
    page.get_by_role("button", name="Add the adjustment").click()
    expect(page.get_by_text("Adjustment added.")).to_be_visible()
    expect(page.get_by_test_id("total")).to_have_text("CNY 940.00")

    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_text("is approved; it no longer changes.")).to_be_visible()
    expect(heading).to_contain_text("Approved")
    expect(page.get_by_role("button", name="Approve")).to_have_count(0)
    expect(page.get_by_role("button", name="Add the adjustment")).to_have_count(0)
    assert RebateStatement.objects.get(pk=channel.statement.pk).status == StatementStatus.APPROVED
    screenshot(step="approved")


def test_an_mdf_request_is_approved_from_the_queue(page, live_server, channel, login, screenshot):
    login(page.context, channel.manager)
    page.goto("/incentives/mdf/requests/")
    page.get_by_role("link", name="Approval queue").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Approval queue")
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(1)
    screenshot(step="queue")
    rows.first.get_by_role("link", name=channel.request.reference).click()

    page.get_by_role("button", name="Approve").click()
    amount = page.get_by_label("Approved amount")
    expect(amount).to_have_value("4000.00")
    amount.fill("9000")
    page.get_by_role("button", name="Approve and reserve the amount").click()
    expect(page.get_by_text("Approve at most the amount requested (4000.00).")).to_be_visible()
    screenshot(step="refused")
    page.get_by_label("Approved amount").fill("3500")
    page.get_by_label("Note to the partner").fill("Two days instead of three")
    page.get_by_role("button", name="Approve and reserve the amount").click()
    expect(
        page.get_by_text(f"{channel.request.reference} is approved; the amount is reserved from the budget.")
    ).to_be_visible()
    figures = page.get_by_test_id("budget-figures")
    expect(figures).to_contain_text("CNY 3,500.00")
    expect(figures).to_contain_text("CNY 4,700.00")  # 10,000 − 3,500 reserved − 1,800 claimed
    screenshot(step="approved")
    assert MdfRequest.objects.get(pk=channel.request.pk).approved_amount == Decimal("3500.00")

    page.goto("/incentives/mdf/requests/?status=submitted&sort=submitted")
    expect(page.get_by_text("No request waits for a decision.")).to_be_visible()


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_every_incentives_page_for_the_screenshots(page, live_server, channel, login, screenshot, language):
    channel.admin.preferred_language = language
    channel.admin.save()
    login(page.context, channel.admin)
    pages = [
        ("statements", "/incentives/"),
        ("statement", f"/incentives/statements/{channel.statement.pk}/"),
        ("policies", "/incentives/policies/"),
        ("policy", f"/incentives/policies/{channel.policy.pk}/"),
        ("policy-form", "/incentives/policies/new/"),
        ("overrides", "/incentives/overrides/"),
        ("budgets", "/incentives/mdf/budgets/"),
        ("budget-form", "/incentives/mdf/budgets/set/"),
        ("allocate", "/incentives/mdf/budgets/allocate/"),
        ("requests", "/incentives/mdf/requests/"),
        ("claim", f"/incentives/mdf/requests/{channel.claimed.pk}/"),
        ("partner", channel.xinghe.get_absolute_url()),
        ("home", "/"),
    ]
    for step, url in pages:
        page.goto(url)
        expect(page.locator("html")).to_have_attribute("lang", language)
        screenshot(step=f"{language}-{step}")


@pytest.mark.browser_context_args(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
def test_the_incentives_pages_read_on_a_phone(page, live_server, channel, login, screenshot):
    login(page.context, channel.manager)
    for step, url in [
        ("statement", f"/incentives/statements/{channel.statement.pk}/"),
        ("policy-form", f"/incentives/policies/{channel.policy.pk}/edit/"),
        ("budgets", "/incentives/mdf/budgets/"),
        ("request", f"/incentives/mdf/requests/{channel.request.pk}/"),
    ]:
        page.goto(url)
        # The page itself never scrolls sideways; wide tables scroll inside their own box.
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), step
        screenshot(step=f"phone-{step}")
    page.goto(f"/incentives/policies/{channel.policy.pk}/edit/")
    page.get_by_label("Volume in the period").fill("3800")
    expect(page.get_by_test_id("preview-amount")).to_have_text("CNY 740.00")
