from decimal import Decimal

import pytest
from django.utils import translation

from prm.money import format_money, round_cents


@pytest.mark.parametrize(
    ("value", "expected"),
    [("2.345", "2.35"), ("2.344", "2.34"), ("-2.345", "-2.35"), ("0.005", "0.01"), (7, "7.00"), ("1e3", "1000.00")],
)
def test_rounding_is_half_up_to_the_cent(value, expected):
    assert round_cents(value) == Decimal(expected)


def test_floats_are_refused():
    with pytest.raises(TypeError):
        round_cents(0.1)


def test_splitting_an_amount_into_cents_reconciles():
    # Thirds of 100.00 rounded per line lose a cent; rounding the total once does not.
    lines = [Decimal("100.00") / 3] * 3
    assert sum(round_cents(line) for line in lines) == Decimal("99.99")
    assert round_cents(sum(lines)) == Decimal("100.00")


def test_amounts_are_grouped_in_both_languages():
    for language in ("en", "zh-hans"):
        with translation.override(language):
            assert format_money(Decimal("20000000"), "CNY") == "CNY 20,000,000.00"
    assert format_money(None) == ""
