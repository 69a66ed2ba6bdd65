"""The training API: the course catalogue with its tier requirements, sessions, and training records
with their lifecycle as actions, certificates and the bulk import of results. Thin like every
viewset: rows come through `visible_to`, writes through training.services, whose ValidationErrors
answer 400 by field.

Keys bound to a partner read the catalogue, the sessions and their own partner's records, and may
enrol their own partner's people (POST /api/v1/training-records/), as the partner's users do in
the portal; results, withdrawals and everything else stay with the vendor."""

from django.db import transaction
from django.db.models import Count, F, Prefetch, Q, Value
from django.db.models.functions import Greatest
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import exceptions, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from prm.api.exceptions import BAD_INPUT, FIELD_ERRORS, NOT_FOUND, REFUSED, error_body
from prm.api.exceptions import service_errors as api_service_errors
from prm.api.viewsets import ServiceModelViewSet
from prm.uploads import COURSE_MATERIALS, attachment_response

from .. import rules, selectors, services
from ..choices import MaterialKind, RecordSource
from ..filters import CourseFilterSet, SessionFilterSet, TrainingRecordFilterSet
from ..models import Course, TierRequirement, TrainingRecord, TrainingSession
from ..portal import certificate_response
from .serializers import (
    CourseMaterialSerializer,
    CourseSerializer,
    ImportReportSerializer,
    ImportUploadSerializer,
    RecordResultSerializer,
    TrainingRecordSerializer,
    TrainingSessionSerializer,
)

# Service field names that the API spells differently.
API_FIELD_NAMES = {"course_type": "type", "requirements": "tier_requirements"}

ILLEGAL = OpenApiResponse(
    FIELD_ERRORS,
    description="The record's status does not allow this move (e.g. a result for a withdrawn attempt), or a rule "
    "is broken (a pass below the pass mark); the message says why. Nothing is changed.",
)


def service_errors():
    """A service's ValidationError as the API's 400, under the field names the API uses."""
    return api_service_errors(API_FIELD_NAMES)


@extend_schema_view(
    list=extend_schema(summary="List courses", responses={200: CourseSerializer(many=True), 403: REFUSED}),
    retrieve=extend_schema(summary="Read one course", responses={200: CourseSerializer, 403: REFUSED, 404: NOT_FOUND}),
    create=extend_schema(
        summary="Create a course",
        description="Channel admins and channel managers (and vendor keys with training:write). "
        "`tier_requirements` sets how many certified people each tier needs.",
        responses={201: CourseSerializer, 400: BAD_INPUT, 403: REFUSED},
    ),
    update=extend_schema(
        summary="Change a course",
        description="`tier_requirements`, when sent, replaces the course's requirements.",
        responses={200: CourseSerializer, 400: BAD_INPUT, 403: REFUSED, 404: NOT_FOUND},
    ),
    partial_update=extend_schema(
        summary="Change some fields of a course",
        description="As PUT, with only the fields sent.",
        responses={200: CourseSerializer, 400: BAD_INPUT, 403: REFUSED, 404: NOT_FOUND},
    ),
)
class CourseViewSet(ServiceModelViewSet):
    """The training catalogue (product, sales skills and technical courses): pass mark, validity
    of the certification in months (empty: it never expires) and the tiers that require it.
    Courses are never deleted: retire one with `is_active: false`."""

    api_area = "training"
    partner_readable = True
    serializer_class = CourseSerializer
    filterset_class = CourseFilterSet
    ordering_fields = ["code", "title", "created_at", "updated_at"]
    ordering = ["code"]
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def get_queryset(self):
        return Course.objects.visible_to(self.request.user).prefetch_related(
            Prefetch("requirements", queryset=TierRequirement.objects.order_by("tier__rank"))
        )

    @transaction.atomic
    def create_object(self, data):
        requirements = data.pop("requirements", None)
        with service_errors():
            course = services.course_create(by=self.request.user, **data)
            self._set_requirements(course, requirements)
        return course

    @transaction.atomic
    def update_object(self, instance, data):
        requirements = data.pop("requirements", None)
        with service_errors():
            course = services.course_update(course=instance, by=self.request.user, **data)
            self._set_requirements(course, requirements)
        return course

    def _set_requirements(self, course, rows):
        """The requirements as sent: each tier listed is set, each tier left out is deleted."""
        if rows is None:
            return
        wanted = {row["tier"].pk for row in rows}
        for requirement in course.requirements.exclude(tier__in=wanted):
            services.tier_requirement_delete(requirement=requirement, by=self.request.user)
        for row in rows:
            services.tier_requirement_set(
                course=course, tier=row["tier"], certified_people=row["certified_people"], by=self.request.user
            )


