from collections import defaultdict
from decimal import Decimal

from django.conf import settings
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, status
from rest_framework.decorators import action
from rest_framework.response import Response

from prm.api.upserts import (
    UPSERT_URL_NAME,
    UPSERT_URL_PATH,
    UpsertResult,
    upsert_external_id,
    upsert_response,
    upsert_schema,
)
from prm.api.viewsets import ServiceModelViewSet
from prm.roles import is_staff_user
from prm.tenancy import partner_of

from .. import selectors, services
from ..filters import ProductFilterSet, ProductLineFilterSet, SalesLineFilterSet
from ..models import Product, ProductLine
from .serializers import (
    ProductLineSerializer,
    ProductSerializer,
    SalesLineBulkErrorSerializer,
    SalesLineBulkResponseSerializer,
    SalesLineBulkRowSerializer,
    SalesLineBulkSerializer,
    SalesLineSerializer,
    SalesLineWriteSerializer,
)


class ProductLineViewSet(ServiceModelViewSet):
    """The product lines of the catalogue. Everyone reads them (reference data); a channel admin
    or a key with `sales:write` changes them. Product lines are never deleted: deactivate them."""

    api_area = "sales"
    partner_readable = True
    serializer_class = ProductLineSerializer
    filterset_class = ProductLineFilterSet
    ordering_fields = ["code", "name", "created_at", "updated_at"]
    ordering = ["name"]
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def get_queryset(self):
        return ProductLine.objects.visible_to(self.request.user)

    def create_object(self, data):
        return services.product_line_create(by=self.request.user, **data)

    def update_object(self, instance, data):
        return services.product_line_update(product_line=instance, by=self.request.user, **data)


class ProductViewSet(ServiceModelViewSet):
    """Products (SKUs) and the line each belongs to. Read like product lines; never deleted:
    deactivate them."""

    api_area = "sales"
    partner_readable = True
    serializer_class = ProductSerializer
    filterset_class = ProductFilterSet
    ordering_fields = ["sku", "name", "list_price", "created_at", "updated_at"]
    ordering = ["product_line__name", "name"]
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def get_queryset(self):
        return Product.objects.visible_to(self.request.user)

    def create_object(self, data):
        return services.product_create(by=self.request.user, **data)

    def update_object(self, instance, data):
        return services.product_update(product=instance, by=self.request.user, **data)


def _own_partner(user):
    """The partner a partner's key acts for; None for vendor staff and vendor keys."""
    return None if is_staff_user(user) else partner_of(user)


def _messages(detail):
    """A row's DRF errors as {field: [reasons]}."""
    if not isinstance(detail, dict):
        detail = {"non_field_errors": detail if isinstance(detail, list) else [detail]}
    return {
        name: [str(item) for item in (items if isinstance(items, list) else [items])] for name, items in detail.items()
    }


def _bulk_lines(data):
    lines = data.get("lines") if isinstance(data, dict) else None
    if not isinstance(lines, list):
        raise exceptions.ValidationError({"lines": [_('Send the lines as a list: {"lines": [...]}.')]})
    if len(lines) > settings.PRM_API_BULK_MAX_ROWS:
        raise exceptions.ValidationError(
            {
                "lines": [
                    _("At most %(max)s lines in one call (this one has %(count)s): send the rest in another call.")
                    % {"max": settings.PRM_API_BULK_MAX_ROWS, "count": len(lines)}
                ]
            }
        )
    return lines


def _row_external_id(row):
    value = row.get("external_id") if isinstance(row, dict) else None
    return None if value is None else str(value)


LINE_RULES = (
    "The body is one line with the sales import's rules: the partner (`partner` id or `partner_code`; a key bound "
    "to a partner leaves it out), `sold_on`, the product (`product` id or `product_sku`) or the product line "
    "(`product_line` id or `product_line_code`), `customer_id`, `quantity`, `unit_price`, and optionally "
    "`customer_name`, the customer region (`customer_region` id or `customer_region_code`), `amount` (must agree "
    "with quantity × unit price to the cent) and `currency`. Lines written here have `source` api."
)


