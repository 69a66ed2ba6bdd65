from rest_framework import serializers

from ..models import Product, ProductLine, SalesLine
from ..services import PRODUCT_LINE_UPDATABLE_FIELDS, PRODUCT_UPDATABLE_FIELDS


class ProductLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = ProductLine
        fields = ["id", *PRODUCT_LINE_UPDATABLE_FIELDS, "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]


class ProductSerializer(serializers.ModelSerializer):
    class Meta:
        model = Product
        fields = ["id", *PRODUCT_UPDATABLE_FIELDS, "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]


class SalesLineSerializer(serializers.ModelSerializer):
    partner_code = serializers.CharField(source="partner.code", read_only=True)
    product_sku = serializers.CharField(source="product.sku", read_only=True, default=None, allow_null=True)
    product_line_code = serializers.CharField(source="product_line.code", read_only=True)
    customer_region_code = serializers.CharField(
        source="customer_region.code", read_only=True, default=None, allow_null=True
    )

    class Meta:
        model = SalesLine
        fields = [
            "id",
            "partner",
            "partner_code",
            "external_id",
            "sold_on",
            "product",
            "product_sku",
            "product_line",
            "product_line_code",
            "customer_id",
            "customer_name",
            "customer_region",
            "customer_region_code",
            "quantity",
            "unit_price",
            "amount",
            "currency",
            "source",
            "created_at",
        ]
        read_only_fields = fields
