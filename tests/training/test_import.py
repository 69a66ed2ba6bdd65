"""Bulk import of training records from CSV (UTF-8 with or without BOM, GB18030) and Excel:
every bad cell reported with its row and column, nothing written when any row is bad, a dry run
that only reports, and the same file imported twice changing nothing."""

import io
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from openpyxl import Workbook

from prm.models import AuditEntry
from prm.periods import add_months
from tests.factories import (
    AnalystFactory,
    ChannelManagerFactory,
    ClassroomCourseFactory,
    CourseFactory,
    PartnerContactFactory,
    PartnerFactory,
    TrainingRecordFactory,
)
from training import services
from training.choices import RecordSource, RecordStatus
from training.models import TrainingRecord

from .builders import admin, session

pytestmark = pytest.mark.django_db

HEADER = ["partner_code", "contact_email", "course_code", "session_starts", "status", "score", "completed_on"]
TODAY = timezone.localdate()
DAY = (TODAY - timedelta(days=10)).isoformat()


@pytest.fixture
def world():
    partner = PartnerFactory(code="P-EAST")
    other = PartnerFactory(code="P-WEST")
    people = [
        PartnerContactFactory(partner=partner, email=f"person{n}@east.example", name=f"Person {n}") for n in range(3)
    ]
    stranger = PartnerContactFactory(partner=other, email="stranger@west.example")
    course = CourseFactory(code="PRD-1", pass_mark=Decimal("60"), validity_months=12)
    return {"partner": partner, "other": other, "people": people, "stranger": stranger, "course": course}


def csv_file(rows, *, header=HEADER, encoding="utf-8", name="results.csv"):
    lines = [",".join(header)] + [",".join(str(cell) for cell in row) for row in rows]
    return SimpleUploadedFile(name, ("\r\n".join(lines) + "\r\n").encode(encoding))


def xlsx_file(rows, *, header=HEADER, name="results.xlsx"):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile(name, buffer.getvalue())


def run(file, **kwargs):
    return services.records_import(file=file, by=kwargs.pop("by", None) or admin(), **kwargs)


GOOD = [
    ["P-EAST", "person0@east.example", "PRD-1", "", "passed", "85", DAY],
    ["p-east", "PERSON1@east.example", "prd-1", "", "failed", "40", DAY],
    ["P-EAST", "person2@east.example", "PRD-1", "", "enrolled", "", ""],
]


def test_a_good_csv_creates_the_records(world):
    report = run(csv_file(GOOD))

    assert report.errors == []
    assert (report.total, report.created, report.updated, report.unchanged) == (3, 3, 0, 0)
    passed = TrainingRecord.objects.get(contact=world["people"][0])
    assert passed.status == RecordStatus.PASSED and passed.score == Decimal("85.00")
    assert passed.completed_on == TODAY - timedelta(days=10)
    assert passed.expires_on == add_months(passed.completed_on, 12)
    assert passed.certificate_number.startswith(f"TC-{passed.completed_on.year}-")
    assert passed.source == RecordSource.IMPORT
    assert TrainingRecord.objects.get(contact=world["people"][1]).status == RecordStatus.FAILED
    assert TrainingRecord.objects.get(contact=world["people"][2]).status == RecordStatus.ENROLLED


def test_the_same_file_twice_changes_nothing_the_second_time(world):
    run(csv_file(GOOD))
    before = list(TrainingRecord.objects.order_by("pk").values())

    report = run(csv_file(GOOD))

    assert (report.created, report.updated, report.unchanged, report.errors) == (0, 0, 3, [])
    assert list(TrainingRecord.objects.order_by("pk").values()) == before


def test_one_history_entry_per_import_with_the_counts(world):
    by = admin()
    run(csv_file(GOOD), by=by)

    entry = AuditEntry.objects.get(object_type="training.trainingrecord", object_id="import")
    assert entry.actor == by
    assert entry.changes == {
        "file": [None, "results.csv"],
        "total": [None, 3],
        "created": [None, 3],
        "updated": [None, 0],
        "unchanged": [None, 0],
    }


