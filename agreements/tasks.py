"""Background jobs of agreements. A task loads ids and calls a service."""

from celery import shared_task

from prm.jobs import job_run

from . import services


@shared_task(autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def agreements_expiry_run():
    """Daily: expire agreements past their end, and remind their managers and partner admins 90,
    60 and 30 days before the end. Idempotent (see services.agreements_expiry_run)."""
    with job_run("agreements.expiry_run") as run:
        counts = services.agreements_expiry_run()
        run.wrote(counts["expired"] + counts["notices"])
        return counts
