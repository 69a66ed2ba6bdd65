"""Documents attached to agreements: PDF, PNG, JPEG, DOCX and XLSX only, checked by extension and
by content, within the size limit; errors land on "file" and store nothing."""

import io
import zipfile

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from agreements import services
from agreements.choices import DocumentKind
from agreements.models import AgreementDocument
from prm.models import AuditEntry
from tests.factories import AnalystFactory

from .domain_world import admin, draft

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32


def office(folder):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(f"{folder}/document.xml", "<doc/>")
    return buffer.getvalue()


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def by():
    return admin()


@pytest.fixture
def agreement(by):
    return draft(by=by)


def upload(name, content):
    return SimpleUploadedFile(name, content)


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("contract.pdf", PDF, "application/pdf"),
        ("scan.PNG", PNG, "image/png"),
        ("photo.jpeg", JPEG, "image/jpeg"),
        ("annex.docx", office("word"), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("prices.xlsx", office("xl"), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ],
)
def test_accepted_files_are_stored_with_their_details(by, agreement, name, content, content_type):
    document = services.document_add(agreement=agreement, by=by, file=upload(name, content), kind=DocumentKind.ANNEX)

    assert (document.original_name, document.content_type, document.size) == (name, content_type, len(content))
    assert document.uploaded_by == by and document.visible_to_partner
    with document.file.open("rb") as stored:
        assert stored.read() == content
    entry = AuditEntry.objects.filter(object_id=str(agreement.pk), action=AuditEntry.Action.UPDATE).get()
    assert entry.changes["document"][1].startswith(name)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("tool.exe", b"MZ\x90\x00"),
        ("page.html", b"<html></html>"),
        ("no-extension", PDF),
        ("fake.pdf", b"<script>alert(1)</script>"),  # the extension lies
        ("fake.png", PDF),
        ("fake.docx", office("xl")),  # a spreadsheet named as a Word file
        ("broken.xlsx", b"PK\x03\x04 not really a zip"),
    ],
)
def test_other_files_are_refused_on_the_file_field(by, agreement, name, content):
    with pytest.raises(ValidationError) as excinfo:
        services.document_add(agreement=agreement, by=by, file=upload(name, content), kind=DocumentKind.OTHER)

    assert list(excinfo.value.message_dict) == ["file"]
    assert not AgreementDocument.objects.exists()


def test_the_size_limit_comes_from_the_settings(by, agreement, settings):
    settings.PRM_MAX_UPLOAD_MB = 1
    big = PDF + b"0" * (1024 * 1024)

    with pytest.raises(ValidationError) as excinfo:
        services.document_add(agreement=agreement, by=by, file=upload("big.pdf", big), kind=DocumentKind.OTHER)

    assert "1 MB" in excinfo.value.message_dict["file"][0]
    settings.PRM_MAX_UPLOAD_MB = 2
    assert services.document_add(agreement=agreement, by=by, file=upload("big.pdf", big), kind=DocumentKind.OTHER)


def test_an_empty_file_and_an_unknown_kind_are_refused(by, agreement):
    with pytest.raises(ValidationError) as excinfo:
        services.document_add(agreement=agreement, by=by, file=upload("empty.pdf", b""), kind=DocumentKind.OTHER)
    assert "file" in excinfo.value.message_dict

    with pytest.raises(ValidationError) as excinfo:
        services.document_add(agreement=agreement, by=by, file=upload("a.pdf", PDF), kind="secret")
    assert "kind" in excinfo.value.message_dict


def test_only_managers_of_the_agreement_upload(agreement):
    with pytest.raises(PermissionDenied):
        services.document_add(
            agreement=agreement, by=AnalystFactory(), file=upload("a.pdf", PDF), kind=DocumentKind.OTHER
        )


def test_delete_removes_the_row_and_the_file(by, agreement, django_capture_on_commit_callbacks):
    document = services.document_add(agreement=agreement, by=by, file=upload("a.pdf", PDF), kind=DocumentKind.OTHER)
    storage, path = document.file.storage, document.file.name

    with django_capture_on_commit_callbacks(execute=True):
        services.document_delete(document=document, by=by)

    assert not AgreementDocument.objects.exists()
    assert not storage.exists(path)
