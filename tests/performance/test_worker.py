"""A month split per sales area through a real Celery worker process: the group of area parts,
the chord that joins them (over Redis when REDIS_URL is set; over the file-system broker and the
file:// result backend otherwise, where the chord is joined by Celery's chord_unlock polling task),
JSON serialisation of the parts, and the database."""

import pytest

from performance import tasks
from performance.models import KpiSnapshot, RegionFlag, Scorecard
from prm.models import JobRun
from tests.prm.test_worker import worker  # noqa: F401 - the fixture

from .test_month_split import area_world
from .world import MONTH

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker_env():
    """The worker splits every month with two sales areas or more."""
    return {"PRM_PERFORMANCE_SPLIT_REGIONS": "0"}


@pytest.fixture
def default_template():
    from .test_concurrency import default_template as install

    install()


def test_a_month_split_per_area_runs_through_a_real_worker(worker, default_template):  # noqa: F811
    area_world()

    result = tasks.month_run.apply_async((MONTH,), queue=worker).get(timeout=120)

    assert result == {MONTH: {"areas": 2}}
    run = JobRun.objects.get(job=tasks.JOB_NAME)
    # The chord's callback finishes the run after month_run has returned: wait for it.
    finish = _wait_for(lambda: JobRun.objects.filter(pk=run.pk).exclude(status=JobRun.Status.RUNNING).first())
    assert (finish.status, finish.error, finish.done, finish.total) == (JobRun.Status.SUCCEEDED, "", 4, 4)
    assert Scorecard.objects.filter(period=MONTH).count() == 5
    assert RegionFlag.objects.filter(period=MONTH).count() >= 2
    assert finish.rows_written > KpiSnapshot.objects.count() > 0


def test_a_failing_part_fails_the_run_through_the_chords_errback(worker, default_template):  # noqa: F811
    area_world()

    tasks.month_run.apply_async(("2026-Q1",), queue=worker).get(timeout=120)

    run = JobRun.objects.get(job=tasks.JOB_NAME)
    finish = _wait_for(lambda: JobRun.objects.filter(pk=run.pk).exclude(status=JobRun.Status.RUNNING).first())
    assert finish.status == JobRun.Status.FAILED
    assert "KPI snapshots are computed per month" in finish.error
    assert not KpiSnapshot.objects.exists()


def _wait_for(read, timeout=120):
    """Poll the database until `read()` returns something (the worker writes it)."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = read()
        if value is not None:
            return value
        time.sleep(0.5)
    raise AssertionError("the worker did not finish in time")
