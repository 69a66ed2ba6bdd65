"""The bracket maths (阶梯返利), pure functions on Decimals: no database, no rounding but the
one per line.

- *marginal* (累进/分段): each slice of the volume earns its own bracket's rate. Brackets 0–1000
  at 10 %, 1000–3000 at 20 %, 3000+ at 30 %: a volume of 3800 earns 100 + 400 + 240 = 740.
- *retroactive* (追溯): the whole volume earns the rate of the highest bracket reached.

The volume picks the brackets; the rate applies to `value` (the money of that volume), which is
the volume itself for a revenue basis and the revenue of those units for a units basis. Then the
tier multiplier, then the cap (封顶): a capped result gets one more line taking off the excess,
so the lines always add up to the amount.
"""

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from prm.money import round_cents

from .choices import RebateMethod

ZERO = Decimal("0")
ONE = Decimal("1")
HUNDRED = Decimal("100")
# What the models store (RebateBracket.threshold and .rate).
THRESHOLD_PLACES, RATE_PLACES = 3, 4
MAX_THRESHOLD = Decimal("9999999999999.999")


@dataclass(frozen=True)
class Slice:
    """One line of the result. `raw` is exact; `amount` is `raw` rounded half-up to the cent.
    A cap line has `threshold` and `rate` None and a negative amount."""

    threshold: Decimal | None
    rate: Decimal | None
    volume: Decimal
    base: Decimal
    multiplier: Decimal
    raw: Decimal
    amount: Decimal
    is_cap: bool = False


def _pairs(brackets):
    """(threshold, rate) pairs from pairs or from objects with `.threshold` and `.rate`, sorted."""
    pairs = [(b.threshold, b.rate) if hasattr(b, "threshold") else (b[0], b[1]) for b in brackets]
    return sorted((Decimal(t), Decimal(r)) for t, r in pairs)


def rebate_for(volume, brackets, method, *, value=None, multiplier=ONE, cap=None):
    """(amount, slices) for `volume` under `brackets` by `method` (see the module docstring).
    `amount` is the sum of the slices' rounded amounts, exactly."""
    volume = Decimal(volume)
    value = volume if value is None else Decimal(value)
    multiplier = Decimal(multiplier)
    pairs = _pairs(brackets)
    slices = []
    if volume > 0 and pairs:
        if method == RebateMethod.RETROACTIVE:
            reached = [pair for pair in pairs if pair[0] <= volume]
            if reached:
                threshold, rate = reached[-1]
                slices.append(_slice(threshold, rate, volume, value, multiplier))
        elif method == RebateMethod.MARGINAL:
            for index, (threshold, rate) in enumerate(pairs):
                if volume <= threshold:
                    break
                upper = pairs[index + 1][0] if index + 1 < len(pairs) else volume
                part = min(volume, upper) - threshold
                base = value if part == volume else value * part / volume
                slices.append(_slice(threshold, rate, part, base, multiplier))
        else:
            raise ValueError(f"unknown rebate method: {method!r}")
    amount = sum((piece.amount for piece in slices), ZERO)
    cap = None if cap is None else round_cents(cap)
    if cap is not None and amount > cap:
        excess = cap - amount
        slices.append(Slice(None, None, ZERO, ZERO, multiplier, excess, excess, is_cap=True))
        amount += excess
    return round_cents(amount), slices


def _slice(threshold, rate, volume, base, multiplier):
    raw = base * rate / HUNDRED * multiplier
    return Slice(threshold, rate, volume, base, multiplier, raw, round_cents(raw))


# Validation ---------------------------------------------------------------------------------


def _number(raw, places):
    """A finite Decimal with at most `places` decimal places, or None."""
    try:
        number = raw if isinstance(raw, Decimal) else Decimal(str(raw).strip())
        if number.is_finite() and number == number.quantize(Decimal(1).scaleb(-places)):
            return number
    except (InvalidOperation, ValueError, TypeError):
        pass
    return None


def clean_brackets(rows):
    """Check brackets given as dicts (`{"threshold": "1000.00", "rate": "20.00"}`) or pairs and
    return them as sorted (threshold, rate) Decimal pairs. Refused, with every problem named by
    row (1-based): none given, a number that is not one, a negative threshold, a first threshold
    other than 0, a threshold not above the previous row's (duplicate or out of order), a rate
    below 0 or above 100. Raises ValidationError({"brackets": [...]})."""
    rows = list(rows or [])
    if not rows:
        raise ValidationError({"brackets": [_("Give at least one bracket, starting at threshold 0.")]})
    errors, cleaned, seen = [], [], {}
    for row_number, row in enumerate(rows, start=1):
        raw_threshold, raw_rate = (row.get("threshold"), row.get("rate")) if isinstance(row, dict) else row
        threshold = _number(raw_threshold, THRESHOLD_PLACES)
        rate = _number(raw_rate, RATE_PLACES)
        if threshold is None or abs(threshold) > MAX_THRESHOLD:
            errors.append(
                _("Row %(row)s: the threshold “%(value)s” is not a number with at most 3 decimal places.")
                % {"row": row_number, "value": raw_threshold}
            )
        elif threshold < 0:
            errors.append(_("Row %(row)s: the threshold must not be negative.") % {"row": row_number})
        elif row_number == 1 and threshold != 0:
            errors.append(_("Row 1: the first threshold must be 0."))
        elif threshold in seen:
            errors.append(
                _("Row %(row)s: the threshold %(value)s repeats row %(other)s.")
                % {"row": row_number, "value": threshold, "other": seen[threshold]}
            )
        elif cleaned and cleaned[-1][0] is not None and threshold < cleaned[-1][0]:
            errors.append(
                _("Row %(row)s: the threshold %(value)s must be above the previous row's (%(previous)s).")
                % {"row": row_number, "value": threshold, "previous": cleaned[-1][0]}
            )
        if rate is None:
            errors.append(
                _("Row %(row)s: the rate “%(value)s” is not a number with at most 4 decimal places.")
                % {"row": row_number, "value": raw_rate}
            )
        elif not ZERO <= rate <= HUNDRED:
            errors.append(_("Row %(row)s: the rate must be between 0 and 100 (percent).") % {"row": row_number})
        if threshold is not None and threshold not in seen:
            seen[threshold] = row_number
        cleaned.append((threshold, rate))
    if errors:
        raise ValidationError({"brackets": errors})
    return cleaned
