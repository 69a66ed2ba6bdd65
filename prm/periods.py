"""Periods: a month ("2026-10"), a quarter ("2026-Q4") or a year ("2026").

One small value type used by targets, KPI snapshots, scorecards, rebate statements and MDF
budgets. It is stored as its code (a short string that sorts correctly within one kind) next to
its first and last day, so that queries can compare dates and people can read the code.
"""

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _


class PeriodKind(models.TextChoices):
    MONTH = "month", _("Month")
    QUARTER = "quarter", _("Quarter")
    YEAR = "year", _("Year")


_PATTERNS = (
    (re.compile(r"^(\d{4})-(\d{2})$"), PeriodKind.MONTH),
    (re.compile(r"^(\d{4})-[Qq]([1-4])$"), PeriodKind.QUARTER),
    (re.compile(r"^(\d{4})$"), PeriodKind.YEAR),
)


@dataclass(frozen=True, order=True)
class Period:
    """`kind` is a PeriodKind; `number` is the month (1–12), the quarter (1–4) or 1 for a year."""

    year: int
    kind: str
    number: int = 1

    def __post_init__(self):
        limits = {PeriodKind.MONTH: 12, PeriodKind.QUARTER: 4, PeriodKind.YEAR: 1}
        if self.kind not in limits or not 1 <= self.number <= limits[self.kind] or not 1900 <= self.year <= 9999:
            raise ValueError(f"not a period: {self.year} {self.kind} {self.number}")

    # Building ---------------------------------------------------------------------------------

    @classmethod
    def parse(cls, code):
        """From "2026-10", "2026-Q4" or "2026"; a ValidationError names what is accepted."""
        text = str(code or "").strip()
        for pattern, kind in _PATTERNS:
            match = pattern.match(text)
            if match:
                year = int(match[1])
                number = int(match[2]) if kind != PeriodKind.YEAR else 1
                try:
                    return cls(year, kind, number)
                except ValueError:
                    break
        raise ValidationError(
            _("“%(value)s” is not a period: use 2026-10 for a month, 2026-Q4 for a quarter or 2026 for a year."),
            code="invalid_period",
            params={"value": text},
        )

    @classmethod
    def month(cls, year, month):
        return cls(year, PeriodKind.MONTH, month)

    @classmethod
    def quarter(cls, year, quarter):
        return cls(year, PeriodKind.QUARTER, quarter)

    @classmethod
    def year_of(cls, year):
        return cls(year, PeriodKind.YEAR, 1)

    @classmethod
    def containing(cls, day, kind=PeriodKind.MONTH):
        if kind == PeriodKind.MONTH:
            return cls.month(day.year, day.month)
        if kind == PeriodKind.QUARTER:
            return cls.quarter(day.year, (day.month - 1) // 3 + 1)
        return cls.year_of(day.year)

    # Reading ----------------------------------------------------------------------------------

    @property
    def code(self):
        if self.kind == PeriodKind.MONTH:
            return f"{self.year:04d}-{self.number:02d}"
        if self.kind == PeriodKind.QUARTER:
            return f"{self.year:04d}-Q{self.number}"
        return f"{self.year:04d}"

    def __str__(self):
        return self.code

    @property
    def start(self):
        if self.kind == PeriodKind.MONTH:
            return date(self.year, self.number, 1)
        if self.kind == PeriodKind.QUARTER:
            return date(self.year, 3 * self.number - 2, 1)
        return date(self.year, 1, 1)

    @property
    def end(self):
        """The last day, inclusive."""
        if self.kind == PeriodKind.MONTH:
            return date(self.year, self.number, calendar.monthrange(self.year, self.number)[1])
        if self.kind == PeriodKind.QUARTER:
            last_month = 3 * self.number
            return date(self.year, last_month, calendar.monthrange(self.year, last_month)[1])
        return date(self.year, 12, 31)

    def __contains__(self, day):
        return self.start <= day <= self.end

    def within(self, start, end):
        """Whether the whole period lies between `start` and `end` (inclusive)."""
        return start <= self.start and self.end <= end

    def overlaps(self, start, end):
        return self.start <= end and start <= self.end

    def months(self):
        """The months this period is made of, in order."""
        first = self.start
        count = {PeriodKind.MONTH: 1, PeriodKind.QUARTER: 3, PeriodKind.YEAR: 12}[self.kind]
        return [Period.month(first.year, first.month + offset) for offset in range(count)]

    def next(self):
        return Period.containing(self.end + timedelta(days=1), self.kind)

    def trailing(self, count):
        """The `count` periods of this kind ending with this one, oldest first:
        2026-03 → [2026-01, 2026-02, 2026-03] for 3."""
        periods = [self]
        while len(periods) < count:
            periods.append(periods[-1].previous())
        return periods[::-1]

    def previous(self):
        return Period.containing(self.start - timedelta(days=1), self.kind)

    def same_period_last_year(self):
        return Period(self.year - 1, self.kind, self.number)


def add_months(day, months):
    """`day` moved by a whole number of `months` (negative goes back), clamped to the last day of
    a shorter month: 31 Jan + 1 month = 28 Feb (29 in a leap year), 29 Feb 2028 + 12 months =
    28 Feb 2029, 31 Aug + 6 months = 28/29 Feb. Used for certification expiry and terms."""
    index = day.year * 12 + (day.month - 1) + int(months)
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def periods_between(start, end, kind=PeriodKind.MONTH):
    """Every period of `kind` that lies wholly inside [start, end], in order."""
    found, period = [], Period.containing(start, kind)
    while period.start <= end:
        if period.within(start, end):
            found.append(period)
        period = period.next()
    return found


def validate_period_code(value):
    Period.parse(value)


class PeriodField(models.CharField):
    """A period stored as its code ("2026-10", "2026-Q4", "2026"); reads back as the code.
    Models that query by date keep `period_start`/`period_end` beside it (see `period_dates`)."""

    default_validators = [validate_period_code]

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 7)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if kwargs.get("max_length") == 7:
            del kwargs["max_length"]
        return name, path, args, kwargs

    def to_python(self, value):
        value = super().to_python(value)
        if value in (None, ""):
            return value
        try:
            return Period.parse(value).code  # "2026-q4" → "2026-Q4"
        except ValidationError:
            return value  # the validator reports it
