"""Incentives (激励): rebate policies with their brackets (返利政策, 阶梯), override commission for
the multi-tier network (超额佣金), the link from agreements to policies, rebate statements
(返利对账单) with the lines that explain them, and market development funds (MDF, 市场支持):
budgets, requests and their proof of performance.

The link between an agreement and its rebate policy lives here: `agreements` never imports
`incentives`.
"""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _

from agreements.models import Agreement
from partners.models import Partner, PartnerTier
from prm.money import plain_number
from prm.periods import Period, PeriodField, PeriodKind
from prm.roles import is_staff_user
from prm.tenancy import TenantQuerySet
from sales.models import ProductLine

from .choices import BudgetSource, LineKind, MdfActivity, MdfStatus, RebateBasis, RebateMethod, StatementStatus

money = {"max_digits": 16, "decimal_places": 2}
# A volume is money (revenue basis) or units (three decimals, as sales lines hold them).
volume = {"max_digits": 16, "decimal_places": 3}
percent = {
    "max_digits": 7,
    "decimal_places": 4,
    "validators": [MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
}
multiplier = {
    "max_digits": 6,
    "decimal_places": 3,
    "validators": [MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("10"))],
}


class PolicyQuerySet(models.QuerySet):
    """Policies are the vendor's programme: staff read them; partners see only their statements."""

    def visible_to(self, user):
        return self if is_staff_user(user) else self.none()

    def active(self):
        return self.filter(is_active=True)

    def valid_during(self, start, end):
        """Policies whose validity overlaps [start, end] (an empty bound is open)."""
        return self.filter(Q(valid_from__isnull=True) | Q(valid_from__lte=end)).filter(
            Q(valid_to__isnull=True) | Q(valid_to__gte=start)
        )


class PolicyFields(models.Model):
    name = models.CharField(_("name"), max_length=150)
    period = models.CharField(_("period"), max_length=10, choices=PeriodKind.choices, default=PeriodKind.MONTH)
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = PolicyQuerySet.as_manager()

    class Meta:
        abstract = True

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        if self.valid_from and self.valid_to and self.valid_to < self.valid_from:
            raise ValidationError({"valid_to": _("The end of validity must not be before its start.")})


class RebatePolicy(PolicyFields):
    """How much a partner earns back on its volume in a period: brackets applied retroactively
    or marginally, on eligible product lines (none: all), times its tier's multiplier, up to a cap."""

    basis = models.CharField(_("basis"), max_length=10, choices=RebateBasis.choices, default=RebateBasis.REVENUE)
    method = models.CharField(_("method"), max_length=12, choices=RebateMethod.choices)
    product_lines = models.ManyToManyField(
        ProductLine,
        verbose_name=_("eligible product lines"),
        related_name="+",
        blank=True,
        help_text=_("Empty: every product line."),
    )
    cap = models.DecimalField(
        _("cap per period"),
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("The most a partner can earn under this policy in one period; empty for no cap."),
        **money,
    )

    class Meta:
        verbose_name = _("rebate policy")
        verbose_name_plural = _("rebate policies")
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_from__isnull=True) | Q(valid_to__gte=F("valid_from")),
                name="rebate_policy_valid_to_after_from",
            ),
        ]


class RebateBracket(models.Model):
    """From `threshold` up (to the next bracket's threshold), volume earns `rate` percent."""

    policy = models.ForeignKey(
        RebatePolicy, verbose_name=_("rebate policy"), on_delete=models.CASCADE, related_name="brackets"
    )
    threshold = models.DecimalField(_("threshold"), validators=[MinValueValidator(Decimal("0"))], **volume)
    rate = models.DecimalField(_("rate %"), **percent)

    class Meta:
        verbose_name = _("bracket")
        verbose_name_plural = _("brackets")
        ordering = ["policy", "threshold"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "threshold"], name="rebate_bracket_threshold_unique"),
            models.CheckConstraint(condition=Q(threshold__gte=0), name="rebate_bracket_threshold_not_negative"),
            models.CheckConstraint(condition=Q(rate__gte=0, rate__lte=100), name="rebate_bracket_rate_percent"),
        ]

    def __str__(self):
        return f"≥ {self.threshold}: {self.rate}%"


class TierMultiplier(models.Model):
    """A partner tier's multiplier under one policy; a tier without a row earns × 1."""

    policy = models.ForeignKey(
        RebatePolicy, verbose_name=_("rebate policy"), on_delete=models.CASCADE, related_name="tier_multipliers"
    )
    tier = models.ForeignKey(PartnerTier, verbose_name=_("tier"), on_delete=models.CASCADE, related_name="+")
    multiplier = models.DecimalField(_("multiplier"), **multiplier)

    class Meta:
        verbose_name = _("tier multiplier")
        verbose_name_plural = _("tier multipliers")
        ordering = ["policy", "tier__rank"]
        constraints = [models.UniqueConstraint(fields=["policy", "tier"], name="tier_multiplier_unique")]

    def __str__(self):
        return f"{self.tier} × {self.multiplier}"


