"""The training matrix and the region completion report, on a known dataset: every number a
manager reads, the filters, the drill-down into a region, the CSV and Excel files (opened with
openpyxl: real numbers, a header row, a named sheet), and a fixed number of queries whatever the
number of partners, courses and regions."""

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from partners.choices import PartnerType, RegionKind
from tests.factories import (
    AnalystFactory,
    ChannelAdminFactory,
    CourseFactory,
    PartnerContactFactory,
    PartnerFactory,
    PartnerTierFactory,
    PartnerUserFactory,
    ProductLineFactory,
    RegionFactory,
    TierRequirementFactory,
    TrainingRecordFactory,
)
from training.choices import RecordStatus

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
MATRIX = "/training/matrix/"
REPORT = "/training/report/"


def html(response):
    return response.content.decode().replace("&#x27;", "'").replace("&quot;", '"')


def person(partner):
    return PartnerContactFactory(partner=partner)


def passed(partner, course, days_ago, **kwargs):
    return TrainingRecordFactory(
        contact=person(partner), course=course, passed=True, completed_on=TODAY - timedelta(days=days_ago), **kwargs
    )


@pytest.fixture
def channel(db):
    """China → North → Beijing, Tianjin; China → South → Guangdong.
    Gold requires 2 people certified in PROD-101 and 1 in CLS-201; Silver 1 in PROD-101.

    - Alpha (Beijing, Gold): two valid PROD-101 passes (100 and 10 days ago), one CLS-201
      enrolment, one CLS-201 fail 5 days ago.
    - Beta (Tianjin, Silver): a PROD-101 pass 800 days ago, expired; a withdrawal today.
    - Gamma (Guangdong, Gold): a CLS-201 pass 20 days ago; a PROD-101 enrolment.
    - Delta (Guangdong, no tier, distributor): an OPT-1 pass 400 days ago (OPT-1 never expires)."""
    china = RegionFactory(code="CN", name="China", kind=RegionKind.COUNTRY)
    north = RegionFactory(code="NORTH", name="North", kind=RegionKind.AREA, parent=china)
    beijing = RegionFactory(code="BJ", name="Beijing", parent=north)
    tianjin = RegionFactory(code="TJ", name="Tianjin", parent=north)
    south = RegionFactory(code="SOUTH", name="South", kind=RegionKind.AREA, parent=china)
    guangdong = RegionFactory(code="GD", name="Guangdong", parent=south)
    gold, silver = PartnerTierFactory(name="Gold", rank=3), PartnerTierFactory(name="Silver", rank=2)
    sensors = ProductLineFactory(code="SENS", name="Industrial sensors")
    prod = CourseFactory(code="PROD-101", title="Sensor fundamentals", product_line=sensors, validity_months=24)
    cls = CourseFactory(
        code="CLS-201", title="Installation workshop", course_type="technical", delivery="classroom", validity_months=12
    )
    opt = CourseFactory(code="OPT-1", title="Optional selling", course_type="sales", validity_months=None)
    TierRequirementFactory(course=prod, tier=gold, certified_people=2)
    TierRequirementFactory(course=cls, tier=gold, certified_people=1)
    TierRequirementFactory(course=prod, tier=silver, certified_people=1)
    alpha = PartnerFactory(code="ALPHA", name="Alpha Trading", region=beijing, tier=gold)
    beta = PartnerFactory(code="BETA", name="Beta Trading", region=tianjin, tier=silver)
    gamma = PartnerFactory(code="GAMMA", name="Gamma Trading", region=guangdong, tier=gold)
    delta = PartnerFactory(
        code="DELTA", name="Delta Distribution", region=guangdong, partner_type=PartnerType.DISTRIBUTOR
    )
    passed(alpha, prod, 100)
    passed(alpha, prod, 10)
    TrainingRecordFactory(contact=person(alpha), course=cls)
    TrainingRecordFactory(contact=person(alpha), course=cls, failed=True, completed_on=TODAY - timedelta(days=5))
    passed(beta, prod, 800, status=RecordStatus.EXPIRED)
    TrainingRecordFactory(contact=person(beta), course=prod, status=RecordStatus.WITHDRAWN)
    passed(gamma, cls, 20)
    TrainingRecordFactory(contact=person(gamma), course=prod)
    passed(delta, opt, 400)
    return {
        "china": china,
        "north": north,
        "beijing": beijing,
        "tianjin": tianjin,
        "south": south,
        "guangdong": guangdong,
        "gold": gold,
        "silver": silver,
        "sensors": sensors,
        "prod": prod,
        "cls": cls,
        "opt": opt,
        "alpha": alpha,
        "beta": beta,
        "gamma": gamma,
        "delta": delta,
    }


