"""The panel's allocation in the pages: allocate the whole waiting list at once, watch it
run, and read the answer. A navigator reads who goes where (each child shown audited); a
commissioner reads the figures only, never a child, as in the API.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from matcher.errors import Conflict
from matcher.formats.spreadsheets import MEDIA_TYPES
from matcher.model import Instance
from matcher.pages.render import page
from matcher.pages.session import (
    CheckedForm,
    NavigatorPage,
    PageSession,
    PlanningPage,
    SessionDep,
)
from matcher.pages.whatif import STATUS_WORDS, cancel_job
from matcher.register import jobs
from matcher.register.access import Action, Principal, Role, audit
from matcher.register.approval import approve
from matcher.register.downloads import allocation_spreadsheet
from matcher.register.store import bump_version
from matcher.result import Effort, LevelResult, Result
from matcher.service.deps import Services, ServicesDep

router = APIRouter(include_in_schema=False)

#: Each level of the allocation in words (its value, what it counts).
LEVEL_WORDS = {
    "crisis_placed": "Children in crisis placed",
    "priority_placed": "Children placed, weighted by their priority",
    "waiting_order": "Children placed in the order they were referred",
    "cost": "Cost",
    "travel": "Minutes of travel",
    "moves": "Existing placements moved",
    "crisis_nights": "Nights given to children in crisis",
    "priority_nights": "Nights given, weighted by priority",
    "fair_shares": "Nights shared fairly",
    "preferred_nights": "Nights on the family's preferred nights",
    "routine": "Units and weekdays each child must get used to",
}
EFFORT_WORDS = {
    Effort.QUICK: "Quick: a good answer in seconds",
    Effort.STANDARD: "Standard: closer to the best, usually under half a minute",
    Effort.THOROUGH: "Thorough: the closest, a few minutes",
}


@dataclass(frozen=True)
class LevelLine:
    words: str
    value: str
    proven: bool


def _levels(levels: list[LevelResult], pence_over: str) -> list[LevelLine]:
    out = []
    for level in levels:
        if level.name == "cost":
            value = f"£{level.value / 100:,.0f} {pence_over}"
        else:
            value = f"{level.value:,}"
        out.append(LevelLine(LEVEL_WORDS.get(level.name, level.name), value, level.optimal))
    return out


@dataclass(frozen=True)
class Placed:
    referral_id: str
    provider: str
    what: str
    cost: str


def _placed(instance: Instance, result: Result) -> tuple[list[Placed], list[tuple[str, str]]]:
    """Who goes where, and each child left out with the first reason."""

    rows = [
        Placed(
            p.referral_id,
            instance.provider_name(p.provider_id),
            "; ".join(f"{instance.slot_label(s)} {h:g} h" for s, h in p.staff_hours.items()),
            f"£{p.cost:,.0f} a week",
        )
        for p in result.placements
    ]
    if result.overnight is not None:
        units = {u.id: (prov.name, u.name) for prov in instance.providers for u in prov.units}
        for child in result.overnight.children:
            if child.allocated:
                where = ", ".join(
                    f"{units[u][1]} ({units[u][0]})" for u in child.units if u in units
                )
                rows.append(
                    Placed(
                        child.referral_id,
                        where,
                        f"{child.allocated} of {child.requested} nights",
                        "",
                    )
                )
    left = [(u.referral_id, u.reasons[0].message if u.reasons else "") for u in result.unplaced]
    if result.overnight is not None:
        left += [
            (
                s.referral_id,
                f"{s.short} nights short: " + (s.reasons[0].message if s.reasons else ""),
            )
            for s in result.overnight.short
        ]
    return rows, left


@router.get("/allocate")
def allocate_page(
    request: Request, found: ServicesDep, session: SessionDep, who: PlanningPage
) -> Response:
    with found.database.read() as db:
        rows = jobs.recent(db, jobs.JobKind.ALLOCATION, 50)
    context = {
        "title": "Allocate the waiting list",
        "jobs": rows,
        "status_words": STATUS_WORDS,
        "efforts": [(e.value, w) for e, w in EFFORT_WORDS.items()],
    }
    return page(request, session, "allocate.html", context)


@router.post("/allocate", dependencies=[CheckedForm])
def start_allocation(
    found: ServicesDep, who: PlanningPage, effort: Annotated[str, Form()] = "standard"
) -> Response:
    chosen = Effort(effort) if effort in {e.value for e in Effort} else Effort.STANDARD
    with found.database.write() as db:
        job = jobs.create(
            db,
            jobs.JobKind.ALLOCATION,
            {
                "effort": chosen.value,
                jobs.PLANNING_DATE: found.register.planning_date().isoformat(),
            },
            who.subject,
            who.role.value,
            found.config.job_limits,
        )
        job_id = job.id
    found.worker.submit(job_id)
    return RedirectResponse(f"/allocate/{job_id}", status_code=303)


@router.post("/allocate/{job_id}/approve", dependencies=[CheckedForm])
async def approve_page(
    job_id: str, request: Request, found: ServicesDep, session: SessionDep, who: NavigatorPage
) -> Response:
    """The panel's approval: book the ticked children's placements in one step."""
    form = await request.form()
    chosen = {str(v) for v in form.getlist("referral_ids")}
    if not chosen:
        errors = [("", "Tick at least one child to book.")]
        return _allocation(job_id, request, found, session, who, errors=errors)
    with found.database.write() as db:
        job = jobs.get(db, jobs.JobKind.ALLOCATION, job_id)
        if job.result is None:
            raise Conflict("not_done", "the allocation has not finished")
        result = Result.model_validate(job.result)
        hours = found.config.offer_hours if form.get("as_offers") else None
        instance = found.register.instance(db)
        done = approve(db, instance, result, who, chosen, f"allocation {job_id}", hours)
        if done.booked:
            bump_version(db)
    errors = [("", f"{r.referral_id} was not booked: {r.message}") for r in done.refused]
    kept = f" {len(done.kept)} placed already stay where they are." if done.kept else ""
    notice = (
        f"{'Offered' if form.get('as_offers') else 'Booked'} {len(done.booked)} of the "
        f"{len(chosen)} children ticked.{kept}"
        if done.booked or done.kept
        else None
    )
    return _allocation(job_id, request, found, session, who, errors=errors, notice=notice)


@router.get("/allocate/{job_id}")
def allocation_page(
    job_id: str, request: Request, found: ServicesDep, session: SessionDep, who: PlanningPage
) -> Response:
    return _allocation(job_id, request, found, session, who)


def _allocation(
    job_id: str,
    request: Request,
    found: Services,
    session: PageSession,
    who: Principal,
    errors: list[tuple[str, str]] | None = None,
    notice: str | None = None,
) -> Response:
    figures_only = who.role is Role.COMMISSIONER
    instance = found.register.instance()
    with found.database.write() as db:
        job = jobs.get(db, jobs.JobKind.ALLOCATION, job_id)
        place = jobs.position(db, job)
        result = Result.model_validate(job.result) if job.result is not None else None
        placed: list[Placed] = []
        left: list[tuple[str, str]] = []
        if result is not None:
            placed, left = _placed(instance, result)
            if not figures_only:
                named = {p.referral_id for p in placed} | {r for r, _ in left}
                for referral_id in sorted(named | {r.referral_id for r in result.reassess}):
                    audit(db, who, Action.READ, referral_id, f"allocation {job_id} (page)")
    nights = result.overnight if result is not None else None
    context = {
        "title": "Allocation",
        "job": job,
        "status": STATUS_WORDS.get(job.status, job.status),
        "position": place,
        "running": job.status in jobs.ACTIVE,
        "result": result,
        "figures_only": figures_only,
        "day_levels": _levels(result.levels, "a week") if result is not None else [],
        "night_levels": _levels(nights.levels, "over the weeks planned") if nights else [],
        "counts": None
        if result is None
        else {
            "placed": len(result.placements),
            "left": len(result.unplaced),
            "nights_given": sum(c.allocated for c in nights.children) if nights else 0,
            "nights_asked": sum(c.requested for c in nights.children) if nights else 0,
            "weekly_cost": sum(p.cost for p in result.placements),
        },
        "units": [] if nights is None else nights.units,
        "placed": [] if figures_only else placed,
        "left": [] if figures_only else left,
        "review": []
        if figures_only or result is None
        else [
            (r.referral_id, instance.provider_name(r.provider_id), r.message)
            for r in result.reassess
        ],
        "is_maker": job.created_by == who.subject or who.role is Role.ADMIN,
        "errors": errors or [],
        "notice": notice,
    }
    return page(request, session, "allocation.html", context)


@router.post("/allocate/{job_id}/cancel", dependencies=[CheckedForm])
def cancel_allocation(job_id: str, found: ServicesDep, who: PlanningPage) -> Response:
    cancel_job(found, who, jobs.JobKind.ALLOCATION, job_id)
    return RedirectResponse(f"/allocate/{job_id}", status_code=303)


@router.get("/allocate/{job_id}/allocation.xlsx")
def allocation_workbook(job_id: str, found: ServicesDep, who: NavigatorPage) -> Response:
    """The finished allocation as a workbook (it names children: navigators only, each
    child audited)."""
    content = allocation_spreadsheet(found.database, found.register, who, job_id, "xlsx")
    return Response(
        content,
        media_type=MEDIA_TYPES["xlsx"],
        headers={"Content-Disposition": 'attachment; filename="allocation.xlsx"'},
    )
