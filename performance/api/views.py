"""The performance API (issue 7): KPI snapshots, partner and region scorecards, region flags with
their workflow as actions, the flag rules, scorecard templates, the runs that compute a month,
and customer-satisfaction scores.

Thin like every viewset: rows come through `visible_to`, writes through performance.services,
whose ValidationErrors answer 400 by field and whose PermissionDenied answers 403. Nothing is
deleted through the API.

API keys need `performance:read` or `performance:write`. A key bound to a partner reads its own
partner's KPI snapshots (never a region's), scorecards and satisfaction scores, and nothing else:
region scorecards, flags, rules, templates and runs are the channel team's (403)."""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from prm.api.exceptions import BAD_INPUT, FIELD_ERRORS, NOT_FOUND, REFUSED, service_errors
from prm.api.filters import UpdatedSinceFilter
from prm.api.viewsets import GenericViewSet, ReadOnlyModelViewSet, ServiceModelViewSet
from prm.models import JobRun
from prm.periods import Period
from prm.roles import is_staff_user

from .. import services
from ..models import (
    CustomerSatisfaction,
    FlagRule,
    KpiSnapshot,
    RegionFlag,
    RegionScorecard,
    Scorecard,
    ScorecardTemplate,
)
from ..tasks import JOB_NAME
from .filters import (
    CustomerSatisfactionFilterSet,
    KpiSnapshotFilterSet,
    RegionFlagFilterSet,
    RegionScorecardFilterSet,
    ScorecardFilterSet,
    ScorecardRunFilterSet,
)
from .serializers import (
    CustomerSatisfactionSerializer,
    FlagPlanSerializer,
    FlagResolveSerializer,
    FlagRuleSerializer,
    KpiSnapshotSerializer,
    RegionFlagSerializer,
    RegionScorecardSerializer,
    ScorecardRunSerializer,
    ScorecardRunStartSerializer,
    ScorecardSerializer,
    ScorecardTemplateSerializer,
)

ILLEGAL_FLAG_MOVE = OpenApiResponse(
    FIELD_ERRORS,
    description="The flag's status does not allow this move (open → acknowledged → action plan → resolved; the "
    "plan may be changed while in action plan), under `status`; or a field is wrong (measures, owner, due_date, "
    "plan, resolution). Nothing is changed.",
)


class PerformanceApi:
    api_area = "performance"
    partner_readable = False
    partner_writable_actions = ()


def _staff_only(user, queryset):
    """Vendor-wide rows (region figures, runs): staff and vendor keys only; the permission class
    refuses others first, this keeps the queryset safe on its own."""
    return queryset if is_staff_user(user) else queryset.none()


# KPI snapshots ----------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="List KPI snapshots",
        description="One row per partner or region, month and KPI: "
        '`{"partner": 12, "region": null, "period": "2026-10", "kpi": "revenue", "value": "12345.67"}`. `value` '
        "is a string: money KPIs (revenue, revenue_target, incentive_spend) with two decimals; ratios are fractions "
        "(0.8 = 80 %) and every other KPI is given as stored, without trailing zeros. An empty KPI has no row. "
        "Newest month first. A key bound to a partner sees only its partner's rows, never a region's. A filter "
        "value that does not parse answers 400 naming the filter.",
        responses={200: KpiSnapshotSerializer(many=True), 400: BAD_INPUT, 403: REFUSED},
    ),
)
class KpiSnapshotViewSet(PerformanceApi, mixins.ListModelMixin, GenericViewSet):
    """KPI snapshots (指标快照) as the monthly computation stored them: history does not move until
    someone recomputes the month."""

    partner_readable = True
    serializer_class = KpiSnapshotSerializer
    filterset_class = KpiSnapshotFilterSet
    ordering_fields = ["period_start", "kpi", "value", "partner_id", "region_id"]
    ordering = ["-period_start", "kpi", "partner_id", "region_id", "id"]

    def get_queryset(self):
        return KpiSnapshot.objects.visible_to(self.request.user)


# Scorecards -------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="List partner scorecards",
        description="A partner's weighted score (0–100) for a month, its grade (A ≥ 85, B ≥ 70, C ≥ 55, D below) "
        "and its ranks in its primary region and its tier. Newest month first, best score first. A key bound to a "
        "partner sees only its own partner's.",
        responses={200: ScorecardSerializer(many=True), 400: BAD_INPUT, 403: REFUSED},
    ),
    retrieve=extend_schema(
        summary="Read one partner scorecard", responses={200: ScorecardSerializer, 403: REFUSED, 404: NOT_FOUND}
    ),
)
class ScorecardViewSet(PerformanceApi, ReadOnlyModelViewSet):
    """Partner scorecards (计分卡), computed monthly from the KPI snapshots under the default
    template."""

    partner_readable = True
    serializer_class = ScorecardSerializer
    filterset_class = ScorecardFilterSet
    ordering_fields = ["period_start", "score", "grade", "rank_in_region", "rank_in_tier", "partner__code"]
    ordering = ["-period_start", "-score", "partner__code", "id"]

    def get_queryset(self):
        return Scorecard.objects.visible_to(self.request.user).select_related("partner")


