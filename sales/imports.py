"""The import of sales lines from a spreadsheet (CSV in UTF-8 or GB18030, or Excel .xlsx), by staff
for any partner they manage or by a partner's user for their own partner (a portal upload).

The whole file is checked first: every bad cell is reported as (row, column, reason) and nothing
is written unless every row is good. Re-sending rows is an idempotent upsert by (partner, external
ID); a row without an external ID gets a fingerprint of its content and its occurrence in the file
as its external ID ("row:" + SHA-1), so the same file imported twice creates nothing the second
time. Reads and writes are set-based: a fixed number of queries for the references, the existing
lines looked up and written in chunks. See `sales_import`; a large file runs in the background
(`sales_import_start`, `sales_import_run`)."""

import hashlib
import os
import re
import secrets
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from partners.access import can_manage_partner
from partners.models import Partner, Region
from prm.audit import audit_record
from prm.jobs import job_queue, job_run
from prm.models import AuditEntry, JobRun
from prm.money import round_cents
from prm.roles import can_write_as_staff
from prm.tabular import header_key, read_table
from prm.tenancy import partner_of

from .models import Product, ProductLine, SalesLine, SalesSource

IMPORT_COLUMNS = (
    "partner_code",
    "external_id",
    "sold_on",
    "product_sku",
    "product_line_code",
    "customer_id",
    "customer_name",
    "customer_region_code",
    "quantity",
    "unit_price",
    "amount",
    "currency",
)
# Always required; partner_code too in a staff import, and product_sku or product_line_code per row.
IMPORT_REQUIRED = ("sold_on", "customer_id", "quantity", "unit_price")
# Headers a spreadsheet may use instead of the column keys, in English and in Chinese.
HEADER_ALIASES = {
    "partner_code": ("partner", "partner code", "合作伙伴编码", "伙伴编码", "合作伙伴代码", "经销商编码"),
    "external_id": ("external id", "外部编号", "外部ID", "单据编号"),
    "sold_on": ("date", "sale date", "sold on", "销售日期", "日期"),
    "product_sku": ("sku", "product", "product sku", "产品SKU", "产品编码", "SKU"),
    "product_line_code": ("product line", "product line code", "产品线编码", "产品线"),
    "customer_id": ("customer", "customer id", "客户编号", "客户ID", "客户编码"),
    "customer_name": ("customer name", "客户名称"),
    "customer_region_code": ("region", "customer region", "customer region code", "客户区域编码", "客户区域"),
    "quantity": ("qty", "数量"),
    "unit_price": ("price", "unit price", "单价"),
    "amount": ("total", "金额"),
    "currency": ("币种", "货币"),
}
# What API rows may name by id instead of by code: id → (code column, references loaded, unknown id).
REFERENCE_IDS = {
    "partner": ("partner_code", "partners", gettext_lazy("No partner has the ID %(id)s.")),
    "product": ("product_sku", "products", gettext_lazy("No product has the ID %(id)s.")),
    "product_line": ("product_line_code", "product_lines", gettext_lazy("No product line has the ID %(id)s.")),
    "customer_region": ("customer_region_code", "regions", gettext_lazy("No region has the ID %(id)s.")),
}
CHUNK_ROWS = 1000
RESERVED_PREFIX = "row:"
IMPORT_JOB = "sales.sales_import_run"
# Where an upload waits for its background run, under MEDIA_ROOT (never served).
IMPORT_FOLDER = "sales-imports"
IMPORT_KEEP_SECONDS = 7 * 24 * 60 * 60
# A background run keeps at most this many errors in its report.
STORED_ERRORS = 1000
DATE_PATTERNS = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]0{1,2}:00(?::00)?)?$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$"),
)
CURRENCY_PATTERN = re.compile(r"^[A-Z]{3}$")
RELATED_FIELDS = ("product", "product_line", "customer_region")
UPDATABLE_FIELDS = (
    "product",
    "product_line",
    "customer_id",
    "customer_name",
    "customer_region",
    "sold_on",
    "quantity",
    "unit_price",
    "amount",
    "currency",
)


def _update_lines(lines):
    """Write the changed lines; bulk_update skips auto_now, and a CRM syncing with updated_since
    must see them changed."""
    now = timezone.now()
    for line in lines:
        line.updated_at = now
    SalesLine.objects.bulk_update(lines, [*UPDATABLE_FIELDS, "updated_at"], batch_size=500)


