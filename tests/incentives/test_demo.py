"""`manage.py seed_demo` for incentives: policies of both methods assigned to the demo agreements,
statements in every status that reconcile with their lines and with the sales they came from,
MDF budgets (by hand and from the tier allowance) never overspent, requests in every status with
proof where it belongs, and nothing new the second time."""

import pytest
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from agreements.choices import AgreementStatus
from incentives import selectors, services
from incentives.choices import BudgetSource, LineKind, MdfStatus, RebateBasis, RebateMethod, StatementStatus
from incentives.models import (
    MdfBudget,
    MdfRequest,
    OverridePolicy,
    PolicyAssignment,
    RebatePolicy,
    RebateStatement,
    StatementLine,
)
from prm.periods import Period, PeriodKind
from tests.demo import row_counts, seed

pytestmark = pytest.mark.django_db

SHOWCASE = "D-EAST-1"


def lines_snapshot(period):
    return sorted(
        StatementLine.objects.filter(statement__period=period)
        .exclude(statement__status=StatementStatus.CANCELLED)
        .values_list("statement__partner_id", "kind", "rebate_policy_id", "source_partner_id", "level", "amount")
    )


def test_policies_of_both_methods_and_bases_with_lines_caps_multipliers_and_an_override(demo):
    policies = RebatePolicy.objects.prefetch_related("product_lines", "tier_multipliers", "brackets")
    assert {p.method for p in policies} == {RebateMethod.MARGINAL, RebateMethod.RETROACTIVE}
    assert {p.basis for p in policies} == {RebateBasis.REVENUE, RebateBasis.UNITS}
    assert all(p.product_lines.exists() and p.brackets.first().threshold == 0 for p in policies)
    assert policies.filter(cap__isnull=False).exists()
    assert any(row.multiplier > 1 for p in policies for row in p.tier_multipliers.all())
    override = OverridePolicy.objects.get()
    assert sorted(override.rates.values_list("level", flat=True)) == [1, 2]


def test_policies_go_to_agreements_that_earn(demo):
    links = PolicyAssignment.objects.select_related("agreement")
    assert links.count() >= 40
    assert {link.agreement.status for link in links} <= {AgreementStatus.ACTIVE, AgreementStatus.EXPIRED}
    for link in links.prefetch_related("agreement__product_lines", "policy__product_lines")[:20]:
        covered = set(link.agreement.product_lines.values_list("pk", flat=True))
        assert covered & set(link.policy.product_lines.values_list("pk", flat=True))


def test_statements_in_every_status_reconcile_with_their_lines(demo):
    statements = RebateStatement.objects.prefetch_related("lines")
    assert set(statements.values_list("status", flat=True)) == set(StatementStatus.values)
    for statement in statements:
        assert statement.total == sum((line.amount for line in statement.lines.all()), 0), statement
    assert StatementLine.objects.filter(kind=LineKind.ADJUSTMENT).count() >= 1
    assert StatementLine.objects.filter(kind=LineKind.OVERRIDE).exists()
    assert StatementLine.objects.filter(kind=LineKind.CAP).exists()
    showcase = statements.filter(partner__code=SHOWCASE)
    assert {s.status for s in showcase} >= {StatementStatus.CALCULATED, StatementStatus.APPROVED, StatementStatus.PAID}
    # Every statement is for a month that has closed, and its stamps are not in the future.
    this_month = Period.containing(timezone.localdate()).code
    assert not statements.filter(period__gte=this_month).exists()
    assert not statements.filter(Q(approved_at__gt=timezone.now()) | Q(paid_at__gt=timezone.now())).exists()


def test_statements_are_what_the_sales_give(demo):
    """Calculating the demo months again changes no calculated line and no approved or paid one."""
    periods = sorted(set(RebateStatement.objects.values_list("period", flat=True)))
    before = {period: lines_snapshot(period) for period in periods}
    locked = sorted(RebateStatement.objects.filter(status__in=StatementStatus.LOCKED).values_list("pk", "total"))
    with transaction.atomic():
        for period in periods:
            services.statements_calculate_all(period=period)
        assert {period: lines_snapshot(period) for period in periods} == before
        assert (
            sorted(RebateStatement.objects.filter(status__in=StatementStatus.LOCKED).values_list("pk", "total"))
            == locked
        )
        transaction.set_rollback(True)


def test_mdf_budgets_for_this_quarter_and_the_last_by_hand_and_from_tiers(demo):
    quarter = Period.containing(timezone.localdate(), PeriodKind.QUARTER)
    budgets = MdfBudget.objects.all()
    assert set(budgets.values_list("period", flat=True)) == {quarter.code, quarter.previous().code}
    assert set(budgets.values_list("source", flat=True)) == {BudgetSource.MANUAL, BudgetSource.TIER}
    tier = budgets.filter(source=BudgetSource.TIER).first()
    assert tier.basis_revenue is not None and tier.allowance_percent > 0
    for budget in selectors.with_usage(budgets):
        assert budget.remaining >= 0, budget  # never overspent
        assert budget.committed == budget.reserved + budget.claimed + budget.paid


def test_mdf_requests_in_every_status_with_proof_where_it_belongs(demo):
    requests = MdfRequest.objects.select_related("budget").prefetch_related("proofs")
    assert set(requests.values_list("status", flat=True)) == set(MdfStatus.values)
    for request in requests:
        assert request.budget.period_start <= request.start_date <= request.budget.period_end
        assert request.partner_id == request.budget.partner_id
        if request.status in (MdfStatus.CLAIMED, MdfStatus.PAID):
            proof = request.proofs.get()
            assert proof.content_type == "application/pdf"
            with proof.file.open("rb") as handle:
                assert handle.read(5) == b"%PDF-"
            assert request.actual_amount <= request.approved_amount <= request.requested_amount
        if request.status == MdfStatus.REJECTED:
            assert request.decision_note
    showcase = set(requests.filter(partner__code=SHOWCASE).values_list("status", flat=True))
    assert showcase == set(MdfStatus.values)
    # The managers' queues are not empty: requests to decide and claims to review elsewhere too.
    others = requests.exclude(partner__code=SHOWCASE)
    assert others.filter(status=MdfStatus.SUBMITTED).count() >= 2 and others.filter(status=MdfStatus.CLAIMED).exists()
    assert any("\u4e00" <= char <= "\u9fff" for title in requests.values_list("title", flat=True) for char in title)


def test_running_it_twice_creates_nothing_new(demo):
    first = row_counts()

    seed()

    assert row_counts() == first
