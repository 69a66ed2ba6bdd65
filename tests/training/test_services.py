"""The training services: the catalogue (courses, tier requirements, materials, sessions) written
by channel admins and managers only, and results that follow the rules of a pass, a fail and the
record's lifecycle, each change in the history."""

import io
import zipfile
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from prm.models import AuditEntry, Notification
from tests.factories import (
    AnalystFactory,
    ChannelManagerFactory,
    CourseFactory,
    PartnerAdminUserFactory,
    PartnerContactFactory,
    PartnerFactory,
    PartnerTierFactory,
    PartnerUserFactory,
    ProductLineFactory,
    TrainingRecordFactory,
)
from training import services
from training.choices import Delivery, MaterialKind, RecordStatus
from training.models import CourseMaterial, TierRequirement, TrainingRecord

from .builders import admin, moment, session

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def course_data(**overrides):
    return {
        "code": "prd-101",
        "title": "Sensors basics",
        "course_type": "product",
        "level": "basic",
        "duration_hours": Decimal("4"),
        "delivery": Delivery.ONLINE,
        "pass_mark": Decimal("70"),
        "validity_months": 24,
        **overrides,
    }


def history(instance):
    return list(
        AuditEntry.objects.filter(object_type=instance._meta.label_lower, object_id=str(instance.pk)).order_by("pk")
    )


# Courses ------------------------------------------------------------------------------------


def test_a_channel_manager_creates_a_course_with_its_code_in_capitals():
    manager = ChannelManagerFactory()

    course = services.course_create(by=manager, product_line=ProductLineFactory(), **course_data())

    assert course.code == "PRD-101" and course.pass_mark == Decimal("70")
    assert [entry.action for entry in history(course)] == [AuditEntry.Action.CREATE]
    assert history(course)[0].actor == manager


@pytest.mark.parametrize("factory", [AnalystFactory, PartnerUserFactory])
def test_analysts_and_partners_do_not_change_the_catalogue(factory):
    user = factory(partner=PartnerFactory()) if factory is PartnerUserFactory else factory()

    with pytest.raises(PermissionDenied):
        services.course_create(by=user, **course_data())


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"pass_mark": Decimal("101")}, "pass_mark"),
        ({"validity_months": 0}, "validity_months"),
        ({"delivery": "carrier pigeon"}, "delivery"),
        ({"code": "bad code!"}, "code"),
        ({"title": ""}, "title"),
        ({"duration_hours": Decimal("0")}, "duration_hours"),
    ],
)
def test_bad_course_fields_are_field_errors(overrides, field):
    with pytest.raises(ValidationError) as excinfo:
        services.course_create(by=admin(), **course_data(**overrides))

    assert field in excinfo.value.message_dict


def test_course_codes_are_unique_whatever_the_case():
    services.course_create(by=admin(), **course_data(code="PRD-101"))

    with pytest.raises(ValidationError) as excinfo:
        services.course_create(by=admin(), **course_data(code="prd-101"))

    assert "code" in excinfo.value.message_dict


def test_an_inactive_product_line_is_refused():
    with pytest.raises(ValidationError) as excinfo:
        services.course_create(by=admin(), product_line=ProductLineFactory(is_active=False), **course_data())

    assert "product_line" in excinfo.value.message_dict


def test_update_records_what_changed():
    by = admin()
    course = services.course_create(by=by, **course_data())

    services.course_update(course=course, by=by, pass_mark=Decimal("75"), title="Sensors basics")

    course.refresh_from_db()
    assert course.pass_mark == Decimal("75")
    assert history(course)[-1].changes == {"pass_mark": ["70.00", "75"]}


def test_a_course_with_upcoming_sessions_stays_a_course_with_sessions():
    upcoming = session()

    with pytest.raises(ValidationError) as excinfo:
        services.course_update(course=upcoming.course, by=admin(), delivery=Delivery.ONLINE)

    assert "delivery" in excinfo.value.message_dict


def test_unknown_fields_are_refused():
    with pytest.raises(ValidationError) as excinfo:
        services.course_update(course=CourseFactory(), by=admin(), created_at=None)

    assert "created_at" in excinfo.value.message_dict


# Tier requirements ------------------------------------------------------------------------------


