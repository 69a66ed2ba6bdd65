"""MDF budgets: set by hand (never below what requests hold, never overlapping another budget of
the partner), and allocated from the tier allowance of the previous period's revenue (half-up to
the cent, hand-set budgets kept, idempotent, set-based), and the daily allocation task."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from incentives import services, tasks
from incentives.choices import BudgetSource, MdfActivity
from incentives.models import MdfBudget
from partners.choices import PartnerStatus
from prm.models import AuditEntry, JobRun
from prm.periods import Period
from sales.models import SalesLine
from tests.factories import (
    AnalystFactory,
    MdfBudgetFactory,
    PartnerFactory,
    PartnerTierFactory,
    PartnerUserFactory,
    SalesLineFactory,
)

from .mdf_world import approved, claimed, figures, mdf_world, paid, state, submitted

pytestmark = pytest.mark.django_db

D = Decimal
Q2 = Period.parse("2026-Q2")  # the budget period; its previous period is 2026-Q1


@pytest.fixture
def world():
    return mdf_world()


def refused(error_type, action, field=None):
    before = state()
    with pytest.raises(error_type) as caught:
        action()
    if field is not None:
        assert field in caught.value.message_dict, caught.value
    assert state() == before
    return caught.value


# Set by hand ----------------------------------------------------------------------------------


def test_a_budget_is_set_by_hand_and_changed_with_its_history(world):
    budget = services.budget_set(
        partner=world.partner, period="2026-Q2", allocated="15000.50", by=world.owner, note="Expo season"
    )
    assert (budget.period, budget.period_start, budget.period_end) == ("2026-Q2", date(2026, 4, 1), date(2026, 6, 30))
    assert (budget.allocated, budget.source, budget.note, budget.created_by) == (
        D("15000.50"), BudgetSource.MANUAL, "Expo season", world.owner,
    )  # fmt: skip
    same = services.budget_set(partner=world.partner, period="2026-q2", allocated="12000", by=world.province_manager)
    assert same.pk == budget.pk and same.allocated == D("12000.00") and same.note == "Expo season"
    history = AuditEntry.objects.filter(object_type="incentives.mdfbudget", object_id=str(budget.pk)).order_by("id")
    assert [(e.action, e.changes["allocated"]) for e in history] == [
        ("create", [None, "15000.50"]),
        ("update", ["15000.50", "12000.00"]),
    ]
    services.budget_set(partner=world.partner, period="2026-Q2", allocated="12000.00", by=world.admin)
    assert history.count() == 2  # nothing changed, nothing recorded


def test_setting_a_tier_budget_by_hand_makes_it_a_hand_set_one(world):
    budget = MdfBudgetFactory(
        partner=world.partner, period="2026-Q2", source=BudgetSource.TIER, basis_revenue=D("5000"), allowance_percent=2
    )
    services.budget_set(partner=world.partner, period="2026-Q2", allocated="300.00", by=world.owner)
    budget.refresh_from_db()
    assert (budget.source, budget.allocated, budget.basis_revenue, budget.allowance_percent) == (
        BudgetSource.MANUAL, D("300.00"), None, None,
    )  # fmt: skip


def test_a_budget_never_goes_below_what_its_requests_hold(world):
    approved(world, amount="1000.00")  # reserves 1000.00
    claimed(world, amount="2000.00", actual="1500.25")  # holds 1500.25
    paid(world, amount="700.00", actual="699.99")  # holds 699.99
    submitted(world, amount="5000.00")  # pending: holds nothing
    assert figures(world.budget)["committed"] == D("3200.24")
    period = world.budget.period

    error = refused(
        ValidationError,
        lambda: services.budget_set(partner=world.partner, period=period, allocated="3200.23", by=world.owner),
        "allocated",
    )
    assert "3200.24" in error.message_dict["allocated"][0]
    services.budget_set(partner=world.partner, period=period, allocated="3200.24", by=world.owner)
    assert figures(world.budget)["remaining"] == D("0.00")


@pytest.mark.parametrize(("existing", "wanted"), [("2026-Q2", "2026-05"), ("2026-Q2", "2026"), ("2026-05", "2026-Q2")])
def test_budgets_of_one_partner_never_overlap(world, existing, wanted):
    MdfBudgetFactory(partner=world.other, period=existing)
    error = refused(
        ValidationError,
        lambda: services.budget_set(partner=world.other, period=wanted, allocated="100.00", by=world.admin),
        "period",
    )
    assert existing in error.message_dict["period"][0]


def test_next_to_each_other_and_for_other_partners_is_fine(world):
    MdfBudgetFactory(partner=world.partner, period="2026-Q2")
    services.budget_set(partner=world.partner, period="2026-Q3", allocated="1.00", by=world.owner)
    services.budget_set(partner=world.partner, period="2026-03", allocated="1.00", by=world.owner)
    services.budget_set(partner=world.other, period="2026-05", allocated="1.00", by=world.admin)


@pytest.mark.parametrize("allocated", ["-0.01", "10.001", "plenty", None, "", "NaN", "1e15", 100.5])
def test_a_bad_allocation_is_refused_on_its_field(world, allocated):
    refused(
        ValidationError,
        lambda: services.budget_set(partner=world.partner, period="2026-Q2", allocated=allocated, by=world.owner),
        "allocated",
    )


def test_a_zero_budget_is_allowed(world):
    budget = services.budget_set(partner=world.partner, period="2026-Q2", allocated="0", by=world.owner)
    assert budget.allocated == D("0.00")


@pytest.mark.parametrize("period", ["2026-13", "2026-Q5", "next quarter", "", None])
def test_a_bad_period_is_refused_on_its_field(world, period):
    refused(
        ValidationError,
        lambda: services.budget_set(partner=world.partner, period=period, allocated="1.00", by=world.owner),
        "period",
    )


@pytest.mark.parametrize("who", ["analyst", "other_manager", "user", "partner_admin", "other_user"])
def test_only_those_who_decide_set_budgets(world, who):
    refused(
        PermissionDenied,
        lambda: services.budget_set(partner=world.partner, period="2026-Q2", allocated="1.00", by=getattr(world, who)),
    )
    refused(
        PermissionDenied,
        lambda: services.budget_set(
            partner=world.partner, period=world.budget.period, allocated="1.00", by=getattr(world, who)
        ),
    )


# From the tier allowance ----------------------------------------------------------------------


def sale(partner, amount, on):
    return SalesLineFactory(partner=partner, amount=D(amount), unit_price=D(amount), sold_on=on)


@pytest.fixture
def channel():
    tier = PartnerTierFactory(mdf_allowance_percent=D("2.50"))
    gold = PartnerTierFactory(mdf_allowance_percent=D("3.00"))
    nothing = PartnerTierFactory(mdf_allowance_percent=D("0"))
    partners = {
        "earner": PartnerFactory(tier=tier),
        "quiet": PartnerFactory(tier=gold),
        "no_allowance": PartnerFactory(tier=nothing),
        "no_tier": PartnerFactory(tier=None),
        "suspended": PartnerFactory(tier=tier, status=PartnerStatus.SUSPENDED),
        "by_hand": PartnerFactory(tier=tier),
        "monthly": PartnerFactory(tier=tier),
    }
    earner = partners["earner"]
    sale(earner, "600.10", date(2026, 1, 2))
    sale(earner, "400.10", date(2026, 3, 31))  # 1000.20 in Q1: × 2.5 % = 25.005 → 25.01 (half-up)
    sale(earner, "99999.00", date(2025, 12, 31))  # other periods do not count
    sale(earner, "99999.00", date(2026, 4, 1))
    for code in ("no_allowance", "no_tier", "suspended", "by_hand", "monthly"):
        sale(partners[code], "10000.00", date(2026, 2, 15))
    MdfBudgetFactory(partner=partners["by_hand"], period="2026-Q2", allocated=D("777.00"))
    MdfBudgetFactory(partner=partners["monthly"], period="2026-05", allocated=D("50.00"))
    return partners


def budgets():
    return {
        budget.partner_id: budget
        for budget in MdfBudget.objects.filter(period_start__gte=Q2.start, period_end__lte=Q2.end)
    }


def test_allocation_is_the_allowance_of_last_periods_revenue_to_the_cent(channel):
    counts = services.budgets_allocate_from_tiers(period="2026-Q2")

    assert counts == {"created": 2, "updated": 0, "kept": 2, "unchanged": 0}
    found = budgets()
    earner, quiet = found[channel["earner"].pk], found[channel["quiet"].pk]
    assert (earner.period, earner.allocated, earner.source, earner.basis_revenue, earner.allowance_percent) == (
        "2026-Q2", D("25.01"), BudgetSource.TIER, D("1000.20"), D("2.50"),
    )  # fmt: skip
    assert (quiet.allocated, quiet.basis_revenue) == (D("0.00"), D("0.00"))
    # Hand-set and overlapping budgets stay as they are; nobody else gets one.
    assert found[channel["by_hand"].pk].allocated == D("777.00")
    assert found[channel["monthly"].pk].period == "2026-05"
    assert set(found) == {channel[code].pk for code in ("earner", "quiet", "by_hand", "monthly")}


def test_allocating_again_changes_nothing(channel):
    services.budgets_allocate_from_tiers(period="2026-Q2")
    before = sorted(MdfBudget.objects.values_list("pk", "partner", "period", "allocated", "source", "updated_at"))

    counts = services.budgets_allocate_from_tiers(period=Q2)

    assert counts == {"created": 0, "updated": 0, "kept": 2, "unchanged": 2}
    assert (
        sorted(MdfBudget.objects.values_list("pk", "partner", "period", "allocated", "source", "updated_at")) == before
    )


def test_a_revenue_correction_updates_the_budget_but_never_below_what_it_holds(channel):
    services.budgets_allocate_from_tiers(period="2026-Q2")
    earner = channel["earner"]
    sale(earner, "3999.80", date(2026, 2, 1))  # Q1 now 5000.00 → 125.00
    assert services.budgets_allocate_from_tiers(period="2026-Q2")["updated"] == 1
    budget = budgets()[earner.pk]
    assert (budget.allocated, budget.basis_revenue) == (D("125.00"), D("5000.00"))

    request = services.mdf_request_create(
        by=None, budget=budget, title="Demo day", activity_type=MdfActivity.PROMOTION, plan="Demo day for 30 customers",
        start_date=Q2.start, end_date=Q2.start, requested_amount="100.00",
    )  # fmt: skip
    services.mdf_request_submit(request=request, by=None)
    services.mdf_request_approve(request=request, by=None)
    # Back to 1000.20 → 25.01, but 100.00 is held.
    SalesLine.objects.filter(partner=earner, amount=D("3999.80")).delete()

    services.budgets_allocate_from_tiers(period="2026-Q2")

    budget = budgets()[earner.pk]
    assert (budget.allocated, budget.basis_revenue) == (D("100.00"), D("1000.20"))
    assert figures(budget)["remaining"] == D("0.00")


@pytest.mark.parametrize("size", [2, 12])
def test_allocation_queries_do_not_grow_with_partners(size, django_assert_max_num_queries):
    tier = PartnerTierFactory(mdf_allowance_percent=D("2.00"))
    partners = [PartnerFactory(tier=tier) for _ in range(size)]
    for index, partner in enumerate(partners):
        sale(partner, f"{1000 + index}.00", date(2026, 2, 1))
    with django_assert_max_num_queries(8):
        assert services.budgets_allocate_from_tiers(period="2026-Q2")["created"] == size
    for partner in partners:
        sale(partner, "500.00", date(2026, 3, 1))
    with django_assert_max_num_queries(8):
        assert services.budgets_allocate_from_tiers(period="2026-Q2")["updated"] == size


def test_allocation_refuses_those_who_only_read_or_belong_to_a_partner(channel):
    for by in (AnalystFactory(), PartnerUserFactory(partner=channel["earner"])):
        with pytest.raises(PermissionDenied):
            services.budgets_allocate_from_tiers(period="2026-Q2", by=by)
    assert not MdfBudget.objects.filter(source=BudgetSource.TIER).exists()


def test_allocation_refuses_a_bad_period():
    with pytest.raises(ValidationError) as caught:
        services.budgets_allocate_from_tiers(period="2026-Q9")
    assert "period" in caught.value.message_dict


# The daily task -------------------------------------------------------------------------------


@pytest.mark.parametrize("length", ["quarter", "month", "year"])
def test_the_task_allocates_the_current_period_of_the_configured_length(settings, channel, length):
    settings.PRM_MDF_PERIOD = length
    expected = Period.containing(timezone.localdate(), length)
    result = tasks.mdf_budgets_allocate.apply().get()
    assert list(result) == [expected.code]
    assert result[expected.code]["created"] >= 1
    assert MdfBudget.objects.filter(period=expected.code, source=BudgetSource.TIER).exists()
    run = JobRun.objects.get(job="incentives.mdf_budgets_allocate")
    assert run.status == JobRun.Status.SUCCEEDED
    assert run.rows_written == result[expected.code]["created"] + result[expected.code]["updated"]


def test_the_task_takes_a_period_and_writes_nothing_the_second_time(channel):
    first = tasks.mdf_budgets_allocate.apply(kwargs={"period": "2026-Q2"}).get()
    second = tasks.mdf_budgets_allocate.apply(kwargs={"period": "2026-Q2"}).get()
    assert first["2026-Q2"]["created"] == 2 and second["2026-Q2"]["unchanged"] == 2
    runs = JobRun.objects.filter(job="incentives.mdf_budgets_allocate").order_by("id")
    assert [run.rows_written for run in runs] == [2, 0]
    assert budgets()[channel["earner"].pk].allocated == D("25.01")


def test_the_task_is_on_the_beat_schedule(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["incentives-mdf-budgets-allocate"]
    assert entry["task"] == "incentives.tasks.mdf_budgets_allocate"
