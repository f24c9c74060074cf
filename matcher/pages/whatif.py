"""The commissioner's pages: the scenarios run so far, starting one from a scenario
document (pasted, uploaded, or the common changes filled in a form), its progress, and its
figures side by side. Figures only: no child is named on these pages, as in the API.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import yaml
from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from matcher.errors import InputError
from matcher.model import Lot
from matcher.pages.portal import DAY_WORDS
from matcher.pages.render import page
from matcher.pages.session import CheckedForm, CommissionerPage, PageSession, SessionDep
from matcher.register import jobs
from matcher.register.access import Principal, Role
from matcher.register.tables import JobRow
from matcher.scenario.api import check_document
from matcher.scenario.gap import GapAnalysis
from matcher.scenario.report import GapCounts, view
from matcher.scenario.summary import VariantSummary
from matcher.service.deps import Services, ServicesDep, own_job

router = APIRouter(include_in_schema=False)

#: A document's size a page accepts (the API's body limit is the service's own).
MAX_DOCUMENT_BYTES = 200_000

STATUS_WORDS = {
    "queued": "Waiting to start",
    "running": "Running",
    "done": "Finished",
    "failed": "Failed",
    "cancelled": "Cancelled",
}

EXAMPLE = """name: Demand up 15 %
question: What if demand rose by 15 % across the county?
solver: {effort: quick}
variants:
  - name: As now
  - name: Demand up 15 %
    changes:
      - {change: demand, factor: 1.15}
"""


def _list(
    request: Request,
    found: Services,
    session: PageSession,
    who: Principal,
    errors: list[tuple[str, str]] | None = None,
    document: str = "",
    status_code: int = 200,
) -> Response:
    with found.database.read() as db:
        rows = jobs.recent(db, jobs.JobKind.SCENARIO)
    context = {
        "title": "What if?",
        "jobs": [(row, _name(row)) for row in rows],
        "status_words": STATUS_WORDS,
        "errors": errors or [],
        "document": document,
        "example": EXAMPLE,
        "units": [
            (unit.id, f"{unit.name} ({provider.name})")
            for provider in found.register.instance().providers
            for unit in provider.units
        ][:200],
    }
    return page(request, session, "whatif_list.html", context, status_code=status_code)


def _name(row: JobRow) -> str:
    document = row.payload.get("document") if isinstance(row.payload, dict) else None
    if isinstance(document, dict) and isinstance(document.get("name"), str):
        return str(document["name"])
    return "Scenario"


@router.get("/what-if")
def what_if(
    request: Request, found: ServicesDep, session: SessionDep, who: CommissionerPage
) -> Response:
    return _list(request, found, session, who)


@router.post("/what-if", dependencies=[CheckedForm])
async def start(
    request: Request,
    found: ServicesDep,
    session: SessionDep,
    who: CommissionerPage,
    document: Annotated[str, Form()] = "",
    upload: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Queue the scenario: the uploaded file if one was chosen, else the text."""
    text = document
    if upload is not None and upload.filename:
        raw = await upload.read(MAX_DOCUMENT_BYTES + 1)
        if len(raw) > MAX_DOCUMENT_BYTES:
            errors = [("upload", "The file is too large")]
            return _list(request, found, session, who, errors, "", 413)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            errors = [("upload", "The file is not text: save it as YAML or JSON (UTF-8)")]
            return _list(request, found, session, who, errors, "", 422)
    errors = []
    data: Any = None
    if not text.strip():
        errors.append(("document", "Paste a scenario document, or choose a file"))
    else:
        try:
            data = yaml.safe_load(text)  # JSON is YAML too
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" (line {mark.line + 1})" if mark is not None else ""
            errors.append(("document", f"The document is not valid YAML or JSON{where}"))
        if data is not None and not isinstance(data, dict):
            errors.append(("document", "The document must be a mapping with name and variants"))
    if not errors:
        assert isinstance(data, dict)
        data.pop("base", None)  # the service runs scenarios on its register only
        try:
            check_document(data, found.register.instance())
        except InputError as exc:
            errors += [("document", f"{p.location}: {p.message}") for p in exc.problems]
    if errors:
        return _list(request, found, session, who, errors, text, 422)
    return _queue(found, who, data)


