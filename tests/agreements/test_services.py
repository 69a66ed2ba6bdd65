"""Every rule of the agreement services: numbering, terms, the lifecycle (each legal and illegal
move), locked terms, renewals and amendments, acknowledgement, permissions and history."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import override_settings
from django.utils import timezone

from agreements import services
from agreements.choices import AGREEMENT_TRANSITIONS, AgreementStatus
from agreements.models import Agreement, AgreementTerritory, MinimumPrice
from partners.choices import PartnerStatus
from prm.models import AuditEntry
from tests.factories import (
    AgreementFactory,
    AnalystFactory,
    ChannelManagerFactory,
    ManagerRegionFactory,
    PartnerAdminUserFactory,
    PartnerFactory,
    PartnerUserFactory,
    ProductLineFactory,
    RegionFactory,
)

from .domain_world import END, START, active, admin, draft

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


@pytest.fixture
def by():
    return admin()


@pytest.fixture
def line():
    return ProductLineFactory(code="SENSORS", name="Sensors")


def history(agreement, action=None):
    entries = AuditEntry.objects.filter(object_type="agreements.agreement", object_id=str(agreement.pk))
    return entries.filter(action=action) if action else entries


def errors_of(excinfo):
    return excinfo.value.message_dict


# Creating ------------------------------------------------------------------------------------


def test_create_makes_a_numbered_draft_with_its_terms(by, line):
    region = RegionFactory()
    partner = PartnerFactory(region=region, owner=ChannelManagerFactory())

    agreement = services.agreement_create(
        partner=partner,
        agreement_type="distribution",
        start_date=START,
        end_date=END,
        by=by,
        product_lines=[line],
        territories=[{"region": region, "exclusive": True}],
        minimum_prices=[{"product_line": line, "min_unit_price": Decimal("99.50")}],
        discount_percent=Decimal("12.50"),
        payment_terms="Net 30",
    )

    assert agreement.number == f"AG-{TODAY.year}-00001"
    assert agreement.status == AgreementStatus.DRAFT
    assert agreement.owner == partner.owner  # the partner's channel manager by default
    assert agreement.created_by == by
    assert list(agreement.product_lines.all()) == [line]
    assert list(agreement.territories.values_list("region", "exclusive")) == [(region.pk, True)]
    assert MinimumPrice.objects.get(agreement=agreement).min_unit_price == Decimal("99.50")
    assert history(agreement, AuditEntry.Action.CREATE).count() == 1


def test_numbers_count_up_within_the_year(by):
    numbers = [draft(by=by).number for _ in range(3)]

    assert numbers == [f"AG-{TODAY.year}-{n:05d}" for n in (1, 2, 3)]


def test_a_number_taken_at_the_same_moment_is_retried_with_the_next(by, monkeypatch):
    taken = draft(by=by)
    real = services._next_number
    calls = []

    def racing(year):
        calls.append(year)
        return taken.number if len(calls) == 1 else real(year)  # another request won the first number

    monkeypatch.setattr(services, "_next_number", racing)

    second = draft(by=by)

    assert second.number != taken.number and second.number.startswith(f"AG-{TODAY.year}-")
    assert len(calls) == 2
    assert Agreement.objects.count() == 2


@pytest.mark.parametrize("end", [START, START - timedelta(days=1)])
def test_an_agreement_must_end_after_it_starts(by, end):
    with pytest.raises(ValidationError) as excinfo:
        draft(by=by, end=end)

    assert "end_date" in errors_of(excinfo)
    assert not Agreement.objects.exists()


def test_a_minimum_price_needs_a_product_line_of_the_agreement(by, line):
    other = ProductLineFactory(name="Controllers")

    with pytest.raises(ValidationError) as excinfo:
        draft(by=by, lines=[line], minimum_prices=[{"product_line": other, "min_unit_price": Decimal("1")}])

    assert "Controllers" in errors_of(excinfo)["minimum_prices"][0]
    assert not Agreement.objects.exists()


def test_a_negative_minimum_price_is_refused(by, line):
    with pytest.raises(ValidationError) as excinfo:
        draft(by=by, lines=[line], minimum_prices=[{"product_line": line, "min_unit_price": Decimal("-1")}])

    assert "minimum_prices" in errors_of(excinfo)


def test_a_region_listed_twice_is_refused(by):
    region = RegionFactory(name="Hebei")

    with pytest.raises(ValidationError) as excinfo:
        draft(by=by, territories=[(region, False), (region, True)])

    assert "Hebei" in errors_of(excinfo)["territories"][0]
    assert not AgreementTerritory.objects.exists()


def test_an_inactive_product_line_is_refused(by):
    with pytest.raises(ValidationError) as excinfo:
        draft(by=by, lines=[ProductLineFactory(is_active=False, name="Old line")])

    assert "Old line" in errors_of(excinfo)["product_lines"][0]


def test_unknown_terms_and_terminated_partners_are_refused(by):
    with pytest.raises(ValidationError) as excinfo:
        draft(by=by, status=AgreementStatus.ACTIVE)
    assert "status" in errors_of(excinfo)

    with pytest.raises(ValidationError) as excinfo:
        draft(by=by, partner=PartnerFactory(status=PartnerStatus.TERMINATED))
    assert "partner" in errors_of(excinfo)
    assert not Agreement.objects.exists()


# The lifecycle -------------------------------------------------------------------------------


def test_the_happy_path_draft_pending_active_expired(by):
    agreement = draft(by=by)

    services.agreement_submit(agreement=agreement, by=by)
    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.PENDING_APPROVAL and agreement.submitted_at

    services.agreement_approve(agreement=agreement, by=by)
    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.ACTIVE
    assert agreement.approved_by == by and agreement.approved_at

    Agreement.objects.filter(pk=agreement.pk).update(
        start_date=TODAY - timedelta(days=400), end_date=TODAY - timedelta(days=1)
    )
    services.agreement_expire(agreement=agreement)
    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.EXPIRED and agreement.ended_at
    moves = [entry.changes["status"] for entry in history(agreement, AuditEntry.Action.STATUS).order_by("id")]
    assert moves == [["draft", "pending_approval"], ["pending_approval", "active"], ["active", "expired"]]


ACTIONS = {
    AgreementStatus.PENDING_APPROVAL: lambda a, by: services.agreement_submit(agreement=a, by=by),
    AgreementStatus.ACTIVE: lambda a, by: services.agreement_approve(agreement=a, by=by),
    AgreementStatus.DRAFT: lambda a, by: services.agreement_reject(agreement=a, by=by, reason="Discount too high"),
    AgreementStatus.TERMINATED: lambda a, by: services.agreement_terminate(agreement=a, by=by, reason="Breach"),
    AgreementStatus.EXPIRED: lambda a, by: services.agreement_expire(agreement=a),
}
ILLEGAL = [
    (current, new) for current in AgreementStatus for new in ACTIONS if new not in AGREEMENT_TRANSITIONS[current]
]


@pytest.mark.parametrize(("current", "new"), ILLEGAL, ids=lambda value: str(value))
def test_illegal_moves_are_refused_and_change_nothing(by, current, new):
    agreement = AgreementFactory(status=current, start_date=START, end_date=END, product_lines=[ProductLineFactory()])

    with pytest.raises(ValidationError):
        ACTIONS[new](agreement, by)

    agreement.refresh_from_db()
    assert agreement.status == current
    assert not history(agreement, AuditEntry.Action.STATUS).exists()


def test_an_illegal_move_names_both_statuses(by):
    agreement = draft(by=by)

    with pytest.raises(ValidationError) as excinfo:
        services.agreement_approve(agreement=agreement, by=by)

    assert errors_of(excinfo)["status"] == ["An agreement cannot go from Draft to Active."]


def test_submitting_needs_a_product_line(by):
    agreement = draft(by=by, lines=[])

    with pytest.raises(ValidationError) as excinfo:
        services.agreement_submit(agreement=agreement, by=by)

    assert "product_lines" in errors_of(excinfo)
    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.DRAFT


def test_rejecting_sends_it_back_to_draft_with_the_reason(by):
    agreement = draft(by=by)
    services.agreement_submit(agreement=agreement, by=by)

    with pytest.raises(ValidationError) as excinfo:
        services.agreement_reject(agreement=agreement, by=by, reason="  ")
    assert "reason" in errors_of(excinfo)

    services.agreement_reject(agreement=agreement, by=by, reason="Discount too high")
    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.DRAFT and agreement.submitted_at is None
    entry = history(agreement, AuditEntry.Action.STATUS).first()
    assert entry.changes["reason"] == [None, "Discount too high"]


def test_a_draft_is_withdrawn_without_a_reason_but_an_active_one_needs_one(by):
    withdrawn = services.agreement_terminate(agreement=draft(by=by), by=by, reason="")
    assert withdrawn.status == AgreementStatus.TERMINATED

    agreement = active(by=by)
    with pytest.raises(ValidationError) as excinfo:
        services.agreement_terminate(agreement=agreement, by=by, reason="")
    assert "reason" in errors_of(excinfo)

    services.agreement_terminate(agreement=agreement, by=by, reason="Sold outside the territory")
    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.TERMINATED
    assert agreement.termination_reason == "Sold outside the territory" and agreement.ended_at


def test_an_agreement_still_running_does_not_expire(by):
    agreement = active(by=by)

    with pytest.raises(ValidationError) as excinfo:
        services.agreement_expire(agreement=agreement)

    assert "end_date" in errors_of(excinfo)


def test_an_agreement_already_over_cannot_be_approved(by):
    agreement = draft(by=by, start=TODAY - timedelta(days=400), end=TODAY - timedelta(days=1))
    services.agreement_submit(agreement=agreement, by=by)

    with pytest.raises(ValidationError) as excinfo:
        services.agreement_approve(agreement=agreement, by=by)

    assert "end_date" in errors_of(excinfo)


# Locked terms --------------------------------------------------------------------------------


def test_a_draft_changes_everything_and_the_history_says_what(by, line):
    agreement = draft(by=by, lines=[line], discount_percent=Decimal("10"))
    region = RegionFactory(name="Zhejiang")
    other_line = ProductLineFactory(name="Controllers")

    services.agreement_update(
        agreement=agreement,
        by=by,
        discount_percent=Decimal("12.5"),
        end_date=END - timedelta(days=31),
        product_lines=[line, other_line],
        territories=[{"region": region, "exclusive": True}],
        minimum_prices=[{"product_line": other_line, "min_unit_price": Decimal("10")}],
    )

    agreement.refresh_from_db()
    assert agreement.discount_percent == Decimal("12.5")
    assert set(agreement.product_lines.all()) == {line, other_line}
    assert agreement.territories.get().region == region
    changes = history(agreement, AuditEntry.Action.UPDATE).get().changes
    assert changes["discount_percent"] == ["10.00", "12.5"]
    assert changes["territories"] == ["", "Zhejiang *"]
    assert "Controllers" in changes["product_lines"][1]
    assert changes["minimum_prices"] == ["", "Controllers: 10.00"]


@pytest.mark.parametrize("status", [AgreementStatus.PENDING_APPROVAL, AgreementStatus.ACTIVE])
def test_submitted_terms_are_locked(by, status):
    agreement = AgreementFactory(status=status, discount_percent=Decimal("10"))

    with pytest.raises(ValidationError) as excinfo:
        services.agreement_update(agreement=agreement, by=by, discount_percent=Decimal("20"), payment_days=60)

    errors = errors_of(excinfo)
    assert set(errors) == {"discount_percent", "payment_days"}
    assert "Amend or renew it" in errors["discount_percent"][0]
    agreement.refresh_from_db()
    assert agreement.discount_percent == Decimal("10")

    with pytest.raises(ValidationError) as excinfo:
        services.agreement_update(
            agreement=agreement, by=by, territories=[{"region": RegionFactory(), "exclusive": False}]
        )
    assert "territories" in errors_of(excinfo)


def test_an_active_agreement_still_takes_notes_signatories_and_owner(by):
    agreement = AgreementFactory(status=AgreementStatus.ACTIVE, discount_percent=Decimal("10"))
    manager = ChannelManagerFactory()

    services.agreement_update(
        agreement=agreement,
        by=by,
        notes="Signed copy filed",
        partner_signatory="Li Wei",
        owner=manager,
        discount_percent=Decimal("10"),  # unchanged: not a change of terms
    )

    agreement.refresh_from_db()
    assert (agreement.notes, agreement.partner_signatory, agreement.owner) == ("Signed copy filed", "Li Wei", manager)


# Renewals and amendments ---------------------------------------------------------------------


def test_renewal_is_a_draft_from_the_day_after_the_end_for_the_same_length(by, line):
    region = RegionFactory()
    agreement = active(
        by=by,
        lines=[line],
        territories=[(region, True)],
        minimum_prices=[{"product_line": line, "min_unit_price": Decimal("5")}],
        discount_percent=Decimal("8"),
    )

    renewal = services.agreement_renew(agreement=agreement, by=by)

    assert renewal.status == AgreementStatus.DRAFT and renewal.predecessor == agreement
    assert not renewal.is_amendment and renewal.version == 1
    assert (renewal.start_date, renewal.end_date) == (END + timedelta(days=1), END.replace(year=END.year + 1))
    assert renewal.discount_percent == Decimal("8")
    assert list(renewal.territories.values_list("region", "exclusive")) == [(region.pk, True)]
    assert renewal.minimum_prices.get().min_unit_price == Decimal("5")
    assert renewal.number != agreement.number
    # The renewal starts the day after: submitting it clashes with nothing, not even the
    # predecessor's exclusive territory.
    services.agreement_submit(agreement=renewal, by=by)


def test_only_one_open_successor_at_a_time(by):
    agreement = active(by=by)
    first = services.agreement_renew(agreement=agreement, by=by)

    with pytest.raises(ValidationError) as excinfo:
        services.agreement_amend(agreement=agreement, by=by)

    assert first.number in excinfo.value.messages[0]


def test_a_draft_cannot_be_renewed_or_amended(by):
    agreement = draft(by=by)

    with pytest.raises(ValidationError):
        services.agreement_renew(agreement=agreement, by=by)
    with pytest.raises(ValidationError):
        services.agreement_amend(agreement=agreement, by=by)
    assert Agreement.objects.count() == 1


def test_an_approved_amendment_supersedes_its_predecessor(by, line):
    region = RegionFactory()
    agreement = active(by=by, lines=[line], territories=[(region, True)], start=TODAY - timedelta(days=30))

    amendment = services.agreement_amend(agreement=agreement, by=by, start_date=TODAY)
    assert amendment.is_amendment and amendment.version == 2 and amendment.predecessor == agreement
    assert (amendment.start_date, amendment.end_date) == (TODAY, agreement.end_date)
    services.agreement_update(agreement=amendment, by=by, discount_percent=Decimal("15"))
    services.agreement_submit(agreement=amendment, by=by)  # the same exclusive territory: no clash
    services.agreement_approve(agreement=amendment, by=by)

    agreement.refresh_from_db()
    amendment.refresh_from_db()
    assert amendment.status == AgreementStatus.ACTIVE
    assert agreement.status == AgreementStatus.TERMINATED
    assert agreement.termination_reason == f"Superseded by {amendment.number}."


def test_an_amendment_starts_inside_the_term(by):
    agreement = active(by=by)

    with pytest.raises(ValidationError) as excinfo:
        services.agreement_amend(agreement=agreement, by=by, start_date=END + timedelta(days=1))

    assert "start_date" in errors_of(excinfo)


# Acknowledgement -----------------------------------------------------------------------------


def test_a_partner_user_acknowledges_the_active_agreement_once(by):
    agreement = active(by=by)
    user = PartnerUserFactory(partner=agreement.partner)

    services.agreement_acknowledge(agreement=agreement, by=user)
    agreement.refresh_from_db()
    assert agreement.acknowledged_by == user and agreement.acknowledged_at
    assert history(agreement, AuditEntry.Action.UPDATE).get().actor == user

    with pytest.raises(ValidationError):
        services.agreement_acknowledge(agreement=agreement, by=PartnerAdminUserFactory(partner=agreement.partner))


def test_only_the_partners_own_users_acknowledge_and_only_an_active_agreement(by):
    agreement = active(by=by)
    stranger = PartnerUserFactory(partner=PartnerFactory())

    with pytest.raises(PermissionDenied):
        services.agreement_acknowledge(agreement=agreement, by=stranger)
    with pytest.raises(PermissionDenied):
        services.agreement_acknowledge(agreement=agreement, by=by)  # staff do not acknowledge for partners
    pending = draft(by=by, partner=agreement.partner)
    with pytest.raises(ValidationError):
        services.agreement_acknowledge(agreement=pending, by=PartnerUserFactory(partner=agreement.partner))
    agreement.refresh_from_db()
    assert agreement.acknowledged_at is None


# Permissions ---------------------------------------------------------------------------------


def test_a_manager_works_on_the_partners_of_their_regions_only(by):
    region, elsewhere = RegionFactory(), RegionFactory()
    manager = ChannelManagerFactory()
    ManagerRegionFactory(manager=manager, region=region)
    mine, foreign = PartnerFactory(region=region), PartnerFactory(region=elsewhere)

    agreement = draft(by=manager, partner=mine)
    services.agreement_submit(agreement=agreement, by=manager)

    with pytest.raises(PermissionDenied):
        draft(by=manager, partner=foreign)
    theirs = draft(by=by, partner=foreign)
    for attempt in (
        lambda: services.agreement_update(agreement=theirs, by=manager, notes="x"),
        lambda: services.agreement_submit(agreement=theirs, by=manager),
        lambda: services.agreement_terminate(agreement=theirs, by=manager, reason="x"),
    ):
        with pytest.raises(PermissionDenied):
            attempt()
    theirs.refresh_from_db()
    assert theirs.status == AgreementStatus.DRAFT and theirs.notes == ""


def test_analysts_and_partner_users_never_write(by):
    agreement = draft(by=by)
    for user in (AnalystFactory(), PartnerAdminUserFactory(partner=agreement.partner)):
        with pytest.raises(PermissionDenied):
            draft(by=user, partner=agreement.partner)
        with pytest.raises(PermissionDenied):
            services.agreement_submit(agreement=agreement, by=user)


def test_only_a_channel_admin_approves_by_default(by):
    manager = ChannelManagerFactory()
    agreement = draft(by=by, partner=PartnerFactory(owner=manager))
    services.agreement_submit(agreement=agreement, by=manager)

    with pytest.raises(PermissionDenied):
        services.agreement_approve(agreement=agreement, by=manager)
    with pytest.raises(PermissionDenied):
        services.agreement_reject(agreement=agreement, by=manager, reason="no")
    agreement.refresh_from_db()
    assert services.agreement_allowed_actions(agreement, manager) == {"edit", "terminate", "upload"}

    services.agreement_approve(agreement=agreement, by=by)


@override_settings(PRM_AGREEMENT_OWNER_MAY_APPROVE=True)
def test_the_owning_manager_approves_when_the_setting_allows():
    owner, other = ChannelManagerFactory(), ChannelManagerFactory()
    agreement = AgreementFactory(status=AgreementStatus.PENDING_APPROVAL, partner=PartnerFactory(owner=owner))
    agreement.product_lines.add(ProductLineFactory())

    with pytest.raises(PermissionDenied):
        services.agreement_approve(agreement=agreement, by=other)
    services.agreement_approve(agreement=agreement, by=owner)

    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.ACTIVE and agreement.approved_by == owner


def test_allowed_actions_follow_status_and_role(by):
    agreement = draft(by=by)
    analyst = AnalystFactory()
    assert services.agreement_allowed_actions(agreement, by) == {"edit", "submit", "terminate", "upload"}
    assert services.agreement_allowed_actions(agreement, analyst) == set()

    services.agreement_submit(agreement=agreement, by=by)
    agreement.refresh_from_db()
    assert services.agreement_allowed_actions(agreement, by) == {"edit", "terminate", "upload", "approve", "reject"}

    services.agreement_approve(agreement=agreement, by=by)
    agreement.refresh_from_db()
    assert services.agreement_allowed_actions(agreement, by) == {"edit", "terminate", "upload", "renew", "amend"}
    user = PartnerUserFactory(partner=agreement.partner)
    assert services.agreement_allowed_actions(agreement, user) == {"acknowledge"}

    services.agreement_renew(agreement=agreement, by=by)
    assert "renew" not in services.agreement_allowed_actions(agreement, by)
    services.agreement_acknowledge(agreement=agreement, by=user)
    agreement.refresh_from_db()
    assert services.agreement_allowed_actions(agreement, user) == set()


def test_the_history_reads_in_words(by):
    agreement = draft(by=by)
    services.agreement_update(
        agreement=agreement, by=by, territories=[{"region": RegionFactory(name="Hebei"), "exclusive": False}]
    )
    services.target_set(agreement=agreement, period=f"{START.year}-Q1", by=by, revenue=Decimal("5"))

    rows = [
        (str(label), before, after) for entry in history(agreement) for label, before, after in entry.readable_changes()
    ]

    assert ("territories", "", "Hebei") in rows
    assert ("target: revenue target", None, "5.00") in rows


def test_a_terminated_partners_draft_is_neither_submitted_nor_approved(by):
    agreement = draft(by=by)
    Partner = type(agreement.partner)
    Partner.objects.filter(pk=agreement.partner_id).update(status=PartnerStatus.TERMINATED)

    with pytest.raises(ValidationError) as excinfo:
        services.agreement_submit(agreement=agreement, by=by)

    assert "partner" in errors_of(excinfo)
    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.DRAFT
