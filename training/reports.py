"""The region completion report as rows for its page and as CSV or Excel files. The figures come
from selectors.completion_rates (which defines the completion rate); this module only lays them
out: every region in tree order (each counting its whole subtree), or, inside one region, its
sub-regions and its partners."""

import csv
import io

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from . import selectors

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
COUNT_KEYS = ("enrolled", "open", "overdue", "passed", "failed", "withdrawn")


def _row(entry, *, name, code, depth=0, region_pk=None, partner=None, parent=""):
    return {
        "name": name,
        "code": code,
        "depth": depth,
        "region_pk": region_pk,
        "partner": partner,
        "parent": parent,
        **{key: entry[key] for key in COUNT_KEYS},
        "rate": entry["completion_rate"],
    }


def completion_report(*, region=None, since=None, until=None):
    """{"region", "total", "regions", "partners"}: without a region, every region (indented by
    level, in tree order); inside a region, its total, its direct sub-regions and its partners
    (those with an attempt in the range). Two or four queries."""
    region_rows = selectors.completion_rates(by="region", region=region, since=since, until=until)
    if region is None:
        names = {entry["region"].pk: entry["region"].name for entry in region_rows}
        regions = [
            _row(
                entry,
                name=entry["region"].name,
                code=entry["region"].code,
                depth=entry["region"].depth,
                region_pk=entry["region"].pk,
                parent=names.get(entry["region"].parent_id, ""),
            )
            for entry in region_rows
        ]
        return {"region": None, "total": None, "regions": regions, "partners": []}
    own = next(entry for entry in region_rows if entry["region"].pk == region.pk)
    children = [
        _row(entry, name=entry["region"].name, code=entry["region"].code, region_pk=entry["region"].pk)
        for entry in region_rows
        if entry["region"].parent_id == region.pk
    ]
    partners = [
        _row(
            entry,
            name=entry["partner"].name,
            code=entry["partner"].code,
            partner=entry["partner"],
            parent=entry["partner"].region.name,
        )
        for entry in selectors.completion_rates(by="partner", region=region, since=since, until=until)
    ]
    total = _row(own, name=region.name, code=region.code, region_pk=region.pk)
    return {"region": region, "total": total, "regions": children, "partners": partners}


def _table(report):
    """The header and the rows of the file: the regions, or the partners of the chosen region."""
    counts = [_("Enrolled"), _("In training"), _("Overdue"), _("Passed"), _("Failed"), _("Withdrawn")]
    rate = _("Completion rate %")
    if report["region"] is None:
        header = [_("Region"), _("Region code"), _("Parent region"), _("Level"), *counts, rate]
        rows = [[row["name"], row["code"], row["parent"], row["depth"]] for row in report["regions"]]
        source = report["regions"]
    else:
        header = [_("Partner"), _("Partner code"), _("Region"), *counts, rate]
        rows = [[row["name"], row["code"], row["parent"]] for row in report["partners"]]
        source = report["partners"]
    for cells, row in zip(rows, source, strict=True):
        cells.extend(row[key] for key in COUNT_KEYS)
        cells.append(row["rate"])
    return header, rows


def _filename(report, extension):
    scope = report["region"].code.lower() if report["region"] is not None else "regions"
    return f"training-completion-{scope}-{timezone.localdate():%Y%m%d}.{extension}"


def export_csv(report):
    header, rows = _table(report)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if value is None else value for value in row])
    # A byte-order mark so that spreadsheet programs read Chinese text as UTF-8.
    response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename(report, "csv")}"'
    return response


def export_xlsx(report):
    """One sheet with a bold, frozen header row; counts are whole numbers and the rate a number
    with one decimal (an empty cell when nothing is finished yet), never text."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    header, rows = _table(report)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Training completion")[:31]
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(row)
    rate_column = len(header)
    for (cell,) in sheet.iter_rows(min_row=2, min_col=rate_column, max_col=rate_column):
        cell.number_format = "0.0"
    sheet.freeze_panes = "A2"
    for index, title in enumerate(header, start=1):
        width = max([len(str(title))] + [len(str(row[index - 1] or "")) for row in rows])
        sheet.column_dimensions[get_column_letter(index)].width = min(max(width + 2, 8), 48)
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{_filename(report, "xlsx")}"'
    return response
