"""Scorecards: the scoring maths, templates (weights add up to 100), and the month's computation
from stored snapshots: scores, grades, ranks, the region roll-up through the hierarchy, missing
KPIs, idempotent reruns and a fixed number of queries."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from performance import scoring, services
from performance.choices import Grade, Kpi
from performance.models import (
    KpiSnapshot,
    PeriodComputation,
    RegionScorecard,
    Scorecard,
    ScorecardItem,
    ScorecardTemplate,
    SnapshotRun,
)
from prm.models import AuditEntry
from tests.factories import AnalystFactory, ChannelManagerFactory, PartnerFactory, PartnerTierFactory, RegionFactory

from .world import MONTH, D, build

# Pure maths --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [("0.4", "0.00"), ("0.5", "0.00"), ("0.75", "50.00"), ("1.0", "100.00"), ("1.7", "100.00"), ("0.9", "80.00")],
)
def test_an_item_scores_0_at_its_floor_100_at_its_target_and_linearly_between(value, expected):
    assert scoring.item_score(D(value), D("0.5"), D("1.0")) == D(expected)


@pytest.mark.parametrize(
    ("share", "expected"),
    [("0.40", "0.00"), ("0.30", "0.00"), ("0.15", "50.00"), ("0.00", "100.00"), ("0.20", "33.33")],
)
def test_cross_territory_share_is_lower_is_better(share, expected):
    # Default template: floor 0.30 (scores 0), target 0.00 (scores 100).
    assert scoring.item_score(D(share), D("0.3"), D("0")) == D(expected)


def test_an_item_score_is_rounded_half_up_to_the_cent():
    assert scoring.item_score(D("0.12345"), D("0"), D("1")) == D("12.35")  # banker's rounding: 12.34


@pytest.mark.parametrize(
    ("score", "grade"),
    [
        ("100", Grade.A),
        ("85", Grade.A),
        ("84.99", Grade.B),
        ("70", Grade.B),
        ("69.99", Grade.C),
        ("55", Grade.C),
        ("54.99", Grade.D),
        ("0", Grade.D),
    ],
)
def test_grades_at_their_boundaries(score, grade):
    assert scoring.grade(D(score)) == grade


numbers = st.decimals(min_value=-1000, max_value=1000, places=3, allow_nan=False, allow_infinity=False)


@given(a=numbers, b=numbers, floor=numbers, target=numbers)
def test_item_scores_stay_within_0_and_100_and_never_fall_as_the_value_gets_better(a, b, floor, target):
    if floor == target:
        return
    low, high = sorted([a, b])
    if floor > target:  # lower is better: the better value is the lower one
        low, high = high, low
    worse, better = scoring.item_score(low, floor, target), scoring.item_score(high, floor, target)
    assert D("0") <= worse <= better <= D("100")


def test_ties_share_a_rank_and_the_next_one_skips():
    assert scoring.competition_ranks({"a": D("95"), "b": D("90"), "c": D("90"), "d": D("80")}) == {
        "a": 1,
        "b": 2,
        "c": 2,
        "d": 4,
    }


# Templates ---------------------------------------------------------------------------------------


def item(kpi, weight, floor, target):
    return {"kpi": kpi, "weight": weight, "floor": floor, "target": target}


@pytest.mark.django_db
def test_the_default_template_is_installed_with_weights_adding_up_to_100():
    template = ScorecardTemplate.objects.get(is_default=True)
    items = {row.kpi: row for row in template.items.all()}
    assert sum(row.weight for row in items.values()) == D("100")
    assert items[Kpi.TARGET_ATTAINMENT].weight == D("30")
    assert items[Kpi.CROSS_TERRITORY_SHARE].lower_is_better
    assert not any(row.lower_is_better for kpi, row in items.items() if kpi != Kpi.CROSS_TERRITORY_SHARE)


@pytest.mark.django_db
def test_weights_that_do_not_add_up_to_100_are_refused_and_nothing_is_written():
    with pytest.raises(ValidationError) as error:
        services.scorecard_template_save(
            template=ScorecardTemplate(name="Lean"),
            items=[item("target_attainment", "60", "0.5", "1"), item("price_compliance", "30", "0.8", "1")],
            by=ChannelManagerFactory(),
        )
    assert error.value.message_dict == {"items": ["The weights add up to 90; they must add up to 100."]}
    assert not ScorecardTemplate.objects.filter(name="Lean").exists()


@pytest.mark.django_db
def test_every_bad_item_is_reported_with_its_row_and_kpi():
    with pytest.raises(ValidationError) as error:
        services.scorecard_template_save(
            template=ScorecardTemplate(name="Bad"),
            items=[
                item("revenue_target", "10", "0", "1"),
                item("target_attainment", "0", "0.5", "1"),
                item("growth_yoy", "20", "0.2", "-0.1"),
                item("cross_territory_share", "10", "0", "0.3"),
                item("price_compliance", "10", "abc", "1"),
                item("growth_yoy", "10", "-0.1", "0.2"),
            ],
        )
    assert error.value.message_dict["items"] == [
        "Item 1: “Revenue target” is not a KPI a scorecard can score.",
        "Item 2 (Target attainment): enter a weight above 0 and up to 100, two decimals at most.",
        "Item 3 (Growth year over year): the floor must be below the target.",
        "Item 4 (Cross-territory sales share): lower is better, so the floor must be above the target.",
        "Item 5 (Price compliance): enter a number for the floor and the target.",
        "Item 6 (Growth year over year): this KPI is already in an earlier item.",
    ]
    assert not ScorecardTemplate.objects.filter(name="Bad").exists()


@pytest.mark.django_db
def test_a_new_default_replaces_the_old_one_and_is_recorded():
    old = ScorecardTemplate.objects.get(is_default=True)
    manager = ChannelManagerFactory()
    new = services.scorecard_template_save(
        template=ScorecardTemplate(name="Attainment only", is_default=True),
        items=[item("target_attainment", "100", "0", "1")],
        by=manager,
    )
    old.refresh_from_db()
    assert (new.is_default, old.is_default) == (True, False)
    assert [(row.kpi, row.weight) for row in new.items.all()] == [(Kpi.TARGET_ATTAINMENT, D("100"))]
    entry = AuditEntry.objects.get(object_type="performance.scorecardtemplate", object_id=str(new.pk))
    assert (entry.actor, entry.changes["items"]) == (manager, [[], ["target_attainment 100 0 1"]])


@pytest.mark.django_db
def test_the_default_cannot_be_unset_or_made_inactive():
    default = ScorecardTemplate.objects.get(is_default=True)
    items = [item(row.kpi, row.weight, row.floor, row.target) for row in default.items.all()]
    default.is_default = False
    with pytest.raises(ValidationError) as error:
        services.scorecard_template_save(template=default, items=items)
    assert "is_default" in error.value.message_dict
    default.is_default, default.is_active = True, False
    with pytest.raises(ValidationError) as error:
        services.scorecard_template_save(template=default, items=items)
    assert error.value.message_dict == {"is_active": ["The default template must be active."]}
    # and the database refuses a second default whatever writes it
    with pytest.raises(IntegrityError), transaction.atomic():
        ScorecardTemplate.objects.create(name="Second", is_default=True)


@pytest.mark.django_db
def test_an_analyst_cannot_edit_a_template():
    with pytest.raises(PermissionDenied):
        services.scorecard_template_save(
            template=ScorecardTemplate(name="X"),
            items=[item("target_attainment", "100", "0", "1")],
            by=AnalystFactory(),
        )


# Computing a month's scorecards -----------------------------------------------------------------


def use_template(*items):
    return services.scorecard_template_save(
        template=ScorecardTemplate(name="Test", is_default=True), items=[item(*row) for row in items]
    )


def given_snapshots(rows, period=MONTH):
    """Store the month's partner snapshots {partner: {kpi: value}} as a computation would."""
    run = SnapshotRun.objects.create(period=period, rows=0, finished_at=timezone.now())
    PeriodComputation.objects.update_or_create(
        period=period, defaults={"current_run": run, "period_start": f"{period}-01"}
    )
    KpiSnapshot.objects.filter(period=period).delete()
    KpiSnapshot.objects.bulk_create(
        KpiSnapshot(
            partner=partner,
            period=period,
            period_start=f"{period}-01",
            kpi=kpi,
            value=D(value),
            computed_at=run.started_at,
            run=run,
        )
        for partner, kpis in rows.items()
        for kpi, value in kpis.items()
    )


