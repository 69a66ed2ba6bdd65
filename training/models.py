"""Training (培训): courses with their materials and sessions, the training records of partner
contacts, and the certifications those records grant until they expire. Tiers require a number
of certified people per course."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from partners.models import PartnerContact, PartnerTier, code_validator
from prm.fields import URLField
from prm.tenancy import TenantQuerySet
from sales.models import ProductLine

from .choices import CourseLevel, CourseType, Delivery, MaterialKind, RecordSource, RecordStatus, ReminderWindow

percent_validators = [MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))]


class CourseQuerySet(models.QuerySet):
    def visible_to(self, user):
        # The catalogue is reference data: every signed-in user may read it (materials are
        # filtered by tier separately).
        return self if user.is_authenticated else self.none()

    def active(self):
        return self.filter(is_active=True)


class Course(models.Model):
    code = models.CharField(_("code"), max_length=32, unique=True, validators=[code_validator])
    title = models.CharField(_("title"), max_length=200)
    course_type = models.CharField(_("type"), max_length=20, choices=CourseType.choices)
    product_line = models.ForeignKey(
        ProductLine,
        verbose_name=_("product line"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="courses",
    )
    level = models.CharField(_("level"), max_length=20, choices=CourseLevel.choices, default=CourseLevel.BASIC)
    description = models.TextField(_("description"), blank=True)
    duration_hours = models.DecimalField(
        _("duration (hours)"), max_digits=5, decimal_places=1, validators=[MinValueValidator(Decimal("0.5"))]
    )
    delivery = models.CharField(_("delivery"), max_length=20, choices=Delivery.choices)
    pass_mark = models.DecimalField(
        _("pass mark"), max_digits=5, decimal_places=2, default=Decimal("60"), validators=percent_validators
    )
    validity_months = models.PositiveSmallIntegerField(
        _("validity (months)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(120)],
        help_text=_("Empty: the certification never expires."),
    )
    required_by_tiers = models.ManyToManyField(
        PartnerTier,
        through="TierRequirement",
        verbose_name=_("required by tiers"),
        related_name="required_courses",
        blank=True,
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = CourseQuerySet.as_manager()

    class Meta:
        verbose_name = _("course")
        verbose_name_plural = _("courses")
        ordering = ["code"]

    def __str__(self):
        return f"{self.title} ({self.code})"

    def get_absolute_url(self):
        return reverse("training:course-detail", args=[self.pk])

    def clean(self):
        super().clean()
        self.code = (self.code or "").strip().upper()

    @property
    def has_sessions(self):
        return self.delivery in (Delivery.CLASSROOM, Delivery.WEBINAR)


class TierRequirement(models.Model):
    """A tier requires `certified_people` people holding a valid certification of this course."""

    course = models.ForeignKey(Course, verbose_name=_("course"), on_delete=models.CASCADE, related_name="requirements")
    tier = models.ForeignKey(
        PartnerTier, verbose_name=_("tier"), on_delete=models.CASCADE, related_name="training_requirements"
    )
    certified_people = models.PositiveSmallIntegerField(
        _("certified people required"), default=1, validators=[MinValueValidator(1)]
    )

    class Meta:
        verbose_name = _("tier requirement")
        verbose_name_plural = _("tier requirements")
        ordering = ["tier__rank", "course__code"]
        constraints = [models.UniqueConstraint(fields=["course", "tier"], name="tier_requirement_unique")]

    def __str__(self):
        return f"{self.tier}: {self.certified_people} × {self.course.code}"


def material_path(material, filename):
    return f"training/{material.course_id}/{filename}"


class CourseMaterial(models.Model):
    """A manual, deck, video link… `min_tier` limits it to partners of that tier or higher."""

    course = models.ForeignKey(Course, verbose_name=_("course"), on_delete=models.CASCADE, related_name="materials")
    title = models.CharField(_("title"), max_length=200)
    kind = models.CharField(_("material type"), max_length=10, choices=MaterialKind.choices)
    file = models.FileField(_("file"), upload_to=material_path, max_length=300, blank=True)
    original_name = models.CharField(_("file name"), max_length=200, blank=True)
    content_type = models.CharField(_("content type"), max_length=100, blank=True)
    size = models.PositiveIntegerField(_("size (bytes)"), null=True, blank=True)
    url = URLField(_("link"), blank=True)
    min_tier = models.ForeignKey(
        PartnerTier,
        verbose_name=_("visible from tier"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Empty: every partner may see it."),
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("course material")
        verbose_name_plural = _("course materials")
        ordering = ["course", "title"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind=MaterialKind.FILE) & ~Q(file="")) | (Q(kind=MaterialKind.LINK) & ~Q(url="")),
                name="material_has_its_file_or_link",
            ),
        ]

    def __str__(self):
        return self.title


class TrainingSession(models.Model):
    """A classroom or webinar date of a course. Enrolments never exceed `capacity`."""

    course = models.ForeignKey(Course, verbose_name=_("course"), on_delete=models.CASCADE, related_name="sessions")
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    location = models.CharField(_("place"), max_length=200, help_text=_("An address, or the webinar link."))
    capacity = models.PositiveSmallIntegerField(_("capacity"), validators=[MinValueValidator(1)])
    is_cancelled = models.BooleanField(_("cancelled"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, db_index=True)

    class Meta:
        verbose_name = _("session")
        verbose_name_plural = _("sessions")
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="session_ends_after_start"),
        ]

    def __str__(self):
        return f"{self.course.code} {self.starts_at:%Y-%m-%d %H:%M}"


class TrainingRecordQuerySet(TenantQuerySet):
    partner_lookup = "contact__partner"

    def certified(self, on=None):
        """Certifications valid on `on` (default today): passed on or before that day and not
        lapsed by then (`expires_on` is the last valid day). A pass the daily job has since marked
        expired still counts for a day before its expiry, so past dates read right."""
        from django.utils import timezone

        on = on or timezone.localdate()
        return self.filter(status__in=(RecordStatus.PASSED, RecordStatus.EXPIRED), completed_on__lte=on).filter(
            Q(expires_on__isnull=True) | Q(expires_on__gte=on)
        )


class TrainingRecord(models.Model):
    """One person's attempt at one course: enrolled → in progress → passed | failed | withdrawn.
    A pass grants a certification until `expires_on` (completion + the course's validity); the
    daily job marks lapsed ones expired."""

    contact = models.ForeignKey(
        PartnerContact, verbose_name=_("person"), on_delete=models.PROTECT, related_name="training_records"
    )
    course = models.ForeignKey(Course, verbose_name=_("course"), on_delete=models.PROTECT, related_name="records")
    session = models.ForeignKey(
        TrainingSession,
        verbose_name=_("session"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="records",
    )
    status = models.CharField(
        _("status"), max_length=20, choices=RecordStatus.choices, default=RecordStatus.ENROLLED, db_index=True
    )
    score = models.DecimalField(
        _("score"), max_digits=5, decimal_places=2, null=True, blank=True, validators=percent_validators
    )
    completed_on = models.DateField(_("completed on"), null=True, blank=True)
    expires_on = models.DateField(_("certification expires on"), null=True, blank=True, db_index=True)
    certificate_number = models.CharField(_("certificate number"), max_length=40, blank=True)
    source = models.CharField(_("source"), max_length=10, choices=RecordSource.choices, default=RecordSource.STAFF)
    enrolled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("enrolled by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = TrainingRecordQuerySet.as_manager()

    class Meta:
        verbose_name = _("training record")
        verbose_name_plural = _("training records")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["certificate_number"], condition=~Q(certificate_number=""), name="certificate_number_unique"
            ),
            # One open attempt per person and course at a time.
            models.UniqueConstraint(
                fields=["contact", "course"],
                condition=Q(status__in=["enrolled", "in_progress"]),
                name="training_one_open_attempt",
            ),
            models.CheckConstraint(
                condition=~Q(status="passed") | Q(completed_on__isnull=False), name="training_pass_has_a_date"
            ),
        ]
        indexes = [
            models.Index(fields=["course", "status", "expires_on"]),
            models.Index(fields=["contact", "course"]),
        ]

    def __str__(self):
        return f"{self.contact} · {self.course.code} · {self.get_status_display()}"


class CertificationReminder(models.Model):
    """That the reminder `window_days` before a certification's expiry went out: one per window,
    which makes the daily job idempotent."""

    record = models.ForeignKey(
        TrainingRecord, verbose_name=_("training record"), on_delete=models.CASCADE, related_name="reminders"
    )
    window_days = models.PositiveSmallIntegerField(_("days before expiry"), choices=ReminderWindow.choices)
    sent_at = models.DateTimeField(_("sent at"), auto_now_add=True)

    class Meta:
        verbose_name = _("certification reminder")
        verbose_name_plural = _("certification reminders")
        ordering = ["-sent_at"]
        constraints = [
            models.UniqueConstraint(fields=["record", "window_days"], name="certification_reminder_once_per_window"),
        ]

    def __str__(self):
        return f"{self.record_id} −{self.window_days}"
