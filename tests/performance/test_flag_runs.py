"""Region flags as months are (re)computed: a rerun keeps each flag and its workflow and only
refreshes its findings, a flag whose rules stop firing stays (marked so) and fires again later, the
managers of a newly flagged region are told once; editing a rule's threshold; and a fixed number of
queries whatever the numbers of partners and regions.

The month is world.py's (March 2026), where month_compute flags three regions: country C (score
55.67 < 60), province P (attainment 3,000 / 5,000 = 0.6; score 55.67) and city X (score 33.5;
cross-territory 400 / 2,000 = 0.2). City X's attainment is exactly 0.8: not flagged for it."""

import sqlite3
from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from agreements.models import AgreementTarget
from performance import services
from performance.choices import FlagRuleCode, FlagStatus, Measure
from performance.models import FlagRule, RegionFlag
from prm.models import AuditEntry, Notification
from tests.factories import (
    AgreementFactory,
    AnalystFactory,
    ChannelManagerFactory,
    ManagerRegionFactory,
    PartnerFactory,
    RegionFactory,
)

from . import flag_world
from .world import MONTH, D, build, sell

pytestmark = pytest.mark.django_db


def flags():
    """{region code: (status, is_firing, rules)} of the month's flags."""
    return {
        flag.region.code: (flag.status, flag.is_firing, flag.rules)
        for flag in RegionFlag.objects.filter(period=MONTH).select_related("region")
    }


FLAGGED = {
    "C": (FlagStatus.OPEN, True, ["score_below"]),
    "P": (FlagStatus.OPEN, True, ["attainment_below", "score_below"]),
    "X": (FlagStatus.OPEN, True, ["score_below", "cross_territory_above"]),
}


@pytest.fixture
def world():
    return build()


def test_the_month_flags_the_regions_its_rules_find(world):
    result = services.month_compute(period=MONTH)
    assert (result.flags_opened, result.flags_updated) == (3, 0)
    assert flags() == FLAGGED
    p = RegionFlag.objects.get(region=world.regions["P"])
    assert p.findings[0] == {
        "rule": "attainment_below",
        "threshold": "0.8",
        "figures": {"target_attainment": "0.6", "revenue": "3000.00", "revenue_target": "5000.00"},
        "partners": [{"id": world.a.pk, "code": world.a.code, "name": world.a.name, "figure": "500.00"}],
    }
    assert (p.period_start, p.opened_at) == (date(2026, 3, 1), p.evaluated_at)


def test_a_rerun_keeps_the_same_flags_without_duplicates(world):
    services.month_compute(period=MONTH)
    before = list(RegionFlag.objects.order_by("pk").values("pk", "region", "findings", "rules", "opened_at"))

    result = services.month_compute(period=MONTH)

    assert (result.flags_opened, result.flags_updated) == (0, 3)
    assert list(RegionFlag.objects.order_by("pk").values("pk", "region", "findings", "rules", "opened_at")) == before


def test_a_rerun_keeps_the_workflow_and_the_plan_and_refreshes_the_findings(world):
    manager = ChannelManagerFactory()
    services.month_compute(period=MONTH)
    p = services.flag_acknowledge(flag=RegionFlag.objects.get(region=world.regions["P"]), by=manager)
    x = services.flag_acknowledge(flag=RegionFlag.objects.get(region=world.regions["X"]), by=manager)
    due = timezone.localdate() + timedelta(days=10)
    services.flag_plan(flag=x, measures=[Measure.TRAINING], owner=manager, due_date=due, plan="Coach", by=manager)
    # B sells 600.00 more in March: P's revenue becomes 3,600.00, its attainment 0.72.
    sell(world.b, date(2026, 3, 21), 6, "100.00", customer="b2")

    services.month_compute(period=MONTH)

    p.refresh_from_db()
    x.refresh_from_db()
    assert (p.status, p.acknowledged_by) == (FlagStatus.ACKNOWLEDGED, manager)
    assert p.findings[0]["figures"] == {"target_attainment": "0.72", "revenue": "3600.00", "revenue_target": "5000.00"}
    assert (x.status, x.measures, x.owner, x.due_date, x.plan) == (
        FlagStatus.ACTION_PLAN,
        ["training"],
        manager,
        due,
        "Coach",
    )
    assert RegionFlag.objects.count() == 3


