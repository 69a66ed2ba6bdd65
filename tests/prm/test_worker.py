"""A job goes through a real Celery worker process: the broker named by the settings (Redis when
REDIS_URL is set, the file-system broker otherwise), serialisation, and the database."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.db import connection

from partners.models import Partner
from partners.tasks import region_paths_rebuild
from prm.models import JobRun
from tests.factories import DistributorFactory, PartnerFactory

ROOT = Path(__file__).resolve().parents[2]


def _database_url():
    """The URL of the test database this test process uses, for the worker to use too."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    user = db.get("USER") or ""
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    credentials = f"{user}{password}@" if user else ""
    return f"postgres://{credentials}{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


@pytest.fixture
def worker_env():
    """Extra environment of the worker process; a test module overrides it to change a setting."""
    return {}


@pytest.fixture
def worker(worker_env):
    """A real worker on a queue of its own, so that no other worker can take the test's task."""
    queue = f"test-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "DATABASE_URL": _database_url(), **worker_env}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "prm",
            "worker",
            "--pool=solo",
            "-Q",
            queue,
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "--loglevel=INFO",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield queue
    finally:
        process.terminate()
        try:
            output, _ = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
        print(output[-4000:])


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_nightly_path_repair_runs_in_a_real_worker_and_records_its_run(worker):
    distributor = DistributorFactory()
    reseller = PartnerFactory(parent=distributor)
    # Drift that the nightly job must repair: a path edited behind the application's back.
    Partner.objects.filter(pk=reseller.pk).update(path="/999999/", depth=1)

    result = region_paths_rebuild.apply_async(queue=worker)
    rows = result.get(timeout=120)

    assert rows == 1
    reseller.refresh_from_db()
    assert reseller.path == f"/{distributor.pk}/{reseller.pk}/"
    assert reseller.depth == 2
    run = JobRun.objects.get(job="partners.region_paths_rebuild")
    assert run.status == JobRun.Status.SUCCEEDED
    assert run.rows_written == 1
    assert run.finished_at is not None
