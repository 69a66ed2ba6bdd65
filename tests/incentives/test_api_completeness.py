"""Proof of performance over the API, as the portal's MDF page adds and removes it before a claim:
`POST /api/v1/mdf-requests/{id}/proofs/` (multipart `file`) and `POST …/remove-proof/`. A
partner's own system does what its portal users do, for its own requests only."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from incentives.choices import MdfStatus
from incentives.models import MdfProof
from prm.models import AuditEntry
from tests.factories import PDF_BYTES, AnalystFactory, MdfBudgetFactory, MdfProofFactory, MdfRequestFactory, key_client

pytestmark = pytest.mark.django_db

REQUESTS = "/api/v1/mdf-requests/"


def url(mdf_request, action):
    return f"{REQUESTS}{mdf_request.pk}/{action}/"


def field_errors(response):
    body = response.json()
    return body.get("errors", body)


def proof_file(name="invoice.pdf", content=PDF_BYTES):
    return SimpleUploadedFile(name, content, "application/pdf")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def approved(db):
    return MdfRequestFactory(
        budget=MdfBudgetFactory(), status=MdfStatus.APPROVED, approved_amount=Decimal("1000.00"), title="Booth"
    )


@pytest.fixture
def foreign(db):
    return MdfRequestFactory(budget=MdfBudgetFactory(), status=MdfStatus.APPROVED, approved_amount=Decimal("500.00"))


def test_a_partner_key_adds_proof_then_claims_without_sending_files_again(staff_user, approved):
    erp = key_client(staff_user, ["incentives:write"], partner=approved.partner)

    added = erp.post(url(approved, "proofs"), {"file": proof_file()}, format="multipart")

    assert added.status_code == 200, added.content
    [proof] = added.json()["proofs"]
    assert proof["file_name"] == "invoice.pdf"
    download = erp.get(proof["download_url"])
    assert b"".join(download.streaming_content) == PDF_BYTES
    claimed = erp.post(url(approved, "claim"), {"actual_amount": "900.00"}, format="json")
    assert claimed.status_code == 200, claimed.content
    assert claimed.json()["status"] == MdfStatus.CLAIMED
    entry = AuditEntry.objects.filter(object_type="incentives.mdfrequest", object_id=str(approved.pk)).first()
    assert entry is not None


def test_a_proof_is_removed_before_the_claim_and_its_file_goes(
    staff_user, approved, django_capture_on_commit_callbacks
):
    proof = MdfProofFactory(request=approved)
    storage, name = proof.file.storage, proof.file.name
    erp = key_client(staff_user, ["incentives:write"], partner=approved.partner)

    with django_capture_on_commit_callbacks(execute=True):
        response = erp.post(url(approved, "remove-proof"), {"proof": proof.pk}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["proofs"] == []
    assert not MdfProof.objects.exists()
    assert not storage.exists(name)


def test_a_claimed_requests_proof_stays(api_client, approved):
    proof = MdfProofFactory(request=approved)
    approved.status, approved.actual_amount = MdfStatus.CLAIMED, Decimal("900.00")
    approved.save()

    removed = api_client.post(url(approved, "remove-proof"), {"proof": proof.pk}, format="json")
    added = api_client.post(url(approved, "proofs"), {"file": proof_file()}, format="multipart")

    assert removed.status_code == 400 and "file" in field_errors(removed)
    assert added.status_code == 400 and "file" in field_errors(added)
    assert list(MdfProof.objects.values_list("pk", flat=True)) == [proof.pk]


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"file": SimpleUploadedFile("invoice.pdf", b"MZ this is no pdf", "application/pdf")},
        {"file": SimpleUploadedFile("invoice.exe", b"MZ", "application/octet-stream")},
    ],
)
def test_a_bad_proof_is_refused_under_file_and_nothing_is_kept(api_client, approved, payload):
    response = api_client.post(url(approved, "proofs"), payload, format="multipart")

    assert response.status_code == 400, response.content
    assert "file" in field_errors(response)
    assert not MdfProof.objects.exists()


@pytest.mark.parametrize("payload", [{}, {"proof": "abc"}, {"proof": 0}])
def test_removing_without_a_proof_id_is_400(api_client, approved, payload):
    response = api_client.post(url(approved, "remove-proof"), payload, format="json")

    assert response.status_code == 400
    assert "proof" in field_errors(response)


def test_another_requests_proof_is_not_found(api_client, approved, foreign):
    other = MdfProofFactory(request=foreign)

    response = api_client.post(url(approved, "remove-proof"), {"proof": other.pk}, format="json")

    assert response.status_code == 404
    assert MdfProof.objects.filter(pk=other.pk).exists()


def test_a_partner_key_never_reaches_another_partners_request(staff_user, approved, foreign):
    foreign_proof = MdfProofFactory(request=foreign)
    erp = key_client(staff_user, ["incentives:write"], partner=approved.partner)

    added = erp.post(url(foreign, "proofs"), {"file": proof_file()}, format="multipart")
    removed = erp.post(url(foreign, "remove-proof"), {"proof": foreign_proof.pk}, format="json")

    assert added.status_code == 404 and removed.status_code == 404
    assert "Booth" not in str(added.json()) and str(foreign.pk) not in added.json()["message"]
    assert list(MdfProof.objects.values_list("pk", flat=True)) == [foreign_proof.pk]


def test_read_scopes_and_read_only_staff_change_no_proof(staff_user, approved):
    proof = MdfProofFactory(request=approved)
    analyst = APIClient()
    analyst.force_authenticate(AnalystFactory())
    reader = key_client(staff_user, ["incentives:read"])

    for api in (analyst, reader):
        assert api.post(url(approved, "proofs"), {"file": proof_file()}, format="multipart").status_code == 403
        assert api.post(url(approved, "remove-proof"), {"proof": proof.pk}, format="json").status_code == 403
    assert MdfProof.objects.count() == 1
