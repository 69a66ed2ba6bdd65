"""Staff pages of training: the course catalogue and its editor (tier requirements, materials),
sessions, a course's page with its enrolments and their results, the bulk import of results, the
partner × course matrix, the region completion report, and the certifications about to expire.

Thin: parse, call a service or a selector, render. Records come through `visible_to`; who may
change what is training.access (channel admins and managers write; a manager enrols and records
results only for people of the partners they manage; analysts read and export)."""

import csv
import functools
import io
import os
import secrets
import time
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy, ngettext
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import FormView, TemplateView

from partners.access import partners_managed_by
from partners.models import Partner
from prm.roles import can_write_as_staff
from prm.uploads import IMPORTS, attachment_response, validate_upload
from prm.views import ObjectListView, ServiceFormView, StaffRequiredMixin

from . import reports, selectors, services
from .access import (
    can_download_certificate,
    can_manage_partner_training,
    can_manage_training,
    can_see_material,
    require_manage_training,
    require_record_results,
    require_withdraw,
)
from .choices import CourseLevel, CourseType, Delivery, MaterialKind, RecordStatus
from .filters import CourseFilterSet, TrainingRecordFilterSet
from .forms import (
    COURSE_FIELDS,
    CourseForm,
    EnrolForm,
    EnrolPartnerForm,
    ExpiringFilterForm,
    ImportConfirmForm,
    ImportForm,
    MaterialForm,
    MatrixFilterForm,
    RecordResultForm,
    ReportFilterForm,
    SessionForm,
    TierRequirementRows,
    partner_choices,
)
from .imports import IMPORT_COLUMNS
from .models import Course, CourseMaterial, TrainingRecord, TrainingSession
from .rules import OPEN_STATUSES, SEAT_STATUSES

READ_ONLY_MESSAGE = gettext_lazy("Your role can read training but not change it.")
# Where an uploaded import waits between its preview and its confirmation, under MEDIA_ROOT.
IMPORT_FOLDER = "training-imports"
IMPORT_SESSION_KEY = "training_import"
IMPORT_KEEP_SECONDS = 24 * 60 * 60
# Rows per page of the matrix and the expiring list, as ObjectListView offers them.
PAGE_SIZES = ObjectListView.page_size_choices


def _require_write_role(user):
    """Analysts (and staff without a role) read and export; the catalogue's writers change it."""
    if not can_write_as_staff(user):
        raise PermissionDenied(READ_ONLY_MESSAGE)
    require_manage_training(user)


def _page_size(request):
    size = request.GET.get("page_size", "")
    return int(size) if size.isdigit() and int(size) in PAGE_SIZES else PAGE_SIZES[0]


def _course_or_404(pk):
    return get_object_or_404(Course.objects.select_related("product_line"), pk=pk)


def _record_or_404(user, pk):
    return get_object_or_404(
        TrainingRecord.objects.visible_to(user).select_related(
            "course", "session", "contact__partner__region", "contact__partner__tier"
        ),
        pk=pk,
    )


def _add_errors(form, error):
    """A service's ValidationError on the form, on the field it names."""
    if hasattr(error, "error_dict"):
        for field, texts in error.message_dict.items():
            for text in texts:
                form.add_error(field if field in form.fields else None, text)
    else:
        for text in error.messages:
            form.add_error(None, text)


def _error_messages(request, error, prefix=None):
    for message in error.messages:
        messages.error(request, f"{prefix} {message}" if prefix else message)


def _sessions_with_seats(course):
    """The course's sessions with `seats_taken`: the people holding a seat (everyone enrolled in it
    who did not withdraw, as the enrolment service counts them)."""
    return course.sessions.annotate(seats_taken=Count("records", filter=Q(records__status__in=SEAT_STATUSES))).order_by(
        "starts_at", "pk"
    )


# The catalogue ---------------------------------------------------------------------------------


