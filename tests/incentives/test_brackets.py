"""The bracket maths, checked by property (hypothesis) against a brute-force reference written
independently of incentives.brackets, plus the worked examples of the issue."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from incentives.brackets import clean_brackets, rebate_for
from incentives.choices import RebateMethod

MARGINAL, RETROACTIVE = RebateMethod.MARGINAL, RebateMethod.RETROACTIVE
CENT = Decimal("0.01")
EXAMPLE = [(Decimal(0), Decimal(10)), (Decimal(1000), Decimal(20)), (Decimal(3000), Decimal(30))]

amounts = st.decimals(min_value=0, max_value=500000, places=2)
rates = st.decimals(min_value=0, max_value=100, places=2)
multipliers = st.decimals(min_value=0, max_value=3, places=3)


@st.composite
def bracket_sets(draw, rising=False):
    thresholds = draw(st.lists(st.decimals(min_value=1, max_value=100000, places=2), unique=True, max_size=5))
    thresholds = [Decimal(0), *sorted(thresholds)]
    chosen = draw(st.lists(rates, min_size=len(thresholds), max_size=len(thresholds)))
    if rising:
        chosen = sorted(chosen)
    return list(zip(thresholds, chosen, strict=True))


def reference_marginal(volume, brackets):
    """Each threshold adds its rate's increase over the previous rate to all volume above it."""
    total, previous_rate = Decimal(0), Decimal(0)
    for threshold, rate in sorted(brackets):
        total += (rate - previous_rate) * max(Decimal(0), volume - threshold)
        previous_rate = rate
    return total / 100


def reference_retroactive(volume, brackets):
    """Walk down from the top bracket to the first one the volume reaches."""
    if volume <= 0:
        return Decimal(0)
    for threshold, rate in sorted(brackets, reverse=True):
        if volume >= threshold:
            return volume * rate / 100
    return Decimal(0)


def exact(volume, brackets, method, **options):
    """The unrounded result (before the cap)."""
    _amount, slices = rebate_for(volume, brackets, method, **options)
    return sum((piece.raw for piece in slices if not piece.is_cap), Decimal(0))


PROPERTY = settings(max_examples=200, deadline=None, database=None)


# The issue's examples ------------------------------------------------------------------------


def test_marginal_example_from_the_issue():
    amount, slices = rebate_for(Decimal("3800"), EXAMPLE, MARGINAL)
    assert amount == Decimal("740.00")
    assert [(s.threshold, s.volume, s.amount) for s in slices] == [
        (0, 1000, Decimal("100.00")),
        (1000, 2000, Decimal("400.00")),
        (3000, 800, Decimal("240.00")),
    ]


def test_retroactive_example_earns_the_top_reached_rate_on_everything():
    amount, slices = rebate_for(Decimal("3800"), EXAMPLE, RETROACTIVE)
    assert amount == Decimal("1140.00")
    assert len(slices) == 1 and slices[0].rate == 30


def test_nothing_for_no_volume():
    assert rebate_for(Decimal("0"), EXAMPLE, MARGINAL) == (Decimal("0.00"), [])
    assert rebate_for(Decimal("0"), EXAMPLE, RETROACTIVE) == (Decimal("0.00"), [])


def test_each_line_is_rounded_half_up_once():
    amount, slices = rebate_for(Decimal("0.05"), [(0, 10)], MARGINAL)
    assert slices[0].raw == Decimal("0.005") and amount == Decimal("0.01")


def test_cap_adds_a_line_taking_off_the_excess():
    amount, slices = rebate_for(Decimal("3800"), EXAMPLE, MARGINAL, cap=Decimal("500"))
    assert amount == Decimal("500.00")
    assert slices[-1].is_cap and slices[-1].amount == Decimal("-240.00")


def test_units_basis_applies_the_rate_to_the_revenue_of_each_slice():
    # 40 units for 8000.00: 10 units at 10 % of 2000.00, 30 units at 20 % of 6000.00.
    amount, slices = rebate_for(Decimal("40"), [(0, 10), (10, 20)], MARGINAL, value=Decimal("8000.00"))
    assert [s.base for s in slices] == [Decimal("2000"), Decimal("6000")]
    assert amount == Decimal("1400.00")


# Properties ----------------------------------------------------------------------------------


@PROPERTY
@given(volume=amounts, brackets=bracket_sets())
def test_marginal_equals_the_reference(volume, brackets):
    amount, slices = rebate_for(volume, brackets, MARGINAL)
    assert exact(volume, brackets, MARGINAL) == reference_marginal(volume, brackets)
    assert abs(amount - reference_marginal(volume, brackets)) <= CENT / 2 * max(len(slices), 1)


@PROPERTY
@given(volume=amounts, brackets=bracket_sets())
def test_retroactive_equals_the_reference(volume, brackets):
    amount, _slices = rebate_for(volume, brackets, RETROACTIVE)
    reference = reference_retroactive(volume, brackets)
    assert exact(volume, brackets, RETROACTIVE) == reference
    assert amount == reference.quantize(CENT, rounding="ROUND_HALF_UP")


