"""PDF documents (certificates, statements) with reportlab: the fonts that set both languages.

Values (names, titles, explanations) may be Chinese whatever the reader's language, so they are
always set in the CJK font built into reportlab ("STSong-Light", a CID font: nothing to ship or
download); labels use Helvetica for English readers."""

CJK_FONT = "STSong-Light"


def pdf_fonts(language):
    """{"label", "heading", "value"}: the font names for a document in `language`."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    if CJK_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))
    chinese = language.lower().startswith("zh")
    return {
        "label": CJK_FONT if chinese else "Helvetica",
        "heading": CJK_FONT if chinese else "Helvetica-Bold",
        "value": CJK_FONT,
    }