class OverridePolicy(PolicyFields):
    """Override commission (超额佣金): a percentage of a sub-partner's eligible revenue paid to
    each level above it (level 1: the parent, level 2: the grandparent...)."""

    product_lines = models.ManyToManyField(
        ProductLine,
        verbose_name=_("eligible product lines"),
        related_name="+",
        blank=True,
        help_text=_("Empty: every product line."),
    )

    class Meta:
        verbose_name = _("override policy")
        verbose_name_plural = _("override policies")
        ordering = ["name", "id"]


class OverrideRate(models.Model):
    policy = models.ForeignKey(
        OverridePolicy, verbose_name=_("override policy"), on_delete=models.CASCADE, related_name="rates"
    )
    level = models.PositiveSmallIntegerField(
        _("level above the seller"),
        validators=[MinValueValidator(1)],
        help_text=_("1: the parent, 2: the grandparent…"),
    )
    rate = models.DecimalField(_("rate %"), **percent)

    class Meta:
        verbose_name = _("override rate")
        verbose_name_plural = _("override rates")
        ordering = ["policy", "level"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "level"], name="override_rate_level_unique"),
            models.CheckConstraint(condition=Q(level__gte=1), name="override_rate_level_positive"),
            models.CheckConstraint(condition=Q(rate__gte=0, rate__lte=100), name="override_rate_percent"),
        ]

    def __str__(self):
        return f"+{self.level}: {self.rate}%"


class PolicyAssignmentQuerySet(TenantQuerySet):
    partner_lookup = "agreement__partner"


