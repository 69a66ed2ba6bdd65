"""Checks every uploaded file goes through before it is stored or read: its type, known by its
extension AND by its content (a renamed executable is not a PDF), and its size
(≤ settings.PRM_MAX_UPLOAD_MB). Each app names the set of types it accepts (`DOCUMENTS` for
agreements, `COURSE_MATERIALS` for training, `IMPORTS` for spreadsheets of rows to import).
"""

import os
import zipfile
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

PDF, PNG, JPEG, ZIP = b"%PDF-", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"PK\x03\x04"


@dataclass(frozen=True)
class FileType:
    content_type: str
    signature: bytes | None = None  # the file's first bytes; None: any content (plain text)
    zip_folder: str = ""  # an Office file is a zip holding this folder


FILE_TYPES = {
    ".pdf": FileType("application/pdf", PDF),
    ".png": FileType("image/png", PNG),
    ".jpg": FileType("image/jpeg", JPEG),
    ".jpeg": FileType("image/jpeg", JPEG),
    ".docx": FileType("application/vnd.openxmlformats-officedocument.wordprocessingml.document", ZIP, "word/"),
    ".xlsx": FileType("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ZIP, "xl/"),
    ".pptx": FileType("application/vnd.openxmlformats-officedocument.presentationml.presentation", ZIP, "ppt/"),
    ".csv": FileType("text/csv"),
}


@dataclass(frozen=True)
class AllowedTypes:
    extensions: tuple
    hint: str  # what to upload instead, shown when the extension is not one of them

    @property
    def content_types(self):
        """The media types of these files, as their downloads answer them."""
        return sorted({FILE_TYPES[extension].content_type for extension in self.extensions})


DOCUMENTS = AllowedTypes(
    (".pdf", ".png", ".jpg", ".jpeg", ".docx", ".xlsx"),
    _("Upload a PDF, PNG, JPEG, Word (.docx) or Excel (.xlsx) file."),
)
COURSE_MATERIALS = AllowedTypes(
    (".pdf", ".png", ".jpg", ".jpeg", ".docx", ".xlsx", ".pptx"),
    _("Upload a PDF, PNG, JPEG, Word (.docx), Excel (.xlsx) or PowerPoint (.pptx) file."),
)
IMPORTS = AllowedTypes((".csv", ".xlsx"), _("Upload a CSV (.csv) or Excel (.xlsx) file."))


def _content_matches(file, file_type):
    if file_type.signature is None:
        return True
    file.seek(0)
    head = file.read(len(file_type.signature))
    file.seek(0)
    if head != file_type.signature:
        return False
    if not file_type.zip_folder:
        return True
    try:
        with zipfile.ZipFile(file) as archive:
            return any(entry.startswith(file_type.zip_folder) for entry in archive.namelist())
    except (zipfile.BadZipFile, OSError):
        return False
    finally:
        file.seek(0)


def validate_upload(file, *, allowed=DOCUMENTS, field="file"):
    """Check an uploaded file against `allowed` (an AllowedTypes) and the size limit. Returns
    (file name, at most 200 characters, content type); raises a ValidationError on `field` that
    says what is wrong: not an accepted type, larger than the limit, empty, or content that is
    not what the extension claims."""
    if file is None:
        raise ValidationError({field: gettext("Choose a file.")})
    name = os.path.basename(getattr(file, "name", "") or "").strip()
    extension = os.path.splitext(name)[1].lower()
    if extension not in allowed.extensions:
        raise ValidationError({field: str(allowed.hint)})
    limit = settings.PRM_MAX_UPLOAD_MB
    size = getattr(file, "size", None)
    if size is None or size > limit * 1024 * 1024:
        raise ValidationError({field: gettext("The file is larger than %(limit)s MB.") % {"limit": limit}})
    if size == 0:
        raise ValidationError({field: gettext("The file is empty.")})
    file_type = FILE_TYPES[extension]
    if not _content_matches(file, file_type):
        raise ValidationError(
            {field: gettext("The file's content is not a %(type)s file.") % {"type": extension.lstrip(".").upper()}}
        )
    return name[-200:], file_type.content_type


def attachment_response(field_file, *, filename, content_type="", missing=None):
    """A stored upload sent back as a download: an attachment (never shown inline), never cached
    by shared caches, its type not guessed by the browser. Call it only after checking who asks;
    a file gone from storage answers 404 with `missing` (or a general message), not a 500."""
    try:
        handle = field_file.open("rb")
    except (FileNotFoundError, ValueError) as error:
        raise Http404(missing or _("This file is no longer available.")) from error
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=filename or field_file.name.rsplit("/", 1)[-1],
        content_type=content_type or "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
