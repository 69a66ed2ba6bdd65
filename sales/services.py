"""Writes to the product catalogue. Each service checks that the user may change reference data
(a channel admin, or a vendor API key allowed to write), validates, writes in one transaction,
records history, and raises a ValidationError naming the field and the reason when the input is
wrong. Codes and SKUs are stored in upper case, so "pl-01" and "PL-01" are the same code."""

from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from partners.access import can_manage_partner, can_manage_reference_data
from prm.audit import audit_record, diff, snapshot
from prm.models import AuditEntry
from prm.roles import can_write_as_staff, is_integration
from prm.tenancy import partner_of

from . import imports
from .imports import SalesImportReport, sales_import, sales_import_start  # noqa: F401 (the import is a service)
from .models import Product, ProductLine, SalesSource

PRODUCT_LINE_UPDATABLE_FIELDS = ("code", "name", "description", "is_active")
PRODUCT_UPDATABLE_FIELDS = ("sku", "name", "product_line", "unit", "list_price", "is_active")


def require_manage_catalogue(user):
    """Only a channel admin (or a vendor API key allowed to write) changes the catalogue; `None`
    is the system itself (demo data, imports)."""
    if user is not None and not can_manage_reference_data(user):
        raise PermissionDenied(_("Only a channel admin can change the product catalogue."))


def _normalise_code(value):
    return (value or "").strip().upper()


def _apply(instance, data, allowed):
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise ValidationError({name: _("This field cannot be changed here.") for name in unknown})
    for name, value in data.items():
        setattr(instance, name, value.strip() if isinstance(value, str) else value)


def _save(instance):
    """Validate every field and constraint, then save; a race on a unique value is still a clear
    error, never a 500."""
    instance.full_clean()
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError as error:
        raise ValidationError(
            _("Another change to the same data was saved at the same moment; reload and try again.")
        ) from error


# Product lines ------------------------------------------------------------------------------


@transaction.atomic
def product_line_create(*, by=None, **data):
    """Create a product line; its code is unique (in upper case)."""
    require_manage_catalogue(by)
    line = ProductLine()
    data["code"] = _normalise_code(data.get("code"))
    _apply(line, data, PRODUCT_LINE_UPDATABLE_FIELDS)
    _save(line)
    audit_record(instance=line, action=AuditEntry.Action.CREATE, by=by)
    return line


@transaction.atomic
def product_line_update(*, product_line, by=None, **data):
    """Change a product line; the change is recorded. Deactivating one keeps its products,
    agreements and sales: it is only no longer offered for new ones."""
    require_manage_catalogue(by)
    line = ProductLine.objects.select_for_update().get(pk=product_line.pk)
    if "code" in data:
        data["code"] = _normalise_code(data["code"])
    before = snapshot(line, PRODUCT_LINE_UPDATABLE_FIELDS)
    _apply(line, data, PRODUCT_LINE_UPDATABLE_FIELDS)
    _save(line)
    changes = diff(before, snapshot(line, PRODUCT_LINE_UPDATABLE_FIELDS))
    if changes:
        audit_record(instance=line, action=AuditEntry.Action.UPDATE, by=by, changes=changes)
    return line


# Products -----------------------------------------------------------------------------------


def _check_product_line(product):
    line = product.product_line if product.product_line_id else None
    if line is not None and not line.is_active and product.is_active:
        raise ValidationError(
            {"product_line": _("%(line)s is inactive: activate it first or choose another.") % {"line": line}}
        )


@transaction.atomic
def product_create(*, by=None, **data):
    """Create a product (SKU) in an active product line; its SKU is unique (in upper case)."""
    require_manage_catalogue(by)
    product = Product()
    data["sku"] = _normalise_code(data.get("sku"))
    _apply(product, data, PRODUCT_UPDATABLE_FIELDS)
    _check_product_line(product)
    _save(product)
    audit_record(instance=product, action=AuditEntry.Action.CREATE, by=by)
    return product


@transaction.atomic
def product_update(*, product, by=None, **data):
    """Change a product; the change is recorded. An active product stays in an active line."""
    require_manage_catalogue(by)
    product = Product.objects.select_for_update().get(pk=product.pk)
    if "sku" in data:
        data["sku"] = _normalise_code(data["sku"])
    before = snapshot(product, PRODUCT_UPDATABLE_FIELDS)
    was = (product.product_line_id, product.is_active)
    _apply(product, data, PRODUCT_UPDATABLE_FIELDS)
    if (product.product_line_id, product.is_active) != was:
        _check_product_line(product)
    _save(product)
    changes = diff(before, snapshot(product, PRODUCT_UPDATABLE_FIELDS))
    if changes:
        audit_record(instance=product, action=AuditEntry.Action.UPDATE, by=by, changes=changes)
    return product


# Sales lines through the API ----------------------------------------------------------------


@dataclass
class SalesLinesWrite:
    """What a write of sales lines did: `outcomes`, one (line, "created" | "updated" |
    "unchanged") per row in the rows' order; or, when any row is wrong and nothing was written,
    `errors` as {row index: {field: [reasons]}}."""

    outcomes: list = field(default_factory=list)
    errors: dict = field(default_factory=dict)


def _require_sales_writer(by, partner):
    """Staff who write, a vendor API key, or (with `partner`) that partner's own user or key;
    `None` is the system itself."""
    if by is None:
        return
    if partner is not None:
        own = partner_of(by)
        if own is None or own.pk != partner.pk:
            raise PermissionDenied(_("You can change only your own organisation's sales."))
    elif not (can_write_as_staff(by) or is_integration(by)):
        raise PermissionDenied(_("Your role can read sales but not change them."))