class PolicyAssignment(models.Model):
    """The rebate policy an agreement grants (the agreement's side never knows it)."""

    agreement = models.ForeignKey(
        Agreement, verbose_name=_("agreement"), on_delete=models.CASCADE, related_name="rebate_policy_links"
    )
    policy = models.ForeignKey(
        RebatePolicy, verbose_name=_("rebate policy"), on_delete=models.PROTECT, related_name="assignments"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = PolicyAssignmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("policy assignment")
        verbose_name_plural = _("policy assignments")
        ordering = ["agreement", "policy"]
        constraints = [models.UniqueConstraint(fields=["agreement", "policy"], name="policy_assignment_unique")]

    def __str__(self):
        return f"{self.agreement} → {self.policy}"


class RebateStatementQuerySet(TenantQuerySet):
    partner_lookup = "partner"


class RebateStatement(models.Model):
    """What one partner earned in one period, line by line. Calculated statements may be
    recalculated; approved and paid ones never change."""

    partner = models.ForeignKey(
        Partner, verbose_name=_("partner"), on_delete=models.PROTECT, related_name="rebate_statements"
    )
    period = PeriodField(_("period"))
    period_start = models.DateField(_("period start"), editable=False)
    period_end = models.DateField(_("period end"), editable=False)
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=StatementStatus.choices,
        default=StatementStatus.CALCULATED,
        db_index=True,
    )
    total = models.DecimalField(_("total"), default=Decimal("0.00"), **money)
    currency = models.CharField(_("currency"), max_length=3, default=settings.PRM_CURRENCY)
    calculated_at = models.DateTimeField(_("calculated at"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = RebateStatementQuerySet.as_manager()

    class Meta:
        verbose_name = _("rebate statement")
        verbose_name_plural = _("rebate statements")
        ordering = ["-period_start", "partner__code", "-id"]
        constraints = [
            # One live statement per partner and period: the constraint decides when two runs race.
            models.UniqueConstraint(
                fields=["partner", "period"],
                condition=~Q(status=StatementStatus.CANCELLED),
                name="rebate_statement_unique_per_period",
            ),
        ]
        indexes = [models.Index(fields=["period", "status"])]

    def __str__(self):
        return f"{self.partner} {self.period}"

    def save(self, *args, **kwargs):
        period = Period.parse(self.period)
        self.period, self.period_start, self.period_end = period.code, period.start, period.end
        super().save(*args, **kwargs)

    @property
    def period_value(self):
        return Period.parse(self.period)

    @property
    def is_locked(self):
        return self.status in StatementStatus.LOCKED


class StatementLineQuerySet(TenantQuerySet):
    partner_lookup = "statement__partner"


class StatementLine(models.Model):
    """One amount of a statement and what produced it: the policy, the bracket, the base and the
    rate (and, for an override, the sub-partner whose sales earned it). Rounded half-up to the
    cent once, here."""

    statement = models.ForeignKey(
        RebateStatement, verbose_name=_("rebate statement"), on_delete=models.CASCADE, related_name="lines"
    )
    kind = models.CharField(_("line type"), max_length=12, choices=LineKind.choices)
    rebate_policy = models.ForeignKey(
        RebatePolicy,
        verbose_name=_("rebate policy"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    override_policy = models.ForeignKey(
        OverridePolicy,
        verbose_name=_("override policy"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    bracket_threshold = models.DecimalField(_("bracket threshold"), null=True, blank=True, **volume)
    volume = models.DecimalField(_("volume"), null=True, blank=True, **volume)
    base = models.DecimalField(
        _("base amount"),
        null=True,
        blank=True,
        max_digits=20,
        decimal_places=6,
        help_text=_("What the rate applies to."),
    )
    rate = models.DecimalField(_("rate %"), null=True, blank=True, max_digits=7, decimal_places=4)
    multiplier = models.DecimalField(_("multiplier"), null=True, blank=True, max_digits=6, decimal_places=3)
    level = models.PositiveSmallIntegerField(_("level above the seller"), null=True, blank=True)
    source_partner = models.ForeignKey(
        Partner,
        verbose_name=_("sub-partner"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    amount = models.DecimalField(_("amount"), **money)
    description = models.CharField(
        _("description"), max_length=300, blank=True, help_text=_("For an adjustment: the reason.")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = StatementLineQuerySet.as_manager()

    class Meta:
        verbose_name = _("statement line")
        verbose_name_plural = _("statement lines")
        ordering = ["statement", "id"]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.amount}"

    @property
    def explanation(self):
        """What produced the amount, in the active language (composed when shown, from the
        stored policy, bracket, rate and source, so it never freezes in one language). An
        adjustment's explanation is the reason given for it."""
        if self.kind == LineKind.ADJUSTMENT:
            return self.description
        if self.kind == LineKind.OVERRIDE:
            return _("%(policy)s: %(rate)s%% of the sales of %(partner)s (level %(level)s above the seller)") % {
                "policy": self.override_policy,
                "rate": plain_number(self.rate),
                "partner": self.source_partner,
                "level": self.level,
            }
        if self.kind == LineKind.CAP:
            return _("%(policy)s: capped at %(cap)s") % {
                "policy": self.rebate_policy,
                "cap": number_format(self.rebate_policy.cap, 2, force_grouping=True),
            }
        if self.rebate_policy.method == RebateMethod.MARGINAL:
            return _("%(policy)s: the slice from %(threshold)s at %(rate)s%%") % {
                "policy": self.rebate_policy,
                "threshold": plain_number(self.bracket_threshold),
                "rate": plain_number(self.rate),
            }
        return _("%(policy)s: the whole volume at %(rate)s%% (bracket from %(threshold)s)") % {
            "policy": self.rebate_policy,
            "threshold": plain_number(self.bracket_threshold),
            "rate": plain_number(self.rate),
        }


# Market development funds ---------------------------------------------------------------------


class MdfBudgetQuerySet(TenantQuerySet):
    partner_lookup = "partner"


class MdfBudget(models.Model):
    """What a partner may spend on market development in one period. Requests reserve it when
    approved; what is reserved, claimed and paid is summed from them (`incentives.selectors`),
    so it can never drift from the requests."""

    partner = models.ForeignKey(
        Partner, verbose_name=_("partner"), on_delete=models.PROTECT, related_name="mdf_budgets"
    )
    period = PeriodField(_("period"))
    period_start = models.DateField(_("period start"), editable=False)
    period_end = models.DateField(_("period end"), editable=False)
    allocated = models.DecimalField(_("allocated"), validators=[MinValueValidator(Decimal("0"))], **money)
    currency = models.CharField(_("currency"), max_length=3, default=settings.PRM_CURRENCY)
    source = models.CharField(_("set by"), max_length=10, choices=BudgetSource.choices, default=BudgetSource.MANUAL)
    basis_revenue = models.DecimalField(
        _("previous period revenue"),
        null=True,
        blank=True,
        help_text=_("For a budget from the tier allowance: the revenue it was computed from."),
        **money,
    )
    allowance_percent = models.DecimalField(_("MDF allowance %"), null=True, blank=True, max_digits=5, decimal_places=2)
    note = models.CharField(_("note"), max_length=300, blank=True)
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

    objects = MdfBudgetQuerySet.as_manager()

    class Meta:
        verbose_name = _("MDF budget")
        verbose_name_plural = _("MDF budgets")
        ordering = ["-period_start", "partner__code", "id"]
        constraints = [
            models.UniqueConstraint(fields=["partner", "period"], name="mdf_budget_unique_per_period"),
            models.CheckConstraint(condition=Q(allocated__gte=0), name="mdf_budget_allocated_not_negative"),
        ]
        indexes = [models.Index(fields=["period_start", "period_end"])]

    def __str__(self):
        return f"{self.partner} {self.period}"

    def save(self, *args, **kwargs):
        period = Period.parse(self.period)
        self.period, self.period_start, self.period_end = period.code, period.start, period.end
        super().save(*args, **kwargs)

    @property
    def period_value(self):
        return Period.parse(self.period)


class MdfRequestQuerySet(TenantQuerySet):
    partner_lookup = "partner"


class MdfRequest(models.Model):
    """A partner's request for funds for one activity, and then its claim: draft → submitted →
    approved (the approved amount reserves budget) | rejected → claimed (actual amount, proof of
    performance) → paid. `MDF_TRANSITIONS` lists the moves; `incentives.services` makes them."""

    partner = models.ForeignKey(
        Partner, verbose_name=_("partner"), on_delete=models.PROTECT, related_name="mdf_requests"
    )
    budget = models.ForeignKey(
        MdfBudget, verbose_name=_("MDF budget"), on_delete=models.PROTECT, related_name="requests"
    )
    title = models.CharField(_("title"), max_length=200)
    activity_type = models.CharField(_("activity type"), max_length=20, choices=MdfActivity.choices)
    plan = models.TextField(_("plan"), help_text=_("What will be done, for whom, and what it should bring."))
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"))
    requested_amount = models.DecimalField(_("requested amount"), **money)
    approved_amount = models.DecimalField(_("approved amount"), null=True, blank=True, **money)
    actual_amount = models.DecimalField(_("actual amount"), null=True, blank=True, **money)
    status = models.CharField(
        _("status"), max_length=12, choices=MdfStatus.choices, default=MdfStatus.DRAFT, db_index=True
    )
    decision_note = models.CharField(_("decision note"), max_length=500, blank=True)
    claim_note = models.CharField(_("claim note"), max_length=500, blank=True)
    payment_reference = models.CharField(_("payment reference"), max_length=100, blank=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
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

    objects = MdfRequestQuerySet.as_manager()

    class Meta:
        verbose_name = _("MDF request")
        verbose_name_plural = _("MDF requests")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(end_date__gte=F("start_date")), name="mdf_request_end_after_start"),
            models.CheckConstraint(condition=Q(requested_amount__gt=0), name="mdf_request_requested_positive"),
            models.CheckConstraint(
                condition=Q(approved_amount__isnull=True)
                | Q(approved_amount__gt=0, approved_amount__lte=F("requested_amount")),
                name="mdf_request_approved_within_requested",
            ),
            models.CheckConstraint(
                condition=Q(actual_amount__isnull=True)
                | Q(actual_amount__gte=0, actual_amount__lte=F("approved_amount")),
                name="mdf_request_actual_within_approved",
            ),
        ]
        indexes = [models.Index(fields=["budget", "status"])]

    def __str__(self):
        return f"{self.reference} {self.title}"

    @property
    def reference(self):
        return f"MDF-{self.pk:05d}" if self.pk else ""

    @property
    def committed(self):
        """What the request holds of its budget now."""
        if self.status in MdfStatus.RESERVING:
            return self.approved_amount
        if self.status in MdfStatus.CLAIMING + MdfStatus.SPENT:
            return self.actual_amount
        return Decimal("0.00")


def proof_path(proof, filename):
    return f"mdf/{proof.request_id}/{timezone.now():%Y%m%d%H%M%S}-{filename}"


class MdfProofQuerySet(TenantQuerySet):
    partner_lookup = "request__partner"


class MdfProof(models.Model):
    """Proof of performance for a claim (photos, invoices, a report). Downloads go through a view
    that checks who asks."""

    request = models.ForeignKey(
        MdfRequest, verbose_name=_("MDF request"), on_delete=models.CASCADE, related_name="proofs"
    )
    file = models.FileField(_("file"), upload_to=proof_path, max_length=300)
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveIntegerField(_("size (bytes)"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    objects = MdfProofQuerySet.as_manager()

    class Meta:
        verbose_name = _("proof of performance")
        verbose_name_plural = _("proofs of performance")
        ordering = ["uploaded_at", "id"]

    def __str__(self):
        return self.original_name
