"""Computing a month's snapshots: explicit, recorded (who and when), atomic, idempotent, in a
fixed number of queries; and entering customer satisfaction."""

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agreements.models import AgreementTarget, MinimumPrice
from performance import services
from performance.choices import Kpi
from performance.models import CustomerSatisfaction, KpiSnapshot, PeriodComputation, SnapshotRun
from prm.models import AuditEntry
from tests.factories import (
    AgreementFactory,
    AnalystFactory,
    ChannelManagerFactory,
    PartnerContactFactory,
    PartnerFactory,
    RegionFactory,
    TrainingRecordFactory,
)

from .world import MONTH, D, build, sell, values

pytestmark = pytest.mark.django_db


def stored():
    rows = KpiSnapshot.objects.values_list("partner_id", "region_id", "period", "kpi", "value")
    return sorted(rows, key=lambda row: (row[0] or 0, row[1] or 0, row[2], row[3]))


def test_history_stays_until_a_recompute_which_records_who_and_when():
    world = build()
    first = services.snapshots_compute(period=MONTH)
    sell(world.a, date(2026, 3, 9), 1, "500.00")  # a late correction of March

    assert values(partner=world.a)[Kpi.REVENUE] == D("2000.00")  # history does not move by itself

    manager = ChannelManagerFactory()
    second = services.snapshots_compute(period=MONTH, by=manager)

    assert values(partner=world.a)[Kpi.REVENUE] == D("2500.00")
    assert (second.computed_by, second.period, second.rows) == (manager, MONTH, KpiSnapshot.objects.count())
    assert second.started_at >= first.started_at and second.finished_at is not None
    assert first.computed_by is None  # the system
    computation = PeriodComputation.objects.get(period=MONTH)
    assert (computation.current_run, computation.computations) == (second, 2)
    assert set(KpiSnapshot.objects.values_list("run_id", flat=True)) == {second.pk}  # replaced, not added
    assert SnapshotRun.objects.filter(period=MONTH).count() == 2


def test_running_twice_on_the_same_data_gives_the_same_rows():
    build()
    services.snapshots_compute(period=MONTH)
    once = stored()
    services.snapshots_compute(period=MONTH)
    assert stored() == once
    assert KpiSnapshot.objects.count() == len(once)


def test_other_months_are_left_alone():
    world = build()
    services.snapshots_compute(period="2026-02")
    february = stored()
    services.snapshots_compute(period=MONTH)
    assert [row for row in stored() if row[2] == "2026-02"] == february
    assert values(partner=world.a, period="2026-02")[Kpi.REVENUE] == D("1600.00")


def test_a_failed_recompute_keeps_the_previous_snapshots(monkeypatch):
    build()
    services.snapshots_compute(period=MONTH)
    before = stored()

    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "_insert_snapshots", fail)
    with pytest.raises(RuntimeError):
        services.snapshots_compute(period=MONTH)

    assert stored() == before
    assert PeriodComputation.objects.get(period=MONTH).computations == 1
    assert SnapshotRun.objects.count() == 1


@pytest.mark.parametrize("period", ["2026-Q1", "2026", "March", "", "2026-13"])
def test_only_a_month_can_be_computed(period):
    with pytest.raises(ValidationError) as error:
        services.snapshots_compute(period=period)
    assert "period" in error.value.message_dict
    assert not SnapshotRun.objects.exists()


def test_an_analyst_cannot_recompute():
    with pytest.raises(PermissionDenied):
        services.snapshots_compute(period=MONTH, by=AnalystFactory())
    assert not SnapshotRun.objects.exists()


def busy_partners(count):
    """`count` partners in one region tree, each with every source a KPI reads."""
    top = RegionFactory()
    for index in range(count):
        partner = PartnerFactory(region=RegionFactory(parent=top))
        agreement = AgreementFactory(
            partner=partner, start_date=date(2026, 1, 1), end_date=date(2026, 12, 31), territories=[partner.region]
        )
        line = sell(partner, date(2026, 3, 3), 2, "50.00", customer=f"c{index}", region=top).product_line
        sell(partner, date(2026, 2, 3), 1, "50.00")
        MinimumPrice.objects.create(agreement=agreement, product_line=line, min_unit_price=D("60.00"))
        AgreementTarget.objects.create(agreement=agreement, period="2026-Q1", revenue=D("900.00"))
        TrainingRecordFactory(
            contact=PartnerContactFactory(partner=partner), passed=True, completed_on=date(2026, 3, 1)
        )
        CustomerSatisfaction.objects.create(partner=partner, period=MONTH, score=D("80"))


def queries_to_compute():
    with CaptureQueriesContext(connection) as queries:
        services.snapshots_compute(period=MONTH)
    return len(queries)


def test_the_number_of_queries_does_not_grow_with_the_partners(django_assert_max_num_queries):
    busy_partners(2)
    few = queries_to_compute()
    KpiSnapshot.objects.all().delete()
    busy_partners(10)
    with django_assert_max_num_queries(few):
        services.snapshots_compute(period=MONTH)
    assert KpiSnapshot.objects.for_partners().values("partner").distinct().count() == 12
    assert few <= 26  # one INSERT … SELECT records the replaced snapshots' tombstones


# Customer satisfaction --------------------------------------------------------------------------


def test_entering_a_score_twice_replaces_it_and_records_both():
    partner, manager = PartnerFactory(), ChannelManagerFactory()
    services.customer_satisfaction_set(partner=partner, period=MONTH, score="82.5", by=manager)
    entry = services.customer_satisfaction_set(partner=partner, period=MONTH, score=D("90"), by=manager)

    assert CustomerSatisfaction.objects.get() == entry
    assert (entry.score, entry.entered_by, entry.period_start) == (D("90.00"), manager, date(2026, 3, 1))
    history = AuditEntry.objects.filter(object_type="performance.customersatisfaction").order_by("at", "id")
    assert [row.changes["score"] for row in history] == [[None, "82.50"], ["82.50", "90.00"]]


@pytest.mark.parametrize(
    ("score", "field"),
    [("101", "score"), ("-1", "score"), ("abc", "score"), ("NaN", "score"), ("86.555", "score")],
)
def test_a_bad_score_is_refused_and_nothing_is_written(score, field):
    with pytest.raises(ValidationError) as error:
        services.customer_satisfaction_set(partner=PartnerFactory(), period=MONTH, score=score)
    assert field in error.value.message_dict
    assert not CustomerSatisfaction.objects.exists()


def test_a_score_is_for_a_month():
    with pytest.raises(ValidationError) as error:
        services.customer_satisfaction_set(partner=PartnerFactory(), period="2026-Q1", score="80")
    assert error.value.message_dict == {"period": ["Enter a month, such as 2026-10."]}


def test_an_analyst_cannot_enter_a_score():
    with pytest.raises(PermissionDenied):
        services.customer_satisfaction_set(partner=PartnerFactory(), period=MONTH, score="80", by=AnalystFactory())


def test_a_snapshot_belongs_to_a_partner_or_a_region_never_both():
    from django.db import IntegrityError, transaction

    build()
    run = services.snapshots_compute(period=MONTH)
    partner = PartnerFactory()
    for subject in ({}, {"partner": partner, "region": partner.region}):
        with pytest.raises(IntegrityError), transaction.atomic():
            KpiSnapshot.objects.create(
                period="2030-01", kpi=Kpi.REVENUE, value=D("1"), computed_at=run.started_at, run=run, **subject
            )
