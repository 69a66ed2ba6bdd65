"""The catalogue's REST API: /api/v1/product-lines/ and /api/v1/products/.

Reference data: every staff user and every key with `sales:read` reads it (a key bound to a
partner too); only a channel admin, or a vendor key with `sales:write`, changes it, through
sales.services. Nothing is deleted: a product line or product is deactivated."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from prm.models import AuditEntry
from sales.models import Product, ProductLine
from tests.factories import ChannelManagerFactory, PartnerFactory, ProductFactory, ProductLineFactory

pytestmark = pytest.mark.django_db

LINES = "/api/v1/product-lines/"
PRODUCTS = "/api/v1/products/"


def url(base, pk):
    return f"{base}{pk}/"


@pytest.fixture
def catalogue(db):
    sensors = ProductLineFactory(code="SEN", name="Industrial sensors")
    controllers = ProductLineFactory(code="CTL", name="Controllers", is_active=False)
    return {
        "sensors": sensors,
        "controllers": controllers,
        "probe": ProductFactory(sku="SEN-100", name="Temperature probe", product_line=sensors),
        "gauge": ProductFactory(sku="SEN-200", name="Pressure gauge", product_line=sensors, is_active=False),
        "plc": ProductFactory(sku="CTL-1", name="Compact PLC", product_line=controllers, is_active=False),
    }


def snapshot():
    return list(ProductLine.objects.order_by("pk").values()) + list(Product.objects.order_by("pk").values())


def test_product_lines_read_with_their_fields(api_client, catalogue):
    body = api_client.get(url(LINES, catalogue["sensors"].pk)).json()
    assert {key: body[key] for key in ("code", "name", "description", "is_active")} == {
        "code": "SEN",
        "name": "Industrial sensors",
        "description": "",
        "is_active": True,
    }
    assert {"id", "created_at", "updated_at"} <= set(body)


@pytest.mark.parametrize(
    ("base", "query", "expected"),
    [
        (LINES, "is_active=true", {"SEN"}),
        (LINES, "is_active=false", {"CTL"}),
        (LINES, "q=sens", {"SEN"}),
        (PRODUCTS, "q=probe", {"SEN-100"}),
        (PRODUCTS, "product_line={sensors}", {"SEN-100", "SEN-200"}),
        (PRODUCTS, "is_active=false", {"SEN-200", "CTL-1"}),
        (PRODUCTS, "sku=CTL-1", {"CTL-1"}),
    ],
)
def test_lists_filter_with_the_staff_lists_names(api_client, catalogue, base, query, expected):
    query = query.format(sensors=catalogue["sensors"].pk)
    rows = api_client.get(f"{base}?{query}").json()["results"]
    assert {row.get("sku", row.get("code")) for row in rows} == expected


def test_lists_order(api_client, catalogue):
    rows = api_client.get(f"{PRODUCTS}?ordering=-sku").json()["results"]
    assert [row["sku"] for row in rows] == ["SEN-200", "SEN-100", "CTL-1"]


def test_a_channel_admin_creates_and_changes_the_catalogue(api_client, staff_user, catalogue):
    created = api_client.post(LINES, {"code": "srv-01", "name": "Services"}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["code"] == "SRV-01"
    line_id = created.json()["id"]
    product = api_client.post(
        PRODUCTS,
        {"sku": "srv-basic", "name": "Basic support", "product_line": line_id, "list_price": "1200.50"},
        format="json",
    )
    assert product.status_code == 201, product.content
    assert product.json()["sku"] == "SRV-BASIC" and product.json()["list_price"] == "1200.50"
    changed = api_client.patch(url(LINES, line_id), {"name": "After-sales services"}, format="json")
    assert changed.status_code == 200 and changed.json()["name"] == "After-sales services"
    entries = AuditEntry.objects.filter(object_type="sales.productline", object_id=str(line_id), actor=staff_user)
    assert entries.count() == 2


@pytest.mark.parametrize(
    ("base", "payload", "field"),
    [
        (LINES, {"code": "sen", "name": "Again"}, "code"),
        (LINES, {"code": "bad code!", "name": "X"}, "code"),
        (LINES, {"code": "NEW"}, "name"),
        (PRODUCTS, {"sku": "X-1", "name": "X", "product_line": 999999}, "product_line"),
        (PRODUCTS, {"sku": "X-1", "name": "X", "product_line": "{sensors}", "list_price": "-1"}, "list_price"),
        (PRODUCTS, {"sku": "X-1", "name": "X", "product_line": "{controllers}"}, "product_line"),
    ],
)
def test_bad_input_is_a_field_error_and_changes_nothing(api_client, catalogue, base, payload, field):
    payload = {
        key: value.format(sensors=catalogue["sensors"].pk, controllers=catalogue["controllers"].pk)
        if isinstance(value, str)
        else value
        for key, value in payload.items()
    }
    before = snapshot()
    response = api_client.post(base, payload, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"], response.json()
    assert snapshot() == before


def test_nothing_is_deleted(api_client, catalogue):
    assert api_client.delete(url(LINES, catalogue["sensors"].pk)).status_code == 405
    assert api_client.delete(url(PRODUCTS, catalogue["probe"].pk)).status_code == 405


def test_a_channel_manager_reads_but_does_not_change_the_catalogue(catalogue):
    api = APIClient()
    api.force_authenticate(ChannelManagerFactory())
    assert api.get(LINES).json()["count"] == 2
    before = snapshot()
    response = api.post(LINES, {"code": "NEW", "name": "New"}, format="json")
    assert response.status_code == 403
    assert response.json()["message"] == "Only a channel admin can change the product catalogue."
    assert api.patch(url(PRODUCTS, catalogue["probe"].pk), {"name": "X"}, format="json").status_code == 403
    assert snapshot() == before


def test_keys_read_with_sales_read_and_write_with_sales_write(catalogue, make_key):
    refused = make_key(["partners:read"]).get(PRODUCTS)
    assert refused.status_code == 403
    assert refused.json()["message"] == "This API key does not have the scope “sales:read”."
    reader = make_key(["sales:read"])
    assert reader.get(PRODUCTS).json()["count"] == 3
    before = snapshot()
    assert reader.post(LINES, {"code": "NEW", "name": "New"}, format="json").status_code == 403
    assert snapshot() == before
    writer = make_key(["sales:write"])
    assert writer.post(LINES, {"code": "NEW", "name": "New"}, format="json").status_code == 201


def test_a_partner_key_reads_the_catalogue_but_never_writes(catalogue, make_key):
    api = make_key(["sales:write"], partner=PartnerFactory())
    assert api.get(LINES).json()["count"] == 2
    assert api.get(url(PRODUCTS, catalogue["probe"].pk)).status_code == 200
    before = snapshot()
    assert api.post(LINES, {"code": "NEW", "name": "New"}, format="json").status_code == 403
    assert api.patch(url(PRODUCTS, catalogue["probe"].pk), {"name": "X"}, format="json").status_code == 403
    assert snapshot() == before


@pytest.mark.parametrize("size", [2, 30])
@pytest.mark.parametrize("base", [LINES, PRODUCTS])
def test_lists_issue_the_same_few_queries_for_few_and_many_rows(api_client, django_assert_max_num_queries, size, base):
    for _index in range(size):
        ProductFactory(list_price=Decimal("10.00"))
    with django_assert_max_num_queries(2):
        response = api_client.get(f"{base}?page_size=500")
    body = response.json()
    assert len(body["results"]) == body["count"] >= size


def test_the_schema_documents_the_catalogue(api_client):
    paths = api_client.get("/api/schema/?format=json").json()["paths"]
    assert {"get", "post"} <= set(paths[LINES]) and {"get", "put", "patch"} <= set(paths[f"{LINES}{{id}}/"])
    assert "delete" not in paths[f"{PRODUCTS}{{id}}/"]
