"""`manage.py seed_demo` for training: a dozen courses with sessions, requirements and materials,
two years of records consistent with the rules, partners that meet their tier's requirements and
partners that don't, certifications about to expire and lapsed ones; safe to run again."""

from datetime import timedelta

import pytest
from django.apps import apps
from django.utils import timezone

from partners.models import Partner
from prm.periods import add_months
from tests.demo import seed
from training import selectors
from training.choices import Delivery, MaterialKind, RecordStatus
from training.models import Course, CourseMaterial, TierRequirement, TrainingRecord, TrainingSession
from training.rules import OPEN_STATUSES

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def test_a_dozen_courses_of_every_kind(demo):
    courses = Course.objects.all()
    assert courses.count() == 12
    assert set(courses.values_list("course_type", flat=True)) == {"product", "sales", "technical"}
    assert set(courses.values_list("delivery", flat=True)) == set(Delivery.values)
    assert courses.filter(product_line__isnull=False).values("product_line").distinct().count() == 4
    assert courses.filter(validity_months__isnull=True).exists() and courses.filter(is_active=False).exists()


def test_sessions_in_the_past_and_the_next_three_months(demo):
    now = timezone.now()
    upcoming = TrainingSession.objects.filter(starts_at__gt=now)
    assert TrainingSession.objects.filter(starts_at__lt=now).exists()
    assert upcoming.exists() and not upcoming.filter(starts_at__date__gt=add_months(TODAY, 3)).exists()
    assert not TrainingSession.objects.exclude(course__delivery__in=[Delivery.CLASSROOM, Delivery.WEBINAR]).exists()
    for session in TrainingSession.objects.all():
        assert session.records.exclude(status=RecordStatus.WITHDRAWN).count() <= session.capacity


def test_materials_links_a_file_and_some_for_higher_tiers_only(demo):
    assert CourseMaterial.objects.filter(kind=MaterialKind.LINK).count() >= 12
    document = CourseMaterial.objects.get(kind=MaterialKind.FILE)
    with document.file.open("rb") as stored:
        assert stored.read(5) == b"%PDF-"
    assert CourseMaterial.objects.filter(min_tier__isnull=False).exists()


def test_records_follow_the_rules(demo):
    records = TrainingRecord.objects.select_related("course")
    assert records.count() >= 300
    oldest = records.exclude(completed_on=None).order_by("completed_on").first().completed_on
    assert (TODAY - oldest).days >= 600
    for record in records.filter(status__in=[RecordStatus.PASSED, RecordStatus.EXPIRED]):
        assert record.score >= record.course.pass_mark and record.certificate_number
        assert record.expires_on == (
            add_months(record.completed_on, record.course.validity_months) if record.course.validity_months else None
        )
    for record in records.filter(status=RecordStatus.FAILED):
        assert record.score < record.course.pass_mark
    assert not records.filter(status=RecordStatus.PASSED, expires_on__lt=TODAY).exists()  # lapsed ones are expired
    assert records.filter(status=RecordStatus.EXPIRED).exists()
    assert records.filter(status=RecordStatus.WITHDRAWN).exists()
    assert records.filter(status__in=OPEN_STATUSES).exists()
    numbers = list(records.exclude(certificate_number="").values_list("certificate_number", flat=True))
    assert len(numbers) == len(set(numbers))


def test_some_partners_meet_their_tier_requirements_and_some_do_not(demo):
    assert TierRequirement.objects.values("tier").distinct().count() == 3
    status = selectors.tier_requirement_status(Partner.objects.all())
    with_requirements = [rows for rows in status.values() if rows]
    assert any(all(row["met"] for row in rows) for rows in with_requirements)
    assert any(not all(row["met"] for row in rows) for rows in with_requirements)
    showcase = Partner.objects.get(code="D-EAST-1")
    assert all(row["met"] for row in status[showcase.pk])


def test_some_certifications_expire_within_60_days_also_on_the_portal(demo):
    from django.contrib.auth import get_user_model

    users = get_user_model().objects
    assert selectors.expiring_certifications(users.get(username="admin")).count() >= 5
    assert selectors.expiring_certifications(users.get(username="partner")).exists()
    soon = TrainingRecord.objects.filter(expires_on__lte=TODAY + timedelta(days=60), status=RecordStatus.PASSED)
    assert soon.exists()


def test_running_it_again_adds_nothing(demo):
    before = {model._meta.label: model._base_manager.count() for model in apps.get_models()}
    seed()
    after = {model._meta.label: model._base_manager.count() for model in apps.get_models()}
    changed = {label: (before[label], after[label]) for label in before if before[label] != after[label]}
    assert changed == {}
