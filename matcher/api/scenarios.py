"""Scenarios: a commissioner's what-if document, run as a job like an allocation.

The document is a scenario file's content (docs/scenarios.md) without ``base``: its
variants change the register as it is. It is checked before it is queued (422 with the
field's path for an unknown change, provider, unit or slot); the variants are solved in
the worker process by :func:`matcher.scenario.api.run_document`. A job can be cancelled
(``DELETE``); too many queued or running gets 429.
"""

from __future__ import annotations

from fastapi import APIRouter, status

from matcher.api.allocations import TOO_MANY
from matcher.api.schemas import ScenarioIn, ScenarioJobOut
from matcher.register import jobs
from matcher.scenario.api import check_document
from matcher.service.deps import Commissioning, ServicesDep, own_job

router = APIRouter(prefix="/scenarios", tags=["scenarios"])


@router.post(
    "", response_model=ScenarioJobOut, status_code=status.HTTP_202_ACCEPTED, responses=TOO_MANY
)
def post_scenario(body: ScenarioIn, found: ServicesDep, who: Commissioning) -> ScenarioJobOut:
    """Queue a scenario document; its variants are solved in the worker process."""
    # Every variant is built on the register now, so a mistake is a 422, not a failed job.
    check_document(dict(body.document), found.register.instance())
    with found.database.write() as session:
        job = jobs.create(
            session,
            jobs.JobKind.SCENARIO,
            {
                "document": body.document,
                jobs.PLANNING_DATE: found.register.planning_date().isoformat(),
            },
            who.subject,
            who.role.value,
            found.config.job_limits,
        )
        out = ScenarioJobOut.of(job, jobs.position(session, job))
    found.worker.submit(job.id)
    return out


@router.get("/{job_id}", response_model=ScenarioJobOut)
def get_scenario(job_id: str, found: ServicesDep, who: Commissioning) -> ScenarioJobOut:
    with found.database.read() as session:
        job = jobs.get(session, jobs.JobKind.SCENARIO, job_id)
        return ScenarioJobOut.of(job, jobs.position(session, job))


@router.delete("/{job_id}", response_model=ScenarioJobOut)
def delete_scenario(job_id: str, found: ServicesDep, who: Commissioning) -> ScenarioJobOut:
    """Cancel the job, queued or running. Its maker or an administrator only."""
    with found.database.write() as session:
        job = own_job(jobs.get(session, jobs.JobKind.SCENARIO, job_id), who)
        out = ScenarioJobOut.of(jobs.cancel(session, job, who.subject))
    found.worker.submit(job_id)
    return out
