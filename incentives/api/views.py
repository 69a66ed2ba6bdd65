"""The incentives API: rebate policies (with a preview of what a volume earns, and their
assignment to agreements), override commission policies, rebate statements with their lines and
lifecycle as actions (and background calculation runs), MDF budgets with what their requests
hold, and MDF requests with their lifecycle and proof of performance.

Thin like every viewset: rows come through `visible_to` (the incentives selectors), writes through
incentives.services, whose ValidationErrors answer 400 by field and whose PermissionDenied answers
403. Nothing is deleted through the API: policies are retired with `is_active: false` (their
statements and assignments keep pointing at them), statements and requests are cancelled.

API keys need `incentives:read` or `incentives:write`. A key bound to a partner reads its own
partner's statements, budgets and requests (never the policies, which are the vendor's
programme), and may draft, change, submit, cancel and claim its own partner's MDF requests, as the
partner's users do in the portal; deciding and paying stay with the vendor."""

from types import SimpleNamespace

from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from prm.api.exceptions import BAD_INPUT, FIELD_ERRORS, NOT_FOUND, REFUSED
from prm.api.exceptions import service_errors as api_service_errors
from prm.api.permissions import IsStaffUser
from prm.api.viewsets import GenericViewSet, ServiceModelViewSet
from prm.models import JobRun
from prm.roles import is_staff_user
from prm.uploads import DOCUMENTS, attachment_response

from .. import selectors, services
from ..filters import MdfBudgetFilterSet, OverridePolicyFilterSet, RebatePolicyFilterSet, RebateStatementFilterSet
from ..models import MdfProof, OverridePolicy, StatementLine
from .filters import MdfRequestApiFilterSet
from .serializers import (
    MdfAllocateResultSerializer,
    MdfAllocateSerializer,
    MdfApproveSerializer,
    MdfBudgetSerializer,
    MdfClaimSerializer,
    MdfMarkPaidSerializer,
    MdfProofRemoveSerializer,
    MdfProofUploadSerializer,
    MdfReasonSerializer,
    MdfRequestSerializer,
    OverridePolicySerializer,
    PolicyAssignmentSerializer,
    RebatePolicySerializer,
    RebatePreviewRequestSerializer,
    RebatePreviewSerializer,
    RebateStatementSerializer,
    StatementAdjustSerializer,
    StatementCalculateSerializer,
    StatementRunSerializer,
)

STATEMENT_RUN_JOB = "incentives.rebate_statements_run"

ILLEGAL_STATEMENT = OpenApiResponse(
    FIELD_ERRORS,
    description="The statement's status does not allow this (approved and paid statements never change; a paid or "
    "cancelled one moves no more), or a rule is broken; the message, under `status` or the field, says why. "
    "Nothing is changed.",
)
ILLEGAL_MDF = OpenApiResponse(
    FIELD_ERRORS,
    description="The request's status does not allow this move (e.g. approving a draft), or a rule is broken (more "
    "than the budget has left, a claim above the approved amount, no proof); the message says why. Nothing is "
    "changed.",
)


def service_errors(field_names=None):
    """A service's ValidationError as the API's 400, under the field names the API uses."""
    return api_service_errors(field_names)


class ReadingPermission(IsStaffUser):
    """For an action that computes and writes nothing although it is a POST (a preview): whoever
    may read the data may use it, a key with the read scope included."""

    def has_permission(self, request, view):
        return super().has_permission(SimpleNamespace(user=request.user, method="GET"), view)


class IncentivesViewSet(ServiceModelViewSet):
    api_area = "incentives"
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def _answer(self, obj, code=status.HTTP_200_OK):
        return Response(self.get_serializer(self.get_queryset().get(pk=obj.pk)).data, status=code)

    def _payload(self, serializer_class):
        payload = serializer_class(data=self.request.data, context=self.get_serializer_context())
        payload.is_valid(raise_exception=True)
        return dict(payload.validated_data)


# Rebate policies ------------------------------------------------------------------------------