def test_a_tier_requirement_is_set_then_changed_then_removed():
    by, course, gold = admin(), CourseFactory(), PartnerTierFactory(name="Gold")

    first = services.tier_requirement_set(course=course, tier=gold, certified_people=2, by=by)
    second = services.tier_requirement_set(course=course, tier=gold, certified_people=3, by=by)

    assert first.pk == second.pk and TierRequirement.objects.get().certified_people == 3
    services.tier_requirement_delete(requirement=second, by=by)
    assert not TierRequirement.objects.exists()
    assert [entry.changes["tier_requirement"] for entry in history(course)] == [
        [None, "Gold: 2"],
        ["Gold: 2", "Gold: 3"],
        ["Gold: 3", None],
    ]


@pytest.mark.parametrize("people", [0, -1, "many"])
def test_a_tier_requires_at_least_one_person(people):
    with pytest.raises(ValidationError) as excinfo:
        services.tier_requirement_set(
            course=CourseFactory(), tier=PartnerTierFactory(), certified_people=people, by=admin()
        )

    assert "certified_people" in excinfo.value.message_dict


# Materials ----------------------------------------------------------------------------------


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def deck():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("ppt/presentation.xml", "<p/>")
    return buffer.getvalue()


def test_a_deck_is_stored_with_its_details(media):
    by, course = admin(), CourseFactory()

    material = services.material_add(
        course=course,
        by=by,
        title="Launch deck",
        kind=MaterialKind.FILE,
        file=SimpleUploadedFile("launch.pptx", deck()),
    )

    assert material.original_name == "launch.pptx" and material.size == len(deck())
    assert material.content_type == "application/vnd.openxmlformats-officedocument.presentationml.presentation"
    assert material.uploaded_by == by
    assert history(course)[-1].changes == {"material": [None, "Launch deck"]}


@pytest.mark.parametrize(
    ("name", "content"),
    [("setup.exe", b"MZ\x90\x00"), ("fake.pptx", b"%PDF-1.7 not a deck"), ("movie.mp4", b"\x00\x00\x00\x18ftyp")],
)
def test_other_files_are_refused_on_the_file_field(media, name, content):
    with pytest.raises(ValidationError) as excinfo:
        services.material_add(
            course=CourseFactory(),
            by=admin(),
            title="X",
            kind=MaterialKind.FILE,
            file=SimpleUploadedFile(name, content),
        )

    assert list(excinfo.value.message_dict) == ["file"]
    assert not CourseMaterial.objects.exists()


def test_a_link_needs_its_address_and_no_file(media):
    course, gold = CourseFactory(), PartnerTierFactory()

    with pytest.raises(ValidationError) as excinfo:
        services.material_add(course=course, by=admin(), title="Video", kind=MaterialKind.LINK)
    assert "url" in excinfo.value.message_dict
    with pytest.raises(ValidationError) as excinfo:
        services.material_add(course=course, by=admin(), title="Video", kind=MaterialKind.LINK, url="not a link")
    assert "url" in excinfo.value.message_dict

    material = services.material_add(
        course=course, by=admin(), title="Video", kind=MaterialKind.LINK, url="https://v.example.com/1", min_tier=gold
    )
    assert material.min_tier == gold


def test_deleting_a_material_removes_its_file(media, django_capture_on_commit_callbacks):
    material = services.material_add(
        course=CourseFactory(),
        by=admin(),
        title="Manual",
        kind=MaterialKind.FILE,
        file=SimpleUploadedFile("manual.pdf", b"%PDF-1.7\n%%EOF\n"),
    )
    storage, path = material.file.storage, material.file.name

    with django_capture_on_commit_callbacks(execute=True):
        services.material_delete(material=material, by=admin())

    assert not CourseMaterial.objects.exists() and not storage.exists(path)


# Sessions -----------------------------------------------------------------------------------


def test_an_online_course_has_no_sessions():
    with pytest.raises(ValidationError) as excinfo:
        services.session_create(
            course=CourseFactory(),
            by=admin(),
            starts_at=moment(3),
            ends_at=moment(3, 17),
            location="Online",
            capacity=5,
        )

    assert "course" in excinfo.value.message_dict


