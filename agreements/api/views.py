"""The agreements API: agreements with their lifecycle as actions, their targets and documents,
and region targets with their split to partners. Thin like every viewset: rows come through
`visible_to`, writes through agreements.services, whose ValidationErrors answer 400 by field."""

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from prm.api.authentication import ApiKeyPrincipal
from prm.api.exceptions import BAD_INPUT, FIELD_ERRORS, NOT_FOUND, REFUSED
from prm.api.exceptions import service_errors as api_service_errors
from prm.api.viewsets import ServiceModelViewSet
from prm.periods import Period
from prm.roles import is_staff_user
from prm.uploads import DOCUMENTS, attachment_response

from .. import services
from ..access import (
    require_approve_agreement,
    require_manage_agreement,
    require_manage_partner_agreements,
    require_manage_region_targets,
)
from ..choices import AgreementStatus
from ..filters import AgreementFilterSet
from ..models import Agreement, AgreementDocument, AgreementTarget, AgreementTerritory, RegionTarget
from ..portal import portal_agreements, portal_documents
from .serializers import (
    AgreementDocumentSerializer,
    AgreementSerializer,
    AgreementTargetSerializer,
    AmendSerializer,
    DecompositionRowSerializer,
    DocumentUploadSerializer,
    ReasonSerializer,
    RegionTargetSerializer,
    RenewSerializer,
    TargetSetSerializer,
)

SAFE = ("GET", "HEAD", "OPTIONS")
# Service field names that the API spells differently.
API_FIELD_NAMES = {"agreement_type": "type"}

ILLEGAL = OpenApiResponse(
    FIELD_ERRORS,
    description="The agreement's status does not allow this move (e.g. approving a draft), or a rule is broken; "
    "the message says why. Nothing is changed.",
)
CONFLICT_NOTE = (
    "An exclusive territory that overlaps another partner's in-force agreement on the same product line and dates "
    "is refused with 400; the message names the conflicting agreement's number."
)


def service_errors():
    """A service's ValidationError as the API's 400, under the field names the API uses."""
    return api_service_errors(API_FIELD_NAMES)


def _as_api_error(check, *args):
    try:
        check(*args)
    except PermissionDenied as error:
        raise exceptions.PermissionDenied(str(error)) from error


def _is_partner_reader(user):
    """A caller acting for a partner (an API key bound to one): reads its own partner's rows, and
    neither the vendor's drafts nor the documents kept from the portal."""
    return not is_staff_user(user)


def agreement_queryset(user):
    queryset = portal_agreements(user) if _is_partner_reader(user) else Agreement.objects.visible_to(user)
    return queryset.prefetch_related(
        "product_lines",
        Prefetch("territories", queryset=AgreementTerritory.objects.order_by("region__path")),
        "minimum_prices",
    )


def document_queryset(user):
    return portal_documents(user) if _is_partner_reader(user) else AgreementDocument.objects.visible_to(user)


def _unchanged(instance, name, value):
    """Whether `value` is what the agreement holds already: a full PUT of an active agreement
    repeats its locked terms unchanged, and that is no attempt to change them."""
    if name == "product_lines":
        return {line.pk for line in value} == {line.pk for line in instance.product_lines.all()}
    if name == "territories":
        current = {(row.region_id, row.exclusive) for row in instance.territories.all()}
        return {(row["region"].pk, row["exclusive"]) for row in value} == current
    if name == "minimum_prices":
        current = {(row.product_line_id, row.min_unit_price) for row in instance.minimum_prices.all()}
        return {(row["product_line"].pk, row["min_unit_price"]) for row in value} == current
    return getattr(instance, name) == value