def _multipliers(rows):
    return None if rows is None else {row["tier"]: row["multiplier"] for row in rows}


@extend_schema_view(
    list=extend_schema(
        summary="List rebate policies", responses={200: RebatePolicySerializer(many=True), 403: REFUSED}
    ),
    retrieve=extend_schema(
        summary="Read one rebate policy", responses={200: RebatePolicySerializer, 403: REFUSED, 404: NOT_FOUND}
    ),
    create=extend_schema(
        summary="Create a rebate policy",
        description='Only `name`, `basis`, `period`, `method` and `brackets` are needed, e.g. `{"name": "Sensors '
        '2026", "basis": "revenue", "period": "quarter", "method": "marginal", "brackets": '
        '[{"threshold": "0", "rate": "10"}, {"threshold": "1000.00", "rate": "20.00"}]}`. Brackets '
        "are refused with 400 under `brackets`, naming the row, when a number is not one, the first threshold is "
        "not 0, a threshold is not above the previous one (duplicate, overlapping or out of order) or a rate is "
        "outside 0–100.",
        responses={201: RebatePolicySerializer, 400: BAD_INPUT, 403: REFUSED},
    ),
    update=extend_schema(
        summary="Change a rebate policy",
        description="`brackets`, `product_lines` and `tier_multipliers`, when sent, replace the policy's. Statements "
        "already calculated keep their lines until recalculated; approved and paid ones never change.",
        responses={200: RebatePolicySerializer, 400: BAD_INPUT, 403: REFUSED, 404: NOT_FOUND},
    ),
    partial_update=extend_schema(
        summary="Change some fields of a rebate policy",
        description="As PUT, with only the fields sent.",
        responses={200: RebatePolicySerializer, 400: BAD_INPUT, 403: REFUSED, 404: NOT_FOUND},
    ),
)
class RebatePolicyViewSet(IncentivesViewSet):
    """Rebate policies (返利政策): brackets applied retroactively or marginally to a partner's volume
    of a period, on eligible product lines, times its tier's multiplier, up to a cap. Channel
    admins and managers (and vendor keys with incentives:write) change them. Policies are never
    deleted (statements and agreements point at them): retire one with `is_active: false`. Keys
    bound to a partner cannot use this endpoint."""

    serializer_class = RebatePolicySerializer
    filterset_class = RebatePolicyFilterSet
    ordering_fields = ["name", "valid_from", "valid_to", "created_at", "updated_at"]
    ordering = ["name", "id"]

    def get_queryset(self):
        return selectors.policy_list(user=self.request.user).prefetch_related("tier_multipliers", "assignments")

    def create_object(self, data):
        with service_errors():
            return services.policy_create(
                by=self.request.user,
                brackets=data.pop("brackets"),
                product_lines=data.pop("product_lines", None),
                tier_multipliers=_multipliers(data.pop("tier_multipliers", None)),
                **data,
            )

    def update_object(self, instance, data):
        with service_errors():
            return services.policy_update(
                policy=instance,
                by=self.request.user,
                brackets=data.pop("brackets", None),
                product_lines=data.pop("product_lines", None),
                tier_multipliers=_multipliers(data.pop("tier_multipliers", None)),
                **data,
            )

    @extend_schema(
        summary="Preview what a volume earns",
        request=RebatePreviewRequestSerializer,
        description='Writes nothing, so a key with incentives:read may ask. `{"volume": "3800.00"}` under '
        'marginal brackets 0 at 10 %, 1000 at 20 %, 3000 at 30 % answers `{"amount": "740.00", "lines": '
        "[...]}` (100 + 400 + 240), one line per bracket reached; retroactive, the whole volume at the highest "
        "bracket reached (1140.00). With `partner`, its tier's multiplier applies and then the policy's cap, which "
        "adds a negative `cap` line taking off the excess. Each line is rounded half-up to the cent once; the "
        "amount is the sum of the lines.",
        responses={200: RebatePreviewSerializer, 400: BAD_INPUT, 403: REFUSED, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"], permission_classes=[ReadingPermission])
    def preview(self, request, pk=None, **kwargs):
        policy = self.get_object()
        payload = self._payload(RebatePreviewRequestSerializer)
        with service_errors():
            result = services.policy_preview(policy=policy, volume=payload["volume"], partner=payload.get("partner"))
        return Response(RebatePreviewSerializer(result).data)

    @extend_schema(
        summary="Assign the policy to an agreement",
        request=PolicyAssignmentSerializer,
        description="The agreement's partner earns under the policy for the periods the agreement is in force "
        "(active or expired) during. Assigning twice changes nothing. Answers the policy, whose `agreements` lists "
        "the assignment.",
        responses={200: RebatePolicySerializer, 400: BAD_INPUT, 403: REFUSED, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None, **kwargs):
        policy = self.get_object()
        payload = self._payload(PolicyAssignmentSerializer)
        with service_errors():
            services.policy_assign(agreement=payload["agreement"], policy=policy, by=request.user)
        return self._answer(policy)

    @extend_schema(
        summary="Unassign the policy from an agreement",
        request=PolicyAssignmentSerializer,
        description="Statements already calculated keep their lines until recalculated; approved and paid ones "
        "never change. Unassigning an agreement that is not assigned changes nothing.",
        responses={200: RebatePolicySerializer, 400: BAD_INPUT, 403: REFUSED, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"])
    def unassign(self, request, pk=None, **kwargs):
        policy = self.get_object()
        payload = self._payload(PolicyAssignmentSerializer)
        with service_errors():
            services.policy_unassign(agreement=payload["agreement"], policy=policy, by=request.user)
        return self._answer(policy)


# Override commission --------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="List override commission policies",
        responses={200: OverridePolicySerializer(many=True), 403: REFUSED},
    ),
    retrieve=extend_schema(
        summary="Read one override commission policy",
        responses={200: OverridePolicySerializer, 403: REFUSED, 404: NOT_FOUND},
    ),
    create=extend_schema(
        summary="Create an override commission policy",
        description='`rates` gives a rate in percent per level above the selling partner, e.g. `[{"level": 1, '
        '"rate": "3.00"}, {"level": 2, "rate": "1.00"}]`: 3 % of the seller\'s eligible sales to its '
        "parent, 1 % to its grandparent. A level listed twice, below 1, or a rate outside 0–100 is a 400 under "
        "`rates`.",
        responses={201: OverridePolicySerializer, 400: BAD_INPUT, 403: REFUSED},
    ),
    update=extend_schema(
        summary="Change an override commission policy",
        description="`rates` and `product_lines`, when sent, replace the policy's.",
        responses={200: OverridePolicySerializer, 400: BAD_INPUT, 403: REFUSED, 404: NOT_FOUND},
    ),
    partial_update=extend_schema(
        summary="Change some fields of an override commission policy",
        description="As PUT, with only the fields sent.",
        responses={200: OverridePolicySerializer, 400: BAD_INPUT, 403: REFUSED, 404: NOT_FOUND},
    ),
)
class OverridePolicyViewSet(IncentivesViewSet):
    """Override commission (超额佣金) for the multi-tier network: a percentage of a sub-partner's
    eligible sales paid to each level above it. Never deleted: retire one with `is_active:
    false`. Keys bound to a partner cannot use this endpoint."""

    serializer_class = OverridePolicySerializer
    filterset_class = OverridePolicyFilterSet
    ordering_fields = ["name", "valid_from", "valid_to", "created_at", "updated_at"]
    ordering = ["name", "id"]

    def get_queryset(self):
        return OverridePolicy.objects.visible_to(self.request.user).prefetch_related("rates", "product_lines")

    def create_object(self, data):
        with service_errors():
            return services.override_policy_create(
                by=self.request.user,
                name=data.pop("name"),
                rates=data.pop("rates"),
                product_lines=data.pop("product_lines", None),
                **data,
            )

    def update_object(self, instance, data):
        with service_errors():
            return services.override_policy_update(
                policy=instance,
                by=self.request.user,
                rates=data.pop("rates", None),
                product_lines=data.pop("product_lines", None),
                **data,
            )


# Statements -----------------------------------------------------------------------------------


def statement_queryset(user):
    lines = StatementLine.objects.select_related("rebate_policy", "override_policy", "source_partner").order_by(
        "kind", "id"
    )
    return selectors.statement_list(user=user).prefetch_related(Prefetch("lines", queryset=lines))


STATEMENT_LIST_DESCRIPTION = (
    "Each statement with its lines and what explains them (policy, bracket, base, rate, multiplier, the "
    "sub-partner of an override), the explanation in the request's language (Accept-Language). A key bound to a "
    "partner sees only its own partner's statements."
)


@extend_schema_view(
    list=extend_schema(
        summary="List rebate statements",
        description=STATEMENT_LIST_DESCRIPTION,
        responses={200: RebateStatementSerializer(many=True), 400: BAD_INPUT, 403: REFUSED},
    ),
    retrieve=extend_schema(
        summary="Read one rebate statement",
        description=STATEMENT_LIST_DESCRIPTION,
        responses={200: RebateStatementSerializer, 403: REFUSED, 404: NOT_FOUND},
    ),
)
class RebateStatementViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, GenericViewSet):
    """What one partner earned in one period (返利对账单), line by line: calculated → approved → paid,
    or cancelled. Statements are made by calculating (`calculate`, `recalculate`), never posted;
    an approved or paid statement never changes: a correction is an adjustment on a later one."""

    api_area = "incentives"
    partner_readable = True
    serializer_class = RebateStatementSerializer
    filterset_class = RebateStatementFilterSet
    ordering_fields = ["period_start", "period", "status", "total", "partner__code", "calculated_at", "updated_at"]
    ordering = ["-period_start", "partner__code", "-id"]

    def get_queryset(self):
        return statement_queryset(self.request.user)

    def _move(self, service, payload_class=None, field_names=None):
        statement = self.get_object()
        data = {}
        if payload_class is not None:
            payload = payload_class(data=self.request.data)
            payload.is_valid(raise_exception=True)
            data = payload.validated_data
        with service_errors(field_names):
            service(statement=statement, by=self.request.user, **data)
        return Response(self.get_serializer(self.get_queryset().get(pk=statement.pk)).data)

    @extend_schema(
        summary="Approve a statement",
        request=None,
        description="calculated → approved. From now on the statement never changes.",
        responses={200: RebateStatementSerializer, 400: ILLEGAL_STATEMENT, 403: REFUSED, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None, **kwargs):
        return self._move(services.statement_approve)

    @extend_schema(
        summary="Mark a statement paid",
        request=None,
        description="approved → paid.",
        responses={200: RebateStatementSerializer, 400: ILLEGAL_STATEMENT, 403: REFUSED, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"], url_path="mark-paid")
    def mark_paid(self, request, pk=None, **kwargs):
        return self._move(services.statement_mark_paid)

    @extend_schema(
        summary="Cancel a statement",
        request=None,
        description="calculated or approved (not yet paid) → cancelled; the period may then be calculated anew.",
        responses={200: RebateStatementSerializer, 400: ILLEGAL_STATEMENT, 403: REFUSED, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None, **kwargs):
        return self._move(services.statement_cancel)

    @extend_schema(
        summary="Adjust a statement",
        request=StatementAdjustSerializer,
        description="Adds an adjustment line (positive or negative, in whole cents) with its reason to a calculated "
        "statement; the total follows. An approved or paid statement is refused with 400 under `status`: correct it "
        "with an adjustment on a later statement.",
        responses={200: RebateStatementSerializer, 400: ILLEGAL_STATEMENT, 403: REFUSED, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"])
    def adjust(self, request, pk=None, **kwargs):
        return self._move(services.statement_add_adjustment, StatementAdjustSerializer, {"statement": "status"})

    @extend_schema(
        summary="Recalculate a statement now",
        request=None,
        description="Replaces the computed lines of a calculated statement from the sales and policies as they are "
        "now (its adjustments stay). An approved or paid statement never changes: refused with 400.",
        responses={200: RebateStatementSerializer, 400: ILLEGAL_STATEMENT, 403: REFUSED, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"])
    def recalculate(self, request, pk=None, **kwargs):
        statement = self.get_object()
        with service_errors():
            services.statement_calculate(partner=statement.partner, period=statement.period, by=request.user)
        return Response(self.get_serializer(self.get_queryset().get(pk=statement.pk)).data)

    @extend_schema(
        summary="Calculate the statements of a period (in the background)",
        request=StatementCalculateSerializer,
        description="Starts a background run for one partner (`partner`) or every partner with a policy, and "
        "answers 202 with the run; follow it at `/api/v1/rebate-statements/runs/{id}/` (also in the Location "
        "header) until `finished`. Calculated statements are replaced, approved and paid ones left as they are (a "
        "run for one partner whose statement is approved or paid fails, with the reason in `error`). Running it "
        "twice writes the same statements, never duplicates.",
        responses={202: StatementRunSerializer, 400: BAD_INPUT, 403: REFUSED},
    )
    @action(detail=False, methods=["post"], filter_backends=[], pagination_class=None)
    def calculate(self, request, **kwargs):
        payload = StatementCalculateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        with service_errors():
            run = services.statement_run_start(
                by=request.user, period=payload.validated_data["period"], partner=payload.validated_data.get("partner")
            )
        location = reverse("rebate-statement-run", kwargs={"pk": run.pk})
        return Response(
            StatementRunSerializer(run).data,
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": request.build_absolute_uri(location)},
        )

    @extend_schema(
        summary="Follow a calculation run",
        description="`status` queued → running → succeeded or failed; `done` of `total` steps, `percent`, "
        "`rows_written` (statements calculated) and, for a failed run, `error`. Runs cover many partners: keys bound "
        "to a partner cannot read them.",
        parameters=[OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The run's id.")],
        responses={200: StatementRunSerializer, 403: REFUSED, 404: NOT_FOUND},
    )
    @action(
        detail=False,
        methods=["get"],
        # `pk` names the run (a prm.JobRun), not a statement.
        url_path=r"runs/(?P<pk>[0-9]+)",
        url_name="run",
        filter_backends=[],
        pagination_class=None,
    )
    def run(self, request, pk=None, **kwargs):
        if not is_staff_user(request.user):
            raise exceptions.PermissionDenied(_("An API key bound to a partner cannot use this endpoint."))
        return Response(StatementRunSerializer(get_object_or_404(JobRun, job=STATEMENT_RUN_JOB, pk=pk)).data)


# MDF budgets ----------------------------------------------------------------------------------

BUDGET_FIGURES = (
    "`allocated` is the budget; `pending`: requested by submitted requests not yet decided (shown, not held); "
    "`reserved`: approved amounts not yet claimed; `claimed`: claims not yet paid; `paid`; `committed` = reserved + "
    "claimed + paid; `remaining` = allocated − committed."
)


@extend_schema_view(
    list=extend_schema(
        summary="List MDF budgets",
        description=BUDGET_FIGURES + " A key bound to a partner sees only its own partner's budgets.",
        responses={200: MdfBudgetSerializer(many=True), 400: BAD_INPUT, 403: REFUSED},
    ),
    retrieve=extend_schema(
        summary="Read one MDF budget",
        description=BUDGET_FIGURES,
        responses={200: MdfBudgetSerializer, 403: REFUSED, 404: NOT_FOUND},
    ),
    create=extend_schema(
        summary="Set a partner's MDF budget for a period",
        description="Creates the budget of the partner and period, or sets the one there (the same row, set by hand "
        "from now on). Never below what its requests already hold; never overlapping another budget of the partner "
        "(a month inside a budgeted quarter).",
        responses={201: MdfBudgetSerializer, 400: BAD_INPUT, 403: REFUSED},
    ),
    update=extend_schema(
        summary="Change an MDF budget",
        description="Changes `allocated` (and `note`); the partner and period never change. Never below what its "
        "requests already hold.",
        responses={200: MdfBudgetSerializer, 400: BAD_INPUT, 403: REFUSED, 404: NOT_FOUND},
    ),
    partial_update=extend_schema(
        summary="Change some fields of an MDF budget",
        description="As PUT, with only the fields sent.",
        responses={200: MdfBudgetSerializer, 400: BAD_INPUT, 403: REFUSED, 404: NOT_FOUND},
    ),
)
class MdfBudgetViewSet(IncentivesViewSet):
    """Market development funds (市场发展基金) a partner may spend in one period, and what its
    requests hold of them. Set by whoever may change the partner (its channel manager, the
    manager of its region, a channel admin, a vendor key), by hand or from each tier's MDF
    allowance (`allocate`). Budgets are not deleted."""

    partner_readable = True
    serializer_class = MdfBudgetSerializer
    filterset_class = MdfBudgetFilterSet
    ordering_fields = ["period_start", "period", "allocated", "remaining", "partner__code", "updated_at"]
    ordering = ["-period_start", "partner__code", "id"]

    def get_queryset(self):
        return selectors.budget_list(user=self.request.user)

    def create_object(self, data):
        with service_errors():
            return services.budget_set(
                partner=data["partner"],
                period=data["period"],
                allocated=data["allocated"],
                note=data.get("note", ""),
                by=self.request.user,
            )

    def update_object(self, instance, data):
        with service_errors():
            return services.budget_set(
                partner=instance.partner,
                period=instance.period,
                allocated=data.get("allocated", instance.allocated),
                note=data.get("note", instance.note),
                by=self.request.user,
            )

    @extend_schema(
        summary="Allocate budgets from the tiers' MDF allowance",
        request=MdfAllocateSerializer,
        description="For every active partner whose tier has an MDF allowance: the allowance % of its revenue in "
        "the previous period of the same length, rounded half-up to the cent. Budgets set by hand are kept; ones "
        "from an earlier allocation are recomputed, never below what their requests hold. Running it twice changes "
        "nothing more. Answers the counts.",
        responses={200: MdfAllocateResultSerializer, 400: BAD_INPUT, 403: REFUSED},
    )
    @action(detail=False, methods=["post"], filter_backends=[], pagination_class=None)
    def allocate(self, request, **kwargs):
        payload = self._payload(MdfAllocateSerializer)
        with service_errors():
            counts = services.budgets_allocate_from_tiers(period=payload["period"], by=request.user)
        return Response(MdfAllocateResultSerializer(counts).data)


# MDF requests ---------------------------------------------------------------------------------


def request_queryset(user):
    proofs = MdfProof.objects.order_by("uploaded_at", "id")
    return selectors.request_list(user=user).prefetch_related(Prefetch("proofs", queryset=proofs))


@extend_schema_view(
    list=extend_schema(
        summary="List MDF requests",
        description="With their proofs of performance. A key bound to a partner sees only its own partner's.",
        responses={200: MdfRequestSerializer(many=True), 400: BAD_INPUT, 403: REFUSED},
    ),
    retrieve=extend_schema(
        summary="Read one MDF request", responses={200: MdfRequestSerializer, 403: REFUSED, 404: NOT_FOUND}
    ),
    create=extend_schema(
        summary="Draft an MDF request",
        description="A draft against one of the partner's budgets (the request is the budget's partner's); the "
        "activity starts within the budget's period. Submit it with the `submit` action.",
        responses={201: MdfRequestSerializer, 400: BAD_INPUT, 403: REFUSED},
    ),
    update=extend_schema(
        summary="Change a draft MDF request",
        description="Only a draft changes (400 under `status` otherwise); it may move to another budget of the same "
        "partner.",
        responses={200: MdfRequestSerializer, 400: BAD_INPUT, 403: REFUSED, 404: NOT_FOUND},
    ),
    partial_update=extend_schema(
        summary="Change some fields of a draft MDF request",
        description="As PUT, with only the fields sent.",
        responses={200: MdfRequestSerializer, 400: BAD_INPUT, 403: REFUSED, 404: NOT_FOUND},
    ),
)
class MdfRequestViewSet(IncentivesViewSet):
    """A partner's request for market development funds for one activity, then its claim: draft →
    submitted → approved (the approved amount reserves budget) | rejected → claimed (actual
    amount, proof of performance) → paid; cancelled before it is claimed. The status moves only
    through the actions. Requests are not deleted: cancel one."""

    partner_readable = True
    # A partner's own system does what its portal users do: draft, submit, cancel, claim.
    partner_writable_actions = (
        "create",
        "update",
        "partial_update",
        "submit",
        "cancel",
        "claim",
        "proof_upload",
        "proof_remove",
    )
    serializer_class = MdfRequestSerializer
    filterset_class = MdfRequestApiFilterSet
    ordering_fields = ["created_at", "updated_at", "start_date", "requested_amount", "status"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self):
        return request_queryset(self.request.user)

    def create_object(self, data):
        with service_errors():
            return services.mdf_request_create(by=self.request.user, **data)

    def update_object(self, instance, data):
        with service_errors():
            return services.mdf_request_update(request=instance, by=self.request.user, **data)

    def _move(self, service, payload_class=None, field_names=None):
        mdf_request = self.get_object()
        data = self._payload(payload_class) if payload_class is not None else {}
        with service_errors(field_names):
            service(request=mdf_request, by=self.request.user, **data)
        return self._answer(mdf_request)

    @extend_schema(
        summary="Submit a draft",
        request=None,
        description="draft → submitted; the managers who decide on the partner's MDF are told.",
        responses={200: MdfRequestSerializer, 400: ILLEGAL_MDF, 403: REFUSED, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None, **kwargs):
        return self._move(services.mdf_request_submit)

    @extend_schema(
        summary="Approve a request",
        request=MdfApproveSerializer,
        description="submitted → approved, reserving `approved_amount` (default: the amount requested; never more) "
        "of the budget. Refused with 400 under `approved_amount` when the budget's remainder does not cover it: of "
        "two approvals racing for the last of a budget, the second is refused.",
        responses={200: MdfRequestSerializer, 400: ILLEGAL_MDF, 403: REFUSED, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None, **kwargs):
        return self._move(services.mdf_request_approve, MdfApproveSerializer)

    @extend_schema(
        summary="Reject a request",
        request=MdfReasonSerializer,
        description="submitted → rejected, with the reason the partner reads.",
        responses={200: MdfRequestSerializer, 400: ILLEGAL_MDF, 403: REFUSED, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None, **kwargs):
        return self._move(services.mdf_request_reject, MdfReasonSerializer)

    @extend_schema(
        summary="Cancel a request",
        request=None,
        description="draft, submitted or approved (not yet claimed) → cancelled; an approved request gives its "
        "reservation back to the budget.",
        responses={200: MdfRequestSerializer, 400: ILLEGAL_MDF, 403: REFUSED, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None, **kwargs):
        return self._move(services.mdf_request_cancel)

    @extend_schema(
        summary="Claim an approved request",
        request={"multipart/form-data": MdfClaimSerializer, "application/json": MdfClaimSerializer},
        description="approved → claimed: what the activity actually cost (at most the approved amount; the rest "
        "goes back to the budget), with proof of performance as multipart `files` (PDF, PNG, JPEG, DOCX or XLSX: "
        "the name and the content must agree; at most PRM_MAX_UPLOAD_MB megabytes each). A claim without any proof "
        "is refused with 400 under `files`, and nothing is kept.",
        responses={200: MdfRequestSerializer, 400: ILLEGAL_MDF, 403: REFUSED, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser, FormParser, JSONParser])
    def claim(self, request, pk=None, **kwargs):
        return self._move(services.mdf_request_claim, MdfClaimSerializer, {"file": "files"})

    @extend_schema(
        summary="Return a claim",
        request=MdfReasonSerializer,
        description="claimed → approved: the proof is not enough; the partner adds to it and claims again. The "
        "approved amount stays reserved.",
        responses={200: MdfRequestSerializer, 400: ILLEGAL_MDF, 403: REFUSED, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"], url_path="return-claim")
    def return_claim(self, request, pk=None, **kwargs):
        return self._move(services.mdf_claim_return, MdfReasonSerializer)

    @extend_schema(
        summary="Mark a claim paid",
        request=MdfMarkPaidSerializer,
        description="claimed → paid (the actual amount); a channel admin's call, or a vendor key's (the finance "
        "system).",
        responses={200: MdfRequestSerializer, 400: ILLEGAL_MDF, 403: REFUSED, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"], url_path="mark-paid")
    def mark_paid(self, request, pk=None, **kwargs):
        return self._move(services.mdf_request_mark_paid, MdfMarkPaidSerializer)

    def perform_content_negotiation(self, request, force=False):
        # A download answers the file whatever the caller accepts; errors still answer JSON.
        return super().perform_content_negotiation(request, force=force or self.action == "proof_download")

    @extend_schema(
        summary="Download a proof of performance",
        parameters=[
            OpenApiParameter("proof_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The proof's id.")
        ],
        responses={
            **{
                (200, content_type): OpenApiResponse(
                    OpenApiTypes.BINARY, description="The file as it was uploaded, as an attachment."
                )
                for content_type in DOCUMENTS.content_types
            },
            403: REFUSED,
            404: NOT_FOUND,
        },
    )
    @action(
        detail=True,
        methods=["get"],
        url_path=r"proofs/(?P<proof_id>[0-9]+)/download",
        url_name="proof-download",
        filter_backends=[],
        pagination_class=None,
    )
    def proof_download(self, request, pk=None, proof_id=None, **kwargs):
        mdf_request = self.get_object()
        proof = get_object_or_404(mdf_request.proofs.all(), pk=proof_id)
        return attachment_response(proof.file, filename=proof.original_name, content_type=proof.content_type)

    @extend_schema(
        summary="Add a proof of performance",
        request={"multipart/form-data": MdfProofUploadSerializer},
        description="multipart/form-data with one `file`, to an approved request before it is claimed (the portal's "
        "upload); the claim may also bring its files. At most PRM_MAX_UPLOAD_MB megabytes; the name and the "
        "content must agree. Another status: 400 under `file`.",
        responses={200: MdfRequestSerializer, 400: ILLEGAL_MDF, 403: REFUSED, 404: NOT_FOUND},
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="proofs",
        url_name="proof-upload",
        parser_classes=[MultiPartParser, FormParser],
        filter_backends=[],
        pagination_class=None,
    )
    def proof_upload(self, request, pk=None, **kwargs):
        mdf_request = self.get_object()
        payload = self._payload(MdfProofUploadSerializer)
        with service_errors():
            services.mdf_proof_add(request=mdf_request, by=request.user, file=payload["file"])
        return self._answer(mdf_request)

    @extend_schema(
        summary="Remove a proof of performance",
        request=MdfProofRemoveSerializer,
        description='`{"proof": 12}`: while the request is approved and not yet claimed (the portal\'s delete); a '
        "claimed request's proof stays (400 under `file`). Answers the request with the proofs left.",
        responses={200: MdfRequestSerializer, 400: ILLEGAL_MDF, 403: REFUSED, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"], url_path="remove-proof", filter_backends=[], pagination_class=None)
    def proof_remove(self, request, pk=None, **kwargs):
        mdf_request = self.get_object()
        payload = self._payload(MdfProofRemoveSerializer)
        proof = get_object_or_404(mdf_request.proofs.all(), pk=payload["proof"])
        with service_errors():
            services.mdf_proof_delete(proof=proof, by=request.user)
        return self._answer(mdf_request)
