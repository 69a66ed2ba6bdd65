"""The staff pages of the product catalogue: every staff member reads it, only a channel admin
changes it (through the services, which normalise codes to upper case and name the field at
fault), the product list filters, sorts and exports, and its query count does not grow."""

import csv
import io
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from prm.models import AuditEntry
from sales.models import Product, ProductLine
from tests.factories import (
    AnalystFactory,
    ChannelManagerFactory,
    PartnerFactory,
    PartnerUserFactory,
    ProductFactory,
    ProductLineFactory,
)

pytestmark = pytest.mark.django_db

NOT_STAFF_MESSAGE = "This page is for the vendor&#x27;s channel team."
PORTAL_USER_MESSAGE = "This page is for vendor staff; your partner portal is here."
ADMIN_ONLY_MESSAGE = "Only a channel admin can change the product catalogue."


def html(response):
    return response.content.decode()


def catalogue_snapshot():
    return {
        "lines": list(ProductLine.objects.order_by("pk").values()),
        "products": list(Product.objects.order_by("pk").values()),
        "history": AuditEntry.objects.count(),
    }


@pytest.fixture
def catalogue(db):
    sensors = ProductLineFactory(code="SENS", name="Industrial sensors", description="Pressure and flow")
    valves = ProductLineFactory(code="VALV", name="Control valves")
    old = ProductLineFactory(code="OLD", name="Legacy meters", is_active=False)
    products = {
        "p100": ProductFactory(
            sku="S-100", name="Pressure sensor", product_line=sensors, list_price=Decimal("1280.50")
        ),
        "p200": ProductFactory(sku="S-200", name="Flow sensor", product_line=sensors, list_price=Decimal("99.00")),
        "v10": ProductFactory(sku="V-10", name="Ball valve", product_line=valves, unit="box", list_price=None),
        "m1": ProductFactory(sku="M-1", name="Water meter", product_line=old, is_active=False),
    }
    return {"sensors": sensors, "valves": valves, "old": old, **products}


def listed_skus(response):
    return [product.sku for product in response.context["object_list"]]


GET_PAGES = [
    ("sales:product-line-list", None),
    ("sales:product-line-create", None),
    ("sales:product-line-edit", "sensors"),
    ("sales:product-list", None),
    ("sales:product-create", None),
    ("sales:product-edit", "p100"),
]
WRITE_PAGES = [page for page in GET_PAGES if page[0].endswith(("-create", "-edit"))]


def url_of(name, key, catalogue):
    return reverse(name, args=[catalogue[key].pk]) if key else reverse(name)


@pytest.mark.parametrize(("name", "key"), GET_PAGES)
def test_every_page_renders_for_a_channel_admin(staff_client, catalogue, name, key):
    response = staff_client.get(url_of(name, key, catalogue))
    assert response.status_code == 200
    assert "Sign out" in html(response)


@pytest.mark.parametrize(("name", "key"), GET_PAGES)
def test_every_page_sends_anonymous_visitors_to_sign_in(client, catalogue, name, key):
    url = url_of(name, key, catalogue)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


@pytest.mark.parametrize(("name", "key"), GET_PAGES)
def test_every_page_refuses_partner_users_and_other_non_staff(client, plain_user, catalogue, name, key):
    client.force_login(plain_user)
    response = client.get(url_of(name, key, catalogue))
    assert response.status_code == 403
    assert NOT_STAFF_MESSAGE in html(response)
    partner_user = PartnerUserFactory(partner=PartnerFactory())
    client.force_login(partner_user)
    response = client.get(url_of(name, key, catalogue))
    assert response.status_code == 403
    assert PORTAL_USER_MESSAGE in html(response)
    assert "Pressure sensor" not in html(response)


@pytest.mark.parametrize("factory", [AnalystFactory, ChannelManagerFactory])
def test_analysts_and_managers_read_the_catalogue_but_do_not_change_it(client, catalogue, factory):
    client.force_login(factory())
    lines = html(client.get(reverse("sales:product-line-list")))
    assert "Industrial sensors" in lines and "New product line" not in lines and "/edit/" not in lines
    products = html(client.get(reverse("sales:product-list")))
    assert "Pressure sensor" in products and "New product" not in products
    before = catalogue_snapshot()
    for name, key in WRITE_PAGES:
        url = url_of(name, key, catalogue)
        assert client.get(url).status_code == 403
        refused = client.post(url, {"code": "X", "sku": "X", "name": "Hacked", "product_line": catalogue["valves"].pk})
        assert refused.status_code == 403
        assert ADMIN_ONLY_MESSAGE in html(refused)
    assert catalogue_snapshot() == before


# Product lines ------------------------------------------------------------------------------


