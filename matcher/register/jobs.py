"""Long solves as jobs: a row in the database, run by one long-lived worker process.

A job has a kind (``allocation``, ``scenario``), a JSON payload, a status (queued,
running, done, failed), a progress between 0 and 1, and a JSON result. The service
creates the row and hands its id to :class:`Worker`, a process pool of one process
started with the service (``spawn``, so it shares nothing with the server's threads)
whose initializer imports OR-Tools once: a job never pays that again, and the server's
event loop never runs a solve. The worker writes status, progress and result to the
database, so any server process can answer for any job, and a job outlives the request
that made it.

Kinds map to runners below; each runner gets the database, the payload, and a progress
callback, and returns a JSON-able result.
"""

from __future__ import annotations

import logging
import multiprocessing
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from enum import StrEnum
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from matcher.errors import NotFound
from matcher.storage.database import Database, utcnow
from matcher.storage.faults import RegisterBusy, classify
from matcher.storage.tables import JobRow

log = logging.getLogger("matcher.jobs")

Progress = Callable[[float], None]


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class JobKind(StrEnum):
    ALLOCATION = "allocation"
    SCENARIO = "scenario"


def create(session: Session, kind: JobKind, payload: dict[str, Any], who: str) -> JobRow:
    job = JobRow(
        id=str(uuid.uuid4()),
        kind=kind.value,
        status=JobStatus.QUEUED.value,
        progress=0.0,
        payload=payload,
        result=None,
        error=None,
        created_by=who,
        created_at=utcnow(),
    )
    session.add(job)
    return job


def get(session: Session, kind: JobKind, job_id: str) -> JobRow:
    job = session.get(JobRow, job_id)
    if job is None or job.kind != kind.value:
        raise NotFound(f"no {kind.value} job {job_id}")
    return job


# ----- runners (in the worker process) -----------------------------------------------


def _allocation(database: Database, payload: dict[str, Any], progress: Progress) -> Any:
    from matcher.allocate import allocate
    from matcher.register.records import load_with_bookings
    from matcher.result import Params

    with database.read() as session:
        instance = load_with_bookings(session)
    progress(0.05)
    # The overnight part reports the share of the budget it used; the day part ends it.
    result = allocate(
        instance, Params.model_validate(payload), lambda share: progress(0.05 + 0.9 * share)
    )
    return result.model_dump(mode="json")


def _scenario(database: Database, payload: dict[str, Any], progress: Progress) -> Any:
    from matcher.register.records import load_with_bookings
    from matcher.scenario.api import run_document

    # The variants change the register as it is, bookings included.
    with database.read() as session:
        instance = load_with_bookings(session)
    return run_document(payload["document"], progress, base=instance)


RUNNERS: dict[str, Callable[[Database, dict[str, Any], Progress], Any]] = {
    JobKind.ALLOCATION.value: _allocation,
    JobKind.SCENARIO.value: _scenario,
}

_databases: dict[str, Database] = {}


def _database(url: str) -> Database:
    if url not in _databases:
        _databases[url] = Database(url)
    return _databases[url]


def run(url: str, job_id: str) -> str:
    """Run one job to the end, recording everything in the database; returns its status."""
    database = _database(url)
    with database.write() as session:
        started = session.execute(
            update(JobRow)
            .where(JobRow.id == job_id, JobRow.status == JobStatus.QUEUED.value)
            .values(status=JobStatus.RUNNING.value, started_at=utcnow(), progress=0.0)
        )
        if getattr(started, "rowcount", 0) != 1:
            return "skipped"
        job = session.get(JobRow, job_id)
        assert job is not None
        kind, payload = job.kind, dict(job.payload)

    last = [0.0]

    def progress(fraction: float) -> None:
        # At most a few writes a second, whatever the runner reports.
        now = time.monotonic()
        if now - last[0] < 0.25 and fraction < 1.0:
            return
        last[0] = now
        with database.write() as session:
            session.execute(
                update(JobRow)
                .where(JobRow.id == job_id)
                .values(progress=max(0.0, min(1.0, float(fraction))))
            )

    try:
        result = RUNNERS[kind](database, payload, progress)
    except Exception as exc:  # a job's failure is recorded, never lost with the worker
        # Only the kind of error: messages from deep in a solve could quote input data.
        finish(database, job_id, JobStatus.FAILED, error=f"{type(exc).__name__}: the job failed")
        log.warning("job %s (%s) failed: %s", job_id, kind, type(exc).__name__)
        return JobStatus.FAILED.value
    finish(database, job_id, JobStatus.DONE, result=result)
    return JobStatus.DONE.value


def finish(
    database: Database,
    job_id: str,
    status: JobStatus,
    *,
    result: Any = None,
    error: str | None = None,
) -> None:
    with database.write() as session:
        values: dict[str, Any] = {"status": status.value, "finished_at": utcnow()}
        if status is JobStatus.DONE:
            values.update(progress=1.0, result=result)
        else:
            values.update(error=error)
        session.execute(update(JobRow).where(JobRow.id == job_id).values(**values))


def _warm_up() -> None:
    """The worker's initializer: pay for importing OR-Tools and the solver once."""
    import matcher.allocate  # noqa: F401  (imports ortools)


class Worker:
    """One long-lived worker process that runs jobs one after another."""

    def __init__(self, database: Database):
        self.database = database
        self._pool: ProcessPoolExecutor | None = None

    def start(self) -> None:
        self._pool = ProcessPoolExecutor(
            max_workers=1,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_warm_up,
        )
        # Jobs queued before a restart are run now; jobs that were running are lost. A
        # register that cannot be written just now (read-only, busy) is left as it is.
        try:
            self._recover()
        except (DBAPIError, RegisterBusy) as exc:
            if classify(exc) is None:
                raise
            log.warning("jobs not recovered at start: the register is %s", classify(exc))

    def _recover(self) -> None:
        with self.database.write() as session:
            session.execute(
                update(JobRow)
                .where(JobRow.status == JobStatus.RUNNING.value)
                .values(
                    status=JobStatus.FAILED.value,
                    error="the service stopped while this job was running",
                    finished_at=utcnow(),
                )
            )
            queued = list(
                session.scalars(select(JobRow.id).where(JobRow.status == JobStatus.QUEUED.value))
            )
        for job_id in queued:
            self.submit(job_id)

    def submit(self, job_id: str) -> None:
        """Run the job in the worker; without a worker it stays queued until one starts."""
        if self._pool is None:
            return
        try:
            future = self._pool.submit(run, self.database.url, job_id)
        except BrokenProcessPool:
            self.start()  # the worker died (out of memory, killed): start a new one
            assert self._pool is not None
            future = self._pool.submit(run, self.database.url, job_id)
        future.add_done_callback(lambda done: self._after(job_id, done))

    def _after(self, job_id: str, future: Future[str]) -> None:
        exc = future.exception()
        if exc is not None:
            log.warning("worker lost job %s: %s", job_id, type(exc).__name__)
            finish(self.database, job_id, JobStatus.FAILED, error="the worker process failed")

    @property
    def alive(self) -> bool:
        return self._pool is not None

    def stop(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
