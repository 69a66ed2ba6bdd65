"""The certificate of a pass as a one-page PDF (A4 landscape), drawn with reportlab in the
language asked for. Names, partners and course titles may be Chinese whatever the language, so
every value is set in the CJK font built into reportlab ("STSong-Light", a CID font: nothing to
ship or download), which also holds Latin letters; English labels use Helvetica."""

from io import BytesIO

from django.utils import translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from prm.pdf import pdf_fonts

from .choices import RecordStatus
from .rules import number_text


def _lines(record):
    """What the certificate says, as (style, text) lines, in the active language."""
    course, contact = record.course, record.contact
    expiry = (
        _("Valid until %(date)s") % {"date": date_format(record.expires_on, "DATE_FORMAT")}
        if record.expires_on
        else _("This certification does not expire.")
    )
    lines = [
        ("heading", _("Certificate of training")),
        ("label", _("This certifies that")),
        ("name", contact.name),
        ("value", _("of %(partner)s") % {"partner": contact.partner.name}),
        ("label", _("has passed the course")),
        ("title", f"{course.title} ({course.code})"),
        (
            "value",
            _("Score %(score)s (pass mark %(pass_mark)s), completed on %(date)s")
            % {
                "score": number_text(record.score) if record.score is not None else "—",
                "pass_mark": number_text(course.pass_mark),
                "date": date_format(record.completed_on, "DATE_FORMAT"),
            },
        ),
        ("value", expiry),
        ("value", _("Certificate number: %(number)s") % {"number": record.certificate_number}),
    ]
    if record.status == RecordStatus.EXPIRED:
        lines.append(("label", _("This certification has expired.")))
    return lines


def render_certificate(record, language):
    """PDF bytes of the record's certificate in `language`."""
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.units import mm
    from reportlab.pdfgen import canvas

    with translation.override(language):
        fonts = pdf_fonts(language)
        lines = _lines(record)
        title = _("Certificate %(number)s") % {"number": record.certificate_number}
    buffer = BytesIO()
    width, height = landscape(A4)
    pdf = canvas.Canvas(buffer, pagesize=(width, height), pageCompression=0)
    pdf.setTitle(title)
    pdf.setSubject(record.certificate_number)
    pdf.setLineWidth(2)
    pdf.rect(12 * mm, 12 * mm, width - 24 * mm, height - 24 * mm)
    pdf.setLineWidth(0.5)
    pdf.rect(15 * mm, 15 * mm, width - 30 * mm, height - 30 * mm)
    styles = {
        "heading": (fonts["heading"], 30, 22),
        "label": (fonts["label"], 13, 10),
        "name": (fonts["value"], 26, 14),
        "title": (fonts["value"], 18, 14),
        "value": (fonts["value"], 12, 8),
    }
    y = height - 45 * mm
    for style, text in lines:
        font, size, space = styles[style]
        pdf.setFont(font, size)
        pdf.drawCentredString(width / 2, y, text)
        y -= size + space
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
