"""A small, known world for statement tests: one period (March 2026), agreements over the year,
and helpers to sell and to build a three-level network."""

from datetime import date
from decimal import Decimal
from types import SimpleNamespace

from tests.factories import (
    AgreementFactory,
    ChannelAdminFactory,
    DistributorFactory,
    PartnerFactory,
    PolicyAssignmentFactory,
    SalesLineFactory,
)

PERIOD = "2026-03"
IN_PERIOD = date(2026, 3, 15)
AFTER_PERIOD = date(2026, 4, 1)
BEFORE_PERIOD = date(2026, 2, 28)


def admin():
    return ChannelAdminFactory()


def agreement_for(partner, **fields):
    fields.setdefault("start_date", date(2026, 1, 1))
    fields.setdefault("end_date", date(2026, 12, 31))
    return AgreementFactory(partner=partner, **fields)


def assign(partner, policy, **agreement_fields):
    return PolicyAssignmentFactory(agreement=agreement_for(partner, **agreement_fields), policy=policy)


def sell(partner, amount, *, line=None, on=IN_PERIOD, quantity="1.000"):
    extra = {"product_line": line} if line is not None else {}
    return SalesLineFactory(
        partner=partner,
        sold_on=on,
        amount=Decimal(amount),
        quantity=Decimal(quantity),
        unit_price=Decimal(amount),
        **extra,
    )


def network():
    """top → mid → seller → leaf, and a sibling of the seller under mid."""
    top = DistributorFactory()
    mid = DistributorFactory(parent=top)
    seller = PartnerFactory(parent=mid)
    sibling = PartnerFactory(parent=mid)
    leaf = PartnerFactory(parent=seller)
    return SimpleNamespace(top=top, mid=mid, seller=seller, sibling=sibling, leaf=leaf)
