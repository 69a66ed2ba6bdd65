"""Serializers of the incentives API. They parse and shape; the rules are the services' (brackets
are checked by `incentives.brackets.clean_brackets`, which names the row of every problem).

Numbers are strings: money with two decimals ("740.00"); thresholds, rates, volumes and bases
with at least two decimals and more only where they carry digits ("1000.00", "12.5" → "12.50",
"2.125"); multipliers with three ("1.100")."""

from decimal import Decimal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from agreements.models import Agreement
from partners.models import Partner, PartnerTier
from prm.api.serializers import RowSerializer, VendorOnlyFieldsMixin
from prm.models import JobRun
from prm.periods import Period
from sales.models import ProductLine

from ..choices import LineKind
from ..filters import PERIOD_HELP
from ..models import (
    MdfBudget,
    MdfProof,
    MdfRequest,
    OverridePolicy,
    RebatePolicy,
    RebateStatement,
    StatementLine,
)


def decimal_text(value, places=2):
    """At least `places` decimals, more only where they carry digits: 1000.000 → "1000.00",
    12.3450 → "12.345". None stays None."""
    if value is None:
        return None
    value = Decimal(value)
    normal = value.normalize()
    if normal.as_tuple().exponent >= -places:
        return f"{value.quantize(Decimal(1).scaleb(-places)):f}"
    return f"{normal:f}"


@extend_schema_field({"type": "string", "format": "decimal", "nullable": True, "example": "1000.00"})
class DecimalTextField(serializers.Field):
    """A read-only decimal as a string (see `decimal_text`)."""

    def __init__(self, **kwargs):
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value):
        return decimal_text(value)


class VisibleRelatedField(serializers.PrimaryKeyRelatedField):
    """A related object the caller may see (`visible_to`): another partner's reads as not found."""

    def get_queryset(self):
        request = self.context.get("request")
        queryset = super().get_queryset()
        return queryset.visible_to(request.user) if request is not None else queryset.none()


# Rebate policies ------------------------------------------------------------------------------


class RebateBracketSerializer(serializers.Serializer):
    """One bracket: from `threshold` up (to the next row's threshold), the volume earns `rate` %."""

    threshold = serializers.CharField(
        help_text=_("Where the bracket starts (a number as a string, at most 3 decimals); the first row's is 0.")
    )
    rate = serializers.CharField(help_text=_("The rate in percent, 0 to 100 (at most 4 decimals)."))


@extend_schema_field(RebateBracketSerializer(many=True))
class BracketsField(serializers.Field):
    """The brackets as a list of {"threshold", "rate"} rows. Only the shape is checked here; the
    numbers are checked by the service, which names the row of each problem under `brackets`."""

    def to_internal_value(self, data):
        if not isinstance(data, list):
            raise serializers.ValidationError(_("Give the brackets as a list of rows with a threshold and a rate."))
        errors = [
            _("Row %(row)s: give a threshold and a rate.") % {"row": number}
            for number, row in enumerate(data, start=1)
            if not isinstance(row, dict) or "threshold" not in row or "rate" not in row
        ]
        if errors:
            raise serializers.ValidationError(errors)
        return [{"threshold": _number_text(row["threshold"]), "rate": _number_text(row["rate"])} for row in data]

    def to_representation(self, brackets):
        return [
            {"threshold": decimal_text(bracket.threshold), "rate": decimal_text(bracket.rate)}
            for bracket in brackets.all()
        ]


class TierMultiplierSerializer(RowSerializer):
    """Partners of `tier` earn `multiplier` times the rebate; a tier left out earns × 1."""

    tier = serializers.PrimaryKeyRelatedField(queryset=PartnerTier.objects.all())
    multiplier = serializers.DecimalField(
        max_digits=6, decimal_places=3, min_value=Decimal("0"), max_value=Decimal("10")
    )


