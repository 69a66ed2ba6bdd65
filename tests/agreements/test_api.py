"""The agreements API: /api/v1/agreements/ with its lifecycle as actions, /agreement-targets/,
/agreement-documents/ and /region-targets/.

Every write goes through agreements.services: bad input and illegal moves answer 400 by field and
change nothing; only a channel admin approves; acknowledging is a person's act in the portal, so
keys are refused; a key bound to a partner reads only its own partner's agreements and only the
documents the vendor shares with it."""

import re
from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from agreements.choices import AgreementStatus, DocumentKind
from agreements.models import Agreement, AgreementDocument, AgreementTarget, RegionTarget
from partners.choices import RegionKind
from prm.models import AuditEntry
from tests.factories import (
    AgreementFactory,
    AgreementTargetFactory,
    AnalystFactory,
    ChannelManagerFactory,
    DistributorFactory,
    PartnerFactory,
    ProductLineFactory,
    RegionFactory,
    SalesLineFactory,
)

pytestmark = pytest.mark.django_db

AGREEMENTS = "/api/v1/agreements/"
TARGETS = "/api/v1/agreement-targets/"
DOCUMENTS = "/api/v1/agreement-documents/"
REGION_TARGETS = "/api/v1/region-targets/"
YEAR = date.today().year
PDF = b"%PDF-1.4\n% a signed contract\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32


def url(base, pk=None, action=""):
    path = base if pk is None else f"{base}{pk}/"
    return f"{path}{action}/" if action else path


def assert_field_error(response, field, text=""):
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid", response.content
    body = response.json()["errors"]
    assert field in body, body
    if text:
        assert any(text in message for message in body[field]), body
    return body


def as_user(user):
    api = APIClient()
    api.force_authenticate(user)
    return api


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def world(db, staff_user):
    """China → East (area) → Shanghai and Jiangsu; two product lines; our distributor Huaxin
    (owned by a channel manager) with an active agreement holding Shanghai exclusively for
    sensors; another partner, Ruida, with a draft; and a partner in the south with none."""
    china = RegionFactory(code="CN", name="China", kind=RegionKind.COUNTRY)
    east = RegionFactory(code="EAST", name="East China", kind=RegionKind.AREA, parent=china)
    shanghai = RegionFactory(code="SH", name="Shanghai", parent=east)
    jiangsu = RegionFactory(code="JS", name="Jiangsu", parent=east)
    sensors = ProductLineFactory(code="SEN", name="Sensors")
    controllers = ProductLineFactory(code="CTL", name="Controllers")
    manager = ChannelManagerFactory(username="li.manager")
    huaxin = DistributorFactory(code="HUAXIN", name="Huaxin Distribution", region=shanghai, owner=manager)
    ruida = PartnerFactory(code="RUIDA", name="Ruida Trading", region=jiangsu)
    active = AgreementFactory(
        partner=huaxin,
        number=f"AG-{YEAR}-00001",
        product_lines=[sensors],
        territories=[(shanghai, True)],
        owner=manager,
        notes="Pays late",
        penalty_clauses="Selling below the minimum price: 5% of the order.",
    )
    draft = AgreementFactory(
        partner=ruida,
        number=f"AG-{YEAR}-00002",
        status=AgreementStatus.DRAFT,
        product_lines=[controllers],
        territories=[jiangsu],
    )
    return {
        "china": china,
        "east": east,
        "shanghai": shanghai,
        "jiangsu": jiangsu,
        "sensors": sensors,
        "controllers": controllers,
        "manager": manager,
        "huaxin": huaxin,
        "ruida": ruida,
        "active": active,
        "draft": draft,
        "admin": staff_user,
    }


def minimal_payload(world, **overrides):
    payload = {
        "partner": world["ruida"].pk,
        "type": "distribution",
        "start_date": f"{YEAR + 1}-01-01",
        "end_date": f"{YEAR + 1}-12-31",
        "product_lines": [world["controllers"].pk],
        "territories": [{"region": world["jiangsu"].pk, "exclusive": True}],
    }
    payload.update(overrides)
    return payload


def snapshot():
    return {
        "agreements": list(Agreement.objects.order_by("pk").values()),
        "targets": list(AgreementTarget.objects.order_by("pk").values()),
        "documents": list(AgreementDocument.objects.order_by("pk").values()),
        "region_targets": list(RegionTarget.objects.order_by("pk").values()),
    }


# Reading ----------------------------------------------------------------------------------------


def test_an_agreement_reads_in_the_documented_shape(api_client, world):
    active = world["active"]
    active.minimum_prices.create(product_line=world["sensors"], min_unit_price=Decimal("12.5"))
    body = api_client.get(url(AGREEMENTS, active.pk)).json()
    assert body["number"] == f"AG-{YEAR}-00001"
    assert body["partner"] == world["huaxin"].pk
    assert body["type"] == "reseller"
    assert body["status"] == "active"
    assert (body["start_date"], body["end_date"]) == (f"{YEAR}-01-01", f"{YEAR}-12-31")
    assert body["product_lines"] == [world["sensors"].pk]
    assert body["territories"] == [{"region": world["shanghai"].pk, "exclusive": True}]
    assert body["minimum_prices"] == [{"product_line": world["sensors"].pk, "min_unit_price": "12.50"}]
    assert body["penalty_clauses"] == "Selling below the minimum price: 5% of the order."
    assert body["notes"] == "Pays late" and body["owner"] == world["manager"].pk
    assert body["predecessor"] is None and body["version"] == 1 and body["is_amendment"] is False
    assert body["acknowledged_at"] is None
    assert {"created_at", "updated_at", "currency", "discount_percent", "payment_terms"} <= set(body)
    assert "agreement_type" not in body


