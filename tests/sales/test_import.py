"""The import of sales lines (staff import and portal upload) from CSV (UTF-8, GB18030) and Excel:
every bad cell reported with its row and column and nothing written, a portal upload that never
writes (nor tells about) another partner's rows, idempotent upserts by external ID or by a row's
fingerprint, amounts to the cent, and a query count that does not grow with the rows."""

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from openpyxl import Workbook

from prm.models import AuditEntry
from sales import services
from sales.models import SalesLine, SalesSource
from tests.factories import (
    AnalystFactory,
    ChannelAdminFactory,
    ChannelManagerFactory,
    PartnerFactory,
    PartnerUserFactory,
    ProductFactory,
    ProductLineFactory,
    RegionFactory,
)

pytestmark = pytest.mark.django_db

HEADER = [
    "partner_code",
    "external_id",
    "sold_on",
    "product_sku",
    "product_line_code",
    "customer_id",
    "customer_name",
    "customer_region_code",
    "quantity",
    "unit_price",
    "amount",
    "currency",
]
TODAY = timezone.localdate()
DAY = (TODAY - timedelta(days=10)).isoformat()


@pytest.fixture
def world():
    east = PartnerFactory(code="P-EAST")
    west = PartnerFactory(code="P-WEST")
    sensors = ProductLineFactory(code="SEN")
    controllers = ProductLineFactory(code="CTL")
    probe = ProductFactory(sku="SEN-100", product_line=sensors)
    shanghai = RegionFactory(code="CN-SH")
    return {
        "east": east,
        "west": west,
        "sensors": sensors,
        "controllers": controllers,
        "probe": probe,
        "shanghai": shanghai,
        "admin": ChannelAdminFactory(username="sales-admin"),
    }


def csv_file(rows, *, header=HEADER, encoding="utf-8", name="sales.csv"):
    lines = [",".join(header)] + [",".join(str(cell) for cell in row) for row in rows]
    return SimpleUploadedFile(name, ("\r\n".join(lines) + "\r\n").encode(encoding))


def xlsx_file(rows, *, header=HEADER, name="sales.xlsx"):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile(name, buffer.getvalue())


def run(world, file, **kwargs):
    return services.sales_import(file=file, by=kwargs.pop("by", world["admin"]), **kwargs)


GOOD = [
    ["P-EAST", "INV-1", DAY, "SEN-100", "", "C-1", "Acme", "CN-SH", "10", "99.50", "995.00", ""],
    ["p-east", "", DAY, "", "ctl", "C-2", "Beta", "", "3", "33.33", "", "usd"],
    ["P-WEST", "", DAY, "sen-100", "SEN", "C-3", "", "cn-sh", "1.5", "10.01", "", ""],
]


def test_a_good_file_creates_the_lines_with_amounts_rounded_half_up(world):
    report = run(world, csv_file(GOOD))

    assert (report.errors, report.created, report.updated, report.unchanged) == ([], 3, 0, 0)
    lines = {line.customer_id: line for line in SalesLine.objects.select_related("product", "product_line")}
    first = lines["C-1"]
    assert (first.partner, first.product, first.product_line, first.customer_region) == (
        world["east"],
        world["probe"],
        world["sensors"],
        world["shanghai"],
    )
    assert (first.amount, first.currency, first.source, first.external_id) == (
        Decimal("995.00"),
        "CNY",
        SalesSource.IMPORT,
        "INV-1",
    )
    assert (lines["C-2"].product, lines["C-2"].product_line, lines["C-2"].amount, lines["C-2"].currency) == (
        None,
        world["controllers"],
        Decimal("99.99"),
        "USD",
    )
    # 1.5 × 10.01 = 15.015 → 15.02 (half-up)
    assert lines["C-3"].amount == Decimal("15.02")
    assert lines["C-3"].external_id.startswith("row:")


def test_the_same_file_twice_creates_nothing_the_second_time(world):
    rows = [GOOD[0], [*GOOD[2]], [*GOOD[2]]]  # the same row twice without an ID: two sales
    assert run(world, csv_file(rows)).created == 3

    again = run(world, csv_file(rows))

    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert SalesLine.objects.count() == 3


def test_a_row_with_the_same_external_id_updates_its_line(world):
    run(world, csv_file([GOOD[0]]))
    changed = [*GOOD[0]]
    changed[8], changed[10] = "12", "1194.00"

    report = run(world, csv_file([changed]))

    assert (report.created, report.updated, report.unchanged) == (0, 1, 0)
    line = SalesLine.objects.get()
    assert (line.quantity, line.amount) == (Decimal("12"), Decimal("1194.00"))


def test_the_same_external_id_of_two_partners_is_two_lines(world):
    other = [*GOOD[0]]
    other[0] = "P-WEST"

    assert run(world, csv_file([GOOD[0], other])).created == 2


