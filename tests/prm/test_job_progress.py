"""Background runs started from a page: `job_queue` records the run before the worker has it,
`job_run(run_id=...)` continues it, `JobProgress` saves each step at once, and `/jobs/<id>/`
answers the progress bar, to staff only."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.urls import reverse

from prm.jobs import JobProgress, job_queue, job_run
from prm.models import JobRun
from tests.factories import (
    AnalystFactory,
    ChannelAdminFactory,
    PartnerAdminUserFactory,
    PartnerFactory,
    PartnerUserFactory,
)

pytestmark = pytest.mark.django_db


def read(run):
    return JobRun.objects.values("status", "total", "done", "rows_written", "error").get(pk=run.pk)


# job_queue ------------------------------------------------------------------------------------


def test_a_queued_run_names_its_job_parameters_and_who_started_it():
    by = ChannelAdminFactory()
    run = job_queue("demo.job", by=by, params={"period": "2026-03", "partner": None})
    run.refresh_from_db()
    assert (run.job, run.status, run.params, run.started_by) == (
        "demo.job", JobRun.Status.QUEUED, {"period": "2026-03", "partner": None}, by,
    )  # fmt: skip
    assert (run.total, run.done, run.percent, run.is_finished, run.finished_at) == (None, 0, 0, False, None)


def test_a_run_started_by_an_api_key_or_nobody_names_no_user():
    key_user = ChannelAdminFactory()
    key_user.api_key = object()  # what prm.api.authentication puts on the principal of a key
    assert job_queue("demo.job", by=key_user).started_by is None
    assert job_queue("demo.job", by=AnonymousUser()).started_by is None
    assert job_queue("demo.job").params == {}


# job_run with a queued run and JobProgress ------------------------------------------------------


def test_job_run_continues_the_queued_run_and_each_step_is_saved_at_once():
    run = job_queue("demo.job", params={"size": 3})
    seen = []
    with job_run("demo.job", run_id=run.pk) as progress:
        assert isinstance(progress, JobProgress)
        seen.append(read(run))
        progress.set_total(3)
        seen.append(read(run))
        progress.advance(1, rows=10)
        progress.advance(2, rows=5)
        seen.append(read(run))
        progress.wrote(1)  # rows without a step: saved with the end of the run
    assert [row["status"] for row in seen] == [JobRun.Status.RUNNING] * 3
    assert [(row["total"], row["done"], row["rows_written"]) for row in seen] == [(None, 0, 0), (3, 0, 0), (3, 3, 15)]
    assert read(run) == {"status": JobRun.Status.SUCCEEDED, "total": 3, "done": 3, "rows_written": 16, "error": ""}
    assert JobRun.objects.count() == 1


def test_a_finished_run_counts_every_step_done():
    run = job_queue("demo.job")
    with job_run("demo.job", run_id=run.pk) as progress:
        progress.set_total(4)
        progress.advance(1)
    run.refresh_from_db()
    assert (run.done, run.total, run.percent) == (4, 4, 100)


def test_a_refusal_is_recorded_with_the_services_own_words():
    run = job_queue("demo.job")
    with pytest.raises(ValidationError), job_run("demo.job", run_id=run.pk) as progress:
        progress.set_total(2)
        progress.advance(1)
        raise ValidationError({"period": ["The statement is approved.", "It never changes."]})
    assert read(run) == {
        "status": JobRun.Status.FAILED,
        "total": 2,
        "done": 1,
        "rows_written": 0,
        "error": "The statement is approved.; It never changes.",
    }
    run.refresh_from_db()
    assert run.percent == 50 and run.is_finished


def test_an_unexpected_failure_names_the_exception():
    run = job_queue("demo.job")
    with pytest.raises(KeyError), job_run("demo.job", run_id=run.pk):
        raise KeyError("partner")
    assert read(run)["error"] == "KeyError: 'partner'"


def test_an_unknown_run_id_starts_a_run_of_its_own():
    with job_run("demo.job", run_id=987654) as progress:
        progress.wrote(2)
    run = JobRun.objects.get()
    assert (run.job, run.status, run.rows_written) == ("demo.job", JobRun.Status.SUCCEEDED, 2)


# /jobs/<id>/ ----------------------------------------------------------------------------------


def status_url(run):
    return reverse("job-run-status", args=[run.pk])


def test_staff_read_a_runs_progress_as_json(client):
    run = job_queue("incentives.rebate_statements_run", params={"period": "2026-03"})
    client.force_login(AnalystFactory())
    assert status_url(run) == f"/jobs/{run.pk}/"

    queued = client.get(status_url(run))
    assert queued.status_code == 200 and queued["Content-Type"] == "application/json"
    assert queued.json() == {
        "id": run.pk,
        "job": "incentives.rebate_statements_run",
        "status": "queued",
        "status_label": "Queued",
        "done": 0,
        "total": None,
        "percent": 0,
        "rows_written": 0,
        "finished": False,
        "error": "",
    }
    JobRun.objects.filter(pk=run.pk).update(status=JobRun.Status.RUNNING, total=8, done=3, rows_written=120)
    running = client.get(status_url(run)).json()
    assert (running["status"], running["percent"], running["done"], running["total"], running["finished"]) == (
        "running", 37, 3, 8, False,
    )  # fmt: skip


def test_a_failed_run_shows_its_error_and_the_label_follows_the_language(client):
    run = JobRun.objects.create(job="demo.job", status=JobRun.Status.FAILED, error="The statement is approved.")
    client.force_login(ChannelAdminFactory())
    body = client.get(status_url(run)).json()
    assert (body["finished"], body["error"], body["status_label"]) == (True, "The statement is approved.", "Failed")
    body = client.get(status_url(run), HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    assert body["status_label"] == "失败"


def test_an_error_is_shown_only_once_the_run_failed(client):
    run = JobRun.objects.create(job="demo.job", status=JobRun.Status.RUNNING, error="left over")
    client.force_login(ChannelAdminFactory())
    assert client.get(status_url(run)).json()["error"] == ""


@pytest.mark.parametrize("factory", [PartnerUserFactory, PartnerAdminUserFactory])
def test_partner_users_never_see_runs(client, factory):
    run = job_queue("incentives.rebate_statements_run")
    client.force_login(factory(partner=PartnerFactory()))
    response = client.get(status_url(run))
    assert response.status_code == 403
    assert b'"job"' not in response.content


def test_anonymous_visitors_are_sent_to_sign_in_and_unknown_runs_are_not_found(client):
    run = job_queue("demo.job")
    response = client.get(status_url(run))
    assert response.status_code == 302 and "login" in response.url
    client.force_login(ChannelAdminFactory())
    assert client.get(f"/jobs/{run.pk + 1000}/").status_code == 404