@pytest.fixture
def admin_client(client, channel):
    client.force_login(ChannelAdminFactory(username="reports-admin"))
    return client


def grid(response):
    """{partner code: {course code: (certified, required, in training, expired, state)}}."""
    courses = [course.code for course in response.context["courses"]]
    result = {}
    for row in response.context["rows"]:
        cells = {}
        for code, cell in zip(courses, row["cells"], strict=True):
            state = "none" if not cell.required else ("missing" if cell.missing else "met")
            cells[code] = (cell.certified, cell.required, cell.in_progress, cell.expired, state)
        result[row["partner"].code] = cells
    return result


# The matrix -------------------------------------------------------------------------------------


def test_the_matrix_counts_certified_people_against_tier_requirements(admin_client, channel):
    response = admin_client.get(MATRIX)
    assert [course.code for course in response.context["courses"]] == ["CLS-201", "PROD-101"]  # only required ones
    assert grid(response) == {
        "ALPHA": {"CLS-201": (0, 1, 1, 0, "missing"), "PROD-101": (2, 2, 0, 0, "met")},
        "BETA": {"CLS-201": (0, None, 0, 0, "none"), "PROD-101": (0, 1, 0, 1, "missing")},
        "DELTA": {"CLS-201": (0, None, 0, 0, "none"), "PROD-101": (0, None, 0, 0, "none")},
        "GAMMA": {"CLS-201": (1, 1, 0, 0, "met"), "PROD-101": (0, 2, 1, 0, "missing")},
    }
    page = html(response)
    assert page.count('data-state="met"') == 2 and page.count('data-state="missing"') == 3
    assert "Alpha Trading" in page and "Sensor fundamentals" in page and "Optional selling" not in page


@pytest.mark.parametrize(
    ("query", "partners", "courses"),
    [
        ("region=__north__", ["ALPHA", "BETA"], ["CLS-201", "PROD-101"]),
        ("region=__guangdong__", ["DELTA", "GAMMA"], ["CLS-201", "PROD-101"]),
        ("tier=__gold__", ["ALPHA", "GAMMA"], ["CLS-201", "PROD-101"]),
        ("partner_type=distributor", ["DELTA"], ["CLS-201", "PROD-101"]),
        ("product_line=__sensors__", ["ALPHA", "BETA", "DELTA", "GAMMA"], ["PROD-101"]),
        ("course_type=technical", ["ALPHA", "BETA", "DELTA", "GAMMA"], ["CLS-201"]),
        ("all_courses=on", ["ALPHA", "BETA", "DELTA", "GAMMA"], ["CLS-201", "OPT-1", "PROD-101"]),
        ("all_courses=on&course_type=sales&partner_type=distributor", ["DELTA"], ["OPT-1"]),
    ],
)
def test_the_matrix_filters(admin_client, channel, query, partners, courses):
    for key in ("north", "guangdong", "gold", "sensors"):
        query = query.replace(f"__{key}__", str(channel[key].pk))
    response = admin_client.get(f"{MATRIX}?{query}")
    assert sorted(grid(response)) == partners
    assert [course.code for course in response.context["courses"]] == courses


def test_the_matrix_shows_every_course_when_asked(admin_client, channel):
    response = admin_client.get(f"{MATRIX}?all_courses=on&partner_type=distributor")
    assert grid(response)["DELTA"]["OPT-1"] == (1, None, 0, 0, "none")


def test_a_bad_matrix_filter_shows_its_error_and_lists_nothing(admin_client, channel):
    response = admin_client.get(f"{MATRIX}?region=999999")
    assert response.context["rows"] == []
    assert "Select a valid choice" in html(response)


def test_the_matrix_is_paginated(admin_client, channel):
    region = RegionFactory(code="MANY")
    for n in range(30):
        PartnerFactory(code=f"MANY-{n:02d}", name=f"Many {n:02d}", region=region)
    first = admin_client.get(f"{MATRIX}?region={region.pk}")
    assert len(first.context["rows"]) == 25 and first.context["page_obj"].paginator.count == 30
    second = admin_client.get(f"{MATRIX}?region={region.pk}&page=2")
    assert [row["partner"].code for row in second.context["rows"]] == [f"MANY-{n}" for n in range(25, 30)]


# The region completion report ---------------------------------------------------------------------

# (enrolled, in training, passed, failed, withdrawn, rate)
EXPECTED_REGIONS = {
    "CN": (9, 2, 5, 1, 1, Decimal("71.4")),
    "NORTH": (6, 1, 3, 1, 1, Decimal("60.0")),
    "BJ": (4, 1, 2, 1, 0, Decimal("66.7")),
    "TJ": (2, 0, 1, 0, 1, Decimal("50.0")),
    "SOUTH": (3, 1, 2, 0, 0, Decimal("100.0")),
    "GD": (3, 1, 2, 0, 0, Decimal("100.0")),
}