class RebatePolicySerializer(serializers.ModelSerializer):
    brackets = BracketsField(
        help_text=_(
            "Thresholds ascending, the first one 0; rates in percent. On a write the list replaces the "
            "policy's brackets."
        )
    )
    product_lines = serializers.PrimaryKeyRelatedField(
        queryset=ProductLine.objects.all(),
        many=True,
        required=False,
        help_text=_("The eligible product lines; empty: every product line."),
    )
    tier_multipliers = TierMultiplierSerializer(
        many=True,
        required=False,
        help_text=_("On a write the list replaces the policy's multipliers; a tier left out earns × 1."),
    )
    cap = serializers.DecimalField(
        max_digits=16,
        decimal_places=2,
        min_value=Decimal("0"),
        allow_null=True,
        required=False,
        help_text=_("The most a partner can earn under this policy in one period; empty for no cap."),
    )
    agreements = serializers.SerializerMethodField(
        help_text=_("The agreements the policy is assigned to (assign and unassign with the actions).")
    )

    class Meta:
        model = RebatePolicy
        fields = [
            "id",
            "name",
            "basis",
            "period",
            "method",
            "brackets",
            "product_lines",
            "tier_multipliers",
            "cap",
            "valid_from",
            "valid_to",
            "is_active",
            "agreements",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]
        extra_kwargs = {
            "method": {
                "help_text": _(
                    "retroactive: the whole period's volume earns the rate of the highest bracket reached; "
                    "marginal: each slice of the volume earns its own bracket's rate."
                )
            },
            "basis": {"required": True},
            "period": {"required": True, "help_text": _("The period a statement covers: month, quarter or year.")},
        }

    def get_agreements(self, policy) -> list[int]:
        return sorted(link.agreement_id for link in policy.assignments.all())

    def validate_tier_multipliers(self, rows):
        seen = set()
        for row in rows:
            if row["tier"].pk in seen:
                raise serializers.ValidationError(_("%(tier)s is listed twice.") % {"tier": row["tier"]})
            seen.add(row["tier"].pk)
        return rows


class RebatePreviewRequestSerializer(serializers.Serializer):
    volume = serializers.DecimalField(
        max_digits=16,
        decimal_places=3,
        min_value=Decimal("0"),
        help_text=_("The volume of a period: revenue, or units for a units-based policy."),
    )
    partner = serializers.PrimaryKeyRelatedField(
        queryset=Partner.objects.all(),
        required=False,
        allow_null=True,
        help_text=_("Applies the partner's tier multiplier and the policy's cap."),
    )


class RebatePreviewLineSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=[(LineKind.REBATE, LineKind.REBATE.label), (LineKind.CAP, LineKind.CAP.label)],
        help_text=_("rebate: one bracket's amount; cap: what the cap takes off."),
    )
    threshold = DecimalTextField(help_text=_("Where the bracket starts; empty on the cap line."))
    rate = DecimalTextField(help_text=_("The bracket's rate in percent; empty on the cap line."))
    volume = DecimalTextField(help_text=_("The part of the volume in this bracket."))
    base = DecimalTextField(help_text=_("What the rate applies to."))
    multiplier = serializers.DecimalField(max_digits=6, decimal_places=3)
    amount = serializers.DecimalField(
        max_digits=16, decimal_places=2, help_text=_("Rounded half-up to the cent; the cap line is negative.")
    )


class RebatePreviewSerializer(serializers.Serializer):
    amount = serializers.DecimalField(max_digits=16, decimal_places=2, help_text=_("The sum of the lines."))
    lines = RebatePreviewLineSerializer(many=True)


class PolicyAssignmentSerializer(serializers.Serializer):
    agreement = serializers.PrimaryKeyRelatedField(queryset=Agreement.objects.all())


# Override commission --------------------------------------------------------------------------


class OverrideRateSerializer(serializers.Serializer):
    level = serializers.IntegerField(help_text=_("1: the parent of the seller, 2: the grandparent…"))
    rate = serializers.CharField(help_text=_("The rate in percent, 0 to 100."))


