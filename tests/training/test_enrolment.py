"""Enrolment: in a course still offered; a classroom or webinar course in one of its sessions
that is neither cancelled nor started, never beyond its capacity (also when two people take the
last seat at the same moment, on PostgreSQL); one open attempt per person and course; partners
enrol only their own people."""

import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone

from partners.choices import PartnerStatus
from prm.models import AuditEntry
from tests.factories import (
    ChannelManagerFactory,
    CourseFactory,
    PartnerContactFactory,
    PartnerFactory,
    PartnerUserFactory,
)
from training import services
from training.choices import Delivery, RecordSource, RecordStatus
from training.models import TrainingRecord

from .builders import admin, session


@pytest.mark.django_db
class TestRules:
    def test_an_online_course_enrols_without_a_session(self):
        by, contact, course = admin(), PartnerContactFactory(), CourseFactory()

        record = services.enrol(contact=contact, course=course, by=by)

        assert (record.status, record.session, record.source, record.enrolled_by) == (
            RecordStatus.ENROLLED,
            None,
            RecordSource.STAFF,
            by,
        )
        assert AuditEntry.objects.filter(object_id=str(record.pk), action=AuditEntry.Action.CREATE).exists()

    def test_an_online_course_refuses_a_session(self):
        other = session()

        with pytest.raises(ValidationError) as excinfo:
            services.enrol(contact=PartnerContactFactory(), course=CourseFactory(), session=other, by=admin())

        assert "session" in excinfo.value.message_dict

    @pytest.mark.parametrize("delivery", [Delivery.CLASSROOM, Delivery.WEBINAR])
    def test_a_course_with_sessions_needs_one_of_its_own(self, delivery):
        course = CourseFactory(delivery=delivery)
        foreign = session()

        for chosen in (None, foreign):
            with pytest.raises(ValidationError) as excinfo:
                services.enrol(contact=PartnerContactFactory(), course=course, session=chosen, by=admin())
            assert "session" in excinfo.value.message_dict
        own = session(course=course)
        assert services.enrol(contact=PartnerContactFactory(), course=course, session=own, by=admin()).session == own

    def test_cancelled_and_started_sessions_take_nobody(self):
        cancelled = session(is_cancelled=True)
        started = session(days=0)  # 09:00 today… or earlier
        started.starts_at = started.starts_at.replace(year=started.starts_at.year - 1)
        started.save()

        for chosen in (cancelled, started):
            with pytest.raises(ValidationError) as excinfo:
                services.enrol(contact=PartnerContactFactory(), course=chosen.course, session=chosen, by=admin())
            assert "session" in excinfo.value.message_dict
        assert not TrainingRecord.objects.exists()

    def test_the_capacity_is_never_exceeded(self):
        small = session(capacity=2)
        for _ in range(2):
            services.enrol(contact=PartnerContactFactory(), course=small.course, session=small, by=admin())

        with pytest.raises(ValidationError) as excinfo:
            services.enrol(contact=PartnerContactFactory(), course=small.course, session=small, by=admin())

        assert excinfo.value.message_dict["session"] == ["The session is full (2 places)."]
        assert small.records.count() == 2

    def test_a_withdrawal_frees_the_seat(self):
        small = session(capacity=1)
        first = services.enrol(contact=PartnerContactFactory(), course=small.course, session=small, by=admin())
        services.record_withdraw(record=first, by=admin())

        assert services.enrol(contact=PartnerContactFactory(), course=small.course, session=small, by=admin())

    def test_one_open_attempt_per_person_and_course(self):
        contact, course = PartnerContactFactory(), CourseFactory()
        first = services.enrol(contact=contact, course=course, by=admin())

        with pytest.raises(ValidationError) as excinfo:
            services.enrol(contact=contact, course=course, by=admin())
        assert "already enrolled" in excinfo.value.message_dict["contact"][0]

        services.record_result(record=first, by=admin(), status="failed", score=10)
        assert services.enrol(contact=contact, course=course, by=admin())  # a new attempt after a fail

    def test_a_certified_person_enrols_again_to_renew(self):
        contact, course = PartnerContactFactory(), CourseFactory()
        first = services.enrol(contact=contact, course=course, by=admin())
        services.record_result(record=first, by=admin(), status="passed", score=90, completed_on=timezone.localdate())

        assert services.enrol(contact=contact, course=course, by=admin()).status == RecordStatus.ENROLLED

    def test_a_course_no_longer_offered_takes_nobody(self):
        with pytest.raises(ValidationError) as excinfo:
            services.enrol(contact=PartnerContactFactory(), course=CourseFactory(is_active=False), by=admin())

        assert "course" in excinfo.value.message_dict

    def test_a_terminated_partner_enrols_nobody(self):
        contact = PartnerContactFactory(partner=PartnerFactory(status=PartnerStatus.TERMINATED))

        with pytest.raises(ValidationError):
            services.enrol(contact=contact, course=CourseFactory(), by=admin())


