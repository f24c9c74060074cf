"""The job queue (issue 14.4): bounded per person and per role (429), a place in the
queue, cancelled by its maker or an administrator, and fenced: a run the service has
declared dead can never overwrite its job's record.

In process, with the worker off (jobs stay queued) unless a test starts it. The worker
dying with the server, and a running job stopped when cancelled, are in
``tests/register/test_faults.py`` against ``matcher serve``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from matcher.app import create_app
from matcher.register import jobs
from matcher.register.database import Database
from matcher.register.jobs import JobKind, JobLimits, JobStatus
from matcher.register.store import Register
from matcher.register.tables import JobRow
from tests.clients import auth, config, small_instance


@pytest.fixture
def url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'register.sqlite'}"
    Register(url).replace(small_instance())
    return url


@pytest.fixture
def client(url: str) -> Iterator[TestClient]:
    limits = JobLimits(per_user=3, per_role=4)
    app = create_app(config(url, start_worker=False, job_limits=limits))
    with TestClient(app) as test_client:
        yield test_client


def queue(client: TestClient, role: str) -> dict:  # type: ignore[type-arg]
    answer = client.post("/allocations", json={"budget": 1}, headers=auth(role))
    assert answer.status_code == 202, answer.json()
    return answer.json()  # type: ignore[no-any-return]


def test_each_person_and_each_role_has_a_bounded_queue(client: TestClient) -> None:
    made = [queue(client, "commissioner") for _ in range(3)]
    refused = client.post("/allocations", json={"budget": 1}, headers=auth("commissioner"))
    assert refused.status_code == 429
    assert refused.json()["code"] == "too_many_jobs" and int(refused.headers["Retry-After"]) > 0
    assert "3 jobs queued or running" in refused.json()["detail"]
    # The same person's scenarios count too.
    doc = {"document": {"name": "x", "variants": [{"name": "as now"}]}}
    assert client.post("/scenarios", json=doc, headers=auth("commissioner")).status_code == 429
    # Another person of another role is not held up ...
    queue(client, "navigator")
    # ... and cancelling one makes room again.
    client.delete(f"/allocations/{made[0]['id']}", headers=auth("commissioner"))
    queue(client, "commissioner")


def test_a_role_has_a_bounded_queue_too(url: str) -> None:
    limits = JobLimits(per_user=5, per_role=2)
    with TestClient(create_app(config(url, start_worker=False, job_limits=limits))) as client:
        queue(client, "admin")
        queue(client, "admin")
        refused = client.post("/allocations", json={"budget": 1}, headers=auth("admin"))
        assert refused.status_code == 429
        assert "the admin role has 2 jobs" in refused.json()["detail"]


def test_a_queued_job_knows_its_place_and_can_be_cancelled(client: TestClient) -> None:
    made = [queue(client, "commissioner") for _ in range(3)]
    assert [job["position"] for job in made] == [1, 2, 3]
    # Someone else may not cancel it; its maker may.
    other = client.delete(f"/allocations/{made[0]['id']}", headers=auth("navigator"))
    assert other.status_code == 403
    cancelled = client.delete(f"/allocations/{made[0]['id']}", headers=auth("commissioner"))
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled" and cancelled.json()["position"] is None
    places = [
        client.get(f"/allocations/{job['id']}", headers=auth("commissioner")).json()["position"]
        for job in made[1:]
    ]
    assert places == [1, 2]
    # Room for one more now; an administrator may cancel anyone's.
    queue(client, "commissioner")
    admin = client.delete(f"/allocations/{made[1]['id']}", headers=auth("admin"))
    assert admin.json()["status"] == "cancelled"
    # Cancelling an ended job changes nothing.
    again = client.delete(f"/allocations/{made[1]['id']}", headers=auth("admin"))
    assert again.json()["error"] == admin.json()["error"]


def test_a_run_declared_dead_cannot_overwrite_its_job(url: str) -> None:
    database = Database(url)
    with database.write() as session:
        job = jobs.create(
            session, JobKind.ALLOCATION, {"budget": 1}, "com-1", "commissioner", JobLimits()
        )
        job_id = job.id
    runner = str(uuid.uuid4())
    with database.write() as session:
        row = session.get(JobRow, job_id)
        assert row is not None
        row.status, row.runner = JobStatus.RUNNING.value, runner
    # The service restarts and declares the run dead ...
    with database.write() as session:
        row = session.get(JobRow, job_id)
        assert row is not None
        row.status, row.error = JobStatus.FAILED.value, "the service stopped"
    # ... and the old run, finishing later, writes nothing.
    assert not jobs.finish(database, job_id, runner, JobStatus.DONE, result={"x": 1})
    with database.read() as session:
        row = session.get(JobRow, job_id)
        assert row is not None and (row.status, row.result) == ("failed", None)
    database.dispose()
