"""What the contract run (bin/contract-test) found across the API: a write to an address the API
does not have answers its JSON 404, not Django's CSRF page; a download is documented with the
types of the files it sends back; an answer that quotes a NUL character from bad input is kept for
the retries of its Idempotency-Key (PostgreSQL's jsonb refuses it as a JSON value)."""

import pytest
from django.test import Client
from drf_spectacular.generators import SchemaGenerator

from prm.uploads import DOCUMENTS

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_a_write_to_an_unknown_api_address_is_a_json_404(method):
    client = Client(enforce_csrf_checks=True)
    client.cookies["sessionid"] = "abc"

    response = getattr(client, method)("/api/v1/agreements/1.5/approve/")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize(
    "path",
    ["/api/v1/agreement-documents/{id}/download/", "/api/v1/mdf-requests/{id}/proofs/{proof_id}/download/"],
)
def test_a_download_is_documented_with_the_types_of_the_files_it_sends(path):
    schema = SchemaGenerator().get_schema(request=None, public=True)

    content = schema["paths"][path]["get"]["responses"]["200"]["content"]

    assert sorted(content) == sorted(DOCUMENTS.content_types)
    assert "application/pdf" in content and "image/png" in content


def test_an_answer_quoting_a_nul_character_is_kept_for_a_retry(api_client):
    payload = {"code": "HN", "name": "Henan", "kind": "\x00city"}

    first = api_client.post("/api/v1/regions/", payload, format="json", HTTP_IDEMPOTENCY_KEY="region-hn")
    retry = api_client.post("/api/v1/regions/", payload, format="json", HTTP_IDEMPOTENCY_KEY="region-hn")

    assert first.status_code == 400, first.content
    assert "\x00city" in first.json()["errors"]["kind"][0]
    assert retry.status_code == 400 and retry["Idempotent-Replayed"] == "true"
    assert retry.json() == first.json()