def sales_lines_write(*, rows, by, partner=None, expect=None, check_only=False):
    """Create or update sales lines sent through the API (source "api"), all or nothing. `rows`
    are (index, fields), the fields named as the sales import's columns (sales.imports), the
    partner, product, product line and customer region also by id ("partner": 12). Every row is
    checked by the import's rules and matched to a line by (partner, external ID) as the import
    does, so a line follows the same rules whichever way it came. With `partner` (a partner's
    own user or key) the rows are that partner's lines, and naming another partner is an error
    that never tells whether it exists. `expect="create"` refuses a row whose line exists (a
    POST). A line whose values are all the same already is not written at all (no updated_at
    change). Any error, or `check_only`: nothing is written. Lookups and writes are set-based:
    the same few queries for one row or a thousand."""
    _require_sales_writer(by, partner)
    plan = imports._SalesImport(rows, by=by, partner=partner, source=SalesSource.API, ids=True)
    plan.check()
    report = SalesLinesWrite()
    for index, column, message in plan.errors:
        report.errors.setdefault(index, {}).setdefault(column, []).append(message)
    if report.errors or check_only:
        return report
    plan.plan()
    if expect == "create":
        for (index, _fields), (line, outcome) in zip(rows, plan.outcomes, strict=True):
            if outcome != "created":
                report.errors[index] = {"external_id": [_exists_message(line)]}
        if report.errors:
            return report
    _sales_lines_save(plan, by)
    report.outcomes = plan.outcomes
    return report


def _exists_message(line):
    if line.external_id.startswith("row:"):
        return _("This partner reported the same sale already (same content, no external ID).")
    return _("This partner already has a sales line with this external ID; change it with PUT.")


def _sales_lines_save(plan, by):
    if not (plan.created or plan.updated):
        return
    try:
        with transaction.atomic():
            for _rows, write in plan.write_chunks():
                write()
            audit_record(
                instance=imports._ImportSubject(_("Sales lines sent through the API")),
                action=AuditEntry.Action.CREATE,
                by=by,
                changes={"created": [None, len(plan.created)], "updated": [None, len(plan.updated)]},
            )
    except IntegrityError as error:
        raise ValidationError(
            _("Another change to the same sales lines was saved at the same moment; send them again.")
        ) from error


def sales_line_upsert(*, fields, by, partner=None, expect=None):
    """One sales line (`fields` as a row of `sales_lines_write`): returns (line, outcome); a wrong
    value raises a ValidationError naming the field."""
    report = sales_lines_write(rows=[(0, fields)], by=by, partner=partner, expect=expect)
    if report.errors:
        raise ValidationError(report.errors[0])
    return report.outcomes[0]


# Giving one of these replaces all of them: a new product comes with its own product line.
_REPLACED_TOGETHER = (
    {"product", "product_sku", "product_line", "product_line_code"},
    {"customer_region", "customer_region_code"},
)


def sales_line_update(*, line, data, by, partner=None):
    """Change the fields given in `data` of one sales line (by the import's rules, as
    `sales_lines_write`); a line stays with its partner and keeps its external ID. Returns (line,
    outcome)."""
    errors = {}
    if data.get("partner") not in (None, line.partner_id):
        errors["partner"] = [_("A sales line stays with its partner.")]
    if str(data.get("partner_code") or "").strip().upper() not in ("", line.partner.code):
        errors["partner_code"] = [_("A sales line stays with its partner.")]
    if str(data.get("external_id") or "").strip() not in ("", line.external_id):
        errors["external_id"] = [_("A sales line keeps its external ID.")]
    if not line.external_id:
        errors["external_id"] = [_("This line has no external ID, so it can only be replaced by an import.")]
    if errors:
        raise ValidationError(errors)
    fields = {
        "partner": line.partner_id,
        "external_id": line.external_id,
        "sold_on": line.sold_on,
        "product": line.product_id,
        "product_line": line.product_line_id,
        "customer_id": line.customer_id,
        "customer_name": line.customer_name,
        "customer_region": line.customer_region_id,
        "quantity": line.quantity,
        "unit_price": line.unit_price,
        "amount": line.amount,
        "currency": line.currency,
    }
    for together in _REPLACED_TOGETHER:
        if together & set(data):
            for name in together:
                fields.pop(name, None)
    if {"quantity", "unit_price"} & set(data) and "amount" not in data:
        fields.pop("amount")  # the new quantity × unit price
    kept = ("partner", "partner_code", "external_id")
    fields.update({name: value for name, value in data.items() if name not in kept})
    return sales_line_upsert(fields=fields, by=by, partner=partner)


@transaction.atomic
def sales_line_delete(*, line, by, partner=None):
    """Delete a sales line reported by mistake (a return is a line with a negative quantity
    instead). The lines are the facts KPIs and rebates are computed from: an approved rebate
    statement or a published snapshot keeps its own figures, the next computation reads the lines
    as they are. The deletion is recorded."""
    _require_sales_writer(by, partner)
    if partner is None and by is not None and not can_manage_partner(by, line.partner):
        raise PermissionDenied(_("You can change sales only for the partners you own or that are in your regions."))
    if partner is not None and line.partner_id != partner.pk:
        raise PermissionDenied(_("You can change only your own organisation's sales."))
    audit_record(
        instance=line,
        action=AuditEntry.Action.DELETE,
        by=by,
        changes={"external_id": [line.external_id, None], "amount": [str(line.amount), None]},
    )
    line.delete()