def card(partner, period=MONTH):
    return Scorecard.objects.get(partner=partner, period=period)


def stored():
    partners = Scorecard.objects.values_list("partner_id", "score", "grade", "rank_in_region", "rank_in_tier")
    regions = RegionScorecard.objects.values_list("region_id", "score", "grade", "partners", "revenue")
    return sorted(partners), sorted(regions)


@pytest.mark.django_db
def test_three_partners_scored_by_hand_under_the_default_template():
    world = build()
    services.snapshots_compute(period=MONTH)
    result = services.scorecards_compute(period=MONTH)

    # A: attainment 0.8 → 60 ×30; growth −0.2 → 0 ×15; compliance 0.8 → 0 ×15; cross-territory
    # 0.2 → 33.33 ×10; training 2/3 → 33.33 ×10; satisfaction 86.5 → 88.33 ×10; return 5 → 0 ×10
    # = 3349.90 ÷ 100.
    a = card(world.a)
    assert (a.score, a.grade, a.template.is_default) == (D("33.50"), Grade.D, True)
    # B has only price compliance (1.0 → 100): the weights of its missing KPIs are redistributed.
    assert (card(world.b).score, card(world.b).grade) == (D("100.00"), Grade.A)
    # D sold nothing in March: only its satisfaction 70 → 33.33.
    assert (card(world.d).score, card(world.d).grade) == (D("33.33"), Grade.D)
    assert (result.period, result.scorecards) == (MONTH, 3)

    # Region P (A in X, B in Y): revenue-weighted (2,000 × 33.50 + 1,000 × 100) ÷ 3,000 = 55.67;
    # D sold nothing, so Q and Z have no score and D weighs nothing in C.
    regions = {row.region.code: row for row in RegionScorecard.objects.select_related("region")}
    assert {code: row.score for code, row in regions.items()} == {
        "C": D("55.67"),
        "P": D("55.67"),
        "X": D("33.50"),
        "Y": D("100.00"),
    }
    assert (regions["C"].partners, regions["C"].revenue, regions["P"].grade) == (3, D("3000.00"), Grade.C)


