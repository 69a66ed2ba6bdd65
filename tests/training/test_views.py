"""The staff pages of training: the catalogue (filters, sorting, CSV) and the course editor with its
tier requirements, materials, sessions, a course's page with its enrolments and their actions,
enrolling people, results and certificates, the bulk import, the expiring certifications, the
partner 360° section and the home panel.

Every page: 200 for staff, the sign-in page for anonymous visitors, 403 for partner users.
Analysts read and export and change nothing; a channel manager enrols and records results only
for the people of partners they manage. Every change goes through the services: bad input shows
the reason on the field (or the page) and changes nothing."""

import csv
import io
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from partners.choices import RegionKind
from prm.models import AuditEntry
from tests.factories import (
    AnalystFactory,
    ChannelAdminFactory,
    ChannelManagerFactory,
    CourseFactory,
    CourseMaterialFactory,
    PartnerContactFactory,
    PartnerFactory,
    PartnerTierFactory,
    PartnerUserFactory,
    ProductLineFactory,
    RegionFactory,
    StaffFactory,
    TierRequirementFactory,
    TrainingRecordFactory,
)
from tests.partners.registry import SIGN_IN_ACTIONS
from tests.training.builders import session as make_session
from training import services
from training.choices import RecordStatus
from training.models import Course, CourseMaterial, TierRequirement, TrainingRecord, TrainingSession

pytestmark = pytest.mark.django_db

NOT_STAFF_MESSAGE = "This page is for the vendor's channel team."
PORTAL_USER_MESSAGE = "This page is for vendor staff; your partner portal is here."
READ_ONLY_MESSAGE = "Your role can read training but not change it."
NOT_YOURS_MESSAGE = "You can change only the training records of partners you own or that are in your regions."
PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
TODAY = timezone.localdate()


def html(response):
    return response.content.decode().replace("&#x27;", "'").replace("&quot;", '"')


def messages_of(response):
    return [str(message) for message in response.context["messages"]]


def csv_rows(response):
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


def snapshot():
    """Every table a training page could write."""
    return {
        "courses": list(Course.objects.order_by("pk").values()),
        "requirements": list(TierRequirement.objects.order_by("pk").values()),
        "materials": list(CourseMaterial.objects.order_by("pk").values()),
        "sessions": list(TrainingSession.objects.order_by("pk").values()),
        "records": list(TrainingRecord.objects.order_by("pk").values()),
        # Signing in is recorded too (the security log); only changes to data count here.
        "history": AuditEntry.objects.exclude(action__in=SIGN_IN_ACTIONS).count(),
    }


def as_user(client, user):
    client.force_login(user)
    return client


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def world(db):
    """China → North → Beijing, China → South → Guangdong. "mine" (Beijing, Gold) is owned by the
    channel manager; "theirs" (Guangdong, Silver) by another manager.

    - PROD-101, online product course, pass mark 70, valid 24 months; Gold needs 2 certified
      people, Silver 1. Li Ming (mine) passed it; Zhao Lei (theirs) failed it.
    - CLS-201, classroom course, pass mark 60, valid 12 months, one session in 14 days for 2
      people: Wang Fang (mine) is enrolled in it, Chen Jie (theirs) too."""
    admin = ChannelAdminFactory(username="tr-admin", display_name="Admin Ada")
    manager = ChannelManagerFactory(username="tr-manager", display_name="Manager Ma")
    other_manager = ChannelManagerFactory(username="tr-other", display_name="Other Ou")
    analyst = AnalystFactory(username="tr-analyst")
    china = RegionFactory(code="CN", name="China", kind=RegionKind.COUNTRY)
    north = RegionFactory(code="NORTH", name="North", kind=RegionKind.AREA, parent=china)
    beijing = RegionFactory(code="BJ", name="Beijing", parent=north)
    south = RegionFactory(code="SOUTH", name="South", kind=RegionKind.AREA, parent=china)
    guangdong = RegionFactory(code="GD", name="Guangdong", parent=south)
    gold = PartnerTierFactory(name="Gold", rank=3)
    silver = PartnerTierFactory(name="Silver", rank=2)
    sensors = ProductLineFactory(code="SENS", name="Industrial sensors")
    mine = PartnerFactory(code="P-MINE", name="Mine Trading", region=beijing, owner=manager, tier=gold)
    theirs = PartnerFactory(code="P-THEIRS", name="Theirs Trading", region=guangdong, owner=other_manager, tier=silver)
    li = PartnerContactFactory(partner=mine, name="Li Ming", email="li.ming@mine.example")
    wang = PartnerContactFactory(partner=mine, name="Wang Fang", email="wang.fang@mine.example")
    zhao = PartnerContactFactory(partner=theirs, name="Zhao Lei", email="zhao.lei@theirs.example")
    chen = PartnerContactFactory(partner=theirs, name="Chen Jie", email="chen.jie@theirs.example")
    online = CourseFactory(
        code="PROD-101",
        title="Sensor fundamentals",
        product_line=sensors,
        pass_mark=Decimal("70"),
        validity_months=24,
    )
    classroom = CourseFactory(
        code="CLS-201",
        title="Installation workshop",
        course_type="technical",
        delivery="classroom",
        level="advanced",
        pass_mark=Decimal("60"),
        validity_months=12,
    )
    TierRequirementFactory(course=online, tier=gold, certified_people=2)
    TierRequirementFactory(course=online, tier=silver, certified_people=1)
    session = make_session(course=classroom, days=14, capacity=2, location="Beijing training centre")
    passed = TrainingRecordFactory(contact=li, course=online, passed=True, score=Decimal("90"))
    failed = TrainingRecordFactory(contact=zhao, course=online, failed=True)
    enrolled = TrainingRecordFactory(contact=wang, course=classroom, session=session)
    theirs_enrolled = TrainingRecordFactory(contact=chen, course=classroom, session=session)
    return {
        "admin": admin,
        "manager": manager,
        "other_manager": other_manager,
        "analyst": analyst,
        "china": china,
        "north": north,
        "beijing": beijing,
        "south": south,
        "guangdong": guangdong,
        "gold": gold,
        "silver": silver,
        "sensors": sensors,
        "mine": mine,
        "theirs": theirs,
        "li": li,
        "wang": wang,
        "zhao": zhao,
        "chen": chen,
        "online": online,
        "classroom": classroom,
        "session": session,
        "passed": passed,
        "failed": failed,
        "enrolled": enrolled,
        "theirs_enrolled": theirs_enrolled,
    }


