"""Long solves as jobs: a row in the database, run one at a time by a worker process.

A job has a kind (``allocation``, ``scenario``), a JSON payload, a status (queued,
running, done, failed, cancelled), a progress between 0 and 1, and a JSON result. The
queue is the table itself: jobs run in the order they were made.

**Bounded.** Each person may have :attr:`JobLimits.per_user` jobs queued or running, and
each role :attr:`JobLimits.per_role`; past that a new one is refused (HTTP 429) until one
ends. A queued job knows its place in the queue; its maker (or an administrator) may
cancel it, queued or running.

**One worker, owned by the server.** :class:`Worker` runs a dispatcher thread in the
server and one worker process (``spawn``: it shares nothing with the server's threads;
it imports OR-Tools once). The dispatcher takes the next queued job, hands it to the
worker process and watches it: a job cancelled meanwhile has its worker process killed
and a new one started; so has one whose worker dies. The worker process dies with the
server, however the server ends (Linux's parent-death signal, and a watchdog that sees
its parent gone), so no solve outlives the service.

**Fenced.** A job is claimed by one run (a random ``runner`` id written with ``running``);
every later write of that run (progress, result, failure) happens only while the row
still says ``running`` with that runner. A run the service has declared dead (restarted,
cancelled) can therefore never overwrite the job's record.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import multiprocessing
import os
import signal
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from multiprocessing.connection import Connection
from typing import Any

from sqlalchemy import and_, func, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from matcher.errors import MatcherError, NotFound
from matcher.model import Instance
from matcher.register.database import Database, utcnow
from matcher.register.faults import RegisterBusy, classify
from matcher.register.tables import JobRow

log = logging.getLogger("matcher.jobs")

Progress = Callable[[float], None]


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


ACTIVE = (JobStatus.QUEUED.value, JobStatus.RUNNING.value)


class JobKind(StrEnum):
    ALLOCATION = "allocation"
    SCENARIO = "scenario"


@dataclass(frozen=True)
class JobLimits:
    """Jobs queued or running at once: per person, and per role."""

    per_user: int = 3
    per_role: int = 10


class TooManyJobs(MatcherError):
    """A person or a role has as many jobs queued or running as allowed (HTTP 429)."""


#: Seconds a client refused for too many jobs is asked to wait.
TOO_MANY_RETRY_AFTER = 30


def create(
    session: Session,
    kind: JobKind,
    payload: dict[str, Any],
    who: str,
    role: str,
    limits: JobLimits,
) -> JobRow:
    """Queue a job, unless its maker or their role has as many active ones as allowed."""
    mine = session.scalar(
        select(func.count())
        .select_from(JobRow)
        .where(JobRow.created_by == who, JobRow.status.in_(ACTIVE))
    )
    if (mine or 0) >= limits.per_user:
        raise TooManyJobs(
            f"you have {mine} jobs queued or running, the most allowed; wait for one to "
            "end, or cancel one"
        )
    theirs = session.scalar(
        select(func.count())
        .select_from(JobRow)
        .where(JobRow.role == role, JobRow.status.in_(ACTIVE))
    )
    if (theirs or 0) >= limits.per_role:
        raise TooManyJobs(
            f"the {role} role has {theirs} jobs queued or running, the most allowed; "
            "try again when one has ended"
        )
    job = JobRow(
        id=str(uuid.uuid4()),
        kind=kind.value,
        status=JobStatus.QUEUED.value,
        progress=0.0,
        payload=payload,
        result=None,
        error=None,
        created_by=who,
        role=role,
        created_at=utcnow(),
    )
    session.add(job)
    return job


def get(session: Session, kind: JobKind, job_id: str) -> JobRow:
    job = session.get(JobRow, job_id)
    if job is None or job.kind != kind.value:
        raise NotFound(f"no {kind.value} job {job_id}")
    return job


def recent(session: Session, kind: JobKind, limit: int = 100) -> list[JobRow]:
    """The latest jobs of a kind, newest first."""
    query = (
        select(JobRow)
        .where(JobRow.kind == kind.value)
        .order_by(JobRow.created_at.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def position(session: Session, job: JobRow) -> int | None:
    """A queued job's place in the queue (1: it runs next), or None if it is not queued."""
    if job.status != JobStatus.QUEUED.value:
        return None
    ahead = session.scalar(
        select(func.count())
        .select_from(JobRow)
        .where(
            JobRow.status == JobStatus.QUEUED.value,
            (JobRow.created_at < job.created_at)
            | (and_(JobRow.created_at == job.created_at, JobRow.id < job.id)),
        )
    )
    return int(ahead or 0) + 1


def cancel(session: Session, job: JobRow, who: str) -> JobRow:
    """Cancel a queued or running job (its worker stops it); an ended job is left as it is."""
    session.execute(
        update(JobRow)
        .where(JobRow.id == job.id, JobRow.status.in_(ACTIVE))
        .values(
            status=JobStatus.CANCELLED.value,
            error=f"cancelled by {who}",
            finished_at=utcnow(),
        )
    )
    session.refresh(job)
    return job


