"""A month computed in parts, one sales area each (a Celery group joined by a chord), gives exactly
the rows of the month computed in one go: snapshots, scorecards, region scorecards and flags,
partners under no area included. The parts' figures cross the broker as JSON without losing a
digit; a part that fails fails the run and leaves the month as it was."""

import json
from datetime import date
from decimal import Decimal

import pytest
from celery.exceptions import ChordError
from hypothesis import given
from hypothesis import strategies as st

from partners.choices import RegionKind
from partners.models import Region
from performance import kpis, services, tasks
from performance.models import KpiSnapshot, RegionFlag, RegionScorecard, Scorecard
from prm.models import JobRun
from prm.periods import Period
from tests.factories import AgreementFactory, ChannelManagerFactory, PartnerFactory, RegionFactory

from .world import MONTH, D, build, sell

pytestmark = pytest.mark.django_db


@pytest.fixture
def eager():
    """Celery runs tasks, groups and chords in this process, at once."""
    from prm.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


@pytest.fixture
def split(settings):
    settings.PRM_PERFORMANCE_SPLIT_REGIONS = 0


def area_world():
    """world.py with its provinces P and Q made sales areas (and city X an area inside P, read
    with it), plus partners under no area: E in country C itself and F in province R (C → R)."""
    world = build()
    regions = world.regions
    Region.objects.filter(pk__in=[regions[code].pk for code in "PQX"]).update(kind=RegionKind.AREA)
    r = RegionFactory(code="R", parent=regions["C"])
    e, f = PartnerFactory(region=regions["C"]), PartnerFactory(region=r)
    AgreementFactory(partner=e, start_date=date(2026, 1, 1), end_date=date(2026, 12, 31), territories=[r])
    sell(e, date(2026, 3, 5), 3, "70.00", customer="e1", region=regions["Z"])
    sell(e, date(2026, 2, 5), 4, "70.00", customer="e1", region=r)
    sell(f, date(2026, 3, 6), 1, "999.99", customer="f1", region=r)
    return world


def everything():
    """Every row the month wrote, without ids of the runs or times."""

    def key(row):
        return tuple(-1 if value is None else value for value in row[:3])

    snapshots = sorted(KpiSnapshot.objects.values_list("partner_id", "region_id", "kpi", "value"), key=key)
    cards = sorted(Scorecard.objects.values_list("partner_id", "score", "grade", "rank_in_region", "rank_in_tier"))
    regions = sorted(RegionScorecard.objects.values_list("region_id", "score", "grade", "partners", "revenue"))
    flags = sorted(
        RegionFlag.objects.values_list("region_id", "status", "is_firing", "rules", "findings"), key=lambda r: r[0]
    )
    return {"snapshots": snapshots, "scorecards": cards, "region_scorecards": regions, "flags": flags}


def forget_the_month():
    for model in (KpiSnapshot, Scorecard, RegionScorecard, RegionFlag):
        model.objects.all().delete()


def test_the_areas_read_in_parallel_are_the_outermost_ones(split):
    world = area_world()
    assert tasks._areas() == [world.regions["P"].path, world.regions["Q"].path]


def test_the_parts_cover_every_partner_of_the_month_exactly_once():
    world = area_world()
    month = Period.parse(MONTH)
    areas = [world.regions["P"].path, world.regions["Q"].path]
    whole = kpis.partner_figures(month)[0]
    parts = [kpis.partner_figures(month, kpis.area_scope(path))[0] for path in areas]
    parts.append(kpis.partner_figures(month, kpis.area_scope(None, areas))[0])
    ids = [pk for part in parts for pk in part]
    assert sorted(ids) == sorted(whole) and len(ids) == len(set(ids)) == 5
    assert {pk: figure for part in parts for pk, figure in part.items()} == whole


def test_a_month_split_per_area_writes_exactly_what_the_whole_month_writes(eager, split):
    area_world()
    services.month_compute(period=MONTH)
    expected = everything()
    assert len(expected["flags"]) >= 2 and len(expected["scorecards"]) == 5
    forget_the_month()

    result = tasks.month_run.delay(MONTH).get()

    assert result == {MONTH: {"areas": 2}}
    assert everything() == expected
    run = JobRun.objects.get(job=tasks.JOB_NAME)
    assert (run.status, run.done, run.total, run.error) == (JobRun.Status.SUCCEEDED, 4, 4, "")
    total = sum(len(rows) for name, rows in expected.items())
    assert run.rows_written == total