class CourseListView(ObjectListView):
    model = Course
    template_name = "training/course_list.html"
    filterset_class = CourseFilterSet
    ordering_fields = {
        "code": "code",
        "title": "title",
        "type": "course_type",
        "delivery": "delivery",
        "level": "level",
        "product_line": "product_line__name",
        "duration": "duration_hours",
        "pass_mark": "pass_mark",
        "validity": "validity_months",
        "open": "open_count",
        "certified": "certified_count",
    }
    default_ordering = ["code", "pk"]
    export_filename = "courses"

    def get_base_queryset(self):
        today = timezone.localdate()
        return Course.objects.select_related("product_line").annotate(
            tier_count=Count("requirements", distinct=True),
            open_count=Count("records", filter=Q(records__status__in=OPEN_STATUSES), distinct=True),
            certified_count=Count(
                "records",
                filter=Q(records__status=RecordStatus.PASSED)
                & (Q(records__expires_on__isnull=True) | Q(records__expires_on__gte=today)),
                distinct=True,
            ),
        )

    def get_export_columns(self):
        # Choice labels translated once per export, not once per row.
        types = {value: str(label) for value, label in CourseType.choices}
        deliveries = {value: str(label) for value, label in Delivery.choices}
        levels = {value: str(label) for value, label in CourseLevel.choices}
        yes, no = _("Yes"), _("No")
        return (
            (_("Code"), lambda c: c.code),
            (_("Title"), lambda c: c.title),
            (_("Type"), lambda c: types.get(c.course_type, c.course_type)),
            (_("Delivery"), lambda c: deliveries.get(c.delivery, c.delivery)),
            (_("Level"), lambda c: levels.get(c.level, c.level)),
            (_("Product line"), lambda c: c.product_line.name if c.product_line else ""),
            (_("Duration (hours)"), lambda c: c.duration_hours),
            (_("Pass mark"), lambda c: c.pass_mark),
            (_("Validity (months)"), lambda c: "" if c.validity_months is None else c.validity_months),
            (_("Required by tiers"), lambda c: c.tier_count),
            (_("Enrolled or in progress"), lambda c: c.open_count),
            (_("Certified people"), lambda c: c.certified_count),
            (_("Active"), lambda c: yes if c.is_active else no),
        )

    def get_context_data(self, **kwargs):
        return super().get_context_data(can_write=can_write_as_staff(self.request.user), **kwargs)


# The course editor: the course and its tier requirements, saved together -----------------------


class CourseEditView(StaffRequiredMixin, FormView):
    """The course's fields and its tier requirements (tier + certified people; rows added and
    removed in the browser), saved through course_create/course_update, tier_requirement_set and
    tier_requirement_delete in one transaction: a refused field or row saves nothing."""

    template_name = "training/course_form.html"
    form_class = CourseForm
    course = None

    def load_objects(self, pk=None):
        _require_write_role(self.request.user)
        if pk is not None:
            self.course = _course_or_404(pk)
            self.requirements = list(self.course.requirements.select_related("tier").order_by("tier__rank"))
        else:
            self.requirements = []

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "course": self.course}

    def get_initial(self):
        if self.course is None:
            return {"is_active": True}
        return {name: getattr(self.course, name) for name in COURSE_FIELDS}

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        data = self.request.POST if self.request.method == "POST" else None
        self.requirement_rows = TierRequirementRows(
            data,
            prefix="requirements",
            initial=[{"tier": r.tier_id, "certified_people": r.certified_people} for r in self.requirements],
        )
        return form

    def post(self, request, *args, **kwargs):
        form = self.get_form()
        # Both validated, so that every error shows at once.
        valid = [form.is_valid(), self.requirement_rows.is_valid()]
        if not all(valid):
            return self.form_invalid(form)
        with transaction.atomic():
            try:
                course = self.save_course(form)
                row_errors = self.save_requirements(course)
            except ValidationError as error:
                transaction.set_rollback(True)
                _add_errors(form, error)
                return self.form_invalid(form)
            if row_errors:
                transaction.set_rollback(True)
                return self.form_invalid(form)
        messages.success(request, _("Course %(code)s saved.") % {"code": course.code})
        return redirect(course)

    def save_course(self, form):
        data = {name: form.cleaned_data[name] for name in COURSE_FIELDS}
        if self.course is None:
            return services.course_create(by=self.request.user, **data)
        return services.course_update(course=self.course, by=self.request.user, **data)

    def save_requirements(self, course):
        """Set every row, remove the tiers no longer listed; returns whether a row was refused (its
        error is on the row)."""
        existing = {requirement.tier_id: requirement for requirement in self.requirements}
        kept, refused = set(), False
        for row_form in self.requirement_rows.forms:
            row = row_form.cleaned_data
            if not row.get("tier") or row.get("DELETE"):
                continue
            kept.add(row["tier"].pk)
            current = existing.get(row["tier"].pk)
            if current is not None and current.certified_people == row["certified_people"]:
                continue
            try:
                services.tier_requirement_set(
                    course=course, tier=row["tier"], certified_people=row["certified_people"], by=self.request.user
                )
            except ValidationError as error:
                _add_errors(row_form, error)
                refused = True
        for tier_id, requirement in existing.items():
            if tier_id not in kept:
                services.tier_requirement_delete(requirement=requirement, by=self.request.user)
        return refused

    def get_context_data(self, **kwargs):
        if "form" not in kwargs:
            kwargs["form"] = self.get_form()
        return super().get_context_data(course=self.course, requirement_rows=self.requirement_rows, **kwargs)


