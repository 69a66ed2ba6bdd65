"""The daily agreements job: expire what ended, remind 90/60/30 days before the end (the owning
manager and the partner's admins, in the list and by email), idempotent, set-based."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from agreements import services
from agreements.choices import AgreementStatus
from agreements.models import Agreement, ExpiryNotice
from agreements.tasks import agreements_expiry_run
from prm.models import AuditEntry, JobRun, Notification
from tests.factories import (
    AgreementFactory,
    ChannelManagerFactory,
    PartnerAdminUserFactory,
    PartnerFactory,
    PartnerUserFactory,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def ending_in(days, **kwargs):
    kwargs.setdefault("partner", PartnerFactory(owner=ChannelManagerFactory()))
    return AgreementFactory(
        status=AgreementStatus.ACTIVE,
        start_date=TODAY - timedelta(days=300),
        end_date=TODAY + timedelta(days=days),
        **kwargs,
    )


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Run the job on a given day, sending its emails as a commit would."""

    def run_on(day=TODAY):
        with django_capture_on_commit_callbacks(execute=True):
            return services.agreements_expiry_run(today=day)

    return run_on


def windows(agreement):
    return sorted(ExpiryNotice.objects.filter(agreement=agreement).values_list("window_days", flat=True))


def test_agreements_past_their_end_expire_and_the_last_day_still_runs(run):
    over = ending_in(-1)
    last_day = ending_in(0)
    draft = AgreementFactory(status=AgreementStatus.DRAFT, start_date=TODAY - timedelta(days=90), end_date=TODAY)

    assert run()["expired"] == 1

    over.refresh_from_db()
    last_day.refresh_from_db()
    draft.refresh_from_db()
    assert over.status == AgreementStatus.EXPIRED and over.ended_at
    assert last_day.status == AgreementStatus.ACTIVE and draft.status == AgreementStatus.DRAFT
    entry = AuditEntry.objects.get(object_type="agreements.agreement", object_id=str(over.pk))
    assert entry.changes == {"status": ["active", "expired"]}


def test_each_window_sends_once_as_the_end_comes_closer(run):
    agreement = ending_in(85)

    assert run()["notices"] == 1
    assert windows(agreement) == [90]
    assert run()["notices"] == 0  # the same day again: nothing new
    assert run(TODAY + timedelta(days=10))["notices"] == 0  # 75 days left: still the 90-day window
    assert run(TODAY + timedelta(days=30))["notices"] == 1  # 55 days left
    assert windows(agreement) == [60, 90]
    assert run(TODAY + timedelta(days=60))["notices"] == 1  # 25 days left
    assert windows(agreement) == [30, 60, 90]
    assert run(TODAY + timedelta(days=61))["notices"] == 0


def test_an_agreement_first_seen_inside_30_days_gets_only_the_30_day_reminder(run):
    agreement = ending_in(20)
    far = ending_in(91)

    assert run()["notices"] == 1

    assert windows(agreement) == [30]
    assert windows(far) == []


def test_reminders_go_to_the_manager_and_the_partners_admins_in_their_language(run):
    manager = ChannelManagerFactory(email="wang@vendor.example")
    partner = PartnerFactory(owner=manager, name="Huaxin")
    admin = PartnerAdminUserFactory(partner=partner, email="boss@huaxin.example", preferred_language="zh-hans")
    PartnerUserFactory(partner=partner, email="sales@huaxin.example")  # not an admin: not reminded
    PartnerAdminUserFactory(partner=PartnerFactory(), email="other@elsewhere.example")  # another partner's
    agreement = ending_in(45, partner=partner)

    run()

    assert sorted(message.to[0] for message in mail.outbox) == ["boss@huaxin.example", "wang@vendor.example"]
    english = next(m for m in mail.outbox if m.to == ["wang@vendor.example"])
    assert english.subject == f"Agreement {agreement.number} with Huaxin ends within 60 days"
    assert f"{agreement.end_date:%Y}" in english.body
    chinese = Notification.objects.get(recipient=admin)
    assert "年" in chinese.message  # the date in the admin's language
    assert chinese.url == f"/portal/agreements/{agreement.pk}/"
    assert Notification.objects.get(recipient=manager).url.endswith(f"/{agreement.pk}/")


def test_the_agreements_own_manager_comes_before_the_partners(run):
    owner, partner_owner = ChannelManagerFactory(), ChannelManagerFactory()
    ending_in(10, owner=owner, partner=PartnerFactory(owner=partner_owner))

    run()

    assert list(Notification.objects.values_list("recipient", flat=True)) == [owner.pk]


def test_running_twice_sends_no_second_email_or_notification(run):
    partner = PartnerFactory(owner=ChannelManagerFactory(email="m@vendor.example"))
    PartnerAdminUserFactory(partner=partner, email="a@partner.example")
    ending_in(30, partner=partner)

    run()
    run()

    assert len(mail.outbox) == 2
    assert Notification.objects.count() == 2
    assert ExpiryNotice.objects.count() == 1


def test_a_recipient_without_an_address_gets_the_notification_only(run):
    manager = ChannelManagerFactory(email="")
    ending_in(5, partner=PartnerFactory(owner=manager))

    run()

    assert mail.outbox == []
    assert Notification.objects.get(recipient=manager).emailed is False


def _queries_for(count):
    for _ in range(count):
        partner = PartnerFactory(owner=ChannelManagerFactory())
        PartnerAdminUserFactory(partner=partner)
        ending_in(40, partner=partner)
        ending_in(-3, partner=partner)
    with CaptureQueriesContext(connection) as queries:
        result = services.agreements_expiry_run()
    assert result == {"expired": count, "notices": count}
    return len(queries)


def test_the_job_takes_the_same_queries_for_two_or_twelve_agreements():
    few = _queries_for(2)
    ExpiryNotice.objects.all().delete()
    Notification.objects.all().delete()
    Agreement.objects.all().delete()
    assert _queries_for(12) == few


def test_the_task_records_its_run():
    ending_in(-1)
    ending_in(15)

    assert agreements_expiry_run() == {"expired": 1, "notices": 1}

    record = JobRun.objects.get(job="agreements.expiry_run")
    assert record.status == JobRun.Status.SUCCEEDED and record.rows_written == 2


def test_the_job_runs_daily():
    entry = settings.CELERY_BEAT_SCHEDULE["agreements-expiry-run"]

    assert entry == {"task": "agreements.tasks.agreements_expiry_run", "schedule": 24 * 60 * 60}
