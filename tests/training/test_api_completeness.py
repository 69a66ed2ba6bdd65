"""Course materials over the API (/api/v1/course-materials/), as the staff course page adds and
removes them and the portal shows them: files and links, by tier for partners, through the
training services."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from prm.models import AuditEntry
from tests.factories import (
    AnalystFactory,
    ChannelManagerFactory,
    CourseFactory,
    CourseMaterialFactory,
    PartnerFactory,
    PartnerTierFactory,
    key_client,
)
from training.models import CourseMaterial

pytestmark = pytest.mark.django_db

MATERIALS = "/api/v1/course-materials/"
PDF = b"%PDF-1.4 installation guide"


def field_errors(response):
    body = response.json()
    return body.get("errors", body)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def course(db):
    return CourseFactory(code="PLC-101", title="PLC basics")


@pytest.fixture
def lms(staff_user):
    return key_client(staff_user, ["training:write"])


def pdf(name="guide.pdf", content=PDF):
    return SimpleUploadedFile(name, content, "application/pdf")


def test_a_vendor_key_adds_a_file_that_downloads_as_uploaded(lms, course):
    response = lms.post(
        MATERIALS,
        {"course": course.pk, "title": "Installation guide", "kind": "file", "file": pdf()},
        format="multipart",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["file_name"] == "guide.pdf" and body["content_type"] == "application/pdf" and body["size"] == len(PDF)
    assert "file" not in body
    download = lms.get(f"{MATERIALS}{body['id']}/download/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    assert download["Content-Disposition"].startswith("attachment")
    entry = AuditEntry.objects.filter(object_type="training.course", object_id=str(course.pk)).latest("id")
    assert entry.changes["material"] == [None, "Installation guide"]


def test_a_link_is_added_as_json_and_has_no_download(lms, course):
    response = lms.post(
        MATERIALS, {"course": course.pk, "title": "Webinar", "kind": "link", "url": "https://learning.example.com/w"}
    )

    assert response.status_code == 201, response.content
    assert response.json()["url"] == "https://learning.example.com/w"
    download = lms.get(f"{MATERIALS}{response.json()['id']}/download/")
    assert download.status_code == 404
    assert "link" in download.json()["message"]


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"title": "Guide", "kind": "file"}, "file"),
        ({"title": "Guide", "kind": "link"}, "url"),
        ({"title": "Guide", "kind": "link", "url": "not a link"}, "url"),
        ({"title": "Guide", "kind": "video", "url": "https://learning.example.com/v"}, "kind"),
        ({"title": "Guide", "kind": "file", "file": pdf("guide.pdf", b"MZ not a pdf")}, "file"),
        ({"title": "Guide", "kind": "file", "file": pdf("guide.exe", b"MZ")}, "file"),
        ({"title": "", "kind": "link", "url": "https://learning.example.com/v"}, "title"),
    ],
)
def test_bad_materials_answer_400_naming_the_field_and_keep_nothing(lms, course, payload, field):
    response = lms.post(MATERIALS, {"course": course.pk, **payload}, format="multipart")

    assert response.status_code == 400, response.content
    assert field in field_errors(response)
    assert not CourseMaterial.objects.exists()


def test_removing_a_material_removes_its_file(lms, course, django_capture_on_commit_callbacks):
    material_id = lms.post(
        MATERIALS, {"course": course.pk, "title": "Guide", "kind": "file", "file": pdf()}, format="multipart"
    ).json()["id"]
    stored = CourseMaterial.objects.get(pk=material_id).file
    storage, name = stored.storage, stored.name
    assert storage.exists(name)

    with django_capture_on_commit_callbacks(execute=True):
        response = lms.delete(f"{MATERIALS}{material_id}/")

    assert response.status_code == 204
    assert not CourseMaterial.objects.filter(pk=material_id).exists()
    assert not storage.exists(name)


def test_materials_cannot_be_changed_only_removed_and_added(lms, course):
    material = CourseMaterialFactory(course=course)

    assert lms.patch(f"{MATERIALS}{material.pk}/", {"title": "New"}, format="json").status_code == 405


def test_who_may_add_materials(staff_user, course):
    analyst, manager = APIClient(), APIClient()
    analyst.force_authenticate(AnalystFactory())
    manager.force_authenticate(ChannelManagerFactory())
    link = {"course": course.pk, "title": "Webinar", "kind": "link", "url": "https://learning.example.com/w"}

    assert analyst.post(MATERIALS, link).status_code == 403
    assert key_client(staff_user, ["training:read"]).post(MATERIALS, link).status_code == 403
    assert manager.post(MATERIALS, link).status_code == 201


def test_a_partner_key_sees_the_materials_its_tier_may_see_and_changes_none(staff_user, course):
    silver, gold = PartnerTierFactory(name="Silver", rank=2), PartnerTierFactory(name="Gold", rank=3)
    partner = PartnerFactory(tier=silver)
    everyone = CourseMaterialFactory(course=course, title="For everyone")
    for_silver = CourseMaterialFactory(course=course, title="Silver and up", min_tier=silver)
    for_gold = CourseMaterialFactory(course=course, title="Gold and up", min_tier=gold)
    retired = CourseMaterialFactory(course=CourseFactory(is_active=False), title="Retired course")
    bound = key_client(staff_user, ["training:write"], partner=partner)

    listed = bound.get(MATERIALS).json()["results"]

    assert {row["id"] for row in listed} == {everyone.pk, for_silver.pk}
    assert bound.get(f"{MATERIALS}{for_gold.pk}/").status_code == 404
    assert bound.get(f"{MATERIALS}{for_gold.pk}/download/").status_code == 404
    assert bound.get(f"{MATERIALS}{retired.pk}/").status_code == 404
    link = {"course": course.pk, "title": "Ours", "kind": "link", "url": "https://learning.example.com/w"}
    assert bound.post(MATERIALS, link).status_code == 403
    assert bound.delete(f"{MATERIALS}{everyone.pk}/").status_code == 403
    assert CourseMaterial.objects.count() == 4


def test_a_partner_without_a_tier_sees_only_materials_for_everyone(staff_user, course):
    CourseMaterialFactory(course=course, min_tier=PartnerTierFactory(rank=1))
    everyone = CourseMaterialFactory(course=course)
    bound = key_client(staff_user, ["training:read"], partner=PartnerFactory(tier=None))

    assert [row["id"] for row in bound.get(MATERIALS).json()["results"]] == [everyone.pk]


def test_materials_filter_by_course_and_kind(api_client, course):
    CourseMaterialFactory(course=course)
    CourseMaterialFactory(course=CourseFactory())

    by_course = api_client.get(MATERIALS, {"course": course.pk}).json()["results"]

    assert [row["course"] for row in by_course] == [course.pk]
    assert api_client.get(MATERIALS, {"kind": "file"}).json()["count"] == 0
    assert api_client.get(MATERIALS, {"course": "abc"}).status_code == 400


def test_materials_list_in_a_fixed_number_of_queries(staff_user, course, django_assert_max_num_queries):
    bound = key_client(staff_user, ["training:read"], partner=PartnerFactory(tier=PartnerTierFactory(rank=2)))
    CourseMaterialFactory(course=course)
    bound.get(MATERIALS)  # the key's last-used time is written on its first request
    with django_assert_max_num_queries(5) as few:
        bound.get(MATERIALS)
    entry_tier = PartnerTierFactory(rank=1)
    for _index in range(20):
        CourseMaterialFactory(course=CourseFactory(), min_tier=entry_tier)

    with django_assert_max_num_queries(len(few.captured_queries)):
        response = bound.get(MATERIALS)

    assert response.json()["count"] == 21


def test_materials_sync_by_when_they_were_added_and_a_removed_one_leaves_a_tombstone(staff_user, lms, course):
    material = CourseMaterialFactory(course=course)
    synced = lms.get(MATERIALS, {"updated_since": "2000-01-01T00:00:00Z"}).json()
    assert [row["id"] for row in synced["results"]] == [material.pk]

    assert lms.delete(f"{MATERIALS}{material.pk}/").status_code == 204

    bound = key_client(staff_user, ["training:read"], partner=PartnerFactory())
    for api in (lms, bound):
        deletions = api.get("/api/v1/deletions/", {"type": "training.coursematerial"}).json()["results"]
        assert [row["object_id"] for row in deletions] == [str(material.pk)]