def test_every_bad_cell_is_reported_with_its_row_and_column_and_nothing_is_written(world):
    tomorrow = (TODAY + timedelta(days=1)).isoformat()
    CourseFactory(code="PRD-2")
    classroom = ClassroomCourseFactory(code="CLS-1")
    session(course=classroom)
    rows = [
        ["P-EAST", "person0@east.example", "PRD-1", "", "passed", "85", DAY],  # row 2: fine
        ["P-NONE", "person0@east.example", "PRD-1", "", "passed", "85", DAY],  # 3
        ["P-EAST", "stranger@west.example", "PRD-1", "", "passed", "85", DAY],  # 4
        ["P-EAST", "person1@east.example", "NOPE", "", "passed", "85", DAY],  # 5
        ["P-EAST", "person1@east.example", "PRD-1", "", "passed", "85", "31/02/2026"],  # 6
        ["P-EAST", "person1@east.example", "PRD-1", "", "passed", "lots", DAY],  # 7
        ["P-EAST", "person1@east.example", "PRD-1", "", "passed", "140", DAY],  # 8
        ["P-EAST", "person1@east.example", "PRD-1", "", "done", "85", DAY],  # 9
        ["P-EAST", "person1@east.example", "PRD-1", "", "passed", "59", DAY],  # 10
        ["P-EAST", "person1@east.example", "PRD-1", "", "failed", "60", DAY],  # 11
        ["P-EAST", "person1@east.example", "CLS-1", "2020-01-01 09:00", "passed", "85", DAY],  # 12
        ["P-EAST", "person1@east.example", "PRD-2", "", "passed", "85", tomorrow],  # 13
        ["P-EAST", "person1@east.example", "PRD-2", "", "passed", "", DAY],  # 14
        ["", "", "", "", "", "", ""],  # 15: blank, skipped
        ["P-EAST", "person0@east.example", "PRD-1", "", "passed", "90", DAY],  # 16: same as row 2
        ["P-EAST", "person2@east.example", "PRD-1", "", "enrolled", "50", ""],  # 17
        ["P-EAST", "person2@east.example", "PRD-2", "", "expired", "80", DAY],  # 18
    ]

    report = run(csv_file(rows))

    errors = {(row, column): message for row, column, message in report.errors}
    assert set(errors) == {
        (3, "partner_code"),
        (4, "contact_email"),
        (5, "course_code"),
        (6, "completed_on"),
        (7, "score"),
        (8, "score"),
        (9, "status"),
        (10, "score"),
        (11, "score"),
        (12, "session_starts"),
        (13, "completed_on"),
        (14, "score"),
        (16, "contact_email"),
        (17, "score"),
        (18, "status"),
    }
    assert errors[(3, "partner_code")] == "No partner has the code “P-NONE”."
    assert errors[(4, "contact_email")] == "stranger@west.example is not a contact of P-EAST."
    assert errors[(5, "course_code")] == "No course has the code “NOPE”."
    assert errors[(6, "completed_on")] == "“31/02/2026” is not a date: use YYYY-MM-DD."
    assert errors[(7, "score")] == "“lots” is not a score: enter a number from 0 to 100."
    assert errors[(9, "status")].startswith("“done” is not a status: use enrolled, in_progress, passed")
    assert errors[(10, "score")] == "A score of 59 is below the pass mark of 60: it is not a pass."
    assert "reaches the pass mark of 60" in errors[(11, "score")]
    assert errors[(12, "session_starts")] == "CLS-1 has no session starting at 2020-01-01 09:00."
    assert "Row 2" in errors[(16, "contact_email")]
    assert "import it as passed" in errors[(18, "status")]
    assert [row for row, _column, _message in report.errors] == sorted(row for row, _c, _m in report.errors)
    assert not TrainingRecord.objects.exists()
    assert not AuditEntry.objects.filter(object_id="import").exists()


def test_a_missing_required_column_is_one_error_naming_it_on_row_1(world):
    report = run(
        csv_file([["P-EAST", "person0@east.example", "passed"]], header=["Partner_Code", "contact_email", "status"])
    )

    assert report.errors == [
        (
            1,
            "course_code",
            "The column “course_code” is missing; the required columns are "
            "partner_code, contact_email, course_code, status.",
        )
    ]
    assert not TrainingRecord.objects.exists()


def test_headers_match_in_any_case_and_the_bom_is_ignored(world):
    header = ["Partner Code", "CONTACT_EMAIL", "Course_Code", "Session-Starts", "Status", "Score", "Completed_On"]
    file = csv_file(GOOD, header=header, encoding="utf-8-sig")

    assert run(file).created == 3


