"""Reading a table of rows a user uploads to import: CSV (UTF-8 with or without a byte-order mark,
or GB18030 as Chinese Excel saves it) or Excel (.xlsx, its first sheet). What comes back is plain:
the header (stripped, lower case, spaces and dashes as "_") and the rows with the row number the
user sees in the file (the header is row 1). Blank rows are skipped but still counted, so the
numbers match the spreadsheet. Cells are text, or, from Excel, numbers (Decimal, never float)
and dates/datetimes as Excel stored them.
"""

import csv
import io
import os
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from .uploads import IMPORTS, validate_upload

# Chinese Excel saves "CSV" in the system code page: GB18030 (a superset of GBK and GB2312).
CSV_ENCODINGS = ("utf-8-sig", "gb18030")


def header_key(value):
    """ "Contact Email" and "contact-email" are both "contact_email"."""
    return re.sub(r"[\s\-]+", "_", str(value or "").strip().lower())


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, (date, datetime, Decimal)):
        return value
    return str(value).strip()


def _csv_rows(file):
    raw = file.read()
    for encoding in CSV_ENCODINGS:
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ValidationError({"file": _("The file's text could not be read: save the CSV as UTF-8.")})
    try:
        return [[_cell(value) for value in row] for row in csv.reader(io.StringIO(text, newline=""))]
    except csv.Error as error:
        raise ValidationError({"file": _("The CSV file could not be read: %(error)s") % {"error": error}}) from error


def _xlsx_rows(file):
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(file, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds on a damaged file
        raise ValidationError({"file": _("The Excel file could not be read; save it again as .xlsx.")}) from error
    try:
        sheet = workbook.worksheets[0]
        return [[_cell(value) for value in row] for row in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()


@dataclass
class Table:
    header_row: int  # 1 unless blank lines come first
    header: list  # the keys, in the file's order
    rows: list  # [(row number, {key: cell})]


def read_table(file):
    """The Table of an uploaded CSV or .xlsx file; the file is checked first (prm.uploads.IMPORTS:
    type and size). A file with no rows at all is refused on "file"."""
    validate_upload(file, allowed=IMPORTS)
    file.seek(0)
    extension = os.path.splitext(getattr(file, "name", "") or "")[1].lower()
    rows = _xlsx_rows(file) if extension == ".xlsx" else _csv_rows(file)
    file.seek(0)
    first = next((index for index, row in enumerate(rows) if any(cell != "" for cell in row)), None)
    if first is None:
        raise ValidationError({"file": _("The file has no rows.")})
    header = [header_key(value) for value in rows[first]]
    table = []
    for index in range(first + 1, len(rows)):
        row = rows[index]
        if all(cell == "" for cell in row):
            continue
        table.append((index + 1, {key: (row[i] if i < len(row) else "") for i, key in enumerate(header) if key}))
    return Table(first + 1, header, table)