def test_a_flag_whose_rules_stop_firing_is_kept_and_fires_again_later(world):
    manager = ChannelManagerFactory()
    ManagerRegionFactory(manager=manager, region=world.regions["C"])
    services.month_compute(period=MONTH)
    x = services.flag_acknowledge(flag=RegionFlag.objects.get(region=world.regions["X"]), by=manager)
    opened = x.opened_at
    first = flags()

    services.flag_rule_save(code=FlagRuleCode.SCORE, threshold="30")
    services.flag_rule_save(code=FlagRuleCode.CROSS_TERRITORY, threshold="0.2")
    result = services.month_compute(period=MONTH)

    assert (result.flags_opened, result.flags_updated) == (0, 3)
    assert flags() == {
        # Kept with the findings of the last time their rules fired.
        "C": (FlagStatus.OPEN, False, first["C"][2]),
        "P": (FlagStatus.OPEN, True, ["attainment_below"]),
        "X": (FlagStatus.ACKNOWLEDGED, False, first["X"][2]),
    }

    services.flag_rule_save(code=FlagRuleCode.CROSS_TERRITORY, threshold="0.19")
    services.month_compute(period=MONTH)

    x.refresh_from_db()
    assert (x.status, x.is_firing, x.rules, x.opened_at) == (
        FlagStatus.ACKNOWLEDGED,
        True,
        ["cross_territory_above"],
        opened,
    )
    assert x.findings[0]["threshold"] == "0.19"
    assert Notification.objects.filter(recipient=manager).count() == 3  # from the first run only


def test_the_managers_of_a_flagged_region_or_a_region_above_it_are_told_once(world):
    regions = world.regions
    country, province, city, elsewhere, both = (ChannelManagerFactory() for _ in range(5))
    gone = ChannelManagerFactory(is_active=False)
    for manager, region in [
        (country, "C"),
        (province, "P"),
        (city, "X"),
        (elsewhere, "Q"),
        (elsewhere, "Z"),
        (both, "C"),
        (both, "P"),
        (gone, "C"),
    ]:
        ManagerRegionFactory(manager=manager, region=regions[region])

    services.month_compute(period=MONTH)
    services.month_compute(period=MONTH)

    def told(user):
        return sorted(
            Notification.objects.filter(recipient=user).values_list("subject", flat=True),
        )

    c, p, x = (f"{regions[code].name} is flagged as underperforming in {MONTH}" for code in "CPX")
    assert told(country) == sorted([c, p, x])
    assert told(both) == sorted([c, p, x])
    assert told(province) == sorted([p, x])
    assert told(city) == [x]
    assert told(elsewhere) == []
    assert told(gone) == []
    notice = Notification.objects.filter(recipient=city).get()
    assert notice.url == RegionFlag.objects.get(region=regions["X"]).get_absolute_url()
    assert "Region score below the threshold" in notice.message


# Editing a rule -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "good", "bad", "message"),
    [
        ("attainment_below", ["0.01", "10", "0.8125"], ["0", "0.0099", "10.0001", "-1"], "from 0.01 to 10."),
        ("score_below", ["1", "100", "59.5"], ["0.9999", "100.01"], "from 1 to 100."),
        ("revenue_decline", ["1", "12", "3.0"], ["0", "13", "2.5"], "Enter a whole number from 1 to 12."),
        ("cross_territory_above", ["0", "0.99", "0.1234"], ["-0.01", "0.9901", "1"], "from 0 to 0.99."),
    ],
)
def test_a_rules_threshold_stays_within_its_limits(code, good, bad, message):
    for threshold in good:
        assert services.flag_rule_save(code=code, threshold=threshold).threshold == D(threshold)
    kept = FlagRule.objects.get(code=code).threshold
    for threshold in bad:
        with pytest.raises(ValidationError) as error:
            services.flag_rule_save(code=code, threshold=threshold)
        assert list(error.value.message_dict) == ["threshold"]
        assert error.value.message_dict["threshold"][0].endswith(message), threshold
    assert FlagRule.objects.get(code=code).threshold == kept


@pytest.mark.parametrize("threshold", ["", "abc", None, "NaN", "Infinity", "0,8"])
def test_a_threshold_that_is_not_a_number_is_refused(threshold):
    with pytest.raises(ValidationError) as error:
        services.flag_rule_save(code=FlagRuleCode.ATTAINMENT, threshold=threshold)
    assert error.value.message_dict == {"threshold": ["Enter a number from 0.01 to 10."]}


def test_a_threshold_has_four_decimals_at_most():
    with pytest.raises(ValidationError) as error:
        services.flag_rule_save(code=FlagRuleCode.CROSS_TERRITORY, threshold="0.12345")
    assert error.value.message_dict == {"threshold": ["Use at most four decimals."]}
    assert services.flag_rule_save(code=FlagRuleCode.CROSS_TERRITORY, threshold="0.1235").threshold == D("0.1235")


def test_an_unknown_rule_is_refused():
    with pytest.raises(ValidationError) as error:
        services.flag_rule_save(code="revenue_above", threshold="1")
    assert error.value.message_dict == {"code": ["Unknown flag rule."]}


def test_a_missing_rule_row_is_created_and_every_save_is_recorded():
    manager = ChannelManagerFactory()
    FlagRule.objects.filter(code=FlagRuleCode.SCORE).delete()

    rule = services.flag_rule_save(code=FlagRuleCode.SCORE, threshold="55", is_active=False, by=manager)
    services.flag_rule_save(code=FlagRuleCode.SCORE, threshold="65.25", by=manager)

    rule.refresh_from_db()
    assert (rule.threshold, rule.is_active, rule.updated_by) == (D("65.25"), True, manager)
    entries = AuditEntry.objects.filter(object_type="performance.flagrule", object_id=str(rule.pk)).order_by("id")
    assert [(entry.action, entry.actor, entry.changes) for entry in entries] == [
        (AuditEntry.Action.CREATE, manager, {"threshold": [None, "55"], "is_active": [False, False]}),
        (AuditEntry.Action.UPDATE, manager, {"threshold": ["55.0000", "65.25"], "is_active": [False, True]}),
    ]


