"""Background jobs of performance. A task loads ids and calls a service.

A month is computed by `performance.services.month_compute` (snapshots, scorecards, flags in
one transaction). With many regions (`PRM_PERFORMANCE_SPLIT_REGIONS` or more, and at least two
sales areas) the heavy part, reading every partner's figures from the sales lines, is split: a
Celery group reads one sales area each in parallel (`month_area_figures`), and a chord's callback
(`month_finish`) hands the parts to the same service, which writes the whole month at once. With
fewer regions the month is computed in one task."""

from celery import chord, shared_task
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import F
from django.utils import timezone

from partners.choices import RegionKind
from partners.models import Region
from prm.jobs import job_run
from prm.models import JobRun
from prm.periods import Period

from . import kpis, services

JOB_NAME = "performance.month_run"


def months_to_compute(today):
    """The nightly refresh computes the current month; on the 1st it also closes the month that
    just ended (its sales may have arrived until midnight)."""
    month = Period.containing(today)
    return [month.previous(), month] if today.day == 1 else [month]


def month_compute(month, progress, by=None, figures=None):
    """All of a month through the service, the counts added to the run:
    {"snapshots", "scorecards", "region_scorecards", "flags_opened", "flags_updated"}."""
    result = services.month_compute(period=month, by=by, job_run=progress.run, figures=figures)
    progress.wrote(result.rows)
    return result.as_dict()


def _areas():
    """The paths of the sales areas to read in parallel, or [] when the month is small enough to
    compute in one task."""
    if Region.objects.count() < settings.PRM_PERFORMANCE_SPLIT_REGIONS:
        return []
    paths = list(Region.objects.filter(kind=RegionKind.AREA).order_by("path").values_list("path", flat=True))
    # An area inside another is read with it.
    paths = [path for path in paths if not any(path != other and path.startswith(other) for other in paths)]
    return paths if len(paths) >= 2 else []


def _user(by_id):
    return get_user_model().objects.filter(pk=by_id).first() if by_id else None


def _same_queue(request):
    """{"queue": the queue this task was taken from}, so that the parts of a split month follow it
    (a worker that serves only that queue still gets them); {} when called directly or eagerly."""
    queue = (getattr(request, "delivery_info", None) or {}).get("routing_key")
    return {"queue": queue} if queue else {}


@shared_task(bind=True, autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def month_run(self, period, run_id=None, by_id=None):
    """Compute the month `period` ("2026-10") for the run `run_id` (queued by
    services.month_run_start, or a new one): in this task, or split per sales area into a
    group whose chord finishes the month (see the module), on the queue this task came from. A
    part that fails, or a chord that cannot be sent, fails the run (month_failed)."""
    areas = _areas()
    if not areas:
        with job_run(JOB_NAME, run_id=run_id) as progress:
            progress.set_total(1)
            return {period: month_compute(period, progress, by=_user(by_id))}
    run = JobRun.objects.filter(pk=run_id).first() if run_id else None
    if run is None:
        run = JobRun.objects.create(job=JOB_NAME, params={"period": period})
    run.status, run.started_at, run.total, run.done = JobRun.Status.RUNNING, timezone.now(), len(areas) + 2, 0
    run.save(update_fields=["status", "started_at", "total", "done", "updated_at"])
    queue = _same_queue(self.request)
    parts = [month_area_figures.s(period, path, run.pk).set(**queue) for path in areas]
    parts.append(month_area_figures.s(period, None, run.pk, others=areas).set(**queue))
    finish = month_finish.s(period, run.pk, by_id).set(**queue).on_error(month_failed.s(run_id=run.pk))
    try:
        chord(parts)(finish)
    except Exception as error:
        # Not sent (the broker is down), or run eagerly and a part failed: no errback will run.
        month_failed(error, run_id=run.pk)
        raise
    return {period: {"areas": len(areas)}}


@shared_task(autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def month_area_figures(period, path, run_id, others=()):
    """The partner figures of one sales area (or, with `path` None, of the partners under no
    area) for the month, as JSON for the chord's callback."""
    month = kpis.as_month(period)
    figures, paths = kpis.partner_figures(month, kpis.area_scope(path, others))
    JobRun.objects.filter(pk=run_id).update(done=F("done") + 1, updated_at=timezone.now())
    return kpis.figures_to_json(figures, paths)


@shared_task
def month_finish(parts, period, run_id, by_id=None):
    """The chord's callback: the whole month from the areas' figures, in one transaction."""
    with job_run(JOB_NAME, run_id=run_id) as progress:
        figures = kpis.figures_from_json(parts)
        return {period: month_compute(period, progress, by=_user(by_id), figures=figures)}


@shared_task
def month_failed(*args, run_id=None, **kwargs):
    """A part of a split month failed: the run says so (the month's figures are unchanged)."""
    error = next((arg for arg in args if isinstance(arg, BaseException)), None)
    JobRun.objects.filter(pk=run_id).exclude(status=JobRun.Status.SUCCEEDED).update(
        status=JobRun.Status.FAILED,
        error=f"{type(error).__name__}: {error}" if error else "A part of the computation failed.",
        finished_at=timezone.now(),
        updated_at=timezone.now(),
    )


@shared_task(autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def kpi_snapshots_compute(period=None):
    """Nightly (idempotent): compute the current month (and, on the 1st, close the month that
    ended), or the month `period` ("2026-10") when given: its KPI snapshots, scorecards and
    region flags, each month through month_run (split per area when large)."""
    months = [Period.parse(period)] if period else months_to_compute(timezone.localdate())
    result = {}
    for month in months:
        result.update(month_run(month.code))
    return result