@pytest.mark.parametrize(
    ("query", "numbers"),
    [
        ("status=active", ["00001"]),
        ("status=draft", ["00002"]),
        ("agreement_type=reseller", ["00001", "00002"]),
        ("q=huaxin", ["00001"]),
        ("q=00002", ["00002"]),
        ("partner={ruida}", ["00002"]),
        ("region={east}", ["00001", "00002"]),
        ("region={shanghai}", ["00001"]),
        ("product_line={controllers}", ["00002"]),
        ("exclusive=true", ["00001"]),
        ("ordering=number", ["00001", "00002"]),
        ("ordering=-number", ["00002", "00001"]),
    ],
)
def test_the_list_filters_with_the_staff_lists_names_and_orders(api_client, world, query, numbers):
    query = query.format(**{name: getattr(obj, "pk", None) for name, obj in world.items()})
    response = api_client.get(f"{AGREEMENTS}?{query}")
    assert response.status_code == 200, response.content
    found = [row["number"][-5:] for row in response.json()["results"]]
    assert (found if "ordering" in query else sorted(found)) == numbers


def test_a_bad_filter_is_a_400_that_names_it(api_client, world):
    assert_field_error(api_client.get(f"{AGREEMENTS}?status=signed"), "status")


def test_an_unknown_agreement_is_404(api_client, world):
    assert api_client.get(url(AGREEMENTS, 999999)).status_code == 404


# Creating and changing --------------------------------------------------------------------------


