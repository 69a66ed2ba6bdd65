"""Writes to the product catalogue. Each service checks that the user may change reference data
(a channel admin, or a vendor API key allowed to write), validates, writes in one transaction,
records history, and raises a ValidationError naming the field and the reason when the input is
wrong. Codes and SKUs are stored in upper case, so "pl-01" and "PL-01" are the same code."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from partners.access import can_manage_reference_data
from prm.audit import audit_record, diff, snapshot
from prm.models import AuditEntry

from .imports import SalesImportReport, sales_import, sales_import_start  # noqa: F401 (the import is a service)
from .models import Product, ProductLine

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
