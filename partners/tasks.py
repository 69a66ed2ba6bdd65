"""Background jobs of the partner registry. A task loads ids and calls a service."""

from celery import shared_task

from prm.jobs import job_run

from . import maintenance


@shared_task(autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def region_paths_rebuild():
    """Nightly: recompute region and network paths from the parent links, fixing any drift
    (for example after rows were edited directly in the database). Idempotent."""
    with job_run("partners.region_paths_rebuild") as run:
        run.wrote(maintenance.tree_paths_rebuild())
        return run.run.rows_written
