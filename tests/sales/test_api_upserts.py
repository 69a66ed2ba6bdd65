"""Sales lines written through the API: one line (POST), one line by external ID (PUT
/api/v1/sales-lines/by-external-id/{id}/, an upsert), changes and deletions by id, and many lines
at once (POST /api/v1/sales-lines/bulk/, all or nothing). Every value follows the sales import's
rules; a key bound to a partner writes only its own partner's lines."""

import math
from decimal import Decimal

import pytest
from django.db import connection
from rest_framework.test import APIClient

from prm.models import AuditEntry
from sales.models import SalesLine, SalesSource
from tests.factories import (
    AnalystFactory,
    PartnerFactory,
    ProductFactory,
    ProductLineFactory,
    RegionFactory,
    SalesLineFactory,
)

pytestmark = pytest.mark.django_db

LINES = "/api/v1/sales-lines/"
BULK = "/api/v1/sales-lines/bulk/"


def upsert_url(external_id):
    return f"{LINES}by-external-id/{external_id}/"


def field_errors(response):
    body = response.json()
    return body.get("errors", body)


def db_lines():
    return list(SalesLine.objects.order_by("pk").values())


@pytest.fixture
def world(db):
    sensors = ProductLineFactory(code="SEN", name="Industrial sensors")
    return {
        "partner": PartnerFactory(code="SZ-01"),
        "other": PartnerFactory(code="BJ-02"),
        "sensors": sensors,
        "probe": ProductFactory(sku="SEN-100", product_line=sensors),
        "region": RegionFactory(code="GD-SZ"),
    }


def line_body(world, **overrides):
    body = {
        "partner": world["partner"].pk,
        "sold_on": "2026-03-01",
        "product_sku": "SEN-100",
        "customer_id": "C-1",
        "customer_name": "Guangzhou Metro",
        "customer_region": world["region"].pk,
        "quantity": "3",
        "unit_price": "19.99",
    }
    body.update(overrides)
    return {key: value for key, value in body.items() if value is not None}


# One line by external ID ---------------------------------------------------------------------


def test_upsert_creates_then_updates_then_changes_nothing(api_client, world):
    created = api_client.put(upsert_url("INV-2026-001"), line_body(world))
    assert (created.status_code, created["X-Upsert-Result"]) == (201, "created")
    line = SalesLine.objects.get()
    assert (line.partner, line.external_id, line.source) == (world["partner"], "INV-2026-001", SalesSource.API)
    assert (line.product, line.product_line, line.customer_region) == (
        world["probe"],
        world["sensors"],
        world["region"],
    )
    assert line.amount == Decimal("59.97")
    assert created.json()["id"] == line.pk
    assert created.json()["amount"] == "59.97"

    updated = api_client.put(upsert_url("INV-2026-001"), line_body(world, quantity="4"))
    assert (updated.status_code, updated["X-Upsert-Result"]) == (200, "updated")
    assert SalesLine.objects.get().amount == Decimal("79.96")

    stamp = SalesLine.objects.get().updated_at
    history = AuditEntry.objects.count()
    again = api_client.put(upsert_url("INV-2026-001"), line_body(world, quantity=4, unit_price=19.99))
    assert (again.status_code, again["X-Upsert-Result"]) == (200, "unchanged")
    assert SalesLine.objects.get().updated_at == stamp
    assert AuditEntry.objects.count() == history
    assert SalesLine.objects.count() == 1


def test_upsert_names_the_references_by_code_too(api_client, world):
    body = line_body(world, partner=None, partner_code="sz-01", customer_region=None, customer_region_code="GD-SZ")
    response = api_client.put(upsert_url("ord:42@crm.example-1"), body)
    assert response.status_code == 201
    line = SalesLine.objects.get()
    assert (line.partner, line.customer_region, line.external_id) == (
        world["partner"],
        world["region"],
        "ord:42@crm.example-1",
    )