# A course's page: its details, sessions, materials and enrolments -------------------------------


class CourseRecordFilterSet(TrainingRecordFilterSet):
    """The enrolments of one course: the course filter goes, the session is a select of its sessions."""

    def __init__(self, *args, course, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("course", "contact", "completed_after", "completed_before"):
            self.filters.pop(name, None)
        session = self.filters["session"]
        session.queryset = course.sessions.order_by("starts_at")
        session.extra["widget"] = None
        session.extra["empty_label"] = _("All")


class CourseDetailView(ObjectListView):
    """The course and the list of its training records (filter, sort, paginate, CSV), each with
    the actions the user may take on it."""

    model = TrainingRecord
    template_name = "training/course_detail.html"
    ordering_fields = {
        "person": "contact__name",
        "partner": "contact__partner__name",
        "session": "session__starts_at",
        "status": "status",
        "score": "score",
        "completed": "completed_on",
        "expires": "expires_on",
        "certificate": "certificate_number",
        "enrolled": "created_at",
    }
    default_ordering = ["-created_at", "-pk"]

    def load_objects(self, pk):
        self.course = _course_or_404(pk)
        self.filterset_class = functools.partial(CourseRecordFilterSet, course=self.course)
        self.export_filename = f"training-{self.course.code.lower()}"

    def get_base_queryset(self):
        return (
            TrainingRecord.objects.visible_to(self.request.user)
            .filter(course=self.course)
            .select_related("contact__partner__region", "session")
        )

    def get_export_columns(self):
        statuses = {value: str(label) for value, label in RecordStatus.choices}
        return (
            (_("Person"), lambda r: r.contact.name),
            (_("Email"), lambda r: r.contact.email),
            (_("Partner code"), lambda r: r.contact.partner.code),
            (_("Partner"), lambda r: r.contact.partner.name),
            (_("Session"), lambda r: _local_datetime(r.session.starts_at) if r.session else ""),
            (_("Status"), lambda r: statuses.get(r.status, r.status)),
            (_("Score"), lambda r: "" if r.score is None else r.score),
            (_("Completed on"), lambda r: r.completed_on.isoformat() if r.completed_on else ""),
            (_("Certification expires on"), lambda r: r.expires_on.isoformat() if r.expires_on else ""),
            (_("Certificate number"), lambda r: r.certificate_number),
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        writer = can_write_as_staff(user) and can_manage_training(user)
        for record in context["object_list"]:
            record.can_manage = writer and can_manage_partner_training(user, record.contact.partner)
        context.update(
            course=self.course,
            can_write=writer,
            requirements=list(self.course.requirements.select_related("tier").order_by("tier__rank")),
            materials=list(self.course.materials.select_related("min_tier").order_by("title")),
            upcoming_sessions=selectors.upcoming_sessions(self.course)[:5] if self.course.has_sessions else [],
            material_form=MaterialForm(),
            open_statuses=OPEN_STATUSES,
            certificate_statuses=(RecordStatus.PASSED, RecordStatus.EXPIRED),
        )
        return context


def _local_datetime(value):
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")


# Materials ---------------------------------------------------------------------------------------


class MaterialAddView(ServiceFormView):
    """The form sits on the course's page; a refused file or link comes back here with the reason
    on its field."""

    form_class = MaterialForm
    template_name = "training/material_form.html"
    success_message = gettext_lazy("Material added.")

    def load_objects(self, pk):
        _require_write_role(self.request.user)
        self.course = _course_or_404(pk)

    def get_context_data(self, **kwargs):
        return super().get_context_data(course=self.course, **kwargs)

    def perform(self, form):
        services.material_add(course=self.course, by=self.request.user, **form.service_data())
        return self.course

    def get_success_url(self):
        return f"{self.course.get_absolute_url()}#materials"


class MaterialDownloadView(StaffRequiredMixin, View):
    """The file itself, as an attachment, through a view that checks who asks: uploaded materials
    are never served from a static URL."""

    def get(self, request, pk):
        material = get_object_or_404(CourseMaterial.objects.select_related("min_tier"), pk=pk, kind=MaterialKind.FILE)
        if not can_see_material(request.user, material):
            raise Http404(_("No material found."))
        return attachment_response(
            material.file,
            filename=material.original_name,
            content_type=material.content_type,
            missing=_("The file of this material is missing."),
        )


class MaterialDeleteView(StaffRequiredMixin, View):
    def post(self, request, pk):
        _require_write_role(request.user)
        material = get_object_or_404(CourseMaterial.objects.select_related("course"), pk=pk)
        try:
            services.material_delete(material=material, by=request.user)
        except ValidationError as error:
            _error_messages(request, error)
        else:
            messages.success(request, _("Material %(title)s removed.") % {"title": material.title})
        return redirect(f"{material.course.get_absolute_url()}#materials")


# Sessions ----------------------------------------------------------------------------------------


class SessionListView(StaffRequiredMixin, TemplateView):
    """A course's sessions, newest first, with their seats: enrolled and free."""

    template_name = "training/session_list.html"

    def load_objects(self, pk):
        self.course = _course_or_404(pk)

    def get_context_data(self, **kwargs):
        now = timezone.now()
        sessions = list(_sessions_with_seats(self.course).reverse())
        for session in sessions:
            session.free_seats = max(session.capacity - session.seats_taken, 0)
            session.started = session.starts_at <= now
        return super().get_context_data(
            course=self.course, sessions=sessions, can_write=can_write_as_staff(self.request.user), **kwargs
        )


class SessionCreateView(ServiceFormView):
    form_class = SessionForm
    template_name = "training/session_form.html"
    success_message = gettext_lazy("Session saved.")

    def load_objects(self, pk):
        _require_write_role(self.request.user)
        self.course = _course_or_404(pk)

    def get_context_data(self, **kwargs):
        return super().get_context_data(course=self.course, **kwargs)

    def perform(self, form):
        return services.session_create(course=self.course, by=self.request.user, **form.cleaned_data)

    def get_success_url(self):
        return reverse("training:session-list", args=[self.course.pk])


class SessionUpdateView(SessionCreateView):
    def load_objects(self, pk):
        _require_write_role(self.request.user)
        self.session = get_object_or_404(TrainingSession.objects.select_related("course"), pk=pk)
        self.course = self.session.course
        if self.session.is_cancelled:
            raise PermissionDenied(_("A cancelled session no longer changes."))

    def get_initial(self):
        return {
            "starts_at": timezone.localtime(self.session.starts_at),
            "ends_at": timezone.localtime(self.session.ends_at),
            "location": self.session.location,
            "capacity": self.session.capacity,
        }

    def get_context_data(self, **kwargs):
        return super().get_context_data(session=self.session, **kwargs)

    def perform(self, form):
        return services.session_update(session=self.session, by=self.request.user, **form.cleaned_data)


class SessionCancelView(StaffRequiredMixin, View):
    def post(self, request, pk):
        _require_write_role(request.user)
        session = get_object_or_404(TrainingSession.objects.select_related("course"), pk=pk)
        try:
            services.session_cancel(session=session, by=request.user)
        except ValidationError as error:
            _error_messages(request, error, prefix=_("Not cancelled:"))
        else:
            messages.success(request, _("Session cancelled; the people enrolled were told."))
        return redirect("training:session-list", pk=session.course_id)


# Enrolling people ----------------------------------------------------------------------------------


class EnrolView(StaffRequiredMixin, TemplateView):
    """Pick a partner (one the user manages), then its people and, for a classroom or webinar
    course, the session. Everyone chosen is enrolled, or nobody: a refusal names the person."""

    template_name = "training/enrol_form.html"

    def load_objects(self, pk):
        _require_write_role(self.request.user)
        self.course = _course_or_404(pk)
        self.partners = partners_managed_by(self.request.user).select_related("region")
        self.partner_form = EnrolPartnerForm(
            self.request.GET if "partner" in self.request.GET else None, partners=self.partners
        )
        self.partner = self.partner_form.cleaned_data["partner"] if self.partner_form.is_valid() else None

    def enrol_form(self, data=None):
        if self.partner is None:
            return None
        sessions = _sessions_with_seats(self.course).filter(is_cancelled=False, starts_at__gt=timezone.now())
        return EnrolForm(data, partner=self.partner, course=self.course, sessions=sessions)

    def get(self, request, *args, **kwargs):
        return self.render_to_response(self.get_context_data(form=self.enrol_form()))

    def post(self, request, pk):
        form = self.enrol_form(request.POST)
        if form is None:
            return self.get(request, pk)
        if form.is_valid():
            enrolled = self.enrol(form)
            if enrolled is not None:
                message = ngettext(
                    "%(n)s person enrolled in %(course)s.", "%(n)s people enrolled in %(course)s.", enrolled
                )
                messages.success(request, message % {"n": enrolled, "course": self.course.code})
                return redirect(self.course)
        return self.render_to_response(self.get_context_data(form=form))

    def enrol(self, form):
        """Every chosen person through `enrol`, all or nothing; returns how many, or None when one
        was refused (the reasons are on the form)."""
        session = form.cleaned_data.get("session")
        refused = False
        with transaction.atomic():
            for contact in form.cleaned_data["contacts"]:
                try:
                    services.enrol(contact=contact, course=self.course, by=self.request.user, session=session)
                except ValidationError as error:
                    refused = True
                    for text in error.messages:
                        form.add_error(None, f"{contact.name}: {text}")
            if refused:
                transaction.set_rollback(True)
        return None if refused else len(form.cleaned_data["contacts"])

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            course=self.course,
            partner=self.partner,
            partner_form=self.partner_form,
            partner_codes=partner_choices(self.partners),
            **kwargs,
        )


# A record's actions ----------------------------------------------------------------------------


class RecordActionView(StaffRequiredMixin, View):
    """POST only: start or withdraw an attempt through its service; a refusal is shown on the
    course's page with the service's reason."""

    action = None
    success_message = None
    refused_message = None

    def load_objects(self, pk):
        _require_write_role(self.request.user)
        self.record = _record_or_404(self.request.user, pk)
        if self.action == "withdraw":
            require_withdraw(self.request.user, self.record)
        else:
            require_record_results(self.request.user, self.record)

    def post(self, request, pk):
        service = getattr(services, f"record_{self.action}")
        try:
            service(record=self.record, by=request.user)
        except ValidationError as error:
            _error_messages(request, error, prefix=str(self.refused_message))
        else:
            messages.success(request, self.success_message % {"name": self.record.contact.name})
        return redirect(f"{self.record.course.get_absolute_url()}#records")


class RecordStartView(RecordActionView):
    action = "start"
    success_message = gettext_lazy("%(name)s is in progress.")
    refused_message = gettext_lazy("Not started:")


class RecordWithdrawView(RecordActionView):
    action = "withdraw"
    success_message = gettext_lazy("%(name)s was withdrawn.")
    refused_message = gettext_lazy("Not withdrawn:")


class RecordResultView(ServiceFormView):
    """Passed or failed, the score and the day: the service refuses a pass below the pass mark
    (and a fail at or above it) and says why, on the score."""

    form_class = RecordResultForm
    template_name = "training/record_result_form.html"

    def load_objects(self, pk):
        _require_write_role(self.request.user)
        self.record = _record_or_404(self.request.user, pk)
        require_record_results(self.request.user, self.record)
        if self.record.status not in OPEN_STATUSES:
            raise PermissionDenied(_("This attempt is over: its result is recorded."))

    def get_initial(self):
        return {"status": RecordStatus.PASSED, "completed_on": timezone.localdate()}

    def get_context_data(self, **kwargs):
        return super().get_context_data(record=self.record, course=self.record.course, **kwargs)

    def perform(self, form):
        return services.record_result(record=self.record, by=self.request.user, **form.cleaned_data)

    def form_valid(self, form):
        response = super().form_valid(form)
        if response.status_code == 302:
            record = TrainingRecord.objects.get(pk=self.record.pk)
            if record.status == RecordStatus.PASSED:
                messages.success(
                    self.request,
                    _("%(name)s passed: certificate %(number)s.")
                    % {"name": record.contact.name, "number": record.certificate_number},
                )
            else:
                messages.success(self.request, _("%(name)s failed.") % {"name": record.contact.name})
        return response

    def get_success_url(self):
        return f"{self.record.course.get_absolute_url()}#records"


class CertificateView(StaffRequiredMixin, View):
    """The certificate of a passed record as a PDF, in the reader's language."""

    def get(self, request, pk):
        record = _record_or_404(request.user, pk)
        if not can_download_certificate(request.user, record):
            raise Http404(_("Only a passed course has a certificate."))
        pdf = services.certificate_pdf(record=record, language=get_language())
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="certificate-{record.certificate_number}.pdf"'
        response["Cache-Control"] = "private, no-store"
        return response


# Bulk import of results ---------------------------------------------------------------------------


def _import_dir():
    return Path(settings.MEDIA_ROOT) / IMPORT_FOLDER


class ImportView(StaffRequiredMixin, TemplateView):
    """Upload a CSV or Excel file: a dry run lists every bad row with its row, column and reason
    and writes nothing; a clean file shows what the import would do, and "Import" runs it for real
    on the same file. Between the two the file waits under MEDIA_ROOT, named by a random token
    that only this user's session knows; it is deleted once imported or replaced."""

    template_name = "training/import.html"

    def load_objects(self, **kwargs):
        _require_write_role(self.request.user)

    def get(self, request, *args, **kwargs):
        return self.render_to_response(self.get_context_data(form=ImportForm()))

    def post(self, request, *args, **kwargs):
        if "token" in request.POST:
            return self.confirm()
        form = ImportForm(request.POST, request.FILES)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form))
        upload = form.cleaned_data["file"]
        try:
            name, _content_type = validate_upload(upload, allowed=IMPORTS)
        except ValidationError as error:
            _add_errors(form, error)
            return self.render_to_response(self.get_context_data(form=form))
        token = self.keep(upload, name)
        report = self.run(token, dry_run=True)
        return self.render_to_response(
            self.get_context_data(
                form=ImportForm(),
                report=report,
                file_name=name,
                confirm_form=ImportConfirmForm(initial={"token": token}),
            )
        )

    def confirm(self):
        form = ImportConfirmForm(self.request.POST)
        kept = self.request.session.get(IMPORT_SESSION_KEY) or {}
        known = form.is_valid() and form.cleaned_data["token"] == kept.get("token")
        if not known or not self.path(kept["token"]).exists():
            messages.error(self.request, _("That upload is no longer here: upload the file again."))
            return redirect("training:import")
        token = kept["token"]
        report = self.run(token, dry_run=False)
        if report.errors:
            # The data changed since the preview: nothing was written; show why.
            return self.render_to_response(
                self.get_context_data(
                    form=ImportForm(),
                    report=report,
                    file_name=kept.get("name", ""),
                    confirm_form=ImportConfirmForm(initial={"token": token}),
                )
            )
        self.discard()
        messages.success(
            self.request,
            _("Imported %(name)s: %(created)s created, %(updated)s updated, %(unchanged)s unchanged.")
            % {
                "name": kept.get("name", ""),
                "created": report.created,
                "updated": report.updated,
                "unchanged": report.unchanged,
            },
        )
        return redirect("training:import")

    def path(self, token):
        kept = self.request.session.get(IMPORT_SESSION_KEY) or {}
        return _import_dir() / f"{token}{kept.get('extension', '')}"

    def keep(self, upload, name):
        """Store the upload under a fresh random token (replacing this user's previous one)."""
        self.discard()
        token = secrets.token_urlsafe(24)
        extension = os.path.splitext(name)[1].lower()
        folder = _import_dir()
        folder.mkdir(parents=True, exist_ok=True)
        # Uploads checked but never imported are not kept beyond a day.
        stale = time.time() - IMPORT_KEEP_SECONDS
        for old in folder.iterdir():
            if old.is_file() and old.stat().st_mtime < stale:
                old.unlink(missing_ok=True)
        with open(folder / f"{token}{extension}", "wb") as target:
            for chunk in upload.chunks():
                target.write(chunk)
        self.request.session[IMPORT_SESSION_KEY] = {"token": token, "name": name, "extension": extension}
        return token

    def discard(self):
        kept = self.request.session.pop(IMPORT_SESSION_KEY, None)
        if kept and kept.get("token"):
            (_import_dir() / f"{kept['token']}{kept.get('extension', '')}").unlink(missing_ok=True)

    def run(self, token, *, dry_run):
        kept = self.request.session[IMPORT_SESSION_KEY]
        with open(self.path(token), "rb") as handle:
            return services.records_import(file=File(handle, name=kept["name"]), by=self.request.user, dry_run=dry_run)


