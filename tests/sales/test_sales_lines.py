"""The sales lines' pages and API: the staff list (filters, sort, export, a bounded query count)
and import page (error report as a table, dry run, template), the background path for large
files (progress and report on the run, readable only by who started it), the portal page (own
lines only, upload forced to the own partner), /api/v1/sales-lines/ (filters, partner keys see
only their partner) and both languages."""

import csv
import io
from datetime import date, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from prm.models import JobRun
from sales import imports, tasks
from sales.models import SalesLine, SalesSource
from tests.factories import (
    AnalystFactory,
    PartnerFactory,
    PartnerUserFactory,
    ProductFactory,
    ProductLineFactory,
    RegionFactory,
    SalesLineFactory,
    key_client,
)

pytestmark = pytest.mark.django_db

LIST = "/api/v1/sales-lines/"
DAY = (timezone.localdate() - timedelta(days=3)).isoformat()
HEADER = "partner_code,external_id,sold_on,product_sku,customer_id,quantity,unit_price"


@pytest.fixture
def world():
    china = RegionFactory(code="CN", name="China")
    east = RegionFactory(code="CN-E", name="East China", parent=china)
    shanghai = RegionFactory(code="CN-SH", name="Shanghai", parent=east)
    west = RegionFactory(code="CN-W", name="West China", parent=china)
    sensors, valves = ProductLineFactory(code="SEN", name="Sensors"), ProductLineFactory(code="VAL", name="Valves")
    ProductFactory(sku="SEN-100", product_line=sensors)
    own, other = PartnerFactory(code="P-OWN", name="Own Co"), PartnerFactory(code="P-OTHER", name="Other Co")
    lines = {
        "march_sh": SalesLineFactory(
            partner=own, product_line=sensors, customer_region=shanghai, sold_on=date(2026, 3, 5), customer_id="C-1"
        ),
        "march_w": SalesLineFactory(
            partner=other,
            product_line=valves,
            customer_region=west,
            sold_on=date(2026, 3, 20),
            customer_id="C-2",
            customer_name="Secret Other Customer",
            source=SalesSource.PORTAL,
        ),
        "april_e": SalesLineFactory(
            partner=own, product_line=valves, customer_region=east, sold_on=date(2026, 4, 1), customer_id="C-3"
        ),
    }
    return {"own": own, "other": other, "sensors": sensors, "china": china, "east": east, "lines": lines}


def upload(rows, name="sales.csv"):
    return SimpleUploadedFile(name, ("\n".join([HEADER, *rows]) + "\n").encode())


def row(n, partner="P-OWN"):
    return f"{partner},X-{n},{DAY},SEN-100,C-{n},1,10"


# Staff list ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", {"march_sh", "march_w", "april_e"}),
        ("period=2026-03", {"march_sh", "march_w"}),
        ("period=2026-Q2", {"april_e"}),
        ("region={east}", {"march_sh", "april_e"}),
        ("product_line={sensors}", {"march_sh"}),
        ("source=portal", {"march_w"}),
        ("partner={own}", {"march_sh", "april_e"}),
        ("partner_q=other", {"march_w"}),
        ("period=2026-13", set()),
    ],
)
def test_the_staff_list_filters(staff_client, world, query, expected):
    query = query.format(east=world["east"].pk, sensors=world["sensors"].pk, own=world["own"].pk)
    response = staff_client.get(f"{reverse('sales:sales-line-list')}?{query}")

    assert response.status_code == 200
    names = {name for name, line in world["lines"].items() if line in response.context["object_list"]}
    assert names == expected


def test_the_staff_list_sorts_and_exports(staff_client, world):
    response = staff_client.get(reverse("sales:sales-line-list") + "?sort=sold_on")
    assert list(response.context["object_list"])[0] == world["lines"]["march_sh"]

    exported = staff_client.get(reverse("sales:sales-line-list") + "?period=2026-03&export=csv")
    rows = list(csv.reader(io.StringIO(b"".join(exported.streaming_content).decode("utf-8-sig"))))
    assert rows[0][:4] == ["Partner code", "Partner", "External ID", "Sold on"]
    assert sorted(r[0] for r in rows[1:]) == ["P-OTHER", "P-OWN"]

    workbook = load_workbook(io.BytesIO(staff_client.get(reverse("sales:sales-line-list") + "?export=xlsx").content))
    assert workbook.active.max_row == 4


def test_the_staff_list_query_count_does_not_grow(staff_client, world, django_assert_max_num_queries):
    url = reverse("sales:sales-line-list")
    with django_assert_max_num_queries(12):
        staff_client.get(url)
    SalesLineFactory.create_batch(20, partner=world["own"], product_line=world["sensors"])
    with django_assert_max_num_queries(12):
        assert len(staff_client.get(url).context["object_list"]) == 23


