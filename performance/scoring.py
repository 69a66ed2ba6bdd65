"""The scorecard maths, pure functions (no database).

Rules:
- An item (one KPI of a template) scores 0 at or below its floor, 100 at or above its target,
  linearly between. For a "lower is better" KPI (`cross_territory_share`, see
  choices.LOWER_IS_BETTER_KPIS) the template's floor lies above its target: 0 at or above the
  floor, 100 at or below the target, linearly between. One formula covers both:
  (value − floor) ÷ (target − floor), clamped to 0..1, × 100. Item scores are rounded half-up
  to 2 decimals.
- A partner's score is the mean of its item scores weighted by the items' weights, over the
  KPIs the partner has a value for: the weight of a missing KPI (no target, no sale a year ago,
  no score entered...) is redistributed over the KPIs present in proportion to their weights, so
  a partner is scored on what is known. A partner with none of the template's KPIs has no
  score. Rounded half-up to 2 decimals.
- Grade: A ≥ 85, B ≥ 70, C ≥ 55, D below.
- Ranks: competition ranking on the score, highest first; equal scores share a rank and the
  next score skips (95, 90, 90, 80 → 1, 2, 2, 4).
- A region's score: the mean of the scores of the partners whose primary region is the region
  or below it, weighted by their revenue of the month (a negative revenue weighs 0); none when
  they sold nothing.
"""

from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

from .choices import Grade

ZERO = Decimal("0")
HUNDRED = Decimal("100")
CENT = Decimal("0.01")
GRADE_FLOORS = ((Decimal("85"), Grade.A), (Decimal("70"), Grade.B), (Decimal("55"), Grade.C))


def _round(value):
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def item_score(value, floor, target):
    """0..100 for `value` between `floor` (0) and `target` (100); a floor above the target
    scores the other way (lower is better)."""
    value, floor, target = Decimal(value), Decimal(floor), Decimal(target)
    if floor == target:
        raise ValueError("floor and target must differ")
    fraction = min(max((value - floor) / (target - floor), ZERO), Decimal("1"))
    return _round(fraction * HUNDRED)


def grade(score):
    score = Decimal(score)
    for floor, letter in GRADE_FLOORS:
        if score >= floor:
            return letter
    return Grade.D


def weighted_score(values, items):
    """The score of one subject: `values` {kpi: value}, `items` [(kpi, weight, floor, target)].
    None when no item's KPI has a value."""
    present = [
        (weight, item_score(values[kpi], floor, target)) for kpi, weight, floor, target in items if kpi in values
    ]
    weights = sum((weight for weight, _score in present), ZERO)
    if not present or weights <= 0:
        return None
    return _round(sum((weight * score for weight, score in present), ZERO) / weights)


def competition_ranks(scores):
    """{key: rank} for {key: score}: highest first, ties share a rank, the next one skips."""
    ordered = sorted(scores.items(), key=lambda item: item[1], reverse=True)
    ranks, previous, rank = {}, None, 0
    for position, (key, score) in enumerate(ordered, start=1):
        if score != previous:
            rank, previous = position, score
        ranks[key] = rank
    return ranks


def ranks_within(scores, group_of):
    """{key: rank within its group} for {key: score}; keys whose group is None get no rank."""
    groups = defaultdict(dict)
    for key, score in scores.items():
        if group_of[key] is not None:
            groups[group_of[key]][key] = score
    ranks = {}
    for members in groups.values():
        ranks.update(competition_ranks(members))
    return ranks


def revenue_weighted_mean(pairs):
    """The mean of scores weighted by revenue, from [(score, revenue)]; None when the revenue
    is 0 or less in total. A negative revenue (more returns than sales) weighs 0."""
    pairs = [(score, max(weight, ZERO)) for score, weight in pairs]
    revenue = sum((weight for _score, weight in pairs), ZERO)
    if revenue <= 0:
        return None
    return _round(sum((score * weight for score, weight in pairs), ZERO) / revenue)
