"""`Idempotency-Key` on API writes: a CRM that retries a write (after a timeout, a dropped
connection) gets the first answer back and nothing is written twice; a key is its caller's own;
a reused key with another request, a key still in flight and a malformed key are refused clearly;
old answers are forgotten."""

import threading
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from partners import services as partner_services
from partners.models import Partner, Region
from prm import tasks
from prm.api.idempotency import IdempotentWritesMixin
from prm.api.routers import router
from prm.models import AuditEntry, IdempotencyRecord, JobRun
from sales.models import SalesLine
from tests import factories
from tests.factories import ChannelAdminFactory, PartnerFactory, ProductFactory, RegionFactory

REGIONS = "/api/v1/regions/"
PARTNERS = "/api/v1/partners/"
BULK = "/api/v1/sales-lines/bulk/"


def region_body(code="SZ", name="Shenzhen"):
    return {"code": code, "name": name, "kind": "city"}


def post(api, body, key, url=REGIONS):
    return api.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def key_client(scopes=("partners:write",), name="CRM sync"):
    return factories.key_client(ChannelAdminFactory(), scopes, name=name)


@pytest.mark.django_db
class TestReplay:
    def test_a_retried_create_gets_the_first_answer_and_writes_once(self, api_client):
        first = post(api_client, region_body(), "create-sz-1")
        retry = post(api_client, region_body(), "create-sz-1")

        assert first.status_code == retry.status_code == 201, first.content
        assert retry.json() == first.json()
        assert retry["Idempotent-Replayed"] == "true"
        assert "Idempotent-Replayed" not in first
        assert Region.objects.filter(code="SZ").count() == 1
        assert AuditEntry.objects.filter(object_type="partners.region", action="create").count() == 1

    def test_the_same_request_without_a_key_writes_again(self, api_client):
        assert post(api_client, region_body(), "once").status_code == 201
        again = api_client.post(REGIONS, region_body("SZ2"), format="json")
        assert again.status_code == 201 and "Idempotent-Replayed" not in again
        assert Region.objects.filter(code__startswith="SZ").count() == 2

    def test_a_retried_bad_request_replays_the_400_even_when_it_would_now_succeed(self, api_client):
        taken = RegionFactory(code="SZ")
        first = post(api_client, region_body(), "create-sz-2")
        assert first.status_code == 400, first.content
        taken.delete()

        retry = post(api_client, region_body(), "create-sz-2")

        assert retry.status_code == 400
        assert retry.json() == first.json()
        assert retry["Idempotent-Replayed"] == "true"
        assert not Region.objects.filter(code="SZ").exists()

    def test_a_retried_delete_replays_its_204_instead_of_a_404(self, api_client):
        region = RegionFactory()
        url = f"{REGIONS}{region.pk}/"
        first = api_client.delete(url, HTTP_IDEMPOTENCY_KEY="delete-1")
        retry = api_client.delete(url, HTTP_IDEMPOTENCY_KEY="delete-1")
        assert first.status_code == retry.status_code == 204
        assert retry["Idempotent-Replayed"] == "true"

    def test_a_retried_upsert_replays_its_status_body_and_result_header(self, api_client):
        region = RegionFactory()
        url = f"{PARTNERS}by-external-id/crm-0001/"
        body = {"code": "CRM-1", "name": "From the CRM", "partner_type": "reseller", "region": region.pk}
        first = api_client.put(url, body, format="json", HTTP_IDEMPOTENCY_KEY="upsert-1")
        retry = api_client.put(url, body, format="json", HTTP_IDEMPOTENCY_KEY="upsert-1")

        assert first.status_code == retry.status_code == 201, first.content
        assert retry.json() == first.json()
        assert retry["X-Upsert-Result"] == first["X-Upsert-Result"] == "created"
        assert retry["Idempotent-Replayed"] == "true"
        assert Partner.objects.filter(external_id="crm-0001").count() == 1

    def test_a_retried_bulk_of_sales_lines_replays_created_not_unchanged(self, api_client):
        partner, region = PartnerFactory(), RegionFactory()
        ProductFactory(sku="SEN-100")
        row = {"partner": partner.pk, "sold_on": "2026-03-01", "product_sku": "SEN-100", "customer_id": "C-1"}
        row |= {"customer_name": "Guangzhou Metro", "customer_region": region.pk, "quantity": "3", "unit_price": "9.99"}
        body = {"lines": [{**row, "external_id": f"INV-{number}"} for number in range(3)]}
        first = post(api_client, body, "bulk-2026-03", url=BULK)
        retry = post(api_client, body, "bulk-2026-03", url=BULK)

        assert first.status_code == retry.status_code == 200, first.content
        assert retry.json() == first.json()
        assert [row["status"] for row in retry.json()["results"]] == ["created"] * 3
        assert retry["Idempotent-Replayed"] == "true"
        assert SalesLine.objects.filter(partner=partner).count() == 3

    def test_a_safe_request_ignores_the_key(self, api_client):
        response = api_client.get(REGIONS, HTTP_IDEMPOTENCY_KEY="")
        assert response.status_code == 200
        assert not IdempotencyRecord.objects.exists()

    def test_with_atomic_requests_the_answer_and_the_write_are_kept_together(self, api_client, monkeypatch):
        monkeypatch.setitem(connection.settings_dict, "ATOMIC_REQUESTS", True)
        RegionFactory(code="SZ")
        refused = post(api_client, region_body(), "atomic-400")
        created = post(api_client, region_body("SZ2"), "atomic-201")

        assert (refused.status_code, created.status_code) == (400, 201)
        assert post(api_client, region_body(), "atomic-400")["Idempotent-Replayed"] == "true"
        assert post(api_client, region_body("SZ2"), "atomic-201").json() == created.json()
        assert Region.objects.filter(code="SZ2").count() == 1

    def test_a_retried_upload_larger_than_memory_replays(self, api_client, settings):
        settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
        attachment = b"%PDF-1.4 " + b"0" * 5000

        def upload():
            file = SimpleUploadedFile("map.pdf", attachment, content_type="application/pdf")
            body = {**region_body(), "map": file}
            return api_client.post(REGIONS, body, format="multipart", HTTP_IDEMPOTENCY_KEY="upload-1")

        first, retry = upload(), upload()

        assert first.status_code == retry.status_code == 201, first.content
        assert first.json()["name"] == "Shenzhen"
        assert retry["Idempotent-Replayed"] == "true"
        assert Region.objects.filter(code="SZ").count() == 1