@pytest.fixture
def material(world):
    return services.material_add(
        course=world["online"],
        by=world["admin"],
        title="Sensor handbook",
        kind="file",
        file=SimpleUploadedFile("handbook.pdf", PDF, content_type="application/pdf"),
        min_tier=world["gold"],
    )


@pytest.fixture
def admin_client(client, world):
    return as_user(client, world["admin"])


@pytest.fixture
def manager_client(client, world):
    return as_user(client, world["manager"])


# Every page: staff, anonymous, partner users -------------------------------------------------

GET_PAGES = [
    ("training:course-list", None),
    ("training:course-create", None),
    ("training:course-detail", "online"),
    ("training:course-detail", "classroom"),
    ("training:course-edit", "online"),
    ("training:material-add", "online"),
    ("training:session-list", "classroom"),
    ("training:session-list", "online"),
    ("training:session-create", "classroom"),
    ("training:session-edit", "session"),
    ("training:enrol", "classroom"),
    ("training:record-result", "enrolled"),
    ("training:import", None),
    ("training:matrix", None),
    ("training:completion-report", None),
    ("training:expiring", None),
]
DOWNLOADS = [
    ("training:material-download", "material"),
    ("training:certificate", "passed"),
    ("training:import-template", None),
]
POST_ONLY = [
    ("training:material-delete", "material"),
    ("training:session-cancel", "session"),
    ("training:record-start", "enrolled"),
    ("training:record-withdraw", "enrolled"),
]


def page_url(name, key, objects):
    return reverse(name, args=[objects[key].pk]) if key else reverse(name)


@pytest.fixture
def objects(world, material):
    return {**world, "material": material}


@pytest.mark.parametrize(("name", "key"), GET_PAGES)
def test_every_page_renders_for_staff(admin_client, objects, name, key):
    response = admin_client.get(page_url(name, key, objects))
    assert response.status_code == 200
    assert "Sign out" in html(response)


@pytest.mark.parametrize(("name", "key"), DOWNLOADS)
def test_every_download_answers_staff_with_a_file(admin_client, objects, name, key):
    response = admin_client.get(page_url(name, key, objects))
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]


@pytest.mark.parametrize(("name", "key"), [*GET_PAGES, *DOWNLOADS, *POST_ONLY])
def test_every_page_sends_anonymous_visitors_to_sign_in(client, objects, name, key):
    url = page_url(name, key, objects)
    before = snapshot()
    for response in (client.get(url), client.post(url, {"title": "x"})):
        assert response.status_code == 302
        assert response["Location"] == f"{reverse('login')}?next={url}"
    assert snapshot() == before


@pytest.mark.parametrize(("name", "key"), [*GET_PAGES, *DOWNLOADS, *POST_ONLY])
def test_every_page_refuses_partner_users(client, objects, name, key):
    url = page_url(name, key, objects)
    partner_user, not_staff = PartnerUserFactory(partner=objects["mine"]), StaffFactory(is_staff=False)
    before = snapshot()
    as_user(client, partner_user)
    for response in (client.get(url), client.post(url, {"title": "x"})):
        assert response.status_code == 403
        assert PORTAL_USER_MESSAGE in html(response)
        assert "Sensor fundamentals" not in html(response)
    as_user(client, not_staff)
    assert NOT_STAFF_MESSAGE in html(client.get(url))
    assert snapshot() == before


@pytest.mark.parametrize(
    "name",
    ["training:course-detail", "training:course-edit", "training:session-list", "training:enrol"],
)
def test_unknown_courses_are_404(admin_client, world, name):
    assert admin_client.get(reverse(name, args=[999999])).status_code == 404


def test_post_only_actions_do_not_answer_get(admin_client, objects):
    before = snapshot()
    for name, key in POST_ONLY:
        assert admin_client.get(page_url(name, key, objects)).status_code == 405, name
    assert snapshot() == before


def test_the_nav_links_to_training_for_staff(admin_client, world):
    page = html(admin_client.get(reverse("home")))
    assert f'href="{reverse("training:course-list")}"' in page


# Analysts read and export; managers write only for their partners' people ------------------------


def test_analysts_read_every_page_without_action_buttons(client, objects):
    as_user(client, objects["analyst"])
    assert "New course" not in html(client.get(reverse("training:course-list")))
    for key in ("online", "classroom"):
        page = html(client.get(objects[key].get_absolute_url()))
        assert objects[key].title in page
        assert "Enrol people" not in page and "Add material" not in page and ">Edit<" not in page
        assert ">Withdraw<" not in page and ">Result<" not in page
    assert "New session" not in html(client.get(reverse("training:session-list", args=[objects["classroom"].pk])))
    assert "Import results" not in html(client.get(reverse("training:matrix")))


def test_analysts_export_but_are_refused_every_form_and_action(client, objects):
    as_user(client, objects["analyst"])
    assert len(csv_rows(client.get(reverse("training:course-list") + "?export=csv"))) == 2
    assert len(csv_rows(client.get(objects["online"].get_absolute_url() + "?export=csv"))) == 2
    assert client.get(reverse("training:completion-report") + "?export=xlsx").status_code == 200
    assert client.get(reverse("training:certificate", args=[objects["passed"].pk])).status_code == 200
    before = snapshot()
    forms = [
        ("training:course-create", None),
        ("training:course-edit", "online"),
        ("training:material-add", "online"),
        ("training:session-create", "classroom"),
        ("training:session-edit", "session"),
        ("training:enrol", "classroom"),
        ("training:record-result", "enrolled"),
        ("training:import", None),
    ]
    for name, key in forms:
        response = client.get(page_url(name, key, objects))
        assert response.status_code == 403, name
        assert READ_ONLY_MESSAGE in html(response)
    for name, key in [*POST_ONLY, *forms]:
        response = client.post(page_url(name, key, objects), {"title": "analyst", "status": "passed"})
        assert response.status_code == 403, name
    assert snapshot() == before