@extend_schema_field(OverrideRateSerializer(many=True))
class OverrideRatesField(serializers.Field):
    """Rates by level as a list of {"level", "rate"} rows, each level once. The service checks the
    numbers and names the level of each problem under `rates`."""

    def to_internal_value(self, data):
        if not isinstance(data, list):
            raise serializers.ValidationError(_("Give the rates as a list of rows with a level and a rate."))
        errors, rates = [], {}
        for number, row in enumerate(data, start=1):
            if not isinstance(row, dict) or "level" not in row or "rate" not in row:
                errors.append(_("Row %(row)s: give a level and a rate.") % {"row": number})
                continue
            level = _whole_number(row["level"])
            if level is None or level < 1:
                errors.append(_("Row %(row)s: the level must be a whole number from 1 (the parent).") % {"row": number})
            elif level in rates:
                errors.append(_("Level %(level)s is listed twice.") % {"level": level})
            else:
                rates[level] = _number_text(row["rate"])
        if errors:
            raise serializers.ValidationError(errors)
        return rates

    def to_representation(self, rates):
        return [{"level": rate.level, "rate": decimal_text(rate.rate)} for rate in rates.all()]


def _number_text(value):
    """A JSON number as the text it was written as (the services take no floats); anything else
    as sent, for the service to judge."""
    return str(value) if isinstance(value, float) else value