class ImportTemplateView(StaffRequiredMixin, View):
    """An empty CSV with the import's columns and one example row."""

    def get(self, request):
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(IMPORT_COLUMNS)
        writer.writerow(["P00001", "li.ming@example.com", "C0001", "", "passed", "85", "2026-03-31", ""])
        response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="training-records-template.csv"'
        return response


# The partner × course matrix --------------------------------------------------------------------


class MatrixView(StaffRequiredMixin, TemplateView):
    """Partners (rows, paginated) × courses (columns): certified people per cell, coloured by the
    partner's tier requirement for the course; a fixed number of queries (training_matrix)."""

    template_name = "training/matrix.html"

    def get_context_data(self, **kwargs):
        form = MatrixFilterForm(self.request.GET or None)
        valid = form.is_valid() if form.is_bound else True
        if not form.is_bound:
            form.cleaned_data = {}
        partners = Partner.objects.visible_to(self.request.user).select_related("tier", "region")
        courses = Course.objects.filter(is_active=True).select_related("product_line")
        if valid:
            partners, courses = form.partners(partners), form.courses(courses)
        else:
            partners, courses = partners.none(), courses.none()
        page = Paginator(partners.order_by("name", "pk"), _page_size(self.request)).get_page(
            self.request.GET.get("page")
        )
        courses = list(courses.order_by("code"))
        rows = selectors.training_matrix(list(page.object_list), courses)
        return super().get_context_data(
            filter={"form": form}, page_obj=page, courses=courses, rows=rows, page_size_choices=PAGE_SIZES, **kwargs
        )


