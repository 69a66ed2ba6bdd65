"""The sales import in a real browser. A channel admin uploads a file with mistakes to the staff
import page: every bad row is reported with its column and reason, and nothing is written; the
corrected file imports and its lines show in the sales list. A partner user uploads on the
portal's sales page: the same report for its own rows, a row naming another partner refused
(without saying whether that partner exists), nothing written; the corrected file lands as the
partner's own lines, and another partner's lines never show."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from sales.models import SalesLine, SalesSource
from tests.factories import (
    ChannelAdminFactory,
    PartnerFactory,
    PartnerUserFactory,
    ProductFactory,
    ProductLineFactory,
    RegionFactory,
    SalesLineFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)

HEADER = (
    "partner_code,external_id,sold_on,product_sku,product_line_code,customer_id,customer_name,"
    "customer_region_code,quantity,unit_price,amount,currency"
)
DAY = (timezone.localdate() - timedelta(days=3)).isoformat()
TOMORROW = (timezone.localdate() + timedelta(days=1)).isoformat()


@pytest.fixture
def world(roles):
    shanghai = RegionFactory(code="CN-SH", name="Shanghai")
    own = PartnerFactory(code="HUAXIN", name="Huaxin Distribution", region=shanghai)
    other = PartnerFactory(code="ZETA", name="Zeta Secret Trading", region=shanghai)
    sensors = ProductLineFactory(code="SEN", name="Sensors")
    ProductFactory(sku="SEN-100", name="Pressure sensor", product_line=sensors)
    SalesLineFactory(partner=other, product_line=sensors, customer_id="Z-1", customer_name="Zeta Customer Hidden")
    return {"own": own, "other": other}


def write_csv(tmp_path, name, rows):
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def upload(page, path):
    page.get_by_label(re.compile(r"^File")).set_input_files(str(path))
    page.get_by_role("button", name="Upload").click()


def error_rows(page):
    """[(row, column, reason)] of the report's table."""
    table = page.get_by_test_id("import-errors")
    expect(table).to_be_visible()
    return [
        tuple(cell.strip() for cell in row.locator("td").all_inner_texts()) for row in table.locator("tbody tr").all()
    ]


def test_staff_import_reports_every_bad_row_then_imports_the_good_file(page, world, login, screenshot, tmp_path):
    login(page.context, ChannelAdminFactory(username="wang.lei"))
    page.goto("/sales/lines/import/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Import sales lines")
    bad = write_csv(
        tmp_path,
        "march-bad.csv",
        [
            f"HUAXIN,INV-1,{DAY},SEN-100,,C-1,Acme Ltd,CN-SH,10,99.50,,CNY",
            f"NOBODY,INV-2,{DAY},SEN-100,,C-2,Beta Ltd,CN-SH,1,10.00,,",
            "HUAXIN,INV-3,2026-02-30,SEN-100,,C-3,Gamma Ltd,,1,10.00,,",
            f"HUAXIN,INV-4,{DAY},,NOPE,C-4,Delta Ltd,,abc,10.00,,",
            f"HUAXIN,INV-5,{TOMORROW},SEN-100,,,Epsilon Ltd,XX-99,2,5.00,,",
        ],
    )
    upload(page, bad)
    report = page.get_by_test_id("import-report")
    expect(report).to_contain_text("Import of march-bad.csv")
    expect(report.get_by_role("alert")).to_contain_text("problems found: fix the file and upload it again")
    expect(report.get_by_role("alert")).to_contain_text("Nothing was written.")
    rows = error_rows(page)
    screenshot(step="errors")
    assert ("3", "partner_code", "No partner has the code “NOBODY”.") in rows
    assert ("4", "sold_on", "“2026-02-30” is not a date: use YYYY-MM-DD.") in rows
    assert ("5", "product_line_code", "No product line has the code “NOPE”.") in rows
    assert ("5", "quantity", "“abc” is not a number.") in rows
    assert ("6", "sold_on", "The date of a sale cannot be in the future.") in rows
    assert ("6", "customer_id", "Enter the customer's ID.") in rows
    assert ("6", "customer_region_code", "No region has the code “XX-99”.") in rows
    assert not any(row[0] == "2" for row in rows)  # the good row has nothing to report
    assert not SalesLine.objects.filter(partner=world["own"]).exists()

    good = write_csv(
        tmp_path,
        "march.csv",
        [
            f"HUAXIN,INV-1,{DAY},SEN-100,,C-1,Acme Ltd,CN-SH,10,99.50,,CNY",
            f"HUAXIN,INV-3,{DAY},,SEN,C-3,Gamma Ltd,,1,10.00,,",
        ],
    )
    upload(page, good)
    expect(page.get_by_role("alert").first).to_contain_text("Imported march.csv: 2 created, 0 updated, 0 unchanged.")
    expect(page.get_by_test_id("import-counts")).to_contain_text("2")
    screenshot(step="imported")
    lines = SalesLine.objects.filter(partner=world["own"]).order_by("external_id")
    assert [(line.external_id, str(line.amount), line.source) for line in lines] == [
        ("INV-1", "995.00", SalesSource.IMPORT),
        ("INV-3", "10.00", SalesSource.IMPORT),
    ]

    page.goto("/sales/lines/?partner_q=HUAXIN")
    body = page.locator("body")
    expect(body).to_contain_text("Acme Ltd")
    expect(body).to_contain_text("Gamma Ltd")
    expect(body).to_contain_text("995.00")
    expect(body).not_to_contain_text("Zeta Customer Hidden")  # filtered to Huaxin
    screenshot(step="list")


