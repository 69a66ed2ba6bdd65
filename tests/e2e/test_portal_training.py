"""A partner admin in a real browser: sees on the dashboard that a colleague's certification is
about to lapse and that the tier still misses a certified person, opens the training catalogue
from the portal's menu, enrols a colleague in a classroom session, downloads a colleague's
certificate from "Our certifications", and cannot reach another partner's certificate or a
material above the tier; on a phone the pages still read."""

import re
from datetime import datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.factories import (
    ClassroomCourseFactory,
    CourseFactory,
    CourseMaterialFactory,
    DistributorFactory,
    PartnerAdminUserFactory,
    PartnerContactFactory,
    PartnerTierFactory,
    RegionFactory,
    TrainingRecordFactory,
    TrainingSessionFactory,
)
from training.choices import RecordSource, RecordStatus
from training.models import TierRequirement, TrainingRecord

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "Portal-admin-2026"
FOREIGN = ("Ruida", "ruida.example")
PHONE = {"width": 390, "height": 844}


def moment(days, hour):
    return timezone.make_aware(datetime.combine(timezone.localdate() + timedelta(days=days), time(hour)))


@pytest.fixture
def training(roles):
    today = timezone.localdate()
    shanghai = RegionFactory(code="SH", name="Shanghai")
    silver = PartnerTierFactory(name="Silver", rank=2)
    gold = PartnerTierFactory(name="Gold", rank=3)
    own = DistributorFactory(code="D-EAST-1", name="Huaxin Distribution Co., Ltd.", region=shanghai, tier=silver)
    admin = PartnerAdminUserFactory(
        username="zhoumin", email="zhou.min@huaxin.example.cn", display_name="Zhou Min", password=PASSWORD, partner=own
    )
    li = PartnerContactFactory(partner=own, name="Li Na", email="li.na@huaxin.example.cn")
    PartnerContactFactory(partner=own, name="Chen Jie", email="chen.jie@huaxin.example.cn")
    basics = CourseFactory(
        code="SEN-101",
        title="Industrial sensor basics",
        pass_mark=Decimal("70"),
        validity_months=24,
        description="How our pressure and temperature sensors work, and how to choose one.",
    )
    TierRequirement.objects.create(course=basics, tier=silver, certified_people=2)
    CourseMaterialFactory(course=basics, title="Sensor handbook", url="https://learn.example.com/handbook")
    CourseMaterialFactory(course=basics, title="Gold partner pricing deck", min_tier=gold)
    installation = ClassroomCourseFactory(
        code="SEN-201", title="Sensor installation workshop", course_type="technical", level="intermediate"
    )
    session = TrainingSessionFactory(
        course=installation,
        starts_at=moment(10, 9),
        ends_at=moment(10, 17),
        location="Shanghai training centre, room 3",
        capacity=8,
    )
    certified = TrainingRecordFactory(
        contact=li, course=basics, passed=True, completed_on=today - timedelta(days=700), score=Decimal("91")
    )
    certified.expires_on = today + timedelta(days=25)
    certified.certificate_number = "TC-2024-000042"
    certified.save()
    foreign = DistributorFactory(code="D-SOUTH-1", name="Ruida Distribution Co., Ltd.", region=shanghai, tier=gold)
    foreign_record = TrainingRecordFactory(
        contact=PartnerContactFactory(partner=foreign, name="Ruida Engineer", email="eng@ruida.example"),
        course=basics,
        passed=True,
    )
    return {
        "admin": admin,
        "installation": installation,
        "session": session,
        "certified": certified,
        "foreign_record": foreign_record,
        "deck": basics.materials.get(title="Gold partner pricing deck"),
    }


def expect_nothing_foreign(page):
    body = page.locator("body")
    for marker in FOREIGN:
        expect(body).not_to_contain_text(marker)


