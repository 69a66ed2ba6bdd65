"""MDF races that only a real database server shows (PostgreSQL; skipped on SQLite, which runs
one writer at a time anyway): approvals racing for the last of a budget, and a budget lowered
while an approval takes from it, can never overspend it. Each thread has its own connection."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection  # noqa: F401 - read by the skipif condition

from incentives import services
from incentives.choices import MdfStatus
from incentives.models import MdfBudget, MdfRequest
from tests.agreements.test_concurrency import run_at_once

from .mdf_world import figures, mdf_world, submitted

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif("connection.vendor != 'postgresql'", reason="needs concurrent writers (PostgreSQL)"),
]


def approve(request, by):
    return lambda: services.mdf_request_approve(request=request, by=by)


def test_two_approvals_racing_for_the_last_of_a_budget_never_both_succeed():
    world = mdf_world(allocated="1000.00")
    first, second = submitted(world, amount="600.00"), submitted(world, amount="600.00")

    results = run_at_once([approve(first, world.owner), approve(second, world.province_manager)])

    assert sum(isinstance(result, MdfRequest) for result in results) == 1, results
    (refusal,) = [result for result in results if isinstance(result, ValidationError)]
    assert "400.00 left" in refusal.message_dict["approved_amount"][0]
    statuses = sorted(MdfRequest.objects.values_list("status", flat=True))
    assert statuses == [MdfStatus.APPROVED, MdfStatus.SUBMITTED]
    assert figures(world.budget)["remaining"] == Decimal("400.00")


def test_many_approvals_at_once_take_exactly_what_the_budget_has():
    world = mdf_world(allocated="1000.00")
    requests = [submitted(world, amount="300.00") for _ in range(6)]
    deciders = [world.owner, world.province_manager, world.area_manager, world.admin]

    results = run_at_once([approve(request, deciders[i % 4]) for i, request in enumerate(requests)])

    assert sum(isinstance(result, MdfRequest) for result in results) == 3, results
    assert all(isinstance(result, (MdfRequest, ValidationError)) for result in results), results
    assert MdfRequest.objects.filter(status=MdfStatus.APPROVED).count() == 3
    usage = figures(world.budget)
    assert usage["reserved"] == Decimal("900.00") and usage["remaining"] == Decimal("100.00")


def test_lowering_a_budget_while_an_approval_takes_from_it_never_overspends():
    world = mdf_world(allocated="1000.00")
    request = submitted(world, amount="800.00")
    period = world.budget.period

    results = run_at_once(
        [
            approve(request, world.owner),
            lambda: services.budget_set(partner=world.partner, period=period, allocated="500.00", by=world.admin),
        ]
    )

    approval, lowering = results
    budget = MdfBudget.objects.get(pk=world.budget.pk)
    status = MdfRequest.objects.get(pk=request.pk).status
    # One of the two wins; the other sees it and is refused on its field.
    if isinstance(approval, MdfRequest):
        assert isinstance(lowering, ValidationError) and "allocated" in lowering.message_dict, results
        assert (budget.allocated, status) == (Decimal("1000.00"), MdfStatus.APPROVED)
    else:
        assert isinstance(approval, ValidationError) and "approved_amount" in approval.message_dict, results
        assert isinstance(lowering, MdfBudget), results
        assert (budget.allocated, status) == (Decimal("500.00"), MdfStatus.SUBMITTED)
    assert figures(budget)["remaining"] >= 0