@pytest.fixture
def hierarchy():
    """Country C → province P → city X; C → province Q. Two tiers."""
    c = RegionFactory(code="C")
    p = RegionFactory(code="P", parent=c)
    x = RegionFactory(code="X", parent=p)
    q = RegionFactory(code="Q", parent=c)
    gold, silver = PartnerTierFactory(), PartnerTierFactory()
    return {"C": c, "P": p, "X": x, "Q": q, "gold": gold, "silver": silver}


@pytest.mark.django_db
def test_ranks_in_region_and_tier_and_the_roll_up_through_three_levels(hierarchy):
    h = hierarchy
    use_template(("target_attainment", "100", "0", "1"))  # score = attainment × 100
    a = PartnerFactory(region=h["X"], tier=h["gold"])
    f = PartnerFactory(region=h["X"], tier=h["silver"])
    b = PartnerFactory(region=h["X"], tier=h["silver"])
    c = PartnerFactory(region=h["P"], tier=h["gold"])
    d = PartnerFactory(region=h["Q"], tier=None)
    e = PartnerFactory(region=h["C"], tier=h["gold"])
    given_snapshots(
        {
            a: {"target_attainment": "0.8", "revenue": "1000"},
            f: {"target_attainment": "0.8", "revenue": "0"},
            b: {"target_attainment": "0.4", "revenue": "3000"},
            c: {"target_attainment": "1.2", "revenue": "1000"},
            d: {"target_attainment": "0.5", "revenue": "0"},
            e: {"target_attainment": "0.1", "revenue": "1000"},
        }
    )
    services.scorecards_compute(period=MONTH, by=ChannelManagerFactory())

    ranks = {p: (card(p).score, card(p).rank_in_region, card(p).rank_in_tier) for p in (a, f, b, c, d, e)}
    assert ranks == {
        a: (D("80.00"), 1, 2),  # ties with f in X; behind c in gold
        f: (D("80.00"), 1, 1),
        b: (D("40.00"), 3, 2),  # after the two tied at 1
        c: (D("100.00"), 1, 1),  # alone in P itself (X's partners rank in X)
        d: (D("50.00"), 1, None),  # no tier, no rank in tier
        e: (D("10.00"), 1, 3),
    }
    regions = {row.region_id: (row.score, row.partners, row.revenue) for row in RegionScorecard.objects.all()}
    assert regions == {
        h["X"].pk: (D("50.00"), 3, D("4000")),  # (80 × 1,000 + 80 × 0 + 40 × 3,000) ÷ 4,000
        h["P"].pk: (D("60.00"), 4, D("5000")),  # + 100 × 1,000
        h["C"].pk: (D("51.67"), 6, D("6000")),  # + 50 × 0 + 10 × 1,000 → 310,000 ÷ 6,000
    }  # Q: its only partner sold nothing, no score


