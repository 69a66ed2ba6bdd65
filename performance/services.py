"""Writes of the performance module. `by=None` is the system (the scheduled job, a command).

- `snapshots_compute` (re)computes one month's KPI snapshots (performance.kpis) and replaces
  that month's snapshots in one transaction, recording who and when (SnapshotRun). Two runs of
  the same month take turns on the month's PeriodComputation row, so racing runs leave one
  consistent set; running it twice on the same data writes the same rows. Until someone
  recomputes a month, its snapshots do not move when sales are corrected.
- `scorecards_compute` scores every partner of a month from its stored snapshots under the
  default template, grades and ranks them, rolls the scores up the regions, and replaces that
  month's scorecards in one transaction, under the same lock (rules: performance.scoring).
- `scorecard_template_save` validates and saves a template with its items (weights sum to
  100) and makes it the default when asked.
- `customer_satisfaction_set` enters (or replaces) a partner's score for a month.
"""

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from prm.audit import acting_user, audit_record
from prm.models import AuditEntry
from prm.periods import Period, PeriodKind
from prm.roles import can_write_as_staff, is_integration

from . import kpis, scoring
from .choices import LOWER_IS_BETTER_KPIS, SCORABLE_KPIS, Kpi
from .models import (
    CustomerSatisfaction,
    KpiSnapshot,
    PeriodComputation,
    RegionScorecard,
    Scorecard,
    ScorecardItem,
    ScorecardTemplate,
    SnapshotRun,
)

BATCH_SIZE = 1000
SCORE_MAX = Decimal("100")
ZERO = Decimal("0")


def can_compute(user):
    return can_write_as_staff(user) or is_integration(user)


def _require_writer(by):
    if by is not None and not can_compute(by):
        raise PermissionDenied(_("Only a channel admin or a channel manager can change performance figures."))


def _month(value, field="period"):
    """A month from a Period or its code; a clear error for anything else."""
    try:
        period = value if isinstance(value, Period) else Period.parse(value)
    except ValidationError as error:
        raise ValidationError({field: error.messages}) from error
    if period.kind != PeriodKind.MONTH:
        raise ValidationError({field: _("Enter a month, such as 2026-10.")})
    return period


def _lock_month(month):
    """The month's PeriodComputation row, created if missing and locked until the end of the
    transaction: computations of one month (snapshots, scorecards) take turns on it."""
    PeriodComputation.objects.get_or_create(period=month.code, defaults={"period_start": month.start})
    return PeriodComputation.objects.select_for_update().get(period=month.code)


def snapshots_compute(*, period, by=None, job_run=None):
    """Compute the KPIs of the month `period` for every partner and region and replace that
    month's snapshots atomically. Returns the SnapshotRun (who, when, rows written).

    The month's PeriodComputation row is created if missing and then locked for the whole
    computation: a second run of the same month waits and then computes from the data as it is
    then, replacing the first run's rows (never adding to them)."""
    _require_writer(by)
    month = _month(period)
    with transaction.atomic():
        computation = _lock_month(month)
        run = SnapshotRun.objects.create(period=month.code, computed_by=acting_user(by), job_run=job_run)
        values = kpis.compute_month(month)
        now = timezone.now()
        KpiSnapshot.objects.filter(period=month.code).delete()
        KpiSnapshot.objects.bulk_create(
            [
                KpiSnapshot(
                    partner_id=partner_id,
                    region_id=region_id,
                    period=month.code,
                    period_start=month.start,
                    kpi=kpi,
                    value=value,
                    computed_at=now,
                    run=run,
                )
                for partner_id, region_id, kpi, value in values
            ],
            batch_size=BATCH_SIZE,
        )
        run.rows, run.finished_at = len(values), timezone.now()
        run.save(update_fields=["rows", "finished_at"])
        computation.current_run = run
        computation.computations += 1
        computation.save(update_fields=["current_run", "computations"])
    return run


def _score(value):
    try:
        score = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as error:
        raise ValidationError({"score": _("Enter a number from 0 to 100.")}) from error
    if not score.is_finite() or not Decimal("0") <= score <= SCORE_MAX:
        raise ValidationError({"score": _("Enter a number from 0 to 100.")})
    if score != score.quantize(Decimal("0.01")):
        raise ValidationError({"score": _("Use at most two decimals.")})
    return score.quantize(Decimal("0.01"))


