"""The commissioner's returns page: a month's, a quarter's or any period's performance
returns from the register, as tables and as a workbook (figures only, no child)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Request
from starlette.responses import Response

from matcher.errors import InputError
from matcher.formats.spreadsheets import MEDIA_TYPES, as_bytes
from matcher.pages.render import page
from matcher.pages.session import SessionDep, page_role
from matcher.register.access import Principal, Role
from matcher.register.returns import Period, compute, period
from matcher.service.deps import ServicesDep

ReturnsPage = Annotated[Principal, page_role(Role.COMMISSIONER, Role.PROVIDER)]

router = APIRouter(include_in_schema=False)


def _period(request: Request, default: date) -> tuple[Period | None, list[tuple[str, str]]]:
    asked = request.query_params
    try:
        start = date.fromisoformat(asked["from"]) if asked.get("from") else None
        end = date.fromisoformat(asked["to"]) if asked.get("to") else None
    except ValueError:
        return None, [("from", "Write the dates like 2026-11-01")]
    month = asked.get("month") or None
    quarter = asked.get("quarter") or None
    if not (month or quarter or start or end):
        month = default.strftime("%Y-%m")
    try:
        return period(start, end, month, quarter), []
    except InputError as exc:
        return None, [(p.location, p.message[:1].upper() + p.message[1:]) for p in exc.problems]


@router.get("/performance")
def returns_page(
    request: Request, found: ServicesDep, session: SessionDep, who: ReturnsPage
) -> Response:
    span, errors = _period(request, found.register.planning_date())
    figures = None
    if span is not None:
        try:
            with found.database.read() as db:
                figures = compute(
                    db, found.register.instance(db), span, _own(who), suppressed=_suppressed(who)
                )
        except InputError as exc:
            span, errors = (
                None,
                [("from", p.message[:1].upper() + p.message[1:]) for p in exc.problems],
            )
    context = {
        "title": "Performance returns",
        "figures": figures,
        "span": span,
        "errors": errors,
        "asked": dict(request.query_params),
        "query": str(request.url.query),
    }
    return page(request, session, "returns.html", context, status_code=422 if errors else 200)


@router.get("/performance.xlsx")
def returns_workbook(request: Request, found: ServicesDep, who: ReturnsPage) -> Response:
    span, errors = _period(request, found.register.planning_date())
    if span is None:
        raise InputError(errors[0][1])
    with found.database.read() as db:
        figures = compute(
            db, found.register.instance(db), span, _own(who), suppressed=_suppressed(who)
        )
    return Response(
        as_bytes(figures.tables, "xlsx"),
        media_type=MEDIA_TYPES["xlsx"],
        headers={"Content-Disposition": f'attachment; filename="returns-{span.start}.xlsx"'},
    )


def _own(who: Principal) -> str | None:
    """A provider reads its own returns; the council's people read the council's."""
    return who.provider_id if who.role is Role.PROVIDER else None


def _suppressed(who: Principal) -> bool:
    """A commissioner reads the returns with small numbers suppressed."""
    return who.role is Role.COMMISSIONER
