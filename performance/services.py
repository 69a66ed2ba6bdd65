"""Writes of the performance module. `by=None` is the system (the scheduled job, a command).

- `snapshots_compute` (re)computes one month's KPI snapshots (performance.kpis) and replaces
  that month's snapshots in one transaction, recording who and when (SnapshotRun). Two runs of
  the same month take turns on the month's PeriodComputation row, so racing runs leave one
  consistent set; running it twice on the same data writes the same rows. Until someone
  recomputes a month, its snapshots do not move when sales are corrected.
- `customer_satisfaction_set` enters (or replaces) a partner's score for a month.
"""

from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from prm.audit import audit_record
from prm.models import AuditEntry
from prm.periods import Period, PeriodKind
from prm.roles import can_write_as_staff, is_integration

from . import kpis
from .models import CustomerSatisfaction, KpiSnapshot, PeriodComputation, SnapshotRun

BATCH_SIZE = 1000
SCORE_MAX = Decimal("100")


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


def _actor(by):
    """The user to record: a person, never an API key's stand-in."""
    if by is None or getattr(by, "api_key", None) is not None or not getattr(by, "is_authenticated", False):
        return None
    return by


def snapshots_compute(*, period, by=None, job_run=None):
    """Compute the KPIs of the month `period` for every partner and region and replace that
    month's snapshots atomically. Returns the SnapshotRun (who, when, rows written).

    The month's PeriodComputation row is created if missing and then locked for the whole
    computation: a second run of the same month waits and then computes from the data as it is
    then, replacing the first run's rows (never adding to them)."""
    _require_writer(by)
    month = _month(period)
    with transaction.atomic():
        PeriodComputation.objects.get_or_create(period=month.code, defaults={"period_start": month.start})
        computation = PeriodComputation.objects.select_for_update().get(period=month.code)
        run = SnapshotRun.objects.create(period=month.code, computed_by=_actor(by), job_run=job_run)
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
            defaults={"period_start": month.start, "score": score, "entered_by": _actor(by)},
        )
        before = None if created else str(entry.score)
        if not created:
            entry.score, entry.entered_by = score, _actor(by)
            entry.save()
        audit_record(
            instance=entry,
            action=AuditEntry.Action.CREATE if created else AuditEntry.Action.UPDATE,
            by=by,
            changes={"score": [before, str(score)]},
        )
    return entry
