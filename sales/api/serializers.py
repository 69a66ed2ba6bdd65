from rest_framework import serializers

from ..models import Product, ProductLine
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
