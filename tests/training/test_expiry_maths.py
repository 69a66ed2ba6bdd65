"""Certification expiry: completion date plus the course's validity in months, clamped to the end
of a shorter month; nothing when the course's certification never expires."""

from datetime import date

import pytest

from prm.periods import add_months
from training import rules
from training.models import Course


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2027, 1, 31), 1, date(2027, 2, 28)),  # 31 Jan + 1 month: the end of February
        (date(2028, 1, 31), 1, date(2028, 2, 29)),  # …of a leap year
        (date(2028, 2, 29), 12, date(2029, 2, 28)),  # a leap day a year on
        (date(2028, 2, 29), 48, date(2032, 2, 29)),  # four years on: a leap day again
        (date(2026, 8, 31), 6, date(2027, 2, 28)),
        (date(2027, 8, 31), 6, date(2028, 2, 29)),
        (date(2026, 3, 31), 1, date(2026, 4, 30)),
        (date(2026, 5, 31), 1, date(2026, 6, 30)),
        (date(2026, 1, 30), 1, date(2026, 2, 28)),
        (date(2026, 1, 28), 1, date(2026, 2, 28)),  # no clamp needed
        (date(2026, 11, 15), 2, date(2027, 1, 15)),  # across the year
        (date(2026, 12, 31), 12, date(2027, 12, 31)),
        (date(2026, 6, 15), 120, date(2036, 6, 15)),  # the longest validity
        (date(2026, 3, 31), -1, date(2026, 2, 28)),  # backwards too
        (date(2026, 1, 15), -1, date(2025, 12, 15)),
        (date(2026, 7, 4), 0, date(2026, 7, 4)),
    ],
)
def test_add_months_clamps_to_the_end_of_a_shorter_month(day, months, expected):
    assert add_months(day, months) == expected


def test_the_expiry_follows_the_course_validity():
    assert rules.expiry(Course(validity_months=24), date(2026, 2, 28)) == date(2028, 2, 28)
    assert rules.expiry(Course(validity_months=1), date(2026, 1, 31)) == date(2026, 2, 28)


def test_a_course_without_validity_never_expires():
    assert rules.expiry(Course(validity_months=None), date(2026, 1, 31)) is None