def test_a_gb18030_csv_from_chinese_excel_with_chinese_statuses(world):
    world["people"][0].name = "王伟"
    world["people"][0].save()
    rows = [
        ["P-EAST", "person0@east.example", "PRD-1", "", "已通过", "85", DAY],
        ["P-EAST", "person1@east.example", "PRD-1", "", "未通过", "30", DAY.replace("-", "/")],
        ["P-EAST", "person2@east.example", "PRD-1", "", "进行中", "", ""],
    ]

    report = run(csv_file(rows, encoding="gb18030"))

    assert report.errors == [] and report.created == 3
    statuses = dict(TrainingRecord.objects.values_list("contact__email", "status"))
    assert statuses == {
        "person0@east.example": RecordStatus.PASSED,
        "person1@east.example": RecordStatus.FAILED,
        "person2@east.example": RecordStatus.IN_PROGRESS,
    }


def test_english_labels_are_statuses_too(world):
    rows = [["P-EAST", "person2@east.example", "PRD-1", "", "In progress", "", ""]]

    assert run(csv_file(rows)).created == 1


def test_an_excel_file_with_real_dates_and_numbers(world):
    classroom = ClassroomCourseFactory(code="CLS-1", pass_mark=Decimal("70"), validity_months=None)
    past = session(course=classroom, days=-20)
    starts = timezone.localtime(past.starts_at).replace(tzinfo=None)
    rows = [
        ["P-EAST", "person0@east.example", "PRD-1", None, "passed", 92.5, datetime.combine(TODAY, datetime.min.time())],
        ["P-EAST", "person1@east.example", "CLS-1", starts, "passed", 71, TODAY - timedelta(days=19)],
    ]

    report = run(xlsx_file(rows))

    assert report.errors == [] and report.created == 2
    first = TrainingRecord.objects.get(contact=world["people"][0])
    assert first.score == Decimal("92.50") and first.completed_on == TODAY
    second = TrainingRecord.objects.get(contact=world["people"][1])
    assert second.session == past and second.expires_on is None


def test_an_excel_file_reports_bad_cells_by_row_too(world):
    rows = [
        ["P-EAST", "person0@east.example", "PRD-1", None, "passed", 92, TODAY],
        ["P-EAST", "person1@east.example", "PRD-1", None, "passed", "high", TODAY],
    ]

    report = run(xlsx_file(rows))

    assert [(row, column) for row, column, _message in report.errors] == [(3, "score")]
    assert not TrainingRecord.objects.exists()


def test_a_dry_run_reports_and_writes_nothing(world):
    report = run(csv_file(GOOD), dry_run=True)

    assert report.dry_run and (report.created, report.updated, report.unchanged) == (3, 0, 0)
    assert not TrainingRecord.objects.exists()
    assert not AuditEntry.objects.filter(object_id="import").exists()


def test_a_result_completes_the_open_attempt(world):
    open_attempt = services.enrol(contact=world["people"][0], course=world["course"], by=admin())

    report = run(csv_file(GOOD[:1]))

    assert (report.created, report.updated) == (0, 1)
    open_attempt.refresh_from_db()
    assert open_attempt.status == RecordStatus.PASSED and open_attempt.certificate_number


def test_an_attempt_moves_forward_but_a_result_does_not_change(world):
    run(csv_file([["P-EAST", "person2@east.example", "PRD-1", "", "enrolled", "", ""]]))

    started = run(csv_file([["P-EAST", "person2@east.example", "PRD-1", "", "in_progress", "", ""]]))
    assert started.updated == 1
    back = run(csv_file([["P-EAST", "person2@east.example", "PRD-1", "", "enrolled", "", ""]]))
    assert [(row, column) for row, column, _m in back.errors] == [(2, "status")]

    run(csv_file(GOOD[:1]))
    flipped = run(csv_file([["P-EAST", "person0@east.example", "PRD-1", "", "failed", "30", DAY]]))
    assert [(row, column) for row, column, _m in flipped.errors] == [(2, "status")]


def test_a_score_correction_updates_the_pass(world):
    run(csv_file(GOOD[:1]))

    report = run(csv_file([["P-EAST", "person0@east.example", "PRD-1", "", "passed", "95", DAY]]))

    assert report.updated == 1 and TrainingRecord.objects.get().score == Decimal("95.00")