# ----- runners (in the worker process) -----------------------------------------------


#: A job's payload names the date its plans run from: the service's planning date when
#: it was made (today, unless the service is configured with one).
PLANNING_DATE = "planning_date"


#: Where the job worker solves a region's district blocks and a scenario's variants
#: (:mod:`matcher.executor`): the service's setting, never a request's.
EXECUTOR_SETTING = "MATCHER_EXECUTOR"


def executor_setting() -> str:
    """The service's executor (``local`` unless ``MATCHER_EXECUTOR`` names a Dask cluster)."""
    from matcher.executor import checked

    return checked(os.environ.get(EXECUTOR_SETTING) or "local", EXECUTOR_SETTING)


def _planned_from(payload: dict[str, Any]) -> date | None:
    text = payload.get(PLANNING_DATE)
    return date.fromisoformat(text) if text else None


def open_journeys(session: Session, instance: Instance) -> Instance:
    """The instance without the referrals whose journey has ended or been closed: the
    allocation places the children waiting (placed ones stay where they are unless moves
    are allowed). An ended placement has left the register's capacity already."""
    from matcher.register import journey

    states = journey.states(session)
    keep = [r for r in instance.referrals if not states.get(r.id, journey.State.WAITING).final]
    if len(keep) == len(instance.referrals):
        return instance
    ids = {r.id for r in keep}
    keep = [
        r.model_copy(update={"incompatible_with": [k for k in r.incompatible_with if k in ids]})
        if set(r.incompatible_with) - ids
        else r
        for r in keep
    ]
    return instance.model_copy(update={"referrals": keep})


def _allocation(database: Database, payload: dict[str, Any], progress: Progress) -> Any:
    from matcher.allocate import allocate
    from matcher.register.records import load_with_bookings
    from matcher.result import Params

    with database.read() as session:
        instance = open_journeys(session, load_with_bookings(session, _planned_from(payload)))
    progress(0.05)
    asked = {k: v for k, v in payload.items() if k != PLANNING_DATE}
    params = Params.model_validate(asked | {"executor": executor_setting()})
    # The overnight part reports the share of the budget it used; the day part ends it.
    result = allocate(instance, params, lambda share: progress(0.05 + 0.9 * share))
    return result.model_dump(mode="json")


def _scenario(database: Database, payload: dict[str, Any], progress: Progress) -> Any:
    from matcher.register.records import load_with_bookings
    from matcher.scenario.api import run_document

    # The variants change the register as it is, bookings included.
    with database.read() as session:
        instance = load_with_bookings(session, _planned_from(payload))
    return run_document(payload["document"], progress, base=instance, executor=executor_setting())


RUNNERS: dict[str, Callable[[Database, dict[str, Any], Progress], Any]] = {
    JobKind.ALLOCATION.value: _allocation,
    JobKind.SCENARIO.value: _scenario,
}


class _NotOurs(Exception):
    """The job's record no longer belongs to this run (cancelled, or declared dead)."""


def _fenced(job_id: str, runner: str) -> Any:
    return and_(
        JobRow.id == job_id, JobRow.runner == runner, JobRow.status == JobStatus.RUNNING.value
    )


def run(database: Database, job_id: str, runner: str) -> str:
    """Run one job to the end as ``runner``, recording everything in the database; returns
    its status ("skipped" if it was not queued any more)."""
    with database.write() as session:
        started = session.execute(
            update(JobRow)
            .where(JobRow.id == job_id, JobRow.status == JobStatus.QUEUED.value)
            .values(
                status=JobStatus.RUNNING.value, runner=runner, started_at=utcnow(), progress=0.0
            )
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
            changed = session.execute(
                update(JobRow)
                .where(_fenced(job_id, runner))
                .values(progress=max(0.0, min(1.0, float(fraction))))
            )
            if getattr(changed, "rowcount", 0) != 1:
                raise _NotOurs(job_id)

    try:
        result = RUNNERS[kind](database, payload, progress)
    except _NotOurs:
        return "abandoned"
    except Exception as exc:  # a job's failure is recorded, never lost with the worker
        # Only the kind of error: messages from deep in a solve could quote input data.
        finish(database, job_id, runner, JobStatus.FAILED, error=f"{type(exc).__name__}")
        log.warning("job %s (%s) failed: %s", job_id, kind, type(exc).__name__)
        return JobStatus.FAILED.value
    finish(database, job_id, runner, JobStatus.DONE, result=result)
    return JobStatus.DONE.value


def finish(
    database: Database,
    job_id: str,
    runner: str | None,
    status: JobStatus,
    *,
    result: Any = None,
    error: str | None = None,
) -> bool:
    """End a running job, if it is still ``runner``'s (None: whoever's run it is); whether
    it was."""
    values: dict[str, Any] = {"status": status.value, "finished_at": utcnow()}
    if status is JobStatus.DONE:
        values.update(progress=1.0, result=result)
    else:
        values.update(error=error)
    condition = (
        _fenced(job_id, runner)
        if runner is not None
        else and_(JobRow.id == job_id, JobRow.status == JobStatus.RUNNING.value)
    )
    with database.write() as session:
        changed = session.execute(update(JobRow).where(condition).values(**values))
        return getattr(changed, "rowcount", 0) == 1


# ----- the worker process ------------------------------------------------------------------


def _die_with_parent() -> None:
    """End this process when the server ends, even by SIGKILL: Linux's parent-death
    signal, and, anywhere, a watchdog thread that sees the parent gone."""
    parent = os.getppid()
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # the parent died before the signal was set
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, daemon=True, name="parent-watchdog").start()


