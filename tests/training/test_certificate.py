"""The certificate of a pass: a PDF that opens, names the certificate, and renders in Chinese
with the built-in CJK font."""

import re
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from tests.factories import CourseFactory, PartnerContactFactory, PartnerFactory, TrainingRecordFactory
from training import services
from training.choices import RecordStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def record():
    contact = PartnerContactFactory(name="王伟", partner=PartnerFactory(name="华信科技"))
    course = CourseFactory(title="工业传感器基础", code="PRD-101", pass_mark=Decimal("60"), validity_months=24)
    return TrainingRecordFactory(
        passed=True,
        contact=contact,
        course=course,
        score=Decimal("88.50"),
        completed_on=date(2026, 1, 31),
        certificate_number="TC-2026-000042",
    )


def text_of(pdf):
    """The text drawn on the page: each shown string, read as single bytes and, for the CJK
    font's two-byte strings, as UTF-16."""
    texts = []
    for raw in re.findall(rb"\(((?:[^()\\]|\\.)*)\) Tj", pdf):
        data = re.sub(rb"\\([0-7]{3})", lambda match: bytes([int(match[1], 8)]), raw)
        data = re.sub(rb"\\(.)", rb"\1", data)
        texts.append(data.decode("latin-1"))
        if len(data) % 2 == 0:
            texts.append(data.decode("utf-16-be", "replace"))
    return "\n".join(texts)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_pdf_that_opens_and_names_the_certificate(record, language):
    pdf = services.certificate_pdf(record=record, language=language)

    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    assert b"TC-2026-000042" in pdf
    assert b"/Type /Page" in pdf and b"/Count 1" in pdf


def test_the_english_certificate_says_what_was_passed(record):
    text = text_of(services.certificate_pdf(record=record, language="en"))

    assert "Certificate of training" in text
    assert "王伟" in text and "of 华信科技" in text
    assert "工业传感器基础 (PRD-101)" in text
    assert "Score 88.5 (pass mark 60), completed on Jan. 31, 2026" in text
    assert "Valid until Jan. 31, 2028" in text
    assert "Certificate number: TC-2026-000042" in text


def test_the_chinese_certificate_is_in_chinese(record):
    text = text_of(services.certificate_pdf(record=record, language="zh-hans"))

    assert "TC-2026-000042" in text and "2026年1月31日" in text


def test_the_chinese_certificate_uses_the_cjk_font(record):
    pdf = services.certificate_pdf(record=record, language="zh-hans")

    assert b"STSong-Light" in pdf and b"UniGB-UCS2-H" in pdf


def test_a_record_without_a_pass_has_no_certificate():
    with pytest.raises(ValidationError):
        services.certificate_pdf(record=TrainingRecordFactory(), language="en")


def test_an_expired_certification_still_prints_and_says_so(record):
    record.status = RecordStatus.EXPIRED
    record.save()

    text = text_of(services.certificate_pdf(record=record, language="en"))

    assert "This certification has expired." in text