def _whole_number(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


class OverridePolicySerializer(serializers.ModelSerializer):
    rates = OverrideRatesField(
        help_text=_("A rate per level above the selling partner; on a write the list replaces the rates.")
    )
    product_lines = serializers.PrimaryKeyRelatedField(
        queryset=ProductLine.objects.all(),
        many=True,
        required=False,
        help_text=_("The eligible product lines; empty: every product line."),
    )

    class Meta:
        model = OverridePolicy
        fields = [
            "id",
            "name",
            "period",
            "rates",
            "product_lines",
            "valid_from",
            "valid_to",
            "is_active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]


# Statements -----------------------------------------------------------------------------------


class StatementLineSerializer(VendorOnlyFieldsMixin, serializers.ModelSerializer):
    policy_name = serializers.SerializerMethodField()
    bracket_threshold = DecimalTextField(help_text=_("Where the bracket that produced the line starts."))
    volume = DecimalTextField(help_text=_("The volume in the bracket (or the sub-partner's sales for an override)."))
    base = DecimalTextField(help_text=_("What the rate applies to."))
    rate = DecimalTextField(help_text=_("In percent."))
    explanation = serializers.CharField(
        read_only=True,
        help_text=_("What produced the amount, in the language of the request (Accept-Language)."),
    )

    class Meta:
        model = StatementLine
        fields = [
            "id",
            "kind",
            "rebate_policy",
            "override_policy",
            "policy_name",
            "bracket_threshold",
            "volume",
            "base",
            "rate",
            "multiplier",
            "level",
            "source_partner",
            "amount",
            "explanation",
            "created_by",
            "created_at",
        ]
        read_only_fields = fields
        vendor_only_fields = ["created_by"]
        extra_kwargs = {
            "source_partner": {"help_text": _("For an override: the sub-partner whose sales earned it.")},
            "level": {"help_text": _("For an override: how many levels above the seller the partner is.")},
        }

    def get_policy_name(self, line) -> str:
        policy = line.rebate_policy or line.override_policy
        return policy.name if policy is not None else ""


class RebateStatementSerializer(VendorOnlyFieldsMixin, serializers.ModelSerializer):
    partner_code = serializers.CharField(source="partner.code", read_only=True)
    partner_name = serializers.CharField(source="partner.name", read_only=True)
    lines = StatementLineSerializer(many=True, read_only=True)

    class Meta:
        model = RebateStatement
        fields = [
            "id",
            "partner",
            "partner_code",
            "partner_name",
            "period",
            "period_start",
            "period_end",
            "status",
            "total",
            "currency",
            "lines",
            "calculated_at",
            "approved_by",
            "approved_at",
            "paid_at",
            "cancelled_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields
        vendor_only_fields = ["approved_by"]
        extra_kwargs = {"total": {"help_text": _("The sum of the lines, to the cent.")}}


class StatementAdjustSerializer(serializers.Serializer):
    amount = serializers.DecimalField(
        max_digits=16, decimal_places=2, help_text=_("Positive or negative, in whole cents.")
    )
    reason = serializers.CharField(max_length=300, help_text=_("Why; shown as the line's explanation."))


class StatementCalculateSerializer(serializers.Serializer):
    period = serializers.CharField(max_length=20, help_text=PERIOD_HELP)
    partner = serializers.PrimaryKeyRelatedField(
        queryset=Partner.objects.all(),
        required=False,
        allow_null=True,
        help_text=_("Only this partner's statement; empty: every partner with a policy."),
    )


class StatementRunSerializer(serializers.ModelSerializer):
    """A background calculation of statements and how far it has got."""

    period = serializers.SerializerMethodField()
    partner = serializers.SerializerMethodField()
    percent = serializers.IntegerField(read_only=True)
    finished = serializers.BooleanField(source="is_finished", read_only=True)

    class Meta:
        model = JobRun
        fields = [
            "id",
            "status",
            "period",
            "partner",
            "done",
            "total",
            "percent",
            "rows_written",
            "finished",
            "error",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "rows_written": {"help_text": _("Statements calculated so far.")},
            "error": {"help_text": _("Why a failed run failed.")},
        }

    def get_period(self, run) -> str:
        return run.params.get("period") or ""

    def get_partner(self, run) -> int | None:
        return run.params.get("partner")


# MDF ------------------------------------------------------------------------------------------


def _money_field(help_text):
    return serializers.DecimalField(max_digits=16, decimal_places=2, read_only=True, help_text=help_text)


class MdfBudgetSerializer(VendorOnlyFieldsMixin, serializers.ModelSerializer):
    partner = serializers.PrimaryKeyRelatedField(
        queryset=Partner.objects.all(), help_text=_("Set on create; a budget never moves to another partner.")
    )
    partner_code = serializers.CharField(source="partner.code", read_only=True)
    partner_name = serializers.CharField(source="partner.name", read_only=True)
    period = serializers.CharField(max_length=20, help_text=PERIOD_HELP)
    pending = _money_field(_("Requested by submitted requests not yet decided (shown, not held)."))
    reserved = _money_field(_("Approved amounts of approved requests not yet claimed."))
    claimed = _money_field(_("Actual amounts of claims not yet paid."))
    paid = _money_field(_("Actual amounts paid."))
    committed = _money_field(_("Reserved + claimed + paid."))
    remaining = _money_field(_("Allocated − committed."))

    class Meta:
        model = MdfBudget
        fields = [
            "id",
            "partner",
            "partner_code",
            "partner_name",
            "period",
            "period_start",
            "period_end",
            "allocated",
            "pending",
            "reserved",
            "claimed",
            "paid",
            "committed",
            "remaining",
            "currency",
            "source",
            "basis_revenue",
            "allowance_percent",
            "note",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "period_start",
            "period_end",
            "currency",
            "source",
            "basis_revenue",
            "allowance_percent",
            "created_by",
            "created_at",
            "updated_at",
        ]
        vendor_only_fields = ["created_by", "note"]
        # One budget per partner and period is an upsert's key here, not a reason to refuse.
        validators = []

    def validate(self, attrs):
        if self.instance is None:
            return attrs
        moved = []
        if "partner" in attrs and attrs["partner"].pk != self.instance.partner_id:
            moved.append("partner")
        if "period" in attrs and _period_code(attrs["period"]) != self.instance.period:
            moved.append("period")
        if moved:
            raise serializers.ValidationError(
                {name: _("This cannot change; set a budget for it with POST instead.") for name in moved}
            )
        return attrs


def _period_code(value):
    try:
        return Period.parse(value).code
    except DjangoValidationError:
        return value


class MdfAllocateSerializer(serializers.Serializer):
    period = serializers.CharField(max_length=20, help_text=PERIOD_HELP)


class MdfAllocateResultSerializer(serializers.Serializer):
    created = serializers.IntegerField(help_text=_("Budgets created from the tier allowance."))
    updated = serializers.IntegerField(help_text=_("Budgets from an earlier allowance run, recomputed."))
    kept = serializers.IntegerField(help_text=_("Budgets set by hand (or overlapping the period), left alone."))
    unchanged = serializers.IntegerField(help_text=_("Budgets from an earlier allocation that were already right."))


class MdfProofSerializer(VendorOnlyFieldsMixin, serializers.ModelSerializer):
    file_name = serializers.CharField(source="original_name", read_only=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = MdfProof
        fields = ["id", "file_name", "content_type", "size", "uploaded_by", "uploaded_at", "download_url"]
        read_only_fields = fields
        vendor_only_fields = ["uploaded_by"]

    def get_download_url(self, proof) -> str:
        url = reverse("mdf-request-proof-download", kwargs={"pk": proof.request_id, "proof_id": proof.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request is not None else url


class MdfRequestSerializer(VendorOnlyFieldsMixin, serializers.ModelSerializer):
    reference = serializers.CharField(read_only=True, help_text=_("MDF-00042: how people name the request."))
    budget = VisibleRelatedField(
        queryset=MdfBudget.objects.all(),
        help_text=_("A budget of the partner; the request is the budget's partner's."),
    )
    partner = serializers.PrimaryKeyRelatedField(read_only=True)
    partner_code = serializers.CharField(source="partner.code", read_only=True)
    partner_name = serializers.CharField(source="partner.name", read_only=True)
    period = serializers.CharField(source="budget.period", read_only=True)
    committed = serializers.DecimalField(
        max_digits=16,
        decimal_places=2,
        read_only=True,
        help_text=_("What the request holds of its budget now."),
    )
    proofs = MdfProofSerializer(many=True, read_only=True)

    class Meta:
        model = MdfRequest
        fields = [
            "id",
            "reference",
            "partner",
            "partner_code",
            "partner_name",
            "budget",
            "period",
            "title",
            "activity_type",
            "plan",
            "start_date",
            "end_date",
            "requested_amount",
            "approved_amount",
            "actual_amount",
            "committed",
            "status",
            "decision_note",
            "claim_note",
            "payment_reference",
            "proofs",
            "submitted_at",
            "decided_at",
            "decided_by",
            "claimed_at",
            "paid_at",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "approved_amount",
            "actual_amount",
            "status",
            "decision_note",
            "claim_note",
            "payment_reference",
            "submitted_at",
            "decided_at",
            "decided_by",
            "claimed_at",
            "paid_at",
            "created_by",
            "created_at",
            "updated_at",
        ]
        vendor_only_fields = ["decided_by", "created_by"]
        extra_kwargs = {
            "decision_note": {"help_text": _("The approval note, or the reason for a rejection or a returned claim.")}
        }


class MdfApproveSerializer(serializers.Serializer):
    approved_amount = serializers.DecimalField(
        max_digits=16,
        decimal_places=2,
        required=False,
        allow_null=True,
        help_text=_("Default: the amount requested; never more, and never more than the budget has left."),
    )
    note = serializers.CharField(max_length=500, required=False, allow_blank=True)


class MdfReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, help_text=_("Why; the partner reads it."))


class MdfClaimSerializer(serializers.Serializer):
    actual_amount = serializers.DecimalField(
        max_digits=16, decimal_places=2, help_text=_("What the activity cost; at most the approved amount.")
    )
    note = serializers.CharField(max_length=500, required=False, allow_blank=True)
    files = serializers.ListField(
        child=serializers.FileField(),
        required=False,
        help_text=_(
            "Proof of performance (PDF, PNG, JPEG, DOCX or XLSX), as many `files` parts as there are files. "
            "At least one proof is required, counting those added before."
        ),
    )


class MdfProofUploadSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text=_("Proof of performance: PDF, PNG, JPEG, DOCX or XLSX, checked by its name and its content.")
    )


class MdfProofRemoveSerializer(serializers.Serializer):
    proof = serializers.IntegerField(min_value=1, max_value=2**63 - 1, help_text=_("The proof's id."))


class MdfMarkPaidSerializer(serializers.Serializer):
    payment_reference = serializers.CharField(max_length=100, required=False, allow_blank=True)