def test_a_manager_records_only_for_people_of_partners_they_manage(manager_client, objects):
    page = html(manager_client.get(objects["classroom"].get_absolute_url()))
    mine_row = page.split(f'data-record="{objects["enrolled"].pk}"')[1].split("</tr>")[0]
    theirs_row = page.split(f'data-record="{objects["theirs_enrolled"].pk}"')[1].split("</tr>")[0]
    assert "Withdraw" in mine_row and "Result" in mine_row and "Start" in mine_row
    assert "Withdraw" not in theirs_row and "Result" not in theirs_row
    before = snapshot()
    for name in ("training:record-start", "training:record-withdraw", "training:record-result"):
        response = manager_client.post(reverse(name, args=[objects["theirs_enrolled"].pk]), {"status": "passed"})
        assert response.status_code == 403, name
        assert NOT_YOURS_MESSAGE in html(response) or "withdraw" in html(response)
    # The enrolment page offers only the manager's partners; another partner's code is refused.
    enrol_url = reverse("training:enrol", args=[objects["classroom"].pk])
    page = html(manager_client.get(enrol_url))
    assert '<option value="P-MINE">' in page and "P-THEIRS" not in page
    response = manager_client.get(f"{enrol_url}?partner=P-THEIRS")
    assert "No partner you may enrol people for has the code “P-THEIRS”." in html(response)
    assert "Chen Jie" not in html(response)
    response = manager_client.post(
        f"{enrol_url}?partner=P-THEIRS",
        {"contacts": [objects["zhao"].pk], "session": objects["session"].pk},
    )
    assert "Zhao Lei" not in html(response)
    assert snapshot() == before


def test_a_manager_changes_the_catalogue(manager_client, world):
    response = manager_client.post(
        reverse("training:session-create", args=[world["classroom"].pk]),
        {"starts_at": "2099-05-04T09:00", "ends_at": "2099-05-04T17:00", "location": "Xi'an", "capacity": "12"},
    )
    assert response.status_code == 302
    assert world["classroom"].sessions.filter(location="Xi'an", capacity=12).exists()


# The catalogue --------------------------------------------------------------------------------

LIST = "/training/"


def listed(response):
    return [course.code for course in response.context["object_list"]]


def test_the_catalogue_lists_courses_with_their_figures(admin_client, world):
    response = admin_client.get(LIST)
    assert listed(response) == ["CLS-201", "PROD-101"]
    page = html(response)
    for text in ["Sensor fundamentals", "Installation workshop", "Classroom", "Online", "Industrial sensors",
                 "Advanced", "24 months", "12 months", "Technical / after-sales"]:  # fmt: skip
        assert text in page, text
    online = next(c for c in response.context["object_list"] if c.code == "PROD-101")
    classroom = next(c for c in response.context["object_list"] if c.code == "CLS-201")
    assert (online.tier_count, online.open_count, online.certified_count) == (2, 0, 1)
    assert (classroom.tier_count, classroom.open_count, classroom.certified_count) == (0, 2, 0)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("type=technical", ["CLS-201"]),
        ("type=product", ["OLD-1", "PROD-101"]),
        ("delivery=online", ["OLD-1", "PROD-101"]),
        ("delivery=classroom", ["CLS-201"]),
        ("level=advanced", ["CLS-201"]),
        ("product_line=__sensors__", ["PROD-101"]),
        ("is_active=false", ["OLD-1"]),
        ("is_active=true", ["CLS-201", "PROD-101"]),
        ("search=workshop", ["CLS-201"]),
        ("search=prod-1", ["PROD-101"]),
        ("required_by_tier=__gold__", ["PROD-101"]),
    ],
)
def test_the_catalogue_filters(admin_client, world, query, expected):
    CourseFactory(code="OLD-1", title="Retired course", is_active=False)
    for key in ("sensors", "gold"):
        query = query.replace(f"__{key}__", str(world[key].pk))
    assert listed(admin_client.get(f"{LIST}?{query}")) == expected


def test_the_catalogue_sorts_and_shows_filter_errors(admin_client, world):
    assert listed(admin_client.get(f"{LIST}?sort=-pass_mark")) == ["PROD-101", "CLS-201"]
    assert listed(admin_client.get(f"{LIST}?sort=certified")) == ["CLS-201", "PROD-101"]
    response = admin_client.get(f"{LIST}?delivery=teleport")
    assert listed(response) == []
    assert "Select a valid choice" in html(response)


def test_the_catalogue_exports_csv(admin_client, world):
    rows = csv_rows(admin_client.get(f"{LIST}?export=csv&delivery=online"))
    assert rows == [
        {
            "Code": "PROD-101",
            "Title": "Sensor fundamentals",
            "Type": "Product",
            "Delivery": "Online",
            "Level": "Basic",
            "Product line": "Industrial sensors",
            "Duration (hours)": "4.0",
            "Pass mark": "70.00",
            "Validity (months)": "24",
            "Required by tiers": "2",
            "Enrolled or in progress": "0",
            "Certified people": "1",
            "Active": "Yes",
        }
    ]


# The course editor ------------------------------------------------------------------------------


