"""Calculating every statement of a period: set-based, idempotent, leaves approved statements
alone; and the period-close task."""

from datetime import date
from decimal import Decimal

import pytest
from django.conf import settings

from incentives import services, tasks
from incentives.choices import StatementStatus
from incentives.models import RebateStatement, StatementLine
from prm.models import JobRun
from prm.periods import Period
from tests.factories import OverridePolicyFactory, PartnerFactory, RebatePolicyFactory

from .world import PERIOD, admin, assign, network, sell

pytestmark = pytest.mark.django_db


def partners_with_sales(count, policy):
    partners = []
    for index in range(count):
        partner = PartnerFactory()
        assign(partner, policy)
        sell(partner, f"{1000 + index * 500}.00")
        partners.append(partner)
    return partners


def snapshot():
    return sorted(
        StatementLine.objects.values_list(
            "statement__partner_id", "kind", "bracket_threshold", "source_partner_id", "level", "amount"
        )
    )


def test_calculate_all_covers_rebates_and_overrides_and_is_idempotent():
    policy = RebatePolicyFactory()
    partners = partners_with_sales(3, policy)
    net = network()
    OverridePolicyFactory(rates={1: 3, 2: 1})
    sell(net.seller, "10000.00")

    counts = services.statements_calculate_all(period=PERIOD)
    first = snapshot()
    again = services.statements_calculate_all(period=PERIOD)

    assert counts == again
    assert snapshot() == first
    statements = {s.partner_id: s for s in RebateStatement.objects.all()}
    # The three rebate partners, and mid and top for the override; the seller earns nothing.
    assert set(statements) == {p.pk for p in partners} | {net.mid.pk, net.top.pk}
    assert [statements[p.pk].total for p in partners] == [Decimal("100.00"), Decimal("200.00"), Decimal("300.00")]
    assert statements[net.mid.pk].total == Decimal("300.00") and statements[net.top.pk].total == Decimal("100.00")
    for statement in statements.values():
        assert statement.total == sum(line.amount for line in statement.lines.all())


def test_calculate_all_leaves_approved_statements_alone():
    policy = RebatePolicyFactory()
    approved_partner, open_partner = partners_with_sales(2, policy)
    approved = services.statement_approve(
        statement=services.statement_calculate(partner=approved_partner, period=PERIOD), by=admin()
    )
    sell(approved_partner, "5000.00")
    sell(open_partner, "5000.00")

    counts = services.statements_calculate_all(period=PERIOD)

    assert counts["locked"] == 1 and counts["calculated"] == 1
    approved.refresh_from_db()
    assert approved.total == Decimal("100.00") and approved.status == StatementStatus.APPROVED
    assert RebateStatement.objects.get(partner=open_partner).total == Decimal(
        "1550.00"
    )  # 6500 marginal: 100 + 400 + 1050


@pytest.mark.parametrize("size", [2, 12])
def test_calculate_all_query_count_does_not_grow_with_partners(size, django_assert_max_num_queries):
    policy = RebatePolicyFactory()
    partners_with_sales(size, policy)
    net = network()
    OverridePolicyFactory(rates={1: 3, 2: 1})
    sell(net.seller, "10000.00")
    sell(net.leaf, "10.00")
    with django_assert_max_num_queries(19):
        counts = services.statements_calculate_all(period=PERIOD)
    assert counts["calculated"] == size + 3


def test_closed_periods():
    assert tasks.closed_periods(date(2026, 11, 25)) == [Period.parse("2026-10")]
    assert tasks.closed_periods(date(2026, 10, 1)) == [Period.parse("2026-09"), Period.parse("2026-Q3")]
    assert tasks.closed_periods(date(2027, 1, 3)) == [
        Period.parse("2026-12"),
        Period.parse("2026-Q4"),
        Period.parse("2026"),
    ]


def test_period_close_task_records_its_run():
    policy = RebatePolicyFactory()
    partners_with_sales(2, policy)
    result = tasks.rebate_statements_period_close.apply(kwargs={"period": PERIOD}).get()
    assert result[PERIOD]["calculated"] == 2
    run = JobRun.objects.get(job="incentives.rebate_statements_period_close")
    assert run.status == JobRun.Status.SUCCEEDED and run.rows_written == 2


def test_period_close_is_on_the_beat_schedule():
    entry = settings.CELERY_BEAT_SCHEDULE["incentives-rebate-statements-period-close"]
    assert entry["task"] == "incentives.tasks.rebate_statements_period_close"


def test_calculate_all_clears_a_statement_whose_sales_went_away():
    net = network()
    OverridePolicyFactory(rates={1: 3})
    sale = sell(net.seller, "1000.00")
    services.statements_calculate_all(period=PERIOD)
    assert RebateStatement.objects.get(partner=net.mid).total == Decimal("30.00")
    sale.delete()  # a corrected report: mid no longer earns anything this period
    services.statements_calculate_all(period=PERIOD)
    statement = RebateStatement.objects.get(partner=net.mid)
    assert statement.total == Decimal("0.00") and not statement.lines.exists()


def test_single_partner_task_calculates_its_statement():
    policy = RebatePolicyFactory()
    (partner,) = partners_with_sales(1, policy)
    statement_id = tasks.rebate_statement_calculate.apply(args=[partner.pk, PERIOD]).get()
    assert RebateStatement.objects.get(pk=statement_id).total == Decimal("100.00")
