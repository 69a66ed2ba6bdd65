"""A partner admin in a real browser: sees on the dashboard that an agreement waits for them,
opens it from the portal's menu, reads its terms, downloads the signed contract, cannot reach
another partner's document, and acknowledges the agreement; on a phone the page still reads."""

import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from playwright.sync_api import expect

from agreements.choices import AgreementStatus, DocumentKind
from agreements.models import AgreementDocument
from tests.factories import (
    AgreementFactory,
    AgreementTargetFactory,
    DistributorFactory,
    PartnerAdminUserFactory,
    ProductLineFactory,
    RegionFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)

YEAR = date.today().year
PASSWORD = "Portal-admin-2026"
FOREIGN = ("Ruida", "AG-RUIDA", "ruida-contract")
PHONE = {"width": 390, "height": 844}


def add_document(agreement, name, visible=True):
    content = b"%PDF-1.4 " + name.encode()
    return AgreementDocument.objects.create(
        agreement=agreement,
        kind=DocumentKind.SIGNED_CONTRACT,
        file=ContentFile(content, name=name),
        original_name=name,
        content_type="application/pdf",
        size=len(content),
        visible_to_partner=visible,
    )


@pytest.fixture
def agreements(roles, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    shanghai = RegionFactory(code="SH", name="Shanghai")
    guangdong = RegionFactory(code="GD", name="Guangdong")
    sensors = ProductLineFactory(code="SEN", name="Industrial sensors")
    own = DistributorFactory(code="D-EAST-1", name="Huaxin Distribution Co., Ltd.", region=shanghai)
    admin = PartnerAdminUserFactory(
        username="zhoumin", email="zhou.min@huaxin.example.cn", display_name="Zhou Min", password=PASSWORD, partner=own
    )
    agreement = AgreementFactory(
        partner=own,
        number=f"AG-{YEAR}-00042",
        agreement_type="distribution",
        product_lines=[sensors],
        territories=[(shanghai, True)],
        discount_percent=Decimal("18.00"),
        payment_terms="Net 60 after invoice",
        penalty_clauses="Selling outside the territory: 5% of the order",
    )
    agreement.minimum_prices.create(product_line=sensors, min_unit_price=Decimal("1250.00"))
    AgreementTargetFactory(agreement=agreement, period=f"{YEAR}-Q1", revenue=Decimal("2500000"))
    add_document(agreement, "signed-contract.pdf")
    add_document(agreement, "internal-credit-memo.pdf", visible=False)
    foreign = DistributorFactory(code="D-SOUTH-1", name="Ruida Distribution Co., Ltd.", region=guangdong)
    foreign_agreement = AgreementFactory(
        partner=foreign, number="AG-RUIDA-00001", status=AgreementStatus.ACTIVE, territories=[guangdong]
    )
    foreign_document = add_document(foreign_agreement, "ruida-contract.pdf")
    return {
        "admin": admin,
        "agreement": agreement,
        "foreign_agreement": foreign_agreement,
        "foreign_document": foreign_document,
    }


def expect_nothing_foreign(page):
    body = page.locator("body")
    for marker in FOREIGN:
        expect(body).not_to_contain_text(marker)


def test_partner_admin_reads_downloads_and_acknowledges_an_agreement(page, agreements, screenshot):
    page.goto("/")
    page.get_by_label("Username or email").fill("zhou.min@huaxin.example.cn")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/portal/$"))
    panel = page.locator("#agreements-panel")
    expect(panel).to_contain_text("Agreements in force")
    expect(panel).to_contain_text(f"AG-{YEAR}-00042")
    expect(panel).to_contain_text("1 agreement is waiting for your acknowledgement.")
    expect_nothing_foreign(page)
    screenshot(step="dashboard")

    page.locator("nav.navbar").get_by_role("link", name="Agreements").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Agreements")
    expect(page.get_by_text("Please read and acknowledge this agreement.")).to_be_visible()
    expect_nothing_foreign(page)
    page.get_by_role("link", name=f"AG-{YEAR}-00042").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text(f"AG-{YEAR}-00042")
    for text in ("Net 60 after invoice", "Selling outside the territory", "CNY 1,250.00", "CNY 2,500,000.00"):
        expect(page.locator("main")).to_contain_text(text)
    expect(page.get_by_text("signed-contract.pdf")).to_be_visible()
    expect(page.locator("main")).not_to_contain_text("internal-credit-memo")
    expect_nothing_foreign(page)
    screenshot(step="agreement")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download").click()
    download = download_info.value
    assert download.suggested_filename == "signed-contract.pdf"
    assert Path(download.path()).read_bytes() == b"%PDF-1.4 signed-contract.pdf"

    # Another partner's document and agreement are not found, even by their addresses.
    foreign_document = agreements["foreign_document"].pk
    response = page.request.get(f"/portal/agreements/documents/{foreign_document}/")
    assert response.status == 404 and b"%PDF" not in response.body()
    assert page.request.get(f"/portal/agreements/{agreements['foreign_agreement'].pk}/").status == 404

    page.get_by_role("button", name="Acknowledge").click()
    expect(page.get_by_role("alert").first).to_contain_text(f"You acknowledged agreement AG-{YEAR}-00042.")
    expect(page.locator("#acknowledgement")).to_contain_text("Acknowledged by Zhou Min on")
    expect(page.get_by_role("button", name="Acknowledge")).to_have_count(0)
    screenshot(step="acknowledged")
    agreements["agreement"].refresh_from_db()
    assert agreements["agreement"].acknowledged_by == agreements["admin"]

    page.goto("/portal/")
    expect(page.locator("#agreements-panel")).not_to_contain_text("waiting for your acknowledgement")


@pytest.mark.browser_context_args(viewport=PHONE)
def test_the_agreement_reads_on_a_phone(page, agreements, screenshot, login):
    """The menu folds away, the terms stack in one column and nothing scrolls sideways."""
    login(page.context, agreements["admin"])
    page.goto(f"/portal/agreements/{agreements['agreement'].pk}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"AG-{YEAR}-00042")
    expect(page.get_by_role("button", name="Menu")).to_be_visible()
    expect(page.get_by_role("button", name="Acknowledge")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page scrolls sideways on a phone ({width}px)"
    screenshot(step="phone")
    page.goto("/portal/agreements/")
    expect(page.get_by_text("Please read and acknowledge this agreement.")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(step="phone-list")