# The region completion report ------------------------------------------------------------------


class CompletionReportView(StaffRequiredMixin, TemplateView):
    """Per region (each aggregating its subtree), or inside one region its sub-regions and
    partners: enrolled, passed, failed, withdrawn and the completion rate, for attempts in a date
    range; as a page, CSV or Excel (training.reports)."""

    template_name = "training/completion_report.html"

    def get(self, request, *args, **kwargs):
        form = ReportFilterForm(request.GET or None)
        if form.is_bound and not form.is_valid():
            return self.render_to_response(self.get_context_data(filter={"form": form}, report=None))
        data = form.cleaned_data if form.is_bound else {}
        report = reports.completion_report(region=data.get("region"), since=data.get("since"), until=data.get("until"))
        export = request.GET.get("export")
        if export == "csv":
            return reports.export_csv(report)
        if export == "xlsx":
            return reports.export_xlsx(report)
        region = report["region"]
        return self.render_to_response(
            self.get_context_data(
                filter={"form": form}, report=report, ancestors=region.ancestors() if region is not None else []
            )
        )


# Certifications about to expire ---------------------------------------------------------------


class ExpiringView(StaffRequiredMixin, TemplateView):
    """Passed records whose certification expires within N days (60 by default), soonest first."""

    template_name = "training/expiring.html"

    def get_context_data(self, **kwargs):
        form = ExpiringFilterForm(self.request.GET or None)
        within, region = ExpiringFilterForm.base_fields["within"].initial, None
        records = TrainingRecord.objects.none()
        if not form.is_bound or form.is_valid():
            data = form.cleaned_data if form.is_bound else {}
            within = data.get("within") if data.get("within") is not None else within
            region = data.get("region")
            records = selectors.expiring_certifications(self.request.user, within_days=within)
            if region is not None:
                records = records.filter(contact__partner__region__path__startswith=region.path)
        page = Paginator(records, _page_size(self.request)).get_page(self.request.GET.get("page"))
        today = timezone.localdate()
        for record in page.object_list:
            record.days_left = (record.expires_on - today).days
        return super().get_context_data(
            filter={"form": form}, page_obj=page, within=within, page_size_choices=PAGE_SIZES, **kwargs
        )
