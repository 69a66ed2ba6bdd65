"""The training API: /api/v1/courses/, /api/v1/training-sessions/ and /api/v1/training-records/
with enrolment, the record's lifecycle as actions, the certificate PDF and the bulk import.

Every write goes through training.services: bad input, a full session, a second open attempt, a
pass below the pass mark and illegal moves answer 400 by field and change nothing. Keys need the
training scope; a key bound to a partner reads the catalogue and only its own partner's records,
and enrols only its own people."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from prm.periods import add_months
from tests.factories import (
    AnalystFactory,
    ClassroomCourseFactory,
    CourseFactory,
    DistributorFactory,
    PartnerContactFactory,
    PartnerFactory,
    PartnerTierFactory,
    ProductLineFactory,
    RegionFactory,
    TrainingRecordFactory,
)
from tests.training.builders import session as make_session
from training.choices import Delivery, RecordSource, RecordStatus
from training.models import Course, TierRequirement, TrainingRecord, TrainingSession

pytestmark = pytest.mark.django_db

COURSES = "/api/v1/courses/"
SESSIONS = "/api/v1/training-sessions/"
RECORDS = "/api/v1/training-records/"
TODAY = timezone.localdate()


def url(base, pk=None, action=""):
    path = base if pk is None else f"{base}{pk}/"
    return f"{path}{action}/" if action else path


def assert_field_error(response, field, *texts):
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid", response.content
    body = response.json()["errors"]
    assert field in body, body
    for text in texts:
        assert any(text in message for message in body[field]), body
    return body


def as_user(user):
    api = APIClient()
    api.force_authenticate(user)
    return api


def records():
    return list(TrainingRecord.objects.order_by("pk").values())


@pytest.fixture
def world(db, staff_user):
    """Huaxin (gold) with Li Na (certified on SEN-101, expiring in 40 days), Wang Wei (enrolled
    on the sensor classroom course) and Chen Jie (no training); Zeta, another partner, whose
    Zeta Insider passed SEN-101 long ago. SEN-101 is an online product course (pass mark 70,
    valid 12 months) that gold requires twice; SEN-201 a classroom course with one session of two
    seats; OLD-1 a retired sales course."""
    shanghai = RegionFactory(code="SH", name="Shanghai")
    silver = PartnerTierFactory(name="Silver", rank=2)
    gold = PartnerTierFactory(name="Gold", rank=3)
    sensors = ProductLineFactory(code="SEN", name="Sensors")
    huaxin = DistributorFactory(code="HUAXIN", name="Huaxin Distribution", region=shanghai, tier=gold)
    zeta = PartnerFactory(code="ZETA", name="Zeta Trading", region=shanghai, tier=silver)
    li = PartnerContactFactory(partner=huaxin, name="Li Na", email="li.na@huaxin.example")
    wang = PartnerContactFactory(partner=huaxin, name="Wang Wei", email="wang.wei@huaxin.example")
    chen = PartnerContactFactory(partner=huaxin, name="Chen Jie", email="chen.jie@huaxin.example")
    insider = PartnerContactFactory(partner=zeta, name="Zeta Insider", email="insider@zeta.example")
    online = CourseFactory(
        code="SEN-101",
        title="Sensor basics",
        product_line=sensors,
        pass_mark=Decimal("70"),
        validity_months=12,
    )
    TierRequirement.objects.create(course=online, tier=gold, certified_people=2)
    classroom = ClassroomCourseFactory(
        code="SEN-201", title="Sensor installation", course_type="technical", level="advanced", validity_months=None
    )
    retired = CourseFactory(code="OLD-1", title="Old sales pitch", course_type="sales", is_active=False)
    seats = make_session(course=classroom, capacity=2, location="Shanghai training centre")
    certified = TrainingRecordFactory(
        contact=li, course=online, passed=True, completed_on=TODAY - timedelta(days=325), score=Decimal("88")
    )
    certified.expires_on = TODAY + timedelta(days=40)
    certified.save()
    enrolled = TrainingRecordFactory(contact=wang, course=classroom, session=seats)
    foreign = TrainingRecordFactory(
        contact=insider, course=online, passed=True, completed_on=TODAY - timedelta(days=400), score=Decimal("75")
    )
    return {
        "gold": gold,
        "silver": silver,
        "sensors": sensors,
        "huaxin": huaxin,
        "zeta": zeta,
        "li": li,
        "wang": wang,
        "chen": chen,
        "insider": insider,
        "online": online,
        "classroom": classroom,
        "retired": retired,
        "session": seats,
        "certified": certified,
        "enrolled": enrolled,
        "foreign": foreign,
        "admin": staff_user,
    }


# Courses ---------------------------------------------------------------------------------------


def test_a_course_reads_with_pass_mark_validity_and_tier_requirements(api_client, world):
    body = api_client.get(url(COURSES, world["online"].pk)).json()
    assert body["code"] == "SEN-101"
    assert body["type"] == "product" and body["delivery"] == "online" and body["level"] == "basic"
    assert body["pass_mark"] == "70.00" and body["validity_months"] == 12
    assert body["product_line"] == world["sensors"].pk
    assert body["duration_hours"] == "4.0" and body["is_active"] is True
    assert body["tier_requirements"] == [{"tier": world["gold"].pk, "certified_people": 2}]
    never = api_client.get(url(COURSES, world["classroom"].pk)).json()
    assert never["validity_months"] is None and never["tier_requirements"] == []


@pytest.mark.parametrize(
    "query, codes",
    [
        ("", ["OLD-1", "SEN-101", "SEN-201"]),
        ("?type=technical", ["SEN-201"]),
        ("?delivery=classroom", ["SEN-201"]),
        ("?level=advanced", ["SEN-201"]),
        ("?is_active=false", ["OLD-1"]),
        ("?is_active=true&search=sensor", ["SEN-101", "SEN-201"]),
        ("?search=pitch", ["OLD-1"]),
        ("?ordering=-code", ["SEN-201", "SEN-101", "OLD-1"]),
    ],
)
def test_the_course_list_filters_and_orders(api_client, world, query, codes):
    assert [row["code"] for row in api_client.get(COURSES + query).json()["results"]] == codes


def test_the_course_list_filters_by_product_line_and_tier(api_client, world):
    by_line = api_client.get(f"{COURSES}?product_line={world['sensors'].pk}").json()["results"]
    assert [row["code"] for row in by_line] == ["SEN-101"]
    by_tier = api_client.get(f"{COURSES}?required_by_tier={world['gold'].pk}").json()["results"]
    assert [row["code"] for row in by_tier] == ["SEN-101"]


def test_a_bad_filter_is_a_400_that_names_it(api_client, world):
    assert "type" in api_client.get(f"{COURSES}?type=cooking").json()["errors"]
    assert "expiring_before" in api_client.get(f"{RECORDS}?expiring_before=soon").json()["errors"]


def test_a_course_is_created_with_its_tier_requirements(api_client, world):
    payload = {
        "code": "net-301",
        "title": "Network design",
        "type": "technical",
        "level": "advanced",
        "duration_hours": "16.0",
        "delivery": "webinar",
        "pass_mark": "75",
        "validity_months": 24,
        "tier_requirements": [
            {"tier": world["silver"].pk, "certified_people": 1},
            {"tier": world["gold"].pk, "certified_people": 3},
        ],
    }
    response = api_client.post(COURSES, payload, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["code"] == "NET-301" and body["pass_mark"] == "75.00"
    assert body["tier_requirements"] == [
        {"tier": world["silver"].pk, "certified_people": 1},
        {"tier": world["gold"].pk, "certified_people": 3},
    ]
    assert Course.objects.get(code="NET-301").requirements.count() == 2


def test_tier_requirements_sent_replace_the_courses_own(api_client, world):
    course = world["online"]
    response = api_client.patch(
        url(COURSES, course.pk), {"tier_requirements": [{"tier": world["silver"].pk, "certified_people": 4}]}
    )
    assert response.status_code == 200, response.content
    assert response.json()["tier_requirements"] == [{"tier": world["silver"].pk, "certified_people": 4}]
    assert list(course.requirements.values_list("tier__name", "certified_people")) == [("Silver", 4)]
    # Fields other than the requirements leave them alone.
    api_client.patch(url(COURSES, course.pk), {"pass_mark": "65"})
    course.refresh_from_db()
    assert course.pass_mark == Decimal("65") and course.requirements.count() == 1


@pytest.mark.parametrize(
    "payload, field, text",
    [
        ({"pass_mark": "120"}, "pass_mark", ""),
        ({"validity_months": 0}, "validity_months", ""),
        ({"type": "cooking"}, "type", ""),
        ({"code": "sen-201"}, "code", ""),
        ({"tier_requirements": [{"tier": 999999, "certified_people": 1}]}, "tier_requirements", ""),
        ({"tier_requirements": [{"tier": None, "certified_people": 0}]}, "tier_requirements", ""),
    ],
)
def test_bad_course_input_is_a_field_error_and_changes_nothing(api_client, world, payload, field, text):
    before = list(Course.objects.order_by("pk").values()), list(TierRequirement.objects.order_by("pk").values())
    assert_field_error(api_client.patch(url(COURSES, world["online"].pk), payload, format="json"), field, text)
    assert (list(Course.objects.order_by("pk").values()), list(TierRequirement.objects.order_by("pk").values())) == (
        before
    )


def test_a_tier_listed_twice_is_a_field_error(api_client, world):
    rows = [{"tier": world["gold"].pk, "certified_people": 1}, {"tier": world["gold"].pk, "certified_people": 2}]
    assert_field_error(
        api_client.patch(url(COURSES, world["online"].pk), {"tier_requirements": rows}, format="json"),
        "tier_requirements",
        "listed twice",
    )


def test_courses_are_not_deleted(api_client, world):
    assert api_client.delete(url(COURSES, world["online"].pk)).status_code == 405


def test_an_analyst_reads_the_catalogue_but_never_writes_it(world):
    analyst = as_user(AnalystFactory())
    assert analyst.get(COURSES).status_code == 200
    assert analyst.patch(url(COURSES, world["online"].pk), {"title": "X"}).status_code == 403
    assert analyst.post(url(SESSIONS, world["session"].pk, "cancel")).status_code == 403
    assert Course.objects.get(pk=world["online"].pk).title == "Sensor basics"


# Sessions --------------------------------------------------------------------------------------


def test_a_session_reads_with_its_seats(api_client, world):
    body = api_client.get(url(SESSIONS, world["session"].pk)).json()
    assert body["course"] == world["classroom"].pk and body["capacity"] == 2
    assert body["enrolled"] == 1 and body["free_seats"] == 1 and body["is_cancelled"] is False


def test_a_withdrawn_person_gives_the_seat_back(api_client, world):
    world["enrolled"].status = RecordStatus.WITHDRAWN
    world["enrolled"].save()
    body = api_client.get(url(SESSIONS, world["session"].pk)).json()
    assert body["enrolled"] == 0 and body["free_seats"] == 2


def test_a_session_is_scheduled_changed_and_cancelled(api_client, world):
    starts = timezone.now() + timedelta(days=30)
    response = api_client.post(
        SESSIONS,
        {
            "course": world["classroom"].pk,
            "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=6)).isoformat(),
            "location": "Beijing office",
            "capacity": 12,
        },
    )
    assert response.status_code == 201, response.content
    pk = response.json()["id"]
    assert response.json()["free_seats"] == 12
    assert api_client.patch(url(SESSIONS, pk), {"capacity": 15}).json()["capacity"] == 15
    cancelled = api_client.post(url(SESSIONS, pk, "cancel"))
    assert cancelled.status_code == 200 and cancelled.json()["is_cancelled"] is True
    assert_field_error(api_client.post(url(SESSIONS, pk, "cancel")), "non_field_errors", "already cancelled")
    assert [row["id"] for row in api_client.get(f"{SESSIONS}?is_cancelled=true").json()["results"]] == [pk]


def test_session_rules_are_field_errors(api_client, world):
    starts = timezone.now() + timedelta(days=30)
    online = api_client.post(
        SESSIONS,
        {
            "course": world["online"].pk,
            "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=2)).isoformat(),
            "location": "Online",
            "capacity": 5,
        },
    )
    assert_field_error(online, "course", "online course")
    assert_field_error(api_client.patch(url(SESSIONS, world["session"].pk), {"capacity": 0}), "capacity")
    other = ClassroomCourseFactory(code="OTHER-1")
    assert_field_error(api_client.patch(url(SESSIONS, world["session"].pk), {"course": other.pk}), "course")
    assert TrainingSession.objects.get(pk=world["session"].pk).course_id == world["classroom"].pk


def test_the_capacity_never_drops_below_the_people_enrolled(api_client, world):
    TrainingRecordFactory(contact=world["chen"], course=world["classroom"], session=world["session"])
    assert_field_error(api_client.patch(url(SESSIONS, world["session"].pk), {"capacity": 1}), "capacity", "hold a seat")
    assert TrainingSession.objects.get(pk=world["session"].pk).capacity == 2


def test_the_session_list_filters(api_client, world):
    past = make_session(course=world["classroom"], days=-10)
    upcoming = api_client.get(f"{SESSIONS}?upcoming=true").json()["results"]
    assert [row["id"] for row in upcoming] == [world["session"].pk]
    assert [row["id"] for row in api_client.get(f"{SESSIONS}?upcoming=false").json()["results"]] == [past.pk]
    assert api_client.get(f"{SESSIONS}?course={world['online'].pk}").json()["count"] == 0


# Training records ------------------------------------------------------------------------------


def test_a_record_reads_in_the_documented_shape(api_client, world):
    record = world["certified"]
    body = api_client.get(url(RECORDS, record.pk)).json()
    assert body["contact"] == world["li"].pk and body["contact_name"] == "Li Na"
    assert body["partner"] == world["huaxin"].pk
    assert body["course"] == world["online"].pk and body["course_code"] == "SEN-101"
    assert body["status"] == "passed" and body["score"] == "88.00"
    assert body["completed_on"] == str(record.completed_on) and body["expires_on"] == str(record.expires_on)
    assert body["certificate_number"] == record.certificate_number
    assert body["session"] is None and "enrolled_by" in body


@pytest.mark.parametrize(
    "query, expected",
    [
        ("", {"certified", "enrolled", "foreign"}),
        ("?status=passed", {"certified", "foreign"}),
        ("?status=enrolled", {"enrolled"}),
        ("?course={online}", {"certified", "foreign"}),
        ("?partner={zeta}", {"foreign"}),
        ("?contact={wang}", {"enrolled"}),
        ("?session={session}", {"enrolled"}),
        ("?q=zeta", {"foreign"}),
    ],
)
def test_the_record_list_filters(api_client, world, query, expected):
    ids = {
        "online": world["online"].pk,
        "zeta": world["zeta"].pk,
        "wang": world["wang"].pk,
        "session": world["session"].pk,
    }
    rows = api_client.get(RECORDS + query.format(**ids)).json()["results"]
    assert {row["id"] for row in rows} == {world[name].pk for name in expected}


def test_expiring_before_finds_the_certifications_to_renew(api_client, world):
    def found(day):
        return {row["id"] for row in api_client.get(f"{RECORDS}?expiring_before={day}").json()["results"]}

    certified, foreign = world["certified"], world["foreign"]
    assert found(TODAY + timedelta(days=60)) == {certified.pk, foreign.pk}  # Zeta's lapsed, not yet marked expired
    assert found(TODAY + timedelta(days=40)) == {foreign.pk}  # Li Na's last valid day is the 40th
    assert found(TODAY + timedelta(days=41)) == {certified.pk, foreign.pk}
    foreign.status = RecordStatus.EXPIRED
    foreign.save()
    assert found(TODAY + timedelta(days=60)) == {certified.pk}  # marked expired: no longer to renew


def test_completed_after_and_before_bound_the_completion_date(api_client, world):
    def found(query):
        return {row["id"] for row in api_client.get(RECORDS + query).json()["results"]}

    li_done = world["certified"].completed_on
    assert found(f"?completed_after={li_done}") == {world["certified"].pk}
    assert found(f"?completed_before={li_done - timedelta(days=1)}") == {world["foreign"].pk}
    assert found(f"?completed_after={li_done}&completed_before={li_done}") == {world["certified"].pk}


def test_enrolling_creates_an_enrolment_from_the_api(api_client, world):
    response = api_client.post(
        RECORDS, {"contact": world["chen"].pk, "course": world["classroom"].pk, "session": world["session"].pk}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "enrolled" and body["source"] == RecordSource.API and body["partner"] == world["huaxin"].pk
    assert api_client.get(url(SESSIONS, world["session"].pk)).json()["free_seats"] == 0


def test_an_online_course_needs_no_session(api_client, world):
    response = api_client.post(RECORDS, {"contact": world["chen"].pk, "course": world["online"].pk})
    assert response.status_code == 201, response.content
    assert response.json()["session"] is None


def test_a_full_session_is_refused_with_a_clear_error(api_client, world):
    TrainingRecordFactory(contact=world["chen"], course=world["classroom"], session=world["session"])
    before = records()
    response = api_client.post(
        RECORDS, {"contact": world["li"].pk, "course": world["classroom"].pk, "session": world["session"].pk}
    )
    assert_field_error(response, "session", "full", "2")
    assert records() == before


def test_a_second_open_attempt_is_refused(api_client, world):
    before = records()
    response = api_client.post(
        RECORDS, {"contact": world["wang"].pk, "course": world["classroom"].pk, "session": world["session"].pk}
    )
    assert_field_error(response, "contact", "Wang Wei is already enrolled in Sensor installation")
    assert records() == before


@pytest.mark.parametrize(
    "payload, field, text",
    [
        ({"course": "classroom"}, "session", "Choose a session"),
        ({"course": "retired"}, "course", "no longer offered"),
        ({"course": "online", "session": "session"}, "session", "online course"),
        ({"course": "online", "contact": 999999}, "contact", ""),
        ({"course": None}, "course", ""),
    ],
)
def test_bad_enrolments_are_field_errors_and_create_nothing(api_client, world, payload, field, text):
    data = {"contact": world["chen"].pk}
    for name, value in payload.items():
        data[name] = world[value].pk if isinstance(value, str) else value
    before = records()
    assert_field_error(api_client.post(RECORDS, data, format="json"), field, text)
    assert records() == before


def test_records_change_only_through_the_actions(api_client, world):
    record = world["enrolled"]
    assert api_client.patch(url(RECORDS, record.pk), {"status": "passed"}).status_code == 405
    assert api_client.delete(url(RECORDS, record.pk)).status_code == 405


def test_start_then_pass_sets_the_expiry_and_a_certificate_number(api_client, world):
    record = TrainingRecordFactory(contact=world["chen"], course=world["online"])
    started = api_client.post(url(RECORDS, record.pk, "start"))
    assert started.status_code == 200 and started.json()["status"] == "in_progress"
    done = TODAY - timedelta(days=3)
    response = api_client.post(
        url(RECORDS, record.pk, "result"), {"status": "passed", "score": "91.5", "completed_on": str(done)}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "passed" and body["score"] == "91.50" and body["completed_on"] == str(done)
    assert body["expires_on"] == str(add_months(done, 12))
    assert body["certificate_number"].startswith(f"TC-{done.year}-")


def test_a_pass_on_31_january_of_a_one_month_course_expires_at_the_end_of_february(api_client, world):
    course = CourseFactory(code="ONE-MONTH", validity_months=1)
    record = TrainingRecordFactory(contact=world["chen"], course=course)
    year = TODAY.year - 1
    response = api_client.post(
        url(RECORDS, record.pk, "result"), {"status": "passed", "score": "80", "completed_on": f"{year}-01-31"}
    )
    last_of_february = 29 if year % 4 == 0 and (year % 100 or year % 400 == 0) else 28
    assert response.json()["expires_on"] == str(date(year, 2, last_of_february))


def test_a_pass_below_the_pass_mark_is_refused_naming_both(api_client, world):
    record = world["enrolled"]
    record.course = world["online"]
    record.session = None
    record.save()
    before = records()
    response = api_client.post(
        url(RECORDS, record.pk, "result"), {"status": "passed", "score": "65", "completed_on": str(TODAY)}
    )
    assert_field_error(response, "score", "65", "70", "below the pass mark")
    assert records() == before


def test_a_fail_reaching_the_pass_mark_is_refused(api_client, world):
    record = TrainingRecordFactory(contact=world["chen"], course=world["online"])
    response = api_client.post(
        url(RECORDS, record.pk, "result"), {"status": "failed", "score": "70", "completed_on": str(TODAY)}
    )
    assert_field_error(response, "score", "reaches the pass mark")


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"status": "passed", "score": "80"}, "completed_on"),
        ({"status": "passed", "completed_on": "2020-01-01"}, "score"),
        ({"status": "withdrawn"}, "status"),
        ({"status": "passed", "score": "101", "completed_on": "2020-01-01"}, "score"),
        ({"status": "passed", "score": "80", "completed_on": "next week"}, "completed_on"),
    ],
)
def test_a_bad_result_is_a_field_error(api_client, world, payload, field):
    record = TrainingRecordFactory(contact=world["chen"], course=world["online"])
    before = records()
    assert_field_error(api_client.post(url(RECORDS, record.pk, "result"), payload), field)
    assert records() == before


def test_an_illegal_move_is_a_400_that_says_why(api_client, world):
    record = world["certified"]
    before = records()
    for action in ("start", "withdraw"):
        assert_field_error(api_client.post(url(RECORDS, record.pk, action)), "status", "cannot go from Passed")
    response = api_client.post(
        url(RECORDS, record.pk, "result"), {"status": "failed", "score": "10", "completed_on": str(TODAY)}
    )
    assert_field_error(response, "status", "cannot go from Passed")
    assert records() == before


def test_withdrawing_frees_the_seat(api_client, world):
    response = api_client.post(url(RECORDS, world["enrolled"].pk, "withdraw"))
    assert response.status_code == 200 and response.json()["status"] == "withdrawn"
    assert api_client.get(url(SESSIONS, world["session"].pk)).json()["free_seats"] == 2


# Certificates ---------------------------------------------------------------------------------


def test_the_certificate_of_a_pass_is_a_pdf_in_the_language_asked_for(api_client, world):
    record = world["certified"]
    english = api_client.get(url(RECORDS, record.pk, "certificate"), HTTP_ACCEPT_LANGUAGE="en")
    assert english.status_code == 200
    assert english["Content-Type"] == "application/pdf"
    assert english.content.startswith(b"%PDF")
    assert f"{record.certificate_number}.pdf" in english["Content-Disposition"]
    # The heading is set in Helvetica Bold in English, in the CJK font in Chinese.
    assert b"Helvetica-Bold" in english.content
    chinese = api_client.get(url(RECORDS, record.pk, "certificate"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert chinese.status_code == 200 and chinese.content.startswith(b"%PDF")
    assert b"Helvetica-Bold" not in chinese.content and b"STSong-Light" in chinese.content


def test_a_record_without_a_certificate_has_none(api_client, world):
    response = api_client.get(url(RECORDS, world["enrolled"].pk, "certificate"))
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")


# Import ---------------------------------------------------------------------------------------

HEADER = "partner_code,contact_email,course_code,session_starts,status,score,completed_on,certificate_number\n"


def csv_file(*rows, name="results.csv"):
    return SimpleUploadedFile(name, (HEADER + "".join(f"{row}\n" for row in rows)).encode(), "text/csv")


def test_an_import_writes_its_rows_and_twice_changes_nothing(api_client, world):
    done = TODAY - timedelta(days=5)
    row = f"HUAXIN,chen.jie@huaxin.example,SEN-101,,passed,82,{done},"
    first = api_client.post(f"{RECORDS}import/", {"file": csv_file(row)}, format="multipart")
    assert first.status_code == 200, first.content
    assert first.json() == {"dry_run": False, "total": 1, "created": 1, "updated": 0, "unchanged": 0, "errors": []}
    assert TrainingRecord.objects.get(contact=world["chen"]).status == RecordStatus.PASSED
    again = api_client.post(f"{RECORDS}import/", {"file": csv_file(row)}, format="multipart").json()
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 1)


def test_a_dry_run_reports_without_writing(api_client, world):
    row = f"HUAXIN,chen.jie@huaxin.example,SEN-101,,passed,82,{TODAY},"
    before = records()
    response = api_client.post(f"{RECORDS}import/?dry_run=1", {"file": csv_file(row)}, format="multipart")
    assert response.status_code == 200
    assert response.json()["dry_run"] is True and response.json()["created"] == 1
    assert records() == before


def test_an_import_with_a_bad_row_reports_every_error_and_writes_nothing(api_client, world):
    good = f"HUAXIN,chen.jie@huaxin.example,SEN-101,,passed,82,{TODAY},"
    below = f"HUAXIN,wang.wei@huaxin.example,SEN-101,,passed,50,{TODAY},"
    unknown = f"NOPE,someone@nope.example,SEN-101,,passed,90,{TODAY},"
    before = records()
    response = api_client.post(f"{RECORDS}import/", {"file": csv_file(good, below, unknown)}, format="multipart")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid" and body["message"]
    assert body["created"] + body["updated"] + body["unchanged"] <= 3
    errors = {(error["row"], error["column"]) for error in body["errors"]["file"]}
    assert (3, "score") in errors and (4, "partner_code") in errors
    assert all(error["message"] for error in body["errors"]["file"])
    assert records() == before


def test_an_import_without_a_file_is_a_field_error(api_client, world):
    assert_field_error(api_client.post(f"{RECORDS}import/", {}, format="multipart"), "file")


def test_an_import_of_the_wrong_kind_of_file_is_a_field_error(api_client, world):
    picture = SimpleUploadedFile("results.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 32, "image/png")
    assert_field_error(api_client.post(f"{RECORDS}import/", {"file": picture}, format="multipart"), "file")


def test_an_analyst_cannot_import(world):
    response = as_user(AnalystFactory()).post(
        f"{RECORDS}import/", {"file": csv_file("HUAXIN,chen.jie@huaxin.example,SEN-101,,enrolled,,,")}
    )
    assert response.status_code == 403


# API keys -------------------------------------------------------------------------------------


def test_keys_need_the_training_scope(world, make_key):
    other = make_key(["partners:write", "agreements:write"])
    for base in (COURSES, SESSIONS, RECORDS):
        assert other.get(base).status_code == 403, base
    reader = make_key(["training:read"])
    for base in (COURSES, SESSIONS, RECORDS):
        assert reader.get(base).status_code == 200, base
    assert reader.get(url(RECORDS, world["foreign"].pk, "certificate")).status_code == 200
    assert reader.post(RECORDS, {"contact": world["chen"].pk, "course": world["online"].pk}).status_code == 403
    assert reader.post(url(RECORDS, world["enrolled"].pk, "start")).status_code == 403
    writer = make_key(["training:write"])
    assert writer.post(url(RECORDS, world["enrolled"].pk, "start")).json()["status"] == "in_progress"
    created = writer.post(RECORDS, {"contact": world["chen"].pk, "course": world["online"].pk})
    assert created.status_code == 201 and created.json()["enrolled_by"] is None


def test_a_partner_key_reads_the_catalogue_and_only_its_own_records(world, make_key):
    key = make_key(["training:read"], partner=world["huaxin"])
    assert key.get(COURSES).json()["count"] == 3
    assert key.get(SESSIONS).json()["count"] == 1
    listed = key.get(RECORDS).json()
    assert listed["count"] == 2
    assert {row["id"] for row in listed["results"]} == {world["certified"].pk, world["enrolled"].pk}
    assert all("enrolled_by" not in row for row in listed["results"])
    assert "Zeta" not in str(listed)
    foreign = world["foreign"]
    assert key.get(url(RECORDS, foreign.pk)).status_code == 404
    assert key.get(url(RECORDS, foreign.pk, "certificate")).status_code == 404
    assert key.get(f"{RECORDS}?partner={world['zeta'].pk}").status_code == 400  # not a partner it may name
    assert key.get(url(RECORDS, world["certified"].pk, "certificate")).status_code == 200


def test_a_partner_key_enrols_its_own_people_only(world, make_key):
    key = make_key(["training:write"], partner=world["huaxin"])
    own = key.post(RECORDS, {"contact": world["chen"].pk, "course": world["online"].pk})
    assert own.status_code == 201, own.content
    assert own.json()["partner"] == world["huaxin"].pk and own.json()["source"] == RecordSource.API
    before = records()
    foreign = key.post(RECORDS, {"contact": world["insider"].pk, "course": world["online"].pk})
    assert_field_error(foreign, "contact")
    assert "Zeta" not in foreign.content.decode()
    assert records() == before


def test_a_partner_key_never_records_results_or_changes_the_catalogue(world, make_key):
    key = make_key(["training:write"], partner=world["huaxin"])
    before = records()
    for action in ("start", "withdraw"):
        assert key.post(url(RECORDS, world["enrolled"].pk, action)).status_code == 403
    result = {"status": "passed", "score": "99", "completed_on": str(TODAY)}
    assert key.post(url(RECORDS, world["enrolled"].pk, "result"), result).status_code == 403
    assert key.post(f"{RECORDS}import/", {"file": csv_file()}, format="multipart").status_code == 403
    assert key.patch(url(COURSES, world["online"].pk), {"pass_mark": "1"}).status_code == 403
    assert key.post(url(SESSIONS, world["session"].pk, "cancel")).status_code == 403
    assert records() == before
    assert Course.objects.get(pk=world["online"].pk).pass_mark == Decimal("70")


# Query counts ---------------------------------------------------------------------------------


def build(size, world):
    """`size` more partners, each with a person, a course with a requirement and a session, an
    enrolment and a pass."""
    for index in range(size):
        partner = PartnerFactory(region=world["huaxin"].region, tier=world["gold"])
        person = PartnerContactFactory(partner=partner)
        course = ClassroomCourseFactory(code=f"BULK-{index}")
        TierRequirement.objects.create(course=course, tier=world["gold"], certified_people=1)
        seats = make_session(course=course, capacity=5)
        TrainingRecordFactory(contact=person, course=course, session=seats)
        TrainingRecordFactory(contact=person, course=world["online"], passed=True)


# count + page (+ the tier requirements of the page's courses)
LIST_QUERIES = {COURSES: 3, SESSIONS: 2, RECORDS: 2}


@pytest.mark.parametrize("size", [2, 12])
@pytest.mark.parametrize("base", list(LIST_QUERIES))
def test_lists_issue_the_same_few_queries_for_few_and_many_rows(
    api_client, world, django_assert_max_num_queries, size, base
):
    build(size, world)
    with django_assert_max_num_queries(LIST_QUERIES[base]):
        response = api_client.get(f"{base}?page_size=500")
    assert response.status_code == 200
    body = response.json()
    assert len(body["results"]) == body["count"] >= size


# Schema ---------------------------------------------------------------------------------------

PATHS = {
    "/api/v1/courses/": {"get", "post"},
    "/api/v1/courses/{id}/": {"get", "put", "patch"},
    "/api/v1/training-sessions/": {"get", "post"},
    "/api/v1/training-sessions/{id}/": {"get", "put", "patch"},
    "/api/v1/training-sessions/{id}/cancel/": {"post"},
    "/api/v1/training-records/": {"get", "post"},
    "/api/v1/training-records/{id}/": {"get"},
    "/api/v1/training-records/{id}/start/": {"post"},
    "/api/v1/training-records/{id}/result/": {"post"},
    "/api/v1/training-records/{id}/withdraw/": {"post"},
    "/api/v1/training-records/{id}/certificate/": {"get"},
    "/api/v1/training-records/import/": {"post"},
}


def test_the_schema_documents_every_training_endpoint_without_warnings():
    GENERATOR_STATS.reset()
    schema = SchemaGenerator().get_schema(request=None, public=True)
    assert not GENERATOR_STATS._warn_cache and not GENERATOR_STATS._error_cache, (
        dict(GENERATOR_STATS._warn_cache),
        dict(GENERATOR_STATS._error_cache),
    )
    paths = schema["paths"]
    for path, methods in PATHS.items():
        assert path in paths, path
        assert set(paths[path]) - {"parameters"} == methods, path
    for action in ("start", "result", "withdraw"):
        responses = paths[f"/api/v1/training-records/{{id}}/{action}/"]["post"]["responses"]
        assert {"200", "400", "403", "404"} <= set(responses), action
    assert (
        "application/pdf" in paths["/api/v1/training-records/{id}/certificate/"]["get"]["responses"]["200"]["content"]
    )
    upload = paths["/api/v1/training-records/import/"]["post"]
    assert list(upload["requestBody"]["content"]) == ["multipart/form-data"]
    assert "dry_run" in {p["name"] for p in upload["parameters"]}
    record_filters = {p["name"] for p in paths["/api/v1/training-records/"]["get"]["parameters"]}
    assert {"partner", "course", "status", "contact", "expiring_before", "completed_after", "completed_before"} <= (
        record_filters
    )
    course_filters = {p["name"] for p in paths["/api/v1/courses/"]["get"]["parameters"]}
    assert {"type", "delivery", "product_line", "level", "is_active", "search"} <= course_filters
    components = schema["components"]["schemas"]
    assert {"pass_mark", "validity_months", "tier_requirements"} <= set(components["Course"]["properties"])
    record = components["TrainingRecord"]["properties"]
    assert {"status", "score", "completed_on", "expires_on", "certificate_number"} <= set(record)
    assert set(components["TrainingRecordRequest"]["required"]) == {"contact", "course"}
    assert "status" not in components["TrainingRecordRequest"]["properties"]
    assert Delivery.WEBINAR in components["DeliveryEnum"]["enum"]