@PROPERTY
@given(volume=amounts, step=st.decimals(min_value="0.01", max_value=1000, places=2), brackets=bracket_sets())
def test_marginal_is_continuous_and_monotonic(volume, step, brackets):
    low, high = exact(volume, brackets, MARGINAL), exact(volume + step, brackets, MARGINAL)
    top_rate = max(rate for _threshold, rate in brackets)
    assert low <= high
    assert high - low <= step * top_rate / 100  # never a jump: bounded by the steepest slope


@PROPERTY
@given(volume=amounts, step=st.decimals(min_value="0.01", max_value=1000, places=2), brackets=bracket_sets(rising=True))
def test_retroactive_is_monotonic_when_rates_rise(volume, step, brackets):
    assert exact(volume, brackets, RETROACTIVE) <= exact(volume + step, brackets, RETROACTIVE)
    first, second = rebate_for(volume, brackets, RETROACTIVE), rebate_for(volume + step, brackets, RETROACTIVE)
    assert first[0] <= second[0]


@PROPERTY
@given(brackets=bracket_sets(rising=True), index=st.integers(min_value=1, max_value=5))
def test_retroactive_jumps_at_each_threshold(brackets, index):
    if index >= len(brackets):
        index = len(brackets) - 1
    if index == 0:
        return
    (below_threshold, below_rate), (threshold, rate) = brackets[index - 1], brackets[index]
    just_below = threshold - CENT
    if just_below < below_threshold:
        return
    assert exact(threshold, brackets, RETROACTIVE) == threshold * rate / 100
    assert exact(just_below, brackets, RETROACTIVE) == just_below * below_rate / 100
    # The jump is the whole volume re-rated, not one cent's worth.
    assert (
        exact(threshold, brackets, RETROACTIVE) - exact(just_below, brackets, RETROACTIVE)
        >= threshold * (rate - below_rate) / 100
    )


@PROPERTY
@given(
    volume=amounts,
    brackets=bracket_sets(),
    method=st.sampled_from([MARGINAL, RETROACTIVE]),
    cap=st.one_of(st.none(), st.decimals(min_value=0, max_value=100000, places=2)),
    multiplier=multipliers,
)
def test_total_is_the_sum_of_lines_and_the_cap_holds(volume, brackets, method, cap, multiplier):
    amount, slices = rebate_for(volume, brackets, method, cap=cap, multiplier=multiplier)
    assert amount == sum((piece.amount for piece in slices), Decimal(0))
    assert all(piece.amount == piece.amount.quantize(CENT) for piece in slices)
    uncapped, _slices = rebate_for(volume, brackets, method, multiplier=multiplier)
    assert amount == (uncapped if cap is None else min(uncapped, cap))


@PROPERTY
@given(volume=amounts, brackets=bracket_sets(), method=st.sampled_from([MARGINAL, RETROACTIVE]), m=multipliers)
def test_the_multiplier_scales_every_slice(volume, brackets, method, m):
    assert exact(volume, brackets, method, multiplier=m) == m * exact(volume, brackets, method)


# Validation ----------------------------------------------------------------------------------


def test_clean_brackets_accepts_the_api_shape():
    rows = [{"threshold": "0", "rate": "10.00"}, {"threshold": "1000.00", "rate": "20.00"}]
    assert clean_brackets(rows) == [(Decimal("0"), Decimal("10.00")), (Decimal("1000.00"), Decimal("20.00"))]


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([], "at least one bracket"),
        ([("100", "5")], "Row 1: the first threshold must be 0."),
        ([("0", "5"), ("0", "6")], "Row 2: the threshold 0 repeats row 1."),
        (
            [("0", "5"), ("2000", "6"), ("1000", "7")],
            "Row 3: the threshold 1000 must be above the previous row's (2000).",
        ),
        ([("0", "5"), ("-1", "6")], "Row 2: the threshold must not be negative."),
        ([("0", "-1")], "Row 1: the rate must be between 0 and 100 (percent)."),
        ([("0", "100.01")], "Row 1: the rate must be between 0 and 100 (percent)."),
        ([("0", "abc")], "Row 1: the rate “abc” is not a number"),
        ([("x", "5")], "Row 1: the threshold “x” is not a number"),
        ([("0", "1.00001")], "Row 1: the rate “1.00001” is not a number with at most 4 decimal places."),
    ],
)
def test_clean_brackets_refuses_bad_rows(rows, message):
    with pytest.raises(ValidationError) as caught:
        clean_brackets(rows)
    assert any(message in text for text in caught.value.message_dict["brackets"]), caught.value.message_dict


@PROPERTY
@given(brackets=bracket_sets())
def test_clean_brackets_accepts_every_well_formed_set(brackets):
    assert clean_brackets(brackets) == brackets
