"""The rules that flag an underperforming region (performance.flags), read over stored snapshots
and scorecards: each fires just past its threshold and not at it, names its figures and the
partners that drive it, and follows the rules as staff edit them."""

import pytest

from performance import flags, services
from performance.choices import FlagRuleCode
from performance.models import FlagRule, RegionFlag
from prm.periods import Period

from .flag_world import MONTH, D, given, partner, revenue_by_month, tree

pytestmark = pytest.mark.django_db


def evaluate(period=MONTH):
    return flags.evaluate(Period.parse(period))


def rules_fired(findings, region):
    return [finding["rule"] for finding in findings.get(region.pk, [])]


def finding(findings, region, rule):
    return next(item for item in findings[region.pk] if item["rule"] == rule)


@pytest.fixture
def regions():
    return tree()


# Each rule at its threshold -----------------------------------------------------------------------


@pytest.mark.parametrize(("attainment", "fires"), [("0.80", False), ("0.799999", True), ("0.79", True), ("1.2", False)])
def test_attainment_fires_only_below_the_threshold(regions, attainment, fires):
    given(kpis={regions["P"]: {"revenue": 790, "revenue_target": 1000, "target_attainment": attainment}})
    assert rules_fired(evaluate(), regions["P"]) == (["attainment_below"] if fires else [])


@pytest.mark.parametrize(("score", "fires"), [("60", False), ("60.01", False), ("59.99", True)])
def test_score_fires_only_below_the_threshold(regions, score, fires):
    given(scores={regions["P"]: score})
    assert rules_fired(evaluate(), regions["P"]) == (["score_below"] if fires else [])


@pytest.mark.parametrize(("share", "fires"), [("0.15", False), ("0.149999", False), ("0.150001", True)])
def test_cross_territory_fires_only_above_the_threshold(regions, share, fires):
    given(kpis={regions["P"]: {"revenue": 1000, "cross_territory_share": share}})
    assert rules_fired(evaluate(), regions["P"]) == (["cross_territory_above"] if fires else [])


@pytest.mark.parametrize(
    ("series", "fires"),
    [
        ((400, 300, 200, 100), True),  # three strict falls
        ((400, 300, 200, 200), False),  # two falls, then flat
        ((200, 300, 200, 100), False),  # a rise in the middle
        ((400, 400, 200, 100), False),  # flat at the start
        ((400, None, 200, 100), False),  # a month never computed breaks the run
        ((None, 300, 200, 100), False),  # only two falls on record
    ],
)
def test_revenue_decline_needs_three_strict_falls_in_a_row(regions, series, fires):
    revenue_by_month(regions["P"], *series)
    assert rules_fired(evaluate(), regions["P"]) == (["revenue_decline"] if fires else [])


def test_with_a_threshold_of_two_months_two_falls_are_enough(regions):
    revenue_by_month(regions["P"], 300, 200, 100)
    assert rules_fired(evaluate(), regions["P"]) == []
    services.flag_rule_save(code=FlagRuleCode.DECLINE, threshold="2")
    found = evaluate()
    assert rules_fired(found, regions["P"]) == ["revenue_decline"]
    assert finding(found, regions["P"], "revenue_decline")["threshold"] == "2"


# Figures and the partners that drive a flag ------------------------------------------------------


