from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.fields import empty

from partners.models import Partner, Region
from prm.api.serializers import RowSerializer, VendorOnlyFieldsMixin
from sales.models import ProductLine

from ..choices import AgreementType, DocumentKind
from ..models import Agreement, AgreementDocument, AgreementTarget, RegionTarget


class TerritorySerializer(RowSerializer):
    """A region the agreement grants; `exclusive`: nobody else sells its product lines there."""

    region = serializers.PrimaryKeyRelatedField(queryset=Region.objects.all())
    exclusive = serializers.BooleanField(default=False)


class MinimumPriceSerializer(RowSerializer):
    """The lowest resale price per unit the partner agrees to for a product line."""

    product_line = serializers.PrimaryKeyRelatedField(queryset=ProductLine.objects.all())
    min_unit_price = serializers.DecimalField(max_digits=16, decimal_places=2, min_value=0)


def _no_repeats(rows, key, message):
    seen = set()
    for row in rows:
        if row[key] in seen:
            raise serializers.ValidationError(message % {"name": row[key]})
        seen.add(row[key])
    return rows


class AgreementSerializer(VendorOnlyFieldsMixin, serializers.ModelSerializer):
    partner = serializers.PrimaryKeyRelatedField(
        queryset=Partner.objects.all(), help_text=_("Set on create; an agreement never moves to another partner.")
    )
    type = serializers.ChoiceField(source="agreement_type", choices=AgreementType.choices)
    product_lines = serializers.PrimaryKeyRelatedField(queryset=ProductLine.objects.all(), many=True, required=False)
    territories = TerritorySerializer(many=True, required=False)
    minimum_prices = MinimumPriceSerializer(many=True, required=False)
    owner = serializers.PrimaryKeyRelatedField(
        queryset=get_user_model().objects.filter(is_staff=True, is_active=True), allow_null=True, required=False
    )

    class Meta:
        model = Agreement
        fields = [
            "id",
            "number",
            "partner",
            "type",
            "status",
            "start_date",
            "end_date",
            "product_lines",
            "territories",
            "minimum_prices",
            "discount_percent",
            "price_list",
            "currency",
            "payment_terms",
            "payment_days",
            "market_support",
            "after_sales_obligations",
            "penalty_clauses",
            "vendor_signatory",
            "partner_signatory",
            "signed_on",
            "notes",
            "owner",
            "predecessor",
            "version",
            "is_amendment",
            "submitted_at",
            "approved_at",
            "ended_at",
            "termination_reason",
            "acknowledged_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "number",
            "status",
            "predecessor",
            "version",
            "is_amendment",
            "submitted_at",
            "approved_at",
            "ended_at",
            "termination_reason",
            "acknowledged_at",
            "created_at",
            "updated_at",
        ]
        # The vendor's internal notes and its channel manager stay with the vendor.
        vendor_only_fields = ["notes", "owner"]

    def validate_territories(self, rows):
        return _no_repeats(rows, "region", _("%(name)s is listed twice."))

    def validate_minimum_prices(self, rows):
        return _no_repeats(rows, "product_line", _("%(name)s has two minimum prices."))

    def validate_partner(self, partner):
        if self.instance is not None and partner != self.instance.partner:
            raise serializers.ValidationError(_("An agreement cannot move to another partner."))
        return partner


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, help_text=_("Why; shown in the agreement's history."))


class RenewSerializer(serializers.Serializer):
    start_date = serializers.DateField(required=False, help_text=_("Default: the day after the agreement ends."))
    end_date = serializers.DateField(required=False, help_text=_("Default: a term as long as the current one."))


class AmendSerializer(serializers.Serializer):
    start_date = serializers.DateField(
        required=False, help_text=_("When the new version takes effect; default: the current start date.")
    )


class AgreementTargetSerializer(VendorOnlyFieldsMixin, serializers.ModelSerializer):
    """A target of one period of an agreement. Its agreement, period and product line are fixed
    once set; set another period with POST /api/v1/agreements/{id}/targets/."""

    class Meta:
        model = AgreementTarget
        fields = [
            "id",
            "agreement",
            "period",
            "period_start",
            "period_end",
            "product_line",
            "revenue",
            "units",
            "region_target",
            "updated_at",
        ]
        read_only_fields = [
            "agreement",
            "period",
            "period_start",
            "period_end",
            "product_line",
            "region_target",
            "updated_at",
        ]
        vendor_only_fields = ["region_target"]