def test_one_history_entry_per_import_with_the_counts(world):
    run(world, csv_file(GOOD[:1]), dry_run=True)
    run(world, csv_file(GOOD[:1]))

    entry = AuditEntry.objects.get(object_type="sales.salesline")
    assert (entry.changes["created"], entry.changes["file"]) == ([None, 1], [None, "sales.csv"])


def test_every_bad_cell_is_reported_with_its_row_and_column_and_nothing_is_written(world):
    future = (TODAY + timedelta(days=1)).isoformat()
    rows = [
        GOOD[0],  # row 2 is good
        ["", "", DAY, "SEN-100", "", "C-1", "", "", "1", "1", "", ""],  # 3: partner missing
        ["NOPE", "", DAY, "SEN-100", "", "C-1", "", "", "1", "1", "", ""],  # 4: unknown partner
        ["P-EAST", "", "31/02/2026", "SEN-100", "", "C-1", "", "", "1", "1", "", ""],  # 5: not a date
        ["P-EAST", "", future, "SEN-100", "", "C-1", "", "", "1", "1", "", ""],  # 6: future
        ["P-EAST", "", DAY, "NOPE", "", "C-1", "", "", "1", "1", "", ""],  # 7: unknown SKU
        ["P-EAST", "", DAY, "", "NOPE", "C-1", "", "", "1", "1", "", ""],  # 8: unknown line
        ["P-EAST", "", DAY, "", "", "C-1", "", "", "1", "1", "", ""],  # 9: no product
        ["P-EAST", "", DAY, "SEN-100", "CTL", "C-1", "", "", "1", "1", "", ""],  # 10: SKU of another line
        ["P-EAST", "", DAY, "SEN-100", "", "", "", "", "1", "1", "", ""],  # 11: no customer
        ["P-EAST", "", DAY, "SEN-100", "", "C-1", "", "NOPE", "1", "1", "", ""],  # 12: unknown region
        ["P-EAST", "", DAY, "SEN-100", "", "C-1", "", "", "abc", "1", "", ""],  # 13: quantity not a number
        ["P-EAST", "", DAY, "SEN-100", "", "C-1", "", "", "0", "1", "", ""],  # 14: quantity 0
        ["P-EAST", "", DAY, "SEN-100", "", "C-1", "", "", "1", "-1", "", ""],  # 15: negative price
        ["P-EAST", "", DAY, "SEN-100", "", "C-1", "", "", "1", "1.001", "", ""],  # 16: three decimals
        ["P-EAST", "", DAY, "SEN-100", "", "C-1", "", "", "2", "1.50", "3.01", ""],  # 17: amount mismatch
        ["P-EAST", "", DAY, "SEN-100", "", "C-1", "", "", "1", "1", "", "YUAN"],  # 18: bad currency
        ["P-EAST", "INV-1", DAY, "SEN-100", "", "C-1", "", "", "1", "1", "", ""],  # 19: ID of row 2
        ["P-EAST", "row:abc", DAY, "SEN-100", "", "C-1", "", "", "1", "1", "", ""],  # 20: reserved ID
        ["P-EAST", "", DAY, "SEN-100", "", "C-1", "x" * 201, "", "", "1", "", ""],  # 21: long name, no qty
    ]

    report = run(world, csv_file(rows))

    assert [(row, column) for row, column, _message in report.errors] == [
        (3, "partner_code"),
        (4, "partner_code"),
        (5, "sold_on"),
        (6, "sold_on"),
        (7, "product_sku"),
        (8, "product_line_code"),
        (9, "product_sku"),
        (10, "product_line_code"),
        (11, "customer_id"),
        (12, "customer_region_code"),
        (13, "quantity"),
        (14, "quantity"),
        (15, "unit_price"),
        (16, "unit_price"),
        (17, "amount"),
        (18, "currency"),
        (19, "external_id"),
        (20, "external_id"),
        (21, "customer_name"),
        (21, "quantity"),
    ]
    messages = {(row, column): message for row, column, message in report.errors}
    assert "NOPE" in messages[(4, "partner_code")]
    assert "3.00" in messages[(17, "amount")]
    assert "Row 2" in messages[(19, "external_id")]
    assert (report.created, SalesLine.objects.count()) == (0, 0)


def test_an_amount_that_agrees_to_the_cent_is_accepted(world):
    row = ["P-EAST", "", DAY, "SEN-100", "", "C-1", "", "", "3", "33.33", "99.99", ""]

    assert run(world, csv_file([row])).created == 1


def test_a_missing_required_column_is_an_error_on_the_header_row(world):
    report = run(world, csv_file([["P-EAST", DAY]], header=["partner_code", "sold_on"]))

    assert {column for row, column, _m in report.errors} == {"customer_id", "quantity", "unit_price", "product_sku"}
    assert {row for row, _c, _m in report.errors} == {1}


