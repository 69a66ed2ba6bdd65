"""ObjectListView's Excel export (`?export=xlsx`): the same columns and rows as the CSV, with
numbers as numbers, the list's filters applied, headers in the user's language, and a query
count that does not grow with the rows. Shown on the agreements list, which has export columns."""

import csv
import io
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from agreements.choices import AgreementStatus
from tests.factories import AgreementFactory, AnalystFactory, PartnerFactory, PartnerUserFactory

pytestmark = pytest.mark.django_db

LIST = reverse("agreements:agreement-list")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def sheet_rows(response):
    assert response.status_code == 200 and response["Content-Type"] == XLSX
    sheet = load_workbook(io.BytesIO(response.content)).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def csv_rows(response):
    text = b"".join(response.streaming_content).decode("utf-8").removeprefix("\ufeff")
    return list(csv.reader(io.StringIO(text)))


@pytest.fixture
def analyst_client(client):
    client.force_login(AnalystFactory())
    return client


def test_the_workbook_has_the_csv_columns_and_numbers_stay_numbers(analyst_client):
    agreement = AgreementFactory(
        number="AG-X-00001",
        partner=PartnerFactory(code="P-XL", name="华信科技有限公司"),
        discount_percent=Decimal("12.50"),
    )
    response = analyst_client.get(f"{LIST}?export=xlsx")

    assert re.match(r'attachment; filename="agreements-\d{8}\.xlsx"', response["Content-Disposition"])
    header, *rows = sheet_rows(response)
    csv_header, *csv_body = csv_rows(analyst_client.get(f"{LIST}?export=csv"))
    assert header == csv_header
    assert header[:3] == ["Number", "Partner code", "Partner"] and "Discount %" in header
    (row,) = rows
    values = dict(zip(header, row, strict=True))
    assert (values["Number"], values["Partner code"], values["Partner"]) == ("AG-X-00001", "P-XL", "华信科技有限公司")
    assert values["Status"] == "Active" and values["Start date"] == agreement.start_date.isoformat()
    # The Decimal is a number cell, to the cent, not text.
    assert isinstance(values["Discount %"], (int, float)) and Decimal(str(values["Discount %"])) == Decimal("12.5")
    assert values["Version"] == 1
    assert [str(value) if value is not None else "" for value in row][:3] == csv_body[0][:3]


def test_the_workbook_keeps_the_lists_filters_and_speaks_the_users_language(analyst_client):
    AgreementFactory(number="AG-A", status=AgreementStatus.ACTIVE)
    AgreementFactory(number="AG-D", status=AgreementStatus.DRAFT)

    header, *rows = sheet_rows(analyst_client.get(f"{LIST}?status=draft&export=xlsx"))
    assert [row[0] for row in rows] == ["AG-D"]

    header, *rows = sheet_rows(analyst_client.get(f"{LIST}?export=xlsx", HTTP_ACCEPT_LANGUAGE="zh-hans"))
    assert header[0] != "Number" and sorted(row[0] for row in rows) == ["AG-A", "AG-D"]


@pytest.mark.parametrize("size", [2, 12])
def test_the_export_query_count_does_not_grow_with_rows(analyst_client, size, django_assert_max_num_queries):
    for _ in range(size):
        AgreementFactory()
    with django_assert_max_num_queries(12):
        rows = sheet_rows(analyst_client.get(f"{LIST}?export=xlsx"))
    assert len(rows) == size + 1


def test_an_unknown_format_shows_the_page(analyst_client):
    AgreementFactory()
    response = analyst_client.get(f"{LIST}?export=pdf")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")


def test_partner_users_get_no_export(client):
    client.force_login(PartnerUserFactory(partner=PartnerFactory()))
    response = client.get(f"{LIST}?export=xlsx")
    assert response.status_code == 403 and response["Content-Type"].startswith("text/html")