@extend_schema_view(
    list=extend_schema(summary="List agreements", responses={200: AgreementSerializer(many=True), 403: REFUSED}),
    retrieve=extend_schema(
        summary="Read one agreement", responses={200: AgreementSerializer, 403: REFUSED, 404: NOT_FOUND}
    ),
    create=extend_schema(
        summary="Draft an agreement",
        description="Only partner, type, start_date, end_date, product_lines and territories are needed; the "
        "agreement starts as a draft with a generated number. " + CONFLICT_NOTE,
        responses={201: AgreementSerializer, 400: BAD_INPUT, 403: REFUSED},
    ),
    update=extend_schema(
        summary="Change an agreement",
        description="A draft changes freely; once pending or active only notes, owner, signatories and signing date "
        "change (amend or renew it instead). " + CONFLICT_NOTE,
        responses={200: AgreementSerializer, 400: BAD_INPUT, 403: REFUSED, 404: NOT_FOUND},
    ),
    partial_update=extend_schema(
        summary="Change some fields of an agreement",
        description="As PUT, with only the fields sent.",
        responses={200: AgreementSerializer, 400: BAD_INPUT, 403: REFUSED, 404: NOT_FOUND},
    ),
)
class AgreementViewSet(ServiceModelViewSet):
    """Agreements with partners. Their status moves only through the actions (submit, approve,
    reject, terminate); renew and amend create a successor draft. Agreements are never deleted:
    a draft that is not wanted is withdrawn with terminate."""

    api_area = "agreements"
    partner_readable = True
    # Accepted so that a partner's key hears why it cannot acknowledge (a person does, in the portal).
    partner_writable_actions = ("acknowledge",)
    serializer_class = AgreementSerializer
    filterset_class = AgreementFilterSet
    ordering_fields = ["number", "start_date", "end_date", "status", "created_at", "updated_at"]
    ordering = ["-start_date", "-id"]
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def get_queryset(self):
        return agreement_queryset(self.request.user)

    def get_object(self):
        agreement = super().get_object()
        if self.request.method in SAFE or self.action == "acknowledge":
            return agreement
        if self.action in ("approve", "reject"):
            _as_api_error(require_approve_agreement, self.request.user, agreement)
        else:
            _as_api_error(require_manage_agreement, self.request.user, agreement)
        return agreement

    def create_object(self, data):
        _as_api_error(require_manage_partner_agreements, self.request.user, data["partner"])
        with service_errors():
            return services.agreement_create(by=self.request.user, **data)

    def update_object(self, instance, data):
        data.pop("partner", None)
        changes = {name: value for name, value in data.items() if not _unchanged(instance, name, value)}
        with service_errors():
            return services.agreement_update(agreement=instance, by=self.request.user, **changes)

    def _answer(self, agreement, code=status.HTTP_200_OK):
        return Response(self.get_serializer(self.get_queryset().get(pk=agreement.pk)).data, status=code)

    def _move(self, service, payload_class=None, agreement=None):
        agreement = agreement or self.get_object()
        data = {}
        if payload_class is not None:
            payload = payload_class(data=self.request.data)
            payload.is_valid(raise_exception=True)
            data = payload.validated_data
        with service_errors():
            result = service(agreement=agreement, by=self.request.user, **data)
        if isinstance(result, Agreement) and result.pk != agreement.pk:
            return self._answer(result, status.HTTP_201_CREATED)
        return self._answer(agreement)

    @extend_schema(
        summary="Submit a draft for approval",
        request=None,
        description="draft → pending_approval. The agreement must be complete and its exclusive territories free. "
        + CONFLICT_NOTE,
        responses={200: AgreementSerializer, 400: ILLEGAL, 403: REFUSED, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None, **kwargs):
        return self._move(services.agreement_submit)

    @extend_schema(
        summary="Approve an agreement",
        request=None,
        description="pending_approval → active; a channel admin's call. Approving an amendment terminates the "
        "version it supersedes. " + CONFLICT_NOTE,
        responses={200: AgreementSerializer, 400: ILLEGAL, 403: REFUSED, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None, **kwargs):
        return self._move(services.agreement_approve)

    @extend_schema(
        summary="Reject an agreement",
        request=ReasonSerializer,
        description="pending_approval → draft, with the reason; a channel admin's call.",
        responses={200: AgreementSerializer, 400: ILLEGAL, 403: REFUSED, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None, **kwargs):
        return self._move(services.agreement_reject, ReasonSerializer)

    @extend_schema(
        summary="Terminate (or withdraw) an agreement",
        request=ReasonSerializer,
        description="draft, pending_approval or active → terminated, with the reason.",
        responses={200: AgreementSerializer, 400: ILLEGAL, 403: REFUSED, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"])
    def terminate(self, request, pk=None, **kwargs):
        return self._move(services.agreement_terminate, ReasonSerializer)

    @extend_schema(
        summary="Renew an agreement",
        request=RenewSerializer,
        description="Creates the successor draft, linked to this agreement (its predecessor), with the same terms "
        "for the next term; answers the new draft.",
        responses={201: AgreementSerializer, 400: ILLEGAL, 403: REFUSED, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"])
    def renew(self, request, pk=None, **kwargs):
        return self._move(services.agreement_renew, RenewSerializer)

    @extend_schema(
        summary="Amend an agreement (a new version)",
        request=AmendSerializer,
        description="Creates the next version as a draft linked to this agreement; once approved it supersedes "
        "(terminates) this one. Answers the new draft.",
        responses={201: AgreementSerializer, 400: ILLEGAL, 403: REFUSED, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"])
    def amend(self, request, pk=None, **kwargs):
        return self._move(services.agreement_amend, AmendSerializer)

    @extend_schema(
        summary="Acknowledge an agreement (portal only)",
        request=None,
        description="Acknowledging is a person's act: a user of the partner does it in the portal, where it is "
        "recorded with their name and the time. API keys are refused with 403.",
        responses={200: AgreementSerializer, 400: ILLEGAL, 403: REFUSED, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None, **kwargs):
        agreement = self.get_object()
        if isinstance(request.user, ApiKeyPrincipal):
            raise exceptions.PermissionDenied(
                _("An agreement is acknowledged by a person of the partner, in the portal; API keys cannot.")
            )
        return self._move(services.agreement_acknowledge, agreement=agreement)

    # Targets -------------------------------------------------------------------------------------

    @extend_schema(
        methods=["GET"],
        summary="The agreement's targets",
        responses={200: AgreementTargetSerializer(many=True), 403: REFUSED, 404: NOT_FOUND},
    )
    @extend_schema(
        methods=["POST"],
        summary="Set a target of the agreement",
        description="Creates the target of the period (and product line), or replaces the amounts of the one "
        "there (201 when created, 200 when replaced). The period must lie inside the agreement's term.",
        request=TargetSetSerializer,
        responses={200: AgreementTargetSerializer, 201: AgreementTargetSerializer, 400: BAD_INPUT, 403: REFUSED},
    )
    @action(detail=True, methods=["get", "post"], filter_backends=[], pagination_class=None)
    def targets(self, request, pk=None, **kwargs):
        agreement = self.get_object()
        if request.method == "GET":
            rows = AgreementTarget.objects.visible_to(request.user).filter(agreement=agreement)
            return Response(AgreementTargetSerializer(rows, many=True, context=self.get_serializer_context()).data)
        payload = TargetSetSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        existed = _target_exists(agreement, data["period"], data["product_line"])
        with service_errors():
            target = services.target_set(agreement=agreement, by=request.user, **data)
        return Response(
            AgreementTargetSerializer(target, context=self.get_serializer_context()).data,
            status=status.HTTP_200_OK if existed else status.HTTP_201_CREATED,
        )

    # Documents -----------------------------------------------------------------------------------

    @extend_schema(
        methods=["GET"],
        summary="The agreement's documents",
        description="A key bound to a partner sees only the documents visible in the portal.",
        responses={200: AgreementDocumentSerializer(many=True), 403: REFUSED, 404: NOT_FOUND},
    )
    @extend_schema(
        methods=["POST"],
        summary="Upload a document",
        description="multipart/form-data with `file` (PDF, PNG, JPEG, DOCX or XLSX: the name and the content must "
        "agree; at most PRM_MAX_UPLOAD_MB megabytes), `kind` and `visible_to_partner`.",
        request={"multipart/form-data": DocumentUploadSerializer},
        responses={201: AgreementDocumentSerializer, 400: BAD_INPUT, 403: REFUSED, 404: NOT_FOUND},
    )
    @action(
        detail=True,
        methods=["get", "post"],
        parser_classes=[MultiPartParser, FormParser],
        filter_backends=[],
        pagination_class=None,
    )
    def documents(self, request, pk=None, **kwargs):
        agreement = self.get_object()
        context = self.get_serializer_context()
        if request.method == "GET":
            rows = document_queryset(request.user).filter(agreement=agreement)
            return Response(AgreementDocumentSerializer(rows, many=True, context=context).data)
        payload = DocumentUploadSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        with service_errors():
            document = services.document_add(agreement=agreement, by=request.user, **payload.validated_data)
        return Response(AgreementDocumentSerializer(document, context=context).data, status=status.HTTP_201_CREATED)


def _target_exists(agreement, period, product_line):
    try:
        code = Period.parse(period).code
    except DjangoValidationError:
        return False
    return AgreementTarget.objects.filter(agreement=agreement, period=code, product_line=product_line).exists()


@extend_schema_view(
    list=extend_schema(summary="List agreement targets", responses={200: AgreementTargetSerializer(many=True)}),
    retrieve=extend_schema(responses={200: AgreementTargetSerializer, 404: NOT_FOUND}),
    update=extend_schema(responses={200: AgreementTargetSerializer, 400: BAD_INPUT, 403: REFUSED, 404: NOT_FOUND}),
    partial_update=extend_schema(
        responses={200: AgreementTargetSerializer, 400: BAD_INPUT, 403: REFUSED, 404: NOT_FOUND}
    ),
    destroy=extend_schema(responses={204: None, 400: BAD_INPUT, 403: REFUSED, 404: NOT_FOUND}),
)
class AgreementTargetViewSet(ServiceModelViewSet):
    """Targets of agreements, one per period (and product line). New ones are set with POST
    /api/v1/agreements/{id}/targets/; here a target's amounts change, or it is deleted."""

    api_area = "agreements"
    partner_readable = True
    serializer_class = AgreementTargetSerializer
    filterset_fields = ["agreement", "period", "product_line"]
    ordering_fields = ["period_start", "period", "updated_at"]
    ordering = ["agreement", "period_start", "period"]
    http_method_names = ["get", "put", "patch", "delete", "head", "options"]

    def get_queryset(self):
        queryset = AgreementTarget.objects.visible_to(self.request.user)
        if _is_partner_reader(self.request.user):
            queryset = queryset.exclude(agreement__status=AgreementStatus.DRAFT)
        return queryset

    def get_object(self):
        target = super().get_object()
        if self.request.method not in SAFE:
            _as_api_error(require_manage_agreement, self.request.user, target.agreement)
        return target

    def update_object(self, instance, data):
        with service_errors():
            return services.target_set(
                agreement=instance.agreement,
                period=instance.period,
                product_line=instance.product_line,
                revenue=data.get("revenue", instance.revenue),
                units=data.get("units", instance.units),
                by=self.request.user,
            )

    def delete_object(self, instance):
        with service_errors():
            services.target_delete(target=instance, by=self.request.user)


@extend_schema_view(
    list=extend_schema(summary="List agreement documents", responses={200: AgreementDocumentSerializer(many=True)}),
    retrieve=extend_schema(responses={200: AgreementDocumentSerializer, 404: NOT_FOUND}),
    destroy=extend_schema(responses={204: None, 400: BAD_INPUT, 403: REFUSED, 404: NOT_FOUND}),
)
class AgreementDocumentViewSet(ServiceModelViewSet):
    """Documents of agreements (metadata); the file itself comes from the download action. A key
    bound to a partner sees only the documents visible in the portal. Upload with POST
    /api/v1/agreements/{id}/documents/."""

    api_area = "agreements"
    partner_readable = True
    serializer_class = AgreementDocumentSerializer
    filterset_fields = ["agreement", "kind", "visible_to_partner"]
    ordering_fields = ["uploaded_at", "original_name", "size"]
    ordering = ["-uploaded_at", "-id"]
    http_method_names = ["get", "delete", "head", "options"]

    def get_queryset(self):
        return document_queryset(self.request.user)

    def get_object(self):
        document = super().get_object()
        if self.request.method not in SAFE:
            _as_api_error(require_manage_agreement, self.request.user, document.agreement)
        return document

    def delete_object(self, instance):
        with service_errors():
            services.document_delete(document=instance, by=self.request.user)

    def perform_content_negotiation(self, request, force=False):
        # A download answers the file whatever the caller accepts; errors still answer JSON.
        return super().perform_content_negotiation(request, force=force or self.action == "download")

    @extend_schema(
        summary="Download the file",
        responses={
            **{
                (200, content_type): OpenApiResponse(
                    OpenApiTypes.BINARY, description="The file as it was uploaded, as an attachment."
                )
                for content_type in DOCUMENTS.content_types
            },
            404: NOT_FOUND,
        },
    )
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None, **kwargs):
        document = self.get_object()
        return attachment_response(document.file, filename=document.original_name, content_type=document.content_type)


@extend_schema_view(
    list=extend_schema(summary="List region targets", responses={200: RegionTargetSerializer(many=True)}),
    retrieve=extend_schema(responses={200: RegionTargetSerializer, 404: NOT_FOUND}),
    create=extend_schema(
        summary="Set a region target",
        description="Creates the region's target for the period (and product line), or replaces the amounts of "
        "the one there.",
        responses={201: RegionTargetSerializer, 400: BAD_INPUT, 403: REFUSED},
    ),
    update=extend_schema(responses={200: RegionTargetSerializer, 400: BAD_INPUT, 403: REFUSED, 404: NOT_FOUND}),
    partial_update=extend_schema(responses={200: RegionTargetSerializer, 400: BAD_INPUT, 403: REFUSED, 404: NOT_FOUND}),
)
class RegionTargetViewSet(ServiceModelViewSet):
    """A region's target per period, set top-down and split across the region's partners
    (目标分解): preview the split, then decompose it into the partners' agreement targets. Vendor
    only: keys bound to a partner cannot use it."""

    api_area = "agreements"
    serializer_class = RegionTargetSerializer
    filterset_fields = ["region", "period", "product_line"]
    ordering_fields = ["period_start", "period", "updated_at"]
    ordering = ["period_start", "region__path"]
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def get_queryset(self):
        return RegionTarget.objects.all()

    def get_object(self):
        region_target = super().get_object()
        if self.request.method not in SAFE:
            _as_api_error(require_manage_region_targets, self.request.user, region_target.region)
        return region_target

    def create_object(self, data):
        _as_api_error(require_manage_region_targets, self.request.user, data["region"])
        with service_errors():
            return services.region_target_set(by=self.request.user, **data)

    def update_object(self, instance, data):
        with service_errors():
            return services.region_target_set(
                region=instance.region,
                period=instance.period,
                product_line=instance.product_line,
                revenue=data.get("revenue", instance.revenue),
                units=data.get("units", instance.units),
                by=self.request.user,
            )

    @extend_schema(
        summary="Preview the split to partners",
        description="Each partner's share, without writing: partners whose primary region is the region or below "
        "it, holding an active agreement whose term contains the period, in proportion to their sales in the same "
        "period last year (basis `sales`) or evenly when none sold (basis `even`). The shares add up to the region "
        "target to the cent.",
        responses={200: DecompositionRowSerializer(many=True), 400: BAD_INPUT, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def preview(self, request, pk=None, **kwargs):
        region_target = self.get_object()
        with service_errors():
            rows = services.region_target_preview(region_target=region_target)
        return Response(DecompositionRowSerializer(rows, many=True).data)

    @extend_schema(
        summary="Split the region target to partners",
        request=None,
        description="Writes the preview's shares as the partners' agreement targets for the period (replacing "
        "the ones there) and answers them.",
        responses={200: AgreementTargetSerializer(many=True), 400: BAD_INPUT, 403: REFUSED, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def decompose(self, request, pk=None, **kwargs):
        region_target = self.get_object()
        with service_errors():
            targets = services.region_target_decompose(region_target=region_target, by=request.user)
        context = self.get_serializer_context()
        return Response(AgreementTargetSerializer(targets, many=True, context=context).data)