def test_portal_upload_refuses_another_partners_row_then_imports_its_own(page, world, login, screenshot, tmp_path):
    login(page.context, PartnerUserFactory(partner=world["own"], display_name="Zhou Min"))
    page.goto("/portal/")
    page.locator("nav.navbar").get_by_role("link", name="Sales").click()
    expect(page).to_have_url(re.compile(r"/portal/sales/$"))
    expect(page.locator("#sales-lines")).to_contain_text("No sales reported yet.")
    expect(page.locator("body")).not_to_contain_text("Zeta Customer Hidden")
    bad = write_csv(
        tmp_path,
        "april-bad.csv",
        [
            f",A-1,{DAY},SEN-100,,C-1,Acme Ltd,CN-SH,4,120.00,,",
            f"ZETA,A-2,{DAY},SEN-100,,C-2,Beta Ltd,CN-SH,1,10.00,,",
            f"NOBODY,A-3,{DAY},SEN-100,,C-3,Gamma Ltd,,1,10.00,,",
            f",A-4,{DAY},SEN-100,,C-4,Delta Ltd,,0,10.00,,",
        ],
    )
    upload(page, bad)
    rows = error_rows(page)
    screenshot(step="errors")
    refusal = "You can upload only your own sales: leave the partner code empty or enter HUAXIN."
    # Another partner's code and a code nobody has read the same: the page never tells which exist.
    assert ("3", "partner_code", refusal) in rows
    assert ("4", "partner_code", refusal) in rows
    assert ("5", "quantity", "The quantity cannot be 0 (a return has a negative quantity).") in rows
    expect(page.get_by_test_id("import-report")).to_contain_text("Nothing was written.")
    assert not SalesLine.objects.filter(partner=world["own"]).exists()
    assert SalesLine.objects.filter(partner=world["other"]).count() == 1

    good = write_csv(
        tmp_path,
        "april.csv",
        [
            f",A-1,{DAY},SEN-100,,C-1,Acme Ltd,CN-SH,4,120.00,,",
            f"HUAXIN,A-4,{DAY},SEN-100,,C-4,Delta Ltd,,2,10.00,,",
        ],
    )
    upload(page, good)
    expect(page.get_by_role("alert").first).to_contain_text("Imported april.csv: 2 created")
    table = page.locator("#sales-lines")
    expect(table).to_contain_text("Acme Ltd")
    expect(table).to_contain_text("Delta Ltd")
    expect(table).to_contain_text("480.00")
    expect(page.locator("body")).not_to_contain_text("Zeta Customer Hidden")
    screenshot(step="imported")
    lines = SalesLine.objects.filter(partner=world["own"]).order_by("external_id")
    assert [(line.external_id, str(line.amount), line.source) for line in lines] == [
        ("A-1", "480.00", SalesSource.PORTAL),
        ("A-4", "20.00", SalesSource.PORTAL),
    ]
    assert SalesLine.objects.filter(partner=world["other"]).count() == 1
