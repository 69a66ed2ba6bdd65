"""The admin shows agreements but never bypasses the services: the status and the commercial
terms are read-only, the free fields are saved through agreement_update (and recorded), and
documents are downloaded through the checked view, not a media URL."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from agreements import services
from agreements.choices import AgreementStatus
from prm.models import AuditEntry
from tests.factories import AdminFactory, ChannelAdminFactory, PartnerFactory, ProductLineFactory, RegionFactory

pytestmark = pytest.mark.django_db

INLINES = ("territories", "minimum_prices", "targets", "documents")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def active():
    by = ChannelAdminFactory()
    today = timezone.localdate()
    agreement = services.agreement_create(
        partner=PartnerFactory(),
        agreement_type="reseller",
        start_date=today - timedelta(days=10),
        end_date=today + timedelta(days=300),
        by=by,
        product_lines=[ProductLineFactory()],
        territories=[{"region": RegionFactory(), "exclusive": True}],
    )
    services.agreement_submit(agreement=agreement, by=by)
    services.agreement_approve(agreement=agreement, by=by)
    services.document_add(
        agreement=agreement, by=by, file=SimpleUploadedFile("signed.pdf", b"%PDF-1.4 x"), kind="signed"
    )
    agreement.refresh_from_db()
    return agreement


@pytest.fixture
def superuser_client(client):
    client.force_login(AdminFactory(username="root"))
    return client


def test_status_and_terms_are_read_only_and_no_bulk_action_moves_a_status(superuser_client, active):
    page = superuser_client.get(reverse("admin:agreements_agreement_change", args=[active.pk])).content.decode()
    assert 'name="notes"' in page and 'name="owner"' in page
    for field in ("status", "discount_percent", "start_date", "end_date", "partner", "product_lines"):
        assert f'name="{field}"' not in page, field
    assert reverse("agreements:document-download", args=[active.documents.get().pk]) in page
    assert "/media/" not in page
    changelist = superuser_client.get(reverse("admin:agreements_agreement_changelist")).content.decode()
    assert 'name="action"' not in changelist
    assert superuser_client.get(reverse("admin:agreements_agreement_add")).status_code == 403
    assert superuser_client.get(reverse("admin:agreements_agreement_delete", args=[active.pk])).status_code == 403


def test_free_fields_are_saved_through_the_service_and_posted_terms_are_ignored(superuser_client, active):
    data = {"owner": "", "notes": "Checked by legal", "vendor_signatory": "Li Ming", "partner_signatory": "",
            "signed_on": "", "status": AgreementStatus.DRAFT, "discount_percent": "99"}  # fmt: skip
    for prefix in INLINES:
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    response = superuser_client.post(reverse("admin:agreements_agreement_change", args=[active.pk]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    active.refresh_from_db()
    assert (active.notes, active.vendor_signatory) == ("Checked by legal", "Li Ming")
    assert (active.status, active.discount_percent) == (AgreementStatus.ACTIVE, None)
    entry = AuditEntry.objects.filter(object_type="agreements.agreement", object_id=str(active.pk)).first()
    assert entry.action == "update" and entry.changes["notes"] == ["", "Checked by legal"]


@pytest.mark.parametrize(
    "model",
    ["agreementterritory", "minimumprice", "agreementtarget", "regiontarget", "agreementdocument", "expirynotice"],
)
def test_the_other_agreements_tables_are_read_only(superuser_client, active, model):
    assert superuser_client.get(reverse(f"admin:agreements_{model}_changelist")).status_code == 200
    assert superuser_client.get(reverse(f"admin:agreements_{model}_add")).status_code == 403
