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


@shared_task(autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def kpi_snapshots_compute(period=None):
    """Nightly (idempotent): compute the KPI snapshots of the current month (and, on the 1st, of
    the month that closed), or of the month `period` ("2026-10") when given."""
    months = [Period.parse(period)] if period else months_to_compute(timezone.localdate())
    results = {}
    with job_run("performance.kpi_snapshots_compute") as progress:
        for month in months:
            run = services.snapshots_compute(period=month, job_run=progress.run)
            progress.wrote(run.rows)
            results[month.code] = run.rows
    return results