def _queue(found: Services, who: Principal, document: dict[str, Any]) -> Response:
    """Queue a checked document as a scenario job, and go to its page."""
    with found.database.write() as db:
        job = jobs.create(
            db,
            jobs.JobKind.SCENARIO,
            {
                "document": json.loads(json.dumps(document, default=str)),
                jobs.PLANNING_DATE: found.register.planning_date().isoformat(),
            },
            who.subject,
            who.role.value,
            found.config.job_limits,
        )
        job_id = job.id
    found.worker.submit(job_id)
    return RedirectResponse(f"/what-if/{job_id}", status_code=303)


def _build_choices(found: Services) -> dict[str, Any]:
    instance = found.register.instance()
    return {
        "units": [
            (f"{provider.id}|{unit.id}", f"{unit.name} ({provider.name})")
            for provider in instance.providers
            for unit in provider.units
        ],
        "providers": [(p.id, p.name) for p in instance.providers],
        "districts": [(d.id, d.name) for d in instance.settings.districts],
        "lots": [(lot.value, lot.label) for lot in Lot],
        "nights": [(d.value, w) for d, w in DAY_WORDS.items()],
    }


def _build_page(
    request: Request,
    found: Services,
    session: PageSession,
    values: dict[str, Any] | None = None,
    errors: list[tuple[str, str]] | None = None,
    status_code: int = 200,
) -> Response:
    context = {
        "title": "Build a scenario",
        "choices": _build_choices(found),
        "values": values or {},
        "errors": errors or [],
        "field_errors": dict(errors or []),
    }
    return page(request, session, "whatif_build.html", context, status_code=status_code)


@router.get("/what-if/build")
def build_page(
    request: Request, found: ServicesDep, session: SessionDep, who: CommissionerPage
) -> Response:
    return _build_page(request, found, session, {"effort": "quick"})


def _parse(
    text: str, name: str, label: str, errors: list[tuple[str, str]], whole: bool = False
) -> float | None:
    text = text.strip().replace("£", "").replace("%", "").replace(",", "")
    if not text:
        return None
    try:
        return float(int(text)) if whole else float(text)
    except ValueError:
        kind = "a whole number, like 2 or -1" if whole else "a number, like 26.50"
        errors.append((name, f"{label}: enter {kind}"))
        return None


@router.post("/what-if/build", dependencies=[CheckedForm])
async def build(
    request: Request, found: ServicesDep, session: SessionDep, who: CommissionerPage
) -> Response:
    """A scenario of the common changes: the register as it is, and with the changes."""
    form = await request.form()
    values: dict[str, Any] = {k: str(v) for k, v in form.items() if k != "csrf_token"}
    values["closed"] = [str(v) for v in form.getlist("closed")]
    errors: list[tuple[str, str]] = []
    name = values.get("name", "").strip()
    if not name:
        errors.append(("name", "Enter a name for the scenario"))
    changes: list[dict[str, Any]] = []
    add_beds = _parse(values.get("add_beds", ""), "add_beds", "Beds to add", errors, whole=True)
    if add_beds:
        if not values.get("beds_unit"):
            errors.append(("beds_unit", "Choose the unit to add beds to"))
        else:
            provider, unit = values["beds_unit"].split("|", 1)
            changes.append(
                {"change": "beds", "provider": provider, "unit": unit, "add_beds": int(add_beds)}
            )
    if values["closed"]:
        if not values.get("nights_unit"):
            errors.append(("nights_unit", "Choose the unit whose nights change"))
        else:
            provider, unit = values["nights_unit"].split("|", 1)
            changes.append(
                {
                    "change": "open_days",
                    "provider": provider,
                    "unit": unit,
                    "closed": values["closed"],
                }
            )
    scale = _parse(values.get("scale", ""), "scale", "Staff-hours", errors)
    if scale is not None:
        if not values.get("hours_provider"):
            errors.append(("hours_provider", "Choose the provider whose staff-hours change"))
        elif scale < 0 or scale > 1000:
            errors.append(("scale", "Staff-hours: enter a percentage from 0 to 1000"))
        else:
            changes.append(
                {
                    "change": "staff_hours",
                    "provider": values["hours_provider"],
                    "scale": scale / 100,
                }
            )
    rates: dict[str, Any] = {"change": "rates"}
    hourly = _parse(values.get("hourly", ""), "hourly", "Hourly rate", errors)
    nightly = _parse(values.get("nightly", ""), "nightly", "Nightly rate", errors)
    if hourly is not None:
        rates["fixed_hourly_rate"] = hourly
    if nightly is not None:
        rates["night_rate"] = nightly
    if len(rates) > 1:
        changes.append(rates)
    demand = _parse(values.get("demand", ""), "demand", "Demand", errors)
    if demand is not None:
        if demand <= -100 or demand > 900:
            errors.append(("demand", "Demand: enter a change from -99 to 900 per cent"))
        else:
            change: dict[str, Any] = {"change": "demand", "factor": 1 + demand / 100}
            if values.get("demand_district"):
                change["district"] = values["demand_district"]
            if values.get("demand_lot"):
                change["lot"] = values["demand_lot"]
            changes.append(change)
    if not errors and not changes:
        errors.append(("add_beds", "Fill in at least one change"))
    if errors:
        return _build_page(request, found, session, values, errors, 422)
    effort = values.get("effort") if values.get("effort") in ("quick", "standard") else "quick"
    document = {
        "name": name,
        "question": values.get("question", "").strip(),
        "solver": {"effort": effort},
        "variants": [{"name": "As now"}, {"name": name, "changes": changes}],
    }
    try:
        check_document(document, found.register.instance())
    except InputError as exc:
        errors = [("name", f"{p.location}: {p.message}") for p in exc.problems]
        return _build_page(request, found, session, values, errors, 422)
    return _queue(found, who, document)