@dataclass
class SalesImportReport:
    """What an import did (or, in a dry run or with errors, would do). `errors` are (row number as
    the file shows it, column, reason); with any error nothing was written."""

    total: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list = field(default_factory=list)
    dry_run: bool = False
    errors_total: int = 0  # how many errors there were (a stored report keeps the first ones)

    @property
    def ok(self):
        return not self.errors

    def as_dict(self, *, limit=None):
        data = asdict(self)
        data["errors_total"] = max(self.errors_total, len(self.errors))
        data["errors"] = [list(error) for error in self.errors[:limit]]
        return data

    @classmethod
    def from_dict(cls, data):
        known = {name: data[name] for name in cls.__dataclass_fields__ if name in data}
        known["errors"] = [tuple(error) for error in known.get("errors", [])]
        return cls(**known)


def _aliases():
    aliases = {header_key(column): column for column in IMPORT_COLUMNS}
    for column, names in HEADER_ALIASES.items():
        for name in names:
            aliases[header_key(name)] = column
    return aliases


def _text(value):
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value if value is not None else "").strip()


def _cell_date(value):
    """A date from an Excel date cell or text such as 2026-03-01, 2026/3/1 or 2026年3月1日."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    for pattern in DATE_PATTERNS:
        match = pattern.match(_text(value))
        if match:
            try:
                return date(int(match[1]), int(match[2]), int(match[3]))
            except ValueError:
                return None
    return None


def _cell_decimal(value):
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    text = _text(value).replace(",", "").replace(" ", "")
    if not text:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _places(number):
    exponent = number.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _digits_before_point(number):
    # From the exponent: "1e999999" is too large, never a million-digit integer to print.
    return number.adjusted() + 1 if abs(number) >= 1 else 0


def _fingerprint(values, occurrence):
    content = "\x1f".join([*values, str(occurrence)])
    return RESERVED_PREFIX + hashlib.sha1(content.encode("utf-8")).hexdigest()


class _SalesImport:
    """Checks every row against the references (loaded once, set-based) and the rows above it,
    then plans the writes against the existing lines (looked up in chunks)."""

    def __init__(self, rows, *, by, partner, progress=None, source=None, ids=False):
        self.rows, self.by, self.own_partner, self.progress = rows, by, partner, progress
        self.source = source or (SalesSource.PORTAL if partner is not None else SalesSource.IMPORT)
        # API rows may name a reference by its id instead of its code (REFERENCE_IDS).
        self.ids = ids
        self.errors, self.lines = [], []
        self.created, self.updated, self.unchanged = [], [], 0
        self.outcomes = []  # (line, "created" | "updated" | "unchanged"), one per good row, in order
        self.today = timezone.localdate()
        self._load()

    def _codes(self, column):
        return {_text(cells.get(column)).upper() for _row, cells in self.rows} - {""}

    def _wanted(self, column, key, id_name):
        """The rows' codes in `column` (as `key`), or those codes and the rows' ids in `id_name`."""
        wanted = Q(**{f"{key}__in": self._codes(column)})
        if self.ids:
            wanted |= Q(pk__in={cells[id_name] for _row, cells in self.rows if isinstance(cells.get(id_name), int)})
        return wanted

    def _load(self):
        if self.own_partner is None:
            partners = Partner.objects.filter(self._wanted("partner_code", "code", "partner")).select_related("region")
            self.partners = {partner.code: partner for partner in partners}
            self.allowed = {
                code: self.by is None or can_manage_partner(self.by, partner) for code, partner in self.partners.items()
            }
        products = Product.objects.filter(self._wanted("product_sku", "sku", "product")).select_related("product_line")
        self.products = {product.sku: product for product in products}
        lines = ProductLine.objects.filter(self._wanted("product_line_code", "code", "product_line"))
        self.product_lines = {line.code: line for line in lines}
        regions = Region.objects.filter(self._wanted("customer_region_code", "code", "customer_region"))
        self.regions = {region.code: region for region in regions}
        self.by_id = {
            name: {item.pk: code for code, item in getattr(self, attribute, {}).items()}
            for name, (_column, attribute, _message) in REFERENCE_IDS.items()
        }

    def _ids_as_codes(self, cells, error):
        """An API row's references given by id ("partner": 12) become the codes the checks read,
        so both spellings follow the same rules. Returns the cells and the code columns whose id
        was wrong (their own errors would only repeat it)."""
        if not self.ids:
            return cells, set()
        given = {name: cells[name] for name in REFERENCE_IDS if cells.get(name) is not None}
        cells, wrong = dict(cells), set()
        if self.own_partner is None and "partner" not in given and not _text(cells.get("partner_code")):
            error("partner", _("Enter the partner: its ID (partner) or its code (partner_code)."))
            wrong.add("partner_code")
        for name, pk in given.items():
            column, _attribute, message = REFERENCE_IDS[name]
            if name == "partner" and self.own_partner is not None:
                # Never tells whether another partner exists.
                code = self.own_partner.code if pk == self.own_partner.pk else None
                message = _("You can write only your own sales: leave the partner out or enter %(id)s.")
                message_args = {"id": self.own_partner.pk}
            else:
                code, message_args = self.by_id[name].get(pk), {"id": pk}
            if code is None:
                error(name, str(message) % message_args)
                wrong.add(column)
            elif _text(cells.get(column)) and _text(cells.get(column)).upper() != code:
                error(column, _("This code and the ID in “%(field)s” name different objects.") % {"field": name})
            else:
                cells[column] = code
        return cells, wrong

    # Reading the rows ------------------------------------------------------------------------

    def check(self):
        self.external_ids, self.occurrences = {}, Counter()
        for index, (number, cells) in enumerate(self.rows, start=1):
            self._row(number, cells)
            if self.progress is not None and index % CHUNK_ROWS == 0:
                self.progress.advance()

    def _row(self, number, cells):
        errors = []

        def error(column, message):
            errors.append((number, column, str(message)))

        cells, wrong = self._ids_as_codes(cells, error)
        partner = self._partner(cells, error)
        sold_on = self._sold_on(cells, error)
        product, product_line = self._product(cells, error)
        customer_id = self._limited(cells, "customer_id", 100, error, required=_("Enter the customer's ID."))
        customer_name = self._limited(cells, "customer_name", 200, error)
        region = self._region(cells, error)
        quantity = self._number(cells, "quantity", 3, 11, error)
        if quantity is not None and quantity == 0:
            error("quantity", _("The quantity cannot be 0 (a return has a negative quantity)."))
        unit_price = self._number(cells, "unit_price", 2, 12, error)
        if unit_price is not None and unit_price < 0:
            error("unit_price", _("The unit price cannot be negative."))
        amount = self._amount(cells, quantity, unit_price, error)
        currency = self._currency(cells, error)
        external_id = self._limited(cells, "external_id", 100, error)
        if external_id.lower().startswith(RESERVED_PREFIX):
            error("external_id", _("External IDs starting with “row:” are reserved for rows without one."))
        if errors:
            self.errors.extend(item for item in errors if item[1] not in wrong)
            return
        values = {
            "product": product,
            "product_line": product_line,
            "customer_id": customer_id,
            "customer_name": customer_name,
            "customer_region": region,
            "sold_on": sold_on,
            "quantity": quantity,
            "unit_price": unit_price,
            "amount": amount,
            "currency": currency,
        }
        if not external_id:
            content = (
                partner.code,
                sold_on.isoformat(),
                product.sku if product else "",
                product_line.code,
                customer_id,
                customer_name,
                region.code if region else "",
                _text(quantity),
                _text(unit_price),
                _text(amount),
                currency,
            )
            self.occurrences[content] += 1
            external_id = _fingerprint(content, self.occurrences[content])
        else:
            first = self.external_ids.setdefault((partner.pk, external_id), number)
            if first != number:
                self.errors.append(
                    (number, "external_id", _("Row %(row)s already has this external ID.") % {"row": first})
                )
                return
        self.lines.append((partner, external_id, values))

    def _partner(self, cells, error):
        code = _text(cells.get("partner_code")).upper()
        if self.own_partner is not None:
            # A portal upload is for the user's own partner only; the message never tells whether
            # another code exists.
            if code and code != self.own_partner.code.upper():
                error(
                    "partner_code",
                    _("You can upload only your own sales: leave the partner code empty or enter %(code)s.")
                    % {"code": self.own_partner.code},
                )
                return None
            return self.own_partner
        if not code:
            error("partner_code", _("Enter the partner's code."))
            return None
        partner = self.partners.get(code)
        if partner is None:
            error("partner_code", _("No partner has the code “%(code)s”.") % {"code": code})
            return None
        if not self.allowed[code]:
            error("partner_code", _("You can import sales only for the partners you own or that are in your regions."))
            return None
        return partner

    def _sold_on(self, cells, error):
        value = cells.get("sold_on")
        if value in (None, ""):
            error("sold_on", _("Enter the date of the sale."))
            return None
        day = _cell_date(value)
        if day is None:
            error("sold_on", _("“%(value)s” is not a date: use YYYY-MM-DD.") % {"value": _text(value)})
        elif day > self.today:
            error("sold_on", _("The date of a sale cannot be in the future."))
            return None
        return day

    def _product(self, cells, error):
        sku = _text(cells.get("product_sku")).upper()
        line_code = _text(cells.get("product_line_code")).upper()
        product = line = None
        if sku:
            product = self.products.get(sku)
            if product is None:
                error("product_sku", _("No product has the SKU “%(sku)s”.") % {"sku": sku})
        if line_code:
            line = self.product_lines.get(line_code)
            if line is None:
                error("product_line_code", _("No product line has the code “%(code)s”.") % {"code": line_code})
        if not sku and not line_code:
            error("product_sku", _("Enter the product's SKU or the product line's code."))
        if product is not None and line is not None and product.product_line_id != line.pk:
            error(
                "product_line_code",
                _("%(sku)s belongs to the product line %(line)s.")
                % {"sku": product.sku, "line": product.product_line.code},
            )
        if product is not None:
            return product, product.product_line
        return None, line

    def _limited(self, cells, column, length, error, required=None):
        value = _text(cells.get(column))
        if not value and required:
            error(column, required)
        elif len(value) > length:
            error(column, _("At most %(length)s characters.") % {"length": length})
        return value

    def _region(self, cells, error):
        code = _text(cells.get("customer_region_code")).upper()
        if not code:
            return None
        region = self.regions.get(code)
        if region is None:
            error("customer_region_code", _("No region has the code “%(code)s”.") % {"code": code})
        return region

    def _number(self, cells, column, places, digits, error):
        value = cells.get(column)
        if value in (None, ""):
            error(column, _("Enter a number."))
            return None
        number = _cell_decimal(value)
        if number is None:
            error(column, _("“%(value)s” is not a number.") % {"value": _text(value)})
            return None
        if _places(number) > places:
            error(column, _("At most %(places)s decimal places.") % {"places": places})
            return None
        if _digits_before_point(number) > digits:
            error(column, _("This number is too large."))
            return None
        return number

    def _amount(self, cells, quantity, unit_price, error):
        computed = round_cents(quantity * unit_price) if quantity is not None and unit_price is not None else None
        value = cells.get("amount")
        if value in (None, ""):
            if computed is not None and _digits_before_point(computed) > 14:
                error("amount", _("This number is too large."))
            return computed
        amount = self._number(cells, "amount", 2, 14, error)
        if amount is not None and computed is not None and amount != computed:
            error(
                "amount",
                _("The amount %(amount)s is not the quantity × the unit price (%(computed)s).")
                % {"amount": _text(amount), "computed": f"{computed:.2f}"},
            )
        return amount

    def _currency(self, cells, error):
        code = _text(cells.get("currency")).upper()
        if not code:
            return settings.PRM_CURRENCY
        if not CURRENCY_PATTERN.match(code):
            error("currency", _("“%(value)s” is not a currency code such as CNY or USD.") % {"value": code})
        return code

    # Planning and writing ------------------------------------------------------------------

    def plan(self):
        """Each good row as a new line, a change to an existing one, or unchanged."""
        for start in range(0, len(self.lines), CHUNK_ROWS):
            chunk = self.lines[start : start + CHUNK_ROWS]
            existing = {
                (line.partner_id, line.external_id): line
                for line in SalesLine.objects.filter(
                    partner_id__in={partner.pk for partner, _id, _values in chunk},
                    external_id__in={external_id for _partner, external_id, _values in chunk},
                )
            }
            for partner, external_id, values in chunk:
                line = existing.get((partner.pk, external_id))
                if line is None:
                    line = SalesLine(partner=partner, external_id=external_id, source=self.source, **values)
                    self.created.append(line)
                    self.outcomes.append((line, "created"))
                    continue
                changed = False
                for name, value in values.items():
                    related = name in RELATED_FIELDS
                    current = getattr(line, f"{name}_id" if related else name)
                    wanted = (value.pk if value is not None else None) if related else value
                    if current != wanted:
                        setattr(line, name, value)
                        changed = True
                if changed:
                    self.updated.append(line)
                else:
                    self.unchanged += 1
                self.outcomes.append((line, "updated" if changed else "unchanged"))

    def write_chunks(self):
        """(rows, callable) per chunk: the creates, then the updates."""
        for start in range(0, len(self.created), CHUNK_ROWS):
            chunk = self.created[start : start + CHUNK_ROWS]
            yield len(chunk), lambda chunk=chunk: SalesLine.objects.bulk_create(chunk, batch_size=500)
        for start in range(0, len(self.updated), CHUNK_ROWS):
            chunk = self.updated[start : start + CHUNK_ROWS]
            yield len(chunk), lambda chunk=chunk: _update_lines(chunk)

    def write_chunk_count(self):
        return -(-len(self.created) // CHUNK_ROWS) + -(-len(self.updated) // CHUNK_ROWS)


class _ImportSubject:
    """What the history entry of an import is about: the sales lines, as a whole."""

    _meta = SalesLine._meta
    pk = "import"

    def __init__(self, name):
        self.name = name

    def __str__(self):
        return self.name


def _require_importer(by, partner):
    if by is None:
        return
    if partner is not None:
        own = partner_of(by)
        if own is None or own.pk != partner.pk:
            raise PermissionDenied(_("You can upload only your own organisation's sales."))
    elif not can_write_as_staff(by):
        raise PermissionDenied(_("Your role can read sales but not import them."))


def _table(file):
    """The file's rows with the column keys (English or Chinese headers accepted)."""
    table = read_table(file)
    aliases = _aliases()
    header = [aliases.get(key, key) for key in table.header]
    rows = [(number, {aliases.get(key, key): value for key, value in cells.items()}) for number, cells in table.rows]
    return table.header_row, header, rows


