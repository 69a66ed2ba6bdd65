"""Two runs of the same month at once (PostgreSQL; skipped on SQLite): they take turns on the
month's lock row and leave one consistent set of snapshots, without duplicates."""

from importlib import import_module

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


def default_template():
    """The default template the data migration installs (a transactional test flushed it)."""
    from performance.models import ScorecardTemplate

    if ScorecardTemplate.objects.filter(is_default=True).exists():
        return
    migration = import_module("performance.migrations.0004_default_scorecard_template")
    items = [dict(zip(("kpi", "weight", "floor", "target"), row, strict=True)) for row in migration.ITEMS]
    services.scorecard_template_save(template=ScorecardTemplate(name=migration.NAME, is_default=True), items=items)


def test_racing_scorecard_runs_leave_one_set_of_cards():
    from performance.models import RegionScorecard, Scorecard

    build()
    default_template()
    services.snapshots_compute(period=MONTH)
    services.scorecards_compute(period=MONTH)
    expected = sorted(Scorecard.objects.values_list("partner_id", "score", "grade", "rank_in_region"))
    regions = sorted(RegionScorecard.objects.values_list("region_id", "score"))

    results = run_at_once([lambda: services.scorecards_compute(period=MONTH)] * 4)

    assert all(result.scorecards == len(expected) for result in results), results
    assert sorted(Scorecard.objects.values_list("partner_id", "score", "grade", "rank_in_region")) == expected
    assert sorted(RegionScorecard.objects.values_list("region_id", "score")) == regions
