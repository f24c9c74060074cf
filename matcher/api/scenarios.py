"""Scenarios: a commissioner's what-if document, run as a job like an allocation.

The scenario engine is :func:`matcher.scenario.api.run_document`; a build without it
answers 503 and queues nothing.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status

from matcher.api.deps import Commissioning, ServicesDep
from matcher.api.schemas import ErrorOut, ScenarioIn, ScenarioJobOut
from matcher.register import jobs

router = APIRouter(prefix="/scenarios", tags=["scenarios"])


@router.post(
    "",
    response_model=ScenarioJobOut,
    status_code=status.HTTP_202_ACCEPTED,
    responses={503: {"model": ErrorOut, "description": "This build has no scenario engine."}},
)
def post_scenario(body: ScenarioIn, found: ServicesDep, who: Commissioning) -> ScenarioJobOut:
    """Queue a scenario document; its variants are solved in the worker process."""
    if not jobs.scenarios_available():
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, "scenarios are not available in this build"
        )
    with found.database.write() as session:
        job = jobs.create(session, jobs.JobKind.SCENARIO, {"document": body.document}, who.subject)
    found.worker.submit(job.id)
    return ScenarioJobOut.of(job)


@router.get("/{job_id}", response_model=ScenarioJobOut)
def get_scenario(job_id: str, found: ServicesDep, who: Commissioning) -> ScenarioJobOut:
    with found.database.read() as session:
        return ScenarioJobOut.of(jobs.get(session, jobs.JobKind.SCENARIO, job_id))
