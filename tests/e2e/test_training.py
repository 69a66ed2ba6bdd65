"""Training in a real browser: a channel manager opens a classroom course from the catalogue,
enrols a partner's person in a session, records a pass below the pass mark (refused, the reason
shown on the score), then a pass, and downloads the certificate; the training matrix in Chinese;
the course page and the matrix on a phone."""

from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from partners.choices import RegionKind
from tests.factories import (
    ChannelManagerFactory,
    CourseFactory,
    DistributorFactory,
    PartnerContactFactory,
    PartnerFactory,
    PartnerTierFactory,
    RegionFactory,
    TierRequirementFactory,
    TrainingRecordFactory,
    TrainingSessionFactory,
)
from training.choices import RecordStatus
from training.models import TrainingRecord, TrainingSession

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def channel(roles):
    now = timezone.now()
    manager = ChannelManagerFactory(username="wanglei", display_name="Wang Lei")
    china = RegionFactory(code="CN", name="China", kind=RegionKind.COUNTRY)
    east = RegionFactory(code="EAST", name="East China", kind=RegionKind.AREA, parent=china)
    shanghai = RegionFactory(code="SH", name="Shanghai", parent=east)
    gold = PartnerTierFactory(name="Gold", rank=3)
    silver = PartnerTierFactory(name="Silver", rank=2)
    xinghe = DistributorFactory(
        code="D-EAST-1", name="Xinghe Distribution Co., Ltd.", region=shanghai, owner=manager, tier=gold
    )
    jinpeng = PartnerFactory(code="R-EAST-2", name="Jinpeng Technology Co., Ltd.", region=shanghai, tier=silver)
    li = PartnerContactFactory(partner=xinghe, name="Li Na", email="li.na@xinghe.example.cn")
    PartnerContactFactory(partner=xinghe, name="Chen Jie", email="chen.jie@xinghe.example.cn")
    workshop = CourseFactory(
        code="INST-201",
        title="Sensor installation workshop",
        course_type="technical",
        delivery="classroom",
        level="intermediate",
        pass_mark=Decimal("60"),
        validity_months=12,
        description="Mounting, wiring and commissioning pressure sensors on site.",
    )
    basics = CourseFactory(code="SEN-101", title="Industrial sensor basics", pass_mark=Decimal("70"))
    TierRequirementFactory(course=workshop, tier=gold, certified_people=1)
    TierRequirementFactory(course=basics, tier=gold, certified_people=2)
    TierRequirementFactory(course=basics, tier=silver, certified_people=1)
    session = TrainingSessionFactory(
        course=workshop,
        starts_at=now + timedelta(days=7),
        ends_at=now + timedelta(days=7, hours=8),
        location="Shanghai training centre, room 3",
        capacity=12,
    )
    TrainingSessionFactory(
        course=workshop,
        starts_at=now + timedelta(days=21),
        ends_at=now + timedelta(days=21, hours=8),
        location="Hangzhou office",
        capacity=8,
    )
    TrainingRecordFactory(contact=PartnerContactFactory(partner=jinpeng, name="Zhao Lei"), course=basics, passed=True)
    TrainingRecordFactory(contact=PartnerContactFactory(partner=xinghe, name="Sun Hui"), course=basics, passed=True)
    return SimpleNamespace(manager=manager, xinghe=xinghe, li=li, workshop=workshop, session=session)


