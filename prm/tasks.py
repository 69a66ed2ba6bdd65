"""Background jobs of the product's own plumbing (not of one business area)."""

from celery import shared_task

from .api.idempotency import idempotency_records_purge as records_purge
from .jobs import job_run
from .sync import tombstones_purge as purge_tombstones


@shared_task(autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def idempotency_records_purge():
    """Hourly: delete the answers kept for Idempotency-Key retries once they are older than
    `PRM_IDEMPOTENCY_TTL_HOURS`; such a key no longer replays. Idempotent."""
    with job_run("prm.idempotency_records_purge") as run:
        run.wrote(records_purge())
        return run.run.rows_written


@shared_task(autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def tombstones_purge():
    """Nightly: forget the tombstones of deleted rows older than PRM_TOMBSTONE_RETENTION_DAYS
    (prm.sync.tombstones_purge). Idempotent."""
    with job_run("prm.tombstones_purge") as run:
        run.wrote(purge_tombstones())
        return run.run.rows_written