@pytest.mark.django_db
class TestWhoEnrols:
    def test_a_partner_user_enrols_the_own_partners_people_only(self):
        partner = PartnerFactory()
        user = PartnerUserFactory(partner=partner)
        course = CourseFactory()

        record = services.enrol(
            contact=PartnerContactFactory(partner=partner), course=course, by=user, source=RecordSource.PORTAL
        )
        assert record.source == RecordSource.PORTAL and record.enrolled_by == user
        with pytest.raises(PermissionDenied):
            services.enrol(contact=PartnerContactFactory(), course=course, by=user)

    def test_a_channel_manager_enrols_people_of_the_partners_they_manage(self):
        manager = ChannelManagerFactory()
        own = PartnerFactory(owner=manager)
        course = CourseFactory()

        assert services.enrol(contact=PartnerContactFactory(partner=own), course=course, by=manager)
        with pytest.raises(PermissionDenied):
            services.enrol(contact=PartnerContactFactory(), course=course, by=manager)


# Races that only a real database server shows (PostgreSQL; skipped on SQLite, which runs one
# writer at a time anyway).
postgresql_only = pytest.mark.skipif(
    "connection.vendor != 'postgresql'", reason="needs concurrent writers (PostgreSQL)"
)


def run_at_once(functions):
    """Run each function in its own thread and connection, all released together."""
    barrier = threading.Barrier(len(functions))
    results = [None] * len(functions)

    def run(index, function):
        try:
            barrier.wait()
            results[index] = function()
        except Exception as error:  # noqa: BLE001 - the test inspects what each thread met
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(functions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


@pytest.mark.django_db(transaction=True)
@postgresql_only
@pytest.mark.parametrize("racers", [2, 6])
def test_people_racing_for_the_last_seat_get_it_once(racers):
    by = admin()
    last_seat = session(capacity=3)
    for _ in range(2):
        services.enrol(contact=PartnerContactFactory(), course=last_seat.course, session=last_seat, by=by)
    people = [PartnerContactFactory() for _ in range(racers)]

    results = run_at_once(
        [
            lambda contact=contact: services.enrol(contact=contact, course=last_seat.course, session=last_seat, by=by)
            for contact in people
        ]
    )

    assert sum(isinstance(result, TrainingRecord) for result in results) == 1, results
    assert sum(isinstance(result, ValidationError) for result in results) == racers - 1, results
    assert last_seat.records.count() == 3


@pytest.mark.django_db(transaction=True)
@postgresql_only
def test_the_same_person_enrolled_twice_at_once_is_enrolled_once():
    by, contact, course = admin(), PartnerContactFactory(), CourseFactory()

    results = run_at_once([lambda: services.enrol(contact=contact, course=course, by=by)] * 4)

    assert sum(isinstance(result, TrainingRecord) for result in results) == 1, results
    assert TrainingRecord.objects.count() == 1


@pytest.mark.django_db(transaction=True)
@postgresql_only
def test_certificate_numbers_stay_unique_when_passes_are_recorded_at_once():
    by, course = admin(), CourseFactory()
    records = [services.enrol(contact=PartnerContactFactory(), course=course, by=by) for _ in range(6)]

    results = run_at_once(
        [
            lambda record=record: services.record_result(
                record=record, by=by, status="passed", score=90, completed_on=timezone.localdate()
            )
            for record in records
        ]
    )

    numbers = [result.certificate_number for result in results]
    assert len(set(numbers)) == 6, results
