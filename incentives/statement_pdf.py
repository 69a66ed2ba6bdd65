"""A rebate statement as a PDF (A4 portrait, as many pages as its lines need), drawn with reportlab
in the language asked for: the partner, the period, the status, every line with what produced it
(policy, bracket, base, rate, multiplier, sub-partner) and its amount, and the total.

Partner, policy and sub-partner names may be Chinese whatever the language, so every value is set
in the CJK font built into reportlab ("STSong-Light", a CID font: nothing to ship or download),
which also holds Latin letters; English labels use Helvetica (as training.certificates does).
"""

from io import BytesIO
from xml.sax.saxutils import escape

from django.utils import timezone, translation
from django.utils.formats import date_format, get_format, number_format
from django.utils.translation import gettext as _

from prm.money import format_money
from prm.pdf import pdf_fonts

from .choices import LineKind, RebateBasis, StatementStatus

# The order lines are shown in: what the policies earned, their caps, the network's override
# commission, then corrections.
LINE_ORDER = {LineKind.REBATE: 0, LineKind.CAP: 1, LineKind.OVERRIDE: 2, LineKind.ADJUSTMENT: 3}


def ordered_lines(statement):
    """The statement's (prefetched) lines in the order a reader follows them."""
    return sorted(statement.lines.all(), key=lambda line: (LINE_ORDER.get(line.kind, 9), line.pk))


def status_label(statement):
    """The status as the partner reads it: a calculated statement is provisional until approved."""
    if statement.status == StatementStatus.CALCULATED:
        return _("Provisional")
    return statement.get_status_display()


def status_notice(statement):
    """What the status means for the partner, or "" when nothing needs saying."""
    if statement.status == StatementStatus.CALCULATED:
        return _("Provisional: the amounts may still change until the vendor approves this statement.")
    if statement.status == StatementStatus.CANCELLED:
        return _("Cancelled: this statement will not be paid.")
    return ""


def decimal_text(value, places):
    """A number with at most `places` decimals, trailing zeros dropped: 20.0000 → "20",
    1.250 → "1.25", 12000.000 → "12,000"."""
    if value is None:
        return "—"
    text = number_format(value, decimal_pos=places, use_l10n=True, force_grouping=True)
    separator = get_format("DECIMAL_SEPARATOR")
    return text.rstrip("0").rstrip(separator) if separator in text else text


def line_figures(line, currency):
    """(base, rate, multiplier) of a line as text for the table; "—" where a line has none."""
    policy = line.rebate_policy
    if line.kind in (LineKind.REBATE, LineKind.OVERRIDE) and line.base is not None:
        base = format_money(line.base, currency)
        if line.kind == LineKind.REBATE and policy is not None and policy.basis == RebateBasis.UNITS:
            base = _("%(revenue)s (%(units)s units)") % {"units": decimal_text(line.volume, 3), "revenue": base}
    else:
        base = "—"
    rate = f"{decimal_text(line.rate, 4)}%" if line.rate is not None else "—"
    multiplier = f"× {decimal_text(line.multiplier, 3)}" if line.multiplier is not None else "—"
    return base, rate, multiplier


def _day(value):
    if value is None:
        return "—"
    if hasattr(value, "tzinfo"):
        value = timezone.localtime(value).date()
    return date_format(value, "DATE_FORMAT")


