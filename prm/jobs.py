"""Run a background job and record the run: started, finished, rows written, error; and, for a
run started from a page, its progress (`done` of `total` steps), which the page polls through
`/jobs/<id>/` (prm.views.JobRunStatusView, `includes/job_progress.html`)."""

from contextlib import contextmanager

from django.core.exceptions import ValidationError
from django.utils import timezone

from .audit import acting_user
from .models import JobRun


class JobProgress:
    def __init__(self, run):
        self.run = run

    def wrote(self, rows):
        self.run.rows_written += rows

    def set_total(self, total):
        """How many steps the run will take; saved at once so the page can show a bar."""
        self.run.total = total
        self.run.save(update_fields=["total", "updated_at"])

    def advance(self, steps=1, rows=0):
        """Record finished steps (and rows written by them) so the page sees them now."""
        self.run.done += steps
        self.run.rows_written += rows
        self.run.save(update_fields=["done", "rows_written", "updated_at"])


def job_queue(name, *, by=None, params=None):
    """Record a run about to be sent to the worker, so the page that started it can show it
    queued, then running, then done. Pass its id to the task, which calls `job_run(name, run_id=...)`."""
    return JobRun.objects.create(job=name, status=JobRun.Status.QUEUED, params=params or {}, started_by=acting_user(by))


@contextmanager
def job_run(name, run_id=None):
    """Context manager around one job execution; failures are recorded and re-raised. With
    `run_id`, continues the run that `job_queue` recorded."""
    run = JobRun.objects.filter(pk=run_id).first() if run_id else None
    if run is None:
        run = JobRun.objects.create(job=name)
    else:
        run.status = JobRun.Status.RUNNING
        run.started_at = timezone.now()
        run.save(update_fields=["status", "started_at", "updated_at"])
    progress = JobProgress(run)
    try:
        yield progress
    except Exception as exc:
        run.status = JobRun.Status.FAILED
        # A refusal by a service reads as its message; anything else names the exception too.
        run.error = "; ".join(exc.messages) if isinstance(exc, ValidationError) else f"{type(exc).__name__}: {exc}"
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "error", "finished_at", "rows_written", "done", "updated_at"])
        raise
    run.status = JobRun.Status.SUCCEEDED
    run.finished_at = timezone.now()
    if run.total is not None:
        run.done = run.total
    run.save(update_fields=["status", "finished_at", "rows_written", "done", "updated_at"])