@extend_schema_view(
    create=extend_schema(
        summary="Report one sales line",
        description=LINE_RULES + " A line with the same external ID (or, without one, the same content) for the "
        "partner already exists: 400 under external_id (change it with PUT .../by-external-id/...).",
        request=SalesLineWriteSerializer,
        responses={201: SalesLineSerializer},
    ),
    update=extend_schema(
        summary="Change a sales line",
        description="The fields given replace the line's (a new product brings its product line; a new quantity or "
        "unit price its amount, unless given). A line keeps its partner and its external ID. X-Upsert-Result says "
        "updated or unchanged.",
        request=SalesLineWriteSerializer,
        responses={200: SalesLineSerializer},
    ),
    partial_update=extend_schema(
        summary="Change some fields of a sales line",
        description="As PUT, with only the fields to change.",
        request=SalesLineWriteSerializer,
        responses={200: SalesLineSerializer},
    ),
    destroy=extend_schema(
        summary="Delete a sales line",
        description="For a sale reported by mistake (a return is a line with a negative quantity instead). Approved "
        "rebate statements and published snapshots keep their figures; the next computation reads the lines as "
        "they are. The deletion is recorded.",
    ),
)
class SalesLineViewSet(ServiceModelViewSet):
    """The sales lines partners reported (the facts every KPI reads), newest first. Filters:
    `?period=2026-03` (or 2026-Q1, 2026), `?partner=<id>`, `?product_line=<id>`, `?region=<id>`
    (the customer's region and the regions below it), `?source=portal|import|api`, `?q=`
    (customer or external ID). Staff and keys with `sales:read` read them; a key bound to a
    partner reads only its partner's lines.

    Writes (staff who write, keys with `sales:write`; a key bound to a partner for its own lines
    only) follow the rules of the sales import (sales.services.sales_lines_write): one line, one
    line by external ID (an upsert), or many at once, all or nothing."""

    api_area = "sales"
    partner_readable = True
    partner_writable_actions = ("create", "update", "partial_update", "destroy", "upsert", "bulk")
    serializer_class = SalesLineSerializer
    filterset_class = SalesLineFilterSet
    ordering_fields = ["sold_on", "amount", "quantity", "created_at"]
    ordering = ["-sold_on", "-id"]

    def get_queryset(self):
        return selectors.sales_line_list(user=self.request.user)

    def _fields(self, serializer_class=SalesLineWriteSerializer, partial=False):
        payload = serializer_class(data=self.request.data, partial=partial)
        payload.is_valid(raise_exception=True)
        return dict(payload.validated_data)

    def _written(self, line, outcome):
        return upsert_response(self.get_serializer(self.get_queryset().get(pk=line.pk)).data, outcome)

    def create(self, request, *args, **kwargs):
        line, outcome = services.sales_line_upsert(
            fields=self._fields(), by=request.user, partner=_own_partner(request.user), expect="create"
        )
        return self._written(line, outcome)

    def update(self, request, *args, partial=False, **kwargs):
        line = self.get_object()
        data = self._fields(partial=partial)
        line, outcome = services.sales_line_update(
            line=line, data=data, by=request.user, partner=_own_partner(request.user)
        )
        return self._written(line, outcome)

    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)

    def delete_object(self, instance):
        services.sales_line_delete(line=instance, by=self.request.user, partner=_own_partner(self.request.user))

    @upsert_schema(
        request=SalesLineWriteSerializer,
        response=SalesLineSerializer,
        summary="Create or replace a sales line by its external ID",
        description=LINE_RULES + " Lines are unique by (partner, external ID): the same body again changes nothing "
        "(200, X-Upsert-Result: unchanged, no updated_at change). The body is the whole line: fields left out take "
        "their defaults. Naming a partner the caller may not write for is a 400 that never tells whether it exists.",
    )
    @action(detail=False, methods=["put"], url_path=UPSERT_URL_PATH, url_name=UPSERT_URL_NAME)
    def upsert(self, request, external_id=None, **kwargs):
        """The line the sending system knows by `external_id` (for the partner the body names, or
        the key's own partner), created or replaced."""
        data = self._fields()
        data["external_id"] = upsert_external_id(external_id, data)
        line, outcome = services.sales_line_upsert(fields=data, by=request.user, partner=_own_partner(request.user))
        return self._written(line, outcome)

    @extend_schema(
        summary="Create or update many sales lines, all or nothing",
        description="Up to PRM_API_BULK_MAX_ROWS lines (1000 by default; more: 400 under `lines`), each with its "
        "`external_id`, by the rules of one line (see POST). Every row is checked first: if any is wrong, nothing "
        "is written and the 400 lists every row (`status` valid or error, with its `errors`). Otherwise all are "
        "written in one transaction and each row says created, updated or unchanged, with the line's id; `totals` "
        "counts them and adds up the amounts per currency. Sending the same batch again changes nothing. "
        "An external ID twice in one batch is an error on the later row.",
        request=SalesLineBulkSerializer,
        responses={
            200: SalesLineBulkResponseSerializer,
            400: OpenApiResponse(
                SalesLineBulkErrorSerializer,
                description="Rows with errors (`results`), or a body that is not a list of at most "
                "PRM_API_BULK_MAX_ROWS lines (`errors.lines`). Nothing was written.",
            ),
        },
    )
    @action(detail=False, methods=["post"])
    def bulk(self, request, **kwargs):
        lines = _bulk_lines(request.data)
        row_fields = SalesLineBulkRowSerializer()
        rows, errors = [], {}
        for index, line in enumerate(lines):
            try:
                rows.append((index, dict(row_fields.run_validation(line))))
            except exceptions.ValidationError as error:
                errors[index] = _messages(error.detail)
        report = services.sales_lines_write(
            rows=rows, by=request.user, partner=_own_partner(request.user), check_only=bool(errors)
        )
        errors.update(report.errors)
        if errors:
            return self._bulk_refused(lines, errors)
        results, amounts = [], defaultdict(lambda: Decimal("0"))
        counts = {str(result): 0 for result in UpsertResult}
        for (index, _fields), (line, outcome) in zip(rows, report.outcomes, strict=True):
            results.append({"index": index, "external_id": line.external_id, "id": line.pk, "status": outcome})
            counts[outcome] += 1
            amounts[line.currency] += line.amount
        totals = {"lines": len(results), **counts, "amount": {code: f"{total:.2f}" for code, total in amounts.items()}}
        return Response({"results": results, "totals": totals})

    def _bulk_refused(self, lines, errors):
        results = [
            {"index": index, "external_id": _row_external_id(line), "status": "error", "errors": errors[index]}
            if index in errors
            else {"index": index, "external_id": _row_external_id(line), "status": "valid"}
            for index, line in enumerate(lines)
        ]
        message = _("%(count)s of %(total)s lines are not valid; nothing was written.") % {
            "count": len(errors),
            "total": len(lines),
        }
        body = {"code": "invalid", "message": message, "errors": {}, "results": results}
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