@extend_schema_view(
    list=extend_schema(
        summary="List region scorecards",
        description="A region's score for a month: the revenue-weighted mean of the scores of the partners at or "
        "below it, with how many were scored and their revenue. Keys bound to a partner cannot use this endpoint.",
        responses={200: RegionScorecardSerializer(many=True), 400: BAD_INPUT, 403: REFUSED},
    ),
    retrieve=extend_schema(
        summary="Read one region scorecard",
        responses={200: RegionScorecardSerializer, 403: REFUSED, 404: NOT_FOUND},
    ),
)
class RegionScorecardViewSet(PerformanceApi, ReadOnlyModelViewSet):
    """Region scorecards, rolled up the region hierarchy."""

    serializer_class = RegionScorecardSerializer
    filterset_class = RegionScorecardFilterSet
    ordering_fields = ["period_start", "score", "grade", "revenue", "region__path"]
    ordering = ["-period_start", "region__path", "id"]

    def get_queryset(self):
        return _staff_only(self.request.user, RegionScorecard.objects.select_related("region"))


# Region flags -----------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="List region flags",
        description="Underperforming regions (问题区域) by month: the rules that fired, their findings (threshold, "
        "the region's figures, the partners that drive them) and the team's response. Keys bound to a partner "
        "cannot use this endpoint.",
        responses={200: RegionFlagSerializer(many=True), 400: BAD_INPUT, 403: REFUSED},
    ),
    retrieve=extend_schema(
        summary="Read one region flag", responses={200: RegionFlagSerializer, 403: REFUSED, 404: NOT_FOUND}
    ),
)
class RegionFlagViewSet(PerformanceApi, ReadOnlyModelViewSet):
    """Region flags (预警): open → acknowledged → action plan (measures, owner, due date) →
    resolved, moved only by the actions. Flags are made by the monthly computation, never posted."""

    serializer_class = RegionFlagSerializer
    filterset_class = RegionFlagFilterSet
    ordering_fields = ["period_start", "status", "due_date", "opened_at", "region__path"]
    ordering = ["-period_start", "region__path", "id"]

    def get_queryset(self):
        return RegionFlag.objects.visible_to(self.request.user).select_related("region")

    def _payload(self, serializer_class):
        payload = serializer_class(data=self.request.data)
        payload.is_valid(raise_exception=True)
        return payload.validated_data

    def _answer(self, flag):
        return Response(self.get_serializer(self.get_queryset().get(pk=flag.pk)).data)

    @extend_schema(
        summary="Acknowledge a flag",
        request=None,
        description="open → acknowledged: someone has seen the flag and owns finding out why.",
        responses={200: RegionFlagSerializer, 400: ILLEGAL_FLAG_MOVE, 403: REFUSED, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def acknowledge(self, request, pk=None, **kwargs):
        flag = self.get_object()
        with service_errors():
            services.flag_acknowledge(flag=flag, by=request.user)
        return self._answer(flag)

    @extend_schema(
        summary="Agree or change the action plan",
        request=FlagPlanSerializer,
        description='acknowledged → action plan, or a new plan while in action plan: `{"measures": ["training", '
        '"market_support"], "owner": 7, "due_date": "2026-12-31", "plan": "Two sales trainings in Hangzhou"}`. '
        "At least one measure; the owner an active member of the channel team (told when it is not you); the due "
        "date not in the past; a plan text with the measure `other`.",
        responses={200: RegionFlagSerializer, 400: ILLEGAL_FLAG_MOVE, 403: REFUSED, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def plan(self, request, pk=None, **kwargs):
        flag = self.get_object()
        data = self._payload(FlagPlanSerializer)
        owner = None
        if data.get("owner") is not None:
            owner = get_user_model().objects.filter(pk=data["owner"]).first()
            if owner is None:
                raise exceptions.ValidationError({"owner": [_("No user with this id.")]})
        with service_errors():
            services.flag_plan(
                flag=flag,
                measures=data.get("measures"),
                owner=owner,
                due_date=data.get("due_date"),
                plan=data.get("plan", ""),
                by=request.user,
            )
        return self._answer(flag)

    @extend_schema(
        summary="Resolve a flag",
        request=FlagResolveSerializer,
        description='action plan → resolved: `{"resolution": "Replaced the reseller in Wenzhou"}` (required).',
        responses={200: RegionFlagSerializer, 400: ILLEGAL_FLAG_MOVE, 403: REFUSED, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def resolve(self, request, pk=None, **kwargs):
        flag = self.get_object()
        data = self._payload(FlagResolveSerializer)
        with service_errors():
            services.flag_resolve(flag=flag, resolution=data.get("resolution", ""), by=request.user)
        return self._answer(flag)


# Flag rules -------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="List the flag rules", responses={200: FlagRuleSerializer(many=True), 403: REFUSED}),
    retrieve=extend_schema(
        summary="Read one flag rule", responses={200: FlagRuleSerializer, 403: REFUSED, 404: NOT_FOUND}
    ),
    partial_update=extend_schema(
        summary="Change a flag rule's threshold or switch it off",
        description='`{"threshold": "0.75"}`, `{"is_active": false}` or both. Checked against the rule\'s limits '
        "(attainment 0.01–10, score 1–100, decline 1–12 whole months, cross-territory share 0–0.99; four decimals "
        "at most). Takes effect the next time a month is computed.",
        responses={200: FlagRuleSerializer, 400: BAD_INPUT, 403: REFUSED, 404: NOT_FOUND},
    ),
)
class FlagRuleViewSet(PerformanceApi, ServiceModelViewSet):
    """The rules that flag a region, by code (attainment_below, score_below, revenue_decline,
    cross_territory_above), with their thresholds. Not created or deleted: every rule has a row."""

    serializer_class = FlagRuleSerializer
    lookup_field = "code"
    http_method_names = ["get", "patch", "head", "options"]
    pagination_class = None
    filter_backends = [UpdatedSinceFilter]

    def get_queryset(self):
        return _staff_only(self.request.user, FlagRule.objects.order_by("code"))

    def update_object(self, instance, data):
        with service_errors():
            return services.flag_rule_save(
                code=instance.code,
                threshold=data.get("threshold", instance.threshold),
                is_active=data.get("is_active", instance.is_active),
                by=self.request.user,
            )


# Scorecard templates ----------------------------------------------------------------------------


def _current_items(template):
    return [
        {"kpi": item.kpi, "weight": item.weight, "floor": item.floor, "target": item.target}
        for item in template.items.all()
    ]


TEMPLATE_RULES = (
    "Every item is checked and each problem is named under `items` by its row and KPI (a scorable KPI, once; a "
    "weight above 0, two decimals at most; the floor below the target, above it for cross_territory_share); the "
    "weights add up to 100. Saving one as the default makes it the only default (and it must be active). Nothing "
    "is written unless all is right."
)


@extend_schema_view(
    list=extend_schema(
        summary="List scorecard templates",
        description="The default first, each with its items.",
        responses={200: ScorecardTemplateSerializer(many=True), 403: REFUSED},
    ),
    retrieve=extend_schema(
        summary="Read one scorecard template",
        responses={200: ScorecardTemplateSerializer, 403: REFUSED, 404: NOT_FOUND},
    ),
    create=extend_schema(
        summary="Create a scorecard template",
        description='E.g. `{"name": "Growth", "items": [{"kpi": "growth_yoy", "weight": "60", "floor": "-0.1", '
        '"target": "0.2"}, {"kpi": "target_attainment", "weight": "40", "floor": "0.5", "target": "1"}]}`. '
        + TEMPLATE_RULES,
        responses={201: ScorecardTemplateSerializer, 400: BAD_INPUT, 403: REFUSED},
    ),
    update=extend_schema(
        summary="Change a scorecard template",
        description="`items` replaces the template's items. " + TEMPLATE_RULES,
        responses={200: ScorecardTemplateSerializer, 400: BAD_INPUT, 403: REFUSED, 404: NOT_FOUND},
    ),
    partial_update=extend_schema(
        summary="Change some fields of a scorecard template",
        description="As PUT, with only the fields sent; without `items` the items stay.",
        responses={200: ScorecardTemplateSerializer, 400: BAD_INPUT, 403: REFUSED, 404: NOT_FOUND},
    ),
)
class ScorecardTemplateViewSet(PerformanceApi, ServiceModelViewSet):
    """How partners are scored: KPIs with a weight, a floor (scores 0) and a target (scores 100).
    Templates are never deleted (scorecards point at them): retire one with `is_active: false`."""

    serializer_class = ScorecardTemplateSerializer
    http_method_names = ["get", "post", "put", "patch", "head", "options"]
    ordering_fields = ["name", "updated_at"]
    ordering = ["-is_default", "name", "id"]

    def get_queryset(self):
        return _staff_only(self.request.user, ScorecardTemplate.objects.prefetch_related("items"))

    def create_object(self, data):
        template = ScorecardTemplate(
            name=data.get("name", ""), is_default=data.get("is_default", False), is_active=data.get("is_active", True)
        )
        with service_errors():
            return services.scorecard_template_save(template=template, items=data["items"], by=self.request.user)

    def update_object(self, instance, data):
        items = data["items"] if "items" in data else _current_items(instance)
        for name in ("name", "is_default", "is_active"):
            if name in data:
                setattr(instance, name, data[name])
        with service_errors():
            return services.scorecard_template_save(template=instance, items=items, by=self.request.user)


# Runs -------------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="List the runs that computed a month",
        description="Newest first: status queued → running → succeeded or failed, `done` of `total` steps, rows "
        "written and, for a failed run, the error.",
        responses={200: ScorecardRunSerializer(many=True), 400: BAD_INPUT, 403: REFUSED},
    ),
    retrieve=extend_schema(
        summary="Follow one run", responses={200: ScorecardRunSerializer, 403: REFUSED, 404: NOT_FOUND}
    ),
    create=extend_schema(
        summary="Compute a month",
        request=ScorecardRunStartSerializer,
        description='`{"period": "2026-10"}` queues the month\'s computation (KPI snapshots, then scorecards, then '
        "region flags, replacing the month's in one transaction) and answers 202 with the run; follow its `url` "
        "(also the Location header). A period that is not a month, or a month not started yet, is a 400 under "
        "`period` and queues nothing.",
        responses={202: ScorecardRunSerializer, 400: BAD_INPUT, 403: REFUSED},
    ),
)
class ScorecardRunViewSet(PerformanceApi, mixins.CreateModelMixin, ReadOnlyModelViewSet):
    """Background computations of a month (performance.tasks.month_run)."""

    serializer_class = ScorecardRunSerializer
    filterset_class = ScorecardRunFilterSet
    ordering_fields = ["started_at", "finished_at", "status"]
    ordering = ["-started_at", "-id"]

    def get_queryset(self):
        return _staff_only(self.request.user, JobRun.objects.filter(job=JOB_NAME))

    def create(self, request, *args, **kwargs):
        payload = ScorecardRunStartSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        with service_errors():
            run = services.month_run_start(period=payload.validated_data["period"], by=request.user)
        location = request.build_absolute_uri(reverse("scorecard-run-detail", kwargs={"pk": run.pk}))
        return Response(self.get_serializer(run).data, status=status.HTTP_202_ACCEPTED, headers={"Location": location})


def _month_code(value):
    """The code of the period `value`, or the value itself when it is not one (the service then
    refuses it by field)."""
    try:
        return Period.parse(value).code
    except DjangoValidationError:
        return value


# Customer satisfaction --------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="List customer-satisfaction scores",
        description="One 0–100 score per partner and month. A key bound to a partner sees only its own partner's.",
        responses={200: CustomerSatisfactionSerializer(many=True), 400: BAD_INPUT, 403: REFUSED},
    ),
    retrieve=extend_schema(
        summary="Read one customer-satisfaction score",
        responses={200: CustomerSatisfactionSerializer, 403: REFUSED, 404: NOT_FOUND},
    ),
    create=extend_schema(
        summary="Enter a partner's customer-satisfaction score for a month",
        description='`{"partner": 12, "period": "2026-10", "score": "86.5"}` (0–100, two decimals at most; a '
        "survey on another scale is converted first: 8.6 of 10 is 86). Entering it again replaces it (200 instead "
        "of 201). The month's snapshots change when the month is computed again.",
        responses={
            201: CustomerSatisfactionSerializer,
            200: CustomerSatisfactionSerializer,
            400: BAD_INPUT,
            403: REFUSED,
        },
    ),
)
class CustomerSatisfactionViewSet(PerformanceApi, mixins.CreateModelMixin, ReadOnlyModelViewSet):
    """Customer-satisfaction scores (客户满意度) entered by staff or an integration."""

    partner_readable = True
    serializer_class = CustomerSatisfactionSerializer
    filterset_class = CustomerSatisfactionFilterSet
    ordering_fields = ["period_start", "score", "partner__code", "entered_at"]
    ordering = ["-period_start", "partner__code", "id"]

    def get_queryset(self):
        return CustomerSatisfaction.objects.visible_to(self.request.user).select_related("partner")

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        with service_errors():
            replaced = CustomerSatisfaction.objects.filter(
                partner=data["partner"], period=_month_code(data["period"])
            ).exists()
            entry = services.customer_satisfaction_set(
                partner=data["partner"], period=data["period"], score=data["score"], by=request.user
            )
        code = status.HTTP_200_OK if replaced else status.HTTP_201_CREATED
        return Response(self.get_serializer(self.get_queryset().get(pk=entry.pk)).data, status=code)
