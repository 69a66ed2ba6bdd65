"""The partner portal's training: the catalogue and the materials the partner's tier may see,
course pages with their upcoming sessions, enrolling the partner's own people, and the partner's
certifications with their expiry and certificates. Every row comes through `visible_to` (records,
contacts) or the catalogue's own rule (active courses; materials by tier); anything else is not
found (404)."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, F, OuterRef, Q, Subquery, Value
from django.db.models.functions import Greatest
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from partners.models import Partner, PartnerContact
from partners.portal import PortalPage
from prm.tenancy import is_portal_user, partner_of
from prm.uploads import attachment_response
from prm.views import PortalServiceFormView

from . import rules, selectors, services
from .access import can_download_certificate, can_see_material
from .choices import MaterialKind, RecordSource, RecordStatus
from .filters import CourseFilterSet, TrainingRecordFilterSet
from .models import Course, CourseMaterial, TierRequirement, TrainingRecord, TrainingSession
from .portal_forms import PortalEnrolForm

# A certification this close to its expiry is flagged (the first reminder goes out then too).
EXPIRY_WARNING_DAYS = selectors.EXPIRY_WINDOW_DAYS
PANEL_ROWS = 10
COURSE_PAGE_SIZES = (24, 48, 96)
RECORD_PAGE_SIZES = (25, 50, 100)


def session_choices(course):
    """The sessions one may enrol in (selectors.upcoming_sessions' rule) as a queryset for the
    form, each with `seats_left`."""
    return (
        TrainingSession.objects.filter(course=course, is_cancelled=False, starts_at__gt=timezone.now())
        .annotate(seats_taken=Count("records", filter=Q(records__status__in=rules.SEAT_STATUSES)))
        .annotate(seats_left=Greatest(F("capacity") - F("seats_taken"), Value(0)))
        .order_by("starts_at", "pk")
    )


def portal_records(user):
    """The partner's own training records, with the person and the course."""
    return TrainingRecord.objects.visible_to(user).select_related("contact", "course")


def narrowed(filterset, names):
    """The shared FilterSet with only the filters a partner needs (the others neither show nor
    apply)."""
    for name in list(filterset.filters):
        if name not in names:
            del filterset.filters[name]
    return filterset


def paginate(request, rows, sizes):
    """(page, sizes): `?page=` and `?page_size=` (one of `sizes`, default the first)."""
    try:
        size = int(request.GET.get("page_size", sizes[0]))
    except ValueError:
        size = sizes[0]
    size = size if size in sizes else sizes[0]
    return Paginator(rows, size).get_page(request.GET.get("page"))


def decorate(records, user, today=None):
    """Each record with what the pages show: its expiry badge and days left, and whether it has a
    certificate to download (training.access.can_download_certificate)."""
    today = today or timezone.localdate()
    for record in records:
        record.badge, record.days_left = expiry_badge(record, today)
        record.has_certificate = can_download_certificate(user, record)
    return records


def expiry_badge(record, today):
    """("lapsed" | "expiring" | None, days left) for a record's certification."""
    if record.status == RecordStatus.EXPIRED or (
        record.status == RecordStatus.PASSED and record.expires_on and record.expires_on < today
    ):
        return "lapsed", None
    if record.status == RecordStatus.PASSED and record.expires_on:
        days = (record.expires_on - today).days
        if days <= EXPIRY_WARNING_DAYS:
            return "expiring", days
    return None, None


def own_requirement_status(partner):
    """The partner's tier requirements: [{course, required, certified, missing, met}] (none, and
    no query, without a tier)."""
    if partner.tier_id is None:
        return []
    return selectors.tier_requirement_status(Partner.objects.filter(pk=partner.pk)).get(partner.pk, [])


def certificate_response(user, record):
    """The record's certificate as a PDF in the active language; a record without one (not passed)
    is not found."""
    if not can_download_certificate(user, record):
        raise Http404(_("Only a passed training record has a certificate."))
    pdf = services.certificate_pdf(record=record, language=translation.get_language())
    response = HttpResponse(pdf, content_type="application/pdf")
    name = f"{record.certificate_number or f'certificate-{record.pk}'}.pdf"
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=name)
    return response


class PortalTrainingPage(PortalPage):
    section = "training"


class PortalCatalogueView(PortalTrainingPage, TemplateView):
    """Active courses, filtered like the staff catalogue, each with what the partner's tier
    requires of it and its upcoming sessions (selectors.catalogue): a fixed number of queries."""

    template_name = "portal/training/catalogue.html"

    def get_context_data(self, **kwargs):
        partner = self.partner
        courses = selectors.catalogue(self.request.user)
        filterset = narrowed(
            CourseFilterSet(self.request.GET or None, queryset=courses, request=self.request),
            ("search", "type", "delivery", "level"),
        )
        required = TierRequirement.objects.filter(course=OuterRef("pk"), tier=partner.tier_id)
        courses = filterset.qs.annotate(required_people=Subquery(required.values("certified_people")[:1]))
        page = paginate(self.request, courses, COURSE_PAGE_SIZES)
        return super().get_context_data(
            filter=filterset,
            page_obj=page,
            page_size_choices=COURSE_PAGE_SIZES,
            courses=page.object_list,
            **kwargs,
        )