def test_partner_admin_enrols_a_colleague_and_downloads_a_certificate(page, training, screenshot):
    page.goto("/")
    page.get_by_label("Username or email").fill("zhou.min@huaxin.example.cn")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/portal/$"))
    panel = page.locator("#training-panel")
    expect(panel).to_contain_text("Training and certifications")
    expect(panel).to_contain_text("Li Na")
    expect(panel).to_contain_text("25 days left")
    expect(panel).to_contain_text("Industrial sensor basics")
    expect_nothing_foreign(page)
    screenshot(step="dashboard")

    page.locator("nav.navbar").get_by_role("link", name="Training").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Training catalogue")
    expect(page.locator("#courses")).to_contain_text("Your tier requires 2 certified people.")
    screenshot(step="catalogue")
    page.get_by_role("link", name="Industrial sensor basics").click()
    expect(page.locator("#materials")).to_contain_text("Sensor handbook")
    expect(page.locator("#materials")).not_to_contain_text("Gold partner pricing deck")
    handbook = page.locator("#materials").get_by_role("link", name="Open")
    expect(handbook).to_have_attribute("target", "_blank")
    screenshot(step="course")
    # A material above the tier is not found, even by its address.
    assert page.request.get(f"/portal/training/materials/{training['deck'].pk}/", max_redirects=0).status == 404

    page.get_by_role("link", name="Training catalogue").click()
    page.get_by_role("link", name="Sensor installation workshop").click()
    sessions = page.locator("#sessions")
    expect(sessions).to_contain_text("Shanghai training centre, room 3")
    expect(sessions).to_contain_text("8 seats free")
    sessions.get_by_role("link", name="Enrol").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Enrol in Sensor installation workshop")
    expect(page.get_by_label("Person")).not_to_contain_text("Ruida")
    page.get_by_label("Person").select_option(label="Chen Jie")
    expect(page.get_by_label("Session")).to_have_value(str(training["session"].pk))
    screenshot(step="enrol")
    page.get_by_role("button", name="Enrol").click()
    expect(page.get_by_role("alert").first).to_contain_text("Chen Jie is enrolled in Sensor installation workshop.")
    expect(page.locator("#sessions")).to_contain_text("7 seats free")
    expect(page.locator("#our-people")).to_contain_text("Chen Jie")
    screenshot(step="enrolled")
    record = TrainingRecord.objects.get(contact__name="Chen Jie")
    assert record.session == training["session"] and record.status == RecordStatus.ENROLLED
    assert record.source == RecordSource.PORTAL and record.enrolled_by == training["admin"]

    # Enrolling the same person again is refused with the reason, on the form.
    page.goto(f"/portal/training/courses/{training['installation'].pk}/enrol/?session={training['session'].pk}")
    page.get_by_label("Person").select_option(label="Chen Jie")
    page.get_by_role("button", name="Enrol").click()
    expect(page.locator("main")).to_contain_text("Chen Jie is already enrolled in Sensor installation workshop.")
    assert TrainingRecord.objects.filter(contact__name="Chen Jie").count() == 1

    page.locator("nav.navbar").get_by_role("link", name="Training").click()
    page.get_by_role("link", name="Our certifications").first.click()
    expect(page.locator("#requirements")).to_contain_text("Industrial sensor basics")
    records = page.locator("#records")
    expect(records).to_contain_text("Li Na")
    expect(records).to_contain_text("25 days left")
    expect(records).to_contain_text("Chen Jie")
    expect_nothing_foreign(page)
    screenshot(step="certifications")

    with page.expect_download() as download_info:
        records.get_by_role("link", name="Certificate").click()
    download = download_info.value
    assert download.suggested_filename == "TC-2024-000042.pdf"
    assert Path(download.path()).read_bytes().startswith(b"%PDF")

    response = page.request.get(f"/portal/training/records/{training['foreign_record'].pk}/certificate/")
    assert response.status == 404 and not response.body().startswith(b"%PDF")


@pytest.mark.browser_context_args(viewport=PHONE)
def test_the_training_pages_read_on_a_phone(page, training, screenshot, login):
    """The menu folds away, the cards stack in one column and nothing scrolls sideways."""
    login(page.context, training["admin"])
    for step, path in (
        ("phone-catalogue", "/portal/training/"),
        ("phone-course", f"/portal/training/courses/{training['installation'].pk}/"),
        ("phone-certifications", "/portal/training/certifications/"),
    ):
        page.goto(path)
        expect(page.get_by_role("button", name="Menu")).to_be_visible()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{path} scrolls sideways on a phone ({width}px)"
        screenshot(step=step)