def test_product_line_list_shows_lines_with_their_product_counts(staff_client, catalogue):
    response = staff_client.get(reverse("sales:product-line-list"))
    lines = list(response.context["product_lines"])
    assert [line.code for line in lines] == ["VALV", "SENS", "OLD"]  # active first, then by name
    assert [(line.active_product_count, line.product_count) for line in lines] == [(1, 1), (2, 2), (0, 1)]
    page = html(response)
    assert f'href="/sales/products/?product_line={catalogue["sensors"].pk}">2</a>' in page
    assert "Not on sale" in page


def test_product_line_create_normalises_the_code_and_records_it(staff_client, staff_user, catalogue):
    response = staff_client.post(
        reverse("sales:product-line-create"), {"code": " pl-new ", "name": "Flow meters", "is_active": "on"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("sales:product-line-list")
    line = ProductLine.objects.get(name="Flow meters")
    assert line.code == "PL-NEW" and line.is_active
    assert AuditEntry.objects.filter(object_type="sales.productline", object_id=str(line.pk), actor=staff_user).exists()
    assert "Product line saved." in html(staff_client.get(response["Location"]))


@pytest.mark.parametrize(
    ("data", "field", "text"),
    [
        ({"code": "sens", "name": "Another"}, "code", "already exists"),
        ({"code": "bad code!", "name": "X"}, "code", "letters, digits"),
        ({"code": "", "name": "X"}, "code", "required"),
        ({"code": "NEW", "name": ""}, "name", "required"),
    ],
)
def test_product_line_create_with_bad_input_shows_the_field_error_and_writes_nothing(
    staff_client, catalogue, data, field, text
):
    before = catalogue_snapshot()
    response = staff_client.post(reverse("sales:product-line-create"), data)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert text in " ".join(response.context["form"].errors[field])
    assert "is-invalid" in html(response)
    assert catalogue_snapshot() == before


def test_product_line_edit_changes_and_records_it(staff_client, catalogue):
    line = catalogue["valves"]
    url = reverse("sales:product-line-edit", args=[line.pk])
    assert staff_client.get(url).context["form"].initial["name"] == "Control valves"
    response = staff_client.post(url, {"code": "valv", "name": "Control valves and actuators"})
    assert response.status_code == 302
    line.refresh_from_db()
    assert (line.code, line.name, line.is_active) == ("VALV", "Control valves and actuators", False)
    entry = AuditEntry.objects.get(object_type="sales.productline", object_id=str(line.pk), action="update")
    assert entry.changes["name"] == ["Control valves", "Control valves and actuators"]


def test_product_line_edit_of_an_unknown_line_is_404(staff_client, catalogue):
    assert staff_client.get(reverse("sales:product-line-edit", args=[999999])).status_code == 404


# Products -----------------------------------------------------------------------------------


def test_product_list_shows_products_with_their_line_and_price(staff_client, catalogue):
    response = staff_client.get(reverse("sales:product-list"))
    assert listed_skus(response) == ["V-10", "S-200", "S-100", "M-1"]  # by line name, then name
    page = html(response)
    for text in ["Pressure sensor", "Industrial sensors", "CNY 1,280.50", "box", "Not on sale"]:
        assert text in page


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("product_line=__sensors__", {"S-100", "S-200"}),
        ("is_active=true", {"S-100", "S-200", "V-10"}),
        ("is_active=false", {"M-1"}),
        ("q=valve", {"V-10"}),
        ("q=s-1", {"S-100"}),
        ("q=%20", {"S-100", "S-200", "V-10", "M-1"}),
        ("product_line=__sensors__&q=flow", {"S-200"}),
    ],
)
def test_product_list_filters(staff_client, catalogue, query, expected):
    query = query.replace("__sensors__", str(catalogue["sensors"].pk))
    assert set(listed_skus(staff_client.get(f"{reverse('sales:product-list')}?{query}"))) == expected


@pytest.mark.parametrize("query", ["product_line=999999", "product_line=abc", "is_active=maybe"])
def test_product_list_with_an_invalid_filter_shows_the_error_and_lists_nothing(staff_client, catalogue, query):
    response = staff_client.get(f"{reverse('sales:product-list')}?{query}")
    assert response.status_code == 200
    assert response.context["filter"].form.errors
    assert listed_skus(response) == []
    assert "No products match these filters." in html(response)


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("sku", ["M-1", "S-100", "S-200", "V-10"]),
        ("-price", ["V-10", "S-100", "M-1", "S-200"]),
        ("name", ["V-10", "S-200", "S-100", "M-1"]),
    ],
)
def test_product_list_sorts(staff_client, catalogue, sort, expected):
    skus = listed_skus(staff_client.get(f"{reverse('sales:product-list')}?sort={sort}"))
    if sort == "-price":  # where NULL sorts differs between databases: compare the priced ones
        skus = [sku for sku in skus if sku != "V-10"]
        expected = [sku for sku in expected if sku != "V-10"]
    assert skus == expected


