"""Reads of incentives, each in a fixed number of queries however many rows there are.

MDF budget figures (all Decimal, to the cent):
- allocated: the budget;
- pending: requested by submitted requests not yet decided (shown, not held);
- reserved: approved amounts of approved requests not yet claimed;
- claimed: actual amounts of claims not yet paid;
- paid: actual amounts paid;
- committed = reserved + claimed + paid; remaining = allocated − committed.
"""

from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db.models import DecimalField, F, Prefetch, Q, Sum, Value
from django.db.models.functions import Coalesce, Round

from partners.models import ManagerRegion
from prm.money import round_cents
from prm.roles import Role

from .choices import MdfStatus
from .models import MdfBudget, MdfProof, MdfRequest, RebatePolicy, RebateStatement, StatementLine

ZERO = Decimal("0.00")
_MONEY = DecimalField(max_digits=16, decimal_places=2)


def _sum(field, statuses, prefix="requests__"):
    return Coalesce(
        Sum(f"{prefix}{field}", filter=Q(**{f"{prefix}status__in": statuses})), Value(ZERO), output_field=_MONEY
    )


def with_usage(budgets):
    """Annotate a budget queryset with pending, reserved, claimed, paid, committed, remaining
    (one aggregate join on the requests)."""
    return budgets.annotate(
        pending=_sum("requested_amount", [MdfStatus.SUBMITTED]),
        reserved=_sum("approved_amount", MdfStatus.RESERVING),
        claimed=_sum("actual_amount", MdfStatus.CLAIMING),
        paid=_sum("actual_amount", MdfStatus.SPENT),
    ).annotate(
        # Rounded to the cent in SQL: SQLite computes with floats, and 1000.00 − 300.03 − 699.97
        # must be 0.00 there too, not 4.5e-13.
        committed=Round(F("reserved") + F("claimed") + F("paid"), 2, output_field=_MONEY),
        remaining=Round(F("allocated") - F("reserved") - F("claimed") - F("paid"), 2, output_field=_MONEY),
    )


def budget_usage(budget):
    """{allocated, pending, reserved, claimed, paid, committed, remaining} of one budget, read
    now (call it after locking the budget row to decide on it)."""
    figures = MdfRequest.objects.filter(budget_id=budget.pk).aggregate(
        pending=_sum("requested_amount", [MdfStatus.SUBMITTED], prefix=""),
        reserved=_sum("approved_amount", MdfStatus.RESERVING, prefix=""),
        claimed=_sum("actual_amount", MdfStatus.CLAIMING, prefix=""),
        paid=_sum("actual_amount", MdfStatus.SPENT, prefix=""),
    )
    # To the cent: SQLite sums decimals as floats ("699.990000000000").
    figures = {name: round_cents(value) for name, value in figures.items()}
    figures["allocated"] = budget.allocated
    figures["committed"] = figures["reserved"] + figures["claimed"] + figures["paid"]
    figures["remaining"] = budget.allocated - figures["committed"]
    return figures


def committed_by_budget(budget_ids):
    """{budget id: committed} for many budgets, one query."""
    rows = with_usage(MdfBudget.objects.filter(pk__in=list(budget_ids))).values_list("pk", "committed")
    return dict(rows)


def mdf_deciders(partner):
    """Who decides on the partner's MDF: its channel manager and the managers of its region (or a
    region above it); the channel admins when there is none."""
    User = get_user_model()
    paths = _ancestor_paths(partner.region.path)
    manager_ids = set(ManagerRegion.objects.filter(region__path__in=paths).values_list("manager_id", flat=True))
    if partner.owner_id:
        manager_ids.add(partner.owner_id)
    people = list(User.objects.filter(pk__in=manager_ids, is_active=True, is_staff=True))
    if people:
        return people
    return list(
        User.objects.filter(is_active=True, is_staff=True)
        .filter(Q(is_superuser=True) | Q(groups__name=Role.CHANNEL_ADMIN))
        .distinct()
    )


def _ancestor_paths(path):
    """'/1/4/9/' → ['/1/', '/1/4/', '/1/4/9/']."""
    parts = [part for part in path.strip("/").split("/") if part]
    return ["/" + "/".join(parts[: depth + 1]) + "/" for depth in range(len(parts))]


# Lists and details -----------------------------------------------------------------------------


def policy_list(*, user):
    return RebatePolicy.objects.visible_to(user).prefetch_related("brackets", "product_lines")


def statement_list(*, user):
    return RebateStatement.objects.visible_to(user).select_related("partner", "partner__tier")


def statement_detail(*, user, pk):
    """One statement with its lines and what explains them (policies, sub-partners)."""
    lines = StatementLine.objects.select_related("rebate_policy", "override_policy", "source_partner").order_by(
        "kind", "id"
    )
    return (
        RebateStatement.objects.visible_to(user)
        .select_related("partner", "approved_by")
        .prefetch_related(Prefetch("lines", queryset=lines))
        .get(pk=pk)
    )


def budget_list(*, user):
    return with_usage(MdfBudget.objects.visible_to(user).select_related("partner", "partner__region"))


def request_list(*, user):
    return MdfRequest.objects.visible_to(user).select_related("partner", "budget", "decided_by")


def request_detail(*, user, pk):
    return (
        MdfRequest.objects.visible_to(user)
        .select_related("partner", "partner__region", "budget", "decided_by", "created_by")
        .prefetch_related(Prefetch("proofs", queryset=MdfProof.objects.select_related("uploaded_by")))
        .get(pk=pk)
    )
