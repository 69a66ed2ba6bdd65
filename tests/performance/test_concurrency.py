"""Two runs of the same month at once (PostgreSQL; skipped on SQLite): they take turns on the
month's lock row and leave one consistent set of snapshots, without duplicates."""

import pytest
from django.db import connection  # noqa: F401 - read by the skipif condition

from performance import services
from performance.models import KpiSnapshot, PeriodComputation, SnapshotRun
from tests.agreements.test_concurrency import run_at_once

from .world import MONTH, build

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif("connection.vendor != 'postgresql'", reason="needs concurrent writers (PostgreSQL)"),
]


def stored():
    rows = KpiSnapshot.objects.values_list("partner_id", "region_id", "kpi", "value")
    return sorted(rows, key=lambda row: (row[0] or 0, row[1] or 0, row[2]))


def test_racing_runs_of_a_month_leave_one_consistent_set():
    build()
    services.snapshots_compute(period=MONTH)
    expected = stored()
    KpiSnapshot.objects.all().delete()
    SnapshotRun.objects.all().delete()
    PeriodComputation.objects.all().delete()  # the first runs also race to create the lock row

    results = run_at_once([lambda: services.snapshots_compute(period=MONTH)] * 4)

    assert all(isinstance(result, SnapshotRun) for result in results), results
    assert stored() == expected
    current = PeriodComputation.objects.get(period=MONTH)
    assert current.computations == 4
    assert set(KpiSnapshot.objects.values_list("run_id", flat=True)) == {current.current_run_id}