def figures(row):
    return (row["enrolled"], row["open"], row["passed"], row["failed"], row["withdrawn"], row["rate"])


def test_the_report_counts_every_region_with_its_subtree(admin_client, channel):
    response = admin_client.get(REPORT)
    rows = response.context["report"]["regions"]
    assert [row["code"] for row in rows] == ["CN", "NORTH", "BJ", "TJ", "SOUTH", "GD"]
    assert {row["code"]: figures(row) for row in rows} == EXPECTED_REGIONS
    page = html(response)
    assert "71.4%" in page and "66.7%" in page and "Completion rate = passed ÷ (passed + failed + withdrawn" in page


def test_the_report_drills_into_a_region(admin_client, channel):
    response = admin_client.get(f"{REPORT}?region={channel['north'].pk}")
    report = response.context["report"]
    assert figures(report["total"]) == EXPECTED_REGIONS["NORTH"]
    assert {row["code"]: figures(row) for row in report["regions"]} == {
        "BJ": EXPECTED_REGIONS["BJ"],
        "TJ": EXPECTED_REGIONS["TJ"],
    }
    assert {row["code"]: figures(row) for row in report["partners"]} == {
        "ALPHA": (4, 1, 2, 1, 0, Decimal("66.7")),
        "BETA": (2, 0, 1, 0, 1, Decimal("50.0")),
    }
    page = html(response)
    assert "Training completion in North" in page and "All regions" in page and "Alpha Trading" in page
    assert channel["alpha"].get_absolute_url() in page


def test_the_report_counts_only_attempts_in_the_date_range(admin_client, channel):
    since = (TODAY - timedelta(days=30)).isoformat()
    response = admin_client.get(f"{REPORT}?region={channel['china'].pk}&since={since}&until={TODAY.isoformat()}")
    report = response.context["report"]
    assert {row["code"]: figures(row) for row in report["partners"]} == {
        "ALPHA": (3, 1, 1, 1, 0, Decimal("50.0")),
        "BETA": (1, 0, 0, 0, 1, Decimal("0.0")),
        "GAMMA": (2, 1, 1, 0, 0, Decimal("100.0")),
    }
    before = (TODAY - timedelta(days=1000)).isoformat()
    response = admin_client.get(f"{REPORT}?until={before}")
    assert all(row["enrolled"] == 0 and row["rate"] is None for row in response.context["report"]["regions"])


def test_a_backwards_date_range_is_refused_on_its_field(admin_client, channel):
    response = admin_client.get(f"{REPORT}?since=2026-05-01&until=2026-04-01")
    assert response.context["report"] is None
    assert "The end of the range must not be before its start." in html(response)
    response = admin_client.get(f"{REPORT}?since=yesterday")
    assert "Enter a valid date." in html(response)


def test_the_report_as_csv(admin_client, channel):
    response = admin_client.get(f"{REPORT}?export=csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [row["Region code"] for row in rows] == ["CN", "NORTH", "BJ", "TJ", "SOUTH", "GD"]
    north = rows[1]
    assert (north["Region"], north["Parent region"], north["Level"]) == ("North", "China", "2")
    assert (north["Enrolled"], north["Passed"], north["Failed"], north["Withdrawn"]) == ("6", "3", "1", "1")
    assert north["Completion rate %"] == "60.0"
    partners = list(
        csv.DictReader(
            io.StringIO(
                admin_client.get(f"{REPORT}?export=csv&region={channel['south'].pk}").content.decode("utf-8-sig")
            )
        )
    )
    assert [(row["Partner code"], row["Region"], row["Completion rate %"]) for row in partners] == [
        ("DELTA", "Guangdong", "100.0"),
        ("GAMMA", "Guangdong", "100.0"),
    ]


def test_the_report_as_excel_has_numbers_a_header_and_a_named_sheet(admin_client, channel):
    response = admin_client.get(f"{REPORT}?export=xlsx&region={channel['north'].pk}")
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert 'filename="training-completion-north-' in response["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(response.content))
    sheet = workbook.active
    assert sheet.title == "Training completion"
    header = [cell.value for cell in sheet[1]]
    assert header == [
        "Partner",
        "Partner code",
        "Region",
        "Enrolled",
        "In training",
        "Overdue",
        "Passed",
        "Failed",
        "Withdrawn",
        "Completion rate %",
    ]
    assert all(cell.font.bold for cell in sheet[1])
    rows = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=2)]
    assert rows == [
        ["Alpha Trading", "ALPHA", "Beijing", 4, 1, 0, 2, 1, 0, pytest.approx(66.7)],
        ["Beta Trading", "BETA", "Tianjin", 2, 0, 0, 1, 0, 1, pytest.approx(50.0)],
    ]
    for row in sheet.iter_rows(min_row=2):
        assert all(cell.data_type == "n" for cell in row[3:])
    assert sheet.freeze_panes == "A2"