class PortalCourseView(PortalTrainingPage, TemplateView):
    """An active course: its facts, the materials the tier may see, upcoming sessions with their
    free seats, and the partner's own people on it."""

    template_name = "portal/training/course.html"

    def load_objects(self, pk):
        super().load_objects()
        self.course = get_object_or_404(
            Course.objects.visible_to(self.request.user).active().select_related("product_line"), pk=pk
        )

    def get_context_data(self, **kwargs):
        course, partner = self.course, self.partner
        records = decorate(
            list(portal_records(self.request.user).filter(course=course).order_by("contact__name", "-pk")),
            self.request.user,
        )
        requirement = course.requirements.filter(tier=partner.tier_id).first() if partner.tier_id else None
        return super().get_context_data(
            course=course,
            materials=selectors.materials_for(self.request.user, course, partner),
            sessions=selectors.upcoming_sessions(course),
            records=records,
            requirement=requirement,
            **kwargs,
        )


class PortalEnrolView(PortalTrainingPage, PortalServiceFormView):
    """Enrol one of the partner's own people in an active course (and a session of it). Only the
    partner's own contacts are offered; any other id is refused as an invalid choice. Capacity,
    duplicate and session errors from the service show on their fields."""

    form_class = PortalEnrolForm
    template_name = "portal/training/enrol.html"

    def load_objects(self, pk):
        super().load_objects()
        self.course = get_object_or_404(Course.objects.visible_to(self.request.user).active(), pk=pk)

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs.update(
            contacts=PartnerContact.objects.visible_to(self.request.user).order_by("name", "pk"),
            sessions=session_choices(self.course) if self.course.has_sessions else None,
        )
        return kwargs

    def get_initial(self):
        return {"session": self.request.GET.get("session"), "contact": self.request.GET.get("contact")}

    def get_context_data(self, **kwargs):
        return super().get_context_data(course=self.course, **kwargs)

    def perform(self, form):
        record = services.enrol(
            contact=form.cleaned_data["contact"],
            course=self.course,
            session=form.cleaned_data.get("session"),
            by=self.request.user,
            source=RecordSource.PORTAL,
        )
        messages.success(
            self.request,
            _("%(name)s is enrolled in %(course)s.") % {"name": record.contact.name, "course": self.course.title},
        )
        return record

    def get_success_url(self):
        return reverse("portal-training:course", args=[self.course.pk])


class PortalMaterialView(PortalTrainingPage, View):
    """A material the partner's tier may see, of an active course: a file as an attachment (never
    a static URL), a link as a redirect. A material above the tier is not found."""

    http_method_names = ["get", "head"]

    def load_objects(self, pk):
        super().load_objects()
        self.material = get_object_or_404(
            CourseMaterial.objects.filter(course__is_active=True).select_related("min_tier"), pk=pk
        )
        if not can_see_material(self.request.user, self.material, self.partner):
            raise Http404(_("No such material, or your tier may not see it."))

    def get(self, request, pk):
        material = self.material
        if material.kind == MaterialKind.LINK:
            return HttpResponseRedirect(material.url)
        return attachment_response(material.file, filename=material.original_name, content_type=material.content_type)


class PortalCertificationsView(PortalTrainingPage, TemplateView):
    """The partner's people and their training: status, score, completion, expiry (flagged within
    60 days and once lapsed), certificates; and the tier's requirements, met or missing."""

    template_name = "portal/training/certifications.html"

    def get_context_data(self, **kwargs):
        records = portal_records(self.request.user).order_by("contact__name", "course__code", "-pk")
        filterset = narrowed(
            TrainingRecordFilterSet(self.request.GET or None, queryset=records, request=self.request),
            ("q", "course", "status", "expiring_before"),
        )
        page = paginate(self.request, filterset.qs, RECORD_PAGE_SIZES)
        decorate(page.object_list, self.request.user)
        return super().get_context_data(
            filter=filterset,
            page_obj=page,
            page_size_choices=RECORD_PAGE_SIZES,
            records=page.object_list,
            requirements=own_requirement_status(self.partner),
            warning_days=EXPIRY_WARNING_DAYS,
            **kwargs,
        )


class PortalCertificateView(PortalTrainingPage, View):
    """The certificate of one of the partner's passed records, as a PDF in the user's language.
    Another partner's record, or one that did not pass, is not found."""

    http_method_names = ["get", "head"]

    def load_objects(self, pk):
        super().load_objects()
        self.record = get_object_or_404(portal_records(self.request.user), pk=pk)

    def get(self, request, pk):
        return certificate_response(request.user, self.record)


def portal_training_panel(user):
    """The portal dashboard's panel: certifications expiring within 60 days and the tier's
    requirements, met or missing. Hidden when there is neither."""
    if not is_portal_user(user):
        return None
    expiring = decorate(
        list(selectors.expiring_certifications(user, within_days=EXPIRY_WARNING_DAYS)[:PANEL_ROWS]), user
    )
    requirements = own_requirement_status(partner_of(user))
    if not expiring and not requirements:
        return None
    return {
        "template": "portal/training/_panel.html",
        "expiring": expiring,
        "requirements": requirements,
        "warning_days": EXPIRY_WARNING_DAYS,
    }
