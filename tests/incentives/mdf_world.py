"""A small, known world for MDF tests: a partner in a province of a sales area, its owner, the
managers of its province and of the area, a manager of another area, its portal users, another
partner's user, an analyst and a channel admin; a budget of 10,000.00 for the current quarter;
and helpers that take a request through its life cycle by the services, as its people would."""

from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Q

from incentives import selectors, services
from incentives.choices import MdfActivity
from incentives.models import MdfBudget, MdfProof, MdfRequest
from partners.choices import RegionKind
from prm.models import AuditEntry, Notification
from prm.periods import Period
from tests.factories import (
    PDF_BYTES,
    AnalystFactory,
    ChannelAdminFactory,
    ChannelManagerFactory,
    DistributorFactory,
    ManagerRegionFactory,
    MdfBudgetFactory,
    PartnerAdminUserFactory,
    PartnerUserFactory,
    RegionFactory,
)

FIGURES = ("allocated", "pending", "reserved", "claimed", "paid", "committed", "remaining")


def mdf_world(allocated="10000.00"):
    area = RegionFactory(kind=RegionKind.AREA)
    province = RegionFactory(parent=area)
    elsewhere = RegionFactory(kind=RegionKind.AREA)
    owner = ChannelManagerFactory(display_name="Owner Ou")
    province_manager = ChannelManagerFactory(display_name="Province Pan")
    area_manager = ChannelManagerFactory(display_name="Area An")
    other_manager = ChannelManagerFactory(display_name="Other Ou")
    ManagerRegionFactory(manager=province_manager, region=province)
    ManagerRegionFactory(manager=area_manager, region=area)
    ManagerRegionFactory(manager=other_manager, region=elsewhere)
    partner = DistributorFactory(region=province, owner=owner)
    other = DistributorFactory(region=elsewhere)
    budget = MdfBudgetFactory(partner=partner, allocated=Decimal(allocated))
    return SimpleNamespace(
        partner=partner,
        other=other,
        budget=budget,
        period=Period.parse(budget.period),
        owner=owner,
        province_manager=province_manager,
        area_manager=area_manager,
        other_manager=other_manager,
        user=PartnerUserFactory(partner=partner),
        partner_admin=PartnerAdminUserFactory(partner=partner),
        other_user=PartnerUserFactory(partner=other),
        other_admin=PartnerAdminUserFactory(partner=other),
        analyst=AnalystFactory(),
        admin=ChannelAdminFactory(),
    )


def proof_file(name="booth-photos.pdf", content=PDF_BYTES):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def draft(world, *, by=None, amount="3000.00", budget=None, **fields):
    budget = budget or world.budget
    start = Period.parse(budget.period).start
    values = {
        "title": "Automation expo booth",
        "activity_type": MdfActivity.TRADE_SHOW,
        "plan": "A 36 m² booth with two live demo cells; 400 qualified leads expected.",
        "start_date": start + timedelta(days=10),
        "end_date": start + timedelta(days=12),
        "requested_amount": amount,
    }
    values.update(fields)
    return services.mdf_request_create(by=by or world.user, budget=budget, **values)


def submitted(world, **kwargs):
    request = draft(world, **kwargs)
    return services.mdf_request_submit(request=request, by=kwargs.get("by") or world.user)


def approved(world, approved_amount=None, **kwargs):
    request = submitted(world, **kwargs)
    return services.mdf_request_approve(request=request, by=world.owner, approved_amount=approved_amount)


def claimed(world, actual="2000.00", **kwargs):
    request = approved(world, **kwargs)
    return services.mdf_request_claim(request=request, by=world.user, actual_amount=actual, files=[proof_file()])


def paid(world, **kwargs):
    request = claimed(world, **kwargs)
    return services.mdf_request_mark_paid(request=request, by=world.admin, payment_reference="PAY-1")


def figures(budget):
    """The budget's figures read both ways (one budget, and annotated in a list), which must agree."""
    one = selectors.budget_usage(MdfBudget.objects.get(pk=budget.pk))
    listed = selectors.with_usage(MdfBudget.objects.filter(pk=budget.pk)).get()
    assert {name: getattr(listed, name) for name in FIGURES} == {name: one[name] for name in FIGURES}
    assert one["committed"] == one["reserved"] + one["claimed"] + one["paid"]
    assert one["remaining"] == one["allocated"] - one["committed"]
    return {name: one[name] for name in FIGURES}


def state():
    """Everything an MDF write may change, to prove a refused one changed nothing."""
    return {
        "budgets": sorted(MdfBudget.objects.values_list("pk", "period", "allocated", "source", "note")),
        "requests": sorted(
            MdfRequest.objects.values_list(
                "pk", "budget", "status", "title", "requested_amount", "approved_amount", "actual_amount"
            )
        ),
        "proofs": MdfProof.objects.count(),
        "history": AuditEntry.objects.filter(Q(object_type__startswith="incentives.mdf")).count(),
        "notifications": Notification.objects.count(),
    }