def test_the_excel_report_of_every_region_in_chinese(client, channel):
    admin = ChannelAdminFactory(username="zh-reports", preferred_language="zh-hans")
    client.force_login(admin)
    response = client.get(f"{REPORT}?export=xlsx")
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet.max_row == 7  # the header and six regions
    assert [cell.value for cell in sheet["B"]][1:] == ["CN", "NORTH", "BJ", "TJ", "SOUTH", "GD"]
    assert sheet["K2"].value == pytest.approx(71.4) and sheet["E2"].value == 9


def test_analysts_read_and_export_partner_users_are_refused(client, channel):
    client.force_login(AnalystFactory())
    for url in (MATRIX, REPORT, f"{REPORT}?export=csv", f"{REPORT}?export=xlsx"):
        assert client.get(url).status_code == 200, url
    client.force_login(PartnerUserFactory(partner=channel["alpha"]))
    for url in (MATRIX, REPORT, f"{REPORT}?export=csv", f"{REPORT}?export=xlsx"):
        response = client.get(url)
        assert response.status_code == 403 and "Beta Trading" not in html(response)


def test_the_matrix_in_chinese(client, channel):
    client.force_login(ChannelAdminFactory(username="zh-matrix", preferred_language="zh-hans"))
    page = html(client.get(MATRIX))
    assert 'lang="zh-hans"' in page and "Alpha Trading" in page


# Query counts ---------------------------------------------------------------------------------

# The session and the user (2), roles (1), notifications (1), the region, tier and product line
# choices of the filter form (3), the count and the page of partners (2), the courses (1), and
# the matrix: certified, in training, lapsed and the tier requirements (4).
MATRIX_QUERIES = 14
# The session and the user (2), roles (1), notifications (1), the region choices (1), the counts
# by region and the regions (2); inside a region, the region itself (1), its ancestors (1) and
# its partners' counts and partners (2).
REPORT_QUERIES = 11


def build_network(size):
    root = RegionFactory(code="ROOT", kind=RegionKind.COUNTRY)
    tier = PartnerTierFactory()
    courses = [CourseFactory() for _ in range(size)]
    for course in courses:
        TierRequirementFactory(course=course, tier=tier, certified_people=2)
    for n in range(size):
        region = RegionFactory(parent=root)
        partner = PartnerFactory(region=region, tier=tier)
        course = courses[n]
        passed(partner, course, 10)
        passed(partner, course, 900, status=RecordStatus.EXPIRED)
        TrainingRecordFactory(contact=person(partner), course=courses[(n + 1) % size])
        TrainingRecordFactory(contact=person(partner), course=course, failed=True)
    return root


@pytest.mark.parametrize("size", [2, 20])
def test_the_matrix_takes_a_fixed_number_of_queries(client, django_assert_max_num_queries, size):
    build_network(size)
    client.force_login(ChannelAdminFactory())
    with django_assert_max_num_queries(MATRIX_QUERIES):
        response = client.get(MATRIX)
    assert len(response.context["rows"]) == size and len(response.context["courses"]) == size
    cells = [cell for row in response.context["rows"] for cell in row["cells"]]
    assert sum(cell.certified for cell in cells) == size and sum(cell.in_progress for cell in cells) == size
    assert sum(cell.expired for cell in cells) == size  # a lapsed pass of someone else each


@pytest.mark.parametrize("size", [2, 20])
def test_the_report_takes_a_fixed_number_of_queries(client, django_assert_max_num_queries, size):
    root = build_network(size)
    client.force_login(ChannelAdminFactory())
    with django_assert_max_num_queries(REPORT_QUERIES):
        response = client.get(REPORT)
    assert figures(response.context["report"]["regions"][0])[:5] == (4 * size, size, 2 * size, size, 0)
    with django_assert_max_num_queries(REPORT_QUERIES):
        response = client.get(f"{REPORT}?region={root.pk}")
    assert len(response.context["report"]["partners"]) == size
    with django_assert_max_num_queries(REPORT_QUERIES):
        response = client.get(f"{REPORT}?region={root.pk}&export=xlsx")
    assert load_workbook(io.BytesIO(response.content)).active.max_row == size + 1