def import_row_count(file):
    """How many rows the file has (the file itself checked as the import checks it)."""
    return len(read_table(file).rows)


def sales_import(*, file, by, partner=None, dry_run=False, progress=None):
    """Import sales lines from a CSV (UTF-8 or GB18030) or .xlsx file with the columns
    partner_code (a staff import; a portal upload may leave it empty), external_id (optional),
    sold_on (YYYY-MM-DD), product_sku or product_line_code, customer_id, customer_name
    (optional), customer_region_code (optional), quantity, unit_price, amount (optional: quantity
    × unit price rounded half-up to the cent; when given it must agree to the cent) and currency
    (optional, default settings.PRM_CURRENCY); English or Chinese headers.

    `by` is staff who may write (each row's partner must be one they manage) or, with `partner`,
    that partner's own user (a portal upload: a row naming another partner is an error that never
    tells whether that partner exists). Every bad cell is reported as (row, column, reason), the
    header being row 1; with any error, or in a dry run, nothing is written. Rows are upserted by
    (partner, external ID); a row without one is identified by its content and its occurrence
    in the file. With `progress` (a background run), the writes commit chunk by chunk so the
    page sees them; otherwise in one transaction. The file itself (type, size, unreadable) is
    refused with a ValidationError on "file"."""
    _require_importer(by, partner)
    header_row, header, rows = _table(file)
    report = SalesImportReport(dry_run=dry_run, total=len(rows))
    required = [*IMPORT_REQUIRED, *(("partner_code",) if partner is None else ())]
    missing = [column for column in required if column not in header]
    if "product_sku" not in header and "product_line_code" not in header:
        missing.append("product_sku")
    if missing:
        report.errors = [
            (
                header_row,
                column,
                _("The column “%(column)s” is missing; the required columns are %(columns)s.")
                % {"column": column, "columns": ", ".join([*required, "product_sku / product_line_code"])},
            )
            for column in missing
        ]
        return report
    if progress is not None:
        progress.set_total(-(-len(rows) // CHUNK_ROWS))
    plan = _SalesImport(rows, by=by, partner=partner, progress=progress)
    plan.check()
    report.errors = sorted(plan.errors, key=lambda item: (item[0], _column_order(item[1])))
    if report.errors:
        return report
    plan.plan()
    report.created, report.updated, report.unchanged = len(plan.created), len(plan.updated), plan.unchanged
    if dry_run:
        return report
    try:
        if progress is None:
            with transaction.atomic():
                for _rows, write in plan.write_chunks():
                    write()
                _audit(file, by, report)
        else:
            progress.set_total(progress.run.total + plan.write_chunk_count())
            for rows_written, write in plan.write_chunks():
                with transaction.atomic():
                    write()
                progress.advance(rows=rows_written)
            _audit(file, by, report)
    except IntegrityError as error:
        raise ValidationError(
            _("Another import of the same lines was saved at the same moment; import the file again.")
        ) from error
    return report


def _audit(file, by, report):
    name = os.path.basename(getattr(file, "name", "") or "")
    audit_record(
        instance=_ImportSubject(_("Import of %(file)s") % {"file": name}),
        action=AuditEntry.Action.CREATE,
        by=by,
        changes={
            "file": [None, name],
            "total": [None, report.total],
            "created": [None, report.created],
            "updated": [None, report.updated],
            "unchanged": [None, report.unchanged],
        },
    )


def _column_order(column):
    return IMPORT_COLUMNS.index(column) if column in IMPORT_COLUMNS else len(IMPORT_COLUMNS)


# In the background -------------------------------------------------------------------------------


def _import_dir():
    return Path(settings.MEDIA_ROOT) / IMPORT_FOLDER


def needs_background(rows):
    return rows > settings.PRM_IMPORT_BACKGROUND_ROWS


def sales_import_start(*, file, name, by, partner=None, dry_run=False):
    """Keep the upload (under MEDIA_ROOT, never served) and queue its import: returns the run
    (prm.JobRun) whose progress the page shows and whose params["report"] holds the report once
    it is done."""
    from .tasks import sales_import_run as task

    _require_importer(by, partner)
    folder = _import_dir()
    folder.mkdir(parents=True, exist_ok=True)
    stale = time.time() - IMPORT_KEEP_SECONDS
    for old in folder.iterdir():
        if old.is_file() and old.stat().st_mtime < stale:
            old.unlink(missing_ok=True)
    stored = f"{secrets.token_urlsafe(24)}{os.path.splitext(name)[1].lower()}"
    file.seek(0)
    with open(folder / stored, "wb") as target:
        for chunk in file.chunks() if hasattr(file, "chunks") else iter(lambda: file.read(65536), b""):
            target.write(chunk)
    run = job_queue(
        IMPORT_JOB,
        by=by,
        params={
            "file": stored,
            "name": name,
            "partner": partner.pk if partner is not None else None,
            "dry_run": dry_run,
        },
    )
    transaction.on_commit(lambda: task.delay(run.pk))
    return run


def sales_import_run(*, run_id):
    """The background run of an import `sales_import_start` queued: the same import, with its
    progress and its report kept on the run; the stored upload is deleted afterwards."""
    run = JobRun.objects.select_related("started_by").get(pk=run_id, job=IMPORT_JOB)
    params = run.params
    path = _import_dir() / os.path.basename(params["file"])
    partner = Partner.objects.get(pk=params["partner"]) if params.get("partner") else None
    try:
        with job_run(run.job, run_id=run.pk) as progress:
            if run.started_by is None:
                raise ValidationError(_("The person who started this import no longer exists."))
            with open(path, "rb") as handle:
                report = sales_import(
                    file=File(handle, name=params["name"]),
                    by=run.started_by,
                    partner=partner,
                    dry_run=params.get("dry_run", False),
                    progress=progress,
                )
            JobRun.objects.filter(pk=run.pk).update(
                params={**params, "report": report.as_dict(limit=STORED_ERRORS)}, updated_at=timezone.now()
            )
    finally:
        path.unlink(missing_ok=True)
    return report


def run_report(run):
    """The report a finished run kept, or None."""
    data = (run.params or {}).get("report") if run is not None else None
    return SalesImportReport.from_dict(data) if data else None


def import_runs(user):
    """The import runs this user started: only they read a run's report."""
    return JobRun.objects.filter(job=IMPORT_JOB, started_by=user) if user.is_authenticated else JobRun.objects.none()