@pytest.mark.django_db
class TestRefusals:
    def test_the_same_key_with_another_request_is_422_and_writes_nothing(self, api_client):
        assert post(api_client, region_body(), "create-sz-3").status_code == 201
        reused = post(api_client, region_body("GZ", "Guangzhou"), "create-sz-3")

        assert reused.status_code == 422
        assert reused.json()["code"] == "idempotency_key_reused"
        assert not Region.objects.filter(code="GZ").exists()

    def test_the_same_key_on_another_address_is_422(self, api_client):
        region = RegionFactory()
        assert post(api_client, region_body(), "key-1").status_code == 201
        other = api_client.patch(f"{REGIONS}{region.pk}/", region_body(), format="json", HTTP_IDEMPOTENCY_KEY="key-1")
        assert other.status_code == 422

    def test_a_key_whose_first_request_still_runs_is_409_with_retry_after(self, api_client, staff_user):
        IdempotencyRecord.objects.create(
            principal=f"user:{staff_user.pk}", key="running", method="POST", path=REGIONS, request_hash="0" * 64
        )
        response = post(api_client, region_body(), "running")

        assert response.status_code == 409
        assert response.json()["code"] == "idempotency_key_in_progress"
        assert response["Retry-After"] == "1"
        assert not Region.objects.filter(code="SZ").exists()

    @pytest.mark.parametrize("key", ["", "x" * 256, "clé-1", "tab\tkey"], ids=["empty", "too-long", "accent", "tab"])
    def test_a_malformed_key_is_400_naming_the_header(self, api_client, key):
        response = post(api_client, region_body(), key)

        assert response.status_code == 400
        assert response.json()["code"] == "idempotency_key_invalid"
        assert "Idempotency-Key" in response.json()["errors"]
        assert not Region.objects.filter(code="SZ").exists()
        assert not IdempotencyRecord.objects.exists()

    def test_a_refused_caller_is_answered_401_not_about_the_key(self):
        response = post(APIClient(), region_body(), "x" * 300)
        assert response.status_code == 401


@pytest.mark.django_db
class TestCallers:
    def test_two_callers_with_the_same_key_never_see_each_others_answers(self, api_client):
        crm, erp = key_client(name="CRM"), key_client(name="ERP")
        mine = post(crm, region_body(), "shared-key")
        theirs = post(erp, region_body(), "shared-key")
        user = post(api_client, region_body("GZ", "Guangzhou"), "shared-key")

        assert mine.status_code == 201
        # The ERP's request ran (the code is taken now): not the CRM's answer, not a refusal.
        assert theirs.status_code == 400 and "Idempotent-Replayed" not in theirs
        assert "code" in theirs.json()["errors"]
        assert user.status_code == 201 and user.json()["id"] != mine.json()["id"]
        assert IdempotencyRecord.objects.filter(key="shared-key").count() == 3

    def test_an_api_key_replays_its_own_answer(self):
        crm = key_client()
        first = post(crm, region_body(), "crm-1")
        assert post(crm, region_body(), "crm-1").json() == first.json()
        assert Region.objects.filter(code="SZ").count() == 1