def test_product_csv_export_has_the_filtered_products(staff_client, catalogue):
    response = staff_client.get(f"{reverse('sales:product-list')}?product_line={catalogue['sensors'].pk}&export=csv")
    assert response["Content-Type"].startswith("text/csv")
    assert re.match(r'attachment; filename="products-\d{8}\.csv"', response["Content-Disposition"])
    text = b"".join(response.streaming_content).decode()
    assert text.startswith("\ufeff")
    header, *rows = csv.reader(io.StringIO(text.removeprefix("\ufeff")))
    assert header == ["SKU", "Name", "Product line", "Product line code", "Unit", "List price", "On sale"]
    assert rows == [
        ["S-200", "Flow sensor", "Industrial sensors", "SENS", "pcs", "99.00", "Yes"],
        ["S-100", "Pressure sensor", "Industrial sensors", "SENS", "pcs", "1280.50", "Yes"],
    ]


def test_product_create_normalises_the_sku(staff_client, catalogue):
    url = reverse("sales:product-create")
    assert staff_client.get(f"{url}?product_line={catalogue['valves'].pk}").context["form"].initial["product_line"]
    response = staff_client.post(
        url,
        {"sku": " v-20 ", "name": "Gate valve", "product_line": catalogue["valves"].pk, "unit": "pcs",
         "list_price": "350.00", "is_active": "on"},
    )  # fmt: skip
    assert response.status_code == 302
    product = Product.objects.get(name="Gate valve")
    assert (product.sku, product.list_price, product.product_line) == ("V-20", Decimal("350.00"), catalogue["valves"])


@pytest.mark.parametrize(
    ("overrides", "field", "text"),
    [
        ({"sku": "s-100"}, "sku", "already exists"),
        ({"sku": ""}, "sku", "required"),
        ({"list_price": "-1"}, "list_price", "greater than or equal to 0"),
        ({"list_price": "1.234"}, "list_price", "decimal places"),
        ({"product_line": "999999"}, "product_line", "Select a valid choice"),
        ({"product_line": "__old__"}, "product_line", "inactive"),
    ],
)
def test_product_create_with_bad_input_shows_the_field_error_and_writes_nothing(
    staff_client, catalogue, overrides, field, text
):
    data = {"sku": "NEW-1", "name": "New", "product_line": catalogue["valves"].pk, "unit": "pcs", "is_active": "on"}
    data.update({k: (catalogue["old"].pk if v == "__old__" else v) for k, v in overrides.items()})
    before = catalogue_snapshot()
    response = staff_client.post(reverse("sales:product-create"), data)
    assert response.status_code == 200
    assert field in response.context["form"].errors, response.context["form"].errors
    assert text in " ".join(response.context["form"].errors[field])
    assert catalogue_snapshot() == before


def test_product_edit(staff_client, catalogue):
    product = catalogue["p100"]
    url = reverse("sales:product-edit", args=[product.pk])
    data = {"sku": "S-100", "name": "Pressure sensor II", "product_line": catalogue["sensors"].pk, "unit": "pcs"}
    response = staff_client.post(url, {**data, "list_price": "1300"})
    assert response.status_code == 302
    product.refresh_from_db()
    assert (product.name, product.list_price, product.is_active) == ("Pressure sensor II", Decimal("1300.00"), False)
    assert AuditEntry.objects.filter(object_type="sales.product", object_id=str(product.pk), action="update").exists()


# Query counts ------------------------------------------------------------------------------

# The session and the user (2), the user's roles (1), the unread notifications of the menu (1),
# the count and the page (2), the product line choices of the filter form (1).
PRODUCT_LIST_QUERIES = 7
# The session and the user (2), the user's roles (1), the unread notifications (1), the lines
# with their counts (1).
PRODUCT_LINE_LIST_QUERIES = 5


@pytest.mark.parametrize("size", [2, 40])
def test_list_pages_queries_do_not_grow_with_rows(staff_client, django_assert_max_num_queries, size):
    for n in range(size):
        ProductFactory(product_line=ProductLineFactory(name=f"Line {n:02d}"))
    with django_assert_max_num_queries(PRODUCT_LIST_QUERIES):
        response = staff_client.get(f"{reverse('sales:product-list')}?page_size=100")
    assert len(response.context["object_list"]) == size
    with django_assert_max_num_queries(PRODUCT_LINE_LIST_QUERIES):
        response = staff_client.get(reverse("sales:product-line-list"))
    assert html(response).count("/edit/") == size