def test_enrol_a_person_record_a_refused_pass_then_a_pass_and_download_the_certificate(
    page, live_server, channel, login, screenshot
):
    login(page.context, channel.manager)
    page.goto("/")
    expect(page.get_by_test_id("missing-count")).to_have_text("1")  # Xinghe; Jinpeng meets Silver
    screenshot(step="home")
    page.get_by_role("link", name="Training").first.click()
    expect(page.get_by_role("heading", name="Training", exact=True)).to_be_visible()
    screenshot(step="catalogue")
    page.get_by_role("link", name="INST-201").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Sensor installation workshop")
    expect(page.get_by_test_id("pass-mark")).to_have_text("60")
    page.get_by_role("link", name="Enrol people").click()
    page.get_by_label("Partner code").fill("D-EAST-1")
    page.get_by_role("button", name="Show its people").click()
    expect(page.get_by_test_id("contacts")).to_contain_text("Li Na")
    page.get_by_label("Li Na · li.na@xinghe.example.cn").check()
    page.get_by_label("Session").select_option(str(channel.session.pk))
    screenshot(step="enrol")
    page.get_by_role("button", name="Enrol").click()

    expect(page.get_by_text("1 person enrolled in INST-201.")).to_be_visible()
    records = page.get_by_test_id("records")
    row = records.locator("tbody tr", has_text="Li Na")
    expect(row).to_contain_text("Xinghe Distribution Co., Ltd.")
    expect(row).to_contain_text("Enrolled")
    record = TrainingRecord.objects.get(contact=channel.li, course=channel.workshop)
    assert record.session_id == channel.session.pk

    # The day of the workshop has come and gone.
    start = timezone.now() - timedelta(days=1)
    TrainingSession.objects.filter(pk=channel.session.pk).update(starts_at=start, ends_at=start + timedelta(hours=8))
    page.reload()
    row.get_by_role("button", name="Start").click()
    expect(page.get_by_text("Li Na is in progress.")).to_be_visible()
    expect(row).to_contain_text("In progress")
    row.get_by_role("link", name="Result").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Result of Li Na")
    page.get_by_label("Result").select_option("passed")
    page.get_by_label("Score").fill("55")
    page.get_by_role("button", name="Save the result").click()
    error = page.locator("#id_score_errors")
    expect(error).to_be_visible()
    expect(error).to_contain_text("A score of 55 is below the pass mark of 60")
    record.refresh_from_db()
    assert record.status == RecordStatus.IN_PROGRESS and record.score is None
    screenshot(step="refused")

    page.get_by_label("Score").fill("82")
    page.get_by_role("button", name="Save the result").click()
    record.refresh_from_db()
    assert record.status == RecordStatus.PASSED and record.certificate_number
    expect(page.get_by_text(f"Li Na passed: certificate {record.certificate_number}.")).to_be_visible()
    expect(row).to_contain_text("Passed")
    expect(row).to_contain_text(record.certificate_number)
    screenshot(step="passed")

    with page.expect_download() as download_info:
        row.get_by_role("link", name="Certificate").click()
    download = download_info.value
    assert download.suggested_filename == f"certificate-{record.certificate_number}.pdf"
    assert Path(download.path()).read_bytes().startswith(b"%PDF")

    # Now the partner meets its tier's workshop requirement: the partner page says so.
    page.goto(channel.xinghe.get_absolute_url())
    requirements = page.get_by_test_id("tier-requirements")
    expect(requirements.locator("tr", has_text="INST-201")).to_contain_text("Met")
    expect(requirements.locator("tr", has_text="SEN-101")).to_contain_text("Not met")
    page.locator("#training").scroll_into_view_if_needed()
    screenshot(step="partner-360")


def test_the_training_matrix_in_chinese(page, live_server, channel, login, screenshot):
    login(page.context, channel.manager)
    page.goto("/training/matrix/")
    matrix = page.get_by_test_id("matrix")
    expect(matrix.locator("tbody tr")).to_have_count(2)
    expect(matrix.locator("td[data-state=missing]")).to_have_count(2)
    expect(matrix.locator("td[data-state=met]")).to_have_count(1)
    page.get_by_role("combobox", name="Language").select_option("zh-hans")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(matrix.locator("tbody tr")).to_have_count(2)
    screenshot(step="matrix-zh-hans")
    page.goto("/training/report/")
    screenshot(step="report-zh-hans")


@pytest.mark.browser_context_args(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
def test_training_pages_on_a_phone(page, live_server, channel, login, screenshot):
    login(page.context, channel.manager)
    for url, text, step in [
        ("/training/", "INST-201", "catalogue"),
        (channel.workshop.get_absolute_url(), "Sensor installation workshop", "course"),
        ("/training/matrix/", "Xinghe Distribution Co., Ltd.", "matrix"),
    ]:
        page.goto(url)
        expect(page.get_by_text(text).first).to_be_visible()
        # The page itself never scrolls sideways; wide tables scroll inside their own box.
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), step
        screenshot(step=step)