def test_a_draft_is_created_from_the_minimal_payload(api_client, world):
    response = api_client.post(AGREEMENTS, minimal_payload(world), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert re.fullmatch(rf"AG-{date.today().year}-\d{{5}}", body["number"])
    assert body["status"] == "draft" and body["type"] == "distribution"
    assert body["partner"] == world["ruida"].pk
    assert body["territories"] == [{"region": world["jiangsu"].pk, "exclusive": True}]
    assert body["product_lines"] == [world["controllers"].pk] and body["minimum_prices"] == []
    agreement = Agreement.objects.get(pk=body["id"])
    assert agreement.agreement_type == "distribution" and agreement.created_by == world["admin"]
    assert AuditEntry.objects.filter(object_type="agreements.agreement", object_id=str(agreement.pk)).exists()


def test_a_draft_takes_terms_and_minimum_prices(api_client, world):
    payload = minimal_payload(
        world,
        discount_percent="12.50",
        payment_terms="Net 60",
        payment_days=60,
        minimum_prices=[{"product_line": world["controllers"].pk, "min_unit_price": "99.90"}],
    )
    body = api_client.post(AGREEMENTS, payload, format="json").json()
    assert body["discount_percent"] == "12.50" and body["payment_days"] == 60
    assert body["minimum_prices"] == [{"product_line": world["controllers"].pk, "min_unit_price": "99.90"}]


@pytest.mark.parametrize(
    ("overrides", "field", "text"),
    [
        ({"end_date": f"{YEAR}-06-30", "start_date": f"{YEAR}-07-01"}, "end_date", "end after it starts"),
        ({"type": "franchise"}, "type", "not a valid choice"),
        ({"partner": 999999}, "partner", ""),
        ({"territories": [{"region": 999999}]}, "territories", ""),
        ({"minimum_prices": [{"product_line": 1, "min_unit_price": "-1"}]}, "minimum_prices", ""),
        ({"discount_percent": "120"}, "discount_percent", ""),
    ],
)
def test_bad_input_is_a_field_error_and_creates_nothing(api_client, world, overrides, field, text):
    before = snapshot()
    assert_field_error(api_client.post(AGREEMENTS, minimal_payload(world, **overrides), format="json"), field, text)
    assert snapshot() == before


def test_a_territory_listed_twice_is_a_field_error(api_client, world):
    region = world["jiangsu"].pk
    territories = [{"region": region, "exclusive": False}, {"region": region, "exclusive": True}]
    response = api_client.post(AGREEMENTS, minimal_payload(world, territories=territories), format="json")
    assert_field_error(response, "territories", "listed twice")


def test_a_draft_changes_freely(api_client, world):
    draft = world["draft"]
    response = api_client.patch(
        url(AGREEMENTS, draft.pk),
        {
            "type": "agency",
            "end_date": f"{YEAR}-09-30",
            "territories": [{"region": world["east"].pk, "exclusive": False}],
            "product_lines": [world["controllers"].pk, world["sensors"].pk],
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["type"] == "agency" and body["end_date"] == f"{YEAR}-09-30"
    assert body["territories"] == [{"region": world["east"].pk, "exclusive": False}]
    assert sorted(body["product_lines"]) == sorted([world["controllers"].pk, world["sensors"].pk])


def test_an_active_agreements_terms_are_locked_but_notes_change(api_client, world):
    active = world["active"]
    before = snapshot()
    locked = api_client.patch(url(AGREEMENTS, active.pk), {"discount_percent": "30"}, format="json")
    assert_field_error(locked, "discount_percent", "Amend or renew")
    locked = api_client.patch(url(AGREEMENTS, active.pk), {"territories": []}, format="json")
    assert_field_error(locked, "territories", "Amend or renew")
    assert snapshot() == before
    response = api_client.patch(url(AGREEMENTS, active.pk), {"notes": "Paid on time this year"}, format="json")
    assert response.status_code == 200 and response.json()["notes"] == "Paid on time this year"


def test_a_full_put_of_an_active_agreement_that_repeats_its_terms_is_accepted(api_client, world):
    active = world["active"]
    body = api_client.get(url(AGREEMENTS, active.pk)).json()
    body["partner_signatory"] = "Zhou Min"
    response = api_client.put(url(AGREEMENTS, active.pk), body, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["partner_signatory"] == "Zhou Min"


def test_an_agreement_never_moves_to_another_partner(api_client, world):
    response = api_client.patch(url(AGREEMENTS, world["draft"].pk), {"partner": world["huaxin"].pk}, format="json")
    assert_field_error(response, "partner", "cannot move")


def test_the_status_and_number_are_not_set_by_writing_them(api_client, world):
    draft = world["draft"]
    response = api_client.patch(url(AGREEMENTS, draft.pk), {"status": "active", "number": "X-1"}, format="json")
    assert response.status_code == 200
    draft.refresh_from_db()
    assert draft.status == AgreementStatus.DRAFT and draft.number == f"AG-{YEAR}-00002"


def test_agreements_are_not_deleted(api_client, world):
    response = api_client.delete(url(AGREEMENTS, world["draft"].pk))
    assert response.status_code == 405
    assert Agreement.objects.filter(pk=world["draft"].pk).exists()


def test_a_channel_manager_writes_only_their_partners_agreements(world):
    api = as_user(world["manager"])
    assert api.patch(url(AGREEMENTS, world["active"].pk), {"notes": "Mine"}, format="json").status_code == 200
    before = snapshot()
    response = api.patch(url(AGREEMENTS, world["draft"].pk), {"notes": "Not mine"}, format="json")
    assert response.status_code == 403
    assert "partners you own" in response.json()["message"]
    assert api.post(AGREEMENTS, minimal_payload(world), format="json").status_code == 403
    assert snapshot() == before


def test_an_analyst_reads_but_never_writes(world):
    api = as_user(AnalystFactory())
    assert api.get(AGREEMENTS).json()["count"] == 2
    before = snapshot()
    assert api.post(AGREEMENTS, minimal_payload(world), format="json").status_code == 403
    assert api.post(url(AGREEMENTS, world["draft"].pk, "submit")).status_code == 403
    assert snapshot() == before


# Lifecycle --------------------------------------------------------------------------------------


def test_submit_then_approve_by_a_channel_admin(api_client, world):
    draft = world["draft"]
    submitted = api_client.post(url(AGREEMENTS, draft.pk, "submit"))
    assert submitted.status_code == 200, submitted.content
    assert submitted.json()["status"] == "pending_approval"
    approved = api_client.post(url(AGREEMENTS, draft.pk, "approve"))
    assert approved.status_code == 200, approved.content
    assert approved.json()["status"] == "active"
    draft.refresh_from_db()
    assert draft.approved_by == world["admin"] and draft.approved_at is not None


def test_only_a_channel_admin_approves(world, settings):
    pending = AgreementFactory(
        partner=world["huaxin"], status=AgreementStatus.PENDING_APPROVAL, owner=world["manager"], territories=[]
    )
    response = as_user(world["manager"]).post(url(AGREEMENTS, pending.pk, "approve"))
    assert response.status_code == 403
    assert response.json()["message"] == "Only a channel admin can approve or reject an agreement."
    pending.refresh_from_db()
    assert pending.status == AgreementStatus.PENDING_APPROVAL
    settings.PRM_AGREEMENT_OWNER_MAY_APPROVE = True
    assert as_user(world["manager"]).post(url(AGREEMENTS, pending.pk, "approve")).status_code == 200


@pytest.mark.parametrize(
    ("action", "status", "payload"),
    [
        ("approve", AgreementStatus.DRAFT, {}),
        ("submit", AgreementStatus.ACTIVE, {}),
        ("reject", AgreementStatus.ACTIVE, {"reason": "No"}),
        ("terminate", AgreementStatus.EXPIRED, {"reason": "Too late"}),
        ("amend", AgreementStatus.EXPIRED, {}),
        ("renew", AgreementStatus.DRAFT, {}),
    ],
)
def test_an_illegal_move_is_a_400_that_says_why_and_changes_nothing(api_client, world, action, status, payload):
    agreement = world["active"]
    Agreement.objects.filter(pk=agreement.pk).update(status=status)
    before = snapshot()
    response = api_client.post(url(AGREEMENTS, agreement.pk, action), payload, format="json")
    body = assert_field_error(response, "status")
    assert AgreementStatus(status).label.lower() in body["status"][0].lower()
    assert snapshot() == before


def test_reject_needs_a_reason_and_returns_the_draft(api_client, world):
    pending = world["draft"]
    Agreement.objects.filter(pk=pending.pk).update(status=AgreementStatus.PENDING_APPROVAL)
    assert_field_error(api_client.post(url(AGREEMENTS, pending.pk, "reject"), {}, format="json"), "reason")
    response = api_client.post(url(AGREEMENTS, pending.pk, "reject"), {"reason": "Wrong region"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "draft"
    assert AuditEntry.objects.filter(object_id=str(pending.pk), changes__reason=[None, "Wrong region"]).exists()


def test_terminate_records_the_reason(api_client, world):
    active = world["active"]
    response = api_client.post(url(AGREEMENTS, active.pk, "terminate"), {"reason": "Breach of territory"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "terminated" and body["termination_reason"] == "Breach of territory"
    assert body["ended_at"] is not None


def test_renew_answers_the_successor_draft_with_201(api_client, world):
    active = world["active"]
    response = api_client.post(url(AGREEMENTS, active.pk, "renew"), {}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["id"] != active.pk and body["status"] == "draft" and body["predecessor"] == active.pk
    assert (body["start_date"], body["end_date"]) == (f"{YEAR + 1}-01-01", f"{YEAR + 1}-12-31")
    assert body["territories"] == [{"region": world["shanghai"].pk, "exclusive": True}]
    again = api_client.post(url(AGREEMENTS, active.pk, "renew"), {}, format="json")
    assert again.status_code == 400
    assert body["number"] in again.json()["errors"]["non_field_errors"][0]


def test_renew_takes_the_dates_asked_for(api_client, world):
    payload = {"start_date": f"{YEAR + 1}-02-01", "end_date": f"{YEAR + 2}-01-31"}
    response = api_client.post(url(AGREEMENTS, world["active"].pk, "renew"), payload, format="json")
    assert response.status_code == 201
    assert (response.json()["start_date"], response.json()["end_date"]) == tuple(payload.values())


def test_an_approved_amendment_supersedes_its_predecessor(api_client, world):
    active = world["active"]
    start = max(date.today(), date(YEAR, 1, 2))
    if start >= active.end_date:
        pytest.skip("the last day of the year leaves no room for an amendment")
    response = api_client.post(url(AGREEMENTS, active.pk, "amend"), {"start_date": start.isoformat()}, format="json")
    assert response.status_code == 201, response.content
    amendment = response.json()
    assert amendment["is_amendment"] is True and amendment["version"] == 2
    assert amendment["predecessor"] == active.pk and amendment["status"] == "draft"
    assert api_client.post(url(AGREEMENTS, amendment["id"], "submit")).status_code == 200
    assert api_client.post(url(AGREEMENTS, amendment["id"], "approve")).status_code == 200
    active.refresh_from_db()
    assert active.status == AgreementStatus.TERMINATED
    assert amendment["number"] in active.termination_reason


def test_an_exclusivity_conflict_names_the_other_agreement(api_client, world):
    """Ruida's draft takes East China (above Huaxin's exclusive Shanghai) for sensors: it cannot
    go in force beside Huaxin's exclusive grant."""
    draft = world["draft"]
    api_client.patch(
        url(AGREEMENTS, draft.pk),
        {"product_lines": [world["sensors"].pk], "territories": [{"region": world["east"].pk, "exclusive": False}]},
        format="json",
    )
    before = snapshot()
    response = api_client.post(url(AGREEMENTS, draft.pk, "submit"))
    body = assert_field_error(response, "territories", "Exclusivity conflict")
    assert f"AG-{YEAR}-00001" in body["territories"][0] and "Huaxin Distribution" in body["territories"][0]
    assert snapshot() == before


def test_acknowledging_is_refused_to_api_keys_and_staff(api_client, world, make_key):
    active = world["active"]
    for api in (make_key(["agreements:write"]), make_key(["agreements:write"], partner=world["huaxin"])):
        response = api.post(url(AGREEMENTS, active.pk, "acknowledge"))
        assert response.status_code == 403
        assert response.json()["message"] == (
            "An agreement is acknowledged by a person of the partner, in the portal; API keys cannot."
        )
    response = api_client.post(url(AGREEMENTS, active.pk, "acknowledge"))
    assert response.status_code == 403
    assert "Only a user of the partner" in response.json()["message"]
    active.refresh_from_db()
    assert active.acknowledged_at is None


# Targets ----------------------------------------------------------------------------------------


def test_a_target_is_set_then_replaced_through_the_agreement(api_client, world):
    active = world["active"]
    targets = url(AGREEMENTS, active.pk, "targets")
    created = api_client.post(targets, {"period": f"{YEAR}-q1", "revenue": "100000.5"}, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["period"] == f"{YEAR}-Q1" and body["revenue"] == "100000.50" and body["units"] is None
    assert (body["period_start"], body["period_end"]) == (f"{YEAR}-01-01", f"{YEAR}-03-31")
    replaced = api_client.post(targets, {"period": f"{YEAR}-Q1", "units": "500"}, format="json")
    assert replaced.status_code == 200
    assert replaced.json()["id"] == body["id"] and replaced.json()["units"] == "500.000"
    line = api_client.post(
        targets, {"period": f"{YEAR}", "product_line": world["sensors"].pk, "revenue": "1"}, format="json"
    )
    assert line.status_code == 201
    listed = api_client.get(targets).json()
    assert [(row["period"], row["product_line"]) for row in listed] == [
        (f"{YEAR}", world["sensors"].pk),
        (f"{YEAR}-Q1", None),
    ]
    assert AgreementTarget.objects.filter(agreement=active).count() == 2


@pytest.mark.parametrize(
    ("payload", "field", "text"),
    [
        ({"period": f"{YEAR + 1}-01", "revenue": "1"}, "period", "outside the agreement's term"),
        ({"period": "Q1", "revenue": "1"}, "period", "is not a period"),
        ({"period": f"{YEAR}-02"}, "revenue", "revenue target, a units target or both"),
        ({"period": f"{YEAR}-02", "revenue": "-5"}, "revenue", ""),
        ({"period": f"{YEAR}-02", "revenue": "1", "product_line": 0}, "product_line", ""),
    ],
)
def test_a_bad_target_is_a_field_error(api_client, world, payload, field, text):
    before = snapshot()
    response = api_client.post(url(AGREEMENTS, world["active"].pk, "targets"), payload, format="json")
    assert_field_error(response, field, text)
    assert snapshot() == before


def test_a_target_of_a_product_line_outside_the_agreement_is_refused(api_client, world):
    payload = {"period": f"{YEAR}-02", "revenue": "1", "product_line": world["controllers"].pk}
    response = api_client.post(url(AGREEMENTS, world["active"].pk, "targets"), payload, format="json")
    assert_field_error(response, "product_line", "not one of the agreement's product lines")


def test_a_target_changes_and_is_deleted_by_its_own_address(api_client, world):
    target = AgreementTargetFactory(agreement=world["active"], revenue=Decimal("100"))
    response = api_client.patch(url(TARGETS, target.pk), {"units": "7"}, format="json")
    assert response.status_code == 200, response.content
    assert (response.json()["revenue"], response.json()["units"]) == ("100.00", "7.000")
    moved = api_client.patch(url(TARGETS, target.pk), {"period": f"{YEAR}-Q2"}, format="json")
    assert moved.status_code == 200 and moved.json()["period"] == f"{YEAR}-Q1"  # read-only: ignored
    assert api_client.get(f"{TARGETS}?agreement={world['active'].pk}").json()["count"] == 1
    assert api_client.post(TARGETS, {"agreement": world["active"].pk, "period": f"{YEAR}-Q3"}).status_code == 405
    assert api_client.delete(url(TARGETS, target.pk)).status_code == 204
    assert not AgreementTarget.objects.filter(pk=target.pk).exists()


def test_targets_of_an_ended_agreement_no_longer_change(api_client, world):
    target = AgreementTargetFactory(agreement=world["active"])
    Agreement.objects.filter(pk=world["active"].pk).update(status=AgreementStatus.EXPIRED)
    before = snapshot()
    assert api_client.patch(url(TARGETS, target.pk), {"revenue": "1"}, format="json").status_code == 400
    assert api_client.delete(url(TARGETS, target.pk)).status_code == 400
    assert snapshot() == before


# Documents --------------------------------------------------------------------------------------


def upload(api, agreement, name="contract.pdf", content=PDF, **fields):
    data = {"file": SimpleUploadedFile(name, content), **fields}
    return api.post(url(AGREEMENTS, agreement.pk, "documents"), data, format="multipart")


def test_a_document_is_uploaded_listed_downloaded_and_deleted(api_client, world):
    active = world["active"]
    response = upload(api_client, active, "Signed contract 2026.pdf", kind=DocumentKind.SIGNED_CONTRACT)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["file_name"] == "Signed contract 2026.pdf" and body["kind"] == "signed"
    assert body["content_type"] == "application/pdf" and body["size"] == len(PDF)
    assert body["visible_to_partner"] is True  # left out of the form: the default, not False
    assert body["download_url"].endswith(f"{DOCUMENTS}{body['id']}/download/")
    assert "file" not in body  # no storage path, no static URL
    assert [row["id"] for row in api_client.get(url(AGREEMENTS, active.pk, "documents")).json()] == [body["id"]]
    download = api_client.get(body["download_url"], HTTP_ACCEPT="application/pdf")
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment;")
    assert "Signed contract 2026.pdf" in download["Content-Disposition"]
    assert b"".join(download.streaming_content) == PDF
    assert api_client.delete(url(DOCUMENTS, body["id"])).status_code == 204
    assert not AgreementDocument.objects.exists()


def test_a_document_whose_file_is_gone_answers_404_not_a_server_error(api_client, world):
    body = upload(api_client, world["active"], "Signed contract 2026.pdf").json()
    document = AgreementDocument.objects.get(pk=body["id"])
    document.file.storage.delete(document.file.name)
    download = api_client.get(body["download_url"], HTTP_ACCEPT="application/pdf")
    assert download.status_code == 404
    assert download.json()["message"]


@pytest.mark.parametrize(
    ("name", "content", "text"),
    [
        ("virus.exe", b"MZ\x90\x00", "Upload a PDF, PNG, JPEG"),
        ("notes.txt", b"hello", "Upload a PDF, PNG, JPEG"),
        ("contract.pdf", PNG, "not a PDF file"),
        ("scan.png", PDF, "not a PNG file"),
        ("empty.pdf", b"", ""),
    ],
)
def test_a_file_of_the_wrong_type_is_refused(api_client, world, name, content, text):
    response = upload(api_client, world["active"], name, content)
    assert_field_error(response, "file", text)
    assert not AgreementDocument.objects.exists()


def test_a_file_over_the_size_limit_is_refused(api_client, world, settings):
    settings.PRM_MAX_UPLOAD_MB = 1
    response = upload(api_client, world["active"], "big.pdf", PDF + b"0" * (1024 * 1024))
    assert_field_error(response, "file", "larger than 1 MB")
    assert not AgreementDocument.objects.exists()


def test_an_upload_without_a_file_is_a_field_error(api_client, world):
    response = api_client.post(url(AGREEMENTS, world["active"].pk, "documents"), {"kind": "signed"}, format="multipart")
    assert_field_error(response, "file")


# Region targets ---------------------------------------------------------------------------------


@pytest.fixture
def split_world(world):
    """Two more partners in East China with active agreements for the year, one of which sold
    last year."""
    east = world["east"]
    jiangsu_partner = PartnerFactory(code="JSP", name="Jiangsu Partner", region=world["jiangsu"])
    AgreementFactory(partner=jiangsu_partner, product_lines=[world["sensors"]], territories=[world["jiangsu"]])
    SalesLineFactory(
        partner=world["huaxin"], product_line=world["sensors"], sold_on=date(YEAR - 1, 2, 1), amount=Decimal("300")
    )
    SalesLineFactory(
        partner=jiangsu_partner, product_line=world["sensors"], sold_on=date(YEAR - 1, 2, 1), amount=Decimal("100")
    )
    return {**world, "jiangsu_partner": jiangsu_partner, "east": east}


def test_a_region_target_is_set_previewed_and_decomposed(api_client, split_world):
    east = split_world["east"]
    created = api_client.post(
        REGION_TARGETS, {"region": east.pk, "period": f"{YEAR}-Q1", "revenue": "1000.01"}, format="json"
    )
    assert created.status_code == 201, created.content
    region_target = created.json()
    again = api_client.post(
        REGION_TARGETS, {"region": east.pk, "period": f"{YEAR}-Q1", "revenue": "1000.00"}, format="json"
    )
    assert again.status_code == 201 and again.json()["id"] == region_target["id"]  # the same row, replaced
    preview = api_client.get(url(REGION_TARGETS, region_target["id"], "preview"))
    assert preview.status_code == 200, preview.content
    rows = {row["partner_code"]: row for row in preview.json()}
    assert set(rows) == {"HUAXIN", "JSP"}
    assert {row["basis"] for row in rows.values()} == {"sales"}
    assert (rows["HUAXIN"]["revenue"], rows["JSP"]["revenue"]) == ("750.00", "250.00")
    assert not AgreementTarget.objects.exists()  # a preview writes nothing
    decomposed = api_client.post(url(REGION_TARGETS, region_target["id"], "decompose"))
    assert decomposed.status_code == 200, decomposed.content
    assert sorted(row["revenue"] for row in decomposed.json()) == ["250.00", "750.00"]
    assert sum(AgreementTarget.objects.values_list("revenue", flat=True)) == Decimal("1000.00")
    assert api_client.get(url(REGION_TARGETS, region_target["id"])).json()["decomposed_at"] is not None


def test_a_region_target_with_nobody_to_split_to_is_a_400(api_client, world):
    nowhere = RegionFactory(code="NW", name="North-west", parent=world["china"])
    target = RegionTarget.objects.create(region=nowhere, period=f"{YEAR}-Q1", revenue=Decimal("10"))
    assert api_client.get(url(REGION_TARGETS, target.pk, "preview")).json() == []
    response = api_client.post(url(REGION_TARGETS, target.pk, "decompose"))
    assert response.status_code == 400 and "nobody to split" in response.json()["errors"]["non_field_errors"][0]


def test_a_region_targets_key_cannot_change(api_client, world):
    target = RegionTarget.objects.create(region=world["east"], period=f"{YEAR}-Q1", revenue=Decimal("10"))
    response = api_client.patch(url(REGION_TARGETS, target.pk), {"period": f"{YEAR}-Q2"}, format="json")
    assert_field_error(response, "period")
    response = api_client.patch(url(REGION_TARGETS, target.pk), {"units": "5"}, format="json")
    assert response.status_code == 200 and response.json()["units"] == "5.000"


def test_only_the_regions_manager_or_an_admin_sets_region_targets(world):
    payload = {"region": world["east"].pk, "period": f"{YEAR}-Q1", "revenue": "10"}
    response = as_user(world["manager"]).post(REGION_TARGETS, payload, format="json")
    assert response.status_code == 403
    assert not RegionTarget.objects.exists()


# API keys ---------------------------------------------------------------------------------------


def test_keys_need_the_agreements_scope(world, make_key):
    refused = make_key(["partners:write"]).get(AGREEMENTS)
    assert refused.status_code == 403
    assert refused.json()["message"] == "This API key does not have the scope “agreements:read”."
    reader = make_key(["agreements:read"])
    assert reader.get(AGREEMENTS).json()["count"] == 2
    before = snapshot()
    response = reader.post(AGREEMENTS, minimal_payload(world), format="json")
    assert response.status_code == 403
    assert response.json()["message"] == "This API key does not have the scope “agreements:write”."
    assert reader.post(url(AGREEMENTS, world["draft"].pk, "submit")).status_code == 403
    assert snapshot() == before
    writer = make_key(["agreements:write"])
    created = writer.post(AGREEMENTS, minimal_payload(world), format="json")
    assert created.status_code == 201, created.content
    entry = AuditEntry.objects.get(object_type="agreements.agreement", object_id=str(created.json()["id"]))
    assert entry.actor is None and "api_key" in entry.changes


def test_a_partner_key_reads_only_its_partners_agreements_without_drafts_or_vendor_notes(world, make_key):
    own_draft = AgreementFactory(partner=world["huaxin"], status=AgreementStatus.DRAFT, territories=[])
    api = make_key(["agreements:read"], partner=world["huaxin"])
    body = api.get(AGREEMENTS).json()
    assert [row["number"] for row in body["results"]] == [f"AG-{YEAR}-00001"] and body["count"] == 1
    row = body["results"][0]
    assert "notes" not in row and "owner" not in row
    assert row["penalty_clauses"].startswith("Selling below")
    assert api.get(url(AGREEMENTS, world["draft"].pk)).status_code == 404  # another partner's
    assert api.get(url(AGREEMENTS, own_draft.pk)).status_code == 404  # the vendor's work in progress
    assert api.get(url(AGREEMENTS, world["active"].pk, "targets")).status_code == 200


def test_a_partner_key_never_writes(world, make_key):
    api = make_key(["agreements:write"], partner=world["huaxin"])
    active = world["active"]
    before = snapshot()
    for response in (
        api.post(AGREEMENTS, minimal_payload(world, partner=world["huaxin"].pk), format="json"),
        api.patch(url(AGREEMENTS, active.pk), {"notes": "x"}, format="json"),
        api.post(url(AGREEMENTS, active.pk, "terminate"), {"reason": "x"}, format="json"),
        api.post(url(AGREEMENTS, active.pk, "targets"), {"period": f"{YEAR}-Q1", "revenue": "1"}, format="json"),
        upload(api, active),
    ):
        assert response.status_code == 403, response.content
    assert snapshot() == before


def test_a_partner_key_sees_only_the_documents_shared_with_its_partner(api_client, world, make_key):
    shared = upload(api_client, world["active"], "shared.pdf").json()
    hidden = upload(api_client, world["active"], "internal-memo.pdf", visible_to_partner="false").json()
    foreign = upload(api_client, world["draft"], "ruida.pdf").json()
    api = make_key(["agreements:read"], partner=world["huaxin"])
    listed = api.get(DOCUMENTS).json()
    assert [row["id"] for row in listed["results"]] == [shared["id"]] and listed["count"] == 1
    assert "visible_to_partner" not in listed["results"][0]
    nested = api.get(url(AGREEMENTS, world["active"].pk, "documents")).json()
    assert [row["file_name"] for row in nested] == ["shared.pdf"]
    assert api.get(url(DOCUMENTS, shared["id"], "download")).status_code == 200
    for document in (hidden, foreign):
        assert api.get(url(DOCUMENTS, document["id"])).status_code == 404
        assert api.get(url(DOCUMENTS, document["id"], "download")).status_code == 404


def test_a_partner_key_cannot_use_region_targets(world, make_key):
    response = make_key(["agreements:read"], partner=world["huaxin"]).get(REGION_TARGETS)
    assert response.status_code == 403


def test_a_partner_key_reads_its_own_targets_only(world, make_key):
    own = AgreementTargetFactory(agreement=world["active"])
    AgreementTargetFactory(agreement=AgreementFactory(partner=world["ruida"], territories=[]))
    body = make_key(["agreements:read"], partner=world["huaxin"]).get(TARGETS).json()
    assert [row["id"] for row in body["results"]] == [own.pk] and "region_target" not in body["results"][0]


# Query counts -----------------------------------------------------------------------------------


def build(size, world):
    """`size` more agreements, each with two product lines, two territories, a minimum price, two
    targets and a document."""
    lines = [world["sensors"], world["controllers"]]
    for index in range(size):
        partner = PartnerFactory(region=world["jiangsu"])
        agreement = AgreementFactory(
            partner=partner, product_lines=lines, territories=[world["jiangsu"], world["east"]], status="draft"
        )
        agreement.minimum_prices.create(product_line=world["sensors"], min_unit_price=Decimal("1"))
        AgreementTargetFactory(agreement=agreement, period=f"{YEAR}-Q1")
        AgreementTargetFactory(agreement=agreement, period=f"{YEAR}-Q2")
        AgreementDocument.objects.create(
            agreement=agreement, file="x.pdf", original_name="x.pdf", content_type="application/pdf", size=1
        )
        RegionTarget.objects.create(region=world["jiangsu"], period=f"{YEAR}-{index + 1:02d}", revenue=1)


# count + page, and one query per prefetched relation (product lines, territories, minimum prices)
LIST_QUERIES = {AGREEMENTS: 5, TARGETS: 2, DOCUMENTS: 2, REGION_TARGETS: 2}


@pytest.mark.parametrize("size", [2, 12])
@pytest.mark.parametrize("base", list(LIST_QUERIES))
def test_lists_issue_the_same_few_queries_for_few_and_many_rows(
    api_client, world, django_assert_max_num_queries, size, base
):
    build(size, world)
    with django_assert_max_num_queries(LIST_QUERIES[base]):
        response = api_client.get(f"{base}?page_size=500")
    assert response.status_code == 200
    body = response.json()
    assert len(body["results"]) == body["count"] >= size


@pytest.mark.parametrize("size", [2, 12])
def test_the_nested_lists_issue_a_fixed_number_of_queries(api_client, world, django_assert_max_num_queries, size):
    agreement = world["active"]
    for index in range(size):
        AgreementTargetFactory(agreement=agreement, period=f"{YEAR}-{index + 1:02d}")
        AgreementDocument.objects.create(
            agreement=agreement, file="x.pdf", original_name=f"{index}.pdf", content_type="application/pdf", size=1
        )
    for action in ("targets", "documents"):
        with django_assert_max_num_queries(5):
            rows = api_client.get(url(AGREEMENTS, agreement.pk, action)).json()
        assert len(rows) == size


# Schema -----------------------------------------------------------------------------------------

PATHS = {
    "/api/v1/agreements/": {"get", "post"},
    "/api/v1/agreements/{id}/": {"get", "put", "patch"},
    "/api/v1/agreements/{id}/submit/": {"post"},
    "/api/v1/agreements/{id}/approve/": {"post"},
    "/api/v1/agreements/{id}/reject/": {"post"},
    "/api/v1/agreements/{id}/terminate/": {"post"},
    "/api/v1/agreements/{id}/renew/": {"post"},
    "/api/v1/agreements/{id}/amend/": {"post"},
    "/api/v1/agreements/{id}/acknowledge/": {"post"},
    "/api/v1/agreements/{id}/targets/": {"get", "post"},
    "/api/v1/agreements/{id}/documents/": {"get", "post"},
    "/api/v1/agreement-targets/": {"get"},
    "/api/v1/agreement-targets/{id}/": {"get", "put", "patch", "delete"},
    "/api/v1/agreement-documents/": {"get"},
    "/api/v1/agreement-documents/{id}/": {"get", "delete"},
    "/api/v1/agreement-documents/{id}/download/": {"get"},
    "/api/v1/region-targets/": {"get", "post"},
    "/api/v1/region-targets/{id}/": {"get", "put", "patch"},
    "/api/v1/region-targets/{id}/preview/": {"get"},
    "/api/v1/region-targets/{id}/decompose/": {"post"},
}


def test_the_schema_documents_every_endpoint_without_warnings():
    GENERATOR_STATS.reset()
    schema = SchemaGenerator().get_schema(request=None, public=True)
    assert not GENERATOR_STATS._warn_cache and not GENERATOR_STATS._error_cache, (
        dict(GENERATOR_STATS._warn_cache),
        dict(GENERATOR_STATS._error_cache),
    )
    paths = schema["paths"]
    for path, methods in PATHS.items():
        assert path in paths, path
        assert set(paths[path]) - {"parameters"} == methods, path
    for action in ("submit", "approve", "reject", "terminate", "renew", "amend"):
        responses = paths[f"/api/v1/agreements/{{id}}/{action}/"]["post"]["responses"]
        assert {"400", "403", "404"} <= set(responses), action
    assert "201" in paths["/api/v1/agreements/{id}/renew/"]["post"]["responses"]
    upload_body = paths["/api/v1/agreements/{id}/documents/"]["post"]["requestBody"]["content"]
    assert list(upload_body) == ["multipart/form-data"]
    created = schema["components"]["schemas"]["AgreementRequest"]
    assert set(created["required"]) == {"partner", "type", "start_date", "end_date"}
    assert "number" not in created["properties"] and "status" not in created["properties"]
    parameters = {p["name"] for p in paths["/api/v1/agreements/"]["get"]["parameters"]}
    assert {"q", "status", "agreement_type", "partner", "region", "product_line", "ordering", "page"} <= parameters
    assert "AgreementStatusEnum" in schema["components"]["schemas"]