def course_post(**changes):
    data = {
        "code": "net-301",
        "title": "Networking for installers",
        "course_type": "technical",
        "product_line": "",
        "level": "intermediate",
        "delivery": "webinar",
        "duration_hours": "6",
        "pass_mark": "75",
        "validity_months": "36",
        "description": "Cabling, switches and commissioning.",
        "is_active": "on",
        "requirements-TOTAL_FORMS": "2",
        "requirements-INITIAL_FORMS": "0",
        "requirements-0-tier": "",
        "requirements-0-certified_people": "",
        "requirements-1-tier": "",
        "requirements-1-certified_people": "",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def test_create_a_course_with_tier_requirements(manager_client, world):
    response = manager_client.post(
        reverse("training:course-create"),
        course_post(**{
            "requirements-0-tier": world["gold"].pk, "requirements-0-certified_people": "3",
            "requirements-1-tier": world["silver"].pk, "requirements-1-certified_people": "1",
        }),
    )  # fmt: skip
    course = Course.objects.get(code="NET-301")
    assert response.status_code == 302 and response["Location"] == course.get_absolute_url()
    assert (course.title, course.delivery, course.pass_mark, course.validity_months) == (
        "Networking for installers",
        "webinar",
        Decimal("75"),
        36,
    )
    assert sorted(course.requirements.values_list("tier__name", "certified_people")) == [("Gold", 3), ("Silver", 1)]
    page = html(manager_client.get(course.get_absolute_url()))
    assert "Course NET-301 saved." in page and "3 certified people" in page and "1 certified person" in page


def test_edit_a_course_changes_removes_and_adds_requirements(admin_client, world):
    course = world["online"]
    gold, silver = world["gold"], world["silver"]
    edit = reverse("training:course-edit", args=[course.pk])
    form = admin_client.get(edit).context["form"]
    assert form.initial["code"] == "PROD-101" and form.initial["pass_mark"] == Decimal("70")
    bronze = PartnerTierFactory(name="Bronze", rank=1)
    data = course_post(code="PROD-101", title="Sensor fundamentals v2", delivery="online", **{
        "requirements-TOTAL_FORMS": "3", "requirements-INITIAL_FORMS": "2",
        "requirements-0-tier": silver.pk, "requirements-0-certified_people": "1", "requirements-0-DELETE": "on",
        "requirements-1-tier": gold.pk, "requirements-1-certified_people": "4",
        "requirements-2-tier": bronze.pk, "requirements-2-certified_people": "1",
    })  # fmt: skip
    assert admin_client.post(edit, data).status_code == 302
    course.refresh_from_db()
    assert course.title == "Sensor fundamentals v2"
    assert sorted(course.requirements.values_list("tier__name", "certified_people")) == [("Bronze", 1), ("Gold", 4)]


@pytest.mark.parametrize(
    ("changes", "field", "text"),
    [
        ({"title": ""}, "title", "This field is required."),
        ({"pass_mark": "101"}, "pass_mark", "Ensure this value is less than or equal to 100."),
        ({"validity_months": "0"}, "validity_months", "Ensure this value is greater than or equal to 1."),
        ({"duration_hours": "abc"}, "duration_hours", "Enter a number."),
        ({"delivery": "teleport"}, "delivery", "Select a valid choice."),
        ({"code": "bad code!"}, "code", "Use letters, digits"),
        ({"code": "cls-201"}, "code", "Course with this Code already exists."),
        ({"requirements-0-tier": "__gold__"}, "requirements-0-certified_people", "Enter how many certified people"),
        ({"requirements-0-certified_people": "2"}, "requirements-0-tier", "Choose the tier that needs these people."),
        ({"requirements-0-tier": "__gold__", "requirements-0-certified_people": "0"}, "requirements-0-certified_people",
         "Ensure this value is greater than or equal to 1."),
    ],
)  # fmt: skip
def test_the_course_form_with_bad_input_shows_the_field_error_and_writes_nothing(
    manager_client, world, changes, field, text
):
    changes = {key: str(world["gold"].pk) if value == "__gold__" else value for key, value in changes.items()}
    before = snapshot()
    response = manager_client.post(reverse("training:course-create"), course_post(**changes))
    assert response.status_code == 200
    page = html(response)
    assert f'id="id_{field}_errors"' in page, page[page.find("invalid-feedback") - 300 :][:600]
    assert text in page
    assert snapshot() == before


def test_a_tier_listed_twice_is_refused(manager_client, world):
    gold = world["gold"].pk
    before = snapshot()
    response = manager_client.post(
        reverse("training:course-create"),
        course_post(**{
            "requirements-0-tier": gold, "requirements-0-certified_people": "1",
            "requirements-1-tier": gold, "requirements-1-certified_people": "2",
        }),
    )  # fmt: skip
    assert "Gold is listed twice; give each tier one requirement." in html(response)
    assert snapshot() == before


def test_a_refusal_of_the_service_lands_on_its_field_and_saves_nothing(admin_client, world):
    """Turning a course with upcoming sessions into an online course is refused by course_update;
    the requirement rows of the same form are rolled back too."""
    course = world["classroom"]
    before = snapshot()
    response = admin_client.post(
        reverse("training:course-edit", args=[course.pk]),
        course_post(code="CLS-201", delivery="online", **{
            "requirements-0-tier": world["gold"].pk, "requirements-0-certified_people": "1",
        }),
    )  # fmt: skip
    assert response.status_code == 200
    assert "The course has upcoming sessions; cancel them before making it an online course." in html(response)
    assert 'id="id_delivery_errors"' in html(response)
    assert snapshot() == before


# Materials -----------------------------------------------------------------------------------


def test_upload_download_and_delete_a_material(manager_client, world):
    course = world["online"]
    response = manager_client.post(
        reverse("training:material-add", args=[course.pk]),
        {"title": "Quick start", "kind": "file", "file": SimpleUploadedFile("quick-start.pdf", PDF), "min_tier": ""},
    )
    assert response.status_code == 302 and response["Location"].endswith("#materials")
    material = course.materials.get(title="Quick start")
    page = html(manager_client.get(course.get_absolute_url()))
    download = reverse("training:material-download", args=[material.pk])
    assert download in page and "Every partner" in page and "/media/" not in page
    response = manager_client.get(download)
    assert b"".join(response.streaming_content) == PDF
    assert 'filename="quick-start.pdf"' in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    manager_client.post(reverse("training:material-delete", args=[material.pk]))
    assert not course.materials.exists()


def test_add_a_link_visible_from_a_tier(manager_client, world):
    course = world["online"]
    manager_client.post(
        reverse("training:material-add", args=[course.pk]),
        {"title": "Video", "kind": "link", "url": "https://learning.example.com/v/1", "min_tier": world["gold"].pk},
    )
    material = course.materials.get()
    assert (material.url, material.min_tier) == ("https://learning.example.com/v/1", world["gold"])
    page = html(manager_client.get(course.get_absolute_url()))
    assert 'href="https://learning.example.com/v/1"' in page and "From tier Gold" in page
    # A link has no file to download.
    assert manager_client.get(reverse("training:material-download", args=[material.pk])).status_code == 404


@pytest.mark.parametrize(
    ("data", "field", "text"),
    [
        ({"kind": "file", "file": ("setup.exe", b"MZ\x90\x00")}, "file", "Upload a PDF, PNG, JPEG"),
        ({"kind": "file", "file": ("fake.pdf", b"MZ\x90\x00 not a pdf")}, "file", "The file's content is not a PDF"),
        ({"kind": "file"}, "file", "Choose the file to upload."),
        ({"kind": "link", "url": ""}, "url", "Enter the link."),
        ({"kind": "link", "url": "not a link"}, "url", "Enter a valid URL."),
        ({"kind": "file", "title": "", "file": ("a.pdf", PDF)}, "title", "This field is required."),
    ],
)
def test_a_bad_material_is_refused_on_its_field(manager_client, world, data, field, text):
    data = {"title": "Bad", **data}
    if "file" in data:
        name, content = data["file"]
        data["file"] = SimpleUploadedFile(name, content)
    before = snapshot()
    response = manager_client.post(reverse("training:material-add", args=[world["online"].pk]), data)
    assert response.status_code == 200
    assert f'id="id_{field}_errors"' in html(response)
    assert text in html(response)
    assert snapshot() == before


def test_a_material_whose_file_is_gone_is_404(admin_client, material):
    material.file.storage.delete(material.file.name)
    assert admin_client.get(reverse("training:material-download", args=[material.pk])).status_code == 404


# Sessions ------------------------------------------------------------------------------------


def test_the_session_list_shows_seats(admin_client, world):
    make_session(course=world["classroom"], days=30, capacity=10, location="Shanghai")
    response = admin_client.get(reverse("training:session-list", args=[world["classroom"].pk]))
    page = html(response)
    assert "Beijing training centre" in page and "Shanghai" in page
    seats = {s.location: (s.capacity, s.seats_taken, s.free_seats) for s in response.context["sessions"]}
    assert seats == {"Beijing training centre": (2, 2, 0), "Shanghai": (10, 0, 10)}
    assert "Full" in page


def test_an_online_course_has_no_sessions(admin_client, world):
    page = html(admin_client.get(reverse("training:session-list", args=[world["online"].pk])))
    assert "This course is delivered Online: people take it without a session." in page
    assert "New session" not in page


@pytest.mark.parametrize(
    ("data", "field", "text"),
    [
        ({"ends_at": "2099-05-04T08:00"}, "ends_at", "The session must end after it starts."),
        ({"starts_at": "tomorrow"}, "starts_at", "Enter a valid date/time."),
        ({"capacity": "0"}, "capacity", "Ensure this value is greater than or equal to 1."),
        ({"location": ""}, "location", "This field is required."),
    ],
)
def test_a_bad_session_is_refused_on_its_field(admin_client, world, data, field, text):
    base = {"starts_at": "2099-05-04T09:00", "ends_at": "2099-05-04T17:00", "location": "Xi'an", "capacity": "12"}
    before = snapshot()
    response = admin_client.post(reverse("training:session-create", args=[world["classroom"].pk]), {**base, **data})
    assert response.status_code == 200
    assert f'id="id_{field}_errors"' in html(response) and text in html(response)
    assert snapshot() == before


def test_edit_a_session_but_never_below_its_seats(admin_client, world):
    session = world["session"]
    url = reverse("training:session-edit", args=[session.pk])
    form = admin_client.get(url).context["form"]
    assert form.initial["capacity"] == 2 and form.initial["location"] == "Beijing training centre"
    data = {"starts_at": "2099-05-04T09:00", "ends_at": "2099-05-04T17:00", "location": "Room 5", "capacity": "1"}
    before = snapshot()
    response = admin_client.post(url, data)
    assert "2 people hold a seat in this session; the capacity cannot be lower." in html(response)
    assert 'id="id_capacity_errors"' in html(response)
    assert snapshot() == before
    assert admin_client.post(url, {**data, "capacity": "8"}).status_code == 302
    session.refresh_from_db()
    assert (session.location, session.capacity) == ("Room 5", 8)


def test_cancel_a_session_withdraws_its_enrolments(admin_client, world):
    response = admin_client.post(reverse("training:session-cancel", args=[world["session"].pk]), follow=True)
    assert "Session cancelled; the people enrolled were told." in messages_of(response)
    world["session"].refresh_from_db()
    assert world["session"].is_cancelled
    assert set(world["session"].records.values_list("status", flat=True)) == {RecordStatus.WITHDRAWN}
    page = html(response)
    assert "Cancelled" in page and "Cancel session" not in page
    again = admin_client.post(reverse("training:session-cancel", args=[world["session"].pk]), follow=True)
    assert any(message.startswith("Not cancelled:") for message in messages_of(again))
    assert admin_client.get(reverse("training:session-edit", args=[world["session"].pk])).status_code == 403


# Enrolling people ----------------------------------------------------------------------------


def test_enrol_a_partners_people_in_a_session(manager_client, world):
    course = world["classroom"]
    other = make_session(course=course, days=21, capacity=5, location="Tianjin")
    url = reverse("training:enrol", args=[course.pk])
    response = manager_client.get(f"{url}?partner=p-mine")
    page = html(response)
    assert "Li Ming" in page and "Wang Fang" in page and "Zhao Lei" not in page
    assert "Tianjin" in page and "0 of 2 seats free" in page and "5 of 5 seats free" in page
    response = manager_client.post(f"{url}?partner=p-mine", {"contacts": [world["li"].pk], "session": other.pk})
    assert response.status_code == 302 and response["Location"] == course.get_absolute_url()
    record = TrainingRecord.objects.get(contact=world["li"], course=course)
    assert (record.session, record.status, record.enrolled_by) == (other, RecordStatus.ENROLLED, world["manager"])
    assert "1 person enrolled in CLS-201." in messages_of(manager_client.get(course.get_absolute_url()))


def test_enrol_in_an_online_course_needs_no_session(admin_client, world):
    url = reverse("training:enrol", args=[world["online"].pk])
    response = admin_client.get(f"{url}?partner=P-MINE")
    assert "session" not in response.context["form"].fields
    admin_client.post(f"{url}?partner=P-MINE", {"contacts": [world["wang"].pk]})
    assert TrainingRecord.objects.filter(contact=world["wang"], course=world["online"], session=None).exists()


def test_enrolment_is_all_or_nothing_and_names_who_was_refused(manager_client, world):
    """The session is full: nobody is enrolled, and the refusal names the person."""
    course = world["classroom"]
    before = snapshot()
    response = manager_client.post(
        reverse("training:enrol", args=[course.pk]) + "?partner=P-MINE",
        {"contacts": [world["li"].pk], "session": world["session"].pk},
    )
    assert response.status_code == 200
    assert "Li Ming: The session is full (2 places)." in html(response)
    assert snapshot() == before
    # Wang Fang is already enrolled: Li Ming's enrolment is rolled back with hers.
    roomy = make_session(course=course, days=20, capacity=10)
    before = snapshot()
    response = manager_client.post(
        reverse("training:enrol", args=[course.pk]) + "?partner=P-MINE",
        {"contacts": [world["li"].pk, world["wang"].pk], "session": roomy.pk},
    )
    assert "Wang Fang: Wang Fang is already enrolled in Installation workshop." in html(response)
    assert snapshot() == before


@pytest.mark.parametrize(
    ("data", "text"),
    [({"session": "__session__"}, "Choose at least one person."), ({"contacts": ["__li__"]}, "Choose the session.")],
)
def test_the_enrol_form_with_missing_input(manager_client, world, data, text):
    data = {key: (value if not isinstance(value, list) else [world["li"].pk]) for key, value in data.items()}
    if data.get("session") == "__session__":
        data["session"] = world["session"].pk
    before = snapshot()
    response = manager_client.post(reverse("training:enrol", args=[world["classroom"].pk]) + "?partner=P-MINE", data)
    assert text in html(response)
    assert snapshot() == before


def test_an_unknown_partner_code_is_refused_on_its_field(admin_client, world):
    response = admin_client.get(reverse("training:enrol", args=[world["online"].pk]) + "?partner=NOPE")
    assert 'id="id_partner_errors"' in html(response)
    assert response.context["form"] is None


# Results and certificates ---------------------------------------------------------------------


def test_start_then_withdraw_from_the_course_page(manager_client, world):
    record = world["enrolled"]
    response = manager_client.post(reverse("training:record-start", args=[record.pk]), follow=True)
    assert "Wang Fang is in progress." in messages_of(response)
    record.refresh_from_db()
    assert record.status == RecordStatus.IN_PROGRESS
    response = manager_client.post(reverse("training:record-start", args=[record.pk]), follow=True)
    assert "Not started: A training record cannot go from In progress to In progress." in messages_of(response)
    response = manager_client.post(reverse("training:record-withdraw", args=[record.pk]), follow=True)
    assert "Wang Fang was withdrawn." in messages_of(response)
    record.refresh_from_db()
    assert record.status == RecordStatus.WITHDRAWN


def test_a_pass_below_the_pass_mark_is_refused_then_a_pass_gives_a_certificate(manager_client, world):
    record = TrainingRecordFactory(contact=world["wang"], course=world["online"])
    url = reverse("training:record-result", args=[record.pk])
    page = html(manager_client.get(url))
    assert "Result of Wang Fang" in page and "pass mark 70" in page
    before = snapshot()
    response = manager_client.post(url, {"status": "passed", "score": "65", "completed_on": TODAY.isoformat()})
    assert response.status_code == 200
    page = html(response)
    assert 'id="id_score_errors"' in page
    assert "65" in page and "70" in page and "pass mark" in page
    assert snapshot() == before
    response = manager_client.post(url, {"status": "passed", "score": "88.5", "completed_on": "2026-01-31"})
    assert response.status_code == 302 and response["Location"].endswith("#records")
    record.refresh_from_db()
    assert (record.status, record.score, record.expires_on) == (
        RecordStatus.PASSED,
        Decimal("88.5"),
        timezone.datetime(2028, 1, 31).date(),
    )
    page = html(manager_client.get(world["online"].get_absolute_url()))
    assert f"Wang Fang passed: certificate {record.certificate_number}." in page
    certificate = manager_client.get(reverse("training:certificate", args=[record.pk]))
    assert certificate["Content-Type"] == "application/pdf"
    assert certificate.content.startswith(b"%PDF")
    assert record.certificate_number in certificate["Content-Disposition"]


@pytest.mark.parametrize(
    ("data", "field", "text"),
    [
        ({"status": "failed", "score": "80"}, "score", "80"),
        ({"status": "passed", "score": ""}, "score", ""),
        ({"status": "passed", "score": "90", "completed_on": ""}, "completed_on", ""),
        ({"status": "passed", "score": "101"}, "score", "Ensure this value is less than or equal to 100."),
        ({"status": "expired", "score": "90"}, "status", "Select a valid choice."),
        ({"status": "passed", "score": "90", "completed_on": "31/01/2026"}, "completed_on", "Enter a valid date."),
    ],
)
def test_a_bad_result_is_refused_on_its_field(manager_client, world, data, field, text):
    data = {"completed_on": TODAY.isoformat(), **data}
    before = snapshot()
    response = manager_client.post(reverse("training:record-result", args=[world["enrolled"].pk]), data)
    assert response.status_code == 200
    page = html(response)
    assert f'id="id_{field}_errors"' in page or "alert-danger" in page
    assert text in page
    assert snapshot() == before


def test_a_finished_attempt_has_no_result_form_and_no_certificate_before_a_pass(admin_client, world):
    assert admin_client.get(reverse("training:record-result", args=[world["passed"].pk])).status_code == 403
    assert admin_client.get(reverse("training:certificate", args=[world["failed"].pk])).status_code == 404
    assert admin_client.get(reverse("training:certificate", args=[world["enrolled"].pk])).status_code == 404


def test_the_certificate_in_chinese(admin_client, world):
    admin = world["admin"]
    admin.preferred_language = "zh-hans"
    admin.save()
    response = admin_client.get(reverse("training:certificate", args=[world["passed"].pk]))
    assert response.status_code == 200 and response.content.startswith(b"%PDF")


# The course page ------------------------------------------------------------------------------


def test_the_course_page_shows_the_course_its_requirements_materials_and_enrolments(admin_client, world, material):
    response = admin_client.get(world["online"].get_absolute_url())
    page = html(response)
    for text in ["Sensor fundamentals", "PROD-101", "Industrial sensors", "24 months", "Gold", "Silver",
                 "2 certified people", "1 certified person", "Sensor handbook", "From tier Gold",
                 "Li Ming", "Mine Trading", "Zhao Lei", "Theirs Trading", "90", world["passed"].certificate_number,
                 "Passed", "Failed"]:  # fmt: skip
        assert text in page, text
    assert reverse("training:certificate", args=[world["passed"].pk]) in page
    assert reverse("training:certificate", args=[world["failed"].pk]) not in page


def test_the_classroom_course_page_shows_its_upcoming_sessions(admin_client, world):
    page = html(admin_client.get(world["classroom"].get_absolute_url()))
    assert "Upcoming sessions" in page and "Beijing training centre" in page and "2 / 2 seats" in page


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=passed", {"Li Ming"}),
        ("status=failed", {"Zhao Lei"}),
        ("q=zhao", {"Zhao Lei"}),
        ("q=p-mine", {"Li Ming"}),
        ("region=__north__", {"Li Ming"}),
        ("region=__south__", {"Zhao Lei"}),
        ("partner=__mine__", {"Li Ming"}),
        ("expiring_before=2099-01-01", {"Li Ming"}),
    ],
)
def test_the_enrolments_filter(admin_client, world, query, expected):
    for key in ("north", "south", "mine"):
        query = query.replace(f"__{key}__", str(world[key].pk))
    response = admin_client.get(f"{world['online'].get_absolute_url()}?{query}")
    assert {record.contact.name for record in response.context["object_list"]} == expected