def _story(statement, fonts):
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_RIGHT
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, Spacer, Table, TableStyle

    partner, currency = statement.partner, statement.currency
    heading = ParagraphStyle("heading", fontName=fonts["heading"], fontSize=18, leading=24, spaceAfter=2)
    value = ParagraphStyle("value", fontName=fonts["value"], fontSize=9, leading=12)
    label = ParagraphStyle("label", parent=value, fontName=fonts["label"], textColor=colors.HexColor("#555555"))
    strong = ParagraphStyle("strong", parent=value, fontSize=12, leading=16)
    notice = ParagraphStyle(
        "notice", parent=value, fontName=fonts["label"], backColor=colors.HexColor("#fff3cd"), borderPadding=4
    )
    right = ParagraphStyle("right", parent=value, alignment=TA_RIGHT)
    right_label = ParagraphStyle("right_label", parent=label, alignment=TA_RIGHT)

    def cell(text, style=value):
        return Paragraph(escape(str(text)), style)

    story = [
        Paragraph(escape(_("Rebate statement")), heading),
        cell(f"{partner.name} ({partner.code})", strong),
        Spacer(1, 4 * mm),
    ]
    dates = _("%(start)s to %(end)s") % {"start": _day(statement.period_start), "end": _day(statement.period_end)}
    facts = [
        (_("Period"), f"{statement.period} ({dates})"),
        (_("Status"), status_label(statement)),
        (_("Calculated on"), _day(statement.calculated_at)),
    ]
    if statement.approved_at:
        facts.append((_("Approved on"), _day(statement.approved_at)))
    if statement.paid_at:
        facts.append((_("Paid on"), _day(statement.paid_at)))
    if statement.cancelled_at:
        facts.append((_("Cancelled on"), _day(statement.cancelled_at)))
    facts.append((_("Total"), format_money(statement.total, currency)))
    table = Table([[cell(name, label), cell(text)] for name, text in facts], colWidths=[40 * mm, None], hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), fonts["value"]),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    story += [table, Spacer(1, 4 * mm)]
    if status_notice(statement):
        story += [Paragraph(escape(status_notice(statement)), notice), Spacer(1, 5 * mm)]

    rows = [
        [
            cell(_("Type"), label),
            cell(_("What produced the amount"), label),
            cell(_("Base"), right_label),
            cell(_("Rate"), right_label),
            cell(_("Multiplier"), right_label),
            cell(_("Amount"), right_label),
        ]
    ]
    for line in ordered_lines(statement):
        base, rate, multiplier = line_figures(line, currency)
        rows.append(
            [
                cell(line.get_kind_display()),
                cell(line.explanation),
                cell(base, right),
                cell(rate, right),
                cell(multiplier, right),
                cell(format_money(line.amount, currency), right),
            ]
        )
    if len(rows) == 1:
        rows.append([cell(_("This statement has no lines: nothing was earned in the period.")), "", "", "", "", ""])
    rows.append(
        [
            "",
            cell(_("Total (the sum of the lines)"), label),
            "",
            "",
            "",
            cell(format_money(statement.total, currency), right),
        ]
    )
    lines = Table(rows, colWidths=[24 * mm, 60 * mm, 30 * mm, 14 * mm, 22 * mm, 30 * mm], repeatRows=1)
    lines.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), fonts["value"]),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.black),
                ("LINEBELOW", (0, 1), (-1, -2), 0.25, colors.HexColor("#cccccc")),
                ("LINEABOVE", (0, -1), (-1, -1), 0.8, colors.black),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f1f3f5")),
            ]
        )
    )
    story.append(lines)
    return story


def render_statement(statement, language):
    """PDF bytes of the statement (its lines prefetched, as selectors.statement_detail loads it)
    in `language`."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import SimpleDocTemplate

    partner, period = statement.partner.code, statement.period
    with translation.override(language):
        fonts = pdf_fonts(language)
        printed = _day(timezone.now())

        def page_footer(canvas, document):
            canvas.saveState()
            canvas.setFont(fonts["value"], 8)
            canvas.drawString(
                document.leftMargin,
                10 * mm,
                _("%(partner)s | rebate statement %(period)s | printed on %(date)s | page %(page)s")
                % {"partner": partner, "period": period, "date": printed, "page": document.page},
            )
            canvas.restoreState()

        buffer = BytesIO()
        document = SimpleDocTemplate(
            buffer,
            pagesize=A4,
            leftMargin=15 * mm,
            rightMargin=15 * mm,
            topMargin=15 * mm,
            bottomMargin=18 * mm,
            title=_("Rebate statement %(partner)s %(period)s") % {"partner": partner, "period": period},
            subject=f"{partner} {period}",
            pageCompression=0,
        )
        document.build(_story(statement, fonts), onFirstPage=page_footer, onLaterPages=page_footer)
    return buffer.getvalue()