def test_given_certificate_numbers_are_kept_and_unique(world):
    header = [*HEADER, "certificate_number"]
    TrainingRecordFactory(passed=True, certificate_number="LEGACY-1")
    rows = [
        ["P-EAST", "person0@east.example", "PRD-1", "", "passed", "85", DAY, "LEGACY-2"],
        ["P-EAST", "person1@east.example", "PRD-1", "", "passed", "85", DAY, "LEGACY-1"],
        ["P-EAST", "person2@east.example", "PRD-1", "", "passed", "85", DAY, "LEGACY-2"],
    ]

    report = run(csv_file(rows, header=header))

    assert [(row, column) for row, column, _m in report.errors] == [
        (3, "certificate_number"),
        (4, "certificate_number"),
    ]
    assert run(csv_file(rows[:1], header=header)).created == 1
    assert TrainingRecord.objects.filter(certificate_number="LEGACY-2").exists()


def test_a_session_is_never_overfilled(world):
    classroom = ClassroomCourseFactory(code="CLS-1")
    small = session(course=classroom, capacity=1)
    starts = f"{timezone.localtime(small.starts_at):%Y-%m-%d %H:%M}"
    rows = [
        ["P-EAST", "person0@east.example", "CLS-1", starts, "enrolled", "", ""],
        ["P-EAST", "person1@east.example", "CLS-1", starts, "enrolled", "", ""],
    ]

    report = run(csv_file(rows))

    assert report.errors == [(3, "session_starts", "The session is full (1 place).")]


def test_a_channel_manager_imports_only_for_partners_they_manage(world):
    manager = ChannelManagerFactory()
    world["partner"].owner = manager
    world["partner"].save()
    rows = [*GOOD[:1], ["P-WEST", "stranger@west.example", "PRD-1", "", "passed", "85", DAY]]

    report = run(csv_file(rows), by=manager)

    assert [(row, column) for row, column, _m in report.errors] == [(3, "partner_code")]
    with pytest.raises(PermissionDenied):
        run(csv_file(GOOD), by=AnalystFactory())


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("results.txt", b"partner_code\n"),
        ("results.xlsx", b"PK\x03\x04 not a workbook"),
        ("results.csv", b""),
        ("results.csv", b"\n\n"),
        ("results.csv", b"\xff\xfe\x00\xd8\x00\xd8"),
    ],
)
def test_a_file_that_is_no_table_is_refused_on_the_file_field(world, name, content):
    with pytest.raises(ValidationError) as excinfo:
        run(SimpleUploadedFile(name, content))

    assert list(excinfo.value.message_dict) == ["file"]


def test_dates_in_chinese_notation(world):
    rows = [
        ["P-EAST", "person0@east.example", "PRD-1", "", "passed", "85", f"{TODAY.year}年{TODAY.month}月{TODAY.day}日"]
    ]

    assert run(csv_file(rows)).created == 1
    assert TrainingRecord.objects.get().completed_on == TODAY


def test_query_count_does_not_grow_with_the_rows(world, django_assert_max_num_queries):
    contacts = [PartnerContactFactory(partner=world["partner"], email=f"bulk{n}@east.example") for n in range(40)]
    rows = [["P-EAST", contact.email, "PRD-1", "", "passed", "80", DAY] for contact in contacts]
    by = admin()

    with django_assert_max_num_queries(30):
        assert run(csv_file(rows[:4]), by=by).created == 4
    with django_assert_max_num_queries(30):
        assert run(csv_file(rows[4:]), by=by).created == 36


def test_an_enrolment_and_a_result_of_the_same_person_in_one_file_import_twice_the_same(world):
    rows = [
        ["P-EAST", "person0@east.example", "PRD-1", "", "enrolled", "", ""],
        ["P-EAST", "person0@east.example", "PRD-1", "", "passed", "85", DAY],
        ["P-EAST", "person1@east.example", "PRD-1", "", "in_progress", "", ""],
        ["P-EAST", "person1@east.example", "PRD-1", "", "withdrawn", "", DAY],
    ]

    first = run(csv_file(rows))
    second = run(csv_file(rows))

    assert (first.created, first.updated, first.unchanged, first.errors) == (4, 0, 0, [])
    assert (second.created, second.updated, second.unchanged, second.errors) == (0, 0, 4, [])
