"""Serializers of the performance API. They parse and shape; the rules are performance.services'.

Numbers are strings (exact decimals in JSON). A KPI value: the money KPIs (`revenue`,
`revenue_target`, `incentive_spend`) with two decimals ("12345.67"); every other KPI as stored,
without trailing zeros ("0.8" for 80 % attainment: ratios are fractions; "17" units; "86.5"
satisfaction), because a ratio's digits are its precision and padding them would invent some.
Scores have two decimals ("85.50"); template floors and targets are shown like KPI values."""

from decimal import Decimal

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from partners.models import Partner
from prm.models import JobRun

from ..choices import SCORABLE_KPIS, Kpi
from ..models import CustomerSatisfaction, FlagRule, KpiSnapshot, RegionFlag, RegionScorecard, Scorecard
from ..models import ScorecardTemplate as Template

MONEY_KPIS = frozenset({Kpi.REVENUE, Kpi.REVENUE_TARGET, Kpi.INCENTIVE_SPEND})
CENT = Decimal("0.01")
PERIOD_HELP = _("A month, such as 2026-10.")


def plain_decimal(value):
    """A decimal without trailing zeros and never in exponent form: 0.800000 → "0.8", 100 → "100"."""
    if value is None:
        return None
    text = f"{Decimal(value).normalize():f}"
    return "0" if text in ("-0", "") else text


def kpi_value_text(kpi, value):
    """A KPI value as the API shows it (see the module docstring)."""
    if kpi in MONEY_KPIS:
        return f"{Decimal(value).quantize(CENT):f}"
    return plain_decimal(value)


# KPI snapshots ----------------------------------------------------------------------------------


class KpiSnapshotSerializer(serializers.ModelSerializer):
    """Exactly the contract of issue 7: partner or region (the other is null), month, KPI, value."""

    value = serializers.SerializerMethodField(
        help_text=_("A string: money KPIs with two decimals, other KPIs as stored without trailing zeros.")
    )

    class Meta:
        model = KpiSnapshot
        fields = ["partner", "region", "period", "kpi", "value"]
        read_only_fields = fields
        extra_kwargs = {
            "partner": {"help_text": _("The partner's id, or null for a region's row.")},
            "region": {"help_text": _("The region's id, or null for a partner's row.")},
        }

    @extend_schema_field({"type": "string", "format": "decimal", "example": "12345.67"})
    def get_value(self, snapshot):
        return kpi_value_text(snapshot.kpi, snapshot.value)


# Scorecards -------------------------------------------------------------------------------------


class ScorecardSerializer(serializers.ModelSerializer):
    partner_code = serializers.CharField(source="partner.code", read_only=True)
    partner_name = serializers.CharField(source="partner.name", read_only=True)

    class Meta:
        model = Scorecard
        fields = [
            "id",
            "partner",
            "partner_code",
            "partner_name",
            "period",
            "template",
            "score",
            "grade",
            "rank_in_region",
            "rank_in_tier",
            "computed_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "score": {"help_text": _("0 to 100, two decimals.")},
            "rank_in_region": {"help_text": _("Among the partners of its primary region; 1 is the best.")},
            "rank_in_tier": {"help_text": _("Among the partners of its tier; null without a tier.")},
        }


class RegionScorecardSerializer(serializers.ModelSerializer):
    region_code = serializers.CharField(source="region.code", read_only=True)
    region_name = serializers.CharField(source="region.name", read_only=True)

    class Meta:
        model = RegionScorecard
        fields = [
            "id",
            "region",
            "region_code",
            "region_name",
            "period",
            "template",
            "score",
            "grade",
            "partners",
            "revenue",
            "computed_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "score": {"help_text": _("The revenue-weighted mean of the scores of its partners.")},
            "partners": {"help_text": _("Partners scored at or below the region.")},
            "revenue": {"help_text": _("Their revenue in the month, two decimals.")},
        }


# Region flags -----------------------------------------------------------------------------------


class FlagPartnerSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    figure = serializers.CharField(help_text=_("The figure that ranks the partner for this rule."))


class FlagFindingSerializer(serializers.Serializer):
    rule = serializers.CharField()
    threshold = serializers.CharField()
    figures = serializers.DictField(child=serializers.CharField(), help_text=_("The region's figures, as strings."))
    partners = FlagPartnerSerializer(many=True, help_text=_("Up to five partners that drive the finding."))


class RegionFlagSerializer(serializers.ModelSerializer):
    region_code = serializers.CharField(source="region.code", read_only=True)
    region_name = serializers.CharField(source="region.name", read_only=True)
    rules = serializers.ListField(child=serializers.CharField(), read_only=True)
    findings = FlagFindingSerializer(many=True, read_only=True)
    measures = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = RegionFlag
        fields = [
            "id",
            "region",
            "region_code",
            "region_name",
            "period",
            "status",
            "rules",
            "findings",
            "is_firing",
            "opened_at",
            "evaluated_at",
            "acknowledged_at",
            "acknowledged_by",
            "measures",
            "plan",
            "owner",
            "due_date",
            "resolved_at",
            "resolved_by",
            "resolution",
        ]
        read_only_fields = fields
        extra_kwargs = {"is_firing": {"help_text": _("False once re-evaluation finds the rules no longer fire.")}}


class FlagPlanSerializer(serializers.Serializer):
    """The action plan; the service checks it and names each problem by field."""

    measures = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text=_("At least one of: training, market_support, incentives, recruit, replace, other."),
    )
    owner = serializers.IntegerField(
        required=False, allow_null=True, help_text=_("The id of an active member of the channel team.")
    )
    due_date = serializers.DateField(required=False, allow_null=True, help_text=_("Not in the past."))
    plan = serializers.CharField(
        required=False, allow_blank=True, help_text=_("What will be done; required with the measure “other”.")
    )