def test_a_month_started_from_a_page_is_queued_then_split_and_succeeds(
    eager, split, django_capture_on_commit_callbacks
):
    area_world()
    manager = ChannelManagerFactory()
    with django_capture_on_commit_callbacks() as callbacks:
        run = services.month_run_start(period=MONTH, by=manager)
        assert (run.status, run.params, run.started_by) == (JobRun.Status.QUEUED, {"period": MONTH}, manager)
    assert len(callbacks) == 1
    assert not KpiSnapshot.objects.exists()  # nothing ran before the commit

    callbacks[0]()

    run.refresh_from_db()
    assert run.status == JobRun.Status.SUCCEEDED
    flags = RegionFlag.objects.count()
    assert flags >= 2
    assert run.rows_written == KpiSnapshot.objects.count() + 5 + RegionScorecard.objects.count() + flags
    assert KpiSnapshot.objects.values_list("run__computed_by", flat=True).distinct().get() == manager.pk


def test_a_failing_area_fails_the_run_and_leaves_the_month_as_it_was(eager, split, monkeypatch):
    world = area_world()
    services.month_compute(period=MONTH)
    before = everything()
    broken = world.regions["Q"].path
    scope = kpis.area_scope

    def area_scope(path, others=()):
        if path == broken:
            raise RuntimeError("the area's database is away")
        return scope(path, others)

    monkeypatch.setattr(kpis, "area_scope", area_scope)

    with pytest.raises(RuntimeError):
        tasks.month_run.delay(MONTH).get()

    run = JobRun.objects.get(job=tasks.JOB_NAME)
    assert run.status == JobRun.Status.FAILED
    assert run.error == "RuntimeError: the area's database is away"
    assert run.finished_at is not None
    assert everything() == before


def test_the_chords_errback_fails_the_run_as_a_worker_calls_it():
    # A worker calls a task errback that takes several arguments as (request, exc, traceback).
    run = JobRun.objects.create(job=tasks.JOB_NAME, status=JobRun.Status.RUNNING)
    done = JobRun.objects.create(job=tasks.JOB_NAME, status=JobRun.Status.SUCCEEDED)
    error = ChordError("Dependency abc raised ValueError('bad')")
    tasks.month_failed.s(run_id=run.pk)(object(), error, None)
    tasks.month_failed.s(run_id=done.pk)(object(), error, None)
    run.refresh_from_db()
    done.refresh_from_db()
    assert (run.status, run.error) == (JobRun.Status.FAILED, "ChordError: Dependency abc raised ValueError('bad')")
    assert done.status == JobRun.Status.SUCCEEDED


def test_with_fewer_regions_than_the_setting_the_month_is_one_task(eager):
    area_world()
    result = tasks.month_run.delay(MONTH).get()
    assert result[MONTH]["scorecards"] == 5


# The figures crossing the broker -------------------------------------------------------------------

money = st.decimals(min_value=-(10**9), max_value=10**9, places=2, allow_nan=False, allow_infinity=False)
units = st.decimals(min_value=0, max_value=10**9, places=3, allow_nan=False, allow_infinity=False)
count = st.integers(min_value=0, max_value=10**6)
figures = st.builds(
    kpis.Figures,
    revenue=money,
    units=units,
    revenue_prev=money,
    revenue_ly=money,
    customers=count,
    outside=money,
    below_minimum=money,
    has_territory=st.booleans(),
    target=st.none() | money,
    certified=count,
    passed=count,
    finished=count,
    spend=money,
    scores=st.lists(st.decimals(min_value=0, max_value=100, places=2), max_size=2),
)
paths = st.none() | st.lists(st.integers(1, 10**6), min_size=1, max_size=4).map(
    lambda ids: "/" + "".join(f"{pk}/" for pk in ids)
)


@given(st.lists(st.dictionaries(st.integers(1, 10**6), st.tuples(figures, paths), max_size=5), max_size=3))
def test_figures_cross_the_broker_as_json_without_losing_a_digit(areas):
    parts, expected_figures, expected_paths = [], {}, {}
    for area in areas:
        area_figures = {pk: figure for pk, (figure, _path) in area.items()}
        area_paths = {pk: path for pk, (_figure, path) in area.items()}
        parts.append(json.loads(json.dumps(kpis.figures_to_json(area_figures, area_paths))))
        expected_figures.update(area_figures)
        expected_paths.update(area_paths)

    figures_back, paths_back = kpis.figures_from_json(parts)

    assert figures_back == expected_figures
    assert paths_back == expected_paths
    for pk, figure in figures_back.items():  # the same digits, not only equal values
        for name in kpis.Figures.SUMMED + ("target",):
            assert str(getattr(figure, name)) == str(getattr(expected_figures[pk], name))
        assert [str(score) for score in figure.scores] == [str(score) for score in expected_figures[pk].scores]
        assert isinstance(figure.customers, int) and isinstance(figure.revenue, Decimal)


def test_a_partner_with_no_sales_and_a_zero_target_round_trips():
    figure = kpis.Figures(target=D("0.00"), scores=[D("70.00")])
    back, paths = kpis.figures_from_json([json.loads(json.dumps(kpis.figures_to_json({7: figure}, {7: None})))])
    assert back == {7: figure} and paths == {7: None}