def customer_satisfaction_set(*, partner, period, score, by=None):
    """Enter the partner's customer-satisfaction score (0–100, two decimals at most) for a
    month; entering it again replaces it. The month's snapshots change only when it is
    recomputed."""
    _require_writer(by)
    month = _month(period)
    score = _score(score)
    with transaction.atomic():
        entry, created = CustomerSatisfaction.objects.select_for_update().get_or_create(
            partner=partner,
            period=month.code,
            defaults={"period_start": month.start, "score": score, "entered_by": acting_user(by)},
        )
        before = None if created else str(entry.score)
        if not created:
            entry.score, entry.entered_by = score, acting_user(by)
            entry.save()
        audit_record(
            instance=entry,
            action=AuditEntry.Action.CREATE if created else AuditEntry.Action.UPDATE,
            by=by,
            changes={"score": [before, str(score)]},
        )
    return entry


# Scorecards -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScorecardResult:
    period: str
    template: ScorecardTemplate
    scorecards: int
    region_scorecards: int


def _default_template():
    template = ScorecardTemplate.objects.filter(is_default=True, is_active=True).first()
    if template is None:
        raise ValidationError({"template": _("There is no default scorecard template: make one the default.")})
    return template


def _partner_values(month, kpi_codes):
    """{partner_id: {kpi: value}} and {partner_id: (region_id, region path, tier_id)} from the
    month's stored partner snapshots: one query."""
    rows = (
        KpiSnapshot.objects.filter(period=month.code, partner__isnull=False, kpi__in=kpi_codes)
        .order_by()
        .values_list("partner_id", "partner__region_id", "partner__region__path", "partner__tier_id", "kpi", "value")
    )
    values, where = defaultdict(dict), {}
    for partner_id, region_id, path, tier_id, kpi, value in rows:
        values[partner_id][kpi] = value
        where[partner_id] = (region_id, path, tier_id)
    return values, where


def scorecards_compute(*, period, by=None, template=None):
    """Score every partner of the month `period` from its stored KPI snapshots under `template`
    (the default template when None), grade it, rank it in its primary region and in its tier,
    score every region from its partners (revenue-weighted mean through the hierarchy), and
    replace the month's partner and region scorecards in one transaction (rules:
    performance.scoring). Under the month's lock, like snapshots_compute: racing runs take
    turns; running it twice on the same snapshots writes the same cards. A fixed number of
    queries whatever the number of partners. Refused while the month's snapshots have never
    been computed."""
    _require_writer(by)
    month = _month(period)
    with transaction.atomic():
        computation = _lock_month(month)
        if computation.current_run_id is None:
            raise ValidationError(
                {"period": _("Compute the KPI snapshots of %(period)s first.") % {"period": month.code}}
            )
        template = template or _default_template()
        if not template.is_active:
            raise ValidationError({"template": _("This scorecard template is not active.")})
        items = [(item.kpi, item.weight, item.floor, item.target) for item in template.items.all()]
        values, where = _partner_values(month, [kpi for kpi, *_rest in items] + [Kpi.REVENUE])
        scores = {}
        for partner_id, kpi_values in values.items():
            score = scoring.weighted_score(kpi_values, items)
            if score is not None:
                scores[partner_id] = score
        in_region = scoring.ranks_within(scores, {pk: where[pk][0] for pk in scores})
        in_tier = scoring.ranks_within(scores, {pk: where[pk][2] for pk in scores})
        regions = defaultdict(list)
        for partner_id, score in scores.items():
            revenue = values[partner_id].get(Kpi.REVENUE, ZERO)
            for region_id in (int(part) for part in (where[partner_id][1] or "").strip("/").split("/") if part):
                regions[region_id].append((score, revenue))
        now = timezone.now()
        common = {"period": month.code, "period_start": month.start, "template": template, "computed_at": now}
        cards = [
            Scorecard(
                partner_id=partner_id,
                score=score,
                grade=scoring.grade(score),
                rank_in_region=in_region.get(partner_id),
                rank_in_tier=in_tier.get(partner_id),
                **common,
            )
            for partner_id, score in sorted(scores.items())
        ]
        region_cards = []
        for region_id, pairs in sorted(regions.items()):
            score = scoring.revenue_weighted_mean(pairs)
            if score is not None:
                revenue = sum((max(revenue, ZERO) for _score, revenue in pairs), ZERO)
                region_cards.append(
                    RegionScorecard(
                        region_id=region_id,
                        score=score,
                        grade=scoring.grade(score),
                        partners=len(pairs),
                        revenue=revenue,
                        **common,
                    )
                )
        Scorecard.objects.filter(period=month.code).delete()
        RegionScorecard.objects.filter(period=month.code).delete()
        Scorecard.objects.bulk_create(cards, batch_size=BATCH_SIZE)
        RegionScorecard.objects.bulk_create(region_cards, batch_size=BATCH_SIZE)
    return ScorecardResult(month.code, template, len(cards), len(region_cards))