def test_attainment_names_the_partners_with_the_largest_shortfalls_below_the_region(regions):
    x, y, z = regions["X"], regions["Y"], regions["Z"]
    # Seven partners below P (in its cities X and Y): shortfalls 600, 500, 400, 300, 200, 100, and
    # one above its target; a partner in Z (outside P) with the largest shortfall of all.
    rows = {
        partner(x, "PX1"): (400, 1000),
        partner(y, "PY1"): (500, 1000),
        partner(x, "PX2"): (600, 1000),
        partner(y, "PY2"): (700, 1000),
        partner(x, "PX3"): (800, 1000),
        partner(y, "PY3"): (900, 1000),
        partner(x, "PX4"): (1500, 1000),
        partner(z, "PZ1"): (0, 5000),
    }
    kpis = {p: {"revenue": revenue, "revenue_target": target} for p, (revenue, target) in rows.items()}
    kpis[regions["P"]] = {"revenue": "5400.00", "revenue_target": "7000.00", "target_attainment": "0.771429"}
    given(kpis=kpis)

    found = finding(evaluate(), regions["P"], "attainment_below")

    assert found["threshold"] == "0.8"
    assert found["figures"] == {"target_attainment": "0.771429", "revenue": "5400.00", "revenue_target": "7000.00"}
    assert [(row["code"], row["figure"]) for row in found["partners"]] == [
        ("PX1", "600.00"),
        ("PY1", "500.00"),
        ("PX2", "400.00"),
        ("PY2", "300.00"),
        ("PX3", "200.00"),
    ]
    first = found["partners"][0]
    assert first == {"id": first["id"], "code": "PX1", "name": "PX1 Trading Co.", "figure": "600.00"}


def test_equal_shortfalls_are_listed_oldest_partner_first(regions):
    first, second = partner(regions["X"], "EQ1"), partner(regions["X"], "EQ2")
    given(
        kpis={
            second: {"revenue": 0, "revenue_target": 100},
            first: {"revenue": 0, "revenue_target": 100},
            regions["X"]: {"revenue": 0, "revenue_target": 200, "target_attainment": 0},
        }
    )
    found = finding(evaluate(), regions["X"], "attainment_below")
    assert [row["code"] for row in found["partners"]] == ["EQ1", "EQ2"]


def test_score_names_the_partners_scored_below_the_threshold_heaviest_drag_first(regions):
    heavy, light, fine, silent = (partner(regions["X"], code) for code in ("SHV", "SLT", "SOK", "SNO"))
    given(
        kpis={heavy: {"revenue": 1000}, light: {"revenue": 5000}, fine: {"revenue": 9000}, silent: {"revenue": 0}},
        scores={heavy: "40", light: "58", fine: "90", silent: "10", regions["P"]: "55.5"},
    )
    found = finding(evaluate(), regions["P"], "score_below")
    # Drag = revenue × (60 − score): heavy 20,000, light 10,000; silent has no revenue.
    assert found["figures"] == {"score": "55.5"}
    assert found["threshold"] == "60"
    assert [(row["code"], row["figure"]) for row in found["partners"]] == [("SHV", "40"), ("SLT", "58")]


def test_decline_names_the_partners_whose_revenue_fell_most_since_the_first_month(regions):
    big, small, grower = (partner(regions["Y"], code) for code in ("DBG", "DSM", "DGR"))
    revenue_by_month(regions["P"], 4000, 3000, 2000, 1000)
    revenue_by_month(big, 3000, 2000, 1500, 500)
    revenue_by_month(small, 900, 900, 450, 450)
    revenue_by_month(grower, 100, 100, 50, 50)
    given(kpis={grower: {"revenue": 150}})  # grew over the whole run: not a contributor

    found = finding(evaluate(), regions["P"], "revenue_decline")

    assert found["threshold"] == "3"
    assert found["figures"] == {
        "revenue": {"2026-03": "1000.00", "2026-02": "2000.00", "2026-01": "3000.00", "2025-12": "4000.00"}
    }
    assert [(row["code"], row["figure"]) for row in found["partners"]] == [("DBG", "2500.00"), ("DSM", "450.00")]


def test_cross_territory_names_the_partners_selling_most_outside_their_territories(regions):
    a, b, c = (partner(regions["X"], code) for code in ("CTA", "CTB", "CTC"))
    given(
        kpis={
            a: {"revenue": 1000, "cross_territory_share": "0.1"},
            b: {"revenue": 500, "cross_territory_share": "0.5"},
            c: {"revenue": 800, "cross_territory_share": "0"},
            regions["X"]: {"revenue": 2300, "cross_territory_share": "0.152174"},
        }
    )
    found = finding(evaluate(), regions["X"], "cross_territory_above")
    assert found["threshold"] == "0.15"
    assert found["figures"] == {"cross_territory_share": "0.152174", "outside_revenue": "350.00", "revenue": "2300.00"}
    assert [(row["code"], row["figure"]) for row in found["partners"]] == [("CTB", "250.00"), ("CTA", "100.00")]