def test_the_enrolments_filter_by_session_and_export(admin_client, world):
    course = world["classroom"]
    response = admin_client.get(f"{course.get_absolute_url()}?session={world['session'].pk}")
    assert {record.contact.name for record in response.context["object_list"]} == {"Wang Fang", "Chen Jie"}
    rows = csv_rows(admin_client.get(f"{world['online'].get_absolute_url()}?export=csv&status=passed"))
    assert len(rows) == 1
    row = rows[0]
    passed = world["passed"]
    assert (row["Person"], row["Partner code"], row["Status"], row["Score"]) == ("Li Ming", "P-MINE", "Passed", "90.00")
    assert row["Certification expires on"] == passed.expires_on.isoformat()
    assert row["Certificate number"] == passed.certificate_number


# Bulk import ----------------------------------------------------------------------------------

IMPORT = "/training/import/"


def upload(rows, name="results.csv"):
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return SimpleUploadedFile(name, buffer.getvalue().encode("utf-8"), content_type="text/csv")


HEADER = ["partner_code", "contact_email", "course_code", "session_starts", "status", "score", "completed_on"]


def test_the_template_has_the_import_columns(admin_client, world):
    response = admin_client.get(reverse("training:import-template"))
    header = response.content.decode("utf-8-sig").splitlines()[0]
    assert header == (
        "partner_code,contact_email,course_code,session_starts,status,score,completed_on,certificate_number"
    )


