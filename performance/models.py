"""Tables of the performance module: KPI snapshots per partner and per region per month, the
record of each computation of a month (who, when, how many rows), the lock row that serialises
computations of one month, and the customer-satisfaction scores staff enter.

Snapshots are written only by `performance.services.snapshots_compute`, which replaces a
month's snapshots in one transaction: history does not move when sales are corrected later
unless someone recomputes the month, and the run says who did and when.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from partners.models import Partner, Region
from prm.periods import Period, PeriodField
from prm.tenancy import TenantQuerySet

from .choices import FlagRuleCode, FlagStatus, Grade, Kpi, Measure


class MonthFields(models.Model):
    """A month ("2026-10") and its first day, for date queries."""

    period = PeriodField(_("period"))
    period_start = models.DateField(_("period start"), editable=False)

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        period = Period.parse(self.period)
        self.period, self.period_start = period.code, period.start
        super().save(*args, **kwargs)


class SnapshotRun(models.Model):
    """One computation of a month's snapshots: who asked (None: the scheduled job or a command),
    when it started and finished, how many snapshots it wrote, and the job run it belonged to."""

    period = PeriodField(_("period"), db_index=True)
    computed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("computed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    started_at = models.DateTimeField(_("started at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    rows = models.PositiveIntegerField(_("snapshots written"), default=0)
    job_run = models.ForeignKey(
        "prm.JobRun",
        verbose_name=_("job run"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("snapshot run")
        verbose_name_plural = _("snapshot runs")
        ordering = ["-started_at", "-id"]

    def __str__(self):
        return f"{self.period} {self.started_at:%Y-%m-%d %H:%M}"


class PeriodComputation(MonthFields):
    """One row per computed month: the row `snapshots_compute` locks so that two runs of the same
    month take turns, and the run whose snapshots are current."""

    current_run = models.ForeignKey(
        SnapshotRun,
        verbose_name=_("current run"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    computations = models.PositiveIntegerField(_("times computed"), default=0)

    class Meta:
        verbose_name = _("computed period")
        verbose_name_plural = _("computed periods")
        ordering = ["-period_start"]
        constraints = [models.UniqueConstraint(fields=["period"], name="period_computation_unique")]

    def __str__(self):
        return self.period


class KpiSnapshotQuerySet(TenantQuerySet):
    """Staff see every snapshot; a partner's users see their own partner's (never a region's)."""

    partner_lookup = "partner"

    def for_partners(self):
        return self.filter(partner__isnull=False)

    def for_regions(self):
        return self.filter(region__isnull=False)


class KpiSnapshot(MonthFields):
    """The value of one KPI for one partner or one region in one month. A KPI with no value
    (no target, a base of 0, no revenue to share, no score entered) has no row."""

    partner = models.ForeignKey(
        Partner,
        verbose_name=_("partner"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="kpi_snapshots",
    )
    region = models.ForeignKey(
        Region,
        verbose_name=_("region"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="kpi_snapshots",
    )
    kpi = models.CharField(_("KPI"), max_length=32, choices=Kpi.choices)
    value = models.DecimalField(_("value"), max_digits=20, decimal_places=6)
    computed_at = models.DateTimeField(_("computed at"))
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, db_index=True)
    run = models.ForeignKey(SnapshotRun, verbose_name=_("run"), on_delete=models.PROTECT, related_name="snapshots")

    objects = KpiSnapshotQuerySet.as_manager()

    class Meta:
        verbose_name = _("KPI snapshot")
        verbose_name_plural = _("KPI snapshots")
        ordering = ["-period_start", "kpi", "partner_id", "region_id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(partner__isnull=False, region__isnull=True) | Q(partner__isnull=True, region__isnull=False),
                name="kpi_snapshot_partner_or_region",
            ),
            models.UniqueConstraint(
                fields=["partner", "period", "kpi"],
                condition=Q(partner__isnull=False),
                name="kpi_snapshot_unique_per_partner",
            ),
            models.UniqueConstraint(
                fields=["region", "period", "kpi"],
                condition=Q(region__isnull=False),
                name="kpi_snapshot_unique_per_region",
            ),
        ]
        indexes = [
            models.Index(fields=["period", "kpi"]),
            models.Index(fields=["kpi", "period_start"]),
        ]

    def __str__(self):
        subject = self.partner if self.partner_id else self.region
        return f"{subject} {self.period} {self.kpi}"


class CustomerSatisfactionQuerySet(TenantQuerySet):
    partner_lookup = "partner"


class CustomerSatisfaction(MonthFields):
    """A partner's customer-satisfaction score for one month, on a 0–100 scale (a survey on
    another scale is converted before it is entered: 8.6 of 10 is 86). Entered by staff or
    imported; one score per partner and month, entering it again replaces it."""

    partner = models.ForeignKey(
        Partner, verbose_name=_("partner"), on_delete=models.PROTECT, related_name="satisfaction_scores"
    )
    score = models.DecimalField(
        _("score"),
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
        help_text=_("From 0 to 100."),
    )
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("entered by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    entered_at = models.DateTimeField(_("entered at"), auto_now=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, db_index=True)

    objects = CustomerSatisfactionQuerySet.as_manager()

    class Meta:
        verbose_name = _("customer satisfaction score")
        verbose_name_plural = _("customer satisfaction scores")
        ordering = ["-period_start", "partner__code"]
        constraints = [
            models.UniqueConstraint(fields=["partner", "period"], name="customer_satisfaction_unique_per_period"),
            models.CheckConstraint(condition=Q(score__gte=0, score__lte=100), name="customer_satisfaction_score_0_100"),
        ]

    def __str__(self):
        return f"{self.partner} {self.period}: {self.score}"


class ScorecardTemplate(models.Model):
    """A way of scoring partners: its items say which KPIs count, how much, and what floor and
    target they are scored against. Exactly one template is the default, the one the monthly
    computation uses. Written by performance.services.scorecard_template_save."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    is_default = models.BooleanField(_("default"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("scorecard template")
        verbose_name_plural = _("scorecard templates")
        ordering = ["-is_default", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="scorecard_template_one_default"
            ),
            models.CheckConstraint(
                condition=Q(is_default=False) | Q(is_active=True), name="scorecard_template_default_is_active"
            ),
        ]

    def __str__(self):
        return self.name


class ScorecardItem(models.Model):
    """One KPI of a template: its weight (the template's weights sum to 100), the value that
    scores 0 (floor) and the value that scores 100 (target). For a lower-is-better KPI the floor
    is above the target (performance.scoring)."""

    template = models.ForeignKey(
        ScorecardTemplate, verbose_name=_("template"), on_delete=models.CASCADE, related_name="items"
    )
    kpi = models.CharField(_("KPI"), max_length=32, choices=Kpi.choices)
    weight = models.DecimalField(_("weight"), max_digits=5, decimal_places=2)
    floor = models.DecimalField(_("floor"), max_digits=20, decimal_places=6, help_text=_("This value scores 0."))
    target = models.DecimalField(_("target"), max_digits=20, decimal_places=6, help_text=_("This value scores 100."))

    class Meta:
        verbose_name = _("scorecard item")
        verbose_name_plural = _("scorecard items")
        ordering = ["template", "-weight", "kpi"]
        constraints = [
            models.UniqueConstraint(fields=["template", "kpi"], name="scorecard_item_unique_kpi"),
            models.CheckConstraint(condition=Q(weight__gt=0, weight__lte=100), name="scorecard_item_weight_0_100"),
            models.CheckConstraint(condition=~Q(floor=models.F("target")), name="scorecard_item_floor_not_target"),
        ]

    def __str__(self):
        return f"{self.template} {self.kpi} {self.weight}"

    @property
    def lower_is_better(self):
        return self.floor > self.target


class ScorecardQuerySet(TenantQuerySet):
    """Staff see every scorecard; a partner's users see their own partner's."""

    partner_lookup = "partner"


class Scorecard(MonthFields):
    """A partner's score for a month under a template, its grade and its ranks among the
    partners of its primary region and of its tier (1 is the best; equal scores share a rank).
    Written only by performance.services.scorecards_compute, which replaces a month's cards."""

    partner = models.ForeignKey(Partner, verbose_name=_("partner"), on_delete=models.PROTECT, related_name="scorecards")
    template = models.ForeignKey(
        ScorecardTemplate, verbose_name=_("template"), on_delete=models.PROTECT, related_name="+"
    )
    score = models.DecimalField(_("score"), max_digits=5, decimal_places=2)
    grade = models.CharField(_("grade"), max_length=1, choices=Grade.choices)
    rank_in_region = models.PositiveIntegerField(_("rank in region"), null=True, blank=True)
    rank_in_tier = models.PositiveIntegerField(_("rank in tier"), null=True, blank=True)
    computed_at = models.DateTimeField(_("computed at"))
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, db_index=True)

    objects = ScorecardQuerySet.as_manager()

    class Meta:
        verbose_name = _("scorecard")
        verbose_name_plural = _("scorecards")
        ordering = ["-period_start", "-score", "partner_id"]
        constraints = [
            models.UniqueConstraint(fields=["partner", "period"], name="scorecard_unique_per_period"),
            models.CheckConstraint(condition=Q(score__gte=0, score__lte=100), name="scorecard_score_0_100"),
        ]
        indexes = [models.Index(fields=["period", "grade"])]

    def __str__(self):
        return f"{self.partner} {self.period}: {self.score} ({self.grade})"


class RegionScorecard(MonthFields):
    """A region's score for a month: the revenue-weighted mean of the scores of the partners
    whose primary region is the region or below it (`partners` of them, `revenue` in total)."""

    region = models.ForeignKey(Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="scorecards")
    template = models.ForeignKey(
        ScorecardTemplate, verbose_name=_("template"), on_delete=models.PROTECT, related_name="+"
    )
    score = models.DecimalField(_("score"), max_digits=5, decimal_places=2)
    grade = models.CharField(_("grade"), max_length=1, choices=Grade.choices)
    partners = models.PositiveIntegerField(_("partners scored"))
    revenue = models.DecimalField(_("revenue"), max_digits=18, decimal_places=2)
    computed_at = models.DateTimeField(_("computed at"))
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, db_index=True)

    class Meta:
        verbose_name = _("region scorecard")
        verbose_name_plural = _("region scorecards")
        ordering = ["-period_start", "region__path"]
        constraints = [
            models.UniqueConstraint(fields=["region", "period"], name="region_scorecard_unique_per_period"),
            models.CheckConstraint(condition=Q(score__gte=0, score__lte=100), name="region_scorecard_score_0_100"),
        ]

    def __str__(self):
        return f"{self.region} {self.period}: {self.score} ({self.grade})"


class FlagRule(models.Model):
    """One rule that flags an underperforming region and its threshold, editable by staff
    (performance.services.flag_rule_save). For `revenue_decline` the threshold is the number of
    consecutive months of falling revenue. Rows for every rule come from a data migration."""

    code = models.CharField(_("rule"), max_length=32, choices=FlagRuleCode.choices, unique=True)
    threshold = models.DecimalField(_("threshold"), max_digits=12, decimal_places=4)
    is_active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("updated by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("flag rule")
        verbose_name_plural = _("flag rules")
        ordering = ["code"]

    def __str__(self):
        return self.get_code_display()


class RegionFlagQuerySet(models.QuerySet):
    """Flags are the channel team's: staff see them all, partner users none."""

    def visible_to(self, user):
        return self if user.is_authenticated and user.is_staff else self.none()


class RegionFlag(MonthFields):
    """A region found underperforming in a month: the rules that fired with their figures and
    the partners that contribute most (`findings`, see performance.flags), and the team's
    response: open → acknowledged → action plan (measures, owner, due date) → resolved.
    Re-evaluating the month updates the findings and keeps the workflow; a flag whose rules no
    longer fire stays, marked `is_firing=False`."""

    region = models.ForeignKey(Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="flags")
    status = models.CharField(_("status"), max_length=20, choices=FlagStatus.choices, default=FlagStatus.OPEN)
    findings = models.JSONField(_("findings"), default=list)
    rules = models.JSONField(_("rules fired"), default=list, help_text=_("The codes of the rules that fired."))
    is_firing = models.BooleanField(_("rules still fire"), default=True)
    opened_at = models.DateTimeField(_("opened at"))
    evaluated_at = models.DateTimeField(_("evaluated at"))
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, db_index=True)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("acknowledged by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    measures = models.JSONField(_("measures"), default=list, blank=True)
    plan = models.TextField(_("action plan"), blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_region_flags",
    )
    due_date = models.DateField(_("due date"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("resolved by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    resolution = models.TextField(_("resolution"), blank=True)

    objects = RegionFlagQuerySet.as_manager()

    class Meta:
        verbose_name = _("region flag")
        verbose_name_plural = _("region flags")
        ordering = ["-period_start", "region__path"]
        constraints = [models.UniqueConstraint(fields=["region", "period"], name="region_flag_unique_per_period")]
        indexes = [models.Index(fields=["status", "period_start"])]

    def __str__(self):
        return f"{self.region} {self.period} ({self.get_status_display()})"

    def get_absolute_url(self):
        return reverse("performance:flag-detail", args=[self.pk])

    @property
    def measure_labels(self):
        labels = dict(Measure.choices)
        return [labels.get(code, code) for code in self.measures]
