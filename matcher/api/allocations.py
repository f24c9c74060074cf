"""Allocations: the waiting list allocated by CP-SAT, as a job in the worker process.

``POST /allocations`` answers 202 at once with the job (429 when its maker, or their role,
has as many jobs queued or running as allowed); ``GET /allocations/{id}`` gives its
status, place in the queue, progress and, once done, the allocation (the same Result
``matcher allocate`` writes); ``DELETE /allocations/{id}`` cancels it. The solve never
runs in the server process.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query, Response, status

from matcher.api.schemas import (
    AllocationIn,
    AllocationJobOut,
    ApprovalIn,
    ApprovalOut,
    BookedOut,
    RefusedOut,
)
from matcher.errors import Conflict
from matcher.formats.spreadsheets import MEDIA_TYPES
from matcher.register import jobs
from matcher.register.access import Action, Role, audit
from matcher.register.approval import approve
from matcher.register.downloads import allocation_spreadsheet
from matcher.register.store import bump_version
from matcher.result import Result
from matcher.service.deps import Navigating, Planning, ServicesDep, own_job

router = APIRouter(prefix="/allocations", tags=["allocations"])

TOO_MANY: dict[int | str, dict[str, Any]] = {
    429: {"description": "As many jobs queued or running as allowed; see Retry-After."}
}


@router.post(
    "", response_model=AllocationJobOut, status_code=status.HTTP_202_ACCEPTED, responses=TOO_MANY
)
def post_allocation(
    found: ServicesDep,
    who: Planning,
    body: Annotated[AllocationIn | None, Body()] = None,
) -> AllocationJobOut:
    """Queue an allocation of the register's waiting list."""
    params = body or AllocationIn()
    with found.database.write() as session:
        job = jobs.create(
            session,
            jobs.JobKind.ALLOCATION,
            params.model_dump() | {jobs.PLANNING_DATE: found.register.planning_date().isoformat()},
            who.subject,
            who.role.value,
            found.config.job_limits,
        )
        out = AllocationJobOut.of(job, position=jobs.position(session, job))
    found.worker.submit(job.id)
    return out


@router.get("/{job_id}", response_model=AllocationJobOut)
def get_allocation(job_id: str, found: ServicesDep, who: Planning) -> AllocationJobOut:
    """The job; once done, its allocation. A commissioner sees its figures only; anyone
    else sees the children in it, and each child so read gets an audit row."""
    figures_only = who.role is Role.COMMISSIONER
    with found.database.write() as session:
        job = jobs.get(session, jobs.JobKind.ALLOCATION, job_id)
        out = AllocationJobOut.of(
            job, figures_only=figures_only, position=jobs.position(session, job)
        )
        if out.result is not None and not figures_only:
            for referral_id in sorted(out.result.referral_ids()):
                audit(session, who, Action.READ, referral_id, f"allocation {job_id}")
    return out


@router.get(
    "/{job_id}/spreadsheet",
    response_class=Response,
    responses={
        200: {
            "content": {media: {} for media in MEDIA_TYPES.values()},
            "description": "Who goes where, days or nights, costs, and who waits and why.",
        },
        409: {"description": "The allocation has not finished."},
    },
)
def get_allocation_spreadsheet(
    job_id: str,
    found: ServicesDep,
    who: Navigating,
    format: Annotated[Literal["csv", "xlsx"], Query(description="csv or xlsx")] = "xlsx",
) -> Response:
    """The finished allocation as a spreadsheet (a navigator's: it names children, and each
    child in it is audited)."""
    content = allocation_spreadsheet(found.database, found.register, who, job_id, format)
    return Response(
        content,
        media_type=MEDIA_TYPES[format],
        headers={"Content-Disposition": f'attachment; filename="allocation.{format}"'},
    )


@router.post(
    "/{job_id}/approve",
    response_model=ApprovalOut,
    responses={409: {"description": "The allocation has not finished."}},
)
def approve_allocation(
    job_id: str,
    found: ServicesDep,
    who: Navigating,
    body: Annotated[ApprovalIn | None, Body()] = None,
) -> ApprovalOut:
    """The panel's approval: book the allocation's placements, for every child or the
    children given, in one step. A child whose place is no longer free (capacity changed,
    booked meanwhile, a rule now bites) is reported with the reason; the rest are booked."""
    chosen = set(body.referral_ids) if body and body.referral_ids is not None else None
    with found.database.write() as session:
        job = jobs.get(session, jobs.JobKind.ALLOCATION, job_id)
        if job.result is None:
            raise Conflict("not_done", "the allocation has not finished")
        instance = found.register.instance(session)
        hours = found.config.offer_hours if body is not None and body.as_offers else None
        done = approve(
            session,
            instance,
            Result.model_validate(job.result),
            who,
            chosen,
            f"allocation {job_id}",
            hours,
        )
        if done.booked:
            bump_version(session)
    return ApprovalOut(
        booked=[BookedOut(referral_id=r, placement_id=p) for r, p in done.booked],
        refused=[
            RefusedOut(referral_id=r.referral_id, code=r.code, message=r.message)
            for r in done.refused
        ],
        kept=done.kept,
    )


@router.delete("/{job_id}", response_model=AllocationJobOut)
def delete_allocation(job_id: str, found: ServicesDep, who: Planning) -> AllocationJobOut:
    """Cancel the job, queued or running (its solve is stopped). Its maker or an
    administrator only; an ended job is left as it is."""
    with found.database.write() as session:
        job = own_job(jobs.get(session, jobs.JobKind.ALLOCATION, job_id), who)
        out = AllocationJobOut.of(jobs.cancel(session, job, who.subject), figures_only=True)
    found.worker.submit(job_id)
    return out
