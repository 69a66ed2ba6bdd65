from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
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


@extend_schema_field({"type": "string", "format": "decimal", "example": "12.50"})
class DecimalTextField(serializers.CharField):
    """A decimal as text ("12.50"; a JSON number is accepted too), checked by the sales import's
    rules rather than here, so the API and an import file refuse the same values."""


MAX_ID = 2**63 - 1


class SalesLineWriteSerializer(serializers.Serializer):
    """One sales line as a CRM or a partner's system sends it. The partner, product, product line
    and customer region are given by id (as the line reads) or by code (as an import file names
    them). The values follow the rules of the sales import: so this only checks their types."""

    partner = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=MAX_ID,
        help_text=_("The partner's id (or partner_code). A key bound to a partner leaves it out: its own."),
    )
    partner_code = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    external_id = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=100,
        help_text=_("The line's ID in the sending system, unique per partner: sending it again updates the line."),
    )
    sold_on = serializers.CharField(help_text=_("The date of the sale, YYYY-MM-DD; not in the future."))
    product = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=MAX_ID)
    product_sku = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    product_line = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=MAX_ID)
    product_line_code = serializers.CharField(
        required=False,
        allow_blank=True,
        allow_null=True,
        help_text=_("The product (product or product_sku) or, without one, the product line is required."),
    )
    customer_id = serializers.CharField()
    customer_name = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    customer_region = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=MAX_ID)
    customer_region_code = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    quantity = DecimalTextField(help_text=_("At most 3 decimal places; not 0 (a return is negative)."))
    unit_price = DecimalTextField(help_text=_("At most 2 decimal places; not negative."))
    amount = DecimalTextField(
        required=False,
        allow_blank=True,
        allow_null=True,
        help_text=_("Quantity × unit price rounded half-up to the cent; when given it must agree to the cent."),
    )
    currency = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, help_text=_("e.g. CNY; empty: the default currency.")
    )


class SalesLineBulkRowSerializer(SalesLineWriteSerializer):
    external_id = serializers.CharField(
        max_length=100, help_text=_("Required in bulk, so that sending the same batch again changes nothing.")
    )


class SalesLineBulkSerializer(serializers.Serializer):
    lines = SalesLineBulkRowSerializer(many=True)


class SalesLineBulkResultSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text=_("The row's position in `lines`, from 0."))
    external_id = serializers.CharField(allow_null=True)
    id = serializers.IntegerField(required=False, help_text=_("The sales line's id (when the batch was written)."))
    status = serializers.ChoiceField(choices=["created", "updated", "unchanged", "valid", "error"])
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text=_("The row's errors by field (when the batch was refused)."),
    )


class SalesLineBulkTotalsSerializer(serializers.Serializer):
    lines = serializers.IntegerField()
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    amount = serializers.DictField(
        child=serializers.DecimalField(max_digits=20, decimal_places=2),
        help_text=_("The lines' amounts added up per currency, to the cent."),
    )


class SalesLineBulkResponseSerializer(serializers.Serializer):
    results = SalesLineBulkResultSerializer(many=True)
    totals = SalesLineBulkTotalsSerializer()


class SalesLineBulkErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    errors = serializers.DictField()
    results = SalesLineBulkResultSerializer(
        many=True, required=False, help_text=_("One entry per row: valid, or error with the row's errors.")
    )
