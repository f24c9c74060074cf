"""Scenarios: a commissioner's what-if document, run as a job like an allocation.

The document is a scenario file's content (docs/scenarios.md) without ``base``: its
variants change the register as it is. It is checked before it is queued (422 with the
field's path for an unknown change, provider, unit or slot); the variants are solved in
the worker process by :func:`matcher.scenario.api.run_document`.
"""

from __future__ import annotations

from fastapi import APIRouter, status

from matcher.api.deps import Commissioning, ServicesDep
from matcher.api.schemas import ScenarioIn, ScenarioJobOut
from matcher.register import jobs
from matcher.scenario.api import check_document

router = APIRouter(prefix="/scenarios", tags=["scenarios"])


@router.post(
    "",
    response_model=ScenarioJobOut,
    status_code=status.HTTP_202_ACCEPTED,
)
def post_scenario(body: ScenarioIn, found: ServicesDep, who: Commissioning) -> ScenarioJobOut:
    """Queue a scenario document; its variants are solved in the worker process."""
    # Every variant is built on the register now, so a mistake is a 422, not a failed job.
    check_document(dict(body.document), found.register.instance())
    with found.database.write() as session:
        job = jobs.create(session, jobs.JobKind.SCENARIO, {"document": body.document}, who.subject)
    found.worker.submit(job.id)
    return ScenarioJobOut.of(job)


@router.get("/{job_id}", response_model=ScenarioJobOut)
def get_scenario(job_id: str, found: ServicesDep, who: Commissioning) -> ScenarioJobOut:
    with found.database.read() as session:
        return ScenarioJobOut.of(jobs.get(session, jobs.JobKind.SCENARIO, job_id))
