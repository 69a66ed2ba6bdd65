"""Policies, previews and statements: known data to the exact cent, overrides to the right
ancestors, immutability after approval, adjustments and transitions."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from incentives import services
from incentives.choices import LineKind, RebateBasis, RebateMethod, StatementStatus
from incentives.models import RebatePolicy, RebateStatement, StatementLine
from prm.models import AuditEntry
from tests.factories import (
    AnalystFactory,
    OverridePolicyFactory,
    PartnerFactory,
    PartnerTierFactory,
    ProductLineFactory,
    RebatePolicyFactory,
)

from .world import AFTER_PERIOD, BEFORE_PERIOD, PERIOD, admin, assign, network, sell

pytestmark = pytest.mark.django_db

BRACKETS = [{"threshold": "0", "rate": "10"}, {"threshold": "1000", "rate": "20"}, {"threshold": "3000", "rate": "30"}]


def lines_of(statement):
    return list(statement.lines.order_by("id"))


# Policies ------------------------------------------------------------------------------------


def test_policy_create_with_only_the_required_fields_and_audit():
    by = admin()
    policy = services.policy_create(
        by=by, name="Q rebate", basis="revenue", period="quarter", method="marginal", brackets=BRACKETS
    )
    assert [(b.threshold, b.rate) for b in policy.brackets.all()] == [(0, 10), (1000, 20), (3000, 30)]
    assert policy.cap is None and policy.is_active
    assert AuditEntry.objects.filter(object_type="incentives.rebatepolicy", action="create").count() == 1


def test_policy_create_refuses_bad_brackets_and_writes_nothing():
    with pytest.raises(ValidationError) as caught:
        services.policy_create(
            by=admin(), name="Bad", basis="revenue", period="month", method="marginal",
            brackets=[{"threshold": "0", "rate": "10"}, {"threshold": "0", "rate": "120"}],
        )  # fmt: skip
    assert "Row 2" in " ".join(caught.value.message_dict["brackets"])
    assert not RebatePolicy.objects.exists()


def test_policy_create_refuses_a_bad_method_and_an_analyst():
    with pytest.raises(ValidationError) as caught:
        services.policy_create(by=admin(), name="X", basis="revenue", period="month", method="flat", brackets=BRACKETS)
    assert "method" in caught.value.message_dict
    with pytest.raises(PermissionDenied):
        services.policy_create(
            by=AnalystFactory(), name="X", basis="revenue", period="month", method="marginal", brackets=BRACKETS
        )


def test_policy_update_replaces_brackets_and_records_the_change():
    by = admin()
    policy = RebatePolicyFactory()
    services.policy_update(policy=policy, by=by, brackets=[("0", "5")], cap="100.00", method=RebateMethod.RETROACTIVE)
    policy.refresh_from_db()
    assert [(b.threshold, b.rate) for b in policy.brackets.all()] == [(0, 5)]
    assert policy.cap == Decimal("100.00") and policy.method == RebateMethod.RETROACTIVE
    entry = AuditEntry.objects.get(object_type="incentives.rebatepolicy", action="update")
    assert set(entry.changes) >= {"brackets", "cap", "method"}


def test_preview_answers_740_and_applies_multiplier_and_cap_for_a_partner():
    tier = PartnerTierFactory()
    policy = services.policy_create(
        by=admin(), name="P", basis="revenue", period="month", method="marginal", brackets=BRACKETS,
        tier_multipliers={tier: "1.5"}, cap="1000.00",
    )  # fmt: skip
    preview = services.policy_preview(policy=policy, volume="3800.00")
    assert preview["amount"] == Decimal("740.00")
    assert [line["amount"] for line in preview["lines"]] == [Decimal("100.00"), Decimal("400.00"), Decimal("240.00")]
    with_partner = services.policy_preview(policy=policy, volume="3800.00", partner=PartnerFactory(tier=tier))
    assert with_partner["amount"] == Decimal("1000.00")  # 1110.00 capped
    assert with_partner["lines"][-1]["kind"] == LineKind.CAP
    untiered = services.policy_preview(policy=policy, volume="3800.00", partner=PartnerFactory())
    assert untiered["amount"] == Decimal("740.00")  # a tier without a multiplier earns × 1
    with pytest.raises(ValidationError):
        services.policy_preview(policy=policy, volume="-1")


# Statements from known data ------------------------------------------------------------------


def test_statement_from_known_sales_to_the_cent():
    by = admin()
    partner = PartnerFactory()
    eligible, other = ProductLineFactory(), ProductLineFactory()
    marginal = RebatePolicyFactory(name="Marginal", product_lines=[eligible])
    retro = RebatePolicyFactory(name="Retro", method=RebateMethod.RETROACTIVE, brackets=[(0, 1), (2000, "2.5")])
    assign(partner, marginal)
    assign(partner, retro)
    sell(partner, "2500.00", line=eligible)
    sell(partner, "1300.50", line=eligible)
    sell(partner, "999.99", line=other)  # not eligible for the marginal policy
    sell(partner, "5000.00", line=eligible, on=AFTER_PERIOD)
    sell(partner, "5000.00", line=eligible, on=BEFORE_PERIOD)

    statement = services.statement_calculate(partner=partner, period=PERIOD, by=by)

    rebate = [(line.rebate_policy.name, line.bracket_threshold, line.rate, line.amount) for line in lines_of(statement)]
    assert rebate == [
        ("Marginal", 0, 10, Decimal("100.00")),
        ("Marginal", 1000, 20, Decimal("400.00")),
        ("Marginal", 3000, 30, Decimal("240.15")),  # 800.50 × 30 %
        ("Retro", 2000, Decimal("2.5"), Decimal("120.01")),  # 4800.49 × 2.5 % = 120.01225
    ]
    assert statement.total == Decimal("860.16")
    assert statement.total == sum(line.amount for line in lines_of(statement))
    assert statement.status == StatementStatus.CALCULATED and statement.period_start.isoformat() == "2026-03-01"


def test_units_basis_picks_the_bracket_by_units_and_pays_on_revenue():
    partner = PartnerFactory()
    policy = RebatePolicyFactory(basis=RebateBasis.UNITS, method=RebateMethod.RETROACTIVE, brackets=[(0, 0), (100, 5)])
    assign(partner, policy)
    sell(partner, "7000.00", quantity="70")
    sell(partner, "3000.00", quantity="30")
    statement = services.statement_calculate(partner=partner, period=PERIOD)
    assert statement.total == Decimal("500.00")  # 100 units reach 5 %, on 10000.00


def test_only_policies_of_agreements_earning_in_the_period_count():
    partner = PartnerFactory()
    sell(partner, "1000.00")
    assign(partner, RebatePolicyFactory(name="draft"), status="draft")
    assign(partner, RebatePolicyFactory(name="later"), start_date="2026-04-01")
    assign(partner, RebatePolicyFactory(name="inactive", is_active=False))
    assign(partner, RebatePolicyFactory(name="quarterly", period="quarter"))
    assign(partner, RebatePolicyFactory(name="expired", valid_to="2026-02-28"))
    assign(partner, RebatePolicyFactory(name="ok", brackets=[(0, 1)]), status="expired")
    statement = services.statement_calculate(partner=partner, period=PERIOD)
    assert [line.rebate_policy.name for line in lines_of(statement)] == ["ok"]
    assert statement.total == Decimal("10.00")


def test_tier_multiplier_and_cap_in_a_statement():
    tier = PartnerTierFactory()
    partner = PartnerFactory(tier=tier)
    policy = services.policy_create(
        by=None, name="Capped", basis="revenue", period="month", method="retroactive",
        brackets=BRACKETS, tier_multipliers={tier: "2"}, cap="1500",
    )  # fmt: skip
    assign(partner, policy)
    sell(partner, "3800.00")
    statement = services.statement_calculate(partner=partner, period=PERIOD)
    assert [(line.kind, line.multiplier, line.amount) for line in lines_of(statement)] == [
        (LineKind.REBATE, 2, Decimal("2280.00")),
        (LineKind.CAP, 2, Decimal("-780.00")),
    ]
    assert statement.total == Decimal("1500.00")


# Overrides -----------------------------------------------------------------------------------


def test_override_goes_to_parent_and_grandparent_only():
    net = network()
    OverridePolicyFactory(name="Network", rates={1: 3, 2: 1})
    sell(net.seller, "10000.00")
    sell(net.leaf, "1000.00")
    sell(net.mid, "2000.00")

    def overrides(partner):
        statement = services.statement_calculate(partner=partner, period=PERIOD)
        return statement, [(line.source_partner, line.level, line.amount) for line in lines_of(statement)]

    mid, mid_lines = overrides(net.mid)
    assert sorted(mid_lines, key=lambda row: row[1]) == [
        (net.seller, 1, Decimal("300.00")),
        (net.leaf, 2, Decimal("10.00")),
    ]
    assert mid.total == Decimal("310.00")
    top, top_lines = overrides(net.top)
    # From the seller two levels down and mid one level down; nothing from the leaf (level 3).
    assert sorted(top_lines, key=lambda row: row[1]) == [
        (net.mid, 1, Decimal("60.00")),
        (net.seller, 2, Decimal("100.00")),
    ]
    seller, seller_lines = overrides(net.seller)
    assert seller_lines == [(net.leaf, 1, Decimal("30.00"))]
    sibling, sibling_lines = overrides(net.sibling)
    assert sibling_lines == [] and sibling.total == 0
    assert top.total == Decimal("160.00")
    _leaf, leaf_lines = overrides(net.leaf)
    assert leaf_lines == []


def test_override_only_on_eligible_product_lines():
    net = network()
    eligible = ProductLineFactory()
    OverridePolicyFactory(rates={1: "2.5"}, product_lines=[eligible])
    sell(net.seller, "100.10", line=eligible)
    sell(net.seller, "9999.00")
    statement = services.statement_calculate(partner=net.mid, period=PERIOD)
    assert statement.total == Decimal("2.50")  # 2.5025 → 2.50


# Recalculation, immutability, adjustments, transitions ---------------------------------------


def rebate_world():
    partner = PartnerFactory()
    assign(partner, RebatePolicyFactory())
    sell(partner, "3800.00")
    return partner


def test_recalculating_a_calculated_statement_replaces_its_lines_and_keeps_adjustments():
    by = admin()
    partner = rebate_world()
    first = services.statement_calculate(partner=partner, period=PERIOD, by=by)
    services.statement_add_adjustment(statement=first, amount="-15.25", reason="Returned goods", by=by)
    sell(partner, "200.00")
    second = services.statement_calculate(partner=partner, period=PERIOD, by=by)
    assert second.pk == first.pk
    assert second.total == Decimal("784.75")  # 100 + 400 + 300 − 15.25
    assert StatementLine.objects.filter(statement=second).count() == 4
    assert RebateStatement.objects.count() == 1


def test_an_approved_statement_never_changes():
    by = admin()
    partner = rebate_world()
    statement = services.statement_approve(
        statement=services.statement_calculate(partner=partner, period=PERIOD), by=by
    )
    sell(partner, "1000.00")
    with pytest.raises(ValidationError, match="never changes"):
        services.statement_calculate(partner=partner, period=PERIOD, by=by)
    with pytest.raises(ValidationError):
        services.statement_add_adjustment(statement=statement, amount="1.00", reason="late", by=by)
    statement.refresh_from_db()
    assert statement.total == Decimal("740.00") and statement.lines.count() == 3
    assert statement.approved_by == by and statement.approved_at is not None
    # Paid: still never changes.
    services.statement_mark_paid(statement=statement, by=by)
    with pytest.raises(ValidationError):
        services.statement_calculate(partner=partner, period=PERIOD, by=by)


def test_a_correction_is_an_adjustment_on_a_later_statement():
    by = admin()
    partner = rebate_world()
    services.statement_approve(statement=services.statement_calculate(partner=partner, period=PERIOD), by=by)
    april = services.statement_calculate(partner=partner, period="2026-04", by=by)
    line = services.statement_add_adjustment(statement=april, amount="12.34", reason="March: late sale", by=by)
    april.refresh_from_db()
    assert line.kind == LineKind.ADJUSTMENT and line.created_by == by
    assert april.total == Decimal("12.34") == sum(line.amount for line in april.lines.all())


@pytest.mark.parametrize(
    ("amount", "reason", "field"),
    [("abc", "x", "amount"), ("1.005", "x", "amount"), ("1.00", "  ", "reason")],
)
def test_adjustment_refuses_bad_input(amount, reason, field):
    statement = services.statement_calculate(partner=rebate_world(), period=PERIOD)
    with pytest.raises(ValidationError) as caught:
        services.statement_add_adjustment(statement=statement, amount=amount, reason=reason, by=admin())
    assert field in caught.value.message_dict


def test_legal_and_illegal_transitions():
    by = admin()
    statement = services.statement_calculate(partner=rebate_world(), period=PERIOD)
    with pytest.raises(ValidationError, match="cannot go from Calculated to Paid"):
        services.statement_mark_paid(statement=statement, by=by)
    services.statement_approve(statement=statement, by=by)
    with pytest.raises(ValidationError, match="cannot go from Approved to Approved"):
        services.statement_approve(statement=statement, by=by)
    services.statement_mark_paid(statement=statement, by=by)
    with pytest.raises(ValidationError, match="cannot go from Paid to Cancelled"):
        services.statement_cancel(statement=statement, by=by)
    with pytest.raises(PermissionDenied):
        services.statement_approve(statement=statement, by=AnalystFactory())
    assert AuditEntry.objects.filter(object_type="incentives.rebatestatement", action="status").count() == 2


def test_a_cancelled_statement_frees_the_period_for_a_new_one():
    by = admin()
    partner = rebate_world()
    first = services.statement_cancel(statement=services.statement_calculate(partner=partner, period=PERIOD), by=by)
    second = services.statement_calculate(partner=partner, period=PERIOD, by=by)
    assert second.pk != first.pk and second.status == StatementStatus.CALCULATED
    assert RebateStatement.objects.filter(partner=partner).count() == 2


def test_bad_period_is_a_field_error():
    with pytest.raises(ValidationError) as caught:
        services.statement_calculate(partner=PartnerFactory(), period="2026-13")
    assert "period" in caught.value.message_dict


def test_statements_are_visible_only_to_their_partner():
    from tests.factories import PartnerUserFactory

    mine, theirs = rebate_world(), rebate_world()
    services.statement_calculate(partner=mine, period=PERIOD)
    services.statement_calculate(partner=theirs, period=PERIOD)
    user = PartnerUserFactory(partner=mine)
    assert list(RebateStatement.objects.visible_to(user).values_list("partner", flat=True)) == [mine.pk]
    assert set(StatementLine.objects.visible_to(user).values_list("statement__partner", flat=True)) == {mine.pk}
    assert not RebatePolicy.objects.visible_to(user).exists()


def test_each_line_explains_itself_in_the_active_language():
    from django.utils import translation

    net = network()
    OverridePolicyFactory(name="Network", rates={1: 3})
    policy = RebatePolicyFactory(name="Marginal", cap=Decimal("150"))
    assign(net.mid, policy)
    sell(net.mid, "3800.00")
    sell(net.seller, "1000.00")
    statement = services.statement_calculate(partner=net.mid, period=PERIOD, by=admin())
    services.statement_add_adjustment(statement=statement, amount="1.00", reason="Goodwill", by=admin())
    texts = [line.explanation for line in lines_of(statement)]
    assert texts == [
        "Marginal: the slice from 0 at 10%",
        "Marginal: the slice from 1,000 at 20%",
        "Marginal: the slice from 3,000 at 30%",
        "Marginal: capped at 150.00",
        f"Network: 3% of the sales of {net.seller} (level 1 above the seller)",
        "Goodwill",
    ]
    with translation.override("zh-hans"):
        assert lines_of(statement)[0].explanation  # composed when shown, never stored
