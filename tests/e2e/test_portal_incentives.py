"""A partner admin in a real browser: sees on the dashboard what is left of the MDF budget, drafts
an MDF request from the portal's menu (a bad amount is refused on its field first), submits it,
and, once the vendor has approved it, claims it with a proof file; then opens the approved rebate
statement, its printable page and its PDF, and cannot reach another partner's statement or
request; on a phone the pages still read."""

import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from incentives import services
from incentives.choices import LineKind, MdfStatus, StatementStatus
from incentives.models import MdfRequest
from prm.periods import Period
from tests.factories import (
    PDF_BYTES,
    ChannelAdminFactory,
    DistributorFactory,
    MdfBudgetFactory,
    MdfRequestFactory,
    OverridePolicyFactory,
    PartnerAdminUserFactory,
    PartnerFactory,
    RebatePolicyFactory,
    RebateStatementFactory,
    RegionFactory,
    StatementLineFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "Portal-admin-2026"
FOREIGN = ("Ruida", "9,999", "Ruida launch")
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def incentives(roles, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    shanghai = RegionFactory(code="SH", name="Shanghai")
    own = DistributorFactory(code="D-EAST-1", name="Huaxin Distribution Co., Ltd.", region=shanghai)
    sub = PartnerFactory(code="R-EAST-7", name="Minghui Electronics", parent=own, region=shanghai)
    admin = PartnerAdminUserFactory(
        username="zhoumin", email="zhou.min@huaxin.example.cn", display_name="Zhou Min", password=PASSWORD, partner=own
    )
    staff = ChannelAdminFactory(username="wang.lei", display_name="Wang Lei")
    budget = MdfBudgetFactory(partner=own, allocated=Decimal("10000.00"))

    # March: a marginal policy on 3,800.00 of sales, override commission on the sub-partner's
    # 1,000.00, a correction; approved.
    policy = RebatePolicyFactory(name="Sensor growth rebate")
    override = OverridePolicyFactory(name="Network override", rates={1: 3})
    statement = RebateStatementFactory(
        partner=own,
        period="2026-03",
        status=StatementStatus.APPROVED,
        total=Decimal("757.66"),
        approved_at=timezone.now(),
    )
    for threshold, volume, rate, amount in (
        ("0", "1000", "10", "100.00"),
        ("1000", "2000", "20", "400.00"),
        ("3000", "800", "30", "240.00"),
    ):
        StatementLineFactory(
            statement=statement,
            rebate_policy=policy,
            bracket_threshold=Decimal(threshold),
            volume=Decimal(volume),
            base=Decimal(volume),
            rate=Decimal(rate),
            amount=Decimal(amount),
        )
    StatementLineFactory(
        statement=statement,
        kind=LineKind.OVERRIDE,
        rebate_policy=None,
        override_policy=override,
        bracket_threshold=None,
        multiplier=None,
        volume=Decimal("1000"),
        base=Decimal("1000"),
        rate=Decimal("3"),
        level=1,
        source_partner=sub,
        amount=Decimal("30.00"),
    )
    StatementLineFactory(
        statement=statement,
        kind=LineKind.ADJUSTMENT,
        rebate_policy=None,
        bracket_threshold=None,
        volume=None,
        base=None,
        rate=None,
        multiplier=None,
        description="Correction for February returns",
        amount=Decimal("-12.34"),
    )

    foreign = DistributorFactory(code="D-SOUTH-1", name="Ruida Distribution Co., Ltd.", region=shanghai)
    foreign_statement = RebateStatementFactory(partner=foreign, period="2026-03", total=Decimal("9999.00"))
    foreign_budget = MdfBudgetFactory(partner=foreign, allocated=Decimal("9999.00"))
    foreign_request = MdfRequestFactory(budget=foreign_budget, title="Ruida launch", status=MdfStatus.SUBMITTED)
    return {
        "admin": admin,
        "staff": staff,
        "budget": budget,
        "statement": statement,
        "foreign_statement": foreign_statement,
        "foreign_request": foreign_request,
    }


def expect_nothing_foreign(page):
    body = page.locator("body")
    for marker in FOREIGN:
        expect(body).not_to_contain_text(marker)


def quarter_day(offset):
    return (Period.containing(timezone.localdate(), "quarter").start + timedelta(days=offset)).isoformat()


def test_partner_requests_and_claims_mdf_and_reads_a_statement(page, incentives, screenshot, tmp_path):
    page.goto("/")
    page.get_by_label("Username or email").fill("zhou.min@huaxin.example.cn")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/portal/$"))
    panel = page.locator("#incentives-panel")
    expect(panel).to_contain_text("Rebates and market development funds")
    expect(panel).to_contain_text("2026-03")
    expect(panel).to_contain_text("CNY 757.66")
    expect(panel).to_contain_text("CNY 10,000.00 left of CNY 10,000.00")
    expect_nothing_foreign(page)
    screenshot(step="dashboard")

    # Draft a request from the portal's menu; a bad amount is refused on its field first.
    page.locator("nav.navbar").get_by_role("link", name="MDF").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Market development funds")
    expect(page.locator("#budgets")).to_contain_text("CNY 10,000.00")
    expect_nothing_foreign(page)
    screenshot(step="mdf")
    page.get_by_role("link", name="New MDF request").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("New MDF request")
    expect(page.get_by_label("MDF budget")).not_to_contain_text("9,999")
    page.get_by_label("Title").fill("Shanghai sensor roadshow")
    page.get_by_label("Activity type").select_option(label="Trade show")
    page.get_by_label("Start date").fill(quarter_day(20))
    page.get_by_label("End date").fill(quarter_day(21))
    page.get_by_label("Requested amount").fill("0")
    page.get_by_label("Plan").fill("A booth at the Shanghai sensor fair with two demo stations.")
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator("#id_requested_amount_errors")).to_contain_text("Must be more than zero.")
    assert not MdfRequest.objects.filter(title="Shanghai sensor roadshow").exists()
    screenshot(step="request-error")
    page.get_by_label("Requested amount").fill("2000.00")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_role("alert").first).to_contain_text("saved. Submit it when it is ready")
    expect(page.locator("#decision")).to_contain_text("This request is a draft")
    request = MdfRequest.objects.get(title="Shanghai sensor roadshow")
    expect(page.get_by_role("heading", level=1)).to_contain_text(request.reference)
    screenshot(step="draft")

    page.get_by_role("button", name="Submit for approval").click()
    expect(page.get_by_role("alert").first).to_contain_text(f"{request.reference} was submitted")
    expect(page.locator("#decision")).to_contain_text("waiting for the vendor")
    request.refresh_from_db()
    assert request.status == MdfStatus.SUBMITTED

    # The vendor approves 1,800.00 of it (on the staff side), then the partner claims.
    services.mdf_request_approve(
        request=request, by=incentives["staff"], approved_amount="1800.00", note="Keep the booth invoice."
    )
    page.reload()
    expect(page.locator("#decision")).to_contain_text("Keep the booth invoice.")
    page.locator("#request-actions").get_by_role("link", name="Claim").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Claim {request.reference}")
    expect(page.locator("#proofs")).to_contain_text("No proof uploaded yet.")
    proof = tmp_path / "booth-invoice.pdf"
    proof.write_bytes(PDF_BYTES)
    page.get_by_label("Actual amount").fill("1750.00")
    page.get_by_label("Proof of performance").set_input_files(str(proof))
    page.get_by_label("Note for the reviewer").fill("320 visitors, 41 leads.")
    screenshot(step="claim")
    page.get_by_role("button", name="Send the claim").click()
    expect(page.get_by_role("alert").first).to_contain_text(f"{request.reference} was claimed")
    expect(page.locator("#decision")).to_contain_text("the vendor is reviewing your proof of performance")
    expect(page.locator("#proofs")).to_contain_text("booth-invoice.pdf")
    screenshot(step="claimed")
    request.refresh_from_db()
    assert request.status == MdfStatus.CLAIMED and request.actual_amount == Decimal("1750.00")
    assert [each.original_name for each in request.proofs.all()] == ["booth-invoice.pdf"]
    page.locator("nav.navbar").get_by_role("link", name="MDF").click()
    expect(page.locator("#budgets")).to_contain_text("CNY 1,750.00")  # claimed
    expect(page.locator("#budgets")).to_contain_text("CNY 8,250.00")  # remaining

    # The statement, its printable page and its PDF.
    page.locator("nav.navbar").get_by_role("link", name="Rebates").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Rebate statements")
    expect_nothing_foreign(page)
    screenshot(step="statements")
    page.get_by_role("link", name="2026-03").click()
    lines = page.locator("#statement-lines")
    expect(lines).to_contain_text("Sensor growth rebate: the slice from 3,000 at 30%")
    expect(lines).to_contain_text("Minghui Electronics")
    expect(lines).to_contain_text("Correction for February returns")
    expect(page.locator("#statement-total")).to_have_text("CNY 757.66")
    screenshot(step="statement")
    with page.context.expect_page() as printable_info:
        page.get_by_role("link", name="Printable version").click()
    printable = printable_info.value
    expect(printable.get_by_role("heading", level=1)).to_contain_text("Rebate statement")
    expect(printable.locator("body")).to_contain_text("Huaxin Distribution Co., Ltd. (D-EAST-1)")
    expect(printable.locator("nav.navbar")).to_have_count(0)
    screenshot(printable, step="printable")
    printable.close()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download PDF").click()
    download = download_info.value
    assert download.suggested_filename == "rebate-statement-D-EAST-1-2026-03.pdf"
    assert Path(download.path()).read_bytes().startswith(b"%PDF")

    # Another partner's statement and request are not found, even by their addresses.
    for path in (
        f"/portal/incentives/statements/{incentives['foreign_statement'].pk}/",
        f"/portal/incentives/statements/{incentives['foreign_statement'].pk}/pdf/",
        f"/portal/incentives/mdf/requests/{incentives['foreign_request'].pk}/",
    ):
        response = page.request.get(path)
        assert response.status == 404 and b"Ruida" not in response.body(), path


@pytest.mark.browser_context_args(viewport=PHONE)
def test_the_incentive_pages_read_on_a_phone(page, incentives, screenshot, login):
    """The menu folds away, tables scroll inside their cards, and the page never scrolls sideways."""
    login(page.context, incentives["admin"])
    MdfRequestFactory(budget=incentives["budget"], title="Installer training day")
    for step, path in (
        ("phone-statements", "/portal/incentives/statements/"),
        ("phone-statement", f"/portal/incentives/statements/{incentives['statement'].pk}/"),
        ("phone-mdf", "/portal/incentives/mdf/"),
        ("phone-request-form", "/portal/incentives/mdf/requests/new/"),
    ):
        page.goto(path)
        expect(page.get_by_role("button", name="Menu")).to_be_visible()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{path} scrolls sideways on a phone ({width}px)"
        screenshot(step=step)
