"""Background jobs of training. A task loads ids and calls a service."""

from celery import shared_task

from prm.jobs import job_run

from . import services


@shared_task(autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def certifications_expiry_run():
    """Daily: mark lapsed certifications expired, and remind the people and their partner's
    admins 60 and 30 days before a certification expires. Idempotent (see
    services.certifications_expiry_run)."""
    with job_run("training.certifications_expiry_run") as run:
        counts = services.certifications_expiry_run()
        run.wrote(counts["expired"] + counts["reminders"])
        return counts