def test_partner_users_are_sent_to_their_portal(client, world):
    client.force_login(PartnerUserFactory(partner=world["own"]))

    assert client.get(reverse("sales:sales-line-list")).status_code == 403
    assert client.get(reverse("sales:sales-line-import")).status_code == 403


# Staff import ------------------------------------------------------------------------------------


def test_the_import_page_shows_every_error_as_a_table_and_writes_nothing(staff_client, world):
    response = staff_client.post(
        reverse("sales:sales-line-import"), {"file": upload([row(1), "P-NONE,X-2,someday,SEN-100,C-2,1,10"])}
    )

    page = response.content.decode()
    assert 'data-testid="import-errors"' in page
    assert [(r, c) for r, c, _m in response.context["report"].errors] == [(3, "partner_code"), (3, "sold_on")]
    assert SalesLine.objects.count() == 3


def test_the_import_page_imports_and_a_dry_run_only_counts(staff_client, world):
    url = reverse("sales:sales-line-import")
    dry = staff_client.post(url, {"file": upload([row(1), row(2)]), "dry_run": "on"})
    assert (dry.context["report"].created, SalesLine.objects.count()) == (2, 3)

    done = staff_client.post(url, {"file": upload([row(1), row(2)])}, follow=True)
    assert done.context["report"].created == 2
    assert SalesLine.objects.count() == 5
    assert "2 created" in done.content.decode()


def test_a_file_of_the_wrong_type_is_an_error_on_the_form(staff_client, world):
    response = staff_client.post(reverse("sales:sales-line-import"), {"file": SimpleUploadedFile("a.txt", b"x")})

    assert response.status_code == 200
    assert response.context["form"].errors["file"]


def test_an_analyst_cannot_import(client, world):
    client.force_login(AnalystFactory())

    assert client.get(reverse("sales:sales-line-import")).status_code == 403
    assert client.get(reverse("sales:sales-line-list")).status_code == 200


def test_the_template_has_the_import_columns(staff_client):
    response = staff_client.get(reverse("sales:sales-line-import-template"))

    header = next(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert tuple(header) == imports.IMPORT_COLUMNS


# In the background ---------------------------------------------------------------------------------


@pytest.fixture
def queued(monkeypatch, settings, tmp_path):
    settings.PRM_IMPORT_BACKGROUND_ROWS = 2
    settings.MEDIA_ROOT = tmp_path
    monkeypatch.setattr(imports, "CHUNK_ROWS", 2)
    ids = []
    monkeypatch.setattr(tasks.sales_import_run, "delay", ids.append)
    return ids


def test_a_large_file_runs_in_the_background_with_progress_and_a_report(
    staff_client, staff_user, world, queued, django_capture_on_commit_callbacks, tmp_path
):
    url = reverse("sales:sales-line-import")
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(url, {"file": upload([row(n) for n in range(5)])})

    run = JobRun.objects.get(job=imports.IMPORT_JOB)
    assert response.url == f"{url}?run={run.pk}" and queued == [run.pk]
    assert (run.status, run.started_by) == (JobRun.Status.QUEUED, staff_user)
    page = staff_client.get(response.url)
    assert "job-progress" in page.content.decode() and SalesLine.objects.count() == 3

    tasks.sales_import_run(run.pk)  # what the worker does

    run.refresh_from_db()
    # 3 chunks checked (2 + 2 + 1 rows), 3 chunks written
    assert (run.status, run.total, run.done, run.rows_written) == (JobRun.Status.SUCCEEDED, 6, 6, 5)
    assert run.params["report"]["created"] == 5
    assert SalesLine.objects.count() == 8
    assert not any((tmp_path / imports.IMPORT_FOLDER).iterdir())  # the upload is gone
    shown = staff_client.get(response.url)
    assert shown.context["report"].created == 5


def test_a_background_runs_errors_are_kept_for_who_started_it_only(
    client, staff_client, world, queued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse("sales:sales-line-import"), {"file": upload([row(1), row(2), "P-OWN,X-3,bad,SEN-100,C,1,1"])}
        )
    run = JobRun.objects.get(job=imports.IMPORT_JOB)
    tasks.sales_import_run(run.pk)

    report = staff_client.get(response.url).context["report"]
    assert [(r, c) for r, c, _m in report.errors] == [(4, "sold_on")]
    assert SalesLine.objects.count() == 3
    client.force_login(AnalystFactory())
    assert client.get(response.url).context.get("report") is None


def test_a_portal_upload_runs_in_the_background_and_its_progress_is_its_users_only(
    client, world, queued, django_capture_on_commit_callbacks
):
    user = PartnerUserFactory(partner=world["own"])
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("portal-sales:sales"), {"file": upload([row(n, "") for n in range(3)])})
    run = JobRun.objects.get(job=imports.IMPORT_JOB)
    status_url = reverse("portal-sales:run-status", args=[run.pk])
    assert status_url in client.get(response.url).content.decode()

    tasks.sales_import_run(run.pk)

    assert client.get(status_url).json()["status"] == "succeeded"
    assert SalesLine.objects.filter(partner=world["own"], source=SalesSource.PORTAL).count() == 3
    client.force_login(PartnerUserFactory(partner=world["other"]))
    assert client.get(status_url).status_code == 404


