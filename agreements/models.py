"""Agreements (合作协议): the contract with each partner — products, territories and their
exclusivity, prices, targets per period, duties of both sides — with its lifecycle, documents,
renewals and amendments. Region targets and their split to partners (目标分解) live here too.

`agreements` never imports `incentives`: the rebate policy that applies is linked from the
incentives side.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from partners.models import Partner, Region
from prm.periods import Period, PeriodField
from prm.tenancy import TenantQuerySet
from sales.models import ProductLine

from .choices import AgreementStatus, AgreementType, DocumentKind, ExpiryWindow

money = {"max_digits": 16, "decimal_places": 2}


class AgreementQuerySet(TenantQuerySet):
    partner_lookup = "partner"

    def in_force(self):
        """Active or pending approval: the agreements that grant (or are about to grant) rights."""
        return self.filter(status__in=AgreementStatus.IN_FORCE)

    def overlapping(self, start, end):
        return self.filter(start_date__lte=end, end_date__gte=start)

    def expiring_within(self, days, today=None):
        today = today or timezone.localdate()
        return self.filter(
            status=AgreementStatus.ACTIVE, end_date__gte=today, end_date__lte=today + timezone.timedelta(days=days)
        )


class Agreement(models.Model):
    partner = models.ForeignKey(Partner, verbose_name=_("partner"), on_delete=models.PROTECT, related_name="agreements")
    number = models.CharField(_("number"), max_length=32, unique=True, editable=False)
    agreement_type = models.CharField(_("type"), max_length=20, choices=AgreementType.choices)
    status = models.CharField(
        _("status"), max_length=20, choices=AgreementStatus.choices, default=AgreementStatus.DRAFT, db_index=True
    )
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("channel manager"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_agreements",
        limit_choices_to={"is_staff": True},
    )
    # Commercial terms: fixed once the agreement is active; changed only by an amendment or renewal.
    product_lines = models.ManyToManyField(
        ProductLine, verbose_name=_("product lines"), related_name="agreements", blank=True
    )
    discount_percent = models.DecimalField(
        _("discount %"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )
    price_list = models.CharField(
        _("price list reference"), max_length=100, blank=True, help_text=_("e.g. the name of the price list in the ERP")
    )
    currency = models.CharField(_("currency"), max_length=3, default=settings.PRM_CURRENCY)
    payment_terms = models.CharField(_("payment terms"), max_length=200, blank=True)
    payment_days = models.PositiveSmallIntegerField(
        _("payment days"), null=True, blank=True, validators=[MaxValueValidator(365)]
    )
    market_support = models.TextField(_("market-support commitments"), blank=True)
    after_sales_obligations = models.TextField(_("after-sales service obligations"), blank=True)
    penalty_clauses = models.TextField(_("penalty clauses"), blank=True)
    # Signing.
    vendor_signatory = models.CharField(_("vendor signatory"), max_length=150, blank=True)
    partner_signatory = models.CharField(_("partner signatory"), max_length=150, blank=True)
    signed_on = models.DateField(_("signed on"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    # Lineage: a renewal or an amendment starts as a draft linked to the agreement it follows.
    predecessor = models.ForeignKey(
        "self",
        verbose_name=_("follows"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="successors",
    )
    is_amendment = models.BooleanField(_("amendment"), default=False)
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    # Workflow stamps.
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    termination_reason = models.TextField(_("termination reason"), blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("acknowledged by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = AgreementQuerySet.as_manager()

    class Meta:
        verbose_name = _("agreement")
        verbose_name_plural = _("agreements")
        ordering = ["-start_date", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(end_date__gt=F("start_date")), name="agreement_ends_after_start"),
        ]
        indexes = [
            models.Index(fields=["status", "end_date"]),
            models.Index(fields=["partner", "status"]),
        ]

    def __str__(self):
        return self.number or _("New agreement")

    def get_absolute_url(self):
        return reverse("agreements:agreement-detail", args=[self.pk])

    @property
    def days_left(self):
        return (self.end_date - timezone.localdate()).days

    @property
    def is_expiring(self):
        """Active and ending within the longest reminder window (90 days)."""
        return self.status == AgreementStatus.ACTIVE and 0 <= self.days_left <= max(ExpiryWindow.values)

    @property
    def terms_locked(self):
        return self.status != AgreementStatus.DRAFT


class AgreementChildQuerySet(TenantQuerySet):
    """Rows that belong to an agreement belong to its partner."""

    partner_lookup = "agreement__partner"


class AgreementTerritory(models.Model):
    """A region the agreement grants; `exclusive` means no other partner may hold the same product
    line in an overlapping region (the region itself, an ancestor or a descendant) at the same time."""

    agreement = models.ForeignKey(
        Agreement, verbose_name=_("agreement"), on_delete=models.CASCADE, related_name="territories"
    )
    region = models.ForeignKey(Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="+")
    exclusive = models.BooleanField(_("exclusive"), default=False)

    objects = AgreementChildQuerySet.as_manager()

    class Meta:
        verbose_name = _("territory")
        verbose_name_plural = _("territories")
        ordering = ["region__path"]
        constraints = [models.UniqueConstraint(fields=["agreement", "region"], name="territory_unique_per_agreement")]

    def __str__(self):
        return f"{self.region}{' *' if self.exclusive else ''}"


class MinimumPrice(models.Model):
    """The lowest resale price per unit the partner agrees to sell a product line at (价格管控);
    performance checks sales against it (price compliance)."""

    agreement = models.ForeignKey(
        Agreement, verbose_name=_("agreement"), on_delete=models.CASCADE, related_name="minimum_prices"
    )
    product_line = models.ForeignKey(
        ProductLine, verbose_name=_("product line"), on_delete=models.PROTECT, related_name="+"
    )
    min_unit_price = models.DecimalField(
        _("minimum resale price"), validators=[MinValueValidator(Decimal("0"))], **money
    )

    objects = AgreementChildQuerySet.as_manager()

    class Meta:
        verbose_name = _("minimum resale price")
        verbose_name_plural = _("minimum resale prices")
        ordering = ["product_line__name"]
        constraints = [
            models.UniqueConstraint(fields=["agreement", "product_line"], name="minimum_price_unique_per_line"),
        ]

    def __str__(self):
        return f"{self.product_line}: {self.min_unit_price}"


class TargetFields(models.Model):
    """What a target is, for an agreement or a region: a period and revenue and/or units, for every
    product line or for one."""

    period = PeriodField(_("period"))
    period_start = models.DateField(_("period start"), editable=False)
    period_end = models.DateField(_("period end"), editable=False)
    product_line = models.ForeignKey(
        ProductLine,
        verbose_name=_("product line"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Empty: the target covers every product line."),
    )
    revenue = models.DecimalField(
        _("revenue target"), null=True, blank=True, validators=[MinValueValidator(Decimal("0"))], **money
    )
    units = models.DecimalField(
        _("units target"),
        max_digits=14,
        decimal_places=3,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True

    def __str__(self):
        return self.period

    def save(self, *args, **kwargs):
        period = Period.parse(self.period)
        self.period, self.period_start, self.period_end = period.code, period.start, period.end
        super().save(*args, **kwargs)

    @property
    def period_value(self):
        return Period.parse(self.period)


def _target_constraints(owner):
    return [
        models.CheckConstraint(
            condition=Q(revenue__isnull=False) | Q(units__isnull=False), name=f"{owner}_has_revenue_or_units"
        ),
        models.UniqueConstraint(fields=[owner, "period", "product_line"], name=f"{owner}_unique_per_period_and_line"),
        models.UniqueConstraint(
            fields=[owner, "period"],
            condition=Q(product_line__isnull=True),
            name=f"{owner}_unique_per_period_all_lines",
        ),
    ]


class AgreementTarget(TargetFields):
    """A sales target for one period of the agreement's term."""

    agreement = models.ForeignKey(
        Agreement, verbose_name=_("agreement"), on_delete=models.CASCADE, related_name="targets"
    )
    region_target = models.ForeignKey(
        "RegionTarget",
        verbose_name=_("split from region target"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="partner_targets",
    )

    objects = AgreementChildQuerySet.as_manager()

    class Meta:
        verbose_name = _("target")
        verbose_name_plural = _("targets")
        ordering = ["period_start", "period", "product_line__name"]
        constraints = _target_constraints("agreement")
        indexes = [models.Index(fields=["period_start", "period_end"])]


class RegionTarget(TargetFields):
    """A region's target for a period, set top-down and split across the region's partners."""

    region = models.ForeignKey(Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="targets")
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("set by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decomposed_at = models.DateTimeField(_("split at"), null=True, blank=True)

    class Meta:
        verbose_name = _("region target")
        verbose_name_plural = _("region targets")
        ordering = ["period_start", "region__path"]
        constraints = _target_constraints("region")

    def __str__(self):
        return f"{self.region} {self.period}"


def document_path(document, filename):
    return f"agreements/{document.agreement_id}/{timezone.now():%Y%m%d%H%M%S}-{filename}"


class AgreementDocument(models.Model):
    """A file attached to an agreement (the signed contract, an annex...). Never served as a
    static file: downloads go through a view that checks who asks."""

    agreement = models.ForeignKey(
        Agreement, verbose_name=_("agreement"), on_delete=models.CASCADE, related_name="documents"
    )
    kind = models.CharField(_("document type"), max_length=20, choices=DocumentKind.choices, default=DocumentKind.OTHER)
    file = models.FileField(_("file"), upload_to=document_path, max_length=300)
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveIntegerField(_("size (bytes)"))
    visible_to_partner = models.BooleanField(_("visible in the portal"), default=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, db_index=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    objects = AgreementChildQuerySet.as_manager()

    class Meta:
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        ordering = ["-uploaded_at", "-id"]

    def __str__(self):
        return self.original_name


class ExpiryNotice(models.Model):
    """That the reminder for one window (90, 60 or 30 days) went out for an agreement: the unique
    constraint makes the daily job idempotent."""

    agreement = models.ForeignKey(
        Agreement, verbose_name=_("agreement"), on_delete=models.CASCADE, related_name="expiry_notices"
    )
    window_days = models.PositiveSmallIntegerField(_("days before the end"), choices=ExpiryWindow.choices)
    sent_at = models.DateTimeField(_("sent at"), auto_now_add=True)

    objects = AgreementChildQuerySet.as_manager()

    class Meta:
        verbose_name = _("expiry notice")
        verbose_name_plural = _("expiry notices")
        ordering = ["-sent_at"]
        constraints = [
            models.UniqueConstraint(fields=["agreement", "window_days"], name="expiry_notice_once_per_window"),
        ]

    def __str__(self):
        return f"{self.agreement} −{self.window_days}"
