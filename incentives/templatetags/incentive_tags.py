"""Template filters of the incentives pages: numbers as people write them."""

import re

from django import template

from prm.money import plain_number

register = template.Library()

# How a policy's brackets are recorded in its history (incentives.services): "1000.000:20.0000".
_RECORDED_BRACKET = re.compile(r"^(-?\d+(?:\.\d+)?):(-?\d+(?:\.\d+)?)$")


@register.filter
def plain(value):
    """{{ rate|plain }}: a Decimal without trailing zeros, grouped by thousands (1000.000 → 1,000;
    1.500 → 1.5; 12.3456 → 12.3456). Anything else as it is."""
    return plain_number(value)


@register.filter
def recorded(value):
    """A value from a history entry: a list joined by commas, a recorded bracket as "≥ 1,000: 20%"."""
    if isinstance(value, list | tuple):
        return ", ".join(str(recorded(item)) for item in value)
    if isinstance(value, dict):
        return ", ".join(f"{key}: {recorded(item)}" for key, item in value.items())
    match = _RECORDED_BRACKET.match(str(value)) if isinstance(value, str) else None
    if match:
        return f"≥ {plain(match[1])}: {plain(match[2])}%"
    return value
