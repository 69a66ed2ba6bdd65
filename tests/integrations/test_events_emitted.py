"""The business services record their webhook events in the transaction of the change (the
outbox): exactly one event per change, with the object as the API's detail endpoint shows it to
vendor staff, none when the change fails or rolls back, none when nothing changed."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation

from agreements import services as agreement_services
from agreements.choices import AgreementStatus
from agreements.models import Agreement, AgreementTarget
from incentives import services as incentive_services
from incentives.choices import MdfStatus
from integrations.choices import EventType
from integrations.models import WebhookEvent
from partners import services as partner_services
from partners.choices import PartnerStatus, PartnerType
from performance import services as performance_services
from performance.models import RegionFlag, Scorecard
from prm.periods import Period
from tests.agreements.domain_world import draft
from tests.factories import (
    AgreementFactory,
    DistributorFactory,
    MdfRequestFactory,
    PartnerFactory,
    PartnerTierFactory,
    RebateStatementFactory,
    RegionFactory,
    StatementLineFactory,
    TrainingRecordFactory,
)
from tests.performance.test_flag_runs import busy_world
from tests.performance.world import sell
from training import services as training_services

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def events(event_type=None):
    rows = WebhookEvent.objects.order_by("occurred_at", "object_id")
    return list(rows.filter(type=event_type) if event_type else rows)


def only_event(event_type):
    """The one event recorded, of `event_type`: no other event of any type."""
    recorded = events()
    assert [event.type for event in recorded] == [event_type]
    return recorded[0]


def detail(api_client, url):
    response = api_client.get(url)
    assert response.status_code == 200
    return response.json()


def assert_event(event, *, object_id, partner, data):
    assert event.object_id == str(object_id)
    assert event.partner_id == (partner.pk if partner is not None else None)
    assert event.data == data


# Partners ---------------------------------------------------------------------------------------


def test_registering_a_partner_records_partner_created_with_the_partner_as_the_api_shows_it(staff_user, api_client):
    tier, region = PartnerTierFactory(), RegionFactory()

    partner = partner_services.partner_create(
        by=staff_user, code="crm-1", name="Huadong Trading", partner_type=PartnerType.RESELLER, tier=tier, region=region
    )

    event = only_event(EventType.PARTNER_CREATED)
    assert_event(
        event, object_id=partner.pk, partner=partner, data=detail(api_client, f"/api/v1/partners/{partner.pk}/")
    )
    assert event.data["code"] == "CRM-1" and event.data["credit_rating"] == partner.credit_rating


def test_a_partner_created_through_the_api_records_one_event(staff_user, api_client):
    region = RegionFactory()

    response = api_client.post(
        "/api/v1/partners/", {"code": "API-1", "name": "Api Trading", "partner_type": "reseller", "region": region.pk}
    )

    assert response.status_code == 201, response.content
    event = only_event(EventType.PARTNER_CREATED)
    assert event.data == detail(api_client, f"/api/v1/partners/{response.json()['id']}/")


def test_a_partner_update_records_partner_updated_with_the_new_values(staff_user, api_client):
    partner = PartnerFactory()

    partner_services.partner_update(partner=partner, by=staff_user, name="Renamed Trading", phone="021-5555")

    event = only_event(EventType.PARTNER_UPDATED)
    assert_event(
        event, object_id=partner.pk, partner=partner, data=detail(api_client, f"/api/v1/partners/{partner.pk}/")
    )
    assert event.data["name"] == "Renamed Trading"


def test_an_update_that_changes_nothing_records_no_event(staff_user):
    partner = PartnerFactory(name="Same Name")

    partner_services.partner_update(partner=partner, by=staff_user, name="Same Name", code=partner.code.lower())

    assert events() == []


def test_a_partner_admin_changing_the_profile_records_one_event(staff_user, api_client):
    partner = PartnerFactory()

    partner_services.partner_update_profile(partner=partner, by=staff_user, phone="010-1234", website="")

    event = only_event(EventType.PARTNER_UPDATED)
    assert event.data == detail(api_client, f"/api/v1/partners/{partner.pk}/")


def test_a_status_change_records_partner_updated_with_the_new_status(staff_user, api_client):
    partner = PartnerFactory(status=PartnerStatus.PROSPECT)

    partner_services.partner_change_status(partner=partner, status=PartnerStatus.ONBOARDING, by=staff_user)

    event = only_event(EventType.PARTNER_UPDATED)
    assert event.data == detail(api_client, f"/api/v1/partners/{partner.pk}/")
    assert event.data["status"] == "onboarding"


def test_an_illegal_status_change_records_no_event(staff_user):
    partner = PartnerFactory(status=PartnerStatus.PROSPECT)

    with pytest.raises(ValidationError):
        partner_services.partner_change_status(partner=partner, status=PartnerStatus.SUSPENDED, by=staff_user)

    assert events() == []


def test_a_move_records_partner_updated_and_a_move_to_the_same_place_records_none(staff_user, api_client):
    distributor = DistributorFactory()
    partner = PartnerFactory()

    partner_services.partner_move(partner=partner, parent=distributor, by=staff_user)
    partner_services.partner_move(partner=partner, parent=distributor, by=staff_user)

    event = only_event(EventType.PARTNER_UPDATED)
    assert_event(
        event, object_id=partner.pk, partner=partner, data=detail(api_client, f"/api/v1/partners/{partner.pk}/")
    )
    assert (event.data["parent"], event.data["network_level"]) == (distributor.pk, 2)


def test_a_change_rolled_back_after_the_service_leaves_no_event(staff_user):
    """The outbox: the event is written with the change, so it goes when the change goes."""
    with pytest.raises(RuntimeError), transaction.atomic():
        partner_services.partner_create(
            by=staff_user, code="GONE", name="Gone", partner_type=PartnerType.RESELLER, region=RegionFactory()
        )
        assert len(events(EventType.PARTNER_CREATED)) == 1
        raise RuntimeError

    assert events() == []


# Agreements -------------------------------------------------------------------------------------


def test_approving_an_agreement_records_agreement_activated(staff_user, api_client):
    agreement = draft(by=staff_user)
    agreement_services.agreement_submit(agreement=agreement, by=staff_user)
    WebhookEvent.objects.all().delete()

    agreement_services.agreement_approve(agreement=agreement, by=staff_user)

    event = only_event(EventType.AGREEMENT_ACTIVATED)
    data = detail(api_client, f"/api/v1/agreements/{agreement.pk}/")
    assert_event(event, object_id=agreement.pk, partner=agreement.partner, data=data)
    assert data["status"] == "active" and data["product_lines"]


def test_approving_a_draft_is_refused_and_records_no_event(staff_user):
    agreement = draft(by=staff_user)
    WebhookEvent.objects.all().delete()

    with pytest.raises(ValidationError):
        agreement_services.agreement_approve(agreement=agreement, by=staff_user)

    assert events() == []


def test_each_expiry_notice_records_agreement_expiring_once(api_client):
    soon = AgreementFactory(status=AgreementStatus.ACTIVE, end_date=TODAY + timedelta(days=20))
    later = AgreementFactory(status=AgreementStatus.ACTIVE, end_date=TODAY + timedelta(days=200))
    ended = AgreementFactory(status=AgreementStatus.ACTIVE, end_date=TODAY - timedelta(days=1))

    assert agreement_services.agreements_expiry_run(today=TODAY)["notices"] == 1
    assert agreement_services.agreements_expiry_run(today=TODAY)["notices"] == 0

    event = only_event(EventType.AGREEMENT_EXPIRING)
    assert_event(
        event, object_id=soon.pk, partner=soon.partner, data=detail(api_client, f"/api/v1/agreements/{soon.pk}/")
    )
    assert {later.pk, ended.pk}.isdisjoint({int(e.object_id) for e in events()})


def test_a_new_reminder_window_records_a_new_expiring_event():
    agreement = AgreementFactory(status=AgreementStatus.ACTIVE, end_date=TODAY + timedelta(days=85))

    agreement_services.agreements_expiry_run(today=TODAY)
    agreement_services.agreements_expiry_run(today=TODAY + timedelta(days=30))

    assert [event.object_id for event in events(EventType.AGREEMENT_EXPIRING)] == [str(agreement.pk)] * 2


# Incentives -------------------------------------------------------------------------------------


def test_approving_a_statement_records_rebate_statement_approved_with_its_lines(staff_user, api_client):
    statement = StatementLineFactory().statement

    incentive_services.statement_approve(statement=statement, by=staff_user)

    event = only_event(EventType.REBATE_STATEMENT_APPROVED)
    data = detail(api_client, f"/api/v1/rebate-statements/{statement.pk}/")
    assert_event(event, object_id=statement.pk, partner=statement.partner, data=data)
    assert data["status"] == "approved" and len(data["lines"]) == 1


def test_the_statement_event_reads_in_the_sites_language_whoever_approves(staff_user, api_client):
    statement = StatementLineFactory().statement

    with translation.override("zh-hans"):
        incentive_services.statement_approve(statement=statement, by=staff_user)

    event = only_event(EventType.REBATE_STATEMENT_APPROVED)
    assert event.data == detail(api_client, f"/api/v1/rebate-statements/{statement.pk}/")


def test_approving_a_paid_statement_is_refused_and_records_no_event(staff_user):
    statement = RebateStatementFactory(status="paid")

    with pytest.raises(ValidationError):
        incentive_services.statement_approve(statement=statement, by=staff_user)

    assert events() == []


def test_approving_an_mdf_request_records_mdf_request_approved(staff_user, api_client):
    request = MdfRequestFactory(status=MdfStatus.SUBMITTED)

    incentive_services.mdf_request_approve(request=request, by=staff_user, approved_amount="800.00")

    event = only_event(EventType.MDF_REQUEST_APPROVED)
    data = detail(api_client, f"/api/v1/mdf-requests/{request.pk}/")
    assert_event(event, object_id=request.pk, partner=request.partner, data=data)
    assert (data["status"], data["approved_amount"]) == ("approved", "800.00")


def test_an_approval_beyond_the_budget_is_refused_and_records_no_event(staff_user):
    request = MdfRequestFactory(status=MdfStatus.SUBMITTED, requested_amount=Decimal("20000.00"))

    with pytest.raises(ValidationError):
        incentive_services.mdf_request_approve(request=request, by=staff_user)

    assert events() == []


# Training ---------------------------------------------------------------------------------------


def test_each_certification_reminder_records_certification_expiring_once(api_client):
    record = TrainingRecordFactory(passed=True, expires_on=TODAY + timedelta(days=20))
    TrainingRecordFactory(passed=True, expires_on=TODAY + timedelta(days=200))

    assert training_services.certifications_expiry_run(today=TODAY)["reminders"] == 1
    assert training_services.certifications_expiry_run(today=TODAY)["reminders"] == 0

    event = only_event(EventType.CERTIFICATION_EXPIRING)
    data = detail(api_client, f"/api/v1/training-records/{record.pk}/")
    assert_event(event, object_id=record.pk, partner=record.contact.partner, data=data)
    assert data["expires_on"] == (TODAY + timedelta(days=20)).isoformat()


# Performance ------------------------------------------------------------------------------------


def test_an_ended_months_scorecards_are_published_once_and_again_only_when_they_change(api_client):
    busy_world(3, "2026-03")

    performance_services.month_compute(period="2026-03")

    published = events(EventType.SCORECARD_PUBLISHED)
    cards = {card.pk: card for card in Scorecard.objects.filter(period="2026-03")}
    assert sorted(int(event.object_id) for event in published) == sorted(cards)
    for event in published:
        card = cards[int(event.object_id)]
        assert_event(
            event, object_id=card.pk, partner=card.partner, data=detail(api_client, f"/api/v1/scorecards/{card.pk}/")
        )

    WebhookEvent.objects.all().delete()
    performance_services.month_compute(period="2026-03")
    assert events(EventType.SCORECARD_PUBLISHED) == []

    changed = Scorecard.objects.filter(period="2026-03").order_by("partner_id").first()
    Scorecard.objects.filter(pk=changed.pk).update(score=Decimal("1.00"), grade="D")
    performance_services.month_compute(period="2026-03")
    event = only_event(EventType.SCORECARD_PUBLISHED)
    assert event.partner == changed.partner
    assert event.data == detail(api_client, f"/api/v1/scorecards/{event.object_id}/")


def test_the_running_months_scorecards_are_not_published():
    month = Period.containing(TODAY, "month").code
    busy_world(3, month)

    result = performance_services.month_compute(period=month)

    assert result.scorecards == 3
    assert events() == []


def test_a_region_flag_opening_records_region_flagged_once(api_client):
    busy_world(3, "2026-03")

    result = performance_services.month_compute(period="2026-03")

    flagged = events(EventType.REGION_FLAGGED)
    assert len(flagged) == result.flags_opened == 3
    for event in flagged:
        assert event.partner is None
        assert event.data == detail(api_client, f"/api/v1/region-flags/{event.object_id}/")
        assert event.data["status"] == "open"
    performance_services.month_compute(period="2026-03")  # the flags stay: nothing opens
    assert events(EventType.REGION_FLAGGED) == flagged


def test_a_resolved_flags_region_flagged_again_in_a_later_month_records_a_new_event(staff_user):
    busy_world(3, "2026-03")
    performance_services.month_compute(period="2026-03")
    march = {flag.region_id for flag in RegionFlag.objects.filter(period="2026-03")}
    for flag in RegionFlag.objects.filter(period="2026-03"):
        flag = performance_services.flag_acknowledge(flag=flag, by=staff_user)
        flag = performance_services.flag_plan(
            flag=flag, measures=["training"], owner=staff_user, due_date=TODAY, by=staff_user
        )
        performance_services.flag_resolve(flag=flag, resolution="Trained the sales team.", by=staff_user)
    WebhookEvent.objects.all().delete()
    for agreement in Agreement.objects.select_related("partner"):
        AgreementTarget.objects.create(agreement=agreement, period="2026-04", revenue=Decimal("1000.00"))
        sell(agreement.partner, date(2026, 4, 1), 2, "50.00", customer=f"c{agreement.pk}")

    result = performance_services.month_compute(period="2026-04")

    flagged = events(EventType.REGION_FLAGGED)
    assert len(flagged) == result.flags_opened
    assert {event.data["region"] for event in flagged} == march
    assert {event.data["period"] for event in flagged} == {"2026-04"}
