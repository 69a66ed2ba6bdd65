"""Background jobs of performance. A task loads ids and calls a service."""

from celery import shared_task
from django.utils import timezone

from prm.jobs import job_run
from prm.periods import Period

from . import services


def months_to_compute(today):
    """The nightly refresh computes the current month; on the 1st it also closes the month that
    just ended (its sales may have arrived until midnight)."""
    month = Period.containing(today)
    return [month.previous(), month] if today.day == 1 else [month]


def month_compute(month, progress):
    """A month's KPI snapshots, then its scorecards from them: {"snapshots": rows,
    "scorecards": partners scored, "region_scorecards": regions scored}."""
    run = services.snapshots_compute(period=month, job_run=progress.run)
    cards = services.scorecards_compute(period=month)
    progress.wrote(run.rows + cards.scorecards + cards.region_scorecards)
    return {"snapshots": run.rows, "scorecards": cards.scorecards, "region_scorecards": cards.region_scorecards}


@shared_task(autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def kpi_snapshots_compute(period=None):
    """Nightly (idempotent): compute the KPI snapshots and then the scorecards of the current
    month (and, on the 1st, of the month that closed), or of the month `period` ("2026-10")
    when given. {month: {"snapshots", "scorecards", "region_scorecards"}}."""
    months = [Period.parse(period)] if period else months_to_compute(timezone.localdate())
    with job_run("performance.kpi_snapshots_compute") as progress:
        return {month.code: month_compute(month, progress) for month in months}