def _work(url: str, inbox: Connection) -> None:
    """The worker process: job ids in, statuses out, until the pipe closes."""
    _die_with_parent()
    import matcher.allocate  # noqa: F401  (imports ortools once)

    database = Database(url)
    while True:
        try:
            job_id, runner = inbox.recv()
        except (EOFError, OSError):
            return
        inbox.send(run(database, job_id, runner))


class Worker:
    """The dispatcher thread and its worker process: one job at a time, in queue order."""

    #: Seconds between looks at the queue when nothing wakes the dispatcher, and at a
    #: running job's record (cancelled?).
    POLL = 0.5

    def __init__(self, database: Database):
        self.database = database
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._process: multiprocessing.process.BaseProcess | None = None
        self._pipe: Connection | None = None
        self.running: str | None = None  # the job the worker process has now

    def start(self) -> None:
        # Jobs that were running when the service stopped are lost; queued ones run now.
        try:
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
        except (DBAPIError, RegisterBusy) as exc:
            if classify(exc) is None:
                raise
            log.warning("jobs not recovered at start: the register is %s", classify(exc))
        self._stopping.clear()
        self._thread = threading.Thread(target=self._dispatch, daemon=True, name="jobs")
        self._thread.start()

    def submit(self, job_id: str) -> None:
        """A job was queued: look at the queue now."""
        self._wake.set()

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self) -> None:
        """Stop the dispatcher and the worker process; a job it was running is failed."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self._kill()

    # -- the dispatcher ---------------------------------------------------------------

    def _dispatch(self) -> None:
        while not self._stopping.is_set():
            try:
                job_id = self._next()
            except (DBAPIError, RegisterBusy) as exc:
                log.warning("job queue unreadable: %s", type(exc).__name__)
                job_id = None
            if job_id is None:
                self._wake.wait(timeout=2.0)
                self._wake.clear()
                continue
            self._run(job_id)

    def _next(self) -> str | None:
        with self.database.read() as session:
            return session.scalar(
                select(JobRow.id)
                .where(JobRow.status == JobStatus.QUEUED.value)
                .order_by(JobRow.created_at, JobRow.id)
                .limit(1)
            )

    def _run(self, job_id: str) -> None:
        pipe = self._ensure_process()
        runner = str(uuid.uuid4())
        self.running = job_id
        pipe.send((job_id, runner))
        try:
            while not pipe.poll(self.POLL):
                if self._stopping.is_set():
                    self._kill()
                    finish(
                        self.database,
                        job_id,
                        runner,
                        JobStatus.FAILED,
                        error="the service stopped while this job was running",
                    )
                    return
                if not self._still_ours(job_id, runner):
                    log.info("job %s is no longer this run's: its worker is stopped", job_id)
                    self._kill()  # cancelled (or declared dead): stop the solve now
                    return
                if self._process is not None and not self._process.is_alive():
                    break
            try:
                pipe.recv()
            except (EOFError, OSError):
                # The worker process died under the job (out of memory, killed).
                self._kill()
                finish(self.database, job_id, runner, JobStatus.FAILED, error="the worker failed")
        finally:
            self.running = None

    def _still_ours(self, job_id: str, runner: str) -> bool:
        try:
            with self.database.read() as session:
                row = session.get(JobRow, job_id)
                if row is None:
                    return False
                if row.runner is None:
                    return True  # not claimed yet: the worker claims it, or skips it
                return row.status == JobStatus.RUNNING.value and row.runner == runner
        except (DBAPIError, RegisterBusy) as exc:
            log.warning("job %s: its record is unreadable (%s)", job_id, type(exc).__name__)
            return True  # cannot tell just now: let it run

    def _ensure_process(self) -> Connection:
        if self._process is None or not self._process.is_alive() or self._pipe is None:
            self._kill()
            context = multiprocessing.get_context("spawn")
            here, there = context.Pipe()
            self._process = context.Process(
                target=_work, args=(self.database.url, there), daemon=True, name="jobs-worker"
            )
            self._process.start()
            there.close()
            self._pipe = here
        return self._pipe

    def _kill(self) -> None:
        if self._pipe is not None:
            self._pipe.close()
            self._pipe = None
        if self._process is not None:
            if self._process.is_alive():
                self._process.kill()
            self._process.join(timeout=10)
            self._process = None