def test_lines_are_unique_per_partner_and_external_id(api_client, world):
    api_client.put(upsert_url("INV-1"), line_body(world))
    response = api_client.put(upsert_url("INV-1"), line_body(world, partner=world["other"].pk))
    assert response["X-Upsert-Result"] == "created"
    assert SalesLine.objects.filter(external_id="INV-1").count() == 2


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"quantity": "0"}, "quantity"),
        ({"quantity": "1.2345"}, "quantity"),
        ({"unit_price": "-1"}, "unit_price"),
        ({"unit_price": "ten"}, "unit_price"),
        ({"sold_on": "2999-01-01"}, "sold_on"),
        ({"sold_on": "yesterday"}, "sold_on"),
        ({"product_sku": "NOPE"}, "product_sku"),
        ({"product": 999999, "product_sku": None}, "product"),
        ({"customer_region": 999999}, "customer_region"),
        ({"amount": "1.00"}, "amount"),
        ({"currency": "yuan"}, "currency"),
        ({"customer_id": ""}, "customer_id"),
        ({"partner": 999999}, "partner"),
        ({"partner": None}, "partner"),
        ({"quantity": [1]}, "quantity"),
        ({"quantity": "1e999999"}, "quantity"),
        ({"unit_price": 1e300}, "unit_price"),
        ({"partner": "x"}, "partner"),
        ({"partner": 2**70}, "partner"),
    ],
)
def test_upsert_bad_input_names_the_field_and_changes_nothing(api_client, world, overrides, field):
    SalesLineFactory(partner=world["partner"], external_id="INV-1")
    before = db_lines()
    response = api_client.put(upsert_url("INV-1"), line_body(world, **overrides))
    assert response.status_code == 400
    assert field in field_errors(response)
    assert db_lines() == before


@pytest.mark.parametrize("external_id", ["x" * 101, "bad%00id", "%20"])
def test_upsert_refuses_an_external_id_it_cannot_keep(api_client, world, external_id):
    response = api_client.put(upsert_url(external_id), line_body(world))
    assert response.status_code == 400
    assert "external_id" in field_errors(response)
    assert not SalesLine.objects.exists()


def test_upsert_refuses_another_external_id_in_the_body(api_client, world):
    response = api_client.put(upsert_url("INV-1"), line_body(world, external_id="INV-2"))
    assert response.status_code == 400
    assert "external_id" in field_errors(response)
    assert not SalesLine.objects.exists()


# Keys -----------------------------------------------------------------------------------------


def test_partner_key_writes_its_own_lines_without_naming_its_partner(make_key, world):
    api = make_key(["sales:read", "sales:write"], partner=world["partner"])
    response = api.put(upsert_url("INV-1"), line_body(world, partner=None))
    assert response.status_code == 201
    assert SalesLine.objects.get().partner == world["partner"]


def test_partner_key_cannot_write_for_another_partner_nor_learn_that_it_exists(make_key, world):
    api = make_key(["sales:read", "sales:write"], partner=world["partner"])
    other = api.put(upsert_url("INV-1"), line_body(world, partner=world["other"].pk))
    missing = api.put(upsert_url("INV-1"), line_body(world, partner=999999))
    assert other.status_code == missing.status_code == 400
    assert other.json() == missing.json()
    by_code = api.put(upsert_url("INV-1"), line_body(world, partner=None, partner_code="BJ-02"))
    by_missing_code = api.put(upsert_url("INV-1"), line_body(world, partner=None, partner_code="NOPE"))
    assert by_code.status_code == 400
    assert by_code.json() == by_missing_code.json()
    assert not SalesLine.objects.exists()


def test_partner_key_using_another_partners_external_id_writes_only_its_own_line(make_key, world):
    theirs = SalesLineFactory(partner=world["other"], external_id="INV-9", customer_id="SECRET")
    api = make_key(["sales:read", "sales:write"], partner=world["partner"])
    response = api.put(upsert_url("INV-9"), line_body(world, partner=None))
    assert (response.status_code, response["X-Upsert-Result"]) == (201, "created")
    assert "SECRET" not in response.content.decode()
    assert SalesLine.objects.get(pk=theirs.pk).customer_id == "SECRET"
    assert SalesLine.objects.get(pk=response.json()["id"]).partner == world["partner"]


def test_partner_key_cannot_change_or_delete_another_partners_line(make_key, world):
    theirs = SalesLineFactory(partner=world["other"], external_id="INV-9")
    api = make_key(["sales:read", "sales:write"], partner=world["partner"])
    before = db_lines()
    assert api.patch(f"{LINES}{theirs.pk}/", {"quantity": "9"}).status_code == 404
    assert api.delete(f"{LINES}{theirs.pk}/").status_code == 404
    bulk = api.post(BULK, {"lines": [line_body(world, partner=world["other"].pk, external_id="INV-9")]})
    assert bulk.status_code == 400
    assert db_lines() == before


def test_read_only_callers_cannot_write(make_key, world):
    reader = make_key(["sales:read"])
    assert reader.put(upsert_url("INV-1"), line_body(world)).status_code == 403
    analyst = APIClient()
    analyst.force_authenticate(AnalystFactory())
    assert analyst.post(BULK, {"lines": [line_body(world, external_id="INV-1")]}).status_code == 403
    assert not SalesLine.objects.exists()


def test_vendor_key_writes_lines(make_key, world):
    api = make_key(["sales:read", "sales:write"])
    assert api.put(upsert_url("INV-1"), line_body(world)).status_code == 201
    history = AuditEntry.objects.get(object_type="sales.salesline")
    assert "api_key" in history.changes


