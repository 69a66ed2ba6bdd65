"""Background jobs of incentives. A task loads ids and calls a service."""

from celery import shared_task
from django.utils import timezone

from prm.jobs import job_run
from prm.periods import Period, PeriodKind

from . import services


def closed_periods(today):
    """The periods that closed with the last month: that month, and its quarter and year when
    it ended them."""
    month = Period.containing(today).previous()
    closed = [month]
    for kind in (PeriodKind.QUARTER, PeriodKind.YEAR):
        period = Period.containing(month.start, kind)
        if period.end == month.end:
            closed.append(period)
    return closed


@shared_task(autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def rebate_statements_period_close(period=None):
    """Monthly (daily is harmless: idempotent): calculate the statements of the period that
    closed (the previous month, and its quarter and year when they closed with it), or of
    `period` when given. Approved and paid statements stay as they are."""
    periods = [Period.parse(period)] if period else closed_periods(timezone.localdate())
    results = {}
    with job_run("incentives.rebate_statements_period_close") as run:
        for each in periods:
            counts = services.statements_calculate_all(period=each)
            run.wrote(counts["calculated"])
            results[each.code] = counts
    return results


@shared_task(autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def rebate_statement_calculate(partner_id, period):
    """On demand: (re)calculate one partner's statement for `period`."""
    from partners.models import Partner

    with job_run("incentives.rebate_statement_calculate") as run:
        statement = services.statement_calculate(partner=Partner.objects.get(pk=partner_id), period=period)
        run.wrote(1)
        return statement.pk


@shared_task(autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def rebate_statements_run(run_id):
    """A run started from a page or the API (services.statement_run_start): one partner's
    statement or every partner's, for the run's period, with progress recorded on the run."""
    from partners.models import Partner
    from prm.models import JobRun

    run = JobRun.objects.select_related("started_by").get(pk=run_id)
    period, partner_id = run.params["period"], run.params.get("partner")
    with job_run(run.job, run_id=run.pk) as progress:
        if partner_id:
            progress.set_total(1)
            services.statement_calculate(partner=Partner.objects.get(pk=partner_id), period=period, by=run.started_by)
            progress.advance(1, rows=1)
            return {"calculated": 1}
        return services.statements_calculate_all(period=period, progress=progress)


@shared_task(autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def mdf_budgets_allocate(period=None):
    """Daily (idempotent): MDF budgets for the current period (settings.PRM_MDF_PERIOD long) from
    each partner's tier allowance of its previous period's revenue, or for `period` when given.
    Budgets set by hand stay as they are."""
    from django.conf import settings

    target = Period.parse(period) if period else Period.containing(timezone.localdate(), settings.PRM_MDF_PERIOD)
    with job_run("incentives.mdf_budgets_allocate") as run:
        counts = services.budgets_allocate_from_tiers(period=target)
        run.wrote(counts["created"] + counts["updated"])
        return {target.code: counts}
