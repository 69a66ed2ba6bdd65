from rest_framework import viewsets

from prm.api.viewsets import ServiceModelViewSet

from .. import selectors, services
from ..filters import ProductFilterSet, ProductLineFilterSet, SalesLineFilterSet
from ..models import Product, ProductLine
from .serializers import ProductLineSerializer, ProductSerializer, SalesLineSerializer


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


class SalesLineViewSet(viewsets.ReadOnlyModelViewSet):
    """The sales lines partners reported (the facts every KPI reads), newest first. Filters:
    `?period=2026-03` (or 2026-Q1, 2026), `?partner=<id>`, `?product_line=<id>`, `?region=<id>`
    (the customer's region and the regions below it), `?source=portal|import|api`, `?q=`
    (customer or external ID). Staff and keys with `sales:read` read them; a key bound to a
    partner reads only its partner's lines."""

    api_area = "sales"
    partner_readable = True
    serializer_class = SalesLineSerializer
    filterset_class = SalesLineFilterSet
    ordering_fields = ["sold_on", "amount", "quantity", "created_at"]
    ordering = ["-sold_on", "-id"]

    def get_queryset(self):
        return selectors.sales_line_list(user=self.request.user)