def test_a_file_with_bad_rows_lists_every_error_and_writes_nothing(admin_client, world):
    before = snapshot()
    response = admin_client.post(
        IMPORT,
        {"file": upload([
            HEADER,
            ["P-MINE", "li.ming@mine.example", "CLS-201", "", "passed", "80", "2026-13-45"],
            ["P-NOPE", "x@y.example", "PROD-101", "", "passed", "80", "2026-02-01"],
            ["P-MINE", "wang.fang@mine.example", "PROD-101", "", "passed", "50", "2026-02-01"],
        ])},
    )  # fmt: skip
    assert response.status_code == 200
    errors = response.context["report"].errors
    assert len(errors) >= 3
    rows = {row for row, _column, _message in errors}
    assert {2, 3, 4} <= rows
    page = html(response)
    table = page.split('data-testid="import-errors"')[1].split("</table>")[0]
    for row, column, message in errors:
        assert (
            f'<td class="text-end">{row}</td><td><code>{column}</code></td><td>{message}</td>'
            in table.replace("&#x27;", "'").replace("&quot;", '"')
            or str(message) in table
        )
    assert "Nothing was written." in page and ">Import</button>" not in page
    assert snapshot() == before


def test_a_clean_file_is_previewed_then_imported_and_a_second_import_changes_nothing(admin_client, world, settings):
    rows = [
        HEADER,
        ["P-MINE", "wang.fang@mine.example", "PROD-101", "", "passed", "80", "2026-02-01"],
        ["P-THEIRS", "chen.jie@theirs.example", "PROD-101", "", "enrolled", "", ""],
    ]
    before = snapshot()
    response = admin_client.post(IMPORT, {"file": upload(rows)})
    report = response.context["report"]
    assert (report.errors, report.total, report.created, report.updated, report.unchanged) == ([], 2, 2, 0, 0)
    page = html(response)
    assert "What importing results.csv would do" in page and ">Import</button>" in page
    assert snapshot() == before
    token = response.context["confirm_form"].initial["token"]
    response = admin_client.post(IMPORT, {"token": token}, follow=True)
    assert "Imported results.csv: 2 created, 0 updated, 0 unchanged." in messages_of(response)
    wang = TrainingRecord.objects.get(contact=world["wang"], course=world["online"])
    assert (wang.status, wang.score) == (RecordStatus.PASSED, Decimal("80"))
    assert TrainingRecord.objects.filter(contact=world["chen"], course=world["online"], status="enrolled").exists()
    # The kept file is gone; the token does not work twice.
    assert not list((Path(settings.MEDIA_ROOT) / "training-imports").glob("*"))
    response = admin_client.post(IMPORT, {"token": token}, follow=True)
    assert "That upload is no longer here: upload the file again." in messages_of(response)
    # The same file again: all unchanged.
    response = admin_client.post(IMPORT, {"file": upload(rows)})
    report = response.context["report"]
    assert (report.errors, report.created, report.updated, report.unchanged) == ([], 0, 0, 2)