def test_only_writers_edit_the_rules():
    with pytest.raises(PermissionDenied):
        services.flag_rule_save(code=FlagRuleCode.SCORE, threshold="70", by=AnalystFactory())
    assert FlagRule.objects.get(code=FlagRuleCode.SCORE).threshold == D("60")


# Queries ------------------------------------------------------------------------------------------


def flagged_world(count, period):
    """`count` partners spread over provinces and cities under a new country, every region below
    its target; a manager assigned to the country."""
    country = RegionFactory()
    ManagerRegionFactory(region=country)
    kpis, cities = {}, []
    for index in range(count):
        if index % 3 == 0:
            cities.append(RegionFactory(parent=RegionFactory(parent=country)))
        partner = PartnerFactory(region=cities[-1])
        kpis[partner] = {"revenue": 100 + index, "revenue_target": 1000}
    for region in [country, *cities, *(city.parent for city in cities)]:
        region.refresh_from_db()
        kpis[region] = {"revenue": 100, "target_attainment": "0.1", "cross_territory_share": "0.5"}
    flag_world.given(period, kpis=kpis)


def test_evaluating_flags_takes_the_same_queries_for_3_or_30_partners(django_assert_num_queries):
    flagged_world(3, "2026-03")
    with CaptureQueriesContext(connection) as few:
        assert services.flags_evaluate(period="2026-03") == (3, 0)
    flagged_world(30, "2026-04")
    with django_assert_num_queries(len(few)):
        assert services.flags_evaluate(period="2026-04") == (21, 0)
    assert len(few) <= 20
    # The rerun of a month (flags updated, none opened) is fixed too.
    with CaptureQueriesContext(connection) as rerun:
        services.flags_evaluate(period="2026-03")
    with django_assert_num_queries(len(rerun)):
        services.flags_evaluate(period="2026-04")


def busy_world(count, period):
    """`count` partners with sales, agreements and targets for the month, spread over provinces
    and cities under a new country: every region falls short of its target."""
    month = date.fromisoformat(f"{period}-01")
    country = RegionFactory()
    ManagerRegionFactory(region=country)
    city = None
    for index in range(count):
        if index % 3 == 0:
            city = RegionFactory(parent=RegionFactory(parent=country))
        partner = PartnerFactory(region=city)
        agreement = AgreementFactory(
            partner=partner, start_date=date(2026, 1, 1), end_date=date(2026, 12, 31), territories=[city]
        )
        AgreementTarget.objects.create(agreement=agreement, period=period, revenue=D("1000.00"))
        sell(partner, month, 2, "50.00", customer=f"c{index}", region=country)


@pytest.fixture
def sqlite_real_limit(monkeypatch):
    """Django 5.2 assumes SQLite's old limit of 999 query parameters and splits bulk inserts in
    batches of 999 // columns; the SQLite linked here accepts 32,766 (since 3.32), as PostgreSQL
    accepts 65,535. Counting queries at 30 partners should not count that batching."""
    if connection.vendor == "sqlite":
        assert sqlite3.sqlite_version_info >= (3, 32)
        monkeypatch.setattr(connection.features, "max_query_params", 32766)


def test_computing_a_month_takes_the_same_queries_for_3_or_30_partners(sqlite_real_limit, django_assert_num_queries):
    busy_world(3, "2026-03")
    with CaptureQueriesContext(connection) as few:
        result = services.month_compute(period="2026-03")
    assert (result.scorecards, result.flags_opened) == (3, 3)
    busy_world(30, "2026-04")
    with django_assert_num_queries(len(few)):
        result = services.month_compute(period="2026-04")
    # The first three partners have nothing to score in April.
    assert (result.scorecards, result.flags_opened) == (30, 21)


def test_a_month_still_running_is_not_judged_until_it_closes(world, monkeypatch):
    """Mid-March, March's sales so far would be held against the whole month's target: the
    month's figures are computed but no region is flagged; on April 1st the close flags it."""
    monkeypatch.setattr(services.timezone, "localdate", lambda: date(2026, 3, 20))
    result = services.month_compute(period=MONTH)
    assert result.snapshots > 0 and result.scorecards == 3
    assert (result.flags_opened, result.flags_updated) == (0, 0)
    assert not RegionFlag.objects.exists()

    monkeypatch.setattr(services.timezone, "localdate", lambda: date(2026, 4, 1))
    result = services.month_compute(period=MONTH)
    assert result.flags_opened == 3
    assert set(flags()) == {"C", "P", "X"}