def test_a_gb18030_csv_with_chinese_headers(world):
    header = ["合作伙伴编码", "外部编号", "销售日期", "产品SKU", "客户编号", "客户名称", "数量", "单价", "金额"]
    chinese_day = f"{TODAY.year}年{TODAY.month}月{TODAY.day}日"
    rows = [["P-EAST", "单-1", chinese_day, "SEN-100", "C-1", "上海某公司", "2", "5", ""]]

    report = run(world, csv_file(rows, header=header, encoding="gb18030"))

    assert (report.errors, report.created) == ([], 1)
    line = SalesLine.objects.get()
    assert (line.customer_name, line.external_id, line.sold_on, line.amount) == (
        "上海某公司",
        "单-1",
        TODAY,
        Decimal("10.00"),
    )


def test_an_excel_file_with_real_dates_and_numbers_imports_twice_the_same(world):
    rows = [["P-EAST", None, TODAY - timedelta(days=3), "SEN-100", None, "C-1", "Acme", None, 2, 19.99, None, None]]

    assert run(world, xlsx_file(rows)).created == 1
    assert SalesLine.objects.get().amount == Decimal("39.98")
    assert run(world, xlsx_file(rows)).unchanged == 1


def test_an_excel_file_reports_bad_cells_by_row_too(world):
    rows = [GOOD[0], ["P-EAST", None, "yesterday", "SEN-100", None, "C-1", None, None, 1, 1, None, None]]

    report = run(world, xlsx_file(rows))

    assert [(row, column) for row, column, _m in report.errors] == [(3, "sold_on")]
    assert not SalesLine.objects.exists()


def test_a_dry_run_reports_the_counts_and_writes_nothing(world):
    report = run(world, csv_file(GOOD[:1]), dry_run=True)

    assert (report.dry_run, report.created) == (True, 1)
    assert not SalesLine.objects.exists()


def test_a_channel_manager_imports_only_for_partners_they_manage(world):
    manager = ChannelManagerFactory()
    world["east"].owner = manager
    world["east"].save()
    west = [*GOOD[0]]
    west[0], west[1] = "P-WEST", "INV-9"

    report = run(world, csv_file([GOOD[0], west]), by=manager)

    assert [(row, column) for row, column, _m in report.errors] == [(3, "partner_code")]
    assert not SalesLine.objects.exists()
    with pytest.raises(PermissionDenied):
        run(world, csv_file(GOOD[:1]), by=AnalystFactory())


def test_a_portal_upload_is_for_the_users_own_partner(world):
    user = PartnerUserFactory(partner=world["east"])
    rows = [["", "A-1", DAY, "SEN-100", "", "C-1", "", "", "1", "5", "", ""], [*GOOD[0]]]

    report = run(world, csv_file(rows), by=user, partner=world["east"])

    assert (report.errors, report.created) == ([], 2)
    assert set(SalesLine.objects.values_list("partner__code", "source")) == {("P-EAST", SalesSource.PORTAL)}


def test_a_portal_upload_naming_another_partner_is_refused_without_telling_whether_it_exists(world):
    user = PartnerUserFactory(partner=world["east"])
    existing, unknown = [*GOOD[0]], [*GOOD[0]]
    existing[0], unknown[0] = "P-WEST", "P-NOBODY"

    report = run(world, csv_file([GOOD[0], existing, unknown]), by=user, partner=world["east"])

    errors = [(row, column) for row, column, _m in report.errors]
    assert errors == [(3, "partner_code"), (4, "partner_code")]
    first, second = (message for _r, _c, message in report.errors)
    assert first.replace("P-WEST", "") == second.replace("P-NOBODY", "")  # the same words either way
    assert "P-WEST" not in first and "P-NOBODY" not in second
    assert not SalesLine.objects.exists()


def test_a_partner_user_cannot_upload_for_another_partner(world):
    user = PartnerUserFactory(partner=world["east"])

    with pytest.raises(PermissionDenied):
        run(world, csv_file(GOOD[:1]), by=user, partner=world["west"])
    with pytest.raises(PermissionDenied):
        run(world, csv_file(GOOD[:1]), by=user)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("sales.txt", b"partner_code\n"),
        ("sales.xlsx", b"PK\x03\x04 not a workbook"),
        ("sales.csv", b""),
        ("sales.csv", b"\n\n"),
    ],
)
def test_a_file_that_is_no_table_is_refused_on_the_file_field(world, name, content):
    with pytest.raises(ValidationError) as excinfo:
        run(world, SimpleUploadedFile(name, content))

    assert list(excinfo.value.message_dict) == ["file"]


def test_query_count_does_not_grow_with_the_rows(world, django_assert_max_num_queries):
    def rows(count, prefix):
        return [
            [("P-EAST", "P-WEST")[n % 2], f"{prefix}-{n}", DAY, "SEN-100", "", f"C-{n}", "", "CN-SH", "1", "5", "", ""]
            for n in range(count)
        ]

    with django_assert_max_num_queries(14):
        assert run(world, csv_file(rows(10, "A"))).created == 10
    with django_assert_max_num_queries(14):
        assert run(world, csv_file(rows(200, "B"))).created == 200
    with django_assert_max_num_queries(14):
        assert run(world, csv_file(rows(200, "B"))).unchanged == 200