def test_another_sessions_token_imports_nothing(client, admin_client, world):
    rows = [HEADER, ["P-MINE", "wang.fang@mine.example", "PROD-101", "", "passed", "80", "2026-02-01"]]
    token = admin_client.post(IMPORT, {"file": upload(rows)}).context["confirm_form"].initial["token"]
    other = ChannelAdminFactory(username="tr-other-admin")
    other_client = type(client)()
    as_user(other_client, other)
    before = snapshot()
    response = other_client.post(IMPORT, {"token": token}, follow=True)
    assert "That upload is no longer here: upload the file again." in messages_of(response)
    assert snapshot() == before


@pytest.mark.parametrize(
    ("name", "content", "text"),
    [
        ("results.txt", b"partner_code\n", "Upload a CSV (.csv) or Excel (.xlsx) file."),
        ("results.xlsx", b"not a zip", "The file's content is not a XLSX file."),
        ("results.csv", b"", "The submitted file is empty."),
    ],
)
def test_a_bad_file_is_refused_on_the_file_field(admin_client, world, name, content, text):
    before = snapshot()
    response = admin_client.post(IMPORT, {"file": SimpleUploadedFile(name, content)})
    assert 'id="id_file_errors"' in html(response) and text in html(response)
    assert response.context.get("report") is None
    assert snapshot() == before


