"""GET /metrics: the service's Prometheus metrics (:mod:`matcher.service.observe`), for an
administrator's token (a scraper is given one). Nothing in them names a person or a child."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import func, select

from matcher.register.jobs import ACTIVE, JobKind
from matcher.register.tables import JobRow
from matcher.service.deps import Admin, Services, ServicesDep

router = APIRouter(tags=["health"])


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text."}},
)
def metrics(found: ServicesDep, who: Admin) -> Response:
    """Requests and latencies by route, jobs queued and running, solve times, sign-ins
    refused: Prometheus's text format."""
    _jobs(found)
    return Response(generate_latest(found.metrics.registry), media_type=CONTENT_TYPE_LATEST)


def _jobs(found: Services) -> None:
    """The job queue now, and the solve time of every job finished since the last look."""
    with found.database.read() as db:
        rows = db.execute(
            select(JobRow.kind, JobRow.status, func.count())
            .where(JobRow.status.in_(ACTIVE))
            .group_by(JobRow.kind, JobRow.status)
        ).tuples()
        counts = {(kind, status): count for kind, status, count in rows}
        since = found.jobs_seen_until
        done = select(JobRow.kind, JobRow.started_at, JobRow.finished_at).where(
            JobRow.finished_at.is_not(None), JobRow.started_at.is_not(None)
        )
        if since is not None:
            done = done.where(JobRow.finished_at > since)
        finished = list(db.execute(done).tuples())
    for kind in JobKind:
        for status in ACTIVE:
            found.metrics.jobs.labels(kind.value, status).set(counts.get((kind.value, status), 0))
    latest: datetime | None = since
    for job_kind, started, ended in finished:
        if started is None or ended is None:
            continue
        found.metrics.solve.labels(job_kind).observe((ended - started).total_seconds())
        latest = ended if latest is None or ended > latest else latest
    found.jobs_seen_until = latest