def _number(value):
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _template_items(items):
    """[ScorecardItem (unsaved)] and [error message] for the rows `items` ({kpi, weight,
    floor, target}); every row is checked, each error names its row and KPI."""
    rows, errors, seen = [], [], set()
    labels = dict(Kpi.choices)
    for number, item in enumerate(items, start=1):
        kpi = str(item.get("kpi", "")).strip()
        label = {"number": number, "kpi": labels.get(kpi, kpi or "?")}
        if kpi not in SCORABLE_KPIS:
            errors.append(_("Item %(number)s: “%(kpi)s” is not a KPI a scorecard can score.") % label)
            continue
        if kpi in seen:
            errors.append(_("Item %(number)s (%(kpi)s): this KPI is already in an earlier item.") % label)
            continue
        seen.add(kpi)
        weight, floor, target = (_number(item.get(name)) for name in ("weight", "floor", "target"))
        if weight is None or not ZERO < weight <= SCORE_MAX or weight != weight.quantize(Decimal("0.01")):
            errors.append(
                _("Item %(number)s (%(kpi)s): enter a weight above 0 and up to 100, two decimals at most.") % label
            )
            continue
        if floor is None or target is None:
            errors.append(_("Item %(number)s (%(kpi)s): enter a number for the floor and the target.") % label)
            continue
        if kpi in LOWER_IS_BETTER_KPIS and not floor > target:
            errors.append(
                _("Item %(number)s (%(kpi)s): lower is better, so the floor must be above the target.") % label
            )
            continue
        if kpi not in LOWER_IS_BETTER_KPIS and not floor < target:
            errors.append(_("Item %(number)s (%(kpi)s): the floor must be below the target.") % label)
            continue
        rows.append(ScorecardItem(kpi=kpi, weight=weight, floor=floor, target=target))
    if not items:
        errors.append(_("Add at least one KPI."))
    elif not errors:
        total = sum((row.weight for row in rows), ZERO)
        if total != SCORE_MAX:
            errors.append(_("The weights add up to %(total)s; they must add up to 100.") % {"total": total})
    return rows, errors


def _describe(items):
    return [f"{item.kpi} {item.weight} {item.floor} {item.target}" for item in items]


def scorecard_template_save(*, template, items, by=None):
    """Save a scorecard template with its items ({kpi, weight, floor, target} each), replacing
    its previous items. Every item is checked (a scorable KPI, once; a weight above 0; the
    floor below the target, or above it for a lower-is-better KPI) and the weights must add up
    to 100; nothing is written unless all is right. A template saved as the default becomes the
    only default (the default must be active; to change it, make another template the
    default). Recorded in the history."""
    _require_writer(by)
    errors = {}
    template.name = (template.name or "").strip()
    if not template.name:
        errors["name"] = _("Enter a name.")
    elif ScorecardTemplate.objects.filter(name__iexact=template.name).exclude(pk=template.pk).exists():
        errors["name"] = _("Another scorecard template has this name.")
    if template.is_default and not template.is_active:
        errors["is_active"] = _("The default template must be active.")
    if (
        template.pk
        and not template.is_default
        and ScorecardTemplate.objects.filter(pk=template.pk, is_default=True).exists()
    ):
        errors["is_default"] = _("This is the default template: make another template the default instead.")
    rows, item_errors = _template_items(list(items))
    if item_errors:
        errors["items"] = item_errors
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        created = template.pk is None
        before = [] if created else _describe(template.items.all())
        if template.is_default:
            ScorecardTemplate.objects.select_for_update().filter(is_default=True).exclude(pk=template.pk).update(
                is_default=False
            )
        template.save()
        template.items.all().delete()
        for row in rows:
            row.template = template
        ScorecardItem.objects.bulk_create(rows)
        audit_record(
            instance=template,
            action=AuditEntry.Action.CREATE if created else AuditEntry.Action.UPDATE,
            by=by,
            changes={"items": [before, _describe(rows)]},
        )
    return template
