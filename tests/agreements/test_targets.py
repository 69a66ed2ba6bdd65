"""Targets per period: inside the term, revenue and/or units, for all product lines or one, set
by whoever manages the agreement; setting again replaces."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from agreements import services
from agreements.choices import AgreementStatus
from agreements.models import AgreementTarget
from prm.models import AuditEntry
from prm.periods import Period
from tests.factories import AgreementFactory, AnalystFactory, ProductLineFactory, RegionFactory

from .domain_world import END, NEXT_YEAR, START, admin, draft

pytestmark = pytest.mark.django_db


@pytest.fixture
def by():
    return admin()


@pytest.fixture
def line():
    return ProductLineFactory(name="Sensors")


@pytest.fixture
def agreement(by, line):
    return draft(by=by, lines=[line])


def errors_of(excinfo):
    return excinfo.value.message_dict


@pytest.mark.parametrize("period", [f"{NEXT_YEAR}-01", f"{NEXT_YEAR}-Q4", f"{NEXT_YEAR}", f"{NEXT_YEAR}-q2"])
def test_a_period_inside_the_term_takes_a_target(by, agreement, period):
    target = services.target_set(agreement=agreement, period=period, by=by, revenue=Decimal("250000"))

    parsed = Period.parse(period)
    assert (target.period, target.period_start, target.period_end) == (parsed.code, parsed.start, parsed.end)
    assert target.revenue == Decimal("250000.00") and target.units is None


def test_setting_again_replaces_and_the_history_records_it(by, agreement):
    services.target_set(agreement=agreement, period=f"{NEXT_YEAR}-Q1", by=by, revenue=Decimal("100"))
    services.target_set(agreement=agreement, period=Period.quarter(NEXT_YEAR, 1), by=by, units=Decimal("40"))

    target = AgreementTarget.objects.get()
    assert (target.revenue, target.units) == (None, Decimal("40.000"))
    entries = AuditEntry.objects.filter(object_id=str(agreement.pk), action=AuditEntry.Action.UPDATE).order_by("id")
    assert entries.last().changes["agreements.agreementtarget:units"] == [None, "40.000"]


def test_one_target_for_all_lines_and_one_per_line(by, agreement, line):
    services.target_set(agreement=agreement, period=f"{NEXT_YEAR}-Q1", by=by, revenue=Decimal("100"))
    services.target_set(agreement=agreement, period=f"{NEXT_YEAR}-Q1", by=by, revenue=Decimal("60"), product_line=line)

    assert AgreementTarget.objects.count() == 2


@pytest.mark.parametrize(
    ("start", "end", "period"),
    [
        (START, END, f"{NEXT_YEAR + 1}-01"),  # after the term
        (START, END, f"{NEXT_YEAR - 1}-Q4"),  # before it
        (START.replace(month=2), END, f"{NEXT_YEAR}-Q1"),  # the quarter starts before the term
        (START, END.replace(month=11, day=15), f"{NEXT_YEAR}-11"),  # the month ends after the term
        (START, END.replace(month=6, day=30), f"{NEXT_YEAR}"),  # the year is longer than the term
    ],
)
def test_a_period_not_wholly_inside_the_term_is_refused(by, line, start, end, period):
    agreement = draft(by=by, lines=[line], start=start, end=end)

    with pytest.raises(ValidationError) as excinfo:
        services.target_set(agreement=agreement, period=period, by=by, revenue=Decimal("100"))

    message = errors_of(excinfo)["period"][0]
    assert Period.parse(period).code in message and "term" in message
    assert not AgreementTarget.objects.exists()


def test_the_error_names_the_period_and_the_term(by, line):
    agreement = draft(by=by, lines=[line])

    with pytest.raises(ValidationError) as excinfo:
        services.target_set(agreement=agreement, period=f"{NEXT_YEAR + 1}-Q1", by=by, revenue=Decimal("1"))

    assert errors_of(excinfo)["period"] == [
        f"{NEXT_YEAR + 1}-Q1 (Jan. 1, {NEXT_YEAR + 1} to March 31, {NEXT_YEAR + 1}) lies outside the agreement's "
        f"term (Jan. 1, {NEXT_YEAR} to Dec. 31, {NEXT_YEAR}); a target's whole period must lie inside the term."
    ]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"period": "2026-13", "revenue": Decimal("1")}, "period"),
        ({"period": "next quarter", "revenue": Decimal("1")}, "period"),
        ({"period": f"{NEXT_YEAR}-Q1"}, "revenue"),
        ({"period": f"{NEXT_YEAR}-Q1", "revenue": Decimal("-1")}, "revenue"),
        ({"period": f"{NEXT_YEAR}-Q1", "units": "many"}, "units"),
    ],
)
def test_bad_input_is_a_field_error(by, agreement, kwargs, field):
    with pytest.raises(ValidationError) as excinfo:
        services.target_set(agreement=agreement, by=by, **kwargs)

    assert field in errors_of(excinfo)
    assert not AgreementTarget.objects.exists()


def test_revenue_is_rounded_half_up_to_the_cent(by, agreement):
    target = services.target_set(agreement=agreement, period=f"{NEXT_YEAR}-01", by=by, revenue="1000.005")

    assert target.revenue == Decimal("1000.01")


def test_a_product_line_outside_the_agreement_is_refused(by, agreement):
    with pytest.raises(ValidationError) as excinfo:
        services.target_set(
            agreement=agreement,
            period=f"{NEXT_YEAR}-01",
            by=by,
            revenue=Decimal("1"),
            product_line=ProductLineFactory(name="Software"),
        )

    assert "Software" in errors_of(excinfo)["product_line"][0]


@pytest.mark.parametrize("status", [AgreementStatus.EXPIRED, AgreementStatus.TERMINATED])
def test_an_agreement_that_is_over_keeps_its_targets(by, status):
    agreement = AgreementFactory(status=status, start_date=START, end_date=END)
    target = services.target_set(
        agreement=AgreementFactory(start_date=START, end_date=END), period=f"{NEXT_YEAR}-01", by=by, revenue=1
    )
    target.agreement = agreement
    target.save()

    with pytest.raises(ValidationError):
        services.target_set(agreement=agreement, period=f"{NEXT_YEAR}-02", by=by, revenue=Decimal("1"))
    with pytest.raises(ValidationError):
        services.target_delete(target=target, by=by)
    assert AgreementTarget.objects.count() == 1


def test_an_analyst_sets_no_target(agreement):
    with pytest.raises(PermissionDenied):
        services.target_set(agreement=agreement, period=f"{NEXT_YEAR}-01", by=AnalystFactory(), revenue=Decimal("1"))


def test_delete_removes_the_target_and_records_it(by, agreement):
    target = services.target_set(agreement=agreement, period=f"{NEXT_YEAR}-01", by=by, revenue=Decimal("1"))

    services.target_delete(target=target, by=by)

    assert not AgreementTarget.objects.exists()
    entry = AuditEntry.objects.filter(object_id=str(agreement.pk)).order_by("id").last()
    assert entry.changes == {"target": [f"{NEXT_YEAR}-01", None]}


def test_a_target_set_by_hand_leaves_the_region_split(by, agreement):
    region_target = services.region_target_set(
        region=RegionFactory(), period=f"{NEXT_YEAR}-01", by=by, revenue=Decimal("10")
    )
    AgreementTarget.objects.create(
        agreement=agreement, period=f"{NEXT_YEAR}-01", revenue=Decimal("10"), region_target=region_target
    )

    target = services.target_set(agreement=agreement, period=f"{NEXT_YEAR}-01", by=by, revenue=Decimal("12"))

    assert target.region_target is None
