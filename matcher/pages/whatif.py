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
from sqlalchemy import select
from starlette.responses import Response

from matcher.api.deps import Services, ServicesDep
from matcher.errors import InputError
from matcher.pages.render import page
from matcher.pages.session import CheckedForm, CommissionerPage, PageSession, SessionDep
from matcher.register import jobs
from matcher.register.access import Principal
from matcher.register.tables import JobRow
from matcher.scenario.api import check_document

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
        rows = list(
            db.scalars(
                select(JobRow)
                .where(JobRow.kind == jobs.JobKind.SCENARIO.value)
                .order_by(JobRow.created_at.desc())
                .limit(100)
            )
        )
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
    with found.database.write() as db:
        job = jobs.create(
            db,
            jobs.JobKind.SCENARIO,
            {
                "document": json.loads(json.dumps(data, default=str)),
                jobs.PLANNING_DATE: found.register.planning_date().isoformat(),
            },
            who.subject,
            who.role.value,
            found.config.job_limits,
        )
        job_id = job.id
    found.worker.submit(job_id)
    return RedirectResponse(f"/what-if/{job_id}", status_code=303)


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
        "variants": (result or {}).get("variants", []),
    }
    return page(request, session, "whatif_job.html", context)


@router.post("/what-if/{job_id}/cancel", dependencies=[CheckedForm])
def cancel_page(job_id: str, found: ServicesDep, who: CommissionerPage) -> Response:
    from matcher.api.deps import own_job

    with found.database.write() as db:
        job = own_job(jobs.get(db, jobs.JobKind.SCENARIO, job_id), who)
        jobs.cancel(db, job, who.subject)
    found.worker.submit(job_id)
    return RedirectResponse(f"/what-if/{job_id}", status_code=303)