def test_an_excel_file_is_imported_too(admin_client, world):
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.append(HEADER)
    workbook.active.append(["P-MINE", "wang.fang@mine.example", "PROD-101", None, "passed", 75, "2026-03-31"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = admin_client.post(IMPORT, {"file": SimpleUploadedFile("results.xlsx", buffer.getvalue())})
    assert response.context["report"].created == 1 and not response.context["report"].errors
    token = response.context["confirm_form"].initial["token"]
    admin_client.post(IMPORT, {"token": token})
    assert TrainingRecord.objects.get(contact=world["wang"], course=world["online"]).score == Decimal("75")


# Expiring certifications ------------------------------------------------------------------------


def test_the_expiring_list(admin_client, world):
    soon = TrainingRecordFactory(
        contact=world["wang"], course=world["online"], passed=True, expires_on=TODAY + timedelta(days=20)
    )
    later = TrainingRecordFactory(
        contact=world["chen"], course=world["online"], passed=True, expires_on=TODAY + timedelta(days=50)
    )
    response = admin_client.get(reverse("training:expiring"))
    assert list(response.context["page_obj"]) == [soon, later]
    page = html(response)
    assert "Certifications expiring within 60 days" in page and "20 days left" in page and "50 days left" in page
    assert list(admin_client.get(reverse("training:expiring") + "?within=30").context["page_obj"]) == [soon]
    region = f"?within=90&region={world['south'].pk}"
    assert list(admin_client.get(reverse("training:expiring") + region).context["page_obj"]) == [later]
    response = admin_client.get(reverse("training:expiring") + "?within=-3")
    assert list(response.context["page_obj"]) == [] and "greater than or equal to 0" in html(response)


# The partner 360° section and the home panel ------------------------------------------------------


def test_the_partner_page_shows_its_training(admin_client, world):
    response = admin_client.get(world["mine"].get_absolute_url())
    section = next(s for s in response.context["sections"] if s["template"] == "training/_partner_section.html")
    assert [
        (r["course"].code, r["required"], r["certified"], r["missing"], r["met"]) for r in section["requirements"]
    ] == [("PROD-101", 2, 1, 1, False)]
    assert [record.contact.name for record in section["certified"]] == ["Li Ming"]
    assert section["in_progress"] == 1
    page = html(response)
    block = page.split('id="training"')[1]
    assert "Requirements of tier Gold" in block and "Not met" in block and "Li Ming" in block
    assert world["passed"].certificate_number in block and "1 in training" in block
    assert reverse("training:matrix") in block


def test_the_partner_page_shows_a_met_requirement(admin_client, world):
    TrainingRecordFactory(contact=world["wang"], course=world["online"], passed=True)
    page = html(admin_client.get(world["mine"].get_absolute_url()))
    assert ">Met<" in page.split('id="training"')[1]


def test_the_home_page_shows_expiring_certifications_and_partners_missing_requirements(admin_client, world):
    for n in range(7):
        TrainingRecordFactory(
            contact=PartnerContactFactory(partner=world["mine"], name=f"Person {n}"),
            course=world["classroom"],
            passed=True,
            expires_on=TODAY + timedelta(days=10 + n),
        )
    response = admin_client.get("/")
    panel = next(p for p in response.context["panels"] if p["template"] == "training/_home_panel.html")
    assert panel["expiring_count"] == 7 and len(panel["expiring"]) == 5
    assert [record.contact.name for record in panel["expiring"]] == [f"Person {n}" for n in range(5)]
    # Mine (Gold) has 1 of 2 certified people, Theirs (Silver) 0 of 1.
    assert panel["missing_count"] == 2
    page = html(response)
    assert "Certifications expiring within 60 days" in page and "Partners missing tier training" in page


# Query counts ---------------------------------------------------------------------------------

# The session and the user (2), roles (1), notifications (1), the count and the page (2), and the
# product line and tier choices of the filter form (2).
LIST_PAGE_QUERIES = 8
# The session and the user (2), roles (1), notifications (1), the course (1), the count and the
# page of records (2), the region and session choices of the filter (2), a manager's regions (1),
# the course's requirements, materials and upcoming sessions (3), and the tiers of the material
# form (1).
COURSE_PAGE_QUERIES = 14


def build_catalogue(size, by):
    root = RegionFactory(code="ROOT", kind=RegionKind.COUNTRY)
    tier = PartnerTierFactory()
    for _n in range(size):
        course = CourseFactory(product_line=ProductLineFactory())
        TierRequirementFactory(course=course, tier=tier)
        partner = PartnerFactory(region=RegionFactory(parent=root), tier=tier)
        TrainingRecordFactory(contact=PartnerContactFactory(partner=partner), course=course, passed=True)
        TrainingRecordFactory(contact=PartnerContactFactory(partner=partner), course=course)


@pytest.mark.parametrize("size", [2, 30])
def test_the_catalogue_and_its_export_take_a_fixed_number_of_queries(client, django_assert_max_num_queries, size):
    admin = ChannelAdminFactory()
    build_catalogue(size, admin)
    as_user(client, admin)
    with django_assert_max_num_queries(LIST_PAGE_QUERIES):
        response = client.get(f"{LIST}?page_size=100")
    assert len(response.context["object_list"]) == size
    with django_assert_max_num_queries(4):
        rows = csv_rows(client.get(f"{LIST}?export=csv"))
    assert len(rows) == size and all(row["Certified people"] == "1" for row in rows)


@pytest.mark.parametrize("size", [2, 30])
def test_the_course_page_takes_a_fixed_number_of_queries(client, django_assert_max_num_queries, size):
    admin, manager = ChannelAdminFactory(), ChannelManagerFactory()
    root = RegionFactory(code="ROOT", kind=RegionKind.COUNTRY)
    course = CourseFactory(delivery="classroom")
    for n in range(size):
        partner = PartnerFactory(region=RegionFactory(parent=root), owner=manager if n % 2 else None)
        session = make_session(course=course, days=10 + n, capacity=5)
        TrainingRecordFactory(contact=PartnerContactFactory(partner=partner), course=course, session=session)
        TrainingRecordFactory(contact=PartnerContactFactory(partner=partner), course=course, passed=True)
        TierRequirementFactory(course=course, tier=PartnerTierFactory())
        CourseMaterialFactory(course=course)
    for user in (admin, manager):
        as_user(client, user)
        with django_assert_max_num_queries(COURSE_PAGE_QUERIES):
            response = client.get(f"{course.get_absolute_url()}?page_size=100")
        assert len(response.context["object_list"]) == 2 * size
        assert html(response).count("/certificate/") == size
    assert html(response).count(">Result</a>") == size // 2  # the manager's partners only


@pytest.mark.parametrize("size", [2, 20])
def test_the_partner_page_with_training_stays_within_its_query_count(client, django_assert_max_num_queries, size):
    from tests.partners.test_views import PARTNER_PAGE_QUERIES

    admin = ChannelAdminFactory()
    tier = PartnerTierFactory()
    partner = PartnerFactory(tier=tier)
    for _n in range(size):
        course = CourseFactory()
        TierRequirementFactory(course=course, tier=tier, certified_people=2)
        TrainingRecordFactory(contact=PartnerContactFactory(partner=partner), course=course, passed=True)
        TrainingRecordFactory(contact=PartnerContactFactory(partner=partner), course=course)
    as_user(client, admin)
    with django_assert_max_num_queries(PARTNER_PAGE_QUERIES):
        response = client.get(partner.get_absolute_url())
    section = next(s for s in response.context["sections"] if s["template"] == "training/_partner_section.html")
    assert len(section["requirements"]) == size and len(section["certified"]) == size
    assert section["in_progress"] == size