def test_several_rules_fire_together_in_their_fixed_order(regions):
    given(
        kpis={regions["Q"]: {"revenue": 100, "target_attainment": "0.5", "cross_territory_share": "0.4"}},
        scores={regions["Q"]: "20"},
    )
    assert rules_fired(evaluate(), regions["Q"]) == ["attainment_below", "score_below", "cross_territory_above"]


# Which regions are evaluated ---------------------------------------------------------------------


def test_a_city_and_its_province_are_both_flagged(regions):
    given(
        kpis={
            regions["X"]: {"target_attainment": "0.5"},
            regions["P"]: {"target_attainment": "0.7"},
            regions["C"]: {"target_attainment": "0.9"},
        }
    )
    found = evaluate()
    assert set(found) == {regions["X"].pk, regions["P"].pk}
    services.flags_evaluate(period=MONTH)
    assert sorted(RegionFlag.objects.values_list("region__code", flat=True)) == ["FP", "FX"]


def test_regions_without_data_in_the_month_are_not_evaluated(regions):
    # Z only has figures of earlier months; W has nothing; Q has a revenue of 0 this month.
    revenue_by_month(regions["Z"], 400, 300, 200, None)
    given(kpis={regions["Q"]: {"revenue": 0}})
    assert evaluate() == {}
    assert services.flags_evaluate(period=MONTH) == (0, 0)
    assert not RegionFlag.objects.exists()


# The rules as staff edit them ----------------------------------------------------------------------


def test_an_inactive_rule_does_not_fire(regions):
    given(kpis={regions["P"]: {"target_attainment": "0.1", "cross_territory_share": "0.9"}})
    services.flag_rule_save(code=FlagRuleCode.ATTAINMENT, threshold="0.8", is_active=False)
    assert rules_fired(evaluate(), regions["P"]) == ["cross_territory_above"]
    services.flag_rule_save(code=FlagRuleCode.CROSS_TERRITORY, threshold="0.15", is_active=False)
    assert evaluate() == {}


def test_an_inactive_decline_rule_does_not_fire(regions):
    revenue_by_month(regions["P"], 400, 300, 200, 100)
    services.flag_rule_save(code=FlagRuleCode.DECLINE, threshold="3", is_active=False)
    assert evaluate() == {}


def test_an_edited_threshold_takes_effect_on_the_next_evaluation(regions):
    given(kpis={regions["P"]: {"target_attainment": "0.85"}}, scores={regions["P"]: "65"})
    services.flags_evaluate(period=MONTH)
    assert not RegionFlag.objects.exists()

    services.flag_rule_save(code=FlagRuleCode.ATTAINMENT, threshold="0.9")
    services.flag_rule_save(code=FlagRuleCode.SCORE, threshold="65.5")
    services.flags_evaluate(period=MONTH)

    flag = RegionFlag.objects.get()
    assert flag.rules == ["attainment_below", "score_below"]
    assert [item["threshold"] for item in flag.findings] == ["0.9", "65.5"]


def test_a_rule_without_a_row_uses_its_default(regions):
    FlagRule.objects.filter(code=FlagRuleCode.SCORE).delete()
    given(scores={regions["P"]: "59.99"})
    found = finding(evaluate(), regions["P"], "score_below")
    assert found["threshold"] == "60"


def test_thresholds_and_figures_read_as_plain_decimals(regions):
    # Stored thresholds have four decimals (0.8000, 60.0000); the finding shows 0.8 and 60.
    assert FlagRule.objects.get(code=FlagRuleCode.SCORE).threshold == D("60.0000")
    given(kpis={regions["P"]: {"target_attainment": "0.5"}}, scores={regions["P"]: "50.00"})
    found = evaluate()[regions["P"].pk]
    assert [(item["threshold"], item["figures"].get("score")) for item in found] == [("0.8", None), ("60", "50")]
    assert found[0]["figures"]["target_attainment"] == "0.5"