@router.get("/what-if/{job_id}")
def scenario_page(
    job_id: str,
    request: Request,
    found: ServicesDep,
    session: SessionDep,
    who: CommissionerPage,
) -> Response:
    with found.database.read() as db:
        job = jobs.get(db, jobs.JobKind.SCENARIO, job_id)
        place = jobs.position(db, job)
        result = job.result if isinstance(job.result, dict) else None
    context = {
        "title": _name(job),
        "job": job,
        "status": STATUS_WORDS.get(job.status, job.status),
        "position": place,
        "running": job.status in jobs.ACTIVE,
        "result": result,
        "report": _report(result) if result else None,
        "is_maker": job.created_by == who.subject or who.role is Role.ADMIN,
    }
    return page(request, session, "whatif_job.html", context)


def cancel_job(found: Services, who: Principal, kind: jobs.JobKind, job_id: str) -> None:
    """Cancel a job from its page, as the API does: its maker or an administrator only,
    queued or running (the worker stops its solve)."""
    with found.database.write() as db:
        job = own_job(jobs.get(db, kind, job_id), who)
        jobs.cancel(db, job, who.subject)
    found.worker.submit(job_id)


@router.post("/what-if/{job_id}/cancel", dependencies=[CheckedForm])
def cancel_page(job_id: str, found: ServicesDep, who: CommissionerPage) -> Response:
    cancel_job(found, who, jobs.JobKind.SCENARIO, job_id)
    return RedirectResponse(f"/what-if/{job_id}", status_code=303)


def _report(result: dict[str, Any]) -> dict[str, Any] | None:
    """The scenario report's view of a job's figures: the same report as ``matcher
    scenario report`` writes, with children counted, never named."""
    variants = []
    counts: GapCounts = {}
    for figures in result.get("variants", []):
        data = {k: v for k, v in figures.items() if k != "reassess_count"}
        data |= {"children": [], "reassess": []}
        gap = data.get("capacity_gap")
        if isinstance(gap, dict):
            counts[str(data["name"])] = (
                int(gap.get("children_placed", 0)),
                int(gap.get("nights_given_total", 0)),
                sum(int(n) for n in (gap.get("not_closable_by_reason") or {}).values()),
            )
            data["capacity_gap"] = {
                k: v for k, v in gap.items() if k in GapAnalysis.model_fields
            } | {"placed": [], "nights_given": {}, "not_closable": []}
        variants.append(VariantSummary.model_validate(data))
    if not variants:
        return None
    run = {"scenario": {"name": result.get("scenario"), "question": result.get("question")}}
    return view(run, variants, children_known=False, gap_counts=counts)