# Portal ------------------------------------------------------------------------------------------


def test_the_portal_shows_only_the_own_partners_lines(client, world):
    client.force_login(PartnerUserFactory(partner=world["own"]))

    response = client.get(reverse("portal-sales:sales"))

    assert set(response.context["lines"]) == {world["lines"]["march_sh"], world["lines"]["april_e"]}
    assert "Secret Other Customer" not in response.content.decode()
    assert reverse("portal-sales:sales") in response.content.decode()  # the menu entry


def test_a_portal_upload_naming_another_partner_writes_nothing(client, world):
    client.force_login(PartnerUserFactory(partner=world["own"]))

    response = client.post(reverse("portal-sales:sales"), {"file": upload([row(1, ""), row(2, "P-OTHER")])})

    assert [(r, c) for r, c, _m in response.context["report"].errors] == [(3, "partner_code")]
    assert SalesLine.objects.count() == 3


def test_staff_are_not_let_into_the_portal_page(staff_client):
    assert staff_client.get(reverse("portal-sales:sales")).status_code == 403


# API ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("period=2026-03", {"march_sh", "march_w"}),
        ("region={east}", {"march_sh", "april_e"}),
        ("region={china}", {"march_sh", "march_w", "april_e"}),
        ("product_line={sensors}", {"march_sh"}),
        ("partner={own}", {"march_sh", "april_e"}),
        ("source=portal", {"march_w"}),
    ],
)
def test_the_api_filters_with_the_lists_names(api_client, world, query, expected):
    query = query.format(
        east=world["east"].pk, china=world["china"].pk, sensors=world["sensors"].pk, own=world["own"].pk
    )
    ids = {line["id"] for line in api_client.get(f"{LIST}?{query}").json()["results"]}

    assert ids == {world["lines"][name].pk for name in expected}


def test_a_sales_line_reads_in_the_documented_shape(api_client, world):
    line = world["lines"]["march_sh"]

    body = api_client.get(f"{LIST}{line.pk}/").json()

    assert {key: body[key] for key in ("partner_code", "sold_on", "amount", "customer_region_code", "source")} == {
        "partner_code": "P-OWN",
        "sold_on": "2026-03-05",
        "amount": "100.00",
        "customer_region_code": "CN-SH",
        "source": "import",
    }


def test_a_bad_period_is_a_400_naming_it(api_client, world):
    response = api_client.get(f"{LIST}?period=March")

    assert response.status_code == 400 and "period" in str(response.json())


def test_a_partner_key_reads_only_its_partners_lines(staff_user, world):
    api = key_client(staff_user, ["sales:read"], partner=world["own"])

    ids = {line["id"] for line in api.get(LIST).json()["results"]}

    assert ids == {world["lines"]["march_sh"].pk, world["lines"]["april_e"].pk}
    assert api.get(f"{LIST}{world['lines']['march_w'].pk}/").status_code == 404
    assert api.post(LIST, {}).status_code in (403, 405)


def test_a_key_without_the_sales_scope_is_refused(staff_user, world):
    assert key_client(staff_user, ["training:read"]).get(LIST).status_code == 403


def test_the_api_list_query_count_does_not_grow(api_client, world, django_assert_max_num_queries):
    with django_assert_max_num_queries(8):
        api_client.get(LIST)
    SalesLineFactory.create_batch(20, partner=world["own"], product_line=world["sensors"])
    with django_assert_max_num_queries(8):
        assert api_client.get(LIST).json()["count"] == 23


def test_the_schema_documents_the_sales_lines(api_client):
    paths = api_client.get("/api/schema/?format=json").json()["paths"]

    assert set(paths[LIST]) == {"get", "post"}
    assert {f"{LIST}bulk/", f"{LIST}by-external-id/{{external_id}}/"} <= set(paths)
    names = {parameter["name"] for parameter in paths[LIST]["get"]["parameters"]}
    assert {"period", "partner", "product_line", "region", "source"} <= names


# Chinese -----------------------------------------------------------------------------------------


def test_the_pages_and_the_error_report_render_in_chinese(client, world):
    from tests.factories import ChannelAdminFactory

    client.force_login(ChannelAdminFactory(username="zh-sales", preferred_language="zh-hans"))
    page = client.get(reverse("sales:sales-line-list"))
    assert 'lang="zh-hans"' in page.content.decode()
    response = client.post(reverse("sales:sales-line-import"), {"file": upload(["P-NONE,X,2026-01-01,SEN-100,C,1,1"])})
    assert 'lang="zh-hans"' in response.content.decode()
    assert [(r, c) for r, c, _m in response.context["report"].errors] == [(2, "partner_code")]
    assert SalesLine.objects.count() == 3