# One line: POST, PUT/PATCH by id, DELETE ------------------------------------------------------------


def test_post_reports_one_line_and_refuses_the_same_line_again(api_client, world):
    response = api_client.post(LINES, line_body(world, external_id="INV-1"))
    assert response.status_code == 201
    assert SalesLine.objects.get().source == SalesSource.API
    again = api_client.post(LINES, line_body(world, external_id="INV-1", quantity="5"))
    assert again.status_code == 400
    assert "external_id" in field_errors(again)
    without_id = api_client.post(LINES, line_body(world))
    assert without_id.status_code == 201
    assert api_client.post(LINES, line_body(world)).status_code == 400
    assert SalesLine.objects.count() == 2


def test_patch_changes_the_fields_given_and_recomputes_the_amount(api_client, world):
    api_client.put(upsert_url("INV-1"), line_body(world))
    line = SalesLine.objects.get()
    response = api_client.patch(f"{LINES}{line.pk}/", {"quantity": "10"})
    assert (response.status_code, response["X-Upsert-Result"]) == (200, "updated")
    line.refresh_from_db()
    assert (line.quantity, line.unit_price, line.amount, line.customer_name) == (
        Decimal("10"),
        Decimal("19.99"),
        Decimal("199.90"),
        "Guangzhou Metro",
    )
    assert api_client.patch(f"{LINES}{line.pk}/", {"quantity": "10.000"})["X-Upsert-Result"] == "unchanged"


def test_a_line_keeps_its_partner_and_external_id(api_client, world):
    api_client.put(upsert_url("INV-1"), line_body(world))
    line = SalesLine.objects.get()
    before = db_lines()
    moved = api_client.patch(f"{LINES}{line.pk}/", {"partner": world["other"].pk})
    renamed = api_client.patch(f"{LINES}{line.pk}/", {"external_id": "INV-2"})
    blank = api_client.patch(f"{LINES}{line.pk}/", {"external_id": "", "quantity": "3"})
    assert (blank.status_code, blank["X-Upsert-Result"]) == (200, "unchanged")
    assert (moved.status_code, renamed.status_code) == (400, 400)
    assert "partner" in field_errors(moved)
    assert "external_id" in field_errors(renamed)
    assert db_lines() == before


def test_delete_removes_the_line_and_records_it(api_client, world):
    api_client.put(upsert_url("INV-1"), line_body(world))
    line = SalesLine.objects.get()
    assert api_client.delete(f"{LINES}{line.pk}/").status_code == 204
    assert not SalesLine.objects.exists()
    assert AuditEntry.objects.filter(
        object_type="sales.salesline", object_id=str(line.pk), action=AuditEntry.Action.DELETE
    ).exists()


# Bulk ------------------------------------------------------------------------------------------------


def bulk_rows(world, count, start=0, **overrides):
    return [
        line_body(world, external_id=f"INV-{number:05d}", customer_id=f"C-{number}", **overrides)
        for number in range(start, start + count)
    ]


def test_bulk_writes_every_line_and_tells_each_rows_outcome(api_client, world):
    response = api_client.post(BULK, {"lines": bulk_rows(world, 3)})
    assert response.status_code == 200
    body = response.json()
    ids = dict(SalesLine.objects.values_list("external_id", "pk"))
    assert body["results"] == [
        {"index": index, "external_id": f"INV-{index:05d}", "id": ids[f"INV-{index:05d}"], "status": "created"}
        for index in range(3)
    ]
    assert body["totals"] == {"lines": 3, "created": 3, "updated": 0, "unchanged": 0, "amount": {"CNY": "179.91"}}

    rows = bulk_rows(world, 3)
    rows[1]["quantity"] = "1"
    again = api_client.post(BULK, {"lines": rows}).json()
    assert [row["status"] for row in again["results"]] == ["unchanged", "updated", "unchanged"]
    assert [row["id"] for row in again["results"]] == [row["id"] for row in body["results"]]
    assert SalesLine.objects.count() == 3


def test_bulk_is_all_or_nothing(api_client, world):
    SalesLineFactory(partner=world["partner"], external_id="INV-00000", quantity=Decimal("7"))
    before = db_lines()
    rows = bulk_rows(world, 4)
    rows[2]["unit_price"] = "abc"
    rows[3] = "not a line"
    response = api_client.post(BULK, {"lines": rows})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert body["errors"] == {}
    assert [(row["index"], row["external_id"], row["status"]) for row in body["results"]] == [
        (0, "INV-00000", "valid"),
        (1, "INV-00001", "valid"),
        (2, "INV-00002", "error"),
        (3, None, "error"),
    ]
    assert "unit_price" in body["results"][2]["errors"]
    assert "non_field_errors" in body["results"][3]["errors"]
    assert db_lines() == before