def test_a_session_ends_after_it_starts():
    upcoming = session()

    with pytest.raises(ValidationError) as excinfo:
        services.session_create(
            course=upcoming.course,
            by=admin(),
            starts_at=moment(3, 17),
            ends_at=moment(3, 9),
            location="Room 1",
            capacity=5,
        )

    assert "ends_at" in excinfo.value.message_dict


def test_the_capacity_never_drops_below_the_people_holding_a_seat():
    full = session(capacity=3)
    for _ in range(2):
        services.enrol(contact=PartnerContactFactory(), course=full.course, session=full, by=admin())

    with pytest.raises(ValidationError) as excinfo:
        services.session_update(session=full, by=admin(), capacity=1)

    assert "2 people" in excinfo.value.message_dict["capacity"][0]
    assert services.session_update(session=full, by=admin(), capacity=2).capacity == 2


def test_cancelling_withdraws_the_enrolments_and_tells_the_people_and_their_admins(django_capture_on_commit_callbacks):
    upcoming = session()
    partner = PartnerFactory()
    boss = PartnerAdminUserFactory(partner=partner, email="boss@partner.example")
    learner = PartnerUserFactory(partner=partner, email="learner@partner.example")
    record = services.enrol(contact=learner.partner_contact, course=upcoming.course, session=upcoming, by=admin())

    with django_capture_on_commit_callbacks(execute=True):
        services.session_cancel(session=upcoming, by=admin())

    record.refresh_from_db()
    upcoming.refresh_from_db()
    assert upcoming.is_cancelled and record.status == RecordStatus.WITHDRAWN
    assert {notification.recipient for notification in Notification.objects.all()} == {boss, learner}
    assert sorted(message.to[0] for message in mail.outbox) == ["boss@partner.example", "learner@partner.example"]
    assert upcoming.course.title in mail.outbox[0].subject
    with pytest.raises(ValidationError):
        services.session_cancel(session=upcoming, by=admin())


def test_a_started_session_is_not_cancelled():
    started = session(days=-1)

    with pytest.raises(ValidationError):
        services.session_cancel(session=started, by=admin())


# Results ------------------------------------------------------------------------------------


@pytest.fixture
def attempt():
    course = CourseFactory(pass_mark=Decimal("70"), validity_months=12)
    return services.enrol(contact=PartnerContactFactory(), course=course, by=admin())


def test_a_pass_below_the_pass_mark_is_refused_naming_both(attempt):
    with pytest.raises(ValidationError) as excinfo:
        services.record_result(record=attempt, by=admin(), status=RecordStatus.PASSED, score="69.5", completed_on=TODAY)

    assert excinfo.value.message_dict["score"] == ["A score of 69.5 is below the pass mark of 70: it is not a pass."]
    attempt.refresh_from_db()
    assert attempt.status == RecordStatus.ENROLLED


def test_a_fail_at_the_pass_mark_is_refused(attempt):
    with pytest.raises(ValidationError) as excinfo:
        services.record_result(record=attempt, by=admin(), status=RecordStatus.FAILED, score=70, completed_on=TODAY)

    assert "pass mark of 70" in excinfo.value.message_dict["score"][0]


@pytest.mark.parametrize(
    ("score", "completed_on", "field"),
    [
        (None, TODAY, "score"),
        (80, None, "completed_on"),
        (80, TODAY + timedelta(days=1), "completed_on"),
        ("eighty", TODAY, "score"),
        (101, TODAY, "score"),
        (80, "31/01/2026", "completed_on"),
    ],
)
def test_a_pass_needs_a_score_and_a_date_not_in_the_future(attempt, score, completed_on, field):
    with pytest.raises(ValidationError) as excinfo:
        services.record_result(
            record=attempt, by=admin(), status=RecordStatus.PASSED, score=score, completed_on=completed_on
        )

    assert field in excinfo.value.message_dict


def test_a_pass_gets_its_expiry_and_a_certificate_number(attempt):
    record = services.record_result(
        record=attempt, by=admin(), status=RecordStatus.PASSED, score=Decimal("88"), completed_on=date(2024, 1, 31)
    )

    assert record.status == RecordStatus.PASSED and record.score == Decimal("88.00")
    assert record.expires_on == date(2025, 1, 31)
    assert record.certificate_number == "TC-2024-000001"
    entry = history(record)[-1]
    assert entry.changes["status"] == ["enrolled", "passed"]
    assert entry.changes["certificate_number"] == [None, "TC-2024-000001"]


