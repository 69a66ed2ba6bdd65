"""The nightly job and `manage.py compute_scorecards` go through the same services (snapshots,
then scorecards) and are recorded."""

from datetime import date
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from performance import tasks
from performance.models import KpiSnapshot, RegionFlag, RegionScorecard, Scorecard, SnapshotRun
from prm.models import JobRun
from prm.periods import Period

from .world import MONTH, build

pytestmark = pytest.mark.django_db


def test_the_task_computes_a_month_then_its_scorecards_and_records_the_run():
    build()
    result = tasks.kpi_snapshots_compute.apply(kwargs={"period": MONTH}).get()

    job = JobRun.objects.get(job="performance.month_run")
    rows = KpiSnapshot.objects.filter(period=MONTH).count()
    flags = RegionFlag.objects.filter(period=MONTH).count()
    assert result == {
        MONTH: {
            "snapshots": rows,
            "scorecards": 3,
            "region_scorecards": 4,
            "flags_opened": flags,
            "flags_updated": 0,
        }
    }
    assert Scorecard.objects.filter(period=MONTH).count() == 3
    assert RegionScorecard.objects.filter(period=MONTH).count() == 4
    assert (job.status, job.rows_written) == (JobRun.Status.SUCCEEDED, rows + 3 + 4 + flags)
    assert SnapshotRun.objects.get().job_run == job


def test_a_bad_period_fails_the_run_with_its_reason():
    with pytest.raises(Exception):  # noqa: B017 - the task re-raises; the run keeps the reason
        tasks.kpi_snapshots_compute.apply(kwargs={"period": "2026-Q1"}).get()
    job = JobRun.objects.get(job="performance.month_run")
    assert job.status == JobRun.Status.FAILED
    assert "month" in job.error


def test_the_nightly_run_refreshes_this_month_and_closes_the_last_on_the_first():
    assert tasks.months_to_compute(date(2026, 10, 15)) == [Period.month(2026, 10)]
    assert tasks.months_to_compute(date(2026, 1, 1)) == [Period.month(2025, 12), Period.month(2026, 1)]


def test_the_job_is_scheduled_every_night():
    entry = settings.CELERY_BEAT_SCHEDULE["performance-kpi-snapshots-compute"]
    assert entry["task"] == "performance.tasks.kpi_snapshots_compute"
    assert (entry["schedule"].hour, entry["schedule"].minute) == ({1}, {30})


def test_the_command_computes_the_month_and_its_scorecards():
    build()
    out = StringIO()
    call_command("compute_scorecards", "--period", MONTH, stdout=out)
    rows = KpiSnapshot.objects.filter(period=MONTH).count()
    assert rows > 0
    flags = RegionFlag.objects.filter(period=MONTH).count()
    assert out.getvalue().strip() == (
        f"Computed {rows} KPI snapshots, 3 partner scorecards and 4 region scorecards for {MONTH}; "
        f"{flags} region flags opened, 0 updated."
    )
    assert JobRun.objects.get(job="performance.compute_scorecards").rows_written == rows + 3 + 4 + flags


@pytest.mark.parametrize("period", ["2026-Q4", "October"])
def test_the_command_refuses_anything_but_a_month(period):
    with pytest.raises(CommandError):
        call_command("compute_scorecards", "--period", period, stdout=StringIO())
    assert not KpiSnapshot.objects.exists()
    assert not Scorecard.objects.exists()
