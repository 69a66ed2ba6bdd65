"""Sign-in by username or email, and the record every background job run leaves behind."""

import pytest
from django.contrib.auth import authenticate
from django.test import RequestFactory

from partners.models import Partner
from partners.tasks import region_paths_rebuild
from prm.auth import UsernameOrEmailBackend
from prm.jobs import job_run
from prm.models import JobRun
from tests.factories import DistributorFactory, PartnerFactory, RegionFactory, UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "pass12345"  # what UserFactory sets


def sign_in(**credentials):
    """Sign in as the login page does: with the request, which the lockout check needs."""
    return authenticate(RequestFactory().post("/login/"), **credentials)


@pytest.fixture
def wang():
    return UserFactory(username="wang.lei", email="Wang.Lei@Example.com")


# UsernameOrEmailBackend -----------------------------------------------------------------------


def test_signs_in_by_username(wang):
    assert sign_in(username="wang.lei", password=PASSWORD) == wang


def test_signs_in_by_email_in_any_case(wang):
    assert sign_in(username="wang.lei@example.com", password=PASSWORD) == wang
    assert sign_in(username="WANG.LEI@EXAMPLE.COM", password=PASSWORD) == wang
    assert sign_in(username="  Wang.Lei@example.com ", password=PASSWORD) == wang


@pytest.mark.parametrize("login", ["wang.lei", "wang.lei@example.com"])
def test_wrong_password_is_refused(wang, login):
    assert sign_in(username=login, password="not-the-password") is None


def test_unknown_user_or_missing_credentials_are_refused(wang):
    backend = UsernameOrEmailBackend()

    assert sign_in(username="nobody", password=PASSWORD) is None
    assert sign_in(username="nobody@example.com", password=PASSWORD) is None
    assert backend.authenticate(None, username=None, password=PASSWORD) is None
    assert backend.authenticate(None, username="wang.lei", password=None) is None


@pytest.mark.parametrize("login", ["wang.lei", "wang.lei@example.com"])
def test_inactive_user_is_refused_even_with_the_right_password(wang, login):
    wang.is_active = False
    wang.save()

    assert sign_in(username=login, password=PASSWORD) is None


def test_email_of_one_user_does_not_open_another_account():
    UserFactory(username="alice", email="alice@example.com")
    bob = UserFactory(username="bob", email="bob@example.com")
    bob.set_password("bobs-secret")
    bob.save()

    assert sign_in(username="alice@example.com", password="bobs-secret") is None
    assert sign_in(username="bob@example.com", password="bobs-secret") == bob


# job_run --------------------------------------------------------------------------------------


def test_job_run_records_a_success_with_the_rows_written():
    with job_run("test.success") as run:
        run.wrote(3)
        run.wrote(4)

    record = JobRun.objects.get(job="test.success")
    assert record.status == JobRun.Status.SUCCEEDED
    assert record.rows_written == 7
    assert record.finished_at is not None and record.finished_at >= record.started_at
    assert record.error == ""


def test_job_run_records_a_failure_with_its_message_and_re_raises():
    with pytest.raises(ValueError, match="bad row 12"), job_run("test.failure") as run:
        run.wrote(2)
        raise ValueError("bad row 12")

    record = JobRun.objects.get(job="test.failure")
    assert record.status == JobRun.Status.FAILED
    assert record.error == "ValueError: bad row 12"
    assert record.rows_written == 2
    assert record.finished_at is not None


def test_each_run_is_its_own_record():
    for rows in (1, 2):
        with job_run("test.repeat") as run:
            run.wrote(rows)

    assert sorted(JobRun.objects.filter(job="test.repeat").values_list("rows_written", flat=True)) == [1, 2]


# partners.tasks.region_paths_rebuild ----------------------------------------------------------


def test_region_paths_rebuild_repairs_paths_and_records_its_run():
    top = DistributorFactory()
    child = PartnerFactory(parent=top)
    region = RegionFactory(parent=RegionFactory())
    Partner.objects.filter(pk=child.pk).update(path="/broken/", depth=5)
    type(region).objects.filter(pk=region.pk).update(path="")

    written = region_paths_rebuild()

    assert written == 2
    assert Partner.objects.get(pk=child.pk).path == f"/{top.pk}/{child.pk}/"
    run = JobRun.objects.get(job="partners.region_paths_rebuild")
    assert (run.status, run.rows_written, run.error) == (JobRun.Status.SUCCEEDED, 2, "")
    assert run.finished_at is not None


def test_region_paths_rebuild_is_idempotent():
    child = PartnerFactory(parent=DistributorFactory())
    Partner.objects.filter(pk=child.pk).update(depth=9)

    assert region_paths_rebuild() == 1
    assert region_paths_rebuild() == 0

    runs = JobRun.objects.filter(job="partners.region_paths_rebuild").order_by("id")
    assert [(r.status, r.rows_written) for r in runs] == [(JobRun.Status.SUCCEEDED, 1), (JobRun.Status.SUCCEEDED, 0)]


def test_region_paths_rebuild_records_a_failure(monkeypatch):
    def broken():
        raise RuntimeError("database went away")

    monkeypatch.setattr("partners.maintenance.tree_paths_rebuild", broken)

    with pytest.raises(RuntimeError):
        region_paths_rebuild()

    run = JobRun.objects.get(job="partners.region_paths_rebuild")
    assert run.status == JobRun.Status.FAILED
    assert run.error == "RuntimeError: database went away"