class FlagResolveSerializer(serializers.Serializer):
    resolution = serializers.CharField(
        required=False, allow_blank=True, help_text=_("How the flag was resolved; required.")
    )


class FlagRuleSerializer(serializers.ModelSerializer):
    label = serializers.CharField(source="get_code_display", read_only=True)
    threshold = serializers.CharField(
        help_text=_(
            "attainment_below and cross_territory_above: a fraction (0.8 = 80 %); score_below: a score; "
            "revenue_decline: a whole number of months."
        )
    )

    class Meta:
        model = FlagRule
        fields = ["code", "label", "threshold", "is_active", "updated_at", "updated_by"]
        read_only_fields = ["code", "label", "updated_at", "updated_by"]

    def to_representation(self, rule):
        data = super().to_representation(rule)
        data["threshold"] = plain_decimal(rule.threshold)
        return data


# Scorecard templates ----------------------------------------------------------------------------


class ScorecardItemSerializer(serializers.Serializer):
    kpi = serializers.ChoiceField(choices=[(kpi.value, kpi.label) for kpi in SCORABLE_KPIS])
    weight = serializers.CharField(help_text=_("Above 0, two decimals at most; the weights add up to 100."))
    floor = serializers.CharField(help_text=_("This value scores 0."))
    target = serializers.CharField(help_text=_("This value scores 100 (below the floor when lower is better)."))


@extend_schema_field(ScorecardItemSerializer(many=True))
class ItemsField(serializers.Field):
    """The items as a list of {"kpi", "weight", "floor", "target"} rows. Only the shape is
    checked here; the service checks every row and names it ("Item 2 (Growth…): …") under
    `items`."""

    def to_internal_value(self, data):
        if not isinstance(data, list):
            raise serializers.ValidationError(_("Give the items as a list of rows with kpi, weight, floor, target."))
        errors = [
            _("Item %(number)s: give a kpi, a weight, a floor and a target.") % {"number": number}
            for number, row in enumerate(data, start=1)
            if not isinstance(row, dict) or not {"kpi", "weight", "floor", "target"} <= set(row)
        ]
        if errors:
            raise serializers.ValidationError(errors)
        return [{name: _text(row[name]) for name in ("kpi", "weight", "floor", "target")} for row in data]

    def to_representation(self, items):
        return [
            {
                "kpi": item.kpi,
                "weight": f"{item.weight.quantize(CENT):f}",
                "floor": plain_decimal(item.floor),
                "target": plain_decimal(item.target),
            }
            for item in items.all()
        ]


def _text(value):
    """A JSON number as the text it was written as (the service takes no floats)."""
    return str(value) if isinstance(value, float) else value


class ScorecardTemplateSerializer(serializers.ModelSerializer):
    items = ItemsField(help_text=_("On a write the list replaces the template's items."))

    class Meta:
        model = Template
        fields = ["id", "name", "is_default", "is_active", "items", "updated_at"]
        read_only_fields = ["updated_at"]
        # The service checks the name (unique, whatever the case) and the one default with the rest.
        extra_kwargs = {"name": {"validators": []}, "is_default": {"validators": []}}
        validators = []


# Runs -------------------------------------------------------------------------------------------


class ScorecardRunSerializer(serializers.ModelSerializer):
    """A computation of a month (snapshots, scorecards, flags) and how far it has got."""

    period = serializers.SerializerMethodField()
    percent = serializers.IntegerField(read_only=True)
    finished = serializers.BooleanField(source="is_finished", read_only=True)
    url = serializers.SerializerMethodField(help_text=_("Poll this address until `finished` is true."))

    class Meta:
        model = JobRun
        fields = [
            "id",
            "status",
            "period",
            "started_by",
            "started_at",
            "finished_at",
            "done",
            "total",
            "percent",
            "finished",
            "rows_written",
            "error",
            "url",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "started_by": {"help_text": _("The user who asked; null for an API key or the scheduled job.")},
            "rows_written": {"help_text": _("Snapshots, scorecards and flags written.")},
            "error": {"help_text": _("Why a failed run failed.")},
        }

    def get_period(self, run) -> str:
        return run.params.get("period") or ""

    def get_url(self, run) -> str:
        path = reverse("scorecard-run-detail", kwargs={"pk": run.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class ScorecardRunStartSerializer(serializers.Serializer):
    period = serializers.CharField(max_length=20, help_text=PERIOD_HELP)


# Customer satisfaction --------------------------------------------------------------------------


class CustomerSatisfactionSerializer(serializers.ModelSerializer):
    partner = serializers.PrimaryKeyRelatedField(queryset=Partner.objects.all())
    partner_code = serializers.CharField(source="partner.code", read_only=True)
    partner_name = serializers.CharField(source="partner.name", read_only=True)
    period = serializers.CharField(max_length=20, help_text=PERIOD_HELP)
    score = serializers.CharField(help_text=_("From 0 to 100, two decimals at most."))

    class Meta:
        model = CustomerSatisfaction
        fields = ["id", "partner", "partner_code", "partner_name", "period", "score", "entered_by", "entered_at"]
        read_only_fields = ["entered_by", "entered_at"]
        # One score per partner and month is the upsert's key, not a reason to refuse.
        validators = []

    def to_representation(self, entry):
        data = super().to_representation(entry)
        data["score"] = f"{Decimal(entry.score).quantize(CENT):f}"
        return data
