"""The portal's training: a partner's users (admin and plain user alike) browse the active
catalogue with the materials their tier may see, open course pages with upcoming sessions and
their free seats, enrol their own organisation's people, and follow their certifications and
the tier's requirements; they download the certificates of their own passes. A material above
their tier, another partner's person or record, and a record without a certificate are not
found or refused, and nothing is written."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.factories import (
    ChannelAdminFactory,
    ClassroomCourseFactory,
    CourseFactory,
    CourseMaterialFactory,
    DistributorFactory,
    PartnerAdminUserFactory,
    PartnerContactFactory,
    PartnerFactory,
    PartnerTierFactory,
    PartnerUserFactory,
    RegionFactory,
    TrainingRecordFactory,
)
from tests.training.builders import session as make_session
from training.choices import MaterialKind, RecordSource, RecordStatus
from training.models import CourseMaterial, TierRequirement, TrainingRecord

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
CATALOGUE = reverse("portal-training:catalogue")
CERTIFICATIONS = reverse("portal-training:certifications")
DASHBOARD = reverse("portal:dashboard")
FOREIGN_MARKERS = ("Zeta", "insider@zeta")


def course_url(course):
    return reverse("portal-training:course", args=[course.pk])


def enrol_url(course):
    return reverse("portal-training:enrol", args=[course.pk])


def material_url(material):
    return reverse("portal-training:material", args=[material.pk])


def certificate_url(record):
    return reverse("portal-training:certificate", args=[record.pk])


def html(response):
    return response.content.decode()


def assert_nothing_foreign(page):
    for marker in FOREIGN_MARKERS:
        assert marker not in page, marker


def records():
    return list(TrainingRecord.objects.order_by("pk").values())


def file_material(course, title, name, min_tier=None):
    content = b"%PDF-1.4 " + name.encode()
    return CourseMaterial.objects.create(
        course=course,
        title=title,
        kind=MaterialKind.FILE,
        file=ContentFile(content, name=name),
        original_name=name,
        content_type="application/pdf",
        size=len(content),
        min_tier=min_tier,
    )


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def world(db):
    """Huaxin is a Silver partner; Gold ranks above it. The online course SEN-101 (required twice
    by Silver) has a manual for everyone, a Silver installation guide and a Gold pricing deck;
    SEN-201 is a classroom course with a session of two seats (one taken by Wang Wei) and a full
    session; OLD-1 is retired. Li Na passed SEN-101 and her certification lapses in 20 days; Zeta,
    another partner, has a person who passed too."""
    region = RegionFactory(code="SH", name="Shanghai")
    silver = PartnerTierFactory(name="Silver", rank=2)
    gold = PartnerTierFactory(name="Gold", rank=3)
    own = DistributorFactory(code="HUAXIN", name="Huaxin Distribution", region=region, tier=silver)
    foreign = PartnerFactory(code="ZETA", name="Zeta Trading", region=region, tier=gold)
    li = PartnerContactFactory(partner=own, name="Li Na", email="li.na@huaxin.example")
    wang = PartnerContactFactory(partner=own, name="Wang Wei", email="wang.wei@huaxin.example")
    chen = PartnerContactFactory(partner=own, name="Chen Jie", email="chen.jie@huaxin.example")
    insider = PartnerContactFactory(partner=foreign, name="Zeta Insider", email="insider@zeta.example")
    online = CourseFactory(code="SEN-101", title="Sensor basics", pass_mark=Decimal("70"), validity_months=12)
    TierRequirement.objects.create(course=online, tier=silver, certified_people=2)
    classroom = ClassroomCourseFactory(code="SEN-201", title="Sensor installation")
    retired = CourseFactory(code="OLD-1", title="Retired pitch course", is_active=False)
    seats = make_session(course=classroom, capacity=2, location="Shanghai training centre")
    full = make_session(course=classroom, days=21, capacity=1, location="Suzhou hall")
    TrainingRecordFactory(contact=PartnerContactFactory(partner=foreign), course=classroom, session=full)
    certified = TrainingRecordFactory(
        contact=li, course=online, passed=True, completed_on=TODAY - timedelta(days=345), score=Decimal("88")
    )
    certified.expires_on = TODAY + timedelta(days=20)
    certified.save()
    enrolled = TrainingRecordFactory(contact=wang, course=classroom, session=seats)
    foreign_record = TrainingRecordFactory(contact=insider, course=online, passed=True)
    return {
        "own": own,
        "foreign": foreign,
        "silver": silver,
        "gold": gold,
        "li": li,
        "wang": wang,
        "chen": chen,
        "insider": insider,
        "online": online,
        "classroom": classroom,
        "retired": retired,
        "session": seats,
        "full": full,
        "certified": certified,
        "enrolled": enrolled,
        "foreign_record": foreign_record,
        "manual": CourseMaterialFactory(course=online, title="Sensor manual", url="https://learn.example/manual"),
        "guide": file_material(online, "Installation guide", "install-guide.pdf", min_tier=silver),
        "deck": file_material(online, "Gold pricing deck", "gold-pricing.pdf", min_tier=gold),
        "retired_material": CourseMaterialFactory(course=retired, title="Old pitch"),
        "admin": PartnerAdminUserFactory(username="zhou", display_name="Zhou Min", partner=own),
        "member": PartnerUserFactory(username="wu", display_name="Wu Jie", partner=own),
    }


@pytest.fixture
def admin_client(client, world):
    client.force_login(world["admin"])
    return client


@pytest.fixture
def member_client(client, world):
    client.force_login(world["member"])
    return client


# The catalogue ---------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["admin", "member"])
def test_the_catalogue_lists_active_courses_with_the_tiers_requirement(client, world, who):
    client.force_login(world[who])
    response = client.get(CATALOGUE)
    assert response.status_code == 200
    page = html(response)
    assert "Sensor basics" in page and "Sensor installation" in page
    assert "Retired pitch course" not in page
    assert "Your tier requires 2 certified people." in page
    assert "Next session" in page


def test_the_catalogue_filters(admin_client, world):
    page = html(admin_client.get(f"{CATALOGUE}?delivery=classroom"))
    assert "Sensor installation" in page and "Sensor basics" not in page
    page = html(admin_client.get(f"{CATALOGUE}?search=basics"))
    assert "Sensor basics" in page and "Sensor installation" not in page
    assert "No course matches these filters." in html(admin_client.get(f"{CATALOGUE}?search=cooking"))


def test_the_portal_menu_links_training(admin_client):
    nav = html(admin_client.get(DASHBOARD)).split("</nav>")[0]
    assert f'href="{CATALOGUE}"' in nav and "Training" in nav


def test_staff_are_refused_and_visitors_sent_to_sign_in(client, world):
    urls = (CATALOGUE, course_url(world["online"]), CERTIFICATIONS, certificate_url(world["certified"]))
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith(reverse("login")), url
    client.force_login(ChannelAdminFactory())
    for url in urls:
        assert client.get(url).status_code == 403, url


# The course page and its materials -------------------------------------------------------------


def test_the_course_page_shows_the_materials_of_the_tier_and_below(admin_client, world):
    page = html(admin_client.get(course_url(world["online"])))
    assert "Sensor manual" in page and "Installation guide" in page
    assert "Gold pricing deck" not in page
    assert f'href="{material_url(world["manual"])}" target="_blank" rel="noopener noreferrer"' in page
    assert f'href="{material_url(world["deck"])}"' not in page
    assert "Your tier (Silver) requires 2 certified people for this course." in page


def test_a_higher_tier_sees_the_higher_material(client, world):
    world["own"].tier = world["gold"]
    world["own"].save()
    client.force_login(world["admin"])
    assert "Gold pricing deck" in html(client.get(course_url(world["online"])))
    response = client.get(material_url(world["deck"]))
    assert response.status_code == 200


def test_a_material_of_the_tier_downloads_as_an_attachment(member_client, world):
    response = member_client.get(material_url(world["guide"]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="install-guide.pdf"'
    assert b"".join(response.streaming_content).startswith(b"%PDF")


def test_a_link_material_redirects_to_its_address(member_client, world):
    response = member_client.get(material_url(world["manual"]))
    assert response.status_code == 302 and response.url == "https://learn.example/manual"


@pytest.mark.parametrize("material", ["deck", "retired_material"])
def test_a_material_above_the_tier_or_of_a_retired_course_is_not_found(admin_client, world, material):
    assert admin_client.get(material_url(world[material])).status_code == 404


def test_a_partner_without_a_tier_sees_only_materials_for_everyone(client, world):
    world["own"].tier = None
    world["own"].save()
    client.force_login(world["admin"])
    page = html(client.get(course_url(world["online"])))
    assert "Sensor manual" in page and "Installation guide" not in page
    assert client.get(material_url(world["guide"])).status_code == 404


def test_materials_are_not_served_as_static_files(admin_client, world):
    name = world["guide"].file.name
    assert admin_client.get(f"/media/{name}").status_code == 404


def test_a_retired_or_unknown_course_is_not_found(admin_client, world):
    assert admin_client.get(course_url(world["retired"])).status_code == 404
    assert admin_client.get(reverse("portal-training:course", args=[999999])).status_code == 404
    assert admin_client.get(enrol_url(world["retired"])).status_code == 404


def test_the_course_page_shows_upcoming_sessions_with_free_seats_and_our_people(admin_client, world):
    page = html(admin_client.get(course_url(world["classroom"])))
    assert "Shanghai training centre" in page and "1 seat free" in page
    assert "Suzhou hall" in page and "Full" in page
    assert f"{enrol_url(world['classroom'])}?session={world['session'].pk}" in page
    assert f"?session={world['full'].pk}" not in page
    assert "Wang Wei" in page
    assert_nothing_foreign(page)


# Enrolling ------------------------------------------------------------------------------------


def test_the_enrol_form_offers_only_our_people_and_the_upcoming_sessions(admin_client, world):
    page = html(admin_client.get(f"{enrol_url(world['classroom'])}?session={world['session'].pk}"))
    assert "Chen Jie" in page and "Li Na" in page
    assert_nothing_foreign(page)
    assert "Shanghai training centre · 1 seat free" in page
    assert "Suzhou hall · full" in page
    assert f'<option value="{world["session"].pk}" selected>' in page


@pytest.mark.parametrize("who", ["admin", "member"])
def test_a_partner_user_enrols_a_colleague_in_a_session(client, world, who):
    client.force_login(world[who])
    course, session = world["classroom"], world["session"]
    response = client.post(enrol_url(course), {"contact": world["chen"].pk, "session": session.pk}, follow=True)
    assert response.redirect_chain[-1][0] == course_url(course)
    assert "Chen Jie is enrolled in Sensor installation." in html(response)
    record = TrainingRecord.objects.get(contact=world["chen"], course=course)
    assert record.session == session and record.status == RecordStatus.ENROLLED
    assert record.source == RecordSource.PORTAL and record.enrolled_by == world[who]
    assert "Full" in html(response)  # the last seat is gone


def test_an_online_course_enrols_without_a_session(admin_client, world):
    page = html(admin_client.get(enrol_url(world["online"])))
    assert 'name="session"' not in page
    response = admin_client.post(enrol_url(world["online"]), {"contact": world["chen"].pk})
    assert response.status_code == 302
    assert TrainingRecord.objects.filter(contact=world["chen"], course=world["online"]).exists()


def test_another_partners_person_is_refused_and_nothing_is_written(admin_client, world):
    before = records()
    response = admin_client.post(
        enrol_url(world["classroom"]), {"contact": world["insider"].pk, "session": world["session"].pk}
    )
    assert response.status_code == 200
    assert "Choose one of your organisation&#x27;s people." in html(response)
    assert_nothing_foreign(html(response))
    assert records() == before


def test_a_full_session_is_refused_with_a_clear_message(admin_client, world):
    before = records()
    response = admin_client.post(
        enrol_url(world["classroom"]), {"contact": world["chen"].pk, "session": world["full"].pk}
    )
    assert response.status_code == 200
    assert "The session is full (1 place)." in html(response)
    assert records() == before


def test_a_person_already_enrolled_is_refused(admin_client, world):
    before = records()
    response = admin_client.post(
        enrol_url(world["classroom"]), {"contact": world["wang"].pk, "session": world["session"].pk}
    )
    assert "Wang Wei is already enrolled in Sensor installation." in html(response)
    assert records() == before


def test_a_classroom_course_needs_a_session(admin_client, world):
    before = records()
    response = admin_client.post(enrol_url(world["classroom"]), {"contact": world["chen"].pk})
    assert response.status_code == 200 and "This field is required." in html(response)
    other = make_session(course=ClassroomCourseFactory(code="OTHER-1"), days=5)
    response = admin_client.post(enrol_url(world["classroom"]), {"contact": world["chen"].pk, "session": other.pk})
    assert "Choose one of the upcoming sessions of this course." in html(response)
    assert records() == before


# Certifications -------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["admin", "member"])
def test_the_certifications_page_shows_our_records_and_the_tier_requirements(client, world, who):
    client.force_login(world[who])
    response = client.get(CERTIFICATIONS)
    assert response.status_code == 200
    page = html(response)
    assert "Li Na" in page and "Wang Wei" in page
    assert "20 days left" in page
    assert certificate_url(world["certified"]) in page
    assert certificate_url(world["enrolled"]) not in page
    requirements = page.split('id="requirements"')[1].split("</table>")[0]
    assert "Sensor basics" in requirements and ">2<" in requirements and ">1<" in requirements  # 2 required, 1 held
    assert_nothing_foreign(page)


def test_a_lapsed_certification_is_flagged(admin_client, world):
    record = world["certified"]
    record.expires_on = TODAY - timedelta(days=1)
    record.save()
    assert "Lapsed" in html(admin_client.get(CERTIFICATIONS))


def test_the_certifications_filter_by_status(admin_client, world):
    page = html(admin_client.get(f"{CERTIFICATIONS}?status=enrolled"))
    records_table = page.split('id="records"')[1]
    assert "Wang Wei" in records_table and "Li Na" not in records_table


def test_our_certificate_downloads_as_a_pdf(member_client, world):
    record = world["certified"]
    response = member_client.get(certificate_url(record))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf" and response.content.startswith(b"%PDF")
    assert f'attachment; filename="{record.certificate_number}.pdf"' == response["Content-Disposition"]


def test_an_expired_certification_is_flagged_and_keeps_its_certificate(admin_client, world):
    record = world["certified"]
    record.status, record.expires_on = RecordStatus.EXPIRED, TODAY - timedelta(days=3)
    record.save()
    page = html(admin_client.get(CERTIFICATIONS))
    assert "Lapsed" in page and certificate_url(record) in page
    assert admin_client.get(certificate_url(record)).status_code == 200


def test_the_certificate_speaks_the_users_language(client, world):
    world["member"].preferred_language = "zh-hans"
    world["member"].save()
    client.force_login(world["member"])
    pdf = client.get(certificate_url(world["certified"])).content
    assert pdf.startswith(b"%PDF") and b"Helvetica-Bold" not in pdf  # Chinese labels, in the CJK font


@pytest.mark.parametrize("record", ["foreign_record", "enrolled"])
def test_another_partners_certificate_or_a_record_without_one_is_not_found(admin_client, world, record):
    assert admin_client.get(certificate_url(world[record])).status_code == 404


def test_the_dashboard_shows_expiring_certifications_and_the_tier_requirements(admin_client, world):
    page = html(admin_client.get(DASHBOARD))
    panel = page.split('id="training-panel"')[1]
    assert "Li Na" in panel and "20 days left" in panel and "Sensor basics" in panel
    assert_nothing_foreign(panel)


def test_the_dashboard_hides_the_panel_with_nothing_to_say(client, world):
    other = PartnerFactory(code="NEW", name="Newcomer", region=world["own"].region)
    client.force_login(PartnerUserFactory(username="new", partner=other))
    assert 'id="training-panel"' not in html(client.get(DASHBOARD))


# Query counts ---------------------------------------------------------------------------------


def test_pages_issue_the_same_number_of_queries_for_few_and_many_rows(admin_client, world):
    def count(url):
        with CaptureQueriesContext(connection) as queries:
            assert admin_client.get(url).status_code == 200
        return len(queries)

    urls = (
        CATALOGUE,
        course_url(world["online"]),
        course_url(world["classroom"]),
        enrol_url(world["classroom"]),
        CERTIFICATIONS,
        DASHBOARD,
    )
    few = {url: count(url) for url in urls}
    for index in range(8):
        course = ClassroomCourseFactory(code=f"MORE-{index}")
        TierRequirement.objects.create(course=course, tier=world["silver"], certified_people=1)
        make_session(course=course, days=5 + index)
        make_session(course=world["classroom"], days=30 + index)
        person = PartnerContactFactory(partner=world["own"], name=f"Person {index}")
        TrainingRecordFactory(contact=person, course=world["online"], passed=True)
        TrainingRecordFactory(contact=person, course=course, passed=True)
        CourseMaterialFactory(course=world["online"], min_tier=world["silver"])
    many = {url: count(url) for url in urls}
    assert many == few


def test_the_pages_stay_under_a_query_ceiling(admin_client, world, django_assert_max_num_queries):
    for url in (CATALOGUE, course_url(world["classroom"]), CERTIFICATIONS, enrol_url(world["classroom"])):
        with django_assert_max_num_queries(14):
            admin_client.get(url)