@pytest.mark.django_db
class TestExpiry:
    def test_an_answer_older_than_the_ttl_no_longer_replays(self, api_client, settings):
        settings.PRM_IDEMPOTENCY_TTL_HOURS = 2
        assert post(api_client, region_body(), "old-key").status_code == 201
        IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(hours=3))

        again = post(api_client, region_body(), "old-key")

        # It ran again: the code is taken now.
        assert again.status_code == 400 and "Idempotent-Replayed" not in again
        assert IdempotencyRecord.objects.get(key="old-key").status_code == 400

    def test_the_hourly_job_deletes_only_answers_older_than_the_ttl(self, api_client, settings):
        settings.PRM_IDEMPOTENCY_TTL_HOURS = 24
        post(api_client, region_body(), "old")
        post(api_client, region_body("GZ", "Guangzhou"), "young")
        IdempotencyRecord.objects.filter(key="old").update(created_at=timezone.now() - timedelta(hours=25))

        assert tasks.idempotency_records_purge.apply().get() == 1

        assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["young"]
        run = JobRun.objects.get(job="prm.idempotency_records_purge")
        assert run.status == JobRun.Status.SUCCEEDED and run.rows_written == 1

    def test_the_job_is_on_the_beat_schedule(self, settings):
        entry = settings.CELERY_BEAT_SCHEDULE["prm-idempotency-records-purge"]
        assert entry["task"] == "prm.tasks.idempotency_records_purge"


def test_every_api_viewset_that_writes_takes_idempotency_keys():
    unsafe = {"post", "put", "patch", "delete"}
    missing = []
    for prefix, viewset, _basename in router.registry:
        writes = {"create", "update", "partial_update", "destroy"} & set(dir(viewset))
        actions = [action for action in viewset.get_extra_actions() if unsafe & set(action.mapping)]
        if (writes or actions) and not issubclass(viewset, IdempotentWritesMixin):
            missing.append(prefix)
    assert not missing


@pytest.mark.django_db
def test_the_schema_documents_the_header_and_its_answers(api_client):
    schema = api_client.get("/api/schema/?format=json").json()
    create = schema["paths"]["/api/v1/regions/"]["post"]
    listing = schema["paths"]["/api/v1/regions/"]["get"]

    header = next(parameter for parameter in create["parameters"] if parameter["name"] == "Idempotency-Key")
    assert header["in"] == "header" and header["schema"]["maxLength"] == 255
    assert {"409", "422"} <= set(create["responses"])
    assert "idempotency_key_in_progress" in create["responses"]["409"]["description"]
    assert "Idempotent-Replayed" in create["responses"]["201"]["headers"]
    assert all(parameter["name"] != "Idempotency-Key" for parameter in listing.get("parameters", []))


# Races: only a real database server runs two writers at once (PostgreSQL; SQLite takes one).

on_postgresql = pytest.mark.skipif("connection.vendor != 'postgresql'", reason="needs concurrent writers")


def in_thread(function, results, index):
    def run():
        try:
            results[index] = function()
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_two_retries_at_the_same_moment_write_once():
    user = ChannelAdminFactory()
    barrier = threading.Barrier(2)

    def send():
        api = APIClient()
        api.force_authenticate(user)
        barrier.wait()
        return post(api, region_body(), "at-once")

    results = [None, None]
    for thread in [in_thread(send, results, 0), in_thread(send, results, 1)]:
        thread.join(timeout=60)

    assert Region.objects.filter(code="SZ").count() == 1
    statuses = sorted(response.status_code for response in results)
    assert statuses in ([201, 201], [201, 409]), statuses
    if statuses == [201, 201]:
        assert results[0].json() == results[1].json()


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_retry_while_the_first_still_runs_is_409_then_replays(monkeypatch):
    user = ChannelAdminFactory()
    entered, release = threading.Event(), threading.Event()
    create = partner_services.region_create

    def slow_create(**kwargs):
        entered.set()
        release.wait(timeout=30)
        return create(**kwargs)

    monkeypatch.setattr(partner_services, "region_create", slow_create)
    api = APIClient()
    api.force_authenticate(user)
    results = [None]
    thread = in_thread(lambda: post(api, region_body(), "slow"), results, 0)
    assert entered.wait(timeout=30)

    during = post(api, region_body(), "slow")
    release.set()
    thread.join(timeout=60)
    after = post(api, region_body(), "slow")

    assert during.status_code == 409 and during["Retry-After"] == "1"
    assert results[0].status_code == 201
    assert after["Idempotent-Replayed"] == "true" and after.json() == results[0].json()
    assert Region.objects.filter(code="SZ").count() == 1
