"""Allocations: the waiting list allocated by CP-SAT, as a job in the worker process.

``POST /allocations`` answers 202 at once with the job; ``GET /allocations/{id}`` gives its
status, progress and, once done, the allocation (the same Result ``matcher allocate``
writes). The solve never runs in the server process.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, status

from matcher.api.deps import Planning, ServicesDep
from matcher.api.schemas import AllocationIn, AllocationJobOut, referral_ids
from matcher.register import jobs
from matcher.register.access import Action, Role, audit

router = APIRouter(prefix="/allocations", tags=["allocations"])


@router.post("", response_model=AllocationJobOut, status_code=status.HTTP_202_ACCEPTED)
def post_allocation(
    found: ServicesDep,
    who: Planning,
    body: Annotated[AllocationIn | None, Body()] = None,
) -> AllocationJobOut:
    """Queue an allocation of the register's waiting list."""
    params = body or AllocationIn()
    with found.database.write() as session:
        job = jobs.create(session, jobs.JobKind.ALLOCATION, params.model_dump(), who.subject)
    found.worker.submit(job.id)
    return AllocationJobOut.of(job)


@router.get("/{job_id}", response_model=AllocationJobOut)
def get_allocation(job_id: str, found: ServicesDep, who: Planning) -> AllocationJobOut:
    """The job; once done, its allocation. A commissioner sees its figures only; anyone
    else sees the children in it, and each child so read gets an audit row."""
    figures_only = who.role is Role.COMMISSIONER
    with found.database.write() as session:
        job = jobs.get(session, jobs.JobKind.ALLOCATION, job_id)
        out = AllocationJobOut.of(job, figures_only=figures_only)
        if out.result is not None and not figures_only:
            for referral_id in sorted(referral_ids(out.result)):
                audit(session, who, Action.READ, referral_id, f"allocation {job_id}")
    return out
