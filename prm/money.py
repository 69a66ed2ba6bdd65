"""Money: Decimal amounts with a currency. Rounding happens once, at the end, half-up to the cent."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.conf import settings
from django.utils.formats import number_format

CENT = Decimal("0.01")


def to_decimal(value):
    """A Decimal from a Decimal, int or string; floats are refused (they cannot hold cents)."""
    if isinstance(value, float):
        raise TypeError("money is never a float; pass a Decimal or a string")
    try:
        return value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation as error:
        raise ValueError(f"not an amount: {value!r}") from error


def round_cents(value):
    """Round half-up to the cent: 2.345 → 2.35, -2.345 → -2.35."""
    return to_decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def format_money(value, currency=None, *, use_l10n=True):
    """ "CNY 1,234,567.80" in the active language's number format, grouped by thousands."""
    if value is None or value == "":
        return ""
    amount = number_format(round_cents(value), decimal_pos=2, use_l10n=use_l10n, force_grouping=True)
    return f"{currency or settings.PRM_CURRENCY} {amount}"


def plain_number(value):
    """A number as people write it: no trailing zeros, grouped by thousands in the active
    language's format (Decimal("1000.000") → "1,000"; Decimal("12.5000") → "12.5"). Anything
    that is not a finite number comes back as it is."""
    if value is None or value == "":
        return ""
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        return value
    if not number.is_finite():
        return value
    number = number.normalize()
    if number == number.to_integral():
        number = number.quantize(Decimal(1))
    return number_format(number, force_grouping=True)
