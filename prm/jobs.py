"""Run a background job and record the run: started, finished, rows written, error."""

from contextlib import contextmanager

from django.utils import timezone

from .models import JobRun


class JobProgress:
    def __init__(self, run):
        self.run = run

    def wrote(self, rows):
        self.run.rows_written += rows


@contextmanager
def job_run(name):
    """Context manager around one job execution; failures are recorded and re-raised."""
    run = JobRun.objects.create(job=name)
    progress = JobProgress(run)
    try:
        yield progress
    except Exception as exc:
        run.status = JobRun.Status.FAILED
        run.error = f"{type(exc).__name__}: {exc}"
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "error", "finished_at", "rows_written"])
        raise
    run.status = JobRun.Status.SUCCEEDED
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "finished_at", "rows_written"])