@pytest.mark.django_db
def test_a_missing_kpi_gives_its_weight_to_the_others_and_no_kpi_means_no_scorecard():
    use_template(("target_attainment", "60", "0", "1"), ("price_compliance", "40", "0.8", "1"))
    both, compliance_only, neither = PartnerFactory(), PartnerFactory(), PartnerFactory()
    given_snapshots(
        {
            both: {"target_attainment": "1", "price_compliance": "0.9", "revenue": "10"},
            compliance_only: {"price_compliance": "0.9", "revenue": "10"},
            neither: {"revenue": "10", "units": "3"},
        }
    )
    result = services.scorecards_compute(period=MONTH)
    assert card(both).score == D("80.00")  # (60 × 100 + 40 × 50) ÷ 100
    assert card(compliance_only).score == D("50.00")  # 40 × 50 ÷ 40
    assert not Scorecard.objects.filter(partner=neither).exists()
    assert result.scorecards == 2


@pytest.mark.django_db
def test_rerunning_gives_the_same_cards_and_a_recompute_replaces_them():
    world = build()
    services.snapshots_compute(period=MONTH)
    services.scorecards_compute(period=MONTH)
    once = stored()
    services.scorecards_compute(period=MONTH)
    assert stored() == once
    assert Scorecard.objects.count() == len(once[0])

    KpiSnapshot.objects.filter(partner=world.b).delete()  # B no longer scored
    services.scorecards_compute(period=MONTH)
    assert not Scorecard.objects.filter(partner=world.b).exists()
    assert RegionScorecard.objects.get(region=world.regions["P"]).score == D("33.50")


@pytest.mark.django_db
def test_other_months_keep_their_cards():
    partner = PartnerFactory()
    use_template(("target_attainment", "100", "0", "1"))
    given_snapshots({partner: {"target_attainment": "0.5", "revenue": "1"}}, period="2026-02")
    services.scorecards_compute(period="2026-02")
    given_snapshots({partner: {"target_attainment": "0.9", "revenue": "1"}})
    services.scorecards_compute(period=MONTH)
    assert (card(partner, "2026-02").score, card(partner).score) == (D("50.00"), D("90.00"))


@pytest.mark.django_db
def test_a_month_whose_snapshots_were_never_computed_is_refused():
    with pytest.raises(ValidationError) as error:
        services.scorecards_compute(period=MONTH)
    assert error.value.message_dict == {"period": ["Compute the KPI snapshots of 2026-03 first."]}
    assert not PeriodComputation.objects.exists()


@pytest.mark.django_db
def test_without_a_default_template_nothing_is_computed():
    given_snapshots({PartnerFactory(): {"revenue": "1"}})
    ScorecardTemplate.objects.update(is_default=False)
    with pytest.raises(ValidationError) as error:
        services.scorecards_compute(period=MONTH)
    assert error.value.message_dict == {"template": ["There is no default scorecard template: make one the default."]}


@pytest.mark.django_db
@pytest.mark.parametrize("period", ["2026-Q1", "2026", "March"])
def test_scorecards_are_per_month(period):
    with pytest.raises(ValidationError) as error:
        services.scorecards_compute(period=period)
    assert "period" in error.value.message_dict


@pytest.mark.django_db
def test_an_analyst_cannot_compute_scorecards():
    with pytest.raises(PermissionDenied):
        services.scorecards_compute(period=MONTH, by=AnalystFactory())


@pytest.mark.django_db
def test_a_score_is_between_0_and_100_in_the_database():
    partner = PartnerFactory()
    template = ScorecardTemplate.objects.get(is_default=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        Scorecard.objects.create(
            partner=partner, period=MONTH, template=template, score=D("100.01"), grade="A", computed_at=timezone.now()
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        ScorecardItem.objects.create(template=template, kpi=Kpi.UNITS, weight=D("5"), floor=D("1"), target=D("1"))


def many_partners(count):
    top = RegionFactory()
    tier = PartnerTierFactory()
    rows = {}
    for index in range(count):
        partner = PartnerFactory(region=RegionFactory(parent=RegionFactory(parent=top)), tier=tier)
        rows[partner] = {kpi: Decimal(index % 7) / 7 for kpi in ("target_attainment", "price_compliance", "growth_yoy")}
        rows[partner]["revenue"] = Decimal(100 + index)
    given_snapshots(rows)


@pytest.mark.django_db
def test_the_number_of_queries_does_not_grow_with_the_partners(django_assert_max_num_queries):
    many_partners(2)
    with CaptureQueriesContext(connection) as queries:
        services.scorecards_compute(period=MONTH)
    few = len(queries)
    many_partners(10)
    with django_assert_max_num_queries(few):
        result = services.scorecards_compute(period=MONTH)
    assert result.scorecards == 10  # the second set of snapshots replaced the first
    # 12, with the replaced cards' tombstones (2) and the month's scorecard.published events
    # (4: the scores they replace, the new cards, the events, their endpoints)
    assert few <= 18
