"""MDF requests and claims through the services: every legal move and the illegal ones, who may
make each, bad input refused on its field with nothing changed, budget figures that reconcile to
the cent through a whole life cycle, and who is told."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from incentives import services
from incentives.choices import MdfActivity, MdfStatus
from incentives.models import MdfProof, MdfRequest
from prm.models import AuditEntry, Notification
from tests.factories import (
    AdminFactory,
    ChannelAdminFactory,
    DistributorFactory,
    MdfBudgetFactory,
    PartnerUserFactory,
    RegionFactory,
)

from .mdf_world import approved, claimed, draft, figures, mdf_world, paid, proof_file, state, submitted

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def world():
    return mdf_world()


def refused(error_type, action, field=None):
    """Run `action`; it must raise `error_type` (on `field`) and change nothing at all."""
    before = state()
    with pytest.raises(error_type) as caught:
        action()
    if field is not None:
        assert field in caught.value.message_dict, caught.value
        assert all(str(message).strip() for message in caught.value.message_dict[field])
    assert state() == before
    return caught.value


def reload(request):
    return MdfRequest.objects.get(pk=request.pk)


# The life cycle -------------------------------------------------------------------------------


def test_a_whole_life_cycle_reconciles_to_the_cent(world):
    budget = world.budget
    zero = D("0.00")
    request = draft(world, amount="3000.00")
    assert request.status == MdfStatus.DRAFT and request.reference == f"MDF-{request.pk:05d}"
    assert request.partner == world.partner and request.created_by == world.user
    assert figures(budget) == {
        "allocated": D("10000.00"), "pending": zero, "reserved": zero, "claimed": zero, "paid": zero,
        "committed": zero, "remaining": D("10000.00"),
    }  # fmt: skip

    services.mdf_request_submit(request=request, by=world.user)
    request = reload(request)
    assert request.status == MdfStatus.SUBMITTED and request.submitted_at is not None
    assert figures(budget)["pending"] == D("3000.00") and figures(budget)["remaining"] == D("10000.00")

    services.mdf_request_approve(request=request, by=world.owner, approved_amount="2500.50", note="Half the booth")
    request = reload(request)
    assert (request.status, request.approved_amount, request.decided_by, request.decision_note) == (
        MdfStatus.APPROVED, D("2500.50"), world.owner, "Half the booth",
    )  # fmt: skip
    assert request.committed == D("2500.50")
    assert figures(budget) == {
        "allocated": D("10000.00"), "pending": zero, "reserved": D("2500.50"), "claimed": zero, "paid": zero,
        "committed": D("2500.50"), "remaining": D("7499.50"),
    }  # fmt: skip

    services.mdf_request_claim(
        request=request, by=world.user, actual_amount="2199.99", note="Invoices attached", files=[proof_file()]
    )
    request = reload(request)
    assert (request.status, request.actual_amount, request.claim_note) == (
        MdfStatus.CLAIMED, D("2199.99"), "Invoices attached",
    )  # fmt: skip
    assert request.claimed_at is not None and request.proofs.count() == 1
    # What the claim did not use goes back to the budget.
    assert figures(budget) == {
        "allocated": D("10000.00"), "pending": zero, "reserved": zero, "claimed": D("2199.99"), "paid": zero,
        "committed": D("2199.99"), "remaining": D("7800.01"),
    }  # fmt: skip

    services.mdf_claim_return(request=request, by=world.province_manager, reason="The booth invoice is missing.")
    request = reload(request)
    assert (request.status, request.actual_amount, request.claimed_at) == (MdfStatus.APPROVED, None, None)
    assert request.decision_note == "The booth invoice is missing."
    assert figures(budget)["reserved"] == D("2500.50") and figures(budget)["remaining"] == D("7499.50")

    services.mdf_proof_add(request=request, by=world.user, file=proof_file("booth-invoice.pdf"))
    services.mdf_request_claim(request=request, by=world.user, actual_amount="2500.50")
    services.mdf_request_mark_paid(request=request, by=world.admin, payment_reference=" TT-2026-118 ")
    request = reload(request)
    assert (request.status, request.payment_reference, request.committed) == (
        MdfStatus.PAID, "TT-2026-118", D("2500.50"),
    )  # fmt: skip
    assert request.paid_at is not None and request.proofs.count() == 2
    assert figures(budget) == {
        "allocated": D("10000.00"), "pending": zero, "reserved": zero, "claimed": zero, "paid": D("2500.50"),
        "committed": D("2500.50"), "remaining": D("7499.50"),
    }  # fmt: skip
    moves = AuditEntry.objects.filter(object_type="incentives.mdfrequest", object_id=str(request.pk), action="status")
    assert [entry.changes["status"] for entry in moves.order_by("id")] == [
        ["draft", "submitted"], ["submitted", "approved"], ["approved", "claimed"], ["claimed", "approved"],
        ["approved", "claimed"], ["claimed", "paid"],
    ]  # fmt: skip


def test_figures_of_a_budget_with_requests_in_every_status_reconcile(world):
    draft(world, amount="111.11")
    submitted(world, amount="222.22")
    approved(world, amount="333.33", approved_amount="300.03")
    claimed(world, amount="444.44", actual="400.04")
    paid(world, amount="555.55", actual="555.55")
    rejected = submitted(world, amount="666.66")
    services.mdf_request_reject(request=rejected, by=world.owner, reason="Outside the plan")
    services.mdf_request_cancel(request=approved(world, amount="777.77"), by=world.user)

    assert figures(world.budget) == {
        "allocated": D("10000.00"),
        "pending": D("222.22"),
        "reserved": D("300.03"),
        "claimed": D("400.04"),
        "paid": D("555.55"),
        "committed": D("1255.62"),
        "remaining": D("8744.38"),
    }
    assert sum((r.committed for r in MdfRequest.objects.all()), D("0")) == D("1255.62")


def test_reject_needs_a_reason_and_ends_the_request(world):
    request = submitted(world)
    refused(
        ValidationError, lambda: services.mdf_request_reject(request=request, by=world.owner, reason="  "), "reason"
    )
    services.mdf_request_reject(request=request, by=world.owner, reason="Budget kept for Q4 promotion")
    request = reload(request)
    assert (request.status, request.decision_note, request.decided_by) == (
        MdfStatus.REJECTED, "Budget kept for Q4 promotion", world.owner,
    )  # fmt: skip
    assert figures(world.budget)["pending"] == 0
    for move in (
        lambda: services.mdf_request_approve(request=request, by=world.owner),
        lambda: services.mdf_request_cancel(request=request, by=world.user),
        lambda: services.mdf_request_submit(request=request, by=world.user),
    ):
        refused(ValidationError, move, "status")


@pytest.mark.parametrize("stage", [draft, submitted, approved])
def test_cancel_before_the_claim_releases_the_reservation(world, stage):
    request = stage(world, amount="4000.00")
    services.mdf_request_cancel(request=request, by=world.user)
    assert reload(request).status == MdfStatus.CANCELLED
    assert figures(world.budget)["remaining"] == D("10000.00")
    assert figures(world.budget)["pending"] == D("0.00")


@pytest.mark.parametrize("stage", [claimed, paid])
def test_a_claimed_or_paid_request_cannot_be_cancelled(world, stage):
    request = stage(world)
    error = refused(ValidationError, lambda: services.mdf_request_cancel(request=request, by=world.owner), "status")
    assert "cannot go from" in str(error)


def test_only_the_legal_moves_are_made(world):
    a_draft = draft(world)
    refused(ValidationError, lambda: services.mdf_request_approve(request=a_draft, by=world.owner), "status")
    refused(ValidationError, lambda: services.mdf_request_mark_paid(request=a_draft, by=world.admin), "status")
    refused(
        ValidationError,
        lambda: services.mdf_request_claim(request=a_draft, by=world.user, actual_amount="1.00", files=[proof_file()]),
        "status",
    )
    a_submitted = submitted(world)
    refused(ValidationError, lambda: services.mdf_request_submit(request=a_submitted, by=world.user), "status")
    refused(
        ValidationError,
        lambda: services.mdf_request_update(request=a_submitted, by=world.user, title="Changed"),
        "status",
    )
    # Sending back is for claims: it never approves a submitted request (with no amount, unchecked).
    error = refused(
        ValidationError, lambda: services.mdf_claim_return(request=a_submitted, by=world.owner, reason="x"), "status"
    )
    assert "Only a claimed request can be sent back; this one is Submitted." in error.message_dict["status"]
    an_approved = services.mdf_request_approve(request=a_submitted, by=world.owner)
    refused(ValidationError, lambda: services.mdf_request_approve(request=an_approved, by=world.owner), "status")
    refused(ValidationError, lambda: services.mdf_request_mark_paid(request=an_approved, by=world.admin), "status")
    a_claim = claimed(world)
    # A claim is sent back (mdf_claim_return), never approved as a request again.
    error = refused(ValidationError, lambda: services.mdf_request_approve(request=a_claim, by=world.owner), "status")
    assert "Only a submitted request can be approved; this one is Claimed." in error.message_dict["status"]
    refused(ValidationError, lambda: services.mdf_proof_add(request=a_claim, by=world.user, file=proof_file()), "file")
    proof = a_claim.proofs.get()
    refused(ValidationError, lambda: services.mdf_proof_delete(proof=proof, by=world.user), "file")
    a_paid = services.mdf_request_mark_paid(request=a_claim, by=world.admin)
    refused(ValidationError, lambda: services.mdf_request_mark_paid(request=a_paid, by=world.admin), "status")
    refused(ValidationError, lambda: services.mdf_claim_return(request=a_paid, by=world.owner, reason="x"), "status")


def test_a_draft_changes_and_moves_to_another_budget_of_its_partner(world):
    request = draft(world)
    next_quarter = world.period.next()
    later = MdfBudgetFactory(partner=world.partner, period=next_quarter.code)
    services.mdf_request_update(
        request=request,
        by=world.user,
        budget=later,
        title="  Roadshow in three cities ",
        activity_type=MdfActivity.PROMOTION,
        start_date=next_quarter.start,
        end_date=next_quarter.start + timedelta(days=20),
        requested_amount="1234.56",
    )
    request = reload(request)
    assert (request.budget, request.title, request.activity_type, request.requested_amount) == (
        later, "Roadshow in three cities", MdfActivity.PROMOTION, D("1234.56"),
    )  # fmt: skip
    entry = AuditEntry.objects.get(object_type="incentives.mdfrequest", object_id=str(request.pk), action="update")
    assert set(entry.changes) >= {"title", "requested_amount", "start_date"}
    theirs = MdfBudgetFactory(partner=world.other)
    refused(
        ValidationError, lambda: services.mdf_request_update(request=request, by=world.user, budget=theirs), "budget"
    )


def test_proof_is_added_and_removed_while_approved_and_required_to_claim(world, django_capture_on_commit_callbacks):
    request = approved(world)
    refused(
        ValidationError,
        lambda: services.mdf_request_claim(request=request, by=world.user, actual_amount="100.00"),
        "files",
    )
    proof = services.mdf_proof_add(request=request, by=world.user, file=proof_file("photos.pdf"))
    assert (proof.original_name, proof.content_type, proof.uploaded_by) == ("photos.pdf", "application/pdf", world.user)
    stored = proof.file.name
    storage = proof.file.storage
    assert storage.exists(stored)
    with django_capture_on_commit_callbacks(execute=True):
        services.mdf_proof_delete(proof=proof, by=world.user)
    assert not MdfProof.objects.exists() and not storage.exists(stored)
    refused(
        ValidationError,
        lambda: services.mdf_proof_add(request=request, by=world.user, file=proof_file("virus.pdf", b"MZ\x90\x00")),
        "file",
    )


# A claim sent back when the budget gave its release away ---------------------------------------


def test_a_claim_sent_back_never_overspends_the_budget(world):
    first = claimed(world, amount="6000.00", actual="4000.00")  # holds 4000 of 10000; 6000 left
    second = approved(world, amount="5000.00")  # takes 5000 of what the claim released; 1000 left
    assert figures(world.budget)["remaining"] == D("1000.00")

    services.mdf_claim_return(request=first, by=world.owner, reason="Need the signed attendance list.")

    first = reload(first)
    assert first.status == MdfStatus.APPROVED
    assert first.approved_amount == D("5000.00")  # the 4000 it had claimed and the 1000 left, not 6000
    assert figures(world.budget)["remaining"] == D("0.00")
    assert reload(second).approved_amount == D("5000.00")
    entry = AuditEntry.objects.get(
        object_type="incentives.mdfrequest", object_id=str(first.pk), changes__has_key="approved_amount"
    )
    assert (entry.action, entry.actor, entry.changes) == (
        "update", world.owner, {"approved_amount": ["6000.00", "5000.00"]},
    )  # fmt: skip


def test_a_claim_sent_back_reserves_its_whole_approval_when_the_budget_has_it(world):
    request = claimed(world, amount="3000.00", actual="1000.00")
    services.mdf_claim_return(request=request, by=world.owner, reason="Blurred photos")
    assert reload(request).approved_amount == D("3000.00")
    assert figures(world.budget)["reserved"] == D("3000.00")


# Who may do what ------------------------------------------------------------------------------

REQUESTERS = ["user", "partner_admin", "owner", "province_manager", "admin"]
NOT_REQUESTERS = ["other_user", "other_admin", "other_manager", "analyst"]
DECIDERS = ["owner", "province_manager", "area_manager", "admin"]
NOT_DECIDERS = ["user", "partner_admin", "other_user", "other_manager", "analyst"]


@pytest.mark.parametrize("who", REQUESTERS)
def test_the_partners_own_users_and_its_managers_draft_submit_and_cancel(world, who):
    by = getattr(world, who)
    request = draft(world, by=by)
    services.mdf_request_update(request=request, by=by, title="Dealer training day")
    services.mdf_request_submit(request=request, by=by)
    services.mdf_request_cancel(request=request, by=by)
    assert reload(request).status == MdfStatus.CANCELLED


@pytest.mark.parametrize("who", NOT_REQUESTERS)
def test_nobody_else_drafts_submits_changes_or_cancels(world, who):
    by = getattr(world, who)
    refused(PermissionDenied, lambda: draft(world, by=by))
    request = draft(world)
    refused(PermissionDenied, lambda: services.mdf_request_update(request=request, by=by, title="Mine now"))
    refused(PermissionDenied, lambda: services.mdf_request_submit(request=request, by=by))
    refused(PermissionDenied, lambda: services.mdf_request_cancel(request=request, by=by))


@pytest.mark.parametrize("who", NOT_REQUESTERS)
def test_nobody_else_claims_or_touches_the_proof(world, who):
    by = getattr(world, who)
    request = approved(world)
    proof = services.mdf_proof_add(request=request, by=world.user, file=proof_file())
    refused(PermissionDenied, lambda: services.mdf_proof_add(request=request, by=by, file=proof_file()))
    refused(PermissionDenied, lambda: services.mdf_proof_delete(proof=proof, by=by))
    refused(PermissionDenied, lambda: services.mdf_request_claim(request=request, by=by, actual_amount="10.00"))


@pytest.mark.parametrize("who", DECIDERS)
def test_the_owner_the_regions_managers_and_admins_decide(world, who):
    by = getattr(world, who)
    first, second = submitted(world), submitted(world)
    services.mdf_request_approve(request=first, by=by)
    services.mdf_request_reject(request=second, by=by, reason="Duplicate")
    services.mdf_request_claim(request=first, by=world.user, actual_amount="3000.00", files=[proof_file()])
    services.mdf_claim_return(request=first, by=by, reason="Proof unreadable")
    assert (reload(first).status, reload(second).status) == (MdfStatus.APPROVED, MdfStatus.REJECTED)


@pytest.mark.parametrize("who", NOT_DECIDERS)
def test_nobody_else_decides(world, who):
    by = getattr(world, who)
    request = submitted(world)
    refused(PermissionDenied, lambda: services.mdf_request_approve(request=request, by=by))
    refused(PermissionDenied, lambda: services.mdf_request_reject(request=request, by=by, reason="No"))
    a_claim = claimed(world)
    refused(PermissionDenied, lambda: services.mdf_claim_return(request=a_claim, by=by, reason="No"))


@pytest.mark.parametrize("who", ["owner", "province_manager", "area_manager", "analyst", "user", "partner_admin"])
def test_only_a_channel_admin_pays(world, who):
    request = claimed(world)
    refused(PermissionDenied, lambda: services.mdf_request_mark_paid(request=request, by=getattr(world, who)))
    services.mdf_request_mark_paid(request=request, by=ChannelAdminFactory())
    assert reload(request).status == MdfStatus.PAID


def test_a_superuser_counts_as_a_channel_admin_and_the_system_may_act(world):
    request = claimed(world)
    services.mdf_request_mark_paid(request=request, by=AdminFactory())
    services.mdf_request_cancel(request=approved(world), by=None)  # a job or the demo seed


# Bad input ------------------------------------------------------------------------------------

BAD_AMOUNTS = ["-1.00", "0", "0.00", "10.005", "abc", "", None, "NaN", "Infinity", 12.5, "1e400"]


@pytest.mark.parametrize("amount", BAD_AMOUNTS)
def test_a_request_refuses_a_bad_amount(world, amount):
    refused(ValidationError, lambda: draft(world, amount=amount), "requested_amount")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"title": "   "}, "title"),
        ({"plan": ""}, "plan"),
        ({"activity_type": "party"}, "activity_type"),
        ({"start_date": None}, "start_date"),
        ({"end_date": None}, "end_date"),
    ],
)
def test_a_request_refuses_missing_or_unknown_fields(world, fields, field):
    refused(ValidationError, lambda: draft(world, **fields), field)


def test_the_activity_starts_inside_the_budgets_period_and_ends_after_it_starts(world):
    start, end = world.period.start, world.period.end
    error = refused(
        ValidationError,
        lambda: draft(world, start_date=start - timedelta(days=1), end_date=start + timedelta(days=3)),
        "start_date",
    )
    assert f"({start} to {end})" in error.message_dict["start_date"][0]
    refused(
        ValidationError,
        lambda: draft(world, start_date=end + timedelta(days=1), end_date=end + timedelta(days=2)),
        "start_date",
    )
    refused(
        ValidationError,
        lambda: draft(world, start_date=start + timedelta(days=5), end_date=start + timedelta(days=4)),
        "end_date",
    )
    # The last day of the period is inside it; the activity may run on past the period's end.
    request = draft(world, start_date=end, end_date=end + timedelta(days=3))
    refused(
        ValidationError,
        lambda: services.mdf_request_update(request=request, by=world.user, start_date=start - timedelta(days=30)),
        "start_date",
    )
    refused(
        ValidationError,
        lambda: services.mdf_request_update(request=request, by=world.user, requested_amount="-5"),
        "requested_amount",
    )


@pytest.mark.parametrize("amount", ["-5.00", "0", "0.001", "1.234", "lots", "NaN"])
def test_an_approval_refuses_a_bad_amount(world, amount):
    request = submitted(world)
    refused(
        ValidationError,
        lambda: services.mdf_request_approve(request=request, by=world.owner, approved_amount=amount),
        "approved_amount",
    )


def test_an_approval_is_never_more_than_requested_nor_than_the_budget_has(world):
    request = submitted(world, amount="3000.00")
    error = refused(
        ValidationError,
        lambda: services.mdf_request_approve(request=request, by=world.owner, approved_amount="3000.01"),
        "approved_amount",
    )
    assert "3000.00" in error.message_dict["approved_amount"][0]
    approved(world, amount="8000.00")
    error = refused(
        ValidationError, lambda: services.mdf_request_approve(request=request, by=world.owner), "approved_amount"
    )
    assert "2000.00 left" in error.message_dict["approved_amount"][0]
    services.mdf_request_approve(request=request, by=world.owner, approved_amount="2000.00")  # exactly the rest
    assert figures(world.budget)["remaining"] == D("0.00")


@pytest.mark.parametrize("amount", ["0", "-1.00", "1.001", "a lot", None])
def test_a_claim_refuses_a_bad_amount(world, amount):
    request = approved(world)
    refused(
        ValidationError,
        lambda: services.mdf_request_claim(request=request, by=world.user, actual_amount=amount, files=[proof_file()]),
        "actual_amount",
    )


def test_a_claim_is_never_more_than_approved_and_needs_good_proof(world):
    request = approved(world, approved_amount="2500.00")
    error = refused(
        ValidationError,
        lambda: services.mdf_request_claim(
            request=request, by=world.user, actual_amount="2500.01", files=[proof_file()]
        ),
        "actual_amount",
    )
    assert "2500.00" in error.message_dict["actual_amount"][0]
    refused(
        ValidationError,
        lambda: services.mdf_request_claim(request=request, by=world.user, actual_amount="2500.00"),
        "files",
    )
    refused(
        ValidationError,
        lambda: services.mdf_request_claim(
            request=request, by=world.user, actual_amount="2500.00", files=[proof_file("notes.exe", b"MZ")]
        ),
        "files",  # the claim form's field
    )


# Who is told ----------------------------------------------------------------------------------


def told(subject_part):
    return set(Notification.objects.filter(subject__contains=subject_part).values_list("recipient", flat=True))


def test_submitting_and_claiming_tell_the_deciders_only(world):
    request = submitted(world)
    deciders = {world.owner.pk, world.province_manager.pk, world.area_manager.pk}
    assert told("waits for your decision") == deciders
    notice = Notification.objects.filter(recipient=world.owner).get()
    assert request.reference in notice.subject and world.partner.name in notice.subject
    services.mdf_request_approve(request=request, by=world.owner)
    services.mdf_request_claim(request=request, by=world.user, actual_amount="100.00", files=[proof_file()])
    assert told("waits for review") == deciders


def test_decisions_and_payment_tell_the_partners_admins_and_the_author_only(world):
    request = submitted(world)
    assert request.created_by == world.user  # a partner user (not an admin) drafted it
    services.mdf_request_approve(request=request, by=world.province_manager)
    assert told("was approved") == {world.partner_admin.pk, world.user.pk}
    services.mdf_request_claim(request=request, by=world.user, actual_amount="100.00", files=[proof_file()])
    services.mdf_claim_return(request=request, by=world.owner, reason="Photos missing")
    assert told("was sent back") == {world.partner_admin.pk, world.user.pk}
    assert "Photos missing" in Notification.objects.filter(subject__contains="was sent back").first().message
    services.mdf_request_claim(request=request, by=world.user, actual_amount="100.00")
    services.mdf_request_mark_paid(request=request, by=world.admin)
    assert told("was paid") == {world.partner_admin.pk, world.user.pk}
    rejected = submitted(world)
    services.mdf_request_reject(request=rejected, by=world.owner, reason="Not in the plan")
    assert told("was rejected") == {world.partner_admin.pk, world.user.pk}
    assert "Not in the plan" in Notification.objects.filter(subject__contains="was rejected").first().message


def test_the_person_who_acts_is_not_told(world):
    submitted(world, by=world.owner)  # the owner drafts and submits on the partner's behalf
    assert told("waits for your decision") == {world.province_manager.pk, world.area_manager.pk}


def test_without_managers_the_channel_admins_decide_and_are_told(world):
    partner = DistributorFactory(region=RegionFactory(name="Xizang"))
    budget = MdfBudgetFactory(partner=partner)
    user = PartnerUserFactory(partner=partner)
    request = draft(world, by=user, budget=budget)
    services.mdf_request_submit(request=request, by=user)
    assert world.admin.pk in told("waits for your decision")
    assert not told("waits for your decision") & {world.owner.pk, world.other_manager.pk, world.analyst.pk}


def test_cancelling_and_drafting_tell_nobody(world):
    services.mdf_request_cancel(request=draft(world), by=world.user)
    assert not Notification.objects.exists()
