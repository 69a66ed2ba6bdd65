"""The daily certifications job: lapsed passes become expired; reminders 60 and 30 days before
expiry to the person and their partner's admins (in their language, by email), once per window;
idempotent; a fixed number of queries however many certifications."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from prm.models import AuditEntry, JobRun, Notification
from tests.factories import (
    CourseFactory,
    PartnerAdminUserFactory,
    PartnerContactFactory,
    PartnerFactory,
    PartnerUserFactory,
    TrainingRecordFactory,
)
from training import services
from training.choices import RecordStatus
from training.models import CertificationReminder, TrainingRecord
from training.tasks import certifications_expiry_run

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def expiring_in(days, **kwargs):
    return TrainingRecordFactory(passed=True, expires_on=TODAY + timedelta(days=days), **kwargs)


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    def run_on(day=TODAY):
        with django_capture_on_commit_callbacks(execute=True):
            return services.certifications_expiry_run(today=day)

    return run_on


def windows(record):
    return sorted(CertificationReminder.objects.filter(record=record).values_list("window_days", flat=True))


def test_lapsed_passes_expire_and_the_last_day_is_still_valid(run):
    lapsed = expiring_in(-1)
    last_day = expiring_in(0)
    never = TrainingRecordFactory(passed=True, course=CourseFactory(validity_months=None))
    failed = TrainingRecordFactory(failed=True)

    assert run()["expired"] == 1

    statuses = dict(TrainingRecord.objects.values_list("pk", "status"))
    assert statuses == {
        lapsed.pk: RecordStatus.EXPIRED,
        last_day.pk: RecordStatus.PASSED,
        never.pk: RecordStatus.PASSED,
        failed.pk: RecordStatus.FAILED,
    }
    entry = AuditEntry.objects.get(object_type="training.trainingrecord", object_id=str(lapsed.pk))
    assert entry.changes == {"status": ["passed", "expired"]}
    assert run()["expired"] == 0


def test_each_window_reminds_once_as_the_expiry_comes_closer(run):
    record = expiring_in(75)

    assert run()["reminders"] == 0  # outside 60 days
    assert run(TODAY + timedelta(days=20))["reminders"] == 1  # 55 days left
    assert windows(record) == [60]
    assert run(TODAY + timedelta(days=20))["reminders"] == 0  # the same day again
    assert run(TODAY + timedelta(days=30))["reminders"] == 0  # 45 days left: still the 60-day window
    assert run(TODAY + timedelta(days=50))["reminders"] == 1  # 25 days left
    assert windows(record) == [30, 60]
    assert run(TODAY + timedelta(days=60))["reminders"] == 0


def test_a_certification_first_seen_inside_30_days_gets_only_the_30_day_reminder(run):
    record = expiring_in(20)

    assert run()["reminders"] == 1
    assert windows(record) == [30]
    assert run(TODAY + timedelta(days=5))["reminders"] == 0


def test_reminders_go_to_the_person_and_the_partners_admins_in_their_language(run):
    partner = PartnerFactory()
    person = PartnerUserFactory(partner=partner, email="learner@partner.example")
    boss = PartnerAdminUserFactory(partner=partner, email="boss@partner.example", preferred_language="zh-hans")
    PartnerUserFactory(partner=partner, email="colleague@partner.example")  # not an admin: not reminded
    PartnerAdminUserFactory(partner=PartnerFactory(), email="other@elsewhere.example")  # another partner's
    record = expiring_in(45, contact=person.partner_contact, course=CourseFactory(title="Sensors basics"))

    run()

    assert sorted(message.to[0] for message in mail.outbox) == ["boss@partner.example", "learner@partner.example"]
    english = next(message for message in mail.outbox if message.to == ["learner@partner.example"])
    assert english.subject == f"{person.partner_contact.name}'s Sensors basics certification expires within 60 days"
    assert record.certificate_number in english.body
    assert f"{record.expires_on:%Y}" in english.body
    chinese = Notification.objects.get(recipient=boss)
    assert "年" in chinese.message  # the date in the admin's language
    assert chinese.url == "/portal/training/certifications/"


def test_a_person_without_a_login_is_reminded_at_the_contacts_email(run):
    contact = PartnerContactFactory(email="nologin@partner.example")
    expiring_in(10, contact=contact)

    run()

    assert [message.to for message in mail.outbox] == [["nologin@partner.example"]]


def test_two_runs_send_nothing_twice(run):
    partner = PartnerFactory()
    PartnerAdminUserFactory(partner=partner)
    expiring_in(10, contact=PartnerContactFactory(partner=partner))

    run()
    sent = (Notification.objects.count(), len(mail.outbox), CertificationReminder.objects.count())
    run()

    assert (Notification.objects.count(), len(mail.outbox), CertificationReminder.objects.count()) == sent


def test_the_query_count_does_not_grow_with_the_certifications(run):
    def queries(count):
        TrainingRecord.objects.all().delete()
        for _ in range(count):
            partner = PartnerFactory()
            PartnerAdminUserFactory(partner=partner)
            expiring_in(-3, contact=PartnerContactFactory(partner=partner))
            expiring_in(25, contact=PartnerContactFactory(partner=partner))
        with CaptureQueriesContext(connection) as context:
            counts = run()
        assert counts == {"expired": count, "reminders": count}
        return len(context.captured_queries)

    assert queries(2) == queries(12)


def test_the_task_records_its_run():
    expiring_in(-1)
    expiring_in(15)

    assert certifications_expiry_run() == {"expired": 1, "reminders": 1}

    record = JobRun.objects.get(job="training.certifications_expiry_run")
    assert record.status == JobRun.Status.SUCCEEDED and record.rows_written == 2


def test_the_job_runs_daily():
    entry = settings.CELERY_BEAT_SCHEDULE["training-certifications-expiry-run"]

    assert entry == {"task": "training.tasks.certifications_expiry_run", "schedule": 24 * 60 * 60}