def test_certificate_numbers_count_up_within_the_year():
    by, course = admin(), CourseFactory()
    numbers = []
    for _ in range(3):
        record = services.enrol(contact=PartnerContactFactory(), course=course, by=by)
        numbers.append(
            services.record_result(
                record=record, by=by, status="passed", score=90, completed_on=TODAY
            ).certificate_number
        )

    year = TODAY.year
    assert numbers == [f"TC-{year}-000001", f"TC-{year}-000002", f"TC-{year}-000003"]


def test_a_course_without_validity_grants_a_certification_that_never_expires():
    record = services.enrol(contact=PartnerContactFactory(), course=CourseFactory(validity_months=None), by=admin())

    record = services.record_result(record=record, by=admin(), status="passed", score=90, completed_on=TODAY)

    assert record.expires_on is None and record.certificate_number


def test_a_fail_is_dated_today_when_no_date_is_given(attempt):
    record = services.record_result(record=attempt, by=admin(), status=RecordStatus.FAILED, score=40)

    assert record.completed_on == TODAY and record.expires_on is None and record.certificate_number == ""


def test_a_completion_before_the_session_started_is_refused():
    past = session(days=-10)
    record = TrainingRecordFactory(course=past.course, session=past)

    with pytest.raises(ValidationError) as excinfo:
        services.record_result(
            record=record, by=admin(), status="passed", score=90, completed_on=TODAY - timedelta(days=11)
        )

    assert "completed_on" in excinfo.value.message_dict


def test_only_legal_moves(attempt):
    by = admin()
    services.record_start(record=attempt, by=by)
    with pytest.raises(ValidationError) as excinfo:
        services.record_start(record=attempt, by=by)
    assert excinfo.value.message_dict["status"] == ["A training record cannot go from In progress to In progress."]

    services.record_result(record=attempt, by=by, status="failed", score=10, completed_on=TODAY)
    for move in (
        lambda: services.record_withdraw(record=attempt, by=by),
        lambda: services.record_result(record=attempt, by=by, status="passed", score=90, completed_on=TODAY),
    ):
        with pytest.raises(ValidationError) as excinfo:
            move()
        assert "status" in excinfo.value.message_dict


def test_a_result_is_passed_or_failed(attempt):
    with pytest.raises(ValidationError) as excinfo:
        services.record_result(record=attempt, by=admin(), status=RecordStatus.EXPIRED, score=90, completed_on=TODAY)

    assert "status" in excinfo.value.message_dict


def test_results_are_recorded_by_the_partners_managers_only():
    own, other = PartnerFactory(), PartnerFactory()
    manager = ChannelManagerFactory()
    own.owner = manager
    own.save()
    mine = TrainingRecordFactory(contact=PartnerContactFactory(partner=own))
    theirs = TrainingRecordFactory(contact=PartnerContactFactory(partner=other))

    services.record_start(record=mine, by=manager)
    with pytest.raises(PermissionDenied):
        services.record_start(record=theirs, by=manager)
    with pytest.raises(PermissionDenied):
        services.record_result(record=mine, by=PartnerAdminUserFactory(partner=own), status="passed", score=90)


def test_a_partner_user_withdraws_an_own_enrolment_that_has_not_started():
    partner = PartnerFactory()
    user = PartnerUserFactory(partner=partner)
    upcoming = session()
    record = services.enrol(
        contact=PartnerContactFactory(partner=partner), course=upcoming.course, session=upcoming, by=user
    )
    foreign = TrainingRecordFactory()

    assert services.record_withdraw(record=record, by=user).status == RecordStatus.WITHDRAWN
    with pytest.raises(PermissionDenied):
        services.record_withdraw(record=foreign, by=user)


def test_a_pass_that_lapsed_is_not_changed_by_hand():
    record = TrainingRecordFactory(passed=True)

    with pytest.raises(ValidationError):
        services.record_withdraw(record=record, by=admin())
    assert TrainingRecord.objects.get().status == RecordStatus.PASSED
