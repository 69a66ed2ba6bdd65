"""prm.periods: months, quarters and years, parsed from their codes, with their first and last
days, and the arithmetic targets and reports need."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from prm.periods import Period, PeriodField, PeriodKind, periods_between


@pytest.mark.parametrize(
    ("code", "kind", "start", "end"),
    [
        ("2026-10", PeriodKind.MONTH, date(2026, 10, 1), date(2026, 10, 31)),
        ("2028-02", PeriodKind.MONTH, date(2028, 2, 1), date(2028, 2, 29)),  # leap year
        ("2027-02", PeriodKind.MONTH, date(2027, 2, 1), date(2027, 2, 28)),
        ("2026-Q1", PeriodKind.QUARTER, date(2026, 1, 1), date(2026, 3, 31)),
        ("2026-q4", PeriodKind.QUARTER, date(2026, 10, 1), date(2026, 12, 31)),
        ("2026", PeriodKind.YEAR, date(2026, 1, 1), date(2026, 12, 31)),
        (" 2026-06 ", PeriodKind.MONTH, date(2026, 6, 1), date(2026, 6, 30)),
    ],
)
def test_parse_gives_kind_and_inclusive_dates(code, kind, start, end):
    period = Period.parse(code)

    assert (period.kind, period.start, period.end) == (kind, start, end)
    assert Period.parse(period.code) == period  # the code reads back as itself


@pytest.mark.parametrize("code", ["", None, "2026-13", "2026-00", "2026-Q5", "2026-Q0", "26-01", "2026/01", "Q1-2026"])
def test_anything_else_is_a_clear_error(code):
    with pytest.raises(ValidationError) as excinfo:
        Period.parse(code)

    assert "2026-Q4 for a quarter" in excinfo.value.messages[0]


def test_codes_are_normalised():
    assert Period.parse("2026-q3").code == "2026-Q3"
    assert str(Period.month(2026, 3)) == "2026-03"
    assert Period.year_of(2026).code == "2026"


def test_containing_a_day():
    day = date(2026, 8, 15)

    assert Period.containing(day) == Period.month(2026, 8)
    assert Period.containing(day, PeriodKind.QUARTER) == Period.quarter(2026, 3)
    assert Period.containing(day, PeriodKind.YEAR) == Period.year_of(2026)


def test_next_and_previous_cross_the_year():
    assert Period.month(2026, 12).next() == Period.month(2027, 1)
    assert Period.month(2026, 1).previous() == Period.month(2025, 12)
    assert Period.quarter(2026, 4).next() == Period.quarter(2027, 1)
    assert Period.quarter(2026, 1).previous() == Period.quarter(2025, 4)
    assert Period.year_of(2026).next() == Period.year_of(2027)


def test_same_period_last_year():
    assert Period.quarter(2026, 2).same_period_last_year() == Period.quarter(2025, 2)
    assert Period.month(2028, 2).same_period_last_year().end == date(2027, 2, 28)


def test_within_overlaps_and_contains():
    q1 = Period.quarter(2026, 1)

    assert q1.within(date(2026, 1, 1), date(2026, 3, 31))
    assert not q1.within(date(2026, 1, 2), date(2026, 12, 31))
    assert not q1.within(date(2025, 1, 1), date(2026, 3, 30))
    assert q1.overlaps(date(2026, 3, 31), date(2026, 5, 1))  # touching on the last day
    assert not q1.overlaps(date(2026, 4, 1), date(2026, 5, 1))
    assert date(2026, 2, 28) in q1 and date(2026, 4, 1) not in q1


def test_months_of_a_period():
    assert Period.quarter(2026, 2).months() == [Period.month(2026, m) for m in (4, 5, 6)]
    assert len(Period.year_of(2026).months()) == 12
    assert Period.month(2026, 7).months() == [Period.month(2026, 7)]


def test_periods_between_are_only_whole_ones():
    quarters = periods_between(date(2026, 2, 15), date(2027, 3, 31), PeriodKind.QUARTER)

    assert [q.code for q in quarters] == ["2026-Q2", "2026-Q3", "2026-Q4", "2027-Q1"]
    assert periods_between(date(2026, 1, 1), date(2026, 1, 30)) == []
    assert [y.code for y in periods_between(date(2026, 1, 1), date(2027, 12, 31), PeriodKind.YEAR)] == ["2026", "2027"]


def test_periods_sort_in_time_within_one_kind():
    codes = ["2026-11", "2025-12", "2026-02"]

    assert [p.code for p in sorted(Period.parse(c) for c in codes)] == ["2025-12", "2026-02", "2026-11"]


def test_invalid_values_cannot_be_built():
    with pytest.raises(ValueError):
        Period(2026, PeriodKind.MONTH, 13)
    with pytest.raises(ValueError):
        Period(2026, "week", 1)


def test_the_model_field_normalises_and_validates():
    field = PeriodField()

    assert field.to_python("2026-q1") == "2026-Q1"
    assert field.clean("2026-05", None) == "2026-05"
    with pytest.raises(ValidationError):
        field.clean("2026-Q9", None)
    assert field.deconstruct()[3] == {}
