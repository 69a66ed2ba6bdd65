"""Two computations of the same month at once, and a flag acknowledged meanwhile (PostgreSQL;
skipped on SQLite, which runs one writer at a time): one flag per region, never a duplicate, one
notification per manager, and the workflow kept."""

import pytest
from django.db import connection  # noqa: F401 - read by the skipif condition

from performance import services
from performance.choices import FlagStatus
from performance.models import PeriodComputation, RegionFlag
from prm.models import Notification
from tests.agreements.test_concurrency import run_at_once
from tests.factories import ChannelManagerFactory, ManagerRegionFactory

from .test_concurrency import default_template
from .world import MONTH, build

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif("connection.vendor != 'postgresql'", reason="needs concurrent writers (PostgreSQL)"),
]


def flags():
    return sorted(RegionFlag.objects.values_list("region__code", "status", "rules"))


def test_racing_month_runs_open_each_flag_once_and_tell_each_manager_once():
    world = build()
    default_template()
    manager = ChannelManagerFactory()
    ManagerRegionFactory(manager=manager, region=world.regions["C"])
    PeriodComputation.objects.all().delete()  # the runs also race to create the month's lock row

    results = run_at_once([lambda: services.month_compute(period=MONTH)] * 3)

    assert all(isinstance(result, services.MonthResult) for result in results), results
    assert sorted((result.flags_opened, result.flags_updated) for result in results) == [(0, 3), (0, 3), (3, 0)]
    assert len(flags()) == 3
    assert RegionFlag.objects.values("region").distinct().count() == 3
    assert Notification.objects.filter(recipient=manager).count() == 3


def test_a_flag_acknowledged_while_the_month_is_recomputed_stays_acknowledged():
    world = build()
    default_template()
    manager = ChannelManagerFactory()
    services.month_compute(period=MONTH)
    expected = flags()
    flag = RegionFlag.objects.get(region=world.regions["P"])

    results = run_at_once(
        [
            lambda: services.month_compute(period=MONTH),
            lambda: services.flag_acknowledge(flag=flag, by=manager),
            lambda: services.month_compute(period=MONTH),
        ]
    )

    assert not any(isinstance(result, Exception) for result in results), results
    flag.refresh_from_db()
    assert (flag.status, flag.acknowledged_by) == (FlagStatus.ACKNOWLEDGED, manager)
    assert [(code, rules) for code, _status, rules in flags()] == [(code, rules) for code, _s, rules in expected]
    assert RegionFlag.objects.count() == 3