class TargetSetSerializer(serializers.Serializer):
    """Sets the target of a period (and product line): creates it, or replaces the one there."""

    period = serializers.CharField(
        max_length=7, help_text=_("2026-10 for a month, 2026-Q4 for a quarter or 2026 for a year.")
    )
    product_line = serializers.PrimaryKeyRelatedField(
        queryset=ProductLine.objects.all(),
        allow_null=True,
        required=False,
        default=None,
        help_text=_("Empty: the target covers every product line of the agreement."),
    )
    revenue = serializers.DecimalField(max_digits=16, decimal_places=2, min_value=0, allow_null=True, required=False)
    units = serializers.DecimalField(max_digits=14, decimal_places=3, min_value=0, allow_null=True, required=False)


class RegionTargetSerializer(serializers.ModelSerializer):
    """A region's target for a period. Its region, period and product line are fixed once set: a
    POST with the same three replaces the amounts."""

    class Meta:
        model = RegionTarget
        fields = [
            "id",
            "region",
            "period",
            "period_start",
            "period_end",
            "product_line",
            "revenue",
            "units",
            "set_by",
            "decomposed_at",
            "updated_at",
        ]
        read_only_fields = ["period_start", "period_end", "set_by", "decomposed_at", "updated_at"]
        # The unique constraints are an upsert's key here, not a reason to refuse.
        validators = []

    def validate(self, attrs):
        if self.instance is not None:
            moved = [
                name
                for name in ("region", "period", "product_line")
                if name in attrs and attrs[name] != getattr(self.instance, name)
            ]
            if moved:
                raise serializers.ValidationError(
                    {name: _("This cannot change; set a target for it with POST instead.") for name in moved}
                )
        return attrs


class DecompositionRowSerializer(serializers.Serializer):
    """One partner's share of a region target."""

    partner = serializers.IntegerField(source="partner.pk")
    partner_code = serializers.CharField(source="partner.code")
    partner_name = serializers.CharField(source="partner.name")
    agreement = serializers.IntegerField(source="agreement.pk")
    agreement_number = serializers.CharField(source="agreement.number")
    sales = serializers.DecimalField(
        max_digits=18, decimal_places=2, help_text=_("The partner's sales in the same period last year.")
    )
    weight = serializers.DecimalField(max_digits=20, decimal_places=6)
    basis = serializers.ChoiceField(
        choices=[("sales", _("Sales last year")), ("even", _("Even split"))],
        help_text=_("sales: in proportion to the partner's sales in the same period last year; even: split evenly."),
    )
    revenue = serializers.DecimalField(max_digits=16, decimal_places=2, allow_null=True)
    units = serializers.DecimalField(max_digits=14, decimal_places=3, allow_null=True)


class _OptionalBoolean(serializers.BooleanField):
    # An HTML form (multipart upload) that leaves the box out keeps the default instead of False.
    default_empty_html = empty


class AgreementDocumentSerializer(VendorOnlyFieldsMixin, serializers.ModelSerializer):
    file_name = serializers.CharField(source="original_name", read_only=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = AgreementDocument
        fields = [
            "id",
            "agreement",
            "kind",
            "file_name",
            "content_type",
            "size",
            "visible_to_partner",
            "uploaded_at",
            "download_url",
        ]
        read_only_fields = fields
        vendor_only_fields = ["visible_to_partner"]

    def get_download_url(self, document) -> str:
        url = reverse("agreement-document-download", args=[document.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request is not None else url


class DocumentUploadSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text=_("PDF, PNG, JPEG, DOCX or XLSX, checked by its name and its content; size limited.")
    )
    kind = serializers.ChoiceField(choices=DocumentKind.choices, default=DocumentKind.OTHER)
    visible_to_partner = _OptionalBoolean(
        default=True, help_text=_("Whether the partner sees and downloads it in the portal.")
    )
