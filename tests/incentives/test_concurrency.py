"""Races that only a real database server shows (PostgreSQL; skipped on SQLite): two workers
calculating the same period at once leave one statement per partner with the same lines, and a
calculation racing an approval never changes the approved statement."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection  # noqa: F401 - read by the skipif condition

from incentives import services
from incentives.choices import StatementStatus
from incentives.models import RebateStatement, StatementLine
from tests.agreements.test_concurrency import run_at_once
from tests.factories import OverridePolicyFactory, PartnerFactory, RebatePolicyFactory

from .world import PERIOD, admin, assign, network, sell

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif("connection.vendor != 'postgresql'", reason="needs concurrent writers (PostgreSQL)"),
]


def world():
    policy = RebatePolicyFactory()
    for amount in ("1000.00", "2500.00", "3800.00", "9999.99"):
        partner = PartnerFactory()
        assign(partner, policy)
        sell(partner, amount)
    net = network()
    OverridePolicyFactory(rates={1: 3, 2: 1})
    sell(net.seller, "10000.00")


def lines():
    return sorted(StatementLine.objects.values_list("statement__partner_id", "kind", "source_partner_id", "amount"))


def test_two_workers_calculating_the_same_period_agree():
    world()
    services.statements_calculate_all(period=PERIOD)
    expected = lines()
    RebateStatement.objects.all().delete()

    results = run_at_once([lambda: services.statements_calculate_all(period=PERIOD)] * 4)

    assert all(isinstance(result, dict) for result in results), results
    assert RebateStatement.objects.count() == 6
    assert RebateStatement.objects.values("partner", "period").distinct().count() == 6
    assert lines() == expected


def test_a_calculation_racing_an_approval_never_changes_the_approved_statement():
    by = admin()
    partner = PartnerFactory()
    assign(partner, RebatePolicyFactory())
    sell(partner, "3800.00")
    statement = services.statement_calculate(partner=partner, period=PERIOD)
    sell(partner, "1000.00")

    results = run_at_once(
        [
            lambda: services.statement_approve(statement=statement, by=by),
            lambda: services.statement_calculate(partner=partner, period=PERIOD),
        ]
    )

    approved = RebateStatement.objects.get(pk=statement.pk)
    assert approved.status == StatementStatus.APPROVED
    assert approved.total == sum(line.amount for line in approved.lines.all())
    if isinstance(results[1], ValidationError):
        assert approved.total == 740  # the approval won: the late sale waits for an adjustment
    else:
        assert approved.total == 1040  # the calculation won, then it was approved as recalculated