def test_bulk_refuses_an_external_id_twice_on_the_later_row(api_client, world):
    rows = bulk_rows(world, 3)
    rows[2]["external_id"] = rows[0]["external_id"]
    response = api_client.post(BULK, {"lines": rows})
    assert response.status_code == 400
    statuses = [(row["status"], set(row.get("errors", {}))) for row in response.json()["results"]]
    assert statuses == [("valid", set()), ("valid", set()), ("error", {"external_id"})]
    assert not SalesLine.objects.exists()


def test_bulk_needs_the_external_id_of_every_row(api_client, world):
    rows = bulk_rows(world, 2)
    del rows[1]["external_id"]
    response = api_client.post(BULK, {"lines": rows})
    assert response.status_code == 400
    assert "external_id" in response.json()["results"][1]["errors"]
    assert not SalesLine.objects.exists()


def test_bulk_over_the_limit_is_refused_with_the_limit(api_client, world, settings):
    settings.PRM_API_BULK_MAX_ROWS = 5
    response = api_client.post(BULK, {"lines": bulk_rows(world, 6)})
    assert response.status_code == 400
    assert "5" in field_errors(response)["lines"][0]
    assert not SalesLine.objects.exists()


@pytest.mark.parametrize("body", [{}, {"lines": "many"}, [1, 2], {"lines": None}])
def test_bulk_without_a_list_of_lines_is_a_clear_400(api_client, world, body):
    response = api_client.post(BULK, body, format="json")
    assert response.status_code == 400
    assert "lines" in field_errors(response)


def test_bulk_totals_reconcile_to_the_cent(api_client, world):
    prices = ["0.01", "19.99", "33.33", "0.07", "1234.56"]
    quantities = ["0.333", "2.5", "-1", "3.125", "0.001"]
    rows = [
        line_body(world, external_id=f"R-{index}-{currency}", quantity=quantity, unit_price=price, currency=currency)
        for index, (quantity, price) in enumerate(zip(quantities, prices, strict=True))
        for currency in ("CNY", "USD")
    ]
    body = api_client.post(BULK, {"lines": rows}).json()
    for currency in ("CNY", "USD"):
        stored = sum(SalesLine.objects.filter(currency=currency).values_list("amount", flat=True), Decimal("0"))
        assert Decimal(body["totals"]["amount"][currency]) == stored
    expected = sum(
        (Decimal(q) * Decimal(p)).quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")
        for q, p in zip(quantities, prices, strict=True)
    )
    assert Decimal(body["totals"]["amount"]["CNY"]) == expected


def write_statements(count):
    """How many INSERT (or UPDATE) statements the database needs for `count` lines: one on
    PostgreSQL; on SQLite, whose statements take at most 999 parameters, one per few dozen lines."""
    fields = [field for field in SalesLine._meta.concrete_fields if not field.primary_key]
    per_statement = min(500, connection.ops.bulk_batch_size(fields, [SalesLine()] * count) or count)
    return math.ceil(count / per_statement)


def bulk_queries(api, rows, django_assert_max_num_queries):
    """The queries of one bulk call: no per-row lookups, the writes batched."""
    with django_assert_max_num_queries(12 + 2 * write_statements(len(rows))) as captured:
        response = api.post(BULK, {"lines": rows})
    assert response.status_code == 200
    reads = [query["sql"] for query in captured.captured_queries if query["sql"].startswith("SELECT")]
    return len(reads), response.json()


def test_bulk_reads_the_same_few_queries_for_10_and_500_rows(api_client, world, django_assert_max_num_queries):
    # The first call reads the caller's roles, which the test client's user then keeps.
    assert api_client.post(BULK, {"lines": []}).json()["totals"]["lines"] == 0
    created_10, _body = bulk_queries(api_client, bulk_rows(world, 10), django_assert_max_num_queries)
    created_500, _body = bulk_queries(api_client, bulk_rows(world, 500, start=10), django_assert_max_num_queries)
    assert created_10 == created_500
    updated_10, body = bulk_queries(api_client, bulk_rows(world, 10, quantity="2"), django_assert_max_num_queries)
    assert body["totals"]["updated"] == 10
    rows = bulk_rows(world, 500, start=10, quantity="2")
    updated_500, body = bulk_queries(api_client, rows, django_assert_max_num_queries)
    assert body["totals"]["updated"] == 500
    assert updated_10 == updated_500 == created_10


def test_bulk_by_a_partner_key_writes_its_own_lines(make_key, world):
    api = make_key(["sales:read", "sales:write"], partner=world["partner"])
    response = api.post(BULK, {"lines": bulk_rows(world, 3, partner=None)})
    assert response.status_code == 200
    assert set(SalesLine.objects.values_list("partner", flat=True)) == {world["partner"].pk}