def session_queryset(user):
    """Sessions with `enrolled` (people holding a seat: training.rules.SEAT_STATUSES) and
    `free_seats` (never below 0), counted in the same query."""
    return (
        TrainingSession.objects.filter(course__in=Course.objects.visible_to(user))
        .annotate(enrolled=Count("records", filter=Q(records__status__in=rules.SEAT_STATUSES)))
        .annotate(free_seats=Greatest(F("capacity") - F("enrolled"), Value(0)))
    )


@extend_schema_view(
    list=extend_schema(summary="List sessions", responses={200: TrainingSessionSerializer(many=True), 403: REFUSED}),
    retrieve=extend_schema(
        summary="Read one session", responses={200: TrainingSessionSerializer, 403: REFUSED, 404: NOT_FOUND}
    ),
    create=extend_schema(
        summary="Schedule a session",
        description="A date of a classroom or webinar course, with its place and capacity.",
        responses={201: TrainingSessionSerializer, 400: BAD_INPUT, 403: REFUSED},
    ),
    update=extend_schema(
        summary="Change a session",
        description="The capacity never drops below the people already enrolled; the course never changes.",
        responses={200: TrainingSessionSerializer, 400: BAD_INPUT, 403: REFUSED, 404: NOT_FOUND},
    ),
    partial_update=extend_schema(
        summary="Change some fields of a session",
        description="As PUT, with only the fields sent.",
        responses={200: TrainingSessionSerializer, 400: BAD_INPUT, 403: REFUSED, 404: NOT_FOUND},
    ),
)
class TrainingSessionViewSet(ServiceModelViewSet):
    """Classroom and webinar dates of courses, with the seats taken and free. Sessions are never
    deleted: cancel one (its enrolled people are told)."""

    api_area = "training"
    partner_readable = True
    serializer_class = TrainingSessionSerializer
    filterset_class = SessionFilterSet
    ordering_fields = ["starts_at", "created_at"]
    ordering = ["starts_at", "id"]
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def get_queryset(self):
        return session_queryset(self.request.user)

    def create_object(self, data):
        with service_errors():
            return services.session_create(by=self.request.user, **data)

    def update_object(self, instance, data):
        data.pop("course", None)
        with service_errors():
            return services.session_update(session=instance, by=self.request.user, **data)

    @extend_schema(
        summary="Cancel a session",
        request=None,
        description="The people enrolled are notified. A session that has already been cancelled is a 400.",
        responses={200: TrainingSessionSerializer, 400: ILLEGAL, 403: REFUSED, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None, **kwargs):
        session = self.get_object()
        with service_errors():
            services.session_cancel(session=session, by=request.user)
        return Response(self.get_serializer(self.get_queryset().get(pk=session.pk)).data)


def record_queryset(user):
    return TrainingRecord.objects.visible_to(user).select_related("contact", "course")


RECORD_LIST_DESCRIPTION = (
    "`expiring_before=YYYY-MM-DD`: passed records whose certification expires before that date (the ones to "
    "renew). A key bound to a partner sees only its own partner's records."
)


@extend_schema_view(
    list=extend_schema(
        summary="List training records",
        description=RECORD_LIST_DESCRIPTION,
        responses={200: TrainingRecordSerializer(many=True), 403: REFUSED},
    ),
    retrieve=extend_schema(
        summary="Read one training record", responses={200: TrainingRecordSerializer, 403: REFUSED, 404: NOT_FOUND}
    ),
    create=extend_schema(
        summary="Enrol a person in a course",
        description="Enrols `contact` in `course` (and `session`, needed for a classroom or webinar course). The "
        "course must be active, the session of that course, not cancelled, not started, with a free seat; a person "
        "has one open attempt per course at a time. A key bound to a partner (training:write) enrols its own "
        "partner's people only.",
        responses={201: TrainingRecordSerializer, 400: BAD_INPUT, 403: REFUSED},
    ),
)
class TrainingRecordViewSet(ServiceModelViewSet):
    """One person's attempt at one course: enrolled → in_progress → passed | failed | withdrawn; a
    pass grants a certification until `expires_on` (completion plus the course's validity, clamped
    to the end of a shorter month), after which the daily job marks it expired. Records change only
    through the actions."""

    api_area = "training"
    partner_readable = True
    # A partner's system may enrol its own people, as its users do in the portal.
    partner_writable_actions = ("create",)
    serializer_class = TrainingRecordSerializer
    filterset_class = TrainingRecordFilterSet
    ordering_fields = ["created_at", "updated_at", "completed_on", "expires_on", "status"]
    ordering = ["-created_at", "-id"]
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self):
        return record_queryset(self.request.user)

    def create_object(self, data):
        with service_errors():
            return services.enrol(
                contact=data["contact"],
                course=data["course"],
                session=data.get("session"),
                by=self.request.user,
                source=RecordSource.API,
            )

    def _move(self, service, **data):
        record = self.get_object()
        with service_errors():
            service(record=record, by=self.request.user, **data)
        return Response(self.get_serializer(self.get_queryset().get(pk=record.pk)).data)

    @extend_schema(
        summary="Start an attempt",
        request=None,
        description="enrolled → in_progress.",
        responses={200: TrainingRecordSerializer, 400: ILLEGAL, 403: REFUSED, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"])
    def start(self, request, pk=None, **kwargs):
        return self._move(services.record_start)

    @extend_schema(
        summary="Record the result",
        request=RecordResultSerializer,
        description="enrolled or in_progress → passed or failed. A pass needs `completed_on` and a score at or "
        "above the course's pass mark (a pass below it is refused, naming both); a fail with a score at or above "
        "the pass mark is refused likewise. A pass sets `expires_on` and a certificate number.",
        responses={200: TrainingRecordSerializer, 400: ILLEGAL, 403: REFUSED, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"])
    def result(self, request, pk=None, **kwargs):
        payload = RecordResultSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        return self._move(services.record_result, **payload.validated_data)

    @extend_schema(
        summary="Withdraw an attempt",
        request=None,
        description="enrolled or in_progress → withdrawn; the seat on the session is given back.",
        responses={200: TrainingRecordSerializer, 400: ILLEGAL, 403: REFUSED, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None, **kwargs):
        return self._move(services.record_withdraw)

    def perform_content_negotiation(self, request, force=False):
        # The certificate answers a PDF whatever the caller accepts; errors still answer JSON.
        return super().perform_content_negotiation(request, force=force or self.action == "certificate")

    @extend_schema(
        summary="Download the certificate",
        description="The certificate of a pass (also once it has expired) as a PDF, in the language the request "
        "asks for (Accept-Language: en or zh-hans). A record without a certificate answers 404.",
        responses={
            (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="The certificate."),
            403: REFUSED,
            404: NOT_FOUND,
        },
    )
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def certificate(self, request, pk=None, **kwargs):
        return certificate_response(request.user, self.get_object())

    @extend_schema(
        summary="Import results (CSV or Excel)",
        description="multipart/form-data with `file`. Every row is checked; any bad row answers 400 with every "
        "error (row as the file numbers it, header = row 1; column; reason) and nothing is written. `dry_run=1` "
        "checks without writing. Importing the same file twice changes nothing (the second run: all unchanged).",
        parameters=[
            OpenApiParameter(
                "dry_run", OpenApiTypes.BOOL, OpenApiParameter.QUERY, description="Check only; write nothing."
            )
        ],
        request={"multipart/form-data": ImportUploadSerializer},
        responses={
            200: ImportReportSerializer,
            400: OpenApiResponse(
                FIELD_ERRORS,
                description="Bad rows (`invalid`): `errors.file` lists each error (row as the file numbers it, "
                "column, message), beside the counts of the report. Nothing was written.",
            ),
            403: REFUSED,
        },
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        parser_classes=[MultiPartParser, FormParser],
        filter_backends=[],
        pagination_class=None,
    )
    def import_results(self, request, **kwargs):
        payload = ImportUploadSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        dry_run = request.query_params.get("dry_run", "").lower() in ("1", "true", "yes")
        with service_errors():
            report = services.records_import(file=payload.validated_data["file"], by=request.user, dry_run=dry_run)
        counts = {
            "dry_run": dry_run,
            "total": report.total,
            "created": report.created,
            "updated": report.updated,
            "unchanged": report.unchanged,
        }
        rows = [{"row": row, "column": column, "message": str(message)} for row, column, message in report.errors]
        if rows:
            body = error_body(
                "invalid", _("Some rows of the file are not valid; nothing was written."), {"file": rows}, **counts
            )
            return Response(body, status=status.HTTP_400_BAD_REQUEST)
        return Response({**counts, "errors": []})


@extend_schema_view(
    list=extend_schema(
        summary="List course materials",
        description="Manuals, decks and links of the courses. A key bound to a partner sees those of active courses "
        "that its tier may see (no minimum tier, or one at or below its own).",
        responses={200: CourseMaterialSerializer(many=True), 400: BAD_INPUT, 403: REFUSED},
    ),
    retrieve=extend_schema(
        summary="Read one course material", responses={200: CourseMaterialSerializer, 403: REFUSED, 404: NOT_FOUND}
    ),
    create=extend_schema(
        summary="Add a material to a course",
        description="A file (`kind` file, multipart/form-data with `file`: PDF, PNG, JPEG, Word, Excel or "
        "PowerPoint, at most PRM_MAX_UPLOAD_MB megabytes; the name and the content must agree) or a link (`kind` "
        "link with `url`, JSON or form). Channel admins and managers, and vendor keys with training:write.",
        request={"multipart/form-data": CourseMaterialSerializer, "application/json": CourseMaterialSerializer},
        responses={201: CourseMaterialSerializer, 400: BAD_INPUT, 403: REFUSED},
    ),
    destroy=extend_schema(
        summary="Remove a material",
        description="Its file goes too.",
        responses={204: None, 403: REFUSED, 404: NOT_FOUND},
    ),
)
class CourseMaterialViewSet(ServiceModelViewSet):
    """Course materials (培训资料): added and removed, never changed (remove one and add it again)."""

    api_area = "training"
    partner_readable = True
    # Materials are added and removed, never changed: `updated_since` reads when they were added.
    sync_field = "created_at"
    serializer_class = CourseMaterialSerializer
    filterset_fields = ["course", "kind", "min_tier"]
    ordering_fields = ["title", "created_at"]
    ordering = ["course", "title", "id"]
    http_method_names = ["get", "post", "delete", "head", "options"]
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def get_queryset(self):
        return selectors.material_list(user=self.request.user)

    def create_object(self, data):
        with service_errors():
            return services.material_add(by=self.request.user, **data)

    def delete_object(self, instance):
        with service_errors():
            services.material_delete(material=instance, by=self.request.user)

    def perform_content_negotiation(self, request, force=False):
        # A download answers the file whatever the caller accepts; errors still answer JSON.
        return super().perform_content_negotiation(request, force=force or self.action == "download")

    @extend_schema(
        summary="Download a material's file",
        description="The file as it was uploaded, as an attachment. A link has no file: 404 (open its `url`).",
        responses={
            **{
                (200, content_type): OpenApiResponse(OpenApiTypes.BINARY, description="The file.")
                for content_type in COURSE_MATERIALS.content_types
            },
            403: REFUSED,
            404: NOT_FOUND,
        },
    )
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def download(self, request, pk=None, **kwargs):
        material = self.get_object()
        if material.kind != MaterialKind.FILE:
            raise exceptions.NotFound(_("This material is a link, not a file: open its url."))
        return attachment_response(material.file, filename=material.original_name, content_type=material.content_type)
