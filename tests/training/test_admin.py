"""The admin shows every training table but never bypasses the services: a course's changes are
saved through course_update (and recorded); a training record's status, and every other training
table, are read-only (a status moves only through the services); material files are downloaded
through the checked view, never a media URL."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from prm.models import AuditEntry
from tests.factories import (
    AdminFactory,
    ChannelAdminFactory,
    CourseFactory,
    TierRequirementFactory,
    TrainingRecordFactory,
)
from training import services
from training.choices import RecordStatus

pytestmark = pytest.mark.django_db

MODELS = ("course", "tierrequirement", "coursematerial", "trainingsession", "trainingrecord", "certificationreminder")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def superuser_client(client):
    client.force_login(AdminFactory(username="root"))
    return client


@pytest.fixture
def course():
    course = CourseFactory(code="ADM-1", title="Admin course", pass_mark=Decimal("70"))
    TierRequirementFactory(course=course)
    services.material_add(
        course=course,
        by=ChannelAdminFactory(),
        title="Handbook",
        kind="file",
        file=SimpleUploadedFile("handbook.pdf", b"%PDF-1.4 handbook"),
    )
    return course


@pytest.mark.parametrize("model", MODELS)
def test_every_training_table_is_listed(superuser_client, course, model):
    TrainingRecordFactory(course=course, passed=True)
    assert superuser_client.get(reverse(f"admin:training_{model}_changelist")).status_code == 200


@pytest.mark.parametrize("model", [m for m in MODELS if m != "course"])
def test_the_other_training_tables_are_read_only(superuser_client, course, model):
    assert superuser_client.get(reverse(f"admin:training_{model}_add")).status_code == 403


def test_a_records_status_is_read_only_and_no_bulk_action_moves_it(superuser_client, course):
    record = TrainingRecordFactory(course=course)
    url = reverse("admin:training_trainingrecord_change", args=[record.pk])
    page = superuser_client.get(url).content.decode()
    assert 'name="status"' not in page and 'name="score"' not in page
    superuser_client.post(url, {"status": RecordStatus.PASSED, "score": "99"})
    record.refresh_from_db()
    assert (record.status, record.score) == (RecordStatus.ENROLLED, None)
    changelist = superuser_client.get(reverse("admin:training_trainingrecord_changelist")).content.decode()
    assert 'name="action"' not in changelist


def test_a_course_is_changed_through_the_service_and_recorded(superuser_client, course):
    url = reverse("admin:training_course_change", args=[course.pk])
    page = superuser_client.get(url).content.decode()
    assert reverse("training:material-download", args=[course.materials.get().pk]) in page
    assert "/media/" not in page
    data = {
        "code": "ADM-1",
        "title": "Admin course, revised",
        "course_type": "product",
        "product_line": "",
        "level": "basic",
        "delivery": "online",
        "duration_hours": "4.0",
        "pass_mark": "75",
        "validity_months": "12",
        "description": "",
        "is_active": "on",
    }
    for prefix in ("requirements", "materials", "sessions"):  # the read-only inlines' management forms
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    response = superuser_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    course.refresh_from_db()
    assert (course.title, course.pass_mark, course.validity_months) == ("Admin course, revised", Decimal("75"), 12)
    entry = AuditEntry.objects.filter(object_type="training.course", object_id=str(course.pk)).first()
    assert entry.action == "update" and entry.changes["title"] == ["Admin course", "Admin course, revised"]
    assert superuser_client.get(reverse("admin:training_course_add")).status_code == 403
    assert superuser_client.get(reverse("admin:training_course_delete", args=[course.pk])).status_code == 403
