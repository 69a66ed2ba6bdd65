"""Background jobs of sales. A task loads ids and calls a service."""

from celery import shared_task

from . import imports


@shared_task(autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def sales_import_run(run_id):
    """A large import started from a page (imports.sales_import_start): the same import, with its
    progress and its report recorded on the run."""
    report = imports.sales_import_run(run_id=run_id)
    return {"created": report.created, "updated": report.updated, "errors": len(report.errors)}
